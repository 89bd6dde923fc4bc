"""pyvirt install follows virt-install 4.1's general rules found on virt-manager's unseen
command lines (each checked against Debian's virt-install 4.1): --install kernel=/initrd=
local files are acquired like URLs, the magic URI's claims hold only for its own URI,
host devices copy the node device's values, char devices without a type get none, a UDP
RNG backend keeps both sources, qemu args stay before envs, a user's SMBIOS serial wins
over cloud-init's, --boot alone is no install method, SEV is checked before the required
options, --xml's XPath errors are reported bare.

Runs the command in-process against virt-manager's test driver state (no daemon)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from lxml import etree

from tests.conformance_data import CONFORMANCE

DATA = CONFORMANCE / "virt-manager-4.1.0" / "tree" / "tests" / "data"
pytestmark = pytest.mark.skipif(not DATA.exists(), reason="shared conformance data not present")
CAPS = DATA / "capabilities"


@pytest.fixture(autouse=True)
def _testdriver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIRTCOMPAT_TEST_DRIVER_XML", str(DATA / "testdriver" / "testdriver.xml"))
    monkeypatch.setenv("VIRTCOMPAT_PREDICTABLE", "1")
    monkeypatch.setenv("VIRTINST_TEST_SUITE", "1")
    from pyvirt import ids
    ids.reset_predictable()


@pytest.fixture
def kvm(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("VIRTCOMPAT_FAKEURI", "qemu:///system")
    monkeypatch.setenv("VIRTCOMPAT_CAPS", str(CAPS / "kvm-x86_64.xml"))
    monkeypatch.setenv("VIRTCOMPAT_DOMCAPS", str(CAPS / "kvm-x86_64-domcaps-latest.xml"))
    return "qemu:///system"


def _run(capsys: pytest.CaptureFixture[str], uri: str, *args: str) -> tuple[int, str]:
    from pyvirt.cli.install import main
    rc = main(["--connect", uri, "--noautoconsole", "--ram", "64", *args])
    cap = capsys.readouterr()
    return rc, cap.out + cap.err


def _domain(out: str) -> etree._Element:
    return etree.fromstring(out[out.index("<domain"):out.index("</domain>") + 9].encode())


def test_local_install_kernel_is_acquired(capsys: pytest.CaptureFixture[str], kvm: str,
                                          tmp_path: Path) -> None:
    (tmp_path / "vmlinuz").write_text("k")
    (tmp_path / "initrd.img").write_text("i")
    rc, out = _run(capsys, kvm, "--disk", "none", "--osinfo", "generic", "--print-step", "1",
                   "--install", f"kernel={tmp_path}/vmlinuz,initrd={tmp_path}/initrd.img")
    assert rc == 0, out
    dom = _domain(out)
    # a scratch copy, shown under the test suite as virt-install shows its own copies
    assert dom.findtext("os/kernel") == "/VIRTINST-TESTSUITE/vmlinuz"
    assert dom.findtext("os/initrd") == "/VIRTINST-TESTSUITE/initrd.img"


def test_missing_local_install_kernel_fails(capsys: pytest.CaptureFixture[str], kvm: str,
                                            tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    rc, out = _run(capsys, kvm, "--disk", "none", "--osinfo", "generic", "--print-step", "1",
                   "--install", f"kernel={missing},initrd={missing}")
    assert rc == 1
    assert f"Couldn't acquire file {missing}: [Errno 2] No such file or directory" in out


def test_fake_uri_claims_only_hold_for_their_uri(capsys: pytest.CaptureFixture[str],
                                                 kvm: str) -> None:
    """A later --connect to another URI is the plain test driver (no KVM caps)."""
    rc, out = _run(capsys, "test:///default", "--disk", "none", "--osinfo", "generic",
                   "--pxe", "--print-step", "1")
    assert rc == 0, out
    assert _domain(out).get("type") == "test"
    rc, out = _run(capsys, kvm, "--disk", "none", "--osinfo", "generic", "--pxe",
                   "--print-step", "1")
    assert _domain(out).get("type") == "kvm"


def _devices(capsys: pytest.CaptureFixture[str], uri: str, *args: str) -> etree._Element:
    rc, out = _run(capsys, uri, "--disk", "none", "--osinfo", "generic", "--pxe",
                   "--print-step", "1", *args)
    assert rc == 0, out
    return _domain(out)


def test_hostdev_copies_node_device_values(capsys: pytest.CaptureFixture[str], kvm: str) -> None:
    dom = _devices(capsys, kvm, "--hostdev", "15:0.1", "--hostdev", "wlan0,type=net")
    pci, net = dom.findall("devices/hostdev")
    assert dict(pci.find("source/address").attrib) == {
        "domain": "0", "bus": "21", "slot": "0", "function": "1"}
    assert pci.get("managed") == "yes"
    assert net.get("mode") == "capabilities" and net.get("managed") == "yes"


def test_char_devices_without_type_get_none(capsys: pytest.CaptureFixture[str], kvm: str) -> None:
    dom = _devices(capsys, kvm, "--serial", "target.port=3", "--console", "name=foo")
    assert dom.find("devices/serial").get("type") is None
    assert dom.find("devices/console").get("type") is None
    dom = _devices(capsys, kvm, "--serial", "pty")
    assert dom.find("devices/serial").get("type") == "pty"


def test_udp_rng_backend_binds_and_connects(capsys: pytest.CaptureFixture[str], kvm: str) -> None:
    dom = _devices(capsys, kvm, "--rng", "egd,backend_host=127.0.0.1,backend_service=8000,"
                   "backend_type=udp,backend_mode=bind,backend_connect_host=foo,"
                   "backend_connect_service=708")
    srcs = [dict(s.attrib) for s in dom.findall("devices/rng/backend/source")]
    assert srcs == [{"mode": "bind", "host": "127.0.0.1", "service": "8000"},
                    {"mode": "connect", "host": "foo", "service": "708"}]


def test_qemu_args_stay_before_envs(capsys: pytest.CaptureFixture[str], kvm: str) -> None:
    dom = _devices(capsys, kvm, "--qemu-commandline", "env=DISPLAY=:0.1",
                   "--qemu-commandline=-foo bar")
    cl = dom.find("{http://libvirt.org/schemas/domain/qemu/1.0}commandline")
    assert [etree.QName(k).localname for k in cl] == ["arg", "arg", "env"]


def test_users_smbios_serial_wins_over_cloud_init(capsys: pytest.CaptureFixture[str], kvm: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIRTINST_TEST_SUITE_CLOUDINIT", "1")
    rc, out = _run(capsys, kvm, "--disk", "/pool-dir/testvol1.img", "--os-variant", "fedora28",
                   "--cloud-init", "root-password-generate=yes,disable=no",
                   "--sysinfo", "system.serial=foobar", "--print-step", "1")
    assert rc == 0, out
    dom = _domain(out)
    assert [e.text for e in dom.findall("sysinfo/system/entry")] == ["foobar"]


def test_boot_alone_is_no_install_method(capsys: pytest.CaptureFixture[str], kvm: str) -> None:
    rc, out = _run(capsys, kvm, "--disk", "none", "--osinfo", "generic", "--boot", "cdrom")
    assert rc == 1
    assert "An install method must be specified" in out


def test_sev_checked_before_required_options(capsys: pytest.CaptureFixture[str], kvm: str) -> None:
    rc, out = _run(capsys, kvm, "--osinfo", "generic", "--pxe", "--launchSecurity", "sev")
    assert rc == 1
    assert "SEV launch security requires a Q35 UEFI machine" in out
    assert "--disk storage must be specified" not in out


def test_xml_xpath_error_is_bare(capsys: pytest.CaptureFixture[str], kvm: str) -> None:
    rc, out = _run(capsys, kvm, "--disk", "none", "--osinfo", "generic", "--pxe",
                   "--xml", "FOOXPATH")
    assert rc == 1
    assert "ERROR    FOOXPATH: Setting xpath must be in the form of XPATH=VALUE" in out


@pytest.mark.parametrize(("osv", "message"), [
    ("id=foo://bar", "ERROR    Error: --os-variant id=foo://bar: Unknown libosinfo ID 'foo://bar'"),
    ("foo://bar", "ERROR    Unknown libosinfo ID 'foo://bar'"),
    ("name=nope", "ERROR    Error: --os-variant name=nope: Unknown OS name 'nope'."),
    ("nope", "ERROR    Unknown OS name 'nope'."),
])
def test_os_variant_refusals_worded_by_form(capsys: pytest.CaptureFixture[str], kvm: str,
                                            osv: str, message: str) -> None:
    rc, out = _run(capsys, kvm, "--disk", "none", "--pxe", "--os-variant", osv)
    assert rc == 1
    assert message in out


def test_hostdev_refusal_carries_the_parser_prefix(capsys: pytest.CaptureFixture[str],
                                                   kvm: str) -> None:
    rc, out = _run(capsys, kvm, "--disk", "none", "--osinfo", "generic", "--pxe",
                   "--host-device", "foobarhostdev")
    assert rc == 1
    assert "Error: --hostdev foobarhostdev: Unknown hostdev address string format" in out


def test_pxe_warning_follows_the_network(capsys: pytest.CaptureFixture[str], kvm: str) -> None:
    """A NAT network without a boot file may not PXE-boot; a bridge may (the warnings
    come with a real install, not with --print-xml)."""
    _, out = _run(capsys, kvm, "--disk", "none", "--osinfo", "generic", "--pxe",
                  "--network", "network=default")
    assert "may not support PXE" in out
    _, out = _run(capsys, kvm, "--disk", "none", "--osinfo", "generic", "--pxe",
                  "--network", "bridge=br0")
    assert "Starting install" in out and "may not support PXE" not in out


CLONE_XML = DATA / "cli" / "virtclone"


def _clone(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    from pyvirt.cli.clone import main
    rc = main(["--connect", "test:///default", *args])
    cap = capsys.readouterr()
    return rc, cap.out + cap.err


def test_clone_accepts_option_prefixes(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out = _clone(capsys, "--original-xml", str(CLONE_XML / "clone-empty.xml"), "--auto",
                     "--print-xml")
    assert rc == 0, out
    assert "<name>" in out


def test_clone_force_copy_of_an_empty_drive_needs_no_path(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    src = tmp_path / "src.xml"
    src.write_text("<domain type='test'><name>orig</name><memory>65536</memory>"
                   "<os><type>hvm</type></os><devices><disk type='file' device='floppy'>"
                   "<target dev='fda' bus='fdc'/><readonly/></disk></devices></domain>")
    rc, out = _clone(capsys, "-n", "clonetest", "--original-xml", str(src),
                     "--file", str(tmp_path / "unused.img"), "--force-copy=fda", "--print-xml")
    assert rc == 0, out


def test_clone_preserving_a_missing_path_is_refused(capsys: pytest.CaptureFixture[str],
                                                    tmp_path: Path) -> None:
    src = tmp_path / "src.xml"
    disk = tmp_path / "disk.img"
    disk.write_text("")
    src.write_text("<domain type='test'><name>orig</name><memory>65536</memory>"
                   "<os><type>hvm</type></os><devices><disk type='file' device='disk'>"
                   f"<source file='{disk}'/><target dev='hda' bus='ide'/></disk></devices>"
                   "</domain>")
    missing = tmp_path / "missing.img"
    rc, out = _clone(capsys, "-n", "clonetest", "--original-xml", str(src), "--file",
                     str(missing), "--preserve-data", "--print-xml")
    assert rc == 1
    assert (f"Could not use path '{missing}' for cloning: Must specify storage creation "
            f"parameters for non-existent path '{missing}'.") in out


def test_clock_timers_are_one_list(capsys: pytest.CaptureFixture[str], kvm: str) -> None:
    """Shorthands find or append a timer by name; timerN indexes the same list."""
    dom = _devices(capsys, kvm, "--clock", "rtc_tickpolicy=merge,hpet_present=no,"
                   "timer1.name=pit,timer2.name=tsc,timer0.present=yes")
    assert [dict(t.attrib) for t in dom.findall("clock/timer")] == [
        {"tickpolicy": "merge", "name": "rtc", "present": "yes"},
        {"name": "pit", "present": "no"},
        {"name": "tsc"}]


def test_disk_source_options_checked_as_paths(capsys: pytest.CaptureFixture[str], kvm: str,
                                              tmp_path: Path) -> None:
    rc, out = _run(capsys, kvm, "--osinfo", "generic", "--pxe", "--print-step", "1",
                   "--disk", f"type=block,source.dev={tmp_path}/nope")
    assert rc == 1
    assert (f"Error: --disk type=block,source.dev={tmp_path}/nope: Must specify storage "
            f"creation parameters for non-existent path '{tmp_path}/nope'.") in out
    dom = _devices(capsys, kvm, "--disk", f"{tmp_path},device=floppy")
    drv = dom.find("devices/disk/driver")
    assert dom.find("devices/disk").get("type") == "dir" and drv.get("name") == "qemu"


def test_logical_pool_volumes_have_no_extension(capsys: pytest.CaptureFixture[str],
                                                kvm: str) -> None:
    rc, out = _run(capsys, kvm, "--osinfo", "generic", "--pxe", "--print-step", "1",
                   "--disk", "size=.0001,pool=pool-logical")
    assert rc == 0, out
    disk = _domain(out).find("devices/disk")
    assert disk.find("source").get("dev") == "/dev/pool-logical/vm1"
    assert disk.find("driver").get("type") == "raw"


def test_network_pool_volumes_are_network_disks(capsys: pytest.CaptureFixture[str],
                                                kvm: str) -> None:
    dom = _devices(capsys, kvm, "--disk", "vol=pool-rbd-ceph/some-rbd-vol",
                   "--disk", "vol=pool-iscsi-direct/unit:0:0:1")
    rbd, iscsi = dom.findall("devices/disk")
    assert rbd.get("type") == "network" and iscsi.get("type") == "network"
    assert rbd.find("auth").get("username") == "admin"
    assert rbd.find("auth/secret").get("type") == "ceph"
    assert rbd.find("source").get("protocol") == "rbd"
    assert rbd.find("source").get("name") == "rbd-sourcename/some-rbd-vol"
    assert len(rbd.findall("source/host")) == 3
    assert iscsi.find("source").get("protocol") == "iscsi"
    assert iscsi.find("source").get("name").startswith("iqn.2017-12.com.virttest:")


@pytest.mark.parametrize(("opts", "tags"), [
    ("/s,/t,alias.name=x,driver.ats=on", ["driver", "alias", "source", "target"]),
    ("target=/b,source=/a,readonly=on,driver.name=virtiofs,alias.name=x,binary.path=/x",
     ["alias", "readonly", "source", "target", "binary", "driver"]),
    ("type=ram,source.usage=1024,source.units=MiB,target=/", ["target", "source"]),
    ("type=block,source.dev=/dev/foo,target.dir=/", ["source", "target"]),
])
def test_filesystem_children_in_virtinst_parser_order(capsys: pytest.CaptureFixture[str],
                                                      kvm: str, opts: str, tags: list[str]) -> None:
    dom = _devices(capsys, kvm, "--filesystem", opts)
    assert [k.tag for k in dom.find("devices/filesystem")] == tags


def test_unix_char_source_binds_with_mode_before_path(capsys: pytest.CaptureFixture[str],
                                                      kvm: str) -> None:
    dom = _devices(capsys, kvm, "--parallel", "unix,path=/tmp/p.sock")
    assert list(dom.find("devices/parallel/source").attrib.items()) == [
        ("mode", "bind"), ("path", "/tmp/p.sock")]


@pytest.mark.parametrize(("opt", "value"), [("--memory", "foo"), ("--memory", "1.5"),
                                            ("--vcpus", "0x4")])
def test_memory_and_vcpus_counts_are_base_10_integers(capsys: pytest.CaptureFixture[str],
                                                      kvm: str, opt: str, value: str) -> None:
    rc, out = _run(capsys, kvm, "--disk", "none", "--osinfo", "generic", "--pxe", opt, value)
    assert rc == 1
    assert f"Error: {opt} {value}: invalid literal for int() with base 10: '{value}'" in out


def test_host_smartcard_ignores_a_character_device_type() -> None:
    """libvirt reads a smartcard's type= only in passthrough mode (virt-xml's
    ``--edit --smartcard type=spicevmc`` on a host card defines fine there)."""
    from pyvirt.testdriver import open_test_connection
    conn = open_test_connection("test:///default")
    conn.define_xml("<domain type='test'><name>sc</name><memory>65536</memory>"
                    "<os><type>hvm</type></os><devices>"
                    "<smartcard mode='host' type='spicevmc'/></devices></domain>")
    card = etree.fromstring(conn.get_xml("sc").encode()).find("devices/smartcard")
    assert card.get("mode") == "host" and card.get("type") is None


def test_virt_xml_added_filesystem_gets_its_defaults(capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIRTCOMPAT_TEST_DRIVER_XML", str(DATA / "testdriver" / "testsuite.xml"))
    from pyvirt.cli.xml import main
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    rc = main(["test-for-virtxml", "--print-diff", "--define", "--add-device",
               "--filesystem", "/a,/b", "--connect", "test:///default"])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert '+    <filesystem type="mount" accessmode="mapped">' in out


@pytest.mark.parametrize(("name", "first"), [
    ("15:0.1,alias.name=ua-p,address.type=pci,driver_name=vfio", "source"),
    ("usb_device_781_5151_2004453082054CA1BEEE,address.type=usb", "source"),
    ("pci_8086_2829_scsi_host_scsi_device_lun0,alias.name=ua-s", "alias"),
    ("mdev_11f92c9d_b0b0_4016_b306_a8071277f8b9,address.type=ccw", "address"),
    ("wlan0,type=net,alias.name=ua-n", "alias")])
def test_hostdev_children_in_virtinst_property_order(capsys: pytest.CaptureFixture[str], kvm: str,
                                                     name: str, first: str) -> None:
    """virtinst writes a hostdev's children in DeviceHostdev's _XML_PROP_ORDER, then the
    properties outside it in the order they were set: <source> leads only when it holds
    usb vendor/product or the PCI address; driver and rom always follow alias/address."""
    rc, out = _run(capsys, kvm, "--disk", "none", "--osinfo", "generic", "--pxe",
                   "--print-xml", "--hostdev", name)
    assert rc == 0, out
    kids = [k.tag for k in _domain(out).find("devices/hostdev")]
    assert kids[0] == first, kids
    for late in ("driver", "rom"):
        if late in kids:
            assert kids.index(late) > max(kids.index(t) for t in ("alias", "address") if t in kids)


def test_spice_is_the_default_without_domain_capabilities(capsys: pytest.CaptureFixture[str],
                                                          kvm: str,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """virtinst's supports_graphics_spice: domain capabilities that say nothing of graphics
    leave SPICE (and so qxl) to a QEMU connection on an x86 host."""
    monkeypatch.delenv("VIRTCOMPAT_DOMCAPS")
    rc, out = _run(capsys, kvm, "--disk", "none", "--osinfo", "win11", "--import", "--print-xml")
    assert rc == 0, out
    dom = _domain(out)
    assert dom.find("devices/graphics").get("type") == "spice"
    assert dom.find("devices/video/model").get("type") == "qxl"


def test_missing_location_refused_as_install_media(capsys: pytest.CaptureFixture[str], kvm: str,
                                                   tmp_path: Path) -> None:
    """virtinst's InstallerTreeMedia.validate_path: a --location that is no URL must exist,
    refused when the media are gathered (no 'Error validating install location'), the
    path made absolute; an nfs: location is warned about first."""
    rc, out = _run(capsys, kvm, "--disk", "none", "--osinfo", "generic", "--location",
                   "nfs:example.com/fake")
    assert rc == 1
    assert "NFS URL installs are no longer supported" in out
    assert (f"ERROR    Validating install media 'nfs:example.com/fake' failed: Must specify "
            f"storage creation parameters for non-existent path "
            f"'{Path.cwd() / 'nfs:example.com/fake'}'.") in out


def test_media_detection_names_the_tree_os(capsys: pytest.CaptureFixture[str], kvm: str,
                                           tmp_path: Path) -> None:
    """--test-media-detection prints the OS detect_distro names and nothing else; a
    directory that is no tree fails with detect_distro's bare words."""
    tree = tmp_path / "tree"
    (tree / "images" / "pxeboot").mkdir(parents=True)
    (tree / ".treeinfo").write_text("[general]\nfamily = Fedora\nversion = 36\narch = x86_64\n\n"
                                    "[images-x86_64]\nkernel = images/pxeboot/vmlinuz\n"
                                    "initrd = images/pxeboot/initrd.img\n")
    for name in ("vmlinuz", "initrd.img"):
        (tree / "images" / "pxeboot" / name).write_text(name)
    rc, out = _run(capsys, kvm, "--test-media-detection", str(tree))
    assert (rc, out) == (0, "fedora36\n")
    rc, out = _run(capsys, kvm, "--test-media-detection", str(tmp_path / "tree" / "images"))
    assert rc == 1
    assert out.startswith("ERROR    Could not find an installable distribution at URL")


