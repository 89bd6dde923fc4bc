"""A plain ``pyvirt-install`` on qemu:///session, with virt-install's defaults, must boot.

virt-install's default display on a QEMU connection is SPICE, which brings a spicevmc agent
channel, two spicevmc USB redirectors, a SPICE audio backend and the ICH9 EHCI + UHCI companion
controllers; ``--cloud-init`` adds ``<sysinfo type='smbios'>`` (serial ``ds=nocloud``) with
``<os><smbios mode='sysinfo'/>``.  These tests run the CLI as a user would (no ``--graphics``)
against a private pyvirtd and check that the TCG test guest reaches its READY marker, so
pyvirtd accepts everything virt-install writes by default and QEMU accepts the argv built from it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree

from pyvirt.testguest import READY_MARKER, TestGuest
from tests.daemon_harness import DaemonHarness, wait_console

pytestmark = pytest.mark.timeout(300)
INSTALL = [sys.executable, "-m", "pyvirt.cli.install"]



def _install(daemon: DaemonHarness, guest: TestGuest, name: str, *extra: str) -> subprocess.CompletedProcess[str]:
    """Run pyvirt-install with the default graphics (no --graphics), as the brief's user would."""
    env = daemon.env()  # PYVIRT_STATE_ROOT=<harness root>: the CLI talks to this test's pyvirtd
    env["XDG_CACHE_HOME"] = str(daemon.root / "cache")
    env.pop("VIRTINST_TEST_SUITE", None)
    cmd = [*INSTALL, "--connect", "qemu:///session", "--name", name, "--memory", "256", "--import",
           "--boot", f'kernel={guest.kernel},initrd={guest.initrd},kernel_args="console=ttyS0 panic=-1 quiet"',
           "--disk", "none", "--osinfo", "linux2022", "--virt-type", "qemu", "--noautoconsole", *extra]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stdout + proc.stderr + daemon.log_text()
    return proc


def _live(daemon: DaemonHarness, name: str) -> etree._Element:
    return etree.fromstring(daemon.connect().get_xml(name).encode())


def test_default_graphics_boots(daemon: DaemonHarness, test_guest: TestGuest) -> None:
    _install(daemon, test_guest, "g")
    conn = daemon.connect()
    wait_console(conn, "g", READY_MARKER, 120)
    live = _live(daemon, "g")
    assert live.find("devices/graphics").get("type") == "spice"
    redirs = live.findall("devices/redirdev")
    assert [r.get("type") for r in redirs] == ["spicevmc", "spicevmc"]
    assert [r.find("alias").get("name") for r in redirs] == ["redir0", "redir1"]
    chans = [c for c in live.findall("devices/channel") if c.get("type") == "spicevmc"]
    assert chans and chans[0].find("target").get("name") == "com.redhat.spice.0"


def test_default_graphics_cloud_init_boots(daemon: DaemonHarness, test_guest: TestGuest) -> None:
    proc = _install(daemon, test_guest, "gci", "--cloud-init", "root-password-generate=on,disable=on")
    assert "Password for first root login" in proc.stdout
    conn = daemon.connect()
    wait_console(conn, "gci", READY_MARKER, 120)
    live = _live(daemon, "gci")
    assert live.findtext("sysinfo/system/entry[@name='serial']") == "ds=nocloud"
    assert live.find("os/smbios").get("mode") == "sysinfo"
    # QEMU really got the SMBIOS serial: its command line carries libvirt's -smbios option.
    cmdlines = [Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") for pid in daemon.qemu_pids()]
    assert any(b"type=1,serial=ds=nocloud" in args for args in cmdlines), cmdlines
