"""The aiohttp application: pages, login, static assets, the JSON API and the streams.

Front-end assets come from two places, both inside the package, never a CDN: ``static/`` (the
UI's own HTML, JS and CSS) and ``node_modules/`` (the pinned npm packages of package-lock.json,
installed by ``make web-assets``); only the packages in VENDOR are served from it.
"""

from __future__ import annotations

import asyncio
import html
import tempfile
from pathlib import Path

from aiohttp import web

from pyvirt.web import create, rpc, streams
from pyvirt.web.auth import Auth, RateLimited
from pyvirt.web.backend import Backend
from pyvirt.web.conns import BACKENDS, Backends
from pyvirt.web.guard import COOKIE, SESSION_KEY, Guard

HERE = Path(__file__).parent
STATIC = HERE / "static"
NODE_MODULES = HERE / "node_modules"
#: URL name -> npm package directory served under /vendor/ (nothing else of node_modules is)
VENDOR = {"htm": "htm", "xterm": "@xterm/xterm", "xterm-fit": "@xterm/addon-fit",
          "novnc": "@novnc/novnc", "uplot": "uplot"}

LOGIN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>pyvirt — log in</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/login.css"></head>
<body><main class="login"><h1>pyvirt</h1>
<p class="uri">{uri}</p>{error}
<form method="post" action="/login">
<label for="token">Login token <small>(printed by <code>pyvirt web</code> at start)</small></label>
<input id="token" name="token" type="password" autocomplete="off" autofocus>
{pam}
<button type="submit">Log in</button>
</form></main></body></html>
"""
PAM_FIELDS = """<p class="or">or, as root or a member of group <code>{group}</code>:</p>
<label for="user">User</label><input id="user" name="user" autocomplete="username">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password">
"""


def assets_installed() -> bool:
    return all((NODE_MODULES / pkg / "package.json").is_file() for pkg in VENDOR.values())


class Pages:
    def __init__(self, auth: Auth, guard: Guard, backends: Backends) -> None:
        self.auth, self.guard, self.backends = auth, guard, backends
        self.uri = ", ".join(b.uri for b in backends)

    def login_page(self, error: str = "", status: int = 200) -> web.Response:
        pam = PAM_FIELDS.format(group=html.escape(self.auth.pam_group)) if self.auth.pam_group else ""
        err = f'<p class="error" role="alert">{html.escape(error)}</p>' if error else ""
        body = LOGIN_PAGE.format(uri=html.escape(self.uri), error=err, pam=pam)
        return web.Response(text=body, content_type="text/html", status=status)

    async def login_get(self, request: web.Request) -> web.StreamResponse:
        token = request.query.get("token")
        if token is None:
            return self.login_page()
        return await self._login(request, token=token)

    async def login_post(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        return await self._login(request, token=str(form.get("token", "")), user=str(form.get("user", "")),
                                 password=str(form.get("password", "")))

    async def _login(self, request: web.Request, **secrets: str) -> web.StreamResponse:
        client = request.remote or "?"
        try:
            sid = await self.auth.login_async(client, **secrets)
        except RateLimited as exc:
            page = self.login_page(str(exc), status=429)
            page.headers["Retry-After"] = str(int(exc.retry_after) + 1)
            return page
        if sid is None:
            return self.login_page("Wrong token or password.", status=401)
        response = web.HTTPSeeOther("/")  # the token leaves the address bar and the history
        self.guard.set_cookie(response, sid)
        return response

    async def logout(self, request: web.Request) -> web.StreamResponse:
        self.auth.logout(request.cookies.get(COOKIE))
        response = web.HTTPSeeOther("/login")
        response.del_cookie(COOKIE, path="/")
        return response

    async def session(self, request: web.Request) -> web.StreamResponse:
        """Who is logged in, the CSRF token the page sends back (same-origin reads only) and the
        connections this login may use (id for the routes, URI to show), the default first."""
        s = request[SESSION_KEY]
        conns = [{"id": b.id, "uri": b.uri, "label": b.label} for b in self.backends.visible(s.token)]
        return web.json_response({"user": s.user, "csrf": s.csrf, "connections": conns,
                                  "uri": conns[0]["uri"] if conns else "", "assets": assets_installed()})

    async def index(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC / "index.html")

    async def login_css(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC / "login.css")


def make_app(backends: Backends | Backend, auth: Auth, guard: Guard) -> web.Application:
    if isinstance(backends, Backend):
        backends = Backends([backends])
    app = web.Application(middlewares=[guard.middleware], client_max_size=rpc.MAX_BODY)
    pages = Pages(auth, guard, backends)
    app[BACKENDS] = backends
    spool = tempfile.TemporaryDirectory(prefix="pyvirt-web-")
    app[streams.SPOOL] = spool.name

    async def on_startup(app: web.Application) -> None:
        app[streams.LOOP] = asyncio.get_running_loop()
        for backend in backends:
            backend.start_events(app[streams.LOOP])

    async def on_cleanup(app: web.Application) -> None:
        for backend in backends:
            backend.close()
        spool.cleanup()

    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    r = app.router
    r.add_get("/login", pages.login_get)
    r.add_post("/login", pages.login_post)
    r.add_get("/login.css", pages.login_css)
    r.add_post("/logout", pages.logout)
    r.add_get("/api/session", pages.session)
    streams.add_routes(app)  # before the generated routes: the upload route is the stream op's
    rpc.add_routes(app)
    create.add_routes(app)
    r.add_get("/", pages.index)  # one page; its views are #/guests, #/guest/NAME, #/storage, …
    r.add_static("/static/", STATIC)
    for url, pkg in VENDOR.items():
        if (NODE_MODULES / pkg).is_dir():
            r.add_static(f"/vendor/{url}/", NODE_MODULES / pkg)
    return app
