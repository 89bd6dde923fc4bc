"""Changing host devices as libvirt's node device and QEMU drivers do, on what pyvirtd has.

libvirt creates two kinds of devices: vHBAs (a scsi_host with fc_host under a vport-capable HBA)
and mediated devices (under a parent with the requested mdev type).  pyvirtd's devices come from
sysfs (daemon.hostdevs: the computer, PCI functions, network interfaces): none is a vport-capable
HBA, so a vHBA is refused with libvirt's own words about its parent; a mediated device is
refused with libvirt's frame naming the missing type where the parent has none, and refused as
not implemented where it has one (pyvirt does not drive mdevctl).  Every listed device is
present and transient, so start, undefine and autostart give libvirt's answers for such devices.

PCI passthrough (detach/reattach/reset): libvirt binds a function to vfio-pci.  pyvirtd does not
rebind host drivers (on a host without VFIO: libvirt's refusal; elsewhere the administrator binds
the function and uses ``<hostdev managed='no'>``, as daemon.hostdev_prep says); a function already
on vfio-pci is detached and reset already (libvirt does nothing more for it either).
Nothing here writes to sysfs.
"""

from __future__ import annotations

import os
from pathlib import Path

from pyvirt.api import ErrorCode, ErrorDomain, NodeDeviceInfo, PyvirtError
from pyvirt.daemon import hostdevs

VFIO = Path("/dev/vfio/vfio")
NEW = "new device"  # libvirt's name for a device not created yet, in its messages


def _error(message: str, code: int) -> PyvirtError:
    return PyvirtError(message, code, ErrorDomain.NODEDEV)


def _unsupported_type() -> PyvirtError:
    return _error("Operation not supported: Unsupported device type", ErrorCode.OPERATION_UNSUPPORTED)


def _parse(xml: str, validate: bool) -> object:
    from pyvirt.api import check_schema
    from pyvirt.xml.errors import XMLError
    from pyvirt.xml.libxml_report import URLS
    from pyvirt.xml.safe import safe_parse

    if validate:
        check_schema(xml, "nodedev", ErrorDomain.NODEDEV)
    try:
        root = safe_parse(xml, URLS["device"])
    except XMLError as exc:
        report = getattr(exc, "report", None)  # malformed: libvirt's whole catchXMLError text
        raise _error(report or f"XML error: {exc.message}", ErrorCode.XML_DETAIL if report else ErrorCode.XML_ERROR
                     ) from None
    if root.tag != "device":
        raise _error(f"XML error: expecting root element of 'device', not '{root.tag}'", ErrorCode.XML_ERROR)
    if root.find("capability") is None:
        raise _error(f"internal error: no device capabilities for '{NEW}'", ErrorCode.INTERNAL_ERROR)
    return root


def create(xml: str, define: bool = False, validate: bool = False, sys: Path = hostdevs.SYS) -> NodeDeviceInfo:
    """virNodeDeviceCreateXML / virNodeDeviceDefineXML (`define`); `validate`: against libvirt's
    schema first, where it is installed (VALIDATE flag)."""
    root = _parse(xml, validate)
    devices = hostdevs.node_devices(sys)
    parent = root.findtext("parent")  # type: ignore[attr-defined]
    if root.find("capability[@type='scsi_host']") is not None and not define:  # type: ignore[attr-defined]
        if root.find("capability[@type='scsi_host']/capability[@type='fc_host']") is None:  # type: ignore[attr-defined]
            raise _error("internal error: Device is not a fibre channel HBA", ErrorCode.INTERNAL_ERROR)
        if parent is None:
            raise _error("internal error: Could not find any vport capable device", ErrorCode.INTERNAL_ERROR)
        if parent not in devices:
            raise _error(f"internal error: Could not find parent device for '{NEW}'", ErrorCode.INTERNAL_ERROR)
        raise _error(f"internal error: Parent device {parent} is not capable of vport operations",
                     ErrorCode.INTERNAL_ERROR)
    mdev = root.find("capability[@type='mdev']")  # type: ignore[attr-defined]
    if mdev is None:
        raise _error("unsupported configuration: Unsupported device type", ErrorCode.CONFIG_UNSUPPORTED)
    kind = mdev.find("type")
    type_id = kind.get("id") if kind is not None else None
    if not type_id:
        raise _error(f"XML error: missing type id attribute for '{NEW}'", ErrorCode.XML_ERROR)
    if parent is None:
        raise _error("XML error: cannot create a mediated device without a parent", ErrorCode.XML_ERROR)
    if parent not in devices:
        raise _error(f"internal error: Could not find parent device for '{NEW}'", ErrorCode.INTERNAL_ERROR)
    verb = "define" if define else "start"
    types = devices[parent][2] / "mdev_supported_types"
    if not (types / type_id).is_dir():
        raise _error(f"internal error: Unable to {verb} mediated device '{NEW}': parent device '{parent}' has no "
                     f"mediated device type '{type_id}'", ErrorCode.INTERNAL_ERROR)
    raise _error(f"Operation not supported: Unable to {verb} mediated device '{NEW}': pyvirt does not create "
                 "mediated devices (libvirt does it through mdevctl)", ErrorCode.OPERATION_UNSUPPORTED)


