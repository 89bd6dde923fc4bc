"""What libvirt's QEMU driver fills in at define time, for x86_64 guests.

Learnt from libvirt 9.0's qemuxml2xml outputs: implicit controllers, default CPU, lifecycle
actions, serial/console mirroring, input/audio/video/graphics defaults, drive addresses and
PCI addresses in libvirt's assignment order (see :mod:`pyvirt.xml.pciaddr`).  Works on a
copy so callers keep the user's document.
"""

from __future__ import annotations

import copy
import dataclasses
import random
import re
import uuid as uuidlib

from .domain import (
    CPU,
    DEFAULT_VIDEO_MODEL,
    OS,
    Address,
    Audio,
    CharDev,
    Clock,
    Controller,
    Domain,
    Input,
    Listen,
    MemBalloon,
    is_user_alias,
)
from .errors import XMLConfigError, XMLError, XMLValidationError
from .fields import model
from .format_rules import apply_format_rules
from .generic_defaults import (
    assigned_scsi_address_free,
    bitmap_rules,
    blkio_defaults,
    chardev_mode_rule,
    chardev_protocol_rule,
    chardev_reconnect_rule,
    console_ports,
    disk_name_rules,
    disk_parse_rules,
    drive_address,
    feature_defaults,
    filesystem_rules,
    fill_iothread_ids,
    format_cpuset,
    generated_tap_name_rule,
    genid_default,
    graphics_format_rules,
    hostdev_defaults,
    hugepage_sizes_in_kib,
    implicit_virtio_serial,
    loader_and_topology_defaults,
    memory_from_numa,
    nic_model_name,
    order_disks,
    placement_rules,
    scsi_hostdev_addresses,
    shmem_defaults,
    smartcard_defaults,
    vsock_defaults,
)
from .pciaddr import assign_pci_addresses, is_q35
from .usbaddr import assign_usb_ports, check_usb_addresses, needs_usb_ports, usb_devices
from .validate import check_addresses, check_pci_target_options, parse_cpuset

DEFAULT_EMULATOR = "/usr/bin/qemu-system-x86_64"
#: the capabilities' emulator of an i686 guest (QEMU's 32-bit build, as libvirt reports it)
I386_EMULATOR = "/usr/bin/qemu-system-i386"


@model
class HostDefaults:
    """Host facts that refine defaults (from capabilities); without them pyvirt keeps aliases.

    machine_aliases maps an alias to the versioned machine, e.g. {'pc': 'pc-i440fx-7.2'}.
    """

    machine_aliases: dict[str, str] | None = None
    #: the emulator of guests without ``<emulator>``; None: the capabilities' one for the arch
    emulator: str | None = None
    arch: str = "x86_64"


#: The default machine (virQEMUCapsGetPreferredMachine: the first, versioned name) of the QEMU
#: assumed without a probed one -- QEMU 7.2, as libvirt 9.0's test capabilities and
#: :data:`pyvirt.qemu.argv_common.DEFAULT_QEMU_VERSION`: a domain that names no machine is defined
#: with it, as libvirt does (an alias given stays an alias without host facts).
ASSUMED_DEFAULT_MACHINE = "pc-i440fx-7.2"


def random_mac(rng: random.Random | None = None) -> str:
    """A MAC in QEMU/libvirt's locally administered 52:54:00 range."""
    r = rng or random.SystemRandom()
    return "52:54:00:" + ":".join(f"{r.randrange(256):02x}" for _ in range(3))


def fill_defaults(domain: Domain, caps: HostDefaults | None = None, *, live: bool = False) -> Domain:
    """Return a copy of ``domain`` completed as libvirt completes it on define.  ``live``: the
    document is a running guest's (a live hot-plug re-reads it), so the rules of libvirt's
    inactive parse - blanking the host interface names it generated - do not apply."""
    dom = copy.deepcopy(domain)
    host = caps or HostDefaults()
    _top_level(dom, host)
    loader_and_topology_defaults(dom)
    _disks(dom)
    feature_defaults(dom)
    scsi_hostdev_addresses(dom)
    _chardevs(dom)
    _controllers(dom)
    _simple_devices(dom)
    if not live:
        generated_tap_name_rule(dom)
        for dev in dom.all_devices():  # an inactive parse keeps user aliases only
            if getattr(dev, "alias", None) is not None and not is_user_alias(dev.alias):
                dev.alias = None
        for g in dom.devices.graphics:  # virDomainGraphicsDefParseXMLVNC: an inactive parse keeps
            if g.type == "vnc" and g.autoport:  # no port beside autoport='yes'
                g.port = -1
            elif g.type == "spice" and g.autoport:
                g.port = g.tls_port = None
    hostdev_defaults(dom)
    shmem_defaults(dom)
    vsock_defaults(dom)
    if dom.devices.vsock is not None and dom.devices.vsock.model is None:
        dom.devices.vsock.model = "virtio"  # qemuDomainVsockDefPostParse
    _memory_devices(dom)
    _check_usb(dom)
    _virtio_serial_addresses(dom)  # before PCI: a full controller adds another (qemuDomainAssignAddresses)
    assign_pci_addresses(dom, grow=not live)
    check_pci_target_options(dom)
    check_addresses(dom)
    return dom


