"""Semantic checks libvirt makes at define time (XMLValidationError with the offending line)."""

from __future__ import annotations

import re
from typing import Any

from . import redirfilter
from .bandwidth import bandwidth_rules
from .define_rules import check_define_rules
from .domain import (
    SMBIOS_ENTRY_NAMES,
    Address,
    Controller,
    Disk,
    Domain,
    Filesystem,
    Graphics,
    Hostdev,
    Interface,
    MemoryDevice,
    NicHostIP,
    SecretRef,
    SysinfoEntry,
    SysinfoSection,
)
from .errors import (
    XMLConfigError,
    XMLDetailError,
    XMLDriverError,
    XMLError,
    XMLInternalError,
    XMLInvalidArgError,
    XMLNoSourceError,
    XMLNoTargetError,
    XMLUnsupportedError,
    XMLValidationError,
)
from .fields import BadBool, c_strtol
from .iptext import ip_text, parse_ip
from .macaddr import parse_mac
from .pciaddr import chipset_functions, is_q35

MAC_RE = re.compile(r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$")
NAME_MAX = 251  # bytes (UTF-8): NAME.xml must fit the file system's 255-byte name limit


CPUSET_RE = re.compile(r"([0-9]+(-[0-9]+)?|\^[0-9]+)(,([0-9]+(-[0-9]+)?|\^[0-9]+))*")
#: highest host CPU number a cpuset may name (libvirt's VIR_DOMAIN_CPUMASK_LEN)
CPUSET_MAX = 16384  # VIR_DOMAIN_CPUMASK_LEN in libvirt 9.0 (checked: 16383 taken, 16384 refused)


_SPACES = " \t\n\v\f\r"


def _bitmap_bits(text: str, size: int = CPUSET_MAX) -> set[int] | None:
    """virBitmapParseInternal, step for step: ``N``, ``N-M`` and ``^N`` items joined by ``,``,
    blanks allowed around numbers, dashes and commas, one trailing comma allowed, ``^N``
    clearing a CPU set by an item before it.  None on a syntax error (or a CPU past the
    bitmap's size)."""
    bits: set[int] = set()
    n, i = len(text), 0

    def skip(i: int) -> int:
        while i < n and text[i] in _SPACES:
            i += 1
        return i

    def number(i: int) -> tuple[int, int] | None:
        j = i
        while j < n and text[j].isascii() and text[j].isdigit():
            j += 1
        return (int(text[i:j]), j) if j > i else None

    i = skip(i)
    if i >= n:
        return None
    while i < n:
        neg = text[i] == "^"
        i += neg
        got = number(i)
        if got is None:
            return None
        start, i = got
        i = skip(i)
        if i >= n or text[i] == ",":
            if start >= size:
                return None
            if neg:
                bits.discard(start)
            else:
                bits.add(start)
        elif text[i] == "-":
            if neg:
                return None
            got = number(skip(i + 1))
            if got is None or got[0] < start or got[0] >= size:
                return None
            bits.update(range(start, got[0] + 1))
            i = skip(got[1])
        if i < n and text[i] == ",":
            i = skip(i + 1)
        elif i < n:
            return None
    return bits


def parse_cpuset(text: str, line: int | None = None, *, empty_ok: bool = False,
                 size: int = CPUSET_MAX) -> frozenset[int]:
    """libvirt's cpuset syntax (``0-3,^2,8``, read as virBitmapParse reads it) -> the set of
    host CPUs; an empty result refused unless `empty_ok` (the caller has its own words for
    it).  A syntax error or a CPU past the bitmap's `size` is virBitmapParse's "Failed to parse
    bitmap", whoever reads the set (virsh parses its cpulists into fewer bits)."""
    cpus = _bitmap_bits(text, size)
    if cpus is None:
        raise XMLInvalidArgError(f"Failed to parse bitmap '{text}'", line)  # virBitmapParse's words
    if not cpus and not empty_ok:
        raise XMLError(f"cpuset {text!r} selects no CPU", line)
    return frozenset(cpus)


def validate_name(name: str | None, line: int | None = None, what: str = "domain") -> None:
    """libvirt's rules plus two of pyvirt's, because names become file and directory names.

    Refused: empty, longer than NAME_MAX bytes, containing '/' or NUL (libvirt's own rule,
    the name is a path component), '.' and '..' or a leading '.' (hidden/relative path
    components), a leading '-' (would read as an option on command lines), control characters.
    """
    if not name:
        raise XMLValidationError(f"{what} name must not be empty", line)
    if len(name.encode()) > NAME_MAX:
        raise XMLValidationError(f"{what} name is longer than {NAME_MAX} bytes: it names files (NAME.xml), "
                                 "and a file name has at most 255", line)
    if "/" in name:
        raise XMLValidationError(f"name {name} cannot contain '/'", line, libvirt_words=True)
    if name.startswith("."):
        raise XMLValidationError(f"name {name!r} cannot start with '.'", line)
    if name.startswith("-"):
        raise XMLValidationError(f"name {name!r} cannot start with '-'", line)
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise XMLValidationError("name cannot contain control characters", line)


def normalize_uuid(value: str, line: int | None) -> str:
    """virUUIDParse's reading (hex pairs, '-' or blanks between them, blanks around; no braces
    or ``urn:uuid:``, which Python's UUID takes), stored in the canonical form."""
    from .uuids import parse_uuid

    canonical = parse_uuid(value)
    if canonical is None:
        raise XMLInternalError("malformed uuid element", line)  # virUUIDParse's refusal
    return canonical


def _secret_ref(ref: SecretRef, what: str) -> None:
    """virSecretLookupParseSecret: one of uuid or usage; a uuid libvirt can read."""
    uuid, usage, line = ref.uuid, ref.usage, ref.line
    if uuid is None and usage is None:
        raise XMLError(f"missing uuid or usage attribute of <{what}/secret>", line)
    if uuid is not None and usage is not None:
        raise XMLError(f"either uuid or usage attribute must be provided, not both (<{what}/secret>)", line)
    if uuid is not None:
        from .uuids import parse_uuid

        canonical = parse_uuid(uuid)
        if canonical is None:
            raise XMLError(f"invalid uuid '{uuid}' of <{what}/secret>", line)
        ref.uuid = canonical


def _validate_virtiofs(fs: Filesystem) -> None:
    """qemuValidateDomainDeviceDefFS for virtiofs (libvirt 9.0's words)."""
    if fs.accessmode not in (None, "passthrough"):
        raise XMLConfigError("virtiofs only supports passthrough accessmode", fs.line)
    if fs.driver_wrpolicy is not None:
        raise XMLConfigError("virtiofs does not support wrpolicy", fs.line)
    if fs.model is not None:
        raise XMLConfigError("virtiofs does not support model", fs.line)
    if fs.readonly:
        raise XMLConfigError("virtiofs does not yet support read-only mode", fs.line)
    if fs.source_socket is None and not fs.source_dir:
        raise XMLError("missing source dir of a virtiofs filesystem", fs.line)


def _validate_idmap(dom: Domain) -> None:
    """virDomainIdmapDefParseXML and its caller: every number given, each map sorted by
    ``start``, uids and gids mapped both, and the container's root (start 0) mapped."""
    if dom.idmap is None:
        return
    uids, gids = dom.idmap.uids, dom.idmap.gids
    for entries in (uids, gids):
        for e in entries:
            if e.start is None or e.target is None or e.count is None:
                raise XMLError("invalid idmap start/target/count settings", e.line, libvirt_words=True)
        entries.sort(key=lambda e: e.start or 0)
    if bool(uids) != bool(gids):
        raise XMLConfigError("uid and gid should be mapped both", (uids or gids)[0].line)
    if uids and (uids[0].start != 0 or gids[0].start != 0):
        raise XMLConfigError("You must map the root user of container", uids[0].line)


#: virSecretUsageType: the kinds of secret an <auth><secret type=> may name
_SECRET_USAGE_TYPES = ("none", "volume", "ceph", "iscsi", "tls", "vtpm")


def _validate_nvme(disk: Disk) -> None:
    """virDomainDiskSourceNVMeParse and virDomainDiskDefValidate: an NVMe disk is a namespace
    (counted from 1) of a controller at a host PCI address."""
    if disk.type != "nvme":
        return
    if disk.source_type is None:
        raise XMLError("missing 'type' attribute to disk source", disk.line, libvirt_words=True)
    if disk.source_type != "pci":
        raise XMLError(f"unsupported source type '{disk.source_type}'", disk.line, libvirt_words=True)
    if disk.source_namespace is None:
        raise XMLError("missing 'namespace' attribute to disk source", disk.line, libvirt_words=True)
    a = disk.source_pci
    if a is None:
        raise XMLError("NVMe disk source is missing address", disk.line, libvirt_words=True)
    if None in (a.bus, a.slot, a.function):
        raise XMLError("NVMe disk source address needs bus, slot and function", a.line)
    if disk.source_namespace == 0:
        raise XMLConfigError("NVMe namespace can't be zero", disk.line)


def _validate_disk_secrets(disk: Disk) -> None:
    """A disk's <auth> and <encryption> (libvirt's virStorageAuthDefParse,
    virStorageEncryptionParseNode and the disk parser's placement rules)."""
    for name in ("auth", "encryption"):
        if getattr(disk, name) is not None and getattr(disk, f"source_{name}") is not None:
            raise XMLUnsupportedError(f"an <{name}> definition already found for disk source", disk.line)
    auth = disk.disk_auth
    if auth is not None:
        if not auth.username:
            raise XMLError("missing username for auth", auth.line)
        if auth.secret is None:
            raise XMLError("Missing <secret> element in auth", auth.line)
        _secret_ref(auth.secret, "auth")
        if auth.secret.type not in _SECRET_USAGE_TYPES:  # virSecretUsageTypeFromString of NULLSTR()
            raise XMLConfigError(f"unknown secret type '{auth.secret.type or '<null>'}'", auth.secret.line)
        want = {"iscsi": "iscsi", "rbd": "ceph"}.get(disk.source_protocol or "")
        if auth.secret.type is not None and want is not None and auth.secret.type != want:
            raise XMLUnsupportedError(f"invalid secret type '{auth.secret.type}'", auth.secret.line)
    layers = [(disk.driver_type, disk.disk_encryption)]
    layer = disk.backing_store
    while layer is not None:  # each backing image may have its own
        layers.append((layer.format_type, layer.source_encryption))
        layer = layer.backing_store
    for fmt, enc in layers:
        if enc is None:
            continue
        if enc.format is None:
            raise XMLError("unknown volume encryption format type (null)", enc.line)
        if fmt not in (None, "raw", "qcow2"):  # qemuValidateDomainDeviceDefDisk
            raise XMLUnsupportedError("encryption is supported only with 'raw' and 'qcow2' image format", enc.line)
        for ref in enc.secrets:
            if ref.type is None:
                raise XMLError("missing volume encryption secret type", ref.line)
            if ref.type != "passphrase":
                raise XMLError(f"unknown volume encryption secret type {ref.type}", ref.line)
            _secret_ref(ref, "encryption")


def _disk_source_empty(disk: Disk) -> bool:
    """virStorageSourceIsEmpty: no path for a local source, no protocol for a network one."""
    if disk.type == "network":
        return disk.source_protocol is None
    if disk.type == "volume":
        return not (disk.source_pool or disk.source_volume)
    if disk.type in ("vhostuser", "nvme"):
        return False  # their own sources are checked where they are parsed or built
    return not (disk.source_file or disk.source_dev or disk.source_dir)


#: virStorageSourceCookie{Name,Value}InvalidChars: RFC 6265's token and cookie-octet
_COOKIE_NAME_BAD = frozenset(chr(c) for c in range(1, 0x21)) | frozenset('()<>@,;:\\"/[]?={}\x7f')
_COOKIE_VALUE_BAD = frozenset(chr(c) for c in range(1, 0x21)) | frozenset('",;\\\x7f')


def _validate_net_source(src: object) -> None:
    """virDomainStorageNetworkParse... rules of a network source (a disk's or a backing layer's):
    the protocol is required once there is a <source>; cookies are RFC 6265's
    (virStorageSourceNetCookiesValidate)."""
    line = getattr(src, "line", None)
    if getattr(src, "type", None) == "network" and src.source_protocol is None \
            and (src.source_name or src.source_hosts):  # type: ignore[attr-defined]
        raise XMLError("Missing required attribute 'protocol' in element 'source'", line, libvirt_words=True)
    cookies = getattr(src, "source_cookies", ())
    for i, cookie in enumerate(cookies):
        name, value = cookie.name or "", cookie.value or ""
        if not name:
            raise XMLError("cookie name must not be empty", cookie.line or line, libvirt_words=True)
        if set(name) & _COOKIE_NAME_BAD:
            raise XMLError(f"cookie name '{name}' contains invalid characters", cookie.line or line,
                           libvirt_words=True)
        check = value
        if value.startswith('"'):  # an optionally quoted value (an unbalanced quote is invalid)
            check = value[1:-1] if len(value) >= 2 and value.endswith('"') else "\x01"
        if set(check) & _COOKIE_VALUE_BAD:
            raise XMLError(f"value of cookie '{name}' contains invalid characters", cookie.line or line,
                           libvirt_words=True)
        if any(other.name == name for other in cookies[i + 1:]):
            raise XMLError(f"duplicate cookie '{name}'", cookie.line or line, libvirt_words=True)


def _validate_layer(layer: object, top: bool) -> None:
    """A disk's image or one backing layer: a slice other than 'storage' is not read; a backing
    layer with a type needs a format and a source (virDomainDiskBackingStoreParse, in its order)."""
    if getattr(layer, "slice_type", None) is not None and layer.slice_type != "storage":  # type: ignore[attr-defined]
        layer.slice_type = layer.slice_offset = layer.slice_size = None  # type: ignore[attr-defined]
    below = getattr(layer, "backing_store", None)
    if below is not None and below.type is None and below != type(below)():
        # a <backingStore> without type is the chain's end, whatever it holds (libvirt reads no more)
        layer.backing_store = type(below)()  # type: ignore[attr-defined]
    kind = getattr(layer, "type", None)
    if not top and kind is not None:
        line = getattr(layer, "line", None)
        if layer.format_type is None:  # type: ignore[attr-defined]
            raise XMLError("missing disk backing store format", line, libvirt_words=True)
        if kind not in ("file", "block", "network", "dir", "volume", "nvme", "vhostuser", "vhostvdpa") \
                or not layer.source_given:  # type: ignore[attr-defined]  # an unknown type reads no <source>
            raise XMLError("missing disk backing store source", line, libvirt_words=True)
        if kind not in ("file", "block", "network"):
            raise XMLUnsupportedError(f"unsupported value '{kind}' for attribute 'type' of <backingStore>", line)
    _validate_net_source(layer)


def _disk_source_name(disk: Disk) -> str:
    """virDomainDiskGetSource as libvirt's messages print it (NULLSTR: '<null>' when none)."""
    if disk.type == "volume":
        return "<null>"
    return disk.source_file or disk.source_dev or disk.source_dir or disk.source_name or "<null>"


def _duplicate_disk_target(disks: list[Disk]) -> None:
    """virDomainDefCheckDuplicateDiskInfo: the first pair with one target, in the order libvirt's
    parser keeps disks (virDomainDiskInsertPreAlloced: grouped by bus, by target within a bus),
    naming the earlier disk's source first."""
    from .defaults import disk_bus
    from .generic_defaults import order_disks

    ordered = order_disks(disks, bus=lambda disk: disk.target_bus or disk_bus(disk.target_dev or ""))
    for i, a in enumerate(ordered):
        for b in ordered[i + 1:]:
            if a.target_dev == b.target_dev:
                raise XMLValidationError(f"target '{a.target_dev}' duplicated for disk sources "
                                         f"'{_disk_source_name(a)}' and '{_disk_source_name(b)}'", b.line,
                                         libvirt_words=True)


def _addr_key(a: Address, dev: object) -> tuple[object, ...] | None:
    """The identity of an address; drive addresses are per controller type (an IDE disk and a
    floppy may both sit at controller 0 unit 0)."""
    if a.type == "pci" and a.slot is not None and not a.is_empty_pci():
        return ("pci", a.domain or 0, a.bus or 0, a.slot, a.function or 0)
    if a.type == "drive":
        bus = getattr(dev, "target_bus", None) or type(dev).__name__
        return ("drive", bus, a.controller or 0, a.bus or 0, a.target or 0, a.unit or 0)
    if a.type == "virtio-serial" and a.port is not None:
        return ("virtio-serial", a.controller or 0, a.bus or 0, a.port)
    return None


def _validate_iotune(t: object, dev: str | None) -> None:
    """libvirt's virDomainDiskIoTuneValidate: a total rate excludes its read/write rates."""
    for kind in ("bytes_sec", "iops_sec", "bytes_sec_max", "iops_sec_max", "bytes_sec_max_length",
                 "iops_sec_max_length"):
        total = getattr(t, f"total_{kind}")
        if total and (getattr(t, f"read_{kind}") or getattr(t, f"write_{kind}")):
            raise XMLValidationError(f"total and read/write {kind} cannot be set at the same time "
                                     f"(disk '{dev}')", getattr(t, "line", None))
    for kind in ("bytes_sec", "iops_sec"):
        for side in ("total", "read", "write"):
            if getattr(t, f"{side}_{kind}_max") and not getattr(t, f"{side}_{kind}"):
                raise XMLValidationError(f"value '{side}_{kind}' cannot be smaller than '{side}_{kind}_max' "
                                         f"(disk '{dev}')", getattr(t, "line", None))


def _validate_device_counts(dom: Domain, qemu: bool) -> None:
    """libvirt's one-of-a-kind rules: boot orders, primary video, panic models, TPMs."""
    devs = dom.devices
    orders: set[int] = set()
    for dev in dom.all_devices():
        order = getattr(dev, "boot_order", None)
        if order is not None:
            if order in orders:
                raise XMLConfigError(f"boot order '{order}' used for more than one device",
                                     getattr(dev, "line", None))
            orders.add(order)
            if dom.os is not None and dom.os.boot_devs:  # virDomainDefParseBootXML
                raise XMLConfigError("per-device boot elements cannot be used together with os/boot elements",
                                     getattr(dev, "line", None))
    if len(devs.videos) > 1 and any(v.model_type == "none" for v in devs.videos):
        raise XMLConfigError("a 'none' video type must be the only video device defined for the domain",
                             devs.videos[-1].line)
    if sum(1 for v in devs.videos if v.model_primary) > 1:
        raise XMLConfigError("Only one primary video device is supported", devs.videos[-1].line)
    # virDomainDefRejectDuplicatePanics runs after the driver's device post-parse: the QEMU
    # driver has made a model-less x86 panic 'isa' by then, the test driver leaves it 'default'
    models = [p.model or ("isa" if qemu else "default") for p in devs.panics]
    for model in set(models):
        if models.count(model) > 1:
            raise XMLValidationError(f"Multiple panic devices with model '{model}'", devs.panics[-1].line,
                                     libvirt_words=True)
    if qemu and len(devs.tpms) > 1:
        # qemuValidateDomainDefTPMs: the QEMU driver's rule, which the test driver does not apply
        raise XMLDriverError("only a single TPM non-proxy device is supported", devs.tpms[-1].line)
    if len(devs.watchdogs) > 1:  # libvirt 9.0 keeps one watchdog (several came with 9.1)
        raise XMLInternalError("only a single watchdog device is supported", devs.watchdogs[-1].line)
    for disk in devs.disks:
        a = disk.address
        if disk.target_bus == "virtio" and a is not None and a.type not in ("pci", None):
            raise XMLConfigError(f"virtio disk cannot have an address of type '{a.type}'", disk.line)
        if disk.target_bus in ("ide", "sata", "scsi", "fdc") and a is not None and a.type not in ("drive", None):
            # virDomainDiskDefValidate (every driver)
            raise XMLConfigError(f"Invalid address type '{a.type}' for the disk '{disk.target_dev}' with the "
                                 f"bus type '{disk.target_bus}'", disk.line)
    for c in devs.controllers:  # virDomainControllerDefValidate (every driver)
        if c.type == "pci" and c.model in ("pci-root", "pcie-root") and c.address is not None \
                and (c.index or 0) == 0:
            raise XMLConfigError("pci-root and pcie-root controllers should not have an address", c.line)


def _validate_memory_devices(dom: Domain, qemu: bool) -> None:
    """libvirt's memory hotplug rules: <maxMemory> with slots, guest NUMA (the QEMU driver's, qemuDomainDefValidateMemoryHotplug: the test driver takes a DIMM
    without them); the devices' total within <memory> (virDomainDefPostParseMemory, every
    driver).  <maxMemory> alone enables hotplug, and QEMU would then add a NUMA node of its
    own: libvirt asks for the guest's (ppc64 excepted) with or without a memory device.  The
    QEMU driver's refusals are 'unsupported configuration', as libvirt 9.0's define says them."""
    from .define_rules import _max_memory

    _max_memory(dom)  # virDomainDefParseMemory's: the parser's, before any validation
    mems = dom.devices.memories
    for mem in mems:  # virDomainMemorySourceDefParseXML reads the node mask as a bitmap
        if mem.source_nodemask is not None:
            parse_cpuset(mem.source_nodemask, mem.line, empty_ok=True)
    cells = dom.cpu.numa_cells if dom.cpu is not None else []
    total = sum(m.target_size or 0 for m in mems)
    if mems and not cells and dom.memory is not None and total > dom.memory:  # with cells: memory is theirs
        raise XMLValidationError("Total size of memory devices exceeds the total memory size", mems[0].line,
                                 libvirt_words=True)
    if not qemu:
        _memory_target_nodes(mems, len(cells))
        return
    if mems and dom.max_memory is None:
        raise XMLConfigError("cannot use/hotplug a memory device when domain 'maxMemory' is not defined",
                                 mems[0].line)
    ppc64 = dom.os is not None and (dom.os.arch or "").startswith("ppc64")
    if dom.max_memory is not None and not cells and not ppc64:
        raise XMLConfigError("At least one numa node has to be configured when enabling memory hotplug",
                                 mems[0].line if mems else dom.line)
    for mem in mems:
        if mem.target_size is None:
            raise XMLError("missing element <target><size> of <memory>", mem.line)
        a = mem.address
        if mem.model == "dimm" and a is not None and a.type != "dimm":
            raise XMLValidationError("only 'dimm' addresses are supported for the pc-dimm device", mem.line)
        if mem.model in ("dimm", "nvdimm") and a is not None and a.type == "dimm":
            _dimm_slot(dom, mem)
        if mem.model == "virtio-pmem" and mem.access == "private":  # qemuValidateDomainDeviceDefMemory
            raise XMLConfigError("shared access mode required for virtio-pmem device", mem.line)
        if mem.model in ("nvdimm", "virtio-pmem") and mem.discard is True:
            # virDomainMemoryDefValidate: their file is the guest's persistent data (and 'no',
            # accepted, is not passed on: libvirt writes discard-data for RAM backends only)
            raise XMLConfigError("discard is not supported for nvdimms" if mem.model == "nvdimm" else
                                 "discard is not supported for model 'virtio-pmem'", mem.line)
        if mem.model == "virtio-mem" and mem.target_block is None:
            raise XMLError("virtio-mem device needs <target><block>", mem.line)
    slotted = sum(1 for m in mems if m.model in ("dimm", "nvdimm"))
    if dom.max_memory_slots and len(mems) > dom.max_memory_slots >= slotted:
        # every memory device counts, virtio-mem and virtio-pmem too (libvirt 9.0); (NV)DIMMs
        # beyond the slots are refused first, when libvirt assigns their slots
        raise XMLConfigError(f"memory device count '{len(mems)}' exceeds slots count '{dom.max_memory_slots}'",
                             mems[dom.max_memory_slots].line)
    _memory_target_nodes(mems, len(cells))


def _dimm_slot(dom: Domain, mem: MemoryDevice) -> None:
    """qemuDomainDefValidateMemoryHotplugDevice: a (NV)DIMM's given slot within the slots, and no
    slot or base address another memory device holds."""
    a = mem.address
    if a.slot is not None and dom.max_memory_slots is not None and a.slot >= dom.max_memory_slots:
        raise XMLConfigError(f"memory device slot '{a.slot}' exceeds slots count '{dom.max_memory_slots}'", mem.line)
    for other in dom.devices.memories:
        b = other.address
        if other is mem or b is None or b.type != "dimm":
            continue
        if a.slot is not None and a.slot == b.slot:
            raise XMLConfigError(f"memory device slot '{a.slot}' is already being used by another memory device",
                                 mem.line)
        if a.base and a.base == b.base:
            raise XMLConfigError(f"memory device base '{a.base:#x}' is already being used by another memory "
                                 "device", mem.line)


def _memory_target_nodes(mems: list[MemoryDevice], cells: int) -> None:
    """virDomainMemoryDefValidate (every driver, after the QEMU driver's own rules): a memory
    device's explicit target node must be one of the guest's NUMA nodes."""
    for mem in mems:
        if mem.target_node is None:
            continue
        if not cells:
            raise XMLDetailError("can't add memory backend as guest has no NUMA nodes configured", mem.line)
        if mem.target_node >= cells:
            raise XMLDetailError(f"can't add memory backend for guest node '{mem.target_node}' as the guest "
                                 f"has only '{cells}' NUMA nodes configured", mem.line)


def _validate_iothreads(dom: Domain) -> None:
    """Unique ids; more ids than <iothreads> raise the count (libvirt's rule)."""
    ids = [t.id for t in dom.iothread_ids]
    if any(i is None for i in ids):
        raise XMLError("Missing required attribute 'id' in element 'iothread'", dom.line, libvirt_words=True)
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise XMLError(f"duplicate iothread id '{dup}' found", dom.line, libvirt_words=True)
    for t in dom.iothread_ids:
        if t.thread_pool_max == 0:  # virDomainIOThreadIDDefParseXML, in its words
            raise XMLConfigError("thread_pool_max must be a positive integer", t.line)
        if t.thread_pool_min is not None and t.thread_pool_max is not None and \
                t.thread_pool_min > t.thread_pool_max:
            # virDomainIOThreadIDDefParseXML, in its words
            raise XMLConfigError("thread_pool_min must be smaller or equal to thread_pool_max", t.line)
    if ids and (dom.iothreads or 0) < len(ids):
        dom.iothreads = len(ids)


def _validate_hugepages(dom: Domain) -> None:
    """virDomainDefPostParseMemtune + virDomainDefMemtuneValidate: without guest NUMA a page's
    ``nodeset='0'`` means the whole guest (the nodeset is dropped); two pages without nodeset, or
    two whose nodesets intersect, or a page for a node the guest lacks, are refused."""
    from .units import unit_scale

    mb = dom.memory_backing
    if mb is None:
        return
    for page in mb.pages:  # virDomainHugepagesParseNode
        if page.size is None:
            raise XMLError("missing element or attribute './@size'", page.line, libvirt_words=True)
        try:
            unit_scale(page.unit, 1024)
        except ValueError:
            raise XMLInvalidArgError(f"unknown suffix '{page.unit}'", page.line) from None
        if page.size == 0:
            raise XMLDetailError("hugepage size can't be zero", page.line)
    if (mb.hugepages or mb.pages) and mb.source_type == "anonymous":
        raise XMLConfigError("hugepages are not allowed with anonymous memory source", mb.line)
    if not (dom.cpu is not None and dom.cpu.numa_cells):
        for page in mb.pages:
            if page.nodeset is not None and parse_cpuset(page.nodeset, page.line) == {0}:
                page.nodeset = None

    def kib(page: object) -> int:
        return (getattr(page, "size", 0) or 0) * unit_scale(getattr(page, "unit", None), 1024) // 1024

    for i, page in enumerate(mb.pages):
        for other in mb.pages[:i]:
            if page.nodeset is None and other.nodeset is None:
                raise XMLDetailError(f"two master hugepages detected: {kib(page)} and {kib(other)}", page.line)
            if page.nodeset is not None and other.nodeset is not None and \
                    parse_cpuset(page.nodeset, page.line) & parse_cpuset(other.nodeset, other.line):
                raise XMLDetailError(f"nodeset attribute of hugepages of sizes {kib(page)} and {kib(other)} "
                                     "intersect", page.line)
    nodes = {c.id or 0 for c in dom.cpu.numa_cells} if dom.cpu is not None and dom.cpu.numa_cells else {0}
    for page in mb.pages:  # the nodes a page names exist (libvirt refuses this at define, not at start)
        missing = sorted(parse_cpuset(page.nodeset, page.line) - nodes) if page.nodeset is not None else []
        if missing:
            raise XMLDetailError(f"hugepages: node {missing[0]} not found", page.line)


def _validate_numa(dom: Domain) -> None:
    """Guest NUMA cells (ids 0..n-1 in order, vCPUs within <vcpu>, memory to KiB) and
    <numatune> (nodesets, memnodes naming existing cells), as libvirt's virDomainNuma* checks."""
    from .units import unit_scale

    cells = dom.cpu.numa_cells if dom.cpu is not None else []
    seen_ids: set[int] = set()
    for n, cell in enumerate(cells):  # virDomainNumaDefParseXML: ids in any order, each < the count
        if cell.id is None:
            cell.id = n
        if cell.id >= len(cells):
            raise XMLError("Exactly one 'cell' element per guest NUMA cell allowed, non-contiguous ranges or "
                           "ranges not starting from 0 are not allowed", cell.line, libvirt_words=True)
        if cell.id in seen_ids:
            raise XMLError(f"Duplicate NUMA cell info for cell id '{cell.id}'", cell.line, libvirt_words=True)
        seen_ids.add(cell.id)
    cells.sort(key=lambda c: c.id)  # libvirt keeps (and writes, and numbers its -numa nodes) by id
    seen_cpus: set[int] = set()
    earlier: list[tuple[int | None, set[int]]] = []
    for cell in cells:
        if cell.memory is None:
            # virDomainParseMemory's words for a required scaled value
            raise XMLError("missing element or attribute './@memory'", cell.line, libvirt_words=True)
        try:
            scale = unit_scale(cell.unit, 1024)
        except ValueError:
            raise XMLInvalidArgError(f"unknown suffix '{cell.unit}'", cell.line) from None
        cell.memory, cell.unit = (cell.memory * scale + 1023) // 1024, "KiB"
        if cell.cpus is not None:
            cpus = parse_cpuset(cell.cpus, cell.line, empty_ok=True)  # a cell may have no vCPU
            if dom.vcpu is not None and cpus and max(cpus) >= dom.vcpu:
                total = sum(len(parse_cpuset(c.cpus, c.line, empty_ok=True)) for c in cells if c.cpus)
                # virDomainDefPostParseCheckFeatures... the count first, then the highest id
                raise XMLInternalError("Number of CPUs in <numa> exceeds the <vcpu> count" if total > dom.vcpu
                                       else "CPU IDs in <numa> exceed the <vcpu> count", cell.line)
            if cpus & seen_cpus:  # virDomainNumaDefValidate
                other = next(i for i, c in earlier if c & cpus)
                raise XMLConfigError(f"NUMA cells {cell.id} and {other} have overlapping vCPU ids", cell.line)
            seen_cpus |= cpus
            earlier.append((cell.id, cpus))
    if dom.cpu is not None:
        from . import hmat

        hmat.check(cells, dom.cpu.numa_interconnects)
    tune = dom.numatune
    if tune is None:
        return
    if tune.memory_nodeset is not None and not parse_cpuset(tune.memory_nodeset, tune.line, empty_ok=True):
        raise XMLConfigError(f"Invalid value of 'nodeset': {tune.memory_nodeset}", tune.line)
    if tune.memnodes and tune.memory_placement == "auto":
        raise XMLConfigError("Per-node binding is not compatible with automatic NUMA placement.", tune.line)
    bound: set[int] = set()
    for mn in tune.memnodes:  # virDomainNumatuneNodeParseXML's words
        if mn.cellid is None and cells:
            raise XMLError("Missing required attribute 'cellid' in element 'memnode'", mn.line, libvirt_words=True)
        if not cells:
            raise XMLValidationError("Element 'memnode' is invalid without any guest NUMA cells", mn.line)
        if mn.cellid is None or mn.cellid >= len(cells):
            raise XMLValidationError("Argument 'cellid' in memnode element must correspond to existing guest's "
                                     "NUMA cell", mn.line)
        if mn.cellid in bound:
            raise XMLError(f"Multiple memnode elements with cellid {mn.cellid}", mn.line)
        bound.add(mn.cellid)
        if tune.memory_mode == "restrictive" and mn.mode != "restrictive":
            raise XMLError("'restrictive' mode is required in memnode element when mode is 'restrictive' in "
                           "memory element", mn.line)
        if mn.nodeset is None:
            raise XMLError("Missing required nodeset attribute in memnode element", mn.line, libvirt_words=True)
        if not parse_cpuset(mn.nodeset, mn.line, empty_ok=True):
            raise XMLConfigError(f"Invalid value of 'nodeset': {mn.nodeset}", mn.line)


def check_addresses(dom: Domain, *, qemu: bool = True) -> None:
    """No two devices at one address; floppies only where the one FDC has them.  Run at parse
    and again after define-time address assignment (an assigned address may collide with a
    given one, which libvirt refuses too)."""
    seen: dict[tuple[object, ...], int | None] = {}
    first: dict[tuple[object, ...], object] = {}
    if qemu:  # the chipset's functions are taken before any device (qemuDomainValidateDevicePCISlots*)
        seen.update({("pci", 0, *bsf): None for bsf in chipset_functions(dom)})
    for dev in dom.all_devices():
        addr = getattr(dev, "address", None)
        if addr is None:
            continue
        # The FDC limits are QEMU's (qemu_validate), not the generic parser's: libvirt's
        # test driver defines three floppies on fdc (the third on drive controller 1).
        if qemu and addr.type == "drive" and getattr(dev, "target_bus", None) == "fdc":
            for field, limit, what in (("controller", 0, "Only 1 fdc controller is supported"),
                                       ("bus", 0, "Only 1 fdc bus is supported"),
                                       ("target", 0, "target must be 0 for controller fdc")):
                # (a unit above 1 is defined by libvirt 9.0 and refused at start)
                if (getattr(addr, field) or 0) > limit:
                    raise XMLValidationError(what, addr.line or getattr(dev, "line", None))
        key = _addr_key(addr, dev)
        if key is None:
            continue
        if key in seen and key[0] == "pci":  # libvirt's words (virDomainPCIAddressReserveAddrInternal)
            raise XMLValidationError("Attempted double use of PCI Address "
                                     f"{key[1]:04x}:{key[2]:02x}:{key[3]:02x}.{key[4]:x}", addr.line)
        if key in seen and key[0] == "virtio-serial":  # virDomainVirtioSerialAddrReserve
            raise XMLValidationError(f"virtio serial port {key[3]} on controller {key[1]} is already occupied",
                                     addr.line)
        if key in seen and addr.type == "drive" and getattr(first[key], "target_dev", None):
            # virDomainDefCheckDuplicateDriveAddresses names the earlier disk
            a = first[key].address  # type: ignore[attr-defined]
            raise XMLConfigError(f"Found duplicate drive address for disk with target name "
                                 f"'{first[key].target_dev}' controller='{a.controller or 0}' "  # type: ignore[attr-defined]
                                 f"bus='{a.bus or 0}' target='{a.target or 0}' unit='{a.unit or 0}'", addr.line)
        if key in seen and addr.type == "drive" and isinstance(dev, Hostdev) and isinstance(first.get(key), Hostdev):
            # virDomainDefDuplicateHostdevInfoValidate
            raise XMLConfigError(f"SCSI host address controller='{key[2]}' bus='{key[3]}' target='{key[4]}' "
                                 f"unit='{key[5]}' in use by another SCSI host device", addr.line)
        if key in seen:
            shown = key[2:] if addr.type == "drive" else key[1:]
            target = getattr(dev, "target_dev", None)
            whose = f" for disk with target name '{target}'" if addr.type == "drive" and target else ""
            raise XMLValidationError(f"duplicate {addr.type} address {shown}{whose}", addr.line)
        seen[key] = addr.line
        first[key] = dev


def _validate_roms(dom: Domain) -> None:
    """virDomainDeviceInfoParseXML's <rom>: an empty file means disabled (kept for backwards
    compatibility); a disabled ROM takes no tuning."""
    for dev in (*dom.devices.interfaces, *dom.devices.hostdevs):
        if dev.rom_file == "":
            dev.rom_file = None
            dev.rom_enabled = False
        if dev.rom_enabled is False and (dev.rom_bar is not None or dev.rom_file is not None):
            raise XMLValidationError("ROM tuning is not supported when ROM is disabled", dev.line)


def _validate_seclabels(dom: Domain) -> None:
    """virSecurityLabelDefsParseXML: several domain labels each name their security model, once;
    a static label names its label; a dynamic one relabels, a 'none' one does not."""
    labels = dom.seclabels
    for label in labels:
        # the relabel rules of an explicit type (virSecurityLabelDefParseXML)
        if label.type == "dynamic" and label.relabel is False:
            raise XMLConfigError("dynamic label type must use resource relabeling", label.line)
        if label.type == "none" and label.relabel is True:
            raise XMLConfigError("resource relabeling is not compatible with 'none' label type", label.line)
        if label.type == "static" and not (label.label or "").strip():
            raise XMLError("security label is missing", label.line)
    if len(labels) > 1:
        seen: set[str] = set()
        for label in labels:
            if not label.model:
                raise XMLError("missing security model when using multiple labels", label.line)
            if label.model in seen:
                raise XMLValidationError(f"seclabel for model {label.model} is already defined", label.line)
            seen.add(label.model)


def _validate_smartcards(dom: Domain) -> None:
    """virDomainSmartcardDefParseXML's rules."""
    for card in dom.devices.smartcards:
        if card.mode is None:
            raise XMLError("missing smartcard device mode", card.line)
        if card.mode == "host-certificates":
            if len(card.certificates) != 3:
                raise XMLValidationError("host-certificates mode needs exactly three certificates", card.line)
            if card.database is not None and not card.database.startswith("/"):
                raise XMLValidationError(f"expecting absolute path '{card.database}'", card.line)
        elif card.certificates or card.database is not None:
            raise XMLValidationError(f"<certificate>/<database> belong to host-certificates smartcards, "
                                     f"not mode '{card.mode}'", card.line)
        if card.mode == "passthrough" and card.type is None:
            raise XMLError("passthrough mode requires a character device type attribute", card.line)
        if card.mode != "passthrough" and card.type is not None:
            # libvirt's virDomainSmartcardDefParseXML reads type= only for passthrough
            # cards: on the others it is ignored (and not written back), not refused
            card.type = None
        if card.address is not None and card.address.type != "ccid":
            raise XMLValidationError(f"smartcard needs an address of type 'ccid', not '{card.address.type}'",
                                     card.line)


#: libvirt's per-type controller model enums (virDomainControllerModel*); a type not listed
#: (sata, fdc, ccid, isa, xenbus) has none, so any model is unknown there
_CONTROLLER_MODELS = {
    "pci": ("pci-root", "pcie-root", "pci-bridge", "dmi-to-pci-bridge", "pcie-to-pci-bridge", "pcie-root-port",
            "pcie-switch-upstream-port", "pcie-switch-downstream-port", "pci-expander-bus", "pcie-expander-bus"),
    "scsi": ("auto", "buslogic", "lsilogic", "lsisas1068", "vmpvscsi", "ibmvscsi", "virtio-scsi", "lsisas1078",
             "virtio-transitional", "virtio-non-transitional", "ncr53c90", "dc390", "am53c974"),
    "usb": ("piix3-uhci", "piix4-uhci", "ehci", "ich9-ehci1", "ich9-uhci1", "ich9-uhci2", "ich9-uhci3",
            "vt82c686b-uhci", "pci-ohci", "nec-xhci", "qusb1", "qusb2", "qemu-xhci", "none"),
    "ide": ("piix3", "piix4", "ich6"),
    "virtio-serial": ("virtio", "virtio-transitional", "virtio-non-transitional"),
}


#: virDomainChrTargetTypeFromString: the target types each kind of character device takes
#: (a parallel port has none to check)
_CHAR_TARGET_TYPES = {
    "serial": ("none", "isa-serial", "usb-serial", "pci-serial", "spapr-vio-serial", "system-serial",
               "sclp-serial", "isa-debug"),
    "console": ("none", "serial", "xen", "uml", "virtio", "lxc", "openvz", "sclp", "sclplm"),
    "channel": ("none", "guestfwd", "virtio", "xen"),
}


def _validate_chardev_targets(dom: Domain) -> None:
    """virDomainChrDefParseTargetXML's refusals, in its words."""
    devs = dom.devices
    for dev in [*devs.serials, *devs.parallels, *devs.consoles, *devs.channels]:
        kinds = _CHAR_TARGET_TYPES.get(dev.kind)
        if kinds and dev.target_type is not None and dev.target_type not in kinds:
            raise XMLConfigError(f"unknown target type '{dev.target_type}' specified for character device",
                                 dev.line)
        if dev.kind == "channel" and dev.target_type == "guestfwd" and not dev.target_address:
            raise XMLValidationError("guestfwd channel does not define a target address", dev.line,
                                     libvirt_words=True)
        if dev.kind == "channel" and dev.target_type == "guestfwd" and dev.target_port is None:
            raise XMLError("Missing required attribute 'port' in element 'target'", dev.line, libvirt_words=True)
        if dev.kind in ("serial", "parallel", "console") and dev.target_port == -1:
            dev.target_port = None  # virDomainChrDefParseTargetXML: -1 is no port given


def _validate_usb_none(dom: Domain) -> None:
    """virDomainDefParseXML: with ``<controller type='usb' model='none'/>`` no USB input or
    host device can be attached."""
    devs = dom.devices
    usb = [c for c in devs.controllers if c.type == "usb"]
    if not any(c.model == "none" for c in usb):
        return
    if len(usb) > 1:  # 'none' beside any other USB controller, or twice
        raise XMLDetailError("Can't add another USB controller: USB is disabled for this domain", usb[1].line)
    for inp in devs.inputs:
        if inp.bus == "usb":
            raise XMLConfigError("Can't add USB input device. USB bus is disabled", inp.line)
    for h in devs.hostdevs:
        if h.type == "usb":
            raise XMLConfigError("Can't add host USB device: USB is disabled in this host", h.line)


def _validate_controller_models(dom: Domain) -> None:
    """virDomainControllerDefParseXML reads `model` by the controller's type: a model of
    another type is as unknown as a made-up one."""
    for c in dom.devices.controllers:
        if c.model is not None and c.model not in _CONTROLLER_MODELS.get(c.type or "", ()):
            raise XMLConfigError(f"Unknown model type '{c.model}'", c.line)


def _usb_companion(c: Controller) -> bool:
    """A USB1 companion of an EHCI master: it has ``<master>`` or is one of ICH9's UHCIs
    (which libvirt gives a master by default)."""
    return c.master_startport is not None or (c.model or "").startswith("ich9-uhci")


def _validate_pci_root_index(dom: Domain) -> None:
    """The machine's root bus is PCI controller index 0 (qemuDomainDefPostParse, before the
    device rules): checked here, with the indexes libvirt's post-parse gives controllers written
    without one (the lowest unused, defaults._controllers assigns them), so that this refusal
    comes before the device rules' as in libvirt 9.0."""
    used = {c.index for c in dom.devices.controllers if c.type == "pci" and c.index is not None}
    for c in dom.devices.controllers:
        if c.type != "pci":
            continue
        index = c.index
        if index is None:
            index = next(i for i in range(len(used) + 1) if i not in used)
            used.add(index)
        root = "pcie-root" if is_q35(dom) else "pci-root"
        if index == 0 and c.model not in (None, root):
            raise XMLValidationError(f"The PCI controller with index='0' must be model='{root}' for this "
                                     f"machine type, but model='{c.model}' was found instead", c.line)


def validate_domain(dom: Domain, *, qemu: bool = True, define_rules: bool = True) -> None:
    """Required elements, name, uuid, MACs, unique target devs and addresses.

    ``qemu=False`` leaves out what only libvirt's QEMU driver checks (qemuValidate*: which
    machines take an IOMMU), as libvirt's test driver does.  ``define_rules=False`` leaves out
    :func:`check_define_rules` (a stored definition re-read: see parse_domain)."""
    if dom.os is not None and dom.os.type is None:  # virDomainDefParseCaps: <os> needs a <type>
        raise XMLError("an os <type> must be specified", dom.os.line, libvirt_words=True)
    if dom.type is None:
        raise XMLInternalError("missing domain type attribute", dom.line)
    validate_name(dom.name, dom.line)
    if dom.uuid is not None:
        dom.uuid = normalize_uuid(dom.uuid, dom.line)
    if dom.genid is not None and dom.genid.strip():
        try:
            dom.genid = normalize_uuid(dom.genid.strip(), dom.line)
        except XMLInternalError:
            raise XMLInternalError("malformed genid element", dom.line) from None  # virDomainDefParseXML's words
    for event in ("poweroff", "reboot"):  # virDomainDefLifecycleActionAllowed: core dumps are for crashes
        action = getattr(dom, f"on_{event}")
        if action in ("coredump-destroy", "coredump-restart"):
            raise XMLConfigError(f"Lifecycle event '{event}' doesn't support '{action}' action", dom.line)
    cpu = dom.cpu
    if cpu is not None and cpu.cache_level is not None and not 1 <= cpu.cache_level <= 3:
        raise XMLError("invalid CPU cache level, must be in range [1,3]", cpu.line, libvirt_words=True)
    f = dom.features
    if f is not None and f.smm_tseg is not None:
        if not f.smm:  # virDomainFeaturesDefParse reads <tseg> only with SMM on
            f.smm_tseg = f.smm_tseg_unit = None
        else:
            from .units import unit_scale

            try:
                unit_scale(f.smm_tseg_unit, 1)
            except ValueError:
                raise XMLInvalidArgError(f"unknown suffix '{f.smm_tseg_unit}'", f.line) from None
    _validate_sysinfo(dom)
    _validate_idmap(dom)
    _validate_qemu_commandline(dom)
    _validate_firmware(dom)
    if (dom.memory == 0 or dom.memory is None and dom.max_memory is None) \
            and not (dom.cpu is not None and dom.cpu.numa_cells):
        # virDomainDefPostParseMemory: the guest NUMA cells may give the size instead
        raise XMLError("Memory size must be specified via <memory> or in the <numa> configuration", dom.line,
                       libvirt_words=True)
    if dom.os is None:
        raise XMLError("missing element <os>", dom.line)
    if dom.os.acpi_table is not None and dom.os.acpi_table_type is None:  # virDomainDefParseBootOptions
        raise XMLError("Missing acpi table type", dom.os.line, libvirt_words=True)
    if dom.vcpu_cpuset is not None:
        parse_cpuset(dom.vcpu_cpuset, dom.line)
    _validate_numa(dom)
    _validate_hugepages(dom)
    _validate_iothreads(dom)
    _validate_cputune(dom)
    _validate_memory_devices(dom, qemu)
    _validate_controller_models(dom)
    if qemu:
        _validate_pci_root_index(dom)
    _validate_usb_none(dom)
    _validate_chardev_targets(dom)
    _validate_device_counts(dom, qemu)
    _validate_tpms(dom)
    _validate_graphics(dom)
    _validate_audio_refs(dom, qemu)
    _validate_chardev_sources(dom)
    _validate_expander_buses(dom, qemu)
    from .generic_defaults import nic_driver_rule

    for nic in dom.devices.interfaces:
        _validate_teaming_coalesce(nic, qemu)
        for ip in nic.ips:
            _nic_ip_address(ip)
        nic_driver_rule(nic)
    for rule in dom.devices.redirfilter:
        redirfilter.normalise(rule)
    _validate_hostdevs(dom)
    _validate_smartcards(dom)
    _validate_seclabels(dom)
    _validate_roms(dom)
    for v in dom.devices.videos:  # virDomainVideoDefValidate
        if v.driver_name == "vhostuser" and v.model_type != "virtio":
            raise XMLValidationError("'vhostuser' driver is only supported with 'virtio' device", v.line)
        if v.model_accel3d and v.model_type != "virtio":
            raise XMLConfigError("3d acceleration is supported only with 'virtio' video device", v.line)
        if v.model_rendernode and v.model_type != "virtio":
            raise XMLValidationError("<acceleration rendernode> is only supported with 'virtio' video", v.line)
        if v.model_type not in ("qxl", None):  # qemuValidateDomainDeviceDefVideo
            for name, value in (("ram", v.model_ram), ("vram64", v.model_vram64), ("vgamem", v.model_vgamem)):
                if value:
                    raise XMLValidationError(f"{name} attribute only supported for video type qxl", v.line)
    for video in dom.devices.videos:  # only primary='yes' is read (virDomainVideoDefParseXML)
        if isinstance(video.model_primary, BadBool):
            video.model_primary = None
    for shm in dom.devices.shmems:  # virDomainShmemDefParseXML
        if not shm.name:
            raise XMLValidationError("shmem element must contain 'name' attribute", shm.line, libvirt_words=True)
        if "/" in shm.name:
            raise XMLConfigError("shmem name cannot include '/' character", shm.line)
    for wd in dom.devices.watchdogs:  # virDomainWatchdogDefParseXML
        if wd.model is None:
            raise XMLInternalError("watchdog must contain model name", wd.line)
    for tpm in dom.devices.tpms:  # virDomainTPMDefParseXML
        if tpm.backend_type is None:
            raise XMLValidationError("missing TPM device backend", tpm.line, libvirt_words=True)
    for fs in dom.devices.filesystems:  # libvirt keeps create modes as 4 octal digits
        # virDomainFSDefParseXML: the source is the attribute of the filesystem's type (a
        # vhost-user socket stands for any); a RAM filesystem needs its usage, a volume none
        src = {"mount": fs.source_dir, "bind": fs.source_dir, "file": fs.source_file,
               "block": fs.source_dev, "template": fs.source_name}.get(fs.type or "mount")
        if fs.type == "ram" and fs.source_usage is None:
            raise XMLError("missing 'usage' attribute for RAM filesystem", fs.line, libvirt_words=True)
        if src is None and fs.type not in ("ram", "volume") and not fs.source_socket:
            raise XMLNoSourceError("missing source information for device"
                                   + (f" {fs.target_dir}" if fs.target_dir else ""), fs.line)
        for name in ("fmode", "dmode"):
            if getattr(fs, name) is not None:
                setattr(fs, name, f"{int(getattr(fs, name), 8):04o}")
        if qemu and fs.driver_type == "virtiofs":
            _validate_virtiofs(fs)
    if dom.vcpu_current is not None and dom.vcpu is not None and dom.vcpu_current > dom.vcpu:
        raise XMLConfigError("maximum vCPU count must not be less than current vCPU count", dom.line)
    if dom.vcpu_current == 0:  # virDomainDefSetVcpus keeps vCPU 0 online
        raise XMLConfigError("vcpu 0 can't be offline", dom.line)
    devs = dom.devices
    targets: dict[str, Any] = {}
    for disk in devs.disks:
        if disk.driver_queues == 0:  # virXMLPropUInt reads 0 as none given
            disk.driver_queues = None
        if disk.wwn is not None and not re.fullmatch(r"(0x)?[0-9a-fA-F]{16}", disk.wwn):  # virValidateWWN
            raise XMLInternalError(f"Malformed wwn: {disk.wwn}", disk.line)
        layer: object = disk
        while layer is not None:
            _validate_layer(layer, layer is disk)
            layer = getattr(layer, "backing_store", None)
        _validate_nvme(disk)
        _validate_disk_secrets(disk)
        if disk.iotune is not None:
            _validate_iotune(disk.iotune, disk.target_dev)
        if disk.target_dev is None:
            # VIR_ERR_NO_TARGET, naming the source libvirt's parser read (none for a volume)
            src = (disk.source_file or disk.source_dev or disk.source_dir or disk.source_name
                   or disk.source_path if disk.type != "volume" else None)
            raise XMLNoTargetError("missing target information for device" + (f" {src}" if src else ""),
                                   disk.line)
        if disk.target_dev in targets:
            _duplicate_disk_target(devs.disks)
        if disk.device not in ("cdrom", "floppy") and _disk_source_empty(disk):
            # virDomainDiskDefValidate: only removable media may be empty
            raise XMLNoSourceError(f"missing source information for device {disk.target_dev}", disk.line)
        targets[disk.target_dev] = disk
    for nic in devs.interfaces:
        if nic.mtu_size == 0:  # virXMLPropUInt: 0 is none given
            nic.mtu_size = None
        if nic.mac_address is not None and parse_mac(nic.mac_address) is None:
            raise XMLError(f"unable to parse mac address '{nic.mac_address}'", nic.line, libvirt_words=True)
        if nic.mac_address is not None:
            nic.mac_address = parse_mac(nic.mac_address)
            if int(nic.mac_address[:2], 16) & 1:
                raise XMLValidationError(f"expected unicast mac address, found multicast '{nic.mac_address}'",
                                         nic.line)
            nic.mac_address = nic.mac_address.lower()
        nic.bandwidth = bandwidth_rules(nic.bandwidth, allow_floor=nic.type == "network")
    check_addresses(dom, qemu=qemu)
    if qemu:
        from .vcpus import check_qemu

        _validate_iommu(dom)
        check_qemu(dom)
        _validate_qemu_hostdevs_graphics(dom)
        _validate_spice_chardevs(dom)
    for inp in devs.inputs:
        if inp.type == "passthrough" and (inp.bus != "virtio" or not inp.source_evdev):
            raise XMLValidationError("passthrough input needs bus='virtio' and <source evdev=>", inp.line)
        if inp.type == "evdev" and not inp.source_dev:
            raise XMLError("Missing evdev path for input device", inp.line)
        if inp.type != "evdev" and (inp.source_dev or inp.source_grab or inp.source_grab_toggle
                                    or inp.source_repeat is not None):
            raise XMLValidationError(f"<source dev/grab/grabToggle/repeat> are only valid for evdev inputs, "
                                     f"not {inp.type!r}", inp.line)
        if inp.type != "passthrough" and inp.source_evdev is not None:
            raise XMLValidationError(f"<source evdev> is only valid for passthrough inputs, not {inp.type!r}",
                                     inp.line)
    ctrl: set[tuple[str | None, int | None]] = set()
    usb = [c for c in devs.controllers if c.type == "usb" and c.model != "none"]
    if usb and all(_usb_companion(c) for c in usb):  # virDomainDefParseXML's usb_master check
        raise XMLDetailError("No master USB controller specified", usb[0].line)
    for c in devs.controllers:
        if c.type == "usb" and _usb_companion(c):
            continue  # USB2 companions share the index of their EHCI master
        k = (c.type, c.index)
        if c.index is not None and k in ctrl:
            raise XMLValidationError(f"Multiple '{c.type}' controllers with index '{c.index}'", c.line)
        ctrl.add(k)
    # last: the formatting-only path reads past these refusals, after the normalisations above
    if define_rules:
        check_define_rules(dom, qemu=qemu)


def _canonical_cpuset(text: str | None, what: str, line: int | None) -> str:
    from .generic_defaults import format_cpuset

    if text is None:  # virDomainVcpuPinDefParseXML and its siblings
        raise XMLInternalError(f"missing cpuset for {what}", line)
    return format_cpuset(parse_cpuset(text, line))


def _validate_cputune(dom: Domain) -> None:
    """virDomainCputuneDefParse's rules: bandwidth ranges, one pin per vCPU / I/O thread that
    exists, scheduler priorities; cpusets written canonically as libvirt writes them."""
    tune = dom.cputune
    if tune is None:
        return
    for name in ("period", "global_period", "emulator_period", "iothread_period"):
        value = getattr(tune, name)
        if value is not None and value != 0 and not 1000 <= value <= 1000000:
            raise XMLConfigError(f"Value of cputune '{name}' must be in range [1000, 1000000]", tune.line)
    for name in ("quota", "global_quota", "emulator_quota", "iothread_quota"):
        value = getattr(tune, name)
        if value is not None and value > 0 and not 1000 <= value <= 17592186044415:
            raise XMLConfigError(f"Value of cputune '{name}' must be in range [1000, 17592186044415]", tune.line)
    vcpus = dom.vcpu or 1
    seen: set[int] = set()
    for pin in tune.vcpupins:
        if pin.vcpu is None:  # virXMLPropUInt(..., VIR_XML_PROP_REQUIRED)
            raise XMLError("Missing required attribute 'vcpu' in element 'vcpupin'", pin.line, libvirt_words=True)
    # virDomainVcpuPinDefParseXML: "Ignoring vcpupin for missing vcpus" (dropped, not refused)
    tune.vcpupins = [pin for pin in tune.vcpupins if pin.vcpu < vcpus]
    for pin in tune.vcpupins:
        if pin.vcpu in seen:
            raise XMLInternalError(f"duplicate vcpupin for vcpu '{pin.vcpu}'", pin.line)
        seen.add(pin.vcpu)
        pin.cpuset = _canonical_cpuset(pin.cpuset, "vcpupin", pin.line)
    if tune.emulatorpin is not None:
        tune.emulatorpin = _canonical_cpuset(tune.emulatorpin, "emulatorpin", tune.line)
    threads = {t.id for t in dom.iothread_ids} | set(range(1, (dom.iothreads or 0) + 1))
    seen = set()
    for ipin in tune.iothreadpins:
        if ipin.iothread is None:
            raise XMLError("Missing required attribute 'iothread' in element 'iothreadpin'", ipin.line,
                           libvirt_words=True)
        if ipin.iothread not in threads:
            raise XMLConfigError(f"Cannot find 'iothread' : {ipin.iothread}", ipin.line)
        if ipin.iothread in seen:
            raise XMLInternalError(f"duplicate iothreadpin for same iothread '{ipin.iothread}'", ipin.line)
        seen.add(ipin.iothread)
        ipin.cpuset = _canonical_cpuset(ipin.cpuset, "iothreadpin", ipin.line)
    scheds = [(s, "vcpus") for s in tune.vcpuscheds] + [(s, "iothreads") for s in tune.iothreadscheds]
    taken: dict[str, set[int]] = {"vcpus": set(), "iothreads": set()}
    for sched, ids in scheds:
        if getattr(sched, ids) is None:
            raise XMLError(f"Missing attribute '{ids}' in element '{ids[:-1]}sched'", sched.line,
                           libvirt_words=True)
        setattr(sched, ids, _canonical_cpuset(getattr(sched, ids), ids, sched.line))
        # virDomainThreadSchedParseHelper: every thread named exists, and only once per kind
        members = parse_cpuset(getattr(sched, ids), sched.line)
        for n in sorted(members):
            if ids == "vcpus" and n >= vcpus:
                raise XMLConfigError(f"vCPU '{n}' is not present in domain definition", sched.line)
            if ids == "iothreads" and n not in threads:
                raise XMLConfigError(f"Cannot find 'iothread' : {n}", sched.line)
        if members & taken[ids]:
            kind = "vcpusched" if ids == "vcpus" else "iothreadsched"
            raise XMLDetailError(f"'{kind}' attributes '{ids}' must not overlap", sched.line)
        taken[ids] |= members
    # virDomainSchedulerParseCommonAttrs: the scheduler is required, and a priority with fifo/rr
    emulator = [] if tune.emulatorsched_scheduler is None and tune.emulatorsched_priority is None else \
        [(tune.emulatorsched_scheduler, tune.emulatorsched_priority, tune.line, "emulatorsched")]
    for scheduler, priority, line, element in ([(s.scheduler, s.priority, s.line, f"{ids[:-1]}sched")
                                                for s, ids in scheds] + emulator):
        if scheduler is None:
            raise XMLError(f"Missing required attribute 'scheduler' in element '{element}'", line,
                           libvirt_words=True)
        if scheduler in ("fifo", "rr") and priority is None:
            raise XMLError(f"Missing required attribute 'priority' in element '{element}'", line,
                           libvirt_words=True)


def _validate_tpms(dom: Domain) -> None:
    """libvirt's virDomainTPMDefParseXML rules for the backend's own children and attributes:
    each belongs to one backend type, and an external TPM needs its socket."""
    for t in dom.devices.tpms:
        if t.active_pcr_banks() and t.backend_version not in (None, "2.0"):
            raise XMLError("<active_pcr_banks/> requires TPM version '2.0'", t.line, libvirt_words=True)
        external = (t.backend_source_type, t.backend_source_mode, t.backend_source_path)
        if t.backend_type == "external":
            if t.backend_source_type is None:
                raise XMLError("missing external TPM backend source type (<tpm><backend><source type='unix'>)",
                               t.line)
            if not t.backend_source_path:
                raise XMLError("missing external TPM backend socket path (<tpm><backend><source path=>)", t.line)
        elif any(v is not None for v in external):
            raise XMLValidationError(f"<tpm><backend><source> is only valid with backend type 'external', "
                                     f"not {t.backend_type!r}", t.line)
        if t.backend_persistent_state is not None and t.backend_type != "emulator":
            raise XMLValidationError(f"<tpm><backend persistent_state=> is only valid with backend type "
                                     f"'emulator', not {t.backend_type!r}", t.line)


def _validate_graphics(dom: Domain) -> None:
    """virDomainGraphicsDefParseXML's rules for SPICE's TLS policy and OpenGL: <channel> needs a
    name and a mode, <gl> an ``enable`` on SPICE; each belongs to the display types that have it."""
    for g in dom.devices.graphics:
        if isinstance(g.autoport, BadBool):
            if g.type == "vnc":  # virDomainGraphicsDefParseXMLVNC ignores it: the port decides
                g.autoport = None
            else:  # SPICE reads it with virXMLPropTristateBool
                error = XMLError(f"invalid value '{g.autoport}' for attribute 'autoport' of <graphics>", g.line)
                error.libvirt_prop_message = (  # type: ignore[attr-defined]
                    f"Invalid value for attribute 'autoport' in element 'graphics': '{g.autoport}'.")
                raise error
        # SDL and D-Bus displays take <gl enable> too (SDL: -display sdl,gl=on)
        gl_here = g.type in ("dbus", "sdl") and g.channels == [] and g.default_mode is None
        if g.type != "spice" and not gl_here and (g.channels or g.default_mode is not None
                                                   or g.gl_enable is not None):
            what = "<channel>" if g.channels else "defaultMode" if g.default_mode is not None else "<gl enable>"
            raise XMLValidationError(f"{what} is only valid in <graphics type='spice'>, not {g.type!r}", g.line)
        if g.type not in ("spice", "egl-headless", "dbus") and g.gl_rendernode is not None:
            raise XMLValidationError(f"<gl rendernode> is only valid in SPICE, egl-headless or D-Bus graphics, "
                                     f"not {g.type!r}", g.line)
        if g.type == "dbus" and g.p2p and g.bus_address:  # virDomainGraphicsDefParseXMLDBus
            raise XMLError("D-Bus p2p with an address is not supported", g.line, libvirt_words=True)
        for c in g.channels:
            if c.name is None or c.mode is None:
                raise XMLError(f"spice channel missing {'name' if c.name is None else 'mode'}", c.line)
        if g.type == "spice" and g.gl_rendernode is not None and g.gl_enable is None:
            raise XMLError("spice gl element missing enable", g.line)
        _graphics_listens(g)
        _graphics_auth(g)


def _graphics_listens(g: Graphics) -> None:
    """virDomainGraphicsListensParseXML: a network listen names its network; the old
    ``listen``/``socket`` attributes repeat the first <listen> element of the same type, and when
    they differ the document is refused."""
    for lis in g.listens:
        if lis.type == "network" and not lis.network:
            raise XMLError("'network' attribute is required for listen type 'network'", lis.line or g.line,
                           libvirt_words=True)
    first = g.listens[0] if g.listens else None
    if first is None:
        return
    for legacy, ltype, what in ((g.listen, "address", "address"), (g.socket, "socket", "socket")):
        found = first.address if what == "address" else first.socket
        if legacy is not None and first.type == ltype and found != legacy:
            raise XMLConfigError(f"graphics '{'listen' if what == 'address' else 'socket'}' attribute '{legacy}' "
                                 f"must match '{what}' attribute of first listen element (found '{found}')",
                                 first.line or g.line)


def _validate_teaming_coalesce(nic: Interface, qemu: bool) -> None:
    """virDomainNetDefValidate / qemuValidateDomainDeviceDefNetwork: failover pairs (a virtio
    'persistent' NIC, a host device 'transient' one naming it), coalescing on tap NICs only,
    (multiqueue on the types whose back end has queues is checked at start: qemu/argv_devices)."""
    kind = nic.teaming_type
    if kind == "transient" and not nic.teaming_persistent:
        raise XMLConfigError("teaming persistent attribute must be set if teaming type is 'transient'", nic.line)
    if kind != "transient" and nic.teaming_persistent:
        raise XMLValidationError(f"teaming persistent attribute not allowed if teaming type is '{kind or 'none'}'",
                                 nic.line)
    if kind == "transient" and nic.type != "hostdev":
        raise XMLValidationError(f"virtio-net teaming transient interface must be type='hostdev', not '{nic.type}'",
                                 nic.line)
    if kind == "persistent" and (nic.model_type or "").lower() != "virtio":
        raise XMLValidationError("virtio-net teaming persistent interface must be <model type='virtio'/>, "
                                 f"not '{nic.model_type}'", nic.line)
    frames = nic.coalesce_rx_frames
    if frames is None:
        return
    if frames > 0xFFFFFFFF:
        raise XMLError(f"numerical overflow: value '{frames}' is too big for coalesce parameter, "
                       "maximum is '4294967295'", nic.line)
    if qemu and nic.type not in ("network", "bridge"):
        raise XMLConfigError(f"coalesce settings on interface type {nic.type} are not supported", nic.line)
    if frames == 0:
        nic.coalesce_rx_frames = None  # libvirt writes no <coalesce> without a value


def _nic_ip_address(ip: NicHostIP) -> None:
    """virDomainNetIPParseXML: an interface ``<ip>`` needs an address of its family (the family
    is then written, as libvirt formats it) and a prefix that fits it; prefix 0 is none."""
    if not ip.address:
        raise XMLError("Missing required address in <ip>", ip.line)
    try:
        addr = parse_ip(ip.address)
    except ValueError:
        addr = None
    family = None if addr is None else f"ipv{addr.version}"
    if family is None or ip.family not in (None, family):
        raise XMLError(f"Invalid address '{ip.address}' in <ip>", ip.line)
    if ip.prefix is not None and ip.prefix > (32 if family == "ipv4" else 128):
        raise XMLError(f"Invalid prefix value '{ip.prefix}' in <ip>", ip.line)
    ip.address, ip.family = ip_text(addr), family
    ip.prefix = ip.prefix or None


#: the <controller type='pci'><target> options each PCI controller model takes, by libvirt's
#: name for them (qemuValidateDomainDeviceDefControllerPCI); other models refuse them
_PCI_TARGET_OPTIONS = (("chassisNr", "target_chassis_nr", ("pci-bridge",)),
                       ("chassis", "target_chassis", ("pcie-root-port", "pcie-switch-downstream-port")),
                       ("port", "target_port", ("pcie-root-port", "pcie-switch-downstream-port")),
                       ("busNr", "target_bus_nr", ("pci-expander-bus", "pcie-expander-bus")),
                       ("hotplug", "target_hotplug", ("pci-root", "pcie-root-port", "pcie-switch-downstream-port")))


def check_pci_target_options(dom: Domain) -> None:
    """A PCI controller's <target> option its model has no use for is refused in libvirt's words
    (the model name it gives is the QEMU device's, filled in at define: run after it)."""
    for c in dom.devices.controllers:
        if c.type != "pci" or c.model is None:
            continue
        for name, field, models in _PCI_TARGET_OPTIONS:
            if getattr(c, field) is not None and c.model not in models:
                raise XMLConfigError(f"Option '{name}' is not valid for PCI controller with index '{c.index}', "
                                     f"model '{c.model}' and modelName '{c.model_name or 'none'}'", c.line)


def _validate_expander_buses(dom: Domain, qemu: bool) -> None:
    """qemuValidateDomainDeviceDefControllerPCI's rules for pxb / pxb-pcie: the machine type,
    the bus number's range and a NUMA node the guest has."""
    cells = len(dom.cpu.numa_cells) if dom.cpu is not None else 0
    q35 = is_q35(dom)
    for c in dom.devices.controllers:
        # virXMLPropUInt: 0 is none given
        for name in ("driver_queues", "driver_cmd_per_lun", "driver_max_sectors", "driver_iothread"):
            if getattr(c, name) == 0:
                setattr(c, name, None)
        if c.type != "pci":
            continue
        # virDomainControllerDefValidate: -1 is none given, the others in range
        for name, field, low, high in (("chassisNr", "target_chassis_nr", 1, 255), ("chassis", "target_chassis", 0, 255),
                                       ("port", "target_port", 0, 255), ("busNr", "target_bus_nr", 1, 254)):
            value = getattr(c, field)
            if value == -1:
                setattr(c, field, None)
            elif value is not None and not low <= value <= high:
                raise XMLConfigError(f"PCI controller {name} '{value}' out of range - must be {low}-{high}", c.line)
        if c.model is None and (c.index or 0) > 0:  # only the root bus gets a model of its own
            raise XMLInternalError("PCI controller model was not set correctly", c.line)
        expander = c.model in ("pci-expander-bus", "pcie-expander-bus")
        if c.target_node is not None and not expander:
            raise XMLError(f"<target><node> of a {c.model} controller (only pci-expander-bus and "
                           "pcie-expander-bus controllers belong to a NUMA node)", c.line)
        if not expander:
            continue
        if qemu and (c.model == "pcie-expander-bus") != q35:  # libvirt words the two differently
            raise XMLConfigError("pcie-expander-bus controllers are not supported with this machine type"
                                 if c.model == "pcie-expander-bus" else
                                 "pci-expander-bus controllers are only supported on 440fx-based machinetypes",
                                 c.line)
        if c.target_node is not None and c.target_node >= cells:
            raise XMLError(f"{c.model} with index {c.index} is configured for a NUMA node ({c.target_node}) "
                           f"not present in the domain's <cpu><numa> array ({cells})", c.line)


def _validate_spice_chardevs(dom: Domain) -> None:
    """qemuValidateDomainChrSourceDef: SPICE character devices need a SPICE display."""
    if any(g.type == "spice" for g in dom.devices.graphics):
        return
    d = dom.devices
    for dev in (*d.serials, *d.parallels, *d.consoles, *d.channels, *d.redirdevs, *_passthrough(d.smartcards)):
        if dev.type in ("spicevmc", "spiceport"):
            raise XMLConfigError(f"chardev '{dev.type}' not supported without spice graphics", dev.line)


def _validate_chardev_sources(dom: Domain) -> None:
    """virDomainChrSourceDefValidate: a TCP character device needs its host and service, a UDP
    one the service it sends to, a file, pipe or host device its path, a unix socket its path
    (only a virtio or Xen <channel> gets one made up at start), a D-Bus or SPICE port one its name;
    ``tls`` is read for TCP sources only (libvirt's parser ignores it on the others)."""
    d = dom.devices
    for dev in (*d.serials, *d.parallels, *d.consoles, *d.channels, *d.redirdevs, *_passthrough(d.smartcards)):
        made_up = dev.kind == "channel" and dev.target_type in ("virtio", "xen")
        _check_chardev_source(dev.type, dev.source_host, dev.source_service, dev.source_path, made_up, dev.line)
        # a D-Bus redirdev's name has a default
        if dev.type in ("dbus", "spiceport") and not dev.source_channel and dev.kind != "redirdev":
            raise XMLConfigError("Missing source channel attribute for char device", dev.line)
        if dev.type != "tcp":
            dev.source_tls = None
    for rng in d.rngs:
        if rng.backend_model == "egd" and rng.backend_type is None:
            raise XMLError("missing EGD backend type", rng.line, libvirt_words=True)
        if rng.backend_model == "egd":
            _check_chardev_source(rng.backend_type, rng.backend_source_host, rng.backend_source_service,
                                  rng.backend_source_path, False, rng.line)
        if rng.backend_type != "tcp":
            rng.backend_source_tls = None


def _passthrough(cards: list) -> list:
    """The smartcards that have a character device: virDomainSmartcardDefParseXML reads a type
    and source for mode='passthrough' only (a host card's type is ignored)."""
    return [c for c in cards if c.mode == "passthrough"]


def _check_chardev_source(kind: str | None, host: str | None, service: str | None, path: str | None,
                          path_made_up: bool, line: int | None) -> None:
    """The attributes virDomainChrSourceDefValidate requires of one character device source."""
    missing = ("host" if kind == "tcp" and not host else
               "service" if kind in ("tcp", "udp") and not service else
               # a NULL check: an empty path='' is kept and used as given (libvirt's parser keeps it)
               "path" if (kind == "unix" and not path_made_up or kind in ("file", "pipe", "dev")) and path is None
               else None)
    if missing:
        raise XMLInternalError(f"Missing source {missing} attribute for char device", line)


def _graphics_auth(g: Graphics) -> None:
    """virDomainGraphicsAuthDefParseXML: ``passwdValidTo`` is a UTC time written back zero-padded,
    VNC knows only ``connected='keep'``; both are kept (and written) only beside a password."""
    import datetime as dt

    if g.passwd is None:  # the whole auth part is read only beside a password
        g.passwd_valid_to = g.connected = None
        return
    if g.passwd_valid_to is not None:
        m = re.fullmatch(r"\s*(\d{1,4})-(\d{1,2})-(\d{1,2})T(\d{1,2}):(\d{1,2}):(\d{1,2})", g.passwd_valid_to)
        try:
            when = dt.datetime(*(int(x) for x in m.groups())) if m else None
        except ValueError:
            when = None
        if when is None:
            raise XMLInternalError(f"cannot parse password validity time '{g.passwd_valid_to}', expect "
                                   "YYYY-MM-DDTHH:MM:SS", g.line)
        g.passwd_valid_to = when.strftime("%Y-%m-%dT%H:%M:%S")
    if g.connected is not None and g.connected not in ("fail", "disconnect", "keep"):
        raise XMLConfigError(f"unknown connected value {g.connected}", g.line)
    if g.connected is not None and g.type == "vnc" and g.connected != "keep":
        raise XMLConfigError("VNC supports connected='keep' only", g.line)


def _validate_hostdev_teaming(h: Hostdev) -> None:
    """virDomainNetTeamingInfoParseXML + virDomainHostdevDefValidate: a host device in a failover
    pair is its 'transient' half, names the persistent NIC, and is a PCI subsystem device."""
    if h.teaming_type is None:
        if h.teaming_persistent is not None:
            raise XMLConfigError("unknown teaming type '(null)'", h.line)
        return
    if h.teaming_type != "transient":
        raise XMLConfigError("teaming hostdev devices must have type='transient'", h.line)
    if not h.teaming_persistent:
        raise XMLConfigError("missing required persistent attribute in hostdev teaming element", h.line)
    if h.mode not in (None, "subsystem") or h.type != "pci":
        raise XMLConfigError("teaming is only supported for pci hostdev devices", h.line)


def _validate_hostdevs(dom: Domain) -> None:
    """virDomainHostdevDefParseXMLSubsys's rules: what identifies each kind of host device, and
    the attributes that belong to one kind only."""
    for h in dom.devices.hostdevs:
        a = h.source_address
        if h.type == "usb":
            # virXMLPropUInt base 0: '1234' is decimal (0x04d2), a leading 0 octal; written 0x%.4x
            for what in ("vendor", "product"):
                text = getattr(h, f"source_{what}")
                if text is None:
                    continue
                value = c_strtol(text, 0)
                if value is None or not 0 <= value <= 0xFFFFFFFF or text.lstrip(" \t\n\v\f\r")[:1] == "-":
                    raise XMLError(f"Invalid value for attribute 'id' in element '{what}': '{text}'. Expected "
                                   "non-negative integer value", h.line, libvirt_words=True)
                setattr(h, f"source_{what}", f"0x{value:04x}")
            if (h.source_vendor is None) != (h.source_product is None):  # virDomainHostdevSubsysUSBDefParseXML
                raise XMLInternalError(f"missing {'vendor' if h.source_vendor is None else 'product'}", h.line)
            if a is not None and (a.bus is None or a.device is None):
                raise XMLError(f"usb hostdev: missing {'bus' if a.bus is None else 'device'} in <source><address>",
                               a.line)
            if h.source_vendor is None and a is None:
                raise XMLInternalError("USB host device is missing bus/device information", h.line)
        elif h.type == "pci":
            if a is None or a.device is not None or a.uuid is not None or None in (a.bus, a.slot, a.function):
                raise XMLError("pci hostdev: <source><address> needs domain, bus, slot and function", h.line)
        elif h.type == "mdev":
            if h.model is None:
                raise XMLError("Missing 'model' attribute in mdev subsys source", h.line)
            if a is None or a.uuid is None:  # virDomainHostdevSubsysMediatedDevDefParseXML
                raise XMLConfigError("Missing 'uuid' attribute for element <address>", h.line)
            if not re.fullmatch(r"\s*(?:[0-9a-fA-F]-?){32}\s*", a.uuid):  # virUUIDParse
                raise XMLInternalError("Cannot parse uuid attribute of element <address>", h.line)
        if h.type != "usb" and h.source_guest_reset is not None:
            raise XMLValidationError(f"<source guestReset> is only valid for USB host devices, not {h.type!r}",
                                     h.line)
        if isinstance(h.managed, BadBool):  # only 'yes' is read
            h.managed = None
        if h.type == "scsi" and h.source_protocol is None and h.source_address is None:
            raise XMLError("'address' must be specified for scsi hostdev source", h.line, libvirt_words=True)
        _validate_hostdev_teaming(h)
        virtio_model = h.type == "scsi_host" and (h.model or "virtio").startswith("virtio")
        if h.type != "mdev" and (h.display is not None or h.ramfb is not None
                                 or (h.model is not None and not virtio_model)):
            raise XMLValidationError(f"<hostdev model/display/ramfb> are only valid for mdev host devices, "
                                     f"not {h.type!r}", h.line)
    seen: set[tuple[object, ...]] = set()
    for h in dom.devices.hostdevs:
        key = _hostdev_key(h)
        if key is not None and key in seen:
            raise XMLValidationError("Hostdev already exists in the domain configuration", h.line,
                                     libvirt_words=True)
        seen.add(key)


def _validate_audio_refs(dom: Domain, qemu: bool) -> None:
    """A sound device's ``<audio id>`` names an ``<audio>`` (virDomainDefValidate's sound check);
    the QEMU driver's D-Bus display plays only through a D-Bus one (qemuValidateDomainDefGraphics)."""
    audios = {a.id: a for a in dom.devices.audios}
    for snd in dom.devices.sounds:
        if snd.audio_id is not None and snd.audio_id not in audios:
            raise XMLError(f"no audio device with ID {snd.audio_id}", snd.line, libvirt_words=True)
    for g in dom.devices.graphics:
        if g.audio_id is not None and g.audio_id not in audios:  # virDomainDefValidate's graphics check
            raise XMLError(f"no audio device with ID {g.audio_id}", g.line, libvirt_words=True)
        if qemu and g.type == "dbus" and g.audio_id is not None:
            audio = audios.get(g.audio_id)
            if audio is not None and audio.type != "dbus":
                raise XMLConfigError("The associated audio is not of 'dbus' kind.", g.line)


def _validate_qemu_hostdevs_graphics(dom: Domain) -> None:
    """qemuValidateDomainDeviceDefHostdev / qemuValidateDomainDefGraphics rules checked at define:
    which host devices a guest may boot from, one vGPU with a ramfb, and QEMU's one OpenGL
    display (SPICE's ``<gl enable='yes'>`` beside egl-headless is two)."""
    for h in dom.devices.hostdevs:
        if h.boot_order is None:
            continue
        if h.type == "scsi_host":
            raise XMLConfigError("booting from assigned devices is not supported by vhost SCSI devices", h.line)
        if h.type == "mdev" and h.model != "vfio-ccw":
            raise XMLConfigError("booting from assigned devices is not supported by mediated devices of model "
                                 f"{h.model}", h.line)
    ramfbs = [h for h in dom.devices.hostdevs if h.type == "mdev" and h.ramfb]
    if len(ramfbs) > 1:
        raise XMLConfigError("Only one vgpu device can have 'ramfb' enabled", ramfbs[1].line)
    gfx = dom.devices.graphics
    if any(g.type == "egl-headless" for g in gfx) and any(g.type == "spice" and g.gl_enable for g in gfx):
        raise XMLConfigError("multiple OpenGL displays are not supported by QEMU", gfx[0].line)


def _hostdev_key(h: Hostdev) -> tuple[object, ...] | None:
    """What names the host device (virDomainHostdevMatch): USB by bus/device or else by
    vendor/product, PCI by its address, mdev by UUID, SCSI by adapter and address or iSCSI
    target, vhost-scsi by WWPN.  Two hostdevs with one key are one device given twice."""
    a = h.source_address
    kind = h.type
    if kind == "usb":
        if a is not None and a.bus and a.device:
            return ("usb", a.bus, a.device)
        vendor, product = h.source_vendor, h.source_product
        return ("usb-id", int(vendor, 16), int(product, 16)) if vendor and product else None
    if kind == "pci" and a is not None:
        return ("pci", a.domain or 0, a.bus, a.slot, a.function)
    if kind == "mdev" and a is not None and a.uuid:
        return ("mdev", a.uuid.lower())
    if kind == "scsi":
        if h.source_protocol == "iscsi":
            hosts = h.source_hosts
            return ("iscsi", h.source_name, hosts[0].name if hosts else None)
        if a is not None:
            return ("scsi", h.source_adapter, a.bus, a.target, a.unit)
    if kind == "scsi_host":
        return ("scsi_host", h.source_protocol, h.source_wwpn)
    return None


def _validate_firmware(dom: Domain) -> None:
    """libvirt's virDomainDefOSValidate rules for <os><firmware><feature> and stateless loaders."""
    os_ = dom.os
    if os_ is None:
        return
    for part, name in ((os_.loader, "loader"), (os_.nvram, "nvram")):
        if part is not None and part.format is not None:
            # libvirt 9.0 parses no format here: it drops the attribute and runs the image as raw,
            # so a qcow2 store would not boot; pyvirt refuses it rather than drop it silently
            raise XMLUnsupportedError(f"<os><{name} format='{part.format}'> is libvirt 9.2's: libvirt 9.0 drops the "
                                      f"attribute and uses the {name} image as raw; give a raw image without "
                                      "format=", part.line)
    if os_.loader is not None and os_.loader.stateless and os_.nvram is not None:
        if os_.nvram.local_path() or os_.nvram.type == "network":
            raise XMLValidationError("NVRAM is not permitted when loader is stateless", os_.nvram.line)
        if os_.nvram.template:
            raise XMLValidationError("NVRAM template is not permitted when loader is stateless", os_.nvram.line)
    if isinstance(os_.bios_useserial, BadBool):  # virDomainDefParseBootXML ignores it
        os_.bios_useserial = None
    for feat in os_.firmware_features:  # virDomainOSDefParseXML: virXMLPropEnum/virXMLPropTristateBool
        for name in ("name", "enabled"):
            if getattr(feat, name) is None:
                raise XMLError(f"Missing required attribute '{name}' in element 'feature'", feat.line,
                               libvirt_words=True)
    if not os_.firmware_features:
        return
    if os_.firmware is None:
        raise XMLValidationError("cannot use feature-based firmware autoselection when firmware autoselection "
                                 "is disabled", os_.line)
    wanted = {f.name: f.enabled for f in os_.firmware_features}
    if wanted.get("enrolled-keys") and wanted.get("secure-boot") is False:
        raise XMLValidationError("firmware feature 'enrolled-keys' cannot be enabled when firmware feature "
                                 "'secure-boot' is disabled", os_.line)


def _validate_iommu(dom: Domain) -> None:
    """libvirt's qemuValidateDomainDeviceDefIOMMU / qemuValidateDomainDefFeatures rules."""
    iommu = dom.devices.iommu
    if iommu is None:
        return
    if iommu.model == "intel":
        if not is_q35(dom):
            raise XMLConfigError("IOMMU device: 'intel' is only supported with Q35 machines", iommu.line)
        if iommu.driver_intremap and (dom.features is None or dom.features.ioapic_driver != "qemu"):
            raise XMLConfigError("IOMMU interrupt remapping requires split I/O APIC (ioapic driver='qemu')",
                                 iommu.line)
        if iommu.driver_eim and not iommu.driver_intremap:
            raise XMLConfigError("IOMMU eim requires interrupt remapping to be enabled", iommu.line)
        if iommu.address is not None:
            raise XMLValidationError("iommu model 'intel' can't have address", iommu.line)
    elif iommu.model == "virtio":
        if not is_q35(dom):
            raise XMLConfigError("IOMMU device: 'virtio' is only supported with Q35 and ARM Virt machines",
                                 iommu.line)
        if dom.features is None or not dom.features.acpi:
            raise XMLConfigError("IOMMU device: 'virtio' requires ACPI", iommu.line)
        extra = (iommu.driver_intremap, iommu.driver_caching_mode, iommu.driver_eim, iommu.driver_iotlb,
                 iommu.driver_aw_bits)
        if any(v is not None for v in extra):
            raise XMLValidationError("iommu model 'virtio' doesn't support additional attributes", iommu.line)
        a = iommu.address
        if a is not None and a.type != "pci":
            raise XMLValidationError("IOMMU device: 'virtio' needs a PCI address", iommu.line)
        if a is not None and a.bus:
            raise XMLValidationError(f"The device at PCI address {a.domain or 0:04x}:{a.bus:02x}:"
                                     f"{a.slot or 0:02x}.{a.function or 0} needs to be an integrated "
                                     "device (bus=0)", iommu.line)


_BIOS_DATE_RE = re.compile(r"^([+-]?\d+)/([+-]?\d+)/([+-]?\d+)$")


def _normalized_section(sec: SysinfoSection | None, kind: str) -> SysinfoSection | None:
    """libvirt's virSysinfo*ParseXML: the names it knows looked up (an entry of another name is
    not read: libvirt 9.0 drops it), the first non-empty value of each kept in libvirt's order,
    and a section without any value dropped (so the XML that comes back, and the ``-smbios``
    options, are libvirt's)."""
    if sec is None:
        return None
    allowed = SMBIOS_ENTRY_NAMES[kind]
    kept = [SysinfoEntry(name=n, value=v) for n in allowed if (v := sec.get(n)) is not None]
    if not kept:
        return None
    return SysinfoSection(entries=kept, line=sec.line)


_ENV_NAME = re.compile(r"[A-Za-z0-9_]*")


_PROPERTY_VALUE = {"signed": re.compile(r"[+-]?\d+"), "unsigned": re.compile(r"\+?\d+"),
                   "bool": re.compile(r"true|false")}


def _validate_qemu_overrides(dom: Domain) -> None:
    """<qemu:override> as qemuDomainDefNamespaceParseOverrideProperties reads it (libvirt's words)."""
    for dev in dom.qemu_overrides:
        if not dev.alias:
            raise XMLError("missing 'alias' attribute for qemu:device", dev.line, libvirt_words=True)
        for prop in dev.frontend:
            if not prop.name:
                raise XMLError("missing 'name' attribute for qemu:property", prop.line, libvirt_words=True)
            if prop.type is None:
                raise XMLError("Missing required attribute 'type' in element 'property'", prop.line,
                               libvirt_words=True)
            if prop.type == "remove":
                if prop.value is not None:
                    raise XMLError("setting 'value' attribute of 'qemu:property' doesn't make sense with "
                                   "'remove' type", prop.line, libvirt_words=True)
                continue
            if prop.value is None:
                raise XMLError("missing 'value' attribute for 'qemu:property'", prop.line, libvirt_words=True)
            check = _PROPERTY_VALUE.get(prop.type)
            if check is not None and not check.fullmatch(prop.value):
                raise XMLError(f"invalid value '{prop.value}' of 'value' attribute of 'qemu:property'",
                               prop.line, libvirt_words=True)


def _validate_qemu_commandline(dom: Domain) -> None:
    """<qemu:commandline> as qemuDomainDefNamespaceParseCommandline* checks it: every arg has a
    value, every env a name that is a shell identifier (it reaches QEMU's environment)."""
    _validate_qemu_overrides(dom)
    for arg in dom.qemu_args:
        if arg.value is None:
            raise XMLError("No qemu command-line argument specified", arg.line)
    for env in dom.qemu_envs:
        if not env.name:
            raise XMLError("No qemu environment name specified", env.line)
        if not (env.name[0].isascii() and (env.name[0].isalpha() or env.name[0] == "_")):
            raise XMLError("Invalid environment name, it must begin with a letter or underscore", env.line)
        if not _ENV_NAME.fullmatch(env.name):
            raise XMLError("Invalid environment name, it must contain only alphanumerics and underscore",
                           env.line)


def _validate_sysinfo(dom: Domain) -> None:
    """libvirt's sysinfo rules: entry names per section, the BIOS date format, and a system
    uuid equal to the domain's (taken as the domain's when the domain has none)."""
    for info in dom.sysinfos:
        if info.type is None:
            raise XMLError("Missing required attribute 'type' in element 'sysinfo'", info.line, libvirt_words=True)
        info.bios = _normalized_section(info.bios, "bios")
        info.system = _normalized_section(info.system, "system")
        info.base_boards = [b for b in (_normalized_section(b, "baseBoard") for b in info.base_boards)
                            if b is not None]
        info.chassis = _normalized_section(info.chassis, "chassis")
        if info.oem_strings is not None:
            for e in info.oem_strings.entries:
                if e.name is not None:
                    raise XMLError("<oemStrings><entry> takes no 'name' attribute", e.line)
                if e.value is None:
                    e.value = ""
        date = info.bios.get("date") if info.bios else None
        if date is not None:
            m = _BIOS_DATE_RE.match(date)
            month, day, year = (int(x) for x in m.groups()) if m else (0, 0, -1)
            if not (1 <= month <= 12 and 1 <= day <= 31 and (0 <= year < 100 or year >= 1900)):
                raise XMLDetailError("Invalid BIOS 'date' format", info.bios.line if info.bios else None)
        sys_uuid = info.system.get("uuid") if info.system else None
        if sys_uuid is not None and info.system is not None:
            canon = normalize_uuid(sys_uuid, info.system.line)
            if dom.uuid is None:
                dom.uuid = canon
            elif dom.uuid != canon:
                raise XMLValidationError("UUID mismatch between <uuid> and <sysinfo>", info.system.line)
            for e in info.system.entries:
                if e.name == "uuid":
                    e.value = canon
