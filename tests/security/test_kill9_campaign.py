"""kill -9 campaign (issue 10): pyvirtd killed at seeded random points of ~100 mixed lifecycle
operations, restarted each time, then checked against the processes that really run.

Invariants after every restart and at the end:
  * no guest lost: every running QEMU belongs to a domain the daemon lists as active;
  * no guest doubled: at most one QEMU per domain name, and no second QEMU after a restart;
  * states right: active domains have an id and are running or paused, inactive ones have none;
  * persistent definitions on disk are exactly the persistent domains listed;
  * no stray runtime files: one runtime dir per active domain, no temp files left anywhere.
Guests are the fake QEMU (tests/fakeqemu.py), so the campaign costs seconds, not minutes.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import threading
import time
import uuid as uuidlib
from pathlib import Path

import pytest

from pyvirt.api import DomainState, PyvirtError
from pyvirt.daemon.store import runtime_key
from tests.daemon_harness import DaemonHarness, live_processes
from tests.fakeqemu import make_emulator
from tests.security.fakedriver import domain_xml

SEED = 20261130
OPERATIONS = 100
KILL_PROBABILITY = 0.15
NAMES = [f"k{i}" for i in range(5)]


def guests(root: Path) -> dict[str, list[int]]:
    """domain name -> pids of live fake QEMUs started for this state root."""
    found: dict[str, list[int]] = {}
    for pid, raw in live_processes():
        argv = [a.decode(errors="replace") for a in raw]
        if "-pidfile" in argv and argv[argv.index("-pidfile") + 1].startswith(str(root)):
            name = argv[argv.index("-name") + 1].split(",")[0].removeprefix("guest=")
            found.setdefault(name, []).append(pid)
    return found


def check(harness: DaemonHarness) -> dict[str, int]:
    root = harness.root
    conn = harness.connect()
    infos = {i.name: i for i in conn.list_domains()}
    running = guests(root)
    doubled = {n: p for n, p in running.items() if len(p) > 1}
    assert not doubled, f"doubled guests: {doubled}"
    active = {n for n, i in infos.items() if i.id != -1}
    assert set(running) == active, f"QEMUs for {sorted(running)}, daemon says active {sorted(active)}"
    for name, info in infos.items():
        if name in active:
            assert info.state in (DomainState.RUNNING, DomainState.PAUSED), (name, info)
        else:
            assert info.state == DomainState.SHUTOFF, (name, info)
    configs = {p.stem for p in (root / "config" / "qemu").glob("*.xml")}
    assert configs == {n for n, i in infos.items() if i.persistent}, (configs, infos)
    runtime = {p.name for p in (root / "run" / "qemu").iterdir()}
    assert runtime == {runtime_key(n) for n in active}, (runtime, active)
    temps = [p for p in root.rglob(".*.tmp")]
    assert not temps, temps
    return {n: i.state for n, i in infos.items()}


def test_kill9_campaign(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    harness = DaemonHarness(tmp_path)
    harness.start()
    emulator = make_emulator(tmp_path)
    conn = harness.connect()
    kills = armed = done = 0
    started = time.monotonic()
    try:
        for step in range(OPERATIONS):
            name = rng.choice(NAMES)
            op = rng.choice(["define", "define", "start", "start", "start", "create", "create", "destroy",
                             "destroy", "suspend", "resume", "undefine", "metadata", "setmem"])
            killer = None
            if rng.random() < KILL_PROBABILITY:  # somewhere inside this operation
                assert harness.proc is not None
                killer = threading.Timer(rng.uniform(0.0, 0.12), os.kill, (harness.proc.pid, signal.SIGKILL))
                killer.start()
                armed += 1
            try:
                if op == "define":  # the same UUID each time: a redefinition, as a user would do
                    uuid = uuidlib.uuid5(uuidlib.NAMESPACE_URL, name)
                    conn.define_xml(domain_xml(name, emulator, extra=f"<uuid>{uuid}</uuid>"))
                elif op == "start":
                    conn.start(name)
                elif op == "create":
                    conn.create_xml(domain_xml(f"t-{name}", emulator))
                elif op == "destroy":
                    conn.destroy(rng.choice([name, f"t-{name}"]))
                elif op == "suspend":
                    conn.suspend(name)
                elif op == "resume":
                    conn.resume(name)
                elif op == "undefine":
                    conn.undefine(name)
                elif op == "metadata":
                    conn.set_metadata(name, "title", f"step {step}", config=True)
                elif op == "setmem":
                    conn.set_memory(name, rng.choice([32768, 65536]), config=True)
                done += 1
            except PyvirtError as exc:
                if os.environ.get("KILL9_DEBUG"):
                    print(step, op, name, exc.message[:100])
                if "internal error" in exc.message and harness.proc is not None and harness.proc.poll() is None:
                    raise AssertionError(f"step {step} {op} {name}: {exc.message}") from exc
            if killer is not None:
                killer.join()
                assert harness.proc is not None
                harness.proc.wait(10)  # killed during the operation or just after it
                kills += 1
                harness.proc = None
                harness.start()
                conn = harness.connect()
                check(harness)
        harness.kill(signal.SIGKILL)  # and once more at the very end
        harness.start()
        states = check(harness)
    finally:
        harness.stop()
        # the fake QEMUs' pidfiles sit under the harness's short alias of tmp_path, not tmp_path
        for pids in guests(harness.root).values():
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
    took = time.monotonic() - started
    print(f"kill -9 campaign: {OPERATIONS} operations, {kills} kills ({armed} scheduled), "
          f"{done} completed, {len(states)} domains at the end, {took:.1f} s")
    assert kills == armed >= 8, "every scheduled kill must have happened"
    if took > 240:
        pytest.fail(f"campaign too slow: {took:.0f} s")
