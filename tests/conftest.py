"""Shared pytest fixtures: the QEMU binary and the test guest.

Kept small and generic on purpose: every test layer (integration, e2e, benches' smoke tests)
uses these, so a machine without QEMU or without a built guest skips those tests with one
clear reason instead of failing them.

Tests that request ``test_guest`` or ``qemu_binary`` are marked ``qemu`` automatically, so
``pytest -m "not qemu"`` runs everything that needs no emulator.

The run starts by byte-compiling pyvirt and these helpers (``pytest_sessionstart``): the suite
starts pyvirtd, the CLI and the D-Bus bridge as subprocesses thousands of times, and where
PYTHONDONTWRITEBYTECODE is set (CI shells, this machine) an editable install without
``__pycache__`` recompiled every imported module in every one of them (a CLI call 1.4 s instead
of 0.2 s, a pyvirtd start seconds more).  An installed package is compiled by pip; this does the
same for the checkout, once, and only what changed since.
"""

from __future__ import annotations

import compileall
import os
import shutil
import subprocess
from pathlib import Path

import pytest

import pyvirt
from pyvirt.testguest import TestGuest, TestGuestMissing, find_test_guest

QEMU_FIXTURES = frozenset({"test_guest", "qemu_binary"})


def _skip_or_fail(reason: str) -> None:
    """Skip on a developer machine without QEMU; fail where PYVIRT_REQUIRE_QEMU=1 (`make test`,
    CI), so that a broken set-up can never pass as a green run of skipped tests."""
    if os.environ.get("PYVIRT_REQUIRE_QEMU") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def pytest_sessionstart(session: pytest.Session) -> None:
    """Byte-compile pyvirt and tests/ (see the module docstring): compileall writes the
    ``__pycache__`` files even under PYTHONDONTWRITEBYTECODE and skips modules already current."""
    for package in (Path(pyvirt.__file__).parent, Path(__file__).parent):
        compileall.compile_dir(package, quiet=1)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that needs QEMU as ``qemu`` (the marker is declared in pyproject.toml)."""
    for item in items:
        if QEMU_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.qemu)


def find_qemu() -> str | None:
    """Path of qemu-system-x86_64 on PATH, or None."""
    return shutil.which("qemu-system-x86_64")


@pytest.fixture(scope="session")
def qemu_binary() -> str:
    """qemu-system-x86_64's path; skips the test when QEMU is not installed."""
    path = find_qemu()
    if path is None:
        _skip_or_fail("qemu-system-x86_64 not installed (apt-get install qemu-system-x86)")
    return path


@pytest.fixture(scope="session")
def test_guest(qemu_binary: str) -> TestGuest:
    """The built test guest; skips with the build command when it has not been built."""
    try:
        return find_test_guest()
    except TestGuestMissing as exc:
        _skip_or_fail(str(exc))


@pytest.fixture
def guest_disk(test_guest: TestGuest, tmp_path: Path) -> Path:
    """A private qcow2 overlay on the guest's disk template, so tests never write the shared image."""
    overlay = tmp_path / "disk.qcow2"
    subprocess.run(
        ["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", str(test_guest.disk), str(overlay)],
        check=True,
    )
    return overlay
