"""bench/dbus.py runs end to end on a tiny case (benches print figures; they are never timed tests)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "dbus.py"


def test_dbus_bench_small_run(qemu_binary: str) -> None:
    out = subprocess.run([sys.executable, str(BENCH), "-n", "1", "--starts", "1", "--domains", "3", "--no-libvirt"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "pyvirt-dbus: 3 domains" in out.stderr
    assert "Connect.ListDomains (3)" in out.stdout and "Domain GetAll" in out.stdout
    assert "start: -> first ListDomains" in out.stdout
    assert "pyvirt-dbus" in out.stdout.split("RSS")[1]
