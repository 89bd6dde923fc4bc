"""The operations whose results are streams, not JSON: events (Server-Sent Events), the serial
console (a WebSocket of raw bytes) and volume data (HTTP bodies streamed both ways).

Their routes come from the declarations like every other's (pyvirt.operations, ``stream=True``);
only their transports are written here.  Volume data moves in 1 MiB pieces, so moving a 1 GiB
image costs the daemon about 1 MiB of memory, not 1 GiB.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import struct
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from typing import Any

from aiohttp import web
from aiohttp.http import WSMsgType

from pyvirt.api import EVENT_CLASSES, ErrorCode, ErrorDomain, PyvirtError
from pyvirt.daemon.rest import Handler, from_text, ok
from pyvirt.operations import KINDS
from pyvirt.optypes import Type
from pyvirt.ownthread import own_thread

log = logging.getLogger(__name__)

CHUNK = 1 << 20
_BOOL, _COUNT, _KINDS = Type("bool"), Type("int", nullable=True), Type("list", Type("str"))


def _flag(request: web.Request, name: str) -> bool:
    return bool(from_text(request.query.get(name, "0"), _BOOL, name))


def _count(request: web.Request, name: str) -> int | None:
    text = request.query.get(name, "")
    value = from_text(text, _COUNT, name) if text else None
    if value is not None and value < 0:
        raise PyvirtError(f"invalid argument: {name} must be a non-negative integer", ErrorCode.INVALID_ARG,
                          ErrorDomain.STORAGE)
    return value


#: seconds without an event after which an event stream gets a comment line: aiohttp does not
#: tell a handler its client went away, so without a write a subscription outlived its client
#: until the next event (each `pyvirt event --timeout` of a quiet host left one behind)
EVENT_KEEPALIVE = 30.0
#: seconds one event line may take to leave: a client that stopped reading is let go (cut off the
#: bus when its queue fills, its handler would otherwise wait in the write for as long as it lives)
EVENT_WRITE_TIMEOUT = 60.0


def stream_handlers(driver: Any, storage: Any) -> dict[str, Handler]:
    """The stream operations' handlers, by operation name."""
    out: dict[str, Handler] = {}

    async def events(request: web.Request) -> web.StreamResponse:
        """Server-Sent Events: one `data:` line of JSON per lifecycle event of the kinds asked for."""
        only = request.query.get("dom") or request.query.get("domain")
        kinds = set(from_text(request.query.get("kinds", "Domain"), _KINDS, "kinds") or ["Domain"])
        unknown = kinds - set(KINDS) - set(EVENT_CLASSES)
        if unknown:
            raise PyvirtError(f"invalid argument: kinds: unknown event kind {sorted(unknown)[0]!r}",
                              ErrorCode.INVALID_ARG)
        queue = driver.events.subscribe()
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})

        async def send(line: bytes) -> None:
            await asyncio.wait_for(resp.write(line), EVENT_WRITE_TIMEOUT)

        try:
            await resp.prepare(request)
            await send(b": subscribed\n\n")
            while True:
                try:
                    ev = await asyncio.wait_for(queue.get(), EVENT_KEEPALIVE)
                except TimeoutError:  # a comment line: a client gone is noticed (the write fails)
                    await send(b": keepalive\n\n")
                    continue
                if ev is None:
                    break
                if ev.kind not in kinds or (only and only not in (ev.name, ev.uuid)):
                    continue
                await send(f"data: {json.dumps(ev.to_dict())}\n\n".encode())
        except TimeoutError:  # the client stopped reading: its connection goes, half-written line and all
            log.info("event stream: a client took nothing for %g s; closing it", EVENT_WRITE_TIMEOUT)
            if request.transport is not None:
                request.transport.abort()
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            driver.events.unsubscribe(queue)
        return resp

    async def open_console(request: web.Request) -> web.StreamResponse:
        """The serial console: binary WebSocket frames both ways; `?history=1` replays recent output."""
        relay = driver.console(request.match_info["dom"])
        queue = relay.attach(force=_flag(request, "force"))
        ws = web.WebSocketResponse(max_msg_size=1 << 20)

        async def pump_out() -> None:
            while True:
                data = await queue.get()
                if data is None:
                    await ws.close()
                    return
                await ws.send_bytes(data)

        async def pump_in(data: bytes) -> None:
            relay.write(data)

        try:  # from the attach on: a client gone at any point (the handshake, the history) frees it
            await ws.prepare(request)
            if _flag(request, "history") and relay.history:
                await ws.send_bytes(relay.recent())
            await _relay(ws, pump_out(), pump_in)
        except ConnectionResetError:
            pass
        finally:
            relay.detach(queue)
        return ws

    async def open_graphics(request: web.Request) -> web.StreamResponse:
        """A display connection (?idx=&skipauth=): binary WebSocket frames both ways between the
        caller and this daemon's end of the socket pair whose other end QEMU took as a client."""
        idx = _count(request, "idx") or 0
        sock = await driver.open_graphics(request.match_info["dom"], idx, skipauth=_flag(request, "skipauth"))
        return await _socket_relay(request, sock)

    async def migrate_tunnel(request: web.Request) -> web.StreamResponse:
        """A tunnelled migration's stream: binary WebSocket frames from the source daemon written
        into the destination QEMU's socket, and what QEMU sends back (its return path) the other way."""
        return await _socket_relay(request, driver.take_tunnel(request.match_info["name"]), end_with_socket=False)

    out["events"] = events
    out["open_console"] = open_console
    out["open_graphics"] = open_graphics
    out["migrate_tunnel"] = migrate_tunnel
    if storage is not None:
        out["upload_volume"] = _upload(storage)
        out["download_volume"] = _download(storage)
    return out


