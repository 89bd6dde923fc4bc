"""The lifecycle event bus: one bounded queue per subscriber, so no event is lost between a
client subscribing and the operation it then starts, and a slow client never blocks the daemon."""

from __future__ import annotations

import asyncio
import logging
import time

from pyvirt.api import DomainEvent

log = logging.getLogger(__name__)


class EventBus:
    QUEUE_LIMIT = 1024

    def __init__(self) -> None:
        self._subscribers: set[asyncio.Queue[DomainEvent | None]] = set()

    def subscribe(self) -> asyncio.Queue[DomainEvent | None]:
        queue: asyncio.Queue[DomainEvent | None] = asyncio.Queue(self.QUEUE_LIMIT)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[DomainEvent | None]) -> None:
        self._subscribers.discard(queue)

    def emit(self, name: str, uuid: str, event: int, detail: int, dom_id: int = -1) -> DomainEvent:
        ev = DomainEvent(name=name, uuid=uuid, event=int(event), detail=int(detail),
                         timestamp=time.time(), id=dom_id)
        log.info("event %s: %d/%d", name, event, detail)
        for queue in list(self._subscribers):
            try:
                queue.put_nowait(ev)
            except asyncio.QueueFull:
                # a subscriber that stopped reading is cut off rather than growing without bound
                self._subscribers.discard(queue)
                queue.get_nowait()
                queue.put_nowait(None)
        return ev

    def close(self) -> None:
        for queue in list(self._subscribers):
            if not queue.full():
                queue.put_nowait(None)
        self._subscribers.clear()
