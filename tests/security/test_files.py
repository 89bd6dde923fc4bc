"""State files and names (issue 10, defect 8): private volumes, one runtime dir per guest, limits."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from pyvirt.api import PyvirtError
from tests.security.fakedriver import domain_xml, fake_pids, new_driver, run, shut_down


def test_runtime_files_of_similar_names_do_not_collide(tmp_path: Path) -> None:
    async def scenario(drv, emulator):  # type: ignore[no-untyped-def]
        emu = emulator()
        for name in ("x", "x.json", "x.xml", "x.monitor"):
            await drv.create_xml(domain_xml(name, emu))
        assert len(fake_pids(tmp_path)) == 4
        await drv.destroy("x.json")
        await drv.destroy("x.monitor")
        assert {i.name for i in drv.list_domains()} == {"x", "x.xml"}
        await drv.suspend("x")  # its monitor and record are intact
        second = new_driver(tmp_path)
        await drv.close()
        await second.load()
        await second.resume_guests()
        assert {i.name: i.state for i in second.list_domains()} == {"x": 3, "x.xml": 1}
        await second.destroy("x")
        await second.destroy("x.xml")
        assert list((tmp_path / "run" / "qemu").iterdir()) == []
        await shut_down(second)

    run(tmp_path, scenario)


def test_a_runtime_dir_left_without_record_is_removed_at_load(tmp_path: Path) -> None:
    async def scenario(drv, emulator):  # type: ignore[no-untyped-def]
        stray = drv.store.runtime_files("ghost").private_dir
        stray.mkdir()
        (stray / "qmp.sock").write_text("")
        second = new_driver(tmp_path)
        await second.load()
        assert not stray.exists()
        await shut_down(second)

    run(tmp_path, scenario)


def test_names_longer_than_a_file_name_are_refused_at_define(tmp_path: Path) -> None:
    async def scenario(drv, emulator):  # type: ignore[no-untyped-def]
        emu = emulator()
        with pytest.raises(PyvirtError, match="longer than 251 bytes"):
            await drv.define_xml(domain_xml("n" * 252, emu))
        with pytest.raises(PyvirtError, match="longer than 251 bytes"):
            await drv.define_xml(domain_xml("é" * 126, emu))  # 252 bytes in UTF-8
        longest = "n" * 251
        await drv.define_xml(domain_xml(longest, emu))
        await drv.start(longest)  # its monitor socket path is short whatever the name
        await drv.destroy(longest)

    run(tmp_path, scenario)


@pytest.mark.skipif(shutil.which("qemu-img") is None, reason="needs qemu-img")
def test_volumes_are_created_private(tmp_path: Path) -> None:
    from pyvirt.storage import StorageDriver

    drv = StorageDriver(tmp_path / "etc", tmp_path / "run", tmp_path / "images")
    drv.ensure_default_pool()
    old = os.umask(0o022)
    try:
        drv.create_volume_xml("default", "<volume><name>v.qcow2</name><capacity>1048576</capacity>"
                                         "<target><format type='qcow2'/></target></volume>")
        drv.create_volume_xml("default", "<volume><name>r.img</name><capacity>1048576</capacity>"
                                         "<target><format type='raw'/></target></volume>")
        drv.clone_volume("default", "r.img", "c.img")
    finally:
        os.umask(old)
    for name in ("v.qcow2", "r.img", "c.img"):
        assert os.stat(tmp_path / "images" / name).st_mode & 0o777 == 0o600, name
