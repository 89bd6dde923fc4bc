"""qemu:///system with qemu.conf's user/group: QEMU runs unprivileged (no capabilities), what it
opens is chowned to that user at start and given back at stop, and the QEMU process itself gets
EACCES for a host secret (issue 10, defence in depth).  Real QEMU under TCG, the firmware-only
ROM guest; the state root lives in a directory the QEMU user may search, as an admin's would."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyvirt.api import PyvirtError
from pyvirt.paths import state_paths
from pyvirt.testguest import rom_domain_xml, rom_image

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="changing QEMU's user needs root"),
    pytest.mark.skipif(shutil.which("qemu-system-x86_64") is None, reason="no QEMU installed"),
]
NOBODY = 65534


@pytest.fixture
def root() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="pyvirt-dac-", dir="/var/tmp"))
    path.chmod(0o711)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _status(pid: int) -> dict[str, str]:
    return dict(line.split(":\t", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":\t" in line)


def test_system_guest_runs_as_the_configured_user_and_its_files_are_given_back(root: Path) -> None:
    from pyvirt.daemon.driver import QemuDriver

    paths = state_paths("qemu:///system", root)
    paths.ensure()
    (paths.config / "qemu.conf").write_text('# test\nuser = "nobody"\ngroup = "nogroup"\n')
    images = root / "images"
    images.mkdir(mode=0o711)
    rom = images / "rom.bin"
    rom.write_bytes(rom_image())
    rom.chmod(0o600)  # root's own, unreadable to nobody: relabelled for the run
    disk = images / "disk.img"
    disk.write_bytes(b"\0" * (1 << 20))
    disk.chmod(0o600)
    plugged = images / "plugged.img"
    plugged.write_bytes(b"\0" * (1 << 20))
    plugged.chmod(0o600)
    xml = rom_domain_xml("dac", rom).replace("</os>", "</os><features><acpi/></features>").replace(
        "<devices>", f"<devices><disk type='file' device='disk'><driver name='qemu' type='raw'/>"
                     f"<source file='{disk}'/><target dev='vda' bus='virtio'/></disk>")

    async def scenario() -> None:
        drv = QemuDriver(paths)
        await drv.load()
        try:
            await drv.define_xml(xml)
            await drv.start("dac")
            rec = drv._by_name["dac"]
            status = _status(rec.run.ident.pid)
            assert status["Uid"].split() == [str(NOBODY)] * 4 and status["Gid"].split()[0] == str(NOBODY)
            assert int(status["CapEff"], 16) == 0 and int(status["CapPrm"], 16) == 0
            assert (disk.stat().st_uid, rom.stat().st_uid) == (NOBODY, NOBODY)
            # the QEMU process itself cannot open a host secret (whatever a definition says)
            with pytest.raises(PyvirtError, match="Permission denied"):
                await drv._qmp(rec.run, "blockdev-add", {"driver": "file", "node-name": "probe",
                                                         "filename": "/etc/shadow", "read-only": True})
            # a hot-plugged disk is given to QEMU's user too (QEMU opens it: device_add succeeds)
            await drv.attach_device("dac", f"<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
                                           f"<source file='{plugged}'/><target dev='vdb' bus='virtio'/></disk>",
                                    live=True)
            assert plugged.stat().st_uid == NOBODY
            await drv.destroy("dac")
            assert [(p.stat().st_uid, p.stat().st_gid, oct(p.stat().st_mode & 0o777)) for p in (disk, rom, plugged)] \
                == [(0, 0, "0o600")] * 3
        finally:
            for r in list(drv._by_name.values()):
                if r.run is not None:
                    await drv.destroy(r.name)
            await drv.close()

    asyncio.run(scenario())


def test_an_unknown_user_is_refused_by_name(root: Path) -> None:
    from pyvirt.daemon.qemuuser import load

    (root / "qemu.conf").write_text('user = "no-such-user-pyvirt"\n')
    with pytest.raises(PyvirtError, match="user 'no-such-user-pyvirt' does not exist"):
        load(root)
    (root / "qemu.conf").write_text('user = "root"\ngroup = "root"\n')
    assert load(root) is None  # root: no change from before
    (root / "qemu.conf").write_text('user = "+65534"\ngroup = "+65534"\n')
    assert (load(root).uid, load(root).gid) == (NOBODY, NOBODY)
