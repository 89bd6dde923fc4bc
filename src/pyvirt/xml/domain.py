"""The libvirt domain XML model: one dataclass per element, one line per attribute/child.

Field order is libvirt's output order (virDomainDefFormat), so serializing is deterministic
and matches ``virsh dumpxml``.  Sizes are stored in KiB, like libvirt.  Fields are flattened
where libvirt's sub-element carries no identity of its own (``Disk.driver_type`` for
``<driver type=>``), so consumers such as :mod:`pyvirt.qemu.argv` read plain attributes.
Parsing, serializing and defaults live in :mod:`pyvirt.xml.mapping` and
:mod:`pyvirt.xml.defaults`; this module only declares the vocabulary.
"""

from __future__ import annotations

import re
from dataclasses import field
from dataclasses import replace as dataclass_replace
from types import MappingProxyType
from typing import Any

from .cnumbers import c_integer
from .errors import XMLConfigError, XMLDetailError, XMLError, XMLInternalError, XMLInvalidArgError
from .fields import (
    INT,
    ONOFF,
    STR,
    YESNO,
    Enum,
    Int,
    LenientBool,
    NonEmpty,
    Pattern,
    Present,
    attr,
    c_strtol,
    child,
    children,
    flag,
    ignored,
    line_field,
    model,
    raw,
    scaled,
    state,
    text,
    values,
)
from .nictypes import TAP_NIC_TYPES  # noqa: F401  (named here too: the domain model's NIC types)

ADDRESS_TYPES = ("pci", "drive", "virtio-serial", "usb", "isa", "ccid", "spapr-vio", "ccw",
                 "virtio-mmio", "s390", "unassigned", "dimm")
HEX = Int(base0=True)
#: libvirt's schema patterns for name-like values (domaincommon.rng / cputypes.rng)
#: the prefix of aliases users choose (virDomainDeviceAliasIsUserAlias): kept in the inactive XML
USER_ALIAS_PREFIX = "ua-"
#: the characters a user alias may hold (libvirt's USER_ALIAS_CHARS)
USER_ALIAS_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ1234567890_-")


def is_user_alias(name: str | None) -> bool:
    """Whether an inactive definition keeps this alias (virDomainDeviceInfoParseXML): ``ua-``
    and libvirt's user-alias characters only.  Any other alias a definition carries (one copied
    from a live XML, ``net0``, ``ua-a.b``) is not part of the configuration: libvirt's
    inactive parse reads past it and the guest gets the alias libvirt assigns at start."""
    return bool(name) and name.startswith(USER_ALIAS_PREFIX) and set(name) <= USER_ALIAS_CHARS  # type: ignore[union-attr]
#: virDomainNetTeamingInfoParseXML's refusal of a <teaming type> (NICs and host devices alike)
TEAMING_UNKNOWN = "unknown teaming type '{}'"
FEATURE_NAME = Pattern(r"[a-zA-Z0-9\-_.]+", "featureName")
DISK_TARGET_DEV = Pattern(r"(ioemu:)?(fd|hd|sd|vd|xvd|ubd)[a-zA-Z0-9_]+", "diskTargetDev")


def _usb_port(text: str, line: int | None) -> str | None:
    """virDomainDeviceUSBAddressParsePort: up to four numbers (virStrToLong_uip, blanks before
    each), each followed by ``.`` or the end; written as far as the first 0 (``port='0'`` is no
    port: one is assigned)."""
    ports: list[int] = []
    pos = 0
    for _ in range(4):
        got = c_integer(text, "uint", pos)
        if got is None:
            break
        value, pos = got
        ports.append(value)
        if pos == len(text):
            shown = ports[:ports.index(0)] if 0 in ports else ports
            return ".".join(map(str, shown)) or None
        if text[pos] == ".":
            pos += 1
    raise XMLInternalError("Cannot parse <address> 'port' attribute", line)


#: an ISA address's numbers (virDomainDeviceISAAddressParseXML: unsigned, base 16), within the
#: widths libvirt's schema gives them (an I/O port, an ISA IRQ: libvirt writes a larger one
#: that its own schema refuses, so pyvirt refuses it)
_ISA_NUMBERS = {"iobase": Int(0, 0xFFFF, base16=True), "irq": Int(0, 0xF, base16=True)}


@model
class Address:
    """``<address>`` of a device: pci (domain/bus/slot/function), drive (controller/bus/target/unit),
    virtio-serial (controller/bus/port), usb (bus/port), isa (iobase/irq), ccid (controller/slot).

    Numbers are ints; PCI ones are written in libvirt's hex layout (``slot='0x05'``).
    """

    #: 'unassigned': a host PCI device the domain holds but does not give the guest
    type: str | None = attr("@type", Enum("pci", "drive", "virtio-serial", "usb", "isa", "dimm", "ccid", "unassigned",
                                          "spapr-vio",
                                          known=tuple(t for t in ADDRESS_TYPES if t not in (
                                              "pci", "drive", "virtio-serial", "usb", "isa", "dimm", "ccid",
                                              "unassigned", "spapr-vio")),
                                          unknown="unknown address type '{}'"))
    domain: int | None = attr("@domain", HEX)
    controller: int | None = attr("@controller", INT)
    bus: int | None = attr("@bus", HEX)
    slot: int | None = attr("@slot", HEX)
    function: int | None = attr("@function", HEX)
    multifunction: bool | None = attr("@multifunction", ONOFF)
    target: int | None = attr("@target", INT)
    unit: int | None = attr("@unit", INT)
    port: str | None = attr("@port")
    iobase: str | None = attr("@iobase")
    irq: str | None = attr("@irq")
    #: a DIMM's guest-physical base: hexadecimal with or without 0x (virXMLPropULongLong base 16)
    base: int | None = attr("@base", Int(0, base16=True, hex_width=0))
    #: spapr-vio: the device's register (libvirt writes it 0x%08x)
    reg: int | None = attr("@reg", Int(0, base0=True, hex_width=8))
    # the ccw and zPCI address types' numbers: libvirt's, not pyvirt's (their address types are
    # refused); declared so virt-install's address sub-options name them
    cssid: str | None = attr("@cssid", unsupported=True)
    ssid: str | None = attr("@ssid", unsupported=True)
    devno: str | None = attr("@devno", unsupported=True)
    zpci_uid: str | None = attr("zpci/@uid", unsupported=True)
    zpci_fid: str | None = attr("zpci/@fid", unsupported=True)
    line: int | None = line_field()

    def is_pci(self) -> bool:
        return self.type == "pci"

    def is_empty_pci(self) -> bool:
        """virPCIDeviceAddressIsEmpty: a PCI address whose domain, bus and slot are all 0 (or
        absent, ``<address type='pci'/>``) asks for one to be assigned, its function too."""
        return self.type == "pci" and not (self.domain or self.bus or self.slot)

    def xml_after_parse(self, el: Any) -> None:
        """virDomainDeviceAddressParseXML's readers.  PCI (virPCIDeviceAddressParseXML): absent
        numbers are 0; an empty address keeps none of them (libvirt formats only its
        ``multifunction``, and assigns it a slot where the driver addresses PCI devices).  A
        drive address's absent numbers are 0 (it is written whole).  ISA: ``iobase`` and ``irq``
        are hexadecimal with or without ``0x`` (virXMLPropUInt base 16), written ``0x%x``, 0 not
        at all."""
        if self.type is None:
            raise XMLInternalError("No type specified for device address", self.line)
        if self.type in ("virtio-serial", "usb"):  # written with controller/bus whatever was given
            self.controller = self.controller or 0 if self.type == "virtio-serial" else self.controller
            self.bus = self.bus or 0
        if self.type == "ccid":  # virDomainDeviceCCIDAddressParseXML: both 0 when absent
            self.controller, self.slot = self.controller or 0, self.slot or 0
        if self.type == "usb" and self.port is not None:
            self.port = _usb_port(self.port, self.line)
        if self.type == "drive":
            self.controller, self.bus = self.controller or 0, self.bus or 0
            self.target, self.unit = self.target or 0, self.unit or 0
        if self.type == "isa":
            for key in ("iobase", "irq"):
                text = getattr(self, key)
                value = None if text is None else _ISA_NUMBERS[key].parse(text, f"attribute '{key}' of <address>",
                                                                    self.line)
                setattr(self, key, f"0x{value:x}" if value else None)
        if self.type != "pci":
            return
        if self.is_empty_pci():
            self.domain = self.bus = self.slot = self.function = None
            return
        self.domain, self.bus = self.domain or 0, self.bus or 0
        self.slot, self.function = self.slot or 0, self.function or 0


# --------------------------------------------------------------------------- top level


@model
class DeviceInfo:
    """libvirt's device info (virDomainDeviceInfoFormat): the alias (live XML only) and the
    address any device may carry, declared once and written last in every device's element."""

    #: libvirt keeps a user alias (``ua-`` prefix) in the inactive XML; its own aliases are live
    #: read as any text (libvirt reads past an alias it does not keep: ``''``, ``a b``); what a
    #: definition keeps is decided by is_user_alias when it is completed (fill_defaults)
    alias: str | None = attr("alias/@name", live_only=True, tail=2, inactive_if=is_user_alias)
    address: Address | None = child("address", Address, tail=5)


@model
class PCIDeviceInfo(DeviceInfo):
    """Device info of devices that may sit on PCI: also ``<acpi index=>``, which
    virDomainDeviceInfoFormat writes after the alias and the ROM, just before the address."""

    acpi_index: int | None = attr("acpi/@index", Int(1), tail=4)


@model
class RomInfo:
    """``<rom enabled= bar= file=>`` of a PCI NIC or host device: its option ROM (libvirt
    writes it after the alias, before the address).  ``file=''`` is the old spelling of
    ``enabled='no'`` (read as such)."""

    rom_enabled: bool | None = attr("rom/@enabled", YESNO, tail=3)
    rom_bar: bool | None = attr("rom/@bar", ONOFF, tail=3)
    rom_file: str | None = attr("rom/@file", tail=3)


@model
class VirtioOptions:
    """virDomainVirtioOptions: ``<driver iommu= ats= packed= page_per_vq=>`` of virtio devices,
    written after the driver element's own attributes (``late``)."""

    driver_iommu: bool | None = attr("driver/@iommu", ONOFF, late=True)
    driver_ats: bool | None = attr("driver/@ats", ONOFF, late=True)
    driver_packed: bool | None = attr("driver/@packed", ONOFF, late=True)
    driver_page_per_vq: bool | None = attr("driver/@page_per_vq", ONOFF, late=True)


@model
class Loader:
    """``<os><loader>``: firmware image (UEFI when type='pflash')."""

    readonly: bool | None = attr("@readonly", YESNO)
    secure: bool | None = attr("@secure", YESNO)
    type: str | None = attr("@type", Enum("rom", "pflash"))
    #: no NVRAM at all (libvirt 8.6): refused with an <nvram> by validate
    stateless: bool | None = attr("@stateless", YESNO)
    #: the image format (libvirt 9.2); libvirt 9.0 drops it: refused by validate, with why
    format: str | None = attr("@format")
    path: str | None = text(".")
    line: int | None = line_field()


@model
class NVRam:
    """``<os><nvram>``: per-domain UEFI variable store, copied from ``template``; or (``type=``,
    libvirt 8.5) a storage source like a disk's: a file, a block device or a network image
    (never made from a template)."""

    type: str | None = attr("@type", Enum("file", "block", "network"))
    template: str | None = attr("@template")
    #: the image format (libvirt 9.2); libvirt 9.0 drops it: refused by validate, with why
    format: str | None = attr("@format")
    path: str | None = text(".")
    source_file: str | None = attr("source/@file", NonEmpty())
    source_dev: str | None = attr("source/@dev", NonEmpty())
    source_protocol: str | None = attr("source/@protocol", Enum("nbd", "iscsi", "rbd", "gluster", "http", "https",
                                                                "ftp", "ftps", "nfs"))
    source_name: str | None = attr("source/@name")
    source_hosts: list[NetHost] = children("source/host", None)  # the class: set below, once defined
    source_auth: DiskAuth | None = child("source/auth", None)  # likewise
    line: int | None = line_field()

    # what the network-disk builder reads of a disk, none of which an NVRAM source has
    source_tls = source_tls_hostname = source_snapshot = source_config = source_query = None
    source_initiator_iqn = source_identity_user = source_identity_group = None
    source_cookies = ()
    source_ssl_verify = source_readahead = source_timeout = None
    #: the name its secret files carry (argv_disks.secret_file), as a disk's target does
    target_dev = "pflash1"

    def local_path(self) -> str | None:
        """The host file or device holding the variables (None for a network image)."""
        text = (self.path or "").strip() or None
        if self.type == "file":
            return self.source_file or text
        if self.type == "block":
            return self.source_dev
        return None if self.type == "network" else text

    @property
    def disk_auth(self) -> DiskAuth | None:
        return self.source_auth


@model
class FirmwareFeature:
    """``<os><firmware><feature enabled= name=>``: a wish for firmware autoselection."""

    enabled: bool | None = attr("@enabled", YESNO)
    name: str | None = attr("@name", Enum("enrolled-keys", "secure-boot"))
    line: int | None = line_field()


@model
class InitEnv:
    """``<os><initenv name=>value</initenv>``: one environment variable of a container's init."""

    name: str | None = attr("@name")
    value: str | None = text(".")
    line: int | None = line_field()


@model
class OS:
    """``<os>``: guest type, machine, firmware and boot configuration."""

    firmware: str | None = attr("@firmware", Enum("bios", "efi", unknown="unknown firmware value {}",
                                                  unknown_error=XMLError))
    type: str = attr("type", Enum("hvm", known=("xen", "linux", "exe", "uml"), unknown="unknown OS type '{}'"))
    arch: str | None = attr("type/@arch", Enum("x86_64", "i686",
                                                known=("aarch64", "armv7l", "ppc64", "ppc64le", "s390x",
                                                       "riscv64", "mips", "mipsel", "sparc", "ppc"),
                                                unknown="Unknown architecture {}"))
    machine: str | None = attr("type/@machine")
    firmware_features: list[FirmwareFeature] = children("firmware/feature", FirmwareFeature)
    # libvirt's container OS (type 'exe': LXC's init, its arguments, environment, directory and
    # user/group); not a QEMU guest's, refused by pyvirt's driver
    init: str | None = text("init", unsupported=True)
    init_args: list[str] = values("initarg", unsupported=True)
    init_env: list[InitEnv] = children("initenv", InitEnv, unsupported=True)
    init_dir: str | None = text("initdir", unsupported=True)
    init_user: str | None = text("inituser", unsupported=True)
    init_group: str | None = text("initgroup", unsupported=True)
    loader: Loader | None = child("loader", Loader)
    nvram: NVRam | None = child("nvram", NVRam)
    kernel: str | None = text("kernel")
    initrd: str | None = text("initrd")
    cmdline: str | None = text("cmdline")
    dtb: str | None = text("dtb")
    #: an ACPI table file the firmware gets (libvirt 9.0 knows the SLIC one, for OEM activation)
    acpi_table: str | None = text("acpi/table")
    acpi_table_type: str | None = attr("acpi/table/@type", Enum("slic", unknown="Unknown acpi table type: {}",
                                                                unknown_error=XMLError))
    boot_devs: list[str] = values("boot/@dev", Enum("hd", "cdrom", "network", "fd"))
    bootmenu_enable: bool | None = attr("bootmenu/@enable", YESNO)
    bootmenu_timeout: int | None = attr("bootmenu/@timeout", Int(0))  # range: define_rules
    #: virDomainDefParseBootXML ignores a value other than yes/no (validate drops it)
    bios_useserial: bool | None = attr("bios/@useserial", LenientBool())
    bios_reboot_timeout: int | None = attr("bios/@rebootTimeout", Int(None))  # range: define_rules
    #: written after <bios>, as virDomainDefFormatInternal writes it
    smbios_mode: str | None = attr("smbios/@mode", Enum("emulate", "host", "sysinfo",
                                                        unknown="unknown smbios mode '{}'"))
    line: int | None = line_field()

    #: its hook reads every <acpi><table>, to refuse a second one in libvirt's words
    xml_repeated = ("acpi/table",)

    def xml_after_parse(self, el: Any) -> None:
        """virDomainDefParseBootAcpiOptions: libvirt 9.0 takes one ACPI table."""
        tables = el.findall("acpi/table")
        if len(tables) > 1:
            raise XMLError("Only one acpi table is supported", tables[1].sourceline)


# --------------------------------------------------------------------------- sysinfo

#: Entry names libvirt 9.0 reads in each ``<sysinfo type='smbios'>`` section, in its output order
#: (virSysinfo*Format); anything else is refused by libvirt's schema, so pyvirt refuses it too.
SMBIOS_ENTRY_NAMES: dict[str, tuple[str, ...]] = {
    "bios": ("vendor", "version", "date", "release"),
    "system": ("manufacturer", "product", "version", "serial", "uuid", "sku", "family"),
    "baseBoard": ("manufacturer", "product", "version", "serial", "asset", "location"),
    "chassis": ("manufacturer", "version", "serial", "asset", "sku"),
}


@model
class SysinfoEntry:
    """``<entry name=>value</entry>`` of a sysinfo section (``oemStrings`` entries have no name)."""

    name: str | None = attr("@name")
    value: str | None = text(".")
    line: int | None = line_field()


