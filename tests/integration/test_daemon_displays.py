"""Displays and statistics of running guests: auto-allocated VNC/SPICE ports that never collide,
shown by vncdisplay/domdisplay, released when guests stop; SPICE over TLS from qemu.conf;
domstats/dommemstat/domifaddr."""

from __future__ import annotations

import contextlib
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pyvirt.api import PyvirtError
from pyvirt.testguest import TestGuest
from tests.daemon_harness import DaemonHarness, guest_xml, live_processes
from tests.tlscerts import TestCA

pytestmark = pytest.mark.timeout(180)
PYVIRT = [sys.executable, "-m", "pyvirt.cli.main", "-c", "qemu:///session"]



def _cli(daemon: DaemonHarness, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PYVIRT, *args], capture_output=True, text=True, env=daemon.env(), timeout=60)


def test_autoport_displays_do_not_collide(daemon: DaemonHarness, test_guest: TestGuest) -> None:
    conn = daemon.connect()
    vnc = "<graphics type='vnc' autoport='yes' listen='127.0.0.1'/><video><model type='vga'/></video>"
    for name in ("v1", "v2"):
        xml = guest_xml(test_guest, name, extra_devices=vnc).replace("<video><model type='none'/></video>", "")
        conn.define_xml(xml)
        conn.start(name)
    spice = "<graphics type='spice' autoport='yes'/><video><model type='qxl'/></video>"
    xml = guest_xml(test_guest, "s1", extra_devices=spice).replace("<video><model type='none'/></video>", "")
    conn.define_xml(xml)
    conn.start("s1")

    displays = {n: conn.display_uri(n) for n in ("v1", "v2", "s1")}
    assert displays["v1"].startswith("vnc://127.0.0.1:") and displays["v2"].startswith("vnc://127.0.0.1:")
    ports = {int(displays[n].rsplit(":", 1)[1]) + 5900 for n in ("v1", "v2")}
    ports.add(int(displays["s1"].rsplit(":", 1)[1]))
    assert len(ports) == 3  # three guests, three ports
    shown = _cli(daemon, "vncdisplay", "v2")
    assert shown.returncode == 0 and shown.stdout.startswith("127.0.0.1:")
    assert _cli(daemon, "domdisplay", "s1").stdout.startswith("spice://")

    conn.destroy("v1")
    conn.define_xml(guest_xml(test_guest, "v3", extra_devices=vnc).replace("<video><model type='none'/></video>", ""))
    conn.start("v3")
    assert conn.display_uri("v3") == displays["v1"]  # the freed port is used again
    with pytest.raises(PyvirtError, match="not running"):
        conn.display_uri("v1")


def test_stats_commands(daemon: DaemonHarness, test_guest: TestGuest) -> None:
    conn = daemon.connect()
    conn.define_xml(guest_xml(test_guest, "st"))
    conn.define_xml(guest_xml(test_guest, "off"))
    conn.start("st")
    stats = {r["name"]: r["stats"] for r in conn.domain_stats()}
    assert stats["st"]["state.state"] == 1 and stats["off"]["state.state"] == 5
    assert stats["st"]["cpu.time"] > 0 and stats["st"]["balloon.maximum"] == 256 * 1024
    assert stats["st"]["net.count"] == 1 and "cpu.time" not in stats["off"]
    out = _cli(daemon, "domstats", "st", "--state")
    assert out.returncode == 0 and "Domain: 'st'" in out.stdout and "state.state=1" in out.stdout
    mem = _cli(daemon, "dommemstat", "st")
    assert mem.returncode == 0 and "rss " in mem.stdout
    lease = _cli(daemon, "domifaddr", "st")
    assert lease.returncode == 0 and "MAC address" in lease.stdout
    agent = _cli(daemon, "domifaddr", "st", "--source", "agent")
    assert agent.returncode == 1 and "agent" in agent.stderr
    conn.destroy("st")


