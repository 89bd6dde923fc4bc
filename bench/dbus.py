"""D-Bus service start and round trips of pyvirt-dbus next to Debian's libvirt-dbus + libvirtd, and
their RSS.

    python bench/dbus.py [-n 20] [--starts 10] [--domains 1000] [--no-libvirt] [--before-src OLD/src]

Each side gets its own private session bus and daemon holding the same `--domains` inactive
definitions: pyvirt-dbus over a private pyvirtd (its own state root), libvirt-dbus over a
private session libvirtd run as ``nobody`` in its own network namespace (bench/_rom.py's
SessionLibvirtd: nothing touches the host's libvirt, bridges or firewall).  Timed from one
dbus-fast client, the services alternately (who goes first swaps every round):

- the service's start (``--starts`` rounds, the daemon behind it already running, as when Cockpit
  Machines' first page activates it): from its exec until it owns ``org.libvirt``, until it
  answers the first ``Connect.ListDomains(0)`` on /org/libvirt/QEMU (made the moment the name is
  owned), and until the first page's calls are answered (that ListDomains, then
  ``Get(Connect, LibVersion)`` and one domain's ``GetAll``); each start is a fresh process, the
  previous one stopped first.  pyvirt-dbus runs as installed (``bin/pyvirt-dbus`` beside this
  interpreter: pyvirt's launcher after ``make venv``), libvirt-dbus through ``setpriv`` (as nobody);
- ``Connect.ListDomains(0)`` on /org/libvirt/QEMU (every domain's object path);
- ``Properties.GetAll("org.libvirt.Domain")`` on one domain (what Cockpit reads per VM).

``--before-src OLD/src`` adds an older tree's pyvirt-dbus (``python -m pyvirt.dbus.main`` with
``PYTHONPATH``, byte-compiled first, as pip's script runs it) on a bus of its own, same pyvirtd.

Figures are medians with min and max in milliseconds; RSS is each process's VmRSS after the
runs (the D-Bus services and, for scale, the daemons behind them).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import PrivateDaemon, compile_pyvirt, median, rss_kib, small_domain_xml, terminate  # noqa: E402

CONNECT = "/org/libvirt/QEMU"
LIBVIRT_DBUS = shutil.which("libvirt-dbus") or "/usr/sbin/libvirt-dbus"


def bus_config(folder: Path) -> tuple[Path, str]:
    """A private session bus any local user may use (the libvirt side runs as nobody)."""
    address = f"unix:path={folder}/bus"
    config = folder / "bus.conf"
    config.write_text(f"""<busconfig><type>session</type><listen>{address}</listen><auth>EXTERNAL</auth>
