"""QMP arguments that hot-plug a disk into a running guest (pure: no I/O, no monitor).

The arguments are the very dictionaries the command line would carry for that disk (-blockdev
and -device take the same JSON as blockdev-add and device_add), built by the same builders, so
a hot-plugged disk is configured exactly like one present at start.  Only the block node names
differ: a running QEMU already holds libvirt-1..N, so the new disk takes the first free index.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pyvirt.qemu import argv_disks
from pyvirt.qemu.argv import device_context
from pyvirt.qemu.argv_common import Argv, unsupported

_NODE = re.compile(r"libvirt-(\d+)-(?:format|storage)$")


def disk_plug(domain: Any, disk: Any, caps: Any, used_nodes: set[str]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(blockdev-add arguments in order, device_add arguments) for `disk`, one of `domain`'s disks
    (the live definition with the new disk in it, through fill_defaults and the start-time
    defaults: address and alias set)."""
    if disk.target_bus not in ("virtio", "scsi", "usb"):
        raise unsupported(f"hot-plugging a disk on bus {disk.target_bus!r} (virtio, scsi and usb can be)",
                          disk.line)
    if disk.device != "disk":
        raise unsupported(f"hot-plugging a {disk.device} (attach it at definition time; change media with "
                          "change-media)", disk.line)
    argv_disks.check_disk(disk)  # the same checks as at start
    if disk.disk_encryption is not None:
        raise unsupported("hot-plugging a disk with <encryption> (its secret reaches QEMU at start; define it "
                          "and start the guest)", disk.disk_encryption.line)
    ctx = device_context(domain, caps)
    disk = next(d for d, mine in zip(ctx.domain.devices.disks, domain.devices.disks, strict=True) if mine is disk)
    node = free_node(used_nodes)
    scratch = Argv("qemu")
    argv_disks.blockdevs(scratch, ctx, disk, node)
    blockdevs = [json.loads(v) for k, v in zip(scratch.args[1::2], scratch.args[2::2], strict=True)
                 if k == "-blockdev"]
    device = argv_disks.frontend(ctx, disk, f"{node}-format")
    if disk.boot_order is None:  # the whole-domain boot order says nothing about a disk added later
        device.pop("bootindex", None)
    return blockdevs, device


def disk_nodes(format_node: str) -> list[str]:
    """The nodes to delete after a disk's device is gone: its format node, then its storage node."""
    m = _NODE.match(format_node)
    return [format_node, f"libvirt-{m.group(1)}-storage"] if m else [format_node]


def nic_plug(domain: Any, nic: Any, caps: Any, fd_name: str | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(netdev_add arguments, device_add arguments) for `nic`, one of `domain`'s interfaces (the
    live definition with the new NIC in it, through fill_defaults).  A tap NIC names the fd that
    pyvirtd handed QEMU with getfd (`fd_name`) where the command line gives a number."""
    from pyvirt.qemu.argv_common import unsupported
    from pyvirt.qemu.argv_devices import nic_args

    if nic.type == "vhostuser":  # its socket chardev would have to be added first (chardev-add)
        raise unsupported("hot-plugging a vhostuser interface", nic.line)
    ctx = device_context(domain, caps)
    ctx.runtime.test_mode = False
    if fd_name is not None:
        ctx.runtime.tap_fds[ctx.alias(nic)] = [fd_name]  # type: ignore[list-item]
    netdev, device = nic_args(ctx, nic)
    if nic.boot_order is None:
        device.pop("bootindex", None)
    return netdev, device


def free_node(used_nodes: set[str]) -> str:
    """The first libvirt-N block node name a running QEMU does not hold (…-storage / …-format)."""
    taken = {int(m.group(1)) for n in used_nodes if (m := _NODE.match(n))}
    return f"libvirt-{next(i for i in range(1, len(taken) + 2) if i not in taken)}"
