"""<blkiotune> into a guest's cgroup (daemon/cgroups.py), on a fake cgroup tree: libvirt's files
and values for cgroup v1 (blkio) and v2 (io), BFQ's weight file preferred where it exists,
libvirt's refusals (no controller, no CFQ device weights, not a block device)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyvirt.api import PyvirtError
from pyvirt.daemon import cgroups
from pyvirt.xml.domain import BlkioDevice, BlkioTune


class _Dom:
    cputune = memtune = None

    def __init__(self, tune: BlkioTune) -> None:
        self.blkiotune = tune


def _guest(tmp_path: Path, version: int, files: tuple[str, ...]) -> cgroups.GuestCgroup:
    mount = tmp_path / "cg"
    mounts = tmp_path / "mounts"
    if version == 1:
        mounts.write_text(f"cgroup {mount} cgroup rw,blkio 0 0\n")
    else:
        mounts.write_text(f"cgroup2 {mount} cgroup2 rw 0 0\n")
    mount.mkdir()
    (mount / "cgroup.controllers").write_text("io memory\n")
    cg = cgroups.for_guest(tmp_path / "run", "vm1", True, mounts_file=str(mounts))
    assert cg is not None and cg.controllers["blkio"].version == version
    guest = cg.dir_of("blkio")
    guest.mkdir(parents=True)
    for name in files:
        (guest / name).write_text("")
    return cg


@pytest.fixture(autouse=True)
def _fake_block(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cgroups, "block_device_number", lambda path: {"/dev/vdx": "252:16"}[path])


def test_v1_weight_prefers_bfq_and_throttles(tmp_path: Path) -> None:
    cg = _guest(tmp_path, 1, ("blkio.bfq.weight", "blkio.weight", "blkio.throttle.read_bps_device"))
    tune = BlkioTune(weight=300, devices=[BlkioDevice(path="/dev/vdx", read_bytes_sec=1000)])
    cg.write(cgroups.plan(_Dom(tune), cg.controllers))
    d = cg.dir_of("blkio")
    assert (d / "blkio.bfq.weight").read_text() == "300" and (d / "blkio.weight").read_text() == ""
    assert (d / "blkio.throttle.read_bps_device").read_text() == "252:16 1000"
    assert cg.read("blkio", "blkio.bfq.weight|blkio.weight") == "300"
    with pytest.raises(PyvirtError, match="blkio device weight is valid only for cfq scheduler"):
        cg.write(cgroups.plan(_Dom(BlkioTune(devices=[BlkioDevice(path="/dev/vdx", weight=5)])), cg.controllers))


def test_v2_io_files(tmp_path: Path) -> None:
    cg = _guest(tmp_path, 2, ("io.weight", "io.max"))
    tune = BlkioTune(weight=200, devices=[BlkioDevice(path="/dev/vdx", write_iops_sec=0)])
    settings = cgroups.plan(_Dom(tune), cg.controllers)
    assert [(n, v) for _, n, v, _ in settings] == [("io.bfq.weight|io.weight", "200|default 200"),
                                                   ("io.max", "252:16 wiops=max")]
    cg.write(settings)
    assert (cg.dir_of("blkio") / "io.weight").read_text() == "default 200"


def test_no_controller_is_libvirts_refusal() -> None:
    with pytest.raises(PyvirtError, match="Block I/O tuning is not available on this host"):
        cgroups.plan(_Dom(BlkioTune(weight=100)), {})
    assert cgroups.plan(_Dom(BlkioTune()), {}) == []


def test_not_a_block_device(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.undo()
    with pytest.raises(PyvirtError, match=f"Path '{tmp_path}' must be a block device"):
        cgroups.block_device_number(str(tmp_path))
