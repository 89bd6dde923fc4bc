"""Where a URI's runtime directory (daemon socket, live state) is, computed with `os` alone.

Every CLI command needs the daemon's socket; `pyvirt.paths` (pathlib, dataclasses) is too heavy
for that hot path, so both it and the client take the answer from here.
"""

from __future__ import annotations

from pyvirt.lightos import W_OK, access, fspath, getenv, geteuid, isdir, join

TYPE_CHECKING = False
if TYPE_CHECKING:
    import os


def runtime_dir(uri: str, root: str | os.PathLike[str] | None = None) -> str:
    """`root` (or $PYVIRT_STATE_ROOT) relocates all state; otherwise libvirt's split:
    /run for the system URI, $XDG_RUNTIME_DIR (or a private dir under /tmp) for session."""
    root = root or getenv("PYVIRT_STATE_ROOT")
    if root:
        return join(fspath(root), "run")
    if uri.rstrip("/").endswith("/system"):
        return "/run/pyvirt"
    xdg = getenv("XDG_RUNTIME_DIR")
    if xdg and isdir(xdg) and access(xdg, W_OK):
        return join(xdg, "pyvirt")
    import tempfile

    return join(tempfile.gettempdir(), f"pyvirt-{geteuid()}")


def socket_path(uri: str) -> str:
    return join(runtime_dir(uri), "pyvirtd.sock")


class UnsafeDirError(PermissionError):
    """A runtime directory someone else could have prepared (owner, mode or a symlink)."""


def ensure_private_dir(path: str | os.PathLike[str]) -> None:
    """Create `path` 0700 (parents as needed) or accept it only if it is a real directory of ours
    that nobody else can enter.

    The session fallback under /tmp has a predictable name: another local user could create it
    first (or a symlink in its place) and then read, replace or hijack the daemon's socket and
    lock file.  So an existing directory is checked with lstat, never followed, and refused
    with a message naming what is wrong.
    """
    import os
    import stat  # not at module level: every command imports this module for its socket path

    path = os.fspath(path)
    os.makedirs(path, mode=0o700, exist_ok=True)
    st = os.lstat(path)
    problem = None
    if not stat.S_ISDIR(st.st_mode):
        problem = "is not a directory (a symlink or another file is in its place)"
    elif st.st_uid != os.geteuid():
        problem = f"is owned by uid {st.st_uid}, not by uid {os.geteuid()}"
    elif st.st_mode & 0o067:  # group search alone is how a system daemon lets its QEMU group in
        problem = (f"has mode {stat.S_IMODE(st.st_mode):04o}; it must be private to its owner (0700, "
                   "or 0710 for the QEMU group of qemu.conf)")
    if problem:
        raise UnsafeDirError(f"refusing runtime directory {path}: it {problem}")
