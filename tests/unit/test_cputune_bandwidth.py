"""Per-thread CPU bandwidth (``<cputune>``'s period/quota, emulator_* and iothread_*), as
libvirt applies it: each vCPU and I/O thread, and QEMU's other threads (the emulator), in a
child cgroup of the guest's ``cpu`` cgroup with its own period and quota (cgroup v1:
cfs_period_us/cfs_quota_us and ``tasks``; v2: a threaded cgroup, ``cpu.max`` and
``cgroup.threads``).  A daemon without the guest's cpu cgroup refuses the start, naming the
elements and why.  Checked here on a fake cgroup tree; tests/integration/test_cputune.py runs it
on the host's real cgroup v1 ``cpu`` hierarchy where it can."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyvirt.api import PyvirtError
from pyvirt.daemon import cgroups, cputune
from pyvirt.daemon.cgroups import Controller, GuestCgroup
from pyvirt.xml import fill_defaults, parse_domain

TUNE = ("<cputune><period>100000</period><quota>50000</quota><emulator_period>20000</emulator_period>"
        "<emulator_quota>-1</emulator_quota><iothread_quota>30000</iothread_quota></cputune>")


def _dom(tune: str = TUNE):
    return fill_defaults(parse_domain(
        f"""<domain type='qemu'><name>g</name><memory unit='MiB'>128</memory><vcpu>2</vcpu><iothreads>1</iothreads>
{tune}<os><type arch='x86_64' machine='pc'>hvm</type></os><devices/></domain>"""))


def test_thread_groups_follow_libvirts_per_thread_cgroups() -> None:
    groups = cgroups.thread_groups(_dom(), {0: 11, 1: 12}, {1: 21}, [10, 13])
    assert [(g.name, g.tids, g.period, g.quota) for g in groups] == [
        ("vcpu0", (11,), 100000, 50000), ("vcpu1", (12,), 100000, 50000),
        ("emulator", (10, 13), 20000, -1), ("iothread1", (21,), None, 30000)]
    assert cgroups.thread_groups(_dom("<cputune><shares>5</shares></cputune>"), {0: 1}, {}, [2]) == []


@pytest.mark.parametrize("version", [1, 2])
def test_threads_are_placed_with_their_bandwidth(tmp_path: Path, version: int,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    # the kernel makes a cgroup's files with the directory; a plain directory needs them made
    monkeypatch.setattr(cgroups, "_write", lambda path, value: Path(path).write_text(value))
    cg = GuestCgroup({"cpu": Controller("cpu", version, tmp_path)}, "g.scope")
    base = cg.dir_of("cpu")
    base.mkdir(parents=True)
    (base / "cgroup.subtree_control").write_text("")
    groups = cgroups.thread_groups(_dom(), {0: 11, 1: 12}, {1: 21}, [10, 13])
    cg.place_threads(groups)
    if version == 1:
        assert (base / "vcpu0/cpu.cfs_period_us").read_text() == "100000"
        assert (base / "vcpu0/cpu.cfs_quota_us").read_text() == "50000"
        assert (base / "emulator/cpu.cfs_quota_us").read_text() == "-1"  # none
        assert not (base / "iothread1/cpu.cfs_period_us").exists()  # only what the XML sets
        assert (base / "vcpu1/tasks").read_text() == "12"
    else:
        assert (base / "vcpu0/cgroup.type").read_text() == "threaded"
        assert (base / "cgroup.subtree_control").read_text() == "+cpu"
        assert (base / "vcpu0/cpu.max").read_text() == "50000 100000"
        assert (base / "emulator/cpu.max").read_text() == "max 20000"
        assert (base / "iothread1/cpu.max").read_text() == "30000 100000"
        assert (base / "iothread1/cgroup.threads").read_text() == "21"
    # the fake files are plain ones: each write replaced the last, so the last emulator thread is there
    assert (base / "emulator" / ("tasks" if version == 1 else "cgroup.threads")).read_text() == "13"


def test_start_refused_without_the_guests_cpu_cgroup_naming_why(tmp_path: Path) -> None:
    with pytest.raises(PyvirtError, match=r"<period>, <quota>, <emulator_period>, <emulator_quota>, "
                                          r"<iothread_quota>: per-thread CPU bandwidth needs the guest's own cgroup"):
        cputune.check(_dom(), None)
    memory_only = GuestCgroup({"memory": Controller("memory", 1, tmp_path)}, "g.scope")
    with pytest.raises(PyvirtError, match="'cpu' controller"):
        cputune.check(_dom(), memory_only)
    cputune.check(_dom(), GuestCgroup({"cpu": Controller("cpu", 1, tmp_path)}, "g.scope"))
    assert cputune.needed(_dom("<cputune><emulator_quota>1000</emulator_quota></cputune>"))


def test_remove_takes_the_per_thread_cgroups_first(tmp_path: Path) -> None:
    cg = GuestCgroup({"cpu": Controller("cpu", 1, tmp_path)}, "g.scope")
    (cg.dir_of("cpu") / "vcpu0").mkdir(parents=True)
    cg.remove()
    assert not cg.dir_of("cpu").exists()
