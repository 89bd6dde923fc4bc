"""SCSI passthrough: ``<disk device='lun'>`` and SCSI host devices, with libvirt 9.0's rules
(qemuBuildDiskDeviceProps, qemuBuildSCSIHostdevDevProps, virDomainHostdevAssignAddress)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pyvirt.daemon import hostdev_prep
from pyvirt.qemu.argv import RuntimePaths, build_argv
from pyvirt.xml import fill_defaults, parse_domain
from pyvirt.xml.errors import XMLError

BASE = """<domain type='qemu'><name>g</name><memory unit='MiB'>256</memory><vcpu>1</vcpu>
<os><type arch='x86_64' machine='{machine}'>hvm</type></os><devices>{devices}</devices></domain>"""


def _dom(devices: str, machine: str = "pc"):
    return fill_defaults(parse_domain(BASE.format(devices=devices, machine=machine)))


def _json(argv: list[str], opt: str) -> list[dict]:
    return [json.loads(argv[i + 1]) for i, a in enumerate(argv[:-1]) if a == opt and argv[i + 1].startswith("{")]


def _lun(dev: str, extra: str = "", bus: str = "scsi", kind: str = "block") -> str:
    src = f"<source dev='/dev/mapper/{dev}'/>" if kind == "block" else f"<source file='/img/{dev}'/>"
    return f"<disk type='{kind}' device='lun'{extra}>{src}<target dev='{dev}' bus='{bus}'/></disk>"


def _sg(unit: int, extra: str = "", inner: str = "", addr: str = "") -> str:
    return (f"<hostdev mode='subsystem' type='scsi'{extra}><source><adapter name='scsi_host2'/>"
            f"<address bus='0' target='1' unit='{unit}'/></source>{inner}{addr}</hostdev>")


def test_lun_is_scsi_block_without_device_id_or_write_cache() -> None:
    ctrl = "<controller type='scsi' model='virtio-scsi'/>"
    devs = _json(build_argv(_dom(ctrl + _lun("sda", "") .replace("<source", "<driver name='qemu' type='raw' "
                                                                  "cache='none'/><source"))), "-device")
    lun = next(d for d in devs if d.get("id") == "scsi0-0-0-0")
    assert lun["driver"] == "scsi-block" and "device_id" not in lun and "write-cache" not in lun
    assert (lun["bus"], lun["channel"], lun["scsi-id"], lun["lun"]) == ("scsi0.0", 0, 0, 0)


def test_lun_rules() -> None:
    with pytest.raises(XMLError, match="only valid for block type"):
        build_argv(_dom(_lun("sda", kind="file")))
    with pytest.raises(XMLError, match="virtio bus"):
        build_argv(_dom(_lun("vda", bus="virtio")))
    with pytest.raises(XMLError, match="not supported for bus='sata'"):
        build_argv(_dom(_lun("sda", bus="sata")))
    with pytest.raises(XMLError, match="rawio=.yes."):
        build_argv(_dom(_lun("sda", " rawio='yes'")))
    with pytest.raises(XMLError, match="unfiltered sgio is no longer supported"):  # at define, as libvirt 9.0
        _dom(_lun("sda", " sgio='unfiltered'"))
    with pytest.raises(XMLError, match="sgio can be used only with device='lun'"):  # at define, as libvirt 9.0
        _dom("<disk type='block' device='disk' sgio='filtered'><source dev='/dev/x'/>"
             "<target dev='sda' bus='scsi'/></disk>")


def test_scsi_hostdev_is_scsi_generic_numbered_after_the_disks() -> None:
    disk = "<disk type='file'><source file='/img/a'/><target dev='vda' bus='virtio'/></disk>"
    ctrl = "<controller type='scsi' model='virtio-scsi'/>"
    argv = build_argv(_dom(disk + ctrl + _sg(3) + _sg(4, inner="<readonly/>")))
    backends = [b for b in _json(argv, "-blockdev") if b["node-name"].endswith("-backend")]
    assert [(b["node-name"], b["driver"], b["read-only"]) for b in backends] == [
        ("libvirt-2-backend", "host_device", False), ("libvirt-3-backend", "host_device", True)]
    gens = [d for d in _json(argv, "-device") if d["driver"] == "scsi-generic"]
    assert [(g["drive"], g["id"], g["bus"], g["scsi-id"], g["lun"]) for g in gens] == [
        ("libvirt-2-backend", "hostdev0", "scsi0.0", 0, 0), ("libvirt-3-backend", "hostdev1", "scsi0.0", 0, 1)]


def test_scsi_hostdev_addresses_skip_used_and_reserved_units() -> None:
    disk = ("<disk type='block' device='disk'><source dev='/dev/x'/><target dev='sda' bus='scsi'/>"
            "<address type='drive' controller='0' bus='0' target='0' unit='0'/></disk>")
    dom = _dom("<controller type='scsi' model='lsilogic'/>" + disk + "".join(_sg(u) for u in range(7)))
    units = [(h.address.controller, h.address.unit) for h in dom.devices.hostdevs]
    # the QEMU driver's buses are narrow: units 0-6, then the next controller
    assert units == [(0, 1), (0, 2), (0, 3), (0, 4), (0, 5), (0, 6), (1, 0)]
    assert [(c.index, c.model) for c in dom.devices.controllers if c.type == "scsi"] == [
        (0, "lsilogic"), (1, "lsilogic")]
    implicit = _dom(_sg(0))  # no controller: the first unit of an implicit lsilogic one
    assert implicit.devices.hostdevs[0].address.unit == 0
    assert any(c.type == "scsi" and c.model == "lsilogic" for c in implicit.devices.controllers)


def test_scsi_hostdevs_fill_seven_units_then_a_controller_of_the_same_model() -> None:
    """Even on virtio-scsi (16384 units) host devices take units 0-6; the controller libvirt adds
    for the overflow (and for a later device's explicit address) is virtio-scsi too."""
    pinned = _sg(9, addr="<address type='drive' controller='1' bus='0' target='0' unit='1'/>")
    devs = "<controller type='scsi' index='0' model='virtio-scsi'/>" + "".join(_sg(u) for u in range(8)) + pinned + _sg(10)
    dom = _dom(devs)
    assert [(h.address.controller, h.address.unit) for h in dom.devices.hostdevs] == [
        (0, 0), (0, 1), (0, 2), (0, 3), (0, 4), (0, 5), (0, 6), (1, 0), (1, 1), (1, 2)]
    assert [(c.index, c.model) for c in dom.devices.controllers if c.type == "scsi"] == [
        (0, "virtio-scsi"), (1, "virtio-scsi")]
    gens = [d for d in _json(build_argv(dom), "-device") if d["driver"] == "scsi-generic"]
    assert [(g["bus"], g["lun"]) for g in gens][6:] == [("scsi0.0", 6), ("scsi1.0", 0), ("scsi1.0", 1), ("scsi1.0", 2)]
    explicit_only = _dom(_sg(1, addr="<address type='drive' controller='2' bus='0' target='0' unit='0'/>"))
    assert [(c.index, c.model) for c in explicit_only.devices.controllers if c.type == "scsi"] == [
        (0, "lsilogic"), (1, "lsilogic"), (2, "lsilogic")]


def test_iscsi_hostdev_with_chap_secret() -> None:
    hd = ("<hostdev mode='subsystem' type='scsi'><source protocol='iscsi' name='iqn.2020-01.org.x:t/3'>"
          "<host name='san.example' port='3260'/><auth username='u'><secret type='iscsi' usage='s'/></auth>"
          "</source></hostdev>")
    argv = build_argv(_dom("<controller type='scsi' model='virtio-scsi'/>" + hd))
    node = next(b for b in _json(argv, "-blockdev") if b["driver"] == "iscsi")
    assert (node["target"], node["lun"], node["user"], node["read-only"]) == ("iqn.2020-01.org.x:t", 3, "u", False)
    secret = next(o for o in _json(argv, "-object") if o["qom-type"] == "secret" and o["id"] == node["password-secret"])
    assert secret["id"] == f"{node['node-name']}-secret0"


def test_vhost_scsi_is_a_pci_device_on_the_passed_descriptor() -> None:
    hd = "<hostdev mode='subsystem' type='scsi_host'><source protocol='vhost' wwpn='naa.5001405df3e54061'/></hostdev>"
    dom = _dom(hd, machine="q35")
    dev = next(d for d in _json(build_argv(dom, runtime=RuntimePaths(vhost_scsi_fds={"hostdev0": 41})), "-device")
               if d["driver"] == "vhost-scsi-pci")
    assert dev["vhostfd"] == "41" and dev["wwpn"] == "naa.5001405df3e54061" and dev["bus"].startswith("pci.")
    with pytest.raises(XMLError, match="vhost-scsi was not opened"):
        build_argv(dom, runtime=RuntimePaths())


def test_host_side_refusals() -> None:
    for attr in (" sgio='unfiltered'", " rawio='yes'"):
        with pytest.raises(XMLError, match=attr.strip().replace("'", ".")):
            build_argv(_dom(_sg(0, attr)))
    with pytest.raises(XMLError, match="no SCSI generic node"):
        build_argv(_dom(_sg(0)), runtime=RuntimePaths())


def test_sysfs_lookup_of_the_generic_node(tmp_path: Path) -> None:
    (tmp_path / "2:0:1:5" / "scsi_generic" / "sg7").mkdir(parents=True)
    dom = _dom(_sg(5) + _sg(6))
    from pyvirt.xml.defaults import assign_start_defaults

    assign_start_defaults(dom)
    assert hostdev_prep.resolve_scsi(dom, tmp_path, strict=False) == {"hostdev0": "/dev/sg7"}
    with pytest.raises(Exception, match="2:0:1:6"):
        hostdev_prep.resolve_scsi(dom, tmp_path)
