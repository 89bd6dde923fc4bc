"""libvirt 9.0's define-time rules that pyvirt found missing on probes (each checked against the
real libvirt 9.0's ``virsh define``, in libvirt's words, so virsh users see the same refusal from
either stack): the generic parser's (PCI address ranges, <maxMemory>, audio streams and ids,
user aliases, CPU features, disk source labels, USB inputs, BIOS serial output) and the QEMU
driver's (qemuValidateDomainDef*: loaders, disks, graphics, videos, SMM TSEG, memory hotplug,
USB ports, panic/watchdog addresses, ISA serial ports, video heads, vsock CIDs).

One home for them, apart from ``validate.py``'s structural checks (names, UUIDs, duplicate
targets and addresses) so each rule reads next to its message.  A definition pyvirt accepted
and could never start, the refusal waiting for the first start, is a different behaviour: these
run at define.  The disk rules also run for a hot-plugged disk
(:func:`pyvirt.qemu.argv_disks.check_disk`)."""

from __future__ import annotations

import string
from typing import Any

from .define_rules_more import check_generic_rules, check_qemu_rules
from .domain import DEFAULT_VIDEO_MODEL, Disk, Domain, is_user_alias
from .errors import XMLConfigError, XMLDetailError, XMLError, XMLInternalError
from .pciaddr import is_q35
from .units import parse_size_bytes

#: virPCIDeviceAddressIsValid's limits, with the way its messages spell them
_PCI_LIMITS = (("domain", 0xFFFF, "domain='0x{v:x}', must be <= 0xFFFF"),
               ("bus", 0xFF, "bus='0x{v:x}', must be <= 0xFF"),
               ("slot", 0x1F, "slot='0x{v:x}', must be <= 0x1F"),
               ("function", 7, "function=0x{v:x}, must be <= 7"))

#: USB controllers whose port count is configurable, and QEMU's limit (QEMU_USB_XHCI_MAXPORTS)
_XHCI = ("qemu-xhci", "nec-xhci")
_XHCI_MAX_PORTS = 15

#: video models that drive several heads (qemuValidateDomainDeviceDefVideo)
_MULTIHEAD_VIDEO = ("qxl", "virtio")

#: buses a removable medium cannot sit on (virDomainDiskDefValidate: no ejectable media there)
_NOT_EJECTABLE = ("virtio", "xen", "sd")


def check_define_rules(dom: Domain, *, qemu: bool = True) -> None:
    """Raise libvirt's error for the first rule `dom` breaks.  ``qemu=False`` keeps the generic
    parser's rules only, as libvirt's test driver does."""
    _pci_addresses(dom)
    _boot_timeouts(dom)
    _max_memory(dom)
    _audio_streams(dom)
    _user_aliases(dom)
    _audio_ids(dom)
    _cpu(dom)
    _device_seclabels(dom)
    _perf(dom)
    if dom.features is not None and dom.features.msrs and dom.features.msrs_unknown is None:
        raise XMLError("Missing required attribute 'unknown' in element 'msrs'", dom.features.line)
    if dom.resource is not None and not dom.resource.partition and not dom.resource.fibrechannel_appid:
        # virDomainResourceDefParse refuses it (without a message of its own)
        raise XMLError("<resource> needs a <partition> or a <fibrechannel appid>", dom.resource.line)
    for inp in dom.devices.inputs:  # virDomainInputDefParseXML
        if inp.bus == "usb" and inp.address is not None and inp.address.type not in (None, "usb"):
            raise XMLError("Invalid address for a USB device", inp.line)
        if inp.bus == "ps2" and inp.type not in ("mouse", "keyboard"):
            raise XMLInternalError(f"ps2 bus does not support {inp.type} input device", inp.line)
    for disk in dom.devices.disks:  # virDomainDiskDefParseValidate
        if disk.target_removable is not None and disk.target_bus != "usb":
            raise XMLError("removable is only valid for usb disks", disk.line)
        if disk.target_rotation_rate is not None and _disk_bus(disk) not in ("scsi", "ide", "sata"):
            raise XMLInternalError("rotation rate is only valid for SCSI/IDE/SATA bus", disk.line)
    if dom.os is not None and dom.os.bios_useserial and not dom.devices.serials:
        raise XMLError("need at least one serial port to use BIOS serial output", dom.os.line)
    check_loader(dom)  # virDomainDefOSValidate: the generic parser's, so the test driver's too
    check_generic_rules(dom)
    _vsock(dom)  # virDomainVsockDefValidate (domain_validate.c), every driver's
    if not qemu:
        return
    check_qemu_rules(dom)
    _uefi_acpi(dom)
    check_cpu_cache(dom)
    if "preserve" in (dom.on_poweroff, dom.on_reboot):  # qemuValidateLifecycleAction
        raise XMLConfigError("qemu driver doesn't support the 'preserve' action for 'on_reboot'/'on_poweroff'",
                             dom.line)
    for disk in dom.devices.disks:
        check_disk_rules(disk)
    _graphics(dom)
    _memory_devices(dom)
    _usb_controllers(dom)
    _panics(dom)
    _watchdogs(dom)
    _serials(dom)
    _videos(dom)
    _smm_tseg(dom)
    _nic_queue_sizes(dom)
    _ide_controllers(dom)
    _scsi_drive_targets(dom)
    _nic_mtu(dom)
    _nic_guest_ips(dom)
    _virtio_options_absent(dom)
    for snd in dom.devices.sounds:  # qemuBuildSoundDevCmd has no device for it (libvirt 9.0)
        if snd.model == "ich7":
            raise XMLInternalError("sound card model 'ich7' is not supported by qemu", snd.line)


