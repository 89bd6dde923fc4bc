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


NUMA = """<domain type='qemu'><name>g</name><memory unit='MiB'>1024</memory>{mb}<vcpu>4</vcpu>{tune}
<os><type arch='x86_64' machine='pc'>hvm</type></os><cpu><numa>
<cell id='0' cpus='0-1' memory='512' unit='MiB'/><cell id='1' cpus='2,3' memory='524287' unit='KiB'{cell1}/>
</numa></cpu><devices/></domain>"""


def _numa_argv(mb: str = "", tune: str = "", cell1: str = "", runtime: RuntimePaths | None = None) -> list[str]:
    return build_argv(fill_defaults(parse_domain(NUMA.format(mb=mb, tune=tune, cell1=cell1))), runtime=runtime)


def _objects(argv: list[str]) -> dict[str, dict]:
    objs = [json.loads(argv[i + 1]) for i, a in enumerate(argv[:-1]) if a == "-object"]
    return {o["id"]: o for o in objs}


def test_numa_cells_get_one_backend_and_node_each() -> None:
    argv = _numa_argv()
    objs = _objects(argv)
    assert "pc.ram" not in objs and "memory-backend" not in argv[argv.index("-machine") + 1]
    assert objs["ram-node0"] == {"qom-type": "memory-backend-ram", "id": "ram-node0", "size": 512 << 20}
    assert objs["ram-node1"]["size"] == 512 << 20  # cells are aligned up to whole MiB
    nodes = [argv[i + 1] for i, a in enumerate(argv) if a == "-numa"]
    # a cell's cpus are a bitmap: '2,3' is the range 2-3 (real libvirt 9.0's domxml-to-native says so)
    assert nodes == ["node,nodeid=0,cpus=0-1,memdev=ram-node0", "node,nodeid=1,cpus=2-3,memdev=ram-node1"]
    assert argv[argv.index("-m") + 1] == "1024"
    assert argv.index("-numa") > argv.index("-smp")


def test_numatune_binds_backends_and_memnode_overrides() -> None:
    tune = "<numatune><memory mode='strict' nodeset='0-1'/><memnode cellid='1' mode='interleave' nodeset='1'/></numatune>"
    objs = _objects(_numa_argv(tune=tune, runtime=RuntimePaths(host_numa_nodes=frozenset({0, 1}))))
    assert (objs["ram-node0"]["host-nodes"], objs["ram-node0"]["policy"]) == ([0, 1], "bind")
    assert (objs["ram-node1"]["host-nodes"], objs["ram-node1"]["policy"]) == ([1], "interleave")
    with pytest.raises(XMLError, match="not available on this host"):
        _numa_argv(tune="<numatune><memory mode='strict' nodeset='5'/></numatune>",
                   runtime=RuntimePaths(host_numa_nodes=frozenset({0})))


def test_hugepages_per_cell_with_preallocation_thread_context() -> None:
    rt = RuntimePaths(hugepage_dirs={2048: "/hp2M", 1048576: "/hp1G"}, host_numa_nodes=frozenset({0}))
    mb = ("<memoryBacking><hugepages><page size='1' unit='GiB' nodeset='1'/><page size='2' unit='MiB'/>"
          "</hugepages></memoryBacking>")
    objs = _objects(_numa_argv(mb=mb, tune="<numatune><memory mode='strict' nodeset='0'/></numatune>",
                               cell1=" memAccess='shared' discard='yes'", runtime=rt))
    assert objs["ram-node0"]["mem-path"] == "/hp2M" and objs["ram-node1"]["mem-path"] == "/hp1G"
    assert objs["ram-node1"]["share"] is True and objs["ram-node1"]["discard-data"] is True
    assert objs["ram-node0"]["prealloc-context"] == "tc-ram-node0"
    assert objs["tc-ram-node0"] == {"qom-type": "thread-context", "id": "tc-ram-node0", "node-affinity": [0]}


def test_numa_validation() -> None:
    with pytest.raises(XMLError, match="exceeds the <vcpu> count"):
        parse_domain(NUMA.format(mb="", tune="", cell1="").replace("cpus='2,3'", "cpus='2-4'"))
    with pytest.raises(XMLError, match="must correspond to existing guest.s NUMA cell"):
        parse_domain(NUMA.format(mb="", cell1="", tune="<numatune><memnode cellid='2' mode='strict' "
                                                       "nodeset='0'/></numatune>"))


