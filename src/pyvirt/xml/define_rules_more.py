"""More of libvirt 9.0's define-time refusals, found on the fifth xml2xml round's probes (each
refused by the real libvirt 9.0's ``virsh define`` in these words, and accepted by pyvirt
before): audio streams and ids, the domain title, filesystems, shmem, evdev inputs, TPMs,
clock timers, CPU topology, fw_cfg names, lifecycle actions, QXL video memory, memory limits.

:func:`check_generic_rules` are libvirt's generic parser's and validator's (its test driver
refuses them too); :func:`check_qemu_rules` are its QEMU driver's (qemuValidateDomainDef*).
Both run from :func:`pyvirt.xml.define_rules.check_define_rules`."""

from __future__ import annotations

import re

from .domain import Disk, Domain, Interface
from .errors import XMLConfigError, XMLError, XMLInternalError, XMLNoTargetError
from .tunables import UNLIMITED


def check_generic_rules(dom: Domain) -> None:
    """virDomainDefParseXML / virDomainDefValidate rules every driver applies."""
    if dom.title is not None and "\n" in dom.title:
        raise XMLError("Domain title can't contain newlines", dom.line, libvirt_words=True)
    tune = dom.memtune
    for name in ("hard_limit", "soft_limit", "swap_hard_limit"):
        value = getattr(tune, name) if tune is not None else None
        if value is not None and value > UNLIMITED:  # virParseScaledValue's limit
            raise XMLError(f"numerical overflow: value too large: {value}KiB", tune.line if tune else None)
    for audio in dom.devices.audios:
        if audio.id is None:
            raise XMLError("Missing required attribute 'id' in element 'audio'", audio.line, libvirt_words=True)
        for io in (audio.input, audio.output):  # virDomainAudioIOCommonValidate
            if io is None:
                continue
            if io.fixed_settings:
                if io.mixing_engine is not True:
                    raise XMLConfigError("fixed audio settings requires mixing engine", audio.line)
            elif io.settings:
                raise XMLConfigError("audio settings specified without fixed settings flag", audio.line)
    _timer_attributes(dom)
    _clock_and_cpu(dom)
    _hyperv_kvm(dom)
    if dom.blkiotune is not None:  # virDomainBlkioDeviceParseXML, virDomainDefTunablesParse
        paths: set[str] = set()
        for dev in dom.blkiotune.devices:
            if not dev.path:
                raise XMLConfigError("missing per-device path", dom.blkiotune.line)
            if dev.path in paths:
                raise XMLConfigError(f"duplicate blkio device path '{dev.path}'", dom.blkiotune.line)
            paths.add(dev.path)
    _disks_and_nics(dom)
    _controllers_hostdevs(dom)
    mb = dom.devices.memballoon
    if mb is not None and mb.model is None:
        raise XMLError("Missing required attribute 'model' in element 'memballoon'", mb.line, libvirt_words=True)
    for fs in dom.devices.filesystems:  # virDomainFSDefParseXML
        # (its source and a RAM filesystem's usage: validate.py)
        if not fs.target_dir:
            src = {"mount": fs.source_dir, "bind": fs.source_dir, "file": fs.source_file,
                   "block": fs.source_dev, "template": fs.source_name}.get(fs.type or "mount") or fs.source_socket
            raise XMLNoTargetError("missing target information for device" + (f" {src}" if src else ""), fs.line)
    for shm in dom.devices.shmems:  # virDomainShmemDefParseXML
        if shm.msi and not shm.server:
            raise XMLError("msi option is only supported with a server", shm.line, libvirt_words=True)
    for inp in dom.devices.inputs:  # virDomainInputDefValidate
        if inp.type == "evdev" and inp.bus is not None:
            raise XMLConfigError("input evdev doesn't support bus element", inp.line)


