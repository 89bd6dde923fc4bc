"""<cputune> on a running guest: libvirt's pinning and scheduling of the guest's threads.

libvirt applies it through cgroups and sched_setaffinity/sched_setscheduler while QEMU is still
stopped (qemuProcessSetupVcpus, qemuProcessSetupEmulator, qemuProcessSetupIOThreads): each vCPU
thread (QMP query-cpus-fast), each I/O thread (query-iothreads) and the rest of QEMU (the
emulator) get their host CPUs and scheduling policy.  pyvirtd does the same with the same system
calls.  Guest-wide shares and bandwidth are daemon/cgroups.py's; per-thread bandwidth (<period>,
<quota>, <emulator_period>...) puts each vCPU, I/O thread and the emulator's threads in child
cgroups of the guest's ``cpu`` cgroup with their own period/quota (libvirt's vcpuN, iothreadN
and emulator cgroups), which needs that cgroup: a daemon without one refuses the start, naming
the elements and the reason.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError
from pyvirt.daemon import cgroups

_POLICIES = {"batch": os.SCHED_BATCH, "idle": os.SCHED_IDLE, "fifo": os.SCHED_FIFO, "rr": os.SCHED_RR}


def check(dom: Any, cgroup: Any) -> None:
    """Refuse what pyvirtd cannot apply, before anything is started: per-thread bandwidth
    without the guest's own ``cpu`` cgroup (`cgroup`: the guest's, None where this daemon
    places guests in none)."""
    tune = dom.cputune
    if tune is not None and tune.thread_bandwidth() and (cgroup is None or "cpu" not in cgroup.controllers):
        names = ", ".join(f"<{n}>" for n in tune.thread_bandwidth())
        raise PyvirtError(f"unsupported configuration: <cputune> {names}: per-thread CPU bandwidth needs the guest's "
                          "own cgroup with the 'cpu' controller, which this daemon cannot use (only a system "
                          "daemon run by root places guests in cgroups, and the host must mount the controller "
                          "writable)", ErrorCode.CONFIG_UNSUPPORTED, ErrorDomain.QEMU)


def needed(dom: Any) -> bool:
    tune = dom.cputune
    return tune is not None and bool(tune.vcpupins or tune.emulatorpin or tune.iothreadpins or tune.vcpuscheds
                                     or tune.iothreadscheds or tune.emulatorsched_scheduler
                                     or tune.thread_bandwidth())


def _pin(tid: int, cpuset: str) -> None:
    from pyvirt.xml.validate import parse_cpuset

    with contextlib.suppress(ProcessLookupError):
        os.sched_setaffinity(tid, parse_cpuset(cpuset))


def _sched(tid: int, scheduler: str, priority: int | None) -> None:
    policy = _POLICIES[scheduler]
    prio = priority or 0 if scheduler in ("fifo", "rr") else 0
    try:
        os.sched_setscheduler(tid, policy, os.sched_param(prio))
    except ProcessLookupError:
        pass
    except OSError as exc:
        raise PyvirtError(f"cannot set scheduler parameters for thread {tid} ({scheduler}, priority {prio}): "
                          f"{exc.strerror}", ErrorCode.SYSTEM_ERROR, ErrorDomain.QEMU) from None


def _in(ids: str | None, n: int) -> bool:
    from pyvirt.xml.validate import parse_cpuset

    return ids is not None and n in parse_cpuset(ids)


def iothread_threads(reply: list[dict[str, Any]]) -> dict[int, int]:
    """{I/O thread id: thread id} from query-iothreads (objects named ``iothreadN`` by the argv)."""
    out = {}
    for t in reply:
        number = str(t.get("id", "")).removeprefix("iothread")
        if number.isdigit():
            out[int(number)] = int(t["thread-id"])
    return out


def apply(pid: int, dom: Any, vcpu_threads: dict[int, int], iothread_threads: dict[int, int],
          cgroup: Any = None) -> None:
    """Pin and schedule QEMU's threads: ``vcpu_threads`` {vCPU index: thread id} and
    ``iothread_threads`` {I/O thread id: thread id}, as QMP reports them; every other thread of
    *pid* is the emulator's.  Per-thread bandwidth goes into `cgroup` (the guest's, checked by
    :func:`check`)."""
    tune = dom.cputune
    if tune is None:
        return
    for p in tune.vcpupins:
        if p.vcpu in vcpu_threads:
            _pin(vcpu_threads[p.vcpu], p.cpuset)
    for p in tune.iothreadpins:
        if p.iothread in iothread_threads:
            _pin(iothread_threads[p.iothread], p.cpuset)
    guest_threads = set(vcpu_threads.values()) | set(iothread_threads.values())
    emulator = [int(t) for t in os.listdir(f"/proc/{pid}/task") if int(t) not in guest_threads]
    groups = cgroups.thread_groups(dom, vcpu_threads, iothread_threads, emulator)
    if groups:
        cgroup.place_threads(groups)
    if tune.emulatorpin:
        for tid in emulator:
            _pin(tid, tune.emulatorpin)
    if tune.emulatorsched_scheduler:
        for tid in emulator:
            _sched(tid, tune.emulatorsched_scheduler, tune.emulatorsched_priority)
    for s in tune.vcpuscheds:
        for n, tid in vcpu_threads.items():
            if _in(s.vcpus, n):
                _sched(tid, s.scheduler, s.priority)
    for s in tune.iothreadscheds:
        for n, tid in iothread_threads.items():
            if _in(s.iothreads, n):
                _sched(tid, s.scheduler, s.priority)
