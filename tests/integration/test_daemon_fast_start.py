"""A start with nothing to do before the vCPUs run launches QEMU running (no -S, no cont); one
with a pty console keeps -S so that the console's history starts at the guest's first byte.

The guest is the firmware-only ROM of pyvirt.testguest (no kernel: it writes its marker to COM1
as its first instructions), so these tests need QEMU but not the built test guest.
"""

from __future__ import annotations

import contextlib
import re
import time
from pathlib import Path

import pytest

from pyvirt.api import DomainState, RunningReason
from pyvirt.testguest import ROM_MARKER, rom_domain_xml, rom_image
from tests.daemon_harness import DaemonHarness, live_processes, wait_console

pytestmark = pytest.mark.timeout(120)


def _qemu_argv(daemon: DaemonHarness, name: str) -> list[bytes]:
    needle = f"guest={name}".encode()
    for pid in daemon.qemu_pids():
        for p, cmd in live_processes():
            if p == pid and any(needle in arg for arg in cmd):
                return cmd
    raise AssertionError(f"no QEMU runs {name}")


def _wait_file(path: Path, marker: str, timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and marker in (text := path.read_text(errors="replace")):
            return text
        time.sleep(0.05)
    raise TimeoutError(f"{marker!r} not in {path}")


def test_start_without_pty_runs_at_once_and_pty_keeps_its_first_bytes(daemon: DaemonHarness) -> None:
    rom = daemon.root / "rom.bin"
    rom.write_bytes(rom_image())
    serial = daemon.root / "serial.log"
    conn = daemon.connect()
    conn.define_xml(rom_domain_xml("romfile", rom, serial))
    conn.define_xml(rom_domain_xml("rompty", rom))

    info = conn.start("romfile")
    assert (info.state, info.reason) == (DomainState.RUNNING, RunningReason.BOOTED)
    assert b"-S" not in _qemu_argv(daemon, "romfile")
    assert _wait_file(serial, ROM_MARKER).startswith(ROM_MARKER)  # the guest ran without a cont
    conn.suspend("romfile")  # the monitor is connected all the same
    assert conn.get_state("romfile") == (DomainState.PAUSED, 1)
    conn.resume("romfile")

    info = conn.start("rompty")
    assert b"-S" in _qemu_argv(daemon, "rompty")
    assert (info.state, info.reason) == (DomainState.RUNNING, RunningReason.BOOTED)
    wait_console(conn, "rompty", ROM_MARKER, timeout=60)  # the relay had the pty before the first byte

    conn.destroy("romfile")
    info = conn.start("romfile", paused=True)
    assert b"-S" in _qemu_argv(daemon, "romfile")
    assert info.state == DomainState.PAUSED
    conn.destroy("romfile")
    conn.destroy("rompty")


def test_daemon_restart_reattaches_a_guest_started_running(daemon: DaemonHarness) -> None:
    rom = daemon.root / "rom.bin"
    rom.write_bytes(rom_image())
    conn = daemon.connect()
    conn.define_xml(rom_domain_xml("romfile", rom, daemon.root / "serial.log"))
    dom_id = conn.start("romfile").id
    daemon.kill()
    daemon.start()
    conn = daemon.connect()
    info = conn.get_info("romfile")
    assert (info.state, info.reason, info.id) == (DomainState.RUNNING, RunningReason.BOOTED, dom_id)
    conn.destroy("romfile")


def test_restarted_daemon_relays_the_recorded_pty(daemon: DaemonHarness) -> None:
    """A re-attach opens the pty its live XML names (no query-chardev): the guest, paused until
    after the restart, prints its first bytes to the console the new daemon relays."""
    rom = daemon.root / "rom.bin"
    rom.write_bytes(rom_image())
    conn = daemon.connect()
    conn.define_xml(rom_domain_xml("romre", rom))
    conn.start("romre", paused=True)
    found = re.search(r"<serial type='pty' tty='(/dev/pts/[0-9]+)'>", conn.get_xml("romre"))
    assert found is not None
    tty = f"<source path='{found.group(1)}'/>"
    daemon.kill()
    daemon.start()
    conn = daemon.connect()
    assert tty in conn.get_xml("romre")  # the same pty, recorded before
    with conn.open_console("romre", history=True) as console:
        conn.resume("romre")
        seen = b""
        deadline = time.monotonic() + 60
        while ROM_MARKER.encode() not in seen and time.monotonic() < deadline:
            with contextlib.suppress(TimeoutError):
                seen += console.read(65536, timeout=1.0)
    assert ROM_MARKER.encode() in seen
    conn.destroy("romre")


def test_qemu_commandline_passthrough_reaches_a_started_qemu(daemon: DaemonHarness) -> None:
    """<qemu:commandline>: the args end QEMU's argv (before -sandbox) and the env is in its
    environment; QEMU accepts the harmless extra word and the guest runs."""
    rom = daemon.root / "rom.bin"
    rom.write_bytes(rom_image())
    serial = daemon.root / "serial-ns.log"
    xml = rom_domain_xml("romns", rom, serial).replace(
        "<domain ", "<domain xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0' ", 1).replace(
        "</domain>", "<qemu:commandline><qemu:arg value='-msg'/><qemu:arg value='guest-name=off'/>"
        "<qemu:env name='PYVIRT_NS_TEST' value='a b'/></qemu:commandline></domain>")
    conn = daemon.connect()
    conn.define_xml(xml)
    assert "<qemu:arg value='guest-name=off'/>" in conn.get_xml("romns")
    conn.start("romns")
    try:
        argv = _qemu_argv(daemon, "romns")
        at = argv.index(b"guest-name=off")
        assert argv[at - 1:at + 2] == [b"-msg", b"guest-name=off", b"-sandbox"]
        pid = next(p for p, cmd in live_processes() if p in daemon.qemu_pids() and cmd == argv)
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        assert b"PYVIRT_NS_TEST=a b" in environ
        assert _wait_file(serial, ROM_MARKER).startswith(ROM_MARKER)
    finally:
        conn.destroy("romns")
