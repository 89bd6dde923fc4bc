"""Per-guest cgroups: each guest of a system daemon run by root gets its own cgroup, holding its
QEMU, with ``<cputune>``, ``<memtune>`` and ``<blkiotune>`` written to it as libvirt's QEMU driver
writes them.

Where: ``<controller mount>/pyvirt/<guest key>`` for each controller used (``cpu``, ``memory``),
on cgroup v2 when the unified hierarchy offers the controller, on a v1 hierarchy where the
host mounts it there (hybrid hosts have both; libvirt uses either).  The key is the guest's
name made safe plus a digest of the daemon's runtime directory and the name, so two daemons
(or a test's) never share a cgroup.

What (libvirt's mapping, vircgroupv1.c / vircgroupv2.c):

=======================  ==========================  =================================
XML                      cgroup v1                   cgroup v2
=======================  ==========================  =================================
cputune/shares           cpu.shares                  cpu.weight (the same number)
cputune/global_period,   cpu.cfs_period_us,          cpu.max "QUOTA PERIOD"
cputune/global_quota     cpu.cfs_quota_us            (a negative quota: "max")
memtune/hard_limit       memory.limit_in_bytes       memory.max
memtune/soft_limit       memory.soft_limit_in_bytes  memory.high
memtune/swap_hard_limit  memory.memsw.limit_in_bytes memory.swap.max (minus hard_limit)
blkiotune/weight         blkio.bfq.weight or         io.bfq.weight or io.weight
                         blkio.weight                ("default N")
blkiotune/device/weight  blkio.weight_device         io.bfq.weight / io.weight
blkiotune/device/        blkio.throttle.{read,write} io.max "MAJ:MIN rbps= wbps=
  {read,write}_*_sec       _{bps,iops}_device          riops= wiops=" (0: max)
=======================  ==========================  =================================

A limit of 2**53 - 1 KiB or more is libvirt's "unlimited" (-1 on v1, "max" on v2).  A tunable
the daemon cannot apply (a session daemon, a controller not mounted or not writable, a value the
kernel refuses) stops the start with the element and the reason named: never silently dropped.
QEMU is moved into its cgroup right after it is spawned, before the monitor is served (it runs
no guest code before that unless started without -S, and then only for those milliseconds).
The cgroup is removed when the guest's runtime state is cleared, which every end goes through.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import stat
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError

log = logging.getLogger(__name__)

#: the controllers pyvirt places guests under (accounting and the tunables above), by their v1
#: names; cgroup v2 calls blkio "io"
CONTROLLERS = ("cpu", "memory", "blkio")
V2_NAMES = {"blkio": "io"}
PARTITION = "pyvirt"
#: libvirt's VIR_DOMAIN_MEMORY_PARAM_UNLIMITED, in KiB
UNLIMITED_KIB = 9007199254740991
MOUNTS = "/proc/self/mounts"


def _unsupported(msg: str) -> PyvirtError:
    return PyvirtError(f"unsupported configuration: {msg}", ErrorCode.CONFIG_UNSUPPORTED, ErrorDomain.QEMU)


#: the partition libvirt places guests in unless ``<resource><partition>`` names another (its
#: live XML shows it): pyvirt's own PARTITION stands for it
LIBVIRT_DEFAULT_PARTITION = "/machine"


def check_partition(dom: Any, cgroup: GuestCgroup | None) -> None:
    """``<resource><partition>`` at start.  A daemon that places guests in no cgroup (session,
    or no writable controller) has nothing to place, as libvirt's session daemon ignores the
    partition; one that does has its own partition, which libvirt's default ``/machine`` means.
    Any other partition is refused by name rather than silently replaced."""
    part = dom.resource.partition if dom.resource is not None else None
    if part is None or cgroup is None:
        return
    if not part.startswith("/"):
        raise _unsupported(f"Partition path '{part}' must start with '/'")
    if part.rstrip("/") != LIBVIRT_DEFAULT_PARTITION:
        raise _unsupported(f"<resource><partition>{part}</partition>: pyvirtd places every guest in its own "
                           f"cgroup partition '{PARTITION}' (libvirt's default '{LIBVIRT_DEFAULT_PARTITION}'); "
                           "other partitions are not supported")


@dataclass(frozen=True)
class Controller:
    name: str
    version: int   # 1 or 2
    mount: Path


def detect(mounts_file: str = MOUNTS) -> dict[str, Controller]:
    """The usable controllers of CONTROLLERS: v2 where the unified hierarchy offers them, else
    the v1 hierarchy that has them; only those whose mount this process may write."""
    found: dict[str, Controller] = {}
    try:
        lines = Path(mounts_file).read_text().splitlines()
    except OSError:
        return found
    for line in lines:
        fields = line.split()
        if len(fields) < 4:
            continue
        mount, kind, opts = Path(fields[1].replace("\\040", " ")), fields[2], fields[3].split(",")
        if kind == "cgroup2":
            try:
                offered = (mount / "cgroup.controllers").read_text().split()
            except OSError:
                continue
            for name in CONTROLLERS:
                if V2_NAMES.get(name, name) in offered:
                    found[name] = Controller(name, 2, mount)
        elif kind == "cgroup":
            for name in CONTROLLERS:
                if name in opts and name not in found:
                    found[name] = Controller(name, 1, mount)
    return {n: c for n, c in found.items() if os.access(c.mount, os.W_OK)}


def guest_key(runtime_dir: str | os.PathLike[str], name: str) -> str:
    """The guest's cgroup directory name: readable, and unique to this daemon and this name."""
    digest = hashlib.sha256(f"{os.fspath(runtime_dir)}\0{name}".encode()).hexdigest()[:12]
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:40].lstrip(".")
    return f"{safe}-{digest}.scope"


