"""Domain lifecycle figures of pyvirtd next to bare QEMU running the same machine, in one run.

Measured (medians of --runs runs, raw and pyvirt interleaved so load hits both alike):
1. start to the guest's READY line on the serial console: bare QEMU (exec to marker on its
   stdout) vs pyvirt (``conn.start()`` call to marker on the console stream);
2. how long ``conn.start()`` itself takes to return;
3. destroy of a running guest: ``conn.destroy()`` vs SIGTERM-to-reaped for bare QEMU;
4. ``conn.list_domains()`` with --domains defined (inactive) domains;
5. --batch guests started at once until all printed READY, both ways;
6. pyvirtd's VmRSS when fresh, and with --domains defined and --batch running.

The libvirt column holds figures measured earlier with libvirt 9.0 on the reference machine,
for comparison only; this bench does not start libvirtd (its default network would change the
host's bridges and firewall under other jobs).

The bench owns everything it starts: a private pyvirtd on a temporary state root, its guests,
the bare QEMUs; all are torn down (and the state root removed) on exit, error or SIGTERM.

Usage: python bench/lifecycle.py [--runs N] [--quick]
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import signal
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402 - bench/ is not a package; its helpers sit next to it
    READY_MARKER,
    PrivateDaemon,
    RawQemu,
    guest_xml,
    median,
    ms,
    raw_qemu_command,
    small_domain_xml,
    wait_all_markers,
)

if TYPE_CHECKING:
    from pyvirt.client.remote import RemoteConnection

# libvirt 9.0 on the reference machine (same guest, same method), and the targets pyvirt aims at.
LIBVIRT = {"boot_overhead": 330.0, "start_return": 355.0, "destroy": 224.0,
           "rss_idle": 38.0, "rss_loaded": 49.0}
TARGETS = {"boot_overhead": "< +30", "destroy": "< 50", "list": "< 20"}


@dataclass
class Row:
    label: str
    raw: float | None
    ours: float | None
    libvirt: str = "-"
    target: str = "-"
    unit: str = "ms"


def log(msg: str) -> None:
    """Progress goes to stderr so that stdout is only the table."""
    print(f"[lifecycle] {msg}", file=sys.stderr, flush=True)


def pyvirt_boot(conn: RemoteConnection, name: str, timeout: float = 180.0) -> tuple[float, float, float]:
    """Start *name*; return (t_call, t_returned, t_marker) as perf_counter stamps."""
    t_call = time.perf_counter()
    conn.start(name)
    t_ret = time.perf_counter()
    deadline = time.monotonic() + timeout
    seen = b""
    with conn.open_console(name, history=True) as console:
        while READY_MARKER.encode() not in seen:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{READY_MARKER} not seen on {name}: {seen[-300:]!r}")
            try:
                data = console.read(65536, timeout=left)
            except TimeoutError:
                continue
            if not data:
                raise EOFError(f"console of {name} closed before {READY_MARKER}: {seen[-300:]!r}")
            seen = (seen + data)[-4096:]
    return t_call, t_ret, time.perf_counter()


def bench_single(conn: RemoteConnection, guest_name: str, raw_cmd: tuple[list[str], dict[str, str]],
                 top: Path, runs: int, live: list[RawQemu]) -> list[Row]:
    boot_raw, boot_ours, start_ret, destroy_raw, destroy_ours = [], [], [], [], []

    def raw_run() -> None:
        q = RawQemu(*raw_cmd, top / "raw-qemu.log")
        live.append(q)
        boot_raw.append(ms(q.wait_marker()))
        destroy_raw.append(ms(q.terminate()))
        live.remove(q)

    def our_run() -> None:
        t_call, t_ret, t_marker = pyvirt_boot(conn, guest_name)
        boot_ours.append(ms(t_marker - t_call))
        start_ret.append(ms(t_ret - t_call))
        t = time.perf_counter()
        conn.destroy(guest_name)
        destroy_ours.append(ms(time.perf_counter() - t))

    # One unmeasured boot each way first: page cache (kernel, initrd, QEMU's own libraries) and
    # the daemon's lazy imports would otherwise be charged to whichever side ran first.
    raw_run()
    our_run()
    for lst in (boot_raw, boot_ours, start_ret, destroy_raw, destroy_ours):
        lst.clear()
    for i in range(runs):
        # alternate which side goes first, so a drift in machine load does not favour one
        for step in ((raw_run, our_run) if i % 2 == 0 else (our_run, raw_run)):
            step()
        log(f"run {i + 1}/{runs}: boot raw {boot_raw[-1]:.0f} pyvirt {boot_ours[-1]:.0f} ms, "
            f"start() {start_ret[-1]:.0f} ms, destroy raw {destroy_raw[-1]:.1f} pyvirt {destroy_ours[-1]:.1f} ms")
    return [
        Row("start -> serial READY", median(boot_raw), median(boot_ours),
            f"+{LIBVIRT['boot_overhead']:.0f}", TARGETS["boot_overhead"]),
        Row("start() returns", None, median(start_ret), f"{LIBVIRT['start_return']:.0f}"),
        Row("destroy running guest", median(destroy_raw), median(destroy_ours),
            f"{LIBVIRT['destroy']:.0f}", TARGETS["destroy"]),
    ]


def bench_list(conn: RemoteConnection, count: int, iterations: int) -> Row:
    t = time.perf_counter()
    for i in range(count):
        conn.define_xml(small_domain_xml(f"bench-small-{i:04}"))
    log(f"defined {count} domains in {time.perf_counter() - t:.1f} s")
    times = []
    for _ in range(iterations):
        t = time.perf_counter()
        doms = conn.list_domains()
        times.append(ms(time.perf_counter() - t))
    if len(doms) < count:
        raise RuntimeError(f"list_domains returned {len(doms)} domains, defined {count}")
    return Row(f"list_domains, {len(doms)} defined", None, median(times), "-", TARGETS["list"])


def bench_batch(conn: RemoteConnection, names: list[str], raw_cmd: tuple[list[str], dict[str, str]],
                top: Path, runs: int, live: list[RawQemu], daemon: PrivateDaemon) -> tuple[Row, int]:
    """Both batch figures; also the daemon's RSS while the batch runs (the 'loaded' figure)."""
    raw_times, our_times = [], []
    rss_loaded = 0

    def raw_run() -> None:
        t0 = time.perf_counter()
        qemus = []
        for _ in names:
            q = RawQemu(*raw_cmd, top / "raw-qemu.log")
            live.append(q)
            qemus.append(q)
        wait_all_markers(qemus, READY_MARKER, timeout=600)
        raw_times.append(ms(max(q.marker_at or 0.0 for q in qemus) - t0))
        for q in qemus:
            q.terminate()
            live.remove(q)

    def our_run() -> None:
        nonlocal rss_loaded
        t0 = time.perf_counter()
        with ThreadPoolExecutor(max_workers=len(names)) as pool:
            ends = list(pool.map(lambda n: pyvirt_boot(conn, n, timeout=600)[2], names))
        our_times.append(ms(max(ends) - t0))
        rss_loaded = max(rss_loaded, daemon.rss_kib())
        with ThreadPoolExecutor(max_workers=len(names)) as pool:
            list(pool.map(conn.destroy, names))

    for i in range(runs):
        for step in ((raw_run, our_run) if i % 2 == 0 else (our_run, raw_run)):
            step()
        log(f"batch run {i + 1}/{runs}: raw {raw_times[-1]:.0f} ms, pyvirt {our_times[-1]:.0f} ms")
    return Row(f"{len(names)} started at once, all READY", median(raw_times), median(our_times)), rss_loaded


