"""Shared helpers for the argv builder: the build context, PCI/bus naming and refusals.

Kept apart from :mod:`pyvirt.qemu.argv` so the per-device modules can import them without
import cycles.  Everything here is pure: no files are opened, no processes run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pyvirt.xml.errors import XMLError, XMLUnsupportedError, XMLValidationError

from .escape import json_value, kv_option

#: QEMU version assumed when no probed :class:`~pyvirt.qemu.caps.EmulatorCaps` is given.
DEFAULT_QEMU_VERSION = (7, 2, 0)
#: libvirt's test-mode stand-in for a file descriptor it passes to QEMU.
TEST_FD = 1729
#: libvirt's test-mode stand-ins for a vsock's vhost fd and the CID picked for ``auto='yes'``
TEST_VSOCK_FD, TEST_VSOCK_CID = 6789, 42
#: libvirt's test-mode stand-in for the swtpm socket (qemuxml2argvtest's testUpdateQEMUTPMHostCaps mock)
TEST_SWTPM_SOCKET = "/dev/test"


@dataclass
class RuntimePaths:
    """Run-time plumbing pyvirtd adds to a command line (absent: libvirt-style debug output).

    ``monitor_fd`` is the listening QMP socket pyvirtd passes to QEMU; ``domain_dir`` the private
    per-guest directory (swtpm/virtiofsd sockets, generated channel sockets); ``tap_fds`` maps an
    interface alias (``net0``) to the tap fds pyvirtd opened for it, ``vhost_fds`` likewise.
    """

    monitor_fd: int = TEST_FD
    pidfile: str | None = None
    domain_dir: str | None = None
    channel_dir: str | None = None
    tap_fds: dict[str, list[int]] = field(default_factory=dict)
    vhost_fds: dict[str, list[int]] = field(default_factory=dict)
    vnc_port: int | None = None
    spice_port: int | None = None
    tpm_socket: dict[str, str] = field(default_factory=dict)
    virtiofs_socket: dict[str, str] = field(default_factory=dict)
    host_cdroms: frozenset[str] = frozenset({"/dev/cdrom"})
    #: huge page size (KiB) -> this guest's directory on a hugetlbfs of that size
    hugepage_dirs: dict[int, str] = field(default_factory=dict)
    default_hugepage_kib: int = 2048
    #: qemu.conf's memory_backing_dir for this guest: where file-backed guest RAM (``<source
    #: type='file'/>``, an explicit access mode without memfd or huge pages) gets one file per
    #: backend; None: such RAM is refused
    memory_backing_dir: str | None = None
    #: the host's NUMA nodes (<numatune> nodesets are checked against them); None: not known
    host_numa_nodes: frozenset[int] | None = None
    #: qemu.conf's spice_tls_x509_cert_dir when spice_tls is on (None: SPICE TLS refused)
    spice_tls_x509_dir: str | None = None
    #: qemu.conf's spice_password is set (the harness's is): a SPICE display without a passwd
    #: of its own keeps QEMU's ticketing; unset, libvirt turns ticketing off for it
    spice_password: bool = False
    #: the host's DRM render node for OpenGL displays when the XML names none (None: no GPU)
    render_node: str | None = None
    #: a USB <hostdev> given by vendor/product -> the (bus, device) the host has it on now
    usb_hostdevs: dict[str, tuple[int, int]] = field(default_factory=dict)
    #: a local SCSI <hostdev> -> its SCSI generic node (/dev/sgN) on this host now
    scsi_hostdevs: dict[str, str] = field(default_factory=dict)
    #: a vhost-scsi <hostdev type='scsi_host'> -> the open /dev/vhost-scsi pyvirtd passes to QEMU
    vhost_scsi_fds: dict[str, int] = field(default_factory=dict)
    #: a passthrough <tpm> -> the open host TPM device and its sysfs cancel file
    tpm_passthrough_fds: dict[str, tuple[int, int]] = field(default_factory=dict)
    #: the open /dev/vhost-vsock pyvirtd passes to QEMU, and the guest CID it set on it
    vsock_fd: int | None = None
    vsock_cid: int | None = None
    #: video alias -> QEMU's end of the socket pair to its vhost-user-gpu process
    vhost_user_gpu_fds: dict[str, int] = field(default_factory=dict)
    #: qemu.conf's NBD TLS: on for NBD disks without a tls attribute; the client certificates'
    #: directory (None: TLS for NBD refused); verify the server; a key password secret to read
    nbd_tls_default: bool = False
    nbd_tls_x509_dir: str | None = None
    nbd_tls_verify: bool = True
    nbd_tls_secret: bool = False
    #: qemu.conf's chardev TLS, likewise for TCP character devices (the server side verifies
    #: its clients as chardev_tls_x509_verify says; a client always verifies its server)
    chardev_tls_default: bool = False
    chardev_tls_x509_dir: str | None = None
    chardev_tls_verify: bool = True
    chardev_tls_secret: bool = False
    #: numad's advice for ``placement='auto'`` (the host nodes the guest's memory and vCPUs go to);
    #: None: not asked (such a guest is refused), test mode: the harness's mocked nodes 0-3
    auto_nodeset: frozenset[int] | None = None
    #: the features the domain's accelerator gives a CPU (libvirt's host CPU model for the domain
    #: type: QEMU's ``max`` under TCG), in libvirt's names, which a custom CPU's
    #: ``policy='optional'`` features are resolved against; None: not known (they are left off)
    host_cpu_features: frozenset[str] | None = None
    #: the CPU a host-model guest gets under TCG, as domcapabilities offers it (a
    #: :class:`pyvirt.cpudef.CpuDef`: QEMU's max named by the closest model, with features);
    #: None: not known (QEMU's ``max`` is passed, the same features under another name)
    host_model: Any = None
    #: where a UEFI guest's own variable store goes when its XML names none (qemu.conf's nvram dir)
    nvram_dir: str = "/var/lib/pyvirt/qemu/nvram"
    test_mode: bool = False

    @classmethod
    def debug(cls, name: str) -> RuntimePaths:
        """libvirt's qemuxml2argv test-mode constants, used when the caller gives no runtime."""
        base = f"/tmp/lib/domain--1-{name}"
        # libvirt's test hugetlbfs mounts, guest directory named by its short name
        pages = {size: f"{mount}/libvirt/qemu/-1-{name[:20]}"
                 for size, mount in ((2048, "/dev/hugepages2M"), (1048576, "/dev/hugepages1G"))}
        return cls(monitor_fd=TEST_FD, domain_dir=base, channel_dir=f"/tmp/channel/domain--1-{name}",
                   hugepage_dirs=pages, host_numa_nodes=frozenset(range(8)),
                   memory_backing_dir=f"/var/lib/libvirt/qemu/ram/-1-{name[:20]}",
                   # the harness's qemu.conf (spice_tls=1) and mocked render node
                   spice_tls_x509_dir="/etc/pki/libvirt-spice", spice_password=True,
                   render_node="/dev/dri/foo",
                   nvram_dir="/var/lib/libvirt/qemu/nvram", test_mode=True,
                   auto_nodeset=frozenset(range(4)),  # the harness's mocked numad advice
                   # the harness's nbd_tls_x509_cert_dir and nbd_tls_x509_secret_uuid
                   nbd_tls_x509_dir="/etc/pki/libvirt-nbd/dummy,path", nbd_tls_secret=True,
                   # the harness's chardev_tls_x509_cert_dir (chardev_tls itself off)
                   chardev_tls_x509_dir="/etc/pki/libvirt-chardev")


