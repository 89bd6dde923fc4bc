"""An ftp install location is logged into before anything is read from it, as virt-install's
FTP fetcher does: an unreachable server or a refused login is "Opening URL ... failed" with
the reason (and names a --install kernel= file by its own URL), never "no distribution
found".  The servers here are a closed port and a few canned FTP replies on loopback."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from pyvirt.install.urltree import UrlReader


def _serve(sock: socket.socket, replies: dict[bytes, bytes]) -> None:
    while True:
        try:
            conn, _ = sock.accept()
        except OSError:
            return
        with conn, conn.makefile("rwb") as f:
            f.write(b"220 canned ftp\r\n")
            f.flush()
            for line in f:
                cmd = (line.split() or [b""])[0].upper()
                f.write(replies.get(cmd, b"502 not here\r\n"))
                f.flush()
                if cmd == b"QUIT":
                    break


@pytest.fixture
def ftp_server(request: pytest.FixtureRequest) -> Iterator[str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    threading.Thread(target=_serve, args=(sock, request.param), daemon=True).start()
    yield f"ftp://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_server_is_an_opening_failure() -> None:
    url = f"ftp://127.0.0.1:{_closed_port()}/tree"
    with pytest.raises(RuntimeError, match=rf"^Opening URL {url} failed: .*refused"):
        UrlReader(url)


@pytest.mark.parametrize("ftp_server", [{b"USER": b"530 Login incorrect.\r\n"}], indirect=True)
def test_refused_login_is_an_opening_failure(ftp_server: str) -> None:
    with pytest.raises(RuntimeError) as exc:
        UrlReader(f"{ftp_server}/tree")
    assert str(exc.value) == f"Opening URL {ftp_server}/tree failed: 530 Login incorrect."


@pytest.mark.parametrize("ftp_server", [{b"USER": b"530 Login incorrect.\r\n"}], indirect=True)
def test_a_file_url_is_named_by_itself(ftp_server: str) -> None:
    with pytest.raises(RuntimeError, match=rf"^Opening URL {ftp_server}/boot/vmlinuz failed"):
        UrlReader.for_file(f"{ftp_server}/boot/vmlinuz")


@pytest.mark.parametrize("ftp_server", [{b"USER": b"331 password please\r\n",
                                         b"PASS": b"230 logged in\r\n",
                                         b"TYPE": b"200 binary\r\n",
                                         b"QUIT": b"221 bye\r\n"}], indirect=True)
def test_a_server_that_logs_in_gives_a_reader(ftp_server: str) -> None:
    reader, name = UrlReader.for_file(f"{ftp_server}/boot/vmlinuz")
    assert name == "vmlinuz"
    assert reader.location == f"{ftp_server}/boot"


def test_http_makes_no_connection_up_front() -> None:
    # only ftp is opened first; an http reader answers each question by itself
    reader = UrlReader(f"http://127.0.0.1:{_closed_port()}/tree")
    assert reader.can_access() is False
