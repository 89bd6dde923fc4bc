"""Per-guest cgroups (issue 10, resource isolation): a system guest's QEMU sits in its own cgroup
with <cputune>/<memtune> written as libvirt writes them, and the cgroup goes with the guest.
The mapping is checked for both cgroup versions without a kernel; the real placement runs where
this host lets root create cgroups for the cpu and memory controllers (v1 or v2)."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

import pytest

from pyvirt.api import PyvirtError
from pyvirt.daemon import cgroups
from pyvirt.daemon.cgroups import Controller, plan
from pyvirt.daemon.model import parse_definition
from pyvirt.paths import state_paths
from pyvirt.testguest import rom_domain_xml, rom_image
from tests.security.conftest import root_system_state
from tests.security.fakedriver import destroy_all

TUNED = ("<memtune><hard_limit unit='MiB'>512</hard_limit><soft_limit unit='MiB'>384</soft_limit>"
         "<swap_hard_limit unit='MiB'>1024</swap_hard_limit></memtune>"
         "<cputune><shares>512</shares><global_period>100000</global_period><global_quota>50000</global_quota>"
         "</cputune>")


def _dom(extra: str) -> object:
    return parse_definition("<domain type='qemu'><name>t</name><memory unit='MiB'>16</memory>"
                            f"{extra}<os><type>hvm</type></os><devices/></domain>", None, False)


def _ctl(version: int) -> dict[str, Controller]:
    return {n: Controller(n, version, Path(f"/cg/{n}" if version == 1 else "/cg")) for n in ("cpu", "memory")}


def test_libvirts_mapping_for_cgroup_v1_and_v2() -> None:
    mib = 1024 * 1024
    assert {(f, v) for _c, f, v, _e in plan(_dom(TUNED), _ctl(1))} == {
        ("cpu.shares", "512"), ("cpu.cfs_period_us", "100000"), ("cpu.cfs_quota_us", "50000"),
        ("memory.limit_in_bytes", str(512 * mib)), ("memory.soft_limit_in_bytes", str(384 * mib)),
        ("memory.memsw.limit_in_bytes", str(1024 * mib))}
    assert {(f, v) for _c, f, v, _e in plan(_dom(TUNED), _ctl(2))} == {
        ("cpu.weight", "512"), ("cpu.max", "50000 100000"), ("memory.max", str(512 * mib)),
        ("memory.high", str(384 * mib)), ("memory.swap.max", str(512 * mib))}
    unlimited = _dom(f"<memtune><hard_limit>{cgroups.UNLIMITED_KIB}</hard_limit></memtune>"
                     "<cputune><global_quota>-1</global_quota></cputune>")
    # an unlimited memory limit is no limit in a definition (libvirt 9.0 does not keep it): nothing to write
    assert [v for _c, _f, v, _e in plan(unlimited, _ctl(2))] == ["max 100000"]
    assert [v for _c, _f, v, _e in plan(unlimited, _ctl(1))] == ["-1"]
    # the v1 memory limit is written before the mem+swap limit, which may not be below it
    files = [f for _c, f, _v, _e in plan(_dom(TUNED), _ctl(1))]
    assert files.index("memory.limit_in_bytes") < files.index("memory.memsw.limit_in_bytes")
    assert plan(_dom(""), {}) == []  # nothing asked: nothing needed, cgroups or not


def test_tunables_without_a_controller_or_contradictory_are_refused_by_name() -> None:
    with pytest.raises(PyvirtError, match=r"<cputune><shares> needs the cgroup 'cpu' controller"):
        plan(_dom("<cputune><shares>512</shares></cputune>"), {})
    with pytest.raises(PyvirtError, match=r"<memtune><hard_limit> needs the cgroup 'memory' controller"):
        plan(_dom("<memtune><hard_limit>65536</hard_limit></memtune>"), {"cpu": _ctl(2)["cpu"]})
    with pytest.raises(PyvirtError, match="hard_limit tunable value must be lower than or equal to swap_hard_limit"):
        plan(_dom("<memtune><hard_limit>2048</hard_limit><swap_hard_limit>1024</swap_hard_limit></memtune>"),
             _ctl(2))
    with pytest.raises(PyvirtError, match="unsupported"):
        _dom("<memtune><min_guarantee>1024</min_guarantee></memtune>")
    # per-thread bandwidth without the guest's cpu cgroup is refused at start (tests/unit/test_cputune_bandwidth.py)
    from pyvirt.daemon import cputune

    with pytest.raises(PyvirtError, match="<period>: per-thread CPU bandwidth needs the guest's own cgroup"):
        cputune.check(_dom("<cputune><period>100000</period></cputune>"), None)


def test_detect_prefers_v2_and_reads_v1_mounts(tmp_path: Path) -> None:
    unified, cpu, memory = tmp_path / "unified", tmp_path / "cpu", tmp_path / "memory"
    for d in (unified, cpu, memory):
        d.mkdir()
    (unified / "cgroup.controllers").write_text("hugetlb\n")  # a hybrid host, as this one
    mounts = tmp_path / "mounts"
    mounts.write_text(f"cgroup2 {unified} cgroup2 rw,relatime 0 0\n"
                      f"cgroup {cpu} cgroup rw,relatime,cpu,cpuacct 0 0\n"
                      f"cgroup {memory} cgroup rw,relatime,memory 0 0\n")
    assert cgroups.detect(str(mounts)) == {"cpu": Controller("cpu", 1, cpu), "memory": Controller("memory", 1, memory)}
    (unified / "cgroup.controllers").write_text("cpu io memory pids\n")  # a pure v2 host
    assert {c.version for c in cgroups.detect(str(mounts)).values()} == {2}
    assert cgroups.for_guest("/run/pyvirt", "g", privileged=False, mounts_file=str(mounts)) is None
    a, b = cgroups.guest_key("/run/a", "g"), cgroups.guest_key("/run/b", "g")
    assert a != b and a.startswith("g-") and "/" not in cgroups.guest_key("/run/a", "../x/y")


def test_system_guest_runs_in_its_own_cgroup_with_its_tunables(open_root: Path) -> None:
    root = open_root
    if os.geteuid() != 0 or shutil.which("qemu-system-x86_64") is None:
        pytest.skip("needs root and QEMU")
    found = cgroups.detect()
    if set(found) != {"cpu", "memory"}:
        pytest.skip(f"this host offers no writable cgroup cpu+memory controllers (found: {sorted(found)})")
    from pyvirt.daemon.driver import QemuDriver

    paths = state_paths("qemu:///system", root)
    paths.ensure()
    (paths.config / "qemu.conf").write_text('user = "root"\ngroup = "root"\n')  # cgroups alone here
    rom = root / "rom.bin"
    rom.write_bytes(rom_image())
    xml = rom_domain_xml("cg", rom).replace("<vcpu>1</vcpu>", f"<vcpu>1</vcpu>{TUNED}")

    async def scenario() -> None:
        drv = QemuDriver(paths)
        await drv.load()
        try:
            await drv.define_xml(xml)
            await drv.start("cg")
            pid = drv._by_name["cg"].run.ident.pid
            cg = cgroups.for_guest(paths.runtime, "cg", privileged=True)
            for d in cg.dirs():
                assert str(pid) in (d / "cgroup.procs").read_text().split()
            want = {(f, v) for _c, f, v, _e in plan(drv._by_name["cg"].live, found)}
            got = {(f, (cg.dir_of(c) / f).read_text().split("\n")[0]) for c, f, _v, _e in
                   plan(drv._by_name["cg"].live, found)}
            assert got == want  # the kernel holds what libvirt would have written
            own = Path(f"/proc/{pid}/cgroup").read_text()
            assert f"/{cgroups.PARTITION}/{cg.key}" in own
            # memtune / schedinfo --live: the running guest's cgroup gets the new values first
            await drv.set_memory_parameters("cg", {"hard_limit": 256 * 1024}, live=True)
            await drv.set_scheduler_parameters("cg", {"cpu_shares": 256})
            changed = {(f, (cg.dir_of(c) / f).read_text().split("\n")[0]) for c, f, _v, _e in
                       plan(drv._by_name["cg"].live, found)}
            assert {(f, v) for _c, f, v, _e in plan(drv._by_name["cg"].live, found)} == changed
            assert drv.memory_parameters("cg")["hard_limit"] == 256 * 1024
            assert drv.scheduler_parameters("cg")["cpu_shares"] == 256
            assert drv.memory_parameters("cg", config=True)["hard_limit"] == 512 * 1024  # --live only
            with pytest.raises(PyvirtError, match="must be lower than or equal to swap_hard_limit"):
                await drv.set_memory_parameters("cg", {"hard_limit": 2048 * 1024}, live=True)
            assert drv.memory_parameters("cg")["hard_limit"] == 256 * 1024  # refused: nothing changed
            await drv.destroy("cg")
            assert not any(d.exists() for d in cg.dirs())  # the cgroup went with the guest
        finally:
            await destroy_all(drv)

    asyncio.run(scenario())


def test_a_host_that_refuses_the_cgroup_costs_only_tunables(tmp_path: Path) -> None:
    """A container's busy or read-only hierarchy: a plain guest still starts (logged), one with
    tunables is refused naming them, never run without them."""
    cg = cgroups.GuestCgroup({"cpu": Controller("cpu", 2, tmp_path / "not-mounted")}, "g-1.scope")
    assert cg.create([]) is False
    with pytest.raises(PyvirtError, match=r"<cputune><shares> needs the guest's own cgroup, which the host refused"):
        cg.create([("cpu", "cpu.weight", "512", "<cputune><shares>")])
    assert not (tmp_path / "not-mounted").exists()


def test_per_thread_bandwidth_on_the_hosts_cpu_cgroup(open_root: Path) -> None:
    """<cputune> period/quota and emulator_*: each vCPU thread of a real QEMU in its own vcpuN
    cgroup and the other threads in ``emulator``, each with the bandwidth the XML gives, before
    the guest runs (libvirt's layout); all of it gone with the guest."""
    root = open_root
    if os.geteuid() != 0 or shutil.which("qemu-system-x86_64") is None:
        pytest.skip("needs root and QEMU")
    cpu = cgroups.detect().get("cpu")
    if cpu is None:
        pytest.skip("this host offers no writable cgroup cpu controller")
    from pyvirt.daemon.driver import QemuDriver

    paths, rom = root_system_state(root)
    tune = ("<vcpu>2</vcpu><cputune><period>100000</period><quota>50000</quota>"
            "<emulator_period>200000</emulator_period><emulator_quota>100000</emulator_quota></cputune>")
    xml = rom_domain_xml("bw", rom).replace("<vcpu>1</vcpu>", tune)

    async def scenario() -> None:
        drv = QemuDriver(paths)
        await drv.load()
        try:
            await drv.define_xml(xml)
            await drv.start("bw")
            pid = drv._by_name["bw"].run.ident.pid
            cg = cgroups.for_guest(paths.runtime, "bw", privileged=True)
            base = cg.dir_of("cpu")
            names = {Path(f"/proc/{pid}/task/{t}/comm").read_text().strip(): t for t in os.listdir(f"/proc/{pid}/task")}
            period, quota = ("cpu.cfs_period_us", "cpu.cfs_quota_us") if cpu.version == 1 else ("cpu.max", None)
            for n in (0, 1):
                tid = names[f"CPU {n}/TCG"]
                assert f"/{cgroups.PARTITION}/{cg.key}/vcpu{n}" in Path(f"/proc/{pid}/task/{tid}/cgroup").read_text()
                if quota:
                    assert (base / f"vcpu{n}" / period).read_text().strip() == "100000"
                    assert (base / f"vcpu{n}" / quota).read_text().strip() == "50000"
                else:
                    assert (base / f"vcpu{n}" / period).read_text().strip() == "50000 100000"
            main = Path(f"/proc/{pid}/task/{pid}/cgroup").read_text()
            assert f"/{cgroups.PARTITION}/{cg.key}/emulator" in main
            if quota:
                assert (base / "emulator" / quota).read_text().strip() == "100000"
            await drv.destroy("bw")
            assert not base.exists()
        finally:
            await destroy_all(drv)

    asyncio.run(scenario())
