"""Atomic state-file writes: a crash at any instant leaves the old file or the new one, never half.

Every state file pyvirt keeps (domain XML, runtime records, pool XML) goes through here.  A start
writes its runtime record before QEMU's exec, so the write is kept lean: the temp file is opened
and written with plain file-descriptor calls (no buffered file object, no random name).
"""

from __future__ import annotations

import contextlib
import os
from itertools import count

#: temp names are unique per process (pid) and per write (this counter); O_EXCL skips a name an
#: earlier process with the same pid left behind (store.py sweeps such leftovers at start)
_SEQUENCE = count()
_TEMP_FLAGS = os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_TEMP_TRIES = 10000  # tempfile.TMP_MAX: then the directory is full of someone else's names


def _open_temp(parent: str, name: str) -> tuple[int, str]:
    """A new file in `parent`, mode 0600, never a symlink and never an existing file."""
    # the temp name must fit the 255-byte file name limit whenever the target's does: the name's
    # first 64 bytes (a character cut in two is dropped; surrogates are bytes of the file name)
    short = os.fsencode(name)[:64].decode("utf-8", "ignore") if len(name) * 4 > 64 else name
    stem = os.path.join(parent, f".{short}.{os.getpid()}.")
    for _ in range(_TEMP_TRIES):
        tmp = f"{stem}{next(_SEQUENCE)}.tmp"
        try:
            return os.open(tmp, _TEMP_FLAGS, 0o600), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no usable temporary file name in {parent or '.'}")


def write_atomic(path: str | os.PathLike[str], data: str | bytes, mode: int = 0o600,
                 durable: bool = True) -> None:
    """Write to a temp file in the same directory, fsync it, rename over `path`, fsync the dir.

    `durable=False` keeps the all-or-nothing rename but skips the fsyncs: for runtime state that
    describes running QEMUs, which a power loss ends too (and which lives on tmpfs in /run).
    """
    target = os.fspath(path)
    parent, name = os.path.split(target)
    payload = memoryview(data.encode() if isinstance(data, str) else data)
    fd, tmp = _open_temp(parent, name)
    try:
        try:
            while payload:
                payload = payload[os.write(fd, payload):]
            if durable:
                os.fsync(fd)
            os.fchmod(fd, mode)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    if durable:
        fsync_dir(parent or ".")


def remove_stale_temps(directory: str | os.PathLike[str]) -> list[str]:
    """Remove the temp files of writes a killed process never finished (``.NAME.PID.N.tmp``):
    the rename never happened, so the real file is intact and they are nobody's.  Every driver's
    load calls it on the directories it writes: a secret's value half-written when pyvirtd was
    killed must not outlive the secret.  Returns the names removed."""
    removed = []
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return removed
    for entry in entries:
        name = entry.name
        if name.startswith(".") and name.endswith(".tmp") and _is_temp_name(name) and not entry.is_dir():
            remove_quietly(entry.path)
            removed.append(name)
    return removed


def _is_temp_name(name: str) -> bool:
    """Whether `name` is one _open_temp makes: ``.`` + a target name + ``.PID.N.tmp``."""
    parts = name[1:-4].rsplit(".", 2)
    return len(parts) == 3 and bool(parts[0]) and parts[1].isdigit() and parts[2].isdigit()


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
