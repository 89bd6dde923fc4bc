"""Property-based fuzzing of pyvirtd's HTTP API bodies (issue 10 campaign).

Every route that takes a body gets JSON the client could send — wrong types, missing and extra
keys, odd values — against a daemon holding a domain, a pool and a volume.  Properties: never a
5xx, always a JSON answer, and a refused request changes nothing on disk.  The routes are read
from the application's router, so the test follows the API as it grows.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tests.fakeqemu import make_emulator  # noqa: E402
from tests.security.fakedriver import domain_xml, new_driver, shut_down  # noqa: E402
from tests.security.test_fuzz import COUNTS, _report_counts, _value  # noqa: E402, F401


def _body_keys() -> list[str]:
    """Every property name any request body declares (the API's own OpenAPI document), plus strangers."""
    from pyvirt.daemon.openapi import document

    keys: set[str] = {"zzz", "flags", "type"}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("properties"), dict):
                keys.update(node["properties"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for ops in document()["paths"].values():
        for op in ops.values():
            walk(op.get("requestBody"))
    return sorted(keys)


KEYS = _body_keys()
PARAMS = {"dom": ["fz", "fz", "nope", "1"], "pool": ["default", "default", "nope"],
          "name": ["v1.img", "v1.img", "fz", "nope"], "src": ["v1.img", "nope"]}
SKIP = re.compile(r"/events|/console|/data$|/upload|/download")

_json = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=False),
                               _value),
                     lambda inner: st.one_of(st.lists(inner, max_size=3),
                                             st.dictionaries(st.sampled_from(KEYS), inner, max_size=3)),
                     max_leaves=8)
_body = st.one_of(st.dictionaries(st.sampled_from(KEYS), _json, max_size=5), _json)


class Daemon:
    """pyvirtd's app, in-process, on its own loop (the test drives it example by example)."""

    def __init__(self, root: Path) -> None:
        from aiohttp.test_utils import TestClient, TestServer

        from pyvirt.daemon.hostinfo import HostInfo
        from pyvirt.daemon.http_api import make_app
        from pyvirt.storage import StorageDriver

        self.root = root
        self.loop = asyncio.new_event_loop()
        self.driver = new_driver(root)
        self.driver.paths.ensure()  # as pyvirtd does first
        storage = StorageDriver(self.driver.paths.config, self.driver.paths.runtime, self.driver.paths.images,
                                default_pool=True)
        self.driver.volume_resolver = storage.resolve_disk_volume
        self.emulator = make_emulator(root)
        self.loop.run_until_complete(self.driver.load())
        app = make_app(self.driver, HostInfo("qemu:///session", self.driver), storage)
        self.client = TestClient(TestServer(app), loop=self.loop)
        self.loop.run_until_complete(self.client.start_server())
        self.storage = storage
        self.routes = sorted({(r.method, r.resource.canonical) for r in app.router.routes()
                              if r.method in ("POST", "PUT", "DELETE") and not SKIP.search(r.resource.canonical)})

    def seed(self) -> None:
        """The objects every example starts from (an earlier example may have renamed or removed them)."""
        with contextlib.suppress(Exception):
            self.storage.ensure_default_pool()
        with contextlib.suppress(Exception):
            self.storage.start_pool("default")
        if not any(p.name == "default" and p.active for p in self.storage.list_pools()):
            return
        with contextlib.suppress(Exception):
            self.loop.run_until_complete(self.driver.define_xml(domain_xml("fz", self.emulator)))
        if shutil.which("qemu-img") and not any(v.name == "v1.img" for v in self.storage.list_volumes("default")):
            self.storage.create_volume_xml("default", "<volume><name>v1.img</name><capacity>4096</capacity>"
                                                      "<target><format type='raw'/></target></volume>")

    def snapshot(self) -> dict[str, str]:
        out = {}
        for base in (self.driver.paths.config, self.driver.paths.images):
            for path in sorted(base.rglob("*")):
                if path.is_file() and not path.is_symlink():
                    out[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
                elif path.is_symlink():
                    out[str(path)] = "-> " + os.readlink(path)
        return out

    def request(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        async def go() -> tuple[int, Any]:
            resp = await self.client.request(method, path, json=body)
            try:
                return resp.status, await resp.json(content_type=None)
            except ValueError:
                return resp.status, await resp.text()

        return self.loop.run_until_complete(asyncio.wait_for(go(), 30))

    def close(self) -> None:
        self.loop.run_until_complete(self.client.close())
        self.loop.run_until_complete(shut_down(self.driver))
        self.loop.close()


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    d = Daemon(tmp_path_factory.mktemp("api"))
    try:
        yield d
    finally:
        d.close()


@st.composite
def api_request(draw: st.DrawFn, routes: list[tuple[str, str]]) -> tuple[str, str, Any]:
    method, template = draw(st.sampled_from(routes))
    path = re.sub(r"\{(\w+)\}", lambda m: draw(st.sampled_from(PARAMS.get(m.group(1), ["fz", "nope"]))), template)
    return method, path, draw(_body)


@settings(max_examples=400, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_api_bodies_never_500_and_a_refusal_changes_nothing(daemon: Daemon, data: st.DataObject) -> None:
    daemon.seed()
    method, path, body = data.draw(api_request(daemon.routes))
    COUNTS["HTTP API requests (random JSON bodies)"] += 1
    before = daemon.snapshot()
    status, answer = daemon.request(method, path, body)
    assert status < 500 or status == 501, (method, path, body, answer)  # 501: "not supported", by design
    # a path no route matches (unknown action) is answered by the HTTP layer; its JSON-ness is the
    # transport's business (issue 10 item left to the API spine), not a crash
    assert status == 404 or isinstance(answer, dict) and ("error" in answer or "result" in answer), (method, path, answer)
    if status >= 400:
        assert daemon.snapshot() == before, (method, path, body, answer)


def test_deeply_nested_body_is_400_not_500(daemon: Daemon) -> None:
    daemon.seed()

    async def post() -> tuple[int, Any]:
        resp = await daemon.client.post("/v1/domains", data="[" * 200_000 + "]" * 200_000,
                                        headers={"Content-Type": "application/json"})
        return resp.status, await resp.json(content_type=None)

    status, answer = daemon.loop.run_until_complete(post())
    assert status == 400 and "nests too deeply" in answer["error"]["message"]


def test_oversized_body_is_answered_in_json(daemon: Daemon) -> None:
    """A 413 reaches the client as an error it can show (the CLI said "non-JSON response")."""
    async def post() -> tuple[int, Any]:
        resp = await daemon.client.post("/v1/domains", data=b" " * (17 << 20),
                                        headers={"Content-Type": "application/json"})
        return resp.status, await resp.json(content_type=None)

    status, answer = daemon.loop.run_until_complete(post())
    assert status == 413 and "too large" in answer["error"]["message"]
