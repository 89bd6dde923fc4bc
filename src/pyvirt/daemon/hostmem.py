"""Huge page pools, KSM tunables and host suspend, as libvirt's Linux code handles them
(virnuma.c, virhostmem.c, virnodesuspend.c).

Free pages: the system page size counts MemFree (of the cell, or of the host for cell -1), a huge
page size reads sysfs's free_hugepages.  Allocation writes nr_hugepages, which needs root: an
unprivileged daemon (or a read-only /sys) gets libvirt's "Unable to write to: PATH: Permission
denied", naming the file.  KSM's files live in /sys/kernel/mm/ksm.  pyvirtd never suspends the
host: it answers as libvirt does on a host whose power management offers no suspend target.
"""

from __future__ import annotations

import os

from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError
from pyvirt.daemon import hostnuma

SYS_NODE = "/sys/devices/system/node"
SYS_HUGEPAGES = "/sys/kernel/mm/hugepages"
SYS_KSM = "/sys/kernel/mm/ksm"
_MAX_READ = 1024

#: virNodeGetMemoryParameters's fields in libvirt's order: (field, KSM file)
KSM_FIELDS = (("shm_pages_to_scan", "pages_to_scan"), ("shm_sleep_millisecs", "sleep_millisecs"),
              ("shm_pages_shared", "pages_shared"), ("shm_pages_sharing", "pages_sharing"),
              ("shm_pages_unshared", "pages_unshared"), ("shm_pages_volatile", "pages_volatile"),
              ("shm_full_scans", "full_scans"), ("shm_merge_across_nodes", "merge_across_nodes"))
KSM_WRITABLE = ("shm_pages_to_scan", "shm_sleep_millisecs", "shm_merge_across_nodes")
UINT_MAX = 0xFFFFFFFF
SUSPEND_TARGETS = {"mem": "Suspend-to-RAM", "disk": "Suspend-to-Disk", "hybrid": "Hybrid-Suspend"}


def _error(message: str, code: int = ErrorCode.OPERATION_FAILED) -> PyvirtError:
    return PyvirtError(message, code, ErrorDomain.NONE)


def _system_error(message: str, exc: OSError) -> PyvirtError:
    return PyvirtError(f"{message}: {exc.strerror}", ErrorCode.SYSTEM_ERROR, ErrorDomain.NONE)


def _read_number(path: str) -> int:
    try:
        with open(path, encoding="ascii") as handle:
            text = handle.read(_MAX_READ)
    except OSError as exc:
        raise _system_error(f"Failed to open file '{path}'", exc) from None
    if not text.strip().isdigit():
        raise _error(f"operation failed: invalid number '{text}' in '{path}'")
    return int(text)


def system_page_kib() -> int:
    return os.sysconf("SC_PAGE_SIZE") // 1024


def _last_cell() -> int:
    return hostnuma._cells()[-1]


def _huge_path(cell: int, page_kib: int, name: str) -> str:
    """virNumaGetHugePageInfoPath: the host's pool for cell -1, else the cell's (which must exist)."""
    if cell == -1:
        return f"{SYS_HUGEPAGES}/hugepages-{page_kib}kB/{name}"
    path = f"{SYS_NODE}/node{cell}/hugepages/hugepages-{page_kib}kB/{name}"
    if not os.path.exists(path):
        raise _error("operation failed: page size or NUMA node not available")
    return path


def _cells_of(start: int, count: int) -> range:
    last = _last_cell()
    if start < -1 or start > last:
        raise _error(f"internal error: start cell {start} out of range (0-{last})", ErrorCode.INTERNAL_ERROR)
    return range(start, min(last, start + count - 1) + 1)


def free_pages(pages: list[int], start: int, count: int) -> list[int]:
    """virHostMemGetFreePages: one count per (cell, page size), cell-major."""
    out = []
    for cell in _cells_of(start, count):
        for size in pages:
            if size == system_page_kib():
                meminfo = (hostnuma._meminfo(hostnuma._read("/proc/meminfo")) if cell == -1
                           else hostnuma._cell_meminfo(cell))
                out.append(meminfo.get("MemFree", 0) // size)
                continue
            path = _huge_path(cell, size, "free_hugepages")
            if not os.path.exists(path):
                raise _error(f"operation failed: page size {size} is not available on node {cell}")
            out.append(_read_number(path))
    if not out:
        raise _error("operation failed: no suitable info found")
    return out


def alloc_pages(pages: list[int], counts: list[int], start: int, count: int, add: bool) -> int:
    """virHostMemAllocPages: per cell and size, virNumaSetPagePoolSize (nothing written when the
    pool already has that size; the kernel's answer checked afterwards)."""
    if len(pages) != len(counts):
        raise _error("invalid argument: pages and counts must have the same length", ErrorCode.INVALID_ARG)
    done = 0
    for cell in _cells_of(start, count):
        for size, wanted in zip(pages, counts, strict=True):
            _set_pool(cell, size, wanted, add)
            done += 1
    return done


def _set_pool(cell: int, size: int, wanted: int, add: bool) -> None:
    if size == system_page_kib():
        raise _error("Requested operation is not valid: system pages pool can't be modified",
                     ErrorCode.OPERATION_INVALID)
    path = _huge_path(cell, size, "nr_hugepages")
    current = _read_number(path)
    if add:
        if not wanted:
            return
        wanted += current
    if wanted == current:
        return
    try:
        with open(path, "w", encoding="ascii") as handle:
            handle.write(str(wanted))
    except OSError as exc:
        raise _system_error(f"Unable to write to: {path}", exc) from None
    got = _read_number(path)
    if got != wanted:
        raise _error(f"operation failed: Unable to allocate {wanted} pages. Allocated only {got}")


def memory_parameters() -> dict[str, int]:
    """virHostMemGetParameters: the KSM files the kernel has, in libvirt's order."""
    out = {}
    for field, name in KSM_FIELDS:
        path = f"{SYS_KSM}/{name}"
        if os.path.exists(path):
            out[field] = _read_number(path)
    return out


def set_memory_parameters(params: dict[str, int]) -> None:
    """virHostMemSetParameters: only the three writable fields, each unsigned int; every file
    checked before any is written."""
    files = dict(KSM_FIELDS)
    for field, value in params.items():
        if field not in KSM_WRITABLE:
            raise _error(f"argument unsupported: parameter '{field}' not supported", ErrorCode.ARGUMENT_UNSUPPORTED)
        if not 0 <= value <= UINT_MAX:
            raise _error(f"invalid argument: value of parameter '{field}' out of range", ErrorCode.INVALID_ARG)
    for field in params:
        if not os.path.exists(f"{SYS_KSM}/{files[field]}"):
            raise _error(f"Requested operation is not valid: Parameter '{field}' is not supported by this kernel",
                         ErrorCode.OPERATION_INVALID)
    for field, value in params.items():
        try:
            with open(f"{SYS_KSM}/{files[field]}", "w", encoding="ascii") as handle:
                handle.write(str(value))
        except OSError as exc:
            raise _system_error(f"failed to set {field}", exc) from None


def suspend(target: str, duration: int) -> None:
    """virNodeSuspend: the target must be one the host's power management offers; pyvirtd offers
    none (its capabilities list no <power_management> target), so every target is refused with
    libvirt's wording for an unsupported one."""
    if target not in SUSPEND_TARGETS:
        raise _error("invalid argument: Invalid suspend target", ErrorCode.INVALID_ARG)
    raise _error(f"Requested operation is not valid: {SUSPEND_TARGETS[target]}", ErrorCode.OPERATION_INVALID)
