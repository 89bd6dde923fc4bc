"""Who may do what on one request: TLS clients' certificate DNs and read-only connections.

A request is read-only when its client asked for it (the ``X-Pyvirt-Readonly`` header a client
opened with ``-r``/``readonly`` sends) or when pyvirtd decided it (a TLS client whose DN is on
``tls_readonly_dn_list``, or every TLS client under ``tls_readonly = 1``).  A read-only request may
call only the operations declared read-only (pyvirt.operations), and may not ask for secrets
(``security_info``), as libvirt refuses VIR_DOMAIN_XML_SECURE on read-only connections.  The guard
wraps every route made from a declaration, streams included, and runs before the request is read,
so a refusal never depends on the arguments.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web

from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError, read_only_denied
from pyvirt.operations import READONLY_HEADER, Operation
from pyvirt.pki import distinguished_name, dn_matches

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_READONLY_KEY = "pyvirt_readonly"
_SECRET_FLAGS = ("security_info",)
#: read-only operations that become writes with one argument's value (libvirt checks read-only
#: access for them only then): interface addresses asked of the guest agent
_WRITE_WHEN = {"interface_addresses": ("source", "agent")}


def is_readonly(request: web.Request) -> bool:
    return bool(request.get(_READONLY_KEY)) or request.headers.get(READONLY_HEADER, "") in ("1", "true")


def guard(op: Operation, handler: Handler) -> Handler:
    """`handler`, refusing read-only requests for what the declaration does not mark read-only."""
    secret_params = [p for p in _SECRET_FLAGS if p in op.args]

    async def guarded(request: web.Request) -> web.StreamResponse:
        if is_readonly(request):
            if not op.readonly:
                raise read_only_denied(op.libvirt)
            write_when = _WRITE_WHEN.get(op.name)
            if write_when is not None and request.query.get(write_when[0]) == write_when[1]:
                raise read_only_denied(op.libvirt)
            if any(request.query.get(p, "") in ("1", "true", "yes") for p in secret_params):
                raise PyvirtError(f"operation forbidden: {op.libvirt} with secure flag", ErrorCode.OPERATION_DENIED,
                                  ErrorDomain.NONE)  # libvirt's public API's words
        return await handler(request)

    guarded.__name__ = getattr(handler, "__name__", op.name)
    return guarded


@dataclass
class TLSPolicy:
    """The TLS listener's rules: None `allowed` lets in every client the CA signed (libvirt's
    default without tls_allowed_dn_list)."""

    allowed: list[str] | None = None
    readonly: list[str] = field(default_factory=list)
    all_readonly: bool = False


def tls_middleware(policy: TLSPolicy) -> Callable[..., Awaitable[web.StreamResponse]]:
    """Applies `policy` to requests that came over TLS; unix-socket requests pass untouched."""

    @web.middleware
    async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
        transport = request.transport
        ssl_object = transport.get_extra_info("ssl_object") if transport is not None else None
        if ssl_object is None:
            return await handler(request)
        cert = ssl_object.getpeercert()
        dn = distinguished_name(cert.get("subject", ())) if cert else ""
        if not dn or (policy.allowed is not None and not dn_matches(dn, policy.allowed + policy.readonly)):
            log.warning("refused TLS client %s: DN %r is not on the list of allowed clients",
                        request.remote, dn)
            raise PyvirtError(f"authentication failed: Client's x509 Distinguished Name '{dn}' is not on the "
                              "list of allowed clients (tls_allowed_dn_list)", ErrorCode.AUTH_FAILED,
                              ErrorDomain.RPC)
        if policy.all_readonly or dn_matches(dn, policy.readonly):  # read-only wins over allowed
            request[_READONLY_KEY] = True
        return await handler(request)

    return check
