"""Automatic NUMA placement (``<vcpu placement='auto'>``, ``<numatune><memory placement='auto'>``):
the host nodes come from numad, as libvirt asks it (virNumaGetAutoPlacementAdvice runs
``numad -w VCPUS:MEMORY_MiB`` and reads the node set it prints).  The guest's memory is then
bound to those nodes on the command line and, with an automatic vCPU placement, every QEMU
thread is pinned to the host CPUs of those nodes before the guest first runs."""

from __future__ import annotations

import shutil
import subprocess
from typing import TYPE_CHECKING

from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError
from pyvirt.xml.errors import XMLError

if TYPE_CHECKING:
    from pyvirt.xml.domain import Domain

#: numad answers at once; a hung one must not hold the start forever
_TIMEOUT_S = 30


def advice(dom: Domain, numad: str | None = None) -> frozenset[int]:
    """The host nodes numad advises for *dom* (its maximum vCPUs and its memory in MiB)."""
    exe = numad or shutil.which("numad")
    if exe is None:
        raise PyvirtError("internal error: Advice from numad is needed in case of automatic numa placement "
                          "(numad is not installed)", ErrorCode.INTERNAL_ERROR, ErrorDomain.QEMU)
    memory_mib = (dom.memory or 0) // 1024
    try:
        done = subprocess.run([exe, "-w", f"{dom.vcpu or 1}:{memory_mib}"], capture_output=True, text=True,
                              timeout=_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PyvirtError(f"internal error: Failed to query numad for the advisory nodeset: {exc}",
                          ErrorCode.INTERNAL_ERROR, ErrorDomain.QEMU) from exc
    from pyvirt.xml.validate import parse_cpuset  # with the domain model, loaded by the first definition

    text = done.stdout.strip()
    try:
        if done.returncode != 0 or not text:
            raise XMLError(done.stderr.strip() or "no output")
        return parse_cpuset(text)
    except XMLError as exc:
        raise PyvirtError(f"internal error: Failed to query numad for the advisory nodeset: {exc}",
                          ErrorCode.INTERNAL_ERROR, ErrorDomain.QEMU) from exc


def node_cpus(nodes: frozenset[int], sysfs: str = "/sys/devices/system/node") -> frozenset[int]:
    """The host CPUs of *nodes* (each node's ``cpulist``), which an automatic vCPU placement
    pins QEMU's threads to (libvirt's virCapabilitiesHostNUMAGetCpus)."""
    from pyvirt.xml.validate import parse_cpuset

    cpus: set[int] = set()
    for node in sorted(nodes):
        try:
            with open(f"{sysfs}/node{node}/cpulist") as fh:
                text = fh.read(4096).strip()
        except OSError as exc:
            raise PyvirtError(f"internal error: NUMA node {node} advised by numad is not on this host",
                              ErrorCode.INTERNAL_ERROR, ErrorDomain.QEMU) from exc
        if text:
            cpus |= parse_cpuset(text)
    return frozenset(cpus)
