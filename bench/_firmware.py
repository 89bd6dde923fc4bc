"""Start -> marker of the firmware-only guest: bare QEMU, ``pyvirt start``, pyvirt's API, ``virsh start``.

All sides run in one loop, their order rotated every round, so a change in machine load moves
every column alike; each figure is the median of the rounds with its min and max. The commands
are run as a user runs them (a new ``pyvirt``/``virsh`` process each time: interpreter start-up,
connect, request, QEMU start-up), and the clock stops when the ROM's marker is in the serial file.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from _common import PrivateDaemon, compile_pyvirt, median, ms, pip_script, raw_qemu_command
from _rom import ROM_MARKER, SessionLibvirtd, rom_domain_xml, wait_file_marker, write_rom

if TYPE_CHECKING:
    from pyvirt.client.remote import RemoteConnection

NAME = "bench-rom"
PYVIRT = shutil.which("pyvirt") or os.path.join(os.path.dirname(sys.executable), "pyvirt")


def _log(msg: str) -> None:
    print(f"[firmware] {msg}", file=sys.stderr, flush=True)


def _unlink(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def _timed_command(argv: list[str], serial: Path, env: dict[str, str] | None = None) -> tuple[float, float]:
    """(ms to marker, ms until the command exited), both from just before the exec."""
    _unlink(serial)
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    marker = exited = None
    deadline = time.monotonic() + 60
    while marker is None or exited is None:
        if marker is None and ROM_MARKER.encode() in _read(serial):
            marker = time.perf_counter()
        if exited is None and proc.poll() is not None:
            exited = time.perf_counter()
            if proc.returncode != 0:
                err = proc.stderr.read() if proc.stderr else b""
                raise RuntimeError(f"{argv!r} failed: {err.decode(errors='replace')[-300:]}")
        if time.monotonic() > deadline:
            proc.kill()
            raise TimeoutError(f"{argv!r}: no marker in {serial}")
        time.sleep(0.0005)
    if proc.stderr:
        proc.stderr.close()
    return ms(marker - t0), ms(exited - t0)


def _read(path: Path) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read(65536)
    except FileNotFoundError:
        return b""


def bench_firmware(top: Path, daemon: PrivateDaemon, conn: RemoteConnection, runs: int,
                   libvirt: bool, before: tuple[PrivateDaemon, RemoteConnection, str] | None = None
                   ) -> dict[str, list[float]]:
    """Rounds of every side; returns each side's samples in ms (after one unmeasured warm-up).
    `before`: a second pyvirtd running an older source tree (its src/ dir), measured in the same
    rounds through the CLI (a before/after comparison that load cannot skew)."""
    compile_pyvirt()
    top.mkdir(parents=True, exist_ok=True)
    top.chmod(0o755)
    for parent in top.parents:  # the private libvirtd's user must reach the ROM
        if parent == Path("/") or parent.stat().st_mode & 0o005 == 0o005:
            break
        parent.chmod(parent.stat().st_mode | 0o005)
    rom = write_rom(top / "rom.bin")
    raw_serial = top / "raw-serial.log"
    raw_argv, raw_env = raw_qemu_command(rom_domain_xml(NAME, rom, raw_serial), top / "raw")
    samples: dict[str, list[float]] = {"raw QEMU": []}

    def raw() -> None:
        _unlink(raw_serial)
        t0 = time.perf_counter()
        proc = subprocess.Popen(raw_argv, env=raw_env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            samples["raw QEMU"].append(ms(wait_file_marker(raw_serial, proc=proc) - t0))
        finally:
            proc.kill()
            proc.wait(10)

    def pyvirt_sides(prefix: str, daemon: PrivateDaemon, conn: RemoteConnection,
                     src: str | None) -> list[Callable[[], None]]:
        serial = top / f"{prefix or 'pyvirt'}-serial.log".replace(" ", "-")
        conn.define_xml(rom_domain_xml(NAME, rom, serial))
        env = dict(os.environ, PYVIRT_STATE_ROOT=str(daemon.root))
        cli_path = PYVIRT
        if src is not None:  # the older tree as it was installed: pip's console script
            env["PYTHONPATH"] = src
            cli_path = pip_script(top)
        cli, exits, api = (f"{prefix}pyvirt start (CLI)", f"{prefix}pyvirt CLI exits", f"{prefix}pyvirt API start()")
        samples.update({cli: [], exits: [], api: []})

        def ours_cli() -> None:
            marker, done = _timed_command([cli_path, "-c", "qemu:///session", "start", NAME], serial, env)
            samples[cli].append(marker)
            samples[exits].append(done)
            if src is None:
                conn.destroy(NAME)
            else:  # an older daemon speaks an older API: its own CLI stops the guest
                subprocess.run([cli_path, "-q", "-c", "qemu:///session", "destroy", NAME], env=env, check=True,
                               capture_output=True, timeout=60)

        def ours_api() -> None:
            _unlink(serial)
            t0 = time.perf_counter()
            conn.start(NAME)
            samples[api].append(ms(wait_file_marker(serial) - t0))
            conn.destroy(NAME)

        if src is not None:
            del samples[api]  # this (newer) client's API calls need not be an older daemon's
            return [ours_cli]
        return [ours_cli, ours_api]

    sides: list[Callable[[], None]] = [raw, *pyvirt_sides("", daemon, conn, None)]
    if before is not None:
        sides += pyvirt_sides("before: ", *before)
    lv: SessionLibvirtd | None = None
    if libvirt:
        why = SessionLibvirtd.available()
        if why is None:
            # a short root: QEMU's monitor socket path under it must fit in sun_path
            lv = SessionLibvirtd(Path(tempfile.mkdtemp(prefix="pvlv-", dir="/tmp")))
            try:
                lv.start()
            except (OSError, RuntimeError) as exc:
                _log(f"libvirt: {exc}; left out")
                shutil.rmtree(lv.root, ignore_errors=True)
                lv = None
        else:
            _log(f"libvirt: {why}; left out")
    try:
        if lv is not None:
            lv_serial = lv.owned_dir(top / "libvirt-serial") / "serial.log"
            (top / "lv-rom.xml").write_text(rom_domain_xml(NAME, rom, lv_serial))
            lv.virsh("define", str(top / "lv-rom.xml"))
            samples["virsh start (libvirtd)"] = []
            assert lv is not None
            daemon_lv = lv

            def theirs() -> None:
                marker, _ = _timed_command(["virsh", "-c", daemon_lv.uri, "start", NAME], lv_serial)
                samples["virsh start (libvirtd)"].append(marker)
                daemon_lv.virsh("destroy", NAME)

            sides.append(theirs)
        for side in sides:  # warm-up: page cache, the daemons' lazy imports and probes
            side()
        for values in samples.values():
            values.clear()
        for i in range(runs):
            order = sides[i % len(sides):] + sides[:i % len(sides)]
            for side in order:
                side()
            _log(f"round {i + 1}/{runs}: " + ", ".join(f"{k} {v[-1]:.0f}" for k, v in samples.items() if v))
    finally:
        with contextlib.suppress(Exception):
            if conn.get_info(NAME).active:
                conn.destroy(NAME)
        if lv is not None:
            lv.stop()
            shutil.rmtree(lv.root, ignore_errors=True)
    return samples


def print_firmware(samples: dict[str, list[float]], runs: int) -> None:
    raw = median(samples["raw QEMU"])
    print(f"\nfirmware-only guest (64 KiB ROM writing to COM1), start -> marker in the serial file; "
          f"{runs} rounds, sides interleaved")
    print(f"{'':28} {'median':>8} {'min':>8} {'max':>8} {'over raw':>9}  (ms)")
    for label, values in samples.items():
        if not values:
            continue
        over = "" if label == "raw QEMU" else f"{median(values) - raw:+9.1f}"
        print(f"{label:28} {median(values):8.1f} {min(values):8.1f} {max(values):8.1f} {over:>9}")
