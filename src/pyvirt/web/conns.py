"""One web process for several connections (say qemu:///system and qemu:///session): each URI
has its Backend under a short id, and every API route exists twice, ``/api/...`` for the first
connection and ``/api/c/{conn}/...`` naming one, so a request always says which pyvirtd it is
for.  A PAM login (a member of the group, not the process's owner) reaches system connections
only: a session connection is the daemon of the user who started ``pyvirt web``, which only the
holder of its printed token may drive.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Iterator
from urllib.parse import urlsplit

from aiohttp import web

from pyvirt.api import ErrorCode, PyvirtError
from pyvirt.web.backend import Backend
from pyvirt.web.guard import SESSION_KEY

PREFIX = "/api"
CONN_PREFIX = PREFIX + "/c/{conn}"


def is_system(uri: str) -> bool:
    return urlsplit(uri).path.rstrip("/").endswith("/system")


def connection_ids(uris: list[str]) -> list[str]:
    """Short, readable, unique ids for route paths: qemu:///system -> system,
    qemu+ssh://host/system -> host-system, a second one of the same -> system-2."""
    out: list[str] = []
    for uri in uris:
        parts = urlsplit(uri)
        base = re.sub(r"[^a-z0-9]+", "-", (parts.hostname or "") + parts.path.lower()).strip("-")
        base = base or re.sub(r"[^a-z0-9]+", "-", parts.scheme.lower()).strip("-") or "conn"
        cid, n = base, 1
        while cid in out:
            n += 1
            cid = f"{base}-{n}"
        out.append(cid)
    return out


class Backends:
    """The process's Backends by id, in the order given (the first is the default)."""

    def __init__(self, backends: list[Backend]) -> None:
        if not backends:
            raise ValueError("at least one connection")
        self.by_id = {b.id: b for b in backends}
        self.first = backends[0]

    def __iter__(self) -> Iterator[Backend]:
        return iter(self.by_id.values())

    def visible(self, token: bool) -> list[Backend]:
        """The connections a session may use (`token`: logged in with the process's token)."""
        return [b for b in self if token or is_system(b.uri)]


BACKENDS = web.AppKey("backends", Backends)


def backend_of(request: web.Request) -> Backend:
    """The Backend the request's route names (the first without {conn}); 404 when there is
    none of that id or the session may not use it (the same answer for both)."""
    backends = request.app[BACKENDS]
    cid = request.match_info.get("conn")
    backend = backends.first if cid is None else backends.by_id.get(cid)
    session = request.get(SESSION_KEY)
    if backend is None or session is None or backend not in backends.visible(session.token):
        error = PyvirtError(f"no connection '{cid if cid is not None else backends.first.id}' for this login",
                            ErrorCode.NO_CONNECT)
        raise web.HTTPNotFound(text=json.dumps({"error": error.to_dict()}), content_type="application/json")
    return backend


def add_route(app: web.Application, method: str, path: str,
              handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> None:
    """`path` (after /api) for the default connection and under /api/c/{conn}."""
    app.router.add_route(method, PREFIX + path, handler)
    app.router.add_route(method, CONN_PREFIX + path, handler)
