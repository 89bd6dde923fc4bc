"""Guest RAM: ``-m``, the memory backends and the guest NUMA topology (``-numa``).

libvirt's qemuBuildMemoryBackendProps in the cases pyvirt supports: one ``pc.ram`` backend, or
one ``ram-nodeN`` backend per ``<cpu><numa><cell>``; each plain RAM, memfd (shared with
vhost-user processes) or a file on a hugetlbfs, bound to host NUMA nodes by ``<numatune>``
(with a ``thread-context`` to preallocate on those nodes, as libvirt 9.0 with QEMU 7.2).
"""

from __future__ import annotations

from typing import Any

from pyvirt.xml import hmat
from pyvirt.xml.errors import XMLError
from pyvirt.xml.units import unit_scale
from pyvirt.xml.validate import parse_cpuset

from .argv_common import Argv, Ctx, unsupported

#: the host's base page (KiB): a <page> of this size means "no huge pages" (libvirt's rule)
SYSTEM_PAGE_KIB = 4
#: <numatune> mode -> QEMU memory backend policy ('restrictive' leaves QEMU's policy alone)
_POLICY = {"strict": "bind", "preferred": "preferred", "interleave": "interleave"}


def align_mib(kib: int) -> int:
    """Round KiB up to whole MiB, as libvirt aligns guest RAM and NUMA cells."""
    return (kib + 1023) // 1024 * 1024


def align_module(kib: int) -> int:
    """Round a memory module's KiB up to 2 MiB (qemuDomainGetMemoryModuleSizeAlignment on x86:
    DIMMs and virtio-mem devices need 2 MiB where guest RAM needs 1 MiB)."""
    return (kib + 2047) // 2048 * 2048


