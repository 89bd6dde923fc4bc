"""save / restore / managed save with the real test guest under TCG, through pyvirtd.

One boot serves the story: the guest's uptime keeps counting across save -> restore (the same
guest, not a new boot), a managed save survives a pyvirtd restart and `start` resumes it, and
a corrupt image is refused without touching the domain or the file.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from pyvirt.api import DomainState, PyvirtError, RunningReason, ShutoffReason
from pyvirt.qemu import saveimage
from pyvirt.testguest import READY_MARKER, TestGuest
from tests.daemon_harness import DaemonHarness, guest_shell, guest_xml, wait_console


def _uptime(conn: object, name: str, step: str) -> float:
    out = guest_shell(conn, name, "echo UP=$(cut -d' ' -f1 /proc/uptime)", step)
    found = re.findall(r"UP=([0-9.]+)", out)
    assert found, out
    return float(found[-1])


def _cached_pages(path: Path) -> int:
    """Pages of `path` in the host's page cache (util-linux fincore)."""
    out = subprocess.run(["fincore", "--noheadings", "--raw", "--output", "PAGES", str(path)],
                         capture_output=True, text=True, check=True).stdout
    return int(out.strip())


def test_save_restore_and_managed_save_resume_the_same_guest(daemon: DaemonHarness, test_guest: TestGuest,
                                                             tmp_path: Path) -> None:
    conn = daemon.connect()
    conn.define_xml(guest_xml(test_guest, "sv"))
    conn.start("sv")
    wait_console(conn, "sv", READY_MARKER, 180)
    before = _uptime(conn, "sv", "STEP-1")

    image = tmp_path / "sv.save"
    conn.save("sv", str(image), bypass_cache=True)
    assert conn.get_state("sv") == (DomainState.SHUTOFF, ShutoffReason.SAVED)
    assert _cached_pages(image) == 0  # --bypass-cache: the image left nothing in the page cache
    header = saveimage.read_header(str(image))
    assert header.was_running and "<name>sv</name>" in header.xml
    assert "<name>sv</name>" in conn.save_image_xml(str(image))

    corrupt = tmp_path / "corrupt.save"
    corrupt.write_bytes(b"LibvirtQemudSave" + b"\xff" * 200)
    for bad, message in ((corrupt, "image version is not supported"),
                         (tmp_path / "none.save", "Failed to open file .*none.save.*No such file"),
                         ("relative.save", "must be absolute")):
        with pytest.raises(PyvirtError, match=message):
            conn.restore(str(bad))
    assert corrupt.read_bytes() == b"LibvirtQemudSave" + b"\xff" * 200
    assert conn.get_state("sv") == (DomainState.SHUTOFF, ShutoffReason.SAVED)

    conn.restore(str(image), bypass_cache=True)
    assert conn.get_state("sv") == (DomainState.RUNNING, RunningReason.RESTORED)
    assert _cached_pages(image) == 0
    after = _uptime(conn, "sv", "STEP-2")
    assert after >= before, (before, after)  # a fresh boot would start again near 0

    conn.managed_save("sv")
    info = conn.get_info("sv")
    assert (info.state, info.managed_save) == (DomainState.SHUTOFF, True)
    with pytest.raises(PyvirtError, match="managed save image exists"):
        conn.undefine("sv")
    daemon.stop()
    daemon.start()
    conn = daemon.connect()
    assert conn.get_info("sv").managed_save
    conn.start("sv", bypass_cache=True)
    info = conn.get_info("sv")
    assert (info.state, info.reason, info.managed_save) == (DomainState.RUNNING, RunningReason.RESTORED, False)
    assert _uptime(conn, "sv", "STEP-3") >= after
    conn.destroy("sv")
    conn.undefine("sv")
