"""PCI placement rules of libvirt's qemu_domain_address.c, each with its own small case
(the conformance suite only checks the layouts it happens to contain)."""

from __future__ import annotations

from pyvirt.xml import fill_defaults, parse_domain

BASE = """<domain type='qemu'><name>g</name><memory unit='MiB'>256</memory><vcpu>1</vcpu>
<os><type arch='x86_64' machine='{machine}'>hvm</type></os><devices>{devices}</devices></domain>"""


def _dom(devices: str, machine: str = "q35"):
    # the root bus first: libvirt numbers PCI controllers without index in document order from
    # 0, and index 0 must be the root (test_unindexed_bridge_first_is_refused)
    root = "<controller type='pci' model='pcie-root'/>" if machine == "q35" else ""
    return fill_defaults(parse_domain(BASE.format(devices=root + devices, machine=machine)))


def _pci(dev) -> tuple[int, int, int]:
    a = dev.address
    return (a.bus, a.slot, a.function)


def _ports(dom):
    return [c for c in dom.devices.controllers if c.model == "pcie-root-port"]


def test_root_port_port_number_is_slot_and_function_even_for_given_addresses() -> None:
    dom = _dom("<controller type='pci' model='pcie-root-port'><address type='pci' slot='3' function='2'/>"
               "</controller>")
    (port,) = _ports(dom)[:1]
    assert _pci(port) == (0, 3, 2) and port.target_port == (3 << 3) + 2


def test_new_root_ports_fill_free_functions_of_root_port_slots_first() -> None:
    """Slot 2 holds two given root ports: the next ones become 2.2, 2.3, ... (libvirt aggregates
    root ports in one slot) rather than opening a fresh slot; function 0 then gets multifunction."""
    given = "".join(f"<controller type='pci' model='pcie-root-port'><address type='pci' slot='2' function='{f}'/>"
                    "</controller>" for f in (0, 1))
    dom = _dom("<video><model type='vga'/></video>" + given + "<controller type='pci' model='pcie-root-port'/>" * 2)
    addrs = [_pci(p) for p in _ports(dom)]
    assert addrs[:4] == [(0, 2, 0), (0, 2, 1), (0, 2, 2), (0, 2, 3)]
    assert _ports(dom)[0].address.multifunction is True
    assert _ports(dom)[2].address.multifunction is None


def test_slot_with_other_devices_is_not_used_for_root_ports() -> None:
    dom = _dom("<video><model type='vga'/></video><controller type='pci' model='pcie-root-port'/>")
    video = dom.devices.videos[0]
    assert _pci(video) == (0, 1, 0)
    assert all(p.address.slot != 1 for p in _ports(dom))


def test_explicit_multifunction_off_is_kept() -> None:
    dom = _dom("<controller type='pci' model='pcie-root-port'><address type='pci' slot='4' function='0' "
               "multifunction='off'/></controller><controller type='pci' model='pcie-root-port'>"
               "<address type='pci' slot='4' function='1'/></controller>")
    assert _ports(dom)[0].address.multifunction is False


def test_dmi_bridge_goes_to_1e_and_conventional_devices_behind_it() -> None:
    dom = _dom("<controller type='pci' model='dmi-to-pci-bridge'/><controller type='pci' model='pci-bridge'/>"
               "<watchdog model='i6300esb'/>")
    dmi = next(c for c in dom.devices.controllers if c.model == "dmi-to-pci-bridge")
    bridge = next(c for c in dom.devices.controllers if c.model == "pci-bridge")
    assert _pci(dmi) == (0, 0x1E, 0) and dmi.model_name == "i82801b11-bridge"
    assert _pci(bridge) == (dmi.index, 0, 0) and bridge.target_chassis_nr == bridge.index
    # the DMI bridge's slots are not hotpluggable: devices go behind the pci-bridge (real
    # libvirt 9.0 puts this watchdog at 02:01.0)
    assert _pci(dom.devices.watchdogs[0]) == (bridge.index, 1, 0)
    assert not any(c.model == "pcie-to-pci-bridge" for c in dom.devices.controllers)


def test_conventional_device_without_bridge_gets_a_pcie_to_pci_bridge() -> None:
    dom = _dom("<watchdog model='i6300esb'/>")
    bridge = next(c for c in dom.devices.controllers if c.model == "pcie-to-pci-bridge")
    assert _pci(dom.devices.watchdogs[0]) == (bridge.index, 1, 0)


def test_unindexed_bridge_first_is_refused() -> None:
    """libvirt gives the first PCI controller without index the index 0, which only the root
    may have (real libvirt 9.0 refuses this document with this message)."""
    import pytest

    from pyvirt.xml.errors import XMLError

    with pytest.raises(XMLError, match="index='0' must be model='pcie-root'"):
        fill_defaults(parse_domain(BASE.format(devices="<controller type='pci' model='pcie-root-port'/>",
                                               machine="q35")))


def test_root_of_the_other_machine_kind_is_refused() -> None:
    """index 0 is the machine's own root bus: pcie-root on i440FX, pci-root on Q35, or a bridge
    written with index='0', are refused at define in libvirt 9.0's words."""
    import pytest

    from pyvirt.xml.errors import XMLError

    for machine, ctrl, message in (
            ("pc", "<controller type='pci' index='0' model='pcie-root'/>",
             "index='0' must be model='pci-root' for this machine type, but model='pcie-root'"),
            ("q35", "<controller type='pci' index='0' model='pci-root'/>",
             "index='0' must be model='pcie-root' for this machine type, but model='pci-root'"),
            ("pc", "<controller type='pci' index='0' model='pci-bridge'/>", "but model='pci-bridge' was found")):
        with pytest.raises(XMLError, match=message):
            fill_defaults(parse_domain(BASE.format(devices=ctrl, machine=machine)))
