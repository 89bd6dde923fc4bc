"""<memoryBacking>: huge pages, memfd/shared RAM, locking (libvirt's non-NUMA backends)."""

from __future__ import annotations

import json

import pytest

from pyvirt.daemon.model import hugepage_dirs
from pyvirt.qemu.argv import RuntimePaths, build_argv
from pyvirt.xml import fill_defaults, parse_domain
from pyvirt.xml.errors import XMLError

BASE = """<domain type='qemu'><name>g</name><memory unit='MiB'>1024</memory>{mb}<vcpu>1</vcpu>
<os><type arch='x86_64' machine='pc'>hvm</type></os><devices/></domain>"""


def _ram(mb: str, runtime: RuntimePaths | None = None) -> dict:
    argv = build_argv(fill_defaults(parse_domain(BASE.format(mb=mb))), runtime=runtime)
    objs = [json.loads(argv[i + 1]) for i, a in enumerate(argv[:-1]) if a == "-object"]
    return next(o for o in objs if o["id"] == "pc.ram")


def test_memfd_shared() -> None:
    ram = _ram("<memoryBacking><source type='memfd'/><access mode='shared'/></memoryBacking>")
    assert ram["qom-type"] == "memory-backend-memfd" and ram["share"] is True
    assert ram["size"] == 1024 << 20 and "prealloc" not in ram


def test_hugepages_default_and_named_size() -> None:
    rt = RuntimePaths(hugepage_dirs={2048: "/hp2M/pyvirt/g", 1048576: "/hp1G/pyvirt/g"})
    ram = _ram("<memoryBacking><hugepages/></memoryBacking>", rt)
    assert ram["qom-type"] == "memory-backend-file" and ram["mem-path"] == "/hp2M/pyvirt/g"
    assert ram["prealloc"] is True
    ram = _ram("<memoryBacking><hugepages><page size='1' unit='GiB'/></hugepages></memoryBacking>", rt)
    assert ram["mem-path"] == "/hp1G/pyvirt/g"
    # the system page size means no huge pages at all
    assert _ram("<memoryBacking><hugepages><page size='4' unit='KiB'/></hugepages></memoryBacking>",
                rt)["qom-type"] == "memory-backend-ram"


def test_hugepages_without_a_mount_or_with_a_foreign_node_are_refused() -> None:
    with pytest.raises(XMLError, match="no hugetlbfs mounted"):
        _ram("<memoryBacking><hugepages><page size='5' unit='MiB'/></hugepages></memoryBacking>")
    with pytest.raises(XMLError, match="node 1 not found"):
        _ram("<memoryBacking><hugepages><page size='2' unit='MiB' nodeset='1'/></hugepages></memoryBacking>")


def test_locked_and_nosharepages() -> None:
    argv = build_argv(fill_defaults(parse_domain(BASE.format(
        mb="<memoryBacking><nosharepages/><locked/></memoryBacking>"))))
    assert "mem-merge=off" in argv[argv.index("-machine") + 1]
    assert argv[argv.index("-overcommit") + 1] == "mem-lock=on"


def test_hugetlbfs_mount_discovery(tmp_path) -> None:
    mounts = tmp_path / "mounts"
    mounts.write_text("proc /proc proc rw 0 0\nhugetlbfs /dev/hugepages hugetlbfs rw,relatime,pagesize=2M 0 0\n"
                      "none /mnt/huge1g hugetlbfs rw,pagesize=1024M 0 0\n")
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal: 1 kB\nHugepagesize:       2048 kB\n")
    dirs, default = hugepage_dirs("vm1", str(mounts), str(meminfo))
    assert default == 2048
    assert dirs == {2048: "/dev/hugepages/pyvirt/vm1", 1048576: "/mnt/huge1g/pyvirt/vm1"}
