"""D-Bus round trips of pyvirt-dbus next to Debian's libvirt-dbus + libvirtd, and their RSS.

    python bench/dbus.py [-n 20] [--domains 1000] [--no-libvirt]

Each side gets its own private session bus and daemon holding the same `--domains` inactive
definitions: pyvirt-dbus over a private pyvirtd (its own state root), libvirt-dbus over a
private session libvirtd run as ``nobody`` in its own network namespace (bench/_rom.py's
SessionLibvirtd: nothing touches the host's libvirt, bridges or firewall).  Timed from one
dbus-fast client, the two services alternately (who goes first swaps every round):

- ``Connect.ListDomains(0)`` on /org/libvirt/QEMU (every domain's object path);
- ``Properties.GetAll("org.libvirt.Domain")`` on one domain (what Cockpit reads per VM).

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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import PrivateDaemon, median, rss_kib, small_domain_xml, terminate  # noqa: E402

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


class Side:
    """One service on its own bus: the client connection and the figures."""

    def __init__(self, name: str, address: str, service: subprocess.Popen[bytes], daemon_pid: Callable[[], int]):
        self.name = name
        self.address = address
        self.service = service
        self.daemon_pid = daemon_pid
        self.bus = None
        self.domain = ""
        self.times: dict[str, list[float]] = {"ListDomains": [], "GetAll": []}

    async def connect(self) -> None:
        from dbus_fast.aio import MessageBus

        self.bus = await MessageBus(bus_address=self.address).connect()
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


def cell(values: list[float]) -> str:
    return f"{median(values):8.2f} ({min(values):.2f}-{max(values):.2f})" if values else "      -"


async def measure(sides: list[Side], n: int) -> None:
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
    ap.add_argument("--no-libvirt", action="store_true", help="pyvirt-dbus only")
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
        config, address = bus_config(root / "pyvirt")
        procs.append(start_bus(config, []))
        env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=address, PYVIRT_STATE_ROOT=str(daemon.root))
        service = subprocess.Popen([sys.executable, "-m", "pyvirt.dbus.main", "--session"], env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        procs.append(service)
        sides = [Side("pyvirt-dbus", address, service, lambda: daemon.pid)]

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
            theirs = subprocess.Popen([*as_nobody, LIBVIRT_DBUS, "--session"], env=lv_env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
            procs.append(theirs)
            sides.append(Side("libvirt-dbus", lv_address, theirs, lv.pid))
        else:
            print(f"libvirt: {why}; left out", file=sys.stderr)

        asyncio.run(measure(sides, args.n))
        print(f"D-Bus round trips, ms: median (min-max); {args.domains} domains defined, {args.n} rounds")
        print(f"{'':34}" + "".join(f"{s.name:>26}" for s in sides))
        for label, what in (("ListDomains", f"Connect.ListDomains ({args.domains})"),
                            ("GetAll", "Domain GetAll (one domain)")):
            print(f"{what:34}" + "".join(f"{cell(s.times[label]):>26}" for s in sides))
        if len(sides) == 2:
            for label in ("ListDomains", "GetAll"):
                ratio = median(sides[0].times[label]) / median(sides[1].times[label])
                print(f"  {label}: pyvirt-dbus / libvirt-dbus = {ratio:.2f}")
        print("RSS, MiB (after the runs):")
        for side in sides:
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
