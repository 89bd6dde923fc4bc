"""Domain tuning and pinning in pyvirtd: memtune, schedinfo, numatune, blkdeviotune, perf,
vCPU/emulator/IOThread pinning, IOThreads added and removed live, CPU statistics, <metadata>
elements, lifecycle actions and block write thresholds.

A mixin of the QEMU driver (it uses `lookup`, `_targets`, `_change`, `_running`, `_qmp`).  Each
change is libvirt's: the definitions a call names (--live/--config/--current) are edited through
`_change` (validated, written atomically); what the running guest gets is applied the way pyvirtd
applies it at start: cgroup files (daemon/cgroups.py) for memory limits and CPU shares/bandwidth,
sched_setaffinity for pins (daemon/cputune.py), QMP for disk throttling, IOThreads and write
thresholds.  What pyvirtd cannot apply to a running guest is refused naming what and why, and
leaves both definitions as they were.
"""

from __future__ import annotations

import contextlib
import copy
import os
from typing import Any

from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError, operation_invalid
from pyvirt.cint import as_c_int
from pyvirt.xml import tunables as T

EXCLUSIVE = "Flags 'VIR_DOMAIN_AFFECT_LIVE' and 'VIR_DOMAIN_AFFECT_CONFIG' are mutually exclusive"
#: the parameters virDomainGetSchedulerParameters gives for QEMU that pyvirtd changes live (the
#: per-thread periods/quotas are applied at start only: daemon/cputune.apply)
SCHED_FIELDS = (("cpu_shares", "shares"), ("global_period", "global_period"), ("global_quota", "global_quota"))


def _invalid_arg(message: str) -> PyvirtError:
    return PyvirtError(f"invalid argument: {message}", ErrorCode.INVALID_ARG, ErrorDomain.QEMU)


def _unsupported(message: str) -> PyvirtError:
    return PyvirtError(f"Operation not supported: {message}", ErrorCode.OPERATION_UNSUPPORTED, ErrorDomain.QEMU)


def perf_refusal(event: str, where: str = "") -> PyvirtError:
    """libvirt's refusal of a perf event it cannot open, with why pyvirtd never opens one."""
    return PyvirtError(f"argument unsupported: {where}unable to enable host cpu perf event for {event}: "
                       "pyvirtd does not open perf events for guests (libvirt counts them with "
                       "perf_event_open for its perf.* statistics)", ErrorCode.ARGUMENT_UNSUPPORTED, ErrorDomain.QEMU)


def _write_perf(dom: Any, params: dict[str, bool]) -> None:
    """`params` merged into ``<perf>``, in libvirt's event order."""
    from pyvirt.xml.domain import Perf, PerfEvent

    states = {e.name: bool(e.enabled) for e in (dom.perf.events if dom.perf is not None else [])}
    states.update(params)
    dom.perf = Perf(events=[PerfEvent(name=n, enabled=states[n]) for n in T.PERF_EVENTS if n in states])


def check_perf(dom: Any) -> None:
    """At start: a ``<perf>`` event enabled in the definition is refused by name (disabled ones
    are what every event is under pyvirtd)."""
    for event in dom.perf.events if dom.perf is not None else []:
        if event.enabled:
            raise perf_refusal(event.name, f"<perf><event name='{event.name}' enabled='yes'>: ")


def _accepted(params: dict[str, Any], names: tuple[str, ...] | dict[str, Any]) -> None:
    for name in params:
        if name not in names:
            raise PyvirtError(f"argument unsupported: parameter '{name}' not supported",
                              ErrorCode.ARGUMENT_UNSUPPORTED, ErrorDomain.NONE)


def _cpus(cpumap: list[bool]) -> frozenset[int]:
    return frozenset(n for n, on in enumerate(cpumap) if on)


def _host_cpus() -> int:
    return os.cpu_count() or 1


def _cpumap(cpus: frozenset[int] | set[int]) -> list[bool]:
    return [n in cpus for n in range(_host_cpus())]


def _thread_cpu(pid: int, tid: int) -> int:
    """The host CPU a thread last ran on (/proc/PID/task/TID/stat field 39)."""
    with contextlib.suppress(OSError, ValueError, IndexError), open(f"/proc/{pid}/task/{tid}/stat") as fh:
        return int(fh.read().rpartition(")")[2].split()[36])
    return -1


