"""SCSI hosts among pyvirtd's node devices, read from a made-up sysfs tree as libvirt's udev
backend reads the real one: an FC HBA (fc_host, vport_ops) and a plain SATA host, and
virNodeDeviceLookupSCSIHostByWWN over them."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyvirt.api import ErrorCode, PyvirtError
from pyvirt.daemon import hostdevs
from pyvirt.xml.safe import parse_root

PCI = "0000:00:1f.2"


def _sysfs(root: Path) -> Path:
    pci = root / "devices/pci0000:00" / PCI
    pci.mkdir(parents=True)
    (pci / "vendor").write_text("0x8086\n")
    (root / "bus/pci/devices").mkdir(parents=True)
    (root / "bus/pci/devices" / PCI).symlink_to(pci)
    (root / "class/scsi_host").mkdir(parents=True)
    (root / "class/fc_host").mkdir(parents=True)
    for number, unique in ((0, "1"), (5, "7")):
        host = pci / f"host{number}/scsi_host/host{number}"
        host.mkdir(parents=True)
        (host / "unique_id").write_text(unique + "\n")
        (root / "class/scsi_host" / f"host{number}").symlink_to(host)
    fc = pci / "host5/fc_host/host5"
    fc.mkdir(parents=True)
    for name, value in (("node_name", "0x20000000c9848140"), ("port_name", "0x10000000c9848140"),
                        ("fabric_name", "0x2001000dec9877c1"), ("max_npiv_vports", "255"),
                        ("npiv_vports_inuse", "2"), ("vport_create", "")):
        (fc / name).write_text(value + "\n")
    (root / "class/fc_host/host5").symlink_to(fc)
    return root


def test_scsi_hosts_are_node_devices_with_their_fc_capabilities(tmp_path: Path) -> None:
    sys = _sysfs(tmp_path)
    devices = {d.name: d for d in hostdevs.list_node_devices(sys)}
    assert devices["scsi_host0"].caps == ["scsi_host"]
    assert devices["scsi_host5"].caps == ["scsi_host", "fc_host", "vport_ops"]
    assert devices["scsi_host5"].parent == "pci_0000_00_1f_2"
    root = parse_root(hostdevs.node_device_xml("scsi_host5", sys), "device")
    cap = root.find("capability[@type='scsi_host']")
    assert cap is not None and cap.findtext("host") == "5" and cap.findtext("unique_id") == "7"
    assert cap.findtext("capability[@type='fc_host']/wwnn") == "20000000c9848140"  # libvirt drops the 0x
    assert cap.findtext("capability[@type='fc_host']/fabric_wwn") == "2001000dec9877c1"
    assert cap.findtext("capability[@type='vport_ops']/max_vports") == "255"
    assert parse_root(hostdevs.node_device_xml("scsi_host0", sys), "device").find(
        "capability/capability") is None


def test_lookup_scsi_host_by_wwn(tmp_path: Path) -> None:
    sys = _sysfs(tmp_path)
    assert hostdevs.lookup_scsi_host_by_wwn("20000000c9848140", "10000000c9848140", sys).name == "scsi_host5"
    with pytest.raises(PyvirtError) as err:
        hostdevs.lookup_scsi_host_by_wwn("20000000c9848140", "10000000c9848141", sys)
    assert err.value.code == ErrorCode.NO_NODE_DEVICE
    assert err.value.message == ("Node device not found: no node device with matching wwnn '20000000c9848140' "
                                 "and wwpn '10000000c9848141'")
