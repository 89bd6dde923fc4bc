"""pyvirtd's state handling: transient guests, autostart, corrupt files, socket permissions,
on-demand session daemons started by racing clients, and failed starts that explain themselves."""

from __future__ import annotations

import os
import stat
import subprocess
import threading
import time
from pathlib import Path

import pytest

from pyvirt.api import DomainState, PyvirtError, ShutoffReason
from pyvirt.client import wire
from pyvirt.client.remote import RemoteConnection
from pyvirt.testguest import READY_MARKER, TestGuest
from tests.daemon_harness import URI, DaemonHarness, guest_xml, wait_console, wait_state

pytestmark = pytest.mark.timeout(240)



def test_socket_is_private_and_api_is_described(daemon: DaemonHarness) -> None:
    sock = daemon.root / "run" / "pyvirtd.sock"
    assert stat.S_IMODE(sock.stat().st_mode) == 0o600
    status, doc = wire.request(str(sock), "GET", "/openapi.json")
    assert status == 200 and "/v1/domains" in doc["paths"]
    status, body = wire.request(str(sock), "GET", "/v1/domains/nope")
    assert status == 404 and body["error"]["code"] == 42


def test_transient_domain_vanishes_when_stopped(daemon: DaemonHarness, test_guest: TestGuest) -> None:
    conn = daemon.connect()
    info = conn.create_xml(guest_xml(test_guest, "tr"))
    assert info.active and not info.persistent
    assert not (daemon.root / "config" / "qemu" / "tr.xml").exists()
    wait_console(conn, "tr", READY_MARKER)
    conn.destroy("tr")
    with pytest.raises(PyvirtError) as err:
        conn.get_info("tr")
    assert err.value.code == 42


def test_autostart_and_restart_keeps_guests(daemon: DaemonHarness, test_guest: TestGuest) -> None:
    conn = daemon.connect()
    conn.define_xml(guest_xml(test_guest, "auto"))
    conn.set_autostart("auto", True)
    assert conn.get_info("auto").autostart
    conn.define_xml(guest_xml(test_guest, "keeprunning"))
    conn.start("keeprunning")
    daemon.stop()  # a clean stop leaves guests running
    (pid,) = daemon.qemu_pids()
    daemon.start()
    conn = daemon.connect()
    infos = {i.name: i for i in conn.list_domains()}
    assert infos["auto"].state == DomainState.RUNNING  # autostarted
    assert infos["keeprunning"].state == DomainState.RUNNING
    assert pid in daemon.qemu_pids()  # the same QEMU, re-attached
    wait_console(conn, "auto", READY_MARKER)
    for name in ("auto", "keeprunning"):
        conn.destroy(name)


def test_corrupt_config_is_kept_and_listed_as_failed(daemon: DaemonHarness, test_guest: TestGuest) -> None:
    conn = daemon.connect()
    conn.define_xml(guest_xml(test_guest, "good"))
    daemon.stop()
    broken = daemon.root / "config" / "qemu" / "broken.xml"
    broken.write_text("<domain type='qemu'><name>broken</name>")
    daemon.start()
    conn = daemon.connect()
    infos = {i.name: i for i in conn.list_domains()}
    assert sorted(infos) == ["broken", "good"]  # kept visible (issue 10, defect 5), never dropped
    assert (infos["broken"].state, infos["broken"].reason) == (DomainState.SHUTOFF, ShutoffReason.FAILED)
    with pytest.raises(PyvirtError, match="broken.xml cannot be loaded"):
        conn.start("broken")
    assert broken.read_text() == "<domain type='qemu'><name>broken</name>"
    assert "broken.xml" in daemon.log_text()


def test_failed_start_reports_qemu_log(daemon: DaemonHarness, test_guest: TestGuest, tmp_path: Path) -> None:
    conn = daemon.connect()
    not_qcow2 = tmp_path / "junk.qcow2"
    not_qcow2.write_bytes(b"this is not a qcow2 image" * 100)
    conn.define_xml(guest_xml(test_guest, "bad", disk=not_qcow2))
    with pytest.raises(PyvirtError) as err:
        conn.start("bad")
    assert "qcow2" in err.value.message.lower()
    assert conn.get_info("bad").state == DomainState.SHUTOFF
    assert daemon.qemu_pids() == []
    assert list((daemon.root / "run" / "qemu").iterdir()) == []  # no runtime dir left behind


def test_kvm_domain_refused_where_kvm_unusable(daemon: DaemonHarness, test_guest: TestGuest) -> None:
    from pyvirt.qemu.kvmprobe import kvm_usable

    if kvm_usable().usable:
        pytest.skip("KVM is usable on this host")
    conn = daemon.connect()
    conn.define_xml(guest_xml(test_guest, "kvmguest").replace("type='qemu'", "type='kvm'", 1))
    with pytest.raises(PyvirtError, match="KVM is not usable"):
        conn.start("kvmguest")
    assert daemon.qemu_pids() == []


def test_racing_clients_start_one_session_daemon(tmp_path: Path, test_guest: TestGuest) -> None:
    env_root = tmp_path / "session"
    old = os.environ.get("PYVIRT_STATE_ROOT")
    os.environ["PYVIRT_STATE_ROOT"] = str(env_root)
    results: list[object] = []
    try:
        def client() -> None:
            try:
                results.append(len(RemoteConnection(URI).list_domains()))
            except Exception as exc:  # noqa: BLE001 - recorded and asserted below
                results.append(exc)

        threads = [threading.Thread(target=client) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert results == [0] * 6
        daemons = subprocess.run(["pgrep", "-f", f"pyvirt.daemon.main --uri {URI}"], capture_output=True,
                                 text=True).stdout.split()
        ours = [p for p in daemons if str(env_root) in Path(f"/proc/{p}/environ").read_bytes().decode(errors="replace")]
        assert len(ours) == 1
    finally:
        lock = env_root / "run" / "pyvirtd.lock"
        if lock.exists():
            pid = int(lock.read_text() or 0)
            if pid:
                os.kill(pid, 15)
        if old is None:
            os.environ.pop("PYVIRT_STATE_ROOT", None)
        else:
            os.environ["PYVIRT_STATE_ROOT"] = old


def test_define_validate_and_autodestroy(daemon: DaemonHarness, test_guest: TestGuest) -> None:
    from pyvirt.xml.schema import relaxng

    conn = daemon.connect()
    if relaxng("domain") is None:
        pytest.skip("libvirt's RelaxNG schemas are not available")
    good = guest_xml(test_guest, "valid")
    assert conn.define_xml(good, validate=True).name == "valid"
    bad = good.replace("<vcpu>1</vcpu>", "<vcpu>one</vcpu>").replace("<name>valid</name>", "<name>v2</name>")
    with pytest.raises(PyvirtError) as err:
        conn.define_xml(bad, validate=True)
    assert err.value.code == 92 and "schema" in err.value.message
    other = daemon.connect()
    assert conn.start("valid", autodestroy=True).state == DomainState.RUNNING
    other.get_info("valid")  # another client's calls do not end it
    time.sleep(0.5)
    assert other.get_info("valid").state == DomainState.RUNNING
    conn.close()  # the starting client goes away: its autodestroy guest goes with it
    wait_state(other, "valid", DomainState.SHUTOFF)
    assert other.get_info("valid").reason == ShutoffReason.DESTROYED  # persistent: still defined
