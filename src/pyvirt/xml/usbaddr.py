"""USB port addresses as libvirt assigns them (domain_addr.c's virDomainUSBAddress*).

Every USB bus (a controller that is not a USB1 companion) is a tree of hubs: the root hub has
as many ports as the controller model offers, each ``<hub type='usb'>`` plugged into a port
adds 8 more below it.  An address port is a path (``1.2.1``: port 1 of the root, port 2 of the
hub there, port 1 of the hub there).  Given addresses are checked (the port must exist, a hub
must sit on every port of the path but the last, no port used twice); missing ones are filled
hubs first, then the other devices, each taking the first free port of the first bus that has
one, a hub's own ports before the ports of hubs below it.  When the buses have fewer ports than
devices, hubs are added first (qemuDomainUSBAddressAddHubs).
"""

from __future__ import annotations

from dataclasses import field

from .domain import Address, Domain, Hub
from .errors import XMLError, XMLValidationError
from .fields import model

HUB_PORTS = 8
MAX_PORT_DEPTH = 4

#: virDomainUSBAddressControllerModelToPorts (xHCIs take <controller ports=>)
_MODEL_PORTS = {"piix3-uhci": 2, "piix4-uhci": 2, "vt82c686b-uhci": 2, "pci-ohci": 3,
                "ehci": 6, "ich9-ehci1": 6, "nec-xhci": 4, "qemu-xhci": 4, "qusb1": 4, "qusb2": 4}
_COMPANIONS = ("ich9-uhci1", "ich9-uhci2", "ich9-uhci3")


@model
class _Hub:
    nports: int
    used: set[int] = field(default_factory=set)
    hubs: dict[int, _Hub] = field(default_factory=dict)

    def free_port(self) -> list[int] | None:
        """The path (below this hub) of its first free port, else the first under its hubs."""
        for p in range(1, self.nports + 1):
            if p not in self.used:
                return [p]
        for p in sorted(self.hubs):
            sub = self.hubs[p].free_port()
            if sub is not None:
                return [p, *sub]
        return None


def usb_devices(dom: Domain) -> list:
    """Devices that take a USB port, in libvirt's virDomainUSBDeviceDefForeach order."""
    devs = dom.devices
    return [*(h for h in devs.hostdevs if h.type == "usb"),
            *(d for d in devs.disks if d.target_bus == "usb"),
            *(c for c in devs.controllers if c.type == "ccid"),
            *(i for i in devs.inputs if i.bus == "usb"),
            *(s for s in devs.sounds if s.model == "usb"),
            *(s for s in devs.serials if s.target_type == "usb-serial"),
            *devs.redirdevs]


def _buses(dom: Domain) -> dict[int, _Hub]:
    buses: dict[int, _Hub] = {}
    for c in dom.devices.controllers:
        if c.type != "usb" or c.model == "none" or c.master_startport is not None or c.model in _COMPANIONS:
            continue
        n = c.ports if c.ports and c.model in ("nec-xhci", "qemu-xhci") else _MODEL_PORTS.get(c.model or "")
        if n:
            buses[c.index or 0] = _Hub(n)
    return buses


def _has_port(dev: object) -> bool:
    a = getattr(dev, "address", None)
    return a is not None and a.type == "usb" and bool(a.port)


def port_path(port: str, line: int | None) -> list[int]:
    """``1.2.3`` -> [1, 2, 3]: at most four levels (VIR_DOMAIN_DEVICE_USB_MAX_PORT_DEPTH)."""
    try:
        path = [int(p) for p in port.split(".")]
    except ValueError:
        path = []
    if not 1 <= len(path) <= MAX_PORT_DEPTH or any(p < 1 for p in path):
        raise XMLValidationError(f"Cannot parse <address> 'port' attribute '{port}'", line)
    return path


