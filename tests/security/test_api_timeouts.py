"""A peer of pyvirtd's API socket cannot hold a connection open without sending a request:
one that connects and sends nothing, or trickles a request head a byte at a time, is dropped
after pyvirtd.conf's client_idle_timeout; a client idle longer than that just reconnects, and a
stream being served (the event stream) is not idle, however long it runs quietly."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyvirt.paths import state_paths
from tests.daemon_harness import URI, DaemonHarness

IDLE = 2  # seconds, written to the test daemon's pyvirtd.conf


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonHarness]:
    d = DaemonHarness(tmp_path_factory.mktemp("idle"))
    config = state_paths(URI, d.root).config
    config.mkdir(parents=True, exist_ok=True)
    (config / "pyvirtd.conf").write_text(f"client_idle_timeout = {IDLE}\n")
    d.start()
    try:
        yield d
    finally:
        d.stop()


def _peer(daemon: DaemonHarness) -> socket.socket:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(str(state_paths(URI, daemon.root).socket))
    return s


def _closed_after(s: socket.socket, limit: float) -> float:
    """Seconds until the daemon closes `s` (EOF), or fail after `limit`."""
    start = time.monotonic()
    s.settimeout(limit)
    assert s.recv(4096) == b""
    return time.monotonic() - start


def test_a_silent_peer_is_dropped(daemon: DaemonHarness) -> None:
    with _peer(daemon) as s:
        took = _closed_after(s, IDLE + 10)
    assert took < IDLE + 8, took


def test_a_peer_trickling_a_request_head_is_dropped(daemon: DaemonHarness) -> None:
    head = b"GET /v1/domains HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200
    with _peer(daemon) as s:
        start = time.monotonic()
        s.settimeout(0.3)
        for byte in head:
            try:
                s.send(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                break
            try:
                data = s.recv(4096)
            except TimeoutError:
                continue
            assert data == b"", data  # no answer before the head is complete: only the close
            break
        took = time.monotonic() - start
    assert took < IDLE + 8, f"still open after {took:.1f} s of trickling"


def test_a_client_idle_past_the_bound_reconnects_and_streams_are_not_idle(daemon: DaemonHarness) -> None:
    conn = daemon.connect()
    before = [d.name for d in conn.list_domains()]
    events = conn.subscribe(timeout=IDLE * 2 + 1, kinds=["StoragePool"])
    time.sleep(IDLE + 1.5)  # the kept-alive call connection is dropped meanwhile
    assert [d.name for d in conn.list_domains()] == before
    conn.list_pools()  # makes the default pool: an event on the stream subscribed before the idle spell
    assert next(iter(events)).kind == "StoragePool"


def test_the_bound_is_configured_not_guessed(tmp_path: Path) -> None:
    from pyvirt.daemon.config import ConfigError, parse

    assert parse("client_idle_timeout = 5\n").client_idle_timeout == 5
    assert parse("").client_idle_timeout == 60
    with pytest.raises(ConfigError, match="client_idle_timeout must be an integer"):
        parse('client_idle_timeout = "soon"\n')
