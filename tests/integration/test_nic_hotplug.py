"""Guest NICs changed while the guest runs, against pyvirtd (session) and the real test guest under
TCG, shared by the tests of this module in order: attach-interface plugs a virtio NIC the guest's
kernel sees (/sys/class/net) and device-added is on the event stream; domif-setlink takes the
guest's carrier down and up; detach-interface waits for QEMU's DEVICE_DELETED, the guest loses the
NIC and device-removed follows; --config changes leave the running guest alone.  A session daemon
has no bridges: a network NIC runs on user-mode networking there (tap NICs and domifstat are
covered in test_network_daemon.py, inside a network namespace)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from pyvirt.api import DeviceAddedEvent, DeviceRemovedEvent
from pyvirt.testguest import READY_MARKER, TestGuest
from tests.daemon_harness import DaemonHarness, guest_shell, guest_xml, wait_console

pytestmark = [pytest.mark.qemu, pytest.mark.timeout(300)]
PYVIRT = [sys.executable, "-m", "pyvirt.cli.main", "-c", "qemu:///session"]
DOM = "nichp"


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory, qemu_binary: str, test_guest: TestGuest) -> Iterator[DaemonHarness]:
    harness = DaemonHarness(tmp_path_factory.mktemp("nichp"))
    harness.start()
    try:
        conn = harness.connect()
        conn.define_xml(guest_xml(test_guest, DOM))
        conn.start(DOM)
        wait_console(conn, DOM, READY_MARKER)
        yield harness
    finally:
        harness.stop()
        harness.kill_all_guests()


def _cli(daemon: DaemonHarness, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PYVIRT, *args], capture_output=True, text=True, env=daemon.env(), timeout=90)


def _guest_nics(daemon: DaemonHarness, marker: str, before: str = "") -> dict[str, str]:
    """{guest interface: carrier} as the guest's kernel reports them."""
    conn = daemon.connect()
    text = guest_shell(conn, DOM, f"{before}for n in /sys/class/net/eth*; do echo NIC:${{n##*/}}:"
                       "$(cat $n/carrier 2>/dev/null); done", marker)
    pairs = [w.split(":") for w in text.split() if w.startswith("NIC:eth") and w.count(":") == 2]
    return {name: carrier for _, name, carrier in pairs}


def _wait_nics(daemon: DaemonHarness, want, marker: str) -> dict[str, str]:
    deadline = time.monotonic() + 30
    n = 0
    while True:
        nics = _guest_nics(daemon, f"{marker}{n}")
        if want(nics) or time.monotonic() > deadline:
            return nics
        n += 1
        time.sleep(1)


def test_attach_interface_reaches_the_guest(daemon: DaemonHarness) -> None:
    conn = daemon.connect()
    assert set(_guest_nics(daemon, "NICA")) == {"eth0"}
    events = conn.events(DOM, timeout=60, kinds=[DeviceAddedEvent.KIND])
    out = _cli(daemon, "attach-interface", DOM, "network", "default", "--model", "virtio",
               "--mac", "52:54:00:aa:00:01")
    assert (out.returncode, out.stdout, out.stderr) == (0, "Interface attached successfully\n\n", "")
    ev = next(iter(events))
    assert (type(ev), ev.device, ev.name) == (DeviceAddedEvent, "net1", DOM)
    nics = _wait_nics(daemon, lambda n: "eth1" in n, "NICB")
    assert set(nics) == {"eth0", "eth1"}
    listing = _cli(daemon, "domiflist", DOM).stdout
    assert "52:54:00:aa:00:01" in listing and listing.count("virtio") == 2
    assert "52:54:00:aa:00:01" not in _cli(daemon, "domiflist", DOM, "--inactive").stdout  # live only


