"""pyvirtd imports aiohttp's server half without the client half (daemon/httpstack.py): the
package's ``__init__`` (client, connector, cookie jar, two TLS client contexts reading the CA
bundle) runs only when something asks the package for a name that is not a submodule, and then
it answers with the real objects."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

CLIENT_HALF = {"aiohttp.client", "aiohttp.connector", "aiohttp.cookiejar", "aiohttp.client_reqrep",
               "aiohttp.formdata", "aiohttp.tracing"}


def _probe(code: str) -> dict:
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    return json.loads(out.splitlines()[-1])


def test_server_half_only_then_the_whole_package_on_demand() -> None:
    got = _probe("""
        import json, sys
        from pyvirt.daemon.httpstack import import_server
        import_server()
        from aiohttp import web
        app = web.Application()  # the server half works as imported
        before = sorted(m for m in sys.modules if m.startswith("aiohttp"))
        import aiohttp
        version = aiohttp.__version__
        from aiohttp import ClientSession, WSMsgType  # names of the package itself: __init__ runs now
        from importlib.metadata import version as dist_version
        import os, frozenlist
        pure = ("frozenlist._frozenlist" not in sys.modules and frozenlist.FrozenList is frozenlist.PyFrozenList
                and "FROZENLIST_NO_EXTENSIONS" not in os.environ)
        print(json.dumps({"pure": pure, "before": before, "after": sorted(sys.modules), "version": version,
                          "dist": dist_version("aiohttp"), "session": ClientSession.__module__,
                          "same_web": aiohttp.web is web, "ws": WSMsgType.TEXT.name}))
    """)
    assert got["pure"]  # frozenlist's Python class, the switch not left in the environment
    assert "aiohttp.web" in got["before"]
    assert not CLIENT_HALF & set(got["before"])
    assert set(got["after"]) >= CLIENT_HALF
    assert got["version"] == got["dist"]  # the Server header aiohttp.http builds from it
    assert got["session"] == "aiohttp.client" and got["same_web"] and got["ws"] == "TEXT"


def test_aiohttp_already_imported_is_left_as_it_is() -> None:
    got = _probe("""
        import json, sys
        import aiohttp
        from pyvirt.daemon.httpstack import import_server
        import_server()
        print(json.dumps({"same": sys.modules["aiohttp"] is aiohttp, "web": "aiohttp.web" in sys.modules}))
    """)
    assert got == {"same": True, "web": True}
