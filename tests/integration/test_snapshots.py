"""Internal snapshots with the real test guest under TCG, through pyvirtd.

One guest on a private qcow2 overlay serves the whole story (each boot costs ~20 s of TCG):
an offline snapshot, a running one with RAM, a change on disk and in the shell's memory,
revert (the old file and the old shell variable are back), delete while running, revert to
the offline snapshot, metadata surviving a pyvirtd restart, and the refusals.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pyvirt.api import (
    DomainState,
    ErrorCode,
    EventType,
    PyvirtError,
    ResumedDetail,
    RunningReason,
    ShutoffReason,
    StoppedDetail,
    SuspendedDetail,
)
from pyvirt.testguest import READY_MARKER, TestGuest
from tests.daemon_harness import DaemonHarness, guest_shell, guest_xml, wait_console


def _snapshot_tags(disk: Path) -> list[str]:
    out = subprocess.run(["qemu-img", "snapshot", "-U", "-l", str(disk)], capture_output=True, text=True,
                         check=True).stdout
    return [line.split()[1] for line in out.splitlines()[2:] if line.split()]


def test_internal_snapshots_of_a_running_and_a_shut_off_guest(
        daemon: DaemonHarness, test_guest: TestGuest, guest_disk: Path, tmp_path: Path) -> None:
    conn = daemon.connect()
    conn.define_xml(guest_xml(test_guest, "snap", disk=guest_disk))
    assert conn.snapshot_create("snap", "<domainsnapshot><name>off</name></domainsnapshot>") == "off"
    assert _snapshot_tags(guest_disk) == ["off"]

    conn.start("snap")
    wait_console(conn, "snap", READY_MARKER, 180)
    guest_shell(conn, "snap", "echo before > /root/marker; sync; X=before", "STEP-1")
    conn.snapshot_create("snap", "<domainsnapshot><name>s1</name><description>with RAM</description>"
                                 "</domainsnapshot>")
    guest_shell(conn, "snap", "echo after > /root/marker; sync; X=after", "STEP-2")

    events = iter(conn.subscribe("snap", timeout=60))
    conn.snapshot_revert("snap", "s1")
    assert conn.get_state("snap") == (DomainState.RUNNING, RunningReason.FROM_SNAPSHOT)
    # loaded in place: libvirt 9.0's events, with its numbers for "from snapshot"
    assert [(e.event, e.detail) for e in (next(events), next(events))] == [
        (EventType.SUSPENDED, SuspendedDetail.FROM_SNAPSHOT), (EventType.RESUMED, ResumedDetail.FROM_SNAPSHOT)]
    out = guest_shell(conn, "snap", "echo FILE=$(cat /root/marker) VAR=$X", "STEP-3")
    assert "FILE=before VAR=before" in out, out
    recs = {r.name: r for r in conn.list_snapshots("snap")}
    assert (recs["s1"].parent, recs["s1"].state, recs["s1"].current) == ("off", "running", True)
    assert "<memory snapshot='internal'/>" in conn.snapshot_xml("snap", "s1")

    # refusals leave everything as it was
    for bad, code in (("a/b", ErrorCode.INVALID_ARG), ("..", ErrorCode.INVALID_ARG), ("s1", ErrorCode.OPERATION_FAILED)):
        with pytest.raises(PyvirtError) as err:
            conn.snapshot_create("snap", f"<domainsnapshot><name>{bad}</name></domainsnapshot>")
        assert err.value.code == code, err.value.message
    with pytest.raises(PyvirtError, match="no domain snapshot with matching name 'nope'"):
        conn.snapshot_revert("snap", "nope")
    assert sorted(_snapshot_tags(guest_disk)) == ["off", "s1"]

    # metadata survives a daemon restart (the guest keeps running meanwhile)
    daemon.stop()
    daemon.start()
    conn = daemon.connect()
    assert [(r.name, r.current) for r in conn.list_snapshots("snap")] == [("off", False), ("s1", True)]

    conn.snapshot_delete("snap", "s1")  # while running: QEMU's snapshot-delete job
    assert _snapshot_tags(guest_disk) == ["off"]
    events = iter(conn.subscribe("snap", timeout=60))
    conn.snapshot_revert("snap", "off")  # a shut-off snapshot: the guest stops, disks go back
    assert conn.get_state("snap") == (DomainState.SHUTOFF, ShutoffReason.FROM_SNAPSHOT)
    ev = next(events)
    assert (ev.event, ev.detail) == (EventType.STOPPED, StoppedDetail.FROM_SNAPSHOT)
    conn.start("snap")
    wait_console(conn, "snap", READY_MARKER, 180)
    out = guest_shell(conn, "snap", "echo FILE=$(cat /root/marker 2>/dev/null || echo none)", "STEP-4")
    assert "FILE=none" in out, out
    conn.destroy("snap")

    with pytest.raises(PyvirtError, match="cannot delete inactive domain with 1 snapshots"):
        conn.undefine("snap")
    conn.undefine("snap", snapshots_metadata=True)
    assert not (daemon.root / "config" / "qemu" / "snapshot" / "snap").exists()


def test_raw_disk_refuses_internal_snapshot(daemon: DaemonHarness, test_guest: TestGuest, tmp_path: Path) -> None:
    raw = tmp_path / "disk.img"
    subprocess.run(["qemu-img", "create", "-q", "-f", "raw", str(raw), "16M"], check=True)
    conn = daemon.connect()
    conn.define_xml(guest_xml(test_guest, "rawsnap", disk=raw).replace("type='qcow2'", "type='raw'"))
    with pytest.raises(PyvirtError, match="internal snapshot for disk vda unsupported for storage type raw"):
        conn.snapshot_create("rawsnap", "<domainsnapshot/>")
    assert conn.list_snapshots("rawsnap") == []
