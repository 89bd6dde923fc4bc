"""Virtual networks end to end: pyvirtd (qemu:///system) in a private network namespace, the real
test guest under TCG on the `default` NAT network it creates on its first start.

One namespace, one daemon and one booted guest are shared by the tests of this module, in order:
the guest gets a DHCP lease (net-dhcp-leases, domifaddr --source lease), reaches a TCP server on
the bridge's host side and, masqueraded, one on an "outside" address; pyvirtd is killed with
SIGKILL and restarted without doubling anything or cutting the guest off; an isolated network
forwards nothing; `pyvirt install --network network=default` and `--network bridge=<its bridge>`
define the matching <interface> and the guest gets a lease from its dnsmasq (and, on `default`,
it and the first guest reach each other); destroying the network removes its bridge, dnsmasq and rules, and a guest
cannot start on it while it is down.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyvirt.api import NetworkEventType, PyvirtError
from tests import netns as N
from tests.daemon_harness import DaemonHarness, wait_console

pytestmark = pytest.mark.skipif(N.available() is not None, reason=str(N.available()))

MAC = "52:54:00:5e:00:42"
OUTSIDE = "10.99.0.1"  # a host in the "outside world" namespace, behind the daemon's namespace
UPLINK = "10.99.0.2"   # the daemon namespace's own address towards it (what masquerading shows)
SERVER = """
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(8)
print("listening", flush=True)
while True:
    c, peer = s.accept()
    data = c.recv(200)
    with open(sys.argv[3], "a") as fh:
        fh.write(f"{peer[0]} {data.decode(errors='replace').strip()}\\n")
    c.close()
"""


#: connect to argv[1]:5555 until something answers (a new bridge port needs a moment to forward)
PROBE = """
import errno, socket, sys, time
deadline = time.monotonic() + 15
while True:
    try:
        socket.create_connection((sys.argv[1], 5555), timeout=2).sendall(b"iso\\n")
        print("connected"); break
    except ConnectionRefusedError:
        print("refused"); break
    except OSError as e:
        if e.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH) and time.monotonic() > deadline - 10:
            print("unreachable"); break
        if time.monotonic() > deadline:
            print("timeout"); break
        time.sleep(0.3)
