"""The web UI's streams: live events, the serial console, the VNC console, volume upload.

All of them go through the client Connection like the JSON API does: events from the process's
one subscription (pyvirt.web.backend), the serial console from ``Connection.open_console``,
the VNC display's address from ``Connection.display_uri`` (the web process then relays the
browser's RFB bytes to that port, as websockify does for noVNC), uploads through
``Connection.upload_volume`` and ``download_volume``.  Every WebSocket here passed the guard's
Origin check first.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import tempfile
import threading
from typing import Any
from urllib.parse import quote, urlsplit

from aiohttp import WSMsgType, web

from pyvirt.api import ErrorCode, PyvirtError
from pyvirt.web.conns import BACKENDS, PREFIX, add_route, backend_of
from pyvirt.web.guard import SESSION_KEY
from pyvirt.web.rpc import error_response

log = logging.getLogger(__name__)
#: bytes the browser may send per WebSocket message (keystrokes and RFB input are small)
MAX_MSG = 1 << 20
SPOOL_CHUNK = 1 << 16
_ZERO = bytes(SPOOL_CHUNK)
#: event queue per browser; a browser that falls this far behind loses the oldest
EVENT_BACKLOG = 1000


async def events(request: web.Request) -> web.StreamResponse:
    """Every lifecycle event of domains, pools and networks of every connection the session
    may use, as JSON text messages, each with its connection's id ("conn")."""
    backends = request.app[BACKENDS].visible(request[SESSION_KEY].token)
    ws = web.WebSocketResponse(heartbeat=30, max_msg_size=4096)
    await ws.prepare(request)
    q: asyncio.Queue[dict[str, Any]] = asyncio.Queue(EVENT_BACKLOG)
    live = [b for b in backends if b.subscribed.is_set()]
    for backend in backends:
        backend.listeners.add(q)
    # "subscribed": from here on this page misses no event of that connection, so it may load
    # its lists now (when a subscription is not up yet, its backend says it to every page once it is)
    for backend in live:
        await ws.send_str(json.dumps({"kind": "Connect", "event": "subscribed", "conn": backend.id}))
    reader = asyncio.ensure_future(ws.receive())  # notices the browser going away
    try:
        while not ws.closed:
            getter = asyncio.ensure_future(q.get())
            done, _ = await asyncio.wait({getter, reader}, return_when=asyncio.FIRST_COMPLETED)
            if reader in done:
                getter.cancel()
                break
            await ws.send_str(json.dumps(getter.result()))
    finally:
        for backend in backends:
            backend.listeners.discard(q)
        reader.cancel()
        await ws.close()
    return ws


async def console(request: web.Request) -> web.StreamResponse:
    """The guest's serial console as binary WebSocket messages, both ways (history first).

    The guest-to-browser pump blocks on the console for the socket's whole life, so it runs in a
    thread of its own: in the loop's shared executor (a handful of workers) a few open console
    tabs would leave none for the API calls, and the whole UI would hang.  When the console ends
    (the guest stopped, another client took it) the browser's socket is closed, not left silent."""
    backend = backend_of(request)
    dom = request.match_info["dom"]
    conn = await asyncio.to_thread(backend.dedicated)
    try:
        stream = await asyncio.to_thread(conn.open_console, dom, force=True, history=True)
    except PyvirtError as exc:
        if not backend.shared:
            conn.close()
        return error_response(exc)
    ws = web.WebSocketResponse(heartbeat=30, max_msg_size=MAX_MSG)
    await ws.prepare(request)
    loop = request.app[LOOP]
    stop = threading.Event()
    pumped = asyncio.Event()

    def pump() -> None:  # guest -> browser
        try:
            while not stop.is_set():
                try:
                    data = stream.read(65536, timeout=0.5)
                except TimeoutError:
                    continue
                except (OSError, PyvirtError):
                    break
                if not data:
                    break
                asyncio.run_coroutine_threadsafe(ws.send_bytes(data), loop).result(30)
        except Exception:  # noqa: BLE001 - the browser stopped taking data (gone, or 30 s stalled)
            log.debug("console relay of %s ended", dom, exc_info=True)
        finally:
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody left to tell
                loop.call_soon_threadsafe(pumped.set)
                asyncio.run_coroutine_threadsafe(ws.close(), loop)

    threading.Thread(target=pump, name=f"pyvirt-web-console-{dom}", daemon=True).start()
    try:
        async for msg in ws:
            if msg.type == WSMsgType.BINARY:
                await asyncio.to_thread(stream.write, msg.data)
            elif msg.type == WSMsgType.TEXT:
                await asyncio.to_thread(stream.write, msg.data.encode())
            else:
                break
    finally:
        stop.set()
        with contextlib.suppress(Exception):
            stream.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(pumped.wait(), 35)
        if not backend.shared:
            conn.close()
        await ws.close()
    return ws