def unsupported(what: str, line: int | None = None) -> XMLUnsupportedError:
    """The error for anything the argv builder cannot translate faithfully."""
    return XMLUnsupportedError(f"unsupported by pyvirt's QEMU driver: {what}", line)


class Argv:
    """An argv under construction: options appended in libvirt's order."""

    def __init__(self, binary: str) -> None:
        self.args: list[str] = [binary]
        #: ``<qemu:override>``: device id -> property changes (argv_namespace.override_values)
        self.overrides: dict[str, list[tuple[str, Any]]] = {}

    def opt(self, name: str, value: str | None = None) -> None:
        self.args.append(name)
        if value is not None:
            self.args.append(value)

    def kv(self, name: str, head: Any, pairs: Any = ()) -> None:
        """``name head,k=v,...`` through the single comma-escaping function."""
        self.opt(name, kv_option(head, pairs))

    def json(self, name: str, props: dict[str, Any]) -> None:
        self.opt(name, json_value(props))

    def device(self, props: dict[str, Any]) -> None:
        ops = self.overrides.get(props.get("id") or "")
        if ops:  # the user's <qemu:override> of this device's frontend, after libvirt's own set
            from .argv_namespace import apply_overrides

            apply_overrides(props, ops)
        self.json("-device", props)


def virtio_driver(base: str, model: str | None) -> str:
    """A virtio PCI device's QEMU driver for a ``model='virtio-transitional'`` or
    ``'virtio-non-transitional'`` device: ``<base>-transitional`` / ``<base>-non-transitional``
    (libvirt's qemuBuildVirtioDevGetConfig), plain ``base`` otherwise."""
    if model in ("virtio-transitional", "virtio-non-transitional"):
        return f"{base}-{model.split('-', 1)[1]}"
    return base


