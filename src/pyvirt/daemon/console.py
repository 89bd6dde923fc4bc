"""The serial console relay: pyvirtd keeps each running guest's serial pty open and drained.

Draining means the guest never blocks on a console nobody reads, and the last 64 KiB are kept
so a client that attaches late can ask for what it missed (the boot marker, a login prompt).
As libvirt, one interactive client at a time; `force` takes the console from the current one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import termios
import tty

from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError

log = logging.getLogger(__name__)

HISTORY_LIMIT = 64 * 1024
#: client input the pty has not taken yet (the guest reads slowly): kept up to this, then dropped
INPUT_LIMIT = 1 << 20


class ConsoleRelay:
    def __init__(self, pty_path: str) -> None:
        self.pty_path = pty_path
        self.history = bytearray()  # up to 2 * HISTORY_LIMIT held; `recent()` is what clients get
        self._fd: int | None = None
        self._client: asyncio.Queue[bytes | None] | None = None
        self._waiters: list[asyncio.Future[None]] = []
        self._pending = bytearray()  # input waiting for room in the pty (written when writable)

    def open(self) -> None:
        fd = os.open(self.pty_path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        with contextlib.suppress(termios.error):
            tty.setraw(fd)
        self._fd = fd
        asyncio.get_running_loop().add_reader(fd, self._on_readable)

    def _on_readable(self) -> None:
        assert self._fd is not None
        try:
            data = os.read(self._fd, 65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:  # the guest side hung up (QEMU exiting)
            self.close()
            return
        self.history += data
        if len(self.history) > 2 * HISTORY_LIMIT:  # trimmed in bulk: a chatty guest's every read
            del self.history[: len(self.history) - HISTORY_LIMIT]  # must not move 64 KiB
        if self._client is not None:
            try:
                self._client.put_nowait(data)
            except asyncio.QueueFull:
                self._drop_client()
        waiters, self._waiters = self._waiters, []
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)

    def recent(self) -> bytes:
        """The last HISTORY_LIMIT bytes the guest printed."""
        return bytes(self.history[-HISTORY_LIMIT:])

    async def wait_output(self) -> None:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        await fut

    def attach(self, force: bool) -> asyncio.Queue[bytes | None]:
        if self._fd is None:
            raise PyvirtError("internal error: character device console0 is not using a PTY",
                              ErrorCode.INTERNAL_ERROR, ErrorDomain.QEMU)
        if self._client is not None:
            if not force:
                raise PyvirtError("Operation not supported: Active console session exists for this domain",
                                  ErrorCode.OPERATION_UNSUPPORTED, ErrorDomain.QEMU)
            self._drop_client()
        self._client = asyncio.Queue(256)
        return self._client

    def detach(self, queue: asyncio.Queue[bytes | None]) -> None:
        if self._client is queue:
            self._client = None

    def _drop_client(self) -> None:
        """End the current client: its queue ends with None whatever it holds.  A full queue
        (the usual reason to drop it) gives up its oldest piece for the marker: without the
        marker the client's relay would wait on the queue for ever."""
        if self._client is not None:
            if self._client.full():
                self._client.get_nowait()
            self._client.put_nowait(None)
            self._client = None

    def write(self, data: bytes) -> None:
        """The client's input, in order: what the pty cannot take now (a paste faster than the
        guest reads) waits for room, up to INPUT_LIMIT; never blocking the daemon."""
        if self._fd is None:
            return
        room = INPUT_LIMIT - len(self._pending)
        if len(data) > room:
            log.warning("%s: console input dropped: the guest has not read the last %d bytes",
                        self.pty_path, len(self._pending))
            data = data[:max(room, 0)]
        waiting = bool(self._pending)
        self._pending += data
        if not waiting:
            self._flush()

    def _flush(self) -> None:
        assert self._fd is not None
        loop = asyncio.get_running_loop()
        try:
            while self._pending:
                written = os.write(self._fd, self._pending)
                del self._pending[:written]
        except BlockingIOError:  # a full pty: the rest when the guest has read some
            loop.add_writer(self._fd, self._flush)
            return
        except OSError:  # the guest side is gone: its input with it
            self._pending.clear()
        with contextlib.suppress(Exception):
            loop.remove_writer(self._fd)

    def close(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().remove_reader(self._fd)
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().remove_writer(self._fd)
            self._pending.clear()
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None
        self._drop_client()
        for fut in self._waiters:
            if not fut.done():
                fut.set_result(None)
        self._waiters = []
