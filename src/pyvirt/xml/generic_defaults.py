"""What libvirt's driver-independent code adds to every domain it parses and formats.

libvirt's generic parser (virDomainDefPostParseCommon, virDomainDefAddImplicitDevices) and
formatter (virDomainDefFormat) complete a definition the same way for every driver: implicit
disk controllers, full drive addresses, ``placement='static'``, canonical cpusets, a
``rom`` loader type, default video RAM...  libvirt's test driver returns exactly that, and
clients such as virt-xml diff against it, so pyvirt's test driver applies these rules.

The QEMU driver's own define-time defaults (machine types, controller models, PCI
addresses) live in :mod:`pyvirt.xml.defaults`; these rules are the part every driver shares.
Elements the model keeps verbatim (see ``keeping_unknown``) get libvirt's formatting rules in
:func:`format_kept_elements`, on the formatted tree.
"""

from __future__ import annotations

import contextlib
import dataclasses
import uuid
from collections.abc import Callable
from typing import Any

from pyvirt.xml.lazy_etree import etree

from .domain import (
    OS,
    Address,
    CharDev,
    Clock,
    Controller,
    Disk,
    Domain,
    Filesystem,
    NetHost,
    Video,
    VirtioOptions,
)
from .errors import XMLConfigError, XMLError, XMLInternalError
from .format_rules import apply_format_rules
from .mapping import get_extras
from .pciaddr import insert_controller
from .validate import parse_cpuset

#: libvirt's default video RAM (KiB) per model, where the generic code sets one
#: (virDomainVideoDefaultRAM); these models' vram is also rounded up to a power of two
_VIDEO_VRAM = {"vga": 16384, "cirrus": 16384, "vmvga": 16384, "xen": 4096, "qxl": 65536}
#: disk buses whose disks sit on a drive controller, with (units per bus, buses per controller)
_DRIVE_BUSES = {"ide": (2, 2), "fdc": (2, 1), "scsi": (7, 1), "sata": (6, 1)}


def format_cpuset(cpus: frozenset[int] | set[int]) -> str:
    """libvirt's canonical cpuset text (virBitmapFormat): ranges joined by commas, ``1-2``."""
    out: list[str] = []
    run: list[int] = []
    for cpu in sorted(cpus):
        if run and cpu == run[-1] + 1:
            run.append(cpu)
            continue
        if run:
            out.append(str(run[0]) if len(run) == 1 else f"{run[0]}-{run[-1]}")
        run = [cpu]
    if run:
        out.append(str(run[0]) if len(run) == 1 else f"{run[0]}-{run[-1]}")
    return ",".join(out)


def feature_defaults(dom: Domain) -> None:
    """<features> as libvirt's parser stores them: a <hyperv> without a mode is 'custom', and
    the SMM TSEG size is kept in bytes and written in MiB (virDomainFeaturesDefParse)."""
    from .units import parse_size_bytes

    f = dom.features
    if f is None:
        return
    if f.hyperv_mode is None and (f.hyperv or any(getattr(f, n) is not None for n in vars(f) if n.startswith("hv_"))):
        f.hyperv_mode = "custom"
    if f.smm_tseg is not None and f.smm_tseg_unit not in (None, "MiB", "M"):
        size = parse_size_bytes(str(f.smm_tseg), f.smm_tseg_unit, "<tseg>", f.line, default_scale=1)
        if size % (1 << 20) == 0:
            f.smm_tseg = size >> 20
        else:
            return  # refused when the command line is built: not a whole number of MiB
    if f.smm_tseg is not None:
        f.smm_tseg_unit = "MiB"


def loader_and_topology_defaults(dom: Domain) -> None:
    """What libvirt's parser itself fills, for every driver: a loader with a path and no type is
    a ROM (virDomainLoaderDefParseXML), a CPU topology without dies has one (virCPUDefParseXML)."""
    if dom.os is not None and dom.os.loader is not None and dom.os.loader.path and dom.os.loader.type is None:
        dom.os.loader.type = "rom"
    cpu = dom.cpu
    if cpu is not None and cpu.sockets is not None and cpu.dies is None:
        cpu.dies = 1


def memory_from_numa(dom: Domain) -> None:
    """virDomainDefPostParseMemory: without ``<memory>`` the guest NUMA cells' sizes, plus the
    memory devices', are the guest's memory (KiB, as validation left the cells)."""
    cells = dom.cpu.numa_cells if dom.cpu is not None else []
    if dom.memory is None and cells:
        dom.memory = sum(c.memory or 0 for c in cells) + sum(m.target_size or 0 for m in dom.devices.memories)


def genid_default(dom: Domain) -> None:
    """virDomainDefParseXML: an empty ``<genid/>`` asks libvirt for one, made once and kept in the
    definition (a new one at every boot would tell the guest it was restored from a snapshot)."""
    if dom.genid is not None and not dom.genid.strip():
        dom.genid = str(uuid.uuid4())


