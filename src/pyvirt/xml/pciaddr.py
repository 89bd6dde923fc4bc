"""PCI address assignment in libvirt's order (qemuDomainAssignDevicePCISlots).

i440fx: slot 1 is the PIIX3 (ISA bridge, IDE 1.1, UHCI 1.2), the primary video gets slot 2,
then devices take free slots of bus 0 in libvirt's category order.  q35: SATA at 0x1f.2, the
first ICH9 sound device at 0x1b, the primary video at slot 1, and every PCI Express device gets its own pcie-root-port (added as
needed, plus one spare for hotplug, packed 8 functions per slot from slot 2); conventional PCI
devices go behind a pcie-to-pci-bridge.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator

from .domain import Address, Controller, Domain
from .errors import XMLDriverError, XMLError, XMLInternalError, XMLUnsupportedError

_PCIE_NIC = {"virtio", "e1000e", "virtio-non-transitional"}
_SOUND_PCI = {"ich6", "ich9", "ac97", "es1370"}


def is_q35(dom: Domain) -> bool:
    """True for q35 / pc-q35-* machines."""
    machine = (dom.os.machine if dom.os else None) or ""
    return machine == "q35" or machine.startswith("pc-q35")


def _is_i440fx(dom: Domain) -> bool:
    """An x86 PC machine (i440fx, PIIX): conventional PCI only."""
    machine = (dom.os.machine if dom.os else None) or ""
    return machine == "pc" or machine.startswith(("pc-i440fx", "pc-0.", "pc-1."))


def chipset_functions(dom: Domain) -> tuple[tuple[int, int, int], ...]:
    """(bus, slot, function) of the chipset's own functions no device may take: the PIIX3's ISA
    bridge (00:01.0) and PIIX4 power management (00:01.3) on i440fx, the ICH9 LPC (00:1f.0) and
    SMBus (00:1f.3) on q35 (libvirt reserves them before any device; IDE, USB and SATA are
    devices of their own)."""
    if is_q35(dom):
        return ((0, 0x1F, 0), (0, 0x1F, 3))
    if _is_i440fx(dom):
        return ((0, 1, 0), (0, 1, 3))
    return ()


def _pci(bus: int, slot: int, function: int = 0, multi: bool | None = None) -> Address:
    return Address(type="pci", domain=0, bus=bus, slot=slot, function=function, multifunction=multi)


def _virtio_pcie(model: str | None) -> bool:
    return model != "virtio-transitional"


def _unknown_nic_model(model: str | None) -> bool:
    """A NIC model libvirt has no name for (pcnet, ne2k_pci, i82559er...): libvirt 9.0 passes it
    to QEMU as given and places it as a PCI Express device (a root port on q35), where the
    conventional models it knows (e1000, rtl8139, vmxnet3...) go behind a pcie-to-pci-bridge."""
    from .generic_defaults import NET_MODEL_NAMES, nic_model_name

    return model is not None and nic_model_name(model) not in NET_MODEL_NAMES


def _candidates(dom: Domain) -> Iterator[tuple[object, bool]]:
    """(device, is PCI Express) in libvirt's assignment order; only devices that want a PCI slot."""
    d = dom.devices
    for c in d.controllers:
        if c.type == "pci" and c.model in ("pci-bridge", "pcie-to-pci-bridge", "dmi-to-pci-bridge",
                                           "pcie-switch-upstream-port", "pci-expander-bus"):
            yield c, c.model not in ("pci-bridge", "pci-expander-bus")
    for fs in d.filesystems:
        yield fs, _virtio_pcie(fs.model)
    for nic in d.interfaces:
        yield nic, nic.model_type in _PCIE_NIC or _unknown_nic_model(nic.model_type)
    for s in d.sounds:
        if s.model in _SOUND_PCI:
            yield s, False
    for c in d.controllers:
        if c.type == "usb":
            if c.model in ("none", None):
                continue
            yield c, c.model in ("qemu-xhci", "nec-xhci")
        elif c.type == "scsi":
            if c.model == "ibmvscsi":
                continue  # a sPAPR VIO device: a register, no PCI slot (spapr_vio_addresses)
            yield c, c.model in ("virtio-scsi", "virtio-non-transitional")
        elif c.type == "virtio-serial":
            yield c, _virtio_pcie(c.model)
        elif c.type == "sata":
            yield c, False  # an AHCI beyond ICH9's own is a conventional PCI device (libvirt's pciFlags)
        elif c.type == "ide":
            yield c, False
    for disk in d.disks:
        if disk.target_bus == "virtio":
            yield disk, _virtio_pcie(disk.model)
    for h in d.hostdevs:
        if h.address is not None and h.address.type == "unassigned":
            continue  # held by the domain, not given to the guest
        if h.type == "scsi_host":
            yield h, _virtio_pcie(h.model)
        elif h.type == "pci" or h.type == "mdev" and h.model == "vfio-pci":
            yield h, True
    if d.memballoon is not None and d.memballoon.model != "none":
        yield d.memballoon, _virtio_pcie(d.memballoon.model)
    for r in d.rngs:
        yield r, _virtio_pcie(r.model)
    for w in d.watchdogs:
        if w.model == "i6300esb":
            yield w, False
    for v in d.videos[1:]:
        if v.model_type not in ("none", "ramfb"):
            yield v, v.model_type == "virtio"
    for shm in d.shmems:  # libvirt's "Shared Memory" step, between the videos and the inputs
        yield shm, False  # ivshmem is a conventional PCI device
    for inp in d.inputs:
        if inp.bus == "virtio":
            yield inp, True
    for ser in d.serials:  # libvirt's "Serial devices" step: only the PCI serial port wants a slot
        if ser.target_type == "pci-serial":
            yield ser, False
    if d.vsock is not None:
        yield d.vsock, _virtio_pcie(d.vsock.model)
    for mem in d.memories:
        if mem.model in ("virtio-mem", "virtio-pmem"):
            yield mem, True


