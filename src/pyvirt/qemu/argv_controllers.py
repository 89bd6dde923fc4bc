"""Controllers: PCI bridges/ports, USB host controllers, SATA/SCSI HBAs, virtio-serial.

Built-in controllers (pci-root/pcie-root, the PIIX IDE, q35's AHCI at 00:1f.2, the ISA FDC)
produce no option: the machine type already has them.
"""

from __future__ import annotations

from typing import Any

from pyvirt.xml.defaults import USB_COMPANIONS
from pyvirt.xml.errors import XMLConfigError, XMLInternalError

from .argv_common import Argv, Ctx, iothread_name, pci_props, unsupported, usb_bus, usb_props, virtio_driver

_USB_DRIVERS = {
    "piix3-uhci": "piix3-usb-uhci", "piix4-uhci": "piix4-usb-uhci", "ehci": "usb-ehci",
    "ich9-ehci1": "ich9-usb-ehci1", "ich9-uhci1": "ich9-usb-uhci1", "ich9-uhci2": "ich9-usb-uhci2",
    "ich9-uhci3": "ich9-usb-uhci3", "vt82c686b-uhci": "vt82c686b-usb-uhci", "pci-ohci": "pci-ohci",
    "nec-xhci": "nec-usb-xhci", "qemu-xhci": "qemu-xhci",
}
_PCI_DRIVERS = {
    "pcie-root-port": "pcie-root-port", "pci-bridge": "pci-bridge", "dmi-to-pci-bridge": "i82801b11-bridge",
    "pcie-to-pci-bridge": "pcie-pci-bridge", "pcie-switch-upstream-port": "x3130-upstream",
    "pcie-switch-downstream-port": "xio3130-downstream", "pci-expander-bus": "pxb", "pcie-expander-bus": "pxb-pcie",
}
_SCSI_DRIVERS = {"virtio-scsi": "virtio-scsi-pci", "lsilogic": "lsi", "lsisas1068": "mptsas1068",
                 "lsisas1078": "megasas", "vmpvscsi": "pvscsi", "am53c974": "am53c974",
                 # libvirt 9.0 writes 'dc-390', a name QEMU never had (its guests fail to start):
                 # pyvirt writes QEMU's own, a deliberate difference (docs/conformance.md)
                 "dc390": "dc390"}


def controller_opts(a: Argv, ctx: Ctx) -> None:
    ctrls = ctx.domain.devices.controllers
    order = ("pci", "usb", "scsi", "ide", "sata", "virtio-serial", "fdc", "ccid")
    for kind in order:
        for c in sorted((c for c in ctrls if c.type == kind), key=lambda c: c.index or 0):
            props = _controller(ctx, c)
            if props is not None:
                a.device(props)
    for c in ctrls:
        if c.type not in order:
            raise unsupported(f"controller type {c.type!r}", c.line)


