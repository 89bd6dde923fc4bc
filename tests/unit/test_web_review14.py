"""Session 14's review of the web UI's login (failed before its fix): a PAM check, which sleeps
seconds on a wrong password, ran in the event loop and stalled every page, console and event
stream of the process meanwhile; guesses sent together must still meet the rate limit."""

from __future__ import annotations

import asyncio
import sys
import threading
import time
import types

import pytest
from aiohttp.test_utils import TestClient, TestServer

from pyvirt.client import connect
from pyvirt.web import auth as auth_mod
from pyvirt.web.app import make_app
from pyvirt.web.auth import PER_CLIENT, Auth
from pyvirt.web.backend import Backend
from pyvirt.web.guard import Guard

URI = "test:///default"


def test_pam_login_does_not_stall_the_server(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    lock = threading.Lock()

    def slow_pam(user: str, password: str, group: str, service: str = "login") -> bool:
        with lock:
            calls.append(user)
        time.sleep(1.5)  # pam_faildelay
        return False

    monkeypatch.setitem(sys.modules, "pam", types.ModuleType("pam"))
    monkeypatch.setattr(auth_mod, "pam_login", slow_pam)

    async def main() -> None:
        auth = Auth(token="right-token", pam_group="libvirt")
        app = make_app(Backend(URI, lambda: connect(URI)), auth, Guard(auth, None, tls=False))
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            t0 = time.monotonic()
            guesses = [asyncio.ensure_future(client.post("/login", data={"user": "alice", "password": f"p{i}"}))
                       for i in range(PER_CLIENT + 3)]
            await asyncio.sleep(0.2)  # the first guesses are in PAM now
            page = await client.get("/login")  # answered while PAM still runs (1.5 s a guess)
            assert page.status == 200 and time.monotonic() - t0 < 1.4
            statuses = sorted([(await g).status for g in guesses])
            assert statuses.count(401) == PER_CLIENT and statuses.count(429) == 3
            assert len(calls) == PER_CLIENT  # the guesses over the limit never reached PAM
    asyncio.run(main())