def test_every_xml_option_takes_clearxml_and_domain_xpaths(capsys: pytest.CaptureFixture[str],
                                                           kvm: str) -> None:
    """virtinst's supports_clearxml and _add_xpath_args on the domain-level options too: a
    new guest's object has nothing to clear, xpath edits run on the option's element once
    written (values with quoted commas kept), and the options without an object refuse
    clearxml inside their parser."""
    rc, out = _run(capsys, kvm, "--disk", "none", "--osinfo", "generic", "--import", "--print-xml",
                   "--cpu", "host-passthrough,clearxml=yes,xpath0.set=./@foo=bar",
                   "--clock", "offset=utc,xpath.create=./extra",
                   "--seclabel", "type=static,label='a,b',xpath.set=./@x=1")
    assert rc == 0, out
    dom = _domain(out)
    assert dom.find("cpu").get("foo") == "bar" and dom.find("cpu").get("mode") == "host-passthrough"
    assert dom.find("clock/extra") is not None
    assert (dom.findtext("seclabel/label"), dom.find("seclabel").get("x")) == ("a,b", "1")
    rc, out = _run(capsys, kvm, "--disk", "none", "--osinfo", "generic", "--import", "--print-xml",
                   "--events", "clearxml=no,on_poweroff=destroy")
    assert rc == 1
    assert ("Error: --events clearxml=no,on_poweroff=destroy: Don't know how to clearxml for "
            "--events") in out