def _says_nothing(obj: object) -> bool:
    """Whether a parsed element holds nothing but its defaults (libvirt formats no empty one)."""
    return all(getattr(obj, f.name) == (f.default if f.default is not dataclasses.MISSING else f.default_factory())
               for f in dataclasses.fields(obj) if f.name != "line")  # type: ignore[arg-type]


def _top_level(dom: Domain, host: HostDefaults) -> None:
    if dom.features is not None and _says_nothing(dom.features):
        dom.features = None  # an empty <features/> is not written back (virDomainDefFormatFeatures)
    if dom.uuid is None:
        dom.uuid = str(uuidlib.uuid4())
    genid_default(dom)
    memory_from_numa(dom)
    if dom.memory is None and dom.max_memory is not None:
        dom.memory = dom.max_memory
    if not dom.current_memory or (dom.memory is not None and dom.current_memory > dom.memory):  # 0 too
        dom.current_memory = dom.memory
    if dom.vcpu is None:
        dom.vcpu = 1
    fill_iothread_ids(dom)
    blkio_defaults(dom)
    placement_rules(dom)
    bitmap_rules(dom)
    if dom.vcpu_placement is None:
        dom.vcpu_placement = "static"
    if dom.os is None:
        dom.os = OS(type="hvm")
    if dom.os.type is None:  # <os> without <type>: as without <os> (else the stored XML would not reload)
        dom.os.type = "hvm"
    if dom.os.arch is None:
        dom.os.arch = host.arch
    if dom.os.machine is None:  # the emulator's default machine, by its versioned name
        dom.os.machine = "pc" if host.machine_aliases else ASSUMED_DEFAULT_MACHINE
    if host.machine_aliases and dom.os.machine in host.machine_aliases:
        dom.os.machine = host.machine_aliases[dom.os.machine]
    if not dom.os.boot_devs and not _has_boot_order(dom):  # virDomainDefBootOrderPostParse: a kernel too
        dom.os.boot_devs = ["hd"]
    if dom.cpu is None:
        dom.cpu = CPU(mode="custom", match="exact", check="none", model="qemu64", model_fallback="forbid")
    else:
        _cpu(dom.cpu, dom.type)
        _numa_cpus_rectify(dom)
    hugepage_sizes_in_kib(dom)
    apply_format_rules(dom)
    if dom.clock is None:
        dom.clock = Clock(offset="utc")
    dom.on_poweroff = dom.on_poweroff or "destroy"
    dom.on_reboot = dom.on_reboot or "restart"
    dom.on_crash = dom.on_crash or "destroy"
    if dom.devices.emulator is None:  # virDomainDefPostParse: the capabilities' guest emulator
        dom.devices.emulator = host.emulator or (I386_EMULATOR if dom.os.arch == "i686" else DEFAULT_EMULATOR)


def _numa_cpus_rectify(dom: Domain) -> None:
    """qemuDomainDefNumaCPUsRectify: when the guest NUMA cells leave vCPUs out (a memory-only
    cell, as HMAT layouts have), the first cell takes every vCPU no other cell names."""
    cells = dom.cpu.numa_cells if dom.cpu is not None else []
    if not cells or not dom.vcpu:
        return
    sets = [parse_cpuset(c.cpus, c.line, empty_ok=True) if c.cpus else frozenset() for c in cells]
    if sum(len(s) for s in sets) >= dom.vcpu:
        return
    others = frozenset().union(*sets[1:])
    cells[0].cpus = format_cpuset({i for i in range(dom.vcpu) if i not in others})