def fill_generic_defaults(dom: Domain) -> None:
    """Complete ``dom`` in place the way every libvirt driver does on parse and format."""
    memory_from_numa(dom)
    genid_default(dom)
    if not dom.current_memory or (dom.memory is not None and dom.current_memory > dom.memory):  # 0 too
        dom.current_memory = dom.memory
    if dom.vcpu is not None and dom.vcpu_placement is None:
        dom.vcpu_placement = "static"
    placement_rules(dom)
    bitmap_rules(dom)
    fill_iothread_ids(dom)
    blkio_defaults(dom)
    feature_defaults(dom)
    bootloader = any(e.element is not None and e.element.tag == "bootloader" for e in get_extras(dom))
    if dom.os is None and bootloader:
        dom.os = OS(type="xen")  # a host bootloader means a Xen PV guest (virDomainDefParseXML)
    loader_and_topology_defaults(dom)
    cpu = dom.cpu
    if cpu is not None and cpu.model is not None and cpu.mode in (None, "custom"):
        cpu.mode = "custom"
        cpu.model_fallback = cpu.model_fallback or "allow"
    if dom.os is not None and dom.os.type == "hvm" and not dom.os.boot_devs \
            and not any(getattr(d, "boot_order", None) is not None for d in dom.all_devices()):
        dom.os.boot_devs = ["hd"]
    if bootloader and dom.os is not None:
        # virDomainDefFormatInternal writes <boot>, <bootmenu> and <bios> only for a domain
        # without a host bootloader (checked against real libvirt 9.0's test driver).
        dom.os.boot_devs = []
        dom.os.bootmenu_enable = dom.os.bootmenu_timeout = None
        dom.os.bios_useserial = dom.os.bios_reboot_timeout = None
    if dom.clock is None:
        dom.clock = Clock(offset="utc")
    dom.on_poweroff = dom.on_poweroff or "destroy"
    dom.on_reboot = dom.on_reboot or "restart"
    dom.on_crash = dom.on_crash or "destroy"
    feats = dom.features
    if feats is not None and feats.hyperv_mode is None and any(e.steps[:1] == ("hyperv",)
                                                               for e in get_extras(feats)):
        feats.hyperv_mode = "custom"
    _disk_addresses(dom)
    _implicit_controllers(dom)
    _chardevs(dom)
    from .defaults import random_mac

    for nic in dom.devices.interfaces:
        nic.mac_address = nic.mac_address or random_mac()
        nic.model_type = nic_model_name(nic.model_type)
    generated_tap_name_rule(dom)
    for fs in dom.devices.filesystems:
        filesystem_rules(fs)
    hostdev_defaults(dom)
    vsock_defaults(dom)
    if dom.devices.graphics and not dom.devices.videos:
        pv = dom.os is not None and dom.os.type in ("xen", "linux")  # virDomainVideoDefaultType
        dom.devices.videos.append(Video(model_type="xen" if pv else "cirrus"))
    _videos(dom)
    _graphics(dom)
    graphics_format_rules(dom)
    chardev_protocol_rule(dom)
    chardev_mode_rule(dom)
    chardev_reconnect_rule(dom)
    apply_format_rules(dom)


def _chardevs(dom: Domain) -> None:
    """Ports in list order and the console that mirrors the first serial port
    (virDomainDefAddConsoleCompat)."""
    devs = dom.devices
    for group in (devs.serials, devs.parallels):
        for i, dev in enumerate(group):
            if dev.target_port is None:
                dev.target_port = i
    console_ports(devs.consoles)
    first = devs.consoles[0] if devs.consoles else None
    if devs.serials and (first is None or first.target_type not in (None, "serial")):
        devs.consoles.insert(0, CharDev(kind="console"))
        first = devs.consoles[0]
    if first is not None and first.target_type in (None, "serial"):
        if not devs.serials:
            devs.serials.append(CharDev(kind="serial", type=first.type, source_path=first.source_path,
                                        source_mode=first.source_mode, source_host=first.source_host,
                                        source_service=first.source_service,
                                        source_bind_host=first.source_bind_host,
                                        source_bind_service=first.source_bind_service,
                                        protocol_type=first.protocol_type, target_port=0))
        ser = devs.serials[0]
        for name in ("type", "source_path", "source_mode", "source_host", "source_service", "source_bind_host",
                     "source_bind_service", "protocol_type"):
            setattr(first, name, getattr(ser, name))
        first.target_type, first.target_port = "serial", ser.target_port


def console_ports(consoles: list[CharDev]) -> None:
    """A console without a port gets its position among the consoles as written (libvirt's
    parser), before virDomainDefAddConsoleCompat puts a serial port's console first; a
    serial console takes its serial port's number instead."""
    for i, con in enumerate(consoles):
        if con.target_port is None and con.target_type not in (None, "serial"):
            con.target_port = i


def hostdev_defaults(dom: Domain) -> None:
    """virDomainHostdevDef's parse defaults: PCI domain 0, and managed='no' written for
    subsystem devices that did not say, of every type (SCSI and vhost-scsi ones too)."""
    for hd in dom.devices.hostdevs:
        if hd.type == "pci" and hd.source_address is not None and hd.source_address.domain is None:
            hd.source_address.domain = 0
        if hd.mode in (None, "subsystem") and hd.managed is None:
            hd.managed = False
        if hd.type == "scsi" and hd.source_protocol == "iscsi":
            hd.source_name = iscsi_lun_path(hd.source_name)  # virDomainHostdevDefPostParse


#: SCSI controller models -> (highest unit, reserved unit) of virDomainSCSIDriveAddressIsUsed
_SCSI_UNITS = {"virtio-scsi": (16383, None), "virtio-transitional": (16383, None),
               "virtio-non-transitional": (16383, None), "ibmvscsi": (31, 7), "lsisas1068": (1, None),
               "lsisas1078": (255, None), "lsilogic": (None, 7), "vmpvscsi": (None, 7),
               "am53c974": (None, 7), "dc390": (None, 7)}


