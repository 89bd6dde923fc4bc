"""External snapshots with memory (full system snapshots) of the real test guest under TCG, through
pyvirtd and pyvirt's virsh: create with --memspec, revert across branches (the guest's file and
shell variable come back, libvirt's lifecycle events with their details), delete by merging, each
step's qcow2 chain checked with ``qemu-img info --backing-chain``.  One boot serves the story.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pyvirt.api import (
    DefinedDetail,
    DomainState,
    EventType,
    PausedReason,
    RunningReason,
    StartedDetail,
    StoppedDetail,
    SuspendedDetail,
)
from pyvirt.testguest import READY_MARKER, TestGuest
from tests.daemon_harness import DaemonHarness, guest_shell, guest_xml, wait_console

pytestmark = [pytest.mark.qemu, pytest.mark.timeout(400)]
PYVIRT = [sys.executable, "-m", "pyvirt.cli.main", "-c", "qemu:///session"]


def _cli(daemon: DaemonHarness, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PYVIRT, *args], capture_output=True, text=True, env=daemon.env(), timeout=120)


def _chain(image: Path | str) -> list[str]:
    out = subprocess.run(["qemu-img", "info", "-U", "--output=json", "--backing-chain", str(image)],
                         capture_output=True, text=True, check=True).stdout
    return [i["filename"] for i in json.loads(out)]


def _source(daemon: DaemonHarness, dom: str) -> str:
    rows = [ln.split() for ln in _cli(daemon, "domblklist", dom).stdout.splitlines()]
    return next(r[1] for r in rows if r and r[0] == "vda")


def _look(conn: object, dom: str, marker: str) -> str:
    out = guest_shell(conn, dom, "echo FILE=$(cat /root/m) VAR=$X", marker)
    return out[out.rindex("FILE="):].split("\n")[0].strip()


def _lifecycle(events: object, count: int) -> list[tuple[int, int]]:
    """The next `count` lifecycle events of one iterator (closing a loop over the stream ends it)."""
    seen: list[tuple[int, int]] = []
    while len(seen) < count:
        ev = next(events)  # type: ignore[call-overload]
        if getattr(ev, "event", None) is not None:
            seen.append((ev.event, ev.detail))
    return seen


def test_memory_snapshots_revert_across_branches_and_merge(
        daemon: DaemonHarness, test_guest: TestGuest, guest_disk: Path, tmp_path: Path) -> None:
    conn = daemon.connect()
    conn.define_xml(guest_xml(test_guest, "ext", disk=guest_disk))
    folder = daemon.root / "snaps"
    folder.mkdir()
    mem1, mem2, over1 = folder / "s1.mem", folder / "s2.mem", folder / "disk.s1"

    refused = _cli(daemon, "snapshot-create-as", "ext", "off", "--memspec", f"file={mem1},snapshot=external")
    assert refused.returncode == 1 and "memory state cannot be saved" in refused.stderr, refused
    assert not mem1.exists() and conn.list_snapshots("ext") == []

    conn.start("ext")
    wait_console(conn, "ext", READY_MARKER, 180)
    guest_shell(conn, "ext", "echo one > /root/m; sync; X=one", "STEP-1")
    out = _cli(daemon, "snapshot-create-as", "ext", "s1", "--memspec", f"file={mem1},snapshot=external",
               "--diskspec", f"vda,file={over1}")
    assert (out.returncode, out.stdout) == (0, "Domain snapshot s1 created\n"), out
    assert conn.get_state("ext")[0] == DomainState.RUNNING
    assert _chain(over1) == [str(over1), str(guest_disk), str(test_guest.disk)]
    assert "<name>ext</name>" in _cli(daemon, "save-image-dumpxml", str(mem1)).stdout  # a save image
    info = _cli(daemon, "snapshot-info", "ext", "s1").stdout
    assert "State:          running" in info and "Location:       external" in info, info

    guest_shell(conn, "ext", "echo two > /root/m; sync; X=two", "STEP-2")
    # --live: the RAM is copied while the guest runs; QEMU pauses it only for the last pass
    assert _cli(daemon, "snapshot-create-as", "ext", "s2", "--memspec", f"file={mem2}", "--live").returncode == 0
    over2 = folder / "disk.s2"  # libvirt's default name: the image's suffix replaced by the snapshot's name
    assert _source(daemon, "ext") == str(over2)
    assert _chain(over2)[:2] == [str(over2), str(over1)]
    guest_shell(conn, "ext", "echo three > /root/m; sync; X=three", "STEP-3")

    # a memory file that exists is refused, and nothing changes
    clash = _cli(daemon, "snapshot-create-as", "ext", "s3", "--memspec", f"file={mem1}")
    assert clash.returncode == 1 and "already exists" in clash.stderr, clash
    assert _source(daemon, "ext") == str(over2) and len(conn.list_snapshots("ext")) == 2

    # a block job holds the disk: a revert is refused (libvirt's check), the job goes on until aborted
    started = _cli(daemon, "blockcopy", "ext", "vda", str(folder / "copy.qcow2"), "--format", "qcow2")
    assert started.returncode == 0, started
    busy = _cli(daemon, "snapshot-revert", "ext", "s1")
    assert busy.returncode == 1 and "domain has active block job" in busy.stderr, busy
    assert _cli(daemon, "blockjob", "ext", "vda", "--abort").returncode == 0
    assert _source(daemon, "ext") == str(over2)

    # revert to s1 (it has a child): the guest restarts from its memory on a new overlay over its image
    events = iter(conn.subscribe("ext", timeout=120))
    assert _cli(daemon, "snapshot-revert", "ext", "s1").returncode == 0
    assert conn.get_state("ext") == (DomainState.RUNNING, RunningReason.FROM_SNAPSHOT)
    assert _look(conn, "ext", "STEP-4") == "FILE=one VAR=one"
    revert1 = _source(daemon, "ext")
    assert revert1.startswith(f"{guest_disk.parent}/disk.") and _chain(revert1)[1] == str(guest_disk)
    assert not over2.exists() and over1.exists()  # the state after s2 went, s2's own image stays
    assert "<revertDisks>" in _cli(daemon, "snapshot-dumpxml", "ext", "s1").stdout
    assert _lifecycle(events, 3) == [(EventType.STOPPED, StoppedDetail.FROM_SNAPSHOT),
                                     (EventType.STARTED, StartedDetail.FROM_SNAPSHOT),
                                     (EventType.DEFINED, DefinedDetail.FROM_SNAPSHOT)]

    # and to s2, paused: its own branch back
    assert _cli(daemon, "snapshot-revert", "ext", "s2", "--paused").returncode == 0
    assert conn.get_state("ext") == (DomainState.PAUSED, PausedReason.FROM_SNAPSHOT)
    assert _lifecycle(events, 4) == [(EventType.STOPPED, StoppedDetail.FROM_SNAPSHOT),
                                     (EventType.STARTED, StartedDetail.FROM_SNAPSHOT),
                                     (EventType.SUSPENDED, SuspendedDetail.FROM_SNAPSHOT),
                                     (EventType.DEFINED, DefinedDetail.FROM_SNAPSHOT)]
    conn.resume("ext")
    assert _look(conn, "ext", "STEP-5") == "FILE=two VAR=two"
    revert2 = _source(daemon, "ext")
    assert _chain(revert2)[:3] == [revert2, str(over1), str(guest_disk)] and not Path(revert1).exists()

    # delete s1 while running: its overlay merges into the image under it (a commit below the top)
    assert _cli(daemon, "snapshot-delete", "ext", "s1").returncode == 0
    assert _chain(revert2) == [revert2, str(guest_disk), str(test_guest.disk)]
    assert not over1.exists() and not mem1.exists()
    assert f"<source file='{guest_disk}'/>" in _cli(daemon, "snapshot-dumpxml", "ext", "s2").stdout
    # delete s2 (current): the guest's top merges down and the disk pivots onto the base
    assert _cli(daemon, "snapshot-delete", "ext", "s2").returncode == 0
    assert _source(daemon, "ext") == str(guest_disk) and not Path(revert2).exists() and not mem2.exists()
    assert _look(conn, "ext", "STEP-6") == "FILE=two VAR=two"
    assert conn.list_snapshots("ext") == []
    conn.destroy("ext")

    # shut off: a revert puts the definition on a new overlay over the snapshot's image and stays off
    assert _cli(daemon, "snapshot-create-as", "ext", "off1", "--disk-only").returncode == 0
    off1 = guest_disk.parent / "disk.off1"
    assert f"<source file='{off1}'/>" in _cli(daemon, "dumpxml", "ext", "--inactive").stdout
    assert _cli(daemon, "snapshot-revert", "ext", "off1").returncode == 0
    assert conn.get_state("ext")[0] == DomainState.SHUTOFF
    moved = _source(daemon, "ext")
    assert moved not in (str(off1), str(guest_disk)) and _chain(moved)[1] == str(guest_disk)
    assert not off1.exists()  # what the guest wrote since off1 (nothing) went with the revert
    assert _cli(daemon, "snapshot-delete", "ext", "off1").returncode == 0  # qemu-img commit, back on the base
    assert _source(daemon, "ext") == str(guest_disk) and not Path(moved).exists()

    # shut off, deleting a snapshot below the top: qemu-img commit, and the image above is rebased
    for name in ("o1", "o2"):
        assert _cli(daemon, "snapshot-create-as", "ext", name, "--disk-only").returncode == 0
    o1, o2 = guest_disk.parent / "disk.o1", guest_disk.parent / "disk.o2"
    assert _chain(o2)[:3] == [str(o2), str(o1), str(guest_disk)]
    assert _cli(daemon, "snapshot-delete", "ext", "o1").returncode == 0
    assert _chain(o2)[:2] == [str(o2), str(guest_disk)] and not o1.exists()
    assert f"<source file='{guest_disk}'/>" in _cli(daemon, "snapshot-dumpxml", "ext", "o2").stdout
    # --children: the child first, then the snapshot itself; the definition ends on the base
    assert _cli(daemon, "snapshot-create-as", "ext", "o3", "--disk-only").returncode == 0
    assert _cli(daemon, "snapshot-delete", "ext", "o2", "--children").returncode == 0
    assert _source(daemon, "ext") == str(guest_disk) and conn.list_snapshots("ext") == []
    assert not o2.exists() and not (guest_disk.parent / "disk.o3").exists()