def _integrated(dom: Domain) -> list[object]:
    """Devices that must sit on the root bus itself (libvirt's VIR_PCI_CONNECT_INTEGRATED),
    addressed after everything else: virtio-iommu."""
    i = dom.devices.iommu
    return [i] if i is not None and i.model == "virtio" and i.address is None else []


class _Slots:
    """Used (bus, slot, function) triples."""

    def __init__(self) -> None:
        self.used: set[tuple[int, int, int]] = set()

    def take(self, bus: int, slot: int, function: int = 0) -> None:
        self.used.add((bus, slot, function))

    def slot_free(self, bus: int, slot: int) -> bool:
        return not any((bus, slot, f) in self.used for f in range(8))

    def next_slot(self, bus: int, first: int = 1) -> int:
        for slot in range(first, 32):
            if self.slot_free(bus, slot):
                return slot
        raise ValueError("no free PCI slot")


def _mark_existing(dom: Domain, slots: _Slots) -> None:
    for dev in dom.all_devices():
        a = getattr(dev, "address", None)
        if a is not None and a.type == "pci" and a.slot is not None:
            slots.take(a.bus or 0, a.slot, a.function or 0)


def _normalise(dom: Domain) -> None:
    """Absent domain/bus/function of a user-given PCI address mean 0 (libvirt writes them out)."""
    for dev in dom.all_devices():
        a = getattr(dev, "address", None)
        if a is not None and a.type == "pci" and a.slot is not None:
            a.domain = a.domain or 0
            a.bus = a.bus or 0
            a.function = a.function or 0


def _set_all_multi(dom: Domain) -> None:
    """libvirt's virDomainPCIAddressSetAllMulti: function 0 of a slot whose other functions are
    in use gets ``multifunction='on'`` unless the XML said 'off'."""
    used = {(a.bus, a.slot, a.function) for d in dom.all_devices()
            if (a := getattr(d, "address", None)) is not None and a.type == "pci" and a.slot is not None}
    for dev in dom.all_devices():
        a = getattr(dev, "address", None)
        if (a is not None and a.type == "pci" and a.slot is not None and a.function == 0
                and a.multifunction is None
                and any((a.bus, a.slot, f) in used for f in range(1, 8))):
            a.multifunction = True


def spapr_vio_addresses(dom: Domain) -> None:
    """qemuDomainAssignSpaprVIOAddresses for the VIO SCSI HBA: the first free register from
    0x2000, in steps of 0x1000 (a given one is kept)."""
    used = {c.address.reg for c in dom.devices.controllers
            if c.address is not None and c.address.type == "spapr-vio" and c.address.reg is not None}
    for c in dom.devices.controllers:
        if c.type == "scsi" and c.model == "ibmvscsi" and (c.address is None or c.address.reg is None):
            reg = 0x2000
            while reg in used:
                reg += 0x1000
            used.add(reg)
            c.address = Address(type="spapr-vio", reg=reg)


def assign_pci_addresses(dom: Domain, *, grow: bool = True) -> None:
    """Give every device that needs a PCI address one (never moving user-given addresses).
    ``grow=False`` (a live hot-plug, qemuDomainEnsurePCIAddress): no pci-bridge is added, a device
    gets a free slot of the buses the running guest has or none."""
    spapr_vio_addresses(dom)
    emptied: set[int] = set()  # ids of devices whose XML gave an empty PCI address
    for dev in dom.all_devices():  # an empty PCI address is one to assign (multifunction goes too)
        a = getattr(dev, "address", None)
        if a is not None and a.is_empty_pci():
            dev.address = None
            emptied.add(id(dev))
    _normalise(dom)
    # qemuDomainAssignPCIAddresses' max_idx: the PCI controllers the XML itself has
    had_pci = any(c.type == "pci" and (c.index or 0) > 0 for c in dom.devices.controllers)
    grown = _add_missing_buses(dom)
    _check_bus_connections(dom)
    _check_bus_slots(dom)
    slots = _Slots()
    _mark_existing(dom, slots)
    if is_q35(dom):
        _assign_q35(dom, slots, had_pci, grown, emptied)
    else:
        if grow:
            _grow_pc_bridges(dom)
        _assign_pc(dom, slots)
    _set_all_multi(dom)
    _bridge_models(dom)