def _lun_only(disk: Disk) -> None:
    """virDomainDiskDefValidate: unfiltered SG_IO is gone; raw I/O, SG_IO and persistent
    reservations are a LUN's alone (in this order, libvirt's)."""
    if disk.sgio == "unfiltered":
        raise XMLConfigError("unfiltered sgio is no longer supported", disk.line)
    if disk.device == "lun":
        return
    if any(v is not None for v in (disk.source_reservations_managed, disk.source_reservations_type,
                                   disk.source_reservations_path, disk.source_reservations_mode)):
        raise XMLConfigError("<reservations/> allowed only for lun devices", disk.line)
    if disk.rawio is not None:
        raise XMLConfigError("rawio can be used only with device='lun'", disk.line)
    if disk.sgio is not None:
        raise XMLConfigError("sgio can be used only with device='lun'", disk.line)


#: a vhost-scsi target name (virDomainHostdevSubsysSCSIVHostDefParseXML: naa. and 16 hex digits)
_WWN = re.compile(r"naa\.(0x)?[0-9a-fA-F]{16}")


def _controllers_hostdevs(dom: Domain) -> None:
    """virDomainControllerDefParseXML, virDomainHostdevDefParseXMLSubsys, virDomainRNGDefParseXML."""
    for c in dom.devices.controllers:
        if c.type == "scsi" and c.driver_iothread is not None and c.model not in (None, "virtio-scsi"):
            raise XMLError("'iothread' attribute only supported for virtio scsi controllers", c.line,
                           libvirt_words=True)
    for h in dom.devices.hostdevs:
        a = h.source_address
        if h.type == "pci" and a is not None and a.function is not None and a.function > 7:
            raise XMLError(f"Invalid PCI address function=0x{a.function:x}, must be <= 7", h.line,
                           libvirt_words=True)
        if h.type == "scsi" and h.source_protocol != "iscsi" and not h.source_adapter:
            raise XMLError("'adapter' name must be specified for scsi hostdev source", h.line, libvirt_words=True)
        if h.type == "scsi_host":
            if not h.source_wwpn:
                raise XMLError("missing vhost-scsi hostdev source wwpn", h.line, libvirt_words=True)
            if not _WWN.fullmatch(h.source_wwpn):
                raise XMLError("malformed 'wwpn' value", h.line, libvirt_words=True)
    for rng in dom.devices.rngs:
        if rng.backend_model is None:  # libvirt 9.0 counts the backends and words it so
            raise XMLError("only one RNG backend is supported", rng.line, libvirt_words=True)


def _socket_source(nic: Interface) -> None:
    """virDomainNetDefParseXML for server/client/mcast/udp NICs: a ``<source>``, its address
    (a server's may be left out), a udp one's ``<local>`` with address and port."""
    if nic.type not in ("server", "client", "mcast", "udp"):
        return
    if nic.source_address is None and nic.source_port is None and nic.source_local_address is None \
            and nic.source_local_port is None:
        raise XMLError(f"interface type='{nic.type}' requires a 'source' element", nic.line, libvirt_words=True)
    if nic.source_port is not None and nic.source_address is None and nic.type != "server":
        raise XMLError("Missing required attribute 'address' in element 'source'", nic.line, libvirt_words=True)
    if nic.type == "udp" and nic.source_port is not None:
        if nic.source_local_address is None and nic.source_local_port is None:
            raise XMLError("'<local>' element missing for 'udp' socket interface", nic.line, libvirt_words=True)
        for name, value in (("address", nic.source_local_address), ("port", nic.source_local_port)):
            if value is None:
                raise XMLError(f"Missing required attribute '{name}' in element 'local'", nic.line,
                               libvirt_words=True)


