"""pyvirt xml and pyvirt clone against a private pyvirtd and the real test guest under TCG.

`pyvirt xml GUEST --edit --vcpus 2` on a running guest changes the next boot (the guest
then counts 2 CPUs); `pyvirt clone --auto-clone` makes a guest with its own name, UUID, MAC
and disk copy that boots beside the original; bad input changes nothing.  A private daemon
per test and
no more boots than the checks need.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from lxml import etree

from pyvirt.api import PyvirtError
from pyvirt.testguest import READY_MARKER, TestGuest
from tests.daemon_harness import DaemonHarness, guest_xml, wait_console

pytestmark = pytest.mark.timeout(400)


def _tool(daemon: DaemonHarness, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = daemon.env()
    env.pop("VIRTINST_TEST_SUITE", None)
    return subprocess.run([sys.executable, "-m", f"pyvirt.cli.{tool}", "--connect",
                           "qemu:///session", *args], env=env, capture_output=True, text=True,
                          timeout=180, stdin=subprocess.DEVNULL)


def _xml(daemon: DaemonHarness, name: str, inactive: bool = False) -> etree._Element:
    return etree.fromstring(daemon.connect().get_xml(name, inactive=inactive).encode())


def _guest_cpus(daemon: DaemonHarness, name: str) -> int:
    """The CPU count the running guest sees, asked on its serial console."""
    conn = daemon.connect()
    with conn.open_console(name) as console:
        console.write(b"\necho NCPU=$(grep -c ^processor /proc/cpuinfo)\n")
        seen, deadline = b"", time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(TimeoutError):
                seen += console.read(65536, timeout=1)
            m = re.search(rb"NCPU=(\d+)", seen)
            if m:
                return int(m.group(1))
    raise AssertionError(f"no CPU count on the console: {seen[-300:]!r}")


def test_edit_vcpus_applies_at_next_boot(daemon: DaemonHarness, test_guest: TestGuest,
                                         guest_disk: Path) -> None:
    conn = daemon.connect()
    conn.define_xml(guest_xml(test_guest, "vx", disk=guest_disk))
    conn.start("vx")
    wait_console(conn, "vx", READY_MARKER, 120)
    assert _guest_cpus(daemon, "vx") == 1

    proc = _tool(daemon, "xml", "vx", "--edit", "--vcpus", "2")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Domain 'vx' defined successfully." in proc.stdout
    assert "Changes will take effect after the domain is fully powered off." in proc.stdout
    assert _xml(daemon, "vx", inactive=True).findtext("vcpu") == "2"
    assert _xml(daemon, "vx").findtext("vcpu") == "1"  # the running guest is unchanged

    # Live changes go through the connection's hotplug calls; without them virt-xml's
    # error names the call and nothing is defined.
    proc = _tool(daemon, "xml", "vx", "--add-device", "--disk", "size=0.01,bus=virtio", "--update")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Device hotplug successful." in proc.stdout
    assert len(_xml(daemon, "vx").findall("devices/disk")) == 2
    assert len(_xml(daemon, "vx", inactive=True).findall("devices/disk")) == 2
    with conn.open_console("vx") as console:
        seen, deadline = b"", time.monotonic() + 90  # the guest's PCI hotplug takes a while
        while not re.search(rb"BLK=[^\n]*vdb", seen) and time.monotonic() < deadline:
            console.write(b"\necho BLK=$(ls /sys/block | tr '\\n' ,)\n")
            with contextlib.suppress(TimeoutError):
                seen += console.read(65536, timeout=2)
    assert re.search(rb"BLK=[^\n]*vdb", seen), seen[-300:]

    conn.destroy("vx")
    conn.start("vx")
    wait_console(conn, "vx", READY_MARKER, 120)
    assert _guest_cpus(daemon, "vx") == 2


def test_bad_edits_change_nothing(daemon: DaemonHarness, test_guest: TestGuest) -> None:
    conn = daemon.connect()
    conn.define_xml(guest_xml(test_guest, "vxbad"))
    before = conn.get_xml("vxbad", inactive=True)
    for args, msg in ((["--edit", "--network", "foo=bar"], "Unknown --network options: ['foo']"),
                      (["--edit", "--vcpus", "cores=x"], "--vcpus"),
                      (["--edit", "--memory", "hugepages=maybe"], "hugepages"),
                      (["--edit", "--xml", "./devices/foo/@bar=1"], "")):
        proc = _tool(daemon, "xml", "vxbad", *args)
        if msg:
            assert proc.returncode == 1, (args, proc.stdout, proc.stderr)
            assert msg in proc.stderr, (args, proc.stderr)
        else:  # an unknown element: libvirt's schema refuses it, nothing is defined
            assert proc.returncode == 1, (args, proc.stdout, proc.stderr)
        assert conn.get_xml("vxbad", inactive=True) == before, args
    conn.undefine("vxbad")


def test_clone_boots_beside_original(daemon: DaemonHarness, test_guest: TestGuest,
                                     guest_disk: Path) -> None:
    conn = daemon.connect()
    conn.define_xml(guest_xml(test_guest, "orig", disk=guest_disk))
    proc = _tool(daemon, "clone", "--original", "orig", "--auto-clone")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Clone 'orig-clone' created successfully." in proc.stdout

    a, b = _xml(daemon, "orig", inactive=True), _xml(daemon, "orig-clone", inactive=True)
    assert a.findtext("uuid") != b.findtext("uuid")
    amac = a.find("devices/interface/mac").get("address")
    bmac = b.find("devices/interface/mac").get("address")
    assert amac != bmac
    apath = a.find("devices/disk/source").get("file")
    bpath = b.find("devices/disk/source").get("file")
    assert apath == str(guest_disk)
    assert bpath == str(guest_disk.with_name("disk-clone.qcow2"))
    assert Path(bpath).read_bytes()[:4] == b"QFI\xfb"  # its own qcow2 copy

    conn.start("orig")
    conn.start("orig-clone")
    wait_console(conn, "orig", READY_MARKER, 120)
    wait_console(conn, "orig-clone", READY_MARKER, 120)

    # Onto an existing name, or while the original runs: refused, nothing touched.
    proc = _tool(daemon, "clone", "--original", "orig", "--auto-clone")
    assert proc.returncode == 1 and "Domain to clone must be shutoff." in proc.stderr
    conn.destroy("orig")
    proc = _tool(daemon, "clone", "--original", "orig", "--name", "orig-clone",
                 "--auto-clone")
    assert proc.returncode == 1
    assert "Invalid name for new guest: Guest name 'orig-clone' is already in use." in proc.stderr
    proc = _tool(daemon, "clone", "--original", "orig", "--name", "third", "--file", bpath)
    assert proc.returncode == 1 and "This will overwrite the existing path" in proc.stderr
    with pytest.raises(PyvirtError):
        conn.lookup_domain("third")
    assert _xml(daemon, "orig-clone", inactive=True).findtext("uuid") == b.findtext("uuid")
    conn.destroy("orig-clone")