def _disk_bus(disk: Disk) -> str | None:
    """The bus libvirt's parser gives a disk before any rule runs: the given one, else the one
    its target name implies."""
    from .defaults import disk_bus  # defaults imports this module (through validate)

    return disk.target_bus or disk_bus(disk.target_dev or "", disk.device)


def _drive_address(disk: Disk, bus: str | None) -> Any:
    """The drive address the disk has after libvirt's post-parse: its own, else the one
    virDomainDiskDefAssignAddress derives from the target name (None: no drive address)."""
    if disk.address is not None:
        return disk.address if disk.address.type == "drive" else None
    if bus not in ("ide", "sata", "fdc", "scsi") or not disk.target_dev:
        return None
    from .defaults import disk_index  # defaults imports this module (through validate)
    from .generic_defaults import drive_address

    try:
        return drive_address(bus, disk_index(disk.target_dev))
    except XMLError:  # an unknown target name: refused by its own rule
        return None


#: the characters libvirt lets through in a disk's <serial> (QEMU_SERIAL_PARAM_ACCEPTED_CHARS)
_SERIAL_CHARS = string.ascii_letters + string.digits + " -_.+"


#: the image formats libvirt follows a backing chain of (VIR_STORAGE_FILE_BACKING and after)
_BACKING_FORMATS = frozenset({"cow", "qcow", "qcow2", "qed", "vmdk"})


