"""i440fx: once the root bus is full, devices go on the next bus that takes PCI devices, by
index (a pci-expander-bus from slot 0, a pci-bridge from slot 1), as libvirt's
virDomainPCIAddressGetNextAddr walks the buses (found on libvirt's unseen input pci-expander-bus,
whose NICs 27-31 land on pci.1 0x0-0x4 in libvirt's expected command line); with no bus left,
a pci-bridge is added for them, as libvirt's address set grows (never a refusal or a crash)."""

from __future__ import annotations

import json

import pytest

from pyvirt.qemu.argv import build_argv
from pyvirt.xml import fill_defaults, parse_domain


def _doc(nics: int, extra: str) -> str:
    nic = "".join(f"<interface type='user'><mac address='52:54:00:00:00:{n:02x}'/><model type='e1000'/></interface>"
                  for n in range(nics))
    return (f"<domain type='qemu'><name>g</name><memory unit='MiB'>128</memory><vcpu>1</vcpu>"
            f"<os><type arch='x86_64' machine='pc'>hvm</type></os><devices><controller type='usb' model='none'/>"
            f"{extra}{nic}<memballoon model='none'/></devices></domain>")


def _buses(xml: str) -> dict[str, tuple[str, str]]:
    argv = build_argv(fill_defaults(parse_domain(xml)))
    devs = [json.loads(argv[i + 1]) for i, a in enumerate(argv) if a == "-device"]
    return {d["id"]: (d.get("bus"), d.get("addr")) for d in devs}


@pytest.mark.parametrize(("controller", "first"), [
    ("<controller type='pci' index='1' model='pci-expander-bus'/>", "0x0"),
    ("<controller type='pci' index='1' model='pci-bridge'/>", "0x1"),
])
def test_devices_overflow_onto_the_next_bus(controller: str, first: str) -> None:
    # bus 0: host bridge, PIIX3 at slot 1, the controller at 2, so 29 NICs fill slots 3-31
    buses = _buses(_doc(31, controller))
    assert buses["net28"] == ("pci.0", "0x1f")
    assert buses["net29"] == ("pci.1", first)
    assert buses["net30"][0] == "pci.1"


def test_no_bus_left_adds_a_bridge_for_the_rest() -> None:
    # the added bridge takes the root bus's first free slot, as a given one would
    buses = _buses(_doc(31, ""))
    assert buses["pci.1"] == ("pci.0", "0x2")
    assert buses["net28"] == ("pci.0", "0x1f") and buses["net29"] == ("pci.1", "0x1")