def vnc_address(uri: str) -> tuple[str, int]:
    """``vnc://HOST:DISPLAY`` (display_uri's form) as (host, TCP port)."""
    parts = urlsplit(uri)
    if parts.scheme != "vnc" or parts.hostname is None or parts.port is None:
        raise PyvirtError(f"not a VNC display: {uri}", ErrorCode.OPERATION_FAILED)
    return parts.hostname, parts.port + 5900


async def vnc(request: web.Request) -> web.StreamResponse:
    """RFB between noVNC (binary WebSocket messages) and the guest's VNC server."""
    dom = request.match_info["dom"]
    try:
        backend = backend_of(request)
        uri = await backend.call("display_uri", {"dom": dom, "kind": "vnc"})
        host, port = vnc_address(uri)
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 10)
    except PyvirtError as exc:
        return error_response(exc)
    except (OSError, TimeoutError) as exc:
        return error_response(PyvirtError(f"cannot reach the VNC display of {dom}: {exc}",
                                          ErrorCode.OPERATION_FAILED))
    ws = web.WebSocketResponse(protocols=("binary",), heartbeat=30, max_msg_size=MAX_MSG)
    await ws.prepare(request)

    async def guest_to_browser() -> None:
        while True:
            data = await reader.read(65536)
            if not data:
                return
            await ws.send_bytes(data)

    relay = asyncio.ensure_future(guest_to_browser())
    try:
        async for msg in ws:
            if msg.type != WSMsgType.BINARY:
                break
            writer.write(msg.data)
            await writer.drain()
            if relay.done():
                break
    finally:
        relay.cancel()
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()
        await ws.close()
    return ws


async def upload(request: web.Request) -> web.StreamResponse:
    """``PUT /api/v1/pools/{pool}/volumes/{name}/data``: the body into the volume.

    The body is spooled to a private temporary file first, zero blocks left as holes, then sent
    with Connection.upload_volume, which sends holes as lengths (sparse-aware, as vol-upload).
    A body larger than the volume is refused before anything is written."""
    pool, name = request.match_info["pool"], request.match_info["name"]
    length = request.content_length
    try:
        backend = backend_of(request)
        if length is None:
            raise PyvirtError("invalid argument: upload needs a Content-Length", ErrorCode.INVALID_ARG)
        vol = await backend.call("lookup_volume", {"pool": pool, "name": name})
        if length > vol.capacity:
            raise PyvirtError(f"invalid argument: {length} bytes do not fit volume '{name}' "
                              f"of {vol.capacity} bytes", ErrorCode.INVALID_ARG)
        with tempfile.TemporaryFile(dir=request.app[SPOOL]) as spool:
            got = 0
            while True:
                chunk = await request.content.read(SPOOL_CHUNK)
                if not chunk:
                    break
                got += len(chunk)
                if got > length:
                    raise PyvirtError("invalid argument: body longer than its Content-Length",
                                      ErrorCode.INVALID_ARG)
                if chunk == _ZERO[:len(chunk)]:
                    spool.seek(len(chunk), os.SEEK_CUR)
                else:
                    spool.write(chunk)
            spool.truncate(got)
            spool.seek(0)
            sent = await backend.run_long(f"upload-{name}", lambda conn: conn.upload_volume(pool, name, spool))
    except PyvirtError as exc:
        return error_response(exc)
    return web.json_response({"result": sent})


async def download(request: web.Request) -> web.StreamResponse:
    """``GET /api/v1/pools/{pool}/volumes/{name}/data``: the volume's bytes as a file download.

    The client's download_volume writes with pwrite (holes kept), so the bytes go through a
    private sparse temporary file, streamed out and removed as soon as the response ends."""
    backend = backend_of(request)
    pool, name = request.match_info["pool"], request.match_info["name"]
    with tempfile.TemporaryFile(dir=request.app[SPOOL]) as spool:
        try:
            await backend.run_long(f"download-{name}", lambda conn: conn.download_volume(pool, name, spool))
        except PyvirtError as exc:
            return error_response(exc)
        size = spool.seek(0, os.SEEK_END)
        spool.seek(0)
        response = web.StreamResponse(headers={
            "Content-Type": "application/octet-stream", "Content-Length": str(size),
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name, safe='')}"})
        await response.prepare(request)
        while chunk := await asyncio.to_thread(spool.read, 1 << 20):
            await response.write(chunk)
        await response.write_eof()
        return response


LOOP = web.AppKey("loop", asyncio.AbstractEventLoop)
SPOOL = web.AppKey("spool", str)


def add_routes(app: web.Application) -> None:
    app.router.add_get(PREFIX + "/events", events)  # one socket for every connection
    add_route(app, "GET", "/v1/domains/{dom}/console", console)
    add_route(app, "GET", "/v1/domains/{dom}/vnc", vnc)
    add_route(app, "PUT", "/v1/pools/{pool}/volumes/{name}/data", upload)
    add_route(app, "GET", "/v1/pools/{pool}/volumes/{name}/data", download)
