"""The runtime record of a start (issue 18): what is on disk before QEMU runs, and what a daemon
that died in the middle of a start finds.

pyvirtd writes the intent record before it spawns QEMU (a guest dir without a record is a start
that spawned nothing) and the live XML with the pid right after, off the guest's path; a start
whose live XML was never written did not finish, and the next daemon ends it.
"""

from __future__ import annotations

import json
from pathlib import Path

from pyvirt.api import DomainState, ShutoffReason
from pyvirt.qemu import process
from tests.security.fakedriver import domain_xml, fake_pids, new_driver, run, shut_down


def test_the_intent_record_is_on_disk_before_qemu_and_the_live_xml_after(tmp_path: Path, monkeypatch) -> None:
    seen: dict[str, object] = {}
    spawn = process.spawn_detached

    def spying(*args, **kwargs):  # type: ignore[no-untyped-def]
        files = drv_ref[0].store.runtime_files("g")
        seen["record"] = json.loads(files.record.read_text())
        seen["live"] = files.live_xml.exists()
        return spawn(*args, **kwargs)

    drv_ref: list = []
    monkeypatch.setattr(process, "spawn_detached", spying)

    async def scenario(drv, emulator):  # type: ignore[no-untyped-def]
        drv_ref.append(drv)
        await drv.define_xml(domain_xml("g", emulator()))
        await drv.start("g")
        files = drv.store.runtime_files("g")
        assert seen["record"]["state"] == "starting" and "pid" not in seen["record"]  # type: ignore[index]
        assert seen["live"] is False
        assert files.live_xml.exists() and "<name>g</name>" in files.live_xml.read_text()
        assert json.loads(files.record.read_text())["pid"] == drv.lookup("g").run.ident.pid
        await shut_down(drv)

    run(tmp_path, scenario)


def test_a_start_that_never_recorded_its_live_xml_is_ended_by_the_next_daemon(tmp_path: Path) -> None:
    async def scenario(drv, emulator):  # type: ignore[no-untyped-def]
        await drv.define_xml(domain_xml("half", emulator()))
        await drv.define_xml(domain_xml("whole", emulator()))
        await drv.start("half")
        await drv.start("whole")
        pids = set(fake_pids(tmp_path))
        assert len(pids) == 2
        # the daemon "dies" between the spawn and the write that records the live XML and the pid
        files = drv.store.runtime_files("half")
        intent = json.loads(files.record.read_text())
        files.record.write_text(json.dumps({k: intent[k] for k in ("id", "name", "start_time")} |
                                           {"state": "starting", "intent": "running"}))
        files.live_xml.unlink()
        half_pid = drv.lookup("half").run.ident.pid
        second = new_driver(tmp_path)
        await drv.close()
        await second.load()
        await second.resume_guests()
        half = second.lookup("half")
        assert (half.state, half.reason, half.active) == (DomainState.SHUTOFF, ShutoffReason.FAILED, False)
        assert not files.private_dir.exists()
        assert set(fake_pids(tmp_path)) == pids - {half_pid}  # its QEMU killed, the other guest kept
        assert second.lookup("whole").state == DomainState.RUNNING
        await shut_down(second)

    run(tmp_path, scenario)
