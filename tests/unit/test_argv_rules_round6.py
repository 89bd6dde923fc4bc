"""libvirt 9.0 rules found on the sixth round of unseen qemuxml2argv probes (a random sample of
libvirt's held-back inputs): one small case each, own XML, each checked against the real
libvirt 9.0's ``virsh define`` / ``domxml-to-native`` first."""

from __future__ import annotations

import json

import pytest

from pyvirt.qemu.argv import build_argv
from pyvirt.xml import fill_defaults, parse_domain
from pyvirt.xml.errors import XMLError

BASE = """<domain type='qemu'><name>g</name>{memory}<vcpu>2</vcpu>
<os><type arch='x86_64' machine='{machine}'>hvm</type></os>{cpu}<devices>{devices}</devices></domain>"""
MEMORY = "<memory unit='MiB'>256</memory>"
HOTPLUG = "<maxMemory slots='4' unit='GiB'>4</maxMemory>" + MEMORY
NUMA1 = "<cpu><numa><cell id='0' cpus='0-1' memory='256' unit='MiB'/></numa></cpu>"


def _dom(devices: str = "", machine: str = "pc", memory: str = MEMORY, cpu: str = ""):
    return fill_defaults(parse_domain(BASE.format(devices=devices, machine=machine, memory=memory, cpu=cpu)))


def _devices(argv: list[str]) -> dict[str, dict]:
    found = [json.loads(argv[i + 1]) for i, a in enumerate(argv[:-1]) if a == "-device"]
    return {d["id"]: d for d in found if "id" in d}


# --- memory hotplug needs guest NUMA, with or without a memory device ---------------------------

@pytest.mark.parametrize("machine", ["pc", "q35"])
def test_max_memory_without_numa_is_refused(machine: str) -> None:
    # qemuDomainDefValidateMemoryHotplug: QEMU would add a NUMA node of its own
    with pytest.raises(XMLError, match="At least one numa node has to be configured when enabling memory hotplug"):
        _dom(machine=machine, memory=HOTPLUG)


def test_max_memory_with_numa_is_accepted() -> None:
    argv = build_argv(_dom(memory=HOTPLUG, cpu=NUMA1))
    assert "-numa" in argv
    assert argv[argv.index("-m") + 1].startswith("size=")


# --- which PCI controller a device with a given address may plug into ------------------------

def _ctrl(index: int, model: str, bus: int | None = None, slot: int = 0) -> str:
    addr = f"<address type='pci' bus='{bus}' slot='{slot}'/>" if bus is not None else ""
    return f"<controller type='pci' index='{index}' model='{model}'>{addr}</controller>"


Q35_ROOT = _ctrl(0, "pcie-root")
PC_ROOT = _ctrl(0, "pci-root")


@pytest.mark.parametrize(("machine", "devices", "where", "wants"), [
    # a PCIe expander bus hangs off the root complex only (libvirt's pcie-expander-bus-bad-bus)
    ("q35", Q35_ROOT + _ctrl(1, "pcie-root-port") + _ctrl(2, "pcie-expander-bus", 1), "0000:01:00.0' x 1",
     "pcie-expander-bus"),
    # a downstream port needs an upstream port's bus, not the root complex
    ("q35", Q35_ROOT + _ctrl(1, "pcie-switch-downstream-port", 0, 5), "0000:00:05.0' x 0",
     "pcie-switch-downstream-port"),
    # a root port does not nest in another root port
    ("q35", Q35_ROOT + _ctrl(1, "pcie-root-port") + _ctrl(2, "pcie-root-port", 1), "0000:01:00.0' x 1",
     "pcie-root-port"),
    # a DMI-to-PCI bridge goes on pcie-root (or a PCIe expander bus), never behind a port
    ("q35", Q35_ROOT + _ctrl(1, "pcie-root-port") + _ctrl(2, "dmi-to-pci-bridge", 1), "0000:01:00.0' x 1",
     "dmi-to-pci-bridge"),
    # a pci-expander-bus plugs into pci-root only; a pci-bridge is a standard PCI device
    ("pc", PC_ROOT + _ctrl(1, "pci-bridge") + _ctrl(2, "pci-expander-bus", 1, 3), "0000:01:03.0' x 1",
     "pci-expander-bus"),
    ("q35", Q35_ROOT + _ctrl(1, "pcie-root-port") + _ctrl(2, "pcie-switch-upstream-port", 1)
     + _ctrl(3, "pci-bridge", 2), "0000:02:00.0' x 2", "standard PCI device"),
    # an upstream port's bus takes downstream ports, no endpoint
    ("q35", Q35_ROOT + _ctrl(1, "pcie-root-port") + _ctrl(2, "pcie-switch-upstream-port", 1)
     + "<interface type='user'><model type='virtio'/><address type='pci' bus='2' slot='0'/></interface>",
     "0000:02:00.0' x 2", "PCI Express device"),
    # on i440fx there is nothing a root port could plug into
    ("pc", PC_ROOT + _ctrl(1, "pcie-root-port", 0, 5), "0000:00:05.0' x 0", "pcie-root-port"),
])
def test_pci_controller_in_a_bus_that_does_not_take_it_is_refused(machine: str, devices: str, where: str,
                                                                   wants: str) -> None:
    address, _, index = where.partition("' x ")
    message = (f"The device at PCI address {address} cannot be plugged into the PCI controller with "
               f"index='{index}'. It requires a controller that accepts a {wants}.")
    with pytest.raises(XMLError) as err:
        _dom(devices, machine)
    assert message in str(err.value)


@pytest.mark.parametrize(("machine", "devices"), [
    ("q35", Q35_ROOT + _ctrl(1, "pcie-expander-bus") + _ctrl(2, "pcie-root-port", 1)),
    ("q35", Q35_ROOT + _ctrl(1, "pcie-root-port") + _ctrl(2, "pcie-switch-upstream-port", 1)
     + _ctrl(3, "pcie-switch-downstream-port", 2) + _ctrl(4, "pcie-to-pci-bridge", 3)),
    ("q35", Q35_ROOT + _ctrl(1, "dmi-to-pci-bridge", 0, 5) + _ctrl(2, "pci-bridge", 1, 3)),
    ("pc", PC_ROOT + _ctrl(1, "pci-expander-bus", 0, 5) + _ctrl(2, "pci-bridge", 1, 3)),
])
def test_pci_controllers_where_libvirt_takes_them(machine: str, devices: str) -> None:
    devs = _devices(build_argv(_dom(devices, machine)))
    plugged = devices.count("<controller") - 1  # all but the root
    assert all(f"pci.{i}" in devs for i in range(1, plugged + 1))