def _disks_and_nics(dom: Domain) -> None:
    """virDomainDiskDefValidate, virDomainNetDefParseXML/Validate, virDomainChrDefValidate."""
    from .defaults import disk_bus
    from .generic_defaults import disk_name_rules

    for disk in dom.devices.disks:
        bus = disk.target_bus or disk_bus(disk.target_dev or "", disk.device)
        # a floppy is on the FDC and nothing else is (an unnamed bus: the FDC for a floppy,
        # never for another device, whatever its name)
        if disk.target_bus is not None and (disk.device == "floppy") != (disk.target_bus == "fdc"):
            kind = "floppy disk" if disk.device == "floppy" else "disk"
            raise XMLInternalError(f"Invalid bus type '{disk.target_bus}' for {kind}", disk.line)
        disk_name_rules(disk)
        if disk.driver_ioeventfd is not None and bus != "virtio":
            raise XMLConfigError("disk ioeventfd mode supported only for virtio bus", disk.line)
        if disk.model is not None and bus != "virtio":
            raise XMLConfigError(f"disk model '{disk.model}' not supported for bus '{bus}'", disk.line)
        _lun_only(disk)
    required = {"network": "network", "bridge": "bridge", "server": "port", "client": "port", "mcast": "port",
                "udp": "port"}
    for nic in dom.devices.interfaces:
        _socket_source(nic)
        name = required.get(nic.type or "")
        value = {"network": nic.source_network, "bridge": nic.source_bridge}.get(name or "", nic.source_port)
        if name is not None and value is None:
            raise XMLError(f"Missing required attribute '{name}' in element 'source'", nic.line, libvirt_words=True)
        if nic.type == "vhostuser" and not (nic.model_type or "").startswith("virtio"):
            raise XMLInternalError("Wrong or no <model> 'type' attribute specified with <interface type='vhostuser'/>."
                                   " vhostuser requires the virtio-net* frontend", nic.line)
    for chr_dev in dom.devices.serials:
        if chr_dev.type == "spicevmc":
            raise XMLConfigError("spicevmc device type only supports virtio", chr_dev.line)


def _clock_and_cpu(dom: Domain) -> None:
    """virDomainDefClockParse's offsets, virCPUDefParseXML's topology and features, and
    virDomainNumaDefNodeDistanceParseXML's distances (10 to itself, more than 10 to the others)."""
    clock = dom.clock
    if clock is not None and clock.offset == "absolute" and clock.start is None:
        raise XMLInternalError("missing 'start' attribute for clock with offset='absolute'", clock.line)
    if clock is not None and clock.offset == "timezone" and not clock.timezone:
        raise XMLInternalError("missing 'timezone' attribute for clock with offset='timezone'", clock.line)
    for t in clock.timers if clock is not None else []:
        if t.name is None:
            raise XMLError("Missing required attribute 'name' in element 'timer'", t.line, libvirt_words=True)
    cpu = dom.cpu
    if cpu is None:
        return
    if any(getattr(cpu, n) is not None for n in ("sockets", "dies", "cores", "threads")):
        for name in ("sockets", "cores", "threads"):
            if getattr(cpu, name) is None:
                raise XMLError(f"Missing required attribute '{name}' in element 'topology'", cpu.line,
                               libvirt_words=True)
    for f in cpu.features:
        if not f.name:
            raise XMLError("Invalid CPU feature name", f.line, libvirt_words=True)
    for cell in cpu.numa_cells:
        for sib in cell.distances:  # virDomainNumaDefNodeDistanceParseXML
            for name in ("id", "value"):
                if getattr(sib, name) is None:
                    raise XMLError(f"Missing required attribute '{name}' in element 'sibling'", sib.line,
                                   libvirt_words=True)
            assert sib.id is not None and sib.value is not None
            if (sib.id == cell.id and sib.value != 10) or (sib.id != cell.id and sib.value <= 10) \
                    or sib.value > 255:
                raise XMLError(f"'value {sib.value}' is invalid for 'sibling id {sib.id}' under NUMA "
                               f"'cell id {cell.id}'", sib.line, libvirt_words=True)


def _hyperv_kvm(dom: Domain) -> None:
    """virDomainFeaturesHyperVDefParse / virDomainFeaturesKVMDefParse: value checks of an enabled
    enlightenment."""
    f = dom.features
    if f is None:
        return
    if f.hv_spinlocks and f.hv_spinlocks_retries is not None and f.hv_spinlocks_retries < 0xFFF:
        raise XMLError("HyperV spinlock retry count must be at least 4095", f.line, libvirt_words=True)
    if f.hv_vendor_id and f.hv_vendor_id_value is not None and len(f.hv_vendor_id_value) > 12:
        raise XMLError("HyperV vendor_id value must not be more than 12 characters.", f.line, libvirt_words=True)
    if f.kvm_dirty_ring:
        size = f.kvm_dirty_ring_size
        if size is None:
            raise XMLError("Missing required attribute 'size' in element 'dirty-ring'", f.line, libvirt_words=True)
        if size & (size - 1) or not 1024 <= size <= 65536:
            raise XMLError("dirty ring must be power of 2 and ranges [1024, 65536]", f.line, libvirt_words=True)