def check_disk_rules(disk: Disk) -> None:
    """virDomainDiskDefValidate, qemuValidateDomainDeviceDefDisk*, qemuDomainValidateStorageSource:
    targets without partitions, which bus takes which device, a USB disk's address, shared
    writable images only raw, LUNs, LUKS2/librbd encryption, Linux AIO only uncached, wwn/vendor/product only where the bus has them, no read-only IDE/SATA hard disk, a
    directory disk is a read-only FAT image, no 'iso' format on any layer, transient disks."""
    kind = disk.type or "file"
    device = disk.device or "disk"
    dev = disk.target_dev or ""
    bus = disk.target_bus
    if dev[-1:].isdigit():
        raise XMLConfigError(f"invalid disk target '{dev}', partitions can't appear in disk targets", disk.line)
    if device == "floppy" and bus not in (None, "fdc"):
        raise XMLInternalError(f"Invalid bus type '{bus}' for floppy disk", disk.line)
    if device == "cdrom" and bus in _NOT_EJECTABLE:
        raise XMLConfigError(f"disk type of '{dev}' does not support ejectable media", disk.line)
    if bus == "usb" and disk.address is not None and disk.address.type != "usb":
        raise XMLInternalError("unexpected address type for usb disk", disk.line)
    if bus == "scsi" and disk.address is not None and disk.address.type == "drive" and disk.address.bus:
        # qemuValidateDomainDeviceDefAddressDrive: QEMU's SCSI controllers have one bus, whatever the model
        raise XMLInternalError("SCSI controller only supports 1 bus", disk.line)
    policy = disk.source_startup_policy
    if policy is not None and kind == "network":  # virDomainDiskDefValidateStartupPolicy
        raise XMLError(f"disk startupPolicy '{policy}' is not allowed for disk of 'network' type", disk.line)
    if policy == "requisite" and device not in ("cdrom", "floppy"):
        raise XMLError("disk startupPolicy 'requisite' is allowed only for cdrom or floppy", disk.line)
    drive_bus = _disk_bus(disk)
    addr = _drive_address(disk, drive_bus)
    if drive_bus in ("ide", "sata") and addr is not None:
        # qemuValidateDomainDeviceDefAddressDrive, on the address the post-parse gave (a given
        # one, else the one the target name implies: hde is IDE controller 1): one IDE
        # controller with one target per channel, AHCI one bus and one target (a port per unit)
        if drive_bus == "ide" and addr.controller:
            raise XMLInternalError("Only 1 IDE controller is supported", disk.line)
        if drive_bus == "sata" and addr.bus:
            raise XMLConfigError("bus must be 0 for sata controller", disk.line)
        if addr.target:
            raise XMLConfigError(f"target must be 0 for {drive_bus} controller", disk.line)
    if disk.serial is not None and disk.serial.strip(_SERIAL_CHARS):
        # qemuValidateDomainDeviceDefDiskSerial: QEMU_SERIAL_PARAM_ACCEPTED_CHARS
        raise XMLInternalError(f"driver serial '{disk.serial}' contains unsafe characters", disk.line)
    if disk.shareable and not disk.readonly and (disk.driver_type or "raw") != "raw":
        # qemuBlockStorageSourceSupportsConcurrentAccess: only raw images can be shared writable
        raise XMLConfigError(f"shared access for disk '{dev}' requires use of supported storage format",
                                 disk.line)
    if device == "lun" and not (kind == "block" or (kind == "network" and disk.source_protocol == "iscsi")):
        raise XMLConfigError("disk device='lun' is only valid for block type disk source", disk.line)
    for enc in (disk.encryption, disk.source_encryption):
        if enc is None:
            continue
        if enc.engine in (None, "qemu") and enc.format == "luks2":
            raise XMLConfigError("luks2 is currently not supported by the qemu encryption engine", enc.line)
        if enc.engine == "librbd" and not (kind == "network" and disk.source_protocol == "rbd"):
            raise XMLConfigError("librbd encryption is supported only with RBD backed disks", enc.line)
    if disk.driver_io == "native" and disk.driver_cache not in ("none", "directsync"):
        # qemuValidateDomainDeviceDefDiskFrontend: Linux AIO needs O_DIRECT
        raise XMLConfigError("io='native' needs either no disk cache or directsync cache mode", disk.line)
    if disk.driver_name is not None and disk.driver_name != "qemu":  # qemuValidateDomainDeviceDefDisk
        raise XMLConfigError(f"unsupported driver name '{disk.driver_name}' for disk '{dev}'", disk.line)
    if disk.driver_rerror_policy == "enospace":  # qemuValidateDomainDeviceDefDiskFrontend
        raise XMLConfigError("Invalid disk read error policy: 'enospace'", disk.line)
    if disk.driver_copy_on_read and disk.readonly:
        raise XMLConfigError(f"copy_on_read is not compatible with read-only disk '{dev}'", disk.line)
    if disk.vendor is not None and len(disk.vendor) > 8:
        raise XMLConfigError("disk vendor is more than 8 characters", disk.line)
    if disk.product is not None and len(disk.product) > 16:
        raise XMLConfigError("disk product is more than 16 characters", disk.line)
    if disk.wwn and bus not in ("ide", "scsi"):  # qemuValidateDomainDeviceDefDiskFrontend
        raise XMLConfigError("Only ide and scsi disk support wwn", disk.line)
    if (disk.vendor or disk.product) and bus != "scsi":
        raise XMLConfigError("Only scsi disk supports vendor and product", disk.line)
    if disk.readonly and device == "disk" and bus in ("ide", "sata"):
        # qemuValidateDomainDeviceDefDiskFrontend: QEMU has no read-only IDE/SATA hard disk
        raise XMLConfigError(f"readonly {bus} disks are not supported", disk.line)
    if kind == "dir":  # QEMU's vvfat: a FAT image of the directory, never written
        if disk.driver_type != "fat":
            raise XMLConfigError("storage type 'dir' requires use of storage format 'fat'", disk.line)
        if not disk.readonly and device != "cdrom":
            raise XMLConfigError("virtual FAT storage can't be accessed in read-write mode", disk.line)
    layers = [(disk.driver_type, disk.line, disk.backing_store)]
    layer = disk.backing_store
    while layer is not None:
        layers.append((layer.format_type, layer.line, layer.backing_store))
        layer = layer.backing_store
    for fmt, line, below in layers:  # qemuDomainValidateStorageSource, on every layer the XML spells out
        if fmt == "iso":
            raise XMLConfigError("storage format 'iso' is not directly supported by QEMU, use 'raw' instead", line)
        if fmt == "luks":  # a LUKS image is <encryption> on a raw layer in libvirt 9.0, not a format
            raise XMLConfigError("unknown driver format value 'luks'", line)
        if fmt is not None and fmt not in _BACKING_FORMATS and below is not None and not below.terminator:
            raise XMLConfigError(f"storage format '{fmt}' does not support backing store", line)
    if disk.transient:  # in libvirt's order: a CD-ROM is read-only, so that is what it is told
        if disk.readonly or device == "cdrom":
            raise XMLConfigError(f"transient disk '{dev}' must not be read-only", disk.line)
        if kind != "file":
            raise XMLConfigError(f"transient disk supported only with 'file' type ({dev})", disk.line)
        if device != "disk":
            raise XMLConfigError(f"transient disk supported only with 'disk' device ({dev})", disk.line)


