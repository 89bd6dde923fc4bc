"""Live migration between two pyvirtd: libvirt's phases, each an operation the client calls.

The client (``pyvirt migrate``, cli/cmd_migrate.py) holds a connection to each daemon and drives:

1. **begin** (source): the guest's XML (secrets included) and, when storage is copied, its disks;
2. **prepare** (destination): disks created, a QEMU started with ``-incoming defer`` and paused,
   an NBD server exporting the disks (``block-export-add``), ``migrate-incoming tcp:HOST:PORT``;
3. **perform** (source): each disk mirrored into the NBD export (``blockdev-add`` of an nbd node
   + ``blockdev-mirror``, waited until in sync), then QMP ``migrate``; a job that
   :meth:`get_job_info` reports on (virsh's ``--verbose`` and ``domjobinfo``) and
   :meth:`abort_job` cancels.  When QEMU says "completed" the mirrors are finished
   (``block-job-cancel`` on a synchronised mirror completes it) and the source stays paused;
4. **finish** (destination): the guest runs there (and is defined, with ``--persistent``);
5. **confirm** (source): only now is the source QEMU stopped (shut off, reason "migrated").

Any failure before finish leaves the guest running on the source: the job's own cleanup cancels
QEMU's migration and the mirrors and resumes the guest; ``finish(cancelled=True)`` kills the
destination QEMU and removes the disks prepare created.  Migration URIs are only ever
``tcp:HOST:PORT`` built or checked here: nothing a client sends reaches QEMU's ``exec:``.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import os
import socket
import time
import uuid as uuidlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pyvirt.api import (
    DomainInfo,
    DomainState,
    ErrorCode,
    ErrorDomain,
    EventType,
    JobCompletedEvent,
    JobInfo,
    MigrationDisk,
    MigrationSource,
    MigrationTarget,
    PyvirtError,
    ResumedDetail,
    RunningReason,
    ShutoffReason,
    StoppedDetail,
    operation_invalid,
)
from pyvirt.daemon import migration_tls, model, session
from pyvirt.daemon.migstatus import POLL, wait_migration
from pyvirt.daemon.migstatus import failed as _failed
from pyvirt.daemon.saves import UNLIMITED_BANDWIDTH

if TYPE_CHECKING:
    from pyvirt.daemon.records import DomainRecord, Running
    from pyvirt.xml import Domain

log = logging.getLogger(__name__)

MiB = 1 << 20
#: libvirt's QEMU_DOMAIN_MIG_BANDWIDTH_MAX (MiB/s): the most migrate-setspeed takes, and what
#: migrate-getspeed says until a speed is set
MAX_SPEED_MIB = ((1 << 63) - 1) // MiB
JOB_TIMEOUT = 900.0       # a whole migration; abort_job ends one sooner
COPY_MODES = (None, "all", "inc")
# libvirt's virDomainJobType and virDomainJobOperation
JOB_NONE, JOB_UNBOUNDED, JOB_COMPLETED, JOB_FAILED, JOB_CANCELLED = 0, 2, 3, 4, 5
OP_MIGRATION_IN, OP_MIGRATION_OUT = 4, 5


#: the fd name a tunnelled migration's stream has in QEMU, and what prepare answers for its URI
TUNNEL_FD = "pyvirt-tunnel"
TUNNEL_URI = "tunnel"


def _invalid(message: str) -> PyvirtError:
    return PyvirtError(f"invalid argument: {message}", ErrorCode.INVALID_ARG, ErrorDomain.QEMU)


def _host_port(text: str, what: str) -> tuple[str, int]:
    """"HOST:PORT" (IPv6 in brackets) with HOST an address or a plain host name."""
    host, sep, port = text.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not sep or not port.isdigit() or not 0 < int(port) < 65536 or not host:
        raise _invalid(f"{what} '{text}' must be HOST:PORT")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if not all(part and all(c.isalnum() or c == "-" for c in part) for part in host.split(".")):
            raise _invalid(f"{what} '{text}': '{host}' is not an address or a host name") from None
    return host, int(port)


def _unix_path(path: str, what: str) -> str:
    if not path.startswith("/") or "\0" in path or len(path.encode()) > 107:
        raise _invalid(f"{what} socket '{path}' must be an absolute path of at most 107 bytes")
    return path


def _migration_uri(uri: str) -> str:
    """Only tcp:HOST:PORT or unix:/PATH reaches QEMU's migrate (never exec:, fd: or file:)."""
    scheme, _, rest = uri.partition(":")
    if scheme == "unix":
        return f"unix:{_unix_path(rest, 'migration')}"
    if scheme != "tcp":
        raise _invalid(f"migration URI '{uri}' must be tcp:HOST:PORT or unix:/PATH")
    host, port = _host_port(rest, "migration URI")
    return f"tcp:[{host}]:{port}" if ":" in host else f"tcp:{host}:{port}"


def _nbd_server(nbd: str) -> dict[str, Any]:
    """The destination's NBD server as QMP's SocketAddress: HOST:PORT or unix:/PATH."""
    if nbd.startswith("unix:"):
        return {"type": "unix", "path": _unix_path(nbd[5:], "NBD")}
    host, port = _host_port(nbd, "NBD server")
    return {"type": "inet", "host": host, "port": str(port)}


