"""Reading a guest's bytes as libvirt's QEMU driver does: blockpeek (virDomainBlockPeek, the
host file of a raw disk) and memorypeek (virDomainMemoryPeek, QMP memsave / pmemsave).

Both answer base64 (JSON carries no bytes) and at most PEEK_MAX bytes, libvirt's remote
protocol limit, so a caller never makes pyvirtd read more than that into memory.  Memory goes
through a file QEMU writes in the guest's private runtime directory (0700, QEMU's own), read
back and removed at once, as libvirt's temporary file in its cache directory.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import secrets
from typing import Any

from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError, check_peek_size


def _not_found(disk: str) -> PyvirtError:
    return PyvirtError(f"invalid argument: disk '{disk}' not found in domain", ErrorCode.INVALID_ARG,
                       ErrorDomain.QEMU)


def read_exactly(path: str, offset: int, size: int) -> bytes:
    """Up to `size` bytes at `offset` of a file or block device (fewer at its end)."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        out = bytearray()
        while len(out) < size:
            piece = os.pread(fd, size - len(out), offset + len(out))
            if not piece:
                break
            out += piece
        return bytes(out)
    finally:
        os.close(fd)


class PeekMixin:
    """block_peek and memory_peek (lookup, _running, _qmp, _disk_path, store from QemuDriver)."""

    async def block_peek(self, dom: str, disk: str, offset: int, size: int) -> str:
        """qemuDomainBlockPeek: a disk of the domain's current definition (running or not), by
        target or source path; raw images only (the host file's bytes are then the guest's)."""
        from pyvirt.daemon.blockops import find_disk

        check_peek_size("block", size)
        if offset < 0 or size < 0:
            raise PyvirtError("invalid argument: offset and size must not be negative", ErrorCode.INVALID_ARG,
                              ErrorDomain.QEMU)
        rec = self.lookup(dom)  # type: ignore[attr-defined]
        found = find_disk(rec.current(), disk) if disk else None
        if found is None:
            raise _not_found(disk)
        fmt = found.driver_type or "raw"
        if fmt != "raw":
            raise PyvirtError(f"Operation not supported: peeking is only supported for disk with 'raw' format not "
                              f"'{fmt}'", ErrorCode.OPERATION_UNSUPPORTED, ErrorDomain.QEMU)
        path = self._disk_path(found)  # type: ignore[attr-defined]
        if not path:
            kind = found.type or "file"
            raise PyvirtError(f"Operation not supported: storage file reading is not supported for storage type "
                              f"{kind} (protocol: {found.source_protocol or 'none'})",
                              ErrorCode.OPERATION_UNSUPPORTED, ErrorDomain.QEMU)
        if self._is_system():  # type: ignore[attr-defined]
            # a definition names the file: the host path policy a start applies holds here too
            # (a shut-off domain whose disk is /etc/shadow must not read it out)
            from pyvirt.daemon.guestpaths import check_path, own_dirs

            check_path("storage file", path, "disk", own_dirs(self.paths))  # type: ignore[attr-defined]
        try:
            data = await asyncio.to_thread(read_exactly, path, offset, size)
        except OSError as exc:
            raise PyvirtError(f"cannot read '{path}': {exc.strerror}", ErrorCode.SYSTEM_ERROR,
                              ErrorDomain.QEMU) from None
        if len(data) < size:
            raise PyvirtError(f"invalid argument: '{disk}' starting from {offset} has only {len(data)} bytes "
                              "available", ErrorCode.INVALID_ARG, ErrorDomain.QEMU)
        return base64.b64encode(data).decode("ascii")

    async def memory_peek(self, dom: str, offset: int, size: int, physical: bool = False) -> str:
        """qemuDomainMemoryPeek: QEMU saves the range (memsave: virtual addresses of vCPU 0;
        pmemsave: guest-physical) into a fresh file of the guest's private directory."""
        check_peek_size("memory", size)
        if offset < 0 or size < 0:
            raise PyvirtError("invalid argument: offset and size must not be negative", ErrorCode.INVALID_ARG,
                              ErrorDomain.QEMU)
        rec = self.lookup(dom)  # type: ignore[attr-defined]
        run = self._running(rec)  # type: ignore[attr-defined]
        private = self.store.runtime_files(rec.name).private_dir  # type: ignore[attr-defined]
        path = str(private / f"memory-peek-{secrets.token_hex(8)}")
        try:
            await self._qmp(run, "pmemsave" if physical else "memsave",  # type: ignore[attr-defined]
                            {"val": offset, "size": size, "filename": path})
            data: Any = await asyncio.to_thread(read_exactly, path, 0, size)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(path)
        if len(data) < size:
            raise PyvirtError(f"internal error: QEMU saved {len(data)} of {size} bytes", ErrorCode.INTERNAL_ERROR,
                              ErrorDomain.QEMU)
        return base64.b64encode(data).decode("ascii")