def _bytes(kib: int, unlimited: str) -> str:
    return unlimited if kib >= UNLIMITED_KIB else str(kib * 1024)


def plan(dom: Any, controllers: dict[str, Controller]) -> list[tuple[str, str, str, str]]:
    """(controller, file, value, element) to write for `dom`'s tunables, in a working order;
    refuses a tunable no usable controller can carry, or contradictory limits."""
    out: list[tuple[str, str, str, str]] = []
    cputune, memtune = getattr(dom, "cputune", None), getattr(dom, "memtune", None)

    def need(name: str, element: str) -> Controller:
        ctl = controllers.get(name)
        if ctl is None:
            raise _unsupported(f"{element} needs the cgroup '{name}' controller, which this daemon "
                               "cannot use (only a system daemon run by root places guests in "
                               "cgroups, and the host must mount the controller writable)")
        return ctl

    if cputune is not None:
        if cputune.shares is not None:
            ctl = need("cpu", "<cputune><shares>")
            out.append(("cpu", "cpu.weight" if ctl.version == 2 else "cpu.shares", str(cputune.shares),
                        "<cputune><shares>"))
        if cputune.global_period is not None or cputune.global_quota is not None:
            ctl = need("cpu", "<cputune><global_quota>")
            out += [("cpu", name, value, "<cputune><global_period>/<global_quota>")
                    for name, value in bandwidth_settings(ctl.version, cputune.global_period, cputune.global_quota)]
    out += blkio_plan(getattr(dom, "blkiotune", None), controllers)
    if memtune is not None:
        hard, soft, swap = memtune.hard_limit, memtune.soft_limit, memtune.swap_hard_limit
        if hard is not None and swap is not None and hard > swap:
            raise _unsupported("memory hard_limit tunable value must be lower than or equal to swap_hard_limit")
        for value, v1, v2, element in ((hard, "memory.limit_in_bytes", "memory.max", "<memtune><hard_limit>"),
                                       (soft, "memory.soft_limit_in_bytes", "memory.high", "<memtune><soft_limit>")):
            if value is not None:
                ctl = need("memory", element)
                out.append(("memory", v2 if ctl.version == 2 else v1,
                            _bytes(value, "max" if ctl.version == 2 else "-1"), element))
        if swap is not None:
            ctl = need("memory", "<memtune><swap_hard_limit>")
            if ctl.version == 2:
                rest = swap - hard if hard is not None and swap < UNLIMITED_KIB else swap
                out.append(("memory", "memory.swap.max", _bytes(rest, "max"), "<memtune><swap_hard_limit>"))
            else:
                out.append(("memory", "memory.memsw.limit_in_bytes", _bytes(swap, "-1"),
                            "<memtune><swap_hard_limit>"))
    return out


