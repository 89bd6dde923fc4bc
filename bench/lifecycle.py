"""Domain lifecycle figures of pyvirtd next to bare QEMU running the same machine, in one run.

Measured (medians of --runs runs, raw and pyvirt interleaved so load hits both alike):
1. start to the guest's READY line on the serial console: bare QEMU (exec to marker on its
   stdout) vs pyvirt (``conn.start()`` call to marker on the console stream);
2. how long ``conn.start()`` itself takes to return;
3. destroy of a running guest: ``conn.destroy()`` vs SIGTERM-to-reaped for bare QEMU;
4. ``conn.list_domains()`` with --domains defined (inactive) domains;
5. --batch guests started at once until all printed READY, both ways;
6. pyvirtd's VmRSS when fresh, and with --domains defined and --batch running.

The 'libvirt ref' column holds figures measured earlier with libvirt 9.0 on the reference
machine. With --libvirt the same measurements also go through libvirtd (qemu:///system, via the
system Python's libvirt binding, serial read from the guest's pty) into the 'libvirt now'
column; virtlogd/libvirtd are started only if not running and stopped again if the bench started
them, and only guests named pyvirt-bench-* are created (and removed) there. No libvirt network
is started, so the host's bridges and firewall are left alone.

The bench owns everything it starts: a private pyvirtd on a temporary state root, its guests,
the bare QEMUs (and libvirtd's bench guests); all are torn down (and the state root removed) on exit, error or SIGTERM.

7. pyvirtd's CPU while the --batch guests boot with nobody on their consoles, per second of the
   QEMUs' CPU (the daemon should be idle: every ms it spends is taken from the guests);
8. start -> marker of a firmware-only guest (a 64 KiB ROM that writes to COM1 at once, see
   bench/_rom.py): bare QEMU, ``pyvirt start`` as a user runs it, pyvirt's API, and with
   --libvirt ``virsh start`` against a private session libvirtd (its own user and network
   namespace), all interleaved; medians of --firmware-runs rounds with min/max. --firmware runs
   only this part (it needs no test guest).

Usage: python bench/lifecycle.py [--runs N] [--quick] [--libvirt] [--firmware] [--firmware-runs N]
       [--before-src OLD/src]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402 - bench/ is not a package; its helpers sit next to it
    READY_MARKER,
    PrivateDaemon,
    RawQemu,
    cpu_ms,
    guest_xml,
    libvirt_daemons,
    median,
    ms,
    raw_qemu_command,
    small_domain_xml,
    wait_all_markers,
)
from _firmware import bench_firmware, print_firmware  # noqa: E402

from pyvirt.client.expect import wait_for_output  # noqa: E402 - stdlib only
from pyvirt.testguest import TestGuest, TestGuestMissing, find_test_guest  # noqa: E402 - stdlib only

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
    measured_libvirt: str = "-"


def log(msg: str) -> None:
    """Progress goes to stderr so that stdout is only the table."""
    print(f"[lifecycle] {msg}", file=sys.stderr, flush=True)


def pyvirt_boot(conn: RemoteConnection, name: str, timeout: float = 180.0) -> tuple[float, float, float]:
    """Start *name*; return (t_call, t_returned, t_marker) as perf_counter stamps."""
    t_call = time.perf_counter()
    conn.start(name)
    t_ret = time.perf_counter()
    wait_for_output(conn, name, READY_MARKER, timeout)
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
    log(f"boot overhead from the fastest runs (less sensitive to other jobs' load): "
        f"{min(boot_ours) - min(boot_raw):+.1f} ms")
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
    raw_times, our_times, daemon_cpu = [], [], []
    rss_loaded = 0
    clients = {n: daemon.connect() for n in names}

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
        cpu0 = daemon.cpu_ms()
        t0 = time.perf_counter()
        with ThreadPoolExecutor(max_workers=len(names)) as pool:  # a client each: one HTTP stream is one caller's
            ends = list(pool.map(lambda n: pyvirt_boot(clients[n], n, timeout=600)[2], names))
        our_times.append(ms(max(ends) - t0))
        daemon_cpu.append(daemon.cpu_ms() - cpu0)
        rss_loaded = max(rss_loaded, daemon.rss_kib())
        with ThreadPoolExecutor(max_workers=len(names)) as pool:
            list(pool.map(lambda n: clients[n].destroy(n), names))

    for i in range(runs):
        for step in ((raw_run, our_run) if i % 2 == 0 else (our_run, raw_run)):
            step()
        log(f"batch run {i + 1}/{runs}: raw {raw_times[-1]:.0f} ms, pyvirt {our_times[-1]:.0f} ms "
            f"(pyvirtd used {daemon_cpu[-1]:.0f} ms CPU, consoles watched by the bench's clients)")
    return Row(f"{len(names)} started at once, all READY", median(raw_times), median(our_times)), rss_loaded


def bench_unwatched(names: list[str], daemon: PrivateDaemon, window: float) -> Row:
    """pyvirtd's CPU while the batch boots with nobody on the consoles, as a share of the QEMUs':
    every ms the daemon spends on a small host is taken from the guests."""
    clients = {n: daemon.connect() for n in names}  # one HTTP stream is one caller's
    with ThreadPoolExecutor(max_workers=len(names)) as pool:
        list(pool.map(lambda n: clients[n].start(n), names))
    pids = daemon.qemu_pids()
    cpu0, qemu0, t0 = daemon.cpu_ms(), cpu_ms(pids), time.perf_counter()
    time.sleep(window)
    ours, qemus = daemon.cpu_ms() - cpu0, cpu_ms(pids) - qemu0
    elapsed = time.perf_counter() - t0
    with ThreadPoolExecutor(max_workers=len(names)) as pool:
        list(pool.map(lambda n: clients[n].destroy(n), names))
    log(f"unwatched boot of {len(names)}: {elapsed:.1f} s, pyvirtd {ours:.0f} ms CPU, QEMUs {qemus:.0f} ms CPU")
    return Row(f"pyvirtd CPU, {len(names)} booting unwatched", None, 1000 * ours / max(qemus, 1.0),
               unit="ms/s guest CPU")


# ---------------------------------------------------------------------------- libvirt (optional)

LV_PREFIX = "pyvirt-bench-"


def _pty_marker(path: str, deadline: float) -> float:
    """perf_counter stamp when READY shows on a libvirt guest's serial pty."""
    import select

    fd = os.open(path, os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK)
    try:
        seen = b""
        while READY_MARKER.encode() not in seen:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{READY_MARKER} not seen on {path}: {seen[-300:]!r}")
            if select.select([fd], [], [], left)[0]:
                with contextlib.suppress(BlockingIOError):
                    seen = (seen + os.read(fd, 65536))[-4096:]
        return time.perf_counter()
    finally:
        os.close(fd)


