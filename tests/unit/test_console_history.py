"""The console relay keeps the guest's last 64 KiB for late clients, whatever the size of the reads
it gets (a serial console arrives a few bytes at a time), and trims in bulk rather than per read;
a client it drops, and an event subscriber the bus ends, always find the end marker."""

from __future__ import annotations

import asyncio
import os

from pyvirt.daemon.console import HISTORY_LIMIT, ConsoleRelay


def test_history_is_the_last_64k_of_what_the_guest_printed() -> None:
    async def run() -> tuple[bytes, int, bytes]:
        master, slave = os.openpty()
        relay = ConsoleRelay(os.ttyname(slave))
        relay.open()
        os.close(slave)
        sent = bytearray()
        try:
            for i in range(3 * HISTORY_LIMIT // 1000):
                chunk = f"{i:07d}".encode() * 143  # ~1 KiB of distinct text per write
                os.write(master, chunk)
                sent += chunk
                while len(relay.history) < min(len(sent), HISTORY_LIMIT) or not relay.history.endswith(chunk):
                    await asyncio.wait_for(relay.wait_output(), 10)
            return relay.recent(), len(relay.history), bytes(sent)
        finally:
            relay.close()
            os.close(master)

    recent, held, sent = asyncio.run(run())
    assert recent == sent[-HISTORY_LIMIT:]
    assert HISTORY_LIMIT <= held <= 2 * HISTORY_LIMIT


def test_a_dropped_client_always_gets_its_end_even_with_a_full_queue() -> None:
    """A console client whose queue is full (it stopped reading) and is then dropped -- it fell
    behind, another client forced the console, or the guest's QEMU went away -- still finds the
    end marker after what it had queued: without it its relay waited on the queue for ever, the
    console silently frozen and its connection held open."""
    async def run() -> None:
        master, slave = os.openpty()
        relay = ConsoleRelay(os.ttyname(slave))
        relay.open()
        os.close(slave)
        try:
            for how in ("force", "behind", "close"):
                queue = relay.attach(force=True)
                while not queue.full():
                    queue.put_nowait(b"x")
                if how == "force":
                    relay.attach(force=True)
                elif how == "behind":
                    os.write(master, b"more")
                    await asyncio.wait_for(relay.wait_output(), 10)
                else:
                    relay.close()
                items = [queue.get_nowait() for _ in range(queue.qsize())]
                assert items[-1] is None, how
        finally:
            relay.close()
            os.close(master)

    asyncio.run(run())


def test_every_event_subscriber_gets_its_end_when_the_bus_closes() -> None:
    """pyvirtd's shutdown ends every event stream, a subscriber whose queue is full included
    (it got no end marker, and its stream waited for ever)."""
    from pyvirt.daemon.events import EventBus

    async def run() -> None:
        bus = EventBus()
        idle, full = bus.subscribe(), bus.subscribe()
        while not full.full():
            full.put_nowait(object())  # type: ignore[arg-type]
        bus.close()
        for queue in (idle, full):
            assert [queue.get_nowait() for _ in range(queue.qsize())][-1] is None

    asyncio.run(run())


def test_an_event_subscription_ends_soon_after_its_client_went_away(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """aiohttp does not tell a handler its client went away: an event stream with no event to
    write kept its subscription until the next event, so on a quiet host every ended
    `pyvirt event --timeout` left one behind.  A keepalive comment line now finds out."""
    import socket

    from aiohttp import web

    from pyvirt.daemon import http_streams
    from pyvirt.daemon.events import EventBus

    monkeypatch.setattr(http_streams, "EVENT_KEEPALIVE", 0.1)

    class Driver:
        events = EventBus()

    async def run() -> None:
        app = web.Application()
        app.router.add_get("/events", http_streams.stream_handlers(Driver(), None)["events"])
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        try:
            sock = socket.create_connection(("127.0.0.1", port))
            sock.sendall(b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
            await asyncio.get_running_loop().run_in_executor(None, sock.recv, 4096)
            assert len(Driver.events._subscribers) == 1
            sock.close()
            for _ in range(100):
                if not Driver.events._subscribers:
                    break
                await asyncio.sleep(0.05)
            assert not Driver.events._subscribers
        finally:
            await runner.cleanup()

    asyncio.run(run())
