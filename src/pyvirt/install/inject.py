"""Files put into the root of an install initrd (virt-install's perform_initrd_injections).

Linux unpacks every cpio archive concatenated in an initramfs, compressed or not, so
appending one more gzip'd "newc" archive adds files without touching the original: the
installer then finds e.g. /fedora.ks (``inst.ks=file:/fedora.ks``).  virt-install runs
find | cpio | gzip for this; the archive is written here directly (a few dozen lines of a
fixed format) so no cpio binary is needed, owned by root as virt-install's
``--owner=root:root`` makes it.
"""

from __future__ import annotations

import gzip
import os
import stat
from dataclasses import dataclass

_MAGIC = b"070701"
MAX_INJECT = 256 << 20  # a --initrd-inject file larger than this is refused


@dataclass
class Injection:
    """One file for the initrd's root: its name there, content and permission bits."""

    name: str
    data: bytes
    mode: int = 0o600

    @classmethod
    def from_file(cls, path: str, name: str | None = None) -> Injection:
        """A host file (--initrd-inject), keeping its permission bits as shutil.copy does."""
        try:
            st = os.stat(path)
            if not stat.S_ISREG(st.st_mode):
                raise ValueError(f"--initrd-inject '{path}' is not a regular file")
            if st.st_size > MAX_INJECT:
                raise ValueError(f"--initrd-inject '{path}' is larger than {MAX_INJECT} bytes")
            with open(path, "rb") as f:
                data = f.read(MAX_INJECT + 1)
        except OSError as exc:
            raise ValueError(f"Could not read --initrd-inject file '{path}': {exc.strerror}") from exc
        return cls(name or os.path.basename(path), data, stat.S_IMODE(st.st_mode))


def _pad(n: int) -> bytes:
    return b"\0" * (-n % 4)


def _entry(ino: int, name: str, mode: int, data: bytes = b"") -> bytes:
    raw = name.encode() + b"\0"
    fields = (ino, mode, 0, 0, 2 if stat.S_ISDIR(mode) else 1, 0, len(data), 0, 0, 0, 0,
              len(raw), 0)
    head = _MAGIC + b"".join(b"%08X" % f for f in fields)
    return head + raw + _pad(len(head) + len(raw)) + data + _pad(len(data))


def newc_archive(files: list[Injection]) -> bytes:
    """A cpio newc archive of '.' and `files` at its root (names must be plain)."""
    out = [_entry(1, ".", stat.S_IFDIR | 0o775)]
    for ino, f in enumerate(files, start=2):
        if not f.name or "/" in f.name or f.name in (".", ".."):
            raise ValueError(f"Cannot inject '{f.name}' into the initrd: not a plain file name")
        out.append(_entry(ino, f.name, stat.S_IFREG | (f.mode & 0o7777), f.data))
    out.append(_entry(0, "TRAILER!!!", 0))
    return b"".join(out)


def append_to_initrd(initrd: str, files: list[Injection]) -> None:
    """Append `files` to the initrd at `initrd` (a scratch copy, never the user's file)."""
    if not files:
        return
    from pyvirt.install.guest import log
    log.debug("Appending to the initrd: %s", ", ".join(f.name for f in files))
    data = gzip.compress(newc_archive(files), mtime=0)
    with open(initrd, "ab") as f:
        f.write(data)
