"""Waiting for text on a guest's serial console, through any Connection.

The demo waits for the guest's boot marker, tests wait for command output, benches time boots:
all the same loop over `open_console(..., history=True)`, so it lives here once.
"""

from __future__ import annotations

import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pyvirt.api import Connection


def wait_for_output(conn: Connection, dom: str, needle: str | bytes, timeout: float = 60.0,
                    history: bool = True) -> float:
    """Seconds until `needle` shows on `dom`'s console; with `history`, output the guest printed
    before the console was opened counts too.  TimeoutError / EOFError name what was seen."""
    want = needle.encode() if isinstance(needle, str) else needle
    start = time.monotonic()
    seen = b""
    with conn.open_console(dom, history=history) as console:
        while want not in seen:
            left = timeout - (time.monotonic() - start)
            if left <= 0:
                raise TimeoutError(f"{want.decode(errors='replace')!r} not seen on {dom}'s console within "
                                   f"{timeout:.0f}s; last output: {seen[-300:]!r}")
            try:
                data = console.read(65536, timeout=left)
            except TimeoutError:
                continue
            if not data:
                raise EOFError(f"the console of {dom} closed before {want.decode(errors='replace')!r}; "
                               f"last output: {seen[-300:]!r}")
            seen = (seen + data)[-65536:]
    return time.monotonic() - start
