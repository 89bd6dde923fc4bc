"""The host's NUMA cells, CPUs and memory as libvirt's Linux code reads them (/proc, /sys).

freecell, nodecpumap, nodecpustats and nodememstats answer from here: the same files and the same
arithmetic as libvirt's virhostmem.c / virhostcpu.c (CPU times in ns from clock ticks, "system"
time = system + irq + softirq, "user" = user + nice), so figures match what libvirtd reports on
the same host.  Reads are small and bounded; nothing is cached (the figures move).
"""

from __future__ import annotations

import glob
import os
import re

from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError

_SYS_NODE = "/sys/devices/system/node"
_SYS_CPU = "/sys/devices/system/cpu"
_MAX_READ = 1 << 20


def _read(path: str) -> str:
    with open(path, encoding="ascii", errors="replace") as handle:
        return handle.read(_MAX_READ)


def _invalid(message: str) -> PyvirtError:
    return PyvirtError(f"invalid argument: {message}", ErrorCode.INVALID_ARG, ErrorDomain.NONE)


def _meminfo(text: str) -> dict[str, int]:
    """'MemFree:  123 kB' or a node file's 'Node 0 MemFree: 123 kB' -> {"MemFree": 123} (KiB)."""
    out: dict[str, int] = {}
    for line in text.splitlines():
        m = re.match(r"(?:Node \d+ )?(\w+):\s+(\d+)", line)
        if m:
            out[m.group(1)] = int(m.group(2))
    return out


def _cells() -> list[int]:
    """NUMA cell ids of the host ([0] where the kernel shows none)."""
    ids = sorted(int(p.rsplit("node", 1)[1]) for p in glob.glob(f"{_SYS_NODE}/node[0-9]*"))
    return ids or [0]


def _cell_meminfo(cell: int) -> dict[str, int]:
    path = f"{_SYS_NODE}/node{cell}/meminfo"
    return _meminfo(_read(path)) if os.path.exists(path) else _meminfo(_read("/proc/meminfo"))


def free_memory() -> int:
    """virNodeGetFreeMemory: bytes free over all cells."""
    return sum(_cell_meminfo(c).get("MemFree", 0) for c in _cells()) * 1024


def cells_free_memory(start: int, count: int) -> list[int]:
    cells = _cells()
    if start < 0 or start > cells[-1]:
        raise PyvirtError(f"internal error: start cell {start} out of range (0-{cells[-1]})",
                          ErrorCode.INTERNAL_ERROR, ErrorDomain.NONE)
    return [_cell_meminfo(c).get("MemFree", 0) * 1024 for c in cells if c >= start][:max(count, 0)]


def _cpu_list(text: str) -> list[int]:
    """'0-3,8,10-11' -> [0, 1, 2, 3, 8, 10, 11]."""
    cpus: list[int] = []
    for part in text.strip().split(","):
        if not part:
            continue
        lo, _, hi = part.partition("-")
        cpus += range(int(lo), int(hi or lo) + 1)
    return cpus


def cpu_map() -> list[bool]:
    present = _cpu_list(_read(f"{_SYS_CPU}/present"))
    online = set(_cpu_list(_read(f"{_SYS_CPU}/online")))
    return [cpu in online for cpu in range(max(present) + 1)]


def cpu_stats(cpu: int) -> dict[str, int]:
    """virHostCPUGetStatsLinux: one /proc/stat line in ns."""
    tick = 1_000_000_000 // os.sysconf("SC_CLK_TCK")
    want = "cpu" if cpu == -1 else f"cpu{cpu}"
    for line in _read("/proc/stat").splitlines():
        fields = line.split()
        if fields and fields[0] == want:
            user, nice, system, idle, iowait, irq, softirq = (int(v) for v in fields[1:8])
            return {"user": (user + nice) * tick, "system": (system + irq + softirq) * tick,
                    "idle": idle * tick, "iowait": iowait * tick}
    raise _invalid(f"Invalid cpuNum in virHostCPUGetStatsLinux: {cpu}")