#: SCSI_NARROW_BUS_MAX_CONT_UNIT: libvirt's QEMU driver does not declare wide SCSI buses
#: (VIR_DOMAIN_DEF_FEATURE_WIDE_SCSI is VMware's), so host devices fill units 0-6 of a controller
_HOSTDEV_UNITS_PER_CONTROLLER = 7


def scsi_hostdev_addresses(dom: Domain) -> None:
    """libvirt's virDomainHostdevAssignAddress: a SCSI <hostdev> without an address goes to the
    first unit (bus 0, target 0, units 0-6 whatever the model: the narrow bus) that no disk or
    host device uses and the controller's model allows, on the first controller that has one
    free (virDomainControllerSCSINextUnit), in document order."""
    devs = dom.devices
    for hd in devs.hostdevs:
        if hd.type != "scsi" or hd.address is not None:
            continue
        controller = 0
        while True:
            unit = next((u for u in range(_HOSTDEV_UNITS_PER_CONTROLLER)
                         if not _scsi_unit_used(dom, controller, u)), None)
            if unit is not None:
                break
            controller += 1
        hd.address = Address(type="drive", controller=controller, bus=0, target=0, unit=unit)


def _scsi_unit_used(dom: Domain, controller: int, unit: int) -> bool:
    model = next((c.model for c in dom.devices.controllers
                  if c.type == "scsi" and (c.index or 0) == controller), None)
    top, reserved = _SCSI_UNITS.get(model or "", (None, None))
    if (top is not None and unit > top) or unit == reserved:
        return True
    users = [d.address for d in dom.devices.disks if d.target_bus == "scsi"]
    users += [h.address for h in dom.devices.hostdevs if h.type == "scsi"]
    return any(a is not None and a.type == "drive" and (a.controller or 0) == controller and not a.bus
               and not a.target and (a.unit or 0) == unit for a in users)


def shmem_defaults(dom: Domain) -> None:
    """qemuDomainShmemDefPostParse: 4 MiB unless a doorbell (its server sizes it), the size written
    in MiB; a doorbell's MSI on with ioeventfd.  A ``<server/>`` without path stays so (its default
    socket is the command line's: :func:`pyvirt.qemu.argv_devices.shmem_server_path`)."""
    from .units import parse_size_bytes

    for shm in dom.devices.shmems:
        if shm.model_type != "ivshmem-doorbell" and shm.size is None:
            shm.size, shm.size_unit = 4, "M"
        elif shm.size is not None and shm.size_unit != "M":
            size = parse_size_bytes(str(shm.size), shm.size_unit or "B", "<shmem><size>", shm.line, default_scale=1)
            shm.size, shm.size_unit = size >> 20, "M"  # kept in bytes, written in whole MiB
        if shm.server and shm.model_type == "ivshmem-doorbell":
            shm.msi = True
            if shm.msi_ioeventfd is None:
                shm.msi_ioeventfd = True


def vsock_defaults(dom: Domain) -> None:
    """virDomainVsockDefPostParse: a vsock without ``<cid auto=>`` picks its CID at start unless
    it names one."""
    v = dom.devices.vsock
    if v is not None and v.cid_auto is None:
        v.cid_auto = not v.cid_address


def placement_rules(dom: Domain) -> None:
    """virDomainVcpuParse / virDomainNumatuneParseXML: ``placement='auto'`` (host nodes from
    numad) on either ``<vcpu>`` or ``<numatune><memory>`` makes both automatic: an automatic vCPU
    placement gets ``<memory mode='strict' placement='auto'/>`` unless the memory placement is
    given, drops its ``cpuset``; an automatic memory placement makes an unset vCPU placement
    automatic.  An automatic memory placement makes the vCPU placement automatic too, even a
    ``static`` one, unless something pins CPUs (a ``cpuset``, ``<vcpupin>``, ``<emulatorpin>``,
    ``<iothreadpin>``: virDomainDefParseXML), and drops its own nodeset (virDomainNumatuneSet).
    A ``<memory>`` without nodeset whose placement stays static is refused; one that
    is written always has its mode (``strict`` by default)."""
    from .domain import NumaTune

    tune = dom.numatune
    memory_auto = tune is not None and tune.memory_placement == "auto"
    if memory_auto and dom.vcpu_placement != "auto" and not _pins_cpus(dom):
        dom.vcpu_placement = "auto"
    if memory_auto:
        tune.memory_nodeset = None
    if dom.vcpu_placement == "auto":
        dom.vcpu_cpuset = None
        if tune is None:
            tune = dom.numatune = NumaTune()
        if tune.memory_placement is None and tune.memory_nodeset is None:
            tune.memory_placement = "auto"
    if tune is None or (tune.memory_mode is None and tune.memory_nodeset is None and tune.memory_placement is None):
        return
    if tune.memory_nodeset is None and tune.memory_placement != "auto":
        raise XMLConfigError("nodeset for NUMA memory tuning must be set if 'placement' is 'static'",
                             tune.line)
    if tune.memory_placement == "static":
        tune.memory_placement = None  # virDomainNumatuneFormatXML: a static placement is its nodeset
    tune.memory_mode = tune.memory_mode or "strict"


