"""pyvirtd imports aiohttp without the system CA store (daemon/main.py: _import_http_stack): the
client contexts aiohttp builds at import trust nothing (they are never used: verification would
fail closed), and the environment is left exactly as it was."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from pyvirt.daemon.main import _import_http_stack

PROBE = """
import ssl
from pyvirt.daemon.main import _import_http_stack
_import_http_stack()
from aiohttp import connector
ctx = getattr(connector, "_SSL_CONTEXT_VERIFIED", None)
print(-1 if ctx is None else ctx.cert_store_stats()["x509_ca"], ssl.create_default_context().cert_store_stats()["x509_ca"])
"""


def test_aiohttp_client_contexts_hold_no_ca_and_later_contexts_do() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True,
                         env={k: v for k, v in os.environ.items() if not k.startswith("SSL_CERT_")}).stdout.split()
    aiohttp_cas, later_cas = int(out[0]), int(out[1])
    if aiohttp_cas == -1:
        pytest.skip("this aiohttp builds no client context at import")
    assert aiohttp_cas == 0
    if later_cas == 0:
        pytest.skip("this host has no system CA store")
    assert later_cas > 0  # put back: contexts made afterwards load the system's CAs again


@pytest.mark.parametrize("before", [{}, {"SSL_CERT_FILE": "/some/ca.pem", "SSL_CERT_DIR": "/some/dir"}])
def test_environment_is_restored(monkeypatch: pytest.MonkeyPatch, before: dict[str, str]) -> None:
    for var in ("SSL_CERT_FILE", "SSL_CERT_DIR"):
        monkeypatch.delenv(var, raising=False)
    for var, value in before.items():
        monkeypatch.setenv(var, value)
    _import_http_stack()
    assert {k: v for k, v in os.environ.items() if k in ("SSL_CERT_FILE", "SSL_CERT_DIR")} == before
