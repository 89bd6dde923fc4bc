"""HMAT (ACPI Heterogeneous Memory Attribute Table): the NUMA cells' memory-side caches and the
``<interconnects>`` latencies/bandwidths between nodes, read and checked as libvirt 9.0's
virDomainNumaDefParseXML / virDomainNumaDefValidate do, and the initiator each node gets
(virDomainNumaGetNodeInitiator plus the QEMU driver's fallback), shared by define and the
command-line builder.
"""

from __future__ import annotations

from typing import Any

from .errors import XMLError
from .units import unit_scale

#: interconnect elements libvirt reads (the schema allows no other)
INTERCONNECT_KINDS = ("latency", "bandwidth")


def has_hmat(cells: list[Any], links: list[Any]) -> bool:
    """virDomainNumaHasHMAT: any interconnect or any cell cache (QEMU's ``-machine hmat=on``)."""
    return bool(links) or any(c.caches for c in cells)


def check(cells: list[Any], links: list[Any]) -> None:
    """libvirt's parse-time and validation rules; normalises what libvirt writes back
    (bandwidth in KiB, 'none' associativity/policy and a zero cache level left unwritten)."""
    for cell in cells:
        levels: set[int] = set()
        for cache in cell.caches:
            _check_cache(cell.id or 0, cache)
            if cache.level > 3:
                raise XMLError("Ain't nobody heard of that much cache level", cache.line)
            if cache.level in levels:
                raise XMLError(f"Cache level '{cache.level}' already defined", cache.line)
            levels.add(cache.level)
    for i, link in enumerate(links):
        _check_link(link)
        if link.initiator >= len(cells):
            raise XMLError("'initiator' refers to a non-existent NUMA node", link.line)
        if link.target >= len(cells):
            raise XMLError("'target' refers to a non-existent NUMA node", link.line)
        if not cells[link.initiator].cpus:
            raise XMLError("NUMA nodes without CPUs can't be initiator", link.line)
        if link.cache and all(c.level != link.cache for c in cells[link.target].caches):
            raise XMLError("'cache' refers to a non-existent NUMA node cache", link.line)
        for prev in links[:i]:
            if (prev.kind, prev.initiator, prev.target, prev.cache or 0, prev.type) == \
                    (link.kind, link.initiator, link.target, link.cache or 0, link.type):
                raise XMLError("Duplicate info for NUMA latencies", link.line)
            if link.initiator != link.target and (link.initiator, link.target) == (prev.target, prev.initiator):
                raise XMLError("Link already defined", link.line)


def _check_cache(node: int, cache: Any) -> None:
    if cache.level is None:
        raise XMLError(f"Missing 'level' attribute in cache element for NUMA node {node}", cache.line)
    if cache.level == 0:
        raise XMLError(f"Invalid 'level' attribute in cache element for NUMA node {node}", cache.line)
    # both required (libvirt 9.0 then writes 'none' as nothing, which neither its schema nor its
    # parser accepts back; pyvirt writes 'none', a deliberate difference, so its output re-reads)
    if cache.associativity is None:
        raise XMLError(f"Missing 'associativity' attribute in cache element for NUMA node {node}", cache.line)
    if cache.policy is None:
        raise XMLError(f"Missing 'policy' attribute in cache element for NUMA node {node}", cache.line)
    if cache.size_kib is None:
        raise XMLError("missing element or attribute './size/@value'", cache.line)
    if cache.line_bytes is None:
        raise XMLError("missing element or attribute './line/@value'", cache.line)
    # libvirt's parser ignores the units (it reads a 'unit' element) and writes KiB and B (pyvirt
    # writes a zero line too, which the schema requires and libvirt leaves out)
    cache.size_unit, cache.line_unit = "KiB", "B"


def _check_link(link: Any) -> None:
    where = f"<{link.kind}>"
    if link.kind not in INTERCONNECT_KINDS:
        raise XMLError(f"unsupported element <{link.kind}> in <interconnects> (latency or bandwidth)", link.line)
    for name in ("initiator", "target", "type", "value"):  # virDomainNumaDefParseXML's words
        if getattr(link, name) is None:
            if name == "value" and link.kind == "bandwidth":  # a scaled size (virDomainParseMemory)
                raise XMLError("missing element or attribute './@value'", link.line, libvirt_words=True)
            raise XMLError(f"Missing required attribute '{name}' in element '{link.kind}'", link.line,
                           libvirt_words=True)
    if link.cache == 0:
        link.cache = None
    if link.kind == "latency":
        if link.unit is not None:
            raise XMLError(f"unsupported attribute 'unit' of {where}", link.line)
        return
    try:
        scale = unit_scale(link.unit, 1024)
    except ValueError:
        raise XMLError(f"invalid unit {link.unit!r} of {where}", link.line) from None
    link.value, link.unit = (link.value * scale + 1023) // 1024, "KiB"


def initiator(cells: list[Any], links: list[Any], node: int) -> int | None:
    """The node's initiator: itself when it has vCPUs, else the initiator of its lowest latency,
    else of its highest bandwidth (virDomainNumaGetNodeInitiator), else the first node with vCPUs
    (what libvirt 9.0's command line says for a node nothing links to)."""
    if cells[node].cpus:
        return node
    best_latency = best_bandwidth = None
    for link in links:
        if link.target != node:
            continue
        if link.kind == "latency" and (best_latency is None or link.value < best_latency[0]):
            best_latency = (link.value, link.initiator)
        elif link.kind == "bandwidth" and link.value > 0 and (best_bandwidth is None or link.value > best_bandwidth[0]):
            best_bandwidth = (link.value, link.initiator)
    if best_latency is not None:
        return best_latency[1]
    if best_bandwidth is not None:
        return best_bandwidth[1]
    return next((i for i, c in enumerate(cells) if c.cpus), None)
