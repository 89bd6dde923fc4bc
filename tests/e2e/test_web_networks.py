"""The web UI's networks page in a real browser against a real network: pyvirtd
(qemu:///system) in a private network namespace (tests/netns.py: bridges, dnsmasq and nft
rules never touch the host's), `pyvirt web` logged in with its token, Debian's chromium.

One namespace, one daemon, one guest for the module, in order: create a NAT network from the
page (its bridge and address appear in the namespace), the test guest on it gets a lease that
the page's "DHCP leases" shows, autostart on and off, stop (the bridge goes), delete.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pyvirt.api import PyvirtError
from pyvirt.testguest import DHCP_MARKER, TestGuest
from tests import netns as N
from tests.daemon_harness import DaemonHarness, wait_console
from tests.e2e.test_web_browser import CHROMIUM, CHROMIUM_ARGS, SHOTS, Web, graph_now

NET = "webnet"
SUBNET = "192.168.151"
MAC = "52:54:00:5e:01:51"
GUEST = "netwebguest"
# ICMP echo requests of 1400 bytes, five a second, for argv[2] seconds (iputils' ping is not
# installed everywhere; a raw socket needs root, which these namespace tests have)
PINGER = """
import socket, struct, sys, time
def csum(b):
    s = sum(struct.unpack(f"!{len(b) // 2}H", b)); s = (s >> 16) + (s & 0xFFFF); s += s >> 16
    return ~s & 0xFFFF
sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
payload, seq, end = bytes(1400), 0, time.monotonic() + float(sys.argv[2])
while time.monotonic() < end:
    seq = (seq + 1) & 0xFFFF
    head = struct.pack("!BBHHH", 8, 0, 0, 0x4242, seq)
    sock.sendto(struct.pack("!BBHHH", 8, 0, csum(head + payload), 0x4242, seq) + payload, (sys.argv[1], 0))
    time.sleep(0.2)
