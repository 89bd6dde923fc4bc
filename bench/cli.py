"""CLI start-up and listing latency, pyvirt next to virsh: medians of N runs and their ratio.

    python bench/cli.py [-n 20] [--daemon] [--domains 1000]

Two figures per command: wall-clock time, and CPU time (user + system, from wait4).  On a host
shared with other jobs wall time mostly measures the scheduler (a 15 ms command can take 100 ms
waiting for a core); CPU time is what the command itself costs, so the ratio to virsh is read
off the CPU column there, and off the wall column on a quiet machine.

pyvirt's modules are byte-compiled first (``compileall``): with PYTHONDONTWRITEBYTECODE set (as
in some CI shells) every run would otherwise recompile them, which an installed pyvirt never does.

--daemon starts a private pyvirtd (its own PYVIRT_STATE_ROOT under a temp dir, as
tests/daemon_harness.py does), defines --domains inactive domains through the API, then times
``pyvirt list --all`` against it; also the round trip of one ``list_domains()`` call from a
warm client (the daemon's share of the command).  virsh's figure is its ``list --all`` against
libvirtd's qemu:///session when one answers, else n/a.
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
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import PrivateDaemon, compile_pyvirt, libvirt_daemons, small_domain_xml  # noqa: E402

PYVIRT = shutil.which("pyvirt") or os.path.join(os.path.dirname(sys.executable), "pyvirt")
VIRSH = shutil.which("virsh")

Figure = tuple[float, float]  # (wall ms, cpu ms) medians


def run_medians(argv: list[str], n: int, env: dict[str, str] | None = None) -> Figure | None:
    """Median wall and CPU milliseconds of `argv` over n runs; None if any run fails."""
    walls, cpus = [], []
    for _ in range(n):
        t = time.perf_counter()
        pid = os.fork()
        if pid == 0:  # child: quiet, then exec (fork+exec keeps wait4's rusage to this one command)
            try:
                fd = os.open(os.devnull, os.O_RDWR)
                for target in (0, 1, 2):
                    os.dup2(fd, target)
                os.execvpe(argv[0], argv, env if env is not None else os.environ)
            finally:
                os._exit(127)
        _, status, usage = os.wait4(pid, 0)
        walls.append((time.perf_counter() - t) * 1000)
        cpus.append((usage.ru_utime + usage.ru_stime) * 1000)
        if status != 0:
            return None
    return statistics.median(walls), statistics.median(cpus)


def row(label: str, ours: Figure | None, theirs: Figure | None) -> None:
    def cell(fig: Figure | None) -> str:
        return f"{fig[0]:7.1f} {fig[1]:6.1f}" if fig else f"{'n/a':>7} {'n/a':>6}"

    ratio = lambda i: f"{ours[i] / theirs[i]:5.2f}x" if ours and theirs else "  n/a"  # noqa: E731
    print(f"{label:<40} {cell(ours)}   {cell(theirs)}   {ratio(0)} {ratio(1)}")


def header(n: int) -> None:
    print(f"{'median of ' + str(n) + ' (ms)':<40} {'pyvirt wall/cpu':>14}   {'virsh wall/cpu':>14}   "
          "ratio wall/cpu")


def daemon_case(n: int, count: int, libvirt: bool) -> None:
    root = Path(tempfile.mkdtemp(prefix="pyvirt-bench-cli-"))
    daemon = PrivateDaemon(root)
    try:
        daemon.start()
        conn = daemon.connect()
        t = time.perf_counter()
        for i in range(count):
            conn.define_xml(small_domain_xml(f"bench{i:04d}"))
        define_s = time.perf_counter() - t
        listed = len(conn.list_domains())
        rtts = []
        for _ in range(n):
            t = time.perf_counter()
            conn.list_domains()
            rtts.append((time.perf_counter() - t) * 1000)
        env = {**os.environ, "PYVIRT_STATE_ROOT": str(root)}
        ours = run_medians([PYVIRT, "-c", "qemu:///session", "list", "--all"], n, env)
        theirs = libvirt_list(n, count, root) if libvirt else None
        row(f"list --all, {listed} domains (pyvirtd / libvirtd)", ours, theirs)
        print(f"  daemon share: list_domains() round trip from a warm client {statistics.median(rtts):.1f} ms "
              f"wall (median); defining {count} took {define_s:.1f} s")
    finally:
        daemon.stop()
        shutil.rmtree(root, ignore_errors=True)


def libvirt_list(n: int, count: int, workdir: Path) -> Figure | None:
    """`virsh list --all` against libvirtd (qemu:///system) holding `count` defined domains.

    The domains are defined and undefined in one virsh run each (virsh takes ;-separated
    commands), named pyvirt-bench-cli-NNNN so that nothing else of libvirt's is touched.
    """
    if not (VIRSH and shutil.which("libvirtd")):
        return None
    files = []
    for i in range(count):
        path = workdir / f"libvirt-{i:04d}.xml"
        path.write_text(small_domain_xml(f"pyvirt-bench-cli-{i:04d}"))
        files.append(path)
    names = [f"pyvirt-bench-cli-{i:04d}" for i in range(count)]
    try:
        with libvirt_daemons():
            define = subprocess.run([VIRSH, "-q", "-c", "qemu:///system", "; ".join(f"define {f}" for f in files)],
                                    capture_output=True, text=True, timeout=600)
            try:
                if define.returncode != 0:
                    print(f"libvirt: define failed: {define.stderr[-300:]}", file=sys.stderr)
                    return None
                return run_medians([VIRSH, "-c", "qemu:///system", "list", "--all"], n)
            finally:
                subprocess.run([VIRSH, "-q", "-c", "qemu:///system", "; ".join(f"undefine {x}" for x in names)],
                               capture_output=True, timeout=600)
    except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
        print(f"libvirt: {exc}; left out", file=sys.stderr)
        return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=20)
    ap.add_argument("--daemon", action="store_true", help="also time list --all against a private pyvirtd")
    ap.add_argument("--domains", type=int, default=1000, help="domains the daemon case defines")
    ap.add_argument("--libvirt", action="store_true",
                    help="with --daemon: the same listing by virsh against libvirtd (started only if not "
                         "running, stopped again if started here; its bench domains are undefined after)")
    args = ap.parse_args()
    compile_pyvirt()
    header(args.n)
    virsh = [VIRSH] if VIRSH else None
    row("--version", run_medians([PYVIRT, "--version"], args.n),
        run_medians([*virsh, "--version"], args.n) if virsh else None)
    row("python -c pass (floor)", run_medians([sys.executable, "-c", "pass"], args.n), None)
    row("-c test:///default list --all", run_medians([PYVIRT, "-c", "test:///default", "list", "--all"], args.n),
        run_medians([*virsh, "-c", "test:///default", "list", "--all"], args.n) if virsh else None)
    if args.daemon:
        daemon_case(args.n, args.domains, args.libvirt)


if __name__ == "__main__":
    main()
