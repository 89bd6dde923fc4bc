"""Client sessions: what lives as long as one client's connection (libvirt's per-connection state).

A client that needs one (for ``--autodestroy``, later for the web UI's and D-Bus bridge's
long-lived connections) opens ``GET /v1/session``, a WebSocket that stays open while the client
lives, and sends its id in the ``X-Pyvirt-Session`` header of its calls.  The WebSocket closes when
the client closes it, exits or is killed (the kernel closes its sockets), and then the session's
cleanups run: e.g. the guests it started with ``autodestroy`` are destroyed.

Drivers see the calling session through :data:`current`, set for the duration of each call, so
the declared operations keep their libvirt signatures.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import secrets
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.http import WSCloseCode, WSMsgType

from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError

log = logging.getLogger(__name__)

HEADER = "X-Pyvirt-Session"
Cleanup = Callable[[], Awaitable[None]]


class Session:
    def __init__(self, sid: str) -> None:
        self.id = sid
        self._cleanups: list[Cleanup] = []
        self.closed = False

    def on_close(self, cleanup: Cleanup) -> None:
        """Run `cleanup` when the client goes away (at once if it already has)."""
        if self.closed:
            asyncio.get_running_loop().create_task(cleanup())
            return
        self._cleanups.append(cleanup)

    async def close(self) -> None:
        self.closed = True
        cleanups, self._cleanups = self._cleanups, []
        for cleanup in cleanups:
            try:
                await cleanup()
            except Exception:  # noqa: BLE001 - one failed cleanup must not skip the others
                log.exception("session %s: cleanup failed", self.id)


#: the session of the call being served (None: a call without one)
current: contextvars.ContextVar[Session | None] = contextvars.ContextVar("pyvirt_session", default=None)


class Sessions:
    def __init__(self) -> None:
        self._by_id: dict[str, Session] = {}
        self._sockets: dict[str, web.WebSocketResponse] = {}

    def get(self, sid: str) -> Session:
        session = self._by_id.get(sid)
        if session is None:
            raise PyvirtError(f"invalid argument: unknown or closed client session '{sid[:40]}'",
                              ErrorCode.INVALID_ARG, ErrorDomain.RPC)
        return session

    async def serve(self, request: web.Request) -> web.StreamResponse:
        """The session's WebSocket: its id first, then nothing until the client goes away."""
        session = Session(secrets.token_hex(16))
        self._by_id[session.id] = session
        ws = web.WebSocketResponse(heartbeat=None, max_msg_size=4096)  # the client sends nothing
        self._sockets[session.id] = ws
        try:
            await ws.prepare(request)
            await ws.send_str(session.id)
            log.info("client session %s opened", session.id)
            async for msg in ws:
                if msg.type in (WSMsgType.CLOSE, WSMsgType.ERROR):
                    break
        finally:
            self._sockets.pop(session.id, None)
            client_left = self._by_id.pop(session.id, None) is not None  # not ended by close_all
            log.info("client session %s closed%s", session.id, "" if client_left else " (pyvirtd stopping)")
            if client_left:
                with contextlib.suppress(Exception):
                    await session.close()
        return ws

    async def close_all(self) -> None:
        """Daemon shutdown: sessions end without their cleanups (guests keep running, as after a
        daemon restart; libvirt's autodestroy also needs the daemon to see the client go).
        Their sockets are closed at once: the server's shutdown does not wait for them."""
        self._by_id.clear()
        sockets, self._sockets = list(self._sockets.values()), {}
        for ws in sockets:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(code=WSCloseCode.GOING_AWAY, message=b"pyvirtd stopping"), 1)


def bind(request: web.Request, sessions: Sessions | None) -> contextvars.Token[Session | None] | None:
    """Make the request's session (its header) current for the call; None if it names none."""
    sid = request.headers.get(HEADER)
    if not sid or sessions is None:
        return None
    return current.set(sessions.get(sid))