def check_loader(dom: Domain) -> None:
    """virDomainDefOSValidate: with autoselection a loader may only wish for secure boot and
    names no NVRAM template, BIOS has no NVRAM; without it a loader needs its path."""
    os_ = dom.os
    if os_ is None:
        return
    loader = os_.loader
    if os_.firmware is not None and loader is not None:
        for name, given in (("readonly", loader.readonly is not None), ("type", bool(loader.type or loader.path)),
                            ("secure", loader.secure is False)):
            if given:
                raise XMLDetailError(f"loader attribute '{name}' cannot be specified when firmware "
                                     "autoselection is enabled", loader.line)
    if os_.firmware is not None and os_.nvram is not None and os_.nvram.template:
        raise XMLDetailError("nvram attribute 'template' cannot be specified when firmware autoselection is enabled",
                             os_.nvram.line)
    if os_.firmware == "bios" and os_.nvram is not None:
        raise XMLDetailError("firmware type 'bios' does not support nvram", os_.nvram.line)
    # the parser keeps <nvram> in the loader's definition: an <nvram> alone is a loader without path
    if os_.firmware is None and ((loader is not None and not loader.path) or (loader is None and os_.nvram is not None)):
        raise XMLDetailError("no loader path specified and firmware auto selection disabled",
                             (loader or os_.nvram).line)


def _uefi_acpi(dom: Domain) -> None:
    """qemuValidateDomainDefBoot: UEFI (autoselected or a pflash loader) on x86 needs ACPI."""
    os_ = dom.os
    if os_ is None:
        return
    loader = os_.loader
    if loader is not None and loader.secure:  # QEMU's limits on secure boot, as libvirt 9.0 states them
        if not is_q35(dom):
            raise XMLConfigError("Secure boot is supported with q35 machine types only", loader.line)
        if (os_.arch or "x86_64") != "x86_64":
            raise XMLConfigError("Secure boot is supported for x86_64 architecture only", loader.line)
        # with firmware autoselection SMM is turned on for a secure firmware
        if os_.firmware is None and not (dom.features is not None and dom.features.smm):
            raise XMLConfigError("Secure boot requires SMM feature enabled", loader.line)
    uefi = os_.firmware == "efi" or (loader is not None and loader.type == "pflash")
    if uefi and not (dom.features is not None and dom.features.acpi):
        raise XMLConfigError("UEFI requires ACPI on this architecture", os_.line)


def _pci_addresses(dom: Domain) -> None:
    for dev in dom.all_devices():
        a = getattr(dev, "address", None)
        if a is None or a.type != "pci":
            continue
        for name, limit, text in _PCI_LIMITS:
            value = getattr(a, name)
            if value is not None and value > limit:
                raise XMLError("Invalid PCI address " + text.format(v=value), a.line or getattr(dev, "line", None))


def _max_memory(dom: Domain) -> None:
    """virDomainDefParseMemory's <maxMemory> pair, and its size against the memory total."""
    if bool(dom.max_memory) != bool(dom.max_memory_slots):  # a zero is libvirt's "not given"
        raise XMLError("both maximum memory size and memory slot count must be specified", dom.line,
                       libvirt_words=True)
    if dom.max_memory is not None and dom.max_memory < _total_memory(dom):
        raise XMLError("maximum memory size must be equal or greater than the actual memory size", dom.line,
                       libvirt_words=True)