def destroy(name: str, sys: Path = hostdevs.SYS) -> None:
    """nodeDeviceDestroy: only vHBAs and mediated devices can be; pyvirtd lists neither."""
    hostdevs.lookup_node_device(name, sys)
    raise _unsupported_type()


def undefine(name: str, sys: Path = hostdevs.SYS) -> None:
    dev = hostdevs.lookup_node_device(name, sys)
    if not dev.persistent:
        raise _error(f"Requested operation is not valid: Node device '{name}' is not defined",
                     ErrorCode.OPERATION_INVALID)
    raise _unsupported_type()


def start(name: str, sys: Path = hostdevs.SYS) -> None:
    dev = hostdevs.lookup_node_device(name, sys)
    if dev.active:
        raise _error("Requested operation is not valid: Device is already active", ErrorCode.OPERATION_INVALID)
    raise _unsupported_type()


def set_autostart(name: str, autostart: bool, sys: Path = hostdevs.SYS) -> None:
    dev = hostdevs.lookup_node_device(name, sys)
    if not dev.persistent:
        raise _error("Requested operation is not valid: cannot set autostart for transient device",
                     ErrorCode.OPERATION_INVALID)
    if bool(dev.autostart) != autostart:
        raise _unsupported_type()


def _pci(name: str, sys: Path) -> Path:
    """The sysfs directory of a PCI function, or libvirt's "not a PCI device"."""
    found = hostdevs.node_devices(sys).get(name)
    if found is None:
        hostdevs.lookup_node_device(name, sys)  # libvirt's "no node device" error
    if found is None or found[1] != "pci":
        raise _error(f"invalid argument: device {name} is not a PCI device", ErrorCode.INVALID_ARG)
    return found[2]


def _driver(path: Path) -> str:
    link = path / "driver"
    return os.path.basename(os.readlink(link)) if link.is_symlink() else ""


def detach(name: str, driver: str | None = None, sys: Path = hostdevs.SYS, vfio: Path = VFIO) -> None:
    """qemuNodeDeviceDetachFlags' checks, then: already on vfio-pci is detached; anything else is
    refused (pyvirt does not rebind host drivers)."""
    driver = driver or "vfio"
    if driver not in ("vfio", "kvm"):
        raise _error(f"invalid argument: unknown driver name '{driver}'", ErrorCode.INVALID_ARG)
    if driver == "kvm":
        raise _error("unsupported configuration: KVM device assignment is no longer supported on this system",
                     ErrorCode.CONFIG_UNSUPPORTED)
    if not vfio.exists():
        raise _error("unsupported configuration: VFIO device assignment is currently not supported on this system",
                     ErrorCode.CONFIG_UNSUPPORTED)
    path = _pci(name, sys)
    bound = _driver(path)
    if bound != "vfio-pci":
        raise _error(f"Operation not supported: pyvirt does not rebind host drivers: {name} is bound to "
                     f"'{bound or 'no driver'}'; bind it to vfio-pci yourself and use <hostdev managed='no'>",
                     ErrorCode.OPERATION_UNSUPPORTED)


def reattach(name: str, sys: Path = hostdevs.SYS) -> None:
    """A function not on vfio-pci is attached to its driver already; one on vfio-pci is refused
    (pyvirt does not rebind host drivers)."""
    path = _pci(name, sys)
    if _driver(path) == "vfio-pci":
        raise _error(f"Operation not supported: pyvirt does not rebind host drivers: {name} stays bound to "
                     "vfio-pci; unbind it yourself", ErrorCode.OPERATION_UNSUPPORTED)


def reset(name: str, sys: Path = hostdevs.SYS) -> None:
    """virPCIDeviceReset skips functions on vfio-pci (the kernel resets them); pyvirt resets no
    other (a reset of a function its host driver uses would pull it from under that driver)."""
    path = _pci(name, sys)
    bound = _driver(path)
    if bound != "vfio-pci":
        raise _error(f"Operation not supported: pyvirt resets only PCI devices bound to vfio-pci: {name} is bound "
                     f"to '{bound or 'no driver'}'", ErrorCode.OPERATION_UNSUPPORTED)
