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
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pyvirt.api import (
    DomainInfo,
    DomainName,
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
    no_domain,
    operation_invalid,
)
from pyvirt.daemon import (
    cgroups,
    cputune,
    dbusdisplay,
    events,
    loadindex,
    model,
    nics,
    numad,
    prhelper,
    session,
    vhost_user_gpu,
    virtiofs,
    vsock,
)
from pyvirt.daemon.agent import agent_channel
from pyvirt.daemon.agent_ops import AgentMixin
from pyvirt.daemon.blkiotune import BlkioMixin
from pyvirt.daemon.blockjobs import BLOCK_JOB_EVENTS, BlockJobsMixin
from pyvirt.daemon.blockops import BlockOpsMixin
from pyvirt.daemon.console import ConsoleRelay
from pyvirt.daemon.definitions import DefinitionsMixin
from pyvirt.daemon.disksecrets import DiskSecretsMixin
from pyvirt.daemon.driver_names import NAMES as _DEFERRED_NAMES
from pyvirt.daemon.events import EventBus
from pyvirt.daemon.firmware import prepare_firmware, start_swtpms, stop_helpers
from pyvirt.daemon.graphics_fd import GraphicsFdMixin
from pyvirt.daemon.hotplug import HotplugMixin
from pyvirt.daemon.hotplug_nic import NicHotplugMixin
from pyvirt.daemon.introspect import IntrospectionMixin, proc_bytes
from pyvirt.daemon.ports import PortAllocator
from pyvirt.daemon.qemuconf import host_render_node
from pyvirt.daemon.records import DomainRecord, Running
from pyvirt.daemon.saves import SavesMixin
from pyvirt.daemon.session import Session
from pyvirt.daemon.store import DomainStore
from pyvirt.daemon.tuning import TuningMixin, check_perf
from pyvirt.daemon.vcpus import VcpuMixin
from pyvirt.daemon.volumes import VolumeDisksMixin
from pyvirt.deferred import BasesNotLoaded, attach
from pyvirt.paths import StatePaths
from pyvirt.qemu import process
from pyvirt.xml.errors import XMLError
from pyvirt.xml.nictypes import TAP_NIC_TYPES

if TYPE_CHECKING:
    from pyvirt.xml.domain import Domain

# The domain model and the command line's modules (pyvirt.xml.domain, .defaults, .validate,
# .vcpus, pyvirt.qemu.argv_*: ~3 MiB resident) and the QMP client (pyvirt.qemu.qmp, qemu.qmp) are
# imported by the methods that use them: a daemon holding idle definitions as text, or none, and
# no running guest, never loads them.

log = logging.getLogger(__name__)


def password_expiry(valid_to: str | None, now: float | None = None) -> str:
    """QMP expire_password's ``time`` for a ``passwdValidTo`` (UTC): ``never`` without one,
    ``now`` once it has passed, else the absolute time in seconds (qemuDomainChangeGraphicsPasswords)."""
    if valid_to is None:
        return "never"
    import calendar

    when = calendar.timegm(time.strptime(valid_to, "%Y-%m-%dT%H:%M:%S"))
    return "now" if when - (time.time() if now is None else now) <= 0 else str(when)


def _recorded_ptys(dom: Domain) -> dict[str, str] | None:
    """{chardev label: pty path} as query-chardev would answer, from a live XML that names every
    pty device's path (None when one lacks its alias or path: QEMU is asked then)."""
    ptys = {}
    for dev in (*dom.devices.serials, *dom.devices.consoles, *dom.devices.channels):
        if dev.type != "pty":
            continue
        alias = getattr(dev, "alias", None)
        if not alias or not dev.source_path:
            return None
        ptys[f"char{alias}"] = dev.source_path
    return ptys



def remove_domain_logs(log_dir: Path, name: str) -> None:
    """qemuDomainRemoveLogs: the domain's QEMU log NAME.log and its rotations NAME.log.N, not
    the logs of its helpers (NAME-swtpm.log...) nor another domain's (NAME.log-x, NAMEx.log)."""
    for log in log_dir.glob(f"{name}.log*"):
        if log.name == f"{name}.log" or (log.name.startswith(f"{name}.log.") and log.name[len(name) + 5:].isdigit()):
            log.unlink(missing_ok=True)


def _broken_uuid(name: str) -> str:
    """The UUID a stored definition that does not load is listed under when its own is unknown
    or another domain's: stable per name, so it is the same after every restart."""
    return str(uuidlib.uuid5(uuidlib.NAMESPACE_URL, f"pyvirt-broken-config:{name}"))

class MonitorGone(PyvirtError):
    """QEMU's monitor closed under a command: the guest is ending, which is no internal error."""

    def __init__(self, message: str) -> None:
        super().__init__(f"Requested operation is not valid: {message}", ErrorCode.OPERATION_INVALID,
                         ErrorDomain.QEMU)

CLK_TCK = os.sysconf("SC_CLK_TCK")

#: every monitor command has a deadline: a wedged QEMU must never wedge the daemon
MONITOR_TIMEOUT = 30.0
#: how long a starting QEMU may take to answer on its monitor: libvirt's 30 s (a loaded host can
#: take more than 10 s to bring TCG up); a QEMU that exits ends the wait at once, so it costs nothing
CONNECT_TIMEOUT = 30.0
#: the only QMP events pyvirtd acts on; everything else QEMU sends is dropped on arrival
HANDLED_EVENTS = ("SHUTDOWN", "GUEST_PANICKED", "DEVICE_DELETED", "BLOCK_WRITE_THRESHOLD", "VSERPORT_CHANGE",
                  "SUSPEND", "SUSPEND_DISK", "WAKEUP", *BLOCK_JOB_EVENTS, *events.PASSED_ON)


#: QEMU's run states (query-status) of a guest whose end QEMU held for the daemon (-no-shutdown, a
#: panic that pauses), and the event that would have told it: what a re-attach finishes
ENDED_MEANWHILE = {"shutdown": ("SHUTDOWN", {"guest": True, "reason": "guest-shutdown"}),
                   "guest-panicked": ("GUEST_PANICKED", {"action": "pause"})}


#: the mixins of what most daemons never run (migration, core dumps, backups, checkpoints,
#: snapshots, dirty-rate probes, memory peeks): ~3,500 lines in 9 modules and the 8 more only
#: they import, taken as QemuDriver's bases with the first of their names looked up
#: (pyvirt.deferred; names table: pyvirt.daemon.driver_names, `python -m pyvirt.deferred`).
#: No two of the driver's mixins define the same name, so where they stand among the bases
#: changes no lookup.
DEFERRED_BASES = (("pyvirt.daemon.migration", "MigrationMixin"), ("pyvirt.daemon.migration_p2p", "MigrationPeerMixin"),
                  ("pyvirt.daemon.coredump", "CoreDumpMixin"), ("pyvirt.daemon.backup", "BackupMixin"),
                  ("pyvirt.daemon.checkpoints", "CheckpointsMixin"), ("pyvirt.daemon.snapshots", "SnapshotsMixin"),
                  ("pyvirt.daemon.snapshots_external", "ExternalSnapshotsMixin"),
                  ("pyvirt.daemon.dirtyrate", "DirtyRateMixin"), ("pyvirt.daemon.peek", "PeekMixin"))


