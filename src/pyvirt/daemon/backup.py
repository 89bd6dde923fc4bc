"""Backup jobs of running QEMU guests (virDomainBackupBegin), as libvirt 9.0's qemu_backup.c.

*Push* mode: each disk is copied by a QMP ``blockdev-backup`` job into a new image (qcow2 unless
the XML says raw), the whole disk (sync=full) or only the clusters written since a checkpoint
(sync=incremental).  *Pull* mode: ``blockdev-backup sync=none`` keeps a point-in-time view in a
scratch qcow2 whose backing is the disk, and QEMU's NBD server exports that view (with the
changed-cluster bitmap for an incremental backup) until the job is aborted.

An incremental backup never consumes the checkpoint's own bitmap: a temporary bitmap is merged
from it and handed to the job (libvirt does the same), so the checkpoint keeps recording.  A
new checkpoint named in ``checkpoint_xml`` starts in the same QMP transaction as the jobs, so
it marks exactly what the next incremental backup must copy.

The job is the domain's job while it runs: get_job_info reports it (operation "Backup"),
abort_job cancels it (MigrationMixin asks :meth:`BackupMixin._backup_job_info` and
:meth:`BackupMixin._abort_backup` first).  A running backup's bookkeeping is kept in the guest's
runtime folder (``backup.json``), so a restarted pyvirtd takes the job over as libvirt's
qemuProcessRecoverJob does: still active (its elapsed time counted from the take-over), with
backup-dumpxml, domjobinfo and domjobabort, and QEMU's jobs followed to their end and cleaned
up, whether they ended while no daemon watched or later.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from typing import TYPE_CHECKING, Any

from pyvirt.api import ErrorCode, ErrorDomain, JobInfo, PyvirtError, check_schema, operation_invalid

if TYPE_CHECKING:
    from pyvirt.daemon.records import DomainRecord, Running
    from pyvirt.xml import Domain
    from pyvirt.xml.backup import BackupDef, GuestDisk

log = logging.getLogger(__name__)

JOB_UNBOUNDED, JOB_COMPLETED, JOB_FAILED, JOB_CANCELLED = 2, 3, 4, 5
#: the NBD server's TLS credentials object (libvirt's is objlibvirt_backup_tls0)
BACKUP_TLS_ALIAS = "objlibvirt_backup_tls0"
OP_BACKUP = 9  # virDomainJobOperation
NBD_PORT = 10809  # libvirt's default for a pull backup's tcp server without a port


def _unsupported(message: str) -> PyvirtError:
    return PyvirtError(f"unsupported configuration: {message}", ErrorCode.CONFIG_UNSUPPORTED, ErrorDomain.QEMU)


def _xml_error(exc: Exception) -> PyvirtError:
    from pyvirt.xml.errors import XMLUnsupportedError

    message = getattr(exc, "message", str(exc))
    if getattr(exc, "report", None):  # malformed: libvirt's whole catchXMLError text
        return PyvirtError(exc.report, ErrorCode.XML_DETAIL, ErrorDomain.DOMAIN)  # type: ignore[attr-defined]
    if isinstance(exc, XMLUnsupportedError):
        return _unsupported(message)
    return PyvirtError(f"XML error: {message}", ErrorCode.XML_ERROR, ErrorDomain.DOMAIN)


#: the file in a guest's runtime folder that keeps a running backup across pyvirtd restarts
STATE_FILE = "backup.json"


class BackupJob:
    """One running (or finished) backup of a domain: its definition and QEMU's pieces."""

    def __init__(self, backup: BackupDef) -> None:
        self.backup = backup
        self.jobs: dict[str, str] = {}            # target -> QMP job id
        self.nodes: list[str] = []                # block nodes added for targets/scratch files
        self.bitmaps: list[tuple[str, str]] = []  # (node, temporary bitmap) to remove at the end
        self.created: list[str] = []              # files made for a push backup (removed on failure)
        self.export = False                       # the NBD server runs for this (pull) job
        self.status = "active"
        self.error: str | None = None
        self.started = time.monotonic()
        self.ended: float | None = None
        self.total = self.processed = 0
        self.size = 0                             # the backed-up disks' virtual size
        self.task: asyncio.Task[None] | None = None
        self.stats_read = False                   # its completed statistics were read (not kept)

    def state(self) -> dict[str, Any]:
        """What a restarted daemon needs to take the running job over (see `restored`)."""
        return {"xml": self.backup.to_xml(), "jobs": self.jobs, "nodes": self.nodes, "bitmaps": self.bitmaps,
                "created": self.created, "export": self.export, "size": self.size}

    @classmethod
    def restored(cls, state: dict[str, Any]) -> BackupJob:
        """A running job from `state`; its elapsed time starts now, as libvirt's recovered job's."""
        from pyvirt.xml.backup import parse_backup

        job = cls(parse_backup(str(state["xml"])))
        job.jobs = {str(k): str(v) for k, v in dict(state["jobs"]).items()}
        job.nodes = [str(n) for n in state["nodes"]]
        job.bitmaps = [(str(n), str(b)) for n, b in state["bitmaps"]]
        job.created = [str(p) for p in state["created"]]
        job.export, job.size = bool(state["export"]), int(state["size"])
        return job