def block_device_number(path: str) -> str:
    """"MAJOR:MINOR" of a host block device (virCgroupGetBlockDevString), or libvirt's error."""
    try:
        st = os.stat(path)
    except OSError as exc:
        raise PyvirtError(f"Path '{path}' is not accessible: {exc.strerror}", ErrorCode.SYSTEM_ERROR,
                          ErrorDomain.QEMU) from None
    if not stat.S_ISBLK(st.st_mode):
        raise PyvirtError(f"Path '{path}' must be a block device: Invalid argument", ErrorCode.SYSTEM_ERROR,
                          ErrorDomain.QEMU)
    return f"{os.major(st.st_rdev)}:{os.minor(st.st_rdev)}"


#: <blkiotune><device> throttles -> (cgroup v1 file, cgroup v2 io.max key)
_THROTTLES = (("read_bytes_sec", "blkio.throttle.read_bps_device", "rbps"),
              ("write_bytes_sec", "blkio.throttle.write_bps_device", "wbps"),
              ("read_iops_sec", "blkio.throttle.read_iops_device", "riops"),
              ("write_iops_sec", "blkio.throttle.write_iops_device", "wiops"))


def blkio_plan(tune: Any, controllers: dict[str, Controller]) -> list[tuple[str, str, str, str]]:
    """<blkiotune> as libvirt's vircgroupv1/v2 write it.  Where the kernel offers two files for
    one value (BFQ's and CFQ's weight) the setting names both, "a|b", with a value for each:
    GuestCgroup.write uses the first that exists in the guest's cgroup."""
    if tune is None or (not tune.weight and not tune.devices):
        return []
    ctl = controllers.get("blkio")
    if ctl is None:  # qemuSetupBlkioCgroup's words
        raise PyvirtError("Requested operation is not valid: Block I/O tuning is not available on this host",
                          ErrorCode.OPERATION_INVALID, ErrorDomain.QEMU)
    out: list[tuple[str, str, str, str]] = []
    if tune.weight:
        w = str(tune.weight)
        out.append(("blkio", "blkio.bfq.weight|blkio.weight", f"{w}|{w}", "<blkiotune><weight>") if ctl.version == 1
                   else ("blkio", "io.bfq.weight|io.weight", f"{w}|default {w}", "<blkiotune><weight>"))
    for dev in tune.devices:
        number = block_device_number(dev.path or "")
        if dev.weight is not None:
            out.append(("blkio", "blkio.weight_device" if ctl.version == 1 else "io.bfq.weight|io.weight",
                        f"{number} {dev.weight}" if ctl.version == 1 else f"{number} {dev.weight}|{number} {dev.weight}",
                        "<blkiotune><device><weight>"))
        for field, v1, key in _THROTTLES:
            value = getattr(dev, field)
            if value is None:
                continue
            element = f"<blkiotune><device><{field}>"
            out.append(("blkio", v1, f"{number} {value}", element) if ctl.version == 1
                       else ("blkio", "io.max", f"{number} {key}={value or 'max'}", element))
    return out


@dataclass(frozen=True)
class ThreadGroup:
    """A child cgroup of the guest's ``cpu`` cgroup holding some of QEMU's threads with their own
    CPU bandwidth (libvirt's ``vcpuN``, ``emulator`` and ``iothreadN`` cgroups)."""

    name: str
    tids: tuple[int, ...]
    period: int | None
    quota: int | None
    element: str