<policy context="default"><allow user="*"/><allow send_destination="*" eavesdrop="true"/>
<allow eavesdrop="true"/><allow own="*"/></policy></busconfig>""")
    return config, address


def start_bus(config: Path, prefix: list[str]) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([*prefix, "dbus-daemon", f"--config-file={config}", "--nofork", "--print-address"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True)
    assert proc.stdout is not None
    proc.stdout.readline()
    return proc


STARTS = ("owned", "first answer", "first page")


class Side:
    """One service on its own bus: how to start it, the client connection and the figures."""

    def __init__(self, name: str, address: str, spawn: Callable[[], subprocess.Popen[bytes]],
                 daemon_pid: Callable[[], int]):
        self.name = name
        self.address = address
        self.spawn = spawn
        self.service: subprocess.Popen[bytes] | None = None
        self.daemon_pid = daemon_pid
        self.bus = None
        self.domain = ""
        self.times: dict[str, list[float]] = {"ListDomains": [], "GetAll": [], **{k: [] for k in STARTS}}
        self._owner: asyncio.Future[float] | None = None
        self._released: asyncio.Future[None] | None = None

    async def open_bus(self) -> None:
        """The client connection, watching who owns org.libvirt (NameOwnerChanged)."""
        from dbus_fast import Message
        from dbus_fast.aio import MessageBus

        self.bus = await MessageBus(bus_address=self.address).connect()
        self.bus.add_message_handler(self._on_message)
        await self.bus.call(Message(destination="org.freedesktop.DBus", path="/org/freedesktop/DBus",
                                    interface="org.freedesktop.DBus", member="AddMatch", signature="s",
                                    body=["type='signal',member='NameOwnerChanged',arg0='org.libvirt'"]))

    def _on_message(self, msg: Any) -> None:
        if msg.member != "NameOwnerChanged" or not msg.body or msg.body[0] != "org.libvirt":
            return
        waiting = self._owner if msg.body[2] else self._released
        if waiting is not None and not waiting.done():
            waiting.set_result(time.perf_counter())

    async def stop_service(self) -> None:
        if self.service is None or self.service.poll() is not None:
            return
        self._released = asyncio.get_running_loop().create_future()
        self.service.terminate()
        await asyncio.wait_for(self._released, 30)
        await asyncio.get_running_loop().run_in_executor(None, self.service.wait)

    async def timed_start(self) -> None:
        """A fresh service: exec -> name owned -> first ListDomains answered -> first page answered."""
        await self.stop_service()
        self._owner = asyncio.get_running_loop().create_future()
        t = time.perf_counter()
        self.service = self.spawn()
        owned = await asyncio.wait_for(self._owner, 60)
        listed = await self.call(CONNECT, "org.libvirt.Connect", "ListDomains", "u", [0])
        answered = time.perf_counter()
        await self.call(CONNECT, "org.freedesktop.DBus.Properties", "Get", "ss", ["org.libvirt.Connect", "LibVersion"])
        await self.call(listed[0][0], "org.freedesktop.DBus.Properties", "GetAll", "s", ["org.libvirt.Domain"])
        page = time.perf_counter()
        for label, stamp in zip(STARTS, (owned, answered, page), strict=True):
            self.times[label].append((stamp - t) * 1000)

    async def connect(self) -> None:
        """A running service that has answered (started if none runs)."""
        if self.bus is None:
            await self.open_bus()
        if self.service is None or self.service.poll() is not None:
            self.service = self.spawn()
        deadline = time.monotonic() + 60
        while True:  # the service owns org.libvirt (and its first call opened its connection)
            try:
                self.domain = (await self.call(CONNECT, "org.libvirt.Connect", "ListDomains", "u", [0]))[0][0]
                return
            except (RuntimeError, IndexError):
                if time.monotonic() > deadline or self.service.poll() is not None:
                    raise
                await asyncio.sleep(0.2)

    async def call(self, path: str, iface: str, member: str, sig: str, body: list[object]) -> list[object]:
        from dbus_fast import Message, MessageType

        reply = await self.bus.call(Message(destination="org.libvirt", path=path, interface=iface,  # type: ignore[union-attr]
                                            member=member, signature=sig, body=body))
        if reply.message_type == MessageType.ERROR:
            raise RuntimeError(f"{self.name}: {reply.error_name}: {reply.body}")
        return list(reply.body)

    async def timed(self, label: str, call: Callable[[], Awaitable[object]]) -> None:
        t = time.perf_counter()
        await call()
        self.times[label].append((time.perf_counter() - t) * 1000)

    async def list_domains(self) -> None:
        await self.timed("ListDomains", lambda: self.call(CONNECT, "org.libvirt.Connect", "ListDomains", "u", [0]))

    async def get_all(self) -> None:
        await self.timed("GetAll", lambda: self.call(self.domain, "org.freedesktop.DBus.Properties", "GetAll", "s",
                                                     ["org.libvirt.Domain"]))


def spawner(cmd: list[str], env: dict[str, str], procs: list[subprocess.Popen[bytes]]
            ) -> Callable[[], subprocess.Popen[bytes]]:
    """Starts the service `cmd` anew each time (every process kept in `procs` for the cleanup)."""
    def spawn() -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        procs.append(proc)
        return proc

    return spawn


def pyvirt_side(name: str, folder: Path, cmd: list[str], extra_env: dict[str, str], daemon: PrivateDaemon,
                procs: list[subprocess.Popen[bytes]]) -> Side:
    """A pyvirt-dbus on a bus of its own, its QEMU object at the bench's pyvirtd."""
    folder.mkdir(parents=True, exist_ok=True)
    config, address = bus_config(folder)
    procs.append(start_bus(config, []))
    env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=address, PYVIRT_STATE_ROOT=str(daemon.root), **extra_env)
    return Side(name, address, spawner(cmd, env, procs), lambda: daemon.pid)


def cell(values: list[float]) -> str:
    return f"{median(values):8.2f} ({min(values):.2f}-{max(values):.2f})" if values else "      -"


