"""The web UI's security rules (pyvirt.web.guard, .auth, .tls) and its generated JSON API,
against the in-process test driver (test:///default): no pyvirtd, no browser."""

from __future__ import annotations

import asyncio
import os
import re
import stat
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import WSMsgType, WSServerHandshakeError
from aiohttp.test_utils import TestClient, TestServer

from pyvirt.client import connect
from pyvirt.operations import OPERATIONS
from pyvirt.web import tls
from pyvirt.web.app import make_app
from pyvirt.web.auth import Auth
from pyvirt.web.backend import Backend
from pyvirt.web.guard import COOKIE, CSP, PUBLIC, Guard

URI = "test:///default"
Body = Callable[[TestClient, Auth, set[str]], Awaitable[None]]


def run(body: Body, *, tls_on: bool = False, host_check: bool = False) -> None:
    """`body(client, auth, allowed_hosts)` against a fresh app on a test server."""
    async def main() -> None:
        auth = Auth(token="right-token")
        allowed: set[str] = set()
        guard = Guard(auth, allowed if host_check else None, tls=tls_on)
        app = make_app(Backend(URI, lambda: connect(URI)), auth, guard)
        server = TestServer(app, host="127.0.0.1")
        async with TestClient(server) as client:
            allowed.add(f"127.0.0.1:{server.port}")
            await body(client, auth, allowed)
    asyncio.run(main())