def _pins_cpus(dom: Domain) -> bool:
    """Whether the domain pins any thread to host CPUs (an automatic memory placement then
    leaves the vCPU placement as it is)."""
    tune = dom.cputune
    return bool(dom.vcpu_cpuset or (tune is not None and (tune.vcpupins or tune.emulatorpin or tune.iothreadpins)))


def bitmap_rules(dom: Domain) -> None:
    """Host CPU and node sets are bitmaps to libvirt (virBitmapParse, virBitmapFormat): read with
    ranges, exclusions (``^N``) and repeats, written canonically (``0-3,^1`` is ``0,2-3``) -- the
    ``<vcpu cpuset>``, ``<numatune>`` memory and memnode nodesets, guest NUMA cells' ``cpus``
    and huge pages' ``nodeset``."""
    if dom.vcpu_cpuset:
        dom.vcpu_cpuset = format_cpuset(parse_cpuset(dom.vcpu_cpuset, dom.line))
    tune = dom.numatune
    if tune is not None:
        if tune.memory_nodeset:
            tune.memory_nodeset = format_cpuset(parse_cpuset(tune.memory_nodeset, tune.line))
        for node in tune.memnodes:
            if node.nodeset:
                node.nodeset = format_cpuset(parse_cpuset(node.nodeset, node.line))
    for cell in dom.cpu.numa_cells if dom.cpu is not None else ():
        if cell.cpus:  # a set with no vCPU is none (libvirt formats no cpus='' for it)
            cell.cpus = format_cpuset(parse_cpuset(cell.cpus, cell.line, empty_ok=True)) or None
    for page in dom.memory_backing.pages if dom.memory_backing is not None else ():
        if page.nodeset:
            page.nodeset = format_cpuset(parse_cpuset(page.nodeset, page.line))


def blkio_defaults(dom: Domain) -> None:
    """libvirt keeps 0 as "not set" in <blkiotune> and never writes it (virDomainBlkioDefFormat):
    zeros become unset, a device left with nothing goes, and an empty <blkiotune> too."""
    tune = dom.blkiotune
    if tune is None:
        return
    fields = ("weight", "read_iops_sec", "write_iops_sec", "read_bytes_sec", "write_bytes_sec")
    for dev in tune.devices:
        for name in fields:
            if getattr(dev, name) == 0:
                setattr(dev, name, None)
    tune.devices = [d for d in tune.devices if any(getattr(d, n) is not None for n in fields)]
    if tune.weight == 0:
        tune.weight = None
    if tune.weight is None and not tune.devices:
        dom.blkiotune = None


def fill_iothread_ids(dom: Domain) -> None:
    """libvirt lists every iothread, filling the unused ids from 1 up (virDomainIOThreadIDDefArrayInit);
    the filled ones are marked, as libvirt's ``autofill``, so that they are written only beside given ones."""
    if not dom.iothreads:
        return
    from .domain import IOThread

    used = {t.id for t in dom.iothread_ids}
    n = 1
    while len(dom.iothread_ids) < dom.iothreads:
        if n not in used:
            dom.iothread_ids.append(IOThread(id=n, autofill=True))
        n += 1


def drive_address(bus: str, idx: int) -> Address:
    """The drive address libvirt gives disk number ``idx`` of ``bus`` (virDomainDiskDefAssignAddress)."""
    units, buses = _DRIVE_BUSES[bus]
    per_controller = units * buses
    return Address(type="drive", controller=idx // per_controller, bus=(idx % per_controller) // units,
                   target=0, unit=idx % units)


def assigned_scsi_address_free(dom: Domain, disk: Disk) -> None:
    """virDomainDiskDefAssignAddress: a SCSI disk whose drive address comes from its target name
    may not land on a SCSI host device's given address (host devices get theirs after disks)."""
    a = disk.address
    if disk.target_bus != "scsi" or a is None:
        return
    for hd in dom.devices.hostdevs:
        h = hd.address
        if hd.type == "scsi" and h is not None and h.type == "drive" and \
                ((h.controller or 0), (h.bus or 0), (h.target or 0), (h.unit or 0)) == (a.controller, a.bus, a.target, a.unit):
            raise XMLConfigError(f"using disk target name '{disk.target_dev}' conflicts with SCSI host device address "
                                 # libvirt 9.0's words end without the closing quote: kept as they are
                                 f"controller='{a.controller}' bus='{a.bus}' target='{a.target}' unit='{a.unit}",
                                 disk.line)


def _disk_addresses(dom: Domain) -> None:
    from .defaults import disk_bus, disk_index

    for disk in dom.devices.disks:
        disk_name_rules(disk)
        if disk.target_bus is None and disk.target_dev:
            disk.target_bus = disk_bus(disk.target_dev, disk.device or "disk")
        disk.type = disk.type or "file"
        disk.device = disk.device or "disk"
        disk_parse_rules(disk)
    dom.devices.disks = order_disks(dom.devices.disks)
    for disk in dom.devices.disks:
        if disk.target_bus not in _DRIVE_BUSES:
            continue
        a = disk.address
        if a is None and disk.target_dev:
            try:
                disk.address = drive_address(disk.target_bus, disk_index(disk.target_dev))
            except ValueError:
                continue
            assigned_scsi_address_free(dom, disk)


