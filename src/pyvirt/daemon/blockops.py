"""Sizes of a guest's disks and growing them: domblkinfo (virDomainGetBlockInfo) and blockresize
(virDomainBlockResize), for the QEMU driver.

A running guest's figures come from QEMU (query-block: the image QEMU has open), a shut-off
guest's from qemu-img; physical is the host file's size (or the block device's), as libvirt.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError, operation_invalid


def _invalid_path(disk: str) -> PyvirtError:
    return PyvirtError(f"invalid argument: invalid path {disk} not assigned to domain", ErrorCode.INVALID_ARG,
                       ErrorDomain.QEMU)


def find_disk(dom: Any, ref: str) -> Any:
    """A disk by target (vda) or host path, as libvirt's virDomainDiskByName."""
    for disk in dom.devices.disks:
        if ref in (disk.target_dev, disk.source_file, disk.source_dev):
            return disk
    return None


def _physical(path: str) -> int:
    """A file's size, or a block device's (seek to its end)."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        return os.lseek(fd, 0, os.SEEK_END)
    finally:
        os.close(fd)


class BlockOpsMixin:
    """block_info and block_resize (lookup, _running, _qmp, _disk_path, _format_node from QemuDriver)."""

    async def block_info(self, dom: str, disk: str) -> dict[str, int]:
        rec = self.lookup(dom)
        found = find_disk(rec.current(), disk)
        if found is None:
            raise _invalid_path(disk)
        path = self._disk_path(found)
        if not path:
            raise PyvirtError(f"operation invalid: disk '{found.target_dev}' does not currently have a source "
                              "assigned", ErrorCode.OPERATION_INVALID, ErrorDomain.QEMU)
        try:
            physical = await asyncio.to_thread(_physical, path)
        except OSError as exc:
            raise PyvirtError(f"cannot stat file '{path}': {exc.strerror}", ErrorCode.SYSTEM_ERROR,
                              ErrorDomain.QEMU) from None
        image: dict[str, Any] | None = None
        if rec.active and rec.run is not None:
            image = await self._qemu_image(rec.run, found)
        if image is None:
            from pyvirt.storage import qemuimg

            image = await asyncio.to_thread(qemuimg.info, path, found.driver_type or "raw")
        capacity = int(image.get("virtual-size", physical))
        allocation = int(image.get("actual-size", physical))
        return {"capacity": capacity, "allocation": allocation, "physical": physical}

    async def disk_errors(self, dom: str) -> list[dict[str, Any]]:
        """qemuDomainGetDiskErrors: each disk whose QMP io-status is not "ok" (1: unspecified,
        2: no space), as the guest's disks are listed."""
        rec = self.lookup(dom)
        run = self._running(rec)
        status = {}
        for entry in await self._qmp(run, "query-block"):
            for key in (entry.get("qdev"), entry.get("device")):
                if key:
                    status[key] = entry.get("io-status", "ok")
        from pyvirt.qemu.argv_disks import disk_qom_name

        out = []
        for disk in rec.current().devices.disks:
            io = status.get(disk_qom_name(disk)) or status.get(disk.alias or "") or "ok"
            if io != "ok":
                out.append({"disk": disk.target_dev, "error": 2 if io == "nospace" else 1})
        return out

    async def _qemu_image(self, run: Any, disk: Any) -> dict[str, Any] | None:
        from pyvirt.qemu.argv_disks import disk_qom_name

        qdev = disk_qom_name(disk)
        for entry in await self._qmp(run, "query-block"):
            if entry.get("qdev") in (qdev, disk.alias) or entry.get("device") == disk.alias:
                image = (entry.get("inserted") or {}).get("image")
                return image if isinstance(image, dict) else None
        return None

    async def block_resize(self, dom: str, disk: str, size: int) -> None:
        """QMP block_resize of the disk's format node; raw images are rounded up to 512 bytes (libvirt)."""
        rec = self.lookup(dom)
        async with rec.lock:
            if not rec.active:
                raise operation_invalid("domain is not running")
            run = self._running(rec)
            found = find_disk(rec.current(), disk)
            if found is None:
                raise _invalid_path(disk)
            if size < 0:
                raise PyvirtError("invalid argument: size must not be negative", ErrorCode.INVALID_ARG,
                                  ErrorDomain.QEMU)
            if (found.driver_type or "raw") == "raw":
                size = (size + 511) // 512 * 512
            node = await self._format_node(run, found)
            if node is None:
                raise PyvirtError(f"internal error: cannot find the block node of disk '{found.target_dev}'",
                                  ErrorCode.INTERNAL_ERROR, ErrorDomain.QEMU)
            await self._qmp(run, "block_resize", {"node-name": node, "size": size})