class TuningMixin:
    """The tuning operations of QemuDriver."""

    # -- helpers
    def _one(self, rec: Any, live: bool, config: bool) -> Any:
        """virDomainObjGetOneDef: one definition (live or persistent), never both."""
        if live and config:
            raise PyvirtError(EXCLUSIVE, ErrorCode.INVALID_ARG, ErrorDomain.NONE)
        return self._targets(rec, live, config)[0]  # type: ignore[attr-defined]

    def _live_target(self, rec: Any, targets: list[Any]) -> bool:
        return rec.live is not None and any(t is rec.live for t in targets)

    def _cgroup(self, rec: Any) -> Any:
        """The running guest's cgroup (None where this daemon places guests in none)."""
        from pyvirt.daemon import cgroups

        return cgroups.for_guest(self.paths.runtime, rec.name, self._privileged())  # type: ignore[attr-defined]

    def _tunable(self, rec: Any, params: dict[str, Any]) -> None:
        """libvirt's tunable event for a change applied to the running guest."""
        import time

        from pyvirt.api import TunableEvent

        self.events.publish(TunableEvent(rec.name, rec.uuid, timestamp=time.time(), id=rec.id,  # type: ignore
                                         params=params))

    def _apply_cgroup(self, rec: Any, candidate: Any) -> None:
        """Write `candidate`'s <memtune>/<cputune> cgroup settings into the running guest's cgroup;
        refused (naming the element) where there is none."""
        from pyvirt.daemon import cgroups

        cg = self._cgroup(rec)
        settings = cgroups.plan(candidate, cg.controllers if cg is not None else {})
        if cg is not None:
            cg.write(settings)

    # -- memtune
    def memory_parameters(self, dom: str, live: bool = False, config: bool = False) -> dict[str, int]:
        rec = self.lookup(dom)  # type: ignore[attr-defined]
        target = self._one(rec, live, config)
        tune = target.memtune
        return {name: (getattr(tune, name, None) if tune is not None else None) or T.UNLIMITED
                for name in ("hard_limit", "soft_limit", "swap_hard_limit")}

    async def set_memory_parameters(self, dom: str, params: dict[str, int], live: bool = False,
                                    config: bool = False) -> None:
        from pyvirt.xml.domain import MemTune

        _accepted(params, ("hard_limit", "soft_limit", "swap_hard_limit"))
        rec = self.lookup(dom)  # type: ignore[attr-defined]
        async with rec.lock:
            targets = self._targets(rec, live, config)  # type: ignore[attr-defined]

            def mutate(target: Any) -> None:
                tune = target.memtune or MemTune()
                for name, value in params.items():
                    setattr(tune, name, None if value >= T.UNLIMITED else value)
                hard, swap = tune.hard_limit, tune.swap_hard_limit
                if hard is not None and swap is not None and hard > swap:
                    raise _invalid_arg("memory hard_limit tunable value must be lower than or equal to "
                                       "swap_hard_limit")
                target.memtune = tune if any(getattr(tune, n) is not None for n in params) or \
                    tune.hard_limit or tune.soft_limit or tune.swap_hard_limit else None

            self._apply_live(rec, targets, mutate)
            self._change(rec, targets, mutate)  # type: ignore[attr-defined]

    def _apply_live(self, rec: Any, targets: list[Any], mutate: Any) -> None:
        """Before any definition changes: the running guest's cgroup gets the new values."""
        if self._live_target(rec, targets):
            candidate = copy.deepcopy(rec.live)
            mutate(candidate)
            self._apply_cgroup(rec, candidate)

    # -- schedinfo
    def scheduler_type(self, dom: str) -> list[Any]:
        self.lookup(dom)  # type: ignore[attr-defined]
        return ["posix", len(SCHED_FIELDS)]

    def scheduler_parameters(self, dom: str, live: bool = False, config: bool = False,
                             current: bool = False) -> dict[str, int]:
        """cpu_shares, global_period, global_quota from the definition asked for (what pyvirtd
        writes to the guest's cgroup); unset values read as libvirt's defaults for a guest
        without them (shares 1024, period 100000 us, no quota: -1)."""
        rec = self.lookup(dom)  # type: ignore[attr-defined]
        tune = self._one(rec, live, config).cputune
        defaults = {"cpu_shares": 1024, "global_period": 100000, "global_quota": -1}
        return {name: (getattr(tune, attr) if tune is not None and getattr(tune, attr) is not None
                       else defaults[name]) for name, attr in SCHED_FIELDS}

    async def set_scheduler_parameters(self, dom: str, params: dict[str, int], live: bool = False,
                                       config: bool = False) -> None:
        from pyvirt.xml.domain import CPUTune

        names = dict(SCHED_FIELDS)
        for name in params:
            if name in ("vcpu_period", "vcpu_quota", "emulator_period", "emulator_quota", "iothread_period",
                        "iothread_quota"):
                raise _unsupported(f"scheduler parameter '{name}': per-thread CPU bandwidth needs a cgroup per "
                                   "thread, which pyvirtd does not create (cpu_shares, global_period and "
                                   "global_quota are supported)")
        _accepted(params, names)
        rec = self.lookup(dom)  # type: ignore[attr-defined]
        async with rec.lock:
            targets = self._targets(rec, live, config)  # type: ignore[attr-defined]
            live_change = self._live_target(rec, targets)  # before _change replaces rec.live

            def mutate(target: Any) -> None:
                tune = target.cputune or CPUTune()
                for name, value in params.items():
                    setattr(tune, names[name], value)
                target.cputune = tune

            self._apply_live(rec, targets, mutate)
            self._change(rec, targets, mutate)  # type: ignore[attr-defined]
            if live_change:
                self._tunable(rec, {f"cputune.{name}": value for name, value in params.items()})

    # -- numatune
    def numa_parameters(self, dom: str, live: bool = False, config: bool = False) -> dict[str, int | str]:
        rec = self.lookup(dom)  # type: ignore[attr-defined]
        tune = self._one(rec, live, config).numatune
        mode = (tune.memory_mode if tune is not None else None) or "strict"
        return {"numa_mode": T.NUMA_MODES.index(mode),
                "numa_nodeset": (tune.memory_nodeset if tune is not None else None) or ""}

    async def set_numa_parameters(self, dom: str, params: dict[str, int | str], live: bool = False,
                                  config: bool = False) -> None:
        """<numatune><memory>: the persistent definition; a running guest's memory stays where
        QEMU allocated it (pyvirtd binds it at start through the memory backend)."""
        from pyvirt.xml.domain import NumaTune

        _accepted(params, ("numa_mode", "numa_nodeset"))
        mode, nodeset = params.get("numa_mode"), params.get("numa_nodeset")
        if isinstance(mode, int) and not 0 <= mode < len(T.NUMA_MODES):
            raise _invalid_arg(f"unsupported numatune mode: '{mode}'")
        if isinstance(nodeset, str):
            nodeset = _nodeset(nodeset)
        rec = self.lookup(dom)  # type: ignore[attr-defined]
        async with rec.lock:
            targets = self._targets(rec, live, config)  # type: ignore[attr-defined]
            if self._live_target(rec, targets):
                raise _unsupported("changing <numatune> of a running guest: pyvirtd binds guest memory to host "
                                   "NUMA nodes when QEMU starts and does not move it (use --config)")

            def mutate(target: Any) -> None:
                tune = target.numatune or NumaTune()
                if isinstance(mode, int):
                    tune.memory_mode = T.NUMA_MODES[mode]
                if nodeset is not None:
                    tune.memory_nodeset = nodeset
                if not tune.memory_nodeset and tune.memory_placement != "auto":
                    raise PyvirtError("unsupported configuration: nodeset for NUMA memory tuning must be set if "
                                      "'placement' is 'static'", ErrorCode.CONFIG_UNSUPPORTED, ErrorDomain.QEMU)
                tune.memory_mode = tune.memory_mode or "strict"
                target.numatune = tune

            self._change(rec, targets, mutate)  # type: ignore[attr-defined]

    # -- blkdeviotune
    def _disk_of(self, target: Any, disk: str) -> Any:
        from pyvirt.daemon.hotplug import _find_disk

        found = _find_disk(target, disk, disk)
        if found is None:
            raise _invalid_arg(f"disk '{disk}' was not found in the domain config")
        return found

    def block_iotune(self, dom: str, disk: str, live: bool = False, config: bool = False) -> dict[str, int | str]:
        rec = self.lookup(dom)  # type: ignore[attr-defined]
        found = self._disk_of(self._one(rec, live, config), disk)
        tune = found.iotune
        return {name: (getattr(tune, name, None) if tune is not None else None) or ("" if name == "group_name" else 0)
                for name in T.IOTUNE_PARAMS}

    async def set_block_iotune(self, dom: str, disk: str, params: dict[str, int | str], live: bool = False,
                               config: bool = False) -> None:
        """The disk's <iotune>, merged over its current values; live through QMP
        block_set_io_throttle (as pyvirtd applies it at start)."""
        from pyvirt.qemu.argv_disks import disk_qom_name
        from pyvirt.xml.domain import IOTune

        _accepted(params, T.IOTUNE_PARAMS)
        rec = self.lookup(dom)  # type: ignore[attr-defined]
        async with rec.lock:
            targets = self._targets(rec, live, config)  # type: ignore[attr-defined]
            live_change = self._live_target(rec, targets)  # before _change replaces rec.live
            for target in targets:
                self._disk_of(target, disk)

            def mutate(target: Any) -> None:
                found = self._disk_of(target, disk)
                info: dict[str, Any] = {n: (getattr(found.iotune, n, None) if found.iotune else None)
                                        or ("" if n == "group_name" else 0) for n in T.IOTUNE_PARAMS}
                info.update(params)
                T.check_iotune(info, strict_max=False)
                found.iotune = IOTune(**{n: v for n, v in info.items() if v}) if any(info.values()) else None

            if self._live_target(rec, targets):
                candidate = copy.deepcopy(rec.live)
                mutate(candidate)
                new = self._disk_of(candidate, disk)
                tune = new.iotune or IOTune()
                await self._qmp(self._running(rec), "block_set_io_throttle",  # type: ignore[attr-defined]
                                tune.qmp_arguments(disk_qom_name(new)))
            self._change(rec, targets, mutate)  # type: ignore[attr-defined]
            if live_change:
                self._tunable(rec, {"blkdeviotune.disk": disk, **{f"blkdeviotune.{n}": v for n, v in params.items()}})

    # -- perf: pyvirtd opens no perf events for guests
    def perf_events(self, dom: str, live: bool = False, config: bool = False) -> dict[str, bool]:
        """The events' states in the definition asked for (a running guest has none enabled)."""
        rec = self.lookup(dom)  # type: ignore[attr-defined]
        chosen = self._one(rec, live, config)
        states = dict.fromkeys(T.PERF_EVENTS, False)
        perf = getattr(chosen, "perf", None)
        states.update({e.name: bool(e.enabled) for e in (perf.events if perf is not None else [])})
        return states

    def set_perf_events(self, dom: str, params: dict[str, bool], live: bool = False, config: bool = False) -> None:
        """qemuDomainSetPerfEvents: the states go into each targeted definition's ``<perf>``.  A
        running guest's event is never enabled (pyvirtd opens none: refused, naming it); the
        persistent definition takes either state, as libvirt's does (its next start refuses an
        enabled one, as check_perf says)."""
        _accepted(params, T.PERF_EVENTS)
        rec = self.lookup(dom)  # type: ignore[attr-defined]
        targets = self._targets(rec, live, config)  # type: ignore[attr-defined]
        enabled = [name for name, on in params.items() if on]
        if enabled and any(t is rec.live for t in targets):
            raise perf_refusal(enabled[0])
        self._change(rec, targets, lambda d: _write_perf(d, params))  # type: ignore[attr-defined]

    # -- vCPUs and pinning
    def _vcpu_threads(self, rec: Any) -> dict[int, int]:
        from pyvirt.daemon.introspect import _vcpu_threads

        return _vcpu_threads(self._running(rec).ident.pid)  # type: ignore[attr-defined]

    def vcpu_info(self, dom: str) -> list[dict[str, Any]]:
        """Each vCPU thread of the running QEMU: the host CPU it last ran on, its CPU time and
        its affinity as the kernel has it."""
        rec = self.lookup(dom)  # type: ignore[attr-defined]
        if not rec.active or rec.run is None:
            raise operation_invalid("cannot list vcpus for an inactive domain")
        pid = rec.run.ident.pid
        out = []
        for n, tid in sorted(self._vcpu_threads(rec).items()):
            try:
                affinity = os.sched_getaffinity(tid)
            except OSError:
                continue
            out.append({"number": n, "state": 1, "cpu_time": self._cpu_time_ns(tid),  # type: ignore[attr-defined]
                        "cpu": _thread_cpu(pid, tid), "affinity": _cpumap(affinity)})
        return out

    def vcpu_pin_info(self, dom: str, live: bool = False, config: bool = False) -> list[list[bool]]:
        """virDomainDefGetVcpuPinInfoHelper: <vcpupin>, else <vcpu cpuset>, else every host CPU."""
        from pyvirt.xml.validate import parse_cpuset

        rec = self.lookup(dom)  # type: ignore[attr-defined]
        target = self._one(rec, live, config)
        default = parse_cpuset(target.vcpu_cpuset) if target.vcpu_cpuset else frozenset(range(_host_cpus()))
        pins = {p.vcpu: p.cpuset for p in (target.cputune.vcpupins if target.cputune else [])}
        return [_cpumap(parse_cpuset(pins[n]) if pins.get(n) else default) for n in range(target.vcpu or 1)]

    async def pin_vcpu(self, dom: str, vcpu: int, cpumap: list[bool], live: bool = False,
                       config: bool = False) -> None:
        from pyvirt.xml.domain import VcpuPin

        cpus = self._pin_cpus(cpumap, "vcpu")
        rec = self.lookup(dom)  # type: ignore[attr-defined]
        async with rec.lock:
            targets = self._targets(rec, live, config)  # type: ignore[attr-defined]
            live_change = self._live_target(rec, targets)  # before _change replaces rec.live
            for target in targets:
                if not 0 <= vcpu < (target.vcpu or 1):
                    raise _invalid_arg(f"vcpu {as_c_int(vcpu)} is out of range of {'live' if target is rec.live else 'persistent'}"
                                       f" cpu count {target.vcpu or 1}")
            if self._live_target(rec, targets):
                tid = self._vcpu_threads(rec).get(vcpu)
                if tid is None:
                    raise _invalid_arg(f"requested vcpu '{as_c_int(vcpu)}' is not present in the domain")
                _set_affinity(tid, cpus)

            def mutate(target: Any) -> None:
                tune = _cputune(target)
                tune.vcpupins = sorted([p for p in tune.vcpupins if p.vcpu != vcpu] +
                                       [VcpuPin(vcpu=vcpu, cpuset=_fmt(cpus))], key=lambda p: p.vcpu)

            self._change(rec, targets, mutate)  # type: ignore[attr-defined]
            if live_change:
                self._tunable(rec, {f"cputune.vcpupin{vcpu}": _fmt(cpus)})

    def _pin_cpus(self, cpumap: list[bool], what: str) -> frozenset[int]:
        from pyvirt.connection import check_cpumap

        check_cpumap(cpumap, {"vcpu": "virDomainPinVcpuFlags", "emulator": "virDomainPinEmulator"}.get(
            what, "virDomainPinIOThread"))
        cpus = _cpus(cpumap)
        if not cpus:
            raise _invalid_arg("Empty cpu list for pinning")
        if max(cpus) >= _host_cpus():
            raise _invalid_arg(f"{what} pinning names host CPU {max(cpus)}, but this host has {_host_cpus()}")
        return cpus

    def emulator_pin_info(self, dom: str, live: bool = False, config: bool = False) -> list[bool]:
        from pyvirt.xml.validate import parse_cpuset

        rec = self.lookup(dom)  # type: ignore[attr-defined]
        target = self._one(rec, live, config)
        cpuset = (target.cputune.emulatorpin if target.cputune else None) or target.vcpu_cpuset
        return _cpumap(parse_cpuset(cpuset) if cpuset else frozenset(range(_host_cpus())))

    async def _emulator_threads(self, rec: Any) -> list[int]:
        """Every QEMU thread that is neither a vCPU nor an IOThread."""
        from pyvirt.daemon.cputune import iothread_threads

        run = self._running(rec)  # type: ignore[attr-defined]
        guest = set(self._vcpu_threads(rec).values())
        guest |= set(iothread_threads(await self._qmp(run, "query-iothreads")).values())  # type: ignore[attr-defined]
        with contextlib.suppress(OSError):
            return [int(t) for t in os.listdir(f"/proc/{run.ident.pid}/task") if int(t) not in guest]
        return []

    async def pin_emulator(self, dom: str, cpumap: list[bool], live: bool = False, config: bool = False) -> None:
        cpus = self._pin_cpus(cpumap, "emulator")
        rec = self.lookup(dom)  # type: ignore[attr-defined]
        async with rec.lock:
            targets = self._targets(rec, live, config)  # type: ignore[attr-defined]
            live_change = self._live_target(rec, targets)  # before _change replaces rec.live
            if self._live_target(rec, targets):
                for tid in await self._emulator_threads(rec):
                    _set_affinity(tid, cpus)

            def mutate(target: Any) -> None:
                _cputune(target).emulatorpin = _fmt(cpus)

            self._change(rec, targets, mutate)  # type: ignore[attr-defined]
            if live_change:
                self._tunable(rec, {"cputune.emulatorpin": _fmt(cpus)})

    # -- IOThreads
    def _iothread_ids(self, target: Any) -> list[int]:
        return [t.id for t in target.iothread_ids if t.id is not None] or list(range(1, (target.iothreads or 0) + 1))

    async def add_iothread(self, dom: str, iothread: int, live: bool = False, config: bool = False) -> None:
        from pyvirt.xml.domain import IOThread

        if iothread <= 0:
            raise _invalid_arg(f"invalid IOThread id value: '{iothread}'")
        rec = self.lookup(dom)  # type: ignore[attr-defined]
        async with rec.lock:
            targets = self._targets(rec, live, config)  # type: ignore[attr-defined]
            for target in targets:
                if iothread in self._iothread_ids(target):
                    raise _invalid_arg(f"an IOThread is already using iothread_id '{iothread}'")
            if self._live_target(rec, targets):
                await self._qmp(self._running(rec), "object-add",  # type: ignore[attr-defined]
                                {"qom-type": "iothread", "id": f"iothread{iothread}"})

            def mutate(target: Any) -> None:
                ids = self._iothread_ids(target)
                existing = {t.id: t for t in target.iothread_ids}
                target.iothread_ids = [existing.get(i) or IOThread(id=i) for i in [*ids, iothread]]  # appended
                target.iothreads = len(target.iothread_ids)

            self._change(rec, targets, mutate)  # type: ignore[attr-defined]

    async def del_iothread(self, dom: str, iothread: int, live: bool = False, config: bool = False) -> None:
        if iothread <= 0:
            raise _invalid_arg(f"invalid IOThread id value: '{iothread}'")
        rec = self.lookup(dom)  # type: ignore[attr-defined]
        async with rec.lock:
            targets = self._targets(rec, live, config)  # type: ignore[attr-defined]
            for target in targets:
                if iothread not in self._iothread_ids(target):
                    raise _invalid_arg(f"cannot find IOThread '{iothread}' in iothreadids list")
                for disk in target.devices.disks:
                    if getattr(disk, "driver_iothread", None) == iothread:
                        raise _invalid_arg(f"cannot remove IOThread {iothread} since it is being used by disk "
                                           f"'{disk.target_dev}'")
            if self._live_target(rec, targets):
                await self._qmp(self._running(rec), "object-del",  # type: ignore[attr-defined]
                                {"id": f"iothread{iothread}"})

            def mutate(target: Any) -> None:
                from pyvirt.xml.domain import IOThread

                existing = {t.id: t for t in target.iothread_ids}
                every = self._iothread_ids(target)
                ids = [i for i in every if i != iothread]
                target.iothread_ids = [existing.get(i) or IOThread(id=i) for i in ids]
                for later in target.iothread_ids[every.index(iothread):]:
                    later.autofill = False  # virDomainIOThreadIDDel: written from now on
                target.iothreads = len(ids) or None
                if target.cputune is not None:
                    target.cputune.iothreadpins = [p for p in target.cputune.iothreadpins if p.iothread != iothread]

            self._change(rec, targets, mutate)  # type: ignore[attr-defined]

    async def pin_iothread(self, dom: str, iothread: int, cpumap: list[bool], live: bool = False,
                           config: bool = False) -> None:
        from pyvirt.daemon.cputune import iothread_threads
        from pyvirt.xml.domain import IOThreadPin

        rec = self.lookup(dom)  # type: ignore[attr-defined]
        async with rec.lock:
            targets = self._targets(rec, live, config)  # type: ignore[attr-defined]
            live_change = self._live_target(rec, targets)  # before _change replaces rec.live
            for target in targets:
                if iothread not in self._iothread_ids(target):
                    raise _invalid_arg(f"iothreadid {as_c_int(iothread)} not found")
            cpus = self._pin_cpus(cpumap, "IOThread")
            if self._live_target(rec, targets):
                threads = iothread_threads(await self._qmp(self._running(rec), "query-iothreads"))  # type: ignore
                if iothread not in threads:
                    raise _invalid_arg(f"iothreadid {as_c_int(iothread)} not found")
                _set_affinity(threads[iothread], cpus)

            def mutate(target: Any) -> None:
                tune = _cputune(target)
                tune.iothreadpins = sorted([p for p in tune.iothreadpins if p.iothread != iothread] +
                                           [IOThreadPin(iothread=iothread, cpuset=_fmt(cpus))],
                                           key=lambda p: p.iothread)

            self._change(rec, targets, mutate)  # type: ignore[attr-defined]
            if live_change:
                self._tunable(rec, {f"cputune.iothreadpin{iothread}": _fmt(cpus)})

    async def set_iothread_params(self, dom: str, iothread: int, params: dict[str, int], live: bool = False,
                                  config: bool = False) -> None:
        """The running IOThread's polling and pool sizes (qom-set on the iothread object); the
        pool sizes are also kept in <iothreadids>; the polling figures live only as long as QEMU
        (libvirt keeps none of them either)."""
        _accepted(params, ("poll_max_ns", "poll_grow", "poll_shrink", "thread_pool_min", "thread_pool_max"))
        rec = self.lookup(dom)  # type: ignore[attr-defined]
        async with rec.lock:
            targets = self._targets(rec, live, config)  # type: ignore[attr-defined]
            for target in targets:
                if iothread not in self._iothread_ids(target):
                    raise _invalid_arg(f"cannot find IOThread '{iothread}' in iothreadids")
                if target is rec.config and any(n.startswith("poll") for n in params):
                    raise _invalid_arg("IOThread polling parameters apply to a running guest only (--live)")
            if self._live_target(rec, targets):
                run = self._running(rec)  # type: ignore[attr-defined]
                for name, value in params.items():
                    await self._qmp(run, "qom-set", {"path": f"/objects/iothread{iothread}",  # type: ignore
                                                     "property": name.replace("_", "-"), "value": value})

            def mutate(target: Any) -> None:
                from pyvirt.xml.domain import IOThread

                existing = {t.id: t for t in target.iothread_ids}
                ids = self._iothread_ids(target)
                entries = [existing.get(i) or IOThread(id=i) for i in ids]
                for entry in entries:
                    if entry.id == iothread:
                        entry.thread_pool_min = params.get("thread_pool_min", entry.thread_pool_min)
                        entry.thread_pool_max = params.get("thread_pool_max", entry.thread_pool_max)
                target.iothread_ids = entries

            if any(n.startswith("thread_pool") for n in params):
                self._change(rec, targets, mutate)  # type: ignore[attr-defined]

    # -- CPU statistics
    def cpu_stats(self, dom: str, start: int = -1, count: int = 1) -> list[dict[str, int]]:
        """Totals from /proc (QEMU's CPU time, user and system parts); per host CPU from the
        guest's cpuacct cgroup, which a system daemon run by root has, else libvirt's refusal."""
        rec = self.lookup(dom)  # type: ignore[attr-defined]
        run = self._running(rec)  # type: ignore[attr-defined]
        pid = run.ident.pid
        if start == -1:
            user, system = _user_system_ns(pid)
            return [{"cpu_time": self._cpu_time_ns(pid), "user_time": user,  # type: ignore[attr-defined]
                     "system_time": system}]
        percpu = _percpu_usage(self._cgroup(rec))
        if percpu is None:
            raise _unsupported("per-CPU statistics need the guest's cpuacct cgroup (a system daemon run by root "
                               "on a host with the cpuacct controller mounted)")
        if start >= len(percpu):
            raise _invalid_arg(f"start_cpu {start} larger than maximum of {len(percpu) - 1}")
        return [{"cpu_time": ns} for ns in percpu[start:start + count]]

    # -- metadata and lifecycle actions
    def get_metadata(self, dom: str, kind: str, uri: str | None = None, live: bool = False,
                     config: bool = False) -> str:
        rec = self.lookup(dom)  # type: ignore[attr-defined]
        target = self._one(rec, live, config)
        if kind in ("title", "description"):
            value = getattr(target, kind)
            if not value:
                raise PyvirtError("metadata not found: Requested metadata element is not present",
                                  ErrorCode.NO_DOMAIN_METADATA, ErrorDomain.DOMAIN)
            return str(value)
        return T.read_metadata(_metadata_tree(target), kind, uri)

    async def set_lifecycle_action(self, dom: str, event: str, action: str, live: bool = False,
                                   config: bool = False) -> None:
        """<on_poweroff>/<on_reboot>/<on_crash>; pyvirtd acts on them when the guest stops, and
        tells a running QEMU how to treat a guest reboot (set-action), as at start."""
        if event not in T.LIFECYCLE_EVENTS:
            raise _invalid_arg(f"unknown lifecycle type '{event}'")
        if action not in T.LIFECYCLE_ACTIONS:
            raise _invalid_arg(f"unknown lifecycle action '{action}'")
        T.check_lifecycle(event, action)
        rec = self.lookup(dom)  # type: ignore[attr-defined]
        async with rec.lock:
            targets = self._targets(rec, live, config)  # type: ignore[attr-defined]
            live_change = self._live_target(rec, targets)  # before _change replaces rec.live

            def mutate(target: Any) -> None:
                setattr(target, f"on_{event}", action)

            self._change(rec, targets, mutate)  # type: ignore[attr-defined]
            if event == "reboot" and live_change:
                await self._qmp(self._running(rec), "set-action",  # type: ignore[attr-defined]
                                {"reboot": "shutdown" if action == "destroy" else "reset"})

    # -- block write thresholds
    async def set_block_threshold(self, dom: str, dev: str, threshold: int) -> None:
        """QMP block-set-write-threshold on the disk's top node; QEMU's BLOCK_WRITE_THRESHOLD
        event then fires once the guest writes past it."""
        from pyvirt.qemu.argv_disks import disk_qom_name

        rec = self.lookup(dom)  # type: ignore[attr-defined]
        run = self._running(rec)  # type: ignore[attr-defined]
        found = self._disk_of(rec.live, dev)
        qdev = disk_qom_name(found)
        node = None
        for block in await self._qmp(run, "query-block"):  # type: ignore[attr-defined]
            if block.get("qdev") in (qdev, found.alias) and block.get("inserted"):
                node = block["inserted"].get("node-name")
        if not node:
            raise operation_invalid(f"disk '{dev}' does not have an active block backend")
        await self._qmp(run, "block-set-write-threshold", {"node-name": node,  # type: ignore[attr-defined]
                                                             "write-threshold": threshold})
        if threshold:
            run.thresholds[node] = (found.target_dev, found.source_file or found.source_dev or "")
        else:
            run.thresholds.pop(node, None)

    def on_block_threshold(self, rec: Any, run: Any, data: dict[str, Any]) -> None:
        """QEMU's BLOCK_WRITE_THRESHOLD: libvirt's block-threshold event (QEMU has cleared the
        threshold: it fires once)."""
        import time

        from pyvirt.api import BlockThresholdEvent

        dev, path = run.thresholds.pop(str(data.get("node-name", "")), ("", ""))
        if not dev:
            return
        self.events.publish(BlockThresholdEvent(  # type: ignore[attr-defined]
            rec.name, rec.uuid, timestamp=time.time(), id=rec.id, dev=dev, path=path,
            threshold=int(data.get("write-threshold", 0)), excess=int(data.get("amount-exceeded", 0))))