@model
class SysinfoSection:
    """``<bios>``, ``<system>``, ``<baseBoard>``, ``<chassis>`` or ``<oemStrings>``: a list of entries.

    Kept as a list (not one field per name) because libvirt's XML names the SMBIOS field in an
    attribute; :mod:`pyvirt.xml.validate` checks the names and puts them into libvirt's order.
    """

    entries: list[SysinfoEntry] = children("entry", SysinfoEntry)
    line: int | None = line_field()

    def get(self, name: str) -> str | None:
        """The first non-empty value of entry *name* (libvirt's ``string(entry[@name=...])``)."""
        for e in self.entries:
            if e.name == name and e.value:
                return e.value
        return None


@model
class Sysinfo:
    """``<sysinfo type='smbios'>``: SMBIOS tables the guest sees (QEMU ``-smbios``) when
    ``<os><smbios mode='sysinfo'/>`` asks for them (cloud-init's ``ds=nocloud`` serial, say)."""

    type: str | None = attr("@type", Enum("smbios", "fwcfg"))
    bios: SysinfoSection | None = child("bios", SysinfoSection)
    system: SysinfoSection | None = child("system", SysinfoSection)
    base_boards: list[SysinfoSection] = children("baseBoard", SysinfoSection)
    chassis: SysinfoSection | None = child("chassis", SysinfoSection)
    oem_strings: SysinfoSection | None = child("oemStrings", SysinfoSection)
    #: type='fwcfg': firmware config entries (QEMU -fw_cfg), a value or a host file each
    fw_cfgs: list[FWCfgEntry] = children("entry", None)  # the class is defined below
    line: int | None = line_field()


@model
class FWCfgEntry:
    """``<sysinfo type='fwcfg'><entry name= [file=]>value</entry>``."""

    name: str | None = attr("@name")
    file: str | None = attr("@file")
    value: str | None = text(".")
    line: int | None = line_field()


_fw_field = Sysinfo.__dataclass_fields__["fw_cfgs"]
_fw_field.metadata = MappingProxyType({"xml": dataclass_replace(_fw_field.metadata["xml"], cls=FWCfgEntry)})


NUMA_MODES = Enum("strict", "preferred", "interleave", "restrictive")


@model
class MemNode:
    """``<numatune><memnode cellid= mode= nodeset=>``: host binding of one guest NUMA cell."""

    cellid: int | None = attr("@cellid", Int(0))
    mode: str | None = attr("@mode", NUMA_MODES)
    nodeset: str | None = attr("@nodeset")
    line: int | None = line_field()


@model
class NumaTune:
    """``<numatune>``: which host NUMA nodes guest RAM comes from."""

    # virDomainNumatuneParseXML words its own refusals of these two (memnode's are virXMLPropEnum's)
    memory_mode: str | None = attr("memory/@mode", Enum("strict", "preferred", "interleave", "restrictive",
                                                         unknown="Unsupported NUMA memory tuning mode '{}'"))
    memory_nodeset: str | None = attr("memory/@nodeset")
    memory_placement: str | None = attr("memory/@placement", Enum(
        "static", "auto", unknown="Unsupported NUMA memory placement mode '{}'"))
    memnodes: list[MemNode] = children("memnode", MemNode)
    line: int | None = line_field()


@model
class IOThread:
    """``<iothreadids><iothread id= thread_pool_min= thread_pool_max=>``."""

    id: int | None = attr("@id", Int(1))
    thread_pool_min: int | None = attr("@thread_pool_min", Int(0, signed=True))
    thread_pool_max: int | None = attr("@thread_pool_max", Int(0, signed=True))
    line: int | None = line_field()
    #: filled in by libvirt's parser for a bare ``<iothreads>N`` (not in the XML, not compared)
    autofill: bool = field(default=False, compare=False, repr=False)


@model
class VcpuState:
    """``<vcpus><vcpu id= enabled= hotpluggable= order=>``: one vCPU's own state (libvirt's
    individual vCPUs).  Once a domain has them, every vCPU up to ``<vcpu>`` has an entry
    (pyvirt.xml.vcpus keeps the list whole) and ``<vcpu current=>`` is the count enabled."""

    id: int | None = attr("@id", Int(0))
    enabled: bool | None = attr("@enabled", YESNO)
    #: None only for entries libvirt itself adds offline (setvcpus --maximum): written without it
    hotpluggable: bool | None = attr("@hotpluggable", YESNO)
    #: the order QEMU plugged it in (1 first); None: unset (libvirt writes no order='0')
    order: int | None = attr("@order", Int(0))
    line: int | None = line_field()


@model
class VcpuPin:
    """``<cputune><vcpupin vcpu= cpuset=>``: the host CPUs one vCPU's thread may run on."""

    vcpu: int | None = attr("@vcpu", Int(0))
    cpuset: str | None = attr("@cpuset")
    line: int | None = line_field()


@model
class IOThreadPin:
    """``<cputune><iothreadpin iothread= cpuset=>``: the host CPUs one I/O thread may run on."""

    iothread: int | None = attr("@iothread", Int(1))
    cpuset: str | None = attr("@cpuset")
    line: int | None = line_field()


SCHEDULERS = Enum("batch", "idle", "fifo", "rr")


@model
class ThreadSched:
    """``<vcpusched vcpus=>`` / ``<iothreadsched iothreads=>``: a Linux scheduling policy (and a
    real-time priority for fifo/rr) for a set of vCPU or I/O threads."""

    vcpus: str | None = attr("@vcpus")
    iothreads: str | None = attr("@iothreads")
    scheduler: str | None = attr("@scheduler", SCHEDULERS)
    priority: int | None = attr("@priority", Int(None))
    line: int | None = line_field()


@model
class CacheTuneCache:
    """``<cachetune><cache id= level= type= size= unit=>``: one host cache allocation."""

    id: int | None = attr("@id", Int(0))
    level: int | None = attr("@level", Int(0))
    type: str | None = attr("@type", Enum("both", "code", "data"))
    size: int | None = attr("@size", Int(0))
    unit: str | None = attr("@unit")
    line: int | None = line_field()


@model
class CacheTuneMonitor:
    """``<cachetune><monitor level= vcpus=>``: a cache occupancy monitor."""

    level: int | None = attr("@level", Int(0))
    vcpus: str | None = attr("@vcpus")
    line: int | None = line_field()


@model
class CacheTune:
    """``<cputune><cachetune vcpus=>``: a resctrl cache allocation for some vCPUs (libvirt's;
    pyvirt's driver does not drive resctrl and refuses it)."""

    vcpus: str | None = attr("@vcpus")
    caches: list[CacheTuneCache] = children("cache", CacheTuneCache)
    monitors: list[CacheTuneMonitor] = children("monitor", CacheTuneMonitor)
    line: int | None = line_field()


@model
class MemoryTuneNode:
    """``<memorytune><node id= bandwidth=>``: a memory bandwidth share on one host node."""

    id: int | None = attr("@id", Int(0))
    bandwidth: int | None = attr("@bandwidth", Int(0))
    line: int | None = line_field()


@model
class MemoryTune:
    """``<cputune><memorytune vcpus=>``: a resctrl memory bandwidth allocation (libvirt's;
    refused by pyvirt's driver like <cachetune>)."""

    vcpus: str | None = attr("@vcpus")
    nodes: list[MemoryTuneNode] = children("node", MemoryTuneNode)
    line: int | None = line_field()


@model
class CPUTune:
    """``<cputune>``: the guest's CPU weight and bandwidth (cgroup controls: shares and the global
    ones enforced by daemon/cgroups.py), and the pinning and scheduling of its vCPU, emulator and
    I/O threads (daemon/cputune.py), in libvirt's order (virDomainCputuneDefFormat)."""

    # virDomainCputuneDefParse reads them with virXPath(U)LongLong and its own words; their
    # ranges are virDomainDefCputuneValidate's (xml/validate.py)
    shares: int | None = text("shares", Int(0, words="can't parse cputune shares value"))
    period: int | None = text("period", Int(0, words="can't parse cputune period value"))
    quota: int | None = text("quota", Int(None, words="can't parse cputune quota value"))
    global_period: int | None = text("global_period", Int(0, words="can't parse cputune global period value"))
    global_quota: int | None = text("global_quota", Int(None, words="can't parse cputune global quota value"))
    emulator_period: int | None = text("emulator_period", Int(0, words="can't parse cputune emulator period value"))
    emulator_quota: int | None = text("emulator_quota", Int(None, words="can't parse cputune emulator quota value"))
    iothread_period: int | None = text("iothread_period", Int(0, words="can't parse cputune iothread period value"))
    iothread_quota: int | None = text("iothread_quota", Int(None, words="can't parse cputune iothread quota value"))
    vcpupins: list[VcpuPin] = children("vcpupin", VcpuPin)
    emulatorpin: str | None = attr("emulatorpin/@cpuset")
    iothreadpins: list[IOThreadPin] = children("iothreadpin", IOThreadPin)
    emulatorsched_scheduler: str | None = attr("emulatorsched/@scheduler", SCHEDULERS)
    emulatorsched_priority: int | None = attr("emulatorsched/@priority", Int(None))
    vcpuscheds: list[ThreadSched] = children("vcpusched", ThreadSched)
    iothreadscheds: list[ThreadSched] = children("iothreadsched", ThreadSched)
    cachetunes: list[CacheTune] = children("cachetune", CacheTune, unsupported=True)
    memorytunes: list[MemoryTune] = children("memorytune", MemoryTune, unsupported=True)
    line: int | None = line_field()

    def thread_bandwidth(self) -> list[str]:
        """The per-thread cgroup CPU controls this element sets (their element names): the vCPU,
        emulator and I/O thread periods and quotas (shares and the global ones are the guest's)."""
        names = ("period", "quota", "emulator_period", "emulator_quota", "iothread_period", "iothread_quota")
        return [n for n in names if getattr(self, n) is not None]


@model
class HugePage:
    """``<memoryBacking><hugepages><page size= unit= nodeset=>``."""

    # virDomainHugepagesParseNode reads them with virDomainParseMemory: its refusals are in
    # xml/validate.py (_validate_hugepages), a unit libvirt's virScaleInteger knows is kept
    size: int | None = attr("@size", Int(0))
    unit: str | None = attr("@unit")
    nodeset: str | None = attr("@nodeset")
    line: int | None = line_field()


@model
class MemoryBacking:
    """``<memoryBacking>``: huge pages, memfd / shared guest RAM, locking, preallocation."""

    hugepages: bool = flag("hugepages")
    pages: list[HugePage] = children("hugepages/page", HugePage)
    nosharepages: bool = flag("nosharepages")
    locked: bool = flag("locked")
    source_type: str | None = attr("source/@type", Enum(
        "anonymous", "memfd", "file", unknown="unknown memoryBacking/source/type '{}'"))
    access_mode: str | None = attr("access/@mode", Enum(
        "shared", "private", unknown="unknown memoryBacking/access/mode '{}'"))
    allocation_mode: str | None = attr("allocation/@mode", Enum(
        "immediate", "ondemand", unknown="unknown memoryBacking/allocation/mode '{}'"))
    allocation_threads: int | None = attr("allocation/@threads", Int(0))
    discard: bool = flag("discard")
    line: int | None = line_field()


@model
class Features:
    """``<features>``.  Presence-only features are bools; tristate ones hold 'on'/'off'."""

    acpi: bool = flag("acpi")
    apic: bool = flag("apic")
    apic_eoi: bool | None = attr("apic/@eoi", ONOFF)
    pae: bool = flag("pae")
    hap: bool | None = state("hap")
    viridian: bool = flag("viridian", unsupported=True)  # Xen's
    privnet: bool = flag("privnet", unsupported=True)  # LXC's
    #: a bare ``<hyperv/>``: libvirt keeps it as ``mode='custom'`` with no enlightenment
    hyperv: bool = flag("hyperv")
    hyperv_mode: str | None = attr("hyperv/@mode", Enum("custom", "passthrough"))
    # <hyperv mode='custom'> enlightenments, in libvirt's order (virDomainHyperv)
    hv_relaxed: bool | None = state("hyperv/relaxed")
    hv_vapic: bool | None = state("hyperv/vapic")
    hv_spinlocks: bool | None = state("hyperv/spinlocks")
    hv_spinlocks_retries: int | None = attr("hyperv/spinlocks/@retries", Int(0))
    hv_vpindex: bool | None = state("hyperv/vpindex")
    hv_runtime: bool | None = state("hyperv/runtime")
    hv_synic: bool | None = state("hyperv/synic")
    hv_stimer: bool | None = state("hyperv/stimer")
    hv_stimer_direct: bool | None = state("hyperv/stimer/direct")
    hv_reset: bool | None = state("hyperv/reset")
    hv_vendor_id: bool | None = state("hyperv/vendor_id")
    hv_vendor_id_value: str | None = attr("hyperv/vendor_id/@value")
    hv_frequencies: bool | None = state("hyperv/frequencies")
    hv_reenlightenment: bool | None = state("hyperv/reenlightenment")
    hv_tlbflush: bool | None = state("hyperv/tlbflush")
    hv_ipi: bool | None = state("hyperv/ipi")
    hv_evmcs: bool | None = state("hyperv/evmcs")
    hv_avic: bool | None = state("hyperv/avic")
    # <kvm> features (virDomainKVM)
    kvm_hidden: bool | None = state("kvm/hidden")
    kvm_hint_dedicated: bool | None = state("kvm/hint-dedicated")
    kvm_poll_control: bool | None = state("kvm/poll-control")
    kvm_pv_ipi: bool | None = state("kvm/pv-ipi")
    kvm_dirty_ring: bool | None = state("kvm/dirty-ring")
    kvm_dirty_ring_size: int | None = attr("kvm/dirty-ring/@size", Int(0))
    pvspinlock: bool | None = state("pvspinlock")
    pmu: bool | None = state("pmu")
    vmport: bool | None = state("vmport")
    gic_version: str | None = attr("gic/@version", unsupported=True)  # ARM's
    smm: bool | None = state("smm")
    #: <smm><tseg unit=>: the extended TSEG size (q35's mch.extended-tseg-mbytes); unit default MiB
    smm_tseg: int | None = attr("smm/tseg", Int(0))
    smm_tseg_unit: str | None = attr("smm/tseg/@unit")
    ioapic_driver: str | None = attr("ioapic/@driver", Enum("qemu", "kvm"))
    vmcoreinfo: bool | None = state("vmcoreinfo")
    #: ``<msrs unknown='ignore|fault'>``: bhyve's (its ``-w``); libvirt's QEMU driver keeps it and
    #: applies nothing (KVM's handling of unknown MSRs is the kvm module's ignore_msrs), so does pyvirt
    msrs: bool = flag("msrs")
    msrs_unknown: str | None = attr("msrs/@unknown", Enum("ignore", "fault"))
    tcg_tb_cache: int | None = scaled("tcg/tb-cache", xpath="./tb-cache")
    line: int | None = line_field()


@model
class CPUFeature:
    """``<cpu><feature policy= name=>``."""

    policy: str | None = attr("@policy", Enum("force", "require", "optional", "disable", "forbid",
                                              unknown="Invalid CPU feature policy"))
    name: str | None = attr("@name", FEATURE_NAME)
    line: int | None = line_field()


@model
class NumaCell:
    """``<cpu><numa><cell>``: one guest NUMA node (memory normalised to KiB when read)."""

    id: int | None = attr("@id", Int(0))
    cpus: str | None = attr("@cpus")
    memory: int | None = attr("@memory", INT)
    unit: str | None = attr("@unit")
    mem_access: str | None = attr("@memAccess", Enum("shared", "private"))
    discard: bool | None = attr("@discard", YESNO)
    distances: list[NumaSibling] = children("distances/sibling", None)  # the class is defined below
    #: HMAT: the node's memory-side caches (QEMU's ``-numa hmat-cache``)
    caches: list[NumaCache] = children("cache", None)  # the class is defined below
    line: int | None = line_field()


@model
class NumaSibling:
    """``<cell><distances><sibling id= value=>``: the guest's NUMA distance to cell *id*."""

    id: int | None = attr("@id", Int(0))
    value: int | None = attr("@value", Int(0))
    line: int | None = line_field()


@model
class NumaCache:
    """``<cell><cache level= associativity= policy=><size value=/><line value=/>``: an HMAT
    memory-side cache of the node.  libvirt 9.0 reads the size as KiB and the line as bytes
    whatever ``unit`` says (its parser looks for a ``unit`` *element*), and writes them so."""

    level: int | None = attr("@level", Int(0))
    #: 'none' is libvirt's zero value: read, never written (QEMU is told 'none' then)
    associativity: str | None = attr("@associativity", Enum("none", "direct", "full"))
    policy: str | None = attr("@policy", Enum("none", "writeback", "writethrough"))
    size_kib: int | None = attr("size/@value", Int(0))
    size_unit: str | None = attr("size/@unit")
    line_bytes: int | None = attr("line/@value", Int(0))
    line_unit: str | None = attr("line/@unit")
    line: int | None = line_field()


@model
class NumaInterconnect:
    """``<numa><interconnects>``'s ``<latency>`` (ns) or ``<bandwidth>`` (KiB/s; ``kind``
    says which) between an initiator node and a target node, or the target's cache level
    ``cache`` (QEMU's ``-numa hmat-lb``)."""

    initiator: int | None = attr("@initiator", Int(0))
    target: int | None = attr("@target", Int(0))
    cache: int | None = attr("@cache", Int(0))
    type: str | None = attr("@type", Enum("access", "read", "write"))
    value: int | None = attr("@value", Int(0))
    unit: str | None = attr("@unit")
    kind: str = field(default="latency", compare=True, repr=True)
    line: int | None = line_field()


