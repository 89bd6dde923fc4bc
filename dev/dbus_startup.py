#!/usr/bin/env python3
"""How long a D-Bus service takes from exec to owning ``org.libvirt``: pyvirt-dbus next to
Debian's libvirt-dbus, on a private session bus of this script's own.

A development tool, not part of pyvirt.  Why both measures: this host is shared with other jobs,
so wall times swing by 2-5x from one run to the next; the starts are paired (one of each service
per round, in alternating order) and medians quoted, and ``--instructions`` counts each start's
instructions under valgrind (callgrind), which the load does not change: pyvirt-dbus's from exec
until its RequestName is answered (UNTIL_OWNED), libvirt-dbus's from exec until it exits on the
SIGTERM sent once it owns the name.

Usage: .venv/bin/python dev/dbus_startup.py [--rounds N] [--instructions] [--only NAME]
                                            [--baseline CHECKOUT]
(``--baseline /work/main``: that checkout's own .venv/bin/pyvirt-dbus is measured too, as "before")
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from dbus_fast import Message, MessageType
from dbus_fast.aio import MessageBus

ROOT = Path(__file__).resolve().parent.parent
NAME = "org.libvirt"


def commands(baseline: Path | None) -> dict[str, list[str]]:
    out = {"pyvirt": [str(ROOT / ".venv" / "bin" / "pyvirt-dbus"), "--session"]}
    if baseline is not None:
        out["before"] = [str(baseline / ".venv" / "bin" / "pyvirt-dbus"), "--session"]
    libvirt = shutil.which("libvirt-dbus") or "/usr/sbin/libvirt-dbus"
    if os.path.exists(libvirt):
        out["libvirt"] = [libvirt, "--session"]
    return out


class Watcher:
    """NameOwnerChanged of org.libvirt on the private bus: awaitable ownership and release."""

    def __init__(self, bus: MessageBus) -> None:
        self.bus = bus
        self.owned: asyncio.Future[float] | None = None
        self.released: asyncio.Future[None] | None = None
        bus.add_message_handler(self._on_message)

    async def setup(self) -> None:
        await self.bus.call(Message(destination="org.freedesktop.DBus", path="/org/freedesktop/DBus",
                                    interface="org.freedesktop.DBus", member="AddMatch", signature="s",
                                    body=[f"type='signal',member='NameOwnerChanged',arg0='{NAME}'"]))

    def arm(self) -> None:
        loop = asyncio.get_running_loop()
        self.owned, self.released = loop.create_future(), loop.create_future()

    def _on_message(self, msg: Message) -> None:
        if msg.message_type != MessageType.SIGNAL or msg.member != "NameOwnerChanged" or msg.body[0] != NAME:
            return
        if msg.body[2] and self.owned and not self.owned.done():
            self.owned.set_result(time.perf_counter())
        elif not msg.body[2] and self.released and not self.released.done():
            self.released.set_result(None)


async def start_once(watcher: Watcher, cmd: list[str], env: dict[str, str], timeout: float,
                     first_call: bool = False) -> tuple[float, float]:
    """Seconds from exec to the name owned and, with `first_call`, to the answer of a first call
    made the moment it is owned (Connect.ListDomains(0) on /org/libvirt/Test: the test driver
    opened, the object's member looked up and run); the service is then stopped (SIGTERM)."""
    watcher.arm()
    assert watcher.owned is not None and watcher.released is not None
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    answered = 0.0
    try:
        owned = await asyncio.wait_for(watcher.owned, timeout)
        if first_call:
            reply = await asyncio.wait_for(watcher.bus.call(Message(
                destination=NAME, path="/org/libvirt/Test", interface="org.libvirt.Connect", member="ListDomains",
                signature="u", body=[0])), timeout)
            answered = time.perf_counter()
            if reply.message_type != MessageType.METHOD_RETURN or not reply.body[0]:
                raise RuntimeError(f"ListDomains answered {reply.error_name} {reply.body}")
    finally:
        proc.terminate()
        await asyncio.get_running_loop().run_in_executor(None, proc.wait)
    await asyncio.wait_for(watcher.released, 30)
    return owned - start, answered - start


def callgrind_total(path: Path) -> int:
    match = re.search(r"^(?:summary|totals): (\d+)", path.read_text(), re.M)
    if match is None:
        raise RuntimeError(f"no totals in {path}")
    return int(match.group(1))


#: pyvirt-dbus's own main, ended (os._exit: callgrind still writes its counts) the moment the bus
#: has answered its RequestName: the instructions of exactly what it does before owning the name
#: (pyvirt.dbus.early's own() where the checkout has it, dbus-fast's request_name in older ones)
UNTIL_OWNED = """
import os, sys
try:
    from pyvirt.dbus import early
except ImportError:
    early = None
if early is not None:
    own = early.own
    def own_and_exit(*args, **kwargs):
        own(*args, **kwargs)
        os._exit(0)
    early.own = own_and_exit
else:
    from dbus_fast.aio import MessageBus
    request_name = MessageBus.request_name
    async def request_and_exit(self, *args, **kwargs):
        await request_name(self, *args, **kwargs)
        os._exit(0)
    MessageBus.request_name = request_and_exit
from pyvirt.dbus.main import main
sys.exit(main(sys.argv[1:]))
"""


async def count_start(watcher: Watcher, name: str, cmd: list[str], env: dict[str, str], out: Path) -> int:
    """Instructions from exec until the name is owned (pyvirt-dbus, by UNTIL_OWNED), or until the
    service exits on SIGTERM sent once the name is owned (libvirt-dbus, whose exit is cheap)."""
    if name != "libvirt":  # a pyvirt-dbus: its venv's python, next to the script
        cmd = [str(Path(cmd[0]).with_name("python")), "-P", "-c", UNTIL_OWNED, *cmd[1:]]
    await start_once(watcher, ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *cmd], env, 600)
    return callgrind_total(out)