def libvirt_worker(spec: dict[str, Any]) -> dict[str, Any]:
    """The same measurements through libvirt's Python binding; runs under the system Python.

    Serial output is read from the guest's pty (libvirt's `<serial type='pty'>`), opened right
    after create() returns, as `virsh console` would; the time to look the pty up is included,
    as pyvirt's open_console is.
    """
    import libvirt  # the system package; the project's venv does not have it

    conn = libvirt.open("qemu:///system")
    guest = TestGuest(directory=Path(spec["dir"]), kernel=Path(spec["kernel"]), initrd=Path(spec["initrd"]),
                      disk=Path(spec["kernel"]), cmdline=spec["cmdline"])
    pidfile = Path("/run/libvirtd.pid")
    rss = lambda: int(next(line.split()[1] for line in Path(f"/proc/{pidfile.read_text().strip()}/status")  # noqa: E731
                           .read_text().splitlines() if line.startswith("VmRSS:")))
    out: dict[str, Any] = {"rss_idle_kib": rss()}

    def boot(name: str) -> tuple[float, float, float]:
        dom = conn.lookupByName(name)
        t_call = time.perf_counter()
        dom.create()
        t_ret = time.perf_counter()
        xml = dom.XMLDesc()
        path = xml.split("<serial type='pty'>", 1)[1].split("<source path='", 1)[1].split("'", 1)[0]
        return t_call, t_ret, _pty_marker(path, time.monotonic() + 600)

    try:
        boot_name = LV_PREFIX + "boot"
        conn.defineXML(guest_xml(guest, boot_name))
        dom = conn.lookupByName(boot_name)
        boots, rets, destroys = [], [], []
        for i in range(spec["runs"] + 1):  # the first one warms up and is not counted
            t_call, t_ret, t_marker = boot(boot_name)
            t = time.perf_counter()
            dom.destroy()
            destroy = time.perf_counter() - t
            if i:
                boots.append(ms(t_marker - t_call))
                rets.append(ms(t_ret - t_call))
                destroys.append(ms(destroy))
                log(f"libvirt run {i}/{spec['runs']}: boot {boots[-1]:.0f} ms, start {rets[-1]:.0f} ms, "
                    f"destroy {destroys[-1]:.1f} ms")
        out.update(boot=median(boots), start_return=median(rets), destroy=median(destroys))

        for i in range(spec["domains"]):
            conn.defineXML(small_domain_xml(f"{LV_PREFIX}small-{i:04}"))
        one_call, per_domain = [], []
        for _ in range(spec["list_iterations"]):
            t = time.perf_counter()
            stats = conn.getAllDomainStats(libvirt.VIR_DOMAIN_STATS_STATE)
            one_call.append(ms(time.perf_counter() - t))
            t = time.perf_counter()
            listed = [(d.name(), d.state()) for d in conn.listAllDomains()]
            per_domain.append(ms(time.perf_counter() - t))
        log(f"libvirt list of {len(stats)}: getAllDomainStats(STATE) {median(one_call):.1f} ms, "
            f"listAllDomains + state() each (as virsh list --all) {median(per_domain):.1f} ms "
            f"({len(listed)} domains)")
        out.update(list=median(one_call), list_virsh=median(per_domain))

        names = [f"{LV_PREFIX}batch-{i:02}" for i in range(spec["batch"])]
        for name in names:
            conn.defineXML(guest_xml(guest, name))
        batch, rss_loaded = [], 0
        for i in range(spec["batch_runs"]):
            t0 = time.perf_counter()
            with ThreadPoolExecutor(max_workers=len(names)) as pool:
                ends = list(pool.map(lambda n: boot(n)[2], names))
            batch.append(ms(max(ends) - t0))
            rss_loaded = max(rss_loaded, rss())
            for name in names:
                conn.lookupByName(name).destroy()
            log(f"libvirt batch run {i + 1}/{spec['batch_runs']}: {batch[-1]:.0f} ms")
        out.update(batch=median(batch), rss_loaded_kib=rss_loaded)
        return out
    finally:
        for dom in conn.listAllDomains():
            if dom.name().startswith(LV_PREFIX):
                with contextlib.suppress(libvirt.libvirtError):
                    if dom.isActive():
                        dom.destroy()
                with contextlib.suppress(libvirt.libvirtError):
                    dom.undefine()
        conn.close()