def _cpu(cpu: CPU, virt_type: str | None) -> None:
    """qemuDomainDefCPUPostParse: the default check per mode (a custom model is compared with
    the host CPU only under KVM: under TCG it is not), and virCPUDefFormat's rule that a
    ``<model>`` without a name (a host-model's fallback) is not written."""
    if cpu.mode is None:
        cpu.mode = "custom"
    if not cpu.model:  # an empty <model/> is no model (virXPathString gives NULL for "")
        cpu.model = cpu.model_fallback = None
    if cpu.mode == "custom" and cpu.model is not None:
        cpu.match = cpu.match or "exact"
        cpu.model_fallback = cpu.model_fallback or "allow"
        cpu.check = cpu.check or ("none" if virt_type == "qemu" else "partial")
    elif cpu.mode == "custom" and cpu.match is None and cpu.check is None:
        # a <cpu> holding only topology/NUMA gets the default model, as when <cpu> is absent
        cpu.match, cpu.check, cpu.model, cpu.model_fallback = "exact", "none", "qemu64", "forbid"
    elif cpu.mode == "host-passthrough" or cpu.mode == "maximum":
        cpu.check = cpu.check or "none"
        cpu.model_vendor_id = None  # libvirt reads no <model> for these modes
        if cpu.mode == "host-passthrough" and cpu.migratable is None:
            cpu.migratable = True
    elif cpu.mode == "host-model":
        cpu.check = cpu.check or "partial"


def _has_boot_order(dom: Domain) -> bool:
    return any(getattr(d, "boot_order", None) is not None for d in dom.all_devices())


# ------------------------------------------------------------------ disks

_BUS_BY_PREFIX = (("hd", "ide"), ("sd", "scsi"), ("vd", "virtio"), ("xvd", "xen"), ("ubd", "uml"))


def disk_bus(dev: str, device: str | None = None) -> str:
    """The bus libvirt's parser gives a disk without one (virDomainDiskDefParseXML): ``fdc``
    for a floppy, else the target name's (``vda``→virtio, ``hdc``→ide, ``ubda``→uml), else
    ``ide`` (a CD-ROM ``fda`` too)."""
    if device == "floppy":
        return "fdc"
    for prefix, bus in _BUS_BY_PREFIX:
        if dev.startswith(prefix):
            return bus
    return "ide"


def disk_index(dev: str) -> int:
    """``vda``→0, ``sdb``→1, ``sdaa``→26 (libvirt's virDiskNameToIndex)."""
    i = 0
    while i < len(dev) and not dev[i:].isalpha():
        i += 1
    for prefix in ("xvd", "vd", "hd", "sd", "fd", "ubd"):
        if dev.startswith(prefix):
            letters = dev[len(prefix):]
            break
    else:
        raise XMLValidationError(f"unknown disk target name {dev!r}")
    if not letters or not letters.isalpha() or not letters.islower():
        raise XMLValidationError(f"unknown disk target name {dev!r}")
    idx = 0
    for ch in letters:
        idx = idx * 26 + (ord(ch) - ord("a") + 1)
    return idx - 1


def _disks(dom: Domain) -> None:
    q35 = is_q35(dom)
    for disk in dom.devices.disks:
        if disk.type is None:
            disk.type = "file"
        if disk.device is None:
            disk.device = "disk"
        if disk.type == "network" and disk.source_protocol is None and disk.device in ("cdrom", "floppy"):
            disk.type = "file"  # an empty removable drive, whatever type it was given, is libvirt's empty 'file'
        disk_name_rules(disk)
        dev = disk.target_dev or ""
        if disk.target_bus is None:
            disk.target_bus = disk_bus(dev, disk.device)
        if disk.target_bus == "ide" and q35:
            raise XMLConfigError("IDE controllers are unsupported for this QEMU binary or machine type", disk.line)
        if disk.driver_type is None and disk.type != "volume":
            disk.driver_type = "raw"  # qemuDomainDeviceDiskDefPostParse: empty CD-ROMs included
        if disk.driver_name is None:
            disk.driver_name = "qemu"
        if disk.address is None and disk.target_bus in ("ide", "sata", "scsi", "fdc"):
            disk.address = drive_address(disk.target_bus, disk_index(dev))
            assigned_scsi_address_free(dom, disk)
        layer, enc = disk.backing_store, disk.disk_encryption
        while True:  # qemuDomainDeviceDiskDefPostParse: every layer's encryption engine
            if enc is not None and enc.engine in (None, "default"):
                enc.engine = "qemu"
            if layer is None:
                break
            layer, enc = layer.backing_store, layer.source_encryption
        disk_parse_rules(disk)  # snapshot, iSCSI LUN, network hosts' default ports (the whole chain)
    dom.devices.disks = order_disks(dom.devices.disks)


