"""One web process for several connections (pyvirt.web.conns): each has its routes under
/api/c/{id}, the event socket tags every event with its connection, and a PAM login reaches the
system connections only.  Against the in-process test driver: each test:/// Backend has its own
state, so two of them stand for two pyvirtds."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable

from aiohttp.test_utils import TestClient, TestServer

from pyvirt.client import connect
from pyvirt.web.app import make_app
from pyvirt.web.auth import Auth
from pyvirt.web.backend import Backend
from pyvirt.web.conns import Backends, connection_ids, is_system
from pyvirt.web.guard import COOKIE, Guard

TEST = "test:///default"
XML = "<domain type='test'><name>{}</name><memory unit='MiB'>64</memory><os><type>hvm</type></os></domain>"


def run(body: Callable[[TestClient, Auth], Awaitable[None]], uris: list[str], labels: list[str] | None = None) -> None:
    async def main() -> None:
        auth = Auth(token="tok")
        # every Backend speaks to a test driver of its own (one connection: one state), whatever URI it shows
        backends = Backends([Backend(u, functools.cache(lambda: connect(TEST)), id=cid, size=1, label=label)
                             for u, cid, label in zip(uris, connection_ids(uris), labels or [""] * len(uris),
                                                      strict=True)])
        async with TestClient(TestServer(make_app(backends, auth, Guard(auth, None, tls=False)),
                                         host="127.0.0.1")) as client:
            await body(client, auth)
    asyncio.run(main())


def test_ids_are_short_unique_and_readable() -> None:
    assert connection_ids(["qemu:///system", "qemu:///session", "qemu+ssh://h.example/system",
                           "qemu:///system"]) == ["system", "session", "h-example-system", "system-2"]
    assert connection_ids(["test:///default"]) == ["default"]
    assert is_system("qemu:///system") and is_system("qemu+ssh://h/system") and not is_system("qemu:///session")


def test_each_connection_has_its_routes_and_guests() -> None:
    async def body(client: TestClient, auth: Auth) -> None:
        await client.get("/login", params={"token": "tok"}, allow_redirects=False)
        me = await (await client.get("/api/session")).json()
        assert [c["id"] for c in me["connections"]] == ["system", "session"]
        assert [c["uri"] for c in me["connections"]] == ["qemu:///system", "qemu:///session"]
        # the config file's label, else the URI: what the page shows
        assert [c["label"] for c in me["connections"]] == ["This host", "qemu:///session"]
        csrf = me["csrf"]
        made = await client.post("/api/c/session/v1/domains", json={"xml": XML.format("only-here")},
                                 headers={"X-CSRF-Token": csrf})
        assert made.status == 200, await made.text()

        async def names(prefix: str) -> list[str]:
            table = (await (await client.get(prefix + "/v1/domains")).json())["result"]
            i = table["fields"].index("name")
            return sorted(row[i] for row in table["rows"])
        assert "only-here" in await names("/api/c/session")
        assert "only-here" not in await names("/api/c/system")
        assert await names("/api") == await names("/api/c/system")  # no {conn}: the first one
        missing = await client.get("/api/c/nosuch/v1/domains")
        assert missing.status == 404 and "nosuch" in (await missing.json())["error"]["message"]
    run(body, ["qemu:///system", "qemu:///session"], ["This host", ""])


def test_events_say_which_connection() -> None:
    async def body(client: TestClient, auth: Auth) -> None:
        await client.get("/login", params={"token": "tok"}, allow_redirects=False)
        csrf = (await (await client.get("/api/session")).json())["csrf"]
        ws = await client.ws_connect("/api/events", headers={"Origin": f"http://127.0.0.1:{client.server.port}"})
        subscribed: set[str] = set()
        while subscribed != {"system", "session"}:
            ev = await ws.receive_json(timeout=10)
            if ev["event"] == "subscribed":
                subscribed.add(ev["conn"])
        await client.post("/api/c/session/v1/domains/test/suspend", json={}, headers={"X-CSRF-Token": csrf})
        ev = await ws.receive_json(timeout=10)
        while ev.get("kind") == "Connect":
            ev = await ws.receive_json(timeout=10)
        assert (ev["kind"], ev["name"], ev["conn"]) == ("Domain", "test", "session")
        await ws.close()
    run(body, ["qemu:///system", "qemu:///session"])


def test_a_pam_login_reaches_system_connections_only() -> None:
    async def body(client: TestClient, auth: Auth) -> None:
        client.session.cookie_jar.update_cookies({COOKIE: auth.new_session("alice")})  # as PAM would
        me = await (await client.get("/api/session")).json()
        assert [c["id"] for c in me["connections"]] == ["system"]
        assert (await client.get("/api/c/system/v1/domains")).status == 200
        refused = await client.get("/api/c/session/v1/domains")
        assert refused.status == 404  # the same answer as for no such connection
        assert (await client.get("/api/c/session/v1/domains/test/console")).status == 404
        ws = await client.ws_connect("/api/events", headers={"Origin": f"http://127.0.0.1:{client.server.port}"})
        ev = await ws.receive_json(timeout=10)
        assert ev["conn"] == "system"
        await ws.close()
    run(body, ["qemu:///session", "qemu:///system"])
