"""libvirt 9.0's per-device define-time checks that pyvirt lacked (found on unseen qemuxml2argv
probes, each checked against the real libvirt 9.0): PCI address ranges, memory hotplug sizes
and slots, audio stream settings, panic/watchdog addresses, ISA serial ports, video heads,
vsock CIDs.

Kept apart from ``validate.py`` (the domain-wide rules) so each rule reads next to its message,
which is libvirt's own: virsh users see the same refusal from either stack."""

from __future__ import annotations

from .domain import USER_ALIAS_PREFIX, Domain
from .errors import XMLError, XMLValidationError

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


def check_device_rules(dom: Domain, *, qemu: bool = True) -> None:
    """Raise libvirt's error for the first device that breaks one of these rules.  ``qemu=False``
    keeps the generic parser's rules only (PCI ranges, <maxMemory>, audio streams, aliases), as libvirt's
    test driver."""
    _pci_addresses(dom)
    _max_memory(dom)
    _audio_streams(dom)
    _user_aliases(dom)
    _audio_ids(dom)
    _cpu(dom)
    _device_seclabels(dom)
    if dom.memory == 0 and not (dom.cpu is not None and dom.cpu.numa_cells):
        raise XMLError("Memory size must be specified via <memory> or in the <numa> configuration", dom.line)
    for inp in dom.devices.inputs:  # virDomainInputDefParseXML
        if inp.bus == "usb" and inp.address is not None and inp.address.type not in (None, "usb"):
            raise XMLError("Invalid address for a USB device", inp.line)
    if dom.os is not None and dom.os.bios_useserial and not dom.devices.serials:
        raise XMLError("need at least one serial port to use BIOS serial output", dom.os.line)
    if not qemu:
        return
    _memory_devices(dom)
    _usb_controllers(dom)
    _panics(dom)
    _watchdogs(dom)
    _serials(dom)
    _videos(dom)
    _vsock(dom)


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
    if (dom.max_memory is None) != (dom.max_memory_slots is None):
        raise XMLError("both maximum memory size and memory slot count must be specified", dom.line)
    if dom.max_memory is not None and dom.max_memory < _total_memory(dom):
        raise XMLError("maximum memory size must be equal or greater than the actual memory size", dom.line)


def _memory_devices(dom: Domain) -> None:
    """The slots DIMMs need, and virtio-mem's block and requested sizes (QEMU driver)."""
    slotted = [m for m in dom.devices.memories if m.model in ("dimm", "nvdimm")]
    if dom.max_memory_slots is not None and len(slotted) > dom.max_memory_slots:
        raise XMLValidationError("failed to find an empty memory slot", slotted[dom.max_memory_slots].line)
    for mem in dom.devices.memories:
        if mem.model != "virtio-mem" or not mem.target_block:
            continue
        block = mem.target_block
        if block & (block - 1):
            raise XMLValidationError("block size must be a power of two", mem.line)
        if (mem.target_requested or 0) % block:
            raise XMLValidationError("requested size must be an integer multiple of block size", mem.line)


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
        if not name or not name.startswith(USER_ALIAS_PREFIX):
            continue
        if name in seen:
            raise XMLValidationError(f"non unique alias detected: {name}", getattr(dev, "line", None))
        seen.add(name)


def _cpu(dom: Domain) -> None:
    """virCPUDefParseXML: each feature named once; ``migratable`` only where the host's CPU is."""
    cpu = dom.cpu
    if cpu is None:
        return
    if cpu.migratable is not None and cpu.mode not in ("host-passthrough", "maximum"):
        raise XMLValidationError("Attribute migratable is only allowed for 'host-passthrough' / 'maximum' "
                                 "CPU mode", cpu.line)
    named: set[str] = set()
    for f in cpu.features:
        if f.name in named:
            raise XMLError(f"CPU feature '{f.name}' specified more than once", f.line)
        if f.name:
            named.add(f.name)


def _device_seclabels(dom: Domain) -> None:
    """virSecurityDeviceLabelDefParseXML on disk sources: one label per model, no label where
    relabelling is off."""
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


def _audio_ids(dom: Domain) -> None:
    seen: set[int] = set()
    for audio in dom.devices.audios:
        if audio.id in seen:
            raise XMLError(f"audio ID {audio.id} is used multiple times", audio.line)
        if audio.id is not None:
            seen.add(audio.id)


def _usb_controllers(dom: Domain) -> None:
    """qemuValidateDomainDeviceDefControllerUSB: only xHCI controllers take ``ports``, 15 at most."""
    for c in dom.devices.controllers:
        if c.type != "usb" or c.ports is None or c.model is None:  # no model yet: the machine's default
            continue
        if c.model not in _XHCI:
            raise XMLValidationError(f"usb controller type '{c.model}' doesn't support 'ports' "
                                     "with this QEMU binary", c.line)
        if c.ports > _XHCI_MAX_PORTS:
            raise XMLValidationError(f"'{c.model}' controller only supports up to '{_XHCI_MAX_PORTS}' ports",
                                     c.line)


def _audio_streams(dom: Domain) -> None:
    """virDomainAudioDefValidate: fixed stream settings go through QEMU's mixing engine."""
    for audio in dom.devices.audios:
        for io in (audio.input, audio.output):
            if io is not None and io.fixed_settings and io.mixing_engine is False:
                raise XMLValidationError("fixed audio settings requires mixing engine", audio.line)


def _panics(dom: Domain) -> None:
    for p in dom.devices.panics:
        a = p.address
        if a is None:
            continue
        if p.model == "hyperv":
            raise XMLValidationError("setting the panic device address is not supported for model 'hyperv'",
                                     p.line)
        if p.model in (None, "isa") and a.type != "isa":
            raise XMLValidationError("panic is supported only with ISA address type", p.line)


def _watchdogs(dom: Domain) -> None:
    for w in dom.devices.watchdogs:
        if w.model == "ib700" and w.address is not None:
            raise XMLValidationError("ib700 model of watchdog does not support configuring the address", w.line)


def _serials(dom: Domain) -> None:
    for s in dom.devices.serials:
        if (s.target_type or "isa-serial") == "isa-serial" and (s.target_port or 0) > 3:
            raise XMLValidationError("Maximum supported number of ISA serial ports is '4'", s.line)


def _videos(dom: Domain) -> None:
    for v in dom.devices.videos:
        if (v.model_heads or 1) > 1 and v.model_type not in _MULTIHEAD_VIDEO:
            raise XMLValidationError(f"video type '{v.model_type}' doesn't support multiple 'heads'", v.line)


def _vsock(dom: Domain) -> None:
    v = dom.devices.vsock
    if v is not None and v.cid_address is not None and v.cid_address < 3:
        raise XMLValidationError("guest CIDs must be >= 3", v.line)
