"""Blocking work that lasts as long as a peer makes it last runs in a thread of its own.

``asyncio.to_thread`` shares the loop's default executor: min(32, CPUs + 4) workers, 6 on a
2-CPU host.  That suits short blocking calls (a stat, a qemu-img run), which every storage
operation and many others are.  Work that waits on a peer for its whole length -- a volume
upload read at the client's pace, a peer-to-peer migration, the web UI's volume transfers --
would hold a worker all that time, and a few of them at once left none: every storage
operation of pyvirtd (every API call of the web UI) then hung.  Such work goes through
:func:`own_thread` instead.  (pyvirtd and the web process both use it: nothing of pyvirt here.)
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


async def own_thread(name: str, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """`fn(*args, **kwargs)` in a new daemon thread named `name`; its result or exception.

    Cancelling the awaiting task does not stop the thread (no thread can be stopped from
    outside); `fn` ends when what it waits on does, as with ``to_thread``."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(ok: bool, value: Any) -> None:
        if future.done():  # the awaiting task was cancelled
            return
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)

    def run() -> None:
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - handed to the awaiting task, whatever it is
            outcome: tuple[bool, Any] = (False, exc)
        else:
            outcome = (True, result)
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
            loop.call_soon_threadsafe(settle, *outcome)

    threading.Thread(target=run, name=name, daemon=True).start()
    return await future