# ------------------------------------------------------------------ char devices


def _chardevs(dom: Domain) -> None:
    devs = dom.devices
    for rd in devs.redirdevs:
        if rd.type == "dbus" and rd.source_channel is None:
            rd.source_channel = "org.qemu.usbredir"  # the name QEMU's D-Bus display offers USB redirection on
    for ser in devs.serials:  # qemuDomainChrDefPostParse: the target type, and the model it implies
        if ser.target_type is None:
            ser.target_type = "isa-serial"
        if ser.target_model_name is None:
            ser.target_model_name = _SERIAL_TARGET_MODELS.get(ser.target_type)
    _serial_ports(devs.serials)
    for par in devs.parallels:
        if par.target_port is None:
            par.target_port = 1 + max((p.target_port for p in devs.parallels if p.target_port is not None),
                                      default=-1)
    console_ports(devs.consoles)
    if devs.consoles and devs.consoles[0].target_type not in (None, "serial") and devs.serials \
            and devs.serials[0].target_type == "isa-serial":
        # virDomainDefAddConsoleCompat: the serial port's console goes first, before a virtio one
        devs.consoles.insert(0, CharDev(kind="console", target_type="serial"))
    for con in devs.consoles[1:]:
        if con.target_type in (None, "serial"):  # a console's default target is a serial port
            raise XMLValidationError("Only the first console can be a serial port", con.line)
    if devs.consoles:
        first = devs.consoles[0]
        if first.target_type in (None, "serial"):
            if not devs.serials:
                ser = CharDev(kind="serial", type=first.type, source_path=first.source_path,
                              source_mode=first.source_mode, source_host=first.source_host,
                              source_service=first.source_service, source_bind_host=first.source_bind_host,
                              source_bind_service=first.source_bind_service, protocol_type=first.protocol_type,
                              log_file=first.log_file, log_append=first.log_append,
                              target_type="isa-serial", target_port=0, target_model_name="isa-serial")
                devs.serials.append(ser)
            _mirror(first, devs.serials[0])
    elif devs.serials and devs.serials[0].target_type == "isa-serial":
        # virDomainDefAddConsoleCompat: a stub console only for an ISA serial port (not a
        # debugcon, PCI, USB or other serial device)
        con = CharDev(kind="console")
        _mirror(con, devs.serials[0])
        devs.consoles.append(con)
    chardev_protocol_rule(dom)
    for ch in devs.channels:
        # a spicevmc channel without a name keeps none at define (libvirt 9.0): the SPICE
        # agent's port name is the command line's (qemuBuildVirtioSerialPortDevProps)
        drop_generated_channel_path(ch)
    chardev_mode_rule(dom)
    chardev_reconnect_rule(dom)


#: libvirt's system channel target directory (qemu.conf's channel_target_dir)
CHANNEL_TARGET_DIR = "/var/lib/libvirt/qemu/channel/target"


#: a serial target type's implied ``<model name=>`` (qemuDomainChrDefPostParse; x86 types only)
_SERIAL_TARGET_MODELS = {"isa-serial": "isa-serial", "isa-debug": "isa-debugcon", "usb-serial": "usb-serial",
                         "pci-serial": "pci-serial"}


def _serial_ports(serials: list[CharDev]) -> None:
    """Serial ports without ``target port=``, as libvirt 9.0 numbers them: ISA serial ports first,
    each the lowest port no other ISA serial port holds (ISA ports are I/O port slots of their
    own; a PCI or USB serial port may share a number with one), then the others in document
    order, each one past the highest port of any serial port."""
    isa = [s for s in serials if s.target_type == "isa-serial"]
    for ser in isa:
        if ser.target_port is None:
            used = {s.target_port for s in isa if s.target_port is not None}
            ser.target_port = next(p for p in range(len(isa) + 1) if p not in used)
    for ser in serials:
        if ser.target_port is None:
            ser.target_port = 1 + max((s.target_port for s in serials if s.target_port is not None), default=-1)


