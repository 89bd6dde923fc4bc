"""Scale: many guests at once (started paused: real QEMU processes, little CPU) plus many defined.

    python bench/scale.py [--guests 50] [--domains 1000] [--clients 1,4,16] [--libvirt] [--before-src OLD/src]

The guests are the firmware-only ROM guest of pyvirt.testguest (16 MiB, no kernel, no disk), so
a few hundred fit on a small host; ``--guests 200`` gives the full figure. Measured, for pyvirtd
and (with --libvirt) a private session libvirtd holding the same definitions, in the same run:

- daemon RSS fresh, with --domains defined, and with --guests running: RSS per running guest;
- start (paused) and destroy throughput, guests/s, with each --clients count of concurrent clients;
- list of every domain with its state, and domain stats of every domain: the state group, and the
  seven groups both answer (STATS_GROUPS) (median ms, min-max);
- event latency under load: suspend/resume of one guest, from the call to its event arriving;
- daemon restart with every guest running: time until each one answers a call that needs its
  monitor re-attached (a suspend of a paused guest waits for that guest's re-attach).

libvirt's half runs under the system Python (its libvirt binding) as ``--libvirt-worker``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # the libvirt worker's python

from _common import median, rss_kib  # noqa: E402 - bench/ is not a package; stdlib and pyvirt.testguest only

from pyvirt.testguest import rom_domain_xml, rom_image  # noqa: E402 - stdlib only

#: the domain stats groups both stacks answer (virsh domstats without options asks these and more)
STATS_GROUPS = ("state", "cpu-total", "balloon", "vcpu", "interface", "block", "dirtyrate")

SMALL = ("<domain type='qemu'><name>{}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
         "<os><type arch='x86_64' machine='pc'>hvm</type></os></domain>")


def log(msg: str) -> None:
    print(f"[scale] {msg}", file=sys.stderr, flush=True)


def stats_ms(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"median": ordered[len(ordered) // 2], "min": ordered[0], "max": ordered[-1]}


def timed(fn: Any, repeat: int) -> dict[str, float]:
    return stats_ms(samples(fn, repeat))


def throughput(names: list[str], clients: int, call: Any) -> float:
    """guests/s for `call(name)` over every name, `clients` calls in flight at a time."""
    t = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(call, names))
    return len(names) / (time.perf_counter() - t)


class Side:
    """One management stack under test: what the measurements need of it."""

    def pid(self) -> int: raise NotImplementedError
    def define(self, xml: str) -> None: raise NotImplementedError
    def start_paused(self, name: str) -> None: raise NotImplementedError
    def destroy(self, name: str) -> None: raise NotImplementedError
    def suspend(self, name: str) -> None: raise NotImplementedError
    def resume(self, name: str) -> None: raise NotImplementedError
    def list_all(self) -> int: raise NotImplementedError
    def info(self, name: str) -> Any: raise NotImplementedError
    def stats_all(self) -> int: raise NotImplementedError
    def stats_groups(self) -> int: raise NotImplementedError
    def event_latency(self, name: str, rounds: int) -> dict[str, float]: raise NotImplementedError
    def stop_daemon(self) -> None: raise NotImplementedError
    def start_daemon(self, env: dict[str, str] | None = None) -> None: raise NotImplementedError


def measure(side: Side, args: argparse.Namespace, rom: Path) -> dict[str, Any]:
    out: dict[str, Any] = {"rss_fresh_kib": rss_kib(side.pid())}
    for i in range(args.domains):
        side.define(SMALL.format(f"scale-def-{i:04}"))
    names = [f"scale-run-{i:03}" for i in range(args.guests)]
    for name in names:
        side.define(rom_domain_xml(name, rom))
    time.sleep(0.5)
    out["rss_defined_kib"] = rss_kib(side.pid())
    out["throughput"] = {}
    for clients in args.clients:
        up = throughput(names, clients, side.start_paused)
        down = throughput(names, clients, side.destroy)
        out["throughput"][clients] = {"start": up, "destroy": down}
        log(f"{type(side).__name__}: {clients} client(s): start {up:.1f}/s, destroy {down:.1f}/s")
    throughput(names, max(args.clients), side.start_paused)
    time.sleep(1.0)
    out["rss_running_kib"] = rss_kib(side.pid())
    out["list"] = timed(side.list_all, 20)
    out["stats"] = timed(side.stats_all, 20)
    out["stats_groups"] = timed(side.stats_groups, 10)
    out["info"] = timed(lambda: side.info(names[len(names) // 2]), 50)
    out["listed"] = side.list_all()
    out["events"] = side.event_latency(names[0], 20)
    side.stop_daemon()  # the guests keep running
    out["restart_s"] = restart(side, names)
    if getattr(args, "before_src", None):
        out["restart_pairs"] = restart_pairs(side, names, args.before_src, args.restarts)
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(side.destroy, names))
    return out


def restart(side: Side, names: list[str], env: dict[str, str] | None = None) -> float:
    """Seconds from starting the (stopped) daemon until every guest answered a suspend: a paused
    guest's suspend returns once its monitor is re-attached."""
    t = time.perf_counter()
    side.start_daemon(env)
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(side.suspend, names))
    return time.perf_counter() - t


