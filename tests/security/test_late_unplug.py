"""A guest slow to release a device on detach (issue 13), against the fake QEMU: no guest boots.

As libvirt's qemuDomainDetachDeviceLive: the detach waits a short while for DEVICE_DELETED and
succeeds either way; a device the guest has not released yet stays in the live XML until QEMU's
DEVICE_DELETED comes, and that event completes the removal (backend freed, device-removed
emitted).  A DEVICE_DELETED for an alias the live definition does not hold changes nothing.
"""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from pyvirt.api import DeviceRemovedEvent, PyvirtError
from pyvirt.daemon import hotplug
from tests.security.fakedriver import domain_xml, new_driver, qmp_log, run, shut_down

NIC = "<interface type='user'><model type='virtio'/></interface>"


async def _removed(queue: asyncio.Queue, timeout: float = 10.0) -> str:  # type: ignore[type-arg]
    """The device of the next device-removed event (other events skipped)."""
    while True:
        ev = await asyncio.wait_for(queue.get(), timeout)
        if isinstance(ev, DeviceRemovedEvent):
            return ev.device


def _commands(emulator: str, name: str) -> list[dict]:  # type: ignore[type-arg]
    return [m for m in qmp_log(emulator) if m.get("execute") == name]


def test_late_device_deleted_completes_the_removal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hotplug, "DETACH_WAIT", 0.05)

    async def scenario(drv, emulator):  # type: ignore[no-untyped-def]
        emu = emulator("log-argv,unplug-delay:60")  # the guest lets go when the test says (SIGUSR1)
        await drv.create_xml(domain_xml("slow", emu, NIC))
        queue = drv.events.subscribe()
        await drv.detach_device("slow", NIC, live=True)  # succeeds though the guest still holds it
        assert "<interface" in await drv.get_xml("slow")
        assert [c["arguments"] for c in _commands(emu, "device_del")] == [{"id": "net0"}]
        assert _commands(emu, "netdev_del") == []  # its backend stays while the frontend does
        assert queue.empty()
        os.kill(drv.lookup("slow").run.ident.pid, signal.SIGUSR1)
        assert await _removed(queue) == "net0"  # DEVICE_DELETED came: the removal completes
        assert "<interface" not in await drv.get_xml("slow")
        assert [c["arguments"] for c in _commands(emu, "netdev_del")] == [{"id": "hostnet0"}]
        await drv.destroy("slow")

    run(tmp_path, scenario)


def test_prompt_device_deleted_removes_before_the_detach_returns(tmp_path: Path) -> None:
    async def scenario(drv, emulator):  # type: ignore[no-untyped-def]
        emu = emulator("log-argv")
        await drv.create_xml(domain_xml("quick", emu, NIC))
        queue = drv.events.subscribe()
        await drv.detach_device("quick", NIC, live=True)
        assert "<interface" not in await drv.get_xml("quick")
        assert [c["arguments"] for c in _commands(emu, "netdev_del")] == [{"id": "hostnet0"}]
        assert await _removed(queue, timeout=0.01) == "net0"  # emitted before the detach returned
        await drv.destroy("quick")

    run(tmp_path, scenario)


def test_device_deleted_for_an_unknown_alias_is_ignored(tmp_path: Path) -> None:
    async def scenario(drv, emulator):  # type: ignore[no-untyped-def]
        emu = emulator("log-argv")
        await drv.create_xml(domain_xml("stray", emu, NIC))
        rec = drv.lookup("stray")
        before = await drv.get_xml("stray")
        queue = drv.events.subscribe()
        for data in ({"device": "nosuch0"}, {"path": "/machine/peripheral-anon/device[3]"}):
            await drv._on_qmp_event(rec, rec.run, "DEVICE_DELETED", data)
        await asyncio.gather(*rec.run.removals)  # what the event started, done
        assert await drv.get_xml("stray") == before
        assert _commands(emu, "netdev_del") == []
        assert all(not isinstance(queue.get_nowait(), DeviceRemovedEvent) for _ in range(queue.qsize()))
        await drv.destroy("stray")

    run(tmp_path, scenario)


def test_device_released_while_the_daemon_was_down_is_removed_at_reattach(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hotplug, "DETACH_WAIT", 0.05)

    async def scenario(drv, emulator):  # type: ignore[no-untyped-def]
        emu = emulator("log-argv,unplug-delay:60")
        await drv.create_xml(domain_xml("restart", emu, NIC))
        await drv.detach_device("restart", NIC, live=True)
        assert "<interface" in await drv.get_xml("restart")
        pid = drv.lookup("restart").run.ident.pid
        await drv.close()  # the daemon goes away with the unplug pending; the guest runs on
        os.kill(pid, signal.SIGUSR1)  # the guest lets go while no daemon listens
        second = new_driver(tmp_path)
        try:
            await second.load()
            await second.resume_guests()
            assert "<interface" not in await second.get_xml("restart")  # QEMU's devices say it left
            assert [c["arguments"] for c in _commands(emu, "qom-list")] == [{"path": "/machine/peripheral"}]
            assert [c["arguments"] for c in _commands(emu, "netdev_del")] == [{"id": "hostnet0"}]
            await second.destroy("restart")
        finally:
            await shut_down(second)

    run(tmp_path, scenario)


def test_a_failed_nic_attach_leaves_qemu_as_it_was(tmp_path: Path) -> None:
    """A NIC attach that failed after device_add (set_link of a link='down' NIC refused) left
    the device in QEMU and out of the live XML: the guest had a NIC nobody could see or
    detach, and the next attach took the same alias (session 14's review)."""
    async def scenario(drv, emulator):  # type: ignore[no-untyped-def]
        emu = emulator("log-argv,error-on:set_link")
        await drv.create_xml(domain_xml("nic", emu))
        down = "<interface type='user'><model type='virtio'/><link state='down'/></interface>"
        with pytest.raises(PyvirtError, match="fake refusal of set_link"):
            await drv.attach_device("nic", down, live=True)
        assert "<interface" not in await drv.get_xml("nic")
        assert [c["arguments"] for c in _commands(emu, "device_del")] == [{"id": "net0"}]
        assert [c["arguments"] for c in _commands(emu, "netdev_del")] == [{"id": "hostnet0"}]
        await drv.destroy("nic")

    run(tmp_path, scenario)
