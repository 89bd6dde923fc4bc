"""fs pool: a loop device with ext4, mounted by pool-start and unmounted by pool-destroy."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from pyvirt.storage import StorageDriver

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("losetup")
                                or not shutil.which("mkfs.ext4"), reason="needs root, losetup, mkfs")


def test_fs_pool_mount_cycle(tmp_path: Path) -> None:
    img = tmp_path / "disk.img"
    with open(img, "wb") as fh:
        fh.truncate(64 * 2**20)
    proc = subprocess.run(["losetup", "--find", "--show", str(img)], capture_output=True, text=True)
    if proc.returncode:
        pytest.skip(f"no loop device: {proc.stderr.strip()}")
    dev = proc.stdout.strip()
    mnt = tmp_path / "mnt"
    try:
        subprocess.run(["mkfs.ext4", "-q", dev], check=True, capture_output=True)
        drv = StorageDriver(tmp_path / "etc", tmp_path / "run", tmp_path / "img")
        drv.define_pool(f"<pool type='fs'><name>fsp</name><source><device path='{dev}'/>"
                        f"<format type='ext4'/></source><target><path>{mnt}</path></target></pool>")
        drv.build_pool("fsp")
        drv.start_pool("fsp")
        assert os.path.ismount(mnt)
        assert drv.lookup_pool("fsp").capacity < 64 * 2**20
        drv.create_volume("fsp", "v.qcow2", "1G", "qcow2")
        assert [v.name for v in drv.list_volumes("fsp")] == ["lost+found", "v.qcow2"]
        drv.destroy_pool("fsp")
        assert not os.path.ismount(mnt)
    finally:
        if os.path.ismount(mnt):
            subprocess.run(["umount", str(mnt)], check=False)
        subprocess.run(["losetup", "-d", dev], check=False)
