"""StorageDriver against real files and real qemu-img (no QEMU guest needed)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pyvirt.api import ErrorCode, PyvirtError
from pyvirt.storage import StorageDriver

pytestmark = pytest.mark.skipif(not shutil.which("qemu-img"), reason="qemu-img missing")
GiB = 2**30


def img_info(path: str, fmt: str) -> dict:
    out = subprocess.run(["qemu-img", "info", "--output=json", "-f", fmt, path],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


@pytest.fixture
def drv(tmp_path: Path) -> StorageDriver:
    d = StorageDriver(tmp_path / "etc", tmp_path / "run", tmp_path / "images")
    d.ensure_default_pool()
    return d


def snapshot(d: StorageDriver, pool: str = "default") -> list[tuple[str, str, int]]:
    root = d.lookup_pool(pool).path
    return sorted((v.name, v.format, v.capacity) for v in d.list_volumes(pool)) + \
        [("files", ",".join(sorted(os.listdir(root))), 0)]


def test_default_pool(drv: StorageDriver, tmp_path: Path) -> None:
    info = drv.lookup_pool("default")
    assert info.active and info.autostart and info.capacity > 0
    assert (tmp_path / "etc/storage/default.xml").exists()
    assert os.stat(tmp_path / "images").st_mode & 0o777 == 0o711
    again = StorageDriver(tmp_path / "etc", tmp_path / "run", tmp_path / "images")
    assert again.ensure_default_pool().uuid == info.uuid
    assert json.dumps(info.to_dict())


def test_create_qcow2_and_raw(drv: StorageDriver) -> None:
    q = drv.create_volume("default", "a.qcow2", "1G", "qcow2")
    assert (q.format, q.capacity) == ("qcow2", GiB)
    assert img_info(q.path, "qcow2")["virtual-size"] == GiB
    r = drv.create_volume("default", "b.raw", "10M", "raw", allocation="10M")
    assert r.allocation >= 10 * 2**20
    m = drv.create_volume("default", "m.qcow2", "1G", "qcow2", prealloc_metadata=True)
    assert m.allocation > q.allocation
    info = drv.vol_info("default", "a.qcow2")
    assert info.capacity == GiB
    assert "<format type='qcow2'/>" in drv.get_volume_xml("default", "a.qcow2")
    with pytest.raises(PyvirtError) as err:
        drv.create_volume("default", "a.qcow2", "1G", "qcow2")
    assert err.value.code == ErrorCode.STORAGE_VOL_EXIST


def test_create_from_xml(drv: StorageDriver) -> None:
    vol = drv.create_volume_xml("default", """<volume><name>x.img</name>
        <capacity unit='MiB'>64</capacity><target><format type='qcow2'/><compat>1.1</compat>
        <features><lazy_refcounts/></features></target></volume>""")
    data = img_info(vol.path, "qcow2")
    assert data["virtual-size"] == 64 * 2**20
    assert data["format-specific"]["data"]["lazy-refcounts"] is True


def test_bad_inputs_leave_state_unchanged(drv: StorageDriver, tmp_path: Path) -> None:
    drv.create_volume("default", "keep", "1M")
    before = snapshot(drv)
    huge = drv.lookup_pool("default").available + GiB
    bad = [
        dict(name="a/b", capacity="1M"), dict(name="..", capacity="1M"),
        dict(name="-x", capacity="1M"), dict(name="n\0ul", capacity="1M"),
        dict(name="v", capacity="-1"), dict(name="v", capacity="ten"),
        dict(name="v", capacity="1M", format="vmdk"), dict(name="keep", capacity="1M"),
        dict(name="v", capacity=huge, allocation=huge),
        dict(name="v", capacity="1M", format="qcow2", backing="/etc/passwd"),
    ]
    for kw in bad:
        with pytest.raises(PyvirtError):
            drv.create_volume("default", **kw)
    for xml in ("<volume><name>v</name><nope/></volume>", "<volume>", "<pool/>"):
        with pytest.raises(PyvirtError) as err:
            drv.create_volume_xml("default", xml)
        # malformed: libvirt's catchXMLError report, VIR_ERR_XML_DETAIL
        assert err.value.code == (ErrorCode.XML_DETAIL if xml == "<volume>" else ErrorCode.XML_ERROR)
    with pytest.raises(PyvirtError) as err:
        drv.vol_info("default", "missing")
    assert err.value.code == ErrorCode.NO_STORAGE_VOL
    with pytest.raises(PyvirtError) as err:
        drv.lookup_pool("nopool")
    assert err.value.code == ErrorCode.NO_STORAGE_POOL
    afile = tmp_path / "afile"
    afile.write_text("x")
    with pytest.raises(PyvirtError):
        drv.define_pool(f"<pool type='dir'><name>f</name><target><path>{afile}</path></target></pool>")
    assert snapshot(drv) == before
    assert [p.name for p in drv.list_pools()] == ["default"]


def test_backing_clone_overlay(drv: StorageDriver) -> None:
    base = drv.create_volume("default", "base.qcow2", "64M", "qcow2")
    top = drv.create_volume("default", "top.qcow2", None, "qcow2", backing=base.path)
    assert top.capacity == 64 * 2**20 and top.backing == base.path
    ov = drv.clone_volume("default", "base.qcow2", "ov", overlay=True)
    assert img_info(ov.path, "qcow2")["backing-filename-format"] == "qcow2"
    full = drv.clone_volume("default", "base.qcow2", "full.raw", format="raw")
    assert (full.format, full.capacity) == ("raw", 64 * 2**20)


def test_anti_probing(drv: StorageDriver, tmp_path: Path) -> None:
    """A file dropped into the pool that looks like qcow2 is listed as raw, never probed."""
    secret = tmp_path / "secret"
    secret.write_text("s")
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", str(secret), "-F", "raw",
                    str(tmp_path / "images" / "evil"), "1M"], check=True)
    vol = drv.lookup_volume("default", "evil")
    assert vol.format == "raw" and vol.backing is None
    # uploading such an image into a qcow2 volume is refused, old content kept
    drv.create_volume("default", "q", "1M", "qcow2")
    with pytest.raises(PyvirtError), open(tmp_path / "images" / "evil", "rb") as fh:
        drv.upload_volume("default", "q", fh)
    assert img_info(drv.vol_info("default", "q").path, "qcow2").get("backing-filename") is None


def test_delete_wipe_resize(drv: StorageDriver) -> None:
    drv.create_volume("default", "r", "4M")
    drv.upload_volume("default", "r", [b"\x01" * 4096])
    drv.resize_volume("default", "r", "8M")
    assert drv.vol_info("default", "r").capacity == 8 * 2**20
    with pytest.raises(PyvirtError):
        drv.resize_volume("default", "r", "1M")
    assert drv.resize_volume("default", "r", "1M", shrink=True).capacity == 2**20
    drv.upload_volume("default", "r", [b"\x07" * 100], offset=10, length=100)
    data = b"".join(drv.download_volume("default", "r"))
    assert len(data) == 2**20 and data[10:110] == b"\x07" * 100 and data[:10] == b"\x01" * 10
    drv.wipe_volume("default", "r")
    assert b"".join(drv.download_volume("default", "r", 0, 4096)) == bytes(4096)
    q = drv.create_volume("default", "q", "16M", "qcow2")
    subprocess.run(["qemu-io", "-f", "qcow2", "-c", "write -P 5 0 1M", q.path],
                   check=False, capture_output=True)
    drv.wipe_volume("default", "q")
    assert img_info(q.path, "qcow2")["virtual-size"] == 16 * 2**20
    drv.delete_volume("default", "r")
    assert [v.name for v in drv.list_volumes("default")] == ["q"]


def test_in_use_delete_refused_unless_forced(tmp_path: Path) -> None:
    drv = StorageDriver(tmp_path / "etc", tmp_path / "run", tmp_path / "img",
                        in_use=lambda p: "guest1" if p.endswith("/busy") else None)
    drv.ensure_default_pool()
    drv.create_volume("default", "busy", "1M")
    with pytest.raises(PyvirtError) as err:
        drv.delete_volume("default", "busy")
    assert "guest1" in str(err.value) and err.value.code == ErrorCode.OPERATION_INVALID
    drv.delete_volume("default", "busy", force=True)


def test_lookups(drv: StorageDriver) -> None:
    v = drv.create_volume("default", "l", "1M")
    assert drv.lookup_volume_by_path(v.path).name == "l"
    assert drv.lookup_volume_by_key(v.key).pool == "default"
    with pytest.raises(PyvirtError):
        drv.lookup_volume_by_path("/etc/passwd")


def test_pool_lifecycle_and_corrupt_file(tmp_path: Path) -> None:
    drv = StorageDriver(tmp_path / "etc", tmp_path / "run", tmp_path / "img")
    path = tmp_path / "p1"
    drv.define_pool(f"<pool type='dir'><name>p1</name><target><path>{path}</path>"
                    "<permissions><mode>0750</mode></permissions></target></pool>")
    with pytest.raises(PyvirtError):
        drv.start_pool("p1")  # not built
    drv.build_pool("p1")
    assert os.stat(path).st_mode & 0o777 == 0o750
    drv.start_pool("p1")
    drv.set_pool_autostart("p1", True)
    assert drv.lookup_pool("p1").autostart
    assert "<capacity unit='bytes'>0</capacity>" not in drv.get_pool_xml("p1")
    drv.refresh_pool("p1")
    with pytest.raises(PyvirtError):
        drv.undefine_pool("p1")
    drv.destroy_pool("p1")
    drv.delete_pool("p1")
    assert not path.exists()
    (tmp_path / "etc/storage/bad.xml").write_text("<pool type='dir'><name>bad")
    drv2 = StorageDriver(tmp_path / "etc", tmp_path / "run", tmp_path / "img")
    assert [p.name for p in drv2.list_pools()] == ["p1"]
    assert (tmp_path / "etc/storage/bad.xml").read_text() == "<pool type='dir'><name>bad"
    drv2.undefine_pool("p1")
    assert drv2.list_pools() == []


def test_transient_pool_lives_in_the_runtime_dir(tmp_path: Path) -> None:
    """pool-create: only a state file; a new driver (daemon restart) finds it still transient,
    a fresh runtime dir (host reboot) forgets it, and stopping it forgets it at once."""
    drv = StorageDriver(tmp_path / "etc", tmp_path / "run", tmp_path / "img")
    xml = f"<pool type='dir'><name>tp</name><target><path>{tmp_path / 'tp'}</path></target></pool>"
    info = drv.create_pool(xml, build=True)
    assert info.active and not info.persistent
    assert not (tmp_path / "etc" / "storage" / "tp.xml").exists()
    with pytest.raises(PyvirtError, match="^operation failed: pool 'tp' already exists"):
        drv.create_pool(xml)
    with pytest.raises(PyvirtError, match="^Requested operation is not valid: storage pool 'tp' "
                                          "is still active$"):
        drv.undefine_pool("tp")
    again = StorageDriver(tmp_path / "etc", tmp_path / "run", tmp_path / "img")
    assert (again.lookup_pool("tp").active, again.lookup_pool("tp").persistent) == (True, False)
    assert StorageDriver(tmp_path / "etc", tmp_path / "run2", tmp_path / "img").list_pools() == []
    again.destroy_pool("tp")
    assert again.list_pools() == []
    assert StorageDriver(tmp_path / "etc", tmp_path / "run", tmp_path / "img").list_pools() == []
    # pool-define over a running transient pool makes it persistent (libvirt does the same)
    drv = StorageDriver(tmp_path / "etc", tmp_path / "run", tmp_path / "img")
    drv.create_pool(xml)
    assert drv.define_pool(xml).persistent
    drv.destroy_pool("tp")
    assert not drv.lookup_pool("tp").active
    with pytest.raises(PyvirtError, match="^Requested operation is not valid: storage pool 'tp' "
                                          "is not active$"):
        drv.destroy_pool("tp")


def test_patch_upload_writes_zeros_over_old_data(drv: StorageDriver) -> None:
    """A zero chunk (or a hole) uploaded at an offset must replace the old bytes."""
    drv.create_volume("default", "z.raw", 1 << 20)
    drv.upload_volume("default", "z.raw", [b"\xff" * 8192], offset=0, length=8192)
    drv.upload_volume("default", "z.raw", [bytes(4096), 4096], offset=0, length=8192)
    with open(drv.vol_info("default", "z.raw").path, "rb") as fh:
        assert fh.read(8192) == bytes(8192)


def test_logical_refused_precisely_without_lvm(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    from pyvirt.storage import backends
    monkeypatch.setattr(backends.os, "access", lambda *a: False)
    drv = StorageDriver(tmp_path / "etc", tmp_path / "run", tmp_path / "img")
    with pytest.raises(PyvirtError) as err:
        drv.define_pool("<pool type='logical'><name>vg</name></pool>")
    assert "lvm2" in str(err.value) and "vgs" in str(err.value)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to mount tmpfs")
def test_full_disk_leaves_no_half_volume(tmp_path: Path) -> None:
    mnt = tmp_path / "small"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mnt)]).returncode:
        pytest.skip("cannot mount tmpfs")
    try:
        drv = StorageDriver(tmp_path / "etc", tmp_path / "run", mnt)
        drv.ensure_default_pool()
        drv.create_volume("default", "v", "1M")
        before = snapshot(drv)
        with pytest.raises(PyvirtError):
            drv.upload_volume("default", "v", (b"\x01" * 2**20 for _ in range(16)))
        with pytest.raises(PyvirtError):
            drv.create_volume("default", "big", "16M", allocation="16M")
        src = drv.create_volume("default", "src", "3M", allocation="3M")
        drv.upload_volume("default", "src", (b"\x02" * 2**20 for _ in range(3)))
        drv.create_volume("default", "fill", "2M", allocation="2M")
        before = snapshot(drv)
        with pytest.raises(PyvirtError):
            drv.clone_volume("default", "src", "copy")
        assert snapshot(drv) == before and src
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


def test_stream_rss_flat_1gib_sparse(tmp_path: Path) -> None:
    script = textwrap.dedent(f"""
        import resource, sys
        from pyvirt.storage import StorageDriver
        d = StorageDriver({str(tmp_path / 'etc')!r}, {str(tmp_path / 'run')!r}, {str(tmp_path / 'img')!r})
        d.ensure_default_pool()
        d.create_volume("default", "big", "1G")
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        def gen():
            for i in range(1024):
                yield (b"x" * 4096 + bytes(2**20 - 4096)) if i % 128 == 0 else bytes(2**20)
        n = d.upload_volume("default", "big", gen())
        total = sum(len(c) for c in d.download_volume("default", "big"))
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(n, total, (after - before) * 1024)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    n, total, growth = (int(x) for x in out.stdout.split())
    assert n == total == GiB
    assert growth < 64 * 2**20, growth