def memory_stats(cell: int) -> dict[str, int]:
    """virHostMemGetStats: KiB; the whole host adds buffers and cached, a cell has total/free."""
    if cell == -1:
        info = _meminfo(_read("/proc/meminfo"))
        return {"total": info.get("MemTotal", 0), "free": info.get("MemFree", 0),
                "buffers": info.get("Buffers", 0), "cached": info.get("Cached", 0)}
    cells = _cells()
    if cell < 0 or cell > cells[-1]:
        raise _invalid(f"cell number {cell} is out of range (0-{cells[-1]})" if cell >= 0
                       else "cell number must be non-negative")
    info = _cell_meminfo(cell)
    return {"total": info.get("MemTotal", 0), "free": info.get("MemFree", 0)}


def max_vcpus(virttype: str | None) -> int:
    """qemuConnectGetMaxVcpus: 16 for plain QEMU (TCG), KVM's own limit for kvm."""
    if virttype is None or virttype.lower() == "qemu":
        return 16
    if virttype.lower() == "kvm":
        import fcntl

        try:
            fd = os.open("/dev/kvm", os.O_RDWR)
        except OSError as exc:
            raise PyvirtError(f"Unable to open /dev/kvm: {exc.strerror}", ErrorCode.SYSTEM_ERROR,
                              ErrorDomain.NONE) from None
        try:
            kvm_check_extension, cap_max_vcpus, cap_nr_vcpus = 0xAE03, 66, 9
            return (fcntl.ioctl(fd, kvm_check_extension, cap_max_vcpus)
                    or fcntl.ioctl(fd, kvm_check_extension, cap_nr_vcpus) or 4)
        finally:
            os.close(fd)
    raise _invalid(f"unknown type '{virttype}'")


def _ints(text: str) -> list[int]:
    return [int(v) for v in text.split() if v.lstrip("-").isdigit()]


def topology() -> list[dict[str, object]]:
    """The NUMA cells as libvirt's capabilities show them (virCapabilitiesHostNUMAAddCell): memory
    in KiB, every page size with its pool (system pages: the memory the huge pools leave), the
    distances to the other cells, and each CPU's socket, die, core and thread siblings.  A host
    without NUMA information is one cell holding every online CPU (libvirt's InitFake)."""
    from pyvirt.daemon import hostmem

    small = hostmem.system_page_kib()
    online = _cpu_list(_read(f"{_SYS_CPU}/online")) if os.path.exists(f"{_SYS_CPU}/online") else []
    cells = []
    numa = os.path.isdir(f"{_SYS_NODE}/node0")
    ids = _cells() if numa else [0]
    for cell in ids:
        node = f"{_SYS_NODE}/node{cell}"
        memory = _cell_meminfo(cell).get("MemTotal", 0)
        huge = []
        for path in sorted(glob.glob(f"{node}/hugepages/hugepages-*kB"), key=lambda p: int(p.rsplit("-", 1)[1][:-2])):
            size = int(path.rsplit("-", 1)[1][:-2])
            count = int(_read(f"{path}/nr_hugepages").strip() or 0)
            huge.append((size, count))
        pages = [(small, max(0, memory - sum(s * c for s, c in huge)) // small), *huge]
        distances = _ints(_read(f"{node}/distance")) if numa and os.path.exists(f"{node}/distance") else [10]
        cpus = _cpu_list(_read(f"{node}/cpulist")) if numa else online
        cells.append({"id": cell, "memory": memory, "pages": pages,
                      "distances": list(zip(ids, distances, strict=False)),
                      "cpus": [_cpu_topology(c) for c in cpus if c in online or not online]})
    return cells


def _cpu_topology(cpu: int) -> dict[str, object]:
    base = f"{_SYS_CPU}/cpu{cpu}/topology"

    def field(name: str) -> str:
        path = f"{base}/{name}"
        return _read(path).strip() if os.path.exists(path) else "0"

    return {"id": cpu, "socket_id": field("physical_package_id"), "die_id": field("die_id"),
            "core_id": field("core_id"), "siblings": field("thread_siblings_list") if os.path.exists(
                f"{base}/thread_siblings_list") else str(cpu)}
