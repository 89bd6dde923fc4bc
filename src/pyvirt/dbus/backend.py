"""One exported connection object's link to a pyvirt Connection: worker threads and events.

Why threads: :class:`pyvirt.api.Connection` calls block (the remote client speaks HTTP to
pyvirtd; the test driver works in-process), and the D-Bus service must keep answering while a
guest starts.  A ``qemu://`` connection gets one remote client per worker thread (a client's
kept-alive socket is not shared between threads); the in-process test driver's state belongs to
one Connection object, so its calls run one at a time on a single worker.

The connection opens on first use, as libvirt-dbus opens its libvirt connection lazily (a session
pyvirtd is then started on demand by the client), and the event subscription is made before that
first call runs, so every change a call makes is seen as a signal.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from pyvirt.api import PyvirtError
from pyvirt.client import connect

if TYPE_CHECKING:  # the declaration (pyvirt.connection) and the event records load with their first use
    from pyvirt.api import Connection, Event

log = logging.getLogger("pyvirt.dbus")

#: the event kinds that become signals: lifecycle ones on org.libvirt.Connect, the others on the
#: object (service.py:SIGNALS, OBJECT_SIGNALS)
EVENT_KINDS = ["Domain", "Network", "StoragePool", "NodeDevice", "Domain.device-added", "Domain.device-removed",
               "Domain.block-job-2", "StoragePool.refresh", "Secret", "Domain.tray-change",
               "Domain.balloon-change", "Domain.reboot", "Domain.agent-lifecycle", "Domain.metadata-change",
               "Domain.tunable", "Domain.job-completed"]
RESUBSCRIBE_DELAY = 1.0


class Backend:
    def __init__(self, name: str, uri: str, threads: int,
                 on_event: Callable[[str, Event], None], loop: asyncio.AbstractEventLoop) -> None:
        self.name = name
        self.uri = uri
        self.shared = uri.startswith("test:")  # one in-process state: one Connection, one worker
        self.executor = ThreadPoolExecutor(1 if self.shared else max(1, threads),
                                           thread_name_prefix=f"dbus-{name}")
        self._on_event = on_event
        self._loop = loop
        self._local = threading.local()
        self._lock = threading.Lock()
        self._shared_conn: Connection | None = None
        self._conns: list[Connection] = []
        self._events_started = False
        self._closing = False

    # -- calls
    async def run(self, func: Callable[..., Any], *args: Any) -> Any:
        """func(connection, *args) in a worker thread."""
        return await self._loop.run_in_executor(self.executor, self._call, func, args)

    def _call(self, func: Callable[..., Any], args: tuple[Any, ...]) -> Any:
        return func(self.connection(), *args)

    def connection(self) -> Connection:
        """This worker thread's Connection (opened, and events subscribed, on first use)."""
        conn: Connection | None = self._shared_conn if self.shared else getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.uri)
            with self._lock:
                self._conns.append(conn)
            if self.shared:
                self._shared_conn = conn
            else:
                self._local.conn = conn
        self._start_events(conn)
        return conn

    # -- events
    def _start_events(self, conn: Connection) -> None:
        with self._lock:
            if self._events_started:
                return
            self._events_started = True
        # the test driver's events come from its one Connection; a remote stream needs its own
        source = conn if self.shared else connect(self.uri)
        stream = source.events(kinds=EVENT_KINDS)  # subscribed when this returns
        thread = threading.Thread(target=self._pump, args=(source, stream), name=f"dbus-{self.name}-events",
                                  daemon=True)
        thread.start()

    def _pump(self, source: Connection, stream: Any) -> None:
        """Forward events to the loop; a remote stream that ends (pyvirtd restarted) is opened
        again, so signals resume once the daemon is back."""
        while not self._closing:
            try:
                for event in stream:
                    self._loop.call_soon_threadsafe(self._on_event, self.name, event)
            except PyvirtError as exc:
                log.info("%s: event stream ended: %s", self.name, exc)
            except Exception:  # noqa: BLE001 - keep the pump alive whatever one event did
                log.exception("%s: event stream failed", self.name)
            if self.shared or self._closing:
                return
            while not self._closing:
                time.sleep(RESUBSCRIBE_DELAY)
                try:
                    stream = source.events(kinds=EVENT_KINDS)
                    break
                except PyvirtError as exc:  # no socket while pyvirtd restarts: no-connect error
                    log.debug("%s: resubscribing: %s", self.name, exc)

    def close(self) -> None:
        self._closing = True
        self.executor.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            with contextlib.suppress(Exception):
                conn.close()
