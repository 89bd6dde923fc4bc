"""The remote client's streams: a console or display's bytes over a WebSocket, pyvirtd's event
stream.  Apart from pyvirt.client.remote because most commands open none: every class a
command imports is created at its start (~0.37M instructions for these)."""

from __future__ import annotations

import time

from pyvirt.api import ConsoleStream, ErrorCode, ErrorDomain, PyvirtError
from pyvirt.client import wire
from pyvirt.operations import declared

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

    from pyvirt.apievents import Event

MAX_EVENT = 1 << 20  # one Server-Sent Event (a lifecycle event is ~200 bytes)
_SOL_SOCKET, _SO_KEEPALIVE = 1, 9  # <sys/socket.h> on Linux, without importing socket


def stream_error(exc: wire.WireError, what: str) -> PyvirtError:
    """The daemon's refusal of a stream (its error object), or what went wrong on the way."""
    body = exc.args[1] if len(exc.args) > 1 else None
    if isinstance(body, dict) and "error" in body:
        return PyvirtError.from_dict(body["error"])
    return PyvirtError(f"{what}: {exc}", ErrorCode.RPC, ErrorDomain.RPC)


class RemoteConsole(ConsoleStream):
    def __init__(self, ws: wire.WebSocket) -> None:
        self.ws = ws
        self._pending = b""

    def read(self, size: int = 4096, timeout: float | None = None) -> bytes:
        if not self._pending:
            if timeout is not None and not self.ws.buf:
                import select

                ready, _, _ = select.select([self.ws.sock], [], [], timeout)
                if not ready:
                    raise TimeoutError("no console output")
            data = self.ws.recv()
            if data is None:
                return b""
            self._pending = data
        out, self._pending = self._pending[:size], self._pending[size:]
        return out

    def write(self, data: bytes) -> None:
        self.ws.send(data)

    def close(self) -> None:
        self.ws.close()

    def fileno(self) -> int:
        return self.ws.sock.fileno()

    def has_buffered(self) -> bool:
        return bool(self._pending or self.ws.buf)


class EventStreamClosed(PyvirtError):
    """The daemon ended the event stream (it stopped or restarted): not a timeout."""


class EventStream:
    """Subscribed on construction, so no event between subscribing and the next call is lost.

    Iteration ends quietly at the timeout; it raises EventStreamClosed when the daemon goes away,
    so a caller can tell the two apart (virsh reports the disconnect) and subscribe again.
    """

    def __init__(self, sock_path: Any, dom: str | None, timeout: float | None,
                 kinds: list[str] | None = None) -> None:
        query = {"dom": dom, "kinds": ",".join(kinds) if kinds else None}
        items = {k: v for k, v in query.items() if v}
        target = declared("events").path + ("?" + wire.urlencode(items) if items else "")
        self.deadline = None if timeout is None else time.monotonic() + timeout
        try:
            self.sock, buffered = wire.open_stream(sock_path, target, None)
        except wire.WireError as exc:
            raise stream_error(exc, "cannot subscribe to events") from None
        except OSError as exc:  # pyvirtd gone (socket missing, refused): libvirt's no-connect error
            raise EventStreamClosed(f"Failed to connect socket to '{sock_path}': {exc.strerror or exc}",
                                    ErrorCode.NO_CONNECT, ErrorDomain.RPC) from None
        self.buf = buffered
        self._read_until(b": subscribed\n\n")

    def _read_until(self, marker: bytes) -> bytes | None:
        while marker not in self.buf:
            if len(self.buf) > MAX_EVENT:
                self.close()
                raise PyvirtError(f"internal error: pyvirtd sent an event larger than {MAX_EVENT} bytes",
                                  ErrorCode.RPC, ErrorDomain.RPC)
            remaining = None if self.deadline is None else self.deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return None
            self.sock.settimeout(remaining)
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                return None
            except OSError as exc:
                raise EventStreamClosed(f"event stream broken: {exc}", ErrorCode.NO_CONNECT,
                                        ErrorDomain.RPC) from None
            if not data:
                raise EventStreamClosed("end of file", ErrorCode.NO_CONNECT, ErrorDomain.RPC)
            self.buf += data
        chunk, _, self.buf = self.buf.partition(marker)
        return chunk

    def __iter__(self) -> Iterator[Event]:
        """The events as they come; the event records (``pyvirt.apievents``, ~2M instructions)
        load with the first one, not while a subscriber such as pyvirt-dbus answers its first
        calls."""
        try:
            while True:
                chunk = self._read_until(b"\n\n")
                if chunk is None:
                    return
                for line in chunk.decode().splitlines():
                    if line.startswith("data: "):
                        from pyvirt.apievents import Event

                        yield Event.from_dict(wire.loads(line[6:]))
        finally:
            self.close()

    def close(self) -> None:
        self.sock.close()