"""


class Env:
    outside: N.NetNS

    def __init__(self, ns: N.NetNS, daemon: DaemonHarness, root: Path) -> None:
        self.ns, self.daemon, self.root = ns, daemon, root
        self.conn = daemon.connect()
        self.seen = root / "server.log"

    def reconnect(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.close()
        self.conn = self.daemon.connect()

    def guest_says(self, command: str, marker: str, timeout: float = 60, guest: str = "netguest") -> None:
        """Type `command` on the guest's shell and wait for its exit status 0.  The console stays
        open until then; a line the shell never echoed (typed while busybox's line editor was
        still waiting for its cursor-position reply) is typed again, once: it never ran."""
        line = f"\n{command}; echo {marker}-$?\n".encode()
        done, echoed = f"{marker}-0".encode(), f"echo {marker}-$?".encode()
        seen, deadline, retyped = b"", time.monotonic() + timeout, False
        with self.conn.open_console(guest) as console:
            console.write(line)
            typed = time.monotonic()
            while done not in seen and time.monotonic() < deadline:
                with contextlib.suppress(TimeoutError):
                    seen += console.read(65536, timeout=1)
                if not retyped and echoed not in seen and time.monotonic() - typed > 10:
                    console.write(line)
                    retyped = True
        if done not in seen:
            raise TimeoutError(f"{marker}-0 not seen on {guest}'s console within {timeout:.0f} s: {seen[-400:]!r}")

    def received(self, text: str) -> list[str]:
        lines = self.seen.read_text().splitlines() if self.seen.exists() else []
        return [ln.split()[0] for ln in lines if ln.endswith(text)]


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, test_guest) -> Iterator[Env]:  # noqa: ANN001
    root = tmp_path_factory.mktemp("netd")
    with N.netns() as ns, N.netns() as outside:
        # the "outside world": another namespace reached over a veth pair, with a TCP server
        ns.run("ip", "link", "add", "up0", "type", "veth", "peer", "name", "up1")
        ns.run("ip", "link", "set", "up1", "netns", outside.name)
        ns.run("ip", "addr", "add", f"{UPLINK}/24", "dev", "up0")
        ns.run("ip", "link", "set", "up0", "up")
        outside.run("ip", "addr", "add", f"{OUTSIDE}/24", "dev", "up1")
        outside.run("ip", "link", "set", "up1", "up")
        daemon = DaemonHarness(root, uri="qemu:///system", wrap=("ip", "netns", "exec", ns.name))
        daemon.start()
        e = Env(ns, daemon, root)
        e.outside = outside
        try:
            yield e
        finally:
            with contextlib.suppress(Exception):
                e.conn.close()
            daemon.stop()
            daemon.kill_all_guests()


def _until(command: str, tries: int = 90) -> str:
    """Guest shell text that runs `command` once a second until it succeeds (`tries` at most),
    its exit status that of the last try: a guest waits for a condition, not for a guessed time."""
    return (f"r=1; i=0; while [ $i -lt {tries} ]; do if {command}; then r=0; break; fi; i=$((i+1)); sleep 1; done; "
            "[ $r = 0 ]")


def _start_servers(env: Env) -> None:
    """The two servers, each listening once this returns (it says so), however slowly it started."""
    for ns, addr in ((env.ns, "192.168.122.1"), (env.outside, OUTSIDE)):
        server = subprocess.Popen(ns.cmd(sys.executable, "-c", SERVER, addr, "5555", str(env.seen)),
                                  stdout=subprocess.PIPE, text=True)
        assert server.stdout is not None and server.stdout.readline() == "listening\n", addr


def test_default_network_created_on_first_start(env: Env) -> None:
    (net,) = env.conn.list_networks()
    assert (net.name, net.active, net.autostart, net.persistent) == ("default", True, True, True)
    assert "<forward mode='nat'/>" in env.conn.get_network_xml("default")
    links = env.ns.run("ip", "-br", "addr", "show", "dev", net.bridge).stdout
    assert "192.168.122.1/24" in links
    assert "pyvirt_default" in env.ns.run("nft", "list", "tables").stdout


def test_guest_gets_lease_and_reaches_host_and_outside(env: Env, test_guest) -> None:  # noqa: ANN001
    xml = test_guest.domain_xml("netguest").replace(
        "<interface type='user'><model type='virtio'/></interface>",
        f"<interface type='network'><source network='default'/><mac address='{MAC}'/><model type='virtio'/>"
        "</interface>")
    env.conn.define_xml(xml)
    env.conn.start("netguest")
    wait_console(env.conn, "netguest", "PYVIRT-DHCP-OK", 120)
    leases = env.conn.network_dhcp_leases("default")
    assert [x["mac"] for x in leases] == [MAC]
    ip = leases[0]["ipaddr"]
    assert ip.startswith("192.168.122.") and leases[0]["prefix"] == 24
    (iface,) = env.conn.interface_addresses("netguest", "lease")
    assert iface["hwaddr"] == MAC and iface["addrs"][0]["addr"] == ip
    assert iface["name"].startswith("vnet")
    cli = subprocess.run([sys.executable, "-m", "pyvirt.cli.main", "-c", "qemu:///system", "net-dhcp-leases",
                          "default"], capture_output=True, text=True, env=env.daemon.env(), timeout=60)
    assert cli.returncode == 0 and MAC in cli.stdout and f"{ip}/24" in cli.stdout, cli
    _start_servers(env)
    env.guest_says("echo from-guest-1 | nc 192.168.122.1 5555", "NC1")
    env.guest_says(f"echo from-guest-2 | nc {OUTSIDE} 5555", "NC2")
    deadline = time.monotonic() + 60
    while not (env.received("from-guest-1") and env.received("from-guest-2")) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert env.received("from-guest-1") == [ip]  # on the bridge: the guest's own address
    assert env.received("from-guest-2") == [UPLINK]  # leaving the network: masqueraded


def test_kill9_restart_keeps_network_and_connectivity(env: Env) -> None:
    assert env.daemon.proc is not None
    env.daemon.kill(signal.SIGKILL)
    env.daemon.start()
    env.reconnect()
    (net,) = env.conn.list_networks()
    assert net.active
    assert [ln for ln in env.ns.run("ip", "-br", "link").stdout.split("\n") if ln.startswith("virbr")].__len__() == 1
    dnsmasqs = env.ns.run("pgrep", "-f", f"conf-file={env.root}", check=False).stdout.split()
    assert len(dnsmasqs) == 1
    env.guest_says(f"echo from-guest-3 | nc {OUTSIDE} 5555", "NC3")
    deadline = time.monotonic() + 60
    while not env.received("from-guest-3") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert env.received("from-guest-3") == [UPLINK]


def test_tap_nic_counters_and_hotplug(env: Env) -> None:
    """domifstat reads the guest's tap (its DHCP and TCP traffic moved both ways); a NIC hot-plugged
    on the network gets its own tap on the bridge (handed to QEMU over the monitor), the guest
    sees it, and an unplug removes the tap."""
    stats = env.conn.interface_stats("netguest", MAC)
    assert stats["rx_bytes"] > 0 and stats["tx_bytes"] > 0 and stats["rx_packets"] > 0
    (tap,) = [ln.split("'")[1] for ln in env.conn.get_xml("netguest").splitlines() if "<target dev='vnet" in ln]
    cli = subprocess.run([sys.executable, "-m", "pyvirt.cli.main", "-c", "qemu:///system", "domifstat", "netguest",
                          tap], capture_output=True, text=True, env=env.daemon.env(), timeout=60)
    assert cli.returncode == 0 and cli.stdout.startswith(f"{tap} rx_bytes "), cli
    assert [ln.split()[1] for ln in cli.stdout.split("\n") if ln] == [
        "rx_bytes", "rx_packets", "rx_errs", "rx_drop", "tx_bytes", "tx_packets", "tx_errs", "tx_drop"]
    bridge = env.conn.list_networks()[0].bridge
    nic = ("<interface type='network'><source network='default'/><mac address='52:54:00:5e:00:43'/>"
           "<model type='virtio'/></interface>")
    env.conn.attach_device("netguest", nic, live=True)
    (new_tap,) = [ln.split("'")[1] for ln in env.conn.get_xml("netguest").splitlines()
                  if "<target dev='vnet" in ln and f"'{tap}'" not in ln]
    assert new_tap in env.ns.run("ip", "-br", "link", "show", "master", bridge).stdout
    env.guest_says(_until("test -e /sys/class/net/eth1"), "HPNIC1", timeout=120)
    assert env.conn.interface_stats("netguest", "52:54:00:5e:00:43")["rx_errs"] == 0
    env.conn.detach_device("netguest", nic, live=True)
    assert new_tap not in env.ns.run("ip", "-br", "link").stdout
    env.guest_says("test ! -e /sys/class/net/eth1", "HPNIC2")


def test_domiftune_sets_tc_on_the_tap(env: Env) -> None:
    """domiftune on a running guest: libvirt's tc qdiscs on the tap (HTB class at the average rate,
    ceil = peak); where this kernel lacks a qdisc libvirt uses (sfq), libvirt's failure, and the
    tap and the definition are left as they were."""
    (tap,) = [ln.split("'")[1] for ln in env.conn.get_xml("netguest").splitlines() if "<target dev='vnet" in ln]
    before = env.conn.get_xml("netguest")
    try:
        env.conn.set_interface_parameters("netguest", MAC, {"inbound.average": 1000, "inbound.peak": 2000})
    except PyvirtError as exc:
        assert exc.message.startswith("internal error: Child process (tc qdisc add dev "), exc.message
        assert "htb" not in env.ns.run("tc", "qdisc", "show", "dev", tap).stdout  # what it made is gone
        assert env.conn.get_xml("netguest") == before
        assert env.conn.interface_parameters("netguest", MAC)["inbound.average"] == 0
    else:
        shown = env.ns.run("tc", "class", "show", "dev", tap).stdout
        assert "rate 8Mbit ceil 16Mbit" in shown, shown
        assert env.conn.interface_parameters("netguest", MAC)["inbound.peak"] == 2000
        env.conn.set_interface_parameters("netguest", MAC, {"inbound.average": 0})
        assert "htb" not in env.ns.run("tc", "qdisc", "show", "dev", tap).stdout


def test_isolated_network_does_not_forward(env: Env) -> None:
    events = env.conn.network_events("iso", timeout=20)  # subscribed from here on
    env.conn.create_network("<network><name>iso</name><bridge name='isobr0'/>"
                            "<ip address='10.98.0.1' prefix='24'/></network>")
    first = next(events)
    assert (first.name, first.event) == ("iso", NetworkEventType.STARTED)
    # a veth "guest" in a namespace of its own, plugged into the isolated bridge
    with N.netns() as guest:
        env.ns.run("ip", "link", "add", "isov0", "type", "veth", "peer", "name", "isov1")
        env.ns.run("ip", "link", "set", "isov0", "master", "isobr0", "up")
        env.ns.run("ip", "link", "set", "isov1", "netns", guest.name)
        guest.run("ip", "addr", "add", "10.98.0.50/24", "dev", "isov1")
        guest.run("ip", "link", "set", "isov1", "up")
        guest.run("ip", "route", "add", "default", "via", "10.98.0.1")
        on_bridge = guest.run(sys.executable, "-c", PROBE, "10.98.0.1", check=False)
        beyond = guest.run(sys.executable, "-c", PROBE, OUTSIDE, check=False)
    assert on_bridge.stdout.strip() == "refused"  # the link works: the bridge's host side answers
    assert beyond.stdout.strip() in ("refused", "unreachable"), "an isolated network forwarded traffic"
    assert env.received("iso") == []
    env.conn.destroy_network("iso")
    assert "isobr0" not in env.ns.run("ip", "-br", "link").stdout


def _install_and_wait_for_lease(env: Env, test_guest, network: str, mac: str) -> str:  # noqa: ANN001
    """Define and start "ni1" with `pyvirt install` (the CLI run in the daemon's namespace, as a user
    would), wait for its DHCP lease from the default network's dnsmasq; return its domain XML."""
    boot = (f"kernel={test_guest.kernel},initrd={test_guest.initrd},"
            f"kernel_args=\"{test_guest.cmdline}\"")
    cmd = [*env.daemon.wrap, sys.executable, "-m", "pyvirt.cli.main", "install", "--connect", "qemu:///system",
           "--import", "--name", "ni1", "--memory", "128", "--osinfo", "linux2022", "--boot", boot,
           "--disk", "none", "--network", f"{network},mac={mac}", "--graphics", "none", "--noautoconsole"]
    started = time.monotonic()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env.daemon.env(), timeout=120)
    assert done.returncode == 0, done
    xml = env.conn.get_xml("ni1")
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        leases = [x for x in env.conn.network_dhcp_leases("default") if x["mac"] == mac]
        if leases:
            break
        time.sleep(1)
    assert leases, f"ni1 ({network}) got no DHCP lease in 90 s"
    assert leases[0]["ipaddr"].startswith("192.168.122.")
    # libvirt's `domifaddr --source lease` reads only NICs of type 'network' (a bridge NIC has no
    # network object to ask), even when the bridge is a network's own
    want = [(mac, leases[0]["ipaddr"])] if network.startswith("network=") else []
    ifaces = env.conn.interface_addresses("ni1", "lease")
    assert [(i["hwaddr"], i["addrs"][0]["addr"]) for i in ifaces] == want, ifaces
    print(f"ni1 on {network}: lease after {time.monotonic() - started:.1f} s")
    if network.startswith("network="):
        _guests_reach_each_other(env, leases[0]["ipaddr"])
    env.conn.destroy("ni1")
    env.conn.undefine("ni1")
    return xml


