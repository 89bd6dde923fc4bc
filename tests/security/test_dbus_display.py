"""D-Bus displays as libvirt 9.0 runs them: a system daemon starts the guest's private bus
(dbus-daemon with libvirt's bus configuration, as QEMU's user) before QEMU, QEMU 7.2 serves its
display on it (``org.qemu`` owns its name there), and every end of the guest stops the bus."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from pyvirt.qemu import process
from pyvirt.testguest import rom_domain_xml
from tests.security.conftest import root_system_state
from tests.security.fakedriver import destroy_all


def test_private_bus_serves_qemus_dbus_display(open_root: Path) -> None:
    if os.geteuid() != 0 or shutil.which("qemu-system-x86_64") is None or shutil.which("dbus-daemon") is None:
        pytest.skip("needs root, QEMU and dbus-daemon")
    probe = subprocess.run(["qemu-system-x86_64", "-display", "help"], capture_output=True, text=True, timeout=30)
    if "dbus" not in probe.stdout.split():
        pytest.skip("this QEMU has no dbus display module")
    from pyvirt.daemon.driver import QemuDriver

    root = open_root
    paths, rom = root_system_state(root)
    xml = rom_domain_xml("dbd", rom).replace("<devices>", "<devices><graphics type='dbus'/>")

    async def scenario() -> None:
        drv = QemuDriver(paths)
        await drv.load()
        try:
            await drv.define_xml(xml)
            await drv.start("dbd")
            guest_dir = drv.store.runtime_files("dbd").private_dir
            sock = guest_dir / "dbus.sock"
            assert sock.is_socket()
            names = subprocess.run(["dbus-send", f"--bus=unix:path={sock}", "--print-reply",
                                    "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus",
                                    "org.freedesktop.DBus.ListNames"], capture_output=True, text=True, timeout=30)
            assert "org.qemu" in names.stdout, names.stdout + names.stderr  # QEMU's display is on the bus
            record = next(guest_dir.glob("dbus.helper.json"))
            import json

            raw = json.loads(record.read_text())
            ident = process.ProcessIdentity(raw["pid"], raw["start_ticks"])
            await drv.destroy("dbd")
            deadline = time.monotonic() + 60
            while process.identity_alive(ident) and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            assert not process.identity_alive(ident)  # the bus went with the guest
        finally:
            await destroy_all(drv)

    asyncio.run(scenario())