def memory_opts(a: Argv, ctx: Ctx) -> None:
    """-m (MiB, or size/slots/maxmem with hotplug), the pc.ram backend without NUMA cells, and
    -overcommit mem-lock."""
    dom = ctx.domain
    cells = numa_cells(dom)
    kib = sum(align_mib(c.memory or 0) for c in cells) if cells else align_mib(dom.memory or 0)
    if dom.max_memory:
        a.kv("-m", None, [("size", f"{kib}k"), ("slots", dom.max_memory_slots or 0),
                          ("maxmem", f"{align_mib(dom.max_memory)}k")])
    else:
        a.opt("-m", str(kib // 1024))
    if not cells:
        _backend(a, ctx, "pc.ram", kib * 1024, None)
    mb = dom.memory_backing
    a.kv("-overcommit", None, [("mem-lock", bool(mb is not None and mb.locked))])


def numa_cells(dom: Any) -> list[Any]:
    return list(dom.cpu.numa_cells) if dom.cpu is not None else []


def numa_opts(a: Argv, ctx: Ctx) -> None:
    """One backend and one ``-numa node`` per cell (after -smp, libvirt's order)."""
    cells = numa_cells(ctx.domain)
    links = numa_links(ctx.domain)
    with_hmat = hmat.has_hmat(cells, links)
    for cell in cells:
        node = cell.id or 0
        _backend(a, ctx, f"ram-node{node}", align_mib(cell.memory or 0) * 1024, cell)
        pairs: list[tuple[str, Any]] = [("nodeid", node)]
        if cell.cpus:
            pairs += [("cpus", part) for part in cell.cpus.split(",") if not part.startswith("^")]
        if with_hmat:
            pairs.append(("initiator", hmat.initiator(cells, links, node)))
        pairs.append(("memdev", f"ram-node{node}"))
        a.kv("-numa", "node", pairs)
    for src, dst, value in numa_distances(ctx.domain):
        a.kv("-numa", "dist", [("src", src), ("dst", dst), ("val", value)])
    if with_hmat:
        _hmat_opts(a, cells, links)


def numa_links(dom: Any) -> list[Any]:
    return list(dom.cpu.numa_interconnects) if dom.cpu is not None else []


#: QEMU's names for libvirt's HMAT values (qemuBuildNumaHMATCommandLine)
_HIERARCHY = {None: "memory", 1: "first-level", 2: "second-level", 3: "third-level"}
_ASSOCIATIVITY = {None: "none", "none": "none", "direct": "direct", "full": "complex"}
_CACHE_POLICY = {None: "none", "none": "none", "writeback": "write-back", "writethrough": "write-through"}


def _hmat_opts(a: Argv, cells: list[Any], links: list[Any]) -> None:
    """``-numa hmat-lb`` per interconnect (document order), then ``-numa hmat-cache`` per cell cache."""
    for link in links:
        pairs: list[tuple[str, Any]] = [("initiator", link.initiator), ("target", link.target),
                                        ("hierarchy", _HIERARCHY[link.cache]),
                                        ("data-type", f"{link.type}-{link.kind}")]
        pairs.append(("latency", link.value) if link.kind == "latency" else ("bandwidth", f"{link.value}K"))
        a.kv("-numa", "hmat-lb", pairs)
    for cell in cells:
        for cache in cell.caches:
            a.kv("-numa", "hmat-cache", [("node-id", cell.id or 0), ("size", f"{cache.size_kib}K"),
                                         ("level", cache.level),
                                         ("associativity", _ASSOCIATIVITY[cache.associativity]),
                                         ("policy", _CACHE_POLICY[cache.policy]), ("line", cache.line_bytes or None)])


#: virNumaDistance's defaults: a node to itself, and to any other node
LOCAL_DISTANCE, REMOTE_DISTANCE = 10, 20


def numa_distances(dom: Any) -> list[tuple[int, int, int]]:
    """Every (src, dst, distance) once any cell states ``<distances>`` (qemuBuildNumaCommandLine):
    a sibling's value, else the value stated the other way round (the parser's symmetric fill),
    else 10 for a node to itself and 20 otherwise.  libvirt's range checks (10-255, 10 only to
    itself) are applied to what the XML states."""
    cells = numa_cells(dom)
    if not any(c.distances for c in cells):
        return []
    ids = [c.id or 0 for c in cells]
    stated: dict[tuple[int, int], int] = {}
    for cell in cells:
        for sib in cell.distances:
            src, dst, value = cell.id or 0, sib.id or 0, sib.value
            if dst not in ids:
                raise XMLError(f"'sibling_id {dst}' does not refer to a valid cell within NUMA 'cell id {src}'",
                               sib.line)
            if value is None or not LOCAL_DISTANCE <= value <= 255:
                raise XMLError(f"'value {value}' is invalid for 'sibling id {dst}' (NUMA distances are 10-255)",
                               sib.line)
            if (src == dst) != (value == LOCAL_DISTANCE):
                raise XMLError(f"'value {value}' is invalid for 'sibling id {dst}': the distance of a node to "
                               f"itself is {LOCAL_DISTANCE} and only then", sib.line)
            stated[(src, dst)] = value
    out = []
    for src in ids:
        for dst in ids:
            value = stated.get((src, dst)) or stated.get((dst, src))
            out.append((src, dst, value or (LOCAL_DISTANCE if src == dst else REMOTE_DISTANCE)))
    return out


def _page_kib(ctx: Ctx, cell: Any) -> int | None:
    """Huge page size (KiB) for the guest RAM or one NUMA cell, or None for normal pages:
    ``<hugepages/>`` alone means the host's default; a ``<page>`` applies to the cells in its
    nodeset, one without nodeset to the rest."""
    mb = ctx.domain.memory_backing
    if mb is None or not (mb.hugepages or mb.pages):
        return None
    size = ctx.runtime.default_hugepage_kib
    chosen = None
    for page in mb.pages:
        page_kib = (page.size or 0) * unit_scale(page.unit, 1024) // 1024
        if page.nodeset is None:
            if chosen is None:
                size = page_kib
            continue
        nodes = parse_cpuset(page.nodeset, page.line)  # nodes that exist (checked at define: xml.validate)
        if cell is not None and (cell.id or 0) in nodes or cell is None and 0 in nodes:
            chosen = page_kib
    size = chosen if chosen is not None else size
    return None if size == SYSTEM_PAGE_KIB else size


def _host_binding(ctx: Ctx, cell: Any) -> tuple[list[int], str] | None:
    """(host nodes, policy) from <numatune>: a <memnode> for this cell, else <memory>."""
    tune = ctx.domain.numatune
    if tune is None:
        return None
    mode, nodeset = tune.memory_mode or "strict", tune.memory_nodeset
    if cell is not None:
        for mn in tune.memnodes:
            if mn.cellid == (cell.id or 0):
                mode, nodeset = mn.mode or "strict", mn.nodeset
    if mode == "restrictive":
        return None
    if nodeset is None:
        auto = ctx.runtime.auto_nodeset
        if tune.memory_placement != "auto" or auto is None:
            return None
        return sorted(auto), _POLICY[mode]  # numad's advice (virDomainNumatuneGetNodeset)
    nodes = sorted(parse_cpuset(nodeset, tune.line))
    known = ctx.runtime.host_numa_nodes
    if known is not None and not set(nodes) <= known:
        raise XMLError(f"NUMA node {max(set(nodes) - known)} of <numatune> nodeset '{nodeset}' is not "
                       "available on this host", tune.line)
    return nodes, _POLICY[mode]


def _backend(a: Argv, ctx: Ctx, ident: str, size: int, cell: Any) -> None:
    """Append the backend for pc.ram (cell None) or one NUMA cell, with its thread-context."""
    dom = ctx.domain
    mb = dom.memory_backing
    share: bool | None = None
    if mb is not None and mb.access_mode is not None:
        share = mb.access_mode == "shared"
    if cell is not None and cell.mem_access is not None:
        share = cell.mem_access == "shared"
    memfd = mb is not None and mb.source_type == "memfd"
    if (cell is None and any(fs.driver_type == "virtiofs" for fs in dom.devices.filesystems)
            and not memfd and share is None):
        memfd, share = True, True  # vhost-user devices need guest RAM shared with the backend process
    discard = cell.discard if cell is not None and cell.discard is not None else (
        True if mb is not None and mb.discard else None)
    where = (cell.line if cell is not None else None) or (mb.line if mb is not None else None)
    props = backend_props(ctx, ident, size, share=share, memfd=memfd, huge=_page_kib(ctx, cell),
                          discard=discard, where=where)
    if cell is None and props["qom-type"] != "memory-backend-ram":
        props["x-use-canonical-path-for-ramblock-id"] = False
    _bind_and_append(a, ctx, props, _host_binding(ctx, cell))


def backend_props(ctx: Ctx, ident: str, size: int, *, share: bool | None, memfd: bool, huge: int | None,
                  discard: bool | None, where: int | None, file_name: str | None = None) -> dict[str, Any]:
    """A memory backend object: memfd, hugetlbfs file or plain RAM (libvirt's choice order);
    a file in memory_backing_dir is named ``file_name`` (a memory device's alias) or ``ident``."""
    mb = ctx.domain.memory_backing
    props: dict[str, Any]
    if memfd:
        props = {"qom-type": "memory-backend-memfd", "id": ident}
        if huge is not None:
            props.update({"hugetlb": True, "hugetlbsize": huge * 1024})
    elif huge is not None:
        path = ctx.runtime.hugepage_dirs.get(huge)
        if path is None:
            raise unsupported(f"huge pages of {huge} KiB (no hugetlbfs mounted for that size on this host)",
                              where)
        props = {"qom-type": "memory-backend-file", "id": ident, "mem-path": path}
    elif share is not None or (mb is not None and mb.source_type == "file"):
        # qemuGetMemoryBackingPath: one file per backend, named by its id, in memory_backing_dir
        if ctx.runtime.memory_backing_dir is None:
            raise unsupported("file-backed guest RAM (no memory_backing_dir for this guest)", where)
        props = {"qom-type": "memory-backend-file", "id": ident,
                 "mem-path": f"{ctx.runtime.memory_backing_dir}/{file_name or ident}"}
    else:
        props = {"qom-type": "memory-backend-ram", "id": ident}
    if props["qom-type"] != "memory-backend-ram" and share is not None:
        props["share"] = share
    if discard is not None and props["qom-type"] == "memory-backend-file":
        # discard-data is a property of QEMU's file backend only (memfd has none: libvirt 9.0 writes
        # it for memory-backend-file alone, and QEMU refuses it on memory-backend-memfd)
        props["discard-data"] = discard
    if huge is not None or (mb is not None and mb.allocation_mode == "immediate"):
        props["prealloc"] = True
    if mb is not None and mb.allocation_threads:  # 0 is none given (libvirt writes no threads)
        props["prealloc-threads"] = mb.allocation_threads
    props["size"] = size
    return props


def _bind_and_append(a: Argv, ctx: Ctx, props: dict[str, Any], binding: tuple[list[int], str] | None) -> None:
    if binding is not None:
        props["host-nodes"], props["policy"] = binding
        if props.get("prealloc") and ctx.version >= (7, 2, 0):
            # preallocate with threads on the bound nodes (libvirt 9.0 + QEMU 7.2 thread-context)
            ident = props["id"]
            a.json("-object", {"qom-type": "thread-context", "id": f"tc-{ident}", "node-affinity": binding[0]})
            props["prealloc-context"] = f"tc-{ident}"
    a.json("-object", props)


def memory_device_opts(a: Argv, ctx: Ctx) -> None:
    """``<memory model='dimm'|'virtio-mem'>``: a backend (memdimmN / memvirtiomemN) and its device."""
    from .argv_common import pci_props

    dom = ctx.domain
    mb = dom.memory_backing
    for mem in dom.devices.memories:
        alias = ctx.alias(mem)
        ident = f"mem{alias}"
        huge = _page_kib(ctx, None) if mem.source_pagesize is None else (
            None if mem.source_pagesize == SYSTEM_PAGE_KIB else mem.source_pagesize)
        share = None if mem.access is None else mem.access == "shared"
        if mem.model == "virtio-pmem":
            share = True  # qemuBuildMemoryBackendProps: a virtio-pmem file is always mapped shared
        if share is None and mb is not None and mb.access_mode is not None:
            share = mb.access_mode == "shared"
        if mem.model in ("nvdimm", "virtio-pmem"):
            _file_backed(a, ctx, mem, ident, alias, share)
            continue
        memfd = mb is not None and mb.source_type == "memfd"
        size = align_module(mem.target_size or 0) * 1024  # DIMMs and virtio-mem alike
        props = backend_props(ctx, ident, size, share=share, memfd=memfd,
                              huge=huge, discard=mem.discard, where=mem.line, file_name=alias)
        binding = None
        if mem.source_nodemask:
            binding = (sorted(parse_cpuset(mem.source_nodemask, mem.line)), "bind")
        dev: dict[str, Any]
        if mem.model == "dimm":
            _bind_and_append(a, ctx, props, binding)
            dev = {"driver": "pc-dimm", "node": mem.target_node or 0, "memdev": ident, "id": alias}
            if mem.address is not None and mem.address.type == "dimm":
                dev["slot"] = mem.address.slot or 0
                if mem.address.base is not None:
                    dev["addr"] = mem.address.base
        else:  # virtio-mem: the device, not the backend, preallocates what the guest plugs
            prealloc = props.pop("prealloc", None)
            props = {**{k: v for k, v in props.items() if k != "size"}, "reserve": False, "size": props["size"]}
            _bind_and_append(a, ctx, props, binding)
            dev = {"driver": "virtio-mem-pci", "node": mem.target_node or 0,
                   "block-size": (mem.target_block or 2048) * 1024}
            if mem.target_requested:  # libvirt writes it when positive only (QEMU's default is 0)
                dev["requested-size"] = mem.target_requested * 1024
            dev["memdev"] = ident
            if prealloc:
                dev["prealloc"] = True
            dev["id"] = alias
            dev.update(pci_props(ctx, mem.address, "virtio-mem"))
        a.device(dev)


def _file_backed(a: Argv, ctx: Ctx, mem: Any, ident: str, alias: str, share: bool | None) -> None:
    """An NVDIMM or virtio-pmem device on the host file it names (qemuBuildMemoryBackendProps:
    a file backend; preallocated unless the file is real persistent memory or it is virtio-pmem,
    which needs none)."""
    from .argv_common import pci_props

    if not mem.source_path:
        raise XMLError(f"missing <source><path> of <memory model='{mem.model}'>", mem.line)
    if mem.model == "virtio-pmem" and (mem.source_pmem or mem.source_alignsize or mem.target_label_size
                                       or mem.target_readonly):
        raise XMLError("<pmem>, <alignsize>, <label> and <readonly> are nvdimm settings, not virtio-pmem's",
                       mem.line)
    props: dict[str, Any] = {"qom-type": "memory-backend-file", "id": ident, "mem-path": mem.source_path}
    if share is not None:
        props["share"] = share
    if mem.model == "nvdimm" and not mem.source_pmem:
        props["prealloc"] = True
    if mem.source_alignsize is not None:
        props["align"] = mem.source_alignsize * 1024
    if mem.source_pmem:
        props["pmem"] = True
    props["size"] = align_module(mem.target_size or 0) * 1024
    binding = (sorted(parse_cpuset(mem.source_nodemask, mem.line)), "bind") if mem.source_nodemask else None
    _bind_and_append(a, ctx, props, binding)
    dev: dict[str, Any]
    if mem.model == "nvdimm":
        dev = {"driver": "nvdimm", "node": mem.target_node or 0}
        if mem.target_label_size is not None:
            if mem.target_label_size < 128:
                raise XMLError("nvdimm label must be at least 128KiB", mem.line)
            dev["label-size"] = mem.target_label_size * 1024
        if mem.target_readonly:
            dev["unarmed"] = True
        dev.update({"memdev": ident, "id": alias})
        if mem.address is not None and mem.address.type == "dimm":
            dev["slot"] = mem.address.slot or 0
            if mem.address.base is not None:
                dev["addr"] = mem.address.base
    else:
        dev = {"driver": "virtio-pmem-pci", "memdev": ident, "id": alias}
        dev.update(pci_props(ctx, mem.address, "virtio-pmem"))
    a.device(dev)