def _add_missing_buses(dom: Domain) -> bool:
    """PCI controllers for bus numbers nothing defines: every index up to the highest a PCI
    controller has or a device address names (qemuDomainAssignPCIAddresses adds one per missing
    bus after its dry run).  On i440fx each is a pci-bridge; on q35 a pcie-root-port, except
    the bus a conventional PCI device names, which is a pcie-to-pci-bridge (behind the root
    port before it), as virDomainPCIAddressSetGrow grows them.  Whether any was added."""
    ctrls = dom.devices.controllers
    have = {c.index or 0 for c in ctrls if c.type == "pci"}
    top = max(have, default=0)
    conventional_bus: set[int] = set()
    for dev, pcie in _candidates(dom):
        a = getattr(dev, "address", None)
        if a is not None and a.type == "pci" and a.bus:
            top = max(top, a.bus)
            if not pcie:
                conventional_bus.add(a.bus)
    q35 = is_q35(dom)
    grown = False
    for idx in range(1, top + 1):
        if idx in have:
            continue
        grown = True
        if not q35:
            model = "pci-bridge"
        else:
            model = "pcie-to-pci-bridge" if idx in conventional_bus else "pcie-root-port"
        ctrls.append(Controller(type="pci", index=idx, model=model))
    return grown


#: what each PCI controller's bus takes (virDomainPCIAddressBusSetModel's connect flags, as
#: libvirt 9.0 applies them to addresses the XML gives: any endpoint, PCI or PCI Express, goes
#: where either kind may); ``_ENDPOINT`` stands for an endpoint device
_ENDPOINT = "endpoint"
_CONVENTIONAL_BUS = frozenset({"pci-bridge", _ENDPOINT})
_PORT_BUS = frozenset({"pci-bridge", "pcie-to-pci-bridge", "pcie-switch-upstream-port", _ENDPOINT})
_BUS_TAKES: dict[str, frozenset[str]] = {
    "pci-root": frozenset({"pci-bridge", "pci-expander-bus", _ENDPOINT}),
    "pcie-root": frozenset({"pci-bridge", "dmi-to-pci-bridge", "pcie-root-port", "pcie-expander-bus", _ENDPOINT}),
    "pcie-root-port": _PORT_BUS, "pcie-switch-downstream-port": _PORT_BUS,
    "pcie-switch-upstream-port": frozenset({"pcie-switch-downstream-port"}),
    "pcie-expander-bus": frozenset({"dmi-to-pci-bridge", "pcie-root-port"}),
    "pci-bridge": _CONVENTIONAL_BUS, "dmi-to-pci-bridge": _CONVENTIONAL_BUS,
    "pcie-to-pci-bridge": _CONVENTIONAL_BUS, "pci-expander-bus": _CONVENTIONAL_BUS,
}


def _check_bus_connections(dom: Domain) -> None:
    """virDomainPCIAddressFlagsCompatible for the addresses the XML gives: a PCI controller
    only plugs into a bus that takes its kind (a root port into a root or a PCIe expander bus,
    a downstream port into an upstream port...), and an endpoint never sits on an upstream
    port's or a PCIe expander bus's own bus."""
    buses = {c.index or 0: c.model for c in dom.devices.controllers if c.type == "pci"}
    pcie = {id(dev): is_pcie for dev, is_pcie in _candidates(dom)}
    for dev in dom.all_devices():
        a = getattr(dev, "address", None)
        takes = _BUS_TAKES.get(buses.get(a.bus or 0, "")) if a is not None and a.type == "pci" else None
        if takes is None:
            continue
        kind = dev.model if isinstance(dev, Controller) and dev.type == "pci" else _ENDPOINT
        if kind is None or kind in takes:
            continue
        if kind == "pci-bridge" or (kind == _ENDPOINT and not pcie.get(id(dev), is_q35(dom))):
            what = "standard PCI device"
        else:
            what = "PCI Express device" if kind == _ENDPOINT else kind
        raise XMLError(f"The device at PCI address {a.domain or 0:04x}:{a.bus or 0:02x}:{a.slot or 0:02x}."
                       f"{a.function or 0} cannot be plugged into the PCI controller with index='{a.bus or 0}'. "
                       f"It requires a controller that accepts a {what}.", getattr(dev, "line", None))


#: controllers whose bus has a single slot (0): a root or downstream port
_SINGLE_SLOT_BUSES = ("pcie-root-port", "pcie-switch-downstream-port")


