"""pyvirtd's storage routes: pools and volumes over the same JSON API as domains.

Every :class:`~pyvirt.storage.StorageDriver` call blocks (qemu-img, stat, fsync), so each one
runs in a worker thread; the event loop keeps serving consoles and events meanwhile.  Volume
upload and download are plain HTTP bodies streamed through in 1 MiB pieces, so moving a
1 GiB image costs the daemon about 1 MiB of memory, not 1 GiB.

Transient pools (``pool-create``) are the storage driver's: kept in the runtime dir only, so
a daemon restart finds them again, still transient, and stopping one forgets it.

The pool ``default`` (a dir pool under the data dir's images/) is created on the first
storage request, not at daemon start: a daemon that only ever runs domains never makes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import struct
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from aiohttp import web

from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError
from pyvirt.storage import StorageDriver

log = logging.getLogger(__name__)

T = TypeVar("T")
CHUNK = 1 << 20


class StorageService:
    """The StorageDriver plus what the HTTP layer adds: the default pool, worker threads."""

    def __init__(self, driver: StorageDriver) -> None:
        self.driver = driver
        self._default_done = False
        self._default_lock = threading.Lock()

    def ensure_default(self) -> None:
        """Create the pool `default` once, on first use; a failure is logged, never fatal."""
        if self._default_done:
            return
        with self._default_lock:
            if self._default_done:
                return
            try:
                self.driver.ensure_default_pool()
            except Exception as exc:  # noqa: BLE001 - other pools must still work
                log.error("cannot create the default storage pool: %s", exc)
            self._default_done = True

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        def run() -> T:
            self.ensure_default()
            return fn(*args, **kwargs)

        return await asyncio.to_thread(run)

    def pool_name(self, ref: str) -> str:
        """A pool by name, then by UUID (virsh's vshCommandOptPool order)."""
        try:
            return self.driver.pool_info(ref).name
        except PyvirtError as exc:
            if exc.code != ErrorCode.NO_STORAGE_POOL or len(ref) not in (32, 36):
                raise
        return self.driver.lookup_pool_by_uuid(ref).name

    def pool_dict(self, name: str) -> dict[str, Any]:
        return self.driver.pool_info(name).to_dict()


SERVICE: web.AppKey[StorageService] = web.AppKey("storage", StorageService)


def _svc(request: web.Request) -> StorageService:
    return request.app[SERVICE]


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    data = await request.json()
    if not isinstance(data, dict):
        raise PyvirtError("invalid argument: request body must be a JSON object", ErrorCode.INVALID_ARG)
    return data


def _flag(value: Any) -> bool:
    return value in (True, 1, "1", "true", "yes")


def _int_or_none(value: str | None, what: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        n = int(value)  # type: ignore[arg-type]
    except ValueError:
        n = -1
    if n < 0:
        raise PyvirtError(f"invalid argument: {what} must be a non-negative integer", ErrorCode.INVALID_ARG,
                          ErrorDomain.STORAGE)
    return n


def _ok(data: Any = None) -> web.Response:
    return web.json_response({"result": data})


# ------------------------------------------------------------------------------------ pools
async def list_pools(request: web.Request) -> web.Response:
    svc = _svc(request)

    def run() -> list[dict[str, Any]]:
        return [svc.pool_dict(p.name) for p in svc.driver.list_pools()]

    return _ok(await svc.call(run))


async def lookup_pool(request: web.Request) -> web.Response:
    svc = _svc(request)
    return _ok(await svc.call(lambda: svc.pool_dict(svc.pool_name(request.match_info["pool"]))))


async def pool_xml(request: web.Request) -> web.Response:
    svc = _svc(request)
    inactive = _flag(request.query.get("inactive"))
    return _ok(await svc.call(lambda: svc.driver.pool_xml(svc.pool_name(request.match_info["pool"]),
                                                          inactive=inactive)))


async def define_pool(request: web.Request) -> web.Response:
    svc = _svc(request)
    body = await _body(request)

    def run() -> dict[str, Any]:
        info = svc.driver.define_pool(str(body["xml"]))
        return svc.pool_dict(info.name)

    return _ok(await svc.call(run))


async def create_pool(request: web.Request) -> web.Response:
    """pool-create: a transient pool, started at once (the driver keeps it in the runtime dir)."""
    svc = _svc(request)
    body = await _body(request)

    def run() -> dict[str, Any]:
        info = svc.driver.create_pool(str(body["xml"]), build=_flag(body.get("build")))
        return svc.pool_dict(info.name)

    try:
        return _ok(await svc.call(run))
    except ValueError as exc:  # XML the pool parser refused before the driver saw it
        raise PyvirtError(f"XML error: {exc}", ErrorCode.XML_ERROR, ErrorDomain.STORAGE) from None


async def undefine_pool(request: web.Request) -> web.Response:
    svc = _svc(request)

    def run() -> None:
        name = svc.pool_name(request.match_info["pool"])
        svc.driver.undefine_pool(name)

    await svc.call(run)
    return _ok()


async def pool_action(request: web.Request) -> web.Response:
    svc = _svc(request)
    action = request.match_info["action"]
    body = await _body(request)

    def run() -> Any:
        drv = svc.driver
        name = svc.pool_name(request.match_info["pool"])
        if action == "build":
            drv.build_pool(name)
        elif action == "start":
            drv.start_pool(name, build=_flag(body.get("build")))
        elif action == "destroy":
            transient = not drv.pool_info(name).persistent
            drv.stop_pool(name)  # a transient pool is forgotten here
            if transient:
                return None
        elif action == "delete":
            drv.delete_pool(name)
        elif action == "autostart":
            drv.set_autostart(name, _flag(body.get("enable", True)))
        elif action == "refresh":
            drv.refresh_pool(name)
        else:
            raise web.HTTPNotFound(text=f"unknown action {action}")
        return svc.pool_dict(name)

    return _ok(await svc.call(run))


# ------------------------------------------------------------------------------------ volumes
def _pool_and_vol(svc: StorageService, request: web.Request) -> tuple[str, str]:
    return svc.pool_name(request.match_info["pool"]), request.match_info["vol"]


async def list_volumes(request: web.Request) -> web.Response:
    svc = _svc(request)
    return _ok(await svc.call(lambda: [v.to_dict() for v in svc.driver.list_volumes(
        svc.pool_name(request.match_info["pool"]))]))


async def lookup_volume(request: web.Request) -> web.Response:
    svc = _svc(request)
    return _ok(await svc.call(lambda: svc.driver.lookup_volume(*_pool_and_vol(svc, request)).to_dict()))


async def lookup_volume_by_path(request: web.Request) -> web.Response:
    """GET /v1/volumes?path=… (a file volume's key is its path, so ?key= is the same lookup)."""
    svc = _svc(request)
    path = request.query.get("path") or request.query.get("key") or ""
    return _ok(await svc.call(lambda: svc.driver.lookup_volume_by_path(path).to_dict()))


async def volume_xml(request: web.Request) -> web.Response:
    svc = _svc(request)
    return _ok(await svc.call(lambda: svc.driver.vol_xml(*_pool_and_vol(svc, request))))


def _create_from(svc: StorageService, pool: str, body: dict[str, Any]) -> dict[str, Any]:
    """vol-create-from: the new volume's XML names it (and may pick a format); data from the input vol."""
    from pyvirt.xml.volume import VolumeDef

    doc = VolumeDef.from_xml(str(body["xml"]))
    src_pool = svc.pool_name(str(body.get("from_pool") or pool))
    info = svc.driver.clone_volume(src_pool, str(body["from_vol"]), doc.name, format=doc.format,
                                   target_pool=pool)
    if doc.capacity and doc.capacity > info.capacity:
        info = svc.driver.resize_volume(pool, doc.name, doc.capacity)
    return info.to_dict()


async def create_volume(request: web.Request) -> web.Response:
    """{xml[, from_vol, from_pool], prealloc_metadata} or {name, capacity, format, allocation, backing}."""
    svc = _svc(request)
    body = await _body(request)

    def run() -> dict[str, Any]:
        drv = svc.driver
        pool = svc.pool_name(request.match_info["pool"])
        prealloc = _flag(body.get("prealloc_metadata"))
        if body.get("from_vol"):
            return _create_from(svc, pool, body)
        if "xml" in body:
            return drv.create_volume_xml(pool, str(body["xml"]), prealloc_metadata=prealloc).to_dict()
        return drv.create_volume(pool, str(body["name"]), body.get("capacity"),
                                 format=str(body.get("format") or "raw"), allocation=body.get("allocation"),
                                 backing=body.get("backing"), prealloc_metadata=prealloc).to_dict()

    try:
        return _ok(await svc.call(run))
    except ValueError as exc:
        raise PyvirtError(f"XML error: {exc}", ErrorCode.XML_ERROR, ErrorDomain.STORAGE) from None


async def delete_volume(request: web.Request) -> web.Response:
    svc = _svc(request)
    force = _flag(request.query.get("force"))
    await svc.call(lambda: svc.driver.delete_volume(*_pool_and_vol(svc, request), force=force))
    return _ok()


async def volume_action(request: web.Request) -> web.Response:
    svc = _svc(request)
    action = request.match_info["action"]
    body = await _body(request)

    def run() -> Any:
        drv = svc.driver
        pool, vol = _pool_and_vol(svc, request)
        if action == "clone":
            target = svc.pool_name(str(body["target_pool"])) if body.get("target_pool") else None
            return drv.clone_volume(pool, vol, str(body["name"]), format=body.get("format"),
                                    overlay=_flag(body.get("overlay")), target_pool=target).to_dict()
        if action == "wipe":
            drv.wipe_volume(pool, vol, force=_flag(body.get("force")))
            return None
        if action == "resize":
            return drv.resize_volume(pool, vol, body["capacity"], shrink=_flag(body.get("shrink")),
                                     delta=_flag(body.get("delta")), allocate=_flag(body.get("allocate")),
                                     force=_flag(body.get("force"))).to_dict()
        raise web.HTTPNotFound(text=f"unknown action {action}")

    return _ok(await svc.call(run))


#: Content-Type of a sparse upload body: frames of kind (b"D" data or b"H" hole) and an
#: 8-byte big-endian length; a data frame's bytes follow it, a hole frame has none.  The
#: client finds the holes with SEEK_DATA/SEEK_HOLE, so they never cross the socket.
SPARSE_TYPE = "application/x-pyvirt-sparse"
_FRAME = struct.Struct(">cQ")


async def upload_volume(request: web.Request) -> web.Response:
    """PUT …/data?offset=&length=: the body is written as it arrives (holes kept, 1 MiB pieces).

    A body of SPARSE_TYPE carries data extents and hole lengths instead of every byte.
    """
    svc = _svc(request)
    offset = _int_or_none(request.query.get("offset"), "offset") or 0
    length = _int_or_none(request.query.get("length"), "length")
    force = _flag(request.query.get("force"))
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

    written = await svc.call(lambda: svc.driver.upload_volume(*_pool_and_vol(svc, request), pieces(),
                                                              offset=offset, length=length, force=force))
    return _ok({"bytes": written})


async def download_volume(request: web.Request) -> web.StreamResponse:
    """GET …/data?offset=&length=: Content-Length is known up front; holes come as zeros."""
    svc = _svc(request)
    offset = _int_or_none(request.query.get("offset"), "offset") or 0
    length = _int_or_none(request.query.get("length"), "length")

    def open_stream() -> tuple[int, Iterator[bytes]]:
        pool, vol = _pool_and_vol(svc, request)
        info = svc.driver.vol_info(pool, vol)
        import os

        size = os.path.getsize(info.path) if info.type == "file" else info.capacity
        count = max(0, size - offset) if length is None or length == 0 else min(length, max(0, size - offset))
        return count, svc.driver.download_volume(pool, vol, offset=offset, length=count)

    count, chunks = await svc.call(open_stream)
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


ROUTES: list[tuple[str, str, Callable[[web.Request], Any], str]] = [
    ("GET", "/v1/pools", list_pools, "list storage pools"),
    ("POST", "/v1/pools", define_pool, "define a storage pool from {xml}"),
    ("POST", "/v1/pools-create", create_pool, "create and start a transient pool from {xml, build}"),
    ("GET", "/v1/pools/{pool}", lookup_pool, "look a pool up by name or UUID"),
    ("DELETE", "/v1/pools/{pool}", undefine_pool, "undefine a pool"),
    ("GET", "/v1/pools/{pool}/xml", pool_xml, "pool XML (inactive)"),
    ("GET", "/v1/pools/{pool}/volumes", list_volumes, "list a pool's volumes"),
    ("POST", "/v1/pools/{pool}/volumes", create_volume,
     "create a volume from {name, capacity, format, allocation, backing} or {xml[, from_vol, from_pool]}"),
    ("POST", "/v1/pools/{pool}/{action}", pool_action, "build, start, destroy, delete, autostart, refresh"),
    ("GET", "/v1/pools/{pool}/volumes/{vol}", lookup_volume, "a volume's info"),
    ("DELETE", "/v1/pools/{pool}/volumes/{vol}", delete_volume, "delete a volume (force)"),
    ("GET", "/v1/pools/{pool}/volumes/{vol}/xml", volume_xml, "volume XML"),
    ("PUT", "/v1/pools/{pool}/volumes/{vol}/data", upload_volume, "upload (streamed body; offset, length)"),
    ("GET", "/v1/pools/{pool}/volumes/{vol}/data", download_volume, "download (streamed; offset, length)"),
    ("POST", "/v1/pools/{pool}/volumes/{vol}/{action}", volume_action, "clone, wipe, resize"),
    ("GET", "/v1/volumes", lookup_volume_by_path, "look a volume up by path or key"),
]


def add_routes(app: web.Application, service: StorageService) -> None:
    app[SERVICE] = service
    for method, path, handler, _ in ROUTES:
        app.router.add_route(method, path, handler)