async def measure(sides: list[Side], n: int, starts: int) -> None:
    for side in sides:
        await side.open_bus()
    for i in range(starts):
        for side in sides[i % len(sides):] + sides[:i % len(sides)]:  # each one first in turn
            await side.timed_start()
    for side in sides:
        await side.connect()
        listed = await side.call(CONNECT, "org.libvirt.Connect", "ListDomains", "u", [0])
        print(f"{side.name}: {len(listed[0])} domains on {CONNECT}", file=sys.stderr)
    for i in range(n):
        order = sides if i % 2 == 0 else list(reversed(sides))
        for side in order:
            await side.list_domains()
        for _ in range(5):
            for side in order:
                await side.get_all()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", type=int, default=20, help="rounds (GetAll: 5 calls per round)")
    ap.add_argument("--domains", type=int, default=1000)
    ap.add_argument("--starts", type=int, default=10, help="service starts per side (0: none)")
    ap.add_argument("--no-libvirt", action="store_true", help="pyvirt-dbus only")
    ap.add_argument("--before-src", default=None, help="an older tree's src/: its pyvirt-dbus too")
    args = ap.parse_args()
    if shutil.which("dbus-daemon") is None:
        sys.exit("dbus-daemon not installed")

    root = Path(tempfile.mkdtemp(prefix="pvbench-dbus-", dir="/tmp"))
    root.chmod(0o755)
    procs: list[subprocess.Popen[bytes]] = []
    daemon = PrivateDaemon(root / "pyvirt" / "state")
    lv = None
    try:
        # pyvirt: pyvirtd + pyvirt-dbus on bus A
        daemon.start()
        conn = daemon.connect()
        t = time.perf_counter()
        for i in range(args.domains):
            conn.define_xml(small_domain_xml(f"bench{i:04d}"))
        print(f"pyvirt: defined {args.domains} in {time.perf_counter() - t:.1f} s", file=sys.stderr)
        compile_pyvirt()
        installed = Path(sys.executable).with_name("pyvirt-dbus")  # the launcher `make venv` writes
        ours = [str(installed)] if installed.exists() else [sys.executable, "-m", "pyvirt.dbus.main"]
        sides = [pyvirt_side("pyvirt-dbus", root / "pyvirt", [*ours, "--session"], {}, daemon, procs)]
        if args.before_src:
            compile_pyvirt(args.before_src)
            sides.append(pyvirt_side("before", root / "before", [sys.executable, "-m", "pyvirt.dbus.main", "--session"],
                                     {"PYTHONPATH": os.path.abspath(args.before_src)}, daemon, procs))

        why = "--no-libvirt" if args.no_libvirt else None
        if why is None:
            from _rom import SessionLibvirtd

            why = SessionLibvirtd.available() or (None if os.path.exists(LIBVIRT_DBUS) else
                                                   "libvirt-dbus not installed (apt-get install libvirt-dbus)")
        if why is None:
            lv = SessionLibvirtd(root / "libvirt")
            lv.root.mkdir()
            lv.start()
            defs = lv.owned_dir(root / "libvirt" / "defs")
            files = []
            for i in range(args.domains):
                path = defs / f"{i:04d}.xml"
                path.write_text(small_domain_xml(f"bench{i:04d}"))
                files.append(str(path))
            t = time.perf_counter()
            lv.virsh("; ".join(f"define {f}" for f in files))
            print(f"libvirt: defined {args.domains} in {time.perf_counter() - t:.1f} s", file=sys.stderr)
            as_nobody = ["setpriv", f"--reuid={lv.user.pw_uid}", f"--regid={lv.user.pw_gid}", "--clear-groups"]
            busdir = lv.owned_dir(root / "libvirt" / "bus")
            config, lv_address = bus_config(busdir)
            procs.append(start_bus(config, as_nobody))
            lv_env = {"HOME": str(lv.root / "home"), "XDG_RUNTIME_DIR": str(lv.root / "run"),
                      "PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "DBUS_SESSION_BUS_ADDRESS": lv_address}
            sides.append(Side("libvirt-dbus", lv_address, spawner([*as_nobody, LIBVIRT_DBUS, "--session"], lv_env, procs),
                              lv.pid))
        else:
            print(f"libvirt: {why}; left out", file=sys.stderr)

        asyncio.run(measure(sides, args.n, args.starts))
        load = os.getloadavg()
        print(f"D-Bus, ms: median (min-max); {args.domains} domains defined, {args.n} rounds, "
              f"{args.starts} starts; load average {load[0]:.1f} {load[1]:.1f}")
        print(f"{'':34}" + "".join(f"{s.name:>26}" for s in sides))
        rows = [("ListDomains", f"Connect.ListDomains ({args.domains})"), ("GetAll", "Domain GetAll (one domain)")]
        if args.starts:
            rows = [("owned", "start: exec -> name owned"), ("first answer", "start: -> first ListDomains"),
                    ("first page", "start: -> + LibVersion, GetAll"), *rows]
        for label, what in rows:
            print(f"{what:34}" + "".join(f"{cell(s.times[label]):>26}" for s in sides))
        for other in sides[1:]:
            for label, _ in rows:
                ratio = median(sides[0].times[label]) / median(other.times[label])
                print(f"  {label}: {sides[0].name} / {other.name} = {ratio:.2f}")
        print("RSS, MiB (after the runs):")
        for side in sides:
            assert side.service is not None
            print(f"  {side.name:14} {rss_kib(side.service.pid) / 1024:7.1f}   "
                  f"daemon behind it {rss_kib(side.daemon_pid()) / 1024:7.1f}")
    finally:
        for proc in reversed(procs):
            terminate(proc)
        daemon.stop()
        if lv is not None:
            lv.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
