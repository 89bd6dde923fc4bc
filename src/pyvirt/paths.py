"""Where a pyvirtd keeps its state, split as libvirt splits it (DESIGN.md, "State on disk").

config  : inactive XML of every persistent object, autostart marks
runtime : live XML, runtime records, QMP sockets, the daemon's own socket and lock
data    : images (the default pool) and logs
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from pyvirt.rundir import ensure_private_dir, runtime_dir


@dataclass(frozen=True)
class StatePaths:
    uri: str
    config: Path
    runtime: Path
    data: Path
    log: Path

    @property
    def socket(self) -> Path:
        return self.runtime / "pyvirtd.sock"

    @property
    def lock(self) -> Path:
        return self.runtime / "pyvirtd.lock"

    @property
    def domains_config(self) -> Path:
        return self.config / "qemu"

    @property
    def autostart_dir(self) -> Path:
        return self.config / "qemu" / "autostart"

    @property
    def domains_runtime(self) -> Path:
        return self.runtime / "qemu"

    @property
    def qemu_log(self) -> Path:
        return self.log / "qemu"

    @property
    def images(self) -> Path:
        return self.data / "images"

    def ensure(self) -> None:
        """Create every directory private to the owner (0700): sockets and state are not for others.

        The runtime dir (socket, lock, QMP sockets) must also *be* private if it already exists.
        """
        ensure_private_dir(self.runtime)
        for path in (self.config, self.domains_config, self.autostart_dir,
                     self.domains_runtime, self.data, self.log, self.qemu_log):
            path.mkdir(parents=True, exist_ok=True, mode=0o700)


def state_paths(uri: str, root: str | os.PathLike[str] | None = None) -> StatePaths:
    """Paths for `uri` (qemu:///system or qemu:///session).

    `root` (or $PYVIRT_STATE_ROOT) relocates everything under one directory: tests and the demo
    run a private daemon without touching the machine's real state.
    """
    root = root or os.environ.get("PYVIRT_STATE_ROOT")
    kind = "system" if uri.rstrip("/").endswith("/system") else "session"
    if root:
        base = Path(root)
        return StatePaths(uri, base / "config", Path(runtime_dir(uri, root)), base / "data", base / "log")
    if kind == "system":
        return StatePaths(uri, Path("/etc/pyvirt"), Path(runtime_dir(uri)), Path("/var/lib/pyvirt"),
                          Path("/var/log/pyvirt"))
    home = Path.home()
    config = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config") / "pyvirt"
    data = Path(os.environ.get("XDG_DATA_HOME") or home / ".local" / "share") / "pyvirt"
    return StatePaths(uri, config, Path(runtime_dir(uri)), data, data / "log")
