"""Where probe results are cached, and how they are written (atomically, as JSON).

Probing QEMU costs a process launch (tens to hundreds of milliseconds); every client and
daemon start would pay it again. Results are keyed by what could change them (the binary's
path, mtime and size; for KVM also the boot), so a stale entry is never read.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pyvirt.atomicio import write_atomic


def default_cache_dir() -> Path:
    """``/var/cache/pyvirt/caps`` for root (libvirt's system cache), else ``$XDG_CACHE_HOME/pyvirt/caps``."""
    if os.geteuid() == 0:
        return Path("/var/cache/pyvirt/caps")
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "pyvirt" / "caps"


def read_json(path: Path) -> Any | None:
    """The cached document, or None when absent or unreadable (a broken cache is just a miss)."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def write_json_atomic(path: Path, data: Any) -> None:
    """Write ``data`` as JSON atomically, so readers never see half a file.

    Failure to write (read-only cache dir, full disk) is ignored: the cache is an optimisation.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps(data, indent=1, sort_keys=True), 0o644)
    except OSError:
        return