def run_libvirt(args: argparse.Namespace, guest: TestGuest, top: Path) -> dict[str, Any] | None:
    """Start virtlogd/libvirtd if they are not running, run the worker, stop what we started.

    Returns None (with a note on stderr) when libvirt is not usable here.
    """
    system_python = "/usr/bin/python3"
    if not (shutil.which("libvirtd") and shutil.which("virtlogd") and os.path.exists(system_python)):
        log("libvirt: libvirtd/virtlogd or the system python not found; skipped")
        return None
    if subprocess.run([system_python, "-c", "import libvirt"], capture_output=True).returncode != 0:
        log("libvirt: the system python has no libvirt binding (python3-libvirt); skipped")
        return None
    try:
        with libvirt_daemons(log):
            return _libvirt_worker(args, guest, top, system_python)
    except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
        log(f"libvirt: {exc}; libvirt column left out")
        return None


def _libvirt_worker(args: argparse.Namespace, guest: TestGuest, top: Path,
                    system_python: str) -> dict[str, Any] | None:
    """Run the libvirt half in the system python (which has the libvirt binding)."""
    # QEMU runs as libvirt-qemu under libvirtd: give it a kernel and initrd it can read
    lvdir = top / "libvirt"
    lvdir.mkdir()
    top.chmod(0o755)
    lvdir.chmod(0o755)
    kernel, initrd = lvdir / "vmlinuz", lvdir / "initrd.img"
    shutil.copyfile(guest.kernel, kernel)
    shutil.copyfile(guest.initrd, initrd)
    spec = {"dir": str(lvdir), "kernel": str(kernel), "initrd": str(initrd), "cmdline": guest.cmdline,
            "runs": args.runs, "batch": args.batch, "batch_runs": args.batch_runs,
            "domains": args.domains, "list_iterations": args.list_iterations}
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1] / "src"))
    proc = subprocess.run([system_python, __file__, "--libvirt-worker", json.dumps(spec)], env=env,
                          stdout=subprocess.PIPE, text=True, timeout=1800)
    if proc.returncode != 0:
        log(f"libvirt: worker failed (exit {proc.returncode}); libvirt column left out")
        return None
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def print_table(rows: list[Row], runs: int) -> None:
    print(f"pyvirt lifecycle bench: medians of {runs} run(s); raw QEMU measured in the same run")
    header = (f"{'':40} {'raw QEMU':>10} {'pyvirt':>10} {'overhead':>10} {'libvirt now':>12} "
              f"{'libvirt ref':>12} {'target':>8}")
    print(header)
    print("-" * len(header))
    for r in rows:
        raw = f"{r.raw:10.1f}" if r.raw is not None else f"{'-':>10}"
        ours = f"{r.ours:10.1f}" if r.ours is not None else f"{'-':>10}"
        over = f"{r.ours - r.raw:+10.1f}" if r.raw is not None and r.ours is not None else f"{'-':>10}"
        print(f"{r.label + ' (' + r.unit + ')':40} {raw} {ours} {over} {r.measured_libvirt:>12} "
              f"{r.libvirt:>12} {r.target:>8}")
    print("overhead: pyvirt - raw QEMU. libvirt now: libvirtd measured in this run (--libvirt; boot as\n"
          "overhead over this run's raw QEMU). libvirt ref: libvirt 9.0 figures measured earlier.")


