"""Session 14's review of the web UI's login (failed before its fix): a PAM check, which sleeps
seconds on a wrong password, ran in the event loop and stalled every page, console and event
stream of the process meanwhile; guesses sent together must still meet the rate limit."""

from __future__ import annotations

import asyncio
import sys
import threading
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

    release = threading.Event()

    inside: list[str] = []  # PAM calls under way

    def slow_pam(user: str, password: str, group: str, service: str = "login") -> bool:
        with lock:
            calls.append(user)
            inside.append(user)
        release.wait(5)  # pam_faildelay: PAM answers a wrong password seconds later
        with lock:
            inside.remove(user)
        return False

    monkeypatch.setitem(sys.modules, "pam", types.ModuleType("pam"))
    monkeypatch.setattr(auth_mod, "pam_login", slow_pam)

    async def main() -> None:
        auth = Auth(token="right-token", pam_group="libvirt")
        app = make_app(Backend(URI, lambda: connect(URI)), auth, Guard(auth, None, tls=False))
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            guesses = [asyncio.ensure_future(client.post("/login", data={"user": "alice", "password": f"p{i}"}))
                       for i in range(PER_CLIENT + 3)]
            while not calls:  # the first guess is in PAM now
                await asyncio.sleep(0.01)
            page = await client.get("/login")
            answered_while_pam_ran = bool(inside)  # in the loop, PAM would have finished first
            release.set()
            assert page.status == 200 and answered_while_pam_ran
            statuses = sorted([(await g).status for g in guesses])
            assert statuses.count(401) == PER_CLIENT and statuses.count(429) == 3
            assert len(calls) == PER_CLIENT  # the guesses over the limit never reached PAM
    asyncio.run(main())
