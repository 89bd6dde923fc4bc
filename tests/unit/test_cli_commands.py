"""Command output with a small fake Connection: the parts test:/// cannot show (events)."""

from __future__ import annotations

import io

from pyvirt.api import BlockJobEvent, DeviceAddedEvent, DeviceRemovedEvent, DomainEvent, DomainInfo
from pyvirt.cli import table
from pyvirt.cli.context import Ctl
from pyvirt.cli.grammar import split_line
from pyvirt.cli.run import run_words


class FakeConn:
    def __init__(self, events: list[DomainEvent]) -> None:
        self._events = events

    def lookup_domain(self, ref: str) -> DomainInfo:
        return DomainInfo(name="vm1", uuid="u-1", id=3, state=1)

    def events(self, dom=None, timeout=None, kinds=None):
        yield from (e for e in self._events if e.kind in (kinds or ["Domain"]))

    def close(self) -> None:
        pass


def run(line: str, conn: FakeConn) -> tuple[str, bool]:
    ctl = Ctl("fake:///")
    ctl._conn = conn  # type: ignore[assignment]
    ctl.out, ctl.err = io.StringIO(), io.StringIO()
    ok = run_words(ctl, split_line(line))
    return ctl.out.getvalue(), bool(ok)


def test_event_lines_as_virsh() -> None:
    evs = [DomainEvent("vm1", "u-1", 2, 0), DomainEvent("vm1", "u-1", 5, 1)]
    out, ok = run("event --all --loop", FakeConn(evs))
    assert out == ("event 'lifecycle' for domain 'vm1': Started Booted\n"
                   "event 'lifecycle' for domain 'vm1': Stopped Destroyed\n"
                   "event loop timed out\nevents received: 2\n\n")
    assert ok
    out, _ = run("event --event lifecycle --domain vm1", FakeConn(evs))
    assert out == "event 'lifecycle' for domain 'vm1': Started Booted\nevents received: 1\n\n"


def test_device_event_lines_as_virsh() -> None:
    evs = [DomainEvent("vm1", "u-1", 2, 0), DeviceAddedEvent("vm1", "u-1", device="net1"),
           DeviceRemovedEvent("vm1", "u-1", device="virtio-disk1")]
    out, _ = run("event --event device-removed", FakeConn(evs))
    assert out == "event 'device-removed' for domain 'vm1': virtio-disk1\nevents received: 1\n\n"
    out, _ = run("event --all --loop", FakeConn(evs))
    assert out.splitlines()[:3] == ["event 'lifecycle' for domain 'vm1': Started Booted",
                                    "event 'device-added' for domain 'vm1': net1",
                                    "event 'device-removed' for domain 'vm1': virtio-disk1"]
    out, _ = run("event --event lifecycle", FakeConn(evs[1:]))  # device events are not asked for
    assert "events received: 0" in out


def test_block_job_event_lines_as_virsh() -> None:
    evs = [BlockJobEvent("vm1", "u-1", kind="Domain.block-job", disk="/i/a.qcow2", job="Block Pull", status="completed"),
           BlockJobEvent("vm1", "u-1", kind="Domain.block-job-2", disk="vda", job="Block Pull", status="completed")]
    out, _ = run("event --event block-job-2", FakeConn(evs))
    assert out == "event 'block-job-2' for domain 'vm1': Block Pull for vda completed\nevents received: 1\n\n"
    out, _ = run("event --event block-job", FakeConn(evs))
    assert out.startswith("event 'block-job' for domain 'vm1': Block Pull for /i/a.qcow2 completed\n")


def test_event_timestamp_prefix() -> None:
    out, _ = run("event --all --timestamp", FakeConn([DomainEvent("vm1", "u-1", 3, 0, timestamp=0.5)]))
    assert out.startswith("1970-01-01 00:00:00.500+0000: event 'lifecycle' for domain 'vm1': Suspended Paused\n")


def test_table_has_no_duplicate_names() -> None:
    names = [c.name for c in table.COMMANDS]
    assert len(names) == len(set(names))


def test_pool_event_refresh_line_as_virsh() -> None:
    """pool-event --event refresh asks for the refresh kind only and prints virsh's generic line."""
    from pyvirt.api import StoragePoolRefreshEvent

    class PoolConn(FakeConn):
        kinds: list[str] | None = None

        def events(self, dom=None, timeout=None, kinds=None):
            PoolConn.kinds = kinds
            yield from self._events

    conn = PoolConn([StoragePoolRefreshEvent("p1", "u-2", 0)])
    out, ok = run("pool-event --event refresh --loop", conn)
    assert ok and PoolConn.kinds == ["StoragePool.refresh"]
    assert out.startswith("event 'refresh' for storage pool p1\n") and "events received: 1" in out


def _run_on(uri: str, line: str, conn: object | None = None) -> tuple[str, str, bool]:
    ctl = Ctl(uri)
    if conn is not None:
        ctl._conn = conn  # type: ignore[assignment]
    ctl.out, ctl.err = io.StringIO(), io.StringIO()
    ok = run_words(ctl, split_line(line))
    return ctl.out.getvalue(), ctl.err.getvalue(), bool(ok)


def test_start_is_one_call_and_words_failures_as_virsh() -> None:
    """start asks the driver once; only a failure looks the domain up (by name or UUID, as
    virsh's start does: never by id) to say what virsh says."""
    assert _run_on("test:///default", "start nonexist")[1] == "error: failed to get domain 'nonexist'\n"
    assert _run_on("test:///default", "start test")[1] == "error: Domain is already active\n"
    assert _run_on("test:///default", "start 1")[1] == "error: failed to get domain '1'\n"  # test's id
    out, err, ok = _run_on("test:///default", "destroy test; start test")
    assert ok and not err and "Domain 'test' started\n" in out

    from pyvirt.api import ErrorCode, PyvirtError

    class Failing(FakeConn):
        calls: list[str] = []

        def start(self, ref: str, **flags: object) -> DomainInfo:
            self.calls.append(ref)
            raise PyvirtError("internal error: QEMU failed to start", ErrorCode.INTERNAL_ERROR)

        def lookup_domain(self, ref: str) -> DomainInfo:
            return DomainInfo(name="vm1", uuid="u-1", id=-1, state=5)

    conn = Failing([])
    _, err, ok = _run_on("fake:///", "start vm1", conn)
    assert not ok and conn.calls == ["vm1"]  # not started a second time to word the error
    assert err == "error: Failed to start domain 'vm1'\nerror: internal error: QEMU failed to start\n"
