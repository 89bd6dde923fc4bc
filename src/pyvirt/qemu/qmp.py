"""Thin helpers over the ``qemu.qmp`` library: listen, connect with a deadline, execute, sync probes.

pyvirtd uses ``QMPClient`` directly (it needs the event stream); these helpers only remove
the boilerplate every caller would otherwise repeat: a monitor socket bound *before* QEMU
starts (so there is no race polling for a socket file, as libvirt does with its fd=N
monitor), a connect that gives up after a timeout, and a synchronous one-shot session for
probes that just want a few replies.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from qemu.qmp import EventListener, QMPClient, Runstate
from qemu.qmp.error import QMPError

__all__ = ["QMPClient", "QMPError", "Runstate", "BoundedEventListener", "listen_unix", "connect", "execute",
           "run_commands"]

log = logging.getLogger(__name__)

# qemu.qmp logs every monitor message at debug level: display passwords (set_password) would
# land in pyvirtd's log with -v, and a flooding guest would fill it.  Never below INFO.
logging.getLogger("qemu.qmp").setLevel(logging.INFO)

Command = tuple[str, Mapping[str, Any] | None]


class BoundedEventListener(EventListener):
    """Only the named events, at most `maxsize` waiting, no history: a guest cannot grow the daemon.

    ``EventListener`` keeps every event it accepts twice, in an unbounded queue and in an
    unbounded history; a QEMU that floods events (a misbehaving or hostile guest can make it)
    then grows pyvirtd without limit.  Here events past the bound are dropped and counted, and
    the flood is logged at most once a minute per guest.
    """

    def __init__(self, names: Sequence[str], maxsize: int = 256, owner: str = "") -> None:
        super().__init__(names)
        self._queue = asyncio.Queue(maxsize)
        self.owner = owner
        self.seen = 0            # every event QEMU sent, accepted or not
        self.dropped = 0         # accepted events lost to the bound
        self._last_warning = 0.0

    def accept(self, event: Any) -> bool:
        self.seen += 1
        return super().accept(event)

    async def put(self, event: Any) -> None:
        if not self.accept(event):
            return
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self.dropped += 1
            now = time.monotonic()
            if now - self._last_warning > 60:
                self._last_warning = now
                log.warning("%s: QEMU floods its monitor with events (%d seen, %d dropped); "
                            "treating the guest as misbehaving", self.owner, self.seen, self.dropped)


def listen_unix(path: str | Path) -> socket.socket:
    """A listening unix socket for ``-chardev socket,fd=N,server=on,wait=off`` (inheritable fd).

    Because it is bound and listening before QEMU runs, a client may connect at once: the
    kernel queues the connection until QEMU accepts it.
    """
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(str(path))
        sock.listen(1)
        sock.set_inheritable(True)
    except BaseException:
        sock.close()
        raise
    return sock


def _hear_nothing(event: Any) -> bool:
    return False


class _Client(QMPClient):
    """qemu.qmp's client, minus the pretty-printing of every message for a debug line nobody reads.

    The library's message hooks call ``str(msg)`` (``json.dumps(indent=2)``) for ``logger.debug``
    before the logger can decline it: with debug logging off that was a quarter of the daemon's
    CPU when it re-attached to 200 guests. Both hooks only log, so they keep doing that exactly
    when debug logging is on (``pyvirtd -v``).
    """

    def _cb_outbound(self, msg: Any) -> Any:
        return super()._cb_outbound(msg) if self.logger.isEnabledFor(logging.DEBUG) else msg

    def _cb_inbound(self, msg: Any) -> Any:
        return super()._cb_inbound(msg) if self.logger.isEnabledFor(logging.DEBUG) else msg


async def connect(address: str | Path, timeout: float = 5.0, name: str | None = None,
                  listeners: Sequence[EventListener] = ()) -> QMPClient:
    """Connect and negotiate capabilities; retry while the socket is not there yet, up to ``timeout``.
    `listeners` hear every event from the first one QEMU sends after the negotiation: registered
    once connected, an event in between (a guest powering off as a restarted daemon re-attaches)
    was lost."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        client = _Client(name)
        # the library's default listener keeps every event forever (queue and history): mute it;
        # callers that want events register a BoundedEventListener for the names they handle
        client.events.event_filter = _hear_nothing
        for listener in listeners:
            client.register_listener(listener)
        try:
            await asyncio.wait_for(client.connect(str(address)), max(0.01, deadline - loop.time()))
            return client
        except (QMPError, OSError) as exc:
            # Python 3.11's wait_for can swallow a cancellation that races with the attempt's own
            # failure: honour it, or a cancelled connect retries until its deadline and holds up
            # the daemon's exit behind it
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise asyncio.CancelledError from exc
            # FileNotFoundError / ConnectionRefused are wrapped by qemu.qmp; retry until the deadline.
            if loop.time() >= deadline:
                raise TimeoutError(f"QMP connect to {address} timed out: {exc}") from exc
            await asyncio.sleep(0.01)


async def execute(
    client: QMPClient, cmd: str, arguments: Mapping[str, Any] | None = None, timeout: float | None = 10.0
) -> Any:
    """``client.execute`` with a timeout: a wedged QEMU must not wedge its caller."""
    return await asyncio.wait_for(client.execute(cmd, arguments), timeout)


async def _run(address: str | Path, commands: Sequence[Command], timeout: float) -> list[Any]:
    client = await connect(address, timeout)
    try:
        results = []
        for cmd, args in commands:
            results.append(await execute(client, cmd, args, timeout))
        return results
    finally:
        await client.disconnect()


def run_commands(address: str | Path, commands: Sequence[Command], timeout: float = 5.0) -> list[Any]:
    """Synchronously connect, run ``commands`` in order and return their replies (for probes and tools)."""
    return asyncio.run(_run(address, commands, timeout))