for _name, _cls in (("distances", NumaSibling), ("caches", NumaCache)):
    _sub_field = NumaCell.__dataclass_fields__[_name]
    _sub_field.metadata = MappingProxyType({"xml": dataclass_replace(_sub_field.metadata["xml"], cls=_cls)})


@model
class CPU:
    """``<cpu>``: mode (host-passthrough / host-model / custom), model, topology, features."""

    mode: str | None = attr("@mode", Enum("custom", "host-model", "host-passthrough", "maximum",
                                          unknown="Invalid mode attribute '{}'"))
    match: str | None = attr("@match", Enum("minimum", "exact", "strict"))
    check: str | None = attr("@check", Enum("none", "partial", "full"))
    migratable: bool | None = attr("@migratable", ONOFF)
    model_fallback: str | None = attr("model/@fallback", Enum("allow", "forbid", unknown="Invalid fallback attribute"))
    #: the CPUID vendor string the guest sees instead of the model's (QEMU's ``vendor=``)
    model_vendor_id: str | None = attr("model/@vendor_id")
    model: str | None = text("model")
    vendor: str | None = text("vendor")
    sockets: int | None = attr("topology/@sockets", Int(1))
    dies: int | None = attr("topology/@dies", Int(1))
    cores: int | None = attr("topology/@cores", Int(1))
    threads: int | None = attr("topology/@threads", Int(1))
    #: <cache level= mode=>: the guest's CPU cache description (emulate / passthrough / disable)
    cache_level: int | None = attr("cache/@level", Int(0))  # range: validate (virCPUDefParseXML's words)
    cache_mode: str | None = attr("cache/@mode", Enum("emulate", "passthrough", "disable"))
    #: <maxphysaddr>: the guest's physical address bits, the host's or a number (QEMU's
    #: host-phys-bits / phys-bits)
    maxphysaddr_mode: str | None = attr("maxphysaddr/@mode", Enum("passthrough", "emulate"))
    maxphysaddr_bits: int | None = attr("maxphysaddr/@bits", Int(0, 255, signed=True))
    features: list[CPUFeature] = children("feature", CPUFeature)
    numa_cells: list[NumaCell] = children("numa/cell", NumaCell)
    #: HMAT latencies and bandwidths, in document order (``*``: either element)
    numa_interconnects: list[NumaInterconnect] = children("numa/interconnects/*", NumaInterconnect)
    line: int | None = line_field()


@model
class Timer:
    """``<clock><timer>``."""

    name: str | None = attr("@name", Enum("platform", "pit", "rtc", "hpet", "tsc", "kvmclock",
                                          "hypervclock", "armvtimer"))
    track: str | None = attr("@track", Enum("boot", "guest", "wall", "realtime"))
    tickpolicy: str | None = attr("@tickpolicy", Enum("delay", "catchup", "merge", "discard"))
    present: bool | None = attr("@present", YESNO)
    #: <catchup threshold= slew= limit=>: tuning of tickpolicy='catchup' that QEMU has no switch
    #: for (libvirt keeps it in the XML and builds the same command line without it)
    catchup_threshold: int | None = attr("catchup/@threshold", Int(0))
    catchup_slew: int | None = attr("catchup/@slew", Int(0))
    catchup_limit: int | None = attr("catchup/@limit", Int(0))
    #: the tsc timer's frequency in Hz (QEMU's ``-cpu ...,tsc-frequency=``)
    frequency: int | None = attr("@frequency", Int(0))
    #: the tsc timer's mode: libvirt's (its QEMU driver builds no switch for it), not pyvirt's
    mode: str | None = attr("@mode", unsupported=True)
    line: int | None = line_field()


@model
class Clock:
    """``<clock offset=>`` with its timers."""

    offset: str | None = attr("@offset", Enum("utc", "localtime", "timezone", "variable", "absolute",
                                              unknown="unknown clock offset '{}'"))
    timezone: str | None = attr("@timezone")
    adjustment: str | None = attr("@adjustment")
    basis: str | None = attr("@basis", Enum("utc", "localtime", unknown="unknown clock basis '{}'"))
    #: virDomainClockDef... reads it with virStrToLong_ull: a value it cannot read is "missing"
    start: int | None = attr("@start", Int(None, words="missing 'start' attribute for clock with offset='absolute'",
                                          words_error=XMLInternalError))
    timers: list[Timer] = children("timer", Timer)
    line: int | None = line_field()

    def xml_after_parse(self, el: Any) -> None:
        """virDomainDefParseClock: seconds on a utc or localtime clock make it a variable one
        from that basis ('reset' stays as it is); a variable clock's adjustment is read as
        virStrToLong_ll reads it (blanks before and a sign allowed), anything else counting 0
        (``5 ``, ``5.0``), from a utc basis unless told."""
        adj = self.adjustment
        if self.offset in ("utc", "localtime") and adj is not None and adj != "reset":
            if not re.fullmatch(r"[+-]?\d+", adj):
                raise XMLError(f"unknown clock adjustment '{adj}'", self.line)
            self.offset, self.basis, self.adjustment = "variable", self.offset, str(int(adj))
        elif self.offset == "variable":
            self.adjustment = str(c_strtol(adj or "") or 0)
            self.basis = self.basis or "utc"


# --------------------------------------------------------------------------- devices

def _lifecycle(event: str) -> Enum:
    """An ``<on_EVENT>`` action; an unknown one refused in virDomainEventActionParseXML's words.
    The core dump actions are a crash's (pyvirt does not dump): for the other events they are
    read and refused by validate in libvirt's words (virDomainDefLifecycleActionAllowed)."""
    dumps = ("coredump-destroy", "coredump-restart")
    if event == "on_crash":
        return Enum("destroy", "restart", "preserve", "rename-restart", known=dumps,
                    unknown=f"unknown {event} action: {{}}")
    return Enum("destroy", "restart", "preserve", "rename-restart", *dumps, unknown=f"unknown {event} action: {{}}")



#: ``<iotune>`` children in libvirt's output order, with the QMP block_set_io_throttle argument
#: each one becomes (libvirt 9.0 applies disk throttling over QMP after start, not on argv).
IOTUNE_FIELDS = (
    ("total_bytes_sec", "bps"), ("read_bytes_sec", "bps_rd"), ("write_bytes_sec", "bps_wr"),
    ("total_iops_sec", "iops"), ("read_iops_sec", "iops_rd"), ("write_iops_sec", "iops_wr"),
    ("total_bytes_sec_max", "bps_max"), ("read_bytes_sec_max", "bps_rd_max"),
    ("write_bytes_sec_max", "bps_wr_max"), ("total_iops_sec_max", "iops_max"),
    ("read_iops_sec_max", "iops_rd_max"), ("write_iops_sec_max", "iops_wr_max"),
    ("size_iops_sec", "iops_size"), ("group_name", "group"),
    ("total_bytes_sec_max_length", "bps_max_length"), ("read_bytes_sec_max_length", "bps_rd_max_length"),
    ("write_bytes_sec_max_length", "bps_wr_max_length"), ("total_iops_sec_max_length", "iops_max_length"),
    ("read_iops_sec_max_length", "iops_rd_max_length"), ("write_iops_sec_max_length", "iops_wr_max_length"),
)


def _iotune(name: str) -> Any:
    """An <iotune> number, refused in virDomainDiskDefIotuneParse's words when it is not one."""
    return text(name, Int(0, words=f"disk iotune field '{name}' must be an integer"))


@model
class IOTune:
    """``<disk><iotune>``: I/O throttling (bytes/s, IOPS, bursts, a shared throttle group)."""

    total_bytes_sec: int | None = _iotune("total_bytes_sec")
    read_bytes_sec: int | None = _iotune("read_bytes_sec")
    write_bytes_sec: int | None = _iotune("write_bytes_sec")
    total_iops_sec: int | None = _iotune("total_iops_sec")
    read_iops_sec: int | None = _iotune("read_iops_sec")
    write_iops_sec: int | None = _iotune("write_iops_sec")
    total_bytes_sec_max: int | None = _iotune("total_bytes_sec_max")
    read_bytes_sec_max: int | None = _iotune("read_bytes_sec_max")
    write_bytes_sec_max: int | None = _iotune("write_bytes_sec_max")
    total_iops_sec_max: int | None = _iotune("total_iops_sec_max")
    read_iops_sec_max: int | None = _iotune("read_iops_sec_max")
    write_iops_sec_max: int | None = _iotune("write_iops_sec_max")
    size_iops_sec: int | None = _iotune("size_iops_sec")
    group_name: str | None = text("group_name")
    total_bytes_sec_max_length: int | None = _iotune("total_bytes_sec_max_length")
    read_bytes_sec_max_length: int | None = _iotune("read_bytes_sec_max_length")
    write_bytes_sec_max_length: int | None = _iotune("write_bytes_sec_max_length")
    total_iops_sec_max_length: int | None = _iotune("total_iops_sec_max_length")
    read_iops_sec_max_length: int | None = _iotune("read_iops_sec_max_length")
    write_iops_sec_max_length: int | None = _iotune("write_iops_sec_max_length")
    line: int | None = line_field()

    def qmp_arguments(self, device_id: str) -> dict[str, object]:
        """``block_set_io_throttle`` arguments (the six base rates are mandatory there: 0 = off)."""
        args: dict[str, object] = {"id": device_id}
        for name, key in IOTUNE_FIELDS:
            value = getattr(self, name)
            if value is not None:
                args[key] = value
        for key in ("bps", "bps_rd", "bps_wr", "iops", "iops_rd", "iops_wr"):
            args.setdefault(key, 0)
        return args


#: virStorageFileFormat names pyvirt knows for a disk image (<driver type=>, <format type=>)
DISK_FORMATS = ("raw", "qcow2", "qcow", "vmdk", "vdi", "vpc",
                "vhdx", "qed", "luks", "dmg", "cloop", "bochs",
                "parallels", "iso", "fat", "host_device")
#: virStorageNetProtocol names (libvirt's ``<source protocol=...>`` of network disks/images)
NET_PROTOCOLS = ("nbd", "rbd", "sheepdog", "gluster", "iscsi", "http", "https", "ftp", "ftps",
                 "tftp", "ssh", "vxhs", "nfs")


@model
class NetHost:
    """``<source><host>`` of a network disk or image, attributes in libvirt's order
    (virDomainDiskSourceFormatNetwork: name, port, transport, socket)."""

    name: str | None = attr("@name")
    port: int | None = attr("@port", Int(0, 65535, words="failed to parse port number '{}'",
                                             words_error=XMLInvalidArgError))
    transport: str | None = attr("@transport", Enum("tcp", "unix", "rdma",
                                                    unknown="unknown protocol transport type '{}'"))
    socket: str | None = attr("@socket")
    line: int | None = line_field()


@model
class SecretRef:
    """``<secret type= uuid=|usage=>`` in a disk's ``<auth>`` or ``<encryption>``: names one of
    pyvirtd's secret objects, whose value reaches QEMU at start (never the XML)."""

    type: str | None = attr("@type", Enum("passphrase", "ceph", "iscsi", unknown="unknown secret type '{}'"))
    uuid: str | None = attr("@uuid")
    usage: str | None = attr("@usage")
    line: int | None = line_field()


@model
class IdMapEntry:
    """``<idmap><uid|gid start= target= count=>``: container IDs ``start``.. seen as host IDs
    ``target``..  libvirt's generic parser reads and keeps it for every driver; only its LXC
    driver applies it (a QEMU guest's processes are not in a user namespace), so the QEMU
    driver keeps it in the XML and it changes nothing on the command line, as in libvirt 9.0."""

    start: int | None = attr("@start", Int(0))
    target: int | None = attr("@target", Int(0))
    count: int | None = attr("@count", Int(0))
    line: int | None = line_field()


@model
class IdMap:
    """``<idmap>``: a container's user and group ID maps (see :class:`IdMapEntry`)."""

    uids: list[IdMapEntry] = children("uid", IdMapEntry)
    gids: list[IdMapEntry] = children("gid", IdMapEntry)
    line: int | None = line_field()


#: libvirt 9.0's perf events (virPerfEvent), in its order: ``<perf>`` lists them so
PERF_EVENTS = ("cmt", "mbmt", "mbml", "cpu_cycles", "instructions", "cache_references", "cache_misses",
               "branch_instructions", "branch_misses", "bus_cycles", "stalled_cycles_frontend",
               "stalled_cycles_backend", "ref_cpu_cycles", "cpu_clock", "task_clock", "page_faults",
               "context_switches", "cpu_migrations", "page_faults_min", "page_faults_maj", "alignment_faults",
               "emulation_faults")


@model
class PerfEvent:
    """``<perf><event name= enabled=>``: one host perf event counted for the guest's QEMU."""

    name: str | None = attr("@name", Enum(*PERF_EVENTS))
    enabled: bool | None = attr("@enabled", YESNO)
    line: int | None = line_field()


@model
class Perf:
    """``<perf>``: libvirt opens each enabled event on QEMU's threads (perf_event_open) for its
    ``perf.*`` statistics.  pyvirtd opens none: the element is kept, an enabled event refused at
    start by name (daemon/tuning.py ``perf_refusal``)."""

    events: list[PerfEvent] = children("event", PerfEvent)
    line: int | None = line_field()

    def xml_after_parse(self, el: Any) -> None:
        """libvirt keeps the events in a table by event (virDomainPerfDefParseXML), written in
        its order."""
        self.events.sort(key=lambda e: PERF_EVENTS.index(e.name) if e.name in PERF_EVENTS else len(PERF_EVENTS))


@model
class PM:
    """``<pm>``: whether the guest may enter S3 / S4 (None: the machine type's default); QEMU's
    PM device gets ``disable_s3``/``disable_s4`` from it, and the agent's suspend checks it."""

    suspend_to_mem: bool | None = attr("suspend-to-mem/@enabled", YESNO)
    suspend_to_disk: bool | None = attr("suspend-to-disk/@enabled", YESNO)
    line: int | None = line_field()


@model
class MemTune:
    """``<memtune>``: the guest's memory limits, in KiB, enforced by its cgroup (pyvirtd's
    daemon/cgroups.py); libvirt's "unlimited" is any value from 2**53 - 1 KiB up."""

    hard_limit: int | None = scaled("hard_limit", xpath="./memtune/hard_limit[1]")
    soft_limit: int | None = scaled("soft_limit", xpath="./memtune/soft_limit[1]")
    #: libvirt's guaranteed minimum (VMware/ESX only: its QEMU driver refuses it too)
    min_guarantee: int | None = scaled("min_guarantee", unsupported=True)
    swap_hard_limit: int | None = scaled("swap_hard_limit", xpath="./memtune/swap_hard_limit[1]")
    line: int | None = line_field()


@model
class BlkioDevice:
    """``<blkiotune><device>``: one host block device's weight and throttles (0/absent: none)."""

    path: str | None = text("path")
    # virDomainBlkioDeviceParseXML's words for a value it cannot read
    weight: int | None = text("weight", Int(0, words="could not parse weight {}", words_error=XMLConfigError))
    read_iops_sec: int | None = text("read_iops_sec", Int(0, words="could not parse read iops sec {}",
                                                             words_error=XMLConfigError))
    write_iops_sec: int | None = text("write_iops_sec", Int(0, words="could not parse write iops sec {}",
                                                               words_error=XMLConfigError))
    read_bytes_sec: int | None = text("read_bytes_sec", Int(0, words="could not parse read bytes sec {}",
                                                               words_error=XMLConfigError))
    write_bytes_sec: int | None = text("write_bytes_sec", Int(0, words="could not parse write bytes sec {}",
                                                                 words_error=XMLConfigError))
    line: int | None = line_field()


@model
class BlkioTune:
    """``<blkiotune>``: the guest's block I/O weight and per-device limits, enforced by its
    cgroup (pyvirtd's daemon/cgroups.py: blkio on cgroup v1, io on v2)."""

    weight: int | None = text("weight", Int(0, words="can't parse blkiotune weight value"))
    devices: list[BlkioDevice] = children("device", BlkioDevice)
    line: int | None = line_field()


@model
class Seclabel:
    """``<source><seclabel>``: a per-image security label override (``relabel='no'``: the
    image is left as it is; a ``<label>``: the owner it gets instead of QEMU's user)."""

    model: str | None = attr("@model")
    labelskip: bool | None = attr("@labelskip", YESNO)
    relabel: bool | None = attr("@relabel", YESNO)
    label: str | None = text("label")
    line: int | None = line_field()


@model
class DiskAuth:
    """``<auth username=>``: the credentials of a network disk (rbd: ceph, iscsi: CHAP)."""

    username: str | None = attr("@username")
    secret: SecretRef | None = child("secret", SecretRef)
    line: int | None = line_field()


@model
class DiskEncryption:
    """``<encryption format= engine=>``: an image QEMU decrypts with the secret's value (LUKS)."""

    format: str | None = attr("@format", Enum("luks", "luks2", known=("default", "qcow", "luks-any"),
                                              unknown="unknown volume encryption format type {}"))
    engine: str | None = attr("@engine", Enum("qemu", "librbd", known=("default",)))
    secrets: list[SecretRef] = children("secret", SecretRef)
    line: int | None = line_field()


