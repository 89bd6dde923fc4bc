"""The web UI's JSON API: one route per declared operation, made from pyvirt.operations.

``/api`` + the operation's pyvirtd path and method (``POST /api/v1/domains/{dom}/start``; under
``/api/c/{conn}`` for a connection other than the first, see pyvirt.web.conns), the
same arguments (path segments; query string for GET/DELETE; a JSON object body otherwise), the
same checks (pyvirt.optypes: types checked, nothing coerced, unknown fields refused) and the same
answers (``{"result": …}`` or ``{"error": {code, domain, message}}`` with libvirt's numbers and
pyvirt.operations.HTTP_STATUS).  pyvirtd's OpenAPI document therefore describes this API too.
Each call goes to pyvirtd through a client Connection: the web face adds no operation of its
own and cannot do anything the CLI could not.  Stream operations (events, console, volume data)
have their own handlers in pyvirt.web.streams.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from pyvirt.api import ErrorCode, PyvirtError
from pyvirt.operations import HTTP_STATUS, OPERATIONS, Operation
from pyvirt.optypes import encode_result, json_object
from pyvirt.web.conns import add_route, backend_of

log = logging.getLogger(__name__)
#: the largest JSON body the UI sends (a domain XML is a few KiB)
MAX_BODY = 4 << 20
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def error_response(exc: PyvirtError) -> web.Response:
    return web.json_response({"error": exc.to_dict()}, status=HTTP_STATUS.get(exc.code, 500))


async def read_object(request: web.Request) -> dict[str, Any]:
    """The JSON object body ({} when there is none), read whole up to MAX_BODY bytes.

    ``StreamReader.read(n)`` answers with what is buffered (one TCP read's worth), not n bytes:
    a body that arrives in pieces is read to its end here, and refused once it passes the bound."""
    if not request.can_read_body:
        return {}
    parts: list[bytes] = []
    size = 0
    while chunk := await request.content.read(MAX_BODY + 1 - size):
        parts.append(chunk)
        size += len(chunk)
        if size > MAX_BODY:
            raise PyvirtError(f"invalid argument: request body over {MAX_BODY} bytes", ErrorCode.INVALID_ARG)
    return json_object(b"".join(parts))


async def parse_request(op: Operation, request: web.Request) -> dict[str, Any]:
    return await op.arguments(request.match_info, request.query, lambda: read_object(request))


def make_handler(op: Operation) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        try:
            backend = backend_of(request)
            kwargs = await parse_request(op, request)
            result = await backend.call(op.name, kwargs)
        except PyvirtError as exc:
            return error_response(exc)
        if op.returns_none:
            return web.json_response({"result": None})
        return web.json_response({"result": encode_result(result, op.result)})

    handler.__name__ = op.name
    return handler


def add_routes(app: web.Application) -> None:
    for op in OPERATIONS.values():
        if not op.stream:
            add_route(app, op.method, op.path, make_handler(op))
