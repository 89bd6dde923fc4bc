"""Fixtures shared by the security tests."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def open_root() -> Iterator[Path]:
    """A state root an unprivileged QEMU may search (0711 under /var/tmp), as an administrator's
    /var/lib/pyvirt is: pytest's own tmp dirs are 0700, which only root QEMUs can pass."""
    path = Path(tempfile.mkdtemp(prefix="pyvirt-sec-", dir="/var/tmp"))
    path.chmod(0o711)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def root_system_state(root: Path) -> tuple[object, Path]:
    """(paths, rom) of a qemu:///system state under `root` whose QEMU runs as root (qemu.conf),
    with the firmware-only test guest's ROM: for tests of what only a root system daemon does."""
    from pyvirt.paths import state_paths
    from pyvirt.testguest import rom_image

    paths = state_paths("qemu:///system", root)
    paths.ensure()
    (paths.config / "qemu.conf").write_text('user = "root"\ngroup = "root"\n')
    rom = root / "rom.bin"
    rom.write_bytes(rom_image())
    return paths, rom