def _guest_disks(dom: Domain) -> list[GuestDisk]:
    from pyvirt.xml.backup import GuestDisk

    out = []
    for d in dom.devices.disks:
        source = d.source_file or d.source_dev
        out.append(GuestDisk(d.target_dev or "", source,
                             skip=source is None or bool(d.readonly) or d.device in ("cdrom", "floppy"),
                             is_file=(d.type or "file") == "file"))
    return out


class BackupMixin:
    """virDomainBackupBegin/GetXMLDesc for :class:`pyvirt.daemon.driver.QemuDriver`."""

    _backups: dict[str, BackupJob]  # by domain UUID: the running one, or the last finished

    def _backup(self, rec: DomainRecord) -> BackupJob | None:
        return self._backups.get(rec.uuid)

    async def backup_xml(self, dom: str) -> str:
        rec = self.lookup(dom)  # type: ignore[attr-defined]
        job = self._backup(rec)
        if job is None or job.status != "active":
            raise PyvirtError("Domain backup job id not found: no domain backup job present",
                              ErrorCode.NO_DOMAIN_BACKUP, ErrorDomain.QEMU)
        return job.backup.to_xml()

    async def backup_begin(self, dom: str, xml: str, *, checkpoint_xml: str | None = None,
                           reuse_external: bool = False) -> None:
        from pyvirt.checkpoint_tree import align_disks as align_checkpoint
        from pyvirt.checkpoint_tree import parse_request
        from pyvirt.daemon.checkpoints import guest_disks as checkpoint_disks
        from pyvirt.xml.backup import align_disks, parse_backup
        from pyvirt.xml.errors import XMLError

        rec = self.lookup(dom)  # type: ignore[attr-defined]
        if not rec.active:
            raise PyvirtError("Operation not supported: cannot perform disk backup for inactive domain",
                              ErrorCode.OPERATION_UNSUPPORTED, ErrorDomain.QEMU)
        check_schema(xml, "domainbackup", ErrorDomain.DOMAIN)
        try:
            backup = parse_backup(xml)
        except XMLError as exc:
            raise _xml_error(exc) from None
        chk = parse_request(checkpoint_xml, redefine=False) if checkpoint_xml is not None else None
        async with rec.lock:
            run = self._running(rec)  # type: ignore[attr-defined]
            old = self._backup(rec)
            if old is not None and old.status == "active":
                raise operation_invalid("another backup job is already running")
            guest = rec.current()
            try:
                align_disks(backup, _guest_disks(guest), str(int(time.time())))
            except XMLError as exc:
                raise _xml_error(exc) from None
            chks = self._chkset(rec)  # type: ignore[attr-defined]
            if chk is not None:
                chks.check_new(chk, redefine=False)
                chk.domain_xml = guest.to_xml(inactive=True)
                align_checkpoint(chk, checkpoint_disks(guest))
            job = BackupJob(backup)
            try:
                await self._start_backup(rec, run, job, chk, reuse_external)
            except BaseException:
                await self._backup_cleanup(run, job, failed=True)
                raise
            if chk is not None:
                chks.add(chk)
                self._persist_checkpoints(rec, chks)  # type: ignore[attr-defined]
            self._backups[rec.uuid] = job
            self._keep_backup_state(rec, job)
            job.task = asyncio.get_running_loop().create_task(self._watch_backup(rec, run, job))

    def _backup_state_path(self, rec: DomainRecord) -> Any:
        return self.store.runtime_files(rec.name).private_dir / STATE_FILE  # type: ignore[attr-defined]

    def _keep_backup_state(self, rec: DomainRecord, job: BackupJob) -> None:
        """Write the running job's state (atomically); a job no longer running removes it."""
        import json

        from pyvirt.atomicio import remove_quietly, write_atomic

        path = self._backup_state_path(rec)
        if job.status == "active":
            write_atomic(path, json.dumps(job.state()), durable=False)
        else:
            remove_quietly(path)

    async def _recover_backup(self, rec: DomainRecord) -> None:
        """A re-attached guest's running backup (qemuProcessRecoverJob): taken over, or, when its
        state cannot be read, left to QEMU and said so (libvirt would have lost it as well)."""
        import json

        path = self._backup_state_path(rec)
        try:
            with open(path, encoding="utf-8") as handle:
                text = handle.read(1 << 20)  # bounded: pyvirtd wrote it
        except FileNotFoundError:
            return
        except OSError as exc:
            log.error("domain %s: cannot read the running backup's state: %s", rec.name, exc)
            return
        try:
            job = BackupJob.restored(json.loads(text))
        except (ValueError, KeyError, TypeError) as exc:
            log.error("domain %s: the running backup's state is unreadable (%s): its QEMU jobs are left "
                      "as they are", rec.name, exc)
            return
        run = self._running(rec)  # type: ignore[attr-defined]
        self._backups[rec.uuid] = job
        job.task = asyncio.get_running_loop().create_task(self._watch_backup(rec, run, job))
        log.info("domain %s: took over its running %s backup", rec.name, "push" if job.backup.push else "pull")

    async def _start_backup(self, rec: DomainRecord, run: Running, job: BackupJob, chk: Any,
                            reuse_external: bool) -> None:
        """Images, nodes and one transaction: the new checkpoint's bitmaps, the temporary
        incremental bitmaps and every disk's backup job start at the same instant."""
        from pyvirt.qemu.hotplug import free_node

        backup = job.backup
        guest = rec.current()
        by_target = {d.target_dev: d for d in guest.devices.disks}
        actions: list[dict[str, Any]] = []
        if chk is not None:
            for node, bitmap in (await self._bitmap_nodes(run, rec, chk, new=True)).values():  # type: ignore[attr-defined]
                actions.append({"type": "block-dirty-bitmap-add",
                                "data": {"node": node, "name": bitmap, "persistent": True}})
        present = await self._bitmaps_present(run, rec)  # type: ignore[attr-defined]
        chks = self._chkset(rec)  # type: ignore[attr-defined]
        used = {n.get("node-name", "") for n in await self._qmp(run, "query-named-block-nodes")}  # type: ignore[attr-defined]
        exports: list[dict[str, Any]] = []
        for bd in backup.disks:
            if not bd.backup:
                continue
            disk = by_target[bd.name]
            source = await self._format_node(run, disk)  # type: ignore[attr-defined]
            if source is None:
                raise _unsupported(f"cannot find the block node of disk '{bd.name}' in QEMU")
            bitmap = None
            if bd.backupmode == "incremental":
                since = chks.snaps.get(bd.incremental or "")
                if since is None:
                    raise PyvirtError(f"Domain checkpoint not found: Checkpoint '{bd.incremental}' for incremental "
                                      f"backup of disk '{bd.name}' not found", ErrorCode.NO_DOMAIN_CHECKPOINT,
                                      ErrorDomain.QEMU)
                own = next((c for c in since.disks if c.name == bd.name and c.checkpoint == "bitmap"), None)
                if own is None or (own.bitmap or "") not in present.get(bd.name or "", {}):
                    raise PyvirtError(f"checkpoint inconsistent: missing or broken bitmap '{since.name}' for disk "
                                      f"'{bd.name}'", ErrorCode.CHECKPOINT_INCONSISTENT, ErrorDomain.QEMU)
                bitmap = f"backup-{bd.name}"
                layers = (await self.bitmap_layers(run, rec)).get(bd.name or "", [])  # type: ignore[attr-defined]
                actions += [
                    {"type": "block-dirty-bitmap-add",
                     "data": {"node": source, "name": bitmap, "persistent": False, "disabled": True}},
                    {"type": "block-dirty-bitmap-merge",  # the checkpoint's bitmap in every layer of the chain
                     "data": {"node": source, "target": bitmap,
                              "bitmaps": [{"node": node, "name": own.bitmap} for node, found in layers
                                          if own.bitmap in found]}},
                ]
                job.bitmaps.append((source, bitmap))
            image = await self._qemu_image(run, disk) or {}  # type: ignore[attr-defined]
            size = int(image.get("virtual-size", 0))
            job.size += size
            node = free_node(used | set(job.nodes))
            await self._backup_image(rec, run, job, bd, node, size, backing=None if backup.push else source,
                                     reuse=reuse_external and backup.push, disk_source=disk.source_file,
                                     disk_format=disk.driver_type or "raw")
            job_id = f"pyvirt-backup-{bd.name}"
            data: dict[str, Any] = {"job-id": job_id, "device": source, "target": f"{node}-format",
                                    "auto-finalize": True, "auto-dismiss": False}
            if backup.push:
                data["sync"] = "incremental" if bitmap else "full"
                if bitmap:
                    data["bitmap"] = bitmap
            else:
                data["sync"] = "none"
                export: dict[str, Any] = {"type": "nbd", "id": f"pyvirt-export-{bd.name}",
                                          "node-name": f"{node}-format", "name": bd.exportname or bd.name}
                if bitmap:
                    bd.exportbitmap = bd.exportbitmap or bitmap
                    export["bitmaps"] = [bitmap]
                    if bd.exportbitmap != bitmap:
                        raise _unsupported(f"disk '{bd.name}': exportbitmap must be '{bitmap}' in pyvirt")
                bd.exportname = bd.exportname or bd.name
                exports.append(export)
            actions.append({"type": "blockdev-backup", "data": data})
            job.jobs[bd.name or ""] = job_id
        if not job.jobs:
            raise _unsupported("no disk to back up")
        if not backup.push:
            await self._start_nbd(run, job)
        await self._qmp(run, "transaction", {"actions": actions})  # type: ignore[attr-defined]
        for export in exports:
            await self._qmp(run, "block-export-add", {**export, "writable": False})  # type: ignore[attr-defined]

    async def _backup_image(self, rec: DomainRecord, run: Running, job: BackupJob, bd: Any, node: str, size: int,
                            backing: str | None, reuse: bool, disk_source: str | None = None,
                            disk_format: str = "raw") -> None:
        """Make (or, with `reuse`, take) the target or scratch image and add its nodes to QEMU
        (`backing`: the disk's node a scratch image reads through; `disk_source`/`disk_format`:
        the disk's image, written as a qcow2 copy's backing file)."""
        from pyvirt.storage import qemuimg

        path = bd.path or ""
        fmt = bd.driver_type or "qcow2"
        if bd.type == "block" or reuse:
            if not os.path.exists(path):
                raise PyvirtError(f"Cannot access storage file '{path}': No such file or directory",
                                  ErrorCode.NO_SOURCE, ErrorDomain.QEMU)
        else:
            if os.path.lexists(path):  # never overwrite what is there (--reuse-external takes it)
                raise PyvirtError(f"invalid argument: store '{path}' for backup of '{bd.name}' exists",
                                  ErrorCode.INVALID_ARG, ErrorDomain.QEMU)
            if backing is not None and fmt != "qcow2":
                raise _unsupported(f"the scratch image of disk '{bd.name}' must be qcow2")
            # a qcow2 copy of only some clusters (incremental), or a scratch file, is an overlay of
            # the disk's image (as libvirt makes it): read alone, it shows the whole disk
            source = (disk_source or "") if fmt == "qcow2" and (backing is not None or bd.backupmode == "incremental") \
                else None
            if source:
                await asyncio.to_thread(qemuimg.run, ["create", "-q", "-f", "qcow2", "-u", "-b", source, "-F",
                                                      disk_format, path, str(size)], f"creating '{path}'")
            else:
                await asyncio.to_thread(qemuimg.create, path, fmt, size)
            job.created.append(path)
        await self._give_files(rec, [(path, False)])  # type: ignore[attr-defined]
        driver = "host_device" if bd.type == "block" else "file"
        await self._qmp(run, "blockdev-add", {"driver": driver, "filename": path,  # type: ignore[attr-defined]
                                              "node-name": f"{node}-storage"})
        job.nodes.append(f"{node}-storage")
        fmt_node: dict[str, Any] = {"driver": fmt, "file": f"{node}-storage", "node-name": f"{node}-format"}
        if fmt == "qcow2":
            fmt_node["backing"] = backing
        await self._qmp(run, "blockdev-add", fmt_node)  # type: ignore[attr-defined]
        job.nodes.append(f"{node}-format")

    async def _start_nbd(self, run: Running, job: BackupJob) -> None:
        server = job.backup.server
        from pyvirt.xml.backup import BackupServer

        if server is None:  # libvirt's default
            server = job.backup.server = BackupServer(transport="tcp", name="localhost")
        args: dict[str, Any] = {}
        if server.tls:
            args["tls-creds"] = await self._backup_tls(run)
        if server.transport == "unix":
            addr: dict[str, Any] = {"type": "unix", "data": {"path": server.socket}}  # SocketAddressLegacy
        else:
            server.transport = "tcp"
            server.port = server.port or NBD_PORT
            addr = {"type": "inet", "data": {"host": server.name, "port": str(server.port)}}
        await self._qmp(run, "nbd-server-start", {"addr": addr, **args})  # type: ignore[attr-defined]
        job.export = True

    async def _backup_tls(self, run: Running) -> str:
        """``<server tls='yes'>``: QEMU's x509 credentials for its NBD server, from qemu.conf's
        backup_tls_x509_* settings (libvirt's qemuBackupBeginPrepareTLS); their id."""
        from pyvirt import pki
        from pyvirt.daemon.qemuconf import backup_tls

        conf = backup_tls(self.paths.config)  # type: ignore[attr-defined]
        if conf.secret_uuid:
            raise _unsupported("a password-protected backup TLS key (qemu.conf backup_tls_x509_secret_uuid or "
                               "default_tls_x509_secret_uuid) is not implemented by pyvirt")
        missing = pki.missing_qemu_files(conf.directory, "server")
        if missing:
            raise PyvirtError(f"operation failed: a TLS backup server needs {', '.join(missing)} in "
                              f"'{conf.directory}' (qemu.conf backup_tls_x509_cert_dir)", ErrorCode.OPERATION_FAILED,
                              ErrorDomain.QEMU)
        with contextlib.suppress(PyvirtError):  # one an earlier backup of this QEMU left
            await self._qmp(run, "object-del", {"id": BACKUP_TLS_ALIAS})  # type: ignore[attr-defined]
        await self._qmp(run, "object-add", {"qom-type": "tls-creds-x509", "id": BACKUP_TLS_ALIAS,  # type: ignore[attr-defined]
                                            "dir": conf.directory, "endpoint": "server", "verify-peer": conf.verify})
        return BACKUP_TLS_ALIAS

    async def _watch_backup(self, rec: DomainRecord, run: Running, job: BackupJob) -> None:
        """Follow QEMU's jobs to their end (a pull job ends only when aborted), then clean up.
        Only pyvirtd's own shutdown cancels this: the job then stays as it is in QEMU and in its
        state file, for the next pyvirtd to take over."""
        try:
            while job.status == "active":
                jobs = {j.get("id"): j for j in await self._qmp(run, "query-jobs")}  # type: ignore[attr-defined]
                mine = [jobs.get(i) or {} for i in job.jobs.values()]
                job.total = sum(int(j.get("total-progress", 0)) for j in mine)
                job.processed = sum(int(j.get("current-progress", 0)) for j in mine)
                if all(j.get("status") in (None, "concluded", "null") for j in mine):
                    errors = [str(j["error"]) for j in mine if j.get("error")]
                    if errors and job.status == "active":
                        job.status, job.error = "failed", "; ".join(errors)
                    break
                await asyncio.sleep(0.1)
        except PyvirtError as exc:  # the guest went away under the job
            job.status, job.error = "failed", exc.message
        except asyncio.CancelledError:
            if job.status == "active":
                raise  # pyvirtd is stopping: the running job is handed over untouched
            await self._end_backup(rec, run, job)  # an abort was under way: finish it, then stop
            raise
        await self._end_backup(rec, run, job)

    async def _end_backup(self, rec: DomainRecord, run: Running, job: BackupJob) -> None:
        """The job is reported finished only once its clean-up is done: a push backup's target
        nodes are deleted (QEMU flushes and closes the files) before a client polling the job
        sees it completed and reads the backup (it found a half-written qcow2 before)."""
        job.ended = time.monotonic()
        with contextlib.suppress(Exception):
            await self._backup_cleanup(run, job, failed=job.status != "active")
        if job.status == "active":
            job.status = "completed"
        with contextlib.suppress(OSError):
            self._keep_backup_state(rec, job)
        info = self._backup_job_info(rec, completed=True)
        if info is not None:  # qemuDomainEventEmitJobCompleted
            from pyvirt.api import JobCompletedEvent

            self.events.publish(JobCompletedEvent(rec.name, rec.uuid, timestamp=time.time(), id=rec.id,  # type: ignore[attr-defined]
                                                  params=info.backup_params()))

    async def _backup_cleanup(self, run: Running, job: BackupJob, *, failed: bool) -> None:
        """Dismiss the jobs, stop the export, drop the nodes and temporary bitmaps; a failed
        push backup's new files go too (a finished one's are the backup)."""
        quiet = contextlib.suppress(PyvirtError)
        deadline = time.monotonic() + 30
        while job.jobs and time.monotonic() < deadline:  # a cancelled job needs a moment to conclude
            try:
                states = {j.get("id"): j.get("status") for j in await self._qmp(run, "query-jobs")}  # type: ignore[attr-defined]
            except PyvirtError:
                break
            if all(states.get(i) in (None, "concluded", "null") for i in job.jobs.values()):
                break
            await asyncio.sleep(0.05)
        for job_id in job.jobs.values():
            with quiet:
                await self._qmp(run, "job-dismiss", {"id": job_id})  # type: ignore[attr-defined]
        if job.export:
            for target in job.jobs:
                with quiet:
                    await self._qmp(run, "block-export-del", {"id": f"pyvirt-export-{target}",  # type: ignore[attr-defined]
                                                              "mode": "hard"})
            with quiet:
                await self._qmp(run, "nbd-server-stop")  # type: ignore[attr-defined]
            if job.backup.server is not None and job.backup.server.tls:
                with quiet:
                    await self._qmp(run, "object-del", {"id": BACKUP_TLS_ALIAS})  # type: ignore[attr-defined]
            job.export = False
        for node in reversed(job.nodes):
            for _ in range(50):  # a just-deleted export lets go of its node a moment later
                try:
                    await self._qmp(run, "blockdev-del", {"node-name": node})  # type: ignore[attr-defined]
                    break
                except PyvirtError:
                    await asyncio.sleep(0.05)
        job.nodes.clear()
        for node, bitmap in job.bitmaps:
            with quiet:
                await self._qmp(run, "block-dirty-bitmap-remove", {"node": node, "name": bitmap})  # type: ignore[attr-defined]
        job.bitmaps.clear()
        if failed or not job.backup.push:
            for path in job.created:
                with contextlib.suppress(OSError):
                    os.unlink(path)

    # ------------------------------------------------------------------ the domain's job
    def _backup_job_info(self, rec: DomainRecord, completed: bool) -> JobInfo | None:
        """The backup as the domain's job (None: no backup to report)."""
        job = self._backup(rec)
        if job is None or (job.status != "active") != completed:
            return None
        kind = {"active": JOB_UNBOUNDED, "completed": JOB_COMPLETED, "failed": JOB_FAILED,
                "cancelled": JOB_CANCELLED}[job.status]
        end = job.ended if job.ended is not None else time.monotonic()
        elapsed = int((end - job.started) * 1000)
        if not job.backup.push:  # the scratch files' use: what the sync=none jobs copied there
            return JobInfo(kind, OP_BACKUP, elapsed, temp_used=job.processed, temp_total=job.size, error=job.error)
        total, done = job.total, job.processed if job.status == "active" else job.total
        return JobInfo(kind, OP_BACKUP, elapsed, disk_total=total, disk_processed=done,
                       disk_remaining=max(total - done, 0), error=job.error)

    async def _abort_backup(self, rec: DomainRecord) -> bool:
        """domjobabort of a running backup: cancel its jobs and wait for the clean-up."""
        job = self._backup(rec)
        if job is None or job.status != "active" or job.ended is not None:  # ended: cleaning up
            return False
        run = self._running(rec)  # type: ignore[attr-defined]
        if job.backup.push:
            job.status = "cancelled"
        else:  # the way a pull backup ends: libvirt calls it completed, with QEMU's word for it
            job.status, job.error = "completed", "Operation canceled"
        for job_id in job.jobs.values():
            with contextlib.suppress(PyvirtError):
                await self._qmp(run, "job-cancel", {"id": job_id})  # type: ignore[attr-defined]
        if job.task is not None:
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(asyncio.shield(job.task), 30)
        return True