@pytest.mark.parametrize(("machine", "result"), [("pc-i440fx-2.1", "pc"), ("pc-q35-5.0", "q35"),
                                                 ("q35", None)])
def test_boot_refresh_machine_type(capsys: pytest.CaptureFixture[str], kvm: str, machine: str,
                                   result: str | None) -> None:
    """virtinst's Guest.refresh_machine_type: the canonical alias whose versioned names the
    machine starts with; an alias itself has none to refresh to."""
    rc, out = _run(capsys, kvm, "--disk", "none", "--osinfo", "generic", "--import", "--print-xml",
                   "--machine", machine, "--boot", "hd,refresh-machine-type=yes")
    if result is None:
        assert rc == 1 and f"Don't know how to refresh machine type '{machine}'" in out
    else:
        assert rc == 0, out
        assert _domain(out).find("os/type").get("machine") == result


def test_hostdev_mdev_is_built_through_the_model(capsys: pytest.CaptureFixture[str], kvm: str) -> None:
    """An mdev node device becomes a model Hostdev: its management and device API follow the
    mdev type (vfio-ccw: unmanaged), in virtinst's attribute order, the UUID as the source."""
    dom = _devices(capsys, kvm, "--hostdev", "mdev_8e37ee90_2b51_45e3_9b25_bf8283c03110")
    hd = dom.find("devices/hostdev")
    assert list(hd.attrib.items()) == [("mode", "subsystem"), ("type", "mdev"), ("managed", "no"),
                                       ("model", "vfio-ccw")]
    assert hd.find("source/address").attrib == {"uuid": "8e37ee90-2b51-45e3-9b25-bf8283c03110"}