def _timer_attributes(dom: Domain) -> None:
    """virDomainTimerDefParseXML / virDomainClockDefValidate: which timer takes which attribute."""
    for t in dom.clock.timers if dom.clock is not None else []:
        if t.name in ("kvmclock", "hypervclock") and t.tickpolicy is not None:
            raise XMLConfigError(f"timer {t.name} doesn't support setting of timer tickpolicy", t.line)
        if t.name not in ("rtc", "platform") and t.track is not None:
            raise XMLConfigError(f"timer {t.name} doesn't support setting of timer track", t.line)
        if t.name != "tsc" and t.frequency is not None:
            raise XMLConfigError(f"timer {t.name} doesn't support setting of timer frequency", t.line)
        catchup = (t.catchup_threshold, t.catchup_slew, t.catchup_limit)
        if t.tickpolicy != "catchup" and any(v is not None for v in catchup):
            raise XMLError("setting of timer catchup policies is only supported with tickpolicy='catchup'", t.line,
                           libvirt_words=True)


def check_qemu_rules(dom: Domain) -> None:
    """qemuValidateDomainDef* rules of libvirt 9.0's QEMU driver, checked at define."""
    _lifecycle(dom)
    check_timers(dom)
    threads = {t.id for t in dom.iothread_ids} | set(range(1, (dom.iothreads or 0) + 1))
    for disk in dom.devices.disks:  # qemuValidateDomainDeviceDefDiskIOThreads
        if disk.driver_iothread is None:
            continue
        from .defaults import disk_bus

        bus = disk.target_bus or disk_bus(disk.target_dev or "", disk.device)
        if bus != "virtio":
            raise XMLConfigError(f"IOThreads not available for bus {bus or ''} target {disk.target_dev or ''}",
                                 disk.line)
        if disk.driver_iothread not in threads:
            raise XMLConfigError(f"Disk iothread '{disk.driver_iothread}' not defined in iothreadid", disk.line)
    _qemu_devices(dom)
    for c in dom.devices.controllers:  # qemuValidateDomainDeviceDefControllerAttributes, ...PCI
        if c.type == "pci" and c.model in ("pci-root", "pcie-root") and (c.index or 0) != 0:
            raise XMLError("pci-root and pcie-root controllers should have index 0", c.line, libvirt_words=True)
        if c.type != "scsi" or c.model not in ("virtio-scsi", "virtio-transitional", "virtio-non-transitional"):
            for attr_name, value in (("queues", c.driver_queues), ("cmd_per_lun", c.driver_cmd_per_lun),
                                     ("max_sectors", c.driver_max_sectors), ("ioeventfd", c.driver_ioeventfd)):
                if value is not None:
                    raise XMLConfigError(f"'{attr_name}' is only supported by virtio-scsi controller", c.line)
            if c.driver_iothread is not None:
                raise XMLConfigError("'iothread' is only supported for virtio-scsi controller", c.line)
        if c.type == "scsi" and c.driver_iothread is not None and c.driver_iothread not in threads:
            raise XMLConfigError(f"controller iothread '{c.driver_iothread}' not defined in iothreadid", c.line)
    if any(h.type == "mdev" and h.display for h in dom.devices.hostdevs) and not dom.devices.graphics:
        raise XMLConfigError("graphics device is needed for attribute value 'display=on' in <hostdev>", dom.line)
    pool_min, pool_max = dom.default_iothread_pool_min, dom.default_iothread_pool_max
    if pool_max == 0:
        raise XMLConfigError("thread_pool_max must be a positive integer", dom.line)
    if pool_min is not None and pool_max is not None and pool_min > pool_max:
        raise XMLConfigError("thread_pool_min must be smaller or equal to thread_pool_max", dom.line)
    cpu = dom.cpu
    if cpu is not None and cpu.sockets is not None:  # qemuValidateDomainCpuTopology
        topology = (cpu.sockets or 1) * (cpu.dies or 1) * (cpu.cores or 1) * (cpu.threads or 1)
        if topology != (dom.vcpu or 1):
            raise XMLConfigError("CPU topology doesn't match maximum vcpu count", cpu.line)
    for info in dom.sysinfos:  # qemuValidateDomainDefSysinfo
        for e in info.fw_cfgs if info.type == "fwcfg" else []:
            if e.name and not e.name.startswith("opt/"):
                raise XMLConfigError("Invalid firmware name", e.line)
    spice = any(g.type == "spice" for g in dom.devices.graphics)
    for audio in dom.devices.audios:
        if audio.type == "spice" and not spice:
            raise XMLConfigError("Spice audio is not supported without spice graphics", audio.line)
    for fs in dom.devices.filesystems:
        if (fs.fmode is not None or fs.dmode is not None) and fs.accessmode != "mapped":
            raise XMLConfigError("fmode and dmode must be used with accessmode=mapped", fs.line)
    for fs in dom.devices.filesystems:  # qemuValidateDomainDeviceDefFS
        if fs.type not in (None, "mount"):
            raise XMLConfigError("only supports mount filesystem type", fs.line)
    for inp in dom.devices.inputs:  # qemuValidateDomainDeviceDefInput
        if inp.bus == "xen":
            raise XMLInternalError("unsupported input bus xen", inp.line)
    for panic in dom.devices.panics:  # qemuValidateDomainDeviceDefPanic (x86 guests only here)
        if panic.model in ("pseries", "s390"):
            who = "pSeries" if panic.model == "pseries" else "S390"
            raise XMLConfigError(f"only {who} guests support panic device of model '{panic.model}'", panic.line)
    for g in dom.devices.graphics:  # qemuValidateDomainDeviceDefGraphics
        if g.type in ("rdp", "desktop"):
            raise XMLConfigError(f"{g.type} graphics are not supported with this QEMU", g.line)
        if len(g.listens) > 1:
            raise XMLConfigError("QEMU does not support multiple listens for one graphics device.", g.line)
    for c in dom.devices.controllers:  # qemuDomainCheckSCSIControllerModel: no QEMU device for it
        if c.type == "scsi" and c.model == "buslogic":
            raise XMLConfigError("Unsupported controller model: buslogic", c.line)
    for shm in dom.devices.shmems:  # qemuValidateDomainDeviceDefShmem
        if shm.model_type in (None, "ivshmem"):
            raise XMLConfigError("ivshmem device is not supported with this QEMU binary", shm.line)
        if shm.model_type == "ivshmem-doorbell" and not shm.server:
            raise XMLConfigError("shmem model 'ivshmem-doorbell' is supported only with server option enabled",
                                 shm.line)
        if shm.model_type == "ivshmem-plain" and shm.server:
            raise XMLConfigError("shmem model 'ivshmem-plain' is supported only with server option disabled",
                                 shm.line)
    for tpm in dom.devices.tpms:  # qemuValidateDomainDeviceDefTPM
        if tpm.backend_type == "emulator" and tpm.backend_version == "1.2" and tpm.model == "tpm-crb":
            raise XMLConfigError("Unsupported interface 'tpm-crb' for TPM 1.2", tpm.line)
    for v in dom.devices.videos:  # qemuValidateDomainDeviceDefVideo
        if v.model_type == "qxl" and v.model_vgamem:
            if v.model_vgamem < 1024:
                raise XMLConfigError("value for 'vgamem' must be at least 1 MiB (1024 KiB)", v.line)
            if v.model_vgamem & (v.model_vgamem - 1):
                raise XMLConfigError("value for 'vgamem' must be power of two", v.line)


