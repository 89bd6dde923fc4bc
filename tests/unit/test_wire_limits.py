"""The client's reader against a misbehaving peer: every read bounded, every refusal a clear error.

A fake pyvirtd (a thread on a unix socket) answers with what a real one never sends."""

from __future__ import annotations

import os
import socket
import struct
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyvirt.api import ErrorCode, PyvirtError
from pyvirt.client import wire


class FakeServer:
    """Answers each connection with the next canned reply (after reading the request head)."""

    def __init__(self, path: Path, replies: list[bytes]) -> None:
        self.path = str(path)
        self.replies = list(replies)
        self.requests: list[bytes] = []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.path)
        self.sock.listen(4)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while self.replies:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                while self.replies:
                    data = b""
                    while b"\r\n\r\n" not in data:
                        more = conn.recv(65536)
                        if not more:
                            break
                        data += more
                    if not data:
                        break
                    self.requests.append(data)
                    reply = self.replies.pop(0)
                    if reply == b"CLOSE":  # drop the kept-alive connection without answering
                        break
                    try:
                        conn.sendall(reply)
                    except OSError:
                        break
                    if b"Connection: close" in data or b"content-length" not in reply.lower():
                        break

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[type[FakeServer]]:
    made: list[FakeServer] = []

    def make(replies: list[bytes]) -> FakeServer:
        srv = FakeServer(tmp_path / f"s{len(made)}.sock", replies)
        made.append(srv)
        return srv

    yield make  # type: ignore[misc]
    for srv in made:
        srv.close()


def _ok(body: bytes, extra: str = "") -> bytes:
    return (f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
            .encode() + body)


def test_keep_alive_reuses_one_connection_and_retries_a_dropped_one(server) -> None:  # noqa: ANN001
    srv = server([_ok(b'{"result": 1}'), _ok(b'{"result": 2}'), b"CLOSE", _ok(b'{"result": 3}')])
    conn = wire.HTTPConnection(srv.path)
    assert conn.request("GET", "/a")[1] == {"result": 1}
    first = conn.sock
    assert conn.request("GET", "/b")[1] == {"result": 2}
    assert conn.sock is first  # kept alive
    assert conn.request("GET", "/c")[1] == {"result": 3}  # the server dropped it: sent again on a new one
    assert [r.split(b" ")[1] for r in srv.requests] == [b"/a", b"/b", b"/c", b"/c"]
    conn.close()


@pytest.mark.parametrize(("reply", "words"), [
    (b"HTTP/1.1 200 OK\r\nX: " + b"a" * (wire.MAX_HEAD + 10) + b"\r\n\r\n", "response head larger"),
    (b"SSH-2.0-OpenSSH\r\n\r\n", "malformed status line"),
    (b"HTTP/1.1 2000 OK\r\n\r\n", "malformed status line"),
    (b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "malformed header line"),
    (f"HTTP/1.1 200 OK\r\nContent-Length: {wire.MAX_BODY + 1}\r\n\r\n".encode(), "larger than"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n", "malformed Content-Length"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "malformed chunk size"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"res", "closed by pyvirtd in the middle"),
    (_ok(b"<html>"), "non-JSON response"),
])
def test_a_misbehaving_peer_gets_a_clear_error(server, reply: bytes, words: str) -> None:  # noqa: ANN001
    srv = server([reply])
    with pytest.raises(wire.WireError, match=words):
        wire.request(srv.path, "GET", "/x")


def test_chunked_bodies_are_read_and_bounded(server, monkeypatch) -> None:  # noqa: ANN001
    body = b'{"result": "' + b"x" * 100 + b'"}'
    chunked = b"".join(f"{len(body[i:i + 40]):x}\r\n".encode() + body[i:i + 40] + b"\r\n"
                       for i in range(0, len(body), 40)) + b"0\r\n\r\n"
    srv = server([b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked] * 2)
    assert wire.request(srv.path, "GET", "/x")[1] == {"result": "x" * 100}
    monkeypatch.setattr(wire, "MAX_BODY", 50)
    with pytest.raises(wire.WireError, match="larger than 50"):
        wire.request(srv.path, "GET", "/x")


def test_remote_client_turns_a_bad_peer_into_a_libvirt_error(server, tmp_path: Path) -> None:  # noqa: ANN001
    from pyvirt.client.remote import RemoteConnection
    from pyvirt.client.transport import UnixTransport

    srv = server([b"GARBAGE\r\n\r\n"])
    conn = RemoteConnection.__new__(RemoteConnection)  # no daemon check: the fake answers once
    conn.uri, conn.readonly, conn.sock_path = "qemu:///session", False, srv.path
    conn.endpoint, conn.transport = srv.path, UnixTransport(srv.path)
    conn._http = conn._session = None
    with pytest.raises(PyvirtError) as err:
        conn.get_hostname()
    assert err.value.code == ErrorCode.NO_CONNECT and "malformed status line" in err.value.message


def _ws_frame(opcode: int, length: int, payload: bytes = b"") -> bytes:
    if length < 126:
        return struct.pack(">BB", 0x80 | opcode, length) + payload
    if length < 1 << 16:
        return struct.pack(">BBH", 0x80 | opcode, 126, length) + payload
    return struct.pack(">BBQ", 0x80 | opcode, 127, length) + payload


def test_websocket_frames_are_bounded() -> None:
    ours, theirs = socket.socketpair()
    with ours, theirs:
        ws = wire.WebSocket(ours, b"")
        theirs.sendall(_ws_frame(0x2, 5, b"hello") + _ws_frame(0x2, wire.MAX_FRAME + 1))
        assert ws.recv() == b"hello"
        with pytest.raises(wire.WireError, match="larger than"):
            ws.recv()
    ours, theirs = socket.socketpair()
    with ours, theirs:
        theirs.sendall(struct.pack(">BB", 0x82, 0x80 | 1) + os.urandom(4) + b"x")
        with pytest.raises(wire.WireError, match="masked"):
            wire.WebSocket(ours, b"").recv()


def test_an_endless_event_is_refused(server, monkeypatch) -> None:  # noqa: ANN001
    from pyvirt.client import remote, streams

    monkeypatch.setattr(streams, "MAX_EVENT", 1000)
    srv = server([b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n: subscribed\n\ndata: "
                  + b"x" * 5000])
    stream = remote.EventStream(srv.path, None, 10)
    with pytest.raises(PyvirtError, match="larger than 1000"):
        next(iter(stream))
