"""qemu+tls:// against pyvirtd's optional TLS listener: certificates the test makes (tests/tlscerts.py),
an allow-list of DNs, a read-only DN that can change nothing (every mutating operation of the
table is tried), bounded reads, and configurations that would open TCP without TLS refused."""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyvirt.api import ErrorCode, PyvirtError
from pyvirt.client import connect, wire
from pyvirt.client.tls import TLSTransport
from pyvirt.client.transport import ParsedURI
from pyvirt.operations import OPERATIONS, READONLY_HEADER
from pyvirt.testguest import TestGuest
from tests.daemon_harness import DaemonHarness, guest_xml
from tests.sshd import free_port
from tests.tlscerts import TestCA

pytestmark = pytest.mark.timeout(300)

ADMIN = "/C=GB/O=pyvirt test/CN=admin"
VIEWER = "/C=GB/O=pyvirt test/CN=viewer"


class Site:
    def __init__(self, daemon: DaemonHarness, port: int, ca: TestCA, certs: Path) -> None:
        self.daemon, self.port, self.ca, self.certs = daemon, port, ca, certs

    def uri(self, who: str, **params: str) -> str:
        query = "&".join(f"{k}={v}" for k, v in {"pkipath": str(self.certs / who), **params}.items())
        return f"qemu+tls://127.0.0.1:{self.port}/session?{query}"

    def http(self, who: str) -> wire.HTTPConnection:
        return wire.HTTPConnection(TLSTransport(ParsedURI(self.uri(who))), 30)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, qemu_binary: str, test_guest: TestGuest) -> Iterator[Site]:
    if not __import__("shutil").which("openssl"):
        pytest.skip("openssl missing")
    certs = tmp_path_factory.mktemp("certs")
    ca = TestCA(certs / "ca")
    daemon = DaemonHarness(tmp_path_factory.mktemp("tlsd"))
    config = daemon.root / "config"
    ca.server_pki(config)
    ca.client_pkipath(certs / "admin", ADMIN)
    ca.client_pkipath(certs / "viewer", VIEWER)
    ca.client_pkipath(certs / "intruder", "/C=GB/O=elsewhere/CN=intruder")
    other = TestCA(certs / "other", "some other CA")  # a client certificate our CA never signed
    other.client_pkipath(certs / "untrusted", ADMIN, ca=ca.cert)
    port = free_port()
    (config / "pyvirtd.conf").write_text(
        "# written by test_remote_tls\nlisten_tls = 1\nlisten_addr = \"127.0.0.1\"\n"
        f"tls_port = \"{port}\"\n"
        'tls_allowed_dn_list = ["C=GB,O=pyvirt test,CN=admin",\n    "C=GB,O=pyvirt test,CN=viewer"]\n'
        'tls_readonly_dn_list = ["*CN=viewer"]\n')
    daemon.start()
    try:
        conn = daemon.connect()
        conn.define_xml(guest_xml(test_guest, "keep", memory_mib=64))
        yield Site(daemon, port, ca, certs)
    finally:
        daemon.stop()
        daemon.kill_all_guests()