@model
class Resource:
    """``<resource>``: the guest's resource partition (a cgroup path) and Fibre Channel
    application id.  The partition is kept and checked at start (``daemon/cgroups.py``
    ``check_partition``: where pyvirtd places guests in cgroups it has one partition of its own,
    standing for libvirt's default ``/machine``); the application id (a cgroup's Fibre Channel
    traffic tag) is libvirt's, not pyvirt's: refused by name."""

    partition: str | None = text("partition")
    fibrechannel_appid: str | None = attr("fibrechannel/@appid", unsupported=True)
    line: int | None = line_field()


@model
class KeyWrapCipher:
    """``<keywrap><cipher name= state=>``: one s390 CPACF key wrapping cipher on or off."""

    name: str | None = attr("@name", Enum("aes", "dea"))
    state: bool | None = attr("@state", ONOFF)
    line: int | None = line_field()


@model
class KeyWrap:
    """``<keywrap>``: s390 cryptographic key management (libvirt's; pyvirt's driver refuses it)."""

    ciphers: list[KeyWrapCipher] = children("cipher", KeyWrapCipher)
    line: int | None = line_field()


@model
class LaunchSecurity:
    """``<launchSecurity type='sev'>``: AMD SEV memory encryption parameters (libvirt's;
    pyvirt's driver refuses it: no SEV host support).  ``policy`` is SEV's 4-byte policy as
    written (libvirt formats it in hex)."""

    type: str | None = attr("@type", Enum("sev", known=("s390-pv",)))
    kernel_hashes: bool | None = attr("@kernelHashes", YESNO)
    cbitpos: int | None = text("cbitpos", Int(0))
    reduced_phys_bits: int | None = text("reducedPhysBits", Int(0))
    policy: str | None = text("policy")
    dh_cert: str | None = text("dhCert")
    session: str | None = text("session")
    line: int | None = line_field()


@model
class DomainSeclabel:
    """``<domain><seclabel>``: how a security driver confines the guest (pyvirt has libvirt's
    ``dac`` driver: ``type='none'`` or ``relabel='no'`` leave every file as it is; a static
    ``<label>`` ``user:group`` or ``+UID:+GID`` is whom QEMU runs as)."""

    type: str | None = attr("@type", Enum("none", "dynamic", "static"))
    model: str | None = attr("@model")
    relabel: bool | None = attr("@relabel", YESNO)
    label: str | None = text("label")
    imagelabel: str | None = text("imagelabel")
    baselabel: str | None = text("baselabel")
    line: int | None = line_field()


@model
class NetCookie:
    """``<cookie name=>VALUE</cookie>`` of an http(s) disk source."""

    name: str | None = attr("@name")
    value: str | None = text(".")
    line: int | None = line_field()


@model
class NetSource:
    """The ``<source>`` of a network disk or backing image (``type='network'``): where the image
    lives (-blockdev driver = protocol, see argv_netdisk).  Declared once for `Disk` and
    `BackingStore`; each writes the group where libvirt does (``xml_group_before``)."""

    source_protocol: str | None = attr("source/@protocol", Enum(*NET_PROTOCOLS))
    source_name: str | None = attr("source/@name")
    source_query: str | None = attr("source/@query")
    source_tls: bool | None = attr("source/@tls", YESNO)
    #: the name the server's certificate must carry when it differs from the host's
    source_tls_hostname: str | None = attr("source/@tlsHostname")
    source_hosts: list[NetHost] = children("source/host", NetHost)
    source_snapshot: str | None = attr("source/snapshot/@name")
    source_config: str | None = attr("source/config/@file")
    source_initiator_iqn: str | None = attr("source/initiator/iqn/@name")
    source_identity_user: str | None = attr("source/identity/@user")
    source_identity_group: str | None = attr("source/identity/@group")
    #: http(s)/ftp(s) (QEMU's curl driver): cookies sent (passed as a secret), certificate check,
    #: read-ahead bytes and the request timeout
    source_ssl_verify: bool | None = attr("source/ssl/@verify", YESNO)
    source_cookies: list[NetCookie] = children("source/cookies/cookie", NetCookie)
    source_readahead: int | None = attr("source/readahead/@size", Int(0))  # 0: none (QEMU's default)
    source_timeout: int | None = attr("source/timeout/@seconds", Int(0))


@model
class BackingStore(NetSource):
    """``<disk><backingStore>``: one layer of the backing chain the XML spells out (libvirt then
    opens exactly that chain); an empty ``<backingStore/>`` says the chain ends here."""

    xml_group_before = ((NetSource, "backing_store"),)

    #: read as libvirt reads it (virDomainDiskBackingStoreParse checks the format first): validate
    type: str | None = attr("@type")
    #: whether the layer has a <source> element (libvirt requires one, even an empty one): set
    #: by xml_after_parse, not an XML field
    source_given: bool = field(default=False, compare=False, repr=False)
    #: libvirt's number of the layer (kept as written, as libvirt's qemuxml2xml keeps it; the
    #: command line numbers the nodes itself, as libvirt does at start)
    index: int | None = attr("@index", Int(1))
    format_type: str | None = attr("format/@type", Enum(*DISK_FORMATS, unknown="unknown storage source format '{}'",
                                                        unknown_error=XMLError))
    #: qcow2 metadata (L2/refcount) cache of this layer, in bytes (QEMU's cache-size)
    format_metadata_cache: int | None = scaled("format/metadata_cache/max_size", unit="bytes", label="bytes")
    source_file: str | None = attr("source/@file", NonEmpty())
    source_dev: str | None = attr("source/@dev", NonEmpty())
    #: only a 'storage' slice is read (virDomainStorageSourceParseSlices looks for that type):
    #: one of another type is dropped by validate
    slice_type: str | None = attr("source/slices/slice/@type")
    slice_offset: int | None = attr("source/slices/slice/@offset",
                                    Int(0, words="malformed value '{}' of 'offset' attribute of slice"))
    slice_size: int | None = attr("source/slices/slice/@size",
                                  Int(1, words="malformed value '{}' of 'size' attribute of slice"))
    #: this layer's own label (virDomainStorageSourceParse: every layer may carry one)
    source_seclabels: list[Seclabel] = children("source/seclabel", Seclabel)
    #: this layer's own LUKS encryption, with its own secret (QEMU opens each layer)
    source_encryption: DiskEncryption | None = child("source/encryption", DiskEncryption)
    backing_store: BackingStore | None = child("backingStore", None)  # the class itself: set below
    line: int | None = line_field()

    def xml_after_parse(self, el: Any) -> None:
        self.source_given = el.find("source") is not None

    @property
    def terminator(self) -> bool:
        """``<backingStore/>``: no further backing image (QEMU is told ``backing: null``)."""
        return self.type is None and not (self.source_file or self.source_dev or self.source_protocol)


# NVRam is declared before the network source's parts it shares with disks
for _name, _cls in (("source_hosts", NetHost), ("source_auth", DiskAuth)):
    _nv_field = NVRam.__dataclass_fields__[_name]
    _nv_field.metadata = MappingProxyType({"xml": dataclass_replace(_nv_field.metadata["xml"], cls=_cls)})

# a dataclass cannot name itself while being defined: point the nested layer's spec at it now
_bs_field = BackingStore.__dataclass_fields__["backing_store"]
_bs_field.metadata = MappingProxyType({"xml": dataclass_replace(_bs_field.metadata["xml"], cls=BackingStore)})


@model
class Disk(NetSource, VirtioOptions, PCIDeviceInfo):
    """``<disk>``: file/block/volume/network backed disk, cdrom or floppy."""

    xml_group_before = ((NetSource, "source_auth"),)

    type: str | None = attr("@type", Enum("file", "block", "volume", "network", "vhostuser", "dir", "nvme"))
    device: str | None = attr("@device", Enum("disk", "cdrom", "floppy", "lun"))
    #: a virtio disk's PCI flavour (virtio-blk-pci, its -transitional or -non-transitional form)
    model: str | None = attr("@model", Enum("virtio", "virtio-transitional", "virtio-non-transitional"))
    #: lun only: QEMU's CAP_SYS_RAWIO, and whether the host filters SG_IO (both host settings)
    rawio: bool | None = attr("@rawio", YESNO)
    sgio: str | None = attr("@sgio", Enum("filtered", "unfiltered"))
    #: the default kind of snapshot of this disk (what snapshot-create does; no QEMU option)
    snapshot: str | None = attr("@snapshot", Enum("no", "internal", "external", "manual"))
    # libvirt's generic parser takes any driver name; Xen's (file, tap, tap2, phy) are the
    # ones other drivers use, kept by the test driver and refused as unsupported by QEMU's.
    #: only "qemu" builds (define_rules refuses the others, in libvirt's words)
    driver_name: str | None = attr("driver/@name", Enum("qemu", "file", "tap", "tap2", "phy"))
    driver_type: str | None = attr("driver/@type", Enum(*DISK_FORMATS, unknown="unknown driver format value '{}'"))
    driver_cache: str | None = attr("driver/@cache", Enum("default", "none", "writethrough",
                                                          "writeback", "directsync", "unsafe"))
    #: what QEMU does on a write / read error (stop the guest, report it, ignore it; enospace:
    #: stop only when the host is out of space)
    driver_error_policy: str | None = attr("driver/@error_policy", Enum("stop", "report", "ignore", "enospace"))
    #: 'enospace' parses (libvirt's one policy enum) and is refused for reads (define_rules)
    driver_rerror_policy: str | None = attr("driver/@rerror_policy", Enum("stop", "report", "ignore", "enospace"))
    driver_discard: str | None = attr("driver/@discard", Enum("unmap", "ignore"))
    driver_io: str | None = attr("driver/@io", Enum("threads", "native", "io_uring"))
    driver_copy_on_read: bool | None = attr("driver/@copy_on_read", ONOFF)
    driver_iothread: int | None = attr("driver/@iothread", Int(1))
    driver_detect_zeroes: str | None = attr("driver/@detect_zeroes", Enum("off", "on", "unmap"))
    driver_ioeventfd: bool | None = attr("driver/@ioeventfd", ONOFF)
    driver_event_idx: bool | None = attr("driver/@event_idx", ONOFF)
    driver_queues: int | None = attr("driver/@queues", Int(0))  # 0: none given (virXMLPropUInt)
    driver_queue_size: int | None = attr("driver/@queue_size", Int(1))
    #: qcow2 metadata (L2/refcount) cache of the top image, in bytes (QEMU's cache-size)
    driver_metadata_cache: int | None = scaled("driver/metadata_cache/max_size", unit="bytes", label="bytes")
    # <auth> and <encryption> as children of <disk> or of <source>: written back where they were
    auth: DiskAuth | None = child("auth", DiskAuth)
    source_file: str | None = attr("source/@file", NonEmpty())
    source_dev: str | None = attr("source/@dev", NonEmpty())
    #: vhostuser: the backend's unix socket, reconnected to after it went away
    #: vhostuser: ``unix``; nvme: ``pci`` (the controller is a host PCI function)
    source_type: str | None = attr("source/@type", Enum("unix", "pci"))
    source_path: str | None = attr("source/@path")
    source_reconnect_enabled: bool | None = attr("source/reconnect/@enabled", YESNO)
    source_reconnect_timeout: int | None = attr("source/reconnect/@timeout", Int(0))
    #: libvirt's number of the top image (kept as written, like `BackingStore.index`)
    source_index: int | None = attr("source/@index", Int(1))
    source_pool: str | None = attr("source/@pool")
    source_volume: str | None = attr("source/@volume")
    source_mode: str | None = attr("source/@mode", Enum("host", "direct"))
    #: a directory QEMU shows the guest as a read-only FAT disk (``type='dir'``, QEMU's vvfat)
    source_dir: str | None = attr("source/@dir", NonEmpty())
    #: a block job's destination as libvirt's status XML records it: read only from live state,
    #: so a definition drops it (virDomainDiskDefParseXML with VIR_DOMAIN_DEF_PARSE_INACTIVE)
    #: and the command line never had it
    mirror: Any = ignored("mirror")
    #: nvme: whether libvirt would detach the controller from its host driver (pyvirtd refuses
    #: that at start, as for PCI host devices), the namespace and the controller's PCI address
    source_managed: bool | None = attr("source/@managed", YESNO)
    source_namespace: int | None = attr("source/@namespace", Int(0))
    source_pci: Any = child("source/address", None)  # HostdevSourceAddress: set once it is defined
    source_startup_policy: str | None = attr("source/@startupPolicy", Enum("mandatory", "requisite",
                                                                           "optional"))
    source_auth: DiskAuth | None = child("source/auth", DiskAuth)
    source_encryption: DiskEncryption | None = child("source/encryption", DiskEncryption)
    #: <slices><slice type='storage' offset= size=>: the image is that byte range of the source
    #: only a 'storage' slice is read (virDomainStorageSourceParseSlices looks for that type):
    #: one of another type is dropped by validate
    slice_type: str | None = attr("source/slices/slice/@type")
    slice_offset: int | None = attr("source/slices/slice/@offset",
                                    Int(0, words="malformed value '{}' of 'offset' attribute of slice"))
    slice_size: int | None = attr("source/slices/slice/@size",
                                  Int(1, words="malformed value '{}' of 'size' attribute of slice"))
    #: SCSI persistent reservations through qemu-pr-helper: one libvirt runs (managed) or the
    #: admin's, on the given unix socket
    source_reservations_managed: bool | None = attr("source/reservations/@managed", YESNO)
    source_reservations_type: str | None = attr("source/reservations/source/@type", Enum("unix"))
    source_reservations_path: str | None = attr("source/reservations/source/@path")
    source_reservations_mode: str | None = attr("source/reservations/source/@mode", Enum("client", "server"))
    source_seclabels: list[Seclabel] = children("source/seclabel", Seclabel)
    backing_store: BackingStore | None = child("backingStore", BackingStore)
    geometry_cyls: int | None = attr("geometry/@cyls", Int(1))
    geometry_heads: int | None = attr("geometry/@heads", Int(1))
    geometry_secs: int | None = attr("geometry/@secs", Int(1))
    geometry_trans: str | None = attr("geometry/@trans", Enum("none", "lba", "auto"))
    blockio_logical: int | None = attr("blockio/@logical_block_size", Int(512))
    blockio_physical: int | None = attr("blockio/@physical_block_size", Int(512))
    target_dev: str | None = attr("target/@dev", DISK_TARGET_DEV)
    target_bus: str | None = attr("target/@bus", Enum(
        "virtio", "sata", "scsi", "ide", "usb", "fdc", "xen", "uml", known=("sd",),
        why={"sd": "QEMU 7.2's x86 machines have no SD card bus (libvirt writes -drive if=sd, which QEMU "
                   "refuses: 'machine type does not support if=sd')"}))
    target_tray: str | None = attr("target/@tray", Enum("open", "closed"))
    target_removable: bool | None = attr("target/@removable", ONOFF)
    target_rotation_rate: int | None = attr("target/@rotation_rate", Int(1, 65534))
    iotune: IOTune | None = child("iotune", IOTune)
    readonly: bool = flag("readonly")
    shareable: bool = flag("shareable")
    # a transient disk (libvirt drops the guest's writes at shutdown through an overlay it creates
    # at start): kept in the definition as libvirt keeps it; a start asking for it is refused by name
    transient: bool = flag("transient")
    transient_share_backing: bool | None = attr("transient/@shareBacking", YESNO)
    serial: str | None = text("serial")
    wwn: str | None = text("wwn")
    #: printable ASCII (the schema's pattern); the length, 8 and 16, is the QEMU driver's rule
    vendor: str | None = text("vendor", Pattern(r"[\x20-\x7E]*", "vendor"))
    product: str | None = text("product", Pattern(r"[\x20-\x7E]*", "product"))
    encryption: DiskEncryption | None = child("encryption", DiskEncryption)
    boot_order: int | None = attr("boot/@order", Int(1))  # virDomainDeviceInfoFormat: after the disk's own
    boot_loadparm: str | None = attr("boot/@loadparm", unsupported=True)  # s390's boot menu entry
    line: int | None = line_field()

    @property
    def disk_auth(self) -> DiskAuth | None:
        """The ``<auth>``, wherever it was written."""
        return self.auth or self.source_auth

    @property
    def disk_encryption(self) -> DiskEncryption | None:
        """The ``<encryption>``, wherever it was written."""
        return self.encryption or self.source_encryption


