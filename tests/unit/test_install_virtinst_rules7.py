"""General rules found by the seventh round of virt-install/virt-xml probes (each checked
against Debian's virt-install/virt-xml 4.1 and libvirt 9.0's test driver first): counts of
0 are no value (virtinst tests them for truth), the default pool is built and started as
virtinst's StoragePool.install does, virStorageSize's and virBitmapParse's words, the vsock
CID rule of every driver, virXMLPropUInt's words, and virt-xml writes what an edit sets in
the object's property order.

Runs the commands in-process against virt-manager's test driver state (no daemon)."""

from __future__ import annotations

import io

import pytest
from lxml import etree

from tests.conformance_data import CONFORMANCE

DATA = CONFORMANCE / "virt-manager-4.1.0" / "tree" / "tests" / "data"
CAPS = DATA / "capabilities"
needs_data = pytest.mark.skipif(not DATA.exists(), reason="shared conformance data not present")


@pytest.fixture
def kvm(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("VIRTCOMPAT_TEST_DRIVER_XML", str(DATA / "testdriver" / "testdriver.xml"))
    monkeypatch.setenv("VIRTCOMPAT_PREDICTABLE", "1")
    monkeypatch.setenv("VIRTINST_TEST_SUITE", "1")
    monkeypatch.setenv("VIRTCOMPAT_FAKEURI", "qemu:///system")
    monkeypatch.setenv("VIRTCOMPAT_CAPS", str(CAPS / "kvm-x86_64.xml"))
    monkeypatch.setenv("VIRTCOMPAT_DOMCAPS", str(CAPS / "kvm-x86_64-domcaps-latest.xml"))
    from pyvirt import ids
    ids.reset_predictable()
    return "qemu:///system"


def _run(capsys: pytest.CaptureFixture[str], uri: str, *args: str) -> tuple[int, str]:
    from pyvirt.cli.install import main
    rc = main(["--connect", uri, "--noautoconsole", "--osinfo", "generic", *args])
    cap = capsys.readouterr()
    return rc, cap.out + cap.err


def _domain(out: str) -> etree._Element:
    return etree.fromstring(out[out.index("<domain"):out.index("</domain>") + 9].encode())


@needs_data
def test_zero_counts_are_unset(capsys: pytest.CaptureFixture[str], kvm: str) -> None:
    """``--vcpus 0`` is the default count; ``--memory 0`` is no memory, so required."""
    rc, out = _run(capsys, kvm, "--ram", "64", "--disk", "none", "--pxe", "--print-step", "1",
                   "--vcpus", "0")
    assert rc == 0, out
    assert _domain(out).findtext("vcpu") == "1"
    rc, out = _run(capsys, kvm, "--disk", "none", "--pxe", "--memory", "0")
    assert rc != 0 and "--memory amount in MiB is required" in out


@needs_data
def test_default_pool_is_built_then_started(capsys: pytest.CaptureFixture[str], kvm: str) -> None:
    """The test driver refuses start-with-build flags: the pool is built, then started with
    none, so the volume is really created; a negative size reaches the volume's parser."""
    rc, out = _run(capsys, kvm, "--ram", "64", "--pxe", "--disk", "size=-1")
    assert rc != 0
    assert "Couldn't create storage volume 'vm1.qcow2': 'XML error: malformed capacity element'" in out


def test_volume_sizes_in_virstoragesize_words() -> None:
    from pyvirt.xml.errors import XMLError
    from pyvirt.xml.volume import VolumeDef
    for bad in ("-5", "abc", "1.5"):
        for tag in ("capacity", "allocation"):
            doc = f"<volume><name>v</name><capacity>1</capacity><{tag}>{bad}</{tag}></volume>"
            doc = doc.replace("<capacity>1</capacity><capacity>", "<capacity>")
            with pytest.raises(XMLError, match="^malformed capacity element"):
                VolumeDef.from_xml(doc)
    assert VolumeDef.from_xml("<volume><name>v</name><capacity> 7</capacity></volume>").capacity == 7


def test_bitmaps_in_virbitmapparse_words() -> None:
    from pyvirt.xml.errors import XMLInvalidArgError
    from pyvirt.xml.validate import parse_cpuset
    for bad in ("abc", "3-1", "0-16384"):
        with pytest.raises(XMLInvalidArgError, match=f"^Failed to parse bitmap '{bad}'"):
            parse_cpuset(bad)


def test_vsock_cid_rules_of_every_driver() -> None:
    """virDomainVsockDefValidate is generic (test driver too); the CID attribute is read by
    virXMLPropUInt with NONZERO."""
    from pyvirt.xml import parse_domain  # type: ignore[attr-defined]
    from pyvirt.xml.errors import XMLConfigError, XMLError
    base = ("<domain type='kvm'><name>d</name><memory>65536</memory><os><type>hvm</type></os>"
            "<devices><vsock model='virtio'><cid address='{}'/></vsock></devices></domain>")
    with pytest.raises(XMLConfigError, match="guest CIDs must be >= 3"):
        parse_domain(base.format(2))
    for value, words in (("0", "Zero is not permitted"),
                         ("4294967296", "'4294967296'. Expected non-negative integer value"),
                         ("-1", "'-1'. Expected non-negative integer value")):
        with pytest.raises(XMLError) as exc:
            parse_domain(base.format(value))
        assert exc.value.libvirt_prop_message == (  # type: ignore[attr-defined]
            f"Invalid value for attribute 'address' in element 'cid': {words}")


@needs_data
def test_virt_xml_edit_writes_in_property_order(capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """virtinst writes what was set at get_xml time in _XML_PROP_ORDER: keymap before
    listen, whichever was typed first; the <listen> children go."""
    monkeypatch.setenv("VIRTCOMPAT_TEST_DRIVER_XML", str(DATA / "testdriver" / "testsuite.xml"))
    monkeypatch.setenv("VIRTINST_TEST_SUITE", "1")
    from pyvirt.cli.xml import main
    for opt in ("listen=127.0.0.1,keymap=de", "keymap=de,listen=127.0.0.1"):
        monkeypatch.setattr("sys.stdin", io.StringIO(""))
        rc = main(["test-for-virtxml", "--print-xml", "--edit", "--graphics", opt,
                   "--connect", "test:///default"])
        out = capsys.readouterr().out
        assert rc == 0, out
        gfx = _domain(out).find("devices/graphics")
        assert list(gfx.attrib)[-2:] == ["keymap", "listen"] and not len(gfx)


def _children(out: str, path: str) -> list[str]:
    return [k.tag for k in _domain(out).find(path)]


@needs_data
def test_device_children_in_virtinst_property_order(capsys: pytest.CaptureFixture[str], kvm: str) -> None:
    """Device appends virtio_driver, alias and address to every class's _XML_PROP_ORDER:
    what other properties make comes after them; a char device's <target> is ordered only
    by type/name/state, an interface's <driver> early only when virtio options made it."""
    rc, out = _run(capsys, kvm, "--ram", "64", "--disk", "none", "--pxe", "--print-step", "1",
                   "--memballoon", "virtio,stats.period=10,driver.iommu=on,alias.name=ua-b",
                   "--rng", "/dev/random,rate.bytes=5,alias.name=ua-r",
                   "--serial", "pty,alias.name=ua-s,target.port=1",
                   "--network", "default,model=virtio,driver.packed=on,alias.name=ua-n,link.state=up",
                   "--tpm", "emulator,alias.name=ua-t")
    assert rc == 0, out
    assert _children(out, "devices/memballoon") == ["driver", "alias", "stats"]
    assert _children(out, "devices/rng") == ["alias", "backend", "rate"]
    assert _children(out, "devices/serial") == ["alias", "target"]
    assert _children(out, "devices/interface")[-4:] == ["model", "driver", "alias", "link"]
    assert _children(out, "devices/tpm") == ["alias", "backend"]
    rc, out = _run(capsys, kvm, "--ram", "64", "--disk", "none", "--pxe", "--print-step", "1",
                   "--network", "default,model=virtio,driver.name=vhost,alias.name=ua-n,link.state=up",
                   "--serial", "pty,alias.name=ua-s,target.type=isa-serial")
    assert _children(out, "devices/interface")[-3:] == ["alias", "link", "driver"]
    assert _children(out, "devices/serial") == ["target", "alias"]


@needs_data
def test_memory_slots_and_vcpus_alias(capsys: pytest.CaptureFixture[str], kvm: str) -> None:
    """maxMemory.slots is written without a size (libvirt then refuses the pair in its
    words: an empty <maxMemory> is no size); ``vcpus=`` is ``vcpu=``, the current count
    beside maxvcpus; libvirt 9.0's bitmaps reach CPU 16383."""
    rc, out = _run(capsys, kvm, "--disk", "none", "--pxe", "--print-step", "1",
                   "--memory", "64,maxMemory.slots=2", "--vcpus", "vcpus=2,maxvcpus=6",
                   "--cputune", "emulatorpin.cpuset=5000")
    assert rc == 0, out
    dom = _domain(out)
    assert dict(dom.find("maxMemory").attrib) == {"slots": "2"} and not dom.find("maxMemory").text
    assert (dom.findtext("vcpu"), dom.find("vcpu").get("current")) == ("6", "2")
    rc, out = _run(capsys, kvm, "--disk", "none", "--pxe", "--memory", "64,maxMemory.slots=2")
    assert rc != 0 and "XML error: both maximum memory size and memory slot count must be specified" in out


@needs_data
def test_virt_xml_build_xml_guest_is_blank(capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """virt-xml --build-xml works on Guest(conn): no OS type, so no HVM NIC model."""
    monkeypatch.setenv("VIRTCOMPAT_TEST_DRIVER_XML", str(DATA / "testdriver" / "testsuite.xml"))
    monkeypatch.setenv("VIRTINST_TEST_SUITE", "1")
    monkeypatch.setenv("VIRTCOMPAT_PREDICTABLE", "1")
    from pyvirt.cli.xml import main
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    rc = main(["--build-xml", "--network", "network=default", "--connect", "test:///default"])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert [k.tag for k in etree.fromstring(out.encode())] == ["source", "mac"]