async def _socket_relay(request: web.Request, sock: Any, end_with_socket: bool = True) -> web.StreamResponse:
    """A socket this daemon holds (a migration's, a display's) relayed as binary WebSocket frames
    both ways until the peer closes, or (`end_with_socket`) the socket's other end does; the
    socket is closed after."""
    ws = web.WebSocketResponse(max_msg_size=4 << 20)
    try:
        await ws.prepare(request)
        reader, writer = await asyncio.open_connection(sock=sock)
    except BaseException:
        sock.close()
        raise

    async def back() -> None:
        while data := await reader.read(CHUNK):
            await ws.send_bytes(data)
        if end_with_socket:
            await ws.close()

    async def forth(data: bytes) -> None:
        writer.write(data)
        await writer.drain()

    try:
        await _relay(ws, back(), forth)
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()
    return ws


async def _relay(ws: web.WebSocketResponse, sender: Coroutine[Any, Any, None],
                 receive: Callable[[bytes], Awaitable[None]]) -> None:
    """A WebSocket stream both ways: `sender` (what goes to the peer) runs beside the loop that
    hands `receive` each frame the peer sends, until the peer closes; the sender is then cancelled."""
    task = asyncio.create_task(sender)
    try:
        async for msg in ws:
            if msg.type == WSMsgType.BINARY:
                await receive(msg.data)
            elif msg.type == WSMsgType.TEXT:
                await receive(msg.data.encode())
            elif msg.type in (WSMsgType.CLOSE, WSMsgType.ERROR):
                break
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


#: Content-Type of a sparse upload body: frames of kind (b"D" data or b"H" hole) and an
#: 8-byte big-endian length; a data frame's bytes follow it, a hole frame has none.  The
#: client finds the holes with SEEK_DATA/SEEK_HOLE, so they never cross the socket.
SPARSE_TYPE = "application/x-pyvirt-sparse"
_FRAME = struct.Struct(">cQ")


def _upload(storage: Any) -> Handler:
    async def upload_volume(request: web.Request) -> web.Response:
        """PUT …/data?offset=&length=: the body is written as it arrives (holes kept, 1 MiB pieces).

        A body of SPARSE_TYPE carries data extents and hole lengths instead of every byte.
        """
        pool, name = request.match_info["pool"], request.match_info["name"]
        offset = _count(request, "offset") or 0
        length = _count(request, "length")
        force = _flag(request, "force")
        loop = asyncio.get_running_loop()
        content = request.content
        sparse = request.content_type == SPARSE_TYPE
        left = 0  # bytes of the current data frame still to read (sparse bodies)

        async def read_frame_piece() -> bytes | int:
            nonlocal left
            while left == 0:
                try:
                    kind, size = _FRAME.unpack(await content.readexactly(_FRAME.size))
                except asyncio.IncompleteReadError as exc:
                    if exc.partial:
                        raise PyvirtError("invalid argument: truncated sparse upload frame",
                                          ErrorCode.INVALID_ARG, ErrorDomain.STORAGE) from None
                    return b""
                if kind == b"H":
                    if size:
                        return size
                elif kind == b"D":
                    left = size
                else:
                    raise PyvirtError(f"invalid argument: unknown sparse upload frame {kind!r}",
                                      ErrorCode.INVALID_ARG, ErrorDomain.STORAGE)
            try:
                data = await content.readexactly(min(left, CHUNK))
            except asyncio.IncompleteReadError:
                raise PyvirtError("invalid argument: sparse upload body ends inside a data frame",
                                  ErrorCode.INVALID_ARG, ErrorDomain.STORAGE) from None
            left -= len(data)
            return data

        async def read_piece() -> bytes:
            parts: list[bytes] = []
            size = 0
            while size < CHUNK:
                data = await content.read(CHUNK - size)
                if not data:
                    break
                parts.append(data)
                size += len(data)
            return b"".join(parts)

        def pieces() -> Iterator[bytes | int]:
            reader = read_frame_piece if sparse else read_piece
            while True:
                piece = asyncio.run_coroutine_threadsafe(reader(), loop).result()
                if not piece:
                    return
                yield piece

        # read at the client's pace: a thread of its own, never one of the shared executor's few
        written = await own_thread(f"upload-{pool}-{name}", storage.upload_volume, pool, name, pieces(),
                                   offset=offset, length=length, force=force)
        return ok({"bytes": written})

    return upload_volume


def _download(storage: Any) -> Handler:
    async def download_volume(request: web.Request) -> web.StreamResponse:
        """GET …/data?offset=&length=: Content-Length is known up front; holes come as zeros."""
        pool, name = request.match_info["pool"], request.match_info["name"]
        offset = _count(request, "offset") or 0
        length = _count(request, "length")
        count, chunks = await asyncio.to_thread(storage.open_download, pool, name, offset, length)
        resp = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
        resp.content_length = count
        await resp.prepare(request)
        try:
            while True:
                block = await asyncio.to_thread(next, chunks, None)
                if block is None:
                    break
                await resp.write(block)
        finally:
            with contextlib.suppress(Exception):
                chunks.close()  # type: ignore[attr-defined]
        await resp.write_eof()
        return resp

    return download_volume
