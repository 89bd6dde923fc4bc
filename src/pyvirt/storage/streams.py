"""Volume upload/download in constant memory (libvirt's virStorageVolUpload/Download).

Upload takes an iterable of byte chunks or a binary file-like; download returns an iterator
of chunks.  Zero chunks are skipped on upload (the file stays sparse) and holes are found with
SEEK_DATA/SEEK_HOLE on download, so a 1 GiB sparse raw image moves without 1 GiB of I/O
or memory.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import BinaryIO

CHUNK = 1 << 20
_ZEROS = bytes(CHUNK)


def chunks_of(data: Iterable[bytes] | BinaryIO, chunk: int = CHUNK) -> Iterator[bytes]:
    """Normalise a file-like or an iterable of bytes into an iterator of chunks."""
    read = getattr(data, "read", None)
    if read is not None:
        while True:
            block = read(chunk)
            if not block:
                return
            yield block
    else:
        for block in data:  # type: ignore[union-attr]
            if block:
                yield bytes(block)


def write_chunks(fd: int, offset: int, chunks: Iterator[bytes], length: int | None) -> int:
    """pwrite chunks from `offset`, leaving zero runs as holes; returns bytes consumed."""
    done = 0
    for block in chunks:
        if length is not None and done + len(block) > length:
            block = block[: length - done]
        if block.count(0) != len(block):
            view = memoryview(block)
            while view:
                n = os.pwrite(fd, view, offset + done)
                view = view[n:]
                done += n
        else:
            done += len(block)
        if length is not None and done >= length:
            break
    return done


def read_chunks(path: str, offset: int, length: int, chunk: int = CHUNK) -> Iterator[bytes]:
    """Yield `length` bytes of `path` from `offset`, serving holes from a shared zero buffer."""
    fd = os.open(path, os.O_RDONLY)
    try:
        pos, end = offset, offset + length
        while pos < end:
            try:
                data_at = os.lseek(fd, pos, os.SEEK_DATA)
            except OSError:  # ENXIO: only a hole remains
                data_at = end
            if data_at > pos:
                hole_end = min(data_at, end)
                while pos < hole_end:
                    n = min(chunk, CHUNK, hole_end - pos)
                    yield _ZEROS[:n] if n < CHUNK else _ZEROS
                    pos += n
                continue
            try:
                hole_at = os.lseek(fd, pos, os.SEEK_HOLE)
            except OSError:
                hole_at = end
            stop = min(hole_at, end, pos + chunk)
            block = os.pread(fd, stop - pos, pos)
            if not block:
                break
            yield block
            pos += len(block)
    finally:
        os.close(fd)
