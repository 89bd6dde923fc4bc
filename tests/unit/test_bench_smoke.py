"""The lifecycle bench at least parses its options (benches print figures; they are never timed tests)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "lifecycle.py"


def test_lifecycle_bench_help() -> None:
    # --help exits before touching QEMU or starting a daemon, so this runs without the test guest
    out = subprocess.run([sys.executable, str(BENCH), "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "--runs" in out.stdout and "--quick" in out.stdout


def test_snapshot_bench_help() -> None:
    out = subprocess.run([sys.executable, str(BENCH.with_name("snapshot.py")), "--help"], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "--runs" in out.stdout and "--libvirt" in out.stdout


def test_migrate_bench_help() -> None:
    out = subprocess.run([sys.executable, str(BENCH.with_name("migrate.py")), "--help"], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "--runs" in out.stdout and "--memory" in out.stdout


def test_web_bench_help() -> None:
    out = subprocess.run([sys.executable, str(BENCH.with_name("web.py")), "--help"], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "--guests" in out.stdout and "--runs" in out.stdout
