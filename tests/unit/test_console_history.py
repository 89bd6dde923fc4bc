"""The console relay keeps the guest's last 64 KiB for late clients, whatever the size of the reads
it gets (a serial console arrives a few bytes at a time), and trims in bulk rather than per read."""

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