def test_link_state_follows_domif_setlink(daemon: DaemonHarness) -> None:
    # a carrier is only reported for an interface that is up
    assert _guest_nics(daemon, "NICU", "ip link set eth1 up || ifconfig eth1 up; sleep 1; ")["eth1"] == "1"
    down = _cli(daemon, "domif-setlink", DOM, "52:54:00:aa:00:01", "down")
    assert (down.returncode, down.stdout) == (0, "Device updated successfully\n\n"), down.stderr
    assert _cli(daemon, "domif-getlink", DOM, "52:54:00:aa:00:01").stdout == "52:54:00:aa:00:01 down\n"
    assert _wait_nics(daemon, lambda n: n.get("eth1") == "0", "NICC").get("eth1") == "0"
    assert _cli(daemon, "domif-setlink", DOM, "52:54:00:aa:00:01", "up").returncode == 0
    assert _wait_nics(daemon, lambda n: n.get("eth1") == "1", "NICD").get("eth1") == "1"
    bad = _cli(daemon, "domif-setlink", DOM, "52:54:00:aa:00:09", "down")
    assert (bad.returncode, bad.stderr) == (1, "error: interface '52:54:00:aa:00:09' not found\n")


def test_detach_interface_waits_for_the_guest(daemon: DaemonHarness) -> None:
    conn = daemon.connect()
    events = conn.events(DOM, timeout=60, kinds=[DeviceRemovedEvent.KIND])
    watcher = subprocess.Popen([*PYVIRT, "event", DOM, "--event", "device-removed", "--timeout", "60"],
                               stdout=subprocess.PIPE, text=True, env=daemon.env())
    time.sleep(3)  # virsh event subscribes once it started
    out = _cli(daemon, "detach-interface", DOM, "user", "--mac", "52:54:00:aa:00:01")
    assert (out.returncode, out.stdout, out.stderr) == (0, "Interface detached successfully\n\n", "")
    ev = next(iter(events))
    assert (type(ev), ev.device) == (DeviceRemovedEvent, "net1")
    printed, _ = watcher.communicate(timeout=60)
    assert printed.startswith(f"event 'device-removed' for domain '{DOM}': net1\nevents received: 1\n")
    assert set(_guest_nics(daemon, "NICE")) == {"eth0"}  # gone before the command returned
    assert "52:54:00:aa:00:01" not in _cli(daemon, "domiflist", DOM).stdout
    again = _cli(daemon, "detach-interface", DOM, "user", "--mac", "52:54:00:aa:00:01")
    assert (again.returncode, again.stderr) == (
        1, "error: No interface with MAC address 52:54:00:aa:00:01 was found\nerror: Failed to detach interface\n")


def test_config_changes_leave_the_running_guest(daemon: DaemonHarness) -> None:
    before = _cli(daemon, "dumpxml", DOM).stdout
    out = _cli(daemon, "attach-interface", DOM, "network", "default", "--mac", "52:54:00:aa:00:02", "--config")
    assert out.returncode == 0, out.stderr
    assert "52:54:00:aa:00:02" in _cli(daemon, "domiflist", DOM, "--inactive").stdout
    assert _cli(daemon, "dumpxml", DOM).stdout == before
    # a bad device changes nothing anywhere
    bad = _cli(daemon, "attach-interface", DOM, "network", "default", "--model", "nosuchmodel")
    assert bad.returncode == 1 and "nosuchmodel" in bad.stderr
    assert _cli(daemon, "dumpxml", DOM).stdout == before
    removed = _cli(daemon, "detach-interface", DOM, "network", "--mac", "52:54:00:aa:00:02", "--config")
    assert removed.returncode == 0, removed.stderr
    assert "52:54:00:aa:00:02" not in _cli(daemon, "domiflist", DOM, "--inactive").stdout
    stats = _cli(daemon, "domifstat", DOM, "eth9")
    assert (stats.returncode, stats.stderr) == (
        1, f"error: Failed to get interface stats {DOM} eth9\nerror: invalid argument: 'eth9' is not a known interface\n")
