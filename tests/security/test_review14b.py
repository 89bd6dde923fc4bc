"""Session 14's second review, against the fake QEMU (no guest boots): each test failed before
its fix (docs/HACKING.md, "Review, session 14, second pass")."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from pyvirt.api import DomainState, PyvirtError, ShutoffReason
from pyvirt.daemon import hotplug
from tests.security.fakedriver import domain_xml, new_driver, qmp_log, run, shut_down


def _commands(emulator: str, name: str) -> list[dict]:  # type: ignore[type-arg]
    return [m for m in qmp_log(emulator) if m.get("execute") == name]


def test_a_failed_nic_attach_the_guest_holds_waits_for_device_deleted(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """device_add taken, then set_link refused: the rollback's device_del is answered, but the
    device stays in QEMU until the guest lets go.  Its netdev was deleted at once under it and
    the NIC dropped from the live XML: the next attach took the same alias and QEMU refused it
    ("Duplicate device ID").  Now the device stays in the live XML until DEVICE_DELETED, whose
    removal then frees the netdev."""
    monkeypatch.setattr(hotplug, "DETACH_WAIT", 0.05)

    async def scenario(drv, emulator):  # type: ignore[no-untyped-def]
        emu = emulator("log-argv,error-on:set_link,unplug-delay:60")
        await drv.create_xml(domain_xml("held", emu))
        down = "<interface type='user'><model type='virtio'/><link state='down'/></interface>"
        with pytest.raises(PyvirtError, match="fake refusal of set_link"):
            await drv.attach_device("held", down, live=True)
        assert _commands(emu, "netdev_del") == []  # not under a device the guest still has
        assert "<alias name='net0'/>" in await drv.get_xml("held")  # seen, its alias taken
        up = "<interface type='user'><model type='virtio'/></interface>"
        await drv.attach_device("held", up, live=True)  # the next one is net1, which QEMU takes
        assert [c["arguments"]["id"] for c in _commands(emu, "device_add")] == ["net0", "net1"]
        rec = drv.lookup("held")
        os.kill(rec.run.ident.pid, signal.SIGUSR1)  # the guest lets net0 go
        for _ in range(200):
            if _commands(emu, "netdev_del"):
                break
            await asyncio.sleep(0.02)
        assert [c["arguments"] for c in _commands(emu, "netdev_del")] == [{"id": "hostnet0"}]
        xml = await drv.get_xml("held")
        assert "<alias name='net0'/>" not in xml and "<alias name='net1'/>" in xml
        await drv.destroy("held")

    run(tmp_path, scenario)


@pytest.mark.parametrize("action", ["destroy", "restart"])
def test_a_guest_that_powered_off_while_the_daemon_was_down(tmp_path: Path, action: str) -> None:
    """QEMU runs with -no-shutdown: a guest that powers off while no daemon listens leaves QEMU
    stopped in status 'shutdown', its SHUTDOWN event lost.  The re-attach listed it as paused
    for ever; now it finishes the end as <on_poweroff> says (libvirt's qemuProcessReconnect)."""
    async def scenario(drv, emulator):  # type: ignore[no-untyped-def]
        emu = emulator("log-argv")
        await drv.define_xml(domain_xml("off", emu, extra=f"<on_poweroff>{action}</on_poweroff>"))
        await drv.start("off")
        pid = drv.lookup("off").run.ident.pid
        await drv.close()  # the daemon goes; the guest runs on
        os.kill(pid, signal.SIGUSR2)  # and powers off meanwhile
        second = new_driver(tmp_path)
        try:
            await second.load()
            await second.resume_guests()
            rec = second.lookup("off")
            if action == "destroy":
                await asyncio.wait_for(_until(lambda: rec.run is None), 10)
                assert (rec.state, rec.reason) == (DomainState.SHUTOFF, ShutoffReason.SHUTDOWN)
            else:
                assert rec.state == DomainState.RUNNING and rec.run is not None
                assert _commands(emu, "system_reset") and _commands(emu, "cont")
        finally:
            await shut_down(second)

    run(tmp_path, scenario)


async def _until(condition) -> None:  # type: ignore[no-untyped-def]
    while not condition():
        await asyncio.sleep(0.02)


#: libvirt's public-API argument checks (libvirt-domain.c, libvirt-host.c), before any driver: the
#: call, its refusal (libvirt's words, checked against libvirt-dbus 1.4.1 over test:///default)
_API_REFUSALS = [
    (lambda c: c.set_memory_stats_period("test", -1), "period in virDomainSetMemoryStatsPeriod must be zero or greater"),
    (lambda c: c.pin_vcpu("test", 0, []), "cpumap in virDomainPinVcpuFlags must not be NULL"),
    (lambda c: c.pin_emulator("test", []), "cpumap in virDomainPinEmulator must not be NULL"),
    (lambda c: c.send_key("test", "linux", 0, []), "keycodes in virDomainSendKey must not be NULL"),
    (lambda c: c.set_memory("test", 1 << 62), f"numerical overflow: input too large: {1 << 62}"),
    (lambda c: c.rename("test", ""), "string new_name in virDomainRename must not be empty"),
    (lambda c: c.node_cpu_stats(-5), "cpuNum in virNodeGetCPUStats only accepts -1 as a negative value"),
    (lambda c: c.node_memory_stats(-5), "cellNum in virNodeGetMemoryStats only accepts -1 as a negative value"),
]


def test_public_api_argument_checks_in_every_driver(tmp_path: Path) -> None:
    """The test driver took a negative stats period, an empty cpumap, no keys, memory past what a
    byte count carries and an empty new name (it renamed the domain to ''); pyvirtd sent an empty
    send-key to QEMU (its refusal came back as an internal error) and took a negative CPU number."""
    from pyvirt.client import connect
    from pyvirt.daemon.hostinfo import HostInfo

    test = connect("test:///default")
    for call, words in _API_REFUSALS:
        with pytest.raises(PyvirtError) as refused:
            call(test)
        assert (str(refused.value), refused.value.code) == (words, 8 if "overflow" not in words else 70)
    assert test.get_info("test").name == "test"

    async def scenario(drv, emulator):  # type: ignore[no-untyped-def]
        await drv.define_xml(domain_xml("test", emulator()))
        for call, words in _API_REFUSALS:
            target = HostInfo if "virNode" in words else None
            with pytest.raises(PyvirtError, match=f"^{words}$"):
                result = call(target.__new__(target) if target else drv)
                if asyncio.iscoroutine(result):
                    await result

    run(tmp_path, scenario)


def test_a_failed_snapshot_revert_leaves_the_definition_as_it_was(tmp_path: Path) -> None:
    """Reverting to an internal snapshot of a shut-off guest replaced the persistent definition
    with the snapshot's first, then ran qemu-img: a revert that failed there (the image lost
    its snapshot) left the domain defined as the snapshot was, its own definition gone.  libvirt
    (qemuSnapshotRevertInactive) assigns the snapshot's definition only once the images are
    reverted."""
    import subprocess

    image = tmp_path / "disk.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(image), "1M"], check=True)
    disk = (f"<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
            f"<source file='{image}'/><target dev='vda' bus='virtio'/></disk>")

    async def scenario(drv, emulator):  # type: ignore[no-untyped-def]
        emu = emulator()
        uuid = "<uuid>3c3b8e2e-9f3e-4f59-8d2b-4b1f6f0a7c11</uuid>"
        await drv.define_xml(domain_xml("snappy", emu, disk, uuid))
        await drv.snapshot_create("snappy", "<domainsnapshot><name>s1</name></domainsnapshot>")
        await drv.define_xml(domain_xml("snappy", emu, disk, uuid).replace("65536", "131072"))  # changed since
        subprocess.run(["qemu-img", "snapshot", "-d", "s1", str(image)], check=True)  # the image lost it
        with pytest.raises(PyvirtError, match="s1"):
            await drv.snapshot_revert("snappy", "s1")
        assert "<memory unit='KiB'>131072</memory>" in await drv.get_xml("snappy", inactive=True)
        second = new_driver(tmp_path)  # and on disk
        await second.load()
        assert "<memory unit='KiB'>131072</memory>" in await second.get_xml("snappy", inactive=True)
        await second.close()

    run(tmp_path, scenario)


def test_an_arrived_migration_whose_client_went_away_is_not_left_paused(tmp_path: Path) -> None:
    """The destination of a migration whose guest had arrived, but whose client (virsh migrate,
    a source pyvirtd) went away before finish, kept its paused QEMU for ever: a second copy of
    the guest beside the source's, which anyone could resume.  As libvirt's close callback
    (qemuMigrationDstPrepareCleanup) the incoming guest goes with the session that prepared it."""
    from pyvirt.daemon import session as sessions

    async def scenario(drv, emulator):  # type: ignore[no-untyped-def]
        client = sessions.Session("migrating-client")
        token = sessions.current.set(client)
        try:
            await drv.migrate_prepare(domain_xml("mover", emulator()))
        finally:
            sessions.current.reset(token)
        job = drv._incoming()["mover"]
        await asyncio.wait_for(asyncio.shield(job.task), 10)  # the guest arrived, paused
        rec = drv.lookup("mover")
        pid = rec.run.ident.pid
        await client.close()  # the client dies before finish
        assert "mover" not in drv._incoming() and "mover" not in drv._by_name
        await asyncio.wait_for(_until(lambda: not os.path.exists(f"/proc/{pid}")), 10)

    run(tmp_path, scenario)


def test_a_migration_whose_client_went_away_is_cancelled_on_the_source(tmp_path: Path) -> None:
    """The source side of the same: a migration still copying when its client went away ran on
    to its end (and then waited, paused, for a confirm nobody would send); it is cancelled and
    the guest runs on here, as libvirt's qemuMigrationSrcCleanup does."""
    from pyvirt.daemon import session as sessions

    async def scenario(drv, emulator):  # type: ignore[no-untyped-def]
        emu = emulator("log-argv,migrate-hold")
        await drv.create_xml(domain_xml("leaver", emu))
        client = sessions.Session("migrating-client")
        token = sessions.current.set(client)
        try:
            await drv.migrate_perform("leaver", "tcp:127.0.0.1:49999")
        finally:
            sessions.current.reset(token)
        job = drv._outgoing()[drv.lookup("leaver").uuid]
        assert job.active
        await client.close()
        assert not job.active and job.status == "cancelled"
        assert _commands(emu, "migrate_cancel")
        assert drv.lookup("leaver").state == DomainState.RUNNING

    run(tmp_path, scenario)


def test_a_save_whose_image_cannot_be_completed_leaves_the_guest_running(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The last step of a save (fsync and rename of the finished image) was outside the undo: a
    disk that failed it (EIO, ENOSPC at fsync) left the guest paused by the save, its record still
    saying running, and the error as pyvirtd's internal error."""
    from pyvirt.daemon import saves

    def failing_publish(fd: int, tmp: str, target: str, bypass_cache: bool) -> None:
        os.close(fd)
        os.unlink(tmp)
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(saves, "publish_partial", failing_publish)

    async def scenario(drv, emulator):  # type: ignore[no-untyped-def]
        emu = emulator("log-argv")
        await drv.create_xml(domain_xml("saver", emu))
        with pytest.raises(PyvirtError) as refused:
            await drv.save("saver", str(tmp_path / "saver.img"))
        assert "Input/output error" in str(refused.value) and not str(refused.value).startswith("internal")
        assert [c["execute"] for c in qmp_log(emu) if c.get("execute") in ("stop", "cont")] == ["stop", "cont"]
        assert drv.lookup("saver").state == DomainState.RUNNING
        assert not [f for f in os.listdir(tmp_path) if "saver.img" in f]  # neither image nor partial
        await drv.destroy("saver")

    run(tmp_path, scenario)


def test_job_and_migration_speed_calls_on_a_shut_off_domain_as_libvirt(tmp_path: Path) -> None:
    """Checked against libvirt 9.0's QEMU driver (qemu:///session): domjobinfo and domjobabort of
    a shut-off domain are refused "domain is not running" (pyvirt answered "no job" and an empty
    job); migrate-setspeed of a shut-off domain is kept for its next migration and getspeed reads
    it back, 8796093022207 MiB/s until one is set (pyvirt refused both, and said 0 for
    unlimited); a speed past that is libvirt's overflow."""
    async def scenario(drv, emulator):  # type: ignore[no-untyped-def]
        await drv.define_xml(domain_xml("idle", emulator()))
        for call in (lambda: drv.get_job_info("idle"), lambda: drv.abort_job("idle")):
            with pytest.raises(PyvirtError, match="^Requested operation is not valid: domain is not running$"):
                await call()
        assert (await drv.get_job_info("idle", completed=True)).type == 0  # a finished job: none
        assert await drv.migrate_get_max_speed("idle") == 8796093022207
        await drv.migrate_set_max_speed("idle", 100)
        assert await drv.migrate_get_max_speed("idle") == 100
        with pytest.raises(PyvirtError, match="^numerical overflow: bandwidth must be less than 8796093022208$"):
            await drv.migrate_set_max_speed("idle", 8796093022208)
        with pytest.raises(PyvirtError, match="domain is not running"):
            await drv.migrate_get_max_speed("idle", postcopy=True)
        await drv.start("idle")  # the speed set while it was off is the one a migration now uses
        assert await drv.migrate_get_max_speed("idle") == 100
        await drv.destroy("idle")
        with pytest.raises(PyvirtError, match=f"^Failed to open file '{tmp_path}/none.img': No such file or directory$"):
            await drv.restore(str(tmp_path / "none.img"))  # qemuSaveImageOpen's words (it said "cannot read")

    run(tmp_path, scenario)


def test_a_plugged_device_stays_in_the_live_definition_when_its_record_cannot_be_written(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """QEMU took the new NIC, then the runtime record could not be written (state directory
    full): the commit rolled the live definition back, so the device QEMU has was neither seen
    nor detachable and the next attach took its alias (QEMU: "Duplicate device ID").  The live
    definition follows QEMU (libvirt keeps vm->def when the status XML cannot be saved); the
    persistent copy is rolled back and the error reported."""
    async def scenario(drv, emulator):  # type: ignore[no-untyped-def]
        emu = emulator("log-argv")
        await drv.define_xml(domain_xml("full", emu))
        await drv.start("full")
        real_save = drv.store.save_runtime

        def disk_full(*args, **kwargs):  # type: ignore[no-untyped-def]
            raise PyvirtError("cannot write runtime record: No space left on device", 38)

        monkeypatch.setattr(drv.store, "save_runtime", disk_full)
        nic = "<interface type='user'><model type='virtio'/></interface>"
        with pytest.raises(PyvirtError, match="No space left"):
            await drv.attach_device("full", nic, live=True, config=True)
        monkeypatch.setattr(drv.store, "save_runtime", real_save)
        assert "<alias name='net0'/>" in await drv.get_xml("full")  # QEMU has it: so does the live XML
        assert "<interface" not in await drv.get_xml("full", inactive=True)  # the config as it was
        await drv.attach_device("full", nic, live=True)
        assert [c["arguments"]["id"] for c in _commands(emu, "device_add")] == ["net0", "net1"]
        await drv.destroy("full")

    run(tmp_path, scenario)