def _memory_devices(dom: Domain) -> None:
    """The slots DIMMs need, and virtio-mem's block and requested sizes (QEMU driver)."""
    for mem in dom.devices.memories:  # virDomainDeviceDimmAddressParseXML: the slot is required
        if mem.address is not None and mem.address.type == "dimm" and mem.address.slot is None:
            raise XMLError("Missing required attribute 'slot' in element 'address'", mem.address.line or mem.line,
                           libvirt_words=True)
    slotted = [m for m in dom.devices.memories if m.model in ("dimm", "nvdimm")]
    if dom.max_memory_slots is not None and len(slotted) > dom.max_memory_slots:
        raise XMLInternalError("failed to find an empty memory slot", slotted[dom.max_memory_slots].line)
    for mem in dom.devices.memories:
        if mem.model != "virtio-mem" or not mem.target_block:
            continue
        block = mem.target_block
        if block & (block - 1):
            raise XMLDetailError("block size must be a power of two", mem.line)
        if (mem.target_requested or 0) % block:
            raise XMLDetailError("requested size must be an integer multiple of block size", mem.line)


def _total_memory(dom: Domain) -> int:
    """virDomainDefGetMemoryTotal after post-parse: with NUMA cells, their sum plus the memory
    devices; without, ``<memory>`` (which already counts the devices)."""
    cells = dom.cpu.numa_cells if dom.cpu is not None else []
    if cells:
        return sum(c.memory or 0 for c in cells) + sum(m.target_size or 0 for m in dom.devices.memories)
    return dom.memory or 0


def _user_aliases(dom: Domain) -> None:
    """virDomainDefValidateAliases: a user alias (``ua-``, the only kind an inactive definition
    keeps) names one device."""
    seen: set[str] = set()
    for dev in dom.all_devices():
        name = getattr(dev, "alias", None)
        if not is_user_alias(name):
            continue
        if name in seen:
            raise XMLConfigError(f"non unique alias detected: {name}", getattr(dev, "line", None))
        seen.add(name)


def _cpu(dom: Domain) -> None:
    """virCPUDefParseXML: each feature named once; ``migratable`` only where the host's CPU is;
    a vendor, or features of a custom CPU, only with a model."""
    cpu = dom.cpu
    if cpu is None:
        return
    vendor_id = cpu.model_vendor_id
    if vendor_id is not None and len(vendor_id.encode()) != 12:
        raise XMLError("vendor_id must be exactly 12 characters long", cpu.line)
    if vendor_id is not None and "," in vendor_id:
        raise XMLError("vendor id is invalid", cpu.line)  # QEMU's -cpu could not carry it
    if cpu.vendor is not None and not cpu.model:
        raise XMLError("CPU vendor specified without CPU model", cpu.line)
    if cpu.features and not cpu.model and cpu.mode in (None, "custom"):
        raise XMLError("Non-empty feature list specified without CPU model", cpu.line)
    if cpu.migratable is not None and cpu.mode not in ("host-passthrough", "maximum"):
        raise XMLConfigError("Attribute migratable is only allowed for 'host-passthrough' / 'maximum' "
                                 "CPU mode", cpu.line)
    named: set[str] = set()
    for f in cpu.features:
        if f.name in named:
            raise XMLError(f"CPU feature '{f.name}' specified more than once", f.line)
        if f.name:
            named.add(f.name)


def check_cpu_cache(dom: Domain) -> None:
    """qemuValidateDomainDefCpu's <cpu><cache> rules, at define (pyvirt checked them only when
    building the command line): emulation describes an L3 cache only; passing the host's
    through needs a host-passthrough or maximum CPU; passthrough and disable name no level."""
    cpu = dom.cpu
    if cpu is None or cpu.cache_mode is None:
        return
    mode, level = cpu.cache_mode, cpu.cache_level
    if mode == "emulate" and level != 3:
        raise XMLConfigError("CPU cache mode 'emulate' can only be used with level='3'", cpu.line)
    if mode == "passthrough" and cpu.mode not in ("host-passthrough", "maximum"):
        raise XMLConfigError("CPU cache mode 'passthrough' can only be used with 'host-passthrough' / 'maximum' "
                             "CPUs", cpu.line)
    if mode in ("passthrough", "disable") and level is not None:
        raise XMLConfigError(f"unsupported CPU cache level for mode '{mode}'", cpu.line)


def _perf(dom: Domain) -> None:
    """virDomainPerfDefParseXML: each event once, each with its state."""
    named: set[str] = set()
    for event in dom.perf.events if dom.perf is not None else []:
        if event.enabled is None:
            raise XMLError("Missing required attribute 'enabled' in element 'event'", event.line)
        if event.name in named:
            raise XMLError(f"perf event '{event.name}' was already specified", event.line)
        named.add(event.name or "")