def listen_channel(spec: str | None, default_host: str, what: str) -> dict[str, Any]:
    """Where the destination listens, from libvirt's --migrateuri/--disks-uri forms
    (``unix:///PATH``, ``tcp://HOST[:PORT]``, ``tcp:HOST:PORT``); none: a free port on
    `default_host`.  A SocketAddress for QMP."""
    if spec is None:
        return {"type": "inet", "host": default_host, "port": str(_free_port(default_host))}
    if spec.startswith("unix://"):
        path = _unix_path(spec[len("unix://"):], what)
        if os.path.lexists(path):
            raise _invalid(f"{what} socket '{path}' already exists")
        return {"type": "unix", "path": path}
    rest = spec[len("tcp://"):] if spec.startswith("tcp://") else spec[len("tcp:"):] if spec.startswith("tcp:") else None
    if rest is None:
        raise _invalid(f"{what} URI '{spec}' must be unix:///PATH or tcp://HOST[:PORT]")
    rest = rest.rstrip("/")
    if ":" not in rest.lstrip("[").split("]")[-1]:  # no port: a free one
        host = rest[1:-1] if rest.startswith("[") else rest
        _host_port(f"{rest}:1", f"{what} URI")
        return {"type": "inet", "host": host, "port": str(_free_port(host))}
    host, port = _host_port(rest, f"{what} URI")
    return {"type": "inet", "host": host, "port": str(port)}


def _unlink_all(paths: list[str]) -> None:
    for path in paths:
        with contextlib.suppress(OSError):
            os.unlink(path)


def channel_text(addr: dict[str, Any], scheme: str = "") -> str:
    """A SocketAddress as QEMU's migration URI (scheme "tcp:") or the NBD string perform takes."""
    if addr["type"] == "unix":
        return f"unix:{addr['path']}"
    host = f"[{addr['host']}]" if ":" in addr["host"] else addr["host"]
    return f"{scheme}{host}:{addr['port']}"


def _free_port(host: str) -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def copied_disks(dom: Domain) -> list[Any]:
    """The disks --copy-storage-* copies: writable file-backed disks (not cdroms, not shared)."""
    return [d for d in dom.devices.disks
            if d.device in (None, "disk") and d.source_file and not d.readonly and not d.shareable]


@dataclass
class OutgoingJob:
    was_running: bool
    started: float = field(default_factory=time.monotonic)
    ended: float | None = None
    status: str = "active"          # active, completed, failed, cancelled
    error: str | None = None
    stats: dict[str, Any] = field(default_factory=dict)   # the last query-migrate answer
    disks: dict[str, tuple[int, int]] = field(default_factory=dict)  # mirror job -> (done, total)
    mirrors: list[str] = field(default_factory=list)
    nodes: list[str] = field(default_factory=list)
    aborting: bool = False
    tls: str | None = None          # the credentials object of a --tls migration
    tls_hostname: str | None = None  # --tls-destination: the name the certificates must carry
    stats_read: bool = False        # its completed statistics were read without keep_completed
    task: asyncio.Task[None] | None = None

    @property
    def active(self) -> bool:
        return self.status == "active"


@dataclass
class IncomingJob:
    name: str
    created: list[str]
    task: asyncio.Task[None]
    ready: asyncio.Future[tuple[str, str | None]]
    abandon: asyncio.Event                   # set: stop waiting for the guest (finish(cancelled))
    sockets: list[str] = field(default_factory=list)  # unix channels' socket files
    tunnel: list[socket.socket] = field(default_factory=list)  # --tunnelled: pyvirtd's end of QEMU's stream


def _job_info(job: OutgoingJob) -> JobInfo:
    """An outgoing job as virDomainGetJobStats reports it: memory from QEMU's last query-migrate
    (nothing remaining once completed), disks from the mirror jobs, data = both."""
    stats, ram = job.stats, job.stats.get("ram", {})
    mem_total, mem_remaining = int(ram.get("total", 0)), int(ram.get("remaining", 0))
    if job.status == "completed":
        mem_remaining = 0
    disk_total = sum(t for _d, t in job.disks.values())
    disk_done = sum(d for d, _t in job.disks.values())
    disk_remaining = 0 if job.status == "completed" else max(disk_total - disk_done, 0)
    end = job.ended if job.ended is not None else time.monotonic()
    kind = {"active": JOB_UNBOUNDED, "completed": JOB_COMPLETED, "failed": JOB_FAILED,
            "cancelled": JOB_CANCELLED}[job.status]
    total, remaining = mem_total + disk_total, mem_remaining + disk_remaining
    return JobInfo(kind, OP_MIGRATION_OUT, int((end - job.started) * 1000), total, total - remaining, remaining,
                   mem_total, mem_total - mem_remaining, mem_remaining, int(ram.get("mbps", 0) * 1e6 / 8),
                   disk_total, disk_total - disk_remaining, disk_remaining,
                   int(stats.get("downtime", stats.get("expected-downtime", 0))), int(stats.get("setup-time", 0)),
                   int(ram.get("dirty-sync-count", 0)), job.error)