@model
class Controller(VirtioOptions, PCIDeviceInfo):
    """``<controller>``: pci roots/ports, usb, sata, scsi, ide, virtio-serial."""

    type: str | None = attr("@type", Enum("pci", "usb", "sata", "scsi", "ide", "virtio-serial", "fdc", "ccid",
                                          known=("xenbus", "isa")))
    index: int | None = attr("@index", Int(0, signed=True))  # virXMLPropInt, NONNEGATIVE
    model: str | None = attr("@model", Enum(
        "pci-root", "pcie-root", "pcie-root-port", "pci-bridge", "pcie-to-pci-bridge",
        "dmi-to-pci-bridge", "pcie-switch-upstream-port", "pcie-switch-downstream-port",
        "pci-expander-bus", "pcie-expander-bus",
        "piix3-uhci", "piix4-uhci", "ehci", "ich9-ehci1", "ich9-uhci1", "ich9-uhci2", "ich9-uhci3",
        "vt82c686b-uhci", "pci-ohci", "nec-xhci", "qemu-xhci", "none",
        "virtio-scsi", "lsilogic", "lsisas1068", "lsisas1078", "vmpvscsi", "auto", "buslogic",
        "virtio-transitional", "virtio-non-transitional", "ibmvscsi", "virtio",
        "am53c974", "dc390",
        # IDE models: i440fx's built-in PIIX3 IDE serves whichever is named (libvirt 9.0 records it)
        "piix3", "piix4", "ich6",
        known=("spapr-pci-host-bridge", "usb-ehci", "qusb1", "qusb2", "ncr53c90"),
        unknown="Unknown model type '{}'"))
    ports: int | None = attr("@ports", Int(0, signed=True))  # 0 is kept (libvirt writes p2=0,p3=0)
    vectors: int | None = attr("@vectors", Int(0, signed=True))
    #: the QEMU device of a PCI controller (virDomainControllerPCIModelName)
    model_name: str | None = attr("model/@name", Enum(
        "pci-bridge", "i82801b11-bridge", "ioh3420", "pcie-root-port", "x3130-upstream", "xio3130-downstream",
        "pxb", "pxb-pcie", "pcie-pci-bridge", known=("spapr-pci-host-bridge",)))
    #: pci-root / pcie-root: the 64-bit PCI hole's size (KiB)
    pcihole64: int | None = scaled("pcihole64")
    # 0 is none given (virXMLPropUInt; validate)
    driver_queues: int | None = attr("driver/@queues", Int(0))
    driver_cmd_per_lun: int | None = attr("driver/@cmd_per_lun", Int(0))
    driver_max_sectors: int | None = attr("driver/@max_sectors", Int(0))
    #: Xen's grant frames: libvirt's, not implemented by pyvirt
    max_grant_frames: str | None = attr("@maxGrantFrames", unsupported=True)
    driver_ioeventfd: bool | None = attr("driver/@ioeventfd", ONOFF)
    driver_iothread: int | None = attr("driver/@iothread", Int(0))
    # read as ints (virXMLPropInt), their ranges refused in libvirt's words by validate
    target_chassis_nr: int | None = attr("target/@chassisNr", Int(None, signed=True))
    target_chassis: int | None = attr("target/@chassis", Int(None, signed=True))
    target_port: int | None = attr("target/@port", Int(None, base0=True, hex_width=0, signed=True))
    target_bus_nr: int | None = attr("target/@busNr", Int(None, signed=True))
    target_hotplug: bool | None = attr("target/@hotplug", ONOFF)
    #: a pci-root/pcie-root's index on a pSeries host: libvirt's, not implemented by pyvirt
    target_index: str | None = attr("target/@index", unsupported=True)
    #: pci/pcie-expander-bus: the guest NUMA node the bus belongs to (QEMU's ``numa_node``)
    target_node: int | None = text("target/node", Int(0, words="invalid NUMA node in target"))
    #: virDomainDeviceInfoFormat writes <master> right after the alias (same rank, declared later)
    master_startport: int | None = attr("master/@startport", Int(0), tail=2)
    line: int | None = line_field()


@model
class Lease:
    """``<lease>``: a lock manager's lease (virDomainLeaseDefParseXML).  libvirt's default lock
    manager ('nop') does nothing with it, and pyvirt has none: kept and written back, not used."""

    lockspace: str | None = text("lockspace")
    key: str | None = text("key")
    target_path: str | None = attr("target/@path")
    target_offset: str | None = attr("target/@offset")
    line: int | None = line_field()

    def xml_after_parse(self, el: Any) -> None:
        if self.key is None:
            raise XMLError("Missing 'key' element for lease", self.line)
        if self.lockspace is None:  # libvirt 9.0 refuses it without saying why
            raise XMLError("Missing 'lockspace' element for lease", self.line)
        if self.target_path is None:
            raise XMLError("Missing 'target' element for lease", self.line)
        if self.target_offset is not None:
            got = c_integer(self.target_offset, "ullongwrap")  # virStrToLong_ull
            if got is None or got[1] != len(self.target_offset):
                raise XMLError(f"Malformed lease target offset {self.target_offset}", self.line)
            self.target_offset = str(got[0]) if got[0] else None  # 0 is not written


@model
class Filesystem(VirtioOptions, PCIDeviceInfo):
    """``<filesystem type='mount'>``: a host directory shared with virtiofs or 9p."""

    #: only mount builds in the QEMU driver: the other types parse, as in libvirt, and are refused
    #: by its rule (define_rules_more), in its words
    type: str | None = attr("@type", Enum("mount", "block", "file", "template", "ram", "bind", "volume"))
    accessmode: str | None = attr("@accessmode", Enum("passthrough", "mapped", "squash"))
    #: 9p: the virtio PCI flavour (virtio-9p-pci, -transitional, -non-transitional)
    model: str | None = attr("@model", Enum("virtio", "virtio-transitional", "virtio-non-transitional"))
    #: 9p: how files of several host devices under the export keep distinct inode numbers
    multidevs: str | None = attr("@multidevs", Enum("default", "remap", "forbid", "warn"))
    fmode: str | None = attr("@fmode", Pattern(r"[0-7]{1,4}", "createMode", octal_uint=True))
    dmode: str | None = attr("@dmode", Pattern(r"[0-7]{1,4}", "createMode", octal_uint=True))
    driver_type: str | None = attr("driver/@type", Enum("virtiofs", "path", known=("handle", "loop",
                                                                                   "nbd", "ploop")))
    #: libvirt's image format of a file/block filesystem (LXC's loop/nbd drivers); not pyvirt's
    driver_format: str | None = attr("driver/@format", unsupported=True)
    driver_wrpolicy: str | None = attr("driver/@wrpolicy", Enum("immediate"))
    driver_queue: int | None = attr("driver/@queue", Int(1))
    #: virtiofs: the virtiofsd pyvirtd starts for the share and its options (daemon/virtiofs.py)
    binary_path: str | None = attr("binary/@path")
    binary_xattr: bool | None = attr("binary/@xattr", ONOFF)
    binary_cache_mode: str | None = attr("binary/cache/@mode", Enum("none", "always"))
    binary_sandbox_mode: str | None = attr("binary/sandbox/@mode", Enum("namespace", "chroot"))
    binary_lock_posix: bool | None = attr("binary/lock/@posix", ONOFF)
    binary_lock_flock: bool | None = attr("binary/lock/@flock", ONOFF)
    binary_thread_pool_size: int | None = attr("binary/thread_pool/@size", Int(0))
    source_dir: str | None = attr("source/@dir")
    # libvirt's sources of the other filesystem types (an image file, a block device, a
    # template's name, a RAM filesystem's size): read, never built (the QEMU driver shares
    # directories only)
    source_file: str | None = attr("source/@file")
    source_dev: str | None = attr("source/@dev")
    source_name: str | None = attr("source/@name")
    source_usage: str | None = attr("source/@usage")
    source_units: str | None = attr("source/@units")
    #: virtiofs served by a virtiofsd the user runs, on this vhost-user socket
    source_socket: str | None = attr("source/@socket")
    target_dir: str | None = attr("target/@dir")
    boot_order: int | None = attr("boot/@order", Int(1))
    readonly: bool = flag("readonly")
    #: libvirt's quota of a container's filesystem; not pyvirt's
    space_hard_limit: int | None = scaled("space_hard_limit", "bytes", unsupported=True)
    space_soft_limit: int | None = scaled("space_soft_limit", "bytes", unsupported=True)
    line: int | None = line_field()


@model
class BandwidthLimit:
    """``<bandwidth><inbound|outbound average= peak= floor= burst=>``: KiB/s (burst: KiB)."""

    # virNetDevBandwidthParseRate's words for a value it cannot read
    average: int | None = attr("@average", Int(0, words="could not convert bandwidth average value '{}'",
                                                words_error=XMLConfigError))
    peak: int | None = attr("@peak", Int(0, words="could not convert bandwidth peak value '{}'",
                                          words_error=XMLConfigError))
    floor: int | None = attr("@floor", Int(0, words="could not convert bandwidth floor value '{}'",
                                            words_error=XMLConfigError))
    burst: int | None = attr("@burst", Int(0, words="could not convert bandwidth burst value '{}'",
                                            words_error=XMLConfigError))
    line: int | None = line_field()


@model
class Bandwidth:
    """``<bandwidth>`` of a NIC: the guest's inbound and outbound limits, applied with tc on the
    NIC's tap (network/bandwidth.py); written open and closed when empty, as libvirt."""

    xml_keep_open = True

    inbound: BandwidthLimit | None = child("inbound", BandwidthLimit)
    outbound: BandwidthLimit | None = child("outbound", BandwidthLimit)
    line: int | None = line_field()


@model
class NicHostIP:
    """``<interface type='ethernet'><source><ip address= family= prefix= peer=>``: an address
    pyvirtd gives the host side of the tap (virNetDevIPInfoAddToDev); as ``<interface
    type='user'><ip>``, the network (IPv4) or prefix (IPv6) of the guest's user-mode stack."""

    address: str | None = attr("@address")
    family: str | None = attr("@family", Enum("ipv4", "ipv6"))
    prefix: int | None = attr("@prefix", Int(0, 128))
    peer: str | None = attr("@peer")
    line: int | None = line_field()


@model
class NicFilterParameter:
    """``<filterref><parameter name= value=>``: one value of a network filter variable (a name
    given several times makes a list, as libvirt's virNWFilterParseParamAttributes)."""

    name: str | None = attr("@name")
    value: str | None = attr("@value")


@model
class NicFilterRef:
    """``<interface><filterref filter=>``: the network filter pyvirtd applies to the NIC's tap
    (``pyvirt/nwfilter``), with the variables given to it."""

    filter: str | None = attr("@filter")
    parameters: list[NicFilterParameter] = children("parameter", NicFilterParameter)

    def xml_after_parse(self, el: Any) -> None:
        """libvirt keeps the parameters in a table by name (virNWFilterParseParamAttributes) and
        writes it sorted by name, each name's values in the order given."""
        self.parameters.sort(key=lambda p: (p.name or "").encode())


@model
class NicHostRoute:
    """``<source><route family= address= prefix= gateway= metric=>``: a host route through the tap."""

    family: str | None = attr("@family", Enum("ipv4", "ipv6"))
    address: str | None = attr("@address")
    prefix: int | None = attr("@prefix", Int(0, 128))
    gateway: str | None = attr("@gateway")
    metric: int | None = attr("@metric", Int(0))
    line: int | None = line_field()


#: why pyvirt refuses these libvirt NIC types (told before anything only that type has)
_NIC_TYPES_WHY = {
    "hostdev": "an SR-IOV VF given to the guest with its MAC and VLAN set through the PF; pyvirt neither "
               "programs the PF (ip link set PF vf N mac/vlan) nor detaches host devices: set the VF's MAC on "
               "the host, bind the VF to vfio-pci and give it as <hostdev mode='subsystem' type='pci' "
               "managed='no'>",
    "vdpa": "a vhost-vdpa device needs its /dev/vhost-vdpa-N descriptor opened and passed, which pyvirt does not do",
    "direct": "pyvirt creates no macvtap devices; use type='bridge' or type='network'",
}


@model
class Interface(VirtioOptions, RomInfo, PCIDeviceInfo):
    """``<interface>``: user (slirp), network or bridge NIC."""

    #: the NIC type is checked before the elements and attributes only some types have
    xml_discriminator = "type"

    type: str | None = attr("@type", Enum("user", "network", "bridge", "vhostuser", "server", "client", "mcast",
                                          "udp", "ethernet",
                                          known=("direct", "hostdev", "vdpa", "null", "vds", "internal"),
                                          why=_NIC_TYPES_WHY))
    #: libvirt's, not implemented by pyvirt (a macvtap's guest RX filter trust)
    trust_guest_rx_filters: str | None = attr("@trustGuestRxFilters", unsupported=True)
    mac_address: str | None = attr("mac/@address")
    source_network: str | None = attr("source/@network")
    source_bridge: str | None = attr("source/@bridge")
    #: libvirt's macvtap (type 'direct') host device; not pyvirt's
    source_dev: str | None = attr("source/@dev", unsupported=True)
    source_portgroup: str | None = attr("source/@portgroup")
    #: vhostuser: the socket of the vhost-user backend (QEMU is its server or client)
    source_type: str | None = attr("source/@type", Enum(
        "unix", unknown="Type='{}' unsupported for <interface type='vhostuser'>"))
    source_path: str | None = attr("source/@path")
    source_mode: str | None = attr("source/@mode", Enum("server", "client", known=("vepa", "bridge", "private", "passthrough")))
    #: server/client/mcast/udp: QEMU's socket network backend
    source_address: str | None = attr("source/@address")
    source_port: int | None = attr("source/@port", Int(0, 65535))
    source_local_address: str | None = attr("source/local/@address")
    source_local_port: int | None = attr("source/local/@port", Int(0, 65535))
    source_ips: list[NicHostIP] = children("source/ip", NicHostIP)
    source_routes: list[NicHostRoute] = children("source/route", NicHostRoute)
    source_reconnect_enabled: bool | None = attr("source/reconnect/@enabled", YESNO)
    source_reconnect_timeout: int | None = attr("source/reconnect/@timeout", Int(0))
    bandwidth: Bandwidth | None = child("bandwidth", Bandwidth)
    #: <port isolated=>: the bridge port may talk only to non-isolated ports (refused at start)
    port_isolated: bool | None = attr("port/@isolated", YESNO)
    #: user: the guest-side network of QEMU's user-mode stack (one IPv4 and one IPv6 at most)
    ips: list[NicHostIP] = children("ip", NicHostIP)
    #: ethernet: a host program pyvirtd runs with the new tap's name once it is up (as libvirt)
    script_path: str | None = attr("script/@path")
    target_dev: str | None = attr("target/@dev")
    #: ethernet: managed='no' names a tap that exists already (pyvirtd opens it, nothing more)
    target_managed: bool | None = attr("target/@managed", YESNO)
    model_type: str | None = attr("model/@type")
    driver_name: str | None = attr("driver/@name", Enum("qemu", "vhost"))
    driver_queues: int | None = attr("driver/@queues", Int(1))
    driver_txmode: str | None = attr("driver/@txmode", Enum("iothread", "timer"))
    driver_ioeventfd: bool | None = attr("driver/@ioeventfd", ONOFF)
    driver_event_idx: bool | None = attr("driver/@event_idx", ONOFF)
    #: virtio-net's ring sizes (QEMU's rx_queue_size/tx_queue_size; powers of two, define_rules)
    driver_rx_queue_size: int | None = attr("driver/@rx_queue_size", Int(1))
    driver_tx_queue_size: int | None = attr("driver/@tx_queue_size", Int(1))
    # libvirt writes these after the virtio options (late: declared after them, by the mixin)
    driver_rss: bool | None = attr("driver/@rss", ONOFF, late=True)
    driver_rss_hash_report: bool | None = attr("driver/@rss_hash_report", ONOFF, late=True)
    #: virtio-net offloads the host (<driver><host>) and the guest (<driver><guest>) may use
    driver_host_csum: bool | None = attr("driver/host/@csum", ONOFF, late=True)
    driver_host_gso: bool | None = attr("driver/host/@gso", ONOFF, late=True)
    driver_host_tso4: bool | None = attr("driver/host/@tso4", ONOFF, late=True)
    driver_host_tso6: bool | None = attr("driver/host/@tso6", ONOFF, late=True)
    driver_host_ecn: bool | None = attr("driver/host/@ecn", ONOFF, late=True)
    driver_host_ufo: bool | None = attr("driver/host/@ufo", ONOFF, late=True)
    driver_host_mrg_rxbuf: bool | None = attr("driver/host/@mrg_rxbuf", ONOFF, late=True)
    driver_guest_csum: bool | None = attr("driver/guest/@csum", ONOFF, late=True)
    driver_guest_tso4: bool | None = attr("driver/guest/@tso4", ONOFF, late=True)
    driver_guest_tso6: bool | None = attr("driver/guest/@tso6", ONOFF, late=True)
    driver_guest_ecn: bool | None = attr("driver/guest/@ecn", ONOFF, late=True)
    driver_guest_ufo: bool | None = attr("driver/guest/@ufo", ONOFF, late=True)
    # Open vSwitch / 802.1Qbg/h ports: libvirt's, not implemented by pyvirt
    virtualport_type: str | None = attr("virtualport/@type", unsupported=True)
    virtualport_managerid: str | None = attr("virtualport/parameters/@managerid", unsupported=True)
    virtualport_typeid: str | None = attr("virtualport/parameters/@typeid", unsupported=True)
    virtualport_typeidversion: str | None = attr("virtualport/parameters/@typeidversion", unsupported=True)
    virtualport_instanceid: str | None = attr("virtualport/parameters/@instanceid", unsupported=True)
    virtualport_profileid: str | None = attr("virtualport/parameters/@profileid", unsupported=True)
    virtualport_interfaceid: str | None = attr("virtualport/parameters/@interfaceid", unsupported=True)
    #: the host devices a tap NIC's back end opens (libvirt's defaults: /dev/net/tun, /dev/vhost-net);
    #: kept as written, other paths refused at start (pyvirtd opens the defaults)
    backend_tap: str | None = attr("backend/@tap")
    backend_vhost: str | None = attr("backend/@vhost")
    filterref: NicFilterRef | None = child("filterref", NicFilterRef)
    #: <tune><sndbuf>: the tap device's send buffer (bytes; QEMU's ``sndbuf``, tap backends only,
    #: as libvirt: other backends ignore it)
    tune_sndbuf: int | None = text("tune/sndbuf", Int(0))
    #: virtio failover (QEMU's failover=on): 'persistent' is the virtio NIC a 'transient' host
    #: device NIC (<interface type='hostdev'>, refused) falls back to; persistent= names it
    teaming_type: str | None = attr("teaming/@type", Enum("persistent", "transient", unknown=TEAMING_UNKNOWN))
    teaming_persistent: str | None = attr("teaming/@persistent")
    link_state: str | None = attr("link/@state", Enum("up", "down", unknown="unknown interface link state '{}'"))
    mtu_size: int | None = attr("mtu/@size", Int(0, words="malformed mtu size"))  # 0: none (validate)
    #: the host tap's rx-frames interrupt coalescing (set by pyvirtd, as virNetDevSetCoalesce)
    coalesce_rx_frames: int | None = attr("coalesce/rx/frames/@max", Int(
        0, words="cannot parse value '{}' for coalesce parameter", words_error=XMLDetailError))
    boot_order: int | None = attr("boot/@order", Int(1))
    boot_loadparm: str | None = attr("boot/@loadparm", unsupported=True)  # s390's boot menu entry
    line: int | None = line_field()

    def xml_after_parse(self, el: Any) -> None:
        """virDomainNetDefParseXML reads ``<source><local>`` for a udp NIC only."""
        if self.type != "udp":
            self.source_local_address = self.source_local_port = None