def _device_seclabels(dom: Domain) -> None:
    """virSecurityDeviceLabelDefParseXML on disk sources: one label per model, no label where
    relabelling is off; and virSecurityDeviceLabelDefValidate on every layer of the chain: a
    layer's label (whatever its own relabel) overrides nothing for a model the domain's
    ``<seclabel>`` does not relabel for (``type='static'`` or ``'none'`` without ``relabel='yes'``)."""
    # a domain label without a model is given the host driver's at define (libvirt 9.0 then lets
    # a model-less layer label through), so only named models count
    frozen = {label.model for label in dom.seclabels if label.model and not _domain_relabels(label)}
    for disk in dom.devices.disks:
        models: set[str] = set()
        for label in disk.source_seclabels:
            if label.model and label.model in models:
                raise XMLError(f"seclabel for model {label.model} is already provided", label.line)
            if label.model:
                models.add(label.model)
            if label.relabel is False and label.label:
                raise XMLError(f"Cannot specify a label if relabelling is turned off. model={label.model or ''}",
                               label.line)
        layer: Any = disk
        while layer is not None:
            for label in layer.source_seclabels:
                if label.model in frozen:
                    raise XMLConfigError("label overrides require relabeling to be enabled at the domain level",
                                         label.line)
            layer = layer.backing_store


def _domain_relabels(label: Any) -> bool:
    """A domain ``<seclabel>``'s relabel as virSecurityLabelDefParseXML reads it: written, or on
    for a dynamic label (the default type) and off for a static one or ``type='none'``."""
    if label.relabel is not None:
        return bool(label.relabel)
    return label.type not in ("static", "none")


def _audio_ids(dom: Domain) -> None:
    seen: set[int] = set()
    for audio in dom.devices.audios:
        if audio.id in seen:
            raise XMLError(f"audio ID {audio.id} is used multiple times", audio.line)
        if audio.id is not None:
            seen.add(audio.id)


def _usb_controllers(dom: Domain) -> None:
    """qemuValidateDomainDeviceDefControllerUSB: an xHCI controller takes 15 ports at most.  That
    other models take no ``ports`` at all is the command line's refusal (libvirt 9.0 defines
    them: pyvirt.qemu.argv_controllers)."""
    for c in dom.devices.controllers:
        if c.type == "usb" and c.ports is not None and c.model in _XHCI and c.ports > _XHCI_MAX_PORTS:
            raise XMLConfigError(f"'{c.model}' controller only supports up to '{_XHCI_MAX_PORTS}' ports", c.line)


def _audio_streams(dom: Domain) -> None:
    """virDomainAudioDefValidate: fixed stream settings go through QEMU's mixing engine."""
    for audio in dom.devices.audios:
        for io in (audio.input, audio.output):
            if io is not None and io.fixed_settings and io.mixing_engine is not True:
                raise XMLConfigError("fixed audio settings requires mixing engine", audio.line)


def _panics(dom: Domain) -> None:
    for p in dom.devices.panics:
        a = p.address
        if a is None:
            continue
        if p.model == "hyperv":
            raise XMLConfigError("setting the panic device address is not supported for model 'hyperv'",
                                     p.line)
        if p.model in (None, "isa") and a.type != "isa":
            raise XMLConfigError("panic is supported only with ISA address type", p.line)


def _watchdogs(dom: Domain) -> None:
    for w in dom.devices.watchdogs:
        if w.model == "ib700" and w.address is not None:
            raise XMLConfigError("ib700 model of watchdog does not support configuring the address", w.line)


def _serials(dom: Domain) -> None:
    """ISA serial ports, as libvirt 9.0's parser checks the targets written ``type='isa-serial'``
    in the XML: port 3 at most (an internal error), and two may not share a port.  An untyped
    target is given its type later, so it is checked by neither rule (libvirt 9.0 defines
    ``<target port='4'/>``, and a fifth plain serial port, writing it as isa-serial port 4)."""
    written: set[int] = set()
    for s in dom.devices.serials:
        if s.target_type == "isa-serial" and (s.target_port or 0) > 3:
            raise XMLInternalError("Maximum supported number of ISA serial ports is '4'", s.line)
        if s.target_type == "isa-serial" and s.target_port is not None:
            if s.target_port in written:
                raise XMLInternalError(f"target port '{s.target_port}' already allocated", s.line)
            written.add(s.target_port)