def _check_bus_slots(dom: Domain) -> None:
    """virDomainPCIAddressValidate: a port's bus has slot 0 only; a PCI bridge keeps its slot 0
    (the SHPC), so devices behind it start at slot 1."""
    models = {c.index or 0: c.model for c in dom.devices.controllers if c.type == "pci"}
    for dev in dom.all_devices():
        a = getattr(dev, "address", None)
        if a is not None and a.type == "pci" and a.domain:
            raise XMLError(f"Invalid PCI address {a.domain:04x}:{a.bus or 0:02x}:{a.slot or 0:02x}.{a.function or 0}. "
                           "Only PCI domain 0 is available", getattr(dev, "line", None))
        if (isinstance(dev, Controller) and dev.type == "pci" and a is not None and a.type == "pci"
                and a.slot is not None and (dev.index or 0) <= (a.bus or 0)):
            # qemuValidateDomainDeviceDefControllerPCI: a bus number grows away from the root
            raise XMLDriverError(f"PCI controller at index {dev.index or 0} (0x{dev.index or 0:02x}) has "
                                 f"bus='0x{a.bus or 0:02x}', but index must be larger than bus", dev.line)
        if a is None or a.type != "pci" or not a.bus or a.slot is None:
            continue
        model = models.get(a.bus)
        where = f"Invalid PCI address {a.domain or 0:04x}:{a.bus:02x}:{a.slot:02x}.{a.function or 0}. "
        if a.slot < _CONVENTIONAL_BUS_MIN_SLOT.get(model or "", 0):
            raise XMLError(where + f"slot must be >= {_CONVENTIONAL_BUS_MIN_SLOT[model or '']}",
                           getattr(dev, "line", None))
        if a.slot and model in _SINGLE_SLOT_BUSES:
            raise XMLError(where + "slot must be <= 0", getattr(dev, "line", None))


#: <model name=> libvirt fills in for PCI controllers (the QEMU device that implements them)
_BRIDGE_MODEL_NAMES = {"dmi-to-pci-bridge": "i82801b11-bridge", "pci-bridge": "pci-bridge",
                       "pcie-to-pci-bridge": "pcie-pci-bridge", "pci-expander-bus": "pxb",
                       "pcie-expander-bus": "pxb-pcie"}
EXPANDER_BUSES = ("pci-expander-bus", "pcie-expander-bus")


def _bridge_models(dom: Domain) -> None:
    for c in dom.devices.controllers:
        if c.type != "pci" or c.model not in _BRIDGE_MODEL_NAMES:
            continue
        c.model_name = c.model_name or _BRIDGE_MODEL_NAMES[c.model or ""]
        if c.model in EXPANDER_BUSES and c.target_bus_nr is None:
            c.target_bus_nr = _new_bus_nr(dom)
        if c.model == "pci-bridge" and c.target_chassis_nr is None:
            c.target_chassis_nr = c.index


def _new_bus_nr(dom: Domain) -> int:
    """qemuDomainAddressFindNewBusNr: two below the lowest busNr of the expander buses (254 for
    the first), leaving each the bus numbers of what sits behind it."""
    lowest = min((c.target_bus_nr for c in dom.devices.controllers
                  if c.type == "pci" and c.model in EXPANDER_BUSES and c.target_bus_nr is not None), default=256)
    if lowest <= 2:
        raise XMLError("No free busNr lower than current lowest busNr available to auto-assign to "
                       "bus 0, use the busNr attribute of the expander bus's <target>")
    return lowest - 2


def _fixed_pc(dom: Domain, slots: _Slots) -> None:
    slots.take(0, 0)
    for f in range(8):
        slots.take(0, 1, f)
    for c in dom.devices.controllers:
        if c.address is None and c.index == 0 and c.type == "usb" and c.model == "piix3-uhci":
            c.address = _pci(0, 1, 2)
        if c.address is None and c.index == 0 and c.type == "ide":
            c.address = _pci(0, 1, 1)
    _primary_video(dom, slots, 2)


def _primary_video(dom: Domain, slots: _Slots, slot: int) -> None:
    if dom.devices.videos:
        v = dom.devices.videos[0]
        if v.model_type not in ("none", "ramfb") and v.address is None:
            if slots.slot_free(0, slot):
                v.address = _pci(0, slot)
                slots.take(0, slot)
            else:
                s = slots.next_slot(0)
                v.address = _pci(0, s)
                slots.take(0, s)


_ICH9_FUNCTION = {"ich9-ehci1": 7, "ich9-uhci1": 0, "ich9-uhci2": 1, "ich9-uhci3": 2}


def _is_usb2(dev: object) -> bool:
    return (isinstance(dev, Controller) and dev.type == "usb"
            and dev.model in _ICH9_FUNCTION)


def _usb2_sibling_slot(dom: Domain, ctrl: Controller) -> tuple[int, int] | None:
    """(bus, slot) of an already addressed ICH9 controller of the same USB2 set (same index)."""
    for c in dom.devices.controllers:
        if (c is not ctrl and _is_usb2(c) and c.index == ctrl.index and c.address is not None
                and c.address.type == "pci" and c.address.slot is not None):
            return c.address.bus or 0, c.address.slot
    return None


