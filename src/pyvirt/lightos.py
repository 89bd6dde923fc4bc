"""The few things the CLI's hot path needs of :mod:`os`, taken from :mod:`posix` (the C module
``os`` wraps), so that ``pyvirt list`` or ``pyvirt start`` never imports ``os``.

``os`` is not free even though it is frozen: importing it imports ``_collections_abc`` (some
thirty ABCs, and registers the builtin types with them) and builds ``os.environ``: ~2 ms of CPU,
a tenth of a whole ``pyvirt -c test:///default list`` and more than what the command itself
does (bench/cli.py).  The interpreter's own ``site`` imports ``os`` anyway, but pyvirt's
launcher runs without ``site`` (pyvirt/cli/launcher.py).  Modules on the hot paths
(tests/unit/test_cli_hotpath.py pins which) use these; everything else uses ``os`` as usual.
"""

from __future__ import annotations

import sys
from posix import W_OK, access, fspath, geteuid, stat
from posix import environ as _environ

__all__ = ["W_OK", "access", "dirname", "fspath", "geteuid", "getenv", "isdir", "join"]

_FS_ENCODING = sys.getfilesystemencoding()


def getenv(name: str, default: str | None = None) -> str | None:
    """``os.environ.get(name, default)``.  ``os.environ`` keeps its variables in this very dict
    (``posix.environ``) and writes every change through to it, so both always agree."""
    value = _environ.get(name.encode(_FS_ENCODING, "surrogateescape"))
    return default if value is None else value.decode(_FS_ENCODING, "surrogateescape")


def join(base: str, name: str) -> str:
    """``os.path.join(base, name)`` for a relative `name` (one that does not start with '/')."""
    return f"{base}{name}" if not base or base.endswith("/") else f"{base}/{name}"


def dirname(path: str) -> str:
    """``os.path.dirname``: everything before the last '/', trailing slashes of it dropped."""
    head = path[:path.rfind("/") + 1]
    return head.rstrip("/") or head


def isdir(path: str) -> bool:
    """``os.path.isdir``: follows symlinks; False for a missing path or one that cannot be stat'ed."""
    try:
        return stat(path).st_mode & 0o170000 == 0o040000
    except (OSError, ValueError):
        return False
