"""CLI start-up and listing latency, pyvirt next to virsh: medians of N runs and their ratio.

    python bench/cli.py [-n 20] [--daemon]

--daemon also times ``list --all`` against a session pyvirtd holding 1000 defined domains (it
defines them first, under a scratch XDG_RUNTIME_DIR/XDG_CONFIG_HOME) next to virsh against
libvirtd's qemu:///session (when one answers).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

PYVIRT = shutil.which("pyvirt") or os.path.join(os.path.dirname(sys.executable), "pyvirt")
VIRSH = shutil.which("virsh")


def median_ms(argv: list[str], n: int, env: dict[str, str] | None = None) -> float | None:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        times.append((time.perf_counter() - t) * 1000)
        if proc.returncode != 0:
            return None
    return statistics.median(times)


def row(label: str, ours: float | None, theirs: float | None) -> None:
    fmt = lambda v: f"{v:8.1f} ms" if v is not None else "     n/a   "  # noqa: E731
    ratio = f"{ours / theirs:5.2f}x" if ours and theirs else "  n/a"
    print(f"{label:<38} {fmt(ours)}  {fmt(theirs)}  {ratio}")


def daemon_case(n: int) -> None:
    scratch = tempfile.mkdtemp(prefix="pyvirt-bench-")
    env = {**os.environ, "XDG_RUNTIME_DIR": scratch, "XDG_CONFIG_HOME": scratch + "/config",
           "XDG_DATA_HOME": scratch + "/data"}
    uri = "qemu:///session"
    script = "; ".join(f"define {scratch}/d{i}.xml" for i in range(1000))
    for i in range(1000):
        with open(f"{scratch}/d{i}.xml", "w") as fh:
            fh.write(f"<domain type='qemu'><name>bench{i:04d}</name><memory unit='MiB'>64</memory>"
                     "<os><type arch='x86_64'>hvm</type></os></domain>")
    try:
        proc = subprocess.run([PYVIRT, "-q", "-c", uri, script], env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            print(f"daemon case skipped: defining 1000 domains failed: {proc.stderr.strip()[:200]}")
            return
        ours = median_ms([PYVIRT, "-c", uri, "list", "--all"], n, env)
        theirs = median_ms([VIRSH, "-c", uri, "list", "--all"], n) if VIRSH else None
        row("list --all, 1000 domains (daemon)", ours, theirs)
    finally:
        _stop_our_daemon(scratch)
        shutil.rmtree(scratch, ignore_errors=True)


def _stop_our_daemon(scratch: str) -> None:
    """The client auto-started a session pyvirtd in our scratch runtime dir: stop exactly that one."""
    import signal

    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/environ", "rb") as fh:
                environ = fh.read()
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                cmdline = fh.read()
        except OSError:
            continue
        if f"XDG_RUNTIME_DIR={scratch}".encode() in environ.split(b"\0") and b"pyvirt" in cmdline:
            os.kill(int(pid), signal.SIGTERM)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=20)
    ap.add_argument("--daemon", action="store_true", help="also time list --all against pyvirtd")
    args = ap.parse_args()
    print(f"{'median of ' + str(args.n):<38} {'pyvirt':>11}  {'virsh':>11}  ratio")
    virsh = [VIRSH] if VIRSH else None
    row("--version", median_ms([PYVIRT, "--version"], args.n),
        median_ms([*virsh, "--version"], args.n) if virsh else None)
    row("python -c pass (floor)", median_ms([sys.executable, "-c", "pass"], args.n), None)
    row("-c test:///default list --all", median_ms([PYVIRT, "-c", "test:///default", "list", "--all"], args.n),
        median_ms([*virsh, "-c", "test:///default", "list", "--all"], args.n) if virsh else None)
    if args.daemon:
        daemon_case(args.n)


if __name__ == "__main__":
    main()
