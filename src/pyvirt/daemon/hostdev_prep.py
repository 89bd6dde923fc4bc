"""What the host must settle before QEMU gets a ``<hostdev>``: where a USB device given by
vendor/product sits now, and that a PCI function is ready for VFIO.

libvirt finds a USB device by vendor/product in sysfs at every start (virUSBDeviceFindByVendor:
the bus/device numbers change when it is replugged) and refuses an ambiguous match; it binds a
``managed='yes'`` PCI function to vfio-pci itself.  pyvirt does the first and refuses the second
by name: detaching host devices is not implemented, so the administrator binds the function to
vfio-pci and uses ``managed='no'``.  Reads are bounded; nothing here writes to sysfs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError
from pyvirt.daemon.hostdevs import read_sysfs as _read

USB_DEVICES = Path("/sys/bus/usb/devices")
PCI_DEVICES = Path("/sys/bus/pci/devices")
SCSI_DEVICES = Path("/sys/bus/scsi/devices")
VHOST_SCSI = "/dev/vhost-scsi"


def _error(msg: str, code: ErrorCode = ErrorCode.OPERATION_FAILED) -> PyvirtError:
    return PyvirtError(msg, code, ErrorDomain.QEMU)


def _hex_id(value: str) -> int:
    return int(value, 16) if not value.lower().startswith("0x") else int(value, 0)


def resolve_usb(dom: Any, root: Path = USB_DEVICES) -> dict[str, tuple[int, int]]:
    """``{alias: (bus, device)}`` for every USB hostdev named by vendor/product (one match each)."""
    out: dict[str, tuple[int, int]] = {}
    wanted = [h for h in dom.devices.hostdevs if h.type == "usb" and h.source_address is None]
    if not wanted:
        return out
    try:
        entries = sorted(os.listdir(root))
    except OSError:
        entries = []
    for h in wanted:
        vendor, product = _hex_id(h.source_vendor), _hex_id(h.source_product)
        found = []
        for name in entries:
            d = root / name
            v, p = _read(d / "idVendor"), _read(d / "idProduct")
            if v and p and int(v, 16) == vendor and int(p, 16) == product:
                found.append((int(_read(d / "busnum") or 0), int(_read(d / "devnum") or 0)))
        if not found:
            raise _error(f"Did not find USB device {vendor:04x}:{product:04x} (<hostdev> line {h.line})",
                         ErrorCode.INTERNAL_ERROR)
        if len(found) > 1:
            raise _error(f"Found multiple USB devices for {vendor:04x}:{product:04x}, use <address> to specify "
                         f"one (<hostdev> line {h.line})")
        out[h.alias or ""] = found[0]
    return out


def resolve_scsi(dom: Any, root: Path = SCSI_DEVICES, *, strict: bool = True) -> dict[str, str]:
    """``{alias: '/dev/sgN'}`` for every local SCSI hostdev: the SCSI generic node sysfs lists
    for its adapter and bus/target/unit (libvirt's virSCSIDeviceGetSgName).  *strict*: a LUN
    the host does not have is an error (at start), else it is left out."""
    from pyvirt.qemu.argv_hostdev_scsi import host_address

    out: dict[str, str] = {}
    for h in dom.devices.hostdevs:
        if h.type != "scsi" or h.source_protocol is not None or not h.source_adapter or h.source_address is None:
            continue
        where = host_address(h)
        try:
            names = sorted(os.listdir(root / where / "scsi_generic"))
        except OSError:
            names = []
        if names:
            out[h.alias or ""] = f"/dev/{names[0]}"
        elif strict:
            raise _error(f"SCSI device {where} ({h.source_adapter}) not found on this host, or it has no "
                         f"SCSI generic node (<hostdev> line {h.line})", ErrorCode.INTERNAL_ERROR)
    return out


def open_vhost_scsi(dom: Any, device: str = VHOST_SCSI) -> dict[str, int]:
    """``{alias: fd}``: /dev/vhost-scsi opened for each vhost-scsi hostdev; QEMU connects it to the
    target named by the wwpn (libvirt's qemuProcessOpenVhostSCSI)."""
    out: dict[str, int] = {}
    try:
        for h in dom.devices.hostdevs:
            if h.type == "scsi_host":
                try:
                    out[h.alias or ""] = os.open(device, os.O_RDWR | os.O_CLOEXEC)
                except OSError as exc:
                    raise _error(f"cannot open {device} for <hostdev type='scsi_host'> (line {h.line}): "
                                 f"{exc.strerror} (is the vhost_scsi module loaded?)") from None
    except BaseException:
        for fd in out.values():
            os.close(fd)
        raise
    return out


def tpm_cancel_path(device: str, sys_root: Path = Path("/sys/class")) -> str:
    """The sysfs file that cancels a host TPM's command (libvirt's virTPMCreateCancelPath)."""
    name = os.path.basename(device)
    for cls in ("tpm", "misc"):
        path = sys_root / cls / name / "device" / "cancel"
        if path.exists():
            return str(path)
    raise _error(f"operation failed: No usable sysfs TPM cancel file could be found for {device}")


def open_tpm_passthrough(dom: Any, sys_root: Path = Path("/sys/class")) -> dict[str, tuple[int, int]]:
    """``{alias: (tpm fd, cancel fd)}`` for each ``<tpm><backend type='passthrough'>``: the host
    TPM device (``/dev/tpm0`` when the XML names none) and its cancel file, opened by pyvirtd."""
    out: dict[str, tuple[int, int]] = {}
    try:
        for t in dom.devices.tpms:
            if t.backend_type != "passthrough":
                continue
            device = t.backend_device_path or "/dev/tpm0"
            cancel = tpm_cancel_path(device, sys_root)
            try:
                fd = os.open(device, os.O_RDWR | os.O_CLOEXEC)
            except OSError as exc:
                raise _error(f"cannot open the host TPM {device}: {exc.strerror}") from None
            try:
                cfd = os.open(cancel, os.O_WRONLY | os.O_CLOEXEC)
            except OSError as exc:
                os.close(fd)
                raise _error(f"cannot open {cancel}: {exc.strerror}") from None
            out[t.alias or "tpm0"] = (fd, cfd)
    except BaseException:
        for pair in out.values():
            for fd in pair:
                os.close(fd)
        raise
    return out


def pci_functions(dom: Any) -> list[tuple[str, bool, str]]:
    """(host PCI name, managed, what) of every host PCI function QEMU drives through VFIO: PCI
    host devices and the controllers of NVMe disks (QEMU's userspace NVMe driver)."""
    out = []
    for h in dom.devices.hostdevs:
        if h.type == "pci" and h.source_address is not None:
            a = h.source_address
            out.append((f"{a.domain or 0:04x}:{a.bus:02x}:{a.slot:02x}.{a.function:x}", bool(h.managed),
                        "<hostdev type='pci' managed='yes'>"))
    for d in dom.devices.disks:
        if d.type == "nvme" and d.source_pci is not None:
            a = d.source_pci
            managed = d.source_managed is not False  # libvirt's default for an NVMe controller: managed
            out.append((f"{a.domain or 0:04x}:{a.bus:02x}:{a.slot:02x}.{a.function:x}", managed,
                        "<disk type='nvme'> with <source managed='yes'> (the default)"))
    return out


def check_pci(dom: Any, root: Path = PCI_DEVICES) -> None:
    """Refuse what pyvirt cannot prepare: a managed PCI function (it would have to detach it from its
    host driver), or an unmanaged one that is not bound to vfio-pci."""
    for name, managed, what in pci_functions(dom):
        if managed:
            raise _error(f"unsupported configuration: {what} ({name}): pyvirt does not "
                         "detach host PCI devices; bind the device to vfio-pci and use managed='no'",
                         ErrorCode.CONFIG_UNSUPPORTED)
        if not (root / name).exists():
            raise _error(f"PCI device {name} not found on this host", ErrorCode.INTERNAL_ERROR)
        driver = root / name / "driver"
        if not driver.exists() or os.path.basename(os.path.realpath(driver)) != "vfio-pci":
            raise _error(f"PCI device {name} is not bound to vfio-pci (needed with managed='no')")