def _videos(dom: Domain) -> None:
    """qemuValidateDomainDeviceDefVideo: ramfb has no address; only some models drive several
    heads; QEMU has no 2D acceleration switch; only QXL and virtio cards can be secondary."""
    videos = dom.devices.videos
    primary = next((v for v in videos if v.model_primary), videos[0] if videos else None)
    for v in videos:
        model = v.model_type or DEFAULT_VIDEO_MODEL  # these rules run before the defaults fill it
        if v is not primary and model not in ("qxl", "virtio"):
            raise XMLConfigError(f"video type '{model}' is only valid as primary video device", v.line)
        if v.model_accel2d:
            raise XMLConfigError("qemu does not support the accel2d setting", v.line)
        if v.model_type == "ramfb" and v.address is not None:
            raise XMLConfigError("address not supported for video type ramfb", v.line)
        if (v.model_heads or 1) > 1 and v.model_type not in _MULTIHEAD_VIDEO:
            raise XMLConfigError(f"video type '{v.model_type}' doesn't support multiple 'heads'", v.line)


def _vsock(dom: Domain) -> None:
    v = dom.devices.vsock
    if v is not None and v.cid_address is not None and v.cid_address < 3:
        raise XMLConfigError("guest CIDs must be >= 3", v.line)


def _graphics(dom: Domain) -> None:
    """qemuValidateDomainDefGraphics: egl-headless only beside VNC or SPICE; a VNC password
    of at most 8 characters."""
    gfx = dom.devices.graphics
    for g in gfx:
        size = len(g.passwd.encode()) if g.type == "vnc" and g.passwd is not None else 0
        if size > 8:  # the VNC protocol's DES key; libvirt counts bytes (strlen), as the key does
            raise XMLConfigError(f"VNC password is {size} characters long, only 8 permitted", g.line)
        if g.type == "egl-headless" and any(o.type not in ("vnc", "spice", "egl-headless") for o in gfx):
            raise XMLConfigError("graphics type 'egl-headless' is only supported with one of: 'vnc', 'spice' "
                                     "graphics types", g.line)


def _nic_queue_sizes(dom: Domain) -> None:
    """qemuValidateDomainDeviceDefNetwork: virtio-net's ring sizes are powers of two."""
    for nic in dom.devices.interfaces:
        for name in ("rx_queue_size", "tx_queue_size"):
            size = getattr(nic, f"driver_{name}")
            if size is not None and size & (size - 1):
                raise XMLConfigError(f"{name} has to be a power of two", nic.line)


def _ide_controllers(dom: Domain) -> None:
    """qemuValidateDomainDeviceDefControllerIDE: i440fx machines have their one built-in IDE
    controller, q35 none."""
    for c in dom.devices.controllers:
        if c.type != "ide":
            continue
        if is_q35(dom):
            raise XMLConfigError("IDE controllers are unsupported for this QEMU binary or machine type", c.line)
        if c.index:
            raise XMLConfigError("Only a single IDE controller is supported for this machine type", c.line)


def _scsi_drive_targets(dom: Domain) -> None:
    """qemuValidateDomainDeviceDefAddressDrive: a drive on an LSI Logic controller has target 0
    (libvirt 9.0 checks no other model's targets: lsisas, vmpvscsi, am53c974, ibmvscsi take any)."""
    # these rules run before the defaults: a SCSI controller without model is lsilogic (as
    # fill_defaults makes it, qemuDomainGetSCSIControllerModel); one not written is not checked
    models = {c.index or 0: c.model or "lsilogic" for c in dom.devices.controllers if c.type == "scsi"}
    users = [d for d in dom.devices.disks if d.target_bus == "scsi"]
    users += [h for h in dom.devices.hostdevs if h.type == "scsi"]
    for dev in users:
        addr = dev.address
        if addr is None or addr.type != "drive" or not addr.target:
            continue
        model = models.get(addr.controller or 0)
        if model == "lsilogic":
            raise XMLConfigError(f"target must be 0 for controller model '{model}'", dev.line)


#: NIC types whose host side takes an MTU (qemuDomainNetSupportsMTU)
_MTU_NIC_TYPES = ("network", "bridge", "ethernet", "vhostuser")


def _nic_mtu(dom: Domain) -> None:
    """qemuValidateDomainDeviceDefNetwork: ``<mtu>`` only where the host side is a tap or a
    vhost-user socket (user, socket and the other types are refused at define)."""
    for nic in dom.devices.interfaces:
        if nic.mtu_size is not None and nic.type not in _MTU_NIC_TYPES:
            raise XMLConfigError(f"setting MTU on interface type {nic.type} is not supported yet", nic.line)


