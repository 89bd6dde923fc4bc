"""libvirt 9.0's define-time checks that pyvirt used to make only when it built the command line.

libvirt refuses these documents at ``virsh define`` (its parser's validation and the QEMU
driver's qemuValidateDomainDef*), so pyvirt must too: a definition it accepted and could never
start, with the refusal waiting for the first start, is a different behaviour.  Each rule was
checked against real libvirt 9.0's define (dev/define_oracle.py) and keeps libvirt's words.
The disk rules also run for a hot-plugged disk (pyvirt.qemu.argv_disks.check_disk)."""

from __future__ import annotations

from .domain import Disk, Domain
from .errors import XMLConfigError, XMLValidationError
from .pciaddr import is_q35

#: buses a removable medium cannot sit on (virDomainDiskDefValidate: no ejectable media there)
_NOT_EJECTABLE = ("virtio", "xen", "sd")


def check_disk_rules(disk: Disk) -> None:
    """virDomainDiskDefValidate, qemuValidateDomainDeviceDefDisk*, qemuDomainValidateStorageSource:
    targets without partitions, which bus takes which device, a USB disk's address, shared
    writable images only raw, LUNs, LUKS2/librbd encryption, Linux AIO only uncached, no read-only IDE/SATA hard disk, a
    directory disk is a read-only FAT image, transient disks."""
    kind = disk.type or "file"
    device = disk.device or "disk"
    dev = disk.target_dev or ""
    bus = disk.target_bus
    if dev[-1:].isdigit():
        raise XMLValidationError(f"invalid disk target '{dev}', partitions can't appear in disk targets", disk.line)
    if device == "floppy" and bus not in (None, "fdc"):
        raise XMLValidationError(f"Invalid bus type '{bus}' for floppy disk", disk.line)
    if device == "cdrom" and bus in _NOT_EJECTABLE:
        raise XMLValidationError(f"disk type of '{dev}' does not support ejectable media", disk.line)
    if bus == "usb" and disk.address is not None and disk.address.type != "usb":
        raise XMLValidationError("unexpected address type for usb disk", disk.line)
    if disk.shareable and not disk.readonly and (disk.driver_type or "raw") != "raw":
        # qemuBlockStorageSourceSupportsConcurrentAccess: only raw images can be shared writable
        raise XMLValidationError(f"shared access for disk '{dev}' requires use of supported storage format",
                                 disk.line)
    if device == "lun" and not (kind == "block" or (kind == "network" and disk.source_protocol == "iscsi")):
        raise XMLValidationError("disk device='lun' is only valid for block type disk source", disk.line)
    for enc in (disk.encryption, disk.source_encryption):
        if enc is None:
            continue
        if enc.engine in (None, "qemu") and enc.format == "luks2":
            raise XMLValidationError("luks2 is currently not supported by the qemu encryption engine", enc.line)
        if enc.engine == "librbd" and not (kind == "network" and disk.source_protocol == "rbd"):
            raise XMLValidationError("librbd encryption is supported only with RBD backed disks", enc.line)
    if disk.driver_io == "native" and disk.driver_cache not in ("none", "directsync"):
        # qemuValidateDomainDeviceDefDiskFrontend: Linux AIO needs O_DIRECT
        raise XMLConfigError("io='native' needs either no disk cache or directsync cache mode", disk.line)
    if disk.readonly and device == "disk" and bus in ("ide", "sata"):
        # qemuValidateDomainDeviceDefDiskFrontend: QEMU has no read-only IDE/SATA hard disk
        raise XMLConfigError(f"readonly {bus} disks are not supported", disk.line)
    if kind == "dir":  # QEMU's vvfat: a FAT image of the directory, never written
        if disk.driver_type != "fat":
            raise XMLConfigError("storage type 'dir' requires use of storage format 'fat'", disk.line)
        if not disk.readonly and device != "cdrom":
            raise XMLConfigError("virtual FAT storage can't be accessed in read-write mode", disk.line)
    if disk.transient:  # in libvirt's order: a CD-ROM is read-only, so that is what it is told
        if disk.readonly or device == "cdrom":
            raise XMLValidationError(f"transient disk '{dev}' must not be read-only", disk.line)
        if kind != "file":
            raise XMLValidationError(f"transient disk supported only with 'file' type ({dev})", disk.line)
        if device != "disk":
            raise XMLValidationError(f"transient disk supported only with 'disk' type ({dev})", disk.line)


def check_boot_order(dom: Domain) -> None:
    """virDomainDefParseBootOptions: ``<boot order>`` on devices excludes ``<os><boot dev>``."""
    if dom.os is not None and dom.os.boot_devs and any(getattr(d, "boot_order", None) for d in dom.all_devices()):
        raise XMLValidationError("per-device boot elements cannot be used together with os/boot elements",
                                 dom.os.line)


def check_loader(dom: Domain) -> None:
    """virDomainDefOSValidate: with autoselection a loader may only wish for secure boot and
    names no NVRAM template, BIOS has no NVRAM; without it a loader needs its path; UEFI
    (autoselected or a pflash loader) on x86 needs ACPI (qemuValidateDomainDefBoot)."""
    os_ = dom.os
    if os_ is None:
        return
    loader = os_.loader
    if os_.firmware is not None and loader is not None:
        for name, given in (("readonly", loader.readonly is not None), ("type", bool(loader.type or loader.path)),
                            ("secure", loader.secure is False)):
            if given:
                raise XMLValidationError(f"loader attribute '{name}' cannot be specified when firmware "
                                         "autoselection is enabled", loader.line)
    if os_.firmware is not None and os_.nvram is not None and os_.nvram.template:
        raise XMLValidationError("nvram template cannot be specified when firmware autoselection is enabled",
                                 os_.nvram.line)
    if os_.firmware == "bios" and os_.nvram is not None:
        raise XMLValidationError("firmware type 'bios' does not support nvram", os_.nvram.line)
    if os_.firmware is None and loader is not None and not loader.path:
        raise XMLValidationError("no loader path specified and firmware auto selection disabled", loader.line)
    uefi = os_.firmware == "efi" or (loader is not None and loader.type == "pflash")
    if uefi and not (dom.features is not None and dom.features.acpi):
        raise XMLValidationError("UEFI requires ACPI on this architecture", os_.line)


def check_qemu_define(dom: Domain) -> None:
    """The QEMU driver's validation at define (qemuValidateDomainDef and the generic rules it
    shares), for what the argv builder used to find only at start."""
    check_boot_order(dom)
    check_loader(dom)
    for disk in dom.devices.disks:
        check_disk_rules(disk)
    gfx = dom.devices.graphics
    for g in gfx:  # qemuValidateDomainDefGraphics
        if g.type == "egl-headless" and any(o.type not in ("vnc", "spice", "egl-headless") for o in gfx):
            raise XMLValidationError("graphics type 'egl-headless' is only supported with one of: 'vnc', 'spice' "
                                     "graphics types", g.line)
    for v in dom.devices.videos:  # qemuValidateDomainDeviceDefVideo
        if v.model_type == "ramfb" and v.address is not None:
            raise XMLValidationError("address not supported for video type ramfb", v.line)
    f = dom.features
    if f is not None and f.smm_tseg is not None and f.smm and not is_q35(dom):  # qemuValidateDomainDefFeatures
        raise XMLValidationError("SMM TSEG is only supported with q35 machine type", f.line)