def test_qcow2_resize_rounds_up_to_512_as_libvirt(drv: StorageDriver) -> None:
    """qemu-img refuses sizes that are not a multiple of 512; libvirt rounds a qcow2's new
    capacity up (storageBackendResizeQemuImg), raw files keep the exact size (truncate)."""
    drv.create_volume("default", "q", "1M", "qcow2")
    assert drv.resize_volume("default", "q", 2**21 + 1).capacity == 2**21 + 512
    drv.create_volume("default", "r", "1M")
    assert drv.resize_volume("default", "r", 2**21 + 1).capacity == 2**21 + 1


def test_vol_create_from_honours_prealloc_metadata_as_libvirt(drv: StorageDriver) -> None:
    """vol-create-from's copy takes the flag as libvirt's copier does: metadata preallocation
    into qcow2, refused for a raw-to-raw copy (nothing left behind)."""
    drv.create_volume("default", "a", "1M")
    doc = "<volume><name>{}</name><capacity>1024</capacity><target><format type='{}'/></target></volume>"
    plain = drv.create_volume_xml("default", doc.format("q0", "qcow2"), from_vol="a")
    full = drv.create_volume_xml("default", doc.format("q1", "qcow2"), prealloc_metadata=True, from_vol="a")
    assert full.allocation > plain.allocation
    with pytest.raises(PyvirtError, match=r"^unsupported configuration: metadata preallocation is not supported"):
        drv.create_volume_xml("default", doc.format("b", "raw"), prealloc_metadata=True, from_vol="a")
    assert sorted(v.name for v in drv.list_volumes("default")) == ["a", "q0", "q1"]
