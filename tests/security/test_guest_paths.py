"""qemu:///system hands QEMU (root or its own user) no host file a guest must not reach: /etc/shadow as a
disk, through a symlink or as a qcow2 backing file, a serial log into /etc, the daemon's own
state, a character device as a disk — each refused at start, naming the path (issue 10)."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from pyvirt.api import ErrorCode, PyvirtError
from pyvirt.daemon.driver import QemuDriver
from pyvirt.paths import state_paths
from tests.daemon_harness import qemu_as_root
from tests.fakeqemu import make_emulator
from tests.security.fakedriver import CAPS, domain_xml, shut_down


def _disk(path: str | Path, fmt: str = "raw", dev: str = "vda") -> str:
    return (f"<disk type='file' device='disk'><driver name='qemu' type='{fmt}'/><source file='{path}'/>"
            f"<target dev='{dev}' bus='virtio'/></disk>")


def _run(tmp_path: Path, uri: str, devices: list[str]) -> list[str]:
    """Start one guest per device list entry; the error message of each start ('' when it ran)."""
    async def scenario() -> list[str]:
        qemu_as_root(tmp_path / "state" / "config")  # the fake QEMU lives in pytest's 0700 tmp dir
        drv = QemuDriver(state_paths(uri, tmp_path / "state"), emulator_caps=CAPS)
        drv.monitor_timeout = 5.0
        await drv.load()
        fake = make_emulator(tmp_path)
        (tmp_path / "state" / "config" / "emulators").write_text(f"{fake}\n")
        out = []
        try:
            for n, dev in enumerate(devices):
                await drv.define_xml(domain_xml(f"g{n}", fake, dev))
                try:
                    await drv.start(f"g{n}")
                    out.append("")
                    await drv.destroy(f"g{n}")
                except PyvirtError as exc:
                    assert exc.code == ErrorCode.CONFIG_UNSUPPORTED, exc
                    out.append(str(exc))
        finally:
            await shut_down(drv)
        return out

    return asyncio.run(scenario())


def test_system_daemon_refuses_host_files_a_guest_must_not_reach(tmp_path: Path) -> None:
    link = tmp_path / "innocent.img"
    link.symlink_to("/etc/shadow")
    image = tmp_path / "ok.img"
    image.write_bytes(b"\0" * 65536)
    own = tmp_path / "state" / "config" / "emulators"
    serial_log = "<serial type='pty'><log file='/etc/cron.d/pyvirt-test'/><target port='0'/></serial>"
    got = _run(tmp_path, "qemu:///system", [
        _disk("/etc/shadow"), _disk(link), _disk(own), _disk("/dev/zero"), serial_log, _disk(image)])
    assert "'/etc/shadow' is in /etc" in got[0]
    assert str(link) in got[1] and "(it is /etc/shadow)" in got[1]
    assert "the daemon's own state" in got[2]
    assert "is a character device" in got[3]
    assert "'/etc/cron.d/pyvirt-test' is in /etc" in got[4]
    assert got[5] == "", got[5]  # an ordinary image starts
    assert not os.path.exists("/etc/cron.d/pyvirt-test")


@pytest.mark.skipif(shutil.which("qemu-img") is None, reason="qemu-img (qemu-utils) not installed")
def test_a_backing_file_cannot_smuggle_a_host_file_in(tmp_path: Path) -> None:
    overlay = tmp_path / "overlay.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", "/etc/shadow", str(overlay)],
                   check=True)
    middle = tmp_path / "middle.qcow2"  # two levels down
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", str(overlay), str(middle)],
                   check=True)
    got = _run(tmp_path, "qemu:///system", [_disk(overlay, "qcow2"), _disk(middle, "qcow2")])
    assert "backing file of disk 'vda' '/etc/shadow' is in /etc" in got[0]
    assert "'/etc/shadow' is in /etc" in got[1]


def test_a_session_daemon_does_not_restrict_its_own_user(tmp_path: Path) -> None:
    """QEMU runs as the session's user there: what it may open is that user's business."""
    image = tmp_path / "own.img"
    image.write_bytes(b"\0" * 65536)
    link = tmp_path / "to-own.img"
    link.symlink_to(image)
    assert _run(tmp_path, "qemu:///session", [_disk(link)]) == [""]