def samples(fn: Any, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def restart_pairs(side: Side, names: list[str], before_src: str, rounds: int) -> dict[str, list[float]]:
    """Restarts alternating the daemon of an older tree (PYTHONPATH=before_src) and this one,
    over the same guests and definitions: before/after in the same minutes of machine load.
    After each restart, 10 lists, 10 domain stats (state) and 5 of the 7 groups from that daemon
    (this tree's client for both: the daemon's share before/after)."""
    src = str(Path(before_src).resolve())
    times: dict[str, list[float]] = {"before": [], "after": [], "list_before": [], "list_after": [],
                                     "stats_before": [], "stats_after": []}
    for i in range(rounds):
        for label in ("before", "after") if i % 2 == 0 else ("after", "before"):
            side.stop_daemon()
            times[label].append(restart(side, names, {"PYTHONPATH": src} if label == "before" else None))
            side.list_all()  # the first of each is not counted (the daemon's first listing)
            side.stats_all()
            times[f"list_{label}"] += samples(side.list_all, 10)
            times[f"stats_{label}"] += samples(side.stats_all, 10)
            times.setdefault(f"groups_{label}", []).extend(samples(side.stats_groups, 5))
            log(f"restart {label}: {times[label][-1]:.2f} s")
    return times


# ---------------------------------------------------------------------------- pyvirt

class Pyvirt(Side):
    def __init__(self, root: Path) -> None:
        from _common import PrivateDaemon

        self.daemon = PrivateDaemon(root)
        self.daemon.start(timeout=300)
        self.local = threading.local()

    @property
    def conn(self) -> Any:  # one client per thread: a connection is one HTTP stream
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = self.daemon.connect()
        return conn

    def pid(self) -> int:
        return self.daemon.pid

    def define(self, xml: str) -> None:
        self.conn.define_xml(xml)

    def start_paused(self, name: str) -> None:
        self.conn.start(name, paused=True)

    def destroy(self, name: str) -> None:
        self.conn.destroy(name)

    def suspend(self, name: str) -> None:
        self.conn.suspend(name)

    def resume(self, name: str) -> None:
        self.conn.resume(name)

    def list_all(self) -> int:
        return len(self.conn.list_domains())

    def stats_all(self) -> int:
        return len(self.conn.domain_stats(None, ["state"]))

    def stats_groups(self) -> int:
        return len(self.conn.domain_stats(None, list(STATS_GROUPS)))

    def info(self, name: str) -> Any:
        return self.conn.get_info(name)

    def event_latency(self, name: str, rounds: int) -> dict[str, float]:
        stream = self.conn.subscribe(name, timeout=30)
        it = iter(stream)
        out = []
        try:
            for i in range(rounds):
                call = self.resume if i % 2 == 0 else self.suspend
                t = time.perf_counter()
                call(name)
                next(it)
                out.append((time.perf_counter() - t) * 1000)
        finally:
            stream.close()
        if rounds % 2:
            self.suspend(name)
        return stats_ms(out)

    def stop_daemon(self) -> None:
        self.daemon.stop(kill_guests=False)
        self.local = threading.local()

    def start_daemon(self, env: dict[str, str] | None = None) -> None:
        self.daemon.start(timeout=300, env=env)

    def close(self) -> None:
        self.daemon.stop()


# ---------------------------------------------------------------------------- libvirt

class Libvirt(Side):
    """libvirt's Python binding against a private session libvirtd (bench/_rom.py)."""

    def __init__(self, uri: str, daemon_pid: int, control: Any) -> None:
        import libvirt

        self.libvirt = libvirt
        self.uri = uri
        self._pid = daemon_pid
        self._control = control
        self._conns: list[Any] = []
        self.local = threading.local()

    @property
    def conn(self) -> Any:
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = self.libvirt.open(self.uri)
            self._conns.append(conn)
        return conn

    def pid(self) -> int:
        return self._pid

    def define(self, xml: str) -> None:
        self.conn.defineXML(xml)

    def start_paused(self, name: str) -> None:
        self.conn.lookupByName(name).createWithFlags(self.libvirt.VIR_DOMAIN_START_PAUSED)

    def destroy(self, name: str) -> None:
        self.conn.lookupByName(name).destroy()

    def suspend(self, name: str) -> None:
        self.conn.lookupByName(name).suspend()

    def resume(self, name: str) -> None:
        self.conn.lookupByName(name).resume()

    def list_all(self) -> int:
        return len([(d.name(), d.state()) for d in self.conn.listAllDomains()])

    def stats_all(self) -> int:
        return len(self.conn.getAllDomainStats(self.libvirt.VIR_DOMAIN_STATS_STATE))

    def stats_groups(self) -> int:
        lv = self.libvirt
        return len(self.conn.getAllDomainStats(
            lv.VIR_DOMAIN_STATS_STATE | lv.VIR_DOMAIN_STATS_CPU_TOTAL | lv.VIR_DOMAIN_STATS_BALLOON
            | lv.VIR_DOMAIN_STATS_VCPU | lv.VIR_DOMAIN_STATS_INTERFACE | lv.VIR_DOMAIN_STATS_BLOCK
            | lv.VIR_DOMAIN_STATS_DIRTYRATE))

    def info(self, name: str) -> Any:
        return self.conn.lookupByName(name).info()  # what virsh dominfo asks first

    def event_latency(self, name: str, rounds: int) -> dict[str, float]:
        lv = self.libvirt
        lv.virEventRegisterDefaultImpl()
        conn = lv.open(self.uri)
        arrived = threading.Event()
        stop = threading.Event()

        def loop() -> None:
            while not stop.is_set():
                lv.virEventRunDefaultImpl()

        runner = threading.Thread(target=loop, daemon=True)
        runner.start()
        cb = conn.domainEventRegisterAny(conn.lookupByName(name), lv.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                         lambda *a: arrived.set(), None)
        out = []
        try:
            for i in range(rounds):
                arrived.clear()
                t = time.perf_counter()
                (self.resume if i % 2 == 0 else self.suspend)(name)
                if not arrived.wait(30):
                    raise TimeoutError("no lifecycle event from libvirtd")
                out.append((time.perf_counter() - t) * 1000)
        finally:
            conn.domainEventDeregisterAny(cb)
            stop.set()
            conn.close()
        if rounds % 2:
            self.suspend(name)
        return stats_ms(out)

    def stop_daemon(self) -> None:
        for conn in self._conns:
            with contextlib.suppress(Exception):
                conn.close()
        self._conns.clear()
        self.local = threading.local()
        self._control("STOP")

    def start_daemon(self, env: dict[str, str] | None = None) -> None:
        self._pid = int(self._control("START"))


def libvirt_worker(spec: dict[str, Any]) -> dict[str, Any]:
    """Runs under the system Python; the session libvirtd is restarted through the parent, which
    owns it, by a line on stdout/stdin."""
    def control(word: str) -> str:
        print(word, flush=True)
        return sys.stdin.readline().strip()

    args = argparse.Namespace(guests=spec["guests"], domains=spec["domains"], clients=spec["clients"])
    side = Libvirt(spec["uri"], spec["pid"], control)
    return measure(side, args, Path(spec["rom"]))


def run_libvirt(args: argparse.Namespace, rom: Path) -> dict[str, Any] | None:
    from _rom import SessionLibvirtd

    system_python = "/usr/bin/python3"
    why = SessionLibvirtd.available()
    if why is None and subprocess.run([system_python, "-c", "import libvirt"], capture_output=True).returncode:
        why = "the system python has no libvirt binding (python3-libvirt)"
    if why is not None:
        log(f"libvirt: {why}; left out")
        return None
    lv = SessionLibvirtd(Path(tempfile.mkdtemp(prefix="pvlv-", dir="/tmp")))
    try:
        lv.start()
        spec = {"uri": lv.uri, "pid": lv.pid(), "rom": str(rom), "guests": args.guests, "domains": args.domains,
                "clients": args.clients}
        proc = subprocess.Popen([system_python, __file__, "--libvirt-worker", json.dumps(spec)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert proc.stdin is not None and proc.stdout is not None
        for line in proc.stdout:
            if line.strip() in ("STOP", "START"):
                if line.strip() == "STOP":
                    lv.stop(kill_guests=False)
                else:
                    lv.start()
                proc.stdin.write(f"{lv.pid() if lv.proc else 0}\n")
                proc.stdin.flush()
            elif line.startswith("{"):
                proc.wait(60)
                return json.loads(line)
        log(f"libvirt: worker failed (exit {proc.wait(60)}); left out")
        return None
    finally:
        lv.stop()
        shutil.rmtree(lv.root, ignore_errors=True)


# ---------------------------------------------------------------------------- report

def report(ours: dict[str, Any], theirs: dict[str, Any] | None, args: argparse.Namespace) -> None:
    def both(get: Any, fmt: str = "{:.1f}") -> str:
        a = fmt.format(get(ours))
        b = fmt.format(get(theirs)) if theirs else "-"
        return f"{a:>22} {b:>22}"

    def rng(d: dict[str, float]) -> str:
        return f"{d['median']:.1f} ({d['min']:.1f}-{d['max']:.1f})"

    print(f"scale bench: {args.guests} ROM guests started paused + {args.domains} defined")
    print(f"{'':44} {'pyvirtd':>22} {'libvirtd (session)':>22}")
    print(f"{'RSS fresh (MiB)':44} {both(lambda r: r['rss_fresh_kib'] / 1024)}")
    print(f"{'RSS with all defined (MiB)':44} {both(lambda r: r['rss_defined_kib'] / 1024)}")
    print(f"{'RSS with all running (MiB)':44} {both(lambda r: r['rss_running_kib'] / 1024)}")
    print(f"{'RSS per running guest (KiB)':44} "
          f"{both(lambda r: (r['rss_running_kib'] - r['rss_defined_kib']) / args.guests, '{:.0f}')}")
    for clients in args.clients:
        key = str(clients)
        print(f"{f'start paused, {clients} client(s) (guests/s)':44} "
              f"{both(lambda r, k=key: r['throughput'][k]['start'])}")
        print(f"{f'destroy, {clients} client(s) (guests/s)':44} "
              f"{both(lambda r, k=key: r['throughput'][k]['destroy'])}")
    print(f"{'list all with state (ms)':44} {both(lambda r: rng(r['list']), '{}')}")
    print(f"{'domain stats, state, all (ms)':44} {both(lambda r: rng(r['stats']), '{}')}")
    print(f"{'domain stats, 7 groups, all (ms)':44} {both(lambda r: rng(r['stats_groups']), '{}')}")
    print(f"{'dominfo of one running guest (ms)':44} {both(lambda r: rng(r['info']), '{}')}")
    print(f"{'suspend/resume -> event (ms)':44} {both(lambda r: rng(r['events']), '{}')}")
    print(f"{'restart until all controllable (s)':44} {both(lambda r: r['restart_s'], '{:.2f}')}")
    if "restart_pairs" in ours:
        pairs = ours["restart_pairs"]
        for label in ("before", "after"):
            vals = pairs[label]
            cell = f"{median(vals):.2f} ({min(vals):.2f}-{max(vals):.2f})"
            print(f"{f'restart, {label} (alternating, median of {len(vals)})':44} {cell:>22}")
        for what in ("list", "stats", "groups"):
            for label in ("before", "after"):
                vals = pairs.get(f"{what}_{label}") or [0.0]
                cell = f"{median(vals):.1f} ({min(vals):.1f}-{max(vals):.1f})"
                print(f"{f'{what} (ms), {label} (alternating, {len(vals)} calls)':44} {cell:>22}")
    print("medians (min-max) of 20 (dominfo: 50); libvirt: listAllDomains + state() each (as virsh list), "
          "getAllDomainStats(STATE), the same with the 7 groups' flags, lookupByName + info()")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--guests", type=int, default=50, help="guests running at once (default 50; 200 for the "
                                                           "full figure)")
    ap.add_argument("--domains", type=int, default=1000, help="inactive domains defined (default 1000)")
    ap.add_argument("--clients", default="1,4,16", help="concurrent clients for throughput (default 1,4,16)")
    ap.add_argument("--libvirt", action="store_true", help="also a private session libvirtd, same run")
    ap.add_argument("--mem-share", type=float, default=0.5,
                    help=f"run at most as many guests as fit ({GUEST_MIB} MiB each) in this share of "
                         "MemAvailable (default 0.5)")
    ap.add_argument("--before-src", default=None,
                    help="also restart pyvirtd alternately from this older tree (its src/, e.g. from `git archive`) "
                         "and from this one, over the same guests: restart time, list and domain stats before/after")
    ap.add_argument("--restarts", type=int, default=4, help="alternating restarts with --before-src (default 4)")
    ap.add_argument("--libvirt-worker", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    args.clients = [int(c) for c in str(args.clients).split(",") if c]
    return args


#: what one paused ROM guest may cost at most: its 16 MiB of RAM if all touched, plus QEMU's own
#: anonymous memory (~13 MiB measured for a paused one; its libraries are shared)
GUEST_MIB = 40


def mem_available_mib() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) // 1024
    return 0


def safe_guests(wanted: int, share: float) -> int:
    """The largest N up to *wanted* whose guests fit in *share* of the memory available now
    (the host is shared: the rest is left to others). Only one stack's guests run at a time."""
    fits = int(mem_available_mib() * share) // GUEST_MIB
    if fits < wanted:
        log(f"{wanted} guests need up to {wanted * GUEST_MIB} MiB; {share:.0%} of MemAvailable is "
            f"{int(mem_available_mib() * share)} MiB: running {fits}")
    return max(1, min(wanted, fits))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.libvirt_worker is not None:
        print(json.dumps(libvirt_worker(json.loads(args.libvirt_worker))), flush=True)
        return 0
    args.guests = safe_guests(args.guests, args.mem_share)
    top = Path(tempfile.mkdtemp(prefix="pyvirt-bench-scale-"))
    top.chmod(0o755)
    rom = top / "rom.bin"
    rom.write_bytes(rom_image())
    rom.chmod(0o644)
    side = None
    try:
        side = Pyvirt(top / "state")
        ours = json.loads(json.dumps(measure(side, args, rom)))  # keys as the worker's (str)
        side.close()
        side = None
        theirs = run_libvirt(args, rom) if args.libvirt else None
        report(ours, theirs, args)
        return 0
    finally:
        if side is not None:
            side.close()
        shutil.rmtree(top, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