CHAR_TYPES = Enum("pty", "file", "unix", "null", "stdio", "tcp", "spicevmc", "vc", "dev", "qemu-vdagent",
                  "pipe", "spiceport", "udp", "dbus", known=("nmdm",),
                  unknown="unknown type presented to host for character device: {}")


class UdpSources:
    """Mixin: a character device that may be UDP (two ``<source>``s: :mod:`.chardev_udp`)."""

    xml_repeated = ("source",)

    def xml_after_parse(self, el: Any) -> None:
        from .chardev_udp import after_parse

        after_parse(self, el)

    def xml_after_build(self, el: Any) -> None:
        from .chardev_udp import after_build

        after_build(self, el)


@model
class CharDev(UdpSources, DeviceInfo):
    """``<serial>``, ``<console>``, ``<channel>`` or ``<parallel>`` (``kind`` says which)."""

    type: str | None = attr("@type", CHAR_TYPES)
    tty: str | None = attr("@tty", live_only=True)
    source_mode: str | None = attr("source/@mode", Enum("bind", "connect"))  # libvirt writes mode first
    source_path: str | None = attr("source/@path")
    source_host: str | None = attr("source/@host")
    source_service: str | None = attr("source/@service")
    source_channel: str | None = attr("source/@channel")  # spiceport's SPICE port, dbus's D-Bus name
    source_master: str | None = attr("source/@master", unsupported=True)  # nmdm's two ends
    source_slave: str | None = attr("source/@slave", unsupported=True)
    #: TCP: TLS on the socket (unset: qemu.conf's chardev_tls); after the attributes other
    #: types have, where virt-install writes it
    source_tls: bool | None = attr("source/@tls", YESNO)
    source_append: bool | None = attr("source/@append", ONOFF)
    #: a client socket that QEMU reconnects after the peer went away (every *timeout* seconds)
    source_reconnect_enabled: bool | None = attr("source/reconnect/@enabled", YESNO)
    source_reconnect_timeout: int | None = attr("source/reconnect/@timeout", Int(0))
    source_seclabels: list[Seclabel] = children("source/seclabel", Seclabel, unsupported=True)
    #: qemu-vdagent: share the clipboard with the display's client; the guest's mouse mode
    source_clipboard_copypaste: bool | None = attr("source/clipboard/@copypaste", YESNO)
    source_mouse_mode: str | None = attr("source/mouse/@mode", Enum("server", "client"))
    #: 'telnets' and 'tls' build a plain socket in libvirt 9.0's QEMU driver, like 'raw' (TLS
    #: comes from qemu.conf's chardev_tls and <source tls=>, not from the protocol)
    protocol_type: str | None = attr("protocol/@type", Enum("raw", "telnet", "telnets", "tls",
                                                             unknown="Unknown protocol '{}'"))
    log_file: str | None = attr("log/@file")
    log_append: bool | None = attr("log/@append", ONOFF)
    target_type: str | None = attr("target/@type")
    target_address: str | None = attr("target/@address")
    #: -1 is libvirt's "none given" (virDomainChrDefParseTargetXML reads an int)
    target_port: int | None = attr("target/@port", Int(-1))
    target_name: str | None = attr("target/@name")
    #: read for a running guest's XML only: a definition's is not even looked at (any value passes)
    target_state: str | None = attr("target/@state", live_only=True)
    target_model_name: str | None = attr("target/model/@name")
    kind: str = field(default="serial", compare=True, repr=True)
    line: int | None = line_field()
    #: UDP: where QEMU listens (the ``<source mode='bind'>``; source_host/service: where it sends)
    source_bind_host: str | None = None
    source_bind_service: str | None = None


@model
class Input(VirtioOptions, PCIDeviceInfo):
    """``<input type= bus=>``: mouse, keyboard, tablet, or a host evdev passed through (virtio)."""

    #: virDomainInputDefFormat: the virtio <driver> comes before <source>
    xml_order = ("type", "bus", "model", "driver_iommu", "driver_ats", "driver_packed", "driver_page_per_vq",
                 "source_evdev", "source_dev", "source_grab", "source_grab_toggle", "source_repeat",
                 "alias", "acpi_index", "address")

    type: str | None = attr("@type", Enum("mouse", "keyboard", "tablet", "passthrough", "evdev",
                                          unknown="unknown input device type '{}'"))
    #: parallels and none build no device (as libvirt 9.0's QEMU driver); xen is refused by its rule
    bus: str | None = attr("@bus", Enum("ps2", "usb", "virtio", "xen", "parallels", "none",
                                        unknown="unknown input bus type '{}'"))
    #: virtio-(non-)transitional: libvirt's, not implemented by pyvirt
    model: str | None = attr("@model", unsupported=True)
    source_evdev: str | None = attr("source/@evdev")
    #: ``type='evdev'``: a host input device QEMU reads itself (its ``input-linux`` object, no bus)
    source_dev: str | None = attr("source/@dev")
    source_grab: str | None = attr("source/@grab", Enum("all"))
    source_grab_toggle: str | None = attr("source/@grabToggle", Enum("ctrl-ctrl", "alt-alt", "shift-shift",
                                                                     "meta-meta", "scrolllock", "ctrl-scrolllock"))
    source_repeat: bool | None = attr("source/@repeat", ONOFF)
    line: int | None = line_field()


@model
class TPM(DeviceInfo):
    """``<tpm>``: an emulated (swtpm) or passthrough TPM."""

    model: str | None = attr("@model", Enum("tpm-tis", "tpm-crb", known=("tpm-spapr", "spapr-tpm-proxy")))
    backend_type: str | None = attr("backend/@type", Enum("emulator", "passthrough", "external"))
    backend_version: str | None = attr("backend/@version", Enum("1.2", "2.0"))
    #: keep swtpm's state when the domain is undefined (libvirt: also for transient domains)
    backend_persistent_state: bool | None = attr("backend/@persistent_state", YESNO)
    backend_device_path: str | None = attr("backend/device/@path")
    #: the UUID of the vtpm secret swtpm encrypts the TPM's state with
    backend_encryption_secret: str | None = attr("backend/encryption/@secret")
    #: TPM 2.0 PCR banks swtpm_setup activates (libvirt's order; none given: swtpm's default)
    pcr_sha1: bool = flag("backend/active_pcr_banks/sha1")
    pcr_sha256: bool = flag("backend/active_pcr_banks/sha256")
    pcr_sha384: bool = flag("backend/active_pcr_banks/sha384")
    pcr_sha512: bool = flag("backend/active_pcr_banks/sha512")
    #: ``type='external'``: the socket of a TPM emulator someone else runs (libvirt writes
    #: ``<source type='unix' mode='connect' path=>``, the only form it accepts)
    backend_source_type: str | None = attr("backend/source/@type", Enum("unix"))
    backend_source_mode: str | None = attr("backend/source/@mode", Enum("connect"))
    backend_source_path: str | None = attr("backend/source/@path")
    backend_source_tls: bool | None = attr("backend/source/@tls", YESNO)
    line: int | None = line_field()

    def active_pcr_banks(self) -> list[str]:
        """The banks ``<active_pcr_banks>`` names, in libvirt's order (swtpm_setup's --pcr-banks)."""
        return [bank for bank in ("sha1", "sha256", "sha384", "sha512") if getattr(self, f"pcr_{bank}")]


@model
class Listen:
    """``<graphics><listen>``."""

    type: str | None = attr("@type", Enum("address", "network", "socket", "none"))
    #: an empty address is none (virDomainGraphicsListenDefParseXML: virt-manager writes listen='')
    address: str | None = attr("@address", NonEmpty())
    network: str | None = attr("@network")
    socket: str | None = attr("@socket")
    line: int | None = line_field()


@model
class GraphicsChannel:
    """``<graphics type='spice'><channel name= mode=>``: whether one SPICE channel must use TLS."""

    name: str | None = attr("@name", Enum("main", "display", "inputs", "cursor", "playback", "record",
                                          "smartcard", "usbredir"))
    mode: str | None = attr("@mode", Enum("secure", "insecure", "any"))
    line: int | None = line_field()


@model
class Graphics:
    """``<graphics>``: VNC or SPICE display, or an OpenGL ``egl-headless`` display that renders
    on the host's GPU for another display (or a vGPU) to show."""

    #: rdp and desktop parse (as in libvirt) and are refused by the QEMU driver's rule (define_rules_more)
    type: str | None = attr("@type", Enum("vnc", "spice", "egl-headless", "sdl", "dbus", "rdp", "desktop"))
    #: D-Bus: a peer-to-peer display (clients through QMP) or the bus at ``address`` (default: a
    #: private bus pyvirtd runs for the guest, daemon/dbusdisplay.py)
    p2p: bool | None = attr("@p2p", YESNO)
    bus_address: str | None = attr("@address")
    #: any int, as libvirt reads it (a VNC port outside 5900-65535 is refused at start, a SPICE
    #: port under 1 is none)
    port: int | None = attr("@port", Int(None))
    tls_port: int | None = attr("@tlsPort", Int(-1, 65535))
    #: VNC ignores a value other than yes/no (virStringParseYesNo's result is not checked):
    #: kept as AUTOPORT_BAD for validate, which refuses it for SPICE
    autoport: bool | None = attr("@autoport", LenientBool())
    websocket: int | None = attr("@websocket", Int(-1, 65535))
    listen: str | None = attr("@listen", NonEmpty())
    socket: str | None = attr("@socket")
    #: the display's password (virDomainGraphicsAuthDefFormatAttr writes these three last)
    passwd: str | None = attr("@passwd", secret=True, late=True)
    #: when the password stops working (UTC, ``YYYY-MM-DDTHH:MM:SS``; QMP expire_password at start)
    passwd_valid_to: str | None = attr("@passwdValidTo", late=True)
    #: SPICE: what a password change does to connected clients (VNC: only 'keep')
    connected: str | None = attr("@connected", late=True)  # checked beside a password (validate)
    keymap: str | None = attr("@keymap")
    #: SDL: the X display and its authority file (QEMU's DISPLAY and XAUTHORITY), full screen
    display: str | None = attr("@display")
    xauth: str | None = attr("@xauth")
    fullscreen: bool | None = attr("@fullscreen", YESNO)
    #: VNC: how clients share the display (QEMU's ``share=``)
    share_policy: str | None = attr("@sharePolicy", Enum("allow-exclusive", "force-shared", "ignore"))
    power_control: bool | None = attr("@powerControl", YESNO)
    #: SPICE: the TLS policy of channels not named in <channel> (libvirt writes it unless 'any')
    default_mode: str | None = attr("@defaultMode", Enum("secure", "insecure", "any"))
    listens: list[Listen] = children("listen", Listen)
    channels: list[GraphicsChannel] = children("channel", GraphicsChannel)
    audio_id: int | None = attr("audio/@id", Int(1))
    image_compression: str | None = attr("image/@compression", Enum("auto_glz", "auto_lz", "quic", "glz",
                                                                     "lz", "off"))
    jpeg_compression: str | None = attr("jpeg/@compression", Enum("auto", "never", "always"))
    zlib_compression: str | None = attr("zlib/@compression", Enum("auto", "never", "always"))
    playback_compression: bool | None = attr("playback/@compression", ONOFF)
    streaming_mode: str | None = attr("streaming/@mode", Enum("filter", "all", "off"))
    mouse_mode: str | None = attr("mouse/@mode", Enum("server", "client"))
    clipboard_copypaste: bool | None = attr("clipboard/@copypaste", YESNO)
    filetransfer_enable: bool | None = attr("filetransfer/@enable", YESNO)
    #: SPICE OpenGL (``enable``) and, for SPICE and egl-headless, the host DRM render node
    gl_enable: bool | None = attr("gl/@enable", YESNO)
    gl_rendernode: str | None = attr("gl/@rendernode")
    line: int | None = line_field()


@model
class Codec:
    """``<sound><codec type=>``."""

    type: str | None = attr("@type", Enum("duplex", "micro", "output", unknown="unknown codec type '{}'"))
    line: int | None = line_field()


@model
class Sound(PCIDeviceInfo):
    """``<sound model=>``."""

    model: str | None = attr("@model", Enum("ich6", "ich9", "ac97", "es1370", "sb16", "usb", "pcspk",
                                            "ich7", known=("ics2220",)))
    codecs: list[Codec] = children("codec", Codec)
    audio_id: int | None = attr("audio/@id", Int(1))
    line: int | None = line_field()


AUDIO_FORMATS = Enum("s8", "u8", "s16", "u16", "s32", "u32", "f32")


@model
class AudioIO:
    """``<audio><input>`` / ``<output>``: one stream direction of a host audio backend.

    The attributes are the union over backends (``dev`` for alsa/oss, ``serverName`` for jack,
    ...); which ones a backend accepts is checked where the backend is translated, because the
    set depends on the parent's ``type``.
    """

    mixing_engine: bool | None = attr("@mixingEngine", YESNO)
    fixed_settings: bool | None = attr("@fixedSettings", YESNO)
    voices: int | None = attr("@voices", Int(1))
    buffer_length: int | None = attr("@bufferLength", Int(1))
    dev: str | None = attr("@dev")
    buffer_count: int | None = attr("@bufferCount", Int(1))
    try_poll: bool | None = attr("@tryPoll", YESNO)
    server_name: str | None = attr("@serverName")
    client_name: str | None = attr("@clientName")
    connect_ports: str | None = attr("@connectPorts")
    exact_name: bool | None = attr("@exactName", YESNO)
    name: str | None = attr("@name")
    stream_name: str | None = attr("@streamName")
    latency: int | None = attr("@latency", Int(0))
    #: ``<settings>`` is written whenever the settings are fixed, even with nothing in it
    settings: bool = flag("settings")
    frequency: int | None = attr("settings/@frequency", Int(1))
    channels: int | None = attr("settings/@channels", Int(1))
    format: str | None = attr("settings/@format", AUDIO_FORMATS)
    line: int | None = line_field()


@model
class Audio:
    """``<audio id= type=>``: the host audio backend (QEMU's -audiodev)."""

    id: int | None = attr("@id", Int(1))
    type: str | None = attr("@type", Enum("none", "spice", "alsa", "coreaudio", "jack", "oss",
                                          "pulseaudio", "file", "sdl", "dbus"))
    #: ``type='sdl'``: the SDL library's own audio driver (QEMU's SDL_AUDIODRIVER)
    driver: str | None = attr("@driver", Enum("esd", "alsa", "arts", "pulseaudio"))
    timer_period: int | None = attr("@timerPeriod", Int(1))
    try_mmap: bool | None = attr("@tryMMap", YESNO)
    exclusive: bool | None = attr("@exclusive", YESNO)
    dsp_policy: int | None = attr("@dspPolicy", Int(None))
    server_name: str | None = attr("@serverName")
    path: str | None = attr("@path")
    input: AudioIO | None = child("input", AudioIO)
    output: AudioIO | None = child("output", AudioIO)
    line: int | None = line_field()


#: the video model a ``<video>`` without one gets (libvirt 9.0's QEMU driver on x86, i440fx and
#: q35 alike): filled in by the defaults, and judged as such by the define rules
DEFAULT_VIDEO_MODEL = "cirrus"