# issue 14, seventh round: <hyperv> children in set order and its defaults per property,
# a direct NIC without a mode, virt-xml's NIC source by type and its timers edited in place
def _hyperv(capsys: pytest.CaptureFixture[str], uri: str, osinfo: str, features: str) -> etree._Element:
    rc, out = _run(capsys, uri, "--disk", "none", "--pxe", "--osinfo", osinfo, "--print-step", "1",
                   "--features", features)
    assert rc == 0, out
    return _domain(out).find("features/hyperv")


def test_hyperv_children_in_the_parsers_order(capsys: pytest.CaptureFixture[str], kvm: str) -> None:
    """virtinst's ParserFeatures registers vapic before relaxed and sets them in that
    order whatever order they were typed in; <hyperv> has no _XML_PROP_ORDER."""
    for typed in ("hyperv.relaxed.state=on,hyperv.vapic.state=on",
                  "hyperv.vapic.state=on,hyperv.relaxed.state=on"):
        hv = _hyperv(capsys, kvm, "generic", typed)
        assert [k.tag for k in hv] == ["vapic", "relaxed"], typed


def test_windows_defaults_follow_what_the_options_set(capsys: pytest.CaptureFixture[str], kvm: str) -> None:
    hv = _hyperv(capsys, kvm, "win10", "hyperv.synic.state=on,hyperv.relaxed.state=off")
    # the options' (relaxed before synic, registration order), then the defaults' (vapic, spinlocks)
    assert [(k.tag, k.get("state")) for k in hv] == [
        ("relaxed", "off"), ("synic", "on"), ("vapic", "on"), ("spinlocks", "on")]


