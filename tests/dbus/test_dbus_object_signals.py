"""Every object signal the service emits is fed by an event kind the spine registers and the
backend subscribes to, and carries exactly its introspection signature (no bus needed)."""

from __future__ import annotations

import pytest
from dbus_fast.signature import SignatureTree

from pyvirt.api import EVENT_CLASSES
from pyvirt.dbus import interfaces
from pyvirt.dbus.backend import EVENT_KINDS
from pyvirt.dbus.service import OBJECT_SIGNALS, SIGNALS
from tests.dbus.bus import unwrap_params


@pytest.mark.parametrize("kind", sorted(OBJECT_SIGNALS))
def test_object_signal_is_fed_and_typed(kind: str) -> None:
    iface, member, arguments = OBJECT_SIGNALS[kind]
    assert kind in EVENT_KINDS, f"the backend never subscribes to {kind}"
    event = EVENT_CLASSES[kind](name="g", uuid="7c1e5f0a-0000-4000-8000-000000000001", event=0)
    signature = interfaces.signals(iface)[member].signature
    SignatureTree(signature).verify(arguments(event))  # raises on a wrong count or type


def test_lifecycle_kinds_are_subscribed() -> None:
    assert set(SIGNALS) <= set(EVENT_KINDS)


def test_signals_cockpit_listens_to_are_emitted() -> None:
    """Cockpit Machines 288 refreshes a VM on these object signals; pyvirt emits every one it has
    an event for (ControlError and DiskChange have no cause in pyvirt: no monitor is shared with
    another process, and a disk startupPolicy that would drop a missing medium is refused at start)."""
    emitted = {member for _iface, member, _args in OBJECT_SIGNALS.values()}
    assert {"BalloonChange", "DeviceAdded", "DeviceRemoved", "TrayChange"} <= emitted


def test_backup_job_statistics_are_libvirts_backup_fields() -> None:
    """A backup's job statistics (GetJobStats, the JobCompleted signal) carry libvirt's backup
    fields with libvirt's types (qemuDomainBackupJobDataToParams), not a migration's."""
    from pyvirt.api import JobInfo
    from pyvirt.dbus.members import _job_stats
    from pyvirt.dbus.service import OBJECT_SIGNALS

    running = JobInfo(2, 9, 40, disk_total=100, disk_processed=60, disk_remaining=40)
    stats = unwrap_params(_job_stats(running))
    assert {k: (v.signature, v.value) for k, v in stats.items()} == {
        "operation": ("i", 9), "time_elapsed": ("t", 40), "disk_total": ("t", 100), "disk_processed": ("t", 60),
        "disk_remaining": ("t", 40)}  # no "success" while it runs
    pulled = JobInfo(3, 9, 70, temp_used=0, temp_total=16, error="Operation canceled")
    assert list(pulled.backup_params()) == ["operation", "time_elapsed", "disk_temp_used", "disk_temp_total",
                                            "success", "errmsg"]
    _iface, member, arguments = OBJECT_SIGNALS["Domain.job-completed"]
    event = type("E", (), {"params": pulled.backup_params()})()
    (sent,) = arguments(event)
    signal = unwrap_params(sent)
    assert member == "JobCompleted"
    assert {k: v.signature for k, v in signal.items()} == {
        "operation": "i", "time_elapsed": "t", "disk_temp_used": "t", "disk_temp_total": "t", "success": "b",
        "errmsg": "s"}
    assert signal["success"].value is True
