"""The remote Connection's volume streams: upload and download over pyvirtd's HTTP API.

Upload and download speak
raw HTTP on the unix socket: the file goes out with ``socket.sendfile`` and comes back in
1 MiB pieces written as they arrive (all-zero pieces become holes), so neither side ever
holds more than a piece of a volume in memory.
"""

from __future__ import annotations

from pyvirt.client import wire
from pyvirt.operations import declared

TYPE_CHECKING = False  # remote.py imports this module on every command: no typing at run time
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, BinaryIO

    from pyvirt.api import PyvirtError

    Progress = Callable[[int, int], None]

CHUNK = 1 << 20
_ZEROS = bytes(CHUNK)


def _query(**params: Any) -> str:
    items = {k: (int(v) if isinstance(v, bool) else v) for k, v in params.items() if v not in (None, False)}
    return ("?" + wire.urlencode(items)) if items else ""


def _reply_error(status: int, body: Any) -> PyvirtError:
    from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError

    if isinstance(body, dict) and "error" in body:
        return PyvirtError.from_dict(body["error"])
    return PyvirtError(f"internal error: unexpected reply {status} from pyvirtd", ErrorCode.RPC, ErrorDomain.RPC)


class StorageClientMixin:
    """The volume streams of :class:`pyvirt.client.remote.RemoteConnection` (the other storage
    operations are generated from their declarations)."""

    sock_path: str
    endpoint: Any
    _call: Callable[..., Any]
    _target: Callable[..., str]
    lookup_volume: Callable[..., Any]

    def _data_target(self, op: str, pool: str, name: str, offset: int, length: int | None) -> str:
        path = self._target(declared(op), {"pool": pool, "name": name})
        return path + _query(offset=offset or None, length=length or None)

    # ------------------------------------------------------------------ streams
    def upload_volume(self, pool: str, name: str, src: BinaryIO, *, offset: int = 0, length: int | None = None,
                      progress: Progress | None = None) -> int:
        """Send `src` (from its current position; `length` bytes or to its end) into the volume."""
        from pyvirt.api import (  # not on every command's path
            ErrorCode,
            ErrorDomain,
            PyvirtError,
            read_only_denied,
        )

        if getattr(self, "readonly", False):
            raise read_only_denied()
        self.lookup_volume(pool, name)  # a clean error before any byte is sent
        import os

        start = src.tell()
        total = os.fstat(src.fileno()).st_size - start
        if length:
            total = min(total, length)
        target = self._data_target("upload_volume", pool, name, offset, length)
        extents = _extents(src.fileno(), start, total)
        sparse = any(kind == b"H" for kind, _at, _n in extents)
        frame = _frame()
        if sparse:  # holes go as lengths (frames, see the daemon's SPARSE_TYPE), not as zeros
            ctype = "application/x-pyvirt-sparse"
            body_len = sum(frame.size + (n if kind == b"D" else 0) for kind, _at, n in extents)
        else:
            ctype, body_len = "application/octet-stream", total
        sock = wire.dial(self.endpoint, None)
        try:
            sock.sendall(wire._request_head("PUT", target, {"Connection": "close", "Content-Type": ctype},
                                            body_len))
            sent = 0
            try:
                for kind, at, n in extents:
                    if sparse:
                        sock.sendall(frame.pack(kind, n))
                    if kind == b"H":
                        sent += n
                        continue
                    end = sent + n
                    while sent < end:
                        k = sock.sendfile(src, at + (sent - (end - n)), min(CHUNK * 8, end - sent))
                        if k == 0:
                            break
                        sent += k
                        if progress:
                            progress(sent, total)
                    if sent < end:
                        break
                if progress and sent == total:
                    progress(sent, total)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the daemon refused mid-way: its reply says why
            status, headers, reader = wire.read_head(sock)
            body = wire.read_error(reader, headers)
        finally:
            sock.close()
        if status >= 400 or not isinstance(body, dict) or "error" in body:
            raise _reply_error(status, body)
        if sent < total:
            raise PyvirtError(f"internal error: upload stopped after {sent} of {total} bytes",
                              ErrorCode.INTERNAL_ERROR, ErrorDomain.STORAGE)
        return int((body.get("result") or {}).get("bytes", sent))

    def download_volume(self, pool: str, name: str, dst: BinaryIO, *, offset: int = 0,
                        length: int | None = None, sparse: bool = True,
                        progress: Progress | None = None) -> int:
        """Write the volume's bytes to `dst` from its current position; zero pieces become holes
        when `dst` is a regular file and `sparse` is set (then the file is sized at the end)."""
        from pyvirt.api import (  # not on every command's path
            ErrorCode,
            ErrorDomain,
            PyvirtError,
            read_only_denied,
        )

        if getattr(self, "readonly", False):  # libvirt's rule: no disk content on read-only connections
            raise read_only_denied()
        target = self._data_target("download_volume", pool, name, offset, length)
        sock = wire.dial(self.endpoint, None)
        try:
            sock.sendall(wire._request_head("GET", target, {"Connection": "close"}, None))
            status, headers, reader = wire.read_head(sock)
            if status != 200:
                raise _reply_error(status, wire.read_error(reader, headers))
            buffered = bytes(reader.buf)
            length_text = headers.get("content-length", "")
            if not length_text.isdigit():
                raise PyvirtError(f"internal error: download without a valid Content-Length ({length_text[:20]!r})",
                                  ErrorCode.RPC, ErrorDomain.RPC)
            total = int(length_text)
            import os
            import stat  # here, not at import: remote.py loads this module on every command

            fd = dst.fileno()
            dst.flush()
            pos = dst.tell()
            holes = sparse and stat.S_ISREG(os.fstat(fd).st_mode)
            got = 0
            pending = bytearray(buffered)
            while got < total:
                while len(pending) < CHUNK and got + len(pending) < total:
                    data = sock.recv(CHUNK)
                    if not data:
                        break
                    pending += data
                if not pending:
                    break
                piece = bytes(pending[:CHUNK])
                del pending[:CHUNK]
                if not (holes and piece == _ZEROS[:len(piece)]):
                    view = memoryview(piece)
                    at = pos + got
                    while view:
                        n = os.pwrite(fd, view, at)
                        view, at = view[n:], at + n
                got += len(piece)
                if progress:
                    progress(got, total)
            if holes and os.fstat(fd).st_size < pos + got:
                os.ftruncate(fd, pos + got)
            dst.seek(pos + got)
        finally:
            sock.close()
        if got < total:
            raise PyvirtError(f"internal error: download stopped after {got} of {total} bytes",
                              ErrorCode.INTERNAL_ERROR, ErrorDomain.STORAGE)
        return got


