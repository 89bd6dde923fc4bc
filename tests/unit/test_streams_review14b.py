"""pyvirtd's stream transports with clients that go away mid-stream (session 14's second review)."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from pyvirt.api import PyvirtError
from pyvirt.daemon.console import ConsoleRelay
from pyvirt.daemon.http_streams import stream_handlers


class _Driver:
    def __init__(self, relay: ConsoleRelay) -> None:
        self.relay = relay

    def console(self, ref: str) -> ConsoleRelay:
        return self.relay


def test_a_console_client_gone_before_its_history_is_sent_frees_the_console(monkeypatch: pytest.MonkeyPatch
                                                                             ) -> None:
    """The relay was attached before the WebSocket handshake and the history replay, outside the
    handler's cleanup: a client gone meanwhile (the write fails) left the console taken, and every
    later `console` was refused "Active console session exists" until one forced it."""

    async def main() -> None:
        guest, host = os.openpty()
        relay = ConsoleRelay(os.ttyname(host))
        relay.open()
        relay.history += b"login: "
        app = web.Application()
        app.router.add_get("/console/{dom}", stream_handlers(_Driver(relay), None)["open_console"])
        real_send = web.WebSocketResponse.send_bytes
        calls = {"n": 0}

        async def send_bytes(self: Any, data: bytes, *args: Any, **kwargs: Any) -> None:
            calls["n"] += 1
            if calls["n"] == 1:  # the history replay: the client has gone
                raise ConnectionResetError("Cannot write to closing transport")
            await real_send(self, data, *args, **kwargs)

        monkeypatch.setattr(web.WebSocketResponse, "send_bytes", send_bytes)
        async with TestServer(app) as server, aiohttp.ClientSession() as session:
            with pytest.raises(aiohttp.ClientError):
                async with session.ws_connect(server.make_url("/console/g?history=1")) as ws:
                    await ws.receive(timeout=5)
                    raise aiohttp.ClientError("closed")
            for _ in range(100):
                if relay._client is None:
                    break
                await asyncio.sleep(0.02)
            try:
                relay.attach(force=False)  # free again
            except PyvirtError as exc:
                pytest.fail(f"the console stayed taken: {exc}")
        relay.close()
        os.close(guest)
        os.close(host)

    asyncio.run(main())


def test_console_input_the_guest_is_slow_to_take_is_kept_not_dropped() -> None:
    """Input the pty could not take at once (a paste into the console of a guest busy reading)
    was dropped silently: only what fitted in the pty's buffer reached the guest.  It waits, in
    a bounded buffer, until the pty takes it."""

    async def main() -> None:
        guest, host = os.openpty()
        os.set_blocking(guest, False)
        relay = ConsoleRelay(os.ttyname(host))
        relay.open()
        sent = bytes(range(256)) * 800  # 200 KiB: far more than a pty holds
        relay.write(sent)
        got = bytearray()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while len(got) < len(sent) and loop.time() < deadline:
            try:
                got += os.read(guest, 65536)
            except BlockingIOError:
                await asyncio.sleep(0.01)
        relay.close()
        os.close(guest)
        os.close(host)
        assert len(got) == len(sent) and bytes(got) == sent

    asyncio.run(main())


def test_an_event_client_that_stopped_reading_is_let_go(monkeypatch: pytest.MonkeyPatch) -> None:
    """An event subscriber whose client stopped reading was cut off the bus once its queue filled,
    but its handler waited in a write the client would never take: the connection and the
    handler stayed for as long as the client lived.  A write that cannot finish within
    EVENT_WRITE_TIMEOUT ends the stream."""
    from pyvirt.daemon import http_streams
    from pyvirt.daemon.events import EventBus

    monkeypatch.setattr(http_streams, "EVENT_WRITE_TIMEOUT", 0.5)
    bus = EventBus()

    class Driver:
        events = bus

    ended = asyncio.Event()
    handler = stream_handlers(Driver(), None)["events"]

    async def watched(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        finally:
            ended.set()

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/events", watched)
        real_write = web.StreamResponse.write

        async def write(self: Any, data: bytes) -> None:
            if data.startswith(b"data:"):  # the peer takes nothing more: a write that never ends
                await asyncio.sleep(3600)
            await real_write(self, data)

        monkeypatch.setattr(web.StreamResponse, "write", write)
        async with TestServer(app) as server, aiohttp.ClientSession() as session, \
                session.get(server.make_url("/events")) as resp:
            assert await resp.content.readline() == b": subscribed\n"
            bus.emit("g", "00000000-0000-0000-0000-000000000001", 0, 0)
            await asyncio.wait_for(ended.wait(), 5)

    asyncio.run(main())