def drop_generated_channel_path(ch: CharDev) -> None:
    """qemuDomainChrDefDropDefaultPath: a virtio channel's socket path libvirt generated is
    forgotten (it makes a new one at start); a bind source without a path says nothing."""
    if ch.type == "unix" and ch.target_type == "virtio" and ch.source_path and ch.target_name and \
            _generated_channel_path(ch.target_name).search(ch.source_path):
        ch.source_path = None
        ch.source_mode = "bind"
    if ch.type == "unix" and ch.source_path is None and ch.source_mode == "bind":
        ch.source_mode = None  # libvirt generates the path at start


def _generated_channel_path(name: str) -> re.Pattern[str]:
    """qemuDomainChrDefDropDefaultPath's pattern of a socket path libvirt generated for a virtio
    channel, kept with its precedence as written: ``^DIR/<anything>.``, or a
    ``domain-*/NAME`` tail under any directory (so a path copied from an old guest is dropped)."""
    return re.compile(f"^{re.escape(CHANNEL_TARGET_DIR)}/([^/]+\\.)|(domain-[^/]+/){re.escape(name)}$")


def _mirror(con: CharDev, ser: CharDev) -> None:
    """libvirt keeps console[0] of target type serial as a copy of serial[0]: the formatter
    writes serial[0] itself as the console (virDomainDefFormatInternal), its address too: the
    whole source (every ``source_*``, ``<protocol>`` and ``<log>`` field, ``append`` and
    ``reconnect`` included), so a field the model gains is mirrored without being listed here."""
    for f in dataclasses.fields(ser):
        if f.name in ("type", "tty") or f.name.startswith(("source_", "protocol_", "log_")):
            setattr(con, f.name, copy.deepcopy(getattr(ser, f.name)))
    con.target_type = "serial"
    con.target_port = ser.target_port
    con.address = copy.deepcopy(ser.address)


# ------------------------------------------------------------------ controllers


#: UHCI companions of an ICH9 EHCI controller and the first port each one serves.
USB_COMPANIONS = {"ich9-uhci1": 0, "ich9-uhci2": 2, "ich9-uhci3": 4}


def _ctrl(dom: Domain, type_: str) -> list[Controller]:
    return [c for c in dom.devices.controllers if c.type == type_]


def _ensure(dom: Domain, type_: str, index: int, model: str | None = None) -> Controller:
    for c in dom.devices.controllers:
        if c.type == type_ and c.index == index:
            return c
    c = Controller(type=type_, index=index, model=model)
    dom.devices.controllers.append(c)  # virDomainDefAddController appends (only parsed ones are sorted)
    return c


def _joins_usb2_set(dom: Domain, new: Controller, prev: Controller) -> bool:
    """Whether an unindexed ICH9 USB2 controller takes the index of the USB controller before it:
    when that one is part of an ICH9 set (EHCI1 and its UHCI companions) that has no controller of
    this model yet (libvirt 9.0: ``ehci1, uhci1, uhci2, uhci3, ehci1, uhci1, uhci1`` are indexes
    0, 0, 0, 0, 1, 1, 2); any other starts a new index."""
    ich9 = {"ich9-ehci1", *USB_COMPANIONS}
    if new.model not in ich9 or prev.model not in ich9:
        return False
    return not any(o.type == "usb" and o.index == prev.index and o.model == new.model
                   for o in dom.devices.controllers)