def _nic_guest_ips(dom: Domain) -> None:
    """qemuValidateDomainDeviceDefNetwork: guest-side ``<ip>`` only on a user NIC (QEMU's
    user-mode stack takes its network), no peer, one IPv4 network of prefix 4-27 and one IPv6
    prefix of length 64 (the family and a prefix 0 as none come from the parser)."""
    for nic in dom.devices.interfaces:
        if nic.ips and nic.type != "user":
            raise XMLConfigError("Invalid attempt to set network interface guest-side IP route and/or address info, "
                                 "not supported by QEMU", nic.line)
        seen: set[str | None] = set()
        for ip in nic.ips:
            if ip.peer:
                raise XMLConfigError("Invalid attempt to set peer IP for guest", ip.line)
            if ip.family in seen:
                raise XMLConfigError(f"Only one {'IPv4' if ip.family == 'ipv4' else 'IPv6'} address per interface "
                                     "is allowed", ip.line)
            seen.add(ip.family)
            if ip.family == "ipv4" and ip.prefix is not None and not 4 <= ip.prefix <= 27:
                raise XMLError("invalid prefix, must be in range of 4-27", ip.line)
            if ip.family == "ipv6" and ip.prefix is not None and ip.prefix != 64:
                raise XMLConfigError(f"unsupported IPv6 address prefix='{ip.prefix}' - must be 64", ip.line)


#: a disk target's name prefix -> the bus libvirt gives it (virDomainDiskDefAssignAddress's idea)
_DISK_PREFIX_BUS = (("vd", "virtio"), ("hd", "ide"), ("sd", "scsi"), ("fd", "fdc"), ("xvd", "xen"), ("ub", "usb"))
_VIRTIO_OPTION_NAMES = (("driver_iommu", "iommu"), ("driver_ats", "ats"), ("driver_packed", "packed"),
                        ("driver_page_per_vq", "page_per_vq"))


def _virtio_options_absent(dom: Domain) -> None:
    """virDomainCheckVirtioOptionsAreAbsent, as qemuValidateDomainDeviceDef applies it at define:
    a NIC of a non-virtio model, a disk on a non-virtio bus or a non-virtio video card may not
    carry ``<driver iommu/ats/packed/page_per_vq>``."""
    from .generic_defaults import VIRTIO_NIC_MODELS, nic_model_name

    def bus(disk: Disk) -> str | None:
        dev = disk.target_dev or ""
        return disk.target_bus or next((b for p, b in _DISK_PREFIX_BUS if dev.startswith(p)), None)

    devices: list[Any] = [n for n in dom.devices.interfaces if nic_model_name(n.model_type) not in VIRTIO_NIC_MODELS]
    devices += [d for d in dom.devices.disks if bus(d) not in (None, "virtio")]
    devices += [v for v in dom.devices.videos if v.model_type != "virtio"]
    for dev in devices:
        for field_name, option in _VIRTIO_OPTION_NAMES:
            if getattr(dev, field_name, None) is not None:
                raise XMLConfigError(f"{option} driver option is only supported for virtio devices", dev.line)


def _smm_tseg(dom: Domain) -> None:
    """qemuValidateDomainDefFeatures: an SMM TSEG size is q35's."""
    f = dom.features
    if f is None or f.smm_tseg is None or not f.smm:
        return
    if not is_q35(dom):
        raise XMLConfigError("SMM TSEG is only supported with q35 machine type", f.line)
    if parse_size_bytes(str(f.smm_tseg), f.smm_tseg_unit or "MiB", "<tseg>", f.line, default_scale=1) % (1 << 20):
        raise XMLConfigError("SMM TSEG size must be divisible by 1 MiB", f.line)


def _boot_timeouts(dom: Domain) -> None:
    """virDomainDefParseBootOptions' ranges, 'unsupported configuration' in libvirt 9.0."""
    o = dom.os
    if o is None:
        return
    if o.bios_reboot_timeout is not None and not -1 <= o.bios_reboot_timeout <= 65535:
        raise XMLConfigError("invalid value for rebootTimeout, must be in range [-1,65535]", o.line)
    if o.bootmenu_timeout is not None and o.bootmenu_timeout > 65535:
        raise XMLConfigError("invalid value for boot menu timeout, must be in range [0,65535]", o.line)