async def login(client: TestClient) -> str:
    """Logs the client in with the token; returns the CSRF token of its session."""
    resp = await client.get("/login", params={"token": "right-token"}, allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/"
    data = await (await client.get("/api/session")).json()
    return str(data["csrf"])


def concrete(path: str) -> str:
    """A route's path with its {parameters} filled in."""
    return re.sub(r"\{[^}]+\}", "x", path)


def test_every_route_needs_a_session() -> None:
    """Walk the app's route table: nothing but the login page answers without a session."""
    async def body(client: TestClient, auth: Auth, _: set[str]) -> None:
        seen = 0
        for route in client.server.app.router.routes():
            info = route.resource.get_info() if route.resource else {}
            path = info.get("path") or info.get("formatter") or (info.get("prefix", "") + "/index.html")
            path = concrete(path)
            if path in PUBLIC:
                continue
            method = route.method if route.method != "*" else "GET"
            resp = await client.request(method, path, allow_redirects=False)
            text = await resp.text()
            assert resp.status in (401, 302), f"{method} {path}: {resp.status}"
            if resp.status == 302:
                assert resp.headers["Location"] == "/login", path
            assert "test" not in text.replace("log in", ""), f"{method} {path} leaks: {text[:80]}"
            seen += 1
        assert seen > len([op for op in OPERATIONS.values() if not op.stream])
    run(body)


def test_login_sets_strict_cookie_and_wrong_token_fails() -> None:
    async def body(client: TestClient, auth: Auth, _: set[str]) -> None:
        bad = await client.post("/login", data={"token": "wrong"}, allow_redirects=False)
        assert bad.status == 401 and COOKIE not in bad.cookies
        good = await client.post("/login", data={"token": "right-token"}, allow_redirects=False)
        assert good.status == 303
        cookie = good.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" not in cookie
        me = await client.get("/api/session")
        assert me.status == 200 and (await me.json())["user"] == "token"
        out = await client.post("/logout", headers={"X-CSRF-Token": auth.sessions[next(iter(auth.sessions))].csrf},
                                allow_redirects=False)
        assert out.status == 303
        assert (await client.get("/api/session")).status == 401
    run(body)


def test_cookie_is_secure_under_tls() -> None:
    async def body(client: TestClient, auth: Auth, _: set[str]) -> None:
        good = await client.post("/login", data={"token": "right-token"}, allow_redirects=False)
        assert "Secure" in good.headers["Set-Cookie"]
    run(body, tls_on=True)


def test_state_change_needs_csrf_token() -> None:
    async def body(client: TestClient, auth: Auth, _: set[str]) -> None:
        csrf = await login(client)
        refused = await client.post("/api/v1/domains/test/suspend", json={})
        assert refused.status == 403
        wrong = await client.post("/api/v1/domains/test/suspend", json={}, headers={"X-CSRF-Token": "nope"})
        assert wrong.status == 403
        info = await (await client.get("/api/v1/domains/test/info")).json()
        assert info["result"]["state"] == 1  # nothing changed
        done = await client.post("/api/v1/domains/test/suspend", json={}, headers={"X-CSRF-Token": csrf})
        assert done.status == 200, await done.text()
        info = await (await client.get("/api/v1/domains/test/info")).json()
        assert info["result"]["state"] == 3
        foreign = await client.post("/api/v1/domains/test/resume", json={},
                                    headers={"X-CSRF-Token": csrf, "Origin": "http://evil.example"})
        assert foreign.status == 403
    run(body)


def test_api_answers_like_pyvirtd() -> None:
    """Generated routes: results as declared, libvirt's errors and statuses, strict arguments."""
    async def body(client: TestClient, auth: Auth, _: set[str]) -> None:
        csrf = await login(client)
        listing = (await (await client.get("/api/v1/domains")).json())["result"]
        names = [row[listing["fields"].index("name")] for row in listing["rows"]]
        assert names == ["test"]
        missing = await client.get("/api/v1/domains/nosuch/info")
        assert missing.status == 404
        err = (await missing.json())["error"]
        assert err["code"] == 42 and "nosuch" in err["message"]
        bad = await client.post("/api/v1/domains/test/setmem", json={"kib": "lots"},
                                headers={"X-CSRF-Token": csrf})
        assert bad.status == 400 and "kib" in (await bad.json())["error"]["message"]
        unknown = await client.get("/api/v1/domains", params={"bogus": "1"})
        assert unknown.status == 400
        xml = await client.post("/api/v1/domains", json={"xml": "<domain type='test'><name>x</nam"},
                                headers={"X-CSRF-Token": csrf})
        assert xml.status == 400 and (await xml.json())["error"]["message"]
    run(body)


def test_websocket_origin_checked() -> None:
    async def body(client: TestClient, auth: Auth, _: set[str]) -> None:
        await login(client)
        with pytest.raises(WSServerHandshakeError) as refused:
            await client.ws_connect("/api/events", headers={"Origin": "http://evil.example"})
        assert refused.value.status == 403
        with pytest.raises(WSServerHandshakeError):
            await client.ws_connect("/api/events")  # no Origin at all: not a browser we serve
        own = f"http://127.0.0.1:{client.server.port}"
        ws = await client.ws_connect("/api/events", headers={"Origin": own})
        first = await ws.receive_json(timeout=10)
        assert first["event"] == "subscribed"
        await ws.close()
    run(body)


def test_events_reach_the_browser_socket() -> None:
    async def body(client: TestClient, auth: Auth, _: set[str]) -> None:
        csrf = await login(client)
        ws = await client.ws_connect("/api/events", headers={"Origin": f"http://127.0.0.1:{client.server.port}"})
        assert (await ws.receive_json(timeout=10))["event"] == "subscribed"
        await client.post("/api/v1/domains/test/suspend", json={}, headers={"X-CSRF-Token": csrf})
        ev = await ws.receive_json(timeout=10)
        while ev.get("kind") == "Connect":  # a second "subscribed" may come (harmless: a reload)
            ev = await ws.receive_json(timeout=10)
        assert ev["name"] == "test" and ev["kind"] == "Domain" and ev["event"] == 3  # suspended
        await ws.close()
    run(body)


def test_login_rate_limited() -> None:
    async def body(client: TestClient, auth: Auth, _: set[str]) -> None:
        for _ in range(5):
            assert (await client.post("/login", data={"token": "guess"})).status == 401
        limited = await client.post("/login", data={"token": "right-token"}, allow_redirects=False)
        assert limited.status == 429 and int(limited.headers["Retry-After"]) > 0
        assert COOKIE not in limited.cookies
    run(body)


def test_security_headers_everywhere() -> None:
    async def body(client: TestClient, auth: Auth, _: set[str]) -> None:
        for path in ("/login", "/", "/api/v1/domains", "/static/app.js"):
            resp = await client.get(path, allow_redirects=False)
            assert resp.headers["Content-Security-Policy"] == CSP, path
            assert resp.headers["X-Content-Type-Options"] == "nosniff"
            assert resp.headers["X-Frame-Options"] == "DENY"
        script_src = re.search(r"script-src ([^;]*)", CSP).group(1)
        assert script_src == "'self'"  # no inline script, no eval
        assert "frame-ancestors 'none'" in CSP and "default-src 'none'" in CSP
    run(body)


def test_foreign_host_header_refused() -> None:
    async def body(client: TestClient, auth: Auth, allowed: set[str]) -> None:
        assert (await client.get("/login")).status == 200
        rebound = await client.get("/login", headers={"Host": "evil.example"})
        assert rebound.status == 421
    run(body, host_check=True)


def test_web_face_imports_no_daemon_or_driver() -> None:
    code = ("import sys, pyvirt.web.main, pyvirt.web.app; "
            "bad = [m for m in sys.modules if m.startswith(('pyvirt.daemon', 'pyvirt.qemu'))]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_self_signed_certificate(tmp_path: Path) -> None:
    cert, key = tls.self_signed(tmp_path / "web", "0.0.0.0")
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    text = subprocess.run(["openssl", "x509", "-in", str(cert), "-noout", "-text"], capture_output=True,
                          text=True, check=True).stdout
    assert "DNS:localhost" in text and "IP Address:127.0.0.1" in text
    assert tls.self_signed(tmp_path / "web", "0.0.0.0") == (cert, key)  # kept for the next start
    tls.context(cert, key)
    assert tls.is_loopback("127.0.0.1") and tls.is_loopback("::1") and not tls.is_loopback("0.0.0.0")


def test_non_loopback_listener_gets_tls(tmp_path: Path) -> None:
    """`pyvirt web --listen 0.0.0.0:0` serves HTTPS with the certificate it made."""
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path), PYVIRT_DEFAULT_URI=URI)
    proc = subprocess.Popen([sys.executable, "-m", "pyvirt.web.main", "--listen", "0.0.0.0:0", "-c", URI],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        proc.stdout.readline()
        url = proc.stdout.readline().strip()
        assert url.startswith("https://0.0.0.0:") and "/login?token=" in url, url
    finally:
        proc.terminate()
        proc.wait(10)




def test_pam_login_needs_root_or_the_group(monkeypatch: pytest.MonkeyPatch) -> None:
    """PAM says yes only for the right password; then root, or a member of the group, gets in."""
    import grp
    import pwd
    import types

    from pyvirt.web import auth

    fake = types.ModuleType("pam")
    fake.pam = lambda: types.SimpleNamespace(  # type: ignore[attr-defined]
        authenticate=lambda user, password, service="login": password == "right")
    monkeypatch.setitem(sys.modules, "pam", fake)
    users = {"root": (0, 0), "alice": (1000, 1000), "bob": (1001, 1001)}
    monkeypatch.setattr(pwd, "getpwnam", lambda u: types.SimpleNamespace(pw_uid=users[u][0], pw_gid=users[u][1]))
    monkeypatch.setattr(grp, "getgrnam", lambda g: types.SimpleNamespace(gr_mem=["alice"], gr_gid=4242))
    assert auth.pam_login("root", "right", "libvirt")
    assert auth.pam_login("alice", "right", "libvirt")
    assert not auth.pam_login("alice", "wrong", "libvirt")
    assert not auth.pam_login("bob", "right", "libvirt")  # not in the group
    assert not auth.pam_login("ali\0ce", "right", "libvirt")
    a = Auth(token="t", pam_group="libvirt")
    assert a.pam_group == "libvirt"
    assert a.login("1.2.3.4", user="alice", password="right") is not None
    assert a.login("1.2.3.4", user="bob", password="right") is None
    assert Auth(token="t", pam_group=None).login("1.2.3.5", user="alice", password="right") is None


def test_login_page_offers_pam_only_when_enabled() -> None:
    async def body(client: TestClient, auth: Auth, _: set[str]) -> None:
        page = await (await client.get("/login")).text()
        assert 'name="user"' not in page and 'name="token"' in page
        auth.pam_group = "libvirt"
        page = await (await client.get("/login")).text()
        assert 'name="user"' in page and "libvirt" in page
    run(body)


def test_event_subscription_survives_a_daemon_restart(monkeypatch: pytest.MonkeyPatch) -> None:
    """The stream breaks (pyvirtd restarted): browsers are told 'lost', the web process
    subscribes again on a fresh connection, says 'subscribed' (pages reload), and events flow."""
    from pyvirt.api import DomainEvent, ErrorCode, PyvirtError
    from pyvirt.web import backend as backend_mod

    monkeypatch.setattr(backend_mod, "RESUBSCRIBE_DELAY", 0.01)
    opened: list[Any] = []

    class Fake:
        def __init__(self) -> None:
            self.closed = False
            opened.append(self)

        def events(self, kinds: list[str]) -> Any:
            if len(opened) == 1:
                def broken() -> Any:
                    yield DomainEvent("a", "u1", 2)
                    raise PyvirtError("end of file", ErrorCode.NO_CONNECT)
                return broken()
            return iter([DomainEvent("b", "u2", 5)])

        def close(self) -> None:
            self.closed = True

    async def main() -> list[dict[str, Any]]:
        b = Backend("qemu:///session", Fake)
        q: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        b.listeners.add(q)
        b.start_events(asyncio.get_running_loop())
        got = []
        while len(got) < 6:
            got.append(await asyncio.wait_for(q.get(), 10))
        b.close()
        return got

    got = asyncio.run(main())
    seen = [(e.get("event"), e.get("name")) for e in got]
    assert seen[:6] == [("subscribed", None), (2, "a"), ("lost", None), ("subscribed", None), (5, "b"),
                        ("lost", None)]
    assert opened[0].closed  # the broken connection is not kept


def test_json_body_read_whole_when_it_arrives_in_pieces() -> None:
    """A JSON body that reaches the server in several TCP reads is read whole (StreamReader.read(n)
    returns what is buffered, not n bytes): a large domain XML must not fail as malformed JSON."""
    async def body(client: TestClient, auth: Auth, _: set[str]) -> None:
        csrf = await login(client)
        desc = "d" * 300_000
        raw = ('{"xml": "<domain type=\'test\'><name>pieces</name><description>' + desc +
               "</description><memory>1024</memory><os><type>hvm</type></os></domain>\"}").encode()

        async def pieces():  # type: ignore[no-untyped-def]
            for i in range(0, len(raw), 65536):
                yield raw[i:i + 65536]
                await asyncio.sleep(0.01)
        resp = await client.post("/api/v1/domains", data=pieces(),
                                 headers={"X-CSRF-Token": csrf, "Content-Type": "application/json"})
        assert resp.status == 200, await resp.text()
        over = b'{"xml": "' + b"x" * (5 << 20) + b'"}'

        async def big():  # type: ignore[no-untyped-def]
            for i in range(0, len(over), 1 << 20):
                yield over[i:i + (1 << 20)]
        refused = await client.post("/api/v1/domains", data=big(),
                                    headers={"X-CSRF-Token": csrf, "Content-Type": "application/json"})
        assert refused.status == 400, await refused.text()
        assert "request body over" in (await refused.json())["error"]["message"]
    run(body)


def test_open_consoles_leave_the_api_answering(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each console tab's guest-to-browser pump blocks for the socket's life: in the loop's shared
    executor (min(32, CPUs + 4) workers, 6 on a 2-CPU host) that many open consoles left no
    worker for API calls and the whole UI hung.  Here the executor has 2 workers and 4 consoles
    are open; the API still answers, and a console whose guest side ends closes its socket."""
    import concurrent.futures
    import threading
    import time

    from pyvirt.web import backend as web_backend

    ended = threading.Event()

    class Console:
        def __init__(self, dom: str) -> None:
            self.dom, self.closed = dom, False

        def read(self, size: int, timeout: float | None = None) -> bytes:
            if self.dom == "gone" and ended.is_set() or self.closed:
                return b""
            time.sleep(timeout or 0)
            raise TimeoutError("no console output")

        def write(self, data: bytes) -> None:
            pass

        def close(self) -> None:
            self.closed = True

    class Conn:
        def open_console(self, dom: str, **kwargs: Any) -> Console:
            return Console(dom)

    monkeypatch.setattr(web_backend.Backend, "dedicated", lambda self: Conn())

    async def body(client: TestClient, auth: Auth, _: set[str]) -> None:
        asyncio.get_running_loop().set_default_executor(concurrent.futures.ThreadPoolExecutor(2))
        await login(client)
        origin = {"Origin": f"http://127.0.0.1:{client.server.port}"}
        tabs = [await client.ws_connect(f"/api/v1/domains/{name}/console", headers=origin)
                for name in ("a", "b", "c", "gone")]
        listing = await asyncio.wait_for(client.get("/api/v1/domains"), 10)
        assert listing.status == 200
        ended.set()  # the guest side of 'gone' ends: its tab is closed, the others stay open
        msg = await tabs[3].receive(timeout=10)
        assert msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSED)
        assert not tabs[0].closed
        for tab in tabs:
            await tab.close()
    run(body)
