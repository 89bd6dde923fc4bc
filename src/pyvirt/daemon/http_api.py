"""pyvirtd's HTTP API on its unix socket: JSON in and out, XML documents as strings.

Every route comes from a declared operation (pyvirt.operations): generic handlers for the calls
(daemon/rest.py), hand-written transports for the streams (daemon/http_streams.py).  The
implementations are the network driver, the host facts, the QEMU driver, the storage driver and
the secret driver,
searched in that order for a method of the operation's name.  ``GET /openapi.json`` describes it all.
"""

from __future__ import annotations

import socket
from typing import Any

from aiohttp import web

from pyvirt.daemon.http_streams import stream_handlers
from pyvirt.daemon.rest import add_operation_routes, errors_middleware


def openapi_document() -> dict[str, Any]:
    from pyvirt.daemon.openapi import document

    return document()


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(openapi_document())


def make_app(driver: Any, host: Any, storage: Any = None, networks: Any = None,
             tls_policy: Any = None, secrets: Any = None, nwfilters: Any = None) -> web.Application:
    """`driver`: the QEMU driver (domains, events, consoles); `host`: host facts; `storage`: the
    storage driver (None: pools and volumes answer "not supported"); `networks`: the network
    driver (None on session daemons: networks answer "not supported"); `secrets`: the secret
    driver (None: secrets answer "not supported"); `nwfilters`: the network filter driver (None on
    session daemons: filters answer "not supported"); `tls_policy`
    (daemon.access.TLSPolicy): the rules for clients of the TLS listener, when there is one."""
    from pyvirt.daemon.access import tls_middleware
    from pyvirt.daemon.session import Sessions

    middlewares = [errors_middleware] + ([tls_middleware(tls_policy)] if tls_policy is not None else [])
    app = web.Application(middlewares=middlewares, client_max_size=16 << 20)
    # the network driver first: where there is one, it answers list_networks, not the host's empty list
    impls = [x for x in (networks, host, driver, storage, secrets, nwfilters) if x is not None]
    sessions = Sessions()
    add_operation_routes(app, impls, stream_handlers(driver, storage), sessions)
    app.router.add_get("/v1/session", sessions.serve)

    async def end_sessions(app: web.Application) -> None:  # before the server closes its connections
        await sessions.close_all()

    app.on_shutdown.append(end_sessions)
    app.router.add_get("/openapi.json", openapi)
    return app


#: seconds a connection may be idle, or take to send one request's head (pyvirtd.conf's
#: client_idle_timeout)
IDLE_TIMEOUT = 60


async def serve_unix(app: web.Application, sock: socket.socket, idle_timeout: float = IDLE_TIMEOUT) -> web.AppRunner:
    """Serve `app` on the listening unix socket `sock` (the TLS listener shares the runner).

    aiohttp's keep-alive timer runs from the moment a connection is made and is not pushed back
    by bytes that do not complete a request, so `idle_timeout` bounds a peer that connects and
    sends nothing, one that trickles a request head, and one idle between requests; a request
    being served (events, console, session streams) is never idle."""
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=2.0,
                           keepalive_timeout=idle_timeout)
    await runner.setup()
    site = web.SockSite(runner, sock)
    await site.start()
    return runner