class QemuDriver(HotplugMixin, NicHotplugMixin, BlockOpsMixin, BlockJobsMixin, VcpuMixin, SavesMixin, DefinitionsMixin,
                 VolumeDisksMixin, IntrospectionMixin, BlkioMixin, DiskSecretsMixin, TuningMixin, AgentMixin,
                 GraphicsFdMixin, BasesNotLoaded):
    """The daemon-side implementation of the Connection API (async twin of api.Connection).
    Its bases include :data:`DEFERRED_BASES` once any of their names is looked up."""

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
        self._caps_lock = asyncio.Lock()
        self._unwinding: set[asyncio.Future[Any]] = set()  # cancelled monitor connects still unwinding
        self.monitor_timeout = MONITOR_TIMEOUT
        self.connect_timeout = CONNECT_TIMEOUT
        self._claimed: list[tuple[DomainRecord, dict[str, Any], bool]] = []  # (record, runtime record, live XML read)
        self.ports = PortAllocator()
        self._next_id = 1
        # set by pyvirtd: (pool, volume) -> (path, 'file'|'block', format), for <source pool volume>
        self.volume_resolver: Any = None
        self._snapsets: dict[str, Any] = {}  # domain UUID -> its SnapshotSet, read on first use
        self._chksets: dict[str, Any] = {}  # domain UUID -> its CheckpointSet, read on first use
        self._backups: dict[str, Any] = {}  # domain UUID -> its running (or last) BackupJob
        # set by pyvirtd on qemu:///system: the NetworkDriver (bridges of <interface type='network'>)
        self.networks: Any = None
        #: the network filter driver (system daemons only): guest NICs' <filterref> bindings
        self.nwfilters: Any = None
        # set by pyvirtd: the SecretDriver (values of the secrets disks reference)
        self.secrets: Any = None

    # ------------------------------------------------------------------ capabilities
    async def caps(self) -> Any:
        async with self._caps_lock:  # concurrent first starts probe once
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
        """Read every definition and claim every guest still running; no monitor I/O yet.

        Talking to the guests' monitors waits for `resume()`, which runs after the daemon's
        socket is served: one wedged QEMU must not keep the daemon from answering.  Until then
        each claimed guest shows its recorded state and its lock is held, so operations on it
        wait for the re-attach while every other domain is usable.
        """
        self.paths.ensure()
        self.reaper.install(asyncio.get_running_loop())
        self.store.remove_stale_temps()
        self._load_next_id()
        fingerprint = loadindex.code_fingerprint()
        indexed = loadindex.load(self.paths.runtime, fingerprint)
        autostart = self.store.autostart_names()  # one listdir, not a stat per domain
        for path, xml in self.store.iter_configs():
            entry = indexed.get(path.stem)
            if entry is not None and entry[0] == loadindex.digest(xml):  # this very text parsed before
                self._index_loaded(DomainRecord.indexed(path.stem, xml, entry, path.stem in autostart), path, xml)
                continue
            try:
                dom = model.parse_stored(xml)
                if dom.name != path.stem:
                    raise PyvirtError(f"it defines domain {dom.name!r}", ErrorCode.XML_ERROR)
            except PyvirtError as exc:
                self._index_broken(path.stem, xml, f"domain config {path} cannot be loaded: {exc}")
                continue
            rec = DomainRecord(name=dom.name, uuid=dom.uuid or "", config=dom, autostart=dom.name in autostart)
            rec.stored_as(xml)  # kept as text while idle
            self._index_loaded(rec, path, xml)
        self.save_load_index(fingerprint)
        for name, record, live_xml in self.store.iter_runtime():
            await self._claim(name, record, live_xml)

    def save_load_index(self, fingerprint: str | None = None) -> None:
        """Record the summaries of the definitions held as stored text, for the next start."""
        entries = []
        for rec in self._by_name.values():
            text = rec.stored_text()
            entry = rec.index_entry(loadindex.digest(text)) if text is not None else None
            if entry is not None:
                entries.append((rec.name, entry))
        loadindex.save(self.paths.runtime, fingerprint or loadindex.code_fingerprint(), entries)

    def _index_loaded(self, rec: DomainRecord, path: Path, xml: str) -> None:
        """A stored definition that loaded, unless its UUID is another loaded domain's: then it is
        listed as broken (libvirt's virDomainObjListAddLocked refuses it at load), never as a
        second domain of that UUID.  A broken record that took the UUID from its file gives it
        up to the definition that loads (the files are read in name order, either may come first)."""
        other = self._by_uuid.get(rec.uuid)
        if other is not None and other.load_error is None:
            self._index_broken(path.stem, xml, f"domain config {path} cannot be loaded: domain '{other.name}' "
                               f"is already defined with uuid {rec.uuid}")
            return
        if other is not None:
            from pyvirt.xml.domain import Domain

            del self._by_uuid[other.uuid]
            other.uuid = _broken_uuid(other.name)
            other.config = Domain(name=other.name, uuid=other.uuid, type="qemu")
            self._by_uuid[other.uuid] = other
        self._index(rec)

    def _index_broken(self, name: str, xml: str, error: str) -> None:
        """A stored definition that no longer loads stays listed (shut off, reason "failed") with
        its error, and its file untouched, until the user defines it anew or undefines it."""
        log.error("%s", error)
        uuid = None
        with contextlib.suppress(Exception):
            from pyvirt.xml import safe_parse

            text = (safe_parse(xml).findtext("uuid") or "").strip().lower()
            uuid = str(uuidlib.UUID(text))
        if uuid is None or uuid in self._by_uuid:
            uuid = _broken_uuid(name)
        from pyvirt.xml.domain import Domain

        rec = DomainRecord(name=name, uuid=uuid, config=Domain(name=name, uuid=uuid, type="qemu"),
                           state=DomainState.SHUTOFF, reason=ShutoffReason.FAILED,
                           autostart=self.store.is_autostart(name), load_error=error)
        self._index(rec)

    async def resume_guests(self) -> None:
        """Re-attach to every claimed guest, all in parallel, then autostart."""
        claimed, self._claimed = self._claimed, []
        await asyncio.gather(*(self._reattach(rec, record, had_live) for rec, record, had_live in claimed))
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

    def _allocate_id(self, persist: bool = True) -> int:
        """The next free id; `persist=False` leaves writing the counter to the caller
        (`_persist_next_id`), which a start does once its guest runs: a daemon that dies before
        that finds the id in the guest's runtime record, and `used` skips it."""
        used = {rec.id for rec in self._by_name.values()}
        while self._next_id in used:
            self._next_id += 1
        dom_id = self._next_id
        self._next_id += 1
        if persist:
            self._persist_next_id()
        return dom_id

    def _persist_next_id(self) -> None:
        from pyvirt.atomicio import write_atomic

        write_atomic(self.store.next_id_path(), str(self._next_id), durable=False)

    async def _claim(self, name: str, record: dict[str, Any], live_xml: str | None) -> None:
        """Phase one of a re-attach: is that very QEMU alive?  Index it, hold its lock."""
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
        broken = None  # why the stored live XML did not parse: said, never passed over
        if live_xml:
            try:
                live = model.parse_stored(live_xml)
            except PyvirtError as exc:
                broken = str(exc)
                log.error("domain %s: its stored live XML (%s) does not parse: %s", name, files.live_xml, broken)
        unfinished = live is None and record.get("state") == "starting"
        if alive and ident is not None and unfinished:
            # the last daemon died between spawning this QEMU and recording its live XML: a start
            # that never finished, ended as libvirt ends a domain it finds still starting up
            log.warning("domain %s: its start never finished (no live XML); killing its QEMU", name)
            process.kill(ident)
            alive = False
        if rec is None:
            if live is None:
                log.error("runtime record for unknown domain %s %s: no definition to re-attach it with; "
                          "killing its QEMU and dropping it", name,
                          "whose live XML does not parse" if broken else "without live XML")
                if alive and ident is not None:
                    process.kill(ident)
                self.store.clear_runtime(name)
                return
            rec = DomainRecord(name=name, uuid=live.uuid or "", config=None)
            self._index(rec)
        if not alive or ident is None:
            log.warning("domain %s: QEMU is gone; marking it shut off (%s)", name,
                        "failed" if unfinished else "crashed")
            self.store.clear_runtime(name)
            rec.state = DomainState.SHUTOFF
            rec.reason = ShutoffReason.FAILED if unfinished else ShutoffReason.CRASHED
            self.events.emit(rec.name, rec.uuid, EventType.STOPPED, StoppedDetail.FAILED)
            if not rec.persistent:
                self._unindex(rec)
            return
        await rec.lock.acquire()  # a fresh record: never blocks; released by _reattach
        rec.id = int(record.get("id", -1))
        if rec.id == -1:
            rec.id = self._allocate_id()
        rec.live = live or copy.deepcopy(rec.config)
        if live is None:  # what the guest runs may differ from its config: said, so nobody trusts it blindly
            log.warning("domain %s: re-attached with a copy of its persistent config as its live XML "
                        "(%s); hot-plugged devices and live changes are not known", name,
                        "the stored one does not parse" if broken else "none was stored")
        held = [g.port for g in rec.live.devices.graphics if g.port and g.port >= 5900] if rec.live else []
        self.ports.taken.update(held)
        rec.run = Running(ident=ident, start_time=float(record.get("start_time", time.time())), ports=held)
        rec.run.taints = {str(t) for t in record.get("taints", ()) if isinstance(t, str)}
        rec.run.deprecations = [str(d) for d in record.get("deprecations", ()) if isinstance(d, str)]
        rec.state = DomainState.PAUSED if record.get("state") in ("paused", "starting") else DomainState.RUNNING
        rec.reason = int(record.get("reason", 0))
        self._claimed.append((rec, record, live is not None))

    async def _reattach(self, rec: DomainRecord, record: dict[str, Any], had_live: bool = True) -> None:
        """Phase two: connect to the monitor (with deadlines) and supervise, or end the guest.

        The runtime files are rewritten only where they changed (a state the dead daemon had not
        recorded yet, pty paths filled in, a live XML that was missing): with hundreds of guests
        two atomic writes each were most of a restart's disk time."""
        run = rec.run
        assert run is not None
        files = self.store.runtime_files(rec.name)
        ended: tuple[str, dict[str, Any]] | None = None
        try:
            try:
                await self._connect_monitor(rec, files.monitor)
                status = await self._qmp(run, "query-status")
                qstatus = status.get("status") if isinstance(status, dict) else None
                if qstatus is None:
                    raise ValueError(f"query-status answered {status!r}")
                if record.get("state") == "starting" and status.get("running"):
                    rec.state, rec.reason = DomainState.RUNNING, RunningReason.BOOTED  # started without -S
                elif record.get("state") == "starting" and qstatus == "prelaunch":
                    if record.get("intent") == "paused":
                        rec.state, rec.reason = DomainState.PAUSED, PausedReason.USER
                    else:  # finish the start the dead daemon had begun
                        await self._before_cont(rec)
                        await self._qmp(run, "cont")
                        rec.state, rec.reason = DomainState.RUNNING, RunningReason.BOOTED
                elif qstatus in ENDED_MEANWHILE and record.get("state") == "running":
                    # the guest powered off or panicked while no daemon listened: QEMU (-no-shutdown)
                    # waits, stopped, and its event is lost; the end is finished below, as the
                    # event would have (libvirt's qemuProcessReconnect: qemuProcessShutdownOrReboot)
                    rec.state, rec.reason = DomainState.RUNNING, int(record.get("reason", RunningReason.BOOTED))
                    ended = ENDED_MEANWHILE[qstatus]
                elif status.get("running"):
                    rec.state = DomainState.RUNNING
                    rec.reason = int(record.get("reason", RunningReason.BOOTED)) \
                        if record.get("state") == "running" else RunningReason.UNPAUSED
                else:
                    rec.state = DomainState.PAUSED
                    rec.reason = int(record.get("reason", PausedReason.UNKNOWN)) \
                        if record.get("state") == "paused" else PausedReason.UNKNOWN
                xml_changed = await self._open_console(rec, recorded=had_live) or not had_live
            except Exception as exc:  # noqa: BLE001 - any monitor failure means we cannot control it
                log.error("domain %s: cannot re-attach to QEMU monitor (%s); killing it", rec.name, exc)
                process.kill(run.ident)
                if run.stop_reason is None:
                    run.stop_reason, run.stop_detail = ShutoffReason.CRASHED, StoppedDetail.FAILED
                await self._on_exit(rec, run)
                return
            try:
                await self.unplugged_meanwhile(rec, record)
            except Exception as exc:  # noqa: BLE001 - the guest runs on; its removals wait for their event
                log.error("domain %s: cannot check the unplugs pending at restart: %s", rec.name, exc)
            if xml_changed or {**self._runtime_record(rec), "name": rec.name} != record:
                self._save_runtime(rec, xml=xml_changed)
            run.supervisor = asyncio.create_task(self._supervise(rec), name=f"supervise-{rec.name}")
            await self._recover_backup(rec)  # a backup the last daemon left running
            log.info("re-attached to domain %s (pid %d)", rec.name, run.ident.pid)
            if ended is not None:
                log.warning("domain %s: the guest ended while pyvirtd was down (QEMU says %s); finishing it "
                            "as its definition says", rec.name, qstatus)
                try:
                    await self._on_qmp_event(rec, run, *ended)
                except Exception as exc:  # noqa: BLE001 - the guest stays as QEMU holds it
                    log.error("domain %s: cannot finish its end: %s", rec.name, exc)
        finally:
            rec.lock.release()

    # ------------------------------------------------------------------ registry
    def _index(self, rec: DomainRecord) -> None:
        self._by_name[rec.name] = rec
        self._by_uuid[rec.uuid] = rec

    def _remove_inactive(self, rec: DomainRecord) -> None:
        """A transient domain ended (libvirt's qemuDomainRemoveInactive): its snapshot and
        checkpoint metadata, kept in folders named after it, go with it; left, they were the
        next domain of that name's, and stood in the way of a rename to it."""
        try:
            self.drop_snapshot_metadata(rec)
            self.drop_checkpoint_metadata(rec)
        except OSError as exc:
            log.error("%s: could not remove its snapshot or checkpoint metadata: %s", rec.name, exc)
        self._unindex(rec)

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

    def lookup_domain(self, ref: str) -> DomainInfo:
        return self.info(self.lookup(ref))

    def get_info(self, dom: str) -> DomainInfo:
        return self.info(self.lookup(dom))

    def get_messages(self, dom: str) -> list[str]:
        """virDomainGetMessages: the running guest's taints and deprecations (daemon/taint.py);
        a stopped guest has none, so dominfo prints no Messages line."""
        from pyvirt.taints import messages

        rec = self.lookup(dom)
        run = rec.run if rec.active else None
        return messages(run.taints, run.deprecations) if run is not None else []

    def taint(self, rec: DomainRecord, word: str) -> None:
        """Taint a running guest now (qemu-monitor-command, qemu-agent-command): logged once per run."""
        from pyvirt.daemon import taint

        run = rec.run
        if run is not None and taint.record(run.taints, run.deprecations, rec.id, rec.name, rec.uuid,
                                            self.store.runtime_files(rec.name).log, word):
            self._save_runtime(rec, xml=False)

    def get_security_label(self, dom: str) -> dict[str, Any]:
        """A system daemon run by root has libvirt's DAC driver (daemon.qemuuser): model 'dac', DOI
        0, and a running guest's label is whom its QEMU runs as (``+UID:+GID``); other daemons have
        no security driver: no model, so virsh prints no Security lines."""
        rec = self.lookup(dom)
        if not self._privileged():
            return {}
        from pyvirt.daemon.qemuuser import DAC

        out: dict[str, Any] = {"model": DAC, "doi": "0"}
        live = rec.live if rec.active else None
        label = next((sl.label for sl in (live.seclabels if live is not None else [])
                      if (sl.model or DAC) == DAC and sl.label), None)
        if label:
            out.update(label=label, enforcing=True)
        return out

    def info(self, rec: DomainRecord, saved: set[str] | None = None) -> DomainInfo:
        """`saved`: the managed saves' file names, when the caller read them once for many domains."""
        title, max_kib, cur_kib, vcpus, vcpus_now = rec.summary()  # an idle config is not parsed for this
        cpu_ns = 0
        if rec.run is not None:
            cpu_ns = self._cpu_time_ns(rec.run.ident.pid)
        return DomainInfo(name=rec.name, uuid=rec.uuid, id=rec.id, state=int(rec.state), reason=int(rec.reason),
                          persistent=rec.persistent, autostart=rec.autostart, title=title,
                          max_mem_kib=max_kib, mem_kib=cur_kib, vcpus=vcpus_now,
                          max_vcpus=vcpus, cpu_time_ns=cpu_ns,
                          managed_save=not rec.active and rec.persistent and (
                              self.has_managed_save(rec) if saved is None else f"{rec.name}.save" in saved))

    @staticmethod
    def _cpu_time_ns(pid: int) -> int:
        """utime + stime of /proc/PID/stat (a thread id too).  One os.read of bytes: a text-mode
        open() costs ~3x as much, and list and domain stats read this for every running guest."""
        raw = proc_bytes(f"/proc/{pid}/stat")
        if raw is None:
            return 0
        fields = raw[raw.rfind(b")") + 2:].split()
        return (int(fields[11]) + int(fields[12])) * 1_000_000_000 // CLK_TCK

    def list_domains(self, flt: ListFilter | None = None) -> list[DomainInfo]:
        flt = flt or ListFilter()
        saved = self.managed_save_names()  # one listdir, not a stat per domain
        infos = [self.info(rec, saved) for rec in self._by_name.values()]
        infos = [i for i in infos if flt.matches(i)]
        infos.sort(key=lambda i: (0, i.id, "") if i.id != -1 else (1, 0, i.name))
        return infos

    def list_domain_names(self, flt: ListFilter | None = None) -> list[DomainName]:
        """`list_domains` without building the records: the filter reads the registry's own
        fields (state, persistence, autostart), so nothing is parsed, read from /proc or listed."""
        recs = list(self._by_name.values())
        if flt is not None:
            recs = [r for r in recs if flt.matches(r)]  # type: ignore[arg-type]  # the same fields
        recs.sort(key=lambda r: (0, r.id, "") if r.id != -1 else (1, 0, r.name))
        return [DomainName(r.name, r.uuid, r.id) for r in recs]

    # ------------------------------------------------------------------ lifecycle
    @staticmethod
    def _autodestroy_owner(autodestroy: bool) -> Session | None:
        """The calling client's session, which the guest must not outlive; a call that asks for
        autodestroy without one is refused rather than starting a guest that nobody owns."""
        if not autodestroy:
            return None
        owner = session.current.get()
        if owner is None:
            raise PyvirtError("Operation not supported: autodestroy needs a client session "
                              f"(the {session.HEADER} header of a session opened at /v1/session)",
                              ErrorCode.ARGUMENT_UNSUPPORTED, ErrorDomain.QEMU)
        return owner

    def _destroy_when_gone(self, owner: Session | None, rec: DomainRecord) -> None:
        """libvirt's autodestroy: this run of the guest ends when its client goes away."""
        if owner is None:
            return
        run = rec.run

        async def cleanup() -> None:
            if run is not None and rec.run is run:
                log.info("destroying domain %s: the client that started it went away (autodestroy)", rec.name)
                with contextlib.suppress(PyvirtError):
                    await self.destroy(rec.uuid)

        owner.on_close(cleanup)

    async def create_xml(self, xml: str, paused: bool = False, autodestroy: bool = False,
                         validate: bool = False) -> DomainInfo:
        """Start a transient domain (or run a persistent one from this XML, as libvirt does)."""
        owner = self._autodestroy_owner(autodestroy)
        dom = await asyncio.to_thread(model.parse_definition, xml, None, validate)  # not on the loop
        self._check_emulator(dom)
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
                if self._by_name.get(rec.name) is None:  # a concurrent create failed and dropped it
                    self._index(rec)
                await self._start_locked(rec, paused=paused, definition=dom)
                self._destroy_when_gone(owner, rec)
        except BaseException:
            if not rec.persistent and not rec.active:
                self._unindex(rec)
            raise
        return self.info(rec)

    async def start(self, dom: str, paused: bool = False, autodestroy: bool = False,
                    force_boot: bool = False, reset_nvram: bool = False, bypass_cache: bool = False) -> DomainInfo:
        """A managed save, if there is one, is restored instead of a boot (`force_boot` discards it);
        `reset_nvram` drops the UEFI variable store, which the start copies afresh from its template."""
        owner = self._autodestroy_owner(autodestroy)
        rec = self.lookup(dom)
        async with rec.lock:
            if reset_nvram and rec.config is not None and not rec.active:
                from pyvirt.daemon.firmware import reset_nvram as drop_nvram

                drop_nvram(rec.config, self.paths.data / "nvram")
            if not await self.start_from_managed_save(rec, paused, force_boot, bypass_cache):
                await self._start_locked(rec, paused=paused)
            self._destroy_when_gone(owner, rec)
        return self.info(rec)

    def _check_emulator(self, dom: Domain) -> None:
        """An <emulator> must exist (libvirt 9.0 looks its capabilities up at define and at start:
        virQEMUCapsCacheLookup stats it first), and a system daemon runs only the configured QEMU
        binaries (pyvirt.daemon.emulators)."""
        if dom.devices.emulator:
            try:
                os.stat(dom.devices.emulator)
            except OSError as exc:
                raise PyvirtError(f"Cannot check QEMU binary {dom.devices.emulator}: {exc.strerror}",
                                  ErrorCode.SYSTEM_ERROR, ErrorDomain.QEMU) from None
        if self._is_system():
            from pyvirt.daemon.emulators import check_emulator

            check_emulator(dom.devices.emulator, self.paths.config)

    async def _host_cpu_features(self, dom: Domain, caps: Any) -> frozenset[str] | None:
        """What TCG's CPU gives a guest (QEMU's ``max``, pyvirt's CPU map), when a custom CPU's
        'optional' features are resolved against it (argv_machine.needs_host_cpu); a custom CPU
        with check='partial' is compared with it first (cpuprobe.check_guest_cpu)."""
        from pyvirt.qemu.argv_machine import needs_host_cpu
        from pyvirt.qemu.cpuprobe import check_guest_cpu, cpu_map

        await asyncio.to_thread(check_guest_cpu, dom, dom.devices.emulator or caps.binary)
        if not needs_host_cpu(dom):
            return None
        cmap = await asyncio.to_thread(cpu_map, dom.devices.emulator or caps.binary)
        return cmap.hypervisor.features if cmap.hypervisor is not None else None

    async def _host_model(self, dom: Domain, caps: Any) -> Any:
        """The CPU a TCG guest's host-model (or 'minimum') CPU is started as: the host-model
        domcapabilities offers (argv_machine.needs_host_model)."""
        from pyvirt.qemu.argv_machine import needs_host_model
        from pyvirt.qemu.cpuprobe import tcg_host_model

        if not needs_host_model(dom):
            return None
        return await asyncio.to_thread(tcg_host_model, dom.devices.emulator or caps.binary)

    async def _check_accelerator(self, dom: Domain) -> None:
        """type='kvm' only where the probe saw KVM run a standard guest; never a silent TCG fallback."""
        if dom.type != "kvm":
            return
        verdict = await self.kvm()
        if not verdict.usable:
            raise PyvirtError(f"unsupported configuration: KVM is not usable on this host ({verdict.reason}); "
                              "use <domain type='qemu'> for TCG", ErrorCode.CONFIG_UNSUPPORTED, ErrorDomain.QEMU)

    def _is_system(self) -> bool:
        return self.paths.uri.rstrip("/").endswith("/system")

    def _check_guest_paths(self, dom: Domain) -> None:
        """A system daemon hands QEMU (root) no host file a guest must not reach (daemon.guestpaths)."""
        if self._is_system():
            from pyvirt.daemon.guestpaths import check_guest_paths, own_dirs

            check_guest_paths(dom, own_dirs(self.paths))

    async def _check_backing_chains(self, dom: Domain) -> None:
        """The same for the files behind its disk images (qemu-img reads them: a worker thread)."""
        if self._is_system() and any((d.driver_type or "raw") != "raw" for d in dom.devices.disks):
            from pyvirt.daemon.guestpaths import check_backing_chains, own_dirs

            await asyncio.to_thread(check_backing_chains, dom, own_dirs(self.paths))

    def _qemu_user(self, dom: Domain) -> Any:
        """Whom QEMU runs as for `dom` (daemon.qemuuser): on qemu:///system run by root, qemu.conf's
        user (default pyvirt-qemu) unless the domain's DAC <seclabel> says otherwise; None: as the
        daemon's own user.  Refuses a seclabel of a driver pyvirt does not have."""
        from pyvirt.daemon.qemuuser import for_domain, load

        privileged = self._privileged()
        return for_domain(dom, load(self.paths.config) if privileged else None, privileged)

    def _spice_tls_dir(self, dom: Domain) -> str | None:
        """qemu.conf's SPICE TLS certificate directory, read only for guests with a SPICE display."""
        if not any(g.type == "spice" for g in dom.devices.graphics):
            return None
        from pyvirt.daemon.qemuconf import spice_tls_x509_dir

        return spice_tls_x509_dir(self.paths.config)

    def _privileged(self) -> bool:
        """A system daemon run by root: it changes QEMU's user and places guests in cgroups."""
        return self._is_system() and os.geteuid() == 0

    def _guest_cgroup(self, rec: DomainRecord, dom: Domain) -> Any:
        """The guest's own cgroup with its <cputune>/<memtune> written (daemon.cgroups), or None
        where this daemon places no guest in cgroups (a tunable then is refused, by name)."""
        from pyvirt.daemon import cgroups

        cg = cgroups.for_guest(self.paths.runtime, rec.name, self._privileged())
        settings = cgroups.plan(dom, cg.controllers if cg is not None else {})
        if cg is not None and not cg.create(settings):
            return None
        return cg

    async def _give_files(self, rec: DomainRecord, files: list[tuple[str, bool]]) -> None:
        """(path, read-only) files a running guest's QEMU is about to open — a snapshot overlay, a
        copy target, a new medium — pass the host path policy a system daemon applies at start
        (daemon.guestpaths: no /etc/shadow as a new cdrom medium), then become QEMU's user's,
        recorded and given back as the start's files are."""
        if self._is_system():
            from pyvirt.daemon.guestpaths import check_path, own_dirs

            for path, _readonly in files:
                check_path("storage file", path, "disk", own_dirs(self.paths))
        live = rec.live
        user = self._qemu_user(live) if live is not None else None
        if user is not None:
            from pyvirt.daemon.qemuuser import GuestFile, relabel

            await asyncio.to_thread(relabel, live, user, self.store.runtime_files(rec.name).private_dir,
                                    [GuestFile(path, readonly) for path, readonly in files])

    async def _give_back_unused(self, rec: DomainRecord) -> None:
        """After a detach: what the guest no longer uses is given back now, not at stop."""
        if rec.live is not None and self._privileged():
            from pyvirt.daemon.qemuuser import give_back

            await asyncio.to_thread(give_back, rec.live, self.store.runtime_files(rec.name).private_dir)

    def _give_to_qemu(self, dom: Domain, user: Any, guest_dir: Path) -> None:
        from pyvirt.daemon.qemuuser import open_runtime_dirs, relabel

        data = self.paths.data  # the NVRAM stores and boot files QEMU opens live below it
        open_runtime_dirs(user, [self.paths.runtime, self.paths.domains_runtime, data, data / "nvram",
                                 data / "boot"], guest_dir)
        relabel(dom, user, guest_dir)

    def _check_sources(self, dom: Domain) -> None:
        """Fail early, naming the path, rather than leaving QEMU to fail with less to say."""
        self._check_guest_paths(dom)
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

    async def _start_locked(self, rec: DomainRecord, paused: bool, definition: Domain | None = None,
                            incoming: Any = None, from_snapshot: bool = False) -> None:
        """Start under the domain's lock; everything checked before waiting for it is checked again
        here, since another operation may have started, undefined or replaced the domain meanwhile.
        `incoming(run)`, when given, loads a saved state into the new QEMU (started with
        ``-incoming defer``) before the guest runs: a restore, not a boot.  `from_snapshot`: a
        snapshot revert starts it, so the reasons and the STARTED event's detail say so (libvirt's
        "from snapshot"); the revert itself tells of a guest left paused."""
        from pyvirt.qemu.argv_chardev import generated_socket_names
        from pyvirt.qemu.argv_common import auto_placement
        from pyvirt.xml.defaults import assign_start_defaults
        from pyvirt.xml.vcpus import startup_plugs

        if self._by_name.get(rec.name) is not rec or (definition is None and not rec.persistent):
            raise no_domain(rec.name)
        if rec.active:
            raise operation_invalid(f"domain '{rec.name}' is already active" if definition is not None
                                    else "domain is already running")
        if rec.load_error and definition is None:
            raise PyvirtError(f"XML error: {rec.load_error}; define it again or undefine it",
                              ErrorCode.XML_ERROR, ErrorDomain.DOMAIN)
        caps = await self.caps()
        dom = copy.deepcopy(definition) if definition is not None else rec.config_copy()
        assert dom is not None  # persistent, checked above
        model.check_start_rules(dom)
        self._check_emulator(dom)  # again: the allowed list may have changed since define
        await self._check_accelerator(dom)
        volumes = self._resolve_volumes(dom)
        secrets = self._disk_secret_refs(dom)  # their values read before anything else: libvirt's errors
        if secrets.lookups():  # the secret driver locks: a worker thread, only when a secret is referenced
            await asyncio.to_thread(secrets.fetch, self._secret_value)
        with self._volume_sources(dom, volumes):
            self._check_sources(dom)
            await self._check_backing_chains(dom)
        assign_start_defaults(dom)
        self.mark_channels_disconnected(dom)
        cputune.check(dom, self._cgroup(rec))
        cgroups.check_partition(dom, self._cgroup(rec))
        check_perf(dom)
        virtiofs.check(dom, self._privileged())
        try:  # libvirt's start-time checks of the vCPUs plugged in before the guest runs
            startup_plugs(dom)
        except XMLError as exc:
            raise model.xml_error(exc) from None
        usb_hostdevs: dict[str, tuple[int, int]] = {}
        scsi_hostdevs: dict[str, str] = {}
        from pyvirt.daemon import hostdev_prep

        prhelper.check(dom, self._privileged())
        hostdev_prep.check_pci(dom)  # PCI host devices and NVMe disks' controllers
        if dom.devices.hostdevs:
            usb_hostdevs = hostdev_prep.resolve_usb(dom)
            scsi_hostdevs = hostdev_prep.resolve_scsi(dom)
        prepare_firmware(dom, caps, self.paths.data / "nvram")
        files = self.store.runtime_files(rec.name)
        self.store.check_runtime_paths(rec.name, generated_socket_names(dom))
        self.store.clear_runtime(rec.name)  # whatever a dead start left: this guest is not running
        files.private_dir.mkdir(mode=0o700)
        qemu_user = self._qemu_user(dom)
        helpers: list[process.ProcessIdentity] = []
        taps: dict[str, list[int]] = {}
        ports = None
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        vsock_claim: tuple[int, int] | None = None
        gpu_fds: dict[str, int] = {}
        scsi_fds: dict[str, int] = {}
        tpm_fds: dict[str, tuple[int, int]] = {}
        try:  # from the first chown on, any failure gives everything back (clear_runtime)
            if qemu_user is not None:
                from pyvirt.daemon.qemuuser import DAC, live_label

                with self._volume_sources(dom, volumes):
                    await asyncio.to_thread(self._give_to_qemu, dom, qemu_user, files.private_dir)
                if not any((sl.model or DAC) == DAC for sl in dom.seclabels):
                    dom.seclabels.append(live_label(qemu_user))  # the live XML shows it, as libvirt's
            if secrets.items:
                await asyncio.to_thread(secrets.write, files.private_dir, qemu_user)
            cgroup = self._guest_cgroup(rec, dom)  # removed with the runtime dir, on any end
            if dom.devices.tpms:  # a thread hop only for work that blocks (spawning swtpm, creating taps)
                helpers = await asyncio.to_thread(start_swtpms, dom, files.private_dir,
                                                  self.paths.data / "swtpm", self.paths.qemu_log, qemu_user)
            if virtiofs.managed(dom):  # one virtiofsd per share, on the socket QEMU connects to
                helpers.extend(await asyncio.to_thread(virtiofs.start, dom, files.private_dir,
                                                       self.paths.qemu_log, qemu_user))
            if dbusdisplay.needed(dom):  # a D-Bus display's private bus, stopped at every end (clear_runtime)
                helpers.extend(await asyncio.to_thread(dbusdisplay.start, dom, files.private_dir,
                                                       self.paths.qemu_log / f"{dom.name}-dbus.log", qemu_user))
            if prhelper.needed(dom):  # the managed qemu-pr-helper, stopped at every end (clear_runtime)
                helpers.extend(await asyncio.to_thread(prhelper.start, dom, files.private_dir,
                                                       self.paths.qemu_log / f"{dom.name}-pr-helper0.log", qemu_user))
            if self.networks is None:
                for note in nics.session_fallback(dom):
                    log.warning("%s: %s", rec.name, note)
            if any(nic.type in TAP_NIC_TYPES for nic in dom.devices.interfaces):
                taps = await asyncio.to_thread(nics.open_taps, dom, self.networks)
                await asyncio.to_thread(nics.apply_bandwidth, dom)
            if any(nic.filterref is not None for nic in dom.devices.interfaces):
                await asyncio.to_thread(nics.apply_filters, dom, self.nwfilters, rec.uuid)
            dom_id = self._allocate_id(persist=False)
            ports = self.ports.assign(dom)
            at_once = self._runs_at_once(dom, paused, incoming)
            vsock_claim = vsock.claim(dom)  # the CID goes into the live XML saved below
            if any(v.driver_name == "vhostuser" for v in dom.devices.videos):
                gpu_helpers, gpu_fds = await asyncio.to_thread(
                    vhost_user_gpu.start, dom, self.paths.qemu_log / f"{dom.name}-vhost-user-gpu.log",
                    host_render_node(), qemu_user)
                helpers.extend(gpu_helpers)
            if any(h.type == "scsi_host" for h in dom.devices.hostdevs):
                from pyvirt.daemon import hostdev_prep

                scsi_fds = hostdev_prep.open_vhost_scsi(dom)
            if any(t.backend_type == "passthrough" for t in dom.devices.tpms):
                from pyvirt.daemon import hostdev_prep

                tpm_fds = hostdev_prep.open_tpm_passthrough(dom)
            auto_nodes, auto_cpus = None, None
            if auto_placement(dom):  # placement='auto': numad advises the host nodes
                auto_nodes = await asyncio.to_thread(numad.advice, dom)
                if dom.vcpu_placement == "auto":
                    auto_cpus = numad.node_cpus(auto_nodes)
            host_cpu = await self._host_cpu_features(dom, caps)
            host_model = await self._host_model(dom, caps)
            listener.bind(str(files.monitor))
            listener.listen(1)
            with self._volume_sources(dom, volumes):
                argv = model.build_command_line(dom, caps, listener.fileno(), str(files.pidfile),
                                                str(files.private_dir), taps,
                                                spice_tls_x509_dir=self._spice_tls_dir(dom),
                                                usb_hostdevs=usb_hostdevs, vsock=vsock_claim,
                                                vhost_user_gpu_fds=gpu_fds, scsi_hostdevs=scsi_hostdevs,
                                                vhost_scsi_fds=scsi_fds, tpm_passthrough_fds=tpm_fds,
                                                nbd_tls=self._nbd_tls(dom), chardev_tls=self._chardev_tls(dom),
                                                auto_nodeset=auto_nodes,
                                                host_cpu_features=host_cpu, host_model=host_model)
            if incoming is not None:
                argv += ["-incoming", "defer"]
            if at_once:
                argv.remove("-S")
            # the intent first (a guest dir without a record is a start that spawned nothing); the
            # live XML joins it with the pid right after the spawn, off the guest's path: a daemon
            # that dies between the two ends the half-started guest (`_claim`), one that dies
            # later finds the guest again and finishes the job
            intent = {"state": "starting", "intent": "paused" if paused else "running", "id": dom_id,
                      "start_time": time.time()}
            self.store.save_runtime(rec.name, intent)
            from pyvirt.daemon import taint

            taints: set[str] = set()  # qemuDomainObjCheckTaint: logged before QEMU writes its own lines
            deprecations: list[str] = []
            for word, extra in taint.at_start(dom, privileged=self._privileged(), qemu_user=qemu_user, caps=caps,
                                              incoming=incoming is not None):
                taint.record(taints, deprecations, dom_id, rec.name, rec.uuid, files.log, word, extra)
            ident = process.spawn_detached(argv, files.log,
                                           pass_fds=(listener.fileno(), *(fd for g in taps.values() for fd in g),
                                                     *(vsock_claim[:1] if vsock_claim else ()), *gpu_fds.values(),
                                                     *scsi_fds.values(), *(f for p in tpm_fds.values() for f in p)),
                                           env=model.qemu_environment(dom), user=qemu_user)
            self.reaper.track(ident.pid)
        except BaseException:
            listener.close()
            nics.close_all(taps)
            if vsock_claim is not None:
                os.close(vsock_claim[0])
            for fd in (*gpu_fds.values(), *scsi_fds.values(), *(f for p in tpm_fds.values() for f in p)):
                os.close(fd)
            if ports is not None:
                self.ports.release(ports)
            stop_helpers(helpers)
            secrets.forget()
            if self.nwfilters is not None:
                await asyncio.to_thread(self.nwfilters.unbind_owner, rec.uuid)
            self.store.clear_runtime(rec.name)
            raise
        listener.close()
        nics.close_all(taps)  # QEMU holds them now: the taps go when it does
        if vsock_claim is not None:
            os.close(vsock_claim[0])  # likewise the vhost-vsock device and its CID
        for fd in (*gpu_fds.values(), *scsi_fds.values(), *(f for p in tpm_fds.values() for f in p)):
            os.close(fd)  # and the vhost-user GPUs' sockets, the vhost-scsi devices, host TPMs
        rec.run = Running(ident=ident, start_time=time.time(), ports=ports, auto_cpus=auto_cpus)
        rec.id, rec.live = dom_id, dom
        rec.run.taints, rec.run.deprecations = taints, deprecations
        rec.state, rec.reason = DomainState.PAUSED, PausedReason.STARTING_UP
        try:
            # the pid and the live XML join the intent record
            self._save_runtime(rec, phase="starting", intent="paused" if paused else "running")
            try:
                if cgroup is not None:
                    cgroup.attach(ident.pid)
                await self._connect_monitor(rec, files.monitor)
            finally:
                secrets.forget()  # QEMU read them while it set up its objects, before its monitor answered
            consoles = await self._open_console(rec)
            await self.plug_startup_vcpus(rec)  # <vcpus>: plugged before the guest first runs
            if not at_once:
                await self._before_cont(rec)
                if incoming is not None:
                    await incoming(rec.run)
                if not paused:
                    await self._qmp(rec.run, "cont")
        except BaseException as exc:
            stop_helpers(helpers)
            await self._abort_start(rec, files.log, exc)
            raise
        if paused:
            rec.state = DomainState.PAUSED
            rec.reason = PausedReason.FROM_SNAPSHOT if from_snapshot else PausedReason.USER
        else:
            rec.state = DomainState.RUNNING
            rec.reason = (RunningReason.FROM_SNAPSHOT if from_snapshot else
                          RunningReason.RESTORED if incoming is not None else RunningReason.BOOTED)
        # the live XML changed only if pty paths were filled in or vCPU orders read from QEMU
        self._save_runtime(rec, xml=consoles or bool(dom.vcpu_states))
        self._persist_next_id()
        rec.compact()  # the live model runs; the definition is held as its stored text again
        rec.run.supervisor = asyncio.create_task(self._supervise(rec), name=f"supervise-{rec.name}")
        self.events.emit(rec.name, rec.uuid, EventType.STARTED,
                         StartedDetail.FROM_SNAPSHOT if from_snapshot else
                         StartedDetail.RESTORED if incoming is not None else StartedDetail.BOOTED, rec.id)
        if paused and not from_snapshot:  # a revert says "suspended" itself, once its guest stays paused
            self.events.emit(rec.name, rec.uuid, EventType.SUSPENDED, SuspendedDetail.PAUSED, rec.id)

    async def _abort_start(self, rec: DomainRecord, log_path: Any, exc: BaseException) -> None:
        run = rec.run
        code = None
        if run is not None:
            destroyed = run.stop_reason == ShutoffReason.DESTROYED
            process.kill(run.ident)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(process.wait_for_exit(run.ident), 5)
            code = self.reaper.exit_code(run.ident.pid)
            if run.stop_reason is None:
                run.stop_reason, run.stop_detail = ShutoffReason.FAILED, StoppedDetail.FAILED
            await self._on_exit(rec, run, emit=False)
            if destroyed:  # a concurrent destroy won (it never waits for a start): that is no QEMU failure
                raise operation_invalid(f"domain '{rec.name}' was destroyed while it was starting") from exc
        else:
            self.store.clear_runtime(rec.name)
            rec.state, rec.reason = DomainState.SHUTOFF, ShutoffReason.FAILED
        if isinstance(exc, PyvirtError | asyncio.CancelledError) and not isinstance(exc, MonitorGone):
            return
        tail = process.log_tail(log_path)
        detail = f" (exit code {code})" if code is not None else ""
        raise PyvirtError(f"internal error: QEMU failed to start{detail}: {tail or exc}",
                          ErrorCode.INTERNAL_ERROR, ErrorDomain.QEMU) from exc

    @staticmethod
    def _runs_at_once(dom: Domain, paused: bool, incoming: Any) -> bool:
        """Whether QEMU may run its vCPUs from the first instant (no ``-S``, no ``cont``), which
        saves the guest the monitor handshake.  Not when anything must happen while it is still
        stopped: a paused start or a restore, vCPU pinning, disk throttling and display passwords
        set over QMP (`_before_cont`), a reboot action set over QMP (`_connect_monitor`), or a pty
        console, whose first output QEMU drops until pyvirtd's relay has the pty open."""
        if (paused or incoming is not None or dom.vcpu_cpuset or dom.vcpu_placement == "auto"
                or (dom.on_reboot or "restart") == "destroy"):
            return False
        if cputune.needed(dom) or any(v.enabled and v.hotpluggable for v in dom.vcpu_states):
            return False
        devs = dom.devices
        if any(disk.iotune is not None for disk in devs.disks):
            return False
        if any(g.passwd is not None for g in devs.graphics):
            return False
        return not any(dev.type == "pty" for dev in (*devs.serials, *devs.consoles, *devs.channels))

    async def _connect_monitor(self, rec: DomainRecord, monitor: Any) -> None:
        """Connect to QEMU's monitor, giving up at once if QEMU exits (no waiting out the timeout)."""
        from pyvirt.qemu.qmp import BoundedEventListener
        from pyvirt.qemu.qmp import connect as qmp_connect

        run = rec.run
        assert run is not None
        listener = BoundedEventListener(HANDLED_EVENTS, owner=rec.name)
        # qemu-monitor-event relays every event, through a bound of its own: a guest that floods
        # its monitor (RTC_CHANGE…) fills that one, never the queue SHUTDOWN/DEVICE_DELETED wait in
        relay = BoundedEventListener((), owner=rec.name)
        connecting = asyncio.ensure_future(qmp_connect(monitor, timeout=self.connect_timeout, name=rec.name,
                                                       listeners=(listener, relay)))
        exited = asyncio.ensure_future(process.wait_for_exit(run.ident))
        try:
            await asyncio.wait({connecting, exited}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (connecting, exited):
                if not task.done():
                    # qemu.qmp can take until its own timeout to unwind a connect whose peer reset
                    # mid-greeting: wait a moment, then let it finish on its own (kept referenced)
                    task.cancel()
                    await asyncio.wait({task}, timeout=1.0)
                    if not task.done():
                        self._unwinding.add(task)
                        task.add_done_callback(self._unwinding.discard)
        if not connecting.done() or connecting.cancelled():
            raise ProcessLookupError("QEMU exited before its monitor answered")
        client = connecting.result()
        run.qmp, run.listener, run.monitor_listener = client, listener, relay
        dom = rec.current()
        if (dom.on_reboot or "restart") == "destroy":
            # a guest reboot then arrives as SHUTDOWN(reason guest-reset) instead of a silent reset
            await self._qmp(run, "set-action", {"reboot": "shutdown"})

    async def _before_cont(self, rec: DomainRecord) -> None:
        """What is set on a QEMU still in prelaunch, before its vCPUs first run."""
        from pyvirt.qemu.argv_disks import disk_qom_name
        from pyvirt.xml.validate import parse_cpuset

        run, dom = rec.run, rec.live
        assert run is not None and dom is not None
        if dom.vcpu_cpuset:
            process.pin_all_threads(run.ident.pid, parse_cpuset(dom.vcpu_cpuset))
        elif run.auto_cpus:  # <vcpu placement='auto'>: the CPUs of the nodes numad advised
            process.pin_all_threads(run.ident.pid, run.auto_cpus)
        if cputune.needed(dom):  # after the <vcpu cpuset> default: per-thread pins override it
            vcpus = await self._qmp(run, "query-cpus-fast")
            iothreads = await self._qmp(run, "query-iothreads") if dom.iothread_ids else []
            cputune.apply(run.ident.pid, dom, {c["cpu-index"]: c["thread-id"] for c in vcpus},
                          cputune.iothread_threads(iothreads), self._cgroup(rec))
        for disk in dom.devices.disks:
            if disk.iotune is not None:  # as libvirt 9.0: throttling is set over QMP, not argv
                await self._qmp(run, "block_set_io_throttle", disk.iotune.qmp_arguments(disk_qom_name(disk)))
        await self._set_graphics_passwords(rec)
        await self.set_nic_links(rec)
        balloon = dom.devices.memballoon
        if balloon is not None and balloon.stats_period and balloon.model not in (None, "none"):
            await self.apply_stats_period(run, balloon, balloon.stats_period)

    async def _set_graphics_passwords(self, rec: DomainRecord) -> None:
        """Display passwords go to QEMU over QMP, never on its command line (which every local
        user can read in /proc) -- as libvirt does; without this nobody could log in at all."""
        assert rec.run is not None and rec.live is not None
        for g in rec.live.devices.graphics:
            if g.passwd is not None and g.type in ("vnc", "spice"):
                await self._qmp(rec.run, "set_password", {"protocol": g.type, "password": g.passwd,
                                                          "connected": g.connected or "keep"})
                await self._qmp(rec.run, "expire_password", {"protocol": g.type,
                                                             "time": password_expiry(g.passwd_valid_to)})

    async def _close_monitor(self, run: Running) -> None:
        if run.qmp is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(run.qmp.disconnect(), 2)
            run.qmp = None

    async def _open_console(self, rec: DomainRecord, recorded: bool = False) -> bool:
        """Find the first serial's pty (QMP query-chardev) and keep it drained; True when pty
        paths in the live XML changed (always at a start, never when a restarted daemon finds
        the same ones again).  No monitor round trip for a guest without ptys, nor for a
        re-attach (`recorded`: the live XML is the one the previous daemon wrote) whose live XML
        names every pty: a pty's path does not change while its QEMU lives, and this QEMU is the
        one that was recorded (its identity was checked), so a restart saves one round trip per
        guest."""
        assert rec.run is not None and rec.run.qmp is not None
        dom = rec.live
        if dom is not None and not any(dev.type == "pty" for dev in
                                       (*dom.devices.serials, *dom.devices.consoles, *dom.devices.channels)):
            return False
        ptys = _recorded_ptys(dom) if recorded and dom is not None else None
        if ptys is None:
            try:
                chardevs = await self._qmp(rec.run, "query-chardev")
                ptys = {c["label"]: c["filename"][4:] for c in chardevs
                        if isinstance(c.get("filename"), str) and c["filename"].startswith("pty:")}
            except PyvirtError as exc:
                log.warning("%s: query-chardev failed: %s", rec.name, exc)
                return False
            except (TypeError, KeyError, AttributeError) as exc:
                log.warning("%s: query-chardev answered nonsense: %s", rec.name, exc)
                return False
        changed = False
        if dom is not None:
            for dev in [*dom.devices.serials, *dom.devices.consoles, *dom.devices.channels]:
                alias = getattr(dev, "alias", None)
                pty = ptys.get(f"char{alias}") if dev.type == "pty" and alias else None
                if pty is not None and (dev.source_path, dev.tty) != (pty, pty):
                    dev.source_path = dev.tty = pty
                    changed = True
        path = ptys.get("charserial0") or next(iter(ptys.values()), None)
        if path:
            relay = ConsoleRelay(path)
            try:
                relay.open()
            except OSError as exc:
                log.warning("%s: cannot open console pty %s: %s", rec.name, path, exc)
                return changed
            rec.run.console = relay
        return changed

    def _save_runtime(self, rec: DomainRecord, phase: str | None = None, intent: str | None = None,
                      xml: bool = True) -> None:
        """The runtime record, and with `xml` the live XML (serializing it is most of the cost:
        callers that changed only the state pass xml=False)."""
        if rec.run is None:
            return
        record = self._runtime_record(rec, phase, intent)
        live_xml = rec.live.to_xml(security_info=True) if xml and rec.live is not None else None
        self.store.save_runtime(rec.name, record, live_xml)

    @staticmethod
    def _runtime_record(rec: DomainRecord, phase: str | None = None, intent: str | None = None) -> dict[str, Any]:
        assert rec.run is not None
        state = phase or {DomainState.RUNNING: "running", DomainState.PAUSED: "paused"}.get(
            DomainState(rec.state), "running")
        record = {"id": rec.id, "state": state, "reason": int(rec.reason), "start_time": rec.run.start_time,
                  "persistent": rec.persistent, **rec.run.ident.to_dict()}
        if intent:
            record["intent"] = intent
        if rec.run.unplugging:  # unplugs asked for, the guest not yet done (daemon.hotplug)
            record["unplugging"] = rec.run.unplugging
        if rec.run.taints:  # libvirt keeps them in the domain's status XML
            record["taints"] = sorted(rec.run.taints)
        if rec.run.deprecations:
            record["deprecations"] = list(rec.run.deprecations)
        return record

    # ------------------------------------------------------------------ supervision
    async def _supervise(self, rec: DomainRecord) -> None:
        run = rec.run
        assert run is not None
        waiter = asyncio.create_task(process.wait_for_exit(run.ident))
        readers = [asyncio.create_task(self._read_events(rec, run)),
                   asyncio.create_task(self._relay_monitor_events(rec, run))]
        try:
            await waiter
        finally:
            for reader in readers:
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

    async def _relay_monitor_events(self, rec: DomainRecord, run: Running) -> None:
        """Every QMP event onto the event stream as a Domain.qemu-monitor event (virsh qemu-monitor-event)."""
        if run.monitor_listener is None:
            return
        async for event in run.monitor_listener:
            self.events.publish(events.monitor_event(event, rec.name, rec.uuid, rec.id))

    async def _on_qmp_event(self, rec: DomainRecord, run: Running, name: str, data: dict[str, Any]) -> None:
        if name == "SHUTDOWN":
            guest = bool(data.get("guest"))
            if run.stop_reason is not None:
                return
            if run.fake_reboot:
                run.fake_reboot = False
                await self._qmp(run, "system_reset")
                await self._qmp(run, "cont")
                return
            run.guest_shutdown = True
            dom = rec.current()
            reset = data.get("reason") == "guest-reset"
            action = (dom.on_reboot if reset else dom.on_poweroff) or "destroy"
            self.events.emit(rec.name, rec.uuid, EventType.SHUTDOWN,
                             ShutdownDetail.GUEST if guest else ShutdownDetail.HOST, rec.id)
            if action in ("restart", "rename-restart") and not reset:
                await self._qmp(run, "system_reset")
                await self._qmp(run, "cont")
                return
            rec.state, rec.reason = DomainState.SHUTDOWN, 1
            run.stop_reason, run.stop_detail = ShutoffReason.SHUTDOWN, StoppedDetail.SHUTDOWN
            with contextlib.suppress(Exception):
                await self._qmp(run, "quit")
        elif name in BLOCK_JOB_EVENTS:
            await self.on_block_job_event(rec, run, name, data)
        elif name == "DEVICE_DELETED":
            await self.device_deleted(rec, run, data)
        elif name == "BLOCK_WRITE_THRESHOLD":
            self.on_block_threshold(rec, run, data)
        elif name == "VSERPORT_CHANGE":
            self.on_vserport_change(rec, data)
        elif name in ("SUSPEND", "SUSPEND_DISK", "WAKEUP"):
            self.on_pm_event(rec, name)
        elif name in events.PASSED_ON:
            if name == "RESET":  # who reset the guest (the guest itself, a panic, QMP): in the log
                log.info("%s: QEMU reset the guest (%s)", rec.name, data.get("reason", "no reason given"))
            passed = events.from_qmp(name, data, rec.name, rec.uuid, rec.id)
            if passed is not None:
                self.events.publish(passed)
        elif name == "GUEST_PANICKED":
            action = rec.current().on_crash or "destroy"
            self.events.emit(rec.name, rec.uuid, EventType.CRASHED, 0, rec.id)
            if action == "restart":
                await self._qmp(run, "system_reset")
                await self._qmp(run, "cont")
            elif action in ("destroy", "coredump-destroy"):
                run.stop_reason, run.stop_detail = ShutoffReason.CRASHED, StoppedDetail.CRASHED
                process.kill(run.ident, signal.SIGTERM)
            else:
                rec.state, rec.reason = DomainState.CRASHED, 1

    async def _on_exit(self, rec: DomainRecord, run: Running, emit: bool = True) -> None:
        """The one place a guest's end is handled, whatever ended it (a failed start: emit=False)."""
        if run.stop_reason is None:
            run.stop_reason, run.stop_detail = ShutoffReason.CRASHED, StoppedDetail.FAILED
        await self._close_monitor(run)
        if run.agent is not None:
            run.agent.set_connected(False)  # a call waiting on the agent ends now
        if run.console is not None:
            run.console.close()
        self.ports.release(run.ports)
        if self.nwfilters is not None:  # its taps went with QEMU: their filter rules go too
            await asyncio.to_thread(self.nwfilters.unbind_owner, rec.uuid)
        self.store.clear_runtime(rec.name)
        dom_id = rec.id
        rec.run, rec.live, rec.id = None, None, -1
        rec.compact()
        rec.state, rec.reason = DomainState.SHUTOFF, run.stop_reason
        run.exited.set()
        if not rec.persistent:
            self._remove_inactive(rec)
        if emit:
            self.events.emit(rec.name, rec.uuid, EventType.STOPPED, run.stop_detail or 0, dom_id)

    # ------------------------------------------------------------------ operations on a running guest
    def _running(self, rec: DomainRecord) -> Running:
        if rec.run is None or not rec.active:
            raise operation_invalid("domain is not running")
        return rec.run

    async def _qmp(self, run: Running, command: str, args: dict[str, Any] | None = None,
                   timeout: float | None = None) -> Any:
        """Every monitor command goes through here: one deadline, one error mapping."""
        from pyvirt.qemu.qmp import Runstate  # loaded with the first guest's monitor

        timeout = timeout or self.monitor_timeout
        if run.qmp is None or run.qmp.runstate != Runstate.RUNNING:
            raise MonitorGone("domain is not running")  # QEMU is on its way out (or never answered)
        try:
            return await asyncio.wait_for(run.qmp.execute(command, args), timeout)
        except PyvirtError:
            raise
        except TimeoutError as exc:
            raise PyvirtError(f"Timed out during operation: QEMU did not answer {command} within {timeout:g} s",
                              ErrorCode.OPERATION_TIMEOUT, ErrorDomain.QEMU) from exc
        except Exception as exc:  # noqa: BLE001
            if run.qmp is None or run.qmp.runstate != Runstate.RUNNING:  # QEMU went away meanwhile
                raise MonitorGone("domain is not running") from exc
            raise PyvirtError(f"internal error: QMP {command} failed: {exc}", ErrorCode.INTERNAL_ERROR,
                              ErrorDomain.QEMU) from exc

    async def destroy(self, dom: str, graceful: bool = False, remove_logs: bool = False) -> None:
        """Signal QEMU without waiting for the domain's lock: an operation stuck on a wedged
        monitor holds that lock, and destroy is how a user gets out of exactly that.
        `remove_logs`: the domain's QEMU log and its rotations go once QEMU is gone
        (qemuDomainRemoveLogs)."""
        await self._destroy(dom, graceful)
        if remove_logs:
            remove_domain_logs(self.paths.qemu_log, self.lookup(dom).name)

    async def _destroy(self, dom: str, graceful: bool) -> None:
        rec = self.lookup(dom)
        run = rec.run
        if run is None or not rec.active:
            raise operation_invalid("domain is not running")
        if run.stop_reason is None:
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

    async def shutdown(self, dom: str, mode: str | None = None) -> None:
        await self._power_button(dom, mode, then_reboot=False)

    async def reboot(self, dom: str, mode: str | None = None) -> None:
        """libvirt's "fake reboot": the ACPI power button, then a reset instead of a quit."""
        await self._power_button(dom, mode, then_reboot=True)

    async def _power_button(self, ref: str, mode: str | None, then_reboot: bool) -> None:
        """ACPI power button, or the guest agent's guest-shutdown: `mode` is virsh's list
        ("acpi", "agent", "acpi,agent"; none: the agent when it is connected, else ACPI — libvirt's
        qemuDomainShutdownFlags), the agent tried first and ACPI the fallback when both are allowed."""
        rec = self.lookup(ref)
        modes = {m for m in (mode or "").split(",") if m}
        if modes - {"acpi", "agent"}:
            what = "reboot" if then_reboot else "shutdown"
            raise PyvirtError(f"Operation not supported: {what} mode '{mode}' is not supported",
                              ErrorCode.OPERATION_UNSUPPORTED, ErrorDomain.QEMU)
        run = self._running(rec)
        use_agent = "agent" in modes or (not modes and run.agent is not None and bool(run.agent.connected))
        if not modes and not use_agent and agent_channel(rec.live) is not None:
            with contextlib.suppress(PyvirtError):  # connected but not asked yet since a daemon restart
                _rec, agent = await self._agent(ref)
                use_agent = bool(agent.connected)
        if use_agent:
            try:
                await self.agent_power(ref, "reboot" if then_reboot else "powerdown")
                log.info("%s: guest agent asked to %s", rec.name, "reboot" if then_reboot else "power down")
                return
            except PyvirtError as exc:
                if modes == {"agent"}:
                    raise
                log.info("%s: guest agent did not take the request (%s); ACPI power button", rec.name, exc.message)
        async with rec.lock:
            run = self._running(rec)
            run.fake_reboot = then_reboot
            await self._qmp(run, "system_powerdown")

    async def reset(self, dom: str) -> None:
        rec = self.lookup(dom)
        async with rec.lock:
            await self._qmp(self._running(rec), "system_reset")

    async def inject_nmi(self, dom: str) -> None:
        rec = self.lookup(dom)
        async with rec.lock:
            await self._qmp(self._running(rec), "inject-nmi")

    async def suspend(self, dom: str) -> None:
        rec = self.lookup(dom)
        async with rec.lock:
            run = self._running(rec)
            if rec.state == DomainState.PAUSED:
                return  # libvirt: suspending a paused domain succeeds
            await self._qmp(run, "stop")
            rec.state, rec.reason = DomainState.PAUSED, PausedReason.USER
            self._save_runtime(rec, xml=False)
        self.events.emit(rec.name, rec.uuid, EventType.SUSPENDED, SuspendedDetail.PAUSED, rec.id)

    async def resume(self, dom: str) -> None:
        rec = self.lookup(dom)
        async with rec.lock:
            run = self._running(rec)
            if rec.state != DomainState.PAUSED:
                raise operation_invalid("domain is not paused")
            await self._qmp(run, "cont")
            rec.state, rec.reason = DomainState.RUNNING, RunningReason.UNPAUSED
            self._save_runtime(rec, xml=False)
        self.events.emit(rec.name, rec.uuid, EventType.RESUMED, ResumedDetail.UNPAUSED, rec.id)

    async def send_key(self, dom: str, codeset: str, holdtime: int, keycodes: list[int]) -> None:
        """QEMU's send-key takes qnum numbers: every code set is translated to them first, as
        libvirt's qemuDomainSendKey does (linux codes were sent as they were: KEY_DELETE 111
        became another key, and a qnum code was sent as a qcode, which QEMU refused)."""
        from pyvirt.connection import check_send_key, send_key_qnum

        check_send_key(holdtime, keycodes)
        rec = self.lookup(dom)
        qnums = send_key_qnum(codeset, keycodes)
        args: dict[str, Any] = {"keys": [{"type": "number", "data": k} for k in qnums]}
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
        self.save_load_index()  # what was defined since the start need not be parsed at the next
        self.events.close()


attach(QemuDriver, DEFERRED_BASES, _DEFERRED_NAMES)