def _guests_reach_each_other(env: Env, ni1_ip: str) -> None:
    """Two guests on one network talk directly: ni1 listens, netguest (started by an earlier test
    and still on `default`) connects to ni1's leased address and ni1 receives what it sent."""
    (lease,) = [x for x in env.conn.network_dhcp_leases("default") if x["mac"] == MAC]
    env.guest_says("(nc -l -p 6000 > /tmp/peer &)", "LISTEN", guest="ni1")
    # the listener is up once nc can connect, what it wrote is there once grep finds it
    env.guest_says(_until(f"echo from-{lease['ipaddr']} | nc {ni1_ip} 6000"), "PEER", timeout=120)
    env.guest_says(_until(f"grep -q from-{lease['ipaddr']} /tmp/peer"), "GOTPEER", guest="ni1", timeout=120)


def test_install_network_and_bridge_options_get_leases(env: Env, test_guest) -> None:  # noqa: ANN001
    """`pyvirt install --network network=default` and `--network bridge=<its bridge>` against the
    real network: the right <interface> is defined and the guest gets a lease from its dnsmasq."""
    xml = _install_and_wait_for_lease(env, test_guest, "network=default", "52:54:00:5e:00:51")
    assert "<interface type='network'>" in xml and "<source network='default'" in xml, xml
    bridge = env.conn.lookup_network("default").bridge
    xml = _install_and_wait_for_lease(env, test_guest, f"bridge={bridge}", "52:54:00:5e:00:52")
    assert "<interface type='bridge'>" in xml and f"<source bridge='{bridge}'" in xml, xml


def test_destroy_removes_bridge_dnsmasq_rules_and_guests_cannot_start(env: Env) -> None:
    env.conn.destroy("netguest")
    env.conn.destroy_network("default")
    assert "virbr0" not in env.ns.run("ip", "-br", "link").stdout
    assert "pyvirt_default" not in env.ns.run("nft", "list", "tables").stdout
    assert env.ns.run("pgrep", "-f", f"conf-file={env.root}", check=False).stdout.split() == []
    with pytest.raises(PyvirtError, match="network 'default' is not active"):
        env.conn.start("netguest")
    env.conn.start_network("default")
    assert env.conn.lookup_network("default").active