def _assign_usb2(dom: Domain, slots: _Slots, ctrl: Controller, bus: int, first: int) -> None:
    """An ICH9 EHCI and its UHCI companions form one multifunction device: libvirt puts the
    whole set (one controller index) in one slot, EHCI at function 7 and UHCI1/2/3 at 0/1/2
    (multifunction on UHCI1), taking a fresh slot only for the first member it addresses."""
    where = _usb2_sibling_slot(dom, ctrl)
    if where is None:
        where = (bus, slots.next_slot(bus, first))
    fn = _ICH9_FUNCTION[ctrl.model or ""]
    ctrl.address = _pci(where[0], where[1], fn, True if fn == 0 else None)
    slots.take(where[0], where[1], fn)


#: PCI Express controllers an i440fx machine has no bus for, and the controller libvirt 9.0's
#: define then says it cannot add (an upstream port would need a root port)
_NO_PCIE_BUS = {"pcie-root-port": "pcie-root-port", "pcie-switch-upstream-port": "pcie-root-port",
                "pcie-switch-downstream-port": "pcie-switch-downstream-port",
                "dmi-to-pci-bridge": "dmi-to-pci-bridge"}


def _refuse_pcie_controllers(dom: Domain) -> None:
    """A PCI Express controller without an address on a machine without PCI Express is refused
    as libvirt 9.0 refuses it at define (its address assignment cannot plug it anywhere); pyvirt
    accepted it, for QEMU to refuse at start.  Placed ones are _check_bus_connections'."""
    if not _is_i440fx(dom):  # other machines (aarch64's virt...) may have a PCI Express root
        return
    ctrls = [c for c in dom.devices.controllers if c.type == "pci" and c.address is None]
    for c in ctrls:
        if c.model in _NO_PCIE_BUS:
            raise XMLInternalError(f"a PCI slot is needed to connect a PCI controller model='{_NO_PCIE_BUS[c.model]}', "
                                   "but none is available, and it cannot be automatically added", c.line)
    for c in ctrls:
        if c.model == "pcie-to-pci-bridge":
            raise XMLInternalError("Cannot automatically add a new PCI bus for a device with connect flags 2000",
                                   c.line)


def _assign_pc(dom: Domain, slots: _Slots) -> None:
    _refuse_pcie_controllers(dom)
    _fixed_pc(dom, slots)
    for dev, _pcie in _candidates(dom):
        if getattr(dev, "address", None) is None:
            if _is_usb2(dev):
                assert isinstance(dev, Controller)
                _assign_usb2(dom, slots, dev, 0, 1)
                continue
            bus, s = _next_pc_slot(dom, slots, dev)
            dev.address = _pci(bus, s)
            slots.take(bus, s)
    _assign_integrated(dom, slots)


def _grow_pc_bridges(dom: Domain) -> None:
    """When the buses an i440fx guest has run out of slots, libvirt adds pci-bridge controllers
    (qemuDomainAssignPCIAddresses' dry run, growing the set with virDomainPCIAddressSetGrow),
    as many as the devices need, before the real assignment places them (a bridge, a PCI
    controller, before the devices).  The dry run here is the assignment itself, tried on a copy;
    as libvirt's, it also keeps one slot free for a future bridge (hotplug room) unless the XML's
    own addresses already fill every bus."""
    if not _is_i440fx(dom):
        return
    grown = dom  # copied when a first bridge is tried: a guest with room pays one copy, not two
    added: list[int] = []
    for _ in range(32):
        trial = copy.deepcopy(grown)
        slots = _Slots()
        _mark_existing(trial, slots)
        room = _has_free_slot(trial, slots)
        try:
            _assign_pc(trial, slots)
            if room:
                _next_pc_slot(trial, slots, None)
        except _NoFreeSlot:
            if grown is dom:  # the definition itself changes only once a dry run finds room
                grown = copy.deepcopy(dom)
            added.append(_next_pci_index(grown))
            insert_controller(grown.devices.controllers, Controller(type="pci", index=added[-1], model="pci-bridge"))
            continue
        for index in added:  # the dry run found room: the bridges it took go into the definition
            insert_controller(dom.devices.controllers, Controller(type="pci", index=index, model="pci-bridge"))
        return
    # no number of bridges makes room (each needs a slot too): the assignment itself says so


def _has_free_slot(dom: Domain, slots: _Slots) -> bool:
    """Whether a bus has a slot the XML's own addresses leave free (the root bus from slot 2,
    behind the chipset and the primary video's place)."""
    if any(slots.slot_free(0, s) for s in range(2, 32)):
        return True
    return any(slots.slot_free(b.index or 0, s) for b in _conventional_buses(dom)
               for s in range(_CONVENTIONAL_BUS_MIN_SLOT[b.model or ""], 32))


class _NoFreeSlot(XMLUnsupportedError):
    """No bus of the guest has a free slot for a device (a pci-bridge would make room)."""


