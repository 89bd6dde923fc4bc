"""Network filters applied to ports, for real, in network namespaces this test makes.

A system pyvirtd runs in namespace H with a bridge; two more namespaces stand in for a guest
(G) and a host it talks to (P), each joined to the bridge by a veth pair whose H end is the
"tap".  libvirt's own shipped filters (clean-traffic and the ones it references, read from the
libvirt-daemon-config-nwfilter package's files) are the daemon's filters.  What is checked is
traffic: a TCP connection from G's own address and MAC gets through, one from a spoofed
address or MAC does not; a redefined filter takes effect at once on the port, a redefinition
that cannot be applied is refused with the old rules kept; a restarted daemon keeps its bindings;
a deleted binding leaves no rules.
Then a QEMU guest (paused, nothing to boot) on the same bridge: starting it binds its NIC's
``<filterref>``, a hot-plugged NIC gets its binding, destroying the guest drops them all; a
missing filter or variable refuses the start and leaves nothing behind.  Nothing touches the
host's own namespace.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import netns as N
from tests.daemon_harness import DaemonHarness, cli

LIBVIRT_FILTERS = Path("/etc/libvirt/nwfilter")
pytestmark = [
    pytest.mark.skipif(N.available() is not None, reason=str(N.available())),
    pytest.mark.skipif(not (LIBVIRT_FILTERS / "clean-traffic.xml").exists(),
                       reason="libvirt's filters are not installed (libvirt-daemon-config-nwfilter: make test-deps)"),
]

G_IP, P_IP, SPOOF_IP = "10.77.0.2", "10.77.0.3", "10.77.0.99"
G_MAC, OTHER_MAC = "52:54:00:77:00:02", "52:54:00:77:00:42"
OWNER = "8f0a0f4c-5a4e-4d3b-9e1d-7a7f3c1b2d01"
CONNECT = """
import socket, sys
s = socket.socket()
s.bind((sys.argv[1], 0))
s.settimeout(float(sys.argv[3]))
try:
    s.connect((sys.argv[2], 7000)); s.sendall(b"x"); print("ok")
except OSError as exc:
    print("blocked", exc)
"""
SERVER = """
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 7000)); s.listen(16)
while True:
    c, _ = s.accept(); c.close()
