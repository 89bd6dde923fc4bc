"""The network driver against the real kernel, nft and dnsmasq, inside a private namespace.

Each check runs a small Python program in the namespace (the driver must see that namespace's
links and rules) and asserts on what it reports.  No QEMU here: the guest-side checks are in
test_network_daemon.py.
"""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest

from tests import netns as N

pytestmark = pytest.mark.skipif(N.available() is not None, reason=str(N.available()))

PRELUDE = """
import json, subprocess, sys
from pathlib import Path
from pyvirt.api import PyvirtError
from pyvirt.network.driver import NetworkDriver
root = Path(sys.argv[1])
def drv():
    d = NetworkDriver(root / "config", root / "run")
    d.load()
    return d
def links():
    return sorted(e["ifname"] for e in json.loads(subprocess.run(["ip", "-j", "link"], capture_output=True,
                                                                  text=True).stdout))
def tables():
    return subprocess.run(["nft", "list", "tables"], capture_output=True, text=True).stdout.split()
def dnsmasqs():
    return subprocess.run(["pgrep", "-f", "conf-file=" + str(root)], capture_output=True, text=True).stdout.split()
def err(fn):
    try:
        fn()
    except PyvirtError as e:
        return e.message
    return None
out = {}
"""


def _run(ns: N.NetNS, root: Path, body: str) -> dict:
    script = PRELUDE + textwrap.dedent(body) + "\nprint(json.dumps(out))\n"
    proc = ns.run(sys.executable, "-c", script, str(root), check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_default_network_lifecycle_restart_and_teardown(tmp_path: Path) -> None:
    with N.netns() as ns:
        first = _run(ns, tmp_path, """
            d = drv(); d.ensure_default(); out["started"] = d.autostart_networks()
            out["list"] = [n.to_dict() for n in d.list_networks()]; out["links"] = links(); out["tables"] = tables()
            out["dnsmasq"] = len(dnsmasqs())
        """)
        assert first["started"] == ["default"]
        net = first["list"][0]
        assert net["active"] and net["persistent"] and net["autostart"] and net["bridge"] == "virbr0"
        assert "virbr0" in first["links"] and "pyvirt_default" in first["tables"] and first["dnsmasq"] == 1
        # a new driver (pyvirtd restarted) finds it running: nothing set up twice
        again = _run(ns, tmp_path, """
            d = drv(); d.ensure_default(); out["started"] = d.autostart_networks()
            out["list"] = [n.to_dict() for n in d.list_networks()]; out["links"] = links(); out["dnsmasq"] = len(dnsmasqs())
            out["bridges"] = [l for l in links() if l.startswith("virbr")]
        """)
        assert again["started"] == [] and again["list"][0]["active"]
        assert again["bridges"] == ["virbr0"] and again["dnsmasq"] == 1
        gone = _run(ns, tmp_path, """
            d = drv(); d.destroy_network("default")
            out["links"] = links(); out["tables"] = tables(); out["dnsmasq"] = len(dnsmasqs())
            out["active"] = d.lookup_network("default").active
        """)
        assert "virbr0" not in gone["links"] and "pyvirt_default" not in gone["tables"]
        assert gone["dnsmasq"] == 0 and gone["active"] is False


def test_bad_networks_are_refused_and_leave_nothing(tmp_path: Path) -> None:
    with N.netns() as ns:
        got = _run(ns, tmp_path, """
            d = drv()
            d.create_network("<network><name>a</name><bridge name='vbra'/><ip address='10.20.0.1' prefix='24'/>"
                             "</network>")
            before = (links(), tables(), len(dnsmasqs()))
            out["overlap"] = err(lambda: d.create_network(
                "<network><name>b</name><ip address='10.20.0.9' prefix='16'/></network>"))
            out["in_use"] = err(lambda: d.create_network(
                "<network><name>c</name><bridge name='vbra'/><ip address='10.30.0.1' prefix='24'/></network>"))
            out["too_long"] = err(lambda: d.create_network(
                "<network><name>d</name><bridge name='averyverylongbridge'/></network>"))
            out["range"] = err(lambda: d.create_network(
                "<network><name>e</name><ip address='10.40.0.1' prefix='24'><dhcp>"
                "<range start='10.41.0.2' end='10.41.0.9'/></dhcp></ip></network>"))
            out["dup_host"] = err(lambda: d.create_network(
                "<network><name>f</name><ip address='10.50.0.1' prefix='24'><dhcp>"
                "<host mac='52:54:00:00:00:01' ip='10.50.0.5'/><host mac='52:54:00:00:00:01' ip='10.50.0.6'/>"
                "</dhcp></ip></network>"))
            out["mode"] = err(lambda: d.create_network(
                "<network><name>g</name><forward mode='teleport'/></network>"))
            out["vepa"] = err(lambda: d.create_network(
                "<network><name>h</name><forward mode='vepa'><interface dev='eth0'/></forward></network>"))
            out["pg"] = err(lambda: d.create_network(
                "<network><name>p</name><ip address='10.60.1.1' prefix='24'/><portgroup name='slow'>"
                "<bandwidth><inbound average='100'/></bandwidth></portgroup></network>"))
            out["unchanged"] = before == (links(), tables(), len(dnsmasqs()))
            d.create_network("<network><name>q</name><bridge name='vbrq'/><ip address='10.61.0.1' prefix='24'/>"
                             "<portgroup name='plain' default='yes'/></network>")  # names only: nothing to drop
            out["names"] = [n.name for n in d.list_networks()]
        """)
        assert "overlaps" in got["overlap"] and "'a'" in got["overlap"]
        assert "already in use" in got["in_use"]
        assert "longer than 15" in got["too_long"]
        assert "is not entirely within network" in got["range"]
        assert "duplicate DHCP host mac" in got["dup_host"]
        assert "forward" in got["mode"] and "teleport" in got["mode"]
        assert "vepa" in got["vepa"] and "not supported" in got["vepa"]
        assert "portgroup name='slow'" in got["pg"] and "not supported" in got["pg"]
    assert got["unchanged"] and got["names"] == ["a", "q"]


SNAT_SERVER = """
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.98.0.1", 5555)); s.listen(1); s.settimeout(20)
c, peer = s.accept(); print(peer[0], peer[1], flush=True)
"""
SNAT_CLIENT = """
import socket, time
deadline = time.monotonic() + 15
while True:
    try:
        socket.create_connection(("10.98.0.1", 5555), timeout=2).close(); break
    except OSError:
        if time.monotonic() > deadline: raise
        time.sleep(0.2)
"""


def test_nat_ranges_and_static_routes(tmp_path: Path) -> None:
    """<nat><address>/<port> become SNAT rules that real traffic follows, <route> a kernel route
    via the bridge; both go with the network.  A "guest" (a veth in its own namespace, on the
    network's bridge) reaches an "outside" namespace, which sees the <nat> address (not the
    uplink's primary one, as masquerading would) and a source port from the <nat><port> range
    (not the client's own ephemeral port)."""
    import subprocess

    with N.netns() as ns, N.netns() as guest, N.netns() as outside:
        got = _run(ns, tmp_path, """
            drv().create_network("<network><name>r</name><bridge name='vbrr'/><forward mode='nat'><nat>"
                                 "<address start='10.98.0.3' end='10.98.0.3'/><port start='2000' end='2100'/></nat>"
                                 "</forward><ip address='10.21.0.1' prefix='24'/>"
                                 "<route address='10.60.0.0' prefix='24' gateway='10.21.0.5' metric='7'/></network>")
            out["rules"] = subprocess.run(["nft", "list", "table", "inet", "pyvirt_r"], capture_output=True,
                                          text=True).stdout
            out["route"] = subprocess.run(["ip", "route", "show", "10.60.0.0/24"], capture_output=True,
                                          text=True).stdout
        """)
        ns.run("ip", "link", "add", "vg", "type", "veth", "peer", "name", "eth0", "netns", guest.name)
        ns.run("ip", "link", "set", "vg", "master", "vbrr", "up")
        ns.run("ip", "link", "add", "vo", "type", "veth", "peer", "name", "eth0", "netns", outside.name)
        ns.run("ip", "addr", "add", "10.98.0.2/24", "dev", "vo")  # what masquerading would show
        ns.run("ip", "addr", "add", "10.98.0.3/24", "dev", "vo")
        ns.run("ip", "link", "set", "vo", "up")
        for side, addr in ((guest, "10.21.0.50/24"), (outside, "10.98.0.1/24")):
            side.run("ip", "addr", "add", addr, "dev", "eth0")
            side.run("ip", "link", "set", "eth0", "up")
        guest.run("ip", "route", "add", "default", "via", "10.21.0.1")
        server = subprocess.Popen(outside.cmd(sys.executable, "-c", SNAT_SERVER), stdout=subprocess.PIPE, text=True)
        try:
            guest.run(sys.executable, "-c", SNAT_CLIENT, timeout=30)
            seen, _ = server.communicate(timeout=30)
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()
        after = _run(ns, tmp_path, """
            drv().destroy_network("r")
            out["route"] = subprocess.run(["ip", "route", "show", "10.60.0.0/24"], capture_output=True,
                                          text=True).stdout
            out["tables"] = tables()
        """)
    rules = got["rules"]
    assert "snat ip to 10.98.0.3:2000-2100" in rules, rules
    assert "ip saddr 10.21.0.0/24 ip daddr != 10.21.0.0/24 snat ip to 10.98.0.3" in rules
    assert "masquerade" not in rules
    addr, port = seen.split()
    assert addr == "10.98.0.3" and 2000 <= int(port) <= 2100, seen
    assert "via 10.21.0.5 dev vbrr" in got["route"] and "metric 7" in got["route"], got["route"]
    assert after["route"].strip() == "" and "pyvirt_r" not in after["tables"]


def test_the_list_read_at_each_event_names_the_bridge(tmp_path: Path) -> None:
    """What an event-driven client (the web UI's networks page) sees when it lists the networks
    the moment each event arrives: the bridge from 'defined' on, the same name once 'started'
    (its link exists then) and after 'stopped'."""
    with N.netns() as ns:
        got = _run(ns, tmp_path, """
            d = drv(); seen = []
            def on_event(ev):
                (n,) = [x for x in d.list_networks() if x.name == ev.name]
                seen.append([ev.event, n.active, n.bridge, n.bridge in links()])
            d.add_listener(on_event)
            d.define_network("<network><name>w</name><forward mode='nat'/>"
                             "<ip address='10.71.0.1' prefix='24'/></network>")
            d.start_network("w"); d.destroy_network("w")
            out["seen"] = seen
        """)
    (defined, started, stopped) = got["seen"]
    bridge = defined[2]
    assert bridge.startswith("virbr")
    assert defined == [0, False, bridge, False]  # VIR_NETWORK_EVENT_DEFINED: named, not built yet
    assert started == [2, True, bridge, True]  # STARTED: the same name, now a link
    assert stopped == [3, False, bridge, False]  # STOPPED: gone from the host, still named