@dataclass
class Ctx:
    """What every device builder needs to know about the guest and the host."""

    domain: Any
    caps: Any
    runtime: RuntimePaths
    q35: bool
    version: tuple[int, int, int]
    aliases: dict[int, str] = field(default_factory=dict)
    boot_index: dict[int, int] = field(default_factory=dict)
    virtio_done: set[int] = field(default_factory=set)
    #: id(address) -> <acpi index> of the device owning that address; pci_props consumes them
    acpi_indexes: dict[int, int] = field(default_factory=dict)
    #: pr-manager-helper objects already on the command line (the managed one is shared)
    pr_managers: set[str] = field(default_factory=set)
    #: the next ``-add-fd set=`` number (libvirt numbers a guest's fd sets from 0)
    next_fdset: int = 0

    def virtio(self, dev: Any, props: dict[str, Any]) -> None:
        """Add the ``<driver iommu ats packed page_per_vq>`` options of a virtio device (libvirt's
        qemuBuildVirtioOptionsProps) and note that this device's options reached QEMU."""
        self.virtio_done.add(id(dev))
        for name, key in VIRTIO_OPTIONS:
            value = getattr(dev, name, None)
            if value is not None:
                props[key] = value

    def alias(self, dev: Any) -> str:
        return self.aliases[id(dev)]

    def pci_bus_name(self, index: int) -> str:
        if index == 0:
            return "pcie.0" if self.q35 else "pci.0"
        return f"pci.{index}"

    def audio_id(self, wanted: int | None = None) -> str:
        audios = self.domain.devices.audios
        if wanted is not None:
            if not any(a.id == wanted for a in audios):  # qemuGetAudioIDString
                raise XMLError("unable to find audio backend for sound device")
            return f"audio{wanted}"
        if not audios:  # an SDL display left the choice to QEMU_AUDIO_DRV, which pyvirtd never reads
            raise XMLError("unable to find audio backend for sound device")
        return f"audio{audios[0].id or 1}"


VIRTIO_OPTIONS = (("driver_iommu", "iommu_platform"), ("driver_ats", "ats"), ("driver_packed", "packed"),
                  ("driver_page_per_vq", "page-per-vq"))