def test_spice_tls_from_qemu_conf(daemon: DaemonHarness, test_guest: TestGuest, tmp_path: Path) -> None:
    """qemu.conf's spice_tls: QEMU serves SPICE over TLS on the XML's tlsPort with the
    certificates of spice_tls_x509_cert_dir; without it the same XML is refused at start."""
    conn = daemon.connect()
    with contextlib.closing(socket.socket()) as probe, contextlib.closing(socket.socket()) as probe2:
        probe.bind(("127.0.0.1", 0))
        probe2.bind(("127.0.0.1", 0))
        tls_port, port = probe.getsockname()[1], probe2.getsockname()[1]
    # fixed ports: with autoport='yes' a define drops both (libvirt 9.0 does), and picks them at start
    spice = (f"<graphics type='spice' autoport='no' port='{port}' tlsPort='{tls_port}' listen='127.0.0.1' "
             "defaultMode='secure'>"
             "<channel name='inputs' mode='insecure'/></graphics><video><model type='qxl'/></video>")
    conn.define_xml(guest_xml(test_guest, "tls", extra_devices=spice).replace("<video><model type='none'/></video>",
                                                                               ""))
    with pytest.raises(PyvirtError, match="TLS is disabled in qemu.conf"):
        conn.start("tls")
    ca = TestCA(tmp_path / "ca")
    pki = tmp_path / "spice-pki"
    pki.mkdir()
    cert, key = ca.issue("server", "/C=GB/O=pyvirt test/CN=spice", server=True)
    for src, name in ((ca.cert, "ca-cert.pem"), (cert, "server-cert.pem"), (key, "server-key.pem")):
        (pki / name).write_bytes(src.read_bytes())
    conf = daemon.root / "config" / "qemu.conf"
    conf.write_text((conf.read_text() if conf.exists() else "")
                    + f'\nspice_tls = 1\nspice_tls_x509_cert_dir = "{pki}"\n')
    conn.start("tls")
    context = ssl.create_default_context(cafile=str(ca.cert))
    with socket.create_connection(("127.0.0.1", tls_port), timeout=10) as raw, \
            context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
        subject = dict(x[0] for x in tls.getpeercert()["subject"])
    assert subject["commonName"] == "spice"
    conn.destroy("tls")


def test_vhost_user_gpu_gets_its_backend(daemon: DaemonHarness, test_guest: TestGuest) -> None:
    """<driver name='vhostuser'>: pyvirtd starts vhost-user-gpu on one end of a socket pair and
    gives QEMU the other.  vhost-user needs KVM's ioeventfds, so under TCG QEMU itself refuses
    the device, after it reached the backend (a socket problem would fail earlier, at -chardev);
    the backend exits when QEMU does, leaving nothing behind."""
    conn = daemon.connect()
    gpu = "<video><driver name='vhostuser'/><model type='virtio' heads='1'/></video>"
    conn.define_xml(guest_xml(test_guest, "vug", extra_devices=gpu).replace("<video><model type='none'/></video>", ""))
    with pytest.raises(PyvirtError, match="vhost-user-vga.*requires kvm"):
        conn.start("vug")
    log = (daemon.root / "log" / "qemu" / "vug-vhost-user-gpu.log")
    assert log.exists()  # the backend was started (its own log beside QEMU's)
    assert daemon.proc is not None
    deadline = time.monotonic() + 60
    while _children(daemon.proc.pid, b"vhost-user-gpu") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _children(daemon.proc.pid, b"vhost-user-gpu")


def _children(parent: int, name: bytes) -> list[int]:
    out = []
    for pid, cmd in live_processes():
        try:
            ppid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == parent and cmd and cmd[0].endswith(name):
            out.append(pid)
    return out


def test_display_password_validity_reaches_qemu(daemon: DaemonHarness, test_guest: TestGuest) -> None:
    """passwdValidTo/connected: QEMU takes set_password (with connected) and expire_password at
    start (a start fails if it refuses either); the VNC server then asks for a password."""
    conn = daemon.connect()
    gfx = ("<graphics type='vnc' autoport='yes' listen='127.0.0.1' passwd='secret' "
           "passwdValidTo='2099-01-01T00:00:00' connected='keep'/>"
           "<graphics type='spice' autoport='yes' passwd='secret' passwdValidTo='2000-01-01T00:00:00' "
           "connected='disconnect'/><video><model type='qxl'/></video>")
    conn.define_xml(guest_xml(test_guest, "pw", extra_devices=gfx).replace("<video><model type='none'/></video>", ""))
    conn.start("pw")
    try:
        port = int(conn.display_uri("pw").rsplit(":", 1)[1]) + 5900
        with socket.create_connection(("127.0.0.1", port), timeout=10) as vnc:
            version = vnc.recv(12)
            assert version.startswith(b"RFB 003.")
            vnc.sendall(b"RFB 003.008\n")
            count = vnc.recv(1)[0]
            assert 2 in vnc.recv(count)  # VNC authentication
    finally:
        conn.destroy("pw")