"""


class Env:
    def __init__(self, host: N.NetNS, guest: N.NetNS, peer: N.NetNS, daemon: DaemonHarness) -> None:
        self.host, self.guest, self.peer, self.daemon = host, guest, peer, daemon

    def connects(self, source: str = G_IP, timeout: float = 2.0) -> bool:
        out = self.guest.run(sys.executable, "-c", CONNECT, source, P_IP, str(timeout), timeout=30).stdout
        return out.startswith("ok")

    def tables(self) -> list[str]:
        return [line.split()[-1] for line in self.host.run("nft", "list", "tables").stdout.splitlines()
                if line.startswith("table bridge pyvirt_nwf_")]


def _veth(host: N.NetNS, other: N.NetNS, port: str, address: str, mac: str | None = None) -> None:
    host.run("ip", "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", other.name)
    host.run("ip", "link", "set", port, "master", "br0", "up")
    if mac:
        other.run("ip", "link", "set", "eth0", "address", mac)
    other.run("ip", "addr", "add", f"{address}/24", "dev", "eth0")
    other.run("ip", "link", "set", "eth0", "up")


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    root = tmp_path_factory.mktemp("nwfa")
    with N.netns() as host, N.netns() as guest, N.netns() as peer:
        host.run("ip", "link", "add", "br0", "type", "bridge")
        host.run("ip", "link", "set", "br0", "up")
        _veth(host, guest, "vport0", G_IP, G_MAC)
        _veth(host, peer, "vport1", P_IP)
        server = subprocess.Popen(peer.cmd(sys.executable, "-c", SERVER))
        daemon = DaemonHarness(root, uri="qemu:///system", wrap=("ip", "netns", "exec", host.name),
                               env={"PYVIRT_NETWORK_AUTOSTART": "0"})
        filters = daemon.root / "config" / "nwfilter"
        filters.mkdir(parents=True, exist_ok=True)
        for path in LIBVIRT_FILTERS.glob("*.xml"):  # what the package gives libvirtd, read at test time
            shutil.copy(path, filters / path.name)
        daemon.start()
        try:
            yield Env(host, guest, peer, daemon)
        finally:
            daemon.stop()
            daemon.kill_all_guests()
            server.kill()
            server.wait()


def _binding(tmp_path: Path, filt: str, params: dict[str, str], port: str = "vport0") -> str:
    body = "".join(f"<parameter name='{k}' value='{v}'/>" for k, v in params.items())
    path = tmp_path / "binding.xml"
    path.write_text(f"<filterbinding><owner><name>standin</name><uuid>{OWNER}</uuid></owner>"
                    f"<portdev name='{port}'/><mac address='{G_MAC}'/>"
                    f"<filterref filter='{filt}'>{body}</filterref></filterbinding>")
    return str(path)


def _define(env: Env, tmp_path: Path, xml: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "filter.xml"
    path.write_text(xml)
    return cli(env.daemon, "nwfilter-define", str(path))


def test_clean_traffic_on_a_port_drops_spoofing_and_goes_with_its_binding(env: Env, tmp_path: Path) -> None:
    assert env.connects()  # no filter yet
    env.guest.run("ip", "addr", "add", f"{SPOOF_IP}/24", "dev", "eth0")
    assert env.connects(SPOOF_IP)
    path = _binding(tmp_path, "clean-traffic", {"IP": G_IP})
    made = cli(env.daemon, "nwfilter-binding-create", path)
    assert made.stdout == f"Network filter binding on vport0 created from {path}\n\n", made.stderr
    assert cli(env.daemon, "nwfilter-binding-list").stdout.splitlines()[2].split() == ["vport0", "clean-traffic"]
    dumped = cli(env.daemon, "nwfilter-binding-dumpxml", "vport0").stdout
    assert "<portdev name='vport0'/>" in dumped and f"<parameter name='IP' value='{G_IP}'/>" in dumped
    assert env.tables() == ["pyvirt_nwf_vport0"]
    assert env.connects()  # its own address and MAC: through (ARP included)
    assert not env.connects(SPOOF_IP, timeout=1)  # another source address: dropped
    env.guest.run("ip", "link", "set", "eth0", "address", OTHER_MAC)
    try:
        assert not env.connects(timeout=1)  # another MAC: dropped
    finally:
        env.guest.run("ip", "link", "set", "eth0", "address", G_MAC)
    assert env.connects()
    env.daemon.stop()  # a restarted daemon finds its binding again (and re-applies it)
    env.daemon.start()
    assert cli(env.daemon, "nwfilter-binding-list").stdout.splitlines()[2].split() == ["vport0", "clean-traffic"]
    assert not env.connects(SPOOF_IP, timeout=1)
    again = cli(env.daemon, "nwfilter-binding-create", path)
    assert again.returncode == 1 and "Filter binding 'vport0' already exists" in again.stderr
    busy = cli(env.daemon, "nwfilter-undefine", "no-ip-spoofing")  # referenced by clean-traffic
    assert busy.returncode == 1 and "nwfilter is in use" in busy.stderr
    gone = cli(env.daemon, "nwfilter-binding-delete", "vport0")
    assert gone.stdout == "Network filter binding on vport0 deleted\n\n", gone.stderr
    assert env.tables() == [] and cli(env.daemon, "nwfilter-binding-list").stdout.splitlines()[2:] == [""]
    assert env.connects(SPOOF_IP)  # no rules left behind
    env.guest.run("ip", "addr", "del", f"{SPOOF_IP}/24", "dev", "eth0")


def test_ip_address_learnt_from_the_guests_arp(env: Env, tmp_path: Path) -> None:
    """No IP given: libvirt's basic rules (any source address) until the guest's first ARP
    tells its address, then the filter in full with that address."""
    env.guest.run("ip", "addr", "add", f"{SPOOF_IP}/24", "dev", "eth0")
    env.guest.run("ip", "neigh", "flush", "dev", "eth0")  # its next packet to P starts with an ARP request
    made = cli(env.daemon, "nwfilter-binding-create", _binding(tmp_path, "clean-traffic", {}))
    assert made.returncode == 0, made.stderr
    try:
        ruleset = env.host.run("nft", "list", "table", "bridge", "pyvirt_nwf_vport0").stdout
        assert "ether saddr != 52:54:00:77:00:02 drop" in ruleset and G_IP not in ruleset
        assert env.connects()  # ARP for P from G's own address: learnt
        deadline = time.monotonic() + 60
        while f"ip saddr {G_IP} return" not in env.host.run("nft", "list", "table", "bridge",
                                                            "pyvirt_nwf_vport0").stdout:
            assert time.monotonic() < deadline, "the address was not learnt"
            time.sleep(0.2)
        assert not env.connects(SPOOF_IP, timeout=1)  # the full filter, with the learnt address
        assert env.connects()
    finally:
        cli(env.daemon, "nwfilter-binding-delete", "vport0")
        env.guest.run("ip", "addr", "del", f"{SPOOF_IP}/24", "dev", "eth0")


def test_redefined_filter_is_reapplied_and_an_unappliable_one_refused(env: Env, tmp_path: Path) -> None:
    base = "<filter name='pvt-web' chain='root'><filterref filter='allow-arp'/>{}</filter>"
    assert _define(env, tmp_path, base.format("")).returncode == 0
    made = cli(env.daemon, "nwfilter-binding-create", _binding(tmp_path, "pvt-web", {}))
    assert made.returncode == 0, made.stderr
    try:
        assert env.connects()
        # the guest may not reach P's address any more (an ipv4 sub-chain, variables from the binding)
        block = ("<filterref filter='pvt-block'><parameter name='DST' value='10.77.0.200'/>"
                 f"<parameter name='DST' value='{P_IP}'/></filterref>")
        assert _define(env, tmp_path, "<filter name='pvt-block' chain='ipv4' priority='-700'>"
                       "<rule action='drop' direction='out'><ip dstipaddr='$DST'/></rule></filter>").returncode == 0
        assert _define(env, tmp_path, base.format(block)).returncode == 0
        assert not env.connects(timeout=1)
        before = cli(env.daemon, "nwfilter-dumpxml", "pvt-web").stdout
        bad = _define(env, tmp_path, base.format("<rule action='accept' direction='out'><tcp dstportstart='7000'/>"
                                                 "</rule>"))
        assert bad.returncode == 1 and "<tcp> is not applied by pyvirt" in bad.stderr
        assert cli(env.daemon, "nwfilter-dumpxml", "pvt-web").stdout == before  # nothing changed
        assert not env.connects(timeout=1)  # the old rules still hold
        assert _define(env, tmp_path, base.format("")).returncode == 0
        assert env.connects()
    finally:
        cli(env.daemon, "nwfilter-binding-delete", "vport0")


GUEST = """<domain type='qemu'><name>{name}</name><memory unit='MiB'>48</memory><os><type>hvm</type></os>
<features><acpi/></features><devices><interface type='bridge'><source bridge='br0'/><mac address='52:54:00:77:01:01'/><model type='e1000'/>
<filterref filter='{filt}'>{params}</filterref></interface></devices></domain>"""


def _guest(env: Env, tmp_path: Path, name: str, filt: str, params: str) -> None:
    path = tmp_path / f"{name}.xml"
    path.write_text(GUEST.format(name=name, filt=filt, params=params))
    assert cli(env.daemon, "define", str(path)).returncode == 0


def test_guest_nics_get_bindings_at_start_and_hotplug_and_lose_them_at_its_end(env: Env, tmp_path: Path) -> None:
    _guest(env, tmp_path, "fguest", "clean-traffic", f"<parameter name='IP' value='{G_IP}'/>")
    started = cli(env.daemon, "start", "fguest", "--paused")
    assert started.returncode == 0, started.stderr + env.daemon.log_text()[-2000:]
    try:
        rows = [ln.split() for ln in cli(env.daemon, "nwfilter-binding-list").stdout.splitlines()[2:] if ln]
        assert len(rows) == 1 and rows[0][1] == "clean-traffic" and rows[0][0].startswith("vnet")
        port = rows[0][0]
        dumped = cli(env.daemon, "nwfilter-binding-dumpxml", port).stdout
        assert "<name>fguest</name>" in dumped and "<mac address='52:54:00:77:01:01'/>" in dumped
        assert env.tables() == [f"pyvirt_nwf_{port}"]
        ruleset = env.host.run("nft", "list", "table", "bridge", f"pyvirt_nwf_{port}").stdout
        assert f'iifname "{port}"' in ruleset and "52:54:00:77:01:01" in ruleset
        nic = tmp_path / "nic.xml"
        nic_xml = ("<interface type='bridge'><source bridge='br0'/><mac address='52:54:00:77:01:02'/>"
                   "<model type='e1000'/><filterref filter='{}'/></interface>")
        nic.write_text(nic_xml.format("no-such-filter"))
        refused = cli(env.daemon, "attach-device", "fguest", str(nic), "--live")
        assert refused.returncode == 1 and "referenced filter 'no-such-filter' is missing" in refused.stderr
        assert len(env.tables()) == 1 and "52:54:00:77:01:02" not in cli(env.daemon, "dumpxml", "fguest").stdout
        nic.write_text(nic_xml.format("allow-arp"))
        plugged = cli(env.daemon, "attach-device", "fguest", str(nic), "--live")
        assert plugged.returncode == 0, plugged.stderr
        assert len(env.tables()) == 2
        assert "allow-arp" in cli(env.daemon, "nwfilter-binding-list").stdout
    finally:
        assert cli(env.daemon, "destroy", "fguest").returncode == 0
    assert env.tables() == []
    assert cli(env.daemon, "nwfilter-binding-list").stdout.splitlines()[2:] == [""]


@pytest.mark.parametrize(("filt", "params", "message"), [
    ("no-such-filter", "", "referenced filter 'no-such-filter' is missing"),
    ("clean-traffic", "<parameter name='CTRL_IP_LEARNING' value='none'/>",
     "unresolvable variables or unavailable list elements: IP"),
])
def test_a_filter_that_cannot_apply_refuses_the_start_and_leaves_nothing(env: Env, tmp_path: Path, filt: str,
                                                                         params: str, message: str) -> None:
    _guest(env, tmp_path, "badf", filt, params)
    try:
        links = env.host.run("ip", "-o", "link").stdout.count("vnet")
        failed = cli(env.daemon, "start", "badf", "--paused")
        assert failed.returncode == 1 and message in failed.stderr
        assert cli(env.daemon, "domstate", "badf").stdout.strip() == "shut off"
        assert env.tables() == [] and env.host.run("ip", "-o", "link").stdout.count("vnet") == links
    finally:
        cli(env.daemon, "undefine", "badf")