async def main(args: argparse.Namespace) -> int:
    cmds = commands(args.baseline)
    if args.only:
        cmds = {args.only: cmds[args.only]}
    with tempfile.TemporaryDirectory(prefix="dbus-startup-") as tmp:
        folder = Path(tmp)
        address = f"unix:path={folder / 'bus'}"
        daemon = subprocess.Popen(["dbus-daemon", "--session", "--nofork", f"--address={address}", "--print-address"],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert daemon.stdout is not None
        daemon.stdout.readline()
        env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=address, PYVIRT_STATE_ROOT=str(folder / "state"),
                   XDG_RUNTIME_DIR=str(folder / "run"))
        (folder / "run").mkdir(mode=0o700)
        bus = await MessageBus(bus_address=address).connect()
        watcher = Watcher(bus)
        await watcher.setup()
        try:
            if args.instructions:
                for name, cmd in cmds.items():
                    counts = [await count_start(watcher, name, cmd, env, folder / f"{name}.{i}.callgrind") / 1e6
                              for i in range(args.rounds)]
                    print(f"{name}: {statistics.median(counts):.1f} M instructions "
                          f"(median of {len(counts)}: {', '.join(f'{c:.1f}' for c in counts)})")
                return 0
            owned: dict[str, list[float]] = {name: [] for name in cmds}
            answered: dict[str, list[float]] = {name: [] for name in cmds}
            for i in range(args.rounds):
                order = list(cmds)[i % len(cmds):] + list(cmds)[:i % len(cmds)]  # each one first in turn
                for name in order:
                    took = await start_once(watcher, cmds[name], env, 60, first_call=True)
                    owned[name].append(took[0] * 1000)
                    answered[name].append(took[1] * 1000)
            for what, times in (("name owned", owned), ("first call answered", answered)):
                for name, values in times.items():
                    ms = sorted(values)
                    print(f"{name}: {what} after median {statistics.median(ms):.0f} ms (min {ms[0]:.0f}, "
                          f"max {ms[-1]:.0f}, {len(ms)} starts)")
                first, *others = cmds
                for other in others:
                    ratios = [a / b for a, b in zip(times[first], times[other], strict=True)]
                    print(f"  paired ratio {first}/{other}: median {statistics.median(ratios):.2f}")
        finally:
            bus.disconnect()
            daemon.terminate()
            daemon.wait(10)
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--instructions", action="store_true", help="count instructions under callgrind")
    parser.add_argument("--only", choices=["pyvirt", "before", "libvirt"])
    parser.add_argument("--baseline", type=Path, help="another checkout whose pyvirt-dbus to measure as 'before'")
    sys.exit(asyncio.run(main(parser.parse_args())))
