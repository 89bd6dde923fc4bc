"""pyvirt.ownthread: blocking work that lasts as long as a peer makes it last gets a thread of its
own, so that however many there are, short calls on the loop's shared executor still run."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading

import pytest

from pyvirt.ownthread import own_thread


def test_long_waits_do_not_take_the_shared_executor() -> None:
    async def run() -> None:
        asyncio.get_running_loop().set_default_executor(concurrent.futures.ThreadPoolExecutor(2))
        release = threading.Event()
        waits = [asyncio.ensure_future(own_thread(f"wait-{i}", release.wait, 30)) for i in range(4)]
        assert await asyncio.wait_for(asyncio.to_thread(lambda: "short"), 5) == "short"
        release.set()
        assert await asyncio.gather(*waits) == [True] * 4

    asyncio.run(run())


def test_result_and_exception_reach_the_awaiting_task() -> None:
    def fail() -> None:
        raise ValueError("from the thread")

    async def run() -> None:
        assert await own_thread("add", lambda a, b: a + b, 2, b=3) == 5
        with pytest.raises(ValueError, match="from the thread"):
            await own_thread("fail", fail)

    asyncio.run(run())