def test_an_allowed_client_lists_and_defines(site: Site, test_guest: TestGuest) -> None:
    conn = connect(site.uri("admin"))
    try:
        assert "keep" in [d.name for d in conn.list_domains()]
        conn.define_xml(guest_xml(test_guest, "via-tls", memory_mib=64))
        assert "via-tls" in [d.name for d in site.daemon.connect().list_domains()]
        conn.undefine("via-tls")
    finally:
        conn.close()
    out = subprocess.run([sys.executable, "-m", "pyvirt.cli.main", "-c", site.uri("admin"), "list", "--all"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "keep" in out.stdout, out.stderr


def test_a_dn_not_on_the_list_is_refused(site: Site) -> None:
    conn = connect(site.uri("intruder"))
    with pytest.raises(PyvirtError) as err:
        conn.list_domains()
    assert err.value.code == ErrorCode.AUTH_FAILED
    assert "CN=intruder" in err.value.message and "not on the list" in err.value.message


def test_a_certificate_from_another_ca_is_refused(site: Site) -> None:
    conn = connect(site.uri("untrusted"))
    with pytest.raises(PyvirtError) as err:
        conn.list_domains()
    assert err.value.code in (ErrorCode.NO_CONNECT, ErrorCode.AUTH_FAILED), err.value.message
    assert "certificate" in err.value.message


def test_a_client_without_a_certificate_is_refused(site: Site) -> None:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(site.ca.cert)  # it trusts the server; it has nothing to show
    import socket

    raw = socket.create_connection(("127.0.0.1", site.port), timeout=10)
    try:
        got = b""
        with pytest.raises((ssl.SSLError, ConnectionResetError, BrokenPipeError)):  # noqa: PT012
            sock = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
            sock.sendall(b"GET /v1/domains HTTP/1.1\r\nHost: x\r\n\r\n")
            got = sock.recv(4096)
            if not got:
                raise ConnectionResetError("closed")
        assert b"200" not in got
    finally:
        raw.close()
    # without a certificate the client itself says what is missing
    bare = site.certs / "bare"
    bare.mkdir(exist_ok=True)
    (bare / "cacert.pem").write_bytes(site.ca.cert.read_bytes())
    with pytest.raises(PyvirtError, match="clientcert.pem"):
        connect(site.uri("bare")).list_domains()


def _state(site: Site) -> tuple[object, ...]:
    conn = site.daemon.connect()
    return (sorted((d.name, d.state) for d in conn.list_domains()), conn.get_xml("keep", inactive=True),
            sorted(p.name for p in conn.list_pools()), sorted(os.listdir(site.daemon.root / "config" / "qemu")))


def test_a_read_only_client_can_change_nothing(site: Site) -> None:
    """Every operation the table does not declare read-only, with arguments naming a real guest:
    each answered 403 OPERATION_DENIED before its arguments are even read; state unchanged."""
    before = _state(site)
    http = site.http("viewer")
    mutating = [op for op in OPERATIONS.values() if not op.readonly]
    assert len(mutating) > 50
    try:
        for op in mutating:
            target = op.path
            for name in op.path_params:
                target = target.replace("{" + name + "}", "keep")
            status, body = http.request(op.method, target, None if op.in_query else {})
            assert status == 403, (op.name, status, body)
            assert body["error"]["code"] == ErrorCode.OPERATION_DENIED, (op.name, body)
        # reads work, secrets do not
        status, body = http.request("GET", "/v1/domains")
        assert status == 200 and "keep" in str(body)
        status, body = http.request("GET", "/v1/domains/keep/xml?security_info=1")
        assert status == 403 and body["error"]["code"] == ErrorCode.OPERATION_DENIED
    finally:
        http.close()
    assert _state(site) == before
    conn = connect(site.uri("viewer"))  # the client library reports the same refusal
    with pytest.raises(PyvirtError) as err:
        conn.undefine("keep")
    assert err.value.code == ErrorCode.OPERATION_DENIED
    assert _state(site) == before


def test_a_read_only_request_on_the_unix_socket_is_enforced_by_the_daemon(site: Site) -> None:
    http = wire.HTTPConnection(str(site.daemon.root / "run" / "pyvirtd.sock"))
    try:
        status, body = http.request("DELETE", "/v1/domains/keep", None, {READONLY_HEADER: "1"})
        assert status == 403 and body["error"]["code"] == ErrorCode.OPERATION_DENIED
    finally:
        http.close()
    assert "keep" in [d.name for d in site.daemon.connect().list_domains()]


def test_reads_are_bounded_over_tls(site: Site) -> None:
    http = site.http("admin")
    try:
        status, body = http.request("POST", "/v1/domains", {"xml": "x" * (17 << 20)})
        assert status == 413 and "too large" in body["error"]["message"]
    finally:
        http.close()
    http = site.http("admin")
    try:
        with pytest.raises((wire.WireError, OSError)):
            status, body = http.request("GET", "/v1/domains", None, {"X-Big": "y" * (200 << 10)})
            assert status in (400, 431)
            raise wire.WireError("refused")
    finally:
        http.close()
    conn = connect(site.uri("admin"))
    assert "keep" in [d.name for d in conn.list_domains()]  # still serving


def _daemon_refuses(tmp_path: Path, conf: str, *, pki: TestCA | None = None) -> str:
    root = tmp_path / "refused"
    (root / "config").mkdir(parents=True)
    (root / "config" / "pyvirtd.conf").write_text(conf)
    if pki is not None:
        pki.server_pki(root / "config")
    out = subprocess.run([sys.executable, "-m", "pyvirt.daemon.main", "--uri", "qemu:///session",
                          "--state-root", str(root)], capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    assert not (root / "run" / "pyvirtd.sock").exists()
    return out.stderr


def test_no_tcp_listener_without_tls_and_client_certificates(tmp_path: Path, site: Site) -> None:
    assert "listen_tcp is refused" in _daemon_refuses(tmp_path / "a", "listen_tcp = 1\n")
    assert "tls_no_verify_certificate is refused" in _daemon_refuses(
        tmp_path / "b", "listen_tls = 1\ntls_no_verify_certificate = 1\n", pki=site.ca)
    assert "missing:" in _daemon_refuses(tmp_path / "c", "listen_tls = 1\n")
    assert "unsupported setting 'auth_tls'" in _daemon_refuses(tmp_path / "d", 'auth_tls = "sasl"\n')