def _next_pc_slot(dom: Domain, slots: _Slots, dev: object) -> tuple[int, int]:
    """The first free slot of the root bus, else of the next bus (by index) that takes PCI
    devices (a pci-bridge from slot 1, a pci-expander-bus from slot 0), as libvirt's
    virDomainPCIAddressGetNextAddr walks the buses."""
    try:
        return 0, slots.next_slot(0)
    except ValueError:
        pass
    for bus in _conventional_buses(dom):
        if bus.address is None or bus.model not in ("pci-bridge", "pci-expander-bus"):
            continue
        idx = bus.index or 0
        for s in range(_CONVENTIONAL_BUS_MIN_SLOT[bus.model or ""], 32):
            if slots.slot_free(idx, s):
                return idx, s
    raise _NoFreeSlot("no free PCI slot (add a pci-bridge controller)", getattr(dev, "line", None))


def _assign_integrated(dom: Domain, slots: _Slots) -> None:
    for dev in _integrated(dom):
        s = slots.next_slot(0)
        dev.address = _pci(0, s)  # type: ignore[attr-defined]
        slots.take(0, s)


def _fixed_q35(dom: Domain, slots: _Slots, emptied: frozenset[int] | set[int] = frozenset()) -> None:
    slots.take(0, 0)
    for f in range(8):
        slots.take(0, 0x1F, f)
    ich9 = _ICH9_FUNCTION
    # qemuDomainValidateDevicePCISlotsQ35: the first two USB2 sets that have their UHCI1 sit
    # where ICH9 has them, the first at 00:1D.x and the second at 00:1A.x, whatever their
    # indexes (a lone EHCI is an ordinary conventional PCI device, placed behind a bridge); only
    # controllers the XML gave no address (an empty <address type='pci'/> is assigned as any device)
    for c in dom.devices.controllers:
        if c.address is None and c.type == "sata" and c.index == 0:
            c.address = _pci(0, 0x1F, 2)
    for uhci1 in [c for c in dom.devices.controllers if c.type == "usb" and c.model == "ich9-uhci1"]:
        if uhci1.address is not None or id(uhci1) in emptied:
            continue
        slot = next((s for s in (0x1D, 0x1A) if slots.slot_free(0, s)), None)
        if slot is None:
            break
        for c in dom.devices.controllers:
            if (c.type == "usb" and c.index == uhci1.index and c.model in ich9 and c.address is None
                    and id(c) not in emptied):
                c.address = _pci(0, slot, ich9[c.model], True if c.model == "ich9-uhci1" else None)
                slots.take(0, slot, ich9[c.model])
    # ... and the first ICH9 HDA without an address sits at 00:1B.0, where real ICH9 has it
    for snd in dom.devices.sounds:
        if snd.model == "ich9" and snd.address is None:
            if slots.slot_free(0, 0x1B):
                snd.address = _pci(0, 0x1B)
                slots.take(0, 0x1B)
            break
    _primary_video(dom, slots, 1)


def _root_ports(dom: Domain) -> list[Controller]:
    return [c for c in dom.devices.controllers if c.type == "pci" and c.model == "pcie-root-port"]


def _switch(dom: Domain, model: str) -> list[Controller]:
    return sorted((c for c in dom.devices.controllers if c.type == "pci" and c.model == model),
                  key=lambda c: c.index or 0)


def _address_downstream_ports(dom: Domain, slots: _Slots) -> None:
    """Downstream ports sit on an upstream port's bus (slots 0-31, one function each); libvirt
    fills their ``chassis`` with the index and ``port`` with the slot."""
    ups = [c.index or 0 for c in _switch(dom, "pcie-switch-upstream-port")]
    for c in _switch(dom, "pcie-switch-downstream-port"):
        c.model_name = c.model_name or "xio3130-downstream"
        if c.address is None:
            for bus in ups:
                free = [s for s in range(32) if slots.slot_free(bus, s)]
                if free:
                    c.address = _pci(bus, free[0])
                    slots.take(bus, free[0])
                    break
        if c.target_chassis is None:
            c.target_chassis = c.index
        if c.target_port is None and c.address is not None and c.address.slot is not None:
            c.target_port = c.address.slot
    for c in _switch(dom, "pcie-switch-upstream-port"):
        c.model_name = c.model_name or "x3130-upstream"


def _next_pci_index(dom: Domain) -> int:
    return max((c.index or 0 for c in dom.devices.controllers if c.type == "pci"), default=0) + 1


#: Controllers whose bus takes conventional PCI devices, with the first slot they offer
#: (the DMI bridge's bus starts at slot 0; the others keep slot 0 for their SHPC).
_CONVENTIONAL_BUS_MIN_SLOT = {"dmi-to-pci-bridge": 0, "pcie-to-pci-bridge": 1, "pci-bridge": 1, "pci-expander-bus": 0}


def _conventional_buses(dom: Domain) -> list[Controller]:
    return sorted((c for c in dom.devices.controllers
                   if c.type == "pci" and c.model in _CONVENTIONAL_BUS_MIN_SLOT and (c.index or 0) > 0),
                  key=lambda c: c.index or 0)