def _reserve(buses: dict[int, _Hub], dev: object, is_hub: bool) -> None:
    a = dev.address  # type: ignore[attr-defined]
    line = getattr(dev, "line", None)
    path = port_path(a.port, line)
    bus = buses.get(a.bus or 0)
    if bus is None:  # a bus libvirt does not model (no ports known): leave it to QEMU
        return
    hub = bus
    for p in path[:-1]:
        if p not in hub.hubs:
            # virDomainUSBAddressFindPort's words: the whole address
            raise XMLValidationError(f"there is no hub at port {p} in USB address bus: {a.bus or 0} port: "
                                     f"{'.'.join(map(str, path))}", line, libvirt_words=True)
        hub = hub.hubs[p]
    last = path[-1]
    if not 1 <= last <= hub.nports:
        raise XMLValidationError(f"requested USB port {a.port} not present on USB bus {a.bus or 0}", line)
    if last in hub.used:
        raise XMLValidationError(f"Duplicate USB address bus {a.bus or 0} port {a.port}", line)
    hub.used.add(last)
    if is_hub:
        hub.hubs[last] = _Hub(HUB_PORTS)


def _reserved(dom: Domain) -> dict[int, _Hub]:
    """The buses with every given address taken (hubs first, shallow paths first)."""
    buses = _buses(dom)
    indexes = {c.index or 0 for c in dom.devices.controllers if c.type == "usb"}
    for dev in [*dom.devices.hubs, *usb_devices(dom)]:
        if _has_port(dev) and (dev.address.bus or 0) not in indexes:  # virDomainUSBAddressFindBus
            raise XMLError(f"Missing USB bus {dev.address.bus or 0}", getattr(dev, "line", None))
    hubs = sorted((h for h in dom.devices.hubs if _has_port(h)), key=lambda h: h.address.port.count("."))
    for h in hubs:
        _reserve(buses, h, True)
    for d in usb_devices(dom):
        if _has_port(d):
            _reserve(buses, d, False)
    return buses


def check_usb_addresses(dom: Domain) -> None:
    """libvirt's define-time checks of given USB addresses (raises XMLValidationError)."""
    _reserved(dom)


def _needs_port(dev: object) -> bool:
    """No USB port yet (a device with another kind of address is left to the checks that refuse it)."""
    a = getattr(dev, "address", None)
    return a is None or (a.type == "usb" and not a.port)


def needs_usb_ports(dom: Domain) -> bool:
    return any(_needs_port(d) for d in (*dom.devices.hubs, *usb_devices(dom)))


def _add_hubs(dom: Domain) -> None:
    """qemuDomainUSBAddressAddHubs: enough hubs for the devices the buses cannot take."""
    buses = _buses(dom)
    if 0 not in buses:
        return
    count = sum(1 for d in (*dom.devices.hubs, *usb_devices(dom)) if _needs_port(d))
    available = sum(b.nports for b in buses.values()) + HUB_PORTS * len(dom.devices.hubs)
    if count > available:
        need = -(-(count - available + 1) // (HUB_PORTS - 1))
        dom.devices.hubs.extend(Hub(type="usb") for _ in range(need))


def assign_usb_ports(dom: Domain) -> None:
    """Fill in the missing USB addresses (libvirt does at start, and on define of a new domain)."""
    if not needs_usb_ports(dom):
        return
    _add_hubs(dom)
    buses = _reserved(dom)
    for dev, is_hub in [*((h, True) for h in dom.devices.hubs), *((d, False) for d in usb_devices(dom))]:
        if not _needs_port(dev):
            continue
        a = dev.address
        wanted = [a.bus or 0] if a is not None and a.type == "usb" and a.bus is not None else sorted(buses)
        if buses and len(wanted) == 1 and wanted[0] not in buses and a is not None and a.bus is not None:
            # virDomainUSBAddressFindBus: the bus asked for is no controller libvirt knows the ports of
            raise XMLError(f"USB bus {wanted[0]} requested but no controller with that index is present",
                           getattr(dev, "line", None))
        for index in wanted:
            path = buses[index].free_port() if index in buses else None
            if path is None:
                continue
            hub = buses[index]
            for p in path[:-1]:
                hub = hub.hubs[p]
            hub.used.add(path[-1])
            if is_hub:
                hub.hubs[path[-1]] = _Hub(HUB_PORTS)
            dev.address = Address(type="usb", bus=index, port=".".join(map(str, path)))
            break
        else:
            if buses:
                raise XMLValidationError("No free USB ports", getattr(dev, "line", None))
            if a is None:  # no bus libvirt knows the ports of: QEMU picks
                continue