# ---------------------------------------------------------------------------------- helpers
def _fmt(cpus: frozenset[int] | set[int]) -> str:
    from pyvirt.xml.generic_defaults import format_cpuset

    return format_cpuset(cpus)


def _cputune(target: Any) -> Any:
    from pyvirt.xml.domain import CPUTune

    if target.cputune is None:
        target.cputune = CPUTune()
    return target.cputune


def _set_affinity(tid: int, cpus: frozenset[int]) -> None:
    try:
        os.sched_setaffinity(tid, cpus)
    except ProcessLookupError:
        pass
    except OSError as exc:
        raise PyvirtError(f"cannot set CPU affinity on thread {tid}: {exc.strerror}", ErrorCode.SYSTEM_ERROR,
                          ErrorDomain.QEMU) from None


def _nodeset(text: str) -> str:
    from pyvirt.xml.errors import XMLError
    from pyvirt.xml.validate import parse_cpuset

    try:
        return _fmt(parse_cpuset(text))
    except XMLError:
        raise _invalid_arg(f"Failed to parse bitmap '{text}'") from None


def _user_system_ns(pid: int) -> tuple[int, int]:
    """utime and stime of /proc/PID/stat, in ns."""
    ticks = os.sysconf("SC_CLK_TCK")
    with contextlib.suppress(OSError, ValueError, IndexError), open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rpartition(")")[2].split()
        return int(fields[11]) * 1_000_000_000 // ticks, int(fields[12]) * 1_000_000_000 // ticks
    return 0, 0


def _percpu_usage(cg: Any) -> list[int] | None:
    """cpuacct.usage_percpu of the guest's cgroup (ns per host CPU), None without one."""
    if cg is None or "cpuacct" not in cg.controllers:
        return None
    with contextlib.suppress(OSError, ValueError):
        return [int(v) for v in (cg.dir_of("cpuacct") / "cpuacct.usage_percpu").read_text().split()]
    return None


def _metadata_tree(target: Any) -> Any:
    """The definition's <metadata> children as an lxml tree (read through the safe parser)."""
    from lxml import etree

    root = etree.Element("domain")
    if target.metadata is not None:
        from pyvirt.xml.safe import safe_parse

        holder = etree.SubElement(root, "metadata")
        for text in target.metadata:
            holder.append(safe_parse(text))
    return root


def write_metadata(target: Any, value: str | None, key: str | None, uri: str) -> None:
    """virDomainDefSetMetadata for an element, on a model definition."""
    from lxml import etree

    tree = _metadata_tree(target)
    T.write_metadata(tree, value, key, uri)
    holder = tree.find("metadata")
    if holder is not None:
        target.metadata = [etree.tostring(el, encoding="unicode") for el in holder if isinstance(el.tag, str)]
