"""The web process's side of one Connection (one URI): a small pool of client connections and
the one event subscription every browser shares.

The remote client is synchronous (stdlib, built for the CLI's start-up time) and one client
connection carries one request at a time, so calls run in worker threads, each on a connection
taken from the pool: a slow operation (a snapshot, a shutdown) never holds up the others.  A
``test://`` URI gets exactly one connection (the test driver keeps its state per connection, as
libvirt's does), shared under a lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

from pyvirt.api import Connection, Event, PyvirtError

log = logging.getLogger(__name__)

#: event kinds the web UI shows live
EVENT_KINDS = ["Domain", "StoragePool", "Network"]
POOL_SIZE = 8
RESUBSCRIBE_DELAY = 1.0


class Backend:
    """`factory()` opens one Connection (pyvirt.client.connect bound to the URI)."""

    def __init__(self, uri: str, factory: Callable[[], Connection], size: int = POOL_SIZE, id: str = "",
                 label: str = "") -> None:
        self.uri = uri
        self.id = id or uri  # the route's name for it (pyvirt.web.conns.connection_ids)
        self.label = label or uri  # what the page calls it (the config file's label, else the URI)
        self.factory = factory
        self.shared = uri.startswith("test:")
        self.size = 1 if self.shared else size
        self._idle: queue.SimpleQueue[Connection] = queue.SimpleQueue()
        self._slots = threading.BoundedSemaphore(self.size)
        self._made: list[Connection] = []
        self._lock = threading.Lock()
        self.listeners: set[asyncio.Queue[dict[str, Any]]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self.subscribed = threading.Event()  # the one subscription is live

    @contextlib.contextmanager
    def connection(self) -> Iterator[Connection]:
        """A connection for this thread's call (blocks while all are busy)."""
        self._slots.acquire()
        try:
            try:
                conn = self._idle.get_nowait()
            except queue.Empty:
                with self._lock:
                    conn = self.factory()
                    self._made.append(conn)
            try:
                yield conn
            finally:
                self._idle.put(conn)
        finally:
            self._slots.release()

    def check(self) -> None:
        """Opens the first connection: a clear error at start when pyvirtd does not answer."""
        with self.connection() as conn:
            conn.get_uri()

    async def call(self, name: str, kwargs: dict[str, Any]) -> Any:
        """The operation `name` with keyword arguments, in a worker thread."""
        def run() -> Any:
            with self.connection() as conn:
                return getattr(conn, name)(**kwargs)
        return await asyncio.to_thread(run)

    async def run(self, fn: Callable[[Connection], Any]) -> Any:
        """`fn(connection)` in a worker thread (for what is more than one call)."""
        def go() -> Any:
            with self.connection() as conn:
                return fn(conn)
        return await asyncio.to_thread(go)

    async def run_long(self, name: str, fn: Callable[[Connection], Any]) -> Any:
        """`fn(connection)` for a transfer that lasts as long as a peer makes it last (volume
        upload and download): a thread of its own (pyvirt.ownthread), so that a few slow ones
        never take every worker the API calls share."""
        from pyvirt.ownthread import own_thread

        def go() -> Any:
            with self.connection() as conn:
                return fn(conn)
        return await own_thread(name, go)

    def dedicated(self) -> Connection:
        """A connection of its own (consoles, uploads hold theirs for long; the test driver: the shared one)."""
        if self.shared:
            with self.connection() as conn:
                return conn
        return self.factory()

    # ------------------------------------------------------------------ events
    def start_events(self, loop: asyncio.AbstractEventLoop) -> None:
        """One subscription for the whole process, fanned out to every browser's queue."""
        self._loop = loop
        threading.Thread(target=self._event_thread, name="pyvirt-web-events", daemon=True).start()

    def _event_thread(self) -> None:
        import time

        while not self._closed:
            conn = None
            try:
                conn = self.dedicated()
                stream = conn.events(kinds=EVENT_KINDS)  # subscribed when this returns
                self.subscribed.set()
                # pages that saw "lost" load their lists again now that nothing can be missed
                self._deliver({"kind": "Connect", "event": "subscribed"})
                for ev in stream:
                    self._deliver(event_dict(ev))
            except PyvirtError as exc:
                log.warning("event stream: %s; subscribing again", exc)
            except Exception:  # noqa: BLE001 - keep the one subscription alive, log the bug
                log.exception("event stream failed")
            if conn is not None and not self.shared:  # a fresh connection next time
                with contextlib.suppress(Exception):
                    conn.close()
            self.subscribed.clear()
            self._deliver({"kind": "Connect", "event": "lost"})  # pages reload their lists then
            time.sleep(RESUBSCRIBE_DELAY)

    def _deliver(self, data: dict[str, Any]) -> None:
        data["conn"] = self.id  # a page showing several connections knows whose event it is
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        loop.call_soon_threadsafe(self._fan_out, data)

    def _fan_out(self, data: dict[str, Any]) -> None:
        for q in list(self.listeners):
            if q.full():  # a browser that stopped reading loses old events, not our memory
                with contextlib.suppress(asyncio.QueueEmpty):
                    q.get_nowait()
            q.put_nowait(data)

    def close(self) -> None:
        self._closed = True
        while True:
            try:
                conn = self._idle.get_nowait()
            except queue.Empty:
                break
            with contextlib.suppress(Exception):
                conn.close()


def event_dict(ev: Event) -> dict[str, Any]:
    from pyvirt.optypes import encode

    data: dict[str, Any] = encode(ev)
    return data
