"""The foundation on its own, no daemon: a domain XML becomes a running guest in a few lines of
library code (parse, fill defaults, build argv, spawn, QMP `cont`), and its serial console
shows the test guest's marker."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import time
from pathlib import Path

import pytest

from pyvirt.qemu.argv import RuntimePaths, build_argv
from pyvirt.qemu.caps import probe_emulator
from pyvirt.qemu.qmp import connect
from pyvirt.testguest import READY_MARKER, TestGuest
from pyvirt.xml import fill_defaults, parse_domain

pytestmark = pytest.mark.timeout(120)


def test_domain_xml_to_running_guest(test_guest: TestGuest, tmp_path: Path) -> None:
    console = tmp_path / "console.log"
    xml = f"""<domain type='qemu'>
      <name>lib</name>
      <memory unit='MiB'>192</memory>
      <os>
        <type arch='x86_64' machine='q35'>hvm</type>
        <kernel>{test_guest.kernel}</kernel>
        <initrd>{test_guest.initrd}</initrd>
        <cmdline>{test_guest.cmdline}</cmdline>
      </os>
      <features><acpi/></features>
      <devices>
        <serial type='file'><source path='{console}'/></serial>
        <video><model type='none'/></video>
      </devices>
    </domain>"""

    # the library code a user needs
    domain = fill_defaults(parse_domain(xml))
    monitor = socket.socket(socket.AF_UNIX)
    monitor.bind(str(tmp_path / "qmp.sock"))
    monitor.listen(1)
    argv = build_argv(domain, probe_emulator(), runtime=RuntimePaths(
        monitor_fd=monitor.fileno(), pidfile=str(tmp_path / "qemu.pid"), domain_dir=str(tmp_path)))
    qemu = subprocess.Popen(argv, pass_fds=(monitor.fileno(),), stderr=subprocess.PIPE)
    monitor.close()

    async def run() -> str:
        qmp = await connect(tmp_path / "qmp.sock", timeout=10)
        try:
            await qmp.execute("cont")
            deadline = time.monotonic() + 60
            while READY_MARKER not in console.read_text(errors="replace"):
                assert time.monotonic() < deadline, console.read_text(errors="replace")[-500:]
                await asyncio.sleep(0.1)
            status = await qmp.execute("query-status")
            with contextlib.suppress(Exception):  # QEMU may hang up before its reply to quit is read
                await qmp.execute("quit")
            return status["status"]
        finally:
            with contextlib.suppress(Exception):
                await qmp.disconnect()

    try:
        assert asyncio.run(run()) == "running"
        assert qemu.wait(10) == 0
    finally:
        if qemu.poll() is None:
            qemu.kill()
            qemu.wait()
    assert "-accel" in argv and argv[argv.index("-accel") + 1] == "tcg"