def add_libvirt(rows: list[Row], lv: dict[str, Any]) -> None:
    """Fill the 'libvirt now' column; rows are in the order main() builds them."""
    boot, ret, destroy, listing, batch, idle, loaded = rows
    if boot.raw is not None:
        boot.measured_libvirt = f"{lv['boot'] - boot.raw:+.1f}"
    ret.measured_libvirt = f"{lv['start_return']:.1f}"
    destroy.measured_libvirt = f"{lv['destroy']:.1f}"
    listing.measured_libvirt = f"{lv['list']:.1f}"
    batch.measured_libvirt = f"{lv['batch']:.1f}"
    idle.measured_libvirt = f"{lv['rss_idle_kib'] / 1024:.1f}"
    loaded.measured_libvirt = f"{lv['rss_loaded_kib'] / 1024:.1f}"


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
    ap.add_argument("--libvirt", action="store_true",
                    help="also measure libvirtd (qemu:///system), starting virtlogd/libvirtd if not running "
                         "and stopping what it started")
    ap.add_argument("--libvirt-worker", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--firmware", action="store_true",
                    help="only the firmware-only guest's start -> marker figures (no test guest needed)")
    ap.add_argument("--firmware-runs", type=int, default=15, help="rounds of the firmware figure (default 15)")
    ap.add_argument("--before-src", default=None,
                    help="with --firmware: also a pyvirtd and CLI run from this source tree (an older commit's "
                         "src/, e.g. from `git archive`), in the same rounds: before/after")
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: 1 run, 2 guests at once, 50 domains (figures not meaningful)")
    args = ap.parse_args(argv)
    if args.quick:
        args.runs, args.batch_runs, args.batch, args.domains, args.list_iterations = 1, 1, 2, 50, 5
        args.firmware_runs = 3
    return args


def firmware_only(args: argparse.Namespace) -> int:
    """Only the firmware-only guest: a private pyvirtd (and libvirtd with --libvirt), no kernel."""
    signal.signal(signal.SIGTERM, _terminate)
    top = Path(tempfile.mkdtemp(prefix="pyvirt-bench-fw-", dir=args.dir))
    daemon = PrivateDaemon(top / "state")
    old = PrivateDaemon(top / "before") if args.before_src else None
    try:
        daemon.start()
        conn = daemon.connect()
        before = None
        if old is not None:
            src = str(Path(args.before_src).resolve())
            old.start(env={"PYTHONPATH": src})
            before = (old, old.connect(), src)
        fw = bench_firmware(top / "firmware", daemon, conn, args.firmware_runs, args.libvirt, before)
        print_firmware(fw, args.firmware_runs)
        return 0
    finally:
        daemon.stop()
        if old is not None:
            old.stop()
        shutil.rmtree(top, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.libvirt_worker is not None:  # child under the system python, see run_libvirt()
        print(json.dumps(libvirt_worker(json.loads(args.libvirt_worker))))
        return 0
    if args.firmware:
        return firmware_only(args)
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
        unwatched = bench_unwatched(names, daemon, 5.0 if args.quick else 30.0)
        if args.libvirt:
            for info in conn.list_domains():
                if info.id >= 0:
                    conn.destroy(info.name)
            lv = run_libvirt(args, guest, top)
            if lv is not None:
                add_libvirt(rows, lv)
        print_table([*rows, unwatched], args.runs)
        fw = bench_firmware(top / "firmware", daemon, conn, args.firmware_runs, args.libvirt)
        print_firmware(fw, args.firmware_runs)
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