def test_host_numa_nodes(tmp_path) -> None:
    from pyvirt.daemon.model import host_numa_nodes

    online = tmp_path / "online"
    online.write_text("0-1,3\n")
    assert host_numa_nodes(str(online)) == {0, 1, 3}
    assert host_numa_nodes(str(tmp_path / "absent")) is None


HOTPLUG = """<domain type='qemu'><name>g</name><maxMemory slots='4' unit='GiB'>16</maxMemory>
<memory unit='MiB'>1024</memory>{mb}<vcpu>2</vcpu><os><type arch='x86_64' machine='pc'>hvm</type></os>
<cpu><numa><cell id='0' cpus='0-1' memory='1' unit='GiB'/></numa></cpu><devices>{mems}</devices></domain>"""

DIMM = ("<memory model='dimm'>{src}<target><size unit='MiB'>512</size><node>0</node></target>{addr}</memory>")


def test_dimms_get_slots_aliases_and_backends() -> None:
    rt = RuntimePaths(hugepage_dirs={2048: "/hp2M"})
    mems = (DIMM.format(src="<source><nodemask>0</nodemask><pagesize unit='KiB'>2048</pagesize></source>",
                        addr="<address type='dimm' slot='1' base='0x100000000'/>") + DIMM.format(src="", addr=""))
    dom = fill_defaults(parse_domain(HOTPLUG.format(mb="", mems=mems)))
    assert [m.address.slot for m in dom.devices.memories] == [1, 0]
    assert "base='0x100000000'" in dom.to_xml()
    argv = build_argv(dom, runtime=rt)
    assert argv[argv.index("-m") + 1] == "size=1048576k,slots=4,maxmem=16777216k"
    objs = _objects(argv)
    assert objs["memdimm1"] == {"qom-type": "memory-backend-file", "id": "memdimm1", "mem-path": "/hp2M",
                                "prealloc": True, "size": 512 << 20, "host-nodes": [0], "policy": "bind",
                                "prealloc-context": "tc-memdimm1"}
    assert objs["memdimm0"] == {"qom-type": "memory-backend-ram", "id": "memdimm0", "size": 512 << 20}
    devs = [json.loads(argv[i + 1]) for i, a in enumerate(argv[:-1]) if a == "-device"]
    assert {"driver": "pc-dimm", "node": 0, "memdev": "memdimm1", "id": "dimm1", "slot": 1,
            "addr": 1 << 32} in devs


def test_virtio_mem_device() -> None:
    mem = ("<memory model='virtio-mem'><target><size unit='GiB'>1</size><node>0</node>"
           "<block unit='KiB'>2048</block><requested unit='MiB'>256</requested></target></memory>")
    argv = build_argv(fill_defaults(parse_domain(HOTPLUG.format(mb="", mems=mem))))
    objs = _objects(argv)
    assert objs["memvirtiomem0"] == {"qom-type": "memory-backend-ram", "id": "memvirtiomem0", "reserve": False,
                                     "size": 1 << 30}
    dev = next(json.loads(argv[i + 1]) for i, a in enumerate(argv[:-1])
               if a == "-device" and "virtio-mem-pci" in argv[i + 1])
    assert (dev["block-size"], dev["requested-size"], dev["id"]) == (2 << 20, 256 << 20, "virtiomem0")
    assert dev["bus"] == "pci.0"


def test_memory_hotplug_needs_max_memory_and_numa() -> None:
    with pytest.raises(XMLError, match="maxMemory"):
        parse_domain(HOTPLUG.format(mb="", mems=DIMM.format(src="", addr="")).replace(
            "<maxMemory slots='4' unit='GiB'>16</maxMemory>", ""))
    with pytest.raises(XMLError, match="At least one numa node"):
        parse_domain(HOTPLUG.format(mb="", mems=DIMM.format(src="", addr="")).replace(
            "<numa><cell id='0' cpus='0-1' memory='1' unit='GiB'/></numa>", ""))
    with pytest.raises(XMLError, match="exceeds slots count"):
        parse_domain(HOTPLUG.format(mb="", mems=DIMM.format(src="", addr="<address type='dimm' slot='4'/>")))