def test_windows_spinlocks_default_fills_each_unset_property(capsys: pytest.CaptureFixture[str],
                                                             kvm: str) -> None:
    """DomainFeatures.set_defaults sets hyperv_spinlocks and hyperv_spinlocks_retries each
    when unset: a spinlocks state=off still gets the retries, retries alone gets state=on."""
    off = _hyperv(capsys, kvm, "win10", "hyperv.spinlocks.state=off").find("spinlocks")
    assert dict(off.attrib) == {"state": "off", "retries": "8191"}
    only = _hyperv(capsys, kvm, "win10", "hyperv.spinlocks.retries=4096").find("spinlocks")
    assert (only.get("state"), only.get("retries")) == ("on", "4096")


def _virt_xml(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str) -> str:
    monkeypatch.setenv("VIRTCOMPAT_TEST_DRIVER_XML", str(DATA / "testdriver" / "testsuite.xml"))
    from pyvirt.cli.xml import main
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    rc = main(["test-state-shutoff", "--print-xml", *args, "--connect", "test:///default"])
    out = capsys.readouterr().out
    assert rc == 0, out
    return out


def test_direct_nic_gets_no_source_mode(capsys: pytest.CaptureFixture[str], kvm: str) -> None:
    """virtinst leaves a macvtap's mode to libvirt (which reads none as vepa)."""
    rc, out = _run(capsys, kvm, "--disk", "none", "--pxe", "--osinfo", "generic", "--print-step", "1",
                   "--network", "type=direct,source=eth0")
    assert rc == 0, out
    assert dict(_domain(out).find("devices/interface/source").attrib) == {"dev": "eth0"}


