"""Client sessions: a guest started with --autodestroy ends with the client that started it, whether
that client exits or is killed (libvirt's per-connection autodestroy)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pyvirt.api import DomainState, PyvirtError
from pyvirt.client.remote import RemoteConnection
from pyvirt.testguest import TestGuest
from tests.daemon_harness import URI, DaemonHarness, guest_xml

pytestmark = pytest.mark.timeout(300)


def _pyvirt(daemon: DaemonHarness, *args: str) -> list[str]:
    return [sys.executable, "-m", "pyvirt.cli.main", "-c", URI, *args]


def _wait_gone(conn: RemoteConnection, name: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while name in [d.name for d in conn.list_domains()]:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{name} still there: {conn.get_info(name)}")
        time.sleep(0.1)


def test_autodestroy_guest_ends_when_the_cli_exits(daemon: DaemonHarness, test_guest: TestGuest,
                                                   tmp_path: Path) -> None:
    """virsh's own behaviour: `create --autodestroy` from a one-shot command is gone when it returns."""
    xml = tmp_path / "ad1.xml"
    xml.write_text(guest_xml(test_guest, "ad1"))
    out = subprocess.run(_pyvirt(daemon, "create", "--autodestroy", str(xml)), capture_output=True, text=True,
                         env=daemon.env(), timeout=120)
    assert out.returncode == 0, out.stderr
    assert "Domain 'ad1' created" in out.stdout
    _wait_gone(daemon.connect(), "ad1")


def test_autodestroy_guest_ends_when_the_cli_is_killed(daemon: DaemonHarness, test_guest: TestGuest,
                                                       tmp_path: Path) -> None:
    conn = daemon.connect()
    xml = tmp_path / "ad2.xml"
    xml.write_text(guest_xml(test_guest, "ad2"))
    proc = subprocess.Popen(_pyvirt(daemon, f"create --autodestroy {xml}; event --all --loop --timeout 240"),
                            env=daemon.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if conn.get_info("ad2").state == DomainState.RUNNING:
                    break
            except PyvirtError:
                pass
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "ad2 never ran"
            time.sleep(0.1)
        time.sleep(1.0)
        assert conn.get_info("ad2").state == DomainState.RUNNING  # its client still lives
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        _wait_gone(conn, "ad2")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_autodestroy_needs_a_session(daemon: DaemonHarness, test_guest: TestGuest) -> None:
    """A raw call without a session cannot ask for autodestroy: nobody would own the guest."""
    from pyvirt.client import wire

    status, body = wire.request(str(daemon.connect().sock_path), "POST", "/v1/domains-create",
                                {"xml": guest_xml(test_guest, "ad3"), "autodestroy": True})
    assert status == 400 and body["error"]["code"] == 74 and "session" in body["error"]["message"]
    status, body = wire.request(str(daemon.connect().sock_path), "POST", "/v1/domains-create",
                                {"xml": guest_xml(test_guest, "ad3")}, )
    assert status == 200
    assert "ad3" in [d.name for d in daemon.connect().list_domains()]


def test_autodestroy_guest_survives_a_daemon_stop_while_its_client_lives(daemon: DaemonHarness,
                                                                         tmp_path: Path) -> None:
    """pyvirtd stopping is not the client going away: its guests keep running, autodestroy ones
    too (libvirt runs no close callbacks at shutdown).  The server's shutdown closed the session
    sockets and so ran their cleanups: the guest was destroyed while its client still lived."""
    from pyvirt.testguest import rom_domain_xml, rom_image

    rom = tmp_path / "rom.bin"
    rom.write_bytes(rom_image())
    client = daemon.connect()
    client.create_xml(rom_domain_xml("ad4", rom), autodestroy=True)
    pids = daemon.qemu_pids()
    assert len(pids) == 1
    started = time.monotonic()
    daemon.stop()
    assert time.monotonic() - started < 10  # the session socket does not hold the shutdown up
    assert os.path.exists(f"/proc/{pids[0]}"), "the autodestroy guest was destroyed by pyvirtd stopping"
    daemon.start()
    assert daemon.connect().get_info("ad4").state == DomainState.RUNNING
    client.close()


def test_read_only_clients_get_what_libvirt_gives_read_only_connections(daemon: DaemonHarness) -> None:
    """libvirt refuses read-only connections its screenshots, the guest agent's answers (time,
    hostname, file systems, addresses from the agent), launch security data and domain
    capabilities (virCheckReadOnlyGoto), naming the function; pyvirt declared them read-only,
    so a read-only client (virsh -r, a tls_readonly DN) got them."""
    from pyvirt.client import wire
    from pyvirt.operations import READONLY_HEADER

    http = wire.HTTPConnection(str(daemon.connect().sock_path))
    ro = {READONLY_HEADER: "1"}
    for target, function in (("/v1/domains/nosuch/screenshot", "virDomainScreenshot"),
                             ("/v1/domains/nosuch/time", "virDomainGetTime"),
                             ("/v1/domains/nosuch/hostname", "virDomainGetHostname"),
                             ("/v1/domains/nosuch/agent/fsinfo", "virDomainGetFSInfo"),
                             ("/v1/domains/nosuch/ifaddr?source=agent", "virDomainInterfaceAddresses"),
                             ("/v1/host/domcapabilities", "virConnectGetDomainCapabilities")):
        status, body = http.request("GET", target, headers=ro)
        assert status == 403 and body["error"]["message"] == (
            f"operation forbidden: read only access prevents {function}"), (target, body)
    status, body = http.request("GET", "/v1/domains/nosuch/ifaddr?source=lease", headers=ro)
    assert body["error"]["code"] == 42  # read-only may ask the DHCP leases: the domain is just not there
    status, _ = http.request("GET", "/v1/host/domcapabilities")
    assert status == 200
    status, body = http.request("GET", "/v1/domains/nosuch/xml?security_info=1", headers=ro)
    assert status == 403 and body["error"]["message"] == "operation forbidden: virDomainGetXMLDesc with secure flag"