def _device_buses(dom: Domain, dev: object) -> list[Controller]:
    """The conventional buses *dev* may sit on: a DMI-to-PCI bridge's slots are not hotpluggable
    (virDomainPCIAddressBusSetModel), so libvirt puts only PCI bridges there and endpoint
    devices on a pci-bridge's (or pcie-to-pci-bridge's) bus when one exists."""
    buses = _conventional_buses(dom)
    if isinstance(dev, Controller) and dev.type == "pci" and dev.model == "pci-bridge":
        return buses
    hotpluggable = [b for b in buses if b.model != "dmi-to-pci-bridge"]
    return hotpluggable or buses


def _place_conventional(dom: Domain, slots: _Slots, dev: object) -> None:
    """First free slot on the first bus (by index) that takes conventional PCI devices."""
    for bus in _device_buses(dom, dev):
        if bus.address is None and bus.model != "dmi-to-pci-bridge":
            continue  # not placed yet: its bus does not exist for devices already being placed
        idx = bus.index or 0
        first = _CONVENTIONAL_BUS_MIN_SLOT[bus.model or ""]
        for s in range(first, 32):
            if slots.slot_free(idx, s):
                dev.address = _pci(idx, s)  # type: ignore[attr-defined]
                slots.take(idx, s)
                return
    raise XMLUnsupportedError("no free slot for a conventional PCI device on q35 (add a pcie-to-pci-bridge)",
                              getattr(dev, "line", None))


def _assign_q35(dom: Domain, slots: _Slots, had_pci: bool, grown: bool = False,
                emptied: frozenset[int] | set[int] = frozenset()) -> None:
    for c in dom.devices.controllers:
        if c.type == "pci" and c.model == "dmi-to-pci-bridge" and c.address is None:
            # libvirt's preferred home of the DMI-to-PCI bridge is 00:1e.0, for one the XML gave
            # no address (qemuDomainValidateDevicePCISlotsQ35: an empty <address type='pci'/>
            # is assigned the first free slot like any device)
            s = 0x1E if slots.slot_free(0, 0x1E) and id(c) not in emptied else slots.next_slot(0)
            c.address = _pci(0, s)
            slots.take(0, s)
    _fixed_q35(dom, slots, emptied)
    for c in dom.devices.controllers:  # libvirt addresses PCI controllers by index before devices
        if c.type == "pci" and c.model == "pcie-expander-bus" and c.address is None:
            s = slots.next_slot(0)
            c.address = _pci(0, s)
            slots.take(0, s)
    todo = [(d, pcie) for d, pcie in _candidates(dom) if getattr(d, "address", None) is None
            and not (isinstance(d, Controller) and d.type == "sata" and d.index == 0)]
    conventional = [d for d, pcie in todo if not pcie]
    express = [d for d, pcie in todo if pcie]
    ctrls = dom.devices.controllers
    if conventional and not _conventional_buses(dom):
        bridge = Controller(type="pci", index=-1, model="pcie-to-pci-bridge", model_name="pcie-pci-bridge")
        express.insert(0, bridge)
    busy = {(d.address.bus or 0) for d in dom.all_devices()
            if getattr(d, "address", None) is not None and d.address.type == "pci" and (d.address.bus or 0)}
    ports = _root_ports(dom) + _switch(dom, "pcie-switch-downstream-port")
    free_ports = sorted((c for c in ports if c.index not in busy), key=lambda c: c.index or 0)
    for k, dev in enumerate(express):  # virDomainPCIAddressSetGrow grows root ports for PCIe devices only
        if (isinstance(dev, Controller) and dev.model == "pcie-to-pci-bridge" and not _is_new_bridge(dev)
                and k >= len(free_ports)):
            raise XMLInternalError("Cannot automatically add a new PCI bus for a device with connect flags 2000",
                                   dev.line)
    new_bridge = bool(express) and _is_new_bridge(express[0])
    missing, bridge_after = _grown_ports(todo, len(free_ports), new_bridge)
    # qemuDomainAssignPCIAddresses keeps one more port free for hotplug only when the XML had no
    # PCI controller but the root and its dry run grew buses (for devices, or for the buses the
    # XML's addresses name), and none is left empty after the devices took theirs
    spare = 0 if had_pci or not (missing > 0 or (grown and len(free_ports) <= len(express))) else 1
    if missing + spare > 0:
        for made in range(missing + spare):
            idx = _next_pci_index(dom)
            port = Controller(type="pci", index=idx, model="pcie-root-port")
            ctrls.append(port)  # libvirt appends controllers added while addressing
            free_ports.append(port)
            if made + 1 == bridge_after:
                _add_bridge(ctrls, express[0], dom)
    for c in _root_ports(dom):
        c.model_name = c.model_name or "pcie-root-port"
    _address_root_ports(dom, slots)
    for dev, port in zip(express, free_ports, strict=False):
        if isinstance(dev, Controller) and dev.index == -1:
            dev.index = _next_pci_index(dom)
            ctrls.append(dev)
        dev.address = _pci(port.index or 0, 0)
        slots.take(port.index or 0, 0)
        if isinstance(dev, Controller) and dev.model == "pcie-switch-upstream-port":
            _address_downstream_ports(dom, slots)
    _address_downstream_ports(dom, slots)
    for c in _switch(dom, "pcie-switch-downstream-port"):
        if c.address is None:  # no upstream port with a free slot: libvirt adds none for it
            raise XMLInternalError("a PCI slot is needed to connect a PCI controller model="
                                   "'pcie-switch-downstream-port', but none is available, and it cannot be "
                                   "automatically added", c.line)
    for dev in conventional:
        if _is_usb2(dev):
            assert isinstance(dev, Controller)
            buses = [b for b in _device_buses(dom, dev) if b.address is not None]
            _assign_usb2(dom, slots, dev, buses[0].index or 0 if buses else 0, 1)
            continue
        _place_conventional(dom, slots, dev)
    _assign_integrated(dom, slots)


