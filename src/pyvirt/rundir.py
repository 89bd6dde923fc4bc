"""Where a URI's runtime directory (daemon socket, live state) is, computed with `os` alone.

Every CLI command needs the daemon's socket; `pyvirt.paths` (pathlib, dataclasses) is too heavy
for that hot path, so both it and the client take the answer from here.
"""

from __future__ import annotations

import os


def runtime_dir(uri: str, root: str | os.PathLike[str] | None = None) -> str:
    """`root` (or $PYVIRT_STATE_ROOT) relocates all state; otherwise libvirt's split:
    /run for the system URI, $XDG_RUNTIME_DIR (or a private dir under /tmp) for session."""
    root = root or os.environ.get("PYVIRT_STATE_ROOT")
    if root:
        return os.path.join(os.fspath(root), "run")
    if uri.rstrip("/").endswith("/system"):
        return "/run/pyvirt"
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    if xdg and os.path.isdir(xdg) and os.access(xdg, os.W_OK):
        return os.path.join(xdg, "pyvirt")
    import tempfile

    return os.path.join(tempfile.gettempdir(), f"pyvirt-{os.geteuid()}")


def socket_path(uri: str) -> str:
    return os.path.join(runtime_dir(uri), "pyvirtd.sock")