def _controllers(dom: Domain) -> None:
    devs = dom.devices
    q35 = is_q35(dom)
    prev_usb: Controller | None = None
    for c in devs.controllers:
        if c.type == "usb" and c.index is None and prev_usb is not None and _joins_usb2_set(dom, c, prev_usb):
            c.index = prev_usb.index  # a USB2 set written without indexes shares one bus
        if c.type == "usb" and c.master_startport is None and c.model in USB_COMPANIONS:
            c.master_startport = USB_COMPANIONS[c.model]  # the ports ICH9 wires it to
        if c.type == "usb":
            prev_usb = c
        if c.index is None:  # virDomainAssignControllerIndexes: the lowest one no controller of the type has
            used = {o.index for o in devs.controllers if o.type == c.type and o.index is not None}
            c.index = next(i for i in range(len(used) + 1) if i not in used)
        root = "pcie-root" if q35 else "pci-root"
        if c.type == "pci" and c.index == 0 and c.model not in (None, root):
            # index 0 is the machine's own root bus (qemuValidateDomainDeviceDefControllerPCI); a
            # controller written without an index gets 0 here first, as virDomainDefPostParse gives it
            raise XMLValidationError(f"The PCI controller with index='0' must be model='{root}' for this "
                                     f"machine type, but model='{c.model}' was found instead", c.line)
    # virDomainDefParseXML adds the SCSI controllers host devices need as it reads each one, so
    # they follow the parsed controllers and come before every controller the post-parse adds
    _hostdev_scsi_controllers(dom)
    # qemuDomainDefAddDefaultDevices looks for a USB controller with index 0, not for any
    _ensure(dom, "usb", 0, "qemu-xhci" if q35 else "piix3-uhci")
    for c in _ctrl(dom, "usb"):
        if c.model is None:
            c.model = "qemu-xhci" if q35 else "piix3-uhci"
    for c in _ctrl(dom, "scsi"):
        if c.model in (None, "auto"):  # qemuDomainControllerDefPostParse: 'auto' is the default too
            c.model = "lsilogic"
    # qemuDomainDefAddDefaultDevices (USB, q35's SATA, the PCI root) runs before the generic
    # virDomainDefAddImplicitControllers (a controller for each disk bus in use)
    if q35:
        _ensure(dom, "sata", 0)
    if not [c for c in _ctrl(dom, "pci") if c.index == 0]:
        _ensure(dom, "pci", 0, "pcie-root" if q35 else "pci-root")
    # virDomainDefAddDiskControllersForType, bus by bus (SCSI, FDC, IDE, SATA): every index up
    # to the highest a disk's drive address names, each missing one appended
    for bus in ("scsi", "fdc", "ide", "sata"):
        highest = max((d.address.controller or 0 for d in devs.disks
                       if (d.target_bus or "ide") == bus and d.address is not None and d.address.type == "drive"),
                      default=-1)
        for index in range(highest + 1):
            c = _ensure(dom, bus, index)
            if bus == "scsi" and c.model is None:
                c.model = "lsilogic"
    implicit_virtio_serial(dom)
    smartcard_defaults(dom)  # virDomainDefAddImplicitDevices: after the driver's default controllers
    for ch in devs.channels:
        if ch.target_type is None and ch.target_name is not None:
            ch.target_type = "virtio"


def _hostdev_scsi_controllers(dom: Domain) -> None:
    """virDomainDefMaybeAddHostdevSCSIcontroller (at parse, after each host device): every SCSI
    controller index up to the highest a
    SCSI host device's address names; a new one takes the model of the controller the last
    host device that raised that highest index sits on (libvirt keeps one model for all SCSI
    host devices when it adds a controller because the others are full), else lsilogic (the
    QEMU driver's default on x86)."""
    highest, model = -1, None
    for hd in dom.devices.hostdevs:
        if hd.type != "scsi" or hd.address is None or hd.address.type != "drive":
            continue
        if (hd.address.controller or 0) > highest:
            highest = hd.address.controller or 0
            cont = next((c for c in _ctrl(dom, "scsi") if (c.index or 0) == highest), None)
            if cont is not None and cont.model is not None:
                model = cont.model
    for index in range(highest + 1):
        c = _ensure(dom, "scsi", index, model)
        if c.model is None:  # the QEMU driver's post-parse default
            c.model = "lsilogic"


def _check_usb(dom: Domain) -> None:
    """libvirt's define-time USB checks: a controller must exist, given ports must exist and
    be used once (:mod:`pyvirt.xml.usbaddr`)."""
    usb_devs = [*dom.devices.hubs, *usb_devices(dom)]
    if not usb_devs:
        return
    if not any(c.type == "usb" and c.model != "none" for c in dom.devices.controllers):
        # the QEMU driver's hub check runs with the devices', before the domain-wide one
        # (both 'unsupported configuration' in libvirt 9.0)
        if dom.devices.hubs:
            raise XMLConfigError("Can't add USB hub: USB is disabled for this domain", dom.devices.hubs[0].line)
        raise XMLConfigError("USB is disabled for this domain, but USB devices are present in the domain XML",
                             getattr(usb_devs[0], "line", None))
    check_usb_addresses(dom)


def needs_start_defaults(dom: Domain) -> bool:
    """Whether `dom` lacks what libvirt assigns at start (USB ports of USB devices)."""
    return needs_usb_ports(dom)


def assign_start_defaults(dom: Domain) -> None:
    """What libvirt assigns when a guest starts, not at define: device aliases and USB ports.
    The daemon calls it on the live definition; the argv builder only reads them."""
    from .aliases import assign_aliases

    assign_usb_ports(dom)
    assign_aliases(dom)