def print_table(rows: list[Row], runs: int) -> None:
    print(f"pyvirt lifecycle bench: medians of {runs} run(s); raw QEMU measured in the same run")
    header = f"{'':40} {'raw QEMU':>10} {'pyvirt':>10} {'overhead':>10} {'libvirt 9.0':>12} {'target':>8}"
    print(header)
    print("-" * len(header))
    for r in rows:
        raw = f"{r.raw:10.1f}" if r.raw is not None else f"{'-':>10}"
        ours = f"{r.ours:10.1f}" if r.ours is not None else f"{'-':>10}"
        over = f"{r.ours - r.raw:+10.1f}" if r.raw is not None and r.ours is not None else f"{'-':>10}"
        print(f"{r.label + ' (' + r.unit + ')':40} {raw} {ours} {over} {r.libvirt:>12} {r.target:>8}")
    print("libvirt 9.0: figures measured earlier on the reference machine (not in this run).")


def _terminate(signum: int, frame: FrameType | None) -> None:
    """SIGTERM unwinds through the cleanup like Ctrl-C does."""
    raise SystemExit(128 + signum)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5, help="runs per single-guest figure (default 5)")
    ap.add_argument("--batch-runs", type=int, default=3, help="runs of the N-at-once figure (default 3)")
    ap.add_argument("--batch", type=int, default=10, help="guests started at once (default 10)")
    ap.add_argument("--domains", type=int, default=1000, help="defined domains to list (default 1000)")
    ap.add_argument("--list-iterations", type=int, default=20, help="list_domains calls timed (default 20)")
    ap.add_argument("--dir", default=None, help="where to put the temporary state root")
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: 1 run, 2 guests at once, 50 domains (figures not meaningful)")
    args = ap.parse_args(argv)
    if args.quick:
        args.runs, args.batch_runs, args.batch, args.domains, args.list_iterations = 1, 1, 2, 50, 5
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from pyvirt.testguest import TestGuestMissing, find_test_guest

    try:
        guest = find_test_guest()
    except TestGuestMissing as exc:
        print(f"lifecycle bench: {exc}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _terminate)
    top = Path(tempfile.mkdtemp(prefix="pyvirt-bench-lifecycle-", dir=args.dir))
    daemon = PrivateDaemon(top / "state")
    live: list[RawQemu] = []
    conn: RemoteConnection | None = None
    try:
        daemon.start()
        conn = daemon.connect()
        time.sleep(0.5)  # let start-up allocations settle before reading the idle figure
        rss_idle = daemon.rss_kib()

        xml = guest_xml(guest, "bench-boot")
        conn.define_xml(xml)
        raw_cmd = raw_qemu_command(xml, top / "raw")
        log(f"pyvirtd pid {daemon.pid}, state {top}; single-guest runs: {args.runs}")
        rows = bench_single(conn, "bench-boot", raw_cmd, top, args.runs, live)
        rows.append(bench_list(conn, args.domains, args.list_iterations))

        names = [f"bench-batch-{i:02}" for i in range(args.batch)]
        for name in names:
            conn.define_xml(guest_xml(guest, name))
        batch_row, rss_loaded = bench_batch(conn, names, raw_cmd, top, args.batch_runs, live, daemon)
        rows.append(batch_row)
        rows.append(Row("pyvirtd RSS, fresh", None, rss_idle / 1024, f"{LIBVIRT['rss_idle']:.0f}",
                        unit="MiB"))
        rows.append(Row(f"pyvirtd RSS, {args.domains} def + {args.batch} run", None, rss_loaded / 1024,
                        f"{LIBVIRT['rss_loaded']:.0f}", unit="MiB"))
        print_table(rows, args.runs)
        return 0
    finally:
        for q in list(live):
            q.kill()
        if conn is not None:
            with contextlib.suppress(Exception):
                for info in conn.list_domains():
                    if info.id >= 0:
                        with contextlib.suppress(Exception):
                            conn.destroy(info.name)
        daemon.stop()
        shutil.rmtree(top, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
