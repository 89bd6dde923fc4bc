"""The lifecycle event bus of every object kind: one bounded queue per subscriber, so no event is
lost between a client subscribing and the operation it then starts, and a slow client never blocks
the daemon.  Drivers that run in worker threads (storage) publish through :meth:`threadsafe`."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from pyvirt.api import (
    BalloonChangeEvent,
    DomainDeviceEvent,
    DomainEvent,
    Event,
    QemuMonitorEvent,
    RebootEvent,
    TrayChangeEvent,
)

log = logging.getLogger(__name__)

#: QEMU events that pyvirtd only passes on, as the domain event libvirt makes of each
PASSED_ON = ("DEVICE_TRAY_MOVED", "BALLOON_CHANGE", "RESET")


def from_qmp(qmp_event: str, data: dict[str, Any], name: str, uuid: str, dom_id: int) -> Event | None:
    """The spine's event for one of PASSED_ON (None for another, or one without what it needs):
    libvirt's qemuProcessHandleTrayChange / BalloonChange / Reset."""
    ident = {"name": name, "uuid": uuid, "id": dom_id, "timestamp": time.time()}
    if qmp_event == "DEVICE_TRAY_MOVED":
        alias = str(data.get("id") or data.get("device") or "")  # the qdev id is the disk's alias
        if not alias:
            return None
        reason = TrayChangeEvent.OPEN if data.get("tray-open") else TrayChangeEvent.CLOSE
        return TrayChangeEvent(**ident, device=alias, reason=reason)
    if qmp_event == "BALLOON_CHANGE":
        return BalloonChangeEvent(**ident, actual=int(data.get("actual", 0)) // 1024)
    if qmp_event == "RESET":
        return RebootEvent(**ident, event=0)
    return None


def monitor_event(qmp: Any, name: str, uuid: str, dom_id: int) -> QemuMonitorEvent:
    """Any QMP event as libvirt's QEMU monitor event (qemuMonitorJSONIOProcessEvent): its name,
    QEMU's timestamp, its "data" as compact JSON (None without one)."""
    stamp = qmp.get("timestamp") if isinstance(qmp.get("timestamp"), dict) else {}
    data = qmp.get("data")
    details = json.dumps(data, separators=(",", ":"), ensure_ascii=False) if data is not None else None
    return QemuMonitorEvent(name=name, uuid=uuid, id=dom_id, timestamp=time.time(), qmp_event=str(qmp.get("event")),
                            seconds=int(stamp.get("seconds", 0)), micros=int(stamp.get("microseconds", 0)),
                            details=details)


class EventBus:
    QUEUE_LIMIT = 1024

    def __init__(self) -> None:
        self._subscribers: set[asyncio.Queue[Event | None]] = set()

    def subscribe(self) -> asyncio.Queue[Event | None]:
        """A new subscriber's queue, live from now on.  The debug line is what tells a watcher
        started elsewhere (a `pyvirt event` subprocess of a test) has subscribed: waiting for it
        replaces guessing with a sleep."""
        queue: asyncio.Queue[Event | None] = asyncio.Queue(self.QUEUE_LIMIT)
        self._subscribers.add(queue)
        log.debug("event subscriber added (%d now)", len(self._subscribers))
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Event | None]) -> None:
        self._subscribers.discard(queue)

    def emit(self, name: str, uuid: str, event: int, detail: int, dom_id: int = -1) -> DomainEvent:
        """A domain's event."""
        ev = DomainEvent(name=name, uuid=uuid, event=int(event), detail=int(detail),
                         timestamp=time.time(), id=dom_id)
        self.publish(ev)
        return ev

    def emit_device(self, kind: type[DomainDeviceEvent], name: str, uuid: str, device: str,
                    dom_id: int = -1) -> DomainDeviceEvent:
        """A device of a running domain was added or removed (`kind`: DeviceAddedEvent, ...)."""
        ev = kind(name=name, uuid=uuid, timestamp=time.time(), id=dom_id, device=device)
        self.publish(ev)
        return ev

    def threadsafe(self, loop: asyncio.AbstractEventLoop) -> Callable[[Event], None]:
        """A publish() that worker threads may call: it hands the event to `loop`."""
        def publish(ev: Event) -> None:
            if not ev.timestamp:
                ev.timestamp = time.time()
            loop.call_soon_threadsafe(self.publish, ev)

        return publish

    def publish(self, ev: Event) -> None:
        """Any kind's event, to every subscriber (in the event loop's thread)."""
        if ev.kind != QemuMonitorEvent.KIND:  # every QMP event is one of these: not worth a log line each
            log.info("event %s %s: %d/%d", ev.kind, ev.name, ev.event, ev.detail)
        for queue in list(self._subscribers):
            try:
                queue.put_nowait(ev)
            except asyncio.QueueFull:
                # a subscriber that stopped reading is cut off rather than growing without bound
                self._subscribers.discard(queue)
                _end(queue)

    def close(self) -> None:
        for queue in list(self._subscribers):
            _end(queue)
        self._subscribers.clear()


def _end(queue: asyncio.Queue[Event | None]) -> None:
    """The end marker into a subscriber's queue, full or not (a full one gives up its oldest
    event for it): a subscriber that never got it would wait on its queue for ever."""
    if queue.full():
        queue.get_nowait()
    queue.put_nowait(None)