#: virStorageSourceNetworkDefaultPort: the port a TCP ``<host>`` without one gets at parse, in
#: every driver (none for rbd: its client finds the monitors itself; nor for nfs)
NET_DEFAULT_PORTS = {"http": 80, "https": 443, "ftp": 21, "ftps": 990, "tftp": 69, "sheepdog": 7000,
                     "nbd": 10809, "ssh": 22, "iscsi": 3260, "gluster": 24007, "vxhs": 9999}


#: virDomainNetModelTypeList: the NIC models libvirt knows, matched without regard to case and
#: written in this spelling (any other name is kept as given)
NET_MODEL_NAMES = ("netfront", "rtl8139", "virtio", "e1000", "e1000e", "virtio-transitional",
                   "virtio-non-transitional", "usb-net", "spapr-vlan", "lan9118", "smc91c111", "vlance",
                   "vmxnet", "vmxnet2", "vmxnet3", "Am79C970A", "Am79C973", "82540EM", "82545EM", "82543GC")
_NET_MODEL_BY_FOLDED = {name.casefold(): name for name in NET_MODEL_NAMES}


def nic_model_name(model: str | None) -> str | None:
    """virDomainNetModelParseXML: a known model named in any case is that model."""
    return _NET_MODEL_BY_FOLDED.get(model.casefold(), model) if model else model


VIRTIO_NIC_MODELS = ("virtio", "virtio-transitional", "virtio-non-transitional")


def nic_driver_rule(nic: Any) -> None:
    """virDomainNetDefParseXML reads a NIC's ``<driver>`` back-end options (name, queues, txmode,
    ioeventfd, event_idx, queue sizes, rss, host/guest offloads) for virtio models only: on any
    other model, or none, libvirt 9.0 drops them at define, and so does pyvirt (they would mean
    nothing to an e1000).  The virtio options (iommu, ats, packed) are refused there instead."""
    if nic_model_name(nic.model_type) in VIRTIO_NIC_MODELS:
        return
    keep = {f.name for f in dataclasses.fields(VirtioOptions)}
    for f in dataclasses.fields(nic):
        if f.name.startswith("driver_") and f.name not in keep:
            setattr(nic, f.name, None)


_FS_BINARY = ("binary_path", "binary_xattr", "binary_cache_mode", "binary_sandbox_mode", "binary_lock_posix",
              "binary_lock_flock", "binary_thread_pool_size")


def filesystem_rules(fs: Filesystem) -> None:
    """virDomainFSDefParseXML/Format: type ``mount``; ``passthrough`` access unless the share is
    a virtiofs one on the user's own socket (then no access mode is written); ``<binary>`` is
    read for virtiofs only (another driver's is dropped)."""
    fs.type = fs.type or "mount"
    if fs.accessmode is None and not fs.source_socket:
        fs.accessmode = "passthrough"
    if fs.driver_type != "virtiofs":
        for name in _FS_BINARY:
            setattr(fs, name, None)


def disk_name_rules(disk: Disk) -> None:
    """virDomainDiskDefValidate: a disk's (or LUN's) target name is a hard disk's, a floppy's
    a floppy's, whatever the bus."""
    dev = disk.target_dev or ""
    if disk.device in (None, "disk", "lun") and not dev.startswith(("hd", "sd", "vd", "xvd", "ubd")):
        raise XMLInternalError(f"Invalid harddisk device name: {dev}", disk.line)
    if disk.device == "floppy" and not dev.startswith("fd"):
        raise XMLInternalError(f"Invalid floppy device name: {dev}", disk.line)


def disk_parse_rules(disk: Disk) -> None:
    """virDomainDiskDefParseXML/PostParse/Format: a CD-ROM is always read-only; a tray is
    written only when open (``tray='closed'`` is the default and never shown); a read-only
    disk's snapshot mode is ``no`` and not written; a vhost-user disk cannot be snapshotted
    (``snapshot='no'``); an iSCSI source without a LUN is LUN 0 (virDomainPostParseCheckISCSIPath);
    a drive address's omitted numbers are 0; network hosts get their protocol's default port."""
    if disk.device == "cdrom":
        disk.readonly = True
    if disk.target_tray == "closed":
        disk.target_tray = None
    if disk.readonly and disk.snapshot == "no":
        disk.snapshot = None  # virDomainDiskDefFormat: implied by <readonly/>
    elif disk.type == "vhostuser" and disk.snapshot is None:
        disk.snapshot = "no"
    if disk.type == "network" and disk.source_protocol == "iscsi":
        disk.source_name = iscsi_lun_path(disk.source_name)
    a = disk.address
    if a is not None and a.type == "drive":
        a.controller = a.controller or 0
        a.bus = a.bus or 0
        a.target = a.target or 0
        a.unit = a.unit or 0
    layer = disk
    while layer is not None:
        _curl_only_parts(layer)
        net_host_rules(layer.source_hosts, layer.source_protocol)
        layer = layer.backing_store


def _curl_only_parts(layer: Any) -> None:
    """virDomainDiskSourceNetworkParse reads ``<cookies>``, ``<readahead>`` and ``<timeout>``
    only for http(s)/ftp(s) sources and ``<ssl verify>`` only for https/ftps: elsewhere libvirt
    drops them without a word (checked with real libvirt 9.0's define and domxml-to-native)."""
    proto = layer.source_protocol if layer.type == "network" else None
    if proto not in ("http", "https", "ftp", "ftps"):
        if layer.source_cookies:
            layer.source_cookies = []
        if layer.source_readahead is not None or layer.source_timeout is not None:
            layer.source_readahead = layer.source_timeout = None
    if proto not in ("https", "ftps") and layer.source_ssl_verify is not None:
        layer.source_ssl_verify = None


