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
    assert "--no-libvirt" in out.stdout and "--p2p" in out.stdout


def test_web_bench_help() -> None:
    out = subprocess.run([sys.executable, str(BENCH.with_name("web.py")), "--help"], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "--guests" in out.stdout and "--runs" in out.stdout


def test_scale_bench_help() -> None:
    out = subprocess.run([sys.executable, str(BENCH.with_name("scale.py")), "--help"], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "--guests" in out.stdout and "--clients" in out.stdout and "--libvirt" in out.stdout


def test_firmware_rom_jumps_from_the_reset_vector_to_its_code() -> None:
    from pyvirt.testguest import ROM_MARKER, rom_image

    rom = rom_image()
    assert len(rom) == 64 * 1024 and rom[0xFFF0] == 0xE9  # jmp near at F000:FFF0
    target = (0xFFF3 + int.from_bytes(rom[0xFFF1:0xFFF3], "little")) & 0xFFFF
    assert target == 0 and rom[:3] == b"\xba\xf8\x03"  # mov dx, 0x3f8 (COM1)
    assert bytes(rom[4:3 * len(ROM_MARKER) + 3:3]) == ROM_MARKER.encode()  # mov al, c; out dx, al ...


def test_network_bench_help() -> None:
    out = subprocess.run([sys.executable, str(BENCH.with_name("network.py")), "--help"], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "--runs" in out.stdout and "--guest-runs" in out.stdout


def test_startpath_bench_help() -> None:
    out = subprocess.run([sys.executable, str(BENCH.with_name("startpath.py")), "--help"], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "--before-src" in out.stdout and "--runs" in out.stdout
