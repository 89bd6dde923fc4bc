"""Oracle test for `dump` on test:///default: the same command lines through the real virsh and
pyvirt give the same stdout, stderr, exit status and file.

virsh runs its dump in a job thread that now and then hangs on a loaded machine (as `save` does,
see test_saves_oracle.py): a virsh run that times out is tried again, a few times.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

VIRSH = shutil.which("virsh")
pytestmark = pytest.mark.skipif(VIRSH is None, reason="virsh (libvirt-clients) not installed")
PYVIRT = [sys.executable, "-m", "pyvirt.cli.main"]


def _run(tool: list[str], line: str, cwd: Path) -> tuple[str, str, int, bytes | None]:
    for _attempt in range(4):
        core = cwd / "core"
        core.unlink(missing_ok=True)
        try:
            proc = subprocess.run([*tool, "-c", "test:///default", line], capture_output=True, text=True,
                                  timeout=8, cwd=cwd, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            continue
        return proc.stdout, proc.stderr, proc.returncode, core.read_bytes() if core.exists() else None
    pytest.skip(f"{tool[0]} kept hanging in its dump job thread")


@pytest.mark.parametrize("line", [
    "dump test core; list --all",
    "dump test core --verbose",
    "dump test core --crash; domstate test --reason",
    "dump test core --live; dump test core --reset; dump test core --bypass-cache; dump test core --memory-only",
    "dump test core --crash --reset; dump test core --format kdump-zlib; dump test core --memory-only --format x",
    "dump test {dir}/missing/core; dump test {dir}",
    "destroy test; dump test core; dump nosuch core",
])
def test_dump_same_as_virsh(line: str, tmp_path: Path) -> None:
    line = line.format(dir=tmp_path)
    ours = _run(PYVIRT, line, tmp_path)
    assert ours == _run([VIRSH], line, tmp_path)
    if line.startswith("dump test core;"):
        assert ours[3] == b"TestGuestMagic\0"