def thread_groups(dom: Any, vcpu_threads: dict[int, int], iothread_threads: dict[int, int],
                  emulator_tids: list[int]) -> list[ThreadGroup]:
    """The per-thread cgroups ``<cputune>``'s ``period``/``quota`` (every vCPU),
    ``emulator_period``/``emulator_quota`` (QEMU's other threads) and
    ``iothread_period``/``iothread_quota`` (every I/O thread) ask for (qemuSetupCgroupVcpuBW's
    callers): one per vCPU and I/O thread, one for the emulator."""
    tune = getattr(dom, "cputune", None)
    if tune is None:
        return []
    out: list[ThreadGroup] = []
    if tune.period is not None or tune.quota is not None:
        out += [ThreadGroup(f"vcpu{n}", (tid,), tune.period, tune.quota, "<cputune><period>/<quota>")
                for n, tid in sorted(vcpu_threads.items())]
    if tune.emulator_period is not None or tune.emulator_quota is not None:
        out.append(ThreadGroup("emulator", tuple(emulator_tids), tune.emulator_period, tune.emulator_quota,
                               "<cputune><emulator_period>/<emulator_quota>"))
    if tune.iothread_period is not None or tune.iothread_quota is not None:
        out += [ThreadGroup(f"iothread{n}", (tid,), tune.iothread_period, tune.iothread_quota,
                            "<cputune><iothread_period>/<iothread_quota>") for n, tid in sorted(iothread_threads.items())]
    return out


def bandwidth_settings(version: int, period: int | None, quota: int | None) -> list[tuple[str, str]]:
    """(file, value) of a CPU bandwidth (libvirt's virCgroupSetupCpuPeriodQuota): v1's period then
    quota (a negative quota: none), v2's ``cpu.max`` "QUOTA PERIOD" ("max": none)."""
    if version == 2:
        value = "max" if quota is None or quota < 0 else str(quota)
        return [("cpu.max", f"{value} {period or 100000}")]
    out = [("cpu.cfs_period_us", str(period))] if period is not None else []
    if quota is not None:
        out.append(("cpu.cfs_quota_us", str(-1 if quota < 0 else quota)))
    return out


