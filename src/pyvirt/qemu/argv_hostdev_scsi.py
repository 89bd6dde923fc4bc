"""SCSI host devices (``<hostdev type='scsi'>``, ``type='scsi_host'``) on the command line.

libvirt 9.0 (qemuBuildHostdevSCSIAttachPrepare, qemuBuildSCSIHostdevDevProps) gives a host
SCSI LUN to the guest as ``scsi-generic`` on the guest's SCSI controller, over a ``-blockdev``
backend node ``libvirt-N-backend`` numbered after every disk node: a local LUN is its SCSI
generic node (``/dev/sgN``, which pyvirtd finds in sysfs at start from the adapter and
bus/target/unit), an iSCSI LUN QEMU's iscsi driver (CHAP credentials as a secret object, as for
network disks).  A vhost-scsi target (``scsi_host``, protocol 'vhost') is ``vhost-scsi-pci`` on
the ``/dev/vhost-scsi`` descriptor pyvirtd opens.  What the host side would have to change
(``sgio='unfiltered'``, ``rawio='yes'``) is refused by name.
"""

from __future__ import annotations

from typing import Any

from pyvirt.xml.errors import XMLError

from .argv_common import Argv, Ctx, unsupported, virtio_driver
from .argv_disks import node_numbers, scsi_bus, secret_file
from .argv_netdisk import net_storage

#: libvirt's test mock for a SCSI LUN's generic node, and for the vhost-scsi descriptor
TEST_SG_DEVICE, TEST_VHOST_SCSI_FD = "/dev/sg0", 3


def scsi_hostdevs(ctx: Ctx) -> list[Any]:
    """The ``<hostdev type='scsi'>`` devices, in document order (their backend nodes' order)."""
    return [h for h in ctx.domain.devices.hostdevs if h.type == "scsi"]


def check(h: Any) -> None:
    """libvirt's rules for a SCSI host device's source, and pyvirt's refusals."""
    if h.sgio == "unfiltered":
        raise unsupported("<hostdev type='scsi' sgio='unfiltered'> (the host's unpriv_sgio setting)", h.line)
    if h.rawio:
        raise unsupported("<hostdev type='scsi' rawio='yes'> (QEMU would need CAP_SYS_RAWIO)", h.line)
    if h.source_protocol == "iscsi":
        if h.source_adapter is not None or h.source_address is not None:
            raise XMLError("an iSCSI <hostdev> takes no <adapter> or <address> in its <source>", h.line)
        return
    if h.source_protocol is not None:
        raise XMLError(f"invalid SCSI host device protocol {h.source_protocol!r}", h.line)
    src = h.source_address
    if not h.source_adapter or src is None or src.target is None or src.unit is None:
        raise XMLError("SCSI host device needs <source><adapter name=> and <address bus= target= unit=>", h.line)
    if not h.source_adapter.startswith("scsi_host") or not h.source_adapter[9:].isdigit():
        raise XMLError(f"invalid SCSI adapter name {h.source_adapter!r} (expected scsi_hostN)", h.line)


def host_address(h: Any) -> str:
    """``H:B:T:U`` of a local SCSI LUN, as sysfs names it."""
    src = h.source_address
    return f"{h.source_adapter[9:]}:{src.bus or 0}:{src.target}:{src.unit}"


def scsi_hostdev_props(a: Argv, ctx: Ctx, h: Any) -> dict[str, Any]:
    """Write the backend node of a SCSI host device; return its ``scsi-generic`` properties."""
    check(h)
    hostdevs = scsi_hostdevs(ctx)
    node = f"libvirt-{len(node_numbers(ctx.domain.devices.disks)) + 1 + hostdevs.index(h)}-backend"
    alias = ctx.alias(h)
    backend: dict[str, Any]
    if h.source_protocol == "iscsi":
        backend = net_storage(h)
        if h.source_auth is not None:
            secret_id = f"{node}-secret0"
            a.json("-object", {"qom-type": "secret", "id": secret_id, "format": "raw",
                               "file": secret_file(ctx.runtime.domain_dir, alias, "auth")})
            if h.source_auth.username is not None:
                backend["user"] = h.source_auth.username
            backend["password-secret"] = secret_id
    else:
        sg = TEST_SG_DEVICE if ctx.runtime.test_mode else ctx.runtime.scsi_hostdevs.get(alias)
        if sg is None:
            raise unsupported(f"SCSI host device {host_address(h)}: no SCSI generic node found on this host",
                              h.line)
        backend = {"driver": "host_device", "filename": sg}
    backend["node-name"] = node
    backend["read-only"] = bool(h.readonly)
    a.json("-blockdev", backend)
    props: dict[str, Any] = {"driver": "scsi-generic", "drive": node, "id": alias}
    boot = ctx.boot_index.get(id(h))
    if boot is not None:
        props["bootindex"] = boot
    props.update(scsi_bus(ctx, h))
    return props


def vhost_scsi_props(ctx: Ctx, h: Any) -> dict[str, Any]:
    """``vhost-scsi-pci`` for a ``<hostdev type='scsi_host'>`` (the address is added by the caller)."""
    if h.source_protocol != "vhost" or not h.source_wwpn:
        raise XMLError("a scsi_host <hostdev> needs <source protocol='vhost' wwpn=...>", h.line)
    alias = ctx.alias(h)
    fd = TEST_VHOST_SCSI_FD if ctx.runtime.test_mode else ctx.runtime.vhost_scsi_fds.get(alias)
    if fd is None:
        raise unsupported("<hostdev type='scsi_host'>: /dev/vhost-scsi was not opened for it", h.line)
    props: dict[str, Any] = {"driver": virtio_driver("vhost-scsi-pci", h.model), "wwpn": h.source_wwpn, "vhostfd": str(fd), "id": alias}
    boot = ctx.boot_index.get(id(h))
    if boot is not None:
        props["bootindex"] = boot
    return props

