"""pyvirtd's routes, made from the declared operations (pyvirt.operations): handlers only translate.

Each route checks its request against the operation's declaration (path, query or JSON body:
types checked, nothing coerced, unknown fields refused), calls the implementation of the same
name on the first implementation object that has one (host facts, the QEMU driver, the storage
driver), and checks the result against the declared result type before it leaves.

Errors are mapped in one place (:func:`error_response`): a PyvirtError keeps libvirt's code,
domain and message; anything else is a bug in pyvirtd, logged with its trace and answered as
libvirt's "internal error" — never as the client's "invalid argument".
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError, no_support
from pyvirt.operations import HTTP_STATUS, Operation, declared
from pyvirt.optypes import check_result, encode_result, from_text, json_object, parse_query

# HTTP_STATUS (operations), from_text and parse_query (optypes) are shared with the web face
__all__ = ["HTTP_STATUS", "from_text", "parse_query"]

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def error_response(exc: PyvirtError) -> web.Response:
    return web.json_response({"error": exc.to_dict()}, status=HTTP_STATUS.get(exc.code, 500))


def internal_error(exc: BaseException) -> PyvirtError:
    return PyvirtError(f"internal error: {type(exc).__name__}: {exc}", ErrorCode.INTERNAL_ERROR)


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except PyvirtError as exc:
        return error_response(exc)
    except web.HTTPRequestEntityTooLarge as exc:  # aiohttp's own 413 would reach clients as plain text
        return web.json_response({"error": PyvirtError(f"request too large for pyvirtd: {exc.text}",
                                                       ErrorCode.RPC, ErrorDomain.RPC).to_dict()},
                                 status=exc.status)
    except web.HTTPException:
        raise
    except Exception as exc:  # noqa: BLE001 - the client must get an answer, the log the trace
        log.exception("internal error in %s %s", request.method, request.path)
        return error_response(internal_error(exc))


def ok(data: Any = None) -> web.Response:
    return web.json_response({"result": data})


# ------------------------------------------------------------------------------ requests
async def read_object(request: web.Request) -> dict[str, Any]:
    """The JSON object body ({} when there is none); aiohttp's client_max_size bounds it."""
    if not request.can_read_body:
        return {}
    return json_object(await request.read())


async def parse_request(op: Operation, request: web.Request) -> dict[str, Any]:
    return await op.arguments(request.match_info, request.query, lambda: read_object(request))


# ------------------------------------------------------------------------------ dispatch
def find_implementation(op: Operation, impls: list[Any]) -> tuple[Any, Callable[..., Any]] | None:
    """The first implementation object with a method of the operation's name."""
    for impl in impls:
        if not _defines(impl, op.name):
            continue
        fn = getattr(impl, op.name, None)
        if callable(fn):
            return impl, fn
    return None


def _defines(impl: Any, name: str) -> bool:
    """Whether `impl` has an attribute `name`, looked up without running descriptors: a name of
    the QEMU driver's deferred mixins (pyvirt.deferred) is a placeholder until it is first used,
    and making the routes must not load them all."""
    if name in getattr(impl, "__dict__", ()):
        return True
    return any(name in klass.__dict__ for klass in type(impl).__mro__)


async def call(impl: Any, fn: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
    """Coroutines are awaited; a BLOCKING implementation (storage) runs in a worker thread."""
    if inspect.iscoroutinefunction(fn):
        return await fn(**kwargs)
    if getattr(impl, "BLOCKING", False):
        return await asyncio.to_thread(fn, **kwargs)
    return fn(**kwargs)


def make_handler(op: Operation, impls: list[Any], sessions: Any = None) -> Handler:
    from pyvirt.daemon import session

    owner = next((impl for impl in impls if _defines(impl, op.name)), None)
    bound: list[tuple[Any, Callable[..., Any]] | None] = []  # the method, bound at its first call

    async def handler(request: web.Request) -> web.Response:
        kwargs = await parse_request(op, request)
        if not bound:
            bound.append(find_implementation(op, impls) if owner is not None else None)
        found = bound[0]
        if found is None:
            raise no_support(op.libvirt)
        token = session.bind(request, sessions)
        try:
            result = await call(found[0], found[1], kwargs)
        finally:
            if token is not None:
                session.current.reset(token)
        if op.returns_none:
            return ok(None)
        data = encode_result(result, op.result)
        try:
            check_result(data, op.result)
        except PyvirtError as exc:  # the driver broke the declaration: our bug, not the client's
            log.error("%s returned what its declaration does not allow: %s", op.name, exc.message)
            raise PyvirtError(f"internal error: {op.name} result: {exc.message}", ErrorCode.INTERNAL_ERROR) from None
        return ok(data)

    handler.__name__ = op.name
    return handler


def add_operation_routes(app: web.Application, impls: list[Any], streams: dict[str, Handler],
                         sessions: Any = None) -> None:
    """One route per declared operation; stream operations get the hand-written `streams` handler.
    `sessions` (daemon.session.Sessions): calls carrying a session id run with it current.
    Every route refuses read-only requests for what its declaration does not mark read-only."""
    from pyvirt.daemon.access import guard
    from pyvirt.optable import ROWS

    for name in ROWS:  # the generated table, in declaration order: the declaration is not executed
        op = declared(name)
        if op.stream:
            handler = streams.get(op.name)
            if handler is None:
                continue
        else:
            handler = make_handler(op, impls, sessions)
        app.router.add_route(op.method, op.path, guard(op, handler))


