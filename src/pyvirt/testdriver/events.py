"""An in-process event bus: one queue per listener, so no listener misses or steals events."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator

from pyvirt.api import Event


class EventBus:
    """Fan-out of Events (every object kind) to every iterator registered before the event happened."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queues: list[queue.SimpleQueue[Event | None]] = []

    def emit(self, event: Event) -> None:
        with self._lock:
            targets = list(self._queues)
        for q in targets:
            q.put(event)

    def close(self) -> None:
        """Wake every listener with end-of-stream."""
        with self._lock:
            targets, self._queues = self._queues, []
        for q in targets:
            q.put(None)

    def subscribe(self, uuid_or_name: tuple[str, str] | None, timeout: float | None,
                  kinds: list[str] | tuple[str, ...] = ("Domain",)) -> Iterator[Event]:
        """Register now (not at first next()) so events emitted right after the call are seen.
        `uuid_or_name`: only the object with this UUID (or, without one, this name)."""
        q: queue.SimpleQueue[Event | None] = queue.SimpleQueue()
        with self._lock:
            self._queues.append(q)
        return self._iterate(q, uuid_or_name, timeout, set(kinds))

    def _iterate(self, q: queue.SimpleQueue[Event | None], match: tuple[str, str] | None,
                 timeout: float | None, kinds: set[str]) -> Iterator[Event]:
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            while True:
                wait = None if deadline is None else max(0.0, deadline - time.monotonic())
                try:
                    event = q.get(timeout=wait)
                except queue.Empty:
                    return
                if event is None:
                    return
                if event.kind in kinds and (match is None or event.uuid == match[0]
                                            or (not match[0] and event.name == match[1])):
                    yield event
        finally:
            with self._lock:
                if q in self._queues:
                    self._queues.remove(q)