def _lifecycle(dom: Domain) -> None:
    """qemuValidateLifecycleAction and qemuValidateDomainDef's on_reboot/on_poweroff pair."""
    for action in (dom.on_poweroff, dom.on_reboot, dom.on_crash):
        if action == "rename-restart":
            raise XMLConfigError("qemu driver doesn't support the 'rename-restart' action for "
                                 "'on_reboot'/'on_poweroff'/'on_crash'", dom.line)
    if dom.on_reboot == "destroy" and dom.on_poweroff == "restart":
        raise XMLConfigError("qemu driver doesn't support 'onReboot' set to 'destroy and 'onPoweroff' set to "
                             "'reboot'", dom.line)


def check_timers(dom: Domain) -> None:
    """qemuValidateDomainDefClockTimers: what QEMU has no switch for.  Checked at define and
    again by the command line's builder at start (a definition stored before the rule)."""
    for t in dom.clock.timers if dom.clock is not None else []:
        if t.name == "platform":
            raise XMLConfigError("unsupported timer type (name) 'platform'", t.line)
        if t.name == "rtc" and t.track == "boot":
            raise XMLConfigError("unsupported rtc timer track 'boot'", t.line)
        if t.name == "rtc" and t.tickpolicy in ("merge", "discard"):
            raise XMLConfigError(f"unsupported rtc timer tickpolicy '{t.tickpolicy}'", t.line)
        if t.name == "pit" and t.tickpolicy == "merge":
            raise XMLConfigError("unsupported pit tickpolicy 'merge'", t.line)