def test_virt_xml_nic_source_follows_the_interface_type(capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """DeviceInterface.source sets the network of a network NIC (not a bridge)."""
    nic = _domain(_virt_xml(capsys, monkeypatch, "--edit", "--network", "source=othernet")).find(
        "devices/interface")
    assert nic.get("type") == "network"
    assert dict(nic.find("source").attrib) == {"network": "othernet"}


def test_virt_xml_hyperv_edit_appends_in_set_order(capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """What the domain has stays first, as it was; new children follow in the parser's order."""
    hv = _domain(_virt_xml(capsys, monkeypatch, "--edit", "--features",
                           "hyperv.synic.state=on,hyperv.relaxed.state=on,hyperv.vapic.state=on")).find(
        "features/hyperv")
    assert [(k.tag, k.get("state")) for k in hv] == [
        ("vapic", "on"), ("spinlocks", "on"), ("relaxed", "on"), ("synic", "on")]


def test_timer_placeholders_are_not_written(capsys: pytest.CaptureFixture[str], kvm: str) -> None:
    """``timer2.*`` makes timers 0 and 1 in virtinst's list, but an object nothing was set
    on has no XML: only what was set is written, in list order."""
    rc, out = _run(capsys, kvm, "--disk", "none", "--pxe", "--osinfo", "generic", "--print-step", "1",
                   "--clock", "timer2.name=rtc,timer0.present=no")
    assert rc == 0, out
    assert [dict(t.attrib) for t in _domain(out).find("clock")] == [{"present": "no"}, {"name": "rtc"}]


def test_virt_xml_edits_the_domains_own_timers(capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """virt-xml --edit --clock timer0.*: the domain's first timer, changed in place; a
    NAME_tickpolicy shorthand finds its timer by name; a timer past the list is appended."""
    monkeypatch.setenv("VIRTCOMPAT_TEST_DRIVER_XML", str(DATA / "testdriver" / "testsuite.xml"))
    from pyvirt.cli.xml import main

    def timers(*args: str) -> list[dict[str, str]]:
        monkeypatch.setattr("sys.stdin", io.StringIO(""))
        rc = main(["test-for-virtxml", "--print-xml", "--edit", "--clock", *args,
                   "--connect", "test:///default"])
        out = capsys.readouterr().out
        assert rc == 0, out
        return [dict(t.attrib) for t in _domain(out).find("clock")]

    before = timers("offset=utc")
    edited = timers("timer0.tickpolicy=delay")
    assert len(edited) == len(before) and edited[0] == {**before[0], "tickpolicy": "delay"}
    assert edited[1:] == before[1:]
    appended = timers(f"timer{len(before) + 2}.name=tsc")
    assert appended == [*before, {"name": "tsc"}]


def test_table_only_device_options_take_xpaths(capsys: pytest.CaptureFixture[str], kvm: str) -> None:
    """--audio, --shmem and --iommu have no handler: their xpathN.* (listed under
    ``--OPTION=?``, refused before) run on the device the option built, the second one's
    on the second device."""
    rc, out = _run(capsys, kvm, "--disk", "none", "--osinfo", "generic", "--pxe", "--print-step", "1",
                   "--shmem", "name=s1", "--shmem", "name=s2,xpath0.set=./@role=master",
                   "--audio", "id=1,type=spice,xpath.create=./newel",
                   "--iommu", "model=intel,xpath1.set=./@x=1")
    assert rc == 0, out
    dom = _domain(out)
    assert [s.get("role") for s in dom.findall("devices/shmem")] == [None, "master"]
    assert dom.find("devices/audio/newel") is not None
    assert dom.find("devices/iommu").get("x") == "1"