@model
class Video(VirtioOptions, PCIDeviceInfo):
    """``<video><model type=...>`` (``<driver iommu= ...>``: virtio options of a virtio GPU)."""

    model_type: str | None = attr("model/@type", Enum("vga", "cirrus", "qxl", "virtio", "bochs", "none",
                                                      "ramfb", "vmvga", known=("xen", "vbox", "gop"),
                                                      unknown="unknown video model '{}'"))
    # virDomainVideoModelDefParseXML's words for a value it cannot read
    model_ram: int | None = attr("model/@ram", Int(0, words="cannot parse video ram '{}'"))
    model_vram: int | None = attr("model/@vram", Int(0, words="cannot parse video vram '{}'"))
    model_vram64: int | None = attr("model/@vram64", Int(0, words="cannot parse video vram64 '{}'"))
    model_vgamem: int | None = attr("model/@vgamem", Int(0, words="cannot parse video vgamem '{}'"))
    model_heads: int | None = attr("model/@heads", Int(0, words="cannot parse video heads '{}'",
                                                       words_error=XMLInternalError))
    #: only 'yes' means primary (virDomainVideoDefParseXML compares the text)
    model_primary: bool | None = attr("model/@primary", LenientBool())
    model_accel3d: bool | None = attr("model/acceleration/@accel3d", YESNO)
    model_accel2d: bool | None = attr("model/acceleration/@accel2d", YESNO)
    model_rendernode: str | None = attr("model/acceleration/@rendernode")
    #: the guest display's initial resolution (QEMU's xres/yres; vga, qxl, virtio, bochs)
    model_res_x: int | None = attr("model/resolution/@x", Int(1))
    model_res_y: int | None = attr("model/resolution/@y", Int(1))
    #: ``vhostuser``: the GPU is rendered by a vhost-user-gpu process pyvirtd starts beside QEMU
    driver_name: str | None = attr("driver/@name", Enum("qemu", "vhostuser"))
    line: int | None = line_field()

    #: libvirt writes ``<driver>`` (backend name, virtio options) before ``<model>`` (virDomainVideoDefFormat)
    xml_order = ("driver_name", "driver_iommu", "driver_ats", "driver_packed", "driver_page_per_vq", "model_type",
                 "model_ram", "model_vram", "model_vram64", "model_vgamem", "model_heads", "model_primary",
                 "model_accel3d", "model_accel2d", "model_rendernode", "model_res_x", "model_res_y", "alias",
                 "acpi_index", "address")


@model
class HostdevSourceAddress:
    """``<hostdev><source><address>``: a host PCI function (domain/bus/slot/function, written in
    hex), a host USB device (bus/device, written in decimal) or a mediated device (uuid)."""

    domain: int | None = attr("@domain", HEX)
    bus: int | None = attr("@bus", HEX)
    slot: int | None = attr("@slot", HEX)
    function: int | None = attr("@function", HEX)
    device: int | None = attr("@device", HEX)
    #: scsi: the LUN's target and unit on the host adapter's bus (decimal, like a USB address)
    target: int | None = attr("@target", INT)
    unit: int | None = attr("@unit", INT)
    uuid: str | None = attr("@uuid")
    line: int | None = line_field()

    def is_usb(self) -> bool:
        """A decimal bus/device (USB) or bus/target/unit (SCSI) address, not a PCI one."""
        return self.device is not None or (self.bus is not None and self.slot is None and self.function is None
                                           and self.domain is None)


def _hostdev_address_format(self: HostdevSourceAddress, name: str, value: object) -> str | None:
    """PCI numbers in libvirt's hex widths; a USB bus/device in decimal."""
    if self.is_usb() or not isinstance(value, int) or isinstance(value, bool):
        return None
    width = {"domain": 4, "bus": 2, "slot": 2, "function": 1}.get(name)
    return f"0x{value:0{width}x}" if width is not None else None


HostdevSourceAddress.xml_format_value = _hostdev_address_format  # type: ignore[attr-defined]
_nvme_field = Disk.__dataclass_fields__["source_pci"]  # an NVMe disk's controller: a host PCI address
_nvme_field.metadata = MappingProxyType({"xml": dataclass_replace(_nvme_field.metadata["xml"], cls=HostdevSourceAddress)})


@model
class Hostdev(RomInfo, PCIDeviceInfo):
    """``<hostdev mode='subsystem'>``: a host PCI function (VFIO), a host USB device, or a
    mediated device (a vGPU slice, ``type='mdev'``) given to the guest."""

    mode: str | None = attr("@mode", Enum("subsystem", known=("capabilities",), unknown="unknown hostdev mode '{}'"))
    type: str | None = attr("@type", Enum("pci", "usb", "mdev", "scsi", "scsi_host",
                                          unknown="unknown host device source address type '{}'"))
    #: only 'yes' manages (virDomainHostdevDefParseXML compares the text)
    managed: bool | None = attr("@managed", LenientBool())
    #: scsi: whether the host filters the guest's SG_IO commands / gives QEMU CAP_SYS_RAWIO
    sgio: str | None = attr("@sgio", Enum("filtered", "unfiltered"))
    rawio: bool | None = attr("@rawio", YESNO)
    #: mdev: the device API (vfio-pci on x86; vfio-ccw/vfio-ap are s390's)
    #: mdev: the device API; scsi_host: the vhost-scsi PCI flavour (virtio, -transitional ...)
    model: str | None = attr("@model", Enum("vfio-pci", "virtio", "virtio-transitional", "virtio-non-transitional",
                                            known=("vfio-ccw", "vfio-ap")))
    #: PCI passthrough backend: VFIO is the only one QEMU 7.2 has (legacy KVM assignment is gone)
    driver_name: str | None = attr("driver/@name", Enum("vfio", known=("kvm", "xen", "default")))
    display: bool | None = attr("@display", ONOFF)
    ramfb: bool | None = attr("@ramfb", ONOFF)
    #: usb: which guest resets reach the host device (QEMU usb-host guest-reset/guest-resets-all)
    source_guest_reset: str | None = attr("source/@guestReset", Enum("off", "uninitialized", "on"))
    source_vendor: str | None = attr("source/vendor/@id")
    source_product: str | None = attr("source/product/@id")
    #: scsi over iSCSI (protocol 'iscsi', name IQN[/LUN], one host, CHAP auth) or vhost-scsi
    #: (scsi_host, protocol 'vhost' and the target's wwpn)
    source_protocol: str | None = attr("source/@protocol", Enum("iscsi", "vhost",
                                                                unknown="Unknown scsi_host subsystem protocol '{}'"))
    source_name: str | None = attr("source/@name")
    source_wwpn: str | None = attr("source/@wwpn")
    source_hosts: list[NetHost] = children("source/host", NetHost)
    source_auth: DiskAuth | None = child("source/auth", DiskAuth)
    source_initiator_iqn: str | None = attr("source/initiator/iqn/@name")
    #: scsi: the host adapter (``scsi_hostN``) whose bus/target/unit source_address names
    source_adapter: str | None = attr("source/adapter/@name")
    source_address: HostdevSourceAddress | None = child("source/address", HostdevSourceAddress)
    #: capabilities mode (libvirt's, not pyvirt's driver): the host's block device, character
    #: device or network interface
    source_block: str | None = attr("source/block", unsupported=True)
    source_char: str | None = attr("source/char", unsupported=True)
    source_interface: str | None = attr("source/interface", unsupported=True)
    readonly: bool = flag("readonly")
    shareable: bool = flag("shareable")
    #: virtio failover (QEMU's failover_pair_id): a 'transient' PCI host device whose persistent=
    #: names the user alias of the virtio NIC (teaming 'persistent') the guest falls back to
    teaming_type: str | None = attr("teaming/@type", Enum("persistent", "transient", unknown=TEAMING_UNKNOWN))
    teaming_persistent: str | None = attr("teaming/@persistent")
    boot_order: int | None = attr("boot/@order", Int(1))
    line: int | None = line_field()

    # what a network-disk builder reads of a disk, for an iSCSI LUN given as a host device
    source_tls = source_tls_hostname = source_snapshot = source_config = source_query = None
    source_identity_user = source_identity_group = None
    source_cookies = ()
    source_ssl_verify = source_readahead = source_timeout = None

    @property
    def disk_auth(self) -> DiskAuth | None:
        return self.source_auth


@model
class CharSource:
    """The host-side character device a ``<redirdev>`` and a passthrough ``<smartcard>``
    carry, declared once: each device writes the group after its own attributes
    (``xml_group_before``).  The fields that are not XML carry :class:`CharDev`'s names, so
    that the one ``-chardev`` builder serves all three."""

    source_mode: str | None = attr("source/@mode", Enum("bind", "connect"))  # libvirt writes mode first
    source_path: str | None = attr("source/@path")
    source_host: str | None = attr("source/@host")
    source_service: str | None = attr("source/@service")
    #: a dbus chardev's D-Bus name (a redirdev's defaults to QEMU's org.qemu.usbredir)
    source_channel: str | None = attr("source/@channel")
    # what CharDev implements and these two devices do not: libvirt's, refused by pyvirt
    source_master: str | None = attr("source/@master", unsupported=True)
    source_slave: str | None = attr("source/@slave", unsupported=True)
    source_tls: bool | None = attr("source/@tls", YESNO)
    source_reconnect_enabled: bool | None = attr("source/reconnect/@enabled", YESNO)
    source_reconnect_timeout: int | None = attr("source/reconnect/@timeout", Int(0))
    source_seclabels: list[Seclabel] = children("source/seclabel", Seclabel, unsupported=True)
    source_clipboard_copypaste: str | None = attr("source/clipboard/@copypaste", unsupported=True)
    source_mouse_mode: str | None = attr("source/mouse/@mode", unsupported=True)
    #: 'telnets' and 'tls' build a plain socket in libvirt 9.0's QEMU driver, like 'raw' (TLS
    #: comes from qemu.conf's chardev_tls and <source tls=>, not from the protocol)
    protocol_type: str | None = attr("protocol/@type", Enum("raw", "telnet", "telnets", "tls"))
    log_file: str | None = attr("log/@file", unsupported=True)
    log_append: str | None = attr("log/@append", unsupported=True)
    source_append: bool | None = None
    target_name: str | None = None
    source_bind_host: str | None = None
    source_bind_service: str | None = None


@model
class Redirdev(UdpSources, DeviceInfo, CharSource):
    """``<redirdev bus='usb'>``: a USB device redirected from a client over a character device
    (``spicevmc``: the SPICE client's USB, the default of virt-install; ``tcp``/``unix`` sockets).

    The source fields carry :class:`CharDev`'s names so the one ``-chardev`` builder serves both.
    """

    xml_group_before = ((CharSource, "boot_order"),)

    bus: str | None = attr("@bus", Enum("usb", unknown="unknown redirdev bus '{}'"))
    type: str | None = attr("@type", Enum("spicevmc", "tcp", "unix", "udp", "dbus",
                                          known=("pty", "file", "null", "stdio", "dev", "pipe",
                                                 "vc", "spiceport", "nmdm", "qemu-vdagent"),
                                          unknown="unknown redirdev character device type '{}'"))
    boot_order: int | None = attr("boot/@order", Int(1))
    line: int | None = line_field()
    kind: str = field(default="redirdev", compare=False, repr=False)


@model
class Smartcard(UdpSources, DeviceInfo, CharSource):
    """``<smartcard mode=>`` on a CCID controller's slot: ``host`` (QEMU's NSS-emulated card
    on the host's reader), ``host-certificates`` (three NSS certificates, the database
    ``/etc/pki/nssdb`` unless given) or ``passthrough`` (a remote card over a character device,
    whose source fields carry :class:`CharDev`'s names for the one ``-chardev`` builder)."""

    xml_group_before = ((CharSource, "certificates"),)

    mode: str | None = attr("@mode", Enum("host", "host-certificates", "passthrough"))
    type: str | None = attr("@type", Enum("tcp", "unix", "spicevmc", "udp",
                                          known=("pty", "file", "null", "stdio", "dev", "pipe",
                                                 "vc", "spiceport", "nmdm", "qemu-vdagent", "dbus"),
                                          unknown="unknown type presented to host for character device: {}"))
    certificates: list[str] = values("certificate")
    database: str | None = text("database")
    line: int | None = line_field()
    kind: str = field(default="smartcard", compare=False, repr=False)


@model
class RedirFilterRule:
    """``<redirfilter><usbdev>``: which USB devices a client may redirect (:mod:`.redirfilter`
    checks and normalises it; absent numbers match any device)."""

    usb_class: str | None = attr("@class")
    vendor: str | None = attr("@vendor")
    product: str | None = attr("@product")
    version: str | None = attr("@version")
    allow: bool | None = attr("@allow", YESNO)
    line: int | None = line_field()


@model
class Hub(DeviceInfo):
    """``<hub type='usb'>``: an 8-port USB hub (QEMU's ``usb-hub``), on a USB port like any
    USB device; devices below it have port paths (``1.3``)."""

    type: str | None = attr("@type", Enum("usb", unknown="unknown hub device type '{}'"))
    line: int | None = line_field()


@model
class Watchdog(PCIDeviceInfo):
    """``<watchdog model= action=>``."""

    # libvirt 9.0 knows no 'itco' model (9.1 added it): refused as 9.0's parser refuses it
    model: str | None = attr("@model", Enum("i6300esb", "ib700", known=("diag288",),
                                            unknown="unknown watchdog model '{}'"))
    action: str | None = attr("@action", Enum("reset", "shutdown", "poweroff", "pause", "none", "dump",
                                              "inject-nmi", unknown="unknown watchdog action '{}'"))
    line: int | None = line_field()


@model
class MemBalloon(VirtioOptions, PCIDeviceInfo):
    """``<memballoon model=>``."""

    #: virDomainMemballoonDefFormat: the virtio <driver> comes after the device info
    xml_order = ("model", "autodeflate", "free_page_reporting", "stats_period", "alias", "acpi_index",
                 "address", "driver_iommu", "driver_ats", "driver_packed", "driver_page_per_vq")

    model: str | None = attr("@model", Enum("virtio", "none", "virtio-transitional",
                                            "virtio-non-transitional", known=("xen",)))
    autodeflate: bool | None = attr("@autodeflate", ONOFF)
    free_page_reporting: bool | None = attr("@freePageReporting", ONOFF)
    stats_period: int | None = attr("stats/@period", Int(None))  # virXMLPropInt: any int
    line: int | None = line_field()


@model
class RNG(VirtioOptions, PCIDeviceInfo):
    """``<rng model='virtio'>`` with a random (host device) or builtin backend."""

    model: str | None = attr("@model", Enum("virtio", "virtio-transitional", "virtio-non-transitional",
                                            unknown="unknown RNG model '{}'"))
    # virDomainRNGDefParseXML's words; 0 is no rate (libvirt builds no max-bytes/period)
    rate_bytes: int | None = attr("rate/@bytes", Int(0, words="invalid RNG rate bytes value"))
    rate_period: int | None = attr("rate/@period", Int(0, words="invalid RNG rate period value"))
    backend_model: str | None = attr("backend/@model", Enum("random", "builtin", "egd",
                                                            unknown="unknown RNG backend model '{}'"))
    #: egd: the entropy daemon's character device (a socket, as a <serial>'s source)
    backend_type: str | None = attr("backend/@type", Enum("tcp", "unix", "udp",
                                                          known=("pty", "file", "dev", "pipe",
                                                                 "stdio", "null", "vc", "spicevmc",
                                                                 "spiceport", "nmdm", "qemu-vdagent", "dbus"),
                                                          unknown="unknown backend type '{}' for egd"))
    backend_source_mode: str | None = attr("backend/source/@mode", Enum("bind", "connect"))
    backend_source_host: str | None = attr("backend/source/@host")
    backend_source_service: str | None = attr("backend/source/@service")
    backend_source_path: str | None = attr("backend/source/@path")
    # a character source's attributes libvirt has and pyvirt's egd backend does not implement
    backend_source_channel: str | None = attr("backend/source/@channel", unsupported=True)
    backend_source_master: str | None = attr("backend/source/@master", unsupported=True)
    backend_source_slave: str | None = attr("backend/source/@slave", unsupported=True)
    backend_source_tls: bool | None = attr("backend/source/@tls", YESNO)
    backend_source_reconnect_enabled: bool | None = attr("backend/source/reconnect/@enabled", YESNO)
    backend_source_reconnect_timeout: int | None = attr("backend/source/reconnect/@timeout", Int(0))
    backend_source_seclabels: list[Seclabel] = children("backend/source/seclabel", Seclabel, unsupported=True)
    backend_source_clipboard_copypaste: bool | None = attr("backend/source/clipboard/@copypaste", YESNO,
                                                           unsupported=True)
    backend_source_mouse_mode: str | None = attr("backend/source/mouse/@mode", unsupported=True)
    backend_protocol_type: str | None = attr("backend/protocol/@type", Enum("raw", "telnet"))
    backend_log_file: str | None = attr("backend/log/@file", unsupported=True)
    backend_log_append: bool | None = attr("backend/log/@append", ONOFF, unsupported=True)
    backend: str | None = text("backend")
    line: int | None = line_field()
    #: a UDP egd backend's bind side (:mod:`.chardev_udp`)
    backend_source_bind_host: str | None = None
    backend_source_bind_service: str | None = None

    xml_repeated = ("backend/source",)

    def xml_after_parse(self, el: Any) -> None:
        from .chardev_udp import after_parse

        after_parse(self, el, "backend/", "backend_source_")

    def xml_after_build(self, el: Any) -> None:
        from .chardev_udp import after_build

        after_build(self, el, "backend/", "backend_source_")


@model
class Panic(DeviceInfo):
    """``<panic model=>``."""

    #: pseries/s390 are read and refused on x86 in libvirt's words (define_rules_more)
    model: str | None = attr("@model", Enum("isa", "hyperv", "pseries", "s390", unknown="unknown panic model '{}'"))
    line: int | None = line_field()