def _frame() -> Any:
    """A sparse upload's frame head: kind (b"D"ata or b"H"ole) and length.  Built on use:
    `struct` is not loaded on the path of every other remote command."""
    import struct

    return struct.Struct(">cQ")


def _extents(fd: int, start: int, total: int) -> list[tuple[bytes, int, int]]:
    """[(b"D" or b"H", file offset, length)] covering `total` bytes from `start`.

    SEEK_DATA/SEEK_HOLE where the file system has them; otherwise (or for a pipe-like
    source) one data extent, which is what a plain upload sends anyway.
    """
    import os
    import stat

    end = start + total
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return [(b"D", start, total)] if total else []
        out: list[tuple[bytes, int, int]] = []
        pos = start
        while pos < end:
            try:
                data_at = min(os.lseek(fd, pos, os.SEEK_DATA), end)
            except OSError:  # ENXIO: nothing but a hole up to the end
                data_at = end
            if data_at > pos:
                out.append((b"H", pos, data_at - pos))
                pos = data_at
                continue
            hole_at = min(os.lseek(fd, pos, os.SEEK_HOLE), end)
            out.append((b"D", pos, hole_at - pos))
            pos = hole_at
        return out
    except (OSError, AttributeError):
        return [(b"D", start, total)] if total else []
