"""Volume upload/download in constant memory (libvirt's virStorageVolUpload/Download).

Upload takes an iterable of byte chunks or a binary file-like; download returns an iterator
of chunks.  Holes are found with SEEK_DATA/SEEK_HOLE on download, and on upload a chunk may
be an int: a hole of that many bytes (the sparse upload protocol sends holes as lengths, so
a 1 GiB sparse image moves without 1 GiB of zeros on the wire).  Into a fresh file, zero
chunks and holes are skipped (the file stays sparse); into an existing one they are written
as zeros, or the old bytes would show through.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import BinaryIO

CHUNK = 1 << 20
_ZEROS = bytes(CHUNK)


Chunk = bytes | int  # data, or the length of a hole


def chunks_of(data: Iterable[Chunk] | BinaryIO, chunk: int = CHUNK) -> Iterator[Chunk]:
    """Normalise a file-like or an iterable of bytes (and hole lengths) into chunks."""
    read = getattr(data, "read", None)
    if read is not None:
        while True:
            block = read(chunk)
            if not block:
                return
            yield block
    else:
        for block in data:  # type: ignore[union-attr]
            if isinstance(block, int):
                if block > 0:
                    yield block
            elif block:
                yield bytes(block)


def write_chunks(fd: int, offset: int, chunks: Iterator[Chunk], length: int | None,
                 fresh: bool = False) -> int:
    """pwrite chunks from `offset`; returns bytes consumed.

    Zero runs and holes become holes only when `fresh` (a new file the caller sizes with
    ftruncate); in an existing file they must overwrite what was there.
    """
    done = 0
    for block in chunks:
        if isinstance(block, int):
            size = block if length is None else min(block, length - done)
            if fresh:
                done += size
            else:
                for at in range(0, size, CHUNK):
                    n = min(CHUNK, size - at)
                    done += _pwrite_all(fd, _ZEROS[:n] if n < CHUNK else _ZEROS, offset + done)
            if length is not None and done >= length:
                break
            continue
        if length is not None and done + len(block) > length:
            block = block[: length - done]
        if not fresh or block.count(0) != len(block):
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


def _pwrite_all(fd: int, data: bytes, at: int) -> int:
    view = memoryview(data)
    while view:
        n = os.pwrite(fd, view, at)
        view, at = view[n:], at + n
    return len(data)


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
