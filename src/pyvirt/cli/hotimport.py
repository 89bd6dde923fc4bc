"""A leaner finder and loader for pyvirt's own modules, installed by pyvirt's launcher.

Each import through the standard machinery costs ~80 us of CPU beyond the module's own code:
the path finder's directory cache checks, the source loader's cache-path and stat helpers, its
reading of the ``.pyc`` through several Python-level calls.  ``pyvirt list`` imports some 35 of
pyvirt's modules, so that is ~1 ms of a ~20 ms command (bench/cli.py).  This finder answers for
``pyvirt.*`` submodules only, from the parent package's folder (as the standard finder does): a
package's ``__init__.py`` first, then ``NAME.py`` (pyvirt ships no extension modules; a test
checks), and its loader reads the ``.pyc`` next to it in one go after the checks CPython makes
of a timestamp ``.pyc`` (magic number, flags, source mtime and size).  Anything else (a missing
or stale ``.pyc``, a hash-based one, a ``-X pycache_prefix``) goes to the standard loader, which
it subclasses, so resources, ``get_source`` and tracebacks behave as before.
"""

from __future__ import annotations

import sys
from _frozen_importlib import ModuleSpec
from _frozen_importlib_external import MAGIC_NUMBER, SourceFileLoader
from _io import open as _open
from marshal import loads
from posix import stat

_TAG = f".{sys.implementation.cache_tag}.pyc"
_PREFIX = "pyvirt."


class Loader(SourceFileLoader):
    """SourceFileLoader whose get_code takes a valid timestamp .pyc with one stat and one read."""

    def get_code(self, fullname: str):  # type: ignore[no-untyped-def]
        source = self.path
        folder, _, leaf = source.rpartition("/")
        try:
            st = stat(source)
            with _open(f"{folder}/__pycache__/{leaf[:-3]}{_TAG}", "rb") as fh:
                data = fh.read()
        except OSError:
            return super().get_code(fullname)
        if (data[:4] != MAGIC_NUMBER or data[4:8] != b"\0\0\0\0"
                or int.from_bytes(data[8:12], "little") != int(st.st_mtime) & 0xFFFFFFFF
                or int.from_bytes(data[12:16], "little") != st.st_size & 0xFFFFFFFF):
            return super().get_code(fullname)
        return loads(memoryview(data)[16:])


class Finder:
    """A meta path finder for ``pyvirt.*`` submodules (see the module's docstring)."""

    @staticmethod
    def find_spec(name: str, path=None, target=None):  # type: ignore[no-untyped-def]
        if not name.startswith(_PREFIX) or not path or len(path) != 1:
            return None
        base = f"{path[0]}/{name.rpartition('.')[2]}"
        package = f"{base}/__init__.py"
        try:
            stat(package)
        except OSError:
            source = f"{base}.py"
            try:
                stat(source)
            except OSError:
                return None
            spec = ModuleSpec(name, Loader(name, source), origin=source)
        else:
            spec = ModuleSpec(name, Loader(name, package), origin=package, is_package=True)
            spec.submodule_search_locations = [base]
        spec.has_location = True
        return spec

    @staticmethod
    def invalidate_caches() -> None:
        """Nothing is cached (importlib.invalidate_caches calls this on every meta path finder)."""


def install() -> None:
    """Put the finder first on sys.meta_path, unless a bytecode cache prefix moves the .pyc files."""
    if sys.pycache_prefix is None and Finder not in sys.meta_path:
        sys.meta_path.insert(0, Finder)