class MigrationMixin:
    """virDomainMigrate* for :class:`pyvirt.daemon.driver.QemuDriver`."""

    # the driver's: lookup, _running, _qmp, _start_locked, info, events, ...
    def _outgoing(self) -> dict[str, OutgoingJob]:
        return self.__dict__.setdefault("_outgoing_jobs", {})

    def _incoming(self) -> dict[str, IncomingJob]:
        return self.__dict__.setdefault("_incoming_jobs", {})

    def _arrived(self) -> dict[str, JobInfo]:
        """UUID -> the completed job of a guest that migrated in (operation 'Incoming migration')."""
        return self.__dict__.setdefault("_arrived_jobs", {})

    def _tunnels(self) -> set[str]:
        """UUIDs of domains whose QEMU holds the tunnel fd pyvirtd passed it (p2p --tunnelled)."""
        return self.__dict__.setdefault("_tunnel_fds", set())

    def _speeds_set(self) -> dict[str, int]:
        """migrate-setspeed's value per domain as given (MiB/s), what migrate-getspeed answers."""
        return self.__dict__.setdefault("_migration_speeds_set", {})

    def _speeds(self) -> dict[str, int]:
        """migrate-setspeed's value per domain (bytes/s), what its next migrations use, as libvirt
        keeps it; unset: unlimited (QEMU's own default of 32 MiB/s would crawl)."""
        return self.__dict__.setdefault("_migration_speeds", {})

    # ------------------------------------------------------------------ begin (source)
    async def migrate_begin(self, dom: str, copy_storage: str | None = None, tls: bool = False) -> MigrationSource:
        if copy_storage not in COPY_MODES:
            raise _invalid(f"copy_storage must be 'all' or 'inc', not {copy_storage!r}")
        migration_tls.check_allowed(self.paths.config, tls)  # type: ignore[attr-defined]
        rec = self.lookup(dom)  # type: ignore[attr-defined]
        run = self._running(rec)  # type: ignore[attr-defined]
        job = self._outgoing().get(rec.uuid)
        if job is not None and job.active:
            raise operation_invalid("another migration job is already running for this domain")
        live = rec.current()
        xml = live.to_xml(inactive=True, security_info=True)
        disks: list[MigrationDisk] = []
        if copy_storage:
            nodes = await self._block_nodes(run)
            for disk in copied_disks(live):
                image = nodes.get(disk.source_file, {}).get("image", {})
                disks.append(MigrationDisk(disk.target_dev or "", disk.source_file, disk.driver_type or "raw",
                                           int(image.get("virtual-size", 0)),
                                           image.get("backing-filename") if copy_storage == "inc" else None,
                                           image.get("backing-filename-format") if copy_storage == "inc" else None))
        return MigrationSource(xml, disks)

    async def _block_nodes(self, run: Running) -> dict[str, dict[str, Any]]:
        """query-block's inserted media by file name: node names, image sizes, backing files."""
        out: dict[str, dict[str, Any]] = {}
        for dev in await self._qmp(run, "query-block"):  # type: ignore[attr-defined]
            inserted = dev.get("inserted")
            if inserted and inserted.get("file"):
                out[inserted["file"]] = inserted
        return out

    # ------------------------------------------------------------------ prepare (destination)
    async def migrate_prepare(self, xml: str, disks: list[MigrationDisk] | None = None,
                              copy_storage: str | None = None, listen_address: str | None = None,
                              postcopy: bool = False, uri: str | None = None,
                              disks_uri: str | None = None, tls: bool = False,
                              tunnelled: bool = False) -> MigrationTarget:
        from pyvirt.daemon.records import DomainRecord

        if copy_storage not in COPY_MODES:
            raise _invalid(f"copy_storage must be 'all' or 'inc', not {copy_storage!r}")
        if tunnelled:
            from pyvirt.client.migrate import tunnel_limits

            tunnel_limits(copy_storage, tls, uri, disks_uri)
        config_dir = self.paths.config  # type: ignore[attr-defined]
        migration_tls.check_allowed(config_dir, tls, tunnelled)
        host = listen_address or "127.0.0.1"
        _host_port(f"{host}:1", "listen address")
        for spec, what in ((uri, "migration"), (disks_uri, "disks")):
            if spec is not None:
                listen_channel(spec, host, what)  # refused now, before anything starts
        dom = await asyncio.to_thread(model.parse_definition, xml, None, False)
        self._check_emulator(dom)  # type: ignore[attr-defined]
        name = dom.name or ""
        if name in self._incoming():
            raise operation_invalid(f"domain '{name}' is already being migrated here")
        async with self._registry_lock:  # type: ignore[attr-defined]
            existing = self._by_name.get(name)  # type: ignore[attr-defined]
            if existing is not None and existing.active:
                raise operation_invalid(f"domain '{name}' is already active")
            if existing is not None and dom.uuid and existing.uuid != dom.uuid:
                raise _failed(f"domain '{name}' already exists with uuid {existing.uuid}")
            if dom.uuid is None:
                dom.uuid = existing.uuid if existing else str(uuidlib.uuid4())
            other = self._by_uuid.get(dom.uuid)  # type: ignore[attr-defined]
            if existing is None and other is not None:
                raise _failed(f"domain '{other.name}' is already defined with uuid {dom.uuid}")
            rec = existing or DomainRecord(name=name, uuid=dom.uuid, config=None)
            self._index(rec)  # type: ignore[attr-defined]
        wanted = {d.target_dev: d for d in copied_disks(dom)} if copy_storage else {}
        try:
            created = await asyncio.to_thread(self._create_disks, disks or [], wanted, copy_storage)
        except BaseException:
            self._forget(rec)
            raise
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[tuple[str, str | None]] = loop.create_future()
        exports = sorted(wanted)
        sockets: list[str] = []
        tunnel: list[socket.socket] = []
        abandon = asyncio.Event()

        async def incoming(run: Running) -> None:
            if postcopy:
                await self._qmp(run, "migrate-set-capabilities",  # type: ignore[attr-defined]
                                {"capabilities": [{"capability": "postcopy-ram", "state": True}]})
            creds = await migration_tls.enable(self._qmp, run, config_dir, "server") if tls else None  # type: ignore[attr-defined]
            nbd = None
            if exports:
                addr = listen_channel(disks_uri, host, "disks")
                if addr["type"] == "unix":
                    sockets.append(addr["path"])  # QEMU leaves its socket file behind
                data = {k: v for k, v in addr.items() if k != "type"}
                server: dict[str, Any] = {"addr": {"type": addr["type"], "data": data}}
                if creds:
                    server["tls-creds"] = creds
                await self._qmp(run, "nbd-server-start", server)  # type: ignore[attr-defined]
                nodes = await self._block_nodes(run)
                for target in exports:
                    node = nodes[wanted[target].source_file]["node-name"]
                    await self._qmp(run, "block-export-add",  # type: ignore[attr-defined]
                                    {"type": "nbd", "id": f"migrate-{target}", "node-name": node,
                                     "name": target, "writable": True})
                nbd = channel_text(addr)
            if tunnelled:  # the stream arrives through pyvirtd (migrate_tunnel), over a socket pair
                ours, theirs = socket.socketpair()
                tunnel.append(ours)
                try:
                    await self._pass_fd(run, theirs.fileno(), TUNNEL_FD)  # type: ignore[attr-defined]
                finally:
                    theirs.close()
                qemu_uri = f"fd:{TUNNEL_FD}"
            else:
                addr = listen_channel(uri, host, "migration")
                if addr["type"] == "unix":
                    sockets.append(addr["path"])
                qemu_uri = channel_text(addr, "tcp:")
            await self._qmp(run, "migrate-incoming", {"uri": qemu_uri})  # type: ignore[attr-defined]
            ready.set_result((TUNNEL_URI if tunnelled else qemu_uri, nbd))
            await self._wait_incoming(run, abandon)
            if exports:
                await self._qmp(run, "nbd-server-stop")  # type: ignore[attr-defined]
            if creds:
                await migration_tls.disable(self._qmp, run)  # type: ignore[attr-defined]
            _unlink_all(sockets)

        async def start() -> None:
            async with rec.lock:
                await self._start_locked(rec, paused=True, definition=dom, incoming=incoming)  # type: ignore[attr-defined]

        task = asyncio.create_task(start(), name=f"migrate-in-{name}")
        job = IncomingJob(name, created, task, ready, abandon, sockets, tunnel)
        self._incoming()[name] = job
        await asyncio.wait({task, ready}, return_when=asyncio.FIRST_COMPLETED)
        if not ready.done():
            await self._drop_incoming(job)
            exc = task.exception() if not task.cancelled() else None
            raise exc if exc is not None else _failed("the destination QEMU did not start")
        uri, nbd = ready.result()

        def arrived(done: asyncio.Task[None]) -> None:
            # a source that never comes (its client died): the wait times out, and what prepare
            # made goes, as if the client had said finish(cancelled)
            if (done.cancelled() or done.exception() is not None) and self._incoming().get(name) is job:
                cleanup = asyncio.ensure_future(self._drop_incoming(job))
                self.__dict__.setdefault("_cleanups", set()).add(cleanup)
                cleanup.add_done_callback(self.__dict__["_cleanups"].discard)

        task.add_done_callback(arrived)
        owner = session.current.get()
        if owner is not None:  # libvirt's close callback (qemuMigrationDstPrepareCleanup)
            async def client_gone() -> None:
                # the client that prepared this went away before finish: the guest, arrived or
                # not, must not stay paused here beside the source's (a second copy anyone
                # could resume); the source keeps it, as after finish(cancelled)
                if self._incoming().get(name) is job:
                    log.warning("domain %s: the client of its incoming migration went away before "
                                "finish; dropping what prepare made", name)
                    await self._drop_incoming(job)

            owner.on_close(client_gone)
        return MigrationTarget(name, uri, nbd)

    def _forget(self, rec: DomainRecord) -> None:
        """A transient record prepare indexed and no QEMU runs for: gone, as a failed create's."""
        if not rec.persistent and not rec.active and self._by_name.get(rec.name) is rec:  # type: ignore[attr-defined]
            self._unindex(rec)  # type: ignore[attr-defined]

    @staticmethod
    def _create_disks(disks: list[MigrationDisk], wanted: dict[str, Any], copy_storage: str | None) -> list[str]:
        """The destination's copies, created as the source's are (size, format, and for "inc"
        the same backing file, which must exist here).  Existing files are used as they are."""
        from pyvirt.storage import qemuimg

        created: list[str] = []
        try:
            for disk in disks:
                local = wanted.get(disk.target)
                if local is None:
                    raise _invalid(f"disk '{disk.target}' to copy is not a writable file disk of the domain")
                path = local.source_file
                if os.path.exists(path):
                    continue
                if copy_storage == "inc" and disk.backing and not os.path.exists(disk.backing):
                    raise _failed(f"backing file '{disk.backing}' of disk '{disk.target}' is missing here")
                qemuimg.create(path, local.driver_type or disk.format or "raw", disk.capacity or None,
                               backing=disk.backing if copy_storage == "inc" else None,
                               backing_fmt=disk.backing_format)
                os.chmod(path, 0o600)
                created.append(path)
        except BaseException:
            for path in created:
                with contextlib.suppress(OSError):
                    os.unlink(path)
            raise
        missing = [t for t in wanted if not any(d.target == t for d in disks) and not os.path.exists(wanted[t].source_file)]
        if missing and copy_storage:
            raise _failed(f"no size given for disk(s) {', '.join(missing)} to create")
        return created

    async def _wait_incoming(self, run: Running, abandon: asyncio.Event) -> None:
        """Until QEMU says the guest arrived; a flag, not a task cancellation, ends it early
        (Python 3.11's wait_for can swallow a cancellation that meets a monitor reply)."""
        async def query() -> dict[str, Any]:
            if abandon.is_set():
                raise _failed("incoming migration cancelled")
            return await self._qmp(run, "query-migrate")  # type: ignore[attr-defined]

        await wait_migration(query, what="incoming migration", deadline=time.monotonic() + JOB_TIMEOUT,
                             timed_out=f"the guest did not arrive within {JOB_TIMEOUT:.0f} s")

    async def _drop_incoming(self, job: IncomingJob) -> None:
        """Kill the destination QEMU (if any) and remove the disks prepare created."""
        self._incoming().pop(job.name, None)
        job.abandon.set()
        if not job.task.done():
            await asyncio.wait({job.task}, timeout=30)
        if not job.task.done():  # stuck elsewhere (a start that hangs): cancel it after all
            job.task.cancel()
            await asyncio.wait({job.task}, timeout=30)
        if job.task.done() and not job.task.cancelled():
            job.task.exception()  # retrieved: the failure is the cancellation we asked for
        rec = self._by_name.get(job.name)  # type: ignore[attr-defined]
        if rec is not None and rec.active:
            with contextlib.suppress(PyvirtError):
                await self.destroy(job.name)  # type: ignore[attr-defined]
        if rec is not None:
            self._forget(rec)
        _unlink_all(job.created + job.sockets)
        for sock in job.tunnel:
            sock.close()
        job.tunnel.clear()

    def take_tunnel(self, name: str) -> socket.socket:
        """pyvirtd's end of the stream an incoming --tunnelled migration of `name` reads: for the
        one connection that carries it (migrate_tunnel), once."""
        job = self._incoming().get(name)
        if job is None or not job.tunnel:
            raise operation_invalid(f"no tunnelled incoming migration of domain '{name}' is waiting")
        return job.tunnel.pop()

    # ------------------------------------------------------------------ finish (destination)
    async def migrate_finish(self, name: str, cancelled: bool = False, persistent: bool = False,
                             stats: dict[str, Any] | None = None) -> DomainInfo | None:
        job = self._incoming().get(name)
        if job is None:
            raise operation_invalid(f"no incoming migration of domain '{name}'")
        if cancelled:
            await self._drop_incoming(job)
            return None
        try:
            await asyncio.wait_for(asyncio.shield(job.task), JOB_TIMEOUT)
        except BaseException as exc:
            await self._drop_incoming(job)
            if isinstance(exc, PyvirtError):
                raise
            raise _failed(f"the guest did not arrive: {exc}") from exc
        self._incoming().pop(name, None)
        for sock in job.tunnel:
            sock.close()
        rec = self.lookup(name)  # type: ignore[attr-defined]
        async with rec.lock:
            run = self._running(rec)  # type: ignore[attr-defined]
            await self._qmp(run, "cont")  # type: ignore[attr-defined]
            rec.state, rec.reason = DomainState.RUNNING, RunningReason.MIGRATED
            self._save_runtime(rec)  # type: ignore[attr-defined]
        self.events.emit(rec.name, rec.uuid, EventType.RESUMED, ResumedDetail.MIGRATED, rec.id)  # type: ignore[attr-defined]
        self._outgoing().pop(rec.uuid, None)  # an earlier trip out of here is no longer the last job
        if stats:  # the source's completed job, seen from here (libvirt's destination keeps it too)
            arrived = JobInfo.from_dict(stats)
            arrived.type, arrived.operation, arrived.error = JOB_COMPLETED, OP_MIGRATION_IN, None
            self._arrived()[rec.uuid] = arrived
        if persistent:
            await self.define_xml(rec.current().to_xml(inactive=True, security_info=True))  # type: ignore[attr-defined]
        return self.info(rec)  # type: ignore[attr-defined]

    # ------------------------------------------------------------------ perform (source)
    async def migrate_perform(self, dom: str, uri: str, nbd: str | None = None, copy_storage: str | None = None,
                              live: bool = False, auto_converge: bool = False, postcopy: bool = False,
                              bandwidth: int = 0, tls: bool = False, tls_destination: str | None = None) -> None:
        if copy_storage not in COPY_MODES:
            raise _invalid(f"copy_storage must be 'all' or 'inc', not {copy_storage!r}")
        if copy_storage and not nbd:
            raise _invalid("copying storage needs the destination's NBD server")
        if bandwidth < 0:
            raise _invalid("bandwidth must not be negative")
        if tls_destination is not None and not tls:
            raise _invalid("a TLS destination name needs a TLS migration")
        if tls_destination is not None:
            _host_port(f"{tls_destination}:1", "TLS destination")
        rec = self.lookup(dom)  # type: ignore[attr-defined]
        # fd:pyvirt-tunnel only when this daemon passed QEMU that fd itself (p2p --tunnelled)
        qemu_uri = uri if uri == f"fd:{TUNNEL_FD}" and rec.uuid in self._tunnels() else _migration_uri(uri)
        nbd_server = _nbd_server(nbd) if nbd else None
        async with rec.lock:
            run = self._running(rec)  # type: ignore[attr-defined]
            old = self._outgoing().get(rec.uuid)
            if old is not None and old.active:
                raise operation_invalid("another migration job is already running for this domain")
            job = OutgoingJob(was_running=rec.state == DomainState.RUNNING)
            try:
                if tls:
                    host = tls_destination or migration_tls.hostname_of(
                        _nbd_server(qemu_uri[4:]) if qemu_uri.startswith("tcp:") else {"type": "unix"})
                    job.tls_hostname = tls_destination
                    job.tls = await migration_tls.enable(self._qmp, run, self.paths.config, "client", host)  # type: ignore[attr-defined]
                caps = [{"capability": "auto-converge", "state": auto_converge},
                        {"capability": "postcopy-ram", "state": postcopy}]
                await self._qmp(run, "migrate-set-capabilities", {"capabilities": caps})  # type: ignore[attr-defined]
                speed = bandwidth * MiB if bandwidth else self._speeds().get(rec.uuid, UNLIMITED_BANDWIDTH)
                await self._qmp(run, "migrate-set-parameters", {"max-bandwidth": speed})  # type: ignore[attr-defined]
            except BaseException:
                if job.tls:
                    await migration_tls.disable(self._qmp, run)  # type: ignore[attr-defined]
                raise
            if not live and job.was_running:  # libvirt's non-live migration: the guest stands still
                await self._qmp(run, "stop")  # type: ignore[attr-defined]
            self._outgoing()[rec.uuid] = job
            self._arrived().pop(rec.uuid, None)
        job.task = asyncio.create_task(self._run_outgoing(rec, run, job, qemu_uri, nbd_server, copy_storage),
                                       name=f"migrate-out-{rec.name}")
        owner = session.current.get()
        if owner is not None:  # libvirt's close callback (qemuMigrationSrcCleanup)
            async def client_gone() -> None:
                if self._outgoing().get(rec.uuid) is not job:
                    return
                if job.active:  # still copying: cancelled, the guest goes on here
                    log.warning("domain %s: the client of its migration went away; cancelling it", rec.name)
                    with contextlib.suppress(PyvirtError):
                        await self.abort_job(rec.uuid)
                elif job.status == "completed" and rec.run is run:  # sent, never confirmed (libvirt's
                    # PERFORM3_DONE): whether the guest runs on the destination is unknown here
                    log.warning("domain %s: the client of its migration went away after the guest was "
                                "sent; it stays paused here (resume it, or destroy it if it runs on the "
                                "destination)", rec.name)

            owner.on_close(client_gone)

    async def _run_outgoing(self, rec: DomainRecord, run: Running, job: OutgoingJob, uri: str,
                            nbd: dict[str, Any] | None, copy_storage: str | None) -> None:
        deadline = time.monotonic() + JOB_TIMEOUT
        try:
            if nbd is not None:
                await self._start_mirrors(rec, run, job, nbd, copy_storage)
                await self._wait_mirrors_ready(run, job, deadline)
            if job.aborting:  # an abort that came before QEMU's migration began
                raise _failed("migration cancelled")
            await self._qmp(run, "migrate", {"uri": uri})  # type: ignore[attr-defined]

            async def query() -> dict[str, Any]:
                if job.aborting:  # abort_job's migrate_cancel may have reached QEMU before migrate:
                    # said again until QEMU's migration ends (a no-op once it has)
                    await self._qmp(run, "migrate_cancel")  # type: ignore[attr-defined]
                job.stats = await self._qmp(run, "query-migrate")  # type: ignore[attr-defined]
                return job.stats

            async def progress(_info: dict[str, Any]) -> None:
                if job.mirrors:
                    await self._mirror_progress(run, job)

            await wait_migration(query, what="migration", deadline=deadline, each=progress,
                                 timed_out=f"migration took longer than {JOB_TIMEOUT:.0f} s")
            await self._finish_mirrors(run, job)
            job.status = "completed"
        except BaseException as exc:  # noqa: BLE001 - every failure leaves the guest running here
            job.status = "cancelled" if job.aborting or isinstance(exc, asyncio.CancelledError) else "failed"
            job.error = exc.message if isinstance(exc, PyvirtError) else f"{type(exc).__name__}: {exc}"
            log.warning("%s: migration %s: %s", rec.name, job.status, job.error)
            await self._undo_outgoing(rec, run, job)
        finally:
            job.ended = time.monotonic()

    async def _start_mirrors(self, rec: DomainRecord, run: Running, job: OutgoingJob, nbd: dict[str, Any],
                             copy_storage: str | None) -> None:
        nodes = await self._block_nodes(run)
        for disk in copied_disks(rec.current()):
            target = disk.target_dev or ""
            node = nodes.get(disk.source_file, {}).get("node-name")
            if not node:
                raise _failed(f"disk '{target}' has no block node to mirror")
            remote = f"migrate-{target}"
            node_args: dict[str, Any] = {"driver": "nbd", "node-name": remote, "export": target, "server": nbd}
            if job.tls:
                node_args.update({"tls-creds": job.tls, "tls-hostname": job.tls_hostname or migration_tls.hostname_of(nbd)})
            await self._qmp(run, "blockdev-add", node_args)  # type: ignore[attr-defined]
            job.nodes.append(remote)
            await self._qmp(run, "blockdev-mirror", {"job-id": remote, "device": node, "target": remote,  # type: ignore[attr-defined]
                                                      "sync": "top" if copy_storage == "inc" else "full",
                                                      "auto-finalize": True, "auto-dismiss": True})
            job.mirrors.append(remote)

    async def _mirror_progress(self, run: Running, job: OutgoingJob) -> dict[str, dict[str, Any]]:
        jobs = {j["device"]: j for j in await self._qmp(run, "query-block-jobs")}  # type: ignore[attr-defined]
        for name in job.mirrors:
            if name in jobs:
                job.disks[name] = (int(jobs[name].get("offset", 0)), int(jobs[name].get("len", 0)))
        return jobs

    async def _wait_mirrors_ready(self, run: Running, job: OutgoingJob, deadline: float) -> None:
        while True:
            if job.aborting:
                raise _failed("migration cancelled")
            jobs = await self._mirror_progress(run, job)
            gone = [m for m in job.mirrors if m not in jobs]
            if gone:
                raise _failed(f"copying disk {gone[0].removeprefix('migrate-')} to the destination failed")
            if all(jobs[m].get("ready") for m in job.mirrors):
                return
            if time.monotonic() > deadline:
                raise _failed(f"copying the disks took longer than {JOB_TIMEOUT:.0f} s")
            await asyncio.sleep(POLL)

    async def _finish_mirrors(self, run: Running, job: OutgoingJob) -> None:
        """The guest is paused and the mirrors are in sync: completing them (block-job-cancel on a
        ready mirror) flushes the last writes to the destination before it may run."""
        for name in job.mirrors:
            await self._qmp(run, "block-job-cancel", {"device": name})  # type: ignore[attr-defined]
        await self._wait_mirrors_gone(run, job)
        await self._drop_nodes(run, job)

    async def _wait_mirrors_gone(self, run: Running, job: OutgoingJob, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while job.mirrors:
            jobs = await self._mirror_progress(run, job)
            job.mirrors = [m for m in job.mirrors if m in jobs]
            if not job.mirrors:
                return
            if time.monotonic() > deadline:
                raise _failed("disk mirrors did not end")
            await asyncio.sleep(POLL)

    async def _drop_nodes(self, run: Running, job: OutgoingJob) -> None:
        for node in job.nodes:
            with contextlib.suppress(PyvirtError):
                await self._qmp(run, "blockdev-del", {"node-name": node})  # type: ignore[attr-defined]
        job.nodes = []

    async def _undo_outgoing(self, rec: DomainRecord, run: Running, job: OutgoingJob) -> None:
        """The guest goes on here as it was: QEMU's migration and the mirrors cancelled, vCPUs running."""
        if run.qmp is None or rec.run is not run:
            return  # the source QEMU itself is gone: nothing to resume
        with contextlib.suppress(BaseException):
            await self._qmp(run, "migrate_cancel")  # type: ignore[attr-defined]
        for name in job.mirrors:
            with contextlib.suppress(BaseException):
                await self._qmp(run, "block-job-cancel", {"device": name, "force": True})  # type: ignore[attr-defined]
        with contextlib.suppress(BaseException):
            await self._wait_mirrors_gone(run, job, 10)
        with contextlib.suppress(BaseException):
            await self._drop_nodes(run, job)
        if job.tls:
            with contextlib.suppress(BaseException):
                await migration_tls.disable(self._qmp, run)  # type: ignore[attr-defined]
        if job.was_running:
            with contextlib.suppress(BaseException):
                status = await self._qmp(run, "query-status")  # type: ignore[attr-defined]
                if not status.get("running"):
                    await self._qmp(run, "cont")  # type: ignore[attr-defined]
                rec.state, rec.reason = DomainState.RUNNING, RunningReason.MIGRATION_CANCELED

    # ------------------------------------------------------------------ confirm (source)
    async def migrate_confirm(self, dom: str, cancelled: bool = False, undefine_source: bool = False) -> None:
        rec = self.lookup(dom)  # type: ignore[attr-defined]
        job = self._outgoing().get(rec.uuid)
        if job is None:
            raise operation_invalid("no migration job for this domain")
        if cancelled:
            if job.active:
                await self.abort_job(dom)
            if job.task is not None:
                with contextlib.suppress(BaseException):
                    await job.task
            return
        if job.status != "completed":
            raise operation_invalid(f"the migration job is {job.status}, not completed")
        run = rec.run
        if run is not None and rec.active and not await self._quit_qemu(  # type: ignore[attr-defined]
                run, ShutoffReason.MIGRATED, StoppedDetail.MIGRATED):
            await self.destroy(dom)  # type: ignore[attr-defined]
        # after 'stopped migrated', as libvirt's qemuMigrationSrcComplete: the job's statistics
        self.events.publish(JobCompletedEvent(rec.name, rec.uuid, timestamp=time.time(),  # type: ignore[attr-defined]
                                              params=_job_info(job).migration_params()))
        if undefine_source and rec.persistent:
            await self.undefine(rec.uuid)  # type: ignore[attr-defined]

    # ------------------------------------------------------------------ jobs
    async def get_job_info(self, dom: str, completed: bool = False, keep_completed: bool = False) -> JobInfo:
        rec = self.lookup(dom)  # type: ignore[attr-defined]
        if completed:
            return self._completed_job(rec, keep_completed)
        if not rec.active:  # qemuDomainGetJobStats: a shut-off domain has no job to ask about
            raise operation_invalid("domain is not running")
        backup = self._backup_job_info(rec, False)  # type: ignore[attr-defined]
        if backup is not None:
            return backup
        job = self._outgoing().get(rec.uuid)
        return _job_info(job) if job is not None and job.active else JobInfo()

    def _completed_job(self, rec: DomainRecord, keep: bool) -> JobInfo:
        """The last finished job (an active one while it runs, what the migration watchers poll),
        forgotten once read unless `keep`, as qemuDomainGetJobStats clears vm->job->completed."""
        backup = self._backup(rec)  # type: ignore[attr-defined]
        if backup is not None and backup.status != "active":
            if backup.stats_read:
                return JobInfo()
            backup.stats_read = not keep
            return self._backup_job_info(rec, True)  # type: ignore[attr-defined]
        job = self._outgoing().get(rec.uuid)
        if job is None:  # an arrived guest: the statistics its source sent (libvirt's Finish cookie)
            arrived = self._arrived().get(rec.uuid)
            if arrived is not None and not keep:
                del self._arrived()[rec.uuid]
            return arrived if arrived is not None else JobInfo()
        if not job.active:
            if job.stats_read:
                return JobInfo()
            job.stats_read = not keep
        return _job_info(job)

    async def abort_job(self, dom: str, *, postcopy: bool = False) -> None:
        rec = self.lookup(dom)  # type: ignore[attr-defined]
        job = self._outgoing().get(rec.uuid)
        if not rec.active:  # qemuDomainAbortJob's virDomainObjCheckActive, before the job is looked at
            raise operation_invalid("domain is not running")
        if postcopy:  # qemuDomainAbortJobPostcopy's check first, then pyvirt's refusal
            if job is None or not job.active or not str(job.stats.get("status", "")).startswith("postcopy"):
                raise operation_invalid("current job is not outgoing migration in post-copy mode")
            raise PyvirtError("Operation not supported: pyvirt does not pause a post-copy migration "
                              "(VIR_DOMAIN_ABORT_JOB_POSTCOPY): it cannot resume one", ErrorCode.OPERATION_UNSUPPORTED,
                              ErrorDomain.QEMU)
        if await self._abort_backup(rec):  # type: ignore[attr-defined]
            return
        if job is None or not job.active:
            raise operation_invalid("no job is active on the domain")
        job.aborting = True
        run = self._running(rec)  # type: ignore[attr-defined]
        with contextlib.suppress(PyvirtError):
            await self._qmp(run, "migrate_cancel")  # type: ignore[attr-defined]
        if job.task is not None:
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(asyncio.shield(job.task), 30)

    # ------------------------------------------------------------------ tunables
    async def _parameters(self, dom: str) -> dict[str, Any]:
        run = self._running(self.lookup(dom))  # type: ignore[attr-defined]
        return await self._qmp(run, "query-migrate-parameters")  # type: ignore[attr-defined]

    async def _set_parameters(self, dom: str, params: dict[str, Any]) -> None:
        run = self._running(self.lookup(dom))  # type: ignore[attr-defined]
        await self._qmp(run, "migrate-set-parameters", params)  # type: ignore[attr-defined]

    async def migrate_set_max_downtime(self, dom: str, downtime: int) -> None:
        if downtime <= 0:
            raise _invalid("migrate_set_max_downtime: downtime must be positive")
        await self._set_parameters(dom, {"downtime-limit": downtime})

    async def migrate_get_max_downtime(self, dom: str) -> int:
        return int((await self._parameters(dom)).get("downtime-limit", 300))

    async def migrate_set_max_speed(self, dom: str, bandwidth: int, postcopy: bool = False) -> None:
        """libvirt's qemuDomainMigrateSetMaxSpeed: a shut-off domain keeps the (pre-copy) speed for
        its next migration; a running one's QEMU gets it at once."""
        if bandwidth < 0:
            raise _invalid("bandwidth must not be negative")
        if bandwidth > MAX_SPEED_MIB:
            raise PyvirtError(f"numerical overflow: bandwidth must be less than {MAX_SPEED_MIB + 1}",
                              ErrorCode.OVERFLOW, ErrorDomain.QEMU)
        rec = self.lookup(dom)  # type: ignore[attr-defined]
        value = bandwidth * MiB if bandwidth else UNLIMITED_BANDWIDTH
        if postcopy or rec.active:
            await self._set_parameters(dom, {"max-postcopy-bandwidth" if postcopy else "max-bandwidth": value})
        if not postcopy:
            self._speeds()[rec.uuid] = value
            self._speeds_set()[rec.uuid] = bandwidth

    async def migrate_get_max_speed(self, dom: str, postcopy: bool = False) -> int:
        """The pre-copy speed as last set (libvirt's priv->migMaxBandwidth, running or not;
        QEMU_DOMAIN_MIG_BANDWIDTH_MAX until set); the post-copy one as QEMU has it."""
        if not postcopy:
            return self._speeds_set().get(self.lookup(dom).uuid, MAX_SPEED_MIB)  # type: ignore[attr-defined]
        value = int((await self._parameters(dom)).get("max-postcopy-bandwidth", 0))
        return 0 if value >= UNLIMITED_BANDWIDTH else value // MiB

    async def migrate_start_post_copy(self, dom: str) -> None:
        rec = self.lookup(dom)  # type: ignore[attr-defined]
        job = self._outgoing().get(rec.uuid)
        if job is None or not job.active:
            raise operation_invalid("no migration is in progress")
        await self._qmp(self._running(rec), "migrate-start-postcopy")  # type: ignore[attr-defined]

    async def migrate_set_compression_cache(self, dom: str, size: int) -> None:
        if size <= 0:
            raise _invalid("compression cache size must be positive")
        await self._set_parameters(dom, {"xbzrle-cache-size": size})

    async def migrate_get_compression_cache(self, dom: str) -> int:
        return int((await self._parameters(dom)).get("xbzrle-cache-size", 0))
