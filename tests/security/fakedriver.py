"""An in-process QemuDriver whose guests run the fake QEMU (tests/fakeqemu.py): no real QEMU needed.

Capabilities are given, not probed, so these tests run anywhere; what they exercise is the
daemon's side of every monitor interaction, against a QEMU that misbehaves on request.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from pyvirt.daemon.driver import QemuDriver
from pyvirt.paths import state_paths
from pyvirt.qemu import process
from pyvirt.qemu.caps import EmulatorCaps, MachineType
from tests.daemon_harness import live_processes
from tests.fakeqemu import make_emulator

T = TypeVar("T")

CAPS = EmulatorCaps(binary="/usr/bin/qemu-system-x86_64", version=(7, 2, 0), version_string="7.2.0",
                    package="fake", machines=(MachineType("pc-i440fx-7.2", "pc", True, 255),
                                              MachineType("pc-q35-7.2", "q35", False, 288)),
                    kvm_present=False, kvm_enabled=False, accelerators=("tcg",), cpu_models=(),
                    device_types=())


def domain_xml(name: str, emulator: str, devices: str = "", extra: str = "") -> str:
    return (f"<domain type='qemu'><name>{name}</name><memory>65536</memory>{extra}"
            f"<os><type arch='x86_64' machine='pc'>hvm</type></os>"
            f"<devices><emulator>{emulator}</emulator>{devices}</devices></domain>")


def new_driver(root: Path, monitor_timeout: float = 5.0) -> QemuDriver:
    drv = QemuDriver(state_paths("qemu:///session", root), emulator_caps=CAPS)
    drv.monitor_timeout = monitor_timeout
    return drv


async def open_driver(root: Path, monitor_timeout: float = 5.0) -> QemuDriver:
    drv = new_driver(root, monitor_timeout)
    await drv.load()
    await drv.resume_guests()
    return drv


def fake_pids(root: Path) -> list[int]:
    """Live fake QEMUs whose pidfile lies under `root` (what a test started)."""
    return [pid for pid, argv in live_processes()
            if b"-pidfile" in argv and any(a.startswith(str(root).encode()) for a in argv)]


async def shut_down(drv: QemuDriver) -> None:
    """Kill what the test left running (by identity), then close the driver."""
    for rec in list(drv._by_name.values()):
        if rec.run is not None:
            process.kill(rec.run.ident)
    await drv.close()


async def destroy_all(drv: QemuDriver) -> None:
    """Destroy what the test left running through the driver, so that every end-of-guest step
    runs (owners given back, cgroups removed), then close the driver."""
    for rec in list(drv._by_name.values()):
        if rec.run is not None:
            await drv.destroy(rec.name)
    await drv.close()


def run(root: Path, scenario: Callable[[QemuDriver, Callable[..., str]], Awaitable[T]],
        monitor_timeout: float = 5.0, limit: float = 60.0) -> T:
    """Run `scenario(driver, emulator_factory)` in a fresh loop; kill every fake it started."""

    async def main() -> T:
        drv = await open_driver(root, monitor_timeout)

        def emulator(mode: str = "", name: str = "fake-qemu") -> str:
            return make_emulator(root, mode, name)

        try:
            return await asyncio.wait_for(scenario(drv, emulator), limit)
        finally:
            await shut_down(drv)

    try:
        return asyncio.run(main())
    finally:
        for pid in fake_pids(root):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, 9)


def kib_rss() -> int:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def qmp_log(emulator: str) -> list[dict[str, Any]]:
    import json

    try:
        with open(emulator + ".argv.qmp") as handle:
            return [json.loads(line) for line in handle if line.strip()]
    except OSError:
        return []
