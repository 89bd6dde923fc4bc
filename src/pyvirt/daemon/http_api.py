"""pyvirtd's HTTP API on its unix socket: JSON in and out, domain XML as strings.

Errors are `{"error": {"code", "domain", "message"}}` with libvirt's numbers; lifecycle events
are a Server-Sent Events stream; the serial console is a WebSocket carrying raw bytes.
The route table below is also the source of the OpenAPI document (`GET /openapi.json`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import WSMsgType, web

from pyvirt import __version__
from pyvirt.api import DomainInfo, ErrorCode, ListFilter, PyvirtError
from pyvirt.daemon.driver import QemuDriver
from pyvirt.daemon.hostinfo import HostInfo

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
DRIVER: web.AppKey[QemuDriver] = web.AppKey("driver", QemuDriver)
HOST: web.AppKey[HostInfo] = web.AppKey("host", HostInfo)

HTTP_STATUS = {ErrorCode.NO_DOMAIN: 404, ErrorCode.NO_STORAGE_POOL: 404, ErrorCode.NO_STORAGE_VOL: 404,
               ErrorCode.NO_NETWORK: 404, ErrorCode.OPERATION_INVALID: 409, ErrorCode.DOM_EXIST: 409,
               ErrorCode.XML_ERROR: 400, ErrorCode.XML_DETAIL: 400, ErrorCode.INVALID_ARG: 400,
               ErrorCode.CONFIG_UNSUPPORTED: 400, ErrorCode.OPERATION_DENIED: 403}


def _error_response(exc: PyvirtError) -> web.Response:
    return web.json_response({"error": exc.to_dict()}, status=HTTP_STATUS.get(exc.code, 500))


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except PyvirtError as exc:
        return _error_response(exc)
    except web.HTTPException:
        raise
    except (KeyError, ValueError, TypeError, json.JSONDecodeError) as exc:
        return _error_response(PyvirtError(f"invalid argument: {exc}", ErrorCode.INVALID_ARG))
    except Exception as exc:  # noqa: BLE001 - the client must get an answer, the log the trace
        log.exception("internal error in %s %s", request.method, request.path)
        return _error_response(PyvirtError(f"internal error: {exc}", ErrorCode.INTERNAL_ERROR))


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    data = await request.json()
    if not isinstance(data, dict):
        raise PyvirtError("invalid argument: request body must be a JSON object", ErrorCode.INVALID_ARG)
    return data


def _flag(request: web.Request, name: str) -> bool:
    return request.query.get(name, "") in ("1", "true", "yes")


def _ok(data: Any = None) -> web.Response:
    return web.json_response({"result": data})


# ---------------------------------------------------------------------------------------- host
async def host_info(request: web.Request) -> web.Response:
    host = request.app[HOST]
    return _ok({"hostname": host.hostname(), "uri": host.uri, "version": await host.version(),
                "nodeinfo": host.node_info().to_dict()})


async def capabilities(request: web.Request) -> web.Response:
    return _ok(await request.app[HOST].capabilities())


async def domain_capabilities(request: web.Request) -> web.Response:
    q = request.query
    return _ok(await request.app[HOST].domain_capabilities(q.get("emulator"), q.get("arch"), q.get("machine"),
                                                           q.get("virttype")))


# ---------------------------------------------------------------------------------------- domains
async def list_domains(request: web.Request) -> web.Response:
    q = request.query

    def tri(name: str) -> bool | None:
        return None if name not in q else q[name] in ("1", "true", "yes")

    states = [int(s) for s in q.get("states", "").split(",") if s]
    flt = ListFilter(active=tri("active"), persistent=tri("persistent"), autostart=tri("autostart"), states=states)
    # columns once, then one row per domain: half the bytes of a list of objects, for 1000s of domains
    fields = DomainInfo._fields
    rows = [[getattr(i, k) for k in fields] for i in request.app[DRIVER].list_domains(flt)]
    return _ok({"fields": fields, "rows": rows})


async def lookup_domain(request: web.Request) -> web.Response:
    drv = request.app[DRIVER]
    return _ok(drv.info(drv.lookup(request.match_info["dom"])).to_dict())


async def define_domain(request: web.Request) -> web.Response:
    body = await _body(request)
    return _ok((await request.app[DRIVER].define(str(body["xml"]), bool(body.get("validate")))).to_dict())


async def create_domain(request: web.Request) -> web.Response:
    body = await _body(request)
    info = await request.app[DRIVER].create(str(body["xml"]), paused=bool(body.get("paused")),
                                            validate=bool(body.get("validate")))
    return _ok(info.to_dict())


async def xml_to_native(request: web.Request) -> web.Response:
    body = await _body(request)
    return _ok(await request.app[DRIVER].xml_to_native(str(body["format"]), str(body["xml"])))


async def undefine_domain(request: web.Request) -> web.Response:
    await request.app[DRIVER].undefine(request.match_info["dom"])
    return _ok()


async def domain_xml(request: web.Request) -> web.Response:
    xml = request.app[DRIVER].get_xml(request.match_info["dom"], inactive=_flag(request, "inactive"),
                                      security_info=_flag(request, "security_info"))
    return _ok(xml)


async def domain_action(request: web.Request) -> web.Response:
    drv = request.app[DRIVER]
    dom = request.match_info["dom"]
    action = request.match_info["action"]
    body = await _body(request)
    live, config = bool(body.get("live")), bool(body.get("config"))
    result: Any = None
    if action == "start":
        result = (await drv.start(dom, paused=bool(body.get("paused")))).to_dict()
    elif action == "shutdown":
        await drv.shutdown(dom, body.get("mode"))
    elif action == "reboot":
        await drv.reboot(dom, body.get("mode"))
    elif action == "reset":
        await drv.reset(dom)
    elif action == "destroy":
        await drv.destroy(dom, graceful=bool(body.get("graceful")))
    elif action == "suspend":
        await drv.suspend(dom)
    elif action == "resume":
        await drv.resume(dom)
    elif action == "autostart":
        await drv.set_autostart(dom, bool(body.get("enable", True)))
    elif action == "setmem":
        await drv.set_memory(dom, int(body["kib"]), live, config, bool(body.get("maximum")))
    elif action == "setvcpus":
        await drv.set_vcpus(dom, int(body["count"]), live, config, bool(body.get("maximum")))
    elif action == "metadata":
        await drv.set_metadata(dom, str(body["kind"]), body.get("value"), live, config)
    elif action == "rename":
        await drv.rename(dom, str(body["name"]))
    elif action == "sendkey":
        await drv.send_key(dom, body["keys"], int(body.get("holdtime", 0)))
    else:
        raise web.HTTPNotFound(text=f"unknown action {action}")
    return _ok(result)


async def domain_stats(request: web.Request) -> web.Response:
    q = request.query
    refs = [r for r in q.get("domains", "").split(",") if r] or None
    groups = [g for g in q.get("groups", "").split(",") if g] or None
    return _ok(request.app[DRIVER].domain_stats(refs, groups))


async def domain_display(request: web.Request) -> web.Response:
    return _ok(request.app[DRIVER].display_uri(request.match_info["dom"], request.query.get("type")))


async def domain_ifaddr(request: web.Request) -> web.Response:
    return _ok(request.app[DRIVER].interface_addresses(request.match_info["dom"],
                                                       request.query.get("source", "lease")))


async def domain_memstats(request: web.Request) -> web.Response:
    return _ok(await request.app[DRIVER].memory_stats(request.match_info["dom"]))


# ---------------------------------------------------------------------------------------- streams
async def events_stream(request: web.Request) -> web.StreamResponse:
    """Server-Sent Events: one `data:` line of JSON per lifecycle event."""
    drv = request.app[DRIVER]
    only = request.query.get("domain")
    queue = drv.events.subscribe()
    resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
    try:
        await resp.prepare(request)
        await resp.write(b": subscribed\n\n")
        while True:
            ev = await queue.get()
            if ev is None:
                break
            if only and only not in (ev.name, ev.uuid):
                continue
            await resp.write(f"data: {json.dumps(ev.to_dict())}\n\n".encode())
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        drv.events.unsubscribe(queue)
    return resp


async def console_ws(request: web.Request) -> web.StreamResponse:
    """The serial console: binary WebSocket frames both ways; `?history=1` replays recent output."""
    drv = request.app[DRIVER]
    relay = drv.console(request.match_info["dom"])
    queue = relay.attach(force=_flag(request, "force"))
    ws = web.WebSocketResponse(max_msg_size=1 << 20)
    await ws.prepare(request)
    if _flag(request, "history") and relay.history:
        await ws.send_bytes(bytes(relay.history))

    async def pump_out() -> None:
        while True:
            data = await queue.get()
            if data is None:
                await ws.close()
                return
            await ws.send_bytes(data)

    out = asyncio.create_task(pump_out())
    try:
        async for msg in ws:
            if msg.type == WSMsgType.BINARY:
                relay.write(msg.data)
            elif msg.type == WSMsgType.TEXT:
                relay.write(msg.data.encode())
            elif msg.type in (WSMsgType.CLOSE, WSMsgType.ERROR):
                break
    finally:
        out.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await out
        relay.detach(queue)
    return ws


# ---------------------------------------------------------------------------------------- routes
ROUTES: list[tuple[str, str, Handler, str]] = [
    ("GET", "/v1/host", host_info, "hostname, URI, versions, node info"),
    ("GET", "/v1/host/capabilities", capabilities, "libvirt <capabilities> XML"),
    ("GET", "/v1/host/domcapabilities", domain_capabilities, "libvirt <domainCapabilities> XML"),
    ("GET", "/v1/domains", list_domains,
     "list domains as {fields, rows} (filters: active, persistent, autostart, states)"),
    ("POST", "/v1/domains", define_domain, "define a persistent domain from {xml}"),
    ("POST", "/v1/domains-create", create_domain, "start a transient domain from {xml, paused}"),
    ("POST", "/v1/xml-to-native", xml_to_native, "{format: 'qemu-argv', xml}: the QEMU command line"),
    ("GET", "/v1/domains/{dom}", lookup_domain, "look a domain up by id, UUID or name"),
    ("DELETE", "/v1/domains/{dom}", undefine_domain, "undefine"),
    ("GET", "/v1/domains/{dom}/xml", domain_xml, "domain XML (inactive, security_info)"),
    ("GET", "/v1/domains/{dom}/memstats", domain_memstats, "balloon and RSS figures (KiB)"),
    ("GET", "/v1/domains/{dom}/display", domain_display, "domdisplay URI (type=vnc|spice)"),
    ("GET", "/v1/domains/{dom}/ifaddr", domain_ifaddr, "interface addresses (source=lease|arp|agent)"),
    ("GET", "/v1/domain-stats", domain_stats, "libvirt-style stats (domains=a,b&groups=state,balloon…)"),
    ("POST", "/v1/domains/{dom}/{action}", domain_action,
     "start, shutdown, reboot, reset, destroy, suspend, resume, autostart, setmem, setvcpus, metadata, "
     "rename, sendkey"),
    ("GET", "/v1/events", events_stream, "lifecycle events (Server-Sent Events)"),
    ("GET", "/v1/domains/{dom}/console", console_ws, "serial console (WebSocket, binary)"),
]


def openapi_document() -> dict[str, Any]:
    from pyvirt.daemon.http_storage import ROUTES as STORAGE_ROUTES

    paths: dict[str, Any] = {}
    for method, path, handler, summary in [*ROUTES, *STORAGE_ROUTES]:
        paths.setdefault(path, {})[method.lower()] = {
            "operationId": handler.__name__, "summary": summary,
            "responses": {"200": {"description": "`{\"result\": ...}`"},
                          "default": {"description": "`{\"error\": {code, domain, message}}` (libvirt codes)"}}}
    return {"openapi": "3.0.3", "info": {"title": "pyvirtd", "version": __version__}, "paths": paths}


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(openapi_document())


def make_app(driver: QemuDriver, host: HostInfo, storage: Any = None) -> web.Application:
    """`storage`: a daemon.http_storage.StorageService whose routes are added (None: no storage API)."""
    app = web.Application(middlewares=[errors_middleware], client_max_size=16 << 20)
    app[DRIVER] = driver
    app[HOST] = host
    for method, path, handler, _ in ROUTES:
        app.router.add_route(method, path, handler)
    if storage is not None:
        from pyvirt.daemon.http_storage import add_routes

        add_routes(app, storage)
    app.router.add_get("/openapi.json", openapi)
    return app


async def serve_unix(app: web.Application, sock: socket.socket) -> web.AppRunner:
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=2.0)
    await runner.setup()
    site = web.SockSite(runner, sock)
    await site.start()
    return runner
