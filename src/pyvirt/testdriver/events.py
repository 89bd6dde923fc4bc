"""An in-process event bus: one queue per listener, so no listener misses or steals events."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator

from pyvirt.api import DomainEvent


class EventBus:
    """Fan-out of DomainEvents to every iterator registered before the event happened."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queues: list[queue.SimpleQueue[DomainEvent | None]] = []

    def emit(self, event: DomainEvent) -> None:
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

    def subscribe(self, uuid_or_name: tuple[str, str] | None, timeout: float | None) -> Iterator[DomainEvent]:
        """Register now (not at first next()) so events emitted right after the call are seen."""
        q: queue.SimpleQueue[DomainEvent | None] = queue.SimpleQueue()
        with self._lock:
            self._queues.append(q)
        return self._iterate(q, uuid_or_name, timeout)

    def _iterate(self, q: queue.SimpleQueue[DomainEvent | None], match: tuple[str, str] | None,
                 timeout: float | None) -> Iterator[DomainEvent]:
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
                if match is None or event.uuid == match[0]:
                    yield event
        finally:
            with self._lock:
                if q in self._queues:
                    self._queues.remove(q)