class GuestCgroup:
    """One guest's cgroup directories (one per controller hierarchy)."""

    def __init__(self, controllers: dict[str, Controller], key: str) -> None:
        self.controllers = controllers
        self.key = key

    def dirs(self) -> list[Path]:
        """One directory per distinct hierarchy (v2 holds every controller in one)."""
        return sorted({c.mount / PARTITION / self.key for c in self.controllers.values()})

    def dir_of(self, controller: str) -> Path:
        return self.controllers[controller].mount / PARTITION / self.key

    def create(self, settings: list[tuple[str, str, str, str]]) -> bool:
        """Make the directories and write the tunables; on failure nothing is left behind.
        A host that will not let the cgroup be made (a container's busy root, a read-only
        mount) costs a guest without tunables only its own cgroup (logged, False); one with
        tunables is refused, naming them."""
        try:
            for ctl in self.controllers.values():
                part = ctl.mount / PARTITION
                part.mkdir(mode=0o755, exist_ok=True)
                if ctl.version == 2:  # the controller must be handed down to the guest's cgroup
                    for parent in (ctl.mount, part):
                        _write(parent / "cgroup.subtree_control", f"+{V2_NAMES.get(ctl.name, ctl.name)}")
                (part / self.key).mkdir(mode=0o755, exist_ok=True)
        except OSError as exc:
            self.remove()
            if settings:
                raise _unsupported(f"{settings[0][3]} needs the guest's own cgroup, which the host refused: "
                                   f"{exc.filename}: {exc.strerror}") from None
            log.warning("guest %s runs without its own cgroup: %s: %s", self.key, exc.filename, exc.strerror)
            return False
        try:
            self.write(settings)
        except BaseException:
            self.remove()
            raise
        return True

    def write(self, settings: list[tuple[str, str, str, str]]) -> None:
        """Write tunables (plan's tuples) into the existing directories: at start, and when a
        running guest's <memtune>/<cputune> changes (virsh memtune/schedinfo --live)."""
        for controller, names, values, element in settings:
            choices = list(zip(names.split("|"), values.split("|"), strict=True))
            name, value = next(((n, v) for n, v in choices if (self.dir_of(controller) / n).exists()), choices[-1])
            if name == "blkio.weight_device" and not (self.dir_of(controller) / name).exists():
                raise PyvirtError("Requested operation is not valid: blkio device weight is valid only for cfq "
                                  "scheduler", ErrorCode.OPERATION_INVALID, ErrorDomain.QEMU)
            try:
                _write(self.dir_of(controller) / name, value)
            except OSError as exc:
                raise _unsupported(f"{element}: the kernel refused {value!r} for {name}: "
                                   f"{exc.strerror}") from None

    def read(self, controller: str, names: str) -> str | None:
        """The first of `names` ("a|b") that exists in the guest's cgroup, its content stripped."""
        for name in names.split("|"):
            with contextlib.suppress(OSError):
                return (self.dir_of(controller) / name).read_text().strip()
        return None

    def place_threads(self, groups: list[ThreadGroup]) -> None:
        """Make each group's child cgroup under the guest's ``cpu`` one (a threaded cgroup on
        v2), write its bandwidth and move its threads into it, as libvirt does while QEMU is
        still stopped; a value the kernel refuses stops the start, naming the element."""
        ctl = self.controllers.get("cpu")
        if ctl is None:
            raise _unsupported(f"{groups[0].element} needs the cgroup 'cpu' controller, which this daemon cannot use")
        base = self.dir_of("cpu")
        for n, group in enumerate(groups):
            child = base / group.name
            child.mkdir(mode=0o755, exist_ok=True)
            try:
                if ctl.version == 2:
                    _write(child / "cgroup.type", "threaded")  # threads, not processes, go there
                    if n == 0:  # the guest's cgroup is now a threaded domain: hand cpu down
                        _write(base / "cgroup.subtree_control", "+cpu")
                for name, value in bandwidth_settings(ctl.version, group.period, group.quota):
                    _write(child / name, value)
                for tid in group.tids:
                    with contextlib.suppress(ProcessLookupError):  # a thread that ended meanwhile
                        _write(child / ("cgroup.threads" if ctl.version == 2 else "tasks"), str(tid))
            except OSError as exc:
                raise _unsupported(f"{group.element}: the kernel refused the {group.name} cgroup's "
                                   f"bandwidth or threads: {exc.strerror}") from None

    def attach(self, pid: int) -> None:
        """Move QEMU (every thread of it) into the guest's cgroup."""
        for d in self.dirs():
            try:
                _write(d / "cgroup.procs", str(pid))
            except OSError as exc:
                raise PyvirtError(f"operation failed: cannot move QEMU into its cgroup {d}: {exc.strerror}",
                                  ErrorCode.OPERATION_FAILED, ErrorDomain.QEMU) from None

    def remove(self) -> None:
        """rmdir each directory once its processes are gone (an exiting QEMU may linger an
        instant); a cgroup still busy after that is left, and logged by the caller's caller."""
        for d in self.dirs():
            with contextlib.suppress(OSError):  # per-thread cgroups first (place_threads)
                for child in [c for c in d.iterdir() if c.is_dir()]:
                    _rmdir(child)
            _rmdir(d)


def _rmdir(d: Path) -> None:
    for _ in range(50):
        try:
            d.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.02)


def _write(path: Path, value: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.write(fd, value.encode())
    finally:
        os.close(fd)


def for_guest(runtime_dir: str | os.PathLike[str], name: str, privileged: bool,
              mounts_file: str = MOUNTS) -> GuestCgroup | None:
    """The guest's cgroup when this daemon places guests in cgroups (`privileged`: a system
    daemon run by root; the host has a writable controller), else None."""
    if not privileged:
        return None
    controllers = detect(mounts_file)
    if not controllers:
        return None
    return GuestCgroup(controllers, guest_key(runtime_dir, name))


def remove_for_guest(runtime_dir: str | os.PathLike[str], name: str, privileged: bool) -> None:
    """Every end of a guest: its cgroup goes (nothing to do when there is none)."""
    with contextlib.suppress(OSError):
        cg = for_guest(runtime_dir, name, privileged)
        if cg is not None:
            cg.remove()