def iscsi_lun_path(name: str | None) -> str | None:
    """virDomainPostParseCheckISCSIPath: an IQN naming no LUN (no ``/``) means LUN 0."""
    return f"{name}/0" if name and "/" not in name else name


def net_host_rules(hosts: list[NetHost], protocol: str | None) -> None:
    """virDomainStorageNetworkParseHost/Format: ``tcp`` is the transport's zero value and port 0
    means the protocol's default; libvirt writes neither, and a TCP host without a port gets
    the protocol's (virStorageSourceNetworkAssignDefaultPorts)."""
    for host in hosts:
        if host.transport == "tcp":
            host.transport = None
        if host.port == 0:
            host.port = None
        if host.transport is None and host.socket is None and host.port is None:
            host.port = NET_DEFAULT_PORTS.get(protocol or "")


def chardev_protocol_rule(dom: Domain) -> None:
    """virDomainChrSourceDefParseProtocol: ``<protocol type>`` belongs to TCP sources only; on
    any other source libvirt does not read it (so it is not kept or written).  A TCP source
    always has one: virDomainChrSourceDefFormat writes ``raw`` (its default) when none was given,
    for every device with a character-device source (smartcards and egd RNG backends too)."""
    devs = dom.devices
    for dev in (*devs.serials, *devs.parallels, *devs.consoles, *devs.channels, *devs.redirdevs,
                *devs.smartcards):
        if dev.type != "tcp":
            dev.protocol_type = None
        elif dev.protocol_type is None and (dev.kind != "smartcard" or dev.mode == "passthrough"):
            dev.protocol_type = "raw"
    for rng in devs.rngs:
        if rng.backend_model == "egd" and rng.backend_type == "tcp" and rng.backend_protocol_type is None:
            rng.backend_protocol_type = "raw"


#: VIR_NET_GENERATED_VNET/MACVTAP/MACVLAN_PREFIX: host interface names libvirt makes up itself
GENERATED_NIC_PREFIXES = ("vnet", "macvtap", "macvlan")


def generated_tap_name_rule(dom: Domain) -> None:
    """virDomainNetDefParseXML (inactive parse): a ``<target dev>`` with one of the prefixes of
    the names libvirt generates is one a running guest got, blanked so that the next start
    makes a new one - except the existing tap of an ethernet NIC with ``managed='no'``."""
    for nic in dom.devices.interfaces:
        if nic.target_dev and nic.target_dev.startswith(GENERATED_NIC_PREFIXES) and \
                not (nic.type == "ethernet" and nic.target_managed is False):
            nic.target_dev = None


def _chardev_sources(dom: Domain) -> list[Any]:
    """Every device with a character-device ``<source>`` of its own (a smartcard only in
    passthrough mode)."""
    devs = dom.devices
    return [dev for dev in (*devs.serials, *devs.parallels, *devs.consoles, *devs.channels, *devs.redirdevs,
                            *devs.smartcards) if dev.kind != "smartcard" or dev.mode == "passthrough"]


def chardev_mode_rule(dom: Domain) -> None:
    """virDomainChrSourceDefParseMode/virDomainChrSourceDefFormat: a TCP source, and a UNIX
    socket source with a path, is a client unless it says ``bind``, and libvirt always writes
    which (``mode='connect'``), for every device with a character-device source, an egd RNG
    backend's too.  (A UNIX socket without a path is libvirt's own, bound, and not written; an
    empty ``path=''`` is a path to libvirt, a NULL check.)"""
    for dev in _chardev_sources(dom):
        if dev.source_mode is None and (dev.type == "tcp" or (dev.type == "unix" and dev.source_path is not None)):
            dev.source_mode = "connect"
    for rng in dom.devices.rngs:
        if rng.backend_model == "egd" and rng.backend_source_mode is None and \
                (rng.backend_type == "tcp" or (rng.backend_type == "unix" and rng.backend_source_path is not None)):
            rng.backend_source_mode = "connect"


def reconnect_rule(kind: str | None, mode: str | None, path: str | None, enabled: bool | None,
                   timeout: int | None, line: int | None) -> int | None:
    """virDomainChrSourceReconnectDefParseXML + virDomainChrSourceReconnectDefValidate for one
    socket source: the timeout is read only when reconnecting is enabled (so it is returned, to
    be kept, only then), and is required and non-zero there; a listening socket (``bind``, or a
    UNIX socket whose path libvirt makes) refuses any ``<reconnect enabled=>``."""
    if enabled is None:
        return None
    if enabled and timeout is None:
        raise XMLError("Missing required attribute 'timeout' in element 'reconnect'", line, libvirt_words=True)
    listening = mode not in (None, "connect") or (kind == "unix" and not path)  # bind (a vhost-user server)
    if kind in ("tcp", "unix") and listening:
        raise XMLInternalError("chardev reconnect is possible only for connect mode", line)
    if enabled and timeout == 0:
        from .errors import XMLInvalidArgError

        raise XMLInvalidArgError("chardev reconnect source timeout cannot be '0'", line)
    return timeout if enabled else None


