"""The one middleware every request passes: security headers, Host check, session, CSRF, Origin.

Rules, in order:
- every response carries a strict Content-Security-Policy (scripts only from this origin, no
  inline script, no eval), nosniff, no framing, no referrer to other sites (not
  "no-referrer": under it browsers send "Origin: null" with same-origin form posts);
- the Host header must name this server (a page on another site that rebinds its DNS name to
  127.0.0.1 cannot talk to us through the victim's browser);
- only the login page and its stylesheet are public; anything else without a valid session is
  401 (API and WebSockets) or a redirect to /login (pages);
- a state-changing request (not GET/HEAD/OPTIONS) must carry the session's CSRF token in
  ``X-CSRF-Token`` and, when the browser sends an Origin, this server's own: else 403;
- a WebSocket handshake must come with this server's Origin (browsers send it; a foreign page's
  script cannot forge it), since WebSockets are exempt from the same-origin policy.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from aiohttp import web

from pyvirt.web.auth import Auth, Session

COOKIE = "pyvirt_web"
#: paths served without a session (they show nothing of the host's state)
PUBLIC = frozenset({"/login", "/login.css"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# style-src allows inline styles: xterm.js writes its theme and cell sizes into <style> elements
# it creates (they cannot run script); scripts stay 'self' only: no inline script, no eval.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
       "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
       "base-uri 'none'")
HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
           "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin",
           "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Resource-Policy": "same-origin"}

SESSION_KEY = web.RequestKey("session", Session)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Guard:
    """`allowed_hosts`: Host header values accepted (None: any, for a TLS listener on a
    non-loopback address whose names we cannot know); `tls`: cookies get Secure."""

    def __init__(self, auth: Auth, allowed_hosts: set[str] | None, tls: bool) -> None:
        self.auth = auth
        self.allowed_hosts = allowed_hosts
        self.tls = tls

    def origin(self, request: web.Request) -> str:
        return f"{'https' if self.tls else 'http'}://{request.host}"

    def set_cookie(self, response: web.StreamResponse, sid: str) -> None:
        response.set_cookie(COOKIE, sid, httponly=True, samesite="Strict", secure=self.tls, path="/")

    def session_of(self, request: web.Request) -> Session | None:
        return self.auth.session(request.cookies.get(COOKIE))

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            response = await self._check(request, handler)
        except web.HTTPException as exc:
            response = exc
        for key, value in HEADERS.items():
            response.headers.setdefault(key, value)
        if request.path.startswith("/api/"):
            response.headers.setdefault("Cache-Control", "no-store")
        elif request.path.startswith("/vendor/") and response.status == 200:
            # pinned npm packages change only with package-lock.json: a day without revalidation
            response.headers.setdefault("Cache-Control", "private, max-age=86400")
        if isinstance(response, web.HTTPException):
            raise response
        return response

    async def _check(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if self.allowed_hosts is not None and request.host.lower() not in self.allowed_hosts:
            raise web.HTTPMisdirectedRequest(text="this server does not answer to that host name")
        origin = request.headers.get("Origin")
        if origin is not None and origin != self.origin(request) and (
                request.method not in SAFE_METHODS or _is_websocket(request)):
            raise web.HTTPForbidden(text="cross-origin request refused")
        if request.path in PUBLIC:
            return await handler(request)
        session = self.session_of(request)
        if session is None:
            if request.path.startswith("/api/") or _is_websocket(request):
                raise web.HTTPUnauthorized(text="log in first", content_type="text/plain")
            raise web.HTTPFound("/login")
        if _is_websocket(request) and origin is None:
            raise web.HTTPForbidden(text="WebSocket without an Origin refused")
        if request.method not in SAFE_METHODS:
            given = request.headers.get("X-CSRF-Token", "")
            if not hmac.compare_digest(given.encode(), session.csrf.encode()):
                raise web.HTTPForbidden(text="missing or wrong CSRF token")
        request[SESSION_KEY] = session
        return await handler(request)


def _is_websocket(request: web.Request) -> bool:
    return request.headers.get("Upgrade", "").lower() == "websocket"
