"""libvirt 9.0's XML rules found in the seventh xml2xml round (issue 14): PCI addresses, ...
Each was checked on the same small document against the real libvirt 9.0 (a private session
daemon's ``virsh define`` + ``dumpxml --inactive``, or ``virsh -c test:///default``)."""

from __future__ import annotations

import pytest

from pyvirt.xml import fill_defaults, parse_domain
from pyvirt.xml.errors import XMLError


def _dom(devices: str, machine: str = "pc") -> str:
    return (f"<domain type='qemu'><name>d</name><memory>131072</memory><os><type arch='x86_64' "
            f"machine='{machine}'>hvm</type></os><devices><emulator>/usr/bin/qemu-system-x86_64</emulator>"
            f"{devices}</devices></domain>")


def _define(devices: str, machine: str = "pc") -> str:
    return fill_defaults(parse_domain(_dom(devices, machine))).to_xml(inactive=True)


def _nic(address: str, mac: str = "52:54:00:00:01:09", model: str = "virtio") -> str:
    return f"<interface type='user'><mac address='{mac}'/><model type='{model}'/>{address}</interface>"


def _addr(bus: int, slot: int, function: int = 0) -> str:
    return f"<address type='pci' domain='0x0000' bus='{bus:#04x}' slot='{slot:#04x}' function='{function:#x}'/>"


# --- virPCIDeviceAddressIsEmpty: domain, bus and slot all 0 ask for an address --------------------

@pytest.mark.parametrize("address", [
    "<address type='pci'/>", "<address type='pci' function='0x3'/>", "<address type='pci' multifunction='on'/>",
    _addr(0, 0), _addr(0, 0, 2),
])
@pytest.mark.parametrize(("machine", "where"), [
    ("pc", "bus='0x00' slot='0x02' function='0x0'/>"), ("q35", "bus='0x01' slot='0x00' function='0x0'/>")])
def test_an_empty_pci_address_is_assigned(address: str, machine: str, where: str) -> None:
    out = _define(_nic(address), machine)
    nic = out[out.index("<interface"):out.index("</interface>")]
    assert f"<address type='pci' domain='0x0000' {where}" in nic


def test_an_empty_pci_address_is_written_empty_where_nothing_assigns_one() -> None:
    # virsh -c test:///default define + dumpxml: the test driver assigns no PCI address
    dom = parse_domain(_dom(_nic("<address type='pci' domain='0' bus='0' slot='0' function='3' "
                                    "multifunction='on'/>")))
    assert "<address type='pci' multifunction='on'/>" in dom.to_xml()


def test_a_partial_pci_address_is_zero_filled() -> None:
    out = _define(_nic("<address type='pci' slot='0x05'/>"))
    assert "<address type='pci' domain='0x0000' bus='0x00' slot='0x05' function='0x0'/>" in out


# --- qemuDomainAssignPCIAddresses: the hotplug root port after a dry run that grew buses ----------

def _root_ports(out: str) -> int:
    return out.count("model='pcie-root-port'>")


def test_a_bus_an_address_names_grows_ports_and_one_spare() -> None:
    # buses 1-3 for the address; USB and balloon take 1 and 2; none left empty: a 4th for hotplug
    assert _root_ports(_define(_nic(_addr(3, 0)), "q35")) == 4
    # bus 1 named, no other PCI device: one more port
    bare = "<controller type='usb' model='none'/><memballoon model='none'/>"
    assert _root_ports(_define(_nic(_addr(1, 0)) + bare, "q35")) == 2
    # bus 5 named: four ports stay empty, none added
    assert _root_ports(_define(_nic(_addr(5, 0)) + bare, "q35")) == 5


def test_no_spare_port_when_the_xml_has_pci_controllers() -> None:
    out = _define("<controller type='pci' index='1' model='pcie-root-port'/>" + _nic(_addr(3, 0)), "q35")
    assert _root_ports(out) == 3  # 1 given (USB), 2 for the address's bus 3 (balloon), 3


# --- refusals of the QEMU driver ---------------------------------------------------------------

def test_pci_domain_other_than_0_is_refused() -> None:
    with pytest.raises(XMLError, match=r"Invalid PCI address 0001:00:05.0. Only PCI domain 0 is available"):
        _define(_nic("<address type='pci' domain='0x0001' bus='0x00' slot='0x05' function='0x0'/>"))


@pytest.mark.parametrize("bus", [1, 2])
def test_a_pci_controller_sits_on_a_lower_bus(bus: int) -> None:
    with pytest.raises(XMLError, match=f"PCI controller at index 1 \\(0x01\\) has bus='0x0{bus}', "
                                       "but index must be larger than bus"):
        _define("<controller type='pci' index='1' model='pci-bridge'>" + _addr(bus, 1) + "</controller>"
                "<controller type='pci' index='2' model='pci-bridge'/>")
