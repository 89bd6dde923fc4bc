"""aiohttp's server half for pyvirtd, without the HTTP client its package imports first.

Why: ``import aiohttp.web`` runs ``aiohttp/__init__.py`` before anything else, and that imports
the whole client side (client requests and WebSockets, connector, cookie jar, form data,
tracing, digest auth: ~25 modules) and builds two TLS client contexts that read every
certificate of the system CA bundle: ~2 MiB of pyvirtd's resident memory and ~80 ms of CPU at
each start, for code pyvirtd never runs (it only serves).

So the ``aiohttp`` package module is created from its own spec without running its
``__init__``; its submodules (``aiohttp.web`` and what it imports) load from the package path
as usual. Nothing is lost: the first time anyone asks the package for a name that is not a
submodule (``aiohttp.ClientSession``, ``from aiohttp import WSMsgType``), the package runs its
real ``__init__`` then and answers with the real object. The cost moves to the first such use;
pyvirtd's own code imports what it uses from the submodules.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from types import ModuleType
from typing import Any

_VERSION = re.compile(r'^__version__ = "([^"]+)"$', re.MULTILINE)


def import_server(*, serves_files: bool = False) -> None:
    """Import ``aiohttp.web``; the package's ``__init__`` (the client half) runs only if something
    asks for it later.  When aiohttp is already imported, or its layout is not the expected one
    (a version without ``__version__`` in its ``__init__``), aiohttp is imported the plain way.

    Unless the caller `serves_files` by their extension (pyvirtd never does: it answers JSON and
    WebSockets), the system's MIME type files are not read: ``aiohttp.web_fileresponse`` builds a
    ``MimeTypes()`` at import, which runs ``mimetypes.init()`` over every file of
    ``mimetypes.knownfiles`` (/etc/mime.types: ~2,000 types, kept twice, in the module's tables
    and that object's): ~1 MiB of pyvirtd's resident memory (bench/daemon_rss.py) for a table
    it never reads.  Python's own table (the common types) is still there."""
    if not serves_files:
        import mimetypes

        if not mimetypes.inited:
            mimetypes.knownfiles = []
    _import_frozenlist()
    if "aiohttp" not in sys.modules:
        package = _deferred_package()
        if package is not None:
            sys.modules["aiohttp"] = package
            try:
                import aiohttp.web  # noqa: F401 - imported for its side effect, loaded once here
            except BaseException:
                for name in [n for n in sys.modules if n == "aiohttp" or n.startswith("aiohttp.")]:
                    del sys.modules[name]
                raise
            return
    import aiohttp.web  # noqa: F401,F811


def _import_frozenlist() -> None:
    """frozenlist as its pure-Python class (its own switch, ``FROZENLIST_NO_EXTENSIONS``, set only
    for this import): the compiled one (a 0.7 MB Cython module) costs 1.1 MiB of pyvirtd's
    resident memory (bench/daemon_rss.py), and aiohttp's server uses frozen lists only for its
    signals and middleware list, read a few times per request, never in a loop over data."""
    if "frozenlist" in sys.modules or "FROZENLIST_NO_EXTENSIONS" in os.environ:
        return
    os.environ["FROZENLIST_NO_EXTENSIONS"] = "1"  # read once, at frozenlist's import
    try:
        import frozenlist  # noqa: F401 - imported for its side effect, loaded once here
    except ImportError:
        pass  # aiohttp's own import says what is missing
    finally:
        del os.environ["FROZENLIST_NO_EXTENSIONS"]


def _deferred_package() -> ModuleType | None:
    """The ``aiohttp`` package module, its ``__init__`` not run yet (None: import it normally)."""
    spec = importlib.util.find_spec("aiohttp")
    if spec is None or spec.origin is None or spec.loader is None or not spec.submodule_search_locations:
        return None
    try:
        with open(spec.origin, encoding="utf-8") as fh:
            found = _VERSION.search(fh.read(1 << 20))
    except OSError:
        return None
    if found is None:
        return None
    package = importlib.util.module_from_spec(spec)
    # aiohttp.http reads it (`from . import __version__`) for its Server header
    package.__version__ = found.group(1)
    loader = spec.loader

    def __getattr__(name: str) -> Any:  # noqa: N807 - the module-level hook of PEP 562
        if name.startswith("__") or importlib.util.find_spec(f"aiohttp.{name}") is not None:
            # a submodule: the import system loads it when it finds no attribute
            raise AttributeError(f"module 'aiohttp' has no attribute {name!r}")
        del package.__dict__["__getattr__"]
        loader.exec_module(package)  # the real __init__, in place: every later lookup is plain
        return getattr(package, name)

    package.__getattr__ = __getattr__  # type: ignore[attr-defined]
    return package
