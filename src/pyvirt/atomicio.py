"""Atomic state-file writes: a crash at any instant leaves the old file or the new one, never half.

Every state file pyvirt keeps (domain XML, runtime records, pool XML) goes through here.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_atomic(path: str | os.PathLike[str], data: str | bytes, mode: int = 0o600,
                 durable: bool = True) -> None:
    """Write to a temp file in the same directory, fsync it, rename over `path`, fsync the dir.

    `durable=False` keeps the all-or-nothing rename but skips the fsyncs: for runtime state that
    describes running QEMUs, which a power loss ends too (and which lives on tmpfs in /run).
    """
    target = Path(path)
    payload = data.encode() if isinstance(data, str) else data
    # the temp name must fit the 255-byte file name limit whenever the target's does
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name[:64]}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    if durable:
        fsync_dir(target.parent)


def fsync_dir(path: str | os.PathLike[str]) -> None:
    """Make a rename or a new file durable: the directory entry is data too."""
    dir_fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def remove_quietly(path: str | os.PathLike[str]) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