def _controller(ctx: Ctx, c: Any) -> dict[str, Any] | None:
    idx = c.index or 0
    if c.type == "pci":
        return _pci(ctx, c)
    scsi_only = (c.driver_queues, c.driver_cmd_per_lun, c.driver_max_sectors, c.driver_ioeventfd, c.driver_iothread)
    if c.type != "scsi" and any(v is not None for v in scsi_only):
        raise unsupported(f"<driver> on a {c.type} controller", c.line)
    if c.type == "usb":
        model = c.model
        if model == "none":
            return None
        if model is None:
            model = "qemu-xhci" if ctx.q35 else "piix3-uhci"
        drv = _USB_DRIVERS.get(model)
        if drv is None:
            raise unsupported(f"usb controller model {model!r}", c.line)
        if ctx.caps is not None and ctx.caps.device_types and drv not in ctx.caps.device_types:
            # qemuValidateDomainDeviceDefControllerUSB: a model the probed QEMU was built without
            # (x86's has no VIA southbridge's UHCI)
            raise XMLConfigError(f"USB controller model '{model}' not supported in this QEMU binary", c.line)
        props: dict[str, Any] = {"driver": drv}
        if model in USB_COMPANIONS:
            props["masterbus"] = usb_bus(ctx, idx)
            props["firstport"] = (c.master_startport if c.master_startport is not None
                                  else USB_COMPANIONS[model])
        else:
            props["id"] = ctx.alias(c)
        if c.ports is not None and model in ("qemu-xhci", "nec-xhci"):
            props["p2"] = c.ports
            props["p3"] = c.ports
        elif c.ports is not None:  # qemuBuildUSBControllerDevProps: defined, refused when built
            raise XMLConfigError(f"usb controller type '{model}' doesn't support 'ports' with this QEMU binary",
                                 c.line)
        props.update(pci_props(ctx, c.address, "usb controller"))
        return props
    if c.type == "ide":
        if not ctx.q35 and idx != 0:  # one the disks' addresses implied (a given one is refused at define)
            raise XMLInternalError("Only 1 IDE controller is supported", c.line)
        if ctx.q35 or idx != 0:
            raise unsupported("an IDE controller on this machine", c.line)
        return None
    if c.type == "sata":
        if idx == 0 and ctx.q35:
            return None  # q35's built-in AHCI
        props = {"driver": "ahci", "id": ctx.alias(c)}
        props.update(pci_props(ctx, c.address, "sata controller"))
        return props
    if c.type == "fdc":
        return None
    if c.type == "ccid":  # a USB CCID reader for <smartcard>s (their bus is ALIAS.0)
        props = {"driver": "usb-ccid", "id": ctx.alias(c)}
        props.update(usb_props(ctx, c.address))
        return props
    if c.type == "scsi":
        model = c.model or "lsilogic"
        if model == "ibmvscsi":  # the sPAPR VIO SCSI HBA, on its register (no PCI): what libvirt
            # writes for it on any machine (QEMU x86 has no such device and refuses it at start)
            reg = c.address.reg if c.address is not None and c.address.type == "spapr-vio" else None
            return {"driver": "spapr-vscsi", "id": ctx.alias(c), "reg": reg}
        if model in ("virtio-transitional", "virtio-non-transitional"):
            drv = f"virtio-scsi-pci-{model.split('-', 1)[1]}"
        else:
            drv = _SCSI_DRIVERS.get(model)
        if drv is None:
            raise unsupported(f"scsi controller model {model!r}", c.line)
        props = {"driver": drv}
        virtio = model.startswith("virtio")
        if virtio:
            ctx.virtio(c, props)
        elif any(v is not None for v in scsi_only):
            raise unsupported(f"<driver> options on a {model} SCSI controller (virtio-scsi only)", c.line)
        if c.driver_iothread is not None:
            props["iothread"] = iothread_name(ctx, c.driver_iothread, "controller", c.line)
        props["id"] = ctx.alias(c)
        for key, value in (("num_queues", c.driver_queues), ("cmd_per_lun", c.driver_cmd_per_lun),
                           ("max_sectors", c.driver_max_sectors), ("ioeventfd", c.driver_ioeventfd)):
            if value is not None:
                props[key] = value
        props.update(pci_props(ctx, c.address, "scsi controller"))
        return props
    if c.type == "virtio-serial":
        props = {"driver": virtio_driver("virtio-serial-pci", c.model)}
        ctx.virtio(c, props)
        props["id"] = ctx.alias(c)
        if c.ports is not None:
            props["max_ports"] = c.ports
        if c.vectors is not None:
            props["vectors"] = c.vectors
        props.update(pci_props(ctx, c.address, "virtio-serial controller"))
        return props
    raise unsupported(f"controller type {c.type!r}", c.line)


def _pci(ctx: Ctx, c: Any) -> dict[str, Any] | None:
    model = c.model
    if model in ("pci-root", "pcie-root"):
        if (model == "pcie-root") != ctx.q35:
            raise unsupported(f"{model} on this machine type", c.line)
        return None
    drv = _PCI_DRIVERS.get(model or "")
    if drv is None:
        raise unsupported(f"pci controller model {model!r}", c.line)
    if c.model_name and c.model_name != drv and not (model == "pcie-root-port" and c.model_name == "ioh3420"):
        raise unsupported(f"pci controller <model name='{c.model_name}'>", c.line)
    if c.model_name == "ioh3420":
        drv = "ioh3420"
    props: dict[str, Any] = {"driver": drv}
    if model in ("pcie-root-port", "pcie-switch-downstream-port"):
        slot = c.address.slot if c.address is not None and c.address.slot is not None else 0
        props["port"] = c.target_port if c.target_port is not None else slot
        props["chassis"] = c.target_chassis if c.target_chassis is not None else c.index
    elif model == "pci-bridge":
        props["chassis_nr"] = c.target_chassis_nr if c.target_chassis_nr is not None else c.index
    elif model in ("pci-expander-bus", "pcie-expander-bus"):
        props["bus_nr"] = c.target_bus_nr
    props["id"] = ctx.alias(c)
    if c.target_node is not None:
        props["numa_node"] = c.target_node
    props.update(pci_props(ctx, c.address, f"{model} controller"))
    if c.target_hotplug is not None:
        props["hotplug"] = c.target_hotplug
    return props