def _is_new_bridge(dev: object) -> bool:
    return isinstance(dev, Controller) and dev.index == -1


def _grown_ports(todo: list[tuple[object, bool]], free: int, new_bridge: bool) -> tuple[int, int | None]:
    """(root ports libvirt adds, how many of them precede the pcie-to-pci-bridge it adds).
    Its dry run (virDomainPCIAddressSetGrow) walks the devices in assignment order: a PCIe
    device takes a free root port or grows a new one; the first conventional device, when no
    bus takes it, always grows a new root port and the bridge behind it.  So the bridge's index
    follows the ports grown before it, while the real pass plugs the bridge (a controller,
    addressed first) into the first free port."""
    made, bridge_after = 0, None
    for _dev, pcie in todo:
        if pcie:
            if free:
                free -= 1
            else:
                made += 1
        elif new_bridge and bridge_after is None:
            made += 1
            bridge_after = made
    return made, bridge_after


def _add_bridge(ctrls: list[Controller], bridge: Controller, dom: Domain) -> None:
    if bridge.index == -1:
        bridge.index = _next_pci_index(dom)
        ctrls.append(bridge)


def _companion(c: Controller) -> bool:
    """A USB2 companion as the parser sees it when it inserts the controller: one with a
    ``<master>``, or an ICH9 UHCI, whose master libvirt has already given it (checked against
    libvirt 9.0: UHCI2, UHCI1, EHCI1, UHCI3 of one index read back EHCI1 first)."""
    return c.master_startport is not None or (c.type == "usb" and c.model in ("ich9-uhci1", "ich9-uhci2",
                                                                                "ich9-uhci3"))


def insert_controller(ctrls: list[Controller], new: Controller) -> None:
    """libvirt's virDomainControllerInsertPreAlloced: among controllers of its type, before the
    first with a higher index (a USB2 master before the companions of its index), else after
    the last; a controller without index yet goes after the last of its type."""
    insert_at = -1
    for i in range(len(ctrls) - 1, -1, -1):
        cur = ctrls[i]
        if cur.type != new.type:
            continue
        if new.index is None:
            insert_at = i + 1
            break
        if (cur.index or 0) > new.index:
            insert_at = i
        elif not _companion(new) and _companion(cur) and cur.index == new.index:
            insert_at = i  # put master controllers before companion controllers
        elif insert_at == -1:
            insert_at = i + 1
    ctrls.insert(len(ctrls) if insert_at == -1 else insert_at, new)


def _aggregate_slot_ok(dom: Domain, slot: int) -> bool:
    """May more root ports join root-bus *slot*?  libvirt aggregates pcie-root-ports as functions
    of one slot: a slot qualifies when everything in it is a root port (or it is empty) and its
    function 0 was not declared ``multifunction='off'``."""
    for dev in dom.all_devices():
        a = getattr(dev, "address", None)
        if a is None or a.type != "pci" or (a.bus or 0) != 0 or a.slot != slot:
            continue
        if not (isinstance(dev, Controller) and dev.type == "pci" and dev.model == "pcie-root-port"):
            return False
        if (a.function or 0) == 0 and a.multifunction is False:
            return False
    return True


def _next_root_port_address(dom: Domain, slots: _Slots) -> tuple[int, int]:
    """First free (slot, function) on pcie.0 in a slot that takes root ports (libvirt's
    VIR_PCI_CONNECT_AGGREGATE_SLOT search, from slot 1 up)."""
    for slot in range(1, 32):
        if not _aggregate_slot_ok(dom, slot):
            continue
        for function in range(8):
            if (0, slot, function) not in slots.used:
                return slot, function
    raise XMLUnsupportedError("no free PCI slot on pcie.0 for another pcie-root-port")


def _address_root_ports(dom: Domain, slots: _Slots) -> None:
    """Root ports without an address fill free functions of root-port-only slots from slot 1;
    ``port`` is (slot << 3) + function as libvirt derives it."""
    for c in _root_ports(dom):
        if c.target_chassis is None:
            c.target_chassis = c.index
        if c.address is None:
            slot, function = _next_root_port_address(dom, slots)
            c.address = _pci(0, slot, function)
            slots.take(0, slot, function)
        if c.target_port is None and c.address.slot is not None:  # on pcie.0 or a pxb-pcie
            c.target_port = (c.address.slot << 3) + (c.address.function or 0)
