"""The QEMU driver: owns every domain, runs each as a detached QEMU, and keeps state true.

Operations on one domain are serialised by that domain's lock; different domains proceed in
parallel.  Each running guest has one supervisor task (its QMP event reader and its process
waiter run under it), so a guest's end is handled in exactly one place, whatever caused it.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import os
import signal
import socket
import time
import uuid as uuidlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from qemu.qmp import EventListener, QMPClient

from pyvirt.api import (
    DomainInfo,
    DomainState,
    ErrorCode,
    ErrorDomain,
    EventType,
    ListFilter,
    PausedReason,
    PyvirtError,
    ResumedDetail,
    RunningReason,
    ShutdownDetail,
    ShutoffReason,
    StartedDetail,
    StoppedDetail,
    SuspendedDetail,
    UndefinedDetail,
    no_domain,
    operation_invalid,
)
from pyvirt.daemon import model
from pyvirt.daemon.console import ConsoleRelay
from pyvirt.daemon.events import EventBus
from pyvirt.daemon.ports import PortAllocator
from pyvirt.daemon.store import DomainStore
from pyvirt.paths import StatePaths
from pyvirt.qemu import process
from pyvirt.qemu.qmp import connect as qmp_connect
from pyvirt.xml import Domain

log = logging.getLogger(__name__)

CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass
class Running:
    """What exists only while QEMU runs."""

    ident: process.ProcessIdentity
    qmp: QMPClient | None = None
    listener: EventListener | None = None   # registered at connect: no event is missed before reading
    console: ConsoleRelay | None = None
    supervisor: asyncio.Task[None] | None = None
    stop_reason: int | None = None          # set by whoever decided the guest must stop
    stop_detail: int | None = None
    fake_reboot: bool = False               # reboot via ACPI: reset instead of quit on SHUTDOWN
    guest_shutdown: bool = False            # QEMU reported a guest-initiated poweroff
    exited: asyncio.Event = field(default_factory=asyncio.Event)
    start_time: float = 0.0
    ports: list[int] = field(default_factory=list)   # display ports this guest holds


@dataclass
class DomainRecord:
    name: str
    uuid: str
    config: Domain | None                   # persistent definition (None: transient)
    live: Domain | None = None
    id: int = -1
    state: int = DomainState.SHUTOFF
    reason: int = ShutoffReason.UNKNOWN
    autostart: bool = False
    run: Running | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    info_cache: DomainInfo | None = None

    @property
    def persistent(self) -> bool:
        return self.config is not None

    @property
    def active(self) -> bool:
        return self.id != -1

    def current(self) -> Domain:
        dom = self.live if self.live is not None else self.config
        assert dom is not None
        return dom


def _mem_kib(dom: Domain) -> tuple[int, int]:
    maximum = dom.memory or 0
    return maximum, dom.current_memory or maximum


class QemuDriver:
    """The daemon-side implementation of the Connection API (async twin of api.Connection)."""

    def __init__(self, paths: StatePaths, emulator_caps: Any = None) -> None:
        self.paths = paths
        self.store = DomainStore(paths)
        self.events = EventBus()
        self.reaper = process.Reaper()
        self._caps = emulator_caps
        self._kvm: Any = None
        self._by_name: dict[str, DomainRecord] = {}
        self._by_uuid: dict[str, DomainRecord] = {}
        self._registry_lock = asyncio.Lock()
        self.ports = PortAllocator()
        self._next_id = 1
        # set by pyvirtd: (pool, volume) -> (path, 'file'|'block', format), for <source pool volume>
        self.volume_resolver: Any = None

    # ------------------------------------------------------------------ capabilities
    async def caps(self) -> Any:
        if self._caps is None:
            from pyvirt.qemu.caps import probe_emulator

            self._caps = await asyncio.to_thread(probe_emulator)
        return self._caps

    async def kvm(self) -> Any:
        """The KVM verdict (probed once per daemon; the probe itself caches per boot)."""
        if self._kvm is None:
            from pyvirt.qemu.kvmprobe import kvm_usable

            self._kvm = await asyncio.to_thread(kvm_usable)
        return self._kvm

    # ------------------------------------------------------------------ startup
    async def load(self) -> None:
        """Read every definition, re-attach to every guest still running, then autostart."""
        self.paths.ensure()
        self.reaper.install(asyncio.get_running_loop())
        self._load_next_id()
        for path, xml in self.store.iter_configs():
            try:
                dom = model.parse_stored(xml)
            except PyvirtError as exc:
                log.error("skipping domain config %s: %s", path, exc)
                continue
            if dom.name != path.stem:
                log.error("skipping domain config %s: it defines domain %r", path, dom.name)
                continue
            rec = DomainRecord(name=dom.name, uuid=dom.uuid or "", config=dom,
                               autostart=self.store.is_autostart(dom.name))
            self._index(rec)
        for name, record, live_xml in self.store.iter_runtime():
            await self._reattach(name, record, live_xml)
        for rec in list(self._by_name.values()):
            if rec.autostart and not rec.active:
                try:
                    async with rec.lock:
                        await self._start_locked(rec, paused=False)
                except PyvirtError as exc:
                    log.error("autostart of %s failed: %s", rec.name, exc)

    def _load_next_id(self) -> None:
        try:
            self._next_id = max(1, int(self.store.next_id_path().read_text()))
        except (OSError, ValueError):
            self._next_id = 1

    def _allocate_id(self) -> int:
        used = {rec.id for rec in self._by_name.values()}
        while self._next_id in used:
            self._next_id += 1
        dom_id = self._next_id
        self._next_id += 1
        from pyvirt.atomicio import write_atomic

        write_atomic(self.store.next_id_path(), str(self._next_id))
        return dom_id

    async def _reattach(self, name: str, record: dict[str, Any], live_xml: str | None) -> None:
        files = self.store.runtime_files(name)
        ident = None
        if record.get("pid"):
            ident = process.ProcessIdentity(int(record["pid"]), int(record.get("start_ticks", -1)))
        else:  # the daemon died between spawning QEMU and recording it: QEMU's pidfile says
            with contextlib.suppress(OSError, ValueError):
                pid = int(files.pidfile.read_text().strip())
                ticks = process.start_ticks(pid)
                if ticks is not None:
                    ident = process.ProcessIdentity(pid, ticks)
        alive = (ident is not None and process.identity_alive(ident)
                 and str(files.pidfile) in process.cmdline(ident.pid))
        rec = self._by_name.get(name)
        live = None
        if live_xml:
            with contextlib.suppress(PyvirtError):
                live = model.parse_stored(live_xml)
        if rec is None:
            if live is None:
                log.error("runtime record for unknown domain %s without live XML: dropping", name)
                if alive and ident is not None:
                    process.kill(ident)
                self.store.clear_runtime(name)
                return
            rec = DomainRecord(name=name, uuid=live.uuid or "", config=None)
            self._index(rec)
        if not alive or ident is None:
            log.warning("domain %s: QEMU is gone; marking it shut off (crashed)", name)
            self.store.clear_runtime(name)
            rec.state, rec.reason = DomainState.SHUTOFF, ShutoffReason.CRASHED
            self.events.emit(rec.name, rec.uuid, EventType.STOPPED, StoppedDetail.FAILED)
            if not rec.persistent:
                self._unindex(rec)
            return
        rec.id = int(record.get("id", -1))
        if rec.id == -1:
            rec.id = self._allocate_id()
        rec.live = live or copy.deepcopy(rec.config)
        held = [g.port for g in rec.live.devices.graphics if g.port and g.port >= 5900] if rec.live else []
        self.ports.taken.update(held)
        rec.run = Running(ident=ident, start_time=float(record.get("start_time", time.time())), ports=held)
        try:
            await self._connect_monitor(rec, files.monitor)
            status = await rec.run.qmp.execute("query-status")  # type: ignore[union-attr]
        except Exception as exc:  # noqa: BLE001 - any monitor failure means we cannot control it
            log.error("domain %s: cannot re-attach to QEMU monitor (%s); killing it", name, exc)
            process.kill(ident)
            rec.run = None
            rec.id = -1
            self.store.clear_runtime(name)
            rec.state, rec.reason = DomainState.SHUTOFF, ShutoffReason.CRASHED
            return
        qstatus = status.get("status")
        if record.get("state") == "starting" and qstatus == "prelaunch":
            if record.get("intent") == "paused":
                rec.state, rec.reason = DomainState.PAUSED, PausedReason.USER
            else:  # finish the start the dead daemon had begun
                await rec.run.qmp.execute("cont")  # type: ignore[union-attr]
                rec.state, rec.reason = DomainState.RUNNING, RunningReason.BOOTED
        elif status.get("running"):
            rec.state = DomainState.RUNNING
            rec.reason = int(record.get("reason", RunningReason.BOOTED)) if record.get("state") == "running" \
                else RunningReason.UNPAUSED
        else:
            rec.state = DomainState.PAUSED
            rec.reason = int(record.get("reason", PausedReason.UNKNOWN)) if record.get("state") == "paused" \
                else PausedReason.UNKNOWN
        await self._open_console(rec)
        self._save_runtime(rec)
        rec.run.supervisor = asyncio.create_task(self._supervise(rec), name=f"supervise-{name}")
        log.info("re-attached to domain %s (pid %d)", name, ident.pid)

    # ------------------------------------------------------------------ registry
    def _index(self, rec: DomainRecord) -> None:
        self._by_name[rec.name] = rec
        self._by_uuid[rec.uuid] = rec

    def _unindex(self, rec: DomainRecord) -> None:
        if self._by_name.get(rec.name) is rec:
            del self._by_name[rec.name]
        if self._by_uuid.get(rec.uuid) is rec:
            del self._by_uuid[rec.uuid]

    def lookup(self, ref: str) -> DomainRecord:
        """By id, then UUID, then name (virsh's order)."""
        if ref.isdigit():
            for rec in self._by_name.values():
                if rec.id == int(ref):
                    return rec
        rec = self._by_uuid.get(ref.lower()) or self._by_name.get(ref)
        if rec is None:
            raise no_domain(ref)
        return rec

    def info(self, rec: DomainRecord) -> DomainInfo:
        dom = rec.current()
        max_kib, cur_kib = _mem_kib(dom)
        cpu_ns = 0
        if rec.run is not None:
            cpu_ns = self._cpu_time_ns(rec.run.ident.pid)
        vcpus = dom.vcpu or 1
        return DomainInfo(name=rec.name, uuid=rec.uuid, id=rec.id, state=int(rec.state), reason=int(rec.reason),
                          persistent=rec.persistent, autostart=rec.autostart, title=dom.title or "",
                          max_mem_kib=max_kib, mem_kib=cur_kib, vcpus=dom.vcpu_current or vcpus,
                          max_vcpus=vcpus, cpu_time_ns=cpu_ns)

    @staticmethod
    def _cpu_time_ns(pid: int) -> int:
        try:
            with open(f"/proc/{pid}/stat") as handle:
                raw = handle.read()
        except OSError:
            return 0
        fields = raw[raw.rfind(")") + 2:].split()
        return (int(fields[11]) + int(fields[12])) * 1_000_000_000 // CLK_TCK

    def list_domains(self, flt: ListFilter | None = None) -> list[DomainInfo]:
        flt = flt or ListFilter()
        infos = [self.info(rec) for rec in self._by_name.values()]
        infos = [i for i in infos if flt.matches(i)]
        infos.sort(key=lambda i: (0, i.id, "") if i.id != -1 else (1, 0, i.name))
        return infos

    # ------------------------------------------------------------------ definitions
    async def define(self, xml: str, validate: bool = False) -> DomainInfo:
        dom = model.parse_definition(xml, None, validate)
        async with self._registry_lock:
            existing = self._by_name.get(dom.name or "")
            if dom.uuid is None:
                dom.uuid = existing.uuid if existing else str(uuidlib.uuid4())
            same_uuid = self._by_uuid.get(dom.uuid)
            if existing is not None and existing.uuid != dom.uuid:
                raise PyvirtError(f"operation failed: domain '{dom.name}' already exists with uuid {existing.uuid}",
                                  ErrorCode.OPERATION_FAILED, ErrorDomain.QEMU)
            if same_uuid is not None and same_uuid.name != dom.name:
                raise PyvirtError(f"operation failed: domain '{same_uuid.name}' is already defined with uuid "
                                  f"{dom.uuid}", ErrorCode.OPERATION_FAILED, ErrorDomain.QEMU)
            rec = existing
            if rec is None:
                rec = DomainRecord(name=dom.name or "", uuid=dom.uuid, config=None)
            async with rec.lock:
                updated = rec.persistent
                self.store.save_config(rec.name, dom.to_xml(inactive=True, security_info=True))
                rec.config = dom
                self._index(rec)
                if rec.active:
                    self._save_runtime(rec)
        self.events.emit(rec.name, rec.uuid, EventType.DEFINED, 1 if updated else 0, rec.id)
        return self.info(rec)

    async def undefine(self, ref: str) -> None:
        rec = self.lookup(ref)
        async with rec.lock:
            if not rec.persistent:
                raise operation_invalid("cannot undefine transient domain")
            self.store.delete_config(rec.name)
            rec.config = None
            rec.autostart = False
            if not rec.active:
                self._unindex(rec)
            else:
                self._save_runtime(rec)
        self.events.emit(rec.name, rec.uuid, EventType.UNDEFINED, UndefinedDetail.REMOVED, rec.id)

    async def xml_to_native(self, native_format: str, xml: str) -> str:
        if native_format != "qemu-argv":
            raise PyvirtError(f"unsupported configuration: unsupported config type {native_format}",
                              ErrorCode.CONFIG_UNSUPPORTED, ErrorDomain.QEMU)
        dom = model.parse_definition(xml, None)
        model.assign_aliases(dom)
        files = self.store.runtime_files(dom.name or "")
        return model.native_command_line(dom, await self.caps(), str(files.pidfile), str(files.private_dir))

    def get_xml(self, ref: str, inactive: bool = False, security_info: bool = False) -> str:
        rec = self.lookup(ref)
        if inactive and rec.config is not None:
            return rec.config.to_xml(inactive=True, security_info=security_info)
        if rec.active and rec.live is not None and not inactive:
            dom = rec.live
            dom.id = rec.id
            return dom.to_xml(security_info=security_info)
        return rec.current().to_xml(inactive=True, security_info=security_info)

    async def set_autostart(self, ref: str, on: bool) -> None:
        rec = self.lookup(ref)
        async with rec.lock:
            if not rec.persistent:
                raise operation_invalid("cannot set autostart for transient domain")
            self.store.set_autostart(rec.name, on)
            rec.autostart = on

    async def set_metadata(self, ref: str, kind: str, value: str | None, live: bool, config: bool) -> None:
        rec = self.lookup(ref)
        if kind not in ("title", "description"):
            raise PyvirtError(f"invalid argument: unknown metadata type '{kind}'", ErrorCode.INVALID_ARG)
        async with rec.lock:
            targets = self._targets(rec, live, config)
            for dom in targets:
                setattr(dom, kind, value or None)
            self._persist(rec, targets)

    def _targets(self, rec: DomainRecord, live: bool, config: bool) -> list[Domain]:
        """libvirt's --live/--config/--current rule."""
        if not live and not config:  # current
            live, config = rec.active, not rec.active
        targets: list[Domain] = []
        if live:
            if not rec.active or rec.live is None:
                raise operation_invalid("domain is not running")
            targets.append(rec.live)
        if config:
            if rec.config is None:
                raise operation_invalid("cannot change persistent config of a transient domain")
            targets.append(rec.config)
        return targets

    def _persist(self, rec: DomainRecord, touched: list[Domain]) -> None:
        if rec.config is not None and any(t is rec.config for t in touched):
            self.store.save_config(rec.name, rec.config.to_xml(inactive=True, security_info=True))
        if rec.active and any(t is rec.live for t in touched):
            self._save_runtime(rec)

    async def set_memory(self, ref: str, kib: int, live: bool, config: bool, maximum: bool) -> None:
        rec = self.lookup(ref)
        if kib <= 0:
            raise PyvirtError("invalid argument: memory size must be positive", ErrorCode.INVALID_ARG)
        async with rec.lock:
            if maximum:
                if live or (not config and rec.active):
                    raise operation_invalid("cannot resize the maximum memory on an active domain")
                targets = self._targets(rec, False, True)
                for dom in targets:
                    dom.memory = kib
                    if (dom.current_memory or 0) > kib:
                        dom.current_memory = kib
                self._persist(rec, targets)
                return
            targets = self._targets(rec, live, config)
            for dom in targets:
                if kib > (dom.memory or 0):
                    raise PyvirtError("invalid argument: cannot set memory higher than max memory",
                                      ErrorCode.INVALID_ARG)
            for dom in targets:
                if dom is rec.live and rec.run is not None and rec.run.qmp is not None:
                    await rec.run.qmp.execute("balloon", {"value": kib * 1024})
                dom.current_memory = kib
            self._persist(rec, targets)

    async def set_vcpus(self, ref: str, count: int, live: bool, config: bool, maximum: bool) -> None:
        rec = self.lookup(ref)
        if count <= 0:
            raise PyvirtError("invalid argument: vcpu count must be positive", ErrorCode.INVALID_ARG)
        async with rec.lock:
            if live or (not config and rec.active):
                raise PyvirtError("Operation not supported: live vcpu changes are not supported by pyvirt yet; "
                                  "use --config", ErrorCode.OPERATION_UNSUPPORTED, ErrorDomain.QEMU)
            targets = self._targets(rec, False, True)
            for dom in targets:
                if maximum:
                    dom.vcpu = count
                    if dom.vcpu_current and dom.vcpu_current > count:
                        dom.vcpu_current = None
                else:
                    if count > (dom.vcpu or 1):
                        raise PyvirtError(f"invalid argument: requested vcpus is greater than max allowable "
                                          f"vcpus for the persistent domain: {count} > {dom.vcpu}",
                                          ErrorCode.INVALID_ARG)
                    dom.vcpu_current = None if count == dom.vcpu else count
            self._persist(rec, targets)

    async def rename(self, ref: str, new_name: str) -> None:
        rec = self.lookup(ref)
        async with self._registry_lock, rec.lock:
            if rec.active:
                raise operation_invalid("domain has to be inactive")
            if not rec.persistent:
                raise operation_invalid("cannot rename a transient domain")
            if new_name in self._by_name:
                raise PyvirtError(f"operation failed: domain with name '{new_name}' already exists",
                                  ErrorCode.OPERATION_FAILED, ErrorDomain.QEMU)
            assert rec.config is not None
            candidate = copy.deepcopy(rec.config)
            candidate.name = new_name
            checked = model.parse_definition(candidate.to_xml(inactive=True, security_info=True))
            old = rec.name
            self.store.save_config(new_name, checked.to_xml(inactive=True, security_info=True))
            if rec.autostart:
                self.store.set_autostart(new_name, True)
            self.store.delete_config(old)
            self._unindex(rec)
            rec.name, rec.config = new_name, checked
            self._index(rec)
        self.events.emit(old, rec.uuid, EventType.UNDEFINED, UndefinedDetail.RENAMED)
        self.events.emit(new_name, rec.uuid, EventType.DEFINED, 2)

    # ------------------------------------------------------------------ lifecycle
    async def create(self, xml: str, paused: bool = False, validate: bool = False) -> DomainInfo:
        """Start a transient domain (or run a persistent one from this XML, as libvirt does)."""
        dom = model.parse_definition(xml, None, validate)
        async with self._registry_lock:
            existing = self._by_name.get(dom.name or "")
            if existing is not None and (existing.active or (dom.uuid and existing.uuid != dom.uuid)):
                if existing.active:
                    raise operation_invalid(f"domain '{dom.name}' is already active")
                raise PyvirtError(f"operation failed: domain '{dom.name}' already exists with uuid "
                                  f"{existing.uuid}", ErrorCode.OPERATION_FAILED, ErrorDomain.QEMU)
            if dom.uuid is None:
                dom.uuid = existing.uuid if existing else str(uuidlib.uuid4())
            if existing is None and dom.uuid in self._by_uuid:
                raise PyvirtError(f"operation failed: domain '{self._by_uuid[dom.uuid].name}' is already "
                                  f"defined with uuid {dom.uuid}", ErrorCode.OPERATION_FAILED, ErrorDomain.QEMU)
            rec = existing or DomainRecord(name=dom.name or "", uuid=dom.uuid, config=None)
            self._index(rec)
        try:
            async with rec.lock:
                await self._start_locked(rec, paused=paused, definition=dom)
        except BaseException:
            if not rec.persistent and not rec.active:
                self._unindex(rec)
            raise
        return self.info(rec)

    async def start(self, ref: str, paused: bool = False) -> DomainInfo:
        rec = self.lookup(ref)
        async with rec.lock:
            if rec.active:
                raise operation_invalid("domain is already running")
            await self._start_locked(rec, paused=paused)
        return self.info(rec)

    def _resolve_volumes(self, dom: Domain) -> dict[int, tuple[str, str]]:
        """Resolve each ``<disk type='volume'>``: {disk index: (path, 'file'|'block')}.

        The live definition keeps naming pool and volume, as libvirt's live XML does (so
        ``dumpxml`` shows what the user wrote); only the source checks and QEMU's argv need
        the path, see :meth:`_volume_sources`.  A disk that names no format gets the volume's.
        """
        resolved: dict[int, tuple[str, str]] = {}
        for index, disk in enumerate(dom.devices.disks):
            if disk.type != "volume" and not disk.source_pool:
                continue
            target = disk.target_dev or "?"
            if self.volume_resolver is None or not disk.source_pool or not disk.source_volume:
                raise PyvirtError(f"unsupported configuration: disk '{target}' names no usable storage volume",
                                  ErrorCode.CONFIG_UNSUPPORTED, ErrorDomain.QEMU)
            try:
                path, kind, fmt = self.volume_resolver(disk.source_pool, disk.source_volume)
            except PyvirtError as exc:
                raise PyvirtError(f"Cannot access storage volume '{disk.source_volume}' (pool "
                                  f"'{disk.source_pool}') of disk '{target}': {exc.message}",
                                  ErrorCode.NO_SOURCE, ErrorDomain.QEMU) from None
            resolved[index] = (path, kind)
            disk.driver_type = disk.driver_type or fmt
        return resolved

    @staticmethod
    @contextlib.contextmanager
    def _volume_sources(dom: Domain, resolved: dict[int, tuple[str, str]]) -> Iterator[None]:
        """Within the block, `dom`'s volume disks are file/block disks on their paths.

        In place rather than on a copy, so that what argv building adds to the definition
        (aliases, USB ports) stays in the live XML; only the disk sources are put back.
        """
        saved = {}
        for index, (path, kind) in resolved.items():
            disk = dom.devices.disks[index]
            saved[index] = (disk.type, disk.source_pool, disk.source_volume, disk.source_mode,
                            disk.source_file, disk.source_dev)
            disk.type, disk.source_pool, disk.source_volume, disk.source_mode = kind, None, None, None
            disk.source_file, disk.source_dev = (path, None) if kind == "file" else (None, path)
        try:
            yield
        finally:
            for index, values in saved.items():
                disk = dom.devices.disks[index]
                (disk.type, disk.source_pool, disk.source_volume, disk.source_mode,
                 disk.source_file, disk.source_dev) = values

    def _disk_path(self, disk: Any) -> str | None:
        """A live disk's host path; a volume disk's is asked of the storage driver again."""
        if disk.source_pool and disk.source_volume and self.volume_resolver is not None:
            try:
                return str(self.volume_resolver(disk.source_pool, disk.source_volume)[0])
            except PyvirtError:
                return None
        return disk.source_file or disk.source_dev

    def domain_using_path(self, path: str) -> str | None:
        """The running domain whose live disks include `path` (the storage driver's in-use check).

        Called from the storage worker threads: it only reads, over a snapshot of the registry.
        """
        real = os.path.realpath(path)
        for rec in list(self._by_name.values()):
            live = rec.live
            if not rec.active or live is None:
                continue
            for disk in live.devices.disks:
                src = self._disk_path(disk)
                if src and os.path.realpath(src) == real:
                    return rec.name
        return None

    async def _check_accelerator(self, dom: Domain) -> None:
        """type='kvm' only where the probe saw KVM run a standard guest; never a silent TCG fallback."""
        if dom.type != "kvm":
            return
        verdict = await self.kvm()
        if not verdict.usable:
            raise PyvirtError(f"unsupported configuration: KVM is not usable on this host ({verdict.reason}); "
                              "use <domain type='qemu'> for TCG", ErrorCode.CONFIG_UNSUPPORTED, ErrorDomain.QEMU)

    def _check_sources(self, dom: Domain) -> None:
        """Fail early, naming the path, rather than leaving QEMU to fail with less to say."""
        os_ = dom.os
        for what, path in (("kernel", os_.kernel if os_ else None), ("initrd", os_.initrd if os_ else None)):
            if path and not os.path.exists(path):
                raise PyvirtError(f"Cannot access {what} '{path}': No such file or directory",
                                  ErrorCode.NO_KERNEL if what == "kernel" else ErrorCode.NO_SOURCE,
                                  ErrorDomain.QEMU)
        for disk in dom.devices.disks:
            path = getattr(disk, "source_file", None) or getattr(disk, "source_dev", None)
            if path and not os.path.exists(path):
                target = getattr(disk, "target_dev", "?")
                raise PyvirtError(f"Cannot access storage file '{path}' of disk '{target}': "
                                  "No such file or directory", ErrorCode.NO_SOURCE, ErrorDomain.QEMU)

    async def _start_locked(self, rec: DomainRecord, paused: bool, definition: Domain | None = None) -> None:
        caps = await self.caps()
        base = definition if definition is not None else rec.config
        assert base is not None
        dom = copy.deepcopy(base)
        await self._check_accelerator(dom)
        volumes = self._resolve_volumes(dom)
        with self._volume_sources(dom, volumes):
            self._check_sources(dom)
        model.assign_aliases(dom)
        files = self.store.runtime_files(rec.name)
        for stale in (files.monitor, files.pidfile):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(stale)
        files.private_dir.mkdir(mode=0o700, exist_ok=True)
        dom_id = self._allocate_id()
        ports = self.ports.assign(dom)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            listener.bind(str(files.monitor))
            listener.listen(1)
            with self._volume_sources(dom, volumes):
                argv = model.build_command_line(dom, caps, listener.fileno(), str(files.pidfile),
                                                str(files.private_dir))
            # intent first: a daemon that dies from here on finds the guest again and finishes the job
            intent = {"state": "starting", "intent": "paused" if paused else "running", "id": dom_id,
                      "start_time": time.time()}
            self.store.save_runtime(rec.name, intent, dom.to_xml(security_info=True))
            ident = process.spawn_detached(argv, files.log, pass_fds=(listener.fileno(),))
            self.reaper.track(ident.pid)
        except BaseException:
            listener.close()
            self.ports.release(ports)
            self.store.clear_runtime(rec.name)
            raise
        listener.close()
        rec.run = Running(ident=ident, start_time=time.time(), ports=ports)
        rec.id, rec.live = dom_id, dom
        rec.state, rec.reason = DomainState.PAUSED, PausedReason.STARTING_UP
        try:
            self._save_runtime(rec, phase="starting", intent="paused" if paused else "running")
            await self._connect_monitor(rec, files.monitor)
            await self._open_console(rec)
            if not paused:
                await rec.run.qmp.execute("cont")  # type: ignore[union-attr]
        except BaseException as exc:
            await self._abort_start(rec, files.log, exc)
            raise
        if paused:
            rec.state, rec.reason = DomainState.PAUSED, PausedReason.USER
        else:
            rec.state, rec.reason = DomainState.RUNNING, RunningReason.BOOTED
        self._save_runtime(rec)
        rec.run.supervisor = asyncio.create_task(self._supervise(rec), name=f"supervise-{rec.name}")
        self.events.emit(rec.name, rec.uuid, EventType.STARTED, StartedDetail.BOOTED, rec.id)
        if paused:
            self.events.emit(rec.name, rec.uuid, EventType.SUSPENDED, SuspendedDetail.PAUSED, rec.id)

    async def _abort_start(self, rec: DomainRecord, log_path: Any, exc: BaseException) -> None:
        run = rec.run
        if run is not None:
            process.kill(run.ident)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(process.wait_for_exit(run.ident), 5)
            await self._close_monitor(run)
            if run.console:
                run.console.close()
        code = self.reaper.exit_code(run.ident.pid) if run else None
        if run is not None:
            self.ports.release(run.ports)
        self.store.clear_runtime(rec.name)
        rec.run, rec.live, rec.id = None, None, -1
        rec.state, rec.reason = DomainState.SHUTOFF, ShutoffReason.FAILED
        if isinstance(exc, PyvirtError):
            return
        tail = process.log_tail(log_path)
        detail = f" (exit code {code})" if code is not None else ""
        raise PyvirtError(f"internal error: QEMU failed to start{detail}: {tail or exc}",
                          ErrorCode.INTERNAL_ERROR, ErrorDomain.QEMU) from exc

    async def _connect_monitor(self, rec: DomainRecord, monitor: Any) -> None:
        assert rec.run is not None
        client = await qmp_connect(monitor, timeout=10.0, name=rec.name)
        listener = EventListener()
        client.register_listener(listener)
        rec.run.qmp, rec.run.listener = client, listener
        dom = rec.current()
        if (dom.on_reboot or "restart") == "destroy":
            # a guest reboot then arrives as SHUTDOWN(reason guest-reset) instead of a silent reset
            await client.execute("set-action", {"reboot": "shutdown"})

    async def _close_monitor(self, run: Running) -> None:
        if run.qmp is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(run.qmp.disconnect(), 2)
            run.qmp = None

    async def _open_console(self, rec: DomainRecord) -> None:
        """Find the first serial's pty (QMP query-chardev) and keep it drained."""
        assert rec.run is not None and rec.run.qmp is not None
        try:
            chardevs = await rec.run.qmp.execute("query-chardev")
        except Exception as exc:  # noqa: BLE001
            log.warning("%s: query-chardev failed: %s", rec.name, exc)
            return
        ptys = {c["label"]: c["filename"][4:] for c in chardevs if c.get("filename", "").startswith("pty:")}
        dom = rec.live
        if dom is not None:
            for dev in [*dom.devices.serials, *dom.devices.consoles, *dom.devices.channels]:
                alias = getattr(dev, "alias", None)
                if dev.type == "pty" and alias and f"char{alias}" in ptys:
                    dev.source_path = dev.tty = ptys[f"char{alias}"]
        path = ptys.get("charserial0") or next(iter(ptys.values()), None)
        if path:
            relay = ConsoleRelay(path)
            try:
                relay.open()
            except OSError as exc:
                log.warning("%s: cannot open console pty %s: %s", rec.name, path, exc)
                return
            rec.run.console = relay

    def _save_runtime(self, rec: DomainRecord, phase: str | None = None, intent: str | None = None) -> None:
        if rec.run is None:
            return
        state = phase or {DomainState.RUNNING: "running", DomainState.PAUSED: "paused"}.get(
            DomainState(rec.state), "running")
        record = {"id": rec.id, "state": state, "reason": int(rec.reason), "start_time": rec.run.start_time,
                  "persistent": rec.persistent, **rec.run.ident.to_dict()}
        if intent:
            record["intent"] = intent
        live_xml = rec.live.to_xml(security_info=True) if rec.live is not None else None
        self.store.save_runtime(rec.name, record, live_xml)

    # ------------------------------------------------------------------ supervision
    async def _supervise(self, rec: DomainRecord) -> None:
        run = rec.run
        assert run is not None
        waiter = asyncio.create_task(process.wait_for_exit(run.ident))
        reader = asyncio.create_task(self._read_events(rec, run))
        try:
            await waiter
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader
        await self._on_exit(rec, run)

    async def _read_events(self, rec: DomainRecord, run: Running) -> None:
        if run.listener is None:
            return
        async for event in run.listener:
            try:
                await self._on_qmp_event(rec, run, event["event"], event.get("data", {}))
            except Exception:  # noqa: BLE001 - one bad event must not stop supervision
                log.exception("%s: handling QMP event %s failed", rec.name, event.get("event"))

    async def _on_qmp_event(self, rec: DomainRecord, run: Running, name: str, data: dict[str, Any]) -> None:
        if name == "SHUTDOWN":
            guest = bool(data.get("guest"))
            if run.stop_reason is not None:
                return
            if run.fake_reboot:
                run.fake_reboot = False
                await run.qmp.execute("system_reset")  # type: ignore[union-attr]
                await run.qmp.execute("cont")  # type: ignore[union-attr]
                return
            run.guest_shutdown = True
            dom = rec.current()
            reset = data.get("reason") == "guest-reset"
            action = (dom.on_reboot if reset else dom.on_poweroff) or "destroy"
            self.events.emit(rec.name, rec.uuid, EventType.SHUTDOWN,
                             ShutdownDetail.GUEST if guest else ShutdownDetail.HOST, rec.id)
            if action in ("restart", "rename-restart") and not reset:
                await run.qmp.execute("system_reset")  # type: ignore[union-attr]
                await run.qmp.execute("cont")  # type: ignore[union-attr]
                return
            rec.state, rec.reason = DomainState.SHUTDOWN, 1
            run.stop_reason, run.stop_detail = ShutoffReason.SHUTDOWN, StoppedDetail.SHUTDOWN
            with contextlib.suppress(Exception):
                await run.qmp.execute("quit")  # type: ignore[union-attr]
        elif name == "GUEST_PANICKED":
            action = rec.current().on_crash or "destroy"
            self.events.emit(rec.name, rec.uuid, EventType.CRASHED, 0, rec.id)
            if action == "restart":
                await run.qmp.execute("system_reset")  # type: ignore[union-attr]
                await run.qmp.execute("cont")  # type: ignore[union-attr]
            elif action in ("destroy", "coredump-destroy"):
                run.stop_reason, run.stop_detail = ShutoffReason.CRASHED, StoppedDetail.CRASHED
                process.kill(run.ident, signal.SIGTERM)
            else:
                rec.state, rec.reason = DomainState.CRASHED, 1

    async def _on_exit(self, rec: DomainRecord, run: Running) -> None:
        """The one place a guest's end is handled, whatever ended it."""
        if run.stop_reason is None:
            run.stop_reason, run.stop_detail = ShutoffReason.CRASHED, StoppedDetail.FAILED
        await self._close_monitor(run)
        if run.console is not None:
            run.console.close()
        self.ports.release(run.ports)
        self.store.clear_runtime(rec.name)
        dom_id = rec.id
        rec.run, rec.live, rec.id = None, None, -1
        rec.state, rec.reason = DomainState.SHUTOFF, run.stop_reason
        run.exited.set()
        if not rec.persistent:
            self._unindex(rec)
        self.events.emit(rec.name, rec.uuid, EventType.STOPPED, run.stop_detail or 0, dom_id)

    # ------------------------------------------------------------------ operations on a running guest
    def _running(self, rec: DomainRecord) -> Running:
        if rec.run is None or not rec.active:
            raise operation_invalid("domain is not running")
        return rec.run

    async def _qmp(self, run: Running, command: str, args: dict[str, Any] | None = None) -> Any:
        if run.qmp is None:
            raise PyvirtError("internal error: monitor not available", ErrorCode.INTERNAL_ERROR, ErrorDomain.QEMU)
        try:
            return await asyncio.wait_for(run.qmp.execute(command, args), 30)
        except PyvirtError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise PyvirtError(f"internal error: QMP {command} failed: {exc}", ErrorCode.INTERNAL_ERROR,
                              ErrorDomain.QEMU) from exc

    async def destroy(self, ref: str, graceful: bool = False) -> None:
        rec = self.lookup(ref)
        async with rec.lock:
            run = self._running(rec)
            run.stop_reason, run.stop_detail = ShutoffReason.DESTROYED, StoppedDetail.DESTROYED
            process.kill(run.ident, signal.SIGTERM)
            try:
                await asyncio.wait_for(run.exited.wait(), 10 if not graceful else 30)
            except TimeoutError:
                if graceful:
                    raise PyvirtError("operation failed: failed to terminate process gracefully",
                                      ErrorCode.OPERATION_FAILED, ErrorDomain.QEMU) from None
                process.kill(run.ident, signal.SIGKILL)
                await run.exited.wait()

    async def shutdown(self, ref: str, mode: str | None = None) -> None:
        rec = self.lookup(ref)
        if mode not in (None, "", "acpi"):
            raise PyvirtError(f"Operation not supported: shutdown mode '{mode}' is not supported",
                              ErrorCode.OPERATION_UNSUPPORTED, ErrorDomain.QEMU)
        async with rec.lock:
            run = self._running(rec)
            run.fake_reboot = False
            await self._qmp(run, "system_powerdown")

    async def reboot(self, ref: str, mode: str | None = None) -> None:
        rec = self.lookup(ref)
        if mode not in (None, "", "acpi"):
            raise PyvirtError(f"Operation not supported: reboot mode '{mode}' is not supported",
                              ErrorCode.OPERATION_UNSUPPORTED, ErrorDomain.QEMU)
        async with rec.lock:
            run = self._running(rec)
            run.fake_reboot = True
            await self._qmp(run, "system_powerdown")

    async def reset(self, ref: str) -> None:
        rec = self.lookup(ref)
        async with rec.lock:
            await self._qmp(self._running(rec), "system_reset")

    async def suspend(self, ref: str) -> None:
        rec = self.lookup(ref)
        async with rec.lock:
            run = self._running(rec)
            if rec.state == DomainState.PAUSED:
                return  # libvirt: suspending a paused domain succeeds
            await self._qmp(run, "stop")
            rec.state, rec.reason = DomainState.PAUSED, PausedReason.USER
            self._save_runtime(rec)
        self.events.emit(rec.name, rec.uuid, EventType.SUSPENDED, SuspendedDetail.PAUSED, rec.id)

    async def resume(self, ref: str) -> None:
        rec = self.lookup(ref)
        async with rec.lock:
            run = self._running(rec)
            if rec.state != DomainState.PAUSED:
                raise operation_invalid("domain is not paused")
            await self._qmp(run, "cont")
            rec.state, rec.reason = DomainState.RUNNING, RunningReason.UNPAUSED
            self._save_runtime(rec)
        self.events.emit(rec.name, rec.uuid, EventType.RESUMED, ResumedDetail.UNPAUSED, rec.id)

    async def memory_stats(self, ref: str) -> dict[str, int]:
        rec = self.lookup(ref)
        run = self._running(rec)
        stats: dict[str, int] = {}
        with contextlib.suppress(PyvirtError):
            balloon = await self._qmp(run, "query-balloon")
            stats["actual"] = int(balloon["actual"]) // 1024
        with contextlib.suppress(OSError), open(f"/proc/{run.ident.pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    stats["rss"] = int(line.split()[1])
        return stats

    def domain_stats(self, refs: list[str] | None, groups: list[str] | None) -> list[dict[str, Any]]:
        """virConnectGetAllDomainStats, libvirt's key names, for the groups pyvirt can answer."""
        wanted = set(groups or ("state", "cpu-total", "balloon", "vcpu", "interface", "block"))
        recs = [self.lookup(r) for r in refs] if refs else sorted(self._by_name.values(), key=lambda r: r.name)
        out = []
        for rec in recs:
            info = self.info(rec)
            dom = rec.current()
            stats: dict[str, Any] = {}
            if "state" in wanted:
                stats.update({"state.state": info.state, "state.reason": info.reason})
            if "cpu-total" in wanted and rec.run is not None:
                stats["cpu.time"] = info.cpu_time_ns
            if "balloon" in wanted:
                stats.update({"balloon.current": info.mem_kib, "balloon.maximum": info.max_mem_kib})
            if "vcpu" in wanted:
                stats.update({"vcpu.current": info.vcpus, "vcpu.maximum": info.max_vcpus})
            if "interface" in wanted and rec.active:
                nics = dom.devices.interfaces
                stats["net.count"] = len(nics)
                for i, nic in enumerate(nics):
                    stats[f"net.{i}.name"] = nic.target_dev or nic.alias or f"net{i}"
            if "block" in wanted:
                disks = dom.devices.disks
                stats["block.count"] = len(disks)
                for i, disk in enumerate(disks):
                    stats[f"block.{i}.name"] = disk.target_dev
                    path = self._disk_path(disk)
                    if path:
                        stats[f"block.{i}.path"] = path
            out.append({"name": rec.name, "stats": stats})
        return out

    def display_uri(self, ref: str, kind: str | None) -> str:
        """`domdisplay`: the first (or the `kind`) VNC/SPICE display of a running guest."""
        rec = self.lookup(ref)
        if not rec.active or rec.live is None:
            raise operation_invalid("domain is not running")
        for g in rec.live.devices.graphics:
            if (kind and g.type != kind) or g.type not in ("vnc", "spice") or not g.port or g.port < 0:
                continue
            host = (g.listens[0].address if g.listens and g.listens[0].address else g.listen) or "localhost"
            if host in ("0.0.0.0", "::"):
                host = "localhost"
            if ":" in host:
                host = f"[{host}]"
            return f"vnc://{host}:{g.port - 5900}" if g.type == "vnc" else f"spice://{host}:{g.port}"
        raise PyvirtError("No graphical display found", ErrorCode.OPERATION_FAILED, ErrorDomain.QEMU)

    def interface_addresses(self, ref: str, source: str) -> list[dict[str, Any]]:
        """`domifaddr`: 'arp' reads the host's ARP table; 'lease' has no pyvirt network leases yet
        (user-mode NICs have none in libvirt either); 'agent' needs a guest agent pyvirt does not drive."""
        rec = self.lookup(ref)
        if not rec.active or rec.live is None:
            raise operation_invalid("domain is not running")
        if source == "agent":
            raise PyvirtError("Guest agent is not responding: QEMU guest agent is not connected",
                              ErrorCode.AGENT_UNRESPONSIVE, ErrorDomain.QEMU)
        if source != "arp":
            return []
        table: dict[str, list[str]] = {}
        with contextlib.suppress(OSError), open("/proc/net/arp") as handle:
            for line in list(handle)[1:]:
                fields = line.split()
                if len(fields) >= 4 and fields[2] != "0x0":
                    table.setdefault(fields[3].lower(), []).append(fields[0])
        out = []
        for i, nic in enumerate(rec.live.devices.interfaces):
            mac = (nic.mac_address or "").lower()
            addrs = [{"type": "ipv4", "addr": a, "prefix": 0} for a in table.get(mac, [])]
            if addrs:
                out.append({"name": nic.target_dev or nic.alias or f"net{i}", "hwaddr": mac, "addrs": addrs})
        return out

    async def send_key(self, ref: str, keycodes: list[dict[str, Any]], holdtime: int) -> None:
        rec = self.lookup(ref)
        args: dict[str, Any] = {"keys": keycodes}
        if holdtime:
            args["hold-time"] = holdtime
        await self._qmp(self._running(rec), "send-key", args)

    def console(self, ref: str) -> ConsoleRelay:
        rec = self.lookup(ref)
        run = self._running(rec)
        if run.console is None:
            raise PyvirtError("internal error: cannot find character device <null>", ErrorCode.INTERNAL_ERROR,
                              ErrorDomain.QEMU)
        return run.console

    # ------------------------------------------------------------------ shutdown of the daemon
    async def close(self) -> None:
        """Leave every guest running: only drop our monitor connections and relays."""
        for rec in list(self._by_name.values()):
            run = rec.run
            if run is None:
                continue
            if run.supervisor is not None:
                run.supervisor.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await run.supervisor
            await self._close_monitor(run)
            if run.console is not None:
                run.console.close()
        self.events.close()