def chardev_reconnect_rule(dom: Domain) -> None:
    """:func:`reconnect_rule` on every character-device source and egd RNG backend, after the
    post-parse steps that decide whether a socket listens (a generated channel path dropped)."""
    for dev in _chardev_sources(dom):
        dev.source_reconnect_timeout = reconnect_rule(dev.type, dev.source_mode, dev.source_path,
                                                      dev.source_reconnect_enabled, dev.source_reconnect_timeout,
                                                      dev.line)
    for rng in dom.devices.rngs:
        if rng.backend_model == "egd":
            rng.backend_source_reconnect_timeout = reconnect_rule(
                rng.backend_type, rng.backend_source_mode, rng.backend_source_path,
                rng.backend_source_reconnect_enabled, rng.backend_source_reconnect_timeout, rng.line)


def graphics_format_rules(dom: Domain) -> None:
    """virDomainGraphicsDefFormat: the ports and autoport of a VNC or SPICE display belong to
    an address or network listen (none are written with a socket or ``type='none'`` listen);
    a VNC socket given on ``<graphics>`` is its socket listen and the other way round."""
    from .domain import Listen

    for g in dom.devices.graphics:
        if g.type not in ("vnc", "spice"):
            continue
        if g.type == "vnc" and g.socket is not None and not g.listens:
            g.listens.append(Listen(type="socket", socket=g.socket))
        first = g.listens[0] if g.listens else None
        if g.type == "vnc" and first is not None and first.type == "socket" and g.socket is None:
            g.socket = first.socket
        if first is not None and first.type not in ("address", "network"):
            g.port = g.tls_port = g.autoport = g.websocket = None


def hugepage_sizes_in_kib(dom: Domain) -> None:
    """virDomainHugepagesParseNode keeps a page size in KiB and writes it so (``unit='KiB'``)."""
    from .units import unit_scale

    backing = dom.memory_backing
    for page in backing.pages if backing is not None else ():
        if page.size is not None and page.unit not in (None, "KiB"):
            page.size = page.size * unit_scale(page.unit, 1024) // 1024
            page.unit = "KiB"


def order_disks(disks: list, bus: Callable[[Any], object] | None = None) -> list:
    """Disks in libvirt's order: each inserted after the last disk of its bus whose target
    sorts before it (virDomainDiskInsertPreAlloced), so ``sdb`` follows ``sda`` wherever
    the document put it.  `bus` reads a disk's bus (default: its ``target_bus`` as written;
    the duplicate-target check passes the bus its target name implies when none is given)."""
    from .defaults import disk_index

    def index(disk: object) -> int:
        try:
            return disk_index(getattr(disk, "target_dev", None) or "")
        except ValueError:
            return -1

    bus_of = bus or (lambda disk: getattr(disk, "target_bus", None))
    out: list = []
    for disk in disks:
        insert_at = -1
        for i in range(len(out) - 1, -1, -1):
            if bus_of(out[i]) != bus_of(disk):
                continue
            if index(out[i]) > index(disk):
                insert_at = i
            elif insert_at == -1:
                insert_at = i + 1
        out.insert(len(out) if insert_at == -1 else insert_at, disk)
    return out


def _ensure_controller(dom: Domain, type_: str, index: int) -> None:
    if not any(c.type == type_ and c.index == index for c in dom.devices.controllers):
        # virDomainDefMaybeAddController appends (only parsed controllers are sorted by type/index)
        dom.devices.controllers.append(Controller(type=type_, index=index))


def _implicit_controllers(dom: Domain) -> None:
    """virDomainDefAddImplicitControllers: a controller for every drive address in use (all
    indexes up to the highest), virtio-serial for virtio consoles/channels, ccid for smartcards."""
    from .defaults import USB_COMPANIONS  # an ICH9 UHCI companion's first port on its EHCI master

    for c in dom.devices.controllers:
        if c.type == "usb" and c.master_startport is None and c.model in USB_COMPANIONS:
            c.master_startport = USB_COMPANIONS[c.model]  # the parser's, every driver
        if c.index is None:  # the first index no controller of its type uses
            used = {o.index for o in dom.devices.controllers if o.type == c.type}
            c.index = next(i for i in range(len(used) + 1) if i not in used)
    ordered: list[Controller] = []
    for c in dom.devices.controllers:  # virDomainControllerInsertPreAlloced
        insert_controller(ordered, c)
    dom.devices.controllers = ordered
    for bus in ("scsi", "fdc", "ide", "sata"):
        highest = max((d.address.controller or 0 for d in dom.devices.disks
                       if d.target_bus == bus and d.address is not None and d.address.type == "drive"),
                      default=-1)
        for index in range(highest + 1):
            _ensure_controller(dom, bus, index)
    implicit_virtio_serial(dom)
    smartcard_defaults(dom)
    # libvirt appends implicit controllers (virDomainDefAddController), but the test driver's
    # domains loaded from a node file are copies (format, then parse again), and the parser sorts
    # controllers by type and index: what `virsh -c test:///FILE dumpxml` shows
    ordered = []
    for c in dom.devices.controllers:
        insert_controller(ordered, c)
    dom.devices.controllers = ordered


