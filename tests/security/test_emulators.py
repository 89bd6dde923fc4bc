"""<emulator> on qemu:///system: only the configured QEMU binaries run (issue 10, defence in depth)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from pyvirt.api import ErrorCode, PyvirtError
from pyvirt.daemon.driver import QemuDriver
from pyvirt.daemon.emulators import DEFAULT_PATTERNS, check_emulator
from pyvirt.paths import state_paths
from tests.daemon_harness import qemu_as_root
from tests.fakeqemu import make_emulator
from tests.security.fakedriver import CAPS, domain_xml, shut_down


def test_system_daemon_refuses_an_emulator_outside_its_list(tmp_path: Path) -> None:
    async def scenario() -> None:
        qemu_as_root(tmp_path / "config")  # the fake QEMU lives in pytest's 0700 tmp dir
        drv = QemuDriver(state_paths("qemu:///system", tmp_path), emulator_caps=CAPS)
        await drv.load()
        fake = make_emulator(tmp_path)
        try:
            for call in (drv.define_xml, drv.create_xml):
                with pytest.raises(PyvirtError, match="not one of the QEMU binaries") as err:
                    await call(domain_xml("evil", fake))
                assert err.value.code == ErrorCode.CONFIG_UNSUPPORTED
            assert drv.list_domains() == []
            (tmp_path / "config" / "emulators").write_text(f"# test\n{fake}\n")
            await drv.define_xml(domain_xml("allowed", fake))  # once configured, it runs
            await drv.start("allowed")
            (tmp_path / "config" / "emulators").write_text("/usr/bin/qemu-system-*\n")
            await drv.destroy("allowed")
            with pytest.raises(PyvirtError, match="not one of the QEMU binaries"):
                await drv.start("allowed")  # checked again at start
        finally:
            await shut_down(drv)

    asyncio.run(scenario())


def test_symlinks_and_dotdot_do_not_get_around_the_list(tmp_path: Path) -> None:
    fake = make_emulator(tmp_path)
    link = tmp_path / "qemu-system-x86_64"
    link.symlink_to(fake)
    with pytest.raises(PyvirtError):
        check_emulator(str(link), tmp_path)
    with pytest.raises(PyvirtError):
        check_emulator("/usr/bin/../../" + os.path.relpath(fake, "/"), tmp_path)
    check_emulator(None, tmp_path)  # no <emulator>: the daemon's own default binary


def test_distribution_qemu_is_allowed_by_default(tmp_path: Path) -> None:
    qemu = "/usr/bin/qemu-system-x86_64"
    if not os.path.exists(qemu):
        pytest.skip("no QEMU installed")
    assert "/usr/bin/qemu-system-*" in DEFAULT_PATTERNS
    check_emulator(qemu, tmp_path)


def test_session_daemon_runs_its_users_emulator(tmp_path: Path) -> None:
    from tests.security.fakedriver import run

    async def scenario(drv, emulator):  # type: ignore[no-untyped-def]
        await drv.create_xml(domain_xml("mine", emulator()))
        await drv.destroy("mine")

    run(tmp_path, scenario)


def test_a_missing_emulator_is_refused_at_define_as_libvirt_does(tmp_path: Path) -> None:
    """libvirt 9.0 looks the <emulator>'s capabilities up at define (virQEMUCapsCacheLookup):
    a path that does not exist is refused there, in its words, not only at start."""
    async def scenario() -> None:
        drv = QemuDriver(state_paths("qemu:///session", tmp_path), emulator_caps=CAPS)
        await drv.load()
        try:
            for call in (drv.define_xml, drv.create_xml):
                with pytest.raises(PyvirtError, match="^Cannot check QEMU binary /nonexistent/qemu: "
                                                      "No such file or directory") as err:
                    await call(domain_xml("gone", "/nonexistent/qemu"))
                assert err.value.code == ErrorCode.SYSTEM_ERROR
            assert drv.list_domains() == []
        finally:
            await shut_down(drv)

    asyncio.run(scenario())
