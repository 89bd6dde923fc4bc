"""virtiofs shares served by pyvirtd as libvirt 9.0 serves them: a system daemon starts one
virtiofsd per share (the host's QEMU 7.2 virtiofsd from its vhost-user descriptor, or
``<binary path>``) on a socket it made in the guest's directory, with ``<binary>``'s options;
real QEMU connects to it and starts; the helper ends with the guest."""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from pathlib import Path

import pytest

from pyvirt.daemon import vhost_user_gpu
from pyvirt.testguest import rom_domain_xml
from tests.security.conftest import root_system_state
from tests.security.fakedriver import destroy_all


def _virtiofsds(source: Path) -> list[list[str]]:
    out = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if cmd and cmd[0].endswith(b"virtiofsd") and f"source={source}".encode() in b" ".join(cmd):
            out.append([c.decode() for c in cmd if c])
    return out


def test_system_daemon_serves_a_share_with_virtiofsd(open_root: Path) -> None:
    binary = vhost_user_gpu.vhost_user_binary("fs")
    if os.geteuid() != 0 or shutil.which("qemu-system-x86_64") is None or binary is None:
        pytest.skip("needs root, QEMU and its virtiofsd")
    from pyvirt.daemon.driver import QemuDriver

    root = open_root
    share = root / "share"
    share.mkdir()
    paths, rom = root_system_state(root)
    fs = (f"<filesystem type='mount'><driver type='virtiofs'/><binary xattr='on'><cache mode='always'/>"
          f"<lock posix='off' flock='off'/><thread_pool size='2'/></binary><source dir='{share}'/>"
          "<target dir='share'/></filesystem>")
    xml = rom_domain_xml("vfs", rom).replace("<devices>", f"<devices>{fs}").replace(
        "<os>", "<memoryBacking><source type='memfd'/><access mode='shared'/></memoryBacking><os>")

    async def scenario() -> None:
        drv = QemuDriver(paths)
        await drv.load()
        try:
            await drv.define_xml(xml)
            await drv.start("vfs")  # QEMU connects to the share's socket at start: virtiofsd serves it
            # one virtiofsd (QEMU 7.2's forks once into its namespace sandbox: same command line)
            (cmd,) = {tuple(c) for c in _virtiofsds(share)}
            assert cmd[0] == binary and cmd[1].startswith("--fd=")
            assert list(cmd[2:]) == ["-o", f"source={share},cache=always,xattr,no_flock,no_posix_lock",
                               "--thread-pool-size=2"]
            assert drv._by_name["vfs"].run is not None
            await drv.destroy("vfs")
            deadline = time.monotonic() + 60
            while _virtiofsds(share) and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            assert not _virtiofsds(share)  # it ends with the guest's connection
        finally:
            await destroy_all(drv)

    asyncio.run(scenario())
