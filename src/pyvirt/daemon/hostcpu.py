"""The host's own CPU for cpu-compare: its vendor and features as CPUID reports them.

libvirt executes CPUID itself; pyvirtd reads the same registers through the kernel's
``/dev/cpu/N/cpuid`` (the cpuid driver: an 8-byte offset selects leaf and subleaf, 16 bytes
come back), and falls back on /proc/cpuinfo's flags where that device is missing (no cpuid
module, no root): those name most features, but not the ones only an OS sets (osxsave).
"""

from __future__ import annotations

import os
import struct
from typing import Any

from pyvirt.cpumap import VENDORS, CpuMap, cpuid_features, host_features

CPUID_DEV = "/dev/cpu/0/cpuid"


def _reader(fd: int) -> Any:
    def raw(leaf: int, sub: int = 0) -> tuple[int, int, int, int]:
        return struct.unpack("<4I", os.pread(fd, 16, sub << 32 | leaf))

    max_basic, max_ext = raw(0)[0], raw(0x80000000)[0]

    def read(leaf: int, sub: int) -> tuple[int, int, int, int] | None:
        top = max_ext if leaf >= 0x80000000 else max_basic
        if leaf > top or 0x40000000 <= leaf < 0x80000000:  # hypervisor leaves: not in the map
            return None
        return raw(leaf, sub)

    return raw, read


def host_cpu(cmap: CpuMap, cpuid_dev: str = CPUID_DEV, cpuinfo: str = "/proc/cpuinfo") -> tuple[set[str], str | None]:
    """(features, libvirt's vendor name) of the host CPU."""
    try:
        fd = os.open(cpuid_dev, os.O_RDONLY)
    except OSError:
        fd = -1
    if fd >= 0:
        try:
            raw, read = _reader(fd)
            _, ebx, ecx, edx = raw(0)
            vendor = struct.pack("<3I", ebx, edx, ecx).decode("ascii", "replace")
            return cpuid_features(cmap, read), VENDORS.get(vendor)
        except OSError:
            pass
        finally:
            os.close(fd)
    from pyvirt.qemu.capsxml import parse_cpuinfo

    try:
        with open(cpuinfo, encoding="utf-8") as f:
            info = parse_cpuinfo(f.read(1 << 22))
    except OSError:
        return set(), None
    return host_features(cmap, info["flags"]), VENDORS.get(str(info["vendor"]))  # type: ignore[arg-type]