def implicit_virtio_serial(dom: Domain) -> None:
    """virDomainDefMaybeAddVirtioSerialController: every virtio channel or console has the
    controller its address names, controller 0 when it has no virtio-serial address (so channels
    without one land on controller 0 even when only another index was written)."""
    for dev in (*dom.devices.channels, *dom.devices.consoles):
        if dev.target_type == "virtio":
            addr = dev.address
            _ensure_controller(dom, "virtio-serial",
                               (addr.controller or 0) if addr is not None and addr.type == "virtio-serial" else 0)


def smartcard_defaults(dom: Domain) -> None:
    """virDomainDefMaybeAddSmartcardController: a smartcard without an address takes the next
    slot of CCID controller 0, and every controller a card names exists."""
    cards = dom.devices.smartcards
    for card in cards:
        if card.address is None:
            slots = [c.address.slot or 0 for c in cards
                     if c.address is not None and c.address.type == "ccid" and not c.address.controller]
            card.address = Address(type="ccid", controller=0, slot=max(slots, default=-1) + 1)
        index = (card.address.controller or 0) if card.address.type == "ccid" else 0
        if not any(c.type == "ccid" and c.index == index for c in dom.devices.controllers):
            _ensure_controller(dom, "ccid", index)


def _videos(dom: Domain) -> None:
    for i, video in enumerate(dom.devices.videos):
        vram = _VIDEO_VRAM.get(video.model_type or "")
        if vram is not None and not video.model_vram:
            video.model_vram = vram
        elif vram is not None and video.model_vram:
            video.model_vram = 1 << (video.model_vram - 1).bit_length()
        if video.model_type == "qxl" and not video.model_ram:
            video.model_ram = vram
        if video.model_type not in (None, "none") and video.model_heads is None:
            video.model_heads = 1
        if i == 0 and video.model_primary is None and video.model_type not in (None, "none"):
            video.model_primary = True


def _graphics(dom: Domain) -> None:
    from .domain import Listen

    for g in dom.devices.graphics:
        if g.type == "vnc" and g.socket is None:
            if g.port is None or g.port == -1 or g.autoport:
                g.port, g.autoport = -1, True
            else:
                g.autoport = False
            if not g.listens:
                g.listens.append(Listen(type="address", address=g.listen))
        elif g.type == "spice":
            if not g.listens:
                unset = g.port is None and g.tls_port is None and not g.autoport
                g.listens.append(Listen(type="none") if unset and not g.listen
                                 else Listen(type="address", address=g.listen))
            if g.autoport:
                g.port = g.tls_port = None  # libvirt picks them at start
            elif any(ls.type in ("address", "network") for ls in g.listens):
                g.autoport = False


def check_kept_elements(root: etree._Element) -> None:
    """The checks libvirt's generic parser makes on elements pyvirt's model keeps verbatim
    (virSecurityLabelDefParseXML: a seclabel's type and relabel)."""
    for label in root.iter("seclabel"):
        kind = label.get("type")
        if kind is not None and kind not in ("none", "dynamic", "static"):
            raise XMLError(f"invalid security type '{kind}'", label.sourceline)
        relabel = label.get("relabel")
        if relabel is not None and relabel not in ("yes", "no"):
            raise XMLError(f"invalid security relabel value '{relabel}'", label.sourceline)


def format_kept_elements(root: etree._Element) -> None:
    """libvirt's formatting of elements pyvirt's model keeps verbatim, on a formatted domain:
    VNC/SPICE graphics without SDL's attributes, a seclabel
    with ``relabel``, USB redirection filters without their "any" (-1) values."""
    for g in root.iterfind("devices/graphics"):
        if g.get("type") in ("vnc", "spice"):
            for att in ("display", "xauth", "fullscreen"):
                g.attrib.pop(att, None)
    for label in root.iterfind("seclabel"):
        kind = label.get("type") or ("dynamic" if label.get("model") else None)
        if kind is not None:
            relabel = label.get("relabel") or ("no" if kind == "none" else "yes")
            rest = {k: v for k, v in label.attrib.items() if k not in ("type", "model", "relabel")}
            model = label.get("model")
            label.attrib.clear()
            label.set("type", kind)
            if model is not None:
                label.set("model", model)
            label.set("relabel", relabel)
            for k, v in rest.items():
                label.set(k, v)
    for source in root.iterfind("devices/rng/backend/source"):
        backend = source.getparent()
        if backend.get("type") == "tcp" and backend.find("protocol") is None:
            etree.SubElement(backend, "protocol").set("type", "raw")
    for addr in root.iter("address"):
        if addr.get("type") == "spapr-vio" and addr.get("reg"):
            with contextlib.suppress(ValueError):
                addr.set("reg", f"0x{int(addr.get('reg', ''), 0):08x}")
    for dev in root.iterfind("devices/redirfilter/usbdev"):
        for att in ("class", "vendor", "product", "version"):
            if dev.get(att) == "-1":
                dev.attrib.pop(att)


def iothread_affinities(ids: list[int], pins: dict[int, str], vcpu_cpuset: str | None,
                        host_cpus: int) -> list[dict[str, object]]:
    """virDomainDriverGetIOThreadsConfig: each IOThread's pinning, else the domain's <vcpu
    cpuset>, else every host CPU; as [{"id", "cpus"}] in libvirt's cpuset text."""
    default = parse_cpuset(vcpu_cpuset) if vcpu_cpuset else frozenset(range(host_cpus))
    return [{"id": i, "cpus": format_cpuset(parse_cpuset(pins[i]) if i in pins else default)} for i in ids]