"""

pytestmark = [pytest.mark.timeout(300), pytest.mark.slow,
              pytest.mark.skipif(N.available() is not None, reason=str(N.available()))]
sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, test_guest: TestGuest) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("webnet")
    (root / "boot").mkdir()
    with N.netns() as ns:
        daemon = DaemonHarness(root, uri="qemu:///system", wrap=("ip", "netns", "exec", ns.name),
                               env={"PYVIRT_NETWORK_AUTOSTART": "0"})  # no `default` network: the page makes its own
        daemon.start()
        web = Web(daemon)
        conn = daemon.connect()
        SHOTS.mkdir(parents=True, exist_ok=True)
        try:
            with sync_api.sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
                page = browser.new_page(viewport={"width": 1280, "height": 860})
                page.set_default_timeout(30_000)
                page.goto(f"{web.base}/login?token={web.token}")
                try:
                    yield {"ns": ns, "daemon": daemon, "conn": conn, "page": page, "web": web,
                           "guest": test_guest.copied_to(root / "boot")}
                finally:
                    browser.close()
        finally:
            with contextlib.suppress(Exception):
                conn.close()
            web.stop()
            daemon.stop()
            daemon.kill_all_guests()


def row(page: Any) -> Any:
    return page.locator(f"tr[data-network='{NET}']")


def state(page: Any, text: str) -> Any:
    return row(page).locator(".state", has_text=re.compile(f"^{text}$"))


def bridge_addresses(env: dict[str, Any], bridge: str) -> str:
    return env["ns"].run("ip", "-br", "addr", "show", "dev", bridge, check=False).stdout


def test_create_a_nat_network_from_the_page(env: dict[str, Any]) -> None:
    page, conn = env["page"], env["conn"]
    page.goto(env["web"].base + "/#/networks")
    page.locator("h1#net-h").wait_for()
    page.fill("#net-name", NET)
    page.select_option("#net-mode", "nat")
    page.fill("#net-subnet", f"{SUBNET}.0/24")
    page.get_by_role("button", name="Create network").click()
    # "active" exactly: a substring match would also take the "inactive" the row shows between the
    # network's 'defined' and 'started' events (what let a CI run read the bridge cell too early)
    state(page, "active").wait_for()  # started ("Start it now")
    info = conn.lookup_network(NET)
    assert info.active and info.persistent and not info.autostart
    assert row(page).locator("td").nth(2).inner_text() == info.bridge  # the bridge it made
    assert f"{SUBNET}.1/24" in bridge_addresses(env, info.bridge)  # in the test's namespace
    xml = conn.get_network_xml(NET)
    assert "<forward mode='nat'/>" in xml and f"<range start='{SUBNET}.2' end='{SUBNET}.254'/>" in xml, xml
    page.screenshot(path=str(SHOTS / "networks-created.png"))


def test_dhcp_leases_show_the_guest(env: dict[str, Any]) -> None:
    page, conn, guest = env["page"], env["conn"], env["guest"]
    xml = guest.domain_xml(GUEST, memory_mib=128).replace(
        "<interface type='user'><model type='virtio'/></interface>",
        f"<interface type='network'><source network='{NET}'/><mac address='{MAC}'/><model type='virtio'/></interface>")
    conn.define_xml(xml)
    conn.start(GUEST)
    wait_console(conn, GUEST, DHCP_MARKER, 120)  # the guest's udhcpc got a lease from the network's dnsmasq
    row(page).get_by_role("button", name="DHCP leases").click()
    lease = row(page).locator("ul.leases li").first
    lease.wait_for()
    text = lease.inner_text()
    assert MAC in text and f"{SUBNET}." in text, text
    (served,) = conn.network_dhcp_leases(NET)
    assert served["ipaddr"] in text  # the page shows what pyvirtd's dnsmasq handed out
    page.screenshot(path=str(SHOTS / "networks-leases.png"))


def test_guest_network_graph_shows_traffic(env: dict[str, Any]) -> None:
    """The guest page's network graph: pings from the namespace to the guest on the network's
    bridge make its tap count bytes both ways, which the graph's newest figures show."""
    page, conn = env["page"], env["conn"]
    (lease,) = conn.network_dhcp_leases(NET)
    page.goto(f"{env['web'].base}/#/guest/{GUEST}")
    page.locator("figure[data-graph='net'] canvas").first.wait_for()
    pinger = subprocess.Popen(env["ns"].cmd(sys.executable, "-c", PINGER, lease["ipaddr"], "60"),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        rx, tx = graph_now(page, "net", lambda v: v[0] > 0 and v[1] > 0)
    finally:
        pinger.terminate()
        _, err = pinger.communicate(timeout=10)
    assert "Error" not in err, err
    assert rx > 1 and tx > 1  # KiB/s: five 1.4 KiB pings a second each way
    page.locator(".graphs").screenshot(path=str(SHOTS / "guest-graphs.png"))
    conn.destroy(GUEST)
    conn.undefine(GUEST)


def test_autostart_stop_and_delete(env: dict[str, Any]) -> None:
    page, conn = env["page"], env["conn"]
    bridge = conn.lookup_network(NET).bridge
    page.goto(env["web"].base + "/#/networks")
    row(page).get_by_role("button", name="Autostart", exact=True).click()
    row(page).get_by_role("button", name="No autostart").wait_for()
    assert conn.lookup_network(NET).autostart
    row(page).get_by_role("button", name="No autostart").click()
    row(page).get_by_role("button", name="Autostart", exact=True).wait_for()
    assert not conn.lookup_network(NET).autostart
    row(page).get_by_role("button", name="Stop").click()
    state(page, "inactive").wait_for()  # from the network event, no reload
    assert not conn.lookup_network(NET).active
    assert row(page).locator("td").nth(2).inner_text() == bridge  # the definition keeps its bridge's name
    assert bridge_addresses(env, bridge) == ""  # its bridge is gone from the namespace
    row(page).get_by_role("button", name="Delete").click()
    row(page).wait_for(state="detached")
    with pytest.raises(PyvirtError):
        conn.lookup_network(NET)
    assert not list(Path(env["daemon"].root, "config").rglob(f"{NET}.xml"))
