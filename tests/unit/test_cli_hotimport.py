"""The lean finder/loader for pyvirt's modules (pyvirt.cli.hotimport) finds and loads what the
standard machinery would, and leaves to it whatever it cannot vouch for."""

from __future__ import annotations

import os
import py_compile
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import pyvirt
from pyvirt.cli import hotimport


@pytest.fixture
def probe(tmp_path, monkeypatch):
    """A package `hotprobe` (module `mod`, subpackage `sub`) the finder answers for."""
    pkg = tmp_path / "hotprobe"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "mod.py").write_text("VALUE = 'compiled'\n")
    (pkg / "sub" / "__init__.py").write_text("INNER = 1\n")
    for f in (pkg / "__init__.py", pkg / "mod.py", pkg / "sub" / "__init__.py"):
        py_compile.compile(str(f), doraise=True)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(hotimport, "_PREFIX", "hotprobe.")
    monkeypatch.setattr(sys, "meta_path", [hotimport.Finder, *sys.meta_path])
    yield pkg
    for name in [m for m in sys.modules if m == "hotprobe" or m.startswith("hotprobe.")]:
        del sys.modules[name]


def test_modules_and_packages_load_with_standard_attributes(probe: Path) -> None:
    import hotprobe.mod
    import hotprobe.sub

    assert hotprobe.mod.VALUE == "compiled" and hotprobe.sub.INNER == 1
    assert isinstance(hotprobe.mod.__loader__, hotimport.Loader)
    assert hotprobe.mod.__file__ == str(probe / "mod.py")
    assert hotprobe.mod.__cached__ == str(probe / "__pycache__" / f"mod.{sys.implementation.cache_tag}.pyc")
    assert hotprobe.sub.__path__ == [str(probe / "sub")] and hotprobe.sub.__spec__.parent == "hotprobe.sub"
    assert hotprobe.mod.__loader__.get_source("hotprobe.mod") == "VALUE = 'compiled'\n"


def test_changed_source_is_not_served_from_its_old_pyc(probe: Path) -> None:
    source = probe / "mod.py"
    source.write_text("VALUE = 'edited, same mtime second'\n")  # size differs from the .pyc's record
    import hotprobe.mod

    assert hotprobe.mod.VALUE == "edited, same mtime second"


def test_missing_pyc_and_missing_module_go_to_the_standard_machinery(probe: Path) -> None:
    for pyc in (probe / "__pycache__").iterdir():
        pyc.unlink()
    import hotprobe.mod

    assert hotprobe.mod.VALUE == "compiled"
    with pytest.raises(ModuleNotFoundError):
        import hotprobe.absent  # noqa: F401


def test_pyvirt_ships_no_extension_modules() -> None:
    """The finder tries a package, then NAME.py: an extension module would be found first by the
    standard finder, so none may appear in pyvirt without teaching the finder about it."""
    root = os.path.dirname(pyvirt.__file__)
    found = [os.path.join(d, f) for d, _, files in os.walk(root) if "node_modules" not in d
             for f in files if f.endswith((".so", ".pyd"))]
    assert found == []


def test_cli_run_serves_pyvirt_modules_through_the_finder() -> None:
    code = textwrap.dedent("""
        import sys
        from pyvirt.cli import main
        sys.argv = ["pyvirt", "-c", "test:///default", "list", "--all"]
        main.leave = lambda code: print(f"|{type(sys.modules['pyvirt.cli.run'].__loader__).__name__}|", code)
        main.run()
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60).stdout
    assert out.endswith("|Loader| 0\n") and " test " in out