def with_start_defaults(dom: Domain) -> Domain:
    """A copy of `dom` with its start-time defaults (the argv builder's view of a definition
    that has not been started, e.g. ``domxml-to-native`` or a conformance case)."""
    out = copy.deepcopy(dom)
    assign_usb_ports(out)
    return out


def _memory_devices(dom: Domain) -> None:
    """DIMMs without an address get the first free slot (libvirt's qemuDomainAssignMemorySlots)."""
    dimms = [m for m in dom.devices.memories if m.model in ("dimm", "nvdimm")]
    used = {m.address.slot for m in dimms if m.address is not None and m.address.slot is not None}
    for mem in dimms:
        if mem.address is None:
            slot = next(n for n in range(len(dimms) + len(used) + 1) if n not in used)
            used.add(slot)
            mem.address = Address(type="dimm", slot=slot)


def _virtio_serial_addresses(dom: Domain) -> None:
    """virtio-serial ports of virtio channels, as virDomainVirtioSerialAddrAutoAssign: from port 1
    on the first controller (by index) with a free one below its ``ports`` (31 by default), else on
    a new controller; a channel naming only its controller gets that controller's first free port
    (bus 0) or is refused.  Virtio consoles get none, at define or at start: real libvirt 9.0
    shows none and starts QEMU with ``virtconsole`` without bus/nr, leaving the port numbers to
    QEMU (port 0 first)."""
    size = {c.index: c.ports or 31 for c in dom.devices.controllers if c.type == "virtio-serial"}
    used: dict[int, set[int]] = {}
    chans = [c for c in dom.devices.consoles + dom.devices.channels if c.target_type == "virtio"]
    for c in chans:
        if c.kind == "channel" and c.address is not None and c.address.type == "virtio-serial" \
                and c.address.port is not None and int(c.address.port) == 0:
            c.address.port = None  # libvirt's parser reads port 0 as none given: the channel gets one
        if c.address is not None and c.address.port is not None:
            ctrl, port = c.address.controller or 0, int(c.address.port)
            if ctrl in size and port >= size[ctrl]:  # virDomainVirtioSerialAddrReserve
                raise XMLError(f"virtio serial controller {ctrl} does not have port {port}", c.line)
            used.setdefault(ctrl, set()).add(port)

    def free(ctrl: int) -> int | None:
        return next((p for p in range(1, size[ctrl]) if p not in used.get(ctrl, set())), None)

    for c in chans:
        if c.address is not None and c.address.type == "virtio-serial" and c.address.bus is None:
            c.address.bus = 0  # virDomainDeviceVirtioSerialAddressParseXML's default
        if c.kind != "channel" and c.address is not None and c.address.type == "virtio-serial" \
                and c.address.port is None:
            c.address.port = "0"  # a console keeps port 0 (written; QEMU's virtconsole takes it)
        if c.kind != "channel" or (c.address is not None and c.address.port is not None):
            continue
        if c.address is not None and c.address.type == "virtio-serial":
            ctrl = c.address.controller or 0
            port = free(ctrl) if ctrl in size else None
            if port is None:
                raise XMLValidationError(f"Unable to find a free port on virtio-serial controller {ctrl}", c.line)
        else:
            ctrl = next((i for i in sorted(size) if free(i) is not None), -1)
            if ctrl < 0:
                ctrl = next(i for i in range(len(size) + 1) if i not in size)
                _ensure(dom, "virtio-serial", ctrl)
                size[ctrl] = 31
            port = free(ctrl)
        used.setdefault(ctrl, set()).add(port)
        c.address = Address(type="virtio-serial", controller=ctrl, bus=0, port=str(port))


# ------------------------------------------------------------------ other devices

#: video memory sizes libvirt 9.0's define rounds up to a power of two (probed per model)
_VIDEO_POW2 = {"qxl": ("model_ram", "model_vram")}
_VIDEO_DEFAULTS = {
    "cirrus": {"model_vram": 16384},
    "vga": {"model_vram": 16384},
    "bochs": {"model_vram": 16384},
    "vmvga": {"model_vram": 16384},
    "qxl": {"model_ram": 65536, "model_vram": 65536, "model_vgamem": 16384},
}


def default_audio(graphics: list) -> str | None:
    """qemuDomainDefAddDefaultAudioBackend with qemu.conf's defaults: no display means 'none';
    else the last VNC or SPICE display decides ('none' / 'spice'), and a last SDL one leaves it
    to QEMU_AUDIO_DRV of libvirtd's environment (unset: no backend); egl-headless, dbus and
    the others choose nothing."""
    if not graphics:
        return "none"
    kind: str | None = None
    for g in graphics:
        if g.type in ("vnc", "spice", "sdl"):
            kind = {"vnc": "none", "spice": "spice", "sdl": None}[g.type]
    return kind


