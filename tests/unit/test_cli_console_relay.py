"""The console relay must show every byte the daemon sent, even when one recv() brought
several WebSocket frames (select() then no longer reports them)."""

from __future__ import annotations

import os
import select
import socket
import struct
import threading

from pyvirt.cli.cmd_console import _relay_select
from pyvirt.client.remote import RemoteConsole
from pyvirt.client.wire import WebSocket


def _frame(payload: bytes) -> bytes:
    return struct.pack(">BB", 0x82, len(payload)) + payload  # server frames are not masked


def test_frames_arriving_together_are_all_shown() -> None:
    ours, daemon = socket.socketpair()
    stream = RemoteConsole(WebSocket(ours, b""))
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    relay = threading.Thread(target=_relay_select, args=(stream, stream.fileno(), in_r, out_w, 0x1D))
    relay.start()
    try:
        daemon.sendall(_frame(b"h") + _frame(b"i-3") + _frame(b"\r\n"))  # one segment, three frames
        got = b""
        while b"hi-3\r\n" not in got:
            ready, _, _ = select.select([out_r], [], [], 2.0)
            assert ready, f"relay stalled after {got!r}"
            got += os.read(out_r, 100)
    finally:
        os.write(in_w, b"\x1d")  # the escape character ends the relay
        relay.join(5)
        for fd in (in_r, in_w, out_r, out_w):
            os.close(fd)
        daemon.close()
        ours.close()
    assert not relay.is_alive()
