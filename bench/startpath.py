"""pyvirtd's own share of a start, until QEMU's exec: instructions and CPU, this tree next to an older one.

    python bench/startpath.py [--runs 200] [--before-src OLD/src] [--no-instructions]

What the guest waits for on pyvirtd's side is the work between a start request reaching the
driver and QEMU's exec: the stored definition parsed, the checks, the command line, the runtime
record.  This runs that path in-process on a QemuDriver over a temporary state root, for the
firmware-only guest of ``bench/lifecycle.py --firmware``, with the spawn replaced by a stop: each
start goes as far as the exec and then gives back what it took, as a start failing there does
(the same cleanup in every tree, so differences are the path's own).  Before each start the
definition is held as its stored text, as an idle domain is (``DomainRecord.compact``).

Figures: instructions per start (valgrind; the difference between a worker doing 1 start and one
doing 1 + K, divided by K, so the interpreter and the imports cancel out) and the CPU of one start
(``time.thread_time``, median and min of --runs).  The HTTP layer and QEMU are not in them: see
``bench/lifecycle.py --firmware`` for start -> guest output as a user sees it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

K = 10  # starts the second instruction-count worker does beyond the first's one


class _AtExec(Exception):
    """Raised where QEMU would be exec'ed."""


async def _starts(root: Path, count: int) -> list[float]:
    """`count` starts of the firmware guest stopped at the spawn; each one's CPU in ms."""
    from pyvirt.daemon.driver import QemuDriver
    from pyvirt.paths import state_paths
    from pyvirt.qemu import process
    from pyvirt.testguest import rom_domain_xml, rom_image

    def at_exec(*_args: object, **_kwargs: object) -> None:
        raise _AtExec

    process.spawn_detached = at_exec  # type: ignore[assignment]
    rom = root / "rom.bin"
    rom.write_bytes(rom_image())
    drv = QemuDriver(state_paths("qemu:///session", root / "state"))
    await drv.load()
    await drv.define_xml(rom_domain_xml("bench-rom", rom, root / "serial.log"))
    rec = drv.lookup("bench-rom")
    spent = []
    for _ in range(count):
        rec.compact()
        t = time.thread_time()
        with contextlib.suppress(_AtExec):
            await drv.start("bench-rom")
        spent.append((time.thread_time() - t) * 1000)
    return spent


def worker(count: int) -> None:
    root = Path(tempfile.mkdtemp(prefix="pyvirt-bench-startpath-"))
    try:
        spent = asyncio.run(_starts(root, count))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(" ".join(f"{x:.4f}" for x in spent))


def _run_worker(src: str, count: int, valgrind: bool) -> tuple[list[float], int | None]:
    env = dict(os.environ, PYTHONPATH=src)
    argv = [sys.executable, __file__, "--worker", str(count)]
    if valgrind:
        argv = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *argv]
    out = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=1800)
    if out.returncode != 0:
        raise RuntimeError(f"worker failed: {out.stderr[-2000:]}")
    instructions = None
    for line in out.stderr.splitlines():
        if "Collected :" in line:
            instructions = int(line.rsplit(maxsplit=1)[-1])
    return [float(x) for x in out.stdout.split()], instructions


def measure(src: str, runs: int, instructions: bool) -> dict[str, float]:
    from _common import compile_pyvirt

    compile_pyvirt(src)
    spent, _ = _run_worker(src, runs + 1, valgrind=False)
    spent = spent[1:]  # the first start probes the emulator and imports what starts need
    figures = {"cpu median": statistics.median(spent), "cpu min": min(spent)}
    if instructions:
        _, one = _run_worker(src, 1, valgrind=True)
        _, more = _run_worker(src, 1 + K, valgrind=True)
        if one is not None and more is not None:
            figures["instructions"] = (more - one) / K
    return figures


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=200, help="starts timed for the CPU figure (default 200)")
    ap.add_argument("--before-src", default=None, help="an older tree's src/ dir, measured the same way")
    ap.add_argument("--no-instructions", action="store_true", help="leave out the valgrind figure")
    ap.add_argument("--worker", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker is not None:
        worker(args.worker)
        return
    here = str(Path(__file__).resolve().parent.parent / "src")
    trees = [("this tree", here)] + ([("before", str(Path(args.before_src).resolve()))] if args.before_src else [])
    use_valgrind = not args.no_instructions and shutil.which("valgrind") is not None
    print(f"pyvirtd's start path until QEMU's exec (firmware guest), {args.runs} starts per tree")
    print(f"{'':<12}{'instructions':>14}{'cpu median ms':>16}{'cpu min ms':>12}")
    for label, src in trees:
        f = measure(src, args.runs, use_valgrind)
        instr = f"{f['instructions'] / 1e6:.2f}M" if "instructions" in f else "n/a"
        print(f"{label:<12}{instr:>14}{f['cpu median']:16.3f}{f['cpu min']:12.3f}", flush=True)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
