"""QEMU events pyvirtd only passes on become libvirt's domain events (tray, balloon, reboot)."""

from __future__ import annotations

from pyvirt.api import EVENT_CLASSES, BalloonChangeEvent, Event, RebootEvent, TrayChangeEvent
from pyvirt.daemon.events import PASSED_ON, from_qmp


def test_tray_moved_names_the_disk_alias_and_libvirts_reason() -> None:
    opened = from_qmp("DEVICE_TRAY_MOVED", {"device": "", "id": "ide0-1-0", "tray-open": True}, "g", "u", 3)
    closed = from_qmp("DEVICE_TRAY_MOVED", {"device": "drive-x", "tray-open": False}, "g", "u", 3)
    assert isinstance(opened, TrayChangeEvent) and (opened.device, opened.reason, opened.id) == ("ide0-1-0", 0, 3)
    assert isinstance(closed, TrayChangeEvent) and (closed.device, closed.reason) == ("drive-x", 1)
    assert from_qmp("DEVICE_TRAY_MOVED", {"tray-open": True}, "g", "u", 3) is None  # no device: nothing to name


def test_balloon_bytes_become_kib_and_reset_a_reboot() -> None:
    balloon = from_qmp("BALLOON_CHANGE", {"actual": 201326592}, "g", "u", 1)
    assert isinstance(balloon, BalloonChangeEvent) and balloon.actual == 196608
    assert isinstance(from_qmp("RESET", {"guest": True}, "g", "u", 1), RebootEvent)
    assert from_qmp("STOP", {}, "g", "u", 1) is None


def test_each_passed_on_event_crosses_the_wire() -> None:
    """Registered under its kind, so a client's stream rebuilds the same event."""
    samples = [from_qmp(n, {"id": "ide0-1-0", "tray-open": True, "actual": 1 << 20}, "g", "u", 1) for n in PASSED_ON]
    for ev in samples:
        assert ev is not None and EVENT_CLASSES[ev.kind] is type(ev)
        again = Event.from_dict(ev.to_dict())
        assert type(again) is type(ev) and again == ev
