"""Every sub-option pyvirt install accepts must change the XML (virt-install's test suite
has the same guard): a name that parses but is dropped is the bug this test catches.

For each option, a base option string builds the element; each table-driven sub-option
name (optmap) is then added with a value of its kind, and the guest XML must differ from
the base.  Runs the option parsers on a Guest connected to virt-manager's test driver
(no daemon), so it is fast enough to cover all ~1200 names.
"""

from __future__ import annotations

import re

import pytest
from lxml import etree

from pyvirt.install import pathset
from pyvirt.install.optmap import PATHS
from pyvirt.install.subopts import SubOptError
from tests.conformance_data import CONFORMANCE

TREE = CONFORMANCE / "virt-manager-4.1.0" / "tree" / "tests" / "data"

# A base option string per option: it builds the element the sub-options then change.
BASE = {
    "--disk": "path=/pool-dir/testvol1.img", "--network": "network=default",
    "--graphics": "vnc", "--controller": "type=scsi", "--input": "tablet",
    "--serial": "pty", "--parallel": "pty", "--console": "pty", "--channel": "pty",
    "--hostdev": "eth9,type=net", "--filesystem": "/src,/dst", "--sound": "ich9",
    "--audio": "id=1", "--watchdog": "i6300esb", "--video": "virtio",
    "--smartcard": "passthrough", "--redirdev": "usb", "--memballoon": "virtio",
    "--tpm": "emulator", "--rng": "random", "--panic": "isa", "--shmem": "s0",
    "--memdev": "dimm", "--vsock": "model=virtio", "--iommu": "model=intel",
    "--iothreads": "2", "--seclabel": "type=dynamic", "--launchSecurity": "sev",
}
# Names the handler gives a meaning beyond their path, where the generic value is refused.
REFUSED_OK = {
    # source.pool/source.volume name a volume together (<disk type='volume'>); virtinst too
    # fails to look up a volume from one of them alone.
    **{("--disk", n): "source.pool/source.volume name a volume together"
       for n in ("source_volume", "source_pool", "source.volume", "source.pool")},
    ("--hostdev", "type"): "type=T changes how NAME is looked up (net: an interface)",
}
# Names that only mean something together with others (checked in other tests).
ALONE_OK = {
    ("--disk", "source_pool"): "source_pool=P,source_volume=V names a volume to resolve",
}
# Names whose effect needs a companion value (documented, not silently ignored).
NEEDS = {
    ("--sysinfo", r"(bios|system|baseBoard|chassis)[._].*"): "type=smbios",
}


def _value(kind: str) -> str:
    kind = kind.rstrip("!")
    # yes/no and on/off attributes: "off", since defaults tend to be "on"
    return {"i": "7", "b": "on", "YN": "off", "OO": "off"}.get(kind, "x7")


@pytest.fixture(scope="module")
def conn_info(monkeypatch_module: pytest.MonkeyPatch):
    from pyvirt.install.flow import _connect
    return _connect("qemu:///system")


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    mp.setenv("VIRTCOMPAT_TEST_DRIVER_XML", str(TREE / "testdriver" / "testdriver.xml"))
    mp.setenv("VIRTCOMPAT_FAKEURI", "qemu:///system")
    mp.setenv("VIRTCOMPAT_CAPS", str(TREE / "capabilities" / "kvm-x86_64.xml"))
    mp.setenv("VIRTCOMPAT_DOMCAPS", str(TREE / "capabilities" / "kvm-x86_64-domcaps-latest.xml"))
    mp.setenv("VIRTINST_TEST_SUITE", "1")
    yield mp
    mp.undo()


def _xml(ci, apply, flag: str, optstr: str) -> str:
    from pyvirt.install.guest import Guest
    g = Guest(ci)
    apply[flag](g, optstr)
    return etree.tostring(g.root, encoding="unicode")


def _concrete(name: str) -> str:
    return name.replace("[0-9]*", "1")


@pytest.mark.skipif(not TREE.exists(), reason="shared conformance data not present")
def test_every_table_suboption_changes_the_xml(conn_info) -> None:
    from pyvirt.install.opts import registry
    _, apply = registry()
    dropped, refused = [], []
    for flag in PATHS:
        if flag not in apply:
            continue
        base = BASE.get(flag, "")
        before = _xml(conn_info, apply, flag, base)
        for name in pathset.names(flag):
            row = pathset.lookup(flag, _concrete(name))
            assert row is not None, (flag, name)
            prefix = next((v for (f, pat), v in NEEDS.items()
                           if f == flag and re.fullmatch(pat, name)), "")
            parts = [p for p in (base, prefix, f"{_concrete(name)}={_value(row[1])}") if p]
            try:
                after = _xml(conn_info, apply, flag, ",".join(parts))
            except SubOptError as exc:
                if (flag, name) not in REFUSED_OK:
                    refused.append(f"{flag} {name}: {exc}")
                continue
            reference = _xml(conn_info, apply, flag, ",".join(p for p in (base, prefix) if p)) \
                if prefix else before
            if after == reference and (flag, name) not in ALONE_OK:
                dropped.append(f"{flag} {name}")
    assert not refused and not dropped, "\n".join(["refused:", *refused, "accepted but no effect on the XML:", *dropped])


def test_option_spec_knows_every_table_name() -> None:
    """Parsing never refuses a name the table writes (the two lists cannot drift)."""
    from pyvirt.install.opts import generic, registry
    specs, _ = registry()
    for flag in PATHS:
        spec = specs[flag]
        for name in pathset.names(generic.table_flag(flag)):
            assert spec.known(_concrete(name)), (flag, name)


@pytest.mark.skipif(not TREE.exists(), reason="shared conformance data not present")
def test_disk_source_pool_volume_is_a_volume_disk(conn_info) -> None:
    """source.pool=,source.volume= name the volume in the XML (virtinst's DeviceDisk source),
    where vol=POOL/VOL resolves it to a path; a block pool's volume is raw to QEMU."""
    from pyvirt.install.opts import registry
    _, apply = registry()
    disk = etree.fromstring(_xml(conn_info, apply, "--disk",
                                 "source.pool=pool-disk,source.volume=sdfg1")).find("devices/disk")
    assert disk.get("type") == "volume"
    assert dict(disk.find("source").attrib) == {"volume": "sdfg1", "pool": "pool-disk"}
    assert disk.find("driver").get("type") == "raw"
    by_path = etree.fromstring(_xml(conn_info, apply, "--disk",
                                    "vol=pool-disk/sdfg1")).find("devices/disk")
    assert by_path.get("type") == "block" and by_path.find("source").get("dev")
    with pytest.raises(SubOptError, match="together"):
        _xml(conn_info, apply, "--disk", "source.pool=pool-disk")