@model
class MemoryDevice(DeviceInfo):
    """``<devices><memory model=>``: hot-pluggable guest RAM (a DIMM, or a virtio-mem region whose
    plugged size the guest driver adjusts); sizes in KiB."""

    model: str | None = attr("@model", Enum("dimm", "virtio-mem", "nvdimm", "virtio-pmem", known=("sgx-epc",)))
    access: str | None = attr("@access", Enum("shared", "private"))
    discard: bool | None = attr("@discard", YESNO)
    #: libvirt's nvdimm UUID (ppc64 guests); not pyvirt's
    uuid: str | None = text("uuid", unsupported=True)
    #: nvdimm / virtio-pmem: the host file (or device) backing it
    source_path: str | None = text("source/path")
    source_alignsize: int | None = scaled("source/alignsize")
    source_pmem: bool = flag("source/pmem")
    source_nodemask: str | None = text("source/nodemask")
    source_pagesize: int | None = scaled("source/pagesize", xpath="./pagesize")
    target_size: int | None = scaled("target/size", xpath="./size")
    target_node: int | None = text("target/node", Int(0, words="invalid value of memory device node"))
    target_block: int | None = scaled("target/block", xpath="./block")
    target_requested: int | None = scaled("target/requested", xpath="./requested")
    #: virtio-mem: the size the guest has plugged, as QEMU reports it (libvirt's live XML)
    target_current: int | None = scaled("target/current", unsupported=True)
    #: nvdimm: the label area's size, and a device the guest may not write
    target_label_size: int | None = scaled("target/label/size")
    target_readonly: bool = flag("target/readonly")
    line: int | None = line_field()


@model
class IOMMU(DeviceInfo):
    """``<iommu model=>``: an emulated IOMMU (intel-iommu on q35, or virtio-iommu)."""

    model: str | None = attr("@model", Enum("intel", "virtio", known=("smmuv3",)))
    driver_intremap: bool | None = attr("driver/@intremap", ONOFF)
    driver_caching_mode: bool | None = attr("driver/@caching_mode", ONOFF)
    driver_eim: bool | None = attr("driver/@eim", ONOFF)
    driver_iotlb: bool | None = attr("driver/@iotlb", ONOFF)
    driver_aw_bits: int | None = attr("driver/@aw_bits", Int(1))
    line: int | None = line_field()


@model
class Vsock(VirtioOptions, PCIDeviceInfo):
    """``<vsock>``: a virtio socket device (host <-> guest AF_VSOCK), the guest's context id given
    (``<cid address=>``) or picked free at start (``auto='yes'``)."""

    model: str | None = attr("@model", Enum("virtio", "virtio-transitional", "virtio-non-transitional"))
    cid_auto: bool | None = attr("cid/@auto", YESNO)
    cid_address: int | None = attr("cid/@address", Int(1, 4294967295))
    line: int | None = line_field()

    #: libvirt's virDomainVsockDefFormat: <cid>, then the virtio <driver>, then the device info
    xml_order = ("model", "cid_auto", "cid_address", "driver_iommu", "driver_ats", "driver_packed",
                 "driver_page_per_vq", "alias", "acpi_index", "address")


@model
class Shmem(PCIDeviceInfo):
    """``<shmem name=>``: host shared memory for inter-VM communication (QEMU's ivshmem-plain on
    ``/dev/shm/NAME``, or ivshmem-doorbell talking to an ivshmem server's socket)."""

    name: str | None = attr("@name")
    role: str | None = attr("@role", Enum("master", "peer"))
    model_type: str | None = attr("model/@type", Enum("ivshmem-plain", "ivshmem-doorbell", "ivshmem"))
    #: the size as written (libvirt's default unit here is bytes; it writes MiB)
    size: int | None = attr("size", Int(0))
    size_unit: str | None = attr("size/@unit")
    server: bool = flag("server")
    server_path: str | None = attr("server/@path")
    msi: bool = flag("msi")
    msi_vectors: int | None = attr("msi/@vectors", Int(1))
    msi_ioeventfd: bool | None = attr("msi/@ioeventfd", ONOFF)
    line: int | None = line_field()


@model
class Devices:
    """``<devices>``: one list per device kind, in libvirt's output order."""

    #: devices of later libvirt releases, refused with the reason
    xml_unknown_why = MappingProxyType({
        "crypto": "the virtio-crypto device is a later libvirt's: libvirt 9.0's schema refuses it and its define "
                  "drops it, so the guest would run without it",
    })

    emulator: str | None = text("emulator")
    disks: list[Disk] = children("disk", Disk)
    controllers: list[Controller] = children("controller", Controller)
    leases: list[Lease] = children("lease", Lease)
    filesystems: list[Filesystem] = children("filesystem", Filesystem)
    interfaces: list[Interface] = children("interface", Interface)
    smartcards: list[Smartcard] = children("smartcard", Smartcard)
    serials: list[CharDev] = children("serial", CharDev)
    parallels: list[CharDev] = children("parallel", CharDev)
    consoles: list[CharDev] = children("console", CharDev)
    channels: list[CharDev] = children("channel", CharDev)
    inputs: list[Input] = children("input", Input)
    tpms: list[TPM] = children("tpm", TPM)
    graphics: list[Graphics] = children("graphics", Graphics)
    sounds: list[Sound] = children("sound", Sound)
    audios: list[Audio] = children("audio", Audio)
    videos: list[Video] = children("video", Video)
    hostdevs: list[Hostdev] = children("hostdev", Hostdev)
    redirdevs: list[Redirdev] = children("redirdev", Redirdev)
    redirfilter: list[RedirFilterRule] = children("redirfilter/usbdev", RedirFilterRule)
    hubs: list[Hub] = children("hub", Hub)
    watchdogs: list[Watchdog] = children("watchdog", Watchdog)
    memballoon: MemBalloon | None = child("memballoon", MemBalloon)
    rngs: list[RNG] = children("rng", RNG)
    panics: list[Panic] = children("panic", Panic)
    shmems: list[Shmem] = children("shmem", Shmem)
    memories: list[MemoryDevice] = children("memory", MemoryDevice)
    iommu: IOMMU | None = child("iommu", IOMMU)
    vsock: Vsock | None = child("vsock", Vsock)
    line: int | None = line_field()

    #: libvirt's device order (virDomainDefFormatInternal), for kinds the model keeps verbatim
    xml_child_order = ("emulator", "disk", "controller", "lease", "filesystem", "interface", "smartcard",
                       "serial", "parallel", "console", "channel", "input", "tpm", "graphics", "sound",
                       "audio", "video", "hostdev", "redirdev", "redirfilter", "hub", "watchdog",
                       "memballoon", "rng", "nvram", "panic", "shmem", "memory", "iommu", "vsock", "crypto")


@model
class QemuArg:
    """``<qemu:commandline><qemu:arg value=>``: one word libvirt appends to QEMU's argv unchecked
    (the domain is then tainted ``custom-argv``)."""

    value: str | None = attr("@value")
    line: int | None = line_field()


@model
class QemuEnv:
    """``<qemu:commandline><qemu:env name= value=>``: one variable set in QEMU's environment
    (no ``value``: set to the empty string, as libvirt does)."""

    name: str | None = attr("@name")
    value: str | None = attr("@value")
    line: int | None = line_field()


@model
class QemuCapability:
    """``<qemu:capabilities><qemu:add|del capability=>``: one of libvirt's own QEMU capability
    flags forced on or off (a developer's knob; see :mod:`pyvirt.qemu.argv_namespace`)."""

    capability: str | None = attr("@capability")
    line: int | None = line_field()


@model
class QemuProperty:
    """``<qemu:property name= type= value=>``: one property of a device's ``-device`` set
    (string, signed, unsigned, bool) or removed (``type='remove'``), after libvirt built it."""

    name: str | None = attr("@name")
    type: str | None = attr("@type", Enum("string", "signed", "unsigned", "bool", "remove"))
    value: str | None = attr("@value")
    line: int | None = line_field()


@model
class QemuOverrideDevice:
    """``<qemu:override><qemu:device alias=>``: the overrides of the device with that alias."""

    alias: str | None = attr("@alias")
    frontend: list[QemuProperty] = children("qemu:frontend/qemu:property", QemuProperty)
    line: int | None = line_field()


@model
class Domain:
    """``<domain>``: the whole guest definition.

    ``to_xml(inactive=True)`` gives what ``virsh dumpxml --inactive`` shows (no ids, aliases,
    runtime tty paths); ``security_info`` includes graphics passwords.
    """

    type: str | None = attr("@type", Enum("kvm", "qemu", known=("xen", "lxc", "uml", "openvz", "test", "vmware",
                                                                "hyperv", "vbox", "phyp", "vz", "bhyve",
                                                                "kqemu", "ch")))
    id: int | None = attr("@id", Int(-1), live_only=True)
    name: str | None = text("name")
    uuid: str | None = text("uuid")
    #: the VM generation ID the guest reads through QEMU's vmgenid device
    genid: str | None = text("genid", Present())
    title: str | None = text("title")
    description: str | None = text("description")
    metadata: list[str] | None = raw("metadata", namespaced=True)
    max_memory: int | None = scaled("maxMemory", xpath="./maxMemory[1]")
    max_memory_slots: int | None = attr("maxMemory/@slots", Int(0, words="Failed to parse memory slot count"))
    memory: int | None = scaled("memory", xpath="./memory[1]")
    #: ``<memory dumpCore=>``: whether the guest's memory goes into a core dump of QEMU (its
    #: ``-machine dump-guest-core``; off when not said, as libvirt's qemu.conf default)
    memory_dump_core: bool | None = attr("memory/@dumpCore", ONOFF)
    current_memory: int | None = scaled("currentMemory", xpath="./currentMemory[1]")
    blkiotune: BlkioTune | None = child("blkiotune", BlkioTune)
    memtune: MemTune | None = child("memtune", MemTune)
    memory_backing: MemoryBacking | None = child("memoryBacking", MemoryBacking)
    vcpu_placement: str | None = attr("vcpu/@placement", Enum("static", "auto"))
    vcpu_cpuset: str | None = attr("vcpu/@cpuset")
    vcpu_current: int | None = attr("vcpu/@current", Int(0))  # 0: refused in libvirt's words (validate)
    #: virDomainVcpuParse looks for the node: an empty <vcpu/> is "not an integer", not absent
    vcpu: int | None = attr("vcpu", Present(Int(1)))
    vcpu_states: list[VcpuState] = children("vcpus/vcpu", VcpuState)
    iothreads: int | None = text("iothreads", Int(0, words="invalid iothreads count '{}'"))
    iothread_ids: list[IOThread] = children("iothreadids/iothread", IOThread)
    default_iothread_pool_min: int | None = attr("defaultiothread/@thread_pool_min", Int(0, signed=True))
    default_iothread_pool_max: int | None = attr("defaultiothread/@thread_pool_max", Int(0, signed=True))
    cputune: CPUTune | None = child("cputune", CPUTune)
    numatune: NumaTune | None = child("numatune", NumaTune)
    resource: Resource | None = child("resource", Resource)
    sysinfos: list[Sysinfo] = children("sysinfo", Sysinfo)
    os: OS | None = child("os", OS)
    idmap: IdMap | None = child("idmap", IdMap)
    features: Features | None = child("features", Features)
    cpu: CPU | None = child("cpu", CPU)
    clock: Clock | None = child("clock", Clock)
    on_poweroff: str | None = text("on_poweroff", _lifecycle("on_poweroff"))
    on_reboot: str | None = text("on_reboot", _lifecycle("on_reboot"))
    on_crash: str | None = text("on_crash", _lifecycle("on_crash"))
    #: what happens when the lock manager loses a lock (poweroff restart pause ignore)
    on_lockfailure: str | None = text("on_lockfailure", unsupported=True)
    pm: PM | None = child("pm", PM)
    perf: Perf | None = child("perf", Perf)
    devices: Devices = child("devices", Devices, required=True)
    seclabels: list[DomainSeclabel] = children("seclabel", DomainSeclabel)
    keywrap: KeyWrap | None = child("keywrap", KeyWrap, unsupported=True)
    launch_security: LaunchSecurity | None = child("launchSecurity", LaunchSecurity, unsupported=True)
    # libvirt's QEMU namespace, written as qemuDomainDefNamespaceFormatXML does after the rest:
    # args, envs, capabilities added then removed, device overrides, the deprecation behaviour
    qemu_args: list[QemuArg] = children("qemu:commandline/qemu:arg", QemuArg)
    qemu_envs: list[QemuEnv] = children("qemu:commandline/qemu:env", QemuEnv)
    qemu_caps_add: list[QemuCapability] = children("qemu:capabilities/qemu:add", QemuCapability)
    qemu_caps_del: list[QemuCapability] = children("qemu:capabilities/qemu:del", QemuCapability)
    qemu_overrides: list[QemuOverrideDevice] = children("qemu:override/qemu:device", QemuOverrideDevice)
    #: what QEMU does with deprecated commands and arguments (none, omit, reject, crash)
    qemu_deprecation: str | None = attr("qemu:deprecation/@behavior")
    line: int | None = line_field()

    #: libvirt's order of the domain's children (virDomainDefFormatInternal), for elements the
    #: model keeps verbatim
    xml_child_order = ("name", "uuid", "genid", "title", "description", "metadata", "maxMemory", "memory",
                       "currentMemory", "blkiotune", "memtune", "memoryBacking", "vcpu", "vcpus", "iothreads",
                       "iothreadids", "defaultiothread", "cputune", "numatune", "resource", "sysinfo",
                       "bootloader", "bootloader_args", "os", "idmap", "features", "cpu", "clock",
                       "on_poweroff", "on_reboot", "on_crash", "on_lockfailure", "pm", "perf", "devices",
                       "seclabel", "keywrap", "launchSecurity")

    def xml_omit(self, name: str, value: object) -> bool:
        """libvirt's virDomainDefIothreadShouldFormat: ``<iothreadids>`` only when one of them was
        given (or carries pool sizes); ids its parser filled in for ``<iothreads>N`` stay unwritten.
        An ``<idmap>`` without maps is dropped, as libvirt keeps none."""
        if name == "idmap":
            return not (value.uids or value.gids)  # type: ignore[attr-defined]
        if name == "perf":  # an empty <perf/> is dropped, as libvirt keeps no events
            return not value.events  # type: ignore[attr-defined]
        return name == "iothread_ids" and all(
            t.autofill and t.thread_pool_min is None and t.thread_pool_max is None for t in self.iothread_ids)

    def to_xml(self, *, inactive: bool = False, security_info: bool = False) -> str:
        """Serialize like libvirt (2-space indent, libvirt's element order)."""
        from .mapping import format_document

        return format_document(self, "domain", inactive=inactive, security_info=security_info)

    def all_devices(self) -> list[object]:
        """Every device object in output order (used for address/alias bookkeeping)."""
        d = self.devices
        out: list[object] = []
        for name in ("disks", "controllers", "filesystems", "interfaces", "smartcards", "serials", "parallels",
                     "consoles", "channels", "inputs", "tpms", "graphics", "sounds", "audios",
                     "videos", "hostdevs", "redirdevs", "hubs", "watchdogs"):
            out.extend(getattr(d, name))
        if d.memballoon is not None:
            out.append(d.memballoon)
        out.extend(d.rngs)
        out.extend(d.panics)
        out.extend(d.shmems)
        out.extend(d.memories)
        if d.iommu is not None:
            out.append(d.iommu)
        if d.vsock is not None:
            out.append(d.vsock)
        return out


__all__ = [
    "Address", "Audio", "AudioIO", "Bandwidth", "BandwidthLimit", "BlkioDevice", "BlkioTune", "CPU", "CPUFeature", "CPUTune", "CacheTune", "CacheTuneCache", "CacheTuneMonitor", "MemoryTune", "MemoryTuneNode", "IOThreadPin", "ThreadSched", "VcpuPin", "VcpuState", "CharDev", "Clock", "Codec", "Controller", "Devices", "Disk",
    "Domain", "Features", "FirmwareFeature", "Filesystem", "Graphics", "GraphicsChannel", "Hostdev", "HostdevSourceAddress", "IOMMU", "IOTune", "Input",
    "Interface", "KeyWrap", "KeyWrapCipher", "LaunchSecurity", "Resource", "HugePage", "IdMap", "InitEnv", "IdMapEntry", "IOThread", "Listen", "Loader", "MemNode", "MemoryBacking", "MemoryDevice", "NumaCell",
    "NumaCache", "NumaInterconnect", "NumaTune", "QemuArg", "QemuCapability", "QemuEnv", "QemuOverrideDevice", "QemuProperty",
    "MemBalloon", "NVRam", "OS", "PM", "Panic", "RNG", "RedirFilterRule", "Redirdev", "SMBIOS_ENTRY_NAMES", "Smartcard", "Sound", "Sysinfo",
    "SysinfoEntry", "SysinfoSection", "TPM", "Timer", "Video", "Vsock", "Watchdog", "STR",
]


def _address_format(self: Address, name: str, value: object) -> str | None:
    """PCI numbers are written in hex with libvirt's widths; everything else in decimal."""
    if name == "base" and isinstance(value, int):
        return f"0x{value:x}"
    if self.type in ("pci", None) and isinstance(value, int) and not isinstance(value, bool):
        width = {"domain": 4, "bus": 2, "slot": 2, "function": 1}.get(name)
        if width is not None:
            return f"0x{value:0{width}x}"
    return None


Address.xml_format_value = _address_format  # type: ignore[attr-defined]
