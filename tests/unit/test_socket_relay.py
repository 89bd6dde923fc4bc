"""pyvirt.client.relay.SocketRelay: a socket pair's end relayed through a byte stream both ways,
each side's end seen by the other, and nothing left open once both directions are done."""

from __future__ import annotations

import contextlib
import socket
import time

from pyvirt.client.relay import SocketRelay


class SocketStream:
    """A ConsoleStream over one end of a socket pair (the other end plays the far side)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.closed = False

    def read(self, size: int = 4096, timeout: float | None = None) -> bytes:
        return self.sock.recv(size)

    def write(self, data: bytes) -> None:
        self.sock.sendall(data)

    def close(self) -> None:  # as a WebSocket's close frame: the far side sees the end at once
        self.closed = True
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()


def _wait(condition: object, what: str) -> None:
    deadline = time.monotonic() + 10
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, what
        time.sleep(0.01)


def test_bytes_both_ways_then_the_peer_closing_ends_everything() -> None:
    near, far = socket.socketpair()
    stream = SocketStream(near)
    relay = SocketRelay(stream, "test")
    peer = socket.socket(fileno=relay.peer.detach())
    relay.start()
    with peer, far:
        peer.settimeout(10)
        far.settimeout(10)
        far.sendall(b"RFB 003.008\n")  # the far side (QEMU's display) speaks first
        assert peer.recv(64) == b"RFB 003.008\n"
        peer.sendall(b"hello")
        assert far.recv(64) == b"hello"
        peer.close()  # the caller hangs up: the stream is closed, the far side sees the end
        assert far.recv(64) == b""
    _wait(lambda: stream.closed and relay.ours.fileno() == -1, "the relay let go of its ends")
    # A pump thread closes its end just before it returns: on a loaded host the check can
    # land in between, so the threads' end is waited for too (bounded), not sampled once.
    _wait(lambda: not any(t.is_alive() for t in relay.threads), "the relay's threads ended")


def test_the_stream_ending_reaches_the_peer() -> None:
    near, far = socket.socketpair()
    relay = SocketRelay(SocketStream(near), "test")
    peer = socket.socket(fileno=relay.peer.detach())
    relay.start()
    with peer:
        peer.settimeout(10)
        far.sendall(b"bye")
        far.close()  # the display closed the connection
        assert peer.recv(64) == b"bye"
        assert peer.recv(64) == b""
