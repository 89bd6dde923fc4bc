"""QEMU's migration status, polled until it ends: the one loop behind save, restore, and both
ends of a live migration (each of which QEMU runs as a migration job).

Why a poll and not the MIGRATION event: QEMU only emits that event when the ``events``
capability is on, and ``query-migrate`` carries the error text and the figures (job info) the
callers also want.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError

POLL = 0.05


def failed(message: str) -> PyvirtError:
    """libvirt's "operation failed" of the QEMU driver."""
    return PyvirtError(f"operation failed: {message}", ErrorCode.OPERATION_FAILED, ErrorDomain.QEMU)


async def wait_migration(query: Callable[[], Awaitable[dict[str, Any]]], *, what: str, deadline: float,
                         timed_out: str, each: Callable[[dict[str, Any]], Awaitable[None]] | None = None,
                         on_timeout: Callable[[], Awaitable[None]] | None = None) -> dict[str, Any]:
    """Poll `query` (QMP ``query-migrate``) until QEMU reports 'completed' (that reply is
    returned).  'failed' or 'cancelled' raise "`what` STATUS: QEMU's reason"; past `deadline`
    (time.monotonic) `on_timeout` runs (to cancel QEMU's job) and `timed_out` is raised.
    `each` sees every unfinished reply first (progress of the disks' mirrors, say)."""
    while True:
        info = await query()
        status = info.get("status")
        if status == "completed":
            return info
        if status in ("failed", "cancelled"):
            raise failed(f"{what} {status}: {info.get('error-desc', 'QEMU gave no reason')}")
        if each is not None:
            await each(info)
        if time.monotonic() > deadline:
            if on_timeout is not None:
                await on_timeout()
            raise failed(timed_out)
        await asyncio.sleep(POLL)
