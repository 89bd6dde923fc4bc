"""Every monitor interaction against a QEMU that hangs, floods, lies or exits (issue 10, defects 2-4, 10).

The guests are tests/fakeqemu.py through <emulator>; the driver runs in-process (fakedriver.py).
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest

from pyvirt.api import DomainState, ErrorCode, PyvirtError
from pyvirt.qemu.qmp import BoundedEventListener
from tests.security.fakedriver import domain_xml, fake_pids, kib_rss, new_driver, qmp_log, run, shut_down


def test_concurrent_creates_of_one_transient_domain_start_one_qemu(tmp_path: Path) -> None:
    async def scenario(drv, emulator):  # type: ignore[no-untyped-def]
        real_caps = drv.caps

        async def slow_caps():  # type: ignore[no-untyped-def]
            await asyncio.sleep(0.2)  # capabilities still being probed right after daemon start
            return await real_caps()

        drv.caps = slow_caps
        xml = domain_xml("twice", emulator(), extra="<uuid>8e3b6a35-3f5a-4bd6-9a39-4c8f8c6c0b1d</uuid>")
        results = await asyncio.gather(drv.create_xml(xml), drv.create_xml(xml), return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        assert len(errors) == 1, results
        assert isinstance(errors[0], PyvirtError) and "already active" in str(errors[0])
        assert len(fake_pids(tmp_path)) == 1
        await drv.destroy("twice")
        assert fake_pids(tmp_path) == []
        assert list((tmp_path / "run" / "qemu").iterdir()) == []

    run(tmp_path, scenario)


def test_start_racing_undefine_says_no_domain_not_internal_error(tmp_path: Path) -> None:
    async def scenario(drv, emulator):  # type: ignore[no-untyped-def]
        await drv.define_xml(domain_xml("racy", emulator()))
        rec = drv.lookup("racy")
        await rec.lock.acquire()  # another operation holds the domain: both calls queue behind it
        undefine = asyncio.create_task(drv.undefine("racy"))
        await asyncio.sleep(0)
        start = asyncio.create_task(drv.start("racy"))
        await asyncio.sleep(0.05)
        rec.lock.release()
        await undefine
        with pytest.raises(PyvirtError) as err:
            await start
        assert err.value.code == ErrorCode.NO_DOMAIN, err.value
        assert fake_pids(tmp_path) == []

    run(tmp_path, scenario)


def test_start_returns_at_once_when_qemu_exits_at_once(tmp_path: Path) -> None:
    async def scenario(drv, emulator):  # type: ignore[no-untyped-def]
        began = time.monotonic()
        with pytest.raises(PyvirtError, match="exiting early") as err:
            await drv.create_xml(domain_xml("early", emulator("exit-early")))
        took = time.monotonic() - began
        assert took < 5, f"start waited {took:.1f}s for a QEMU that had exited (connect timeout {drv.connect_timeout} s)"
        assert "exit code 1" in str(err.value)
        assert drv.list_domains() == []

    run(tmp_path, scenario)


#: something pyvirtd must do while QEMU is still stopped (the reboot action, over QMP), so the
#: start takes the -S + `cont` path: a guest with nothing to set up runs at once, without `cont`
NEEDS_CONT = "<on_reboot>destroy</on_reboot>"


def test_hung_cont_times_out_and_leaves_nothing_behind(tmp_path: Path) -> None:
    async def scenario(drv, emulator):  # type: ignore[no-untyped-def]
        began = time.monotonic()
        with pytest.raises(PyvirtError) as err:
            await drv.create_xml(domain_xml("stuck", emulator("hang:cont"), extra=NEEDS_CONT))
        assert time.monotonic() - began < 10
        assert err.value.code == ErrorCode.OPERATION_TIMEOUT and "cont" in str(err.value)
        assert drv.list_domains() == []
        assert fake_pids(tmp_path) == []
        assert list((tmp_path / "run" / "qemu").iterdir()) == []

    run(tmp_path, scenario, monitor_timeout=1.0)


def test_destroy_does_not_wait_behind_an_operation_stuck_on_the_monitor(tmp_path: Path) -> None:
    async def scenario(drv, emulator):  # type: ignore[no-untyped-def]
        await drv.create_xml(domain_xml("wedged", emulator("hang:stop")))
        suspend = asyncio.create_task(drv.suspend("wedged"))  # holds the domain lock, never answered
        await asyncio.sleep(0.2)
        began = time.monotonic()
        await drv.destroy("wedged")
        assert time.monotonic() - began < 5
        with pytest.raises(PyvirtError):
            await suspend
        assert drv.list_domains() == []
        assert fake_pids(tmp_path) == []

    run(tmp_path, scenario, monitor_timeout=60.0)


def test_reattach_to_a_wedged_qemu_is_bounded_and_does_not_block_other_guests(tmp_path: Path) -> None:
    async def scenario(drv, emulator):  # type: ignore[no-untyped-def]
        await drv.define_xml(domain_xml("wedged", emulator("hang:query-status", "fake-wedged")))
        await drv.define_xml(domain_xml("fine", emulator("", "fake-fine")))
        await drv.start("wedged")
        await drv.start("fine")
        await drv.close()  # the daemon goes away; guests keep running
        second = new_driver(tmp_path, monitor_timeout=2.0)
        await second.load()  # no monitor I/O: returns at once, before any socket is served
        assert second.lookup("wedged").active and second.lookup("fine").active
        resuming = asyncio.create_task(second.resume_guests())
        began = time.monotonic()
        await second.suspend("fine")  # usable while the wedged guest's re-attach is pending
        assert time.monotonic() - began < 1.5
        assert not resuming.done()
        await asyncio.wait_for(resuming, 10)
        wedged = second.lookup("wedged")
        assert wedged.state == DomainState.SHUTOFF and not wedged.active  # killed: it cannot be controlled
        assert second.lookup("fine").state == DomainState.PAUSED
        assert len(fake_pids(tmp_path)) == 1
        await shut_down(second)

    run(tmp_path, scenario)


def test_monitor_lying_at_reattach_ends_that_guest_cleanly(tmp_path: Path) -> None:
    async def scenario(drv, emulator):  # type: ignore[no-untyped-def]
        await drv.define_xml(domain_xml("liar", emulator("lie:query-status")))
        await drv.start("liar")
        await drv.close()
        second = new_driver(tmp_path)
        await second.load()
        await second.resume_guests()
        assert not second.lookup("liar").active
        assert list((tmp_path / "run" / "qemu").iterdir()) == []
        await shut_down(second)

    run(tmp_path, scenario)


def test_event_flood_is_bounded_and_the_guest_stays_controllable(tmp_path: Path) -> None:
    async def scenario(drv, emulator):  # type: ignore[no-untyped-def]
        await drv.create_xml(domain_xml("flood", emulator("flood")))
        run_ = drv.lookup("flood").run
        await asyncio.sleep(0.5)  # let the allocator settle before measuring
        before = kib_rss()
        await asyncio.sleep(2.0)
        grown = kib_rss() - before
        listener = run_.listener
        assert listener.seen > 1000, "the fake did not flood"
        assert listener._queue.qsize() == 0 and not listener.history  # unhandled events: never stored
        assert not run_.qmp.events.history  # the library's default listener is muted
        assert grown < 20_000, f"pyvirtd grew {grown} KiB in 2 s of event flood ({listener.seen} events)"
        await drv.suspend("flood")
        await drv.destroy("flood")

    run(tmp_path, scenario)


def test_bounded_listener_drops_past_its_bound() -> None:
    async def scenario() -> BoundedEventListener:
        listener = BoundedEventListener(["SHUTDOWN"], maxsize=8, owner="g")
        for _ in range(100):
            await listener.put({"event": "SHUTDOWN", "data": {}})
            await listener.put({"event": "RTC_CHANGE", "data": {}})
        return listener

    listener = asyncio.run(scenario())
    assert listener._queue.qsize() == 8 and listener.dropped == 92 and listener.seen == 200
    assert not listener.history


def test_unbounded_monitor_read_is_refused(tmp_path: Path) -> None:
    """libvirt CVE class: a QEMU sending an endless reply must not make the daemon buffer it all."""
    async def scenario(drv, emulator):  # type: ignore[no-untyped-def]
        before = kib_rss()
        with pytest.raises(PyvirtError):
            await drv.create_xml(domain_xml("huge", emulator("huge-reply:cont"), extra=NEEDS_CONT))
        assert kib_rss() - before < 40_000  # the reply is 32 MiB; the read limit is 10 MiB
        assert drv.list_domains() == []
        assert fake_pids(tmp_path) == []

    run(tmp_path, scenario)


def test_graphics_password_reaches_qemu_by_qmp_never_by_argv(tmp_path: Path,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    """Defect 10 and libvirt's CVE class "password disclosure in logs/argv"."""
    secret = "s3cr-Pw1"  # VNC passwords are 8 characters at most (libvirt refuses longer at define)

    async def scenario(drv, emulator):  # type: ignore[no-untyped-def]
        emu = emulator("log-argv")
        graphics = f"<graphics type='vnc' port='-1' autoport='yes' passwd='{secret}'/>"
        await drv.create_xml(domain_xml("pw", emu, graphics))
        argv = json.loads(Path(emu + ".argv").read_text())
        assert not any(secret in arg for arg in argv)
        assert any("password=on" in arg for arg in argv)
        commands = qmp_log(emu)
        names = [c["execute"] for c in commands]
        set_pw = [c for c in commands if c["execute"] == "set_password"]
        assert set_pw and set_pw[0]["arguments"] == {"protocol": "vnc", "password": secret, "connected": "keep"}
        assert names.index("set_password") < names.index("cont")  # before the guest runs
        assert secret not in await drv.get_xml("pw")  # not without security_info
        assert secret not in (tmp_path / "log" / "qemu" / "pw.log").read_text()
        await drv.destroy("pw")

    caplog.set_level("DEBUG")
    run(tmp_path, scenario)
    assert secret not in caplog.text


def test_reattach_with_unparsable_live_xml_says_so_and_stays_controllable(tmp_path: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    async def scenario(drv, emulator):  # type: ignore[no-untyped-def]
        await drv.define_xml(domain_xml("garbled", emulator()))
        await drv.start("garbled")
        await drv.close()
        drv.store.runtime_files("garbled").live_xml.write_text("<domain")
        second = new_driver(tmp_path)
        with caplog.at_level("WARNING", logger="pyvirt"):
            await second.load()
            await second.resume_guests()
        assert second.lookup("garbled").active
        said = caplog.text
        assert "garbled" in said and "live XML" in said and "does not parse" in said
        await second.destroy("garbled")
        assert not second.lookup("garbled").active and fake_pids(tmp_path) == []
        await shut_down(second)

    run(tmp_path, scenario)