def collect_acpi_indexes(ctx: Ctx) -> None:
    """Note every device's <acpi index>; :func:`pci_props` writes it as ``acpi-index``.  Two
    devices with one index are refused here, when the guest starts (libvirt 9.0 defines them)."""
    seen: set[int] = set()
    for dev in ctx.domain.all_devices():
        index = getattr(dev, "acpi_index", None)
        if index is not None:
            if index in seen:
                raise XMLValidationError(f"non unique 'acpi index' '{index}'", getattr(dev, "line", None))
            seen.add(index)
            ctx.acpi_indexes[id(dev.address)] = index  # type: ignore[attr-defined]


def check_acpi_indexes(ctx: Ctx) -> None:
    """An <acpi index> no PCI device consumed sits on a device QEMU cannot give one."""
    for dev in ctx.domain.all_devices():
        if getattr(dev, "acpi_index", None) is not None and id(dev.address) in ctx.acpi_indexes:  # type: ignore
            raise unsupported("<acpi index> on a device that is not a PCI device", getattr(dev, "line", None))


def check_virtio_options(ctx: Ctx) -> None:
    """Refuse virtio options on a device whose builder did not apply them (a non-virtio model)."""
    for dev in ctx.domain.all_devices():
        if id(dev) in ctx.virtio_done:
            continue
        for name, _key in VIRTIO_OPTIONS:
            if getattr(dev, name, None) is not None:
                attr_name = name.removeprefix("driver_")
                raise unsupported(f"<driver {attr_name}=...> on a non-virtio {type(dev).__name__.lower()}",
                                  getattr(dev, "line", None))


def auto_placement(domain: Any) -> bool:
    """Whether numad must advise host nodes: ``placement='auto'`` of <vcpu> or <numatune><memory>."""
    return domain.vcpu_placement == "auto" or (domain.numatune is not None
                                               and domain.numatune.memory_placement == "auto")


def pci_props(ctx: Ctx, address: Any, what: str) -> dict[str, Any]:
    """``bus``/``multifunction``/``addr`` for a PCI device, from its ``<address>``."""
    if address is None:
        return {}
    if address.type != "pci":
        raise unsupported(f"{what} with address type {address.type!r}", address.line)
    if address.domain:
        raise unsupported(f"{what} on PCI domain {address.domain}", address.line)
    props: dict[str, Any] = {"bus": ctx.pci_bus_name(address.bus or 0)}
    if address.multifunction is not None:  # an explicit 'off' is passed on too, as libvirt does
        props["multifunction"] = address.multifunction
    addr = f"0x{address.slot or 0:x}"
    if address.function:
        addr += f".0x{address.function:x}"
    props["addr"] = addr
    acpi = ctx.acpi_indexes.pop(id(address), None)
    if acpi is not None:
        props["acpi-index"] = acpi
    return props


def iothread_name(ctx: Ctx, iothread: int, what: str, line: int | None) -> str:
    """QEMU's id of I/O thread *iothread* (``iothreadN``), which <iothreadids> must define."""
    if not any(t.id == iothread for t in ctx.domain.iothread_ids):
        raise XMLError(f"{what.capitalize()} iothread '{iothread}' not defined in iothreadid", line)
    return f"iothread{iothread}"


def usb_bus(ctx: Ctx, index: int) -> str:
    """QEMU's name of USB bus *index*: its (non-companion) controller's alias + ``.0``, so a
    user alias (``ua-...``) names the bus as in libvirt; ``usb.0`` when no controller says."""
    from pyvirt.xml.defaults import USB_COMPANIONS

    for c in ctx.domain.devices.controllers:
        if (c.type == "usb" and (c.index or 0) == index and c.master_startport is None
                and c.model not in USB_COMPANIONS and id(c) in ctx.aliases):
            return f"{ctx.aliases[id(c)]}.0"
    return "usb.0" if index == 0 else f"usb{index}.0"


def usb_props(ctx: Ctx, address: Any) -> dict[str, Any]:
    """``bus``/``port`` for a USB device (``usb.0`` is the first controller's bus)."""
    if address is None or address.type != "usb":
        return {}
    props: dict[str, Any] = {"bus": usb_bus(ctx, address.bus or 0)}
    if address.port:
        props["port"] = address.port
    return props