def _simple_devices(dom: Domain) -> None:
    devs = dom.devices
    for nic in devs.interfaces:
        if nic.mac_address is None:
            nic.mac_address = random_mac()
        nic.model_type = nic_model_name(nic.model_type) or "rtl8139"
    for fs in devs.filesystems:
        if fs.multidevs == "default":
            fs.multidevs = None  # virDomainFSDefFormat writes it only when chosen
        filesystem_rules(fs)
    have = {(i.type, i.bus) for i in devs.inputs}
    for inp in devs.inputs:
        if inp.bus is None and inp.type != "evdev":  # an evdev input sits on no guest bus
            inp.bus = "usb" if inp.type == "tablet" else "ps2"
    for kind in ("mouse", "keyboard"):
        if (kind, "ps2") not in have:
            devs.inputs.append(Input(type=kind, bus="ps2"))
    for g in devs.graphics:
        _graphics(g)
    graphics_format_rules(dom)
    if devs.graphics and not devs.videos:
        from .domain import Video

        devs.videos.append(Video(model_type=DEFAULT_VIDEO_MODEL))
    for i, v in enumerate(devs.videos):
        if v.model_type is None:
            v.model_type = DEFAULT_VIDEO_MODEL
        for name, value in _VIDEO_DEFAULTS.get(v.model_type, {}).items():
            if getattr(v, name) is None:
                setattr(v, name, value)
        for name in _VIDEO_POW2.get(v.model_type, ("model_vram",)):  # kept as powers of two, rounded up
            if getattr(v, name):
                setattr(v, name, 1 << (getattr(v, name) - 1).bit_length())
        if v.model_type != "none" and v.model_heads is None:
            v.model_heads = 1
        if i == 0 and v.model_type != "none" and v.model_primary is None:
            v.model_primary = True
        if v.model_primary is False:
            v.model_primary = None  # virDomainVideoDefFormat writes primary='yes' only
    for hd in devs.hostdevs:  # qemuDomainHostdevDefMdevPostParse: stay safe from QEMU's default
        if hd.type == "mdev" and hd.model == "vfio-pci" and hd.display is None:
            hd.display = False
    if not devs.audios:
        kind = default_audio(devs.graphics)
        if kind is not None:
            devs.audios.append(Audio(id=1, type=kind))
    if devs.memballoon is None:
        devs.memballoon = MemBalloon(model="virtio")
    for w in devs.watchdogs:
        if w.action is None:
            w.action = "reset"
    for t in devs.tpms:
        if t.model is None:
            t.model = "tpm-tis"
        if t.backend_type == "emulator" and t.backend_version is None:
            # qemuDomainTPMDefPostParse (9.0): TPM 2.0 for a CRB or sPAPR device, 1.2 for TIS
            t.backend_version = "2.0" if t.model in ("tpm-crb", "tpm-spapr") else "1.2"
        if t.backend_type == "external" and t.backend_source_mode is None:
            t.backend_source_mode = "connect"
    for panic in devs.panics:
        if panic.model is None and dom.os.arch in ("i686", "x86_64"):
            panic.model = "isa"  # qemuDomainDefaultPanicModel: the ISA pvpanic device on x86
    for r in devs.rngs:
        if r.backend_model == "random" and not r.backend:
            r.backend = "/dev/random"  # libvirt 9.0's default for an empty random backend


def _graphics(g) -> None:  # noqa: ANN001
    if g.type == "vnc" or g.type == "spice":
        if g.type == "vnc" and g.port is None and g.autoport is None and g.socket is None:
            g.port = -1
        if g.port == -1 and g.autoport is None:
            g.autoport = True
        if g.autoport and g.port is None and g.type == "vnc":
            g.port = -1
        if g.listen is not None and not g.listens:
            g.listens.append(Listen(type="address", address=g.listen))
        if not g.listens and g.socket is None:
            if g.type == "vnc" or g.autoport or g.port not in (None, 0):
                g.listens.append(Listen(type="address"))
            else:
                g.listens.append(Listen(type="none"))
        if g.listens and g.listens[0].type == "address" and g.listens[0].address and g.listen is None:
            g.listen = g.listens[0].address
