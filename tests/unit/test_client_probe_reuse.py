"""A remote command dials pyvirtd once: the connection that showed the daemon answers carries
the first call (RemoteConnection._daemon_answers), and a daemon that drops it first costs one
fresh dial, not an error."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest

from pyvirt.client.remote import RemoteConnection
from pyvirt.rundir import socket_path

BODY = b'{"result": "ok"}'
REPLY = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(BODY), BODY)


class CountingServer:
    """A unix socket that answers every request with a fixed JSON reply, counting connections;
    the first `drop` connections are closed unanswered."""

    def __init__(self, path: str, drop: int = 0) -> None:
        self.accepted = 0
        self.drop = drop
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(8)
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            if self.accepted <= self.drop:
                conn.recv(65536)
                conn.close()
                continue
            threading.Thread(target=self.answer, args=(conn,), daemon=True).start()

    @staticmethod
    def answer(conn: socket.socket) -> None:
        with conn:
            while True:
                data = conn.recv(65536)
                if not data:
                    return
                conn.sendall(REPLY)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PYVIRT_STATE_ROOT", str(tmp_path))
    Path(socket_path("qemu:///session")).parent.mkdir(parents=True, exist_ok=True)
    return tmp_path


@pytest.mark.parametrize("calls", [1, 3])
def test_one_connection_for_probe_and_calls(root: Path, calls: int) -> None:
    server = CountingServer(socket_path("qemu:///session"))
    try:
        conn = RemoteConnection("qemu:///session", autostart=False)
        for _ in range(calls):
            assert conn._call("GET", "/v1/anything") == "ok"
        conn.close()
        assert server.accepted == 1
    finally:
        server.close()


def test_probe_connection_dropped_by_daemon_is_dialled_again(root: Path) -> None:
    server = CountingServer(socket_path("qemu:///session"), drop=1)
    try:
        conn = RemoteConnection("qemu:///session", autostart=False)
        assert conn._call("GET", "/v1/anything") == "ok"
        conn.close()
        assert server.accepted == 2
    finally:
        server.close()