#: qemuValidateDomainChrDef: the address type each serial target type sits on
_SERIAL_TARGET_ADDRESS = {"isa-serial": "isa", "usb-serial": "usb", "pci-serial": "pci", "spapr-vio-serial": "spapr-vio"}
#: serial target models and the target type each needs (virDomainChrTargetModel / Type)
_SERIAL_MODEL_TYPE = {"isa-serial": "isa-serial", "usb-serial": "usb-serial", "pci-serial": "pci-serial"}


def require_shared_memory(dom: Domain, name: str, line: int | None) -> None:
    """libvirt's qemuValidateDomainDefVhostUserRequireSharedMemory: a vhost-user backend maps
    guest RAM, so all of it must be shared (``<access mode='shared'/>``, or every NUMA cell's
    ``memAccess='shared'``); a configuration error, in libvirt 9.0's one wording.  Checked at
    define here and by the command line's builder at start (a stored definition)."""
    mb = dom.memory_backing
    default = mb.access_mode if mb is not None else None
    cells = dom.cpu.numa_cells if dom.cpu is not None else []
    if any((c.mem_access or default) != "shared" for c in cells) if cells else default != "shared":
        raise XMLConfigError(f"'{name}' requires shared memory", line)


def _qemu_devices(dom: Domain) -> None:
    """qemuValidateDomainDeviceDefDisk*/Chr*: CHS translation only on IDE, a throttle group only
    beside throttles, a metadata cache only for qcow2, a vhost-user disk only with shared guest
    memory; serial target models matching their type; no s390 SCLP console."""
    from .defaults import disk_bus

    for disk in dom.devices.disks:
        bus = disk.target_bus or disk_bus(disk.target_dev or "", disk.device)
        if disk.geometry_trans is not None and bus != "ide":
            raise XMLConfigError(f"CHS translation mode can only be set for 'ide' bus not '{bus}'", disk.line)
        tune = disk.iotune
        if tune is not None and tune.group_name is not None and not any(
                getattr(tune, n) for n in vars(tune) if n not in ("group_name", "line")):
            raise XMLConfigError("group_name can be configured only together with settings", disk.line)
        if disk.driver_metadata_cache is not None and disk.driver_type != "qcow2":
            raise XMLConfigError("metadata cache max size control is supported only with qcow2 images", disk.line)
        if disk.type == "vhostuser":  # the start's own check, at define (qemuValidateDomainDeviceDefDisk)
            require_shared_memory(dom, "vhostuser", disk.line)
    for s in dom.devices.serials:
        ttype = s.target_type or "isa-serial"  # qemuDomainChrDefPostParse's default (pyvirt's guests are x86)
        want = _SERIAL_TARGET_ADDRESS.get(ttype)
        if want is not None and s.address is not None and s.address.type != want:
            raise XMLConfigError("usb-serial requires address of usb type" if want == "usb" else  # the parser's
                                 f"Target type '{ttype}' requires address type '{want}'", s.line)
        need = _SERIAL_MODEL_TYPE.get(s.target_model_name or "")
        if need is not None and s.target_type is not None and s.target_type != need:
            raise XMLConfigError(f"Target model '{s.target_model_name}' requires target type '{need}'", s.line)
    for c in dom.devices.consoles:
        if c.target_type in ("sclp", "sclplm"):
            raise XMLConfigError(f"{c.target_type}console is not supported in this QEMU binary", c.line)
