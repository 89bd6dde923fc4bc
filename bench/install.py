"""pyvirt-install figures, each next to its reference measured in the same run.

1. XML generation: ``pyvirt-install … --print-xml --dry-run`` against test:///default vs the
   installed ``virt-install`` (the oracle) doing the same, medians of --runs alternating runs.
2. A full install to a booted guest: ``pyvirt-install --import --boot kernel=…`` against a
   private pyvirtd, from exec to the test guest's READY line on the serial console, next to
   bare QEMU running the very machine pyvirt-install generated (its --print-xml output, turned
   into pyvirt's argv without the daemon plumbing: see _common.raw_qemu_command).

Usage: python bench/install.py [--runs N] [--boot-runs N]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import READY_MARKER, PrivateDaemon, RawQemu, median, ms, raw_qemu_command  # noqa: E402

from pyvirt.testguest import find_test_guest  # noqa: E402

XML_ARGS = ["--connect", "test:///default", "--name", "bench", "--memory", "512",
            "--osinfo", "linux2022", "--import", "--disk", "none", "--network", "user",
            "--print-xml", "--dry-run"]
PYVIRT_INSTALL = [sys.executable, "-m", "pyvirt.cli.install"]


def _timed(cmd: list[str], env: dict[str, str] | None = None) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env=env, stdin=subprocess.DEVNULL)
    return time.perf_counter() - t


def bench_xml(runs: int) -> None:
    oracle = shutil.which("virt-install")
    ours, theirs = [], []
    for _ in range(runs):
        ours.append(ms(_timed(PYVIRT_INSTALL + XML_ARGS)))
        if oracle:
            theirs.append(ms(_timed([oracle, *XML_ARGS])))
    print(f"{'XML generation (--print-xml --dry-run)':44} {'pyvirt ms':>10} {'virt-install ms':>16} {'ratio':>7}")
    ref = median(theirs) if theirs else float("nan")
    print(f"{'  test:///default, linux2022, --import':44} {median(ours):10.1f} {ref:16.1f} "
          f"{median(ours) / ref if theirs else float('nan'):7.2f}")


def _install_cmd(guest, name: str) -> list[str]:  # type: ignore[no-untyped-def]
    return PYVIRT_INSTALL + [
        "--connect", "qemu:///session", "--name", name, "--memory", "256", "--import",
        "--boot", f'kernel={guest.kernel},initrd={guest.initrd},kernel_args="{guest.cmdline}"',
        "--disk", "none", "--network", "user", "--graphics", "none", "--noautoconsole",
        "--virt-type", "qemu", "--osinfo", "linux2022"]


def _console_marker(conn, name: str, start: float, timeout: float = 180.0) -> float:  # type: ignore[no-untyped-def]
    with conn.open_console(name, history=True) as console:
        seen = b""
        while READY_MARKER.encode() not in seen:
            if time.perf_counter() - start > timeout:
                raise TimeoutError(f"no {READY_MARKER} from {name}")
            with contextlib.suppress(TimeoutError):
                data = console.read(65536, timeout=5)
                if not data:
                    raise EOFError(f"console of {name} closed")
                seen += data
    return time.perf_counter() - start


def bench_boot(runs: int) -> None:
    guest = find_test_guest()
    top = Path(tempfile.mkdtemp(prefix="pyvirt-bench-install-"))
    daemon = PrivateDaemon(top / "state")
    raw: RawQemu | None = None
    try:
        daemon.start()
        env = dict(os.environ, PYVIRT_STATE_ROOT=str(daemon.root),
                   XDG_CACHE_HOME=str(top / "cache"))
        xml = subprocess.run(_install_cmd(guest, "bench-raw") + ["--print-xml"], env=env,
                             check=True, capture_output=True, text=True).stdout
        raw_cmd = raw_qemu_command(xml, top / "raw")
        conn = daemon.connect()
        cli, marker, bare = [], [], []
        for i in range(runs):
            raw = RawQemu(*raw_cmd, top / "raw-qemu.log")
            bare.append(ms(raw.wait_marker()))
            raw.terminate()
            raw = None
            name = f"bench-{i}"
            start = time.perf_counter()
            subprocess.run(_install_cmd(guest, name), env=env, check=True, capture_output=True,
                           stdin=subprocess.DEVNULL)
            cli.append(ms(time.perf_counter() - start))
            marker.append(ms(_console_marker(conn, name, start)))
            conn.destroy(name)
            conn.undefine(name)
        print(f"{'install to READY on the console':44} {'pyvirt ms':>10} {'bare QEMU ms':>16} {'ratio':>7}")
        print(f"{'  exec to READY (TCG)':44} {median(marker):10.1f} {median(bare):16.1f} "
              f"{median(marker) / median(bare):7.2f}")
        print(f"{'  pyvirt-install process alone':44} {median(cli):10.1f}")
    finally:
        if raw is not None:
            raw.kill()
        for pid in daemon.qemu_pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, 9)
        daemon.stop()
        shutil.rmtree(top, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=9, help="XML generation runs (each side)")
    ap.add_argument("--boot-runs", type=int, default=3, help="full install-to-READY runs")
    a = ap.parse_args()
    bench_xml(a.runs)
    if a.boot_runs:
        bench_boot(a.boot_runs)


if __name__ == "__main__":
    main()
