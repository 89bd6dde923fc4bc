"""The ESP-based SCSI controllers (``am53c974``, ``dc390``) and the SCSI drive-address rules of
libvirt 9.0's QEMU driver, each checked against the real libvirt 9.0 first: a disk's unit is
its SCSI id on the controller's one bus and its target is ignored (only ``lsilogic`` refuses a
target); a SCSI disk on bus 1 is refused for every model.  ``dc390`` is written as QEMU's own
``dc390``: libvirt 9.0 writes ``dc-390``, a name QEMU never had, so its guests cannot start."""

from __future__ import annotations

import json

import pytest

from pyvirt.qemu.argv import build_argv
from pyvirt.xml import fill_defaults, parse_domain
from pyvirt.xml.errors import XMLError, XMLInternalError

BASE = ("<domain type='qemu'><name>g</name><memory unit='MiB'>128</memory><vcpu>1</vcpu>"
        "<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>{}</devices></domain>")


def _disk(dev: str, address: str = "") -> str:
    return (f"<disk type='file' device='disk'><source file='/tmp/{dev}.img'/><target dev='{dev}' bus='scsi'/>"
            f"{address}</disk>")


def _drive(bus: int = 0, target: int = 0, unit: int = 0) -> str:
    return f"<address type='drive' controller='0' bus='{bus}' target='{target}' unit='{unit}'/>"


def _devices(devices: str) -> dict[str, dict]:
    argv = build_argv(fill_defaults(parse_domain(BASE.format(devices))))
    found = [json.loads(argv[i + 1]) for i, a in enumerate(argv[:-1]) if a == "-device"]
    return {d["id"]: d for d in found if "id" in d}


def test_dc390_is_qemus_dc390_device_on_pci() -> None:
    ids = _devices("<controller type='scsi' index='0' model='dc390'/>" + _disk("sda"))
    assert ids["scsi0"] == {"driver": "dc390", "id": "scsi0", "bus": "pci.0", "addr": "0x2"}
    assert (ids["scsi0-0-0-0"]["bus"], ids["scsi0-0-0-0"]["scsi-id"]) == ("scsi0.0", 0)


@pytest.mark.parametrize("model", ["dc390", "am53c974"])
def test_esp_controllers_take_the_unit_as_scsi_id_and_ignore_the_target(model: str) -> None:
    ids = _devices(f"<controller type='scsi' index='0' model='{model}'/>"
                   + _disk("sda", _drive(target=1, unit=3)) + _disk("sdb", _drive(unit=7)))
    assert (ids["scsi0-0-1-3"]["bus"], ids["scsi0-0-1-3"]["scsi-id"]) == ("scsi0.0", 3)
    assert ids["scsi0-0-0-7"]["scsi-id"] == 7
    assert "lun" not in ids["scsi0-0-1-3"]


def test_dc390_fills_units_0_to_6_then_adds_a_controller() -> None:
    disks = "".join(_disk(f"sd{c}") for c in "abcdefgh")
    ids = _devices("<controller type='scsi' index='0' model='dc390'/>" + disks)
    assert [ids[f"scsi0-0-0-{u}"]["scsi-id"] for u in range(7)] == list(range(7))
    assert ids["scsi1"]["driver"] == "lsi" and ids["scsi1-0-0"]["bus"] == "scsi1.0"


def test_dc390_is_kept_in_the_inactive_xml() -> None:
    dom = fill_defaults(parse_domain(BASE.format("<controller type='scsi' index='0' model='dc390'/>")))
    assert "<controller type='scsi' index='0' model='dc390'>" in dom.to_xml(inactive=True)


def test_lsilogic_still_refuses_a_target() -> None:
    with pytest.raises(XMLError, match="target must be 0 for controller model 'lsilogic'"):
        _devices("<controller type='scsi' index='0' model='lsilogic'/>" + _disk("sda", _drive(target=1)))


@pytest.mark.parametrize("model", ["dc390", "am53c974", "lsilogic", "virtio-scsi"])
def test_a_scsi_disk_on_bus_1_is_refused_at_define(model: str) -> None:
    with pytest.raises(XMLInternalError, match="SCSI controller only supports 1 bus"):
        parse_domain(BASE.format(f"<controller type='scsi' index='0' model='{model}'/>"
                                 + _disk("sda", _drive(bus=1))))
