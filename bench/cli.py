"""CLI start-up and listing latency, pyvirt next to virsh: medians of N runs and their ratio.

    python bench/cli.py [-n 20] [--daemon] [--domains 1000] [--libvirt] [--before-src OLD/src] [--instructions]

Two figures per command: wall-clock time, and CPU time (user + system, from wait4).  On a host
shared with other jobs wall time mostly measures the scheduler (a 15 ms command can take 100 ms
waiting for a core); CPU time is what the command itself costs, so the ratio to virsh is read
off the CPU column there, and off the wall column on a quiet machine.

pyvirt's modules are byte-compiled first (``compileall``): with PYTHONDONTWRITEBYTECODE set (as
in some CI shells) every run would otherwise recompile them, which an installed pyvirt never does.

Each pyvirt command is run alternately with its virsh counterpart (who goes first swaps every
pair), and the ratio printed is the median of the per-pair ratios.

--instructions adds, under each pair, the instructions one run of each side executes (valgrind's
callgrind total): unlike CPU time they do not move with the host's load (7 jobs on 2 cores
stretch CPU time by 2x and more), so they are the steadiest figure for a before/after.

--daemon starts a private pyvirtd (its own PYVIRT_STATE_ROOT under a temp dir, as
tests/daemon_harness.py does), defines --domains inactive domains through the API, then times
``pyvirt list --all`` against it; also the round trip of one ``list_domains()`` call from a
warm client (the daemon's share of the command).  With --libvirt, virsh's figure is its
``list --all`` against a private session libvirtd holding the same definitions.
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

from _common import PrivateDaemon, compile_pyvirt, pip_script, small_domain_xml  # noqa: E402

PYVIRT = shutil.which("pyvirt") or os.path.join(os.path.dirname(sys.executable), "pyvirt")
VIRSH = shutil.which("virsh")

Sample = tuple[float, float]  # (wall ms, cpu ms) of one run
INSTRUCTIONS = False  # --instructions: also each side's instruction count (valgrind)


def instructions(argv: list[str], env: dict[str, str] | None = None) -> int | None:
    """Instructions one run of `argv` executes, by valgrind's callgrind (None if it fails)."""
    out = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *argv],
                         capture_output=True, text=True, env=env, timeout=600)
    for line in out.stderr.splitlines():
        if "Collected :" in line:
            return int(line.rsplit(maxsplit=1)[-1])
    return None


def run_once(argv: list[str], env: dict[str, str] | None = None) -> Sample | None:
    """Wall and CPU milliseconds of one run of `argv`; None if it fails."""
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
    wall = (time.perf_counter() - t) * 1000
    return None if status != 0 else (wall, (usage.ru_utime + usage.ru_stime) * 1000)


def paired(label: str, ours: list[str], theirs: list[str] | None, n: int,
           env_ours: dict[str, str] | None = None, env_theirs: dict[str, str] | None = None) -> None:
    """Run the two commands alternately n times (who goes first swaps every pair, so drift in
    the machine's load hits both alike) and print medians with min-max, and the median of the
    per-pair ratios: on a shared host that ratio is steadier than a ratio of two medians."""
    a: list[Sample] = []
    b: list[Sample] = []
    for i in range(n):
        steps = [(ours, env_ours, a), (theirs, env_theirs, b)] if theirs else [(ours, env_ours, a)]
        for argv, env, out in (steps if i % 2 == 0 else steps[::-1]):
            sample = run_once(argv, env)
            if sample is None:
                print(f"{label}: {argv!r} failed", file=sys.stderr)
                return
            out.append(sample)

    def cell(data: list[Sample], k: int) -> str:
        values = [x[k] for x in data]
        return f"{statistics.median(values):6.1f} ({min(values):5.1f}-{max(values):5.1f})"

    def ratio(k: int) -> str:
        return f"{statistics.median(x[k] / y[k] for x, y in zip(a, b, strict=True)):5.2f}x" if b else "  n/a"

    ours_cells = f"{cell(a, 0)} {cell(a, 1)}"
    theirs_cells = f"{cell(b, 0)} {cell(b, 1)}" if b else f"{'n/a':>43}"
    print(f"{label:<34} {ours_cells}   {theirs_cells}   {ratio(0)} {ratio(1)}")
    if INSTRUCTIONS:
        mine = instructions(ours, env_ours)
        other = instructions(theirs, env_theirs) if theirs else None
        cells = [f"{'':<34} instructions: {mine / 1e6:.1f}M" if mine else f"{'':<34} instructions: failed"]
        if other:
            cells.append(f"the other side {other / 1e6:.1f}M" + (f" ({mine / other:.2f}x)" if mine else ""))
        print(", ".join(cells))


