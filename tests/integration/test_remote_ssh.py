"""qemu+ssh:// against a second pyvirtd through a private sshd on loopback (tests/sshd.py).

The client runs the system ``ssh`` with the URI's keyfile; on the "remote" side sshd runs
``pyvirt-ssh-helper --socket PATH qemu:///session``, which joins ssh's stdio to the second daemon's
socket.  Calls, events, the serial console and the client session (autodestroy) all ride it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyvirt.api import DomainState, EventType, PyvirtError
from pyvirt.client import connect
from pyvirt.testguest import READY_MARKER, TestGuest
from tests.daemon_harness import DaemonHarness, guest_xml, wait_console, wait_state
from tests.sshd import SSHServer

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SSHServer]:
    why = SSHServer.available()
    if why:
        pytest.skip(why)
    server = SSHServer(tmp_path_factory.mktemp("sshd"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def remote(tmp_path_factory: pytest.TempPathFactory, qemu_binary: str) -> Iterator[DaemonHarness]:
    """The second pyvirtd, with its own state root: the "remote host" of these tests."""
    harness = DaemonHarness(tmp_path_factory.mktemp("remote"))
    harness.start()
    try:
        yield harness
    finally:
        harness.stop()
        harness.kill_all_guests()


def _uri(sshd: SSHServer, remote: DaemonHarness, **params: str) -> str:
    return sshd.uri("/session", socket=str(remote.root / "run" / "pyvirtd.sock"), **params)


def _pyvirt(uri: str, *args: str) -> subprocess.CompletedProcess[str]:
    # no PYVIRT_STATE_ROOT: the client must not find the second daemon any way but through ssh
    env = {k: v for k, v in os.environ.items() if k != "PYVIRT_STATE_ROOT"}
    return subprocess.run([sys.executable, "-m", "pyvirt.cli.main", "-c", uri, *args], capture_output=True,
                          text=True, env=env, timeout=120)


def test_cli_lists_and_controls_the_remote_daemons_guests(sshd: SSHServer, remote: DaemonHarness,
                                                          test_guest: TestGuest, tmp_path: Path) -> None:
    uri = _uri(sshd, remote)
    xml = tmp_path / "over-ssh.xml"
    xml.write_text(guest_xml(test_guest, "over-ssh", memory_mib=128))
    out = _pyvirt(uri, "define", str(xml))
    assert out.returncode == 0, out.stderr
    assert "over-ssh" in [d.name for d in remote.connect().list_domains()]  # it landed on the second daemon

    out = _pyvirt(uri, "list", "--all")
    assert out.returncode == 0, out.stderr
    row = [line for line in out.stdout.splitlines() if "over-ssh" in line]
    assert row and "shut off" in row[0]

    out = _pyvirt(uri, "start", "over-ssh")
    assert out.returncode == 0, out.stderr
    assert remote.connect().get_info("over-ssh").state == DomainState.RUNNING
    out = _pyvirt(uri, "domstate", "over-ssh")
    assert out.stdout.strip() == "running"
    out = _pyvirt(uri, "uri")
    assert out.stdout.strip() == uri

    out = _pyvirt(uri, "destroy", "over-ssh")
    assert out.returncode == 0, out.stderr
    assert remote.connect().get_info("over-ssh").state == DomainState.SHUTOFF
    assert _pyvirt(uri, "undefine", "over-ssh").returncode == 0
    assert "over-ssh" not in [d.name for d in remote.connect().list_domains()]


def test_events_console_and_session_ride_the_ssh_transport(sshd: SSHServer, remote: DaemonHarness,
                                                           test_guest: TestGuest) -> None:
    conn = connect(_uri(sshd, remote))
    try:
        stream = conn.subscribe(timeout=60)
        conn.create_xml(guest_xml(test_guest, "ssh-events", memory_mib=128), autodestroy=True)
        first = next(iter(stream))
        assert (first.name, first.event) == ("ssh-events", EventType.STARTED)
        stream.close()
        # the serial console, through its own ssh stream: the guest boots to its marker
        wait_console(conn, "ssh-events", READY_MARKER, timeout=120)
        wait_state(remote.connect(), "ssh-events", DomainState.RUNNING)
    finally:
        conn.close()
    # the client session rode ssh too: closing the connection ends the autodestroy guest
    local = remote.connect()
    for _ in range(200):
        if "ssh-events" not in [d.name for d in local.list_domains()]:
            break
        time.sleep(0.1)
    assert "ssh-events" not in [d.name for d in local.list_domains()]


def test_a_key_the_server_does_not_know_is_refused_with_sshs_reason(sshd: SSHServer, remote: DaemonHarness,
                                                                   tmp_path: Path) -> None:
    stranger = tmp_path / "stranger"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(stranger)], check=True)
    uri = _uri(sshd, remote).replace(str(sshd.client_key), str(stranger)) + "&no_tty=1"
    out = _pyvirt(uri, "list")
    assert out.returncode == 1
    assert "Permission denied" in out.stderr, out.stderr


def test_a_missing_remote_socket_is_reported(sshd: SSHServer, tmp_path: Path) -> None:
    out = _pyvirt(sshd.uri("/session", socket=str(tmp_path / "nothing.sock")), "list")
    assert out.returncode == 1
    assert "cannot reach pyvirtd" in out.stderr, out.stderr


def test_connect_object_reports_the_transport(sshd: SSHServer, remote: DaemonHarness) -> None:
    conn = connect(_uri(sshd, remote))
    try:
        assert conn.get_uri() == _uri(sshd, remote)
        with pytest.raises(PyvirtError) as err:
            conn.get_info("no-such-guest")
        assert "no-such-guest" in err.value.message
    finally:
        conn.close()
