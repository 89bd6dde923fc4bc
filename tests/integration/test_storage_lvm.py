"""logical pool: a real LVM volume group on a loop device, driven through the StorageDriver.

pool-build runs pvcreate/vgcreate, pool-start/destroy vgchange, volumes are LVs, pool-delete
runs vgremove/pvremove.  The VG name is random, and the finally block removes the VG, the PV
and the loop device this test made, whatever happened in between.

Where the kernel has no device-mapper (many containers), no LV can be activated, so lvcreate
must be refused with the reason; the rest of the volume path (lvs, lvremove) is still checked
on an LV the test writes as metadata only (``lvcreate --driverloaded n -an``).
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from pathlib import Path

import pytest

from pyvirt.api import ErrorCode, PyvirtError
from pyvirt.storage import StorageDriver
from pyvirt.storage.backends import NO_UDEV_CONFIG, device_mapper_problem

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("losetup")
                                or not (shutil.which("vgcreate") or os.path.exists("/sbin/vgcreate")),
                                reason="needs root, losetup and lvm2")
MiB = 2**20


def _lvm(*argv: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, LVM_SUPPRESS_FD_WARNINGS="1")
    return subprocess.run([argv[0], "--config", NO_UDEV_CONFIG, *argv[1:]], capture_output=True,
                          text=True, check=False, env=env, timeout=120)


def test_logical_pool_lifecycle(tmp_path: Path) -> None:
    img = tmp_path / "pv.img"
    with open(img, "wb") as fh:
        fh.truncate(128 * MiB)
    proc = subprocess.run(["losetup", "-f", "--show", str(img)], capture_output=True, text=True)
    if proc.returncode:
        pytest.skip(f"no loop device available: {proc.stderr.strip()}")
    dev = proc.stdout.strip()
    vg = f"pyvirt-test-{secrets.token_hex(4)}"
    dm_problem = device_mapper_problem()
    try:
        drv = StorageDriver(tmp_path / "etc", tmp_path / "run", tmp_path / "img")
        drv.define_pool(f"<pool type='logical'><name>lv</name><source><device path='{dev}'/>"
                        f"<name>{vg}</name><format type='lvm2'/></source>"
                        f"<target><path>/dev/{vg}</path></target></pool>")
        drv.build_pool("lv")
        drv.start_pool("lv")
        info = drv.lookup_pool("lv")
        assert info.active and info.type == "logical" and info.path == f"/dev/{vg}"
        assert 100 * MiB < info.capacity <= 128 * MiB and info.allocation == 0
        assert info.available == info.capacity
        assert drv.list_volumes("lv") == []
        assert f"<name>{vg}</name>" in drv.get_pool_xml("lv")
        # find-storage-pool-sources logical: the VG with its PV, as libvirt's <sources> lists it
        found = drv.find_pool_sources("logical")
        assert found.startswith("<sources>\n") and found.endswith("</sources>\n")
        assert (f"  <source>\n    <device path='{dev}'/>\n    <name>{vg}</name>\n    <format type='lvm2'/>\n"
                "  </source>\n") in found, found

        if dm_problem is None:
            vol = drv.create_volume("lv", "v1", "8M")
            assert (vol.type, vol.format, vol.capacity) == ("block", "raw", 8 * MiB)
            assert vol.path == f"/dev/{vg}/v1" and os.path.exists(vol.path)
            drv.create_volume_xml("lv", "<volume><name>v2</name><capacity unit='M'>6</capacity>"
                                  "</volume>")  # LVM rounds up to whole 4 MiB extents
        else:
            with pytest.raises(PyvirtError, match="device-mapper is not available") as err:
                drv.create_volume("lv", "v1", "8M")
            assert err.value.code == ErrorCode.OPERATION_FAILED
            for name, size in (("v1", "8m"), ("v2", "6m")):
                made = _lvm("lvcreate", "--driverloaded", "n", "-an", "-Zn", "-y", "-n", name,
                            "-L", size, vg)
                assert made.returncode == 0, made.stderr
        vols = {v.name: v for v in drv.list_volumes("lv")}
        assert sorted(vols) == ["v1", "v2"]
        assert vols["v2"].capacity == 8 * MiB and vols["v1"].key == f"/dev/{vg}/v1"
        assert drv.vol_info("lv", "v1").capacity == 8 * MiB
        assert drv.lookup_pool("lv").allocation == 16 * MiB
        lv_xml = drv.get_volume_xml("lv", "v1")
        assert "<capacity unit='bytes'>8388608</capacity>" in lv_xml
        assert "<format" not in lv_xml  # a logical pool's volumes have no format (libvirt's volOptions)

        with pytest.raises(PyvirtError) as err:
            drv.delete_volume("lv", "nope")
        assert err.value.code == ErrorCode.NO_STORAGE_VOL
        drv.delete_volume("lv", "v1")
        assert [v.name for v in drv.list_volumes("lv")] == ["v2"]
        drv.delete_volume("lv", "v2")
        assert drv.list_volumes("lv") == []

        drv.destroy_pool("lv")
        assert not drv.lookup_pool("lv").active
        drv.delete_pool("lv")
        assert _lvm("vgs", vg).returncode != 0  # the VG is gone
        assert _lvm("pvs", dev).returncode != 0  # and so is the PV label
        drv.undefine_pool("lv")
    finally:
        if _lvm("vgs", vg).returncode == 0:
            _lvm("vgremove", "-f", vg)
        _lvm("pvremove", "-ff", "-y", dev)
        subprocess.run(["losetup", "-d", dev], check=False)