def header(n: int) -> None:
    print(f"{n} pairs, alternating; ms: median (min-max)")
    print(f"{'':<34} {'pyvirt wall':>21} {'pyvirt cpu':>21}   {'virsh wall':>21} {'virsh cpu':>21}   "
          "ratio wall/cpu (median of pairs)")


def daemon_case(n: int, count: int, libvirt: bool) -> None:
    """`list --all` with `count` defined domains: pyvirtd vs a private session libvirtd holding
    the same definitions, the two listed alternately."""
    from _rom import SessionLibvirtd

    root = Path(tempfile.mkdtemp(prefix="pyvirt-bench-cli-"))
    daemon = PrivateDaemon(root / "state")
    lv: SessionLibvirtd | None = None
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
        theirs = None
        if libvirt and (why := SessionLibvirtd.available()) is None:
            lv = SessionLibvirtd(Path(tempfile.mkdtemp(prefix="pvlv-", dir="/tmp")))
            lv.start()
            xml = root / "defs"
            xml.mkdir()
            files = []
            for i in range(count):
                path = xml / f"{i:04d}.xml"
                path.write_text(small_domain_xml(f"bench{i:04d}"))
                files.append(str(path))
            lv.virsh("; ".join(f"define {f}" for f in files))
            theirs = [VIRSH or "virsh", "-c", lv.uri, "list", "--all"]
        elif libvirt:
            print(f"libvirt: {why}; left out", file=sys.stderr)
        env = {**os.environ, "PYVIRT_STATE_ROOT": str(daemon.root)}
        paired(f"list --all, {listed} domains", [PYVIRT, "-c", "qemu:///session", "list", "--all"], theirs, n,
               env)
        print(f"  daemon share: list_domains() round trip from a warm client {statistics.median(rtts):.1f} ms "
              f"wall (median); defining {count} took {define_s:.1f} s")
    finally:
        daemon.stop()
        if lv is not None:
            lv.stop()
            shutil.rmtree(lv.root, ignore_errors=True)
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=20)
    ap.add_argument("--daemon", action="store_true", help="also time list --all against a private pyvirtd")
    ap.add_argument("--domains", type=int, default=1000, help="domains the daemon case defines")
    ap.add_argument("--libvirt", action="store_true",
                    help="with --daemon: the same listing by virsh against a private session libvirtd "
                         "(bench/_rom.py: its own user, state dir and network namespace)")
    ap.add_argument("--before-src", default=None,
                    help="an older tree's src/ dir: its CLI paired with this one's (the 'virsh' columns then "
                         "hold the older tree's figures, the ratio is this tree's over the older one's)")
    ap.add_argument("--instructions", action="store_true",
                    help="also the instructions one run of each side executes (valgrind; load-independent)")
    args = ap.parse_args()
    global INSTRUCTIONS
    INSTRUCTIONS = args.instructions and shutil.which("valgrind") is not None
    compile_pyvirt()
    header(args.n)
    virsh = [VIRSH] if VIRSH else None
    paired("--version", [PYVIRT, "--version"], virsh and [*virsh, "--version"], args.n)
    # the launcher runs the interpreter without site.py (pyvirt/cli/launcher.py): that is the floor
    paired("python -S -c pass / virsh -v", [sys.executable, "-S", "-c", "pass"], virsh and [*virsh, "-v"],
           args.n)
    paired("-c test:///default list --all", [PYVIRT, "-c", "test:///default", "list", "--all"],
           virsh and [*virsh, "-c", "test:///default", "list", "--all"], args.n)
    if args.before_src:
        compile_pyvirt(args.before_src)
        old = {**os.environ, "PYTHONPATH": os.path.abspath(args.before_src)}
        folder = Path(tempfile.mkdtemp(prefix="pyvirt-bench-cli-"))
        older = pip_script(folder)
        print(f"\nthis tree vs --before-src {args.before_src} (same pairing; right-hand columns: the older tree,"
              " run through pip's console script)")
        try:
            paired("--version", [PYVIRT, "--version"], [older, "--version"], args.n, env_theirs=old)
            paired("-c test:///default list --all", [PYVIRT, "-c", "test:///default", "list", "--all"],
                   [older, "-c", "test:///default", "list", "--all"], args.n, env_theirs=old)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    if args.daemon:
        daemon_case(args.n, args.domains, args.libvirt)


if __name__ == "__main__":
    main()
