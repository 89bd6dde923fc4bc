"""Internal snapshots of QEMU guests: qcow2 snapshots of every disk, plus RAM for a running guest.

A running guest is snapshotted by QEMU itself (QMP ``snapshot-save`` / ``-load`` / ``-delete``
jobs, QEMU >= 6.0): disks and the memory state go into the qcow2 images, the guest pauses only
while the job runs.  A shut-off guest's disks are snapshotted with ``qemu-img snapshot``.

Metadata is libvirt's: one ``<domainsnapshot>`` file per snapshot (with ``<active>`` marking
the current one) under ``config/qemu/snapshot/DOMAIN/``, each written atomically; the tree
rules are :mod:`pyvirt.snapshot_tree`'s, shared with the test driver.  External snapshots (new
overlays, memory to a file) are :mod:`pyvirt.daemon.snapshots_external`'s.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import signal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pyvirt.api import (
    DefinedDetail,
    DomainState,
    ErrorCode,
    ErrorDomain,
    EventType,
    PausedReason,
    PyvirtError,
    ResumedDetail,
    RunningReason,
    ShutoffReason,
    SnapshotInfo,
    StoppedDetail,
    SuspendedDetail,
    operation_invalid,
)
from pyvirt.atomicio import remove_quietly
from pyvirt.daemon import model
from pyvirt.snapshot_tree import (
    GuestDisk,
    SnapshotSet,
    align_disks,
    check_create_flags,
    exclusive,
    flag_error,
    is_external,
    load_moments,
    parse_request,
    regular_file,
    save_moments,
)

if TYPE_CHECKING:
    from pyvirt.daemon.records import DomainRecord, Running
    from pyvirt.xml import Domain
    from pyvirt.xml.snapshot import SnapshotDef

log = logging.getLogger(__name__)

JOB_TIMEOUT = 600.0  # seconds: saving a large guest's RAM to a slow disk takes a while


def _unsupported(message: str) -> PyvirtError:
    return PyvirtError(f"unsupported configuration: {message}", ErrorCode.CONFIG_UNSUPPORTED, ErrorDomain.QEMU)


def _failed(message: str) -> PyvirtError:
    return PyvirtError(f"operation failed: {message}", ErrorCode.OPERATION_FAILED, ErrorDomain.QEMU)


def guest_disks(dom: Domain) -> list[GuestDisk]:
    """The guest's disks as snapshot alignment sees them; read-only ones are never snapshotted
    (libvirt's default for them)."""
    out = []
    for d in dom.devices.disks:
        source = d.source_file or d.source_dev
        readonly = bool(d.readonly) or d.device == "cdrom"
        out.append(GuestDisk(d.target_dev or "", source, "no" if readonly else None,
                             regular_file=regular_file(source) and (d.type or "file") == "file"))
    return out


class SnapshotsMixin:
    """virDomainSnapshot* for :class:`pyvirt.daemon.driver.QemuDriver`."""

    _snapsets: dict[str, SnapshotSet]  # by domain UUID

    # ------------------------------------------------------------------ metadata on disk
    def _snapshot_dir(self, rec: DomainRecord) -> Path:
        return self.paths.domains_config / "snapshot" / rec.name  # type: ignore[attr-defined]

    def _snapset(self, rec: DomainRecord) -> SnapshotSet:
        """A domain's snapshots, read from disk on first use."""
        snaps = self._snapsets.get(rec.uuid)
        if snaps is None:
            snaps = self._snapsets[rec.uuid] = self._load_snapshots(rec)
        return snaps

    def _load_snapshots(self, rec: DomainRecord) -> SnapshotSet:
        """Read a domain's snapshot files (the one marked <active> is current)."""
        from pyvirt.xml.snapshot import parse_snapshot

        snaps = SnapshotSet()
        for snap in load_moments(snaps, self._snapshot_dir(rec),
                                 lambda text: parse_snapshot(text, redefine=True, internal=True)):
            if snap.active:
                snaps.current = snap.name
        return snaps

    def _persist_snapshots(self, rec: DomainRecord, snaps: SnapshotSet, removed: tuple[str, ...] | list[str] = ()) -> None:
        save_moments(self._snapshot_dir(rec), {name: snap.to_xml(internal=True, current=name == snaps.current)
                                               for name, snap in snaps.snaps.items()}, removed)

    def has_snapshots(self, rec: DomainRecord) -> int:
        return len(self._snapset(rec).snaps)

    def drop_snapshot_metadata(self, rec: DomainRecord) -> None:
        self._snapsets.pop(rec.uuid, None)
        for folder in (self._snapshot_dir(rec), self._nvram_copy(rec, "").parent):  # type: ignore[attr-defined]
            if folder.is_dir():
                shutil.rmtree(folder)

    # ------------------------------------------------------------------ API
    def list_snapshots(self, dom: str) -> list[SnapshotInfo]:
        return self._snapset(self.lookup(dom)).records()  # type: ignore[attr-defined]

    def snapshot_xml(self, dom: str, name: str, security_info: bool = False) -> str:
        rec = self.lookup(dom)  # type: ignore[attr-defined]
        return self._snapset(rec).get(name).to_xml(rec.uuid)

    async def snapshot_create(self, dom: str, xml: str, *, redefine: bool = False, current: bool = False,
                              no_metadata: bool = False, halt: bool = False, disk_only: bool = False,
                              reuse_external: bool = False, quiesce: bool = False, atomic: bool = False,
                              live: bool = False, validate: bool = False) -> str:
        check_create_flags(redefine, current, no_metadata)
        rec = self.lookup(dom)  # type: ignore[attr-defined]
        if quiesce and not disk_only:  # libvirt's VIR_REQUIRE_FLAG_RET, before anything is looked at
            raise flag_error("Flag 'VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY' is required by flag "
                             "'VIR_DOMAIN_SNAPSHOT_CREATE_QUIESCE'")
        if not rec.active and self._chkset(rec).snaps:  # type: ignore[attr-defined]
            # qemuDomainSupportsCheckpointsBlockjobs: an inactive domain has no QEMU to carry its
            # checkpoints' bitmaps into a new image, so libvirt 9.0 refuses every snapshot there
            raise PyvirtError("Operation not supported: cannot perform block operations while checkpoint exists",
                              ErrorCode.OPERATION_UNSUPPORTED, ErrorDomain.QEMU)
        snap = parse_request(xml, redefine=redefine, validate=validate)
        _check_name(snap.name)
        async with rec.lock:
            snaps = self._snapset(rec)
            if redefine:
                self._redefine_snapshot(rec, snaps, snap, current)
                return snap.name or ""
            snaps.check_new(snap, redefine=False)
            guest = rec.current()
            snap.domain_xml = guest.to_xml(inactive=True)
            if rec.active and rec.config is not None:  # libvirt's <inactiveDomain>: what a revert defines again
                snap.inactive_domain_xml = rec.config.to_xml(inactive=True)
            snap.state = {DomainState.RUNNING: "running", DomainState.PAUSED: "paused"}.get(
                DomainState(rec.state), "shutoff") if rec.active else "shutoff"
            if live and (not rec.active or snap.memory != "external"):
                raise PyvirtError("unsupported configuration: live snapshot creation is supported only during "
                                  "full system snapshots", ErrorCode.CONFIG_UNSUPPORTED, ErrorDomain.DOMAIN_SNAPSHOT)
            if snap.memory == "external" and not disk_only and rec.active:
                await self._create_with_memory(rec, snaps, snap, reuse_external, live, halt, no_metadata)
                return snap.name or ""
            if disk_only or is_external(snap):
                if snap.memory not in (None, "no"):
                    raise PyvirtError("XML error: memory state cannot be saved with offline or disk-only snapshot",
                                      ErrorCode.XML_ERROR, ErrorDomain.DOMAIN_SNAPSHOT)
                if not disk_only and rec.active:
                    raise _unsupported("an external snapshot of a running guest without its memory needs --disk-only")
                snap.memory = "no"
                snap.state = "disk-snapshot" if disk_only else snap.state
                align_disks(snap, guest_disks(guest), "external", False)
                if not any(d.snapshot == "external" for d in snap.disks):
                    raise PyvirtError("unsupported configuration: a disk-only snapshot needs at least one disk "
                                      "to snapshot", ErrorCode.CONFIG_UNSUPPORTED, ErrorDomain.DOMAIN_SNAPSHOT)
                async with self._quiesced(rec, quiesce and rec.active):
                    await self._external_snapshot(rec, snap, reuse_external)  # type: ignore[attr-defined]
                if not no_metadata:
                    self._keep_nvram(rec, snap)  # type: ignore[attr-defined]
                    snaps.add(snap)
                    self._persist_snapshots(rec, snaps)
                if halt and rec.active:
                    await self._stop_for_snapshot(rec)
                return snap.name or ""
            if reuse_external:
                raise _unsupported("--reuse-external applies to external snapshots only")
            if snap.memory is None:
                snap.memory = "no" if snap.offline else "internal"
            if snap.offline and snap.memory != "no":
                raise PyvirtError("XML error: memory state cannot be saved with offline or disk-only snapshot",
                                  ErrorCode.XML_ERROR, ErrorDomain.DOMAIN_SNAPSHOT)
            _refuse_pflash(guest)
            align_disks(snap, guest_disks(guest), "internal", True)
            images = _internal_images(guest, snap)
            if rec.active:
                await self._snapshot_running(rec, snap, images)
            else:
                await asyncio.to_thread(_qemu_img_all, "-c", snap.name or "", images)
            if not no_metadata:
                snaps.add(snap)
                self._persist_snapshots(rec, snaps)
            if halt and rec.active:
                await self._stop_for_snapshot(rec)
        return snap.name or ""

    @contextlib.asynccontextmanager
    async def _quiesced(self, rec: DomainRecord, quiesce: bool) -> Any:
        """--quiesce (libvirt's qemuSnapshotCreateActiveExternal): the guest's filesystems are
        frozen through its agent before the disk snapshot and thawed after it whatever happened,
        so a failed snapshot never leaves a frozen guest behind.  An agent that cannot freeze
        (not configured, not connected, a paused guest) fails the snapshot before anything is
        touched.  A thaw error is reported only when the snapshot itself succeeded (libvirt
        reports it then, and the snapshot counts as failed: no metadata is recorded)."""
        if not quiesce:
            yield
            return
        if DomainState(rec.state) != DomainState.RUNNING:  # qemu-ga in a paused guest never answers
            raise operation_invalid("domain is not running")
        frozen = await self.fs_freeze(rec.name)  # type: ignore[attr-defined]
        try:
            yield
        except BaseException:
            if frozen > 0:
                with contextlib.suppress(PyvirtError):  # the snapshot's own error is the one to report
                    await self.fs_thaw(rec.name)  # type: ignore[attr-defined]
            raise
        if frozen > 0:
            await self.fs_thaw(rec.name)  # type: ignore[attr-defined]

    async def _create_with_memory(self, rec: DomainRecord, snaps: SnapshotSet, snap: SnapshotDef,
                                  reuse_external: bool, live: bool, halt: bool, no_metadata: bool) -> None:
        """A full system snapshot: memory to its file, disks onto new overlays (or left out)."""
        guest = rec.current()
        align_disks(snap, guest_disks(guest), "external", False)
        if any(d.snapshot == "internal" for d in snap.disks):
            raise _unsupported("mixing internal and external targets for a snapshot is not yet supported")
        was_running = await self._memory_snapshot(rec, snap, reuse_external, live)  # type: ignore[attr-defined]
        if not no_metadata:
            self._keep_nvram(rec, snap)  # type: ignore[attr-defined]  # while QEMU is still paused
            snaps.add(snap)
            self._persist_snapshots(rec, snaps)
        if halt:
            await self._stop_for_snapshot(rec)
        elif was_running:
            await self._qmp(rec.run, "cont")  # type: ignore[attr-defined]

    def _redefine_snapshot(self, rec: DomainRecord, snaps: SnapshotSet, snap: SnapshotDef, current: bool) -> None:
        """Record metadata only (a snapshot taken elsewhere, or an edited one)."""
        old = snaps.snaps.get(snap.name or "")
        if snap.domain_xml is not None:
            dom = model.parse_stored(snap.domain_xml)
            if dom.uuid != rec.uuid:
                raise PyvirtError(f"invalid argument: definition for snapshot {snap.name} must use uuid {rec.uuid}",
                                  ErrorCode.INVALID_ARG, ErrorDomain.DOMAIN_SNAPSHOT)
        elif old is not None:
            snap.domain_xml = old.domain_xml
        else:
            snap.domain_xml = rec.current().to_xml(inactive=True)
        if old is not None:
            online = ("running", "paused")
            if (old.state in online) != (snap.state in online):
                raise PyvirtError(f"invalid argument: cannot change between online and offline snapshot state "
                                  f"in snapshot {snap.name}", ErrorCode.INVALID_ARG, ErrorDomain.DOMAIN_SNAPSHOT)
        external = snap.state == "disk-snapshot" or is_external(snap)
        align_disks(snap, guest_disks(model.parse_stored(snap.domain_xml)),
                    "external" if external else "internal", not external)
        snaps.add(snap, redefine=True, make_current=current or snaps.current == snap.name)
        self._persist_snapshots(rec, snaps)

    async def snapshot_revert(self, dom: str, name: str, *, running: bool = False, paused: bool = False,
                              force: bool = False, reset_nvram: bool = False) -> None:
        if running and paused:
            raise exclusive("VIR_DOMAIN_SNAPSHOT_REVERT_RUNNING", "VIR_DOMAIN_SNAPSHOT_REVERT_PAUSED")
        rec = self.lookup(dom)  # type: ignore[attr-defined]
        async with rec.lock:
            snaps = self._snapset(rec)
            snap = snaps.get(name)
            started = False
            if rec.run is not None and any(j["state"] in ("running", "ready") for j in rec.run.block_jobs.values()):
                raise operation_invalid("domain has active block job")  # libvirt's check: the revert replaces the disks
            if reset_nvram and not is_external(snap) and not rec.active:  # for the start the revert makes
                from pyvirt.daemon.firmware import reset_nvram as drop_nvram

                drop_nvram(model.parse_stored(snap.domain_xml) if snap.domain_xml else rec.current(),
                           self.paths.data / "nvram")  # type: ignore[attr-defined]
            config = self._snapshot_config(rec, snap)
            if is_external(snap):
                started = await self._revert_external(rec, snaps, snap, running, paused,  # type: ignore[attr-defined]
                                                      reset_nvram=reset_nvram, config=config)
            elif snap.state in ("running", "paused"):
                # the snapshot's definition becomes the domain's once QEMU has loaded the snapshot
                # (a guest shut off is started with it): a failed revert leaves it defined as it was
                await self._revert_internal_running(rec, snap, running, paused, config)
                if config is not None:
                    self._commit(rec, config=config)  # type: ignore[attr-defined]
            else:
                if rec.active:
                    await self._stop_for_snapshot(rec)
                await asyncio.to_thread(_qemu_img_all, "-a", name, _internal_images(config or rec.current(), snap))
                if config is not None:  # the images are the snapshot's now: so is the definition
                    self._commit(rec, config=config)  # type: ignore[attr-defined]
                rec.state, rec.reason = DomainState.SHUTOFF, ShutoffReason.FROM_SNAPSHOT
                if running or paused:
                    await self._start_locked(rec, paused=paused, from_snapshot=True)  # type: ignore[attr-defined]
                    started = True
            if started and rec.state == DomainState.PAUSED:  # libvirt's transitions 3, 6 and 9
                self.events.emit(rec.name, rec.uuid, EventType.SUSPENDED,  # type: ignore[attr-defined]
                                 SuspendedDetail.FROM_SNAPSHOT, rec.id)
            if config is not None:  # libvirt's qemuSnapshotRevertWriteMetadata
                self.events.emit(rec.name, rec.uuid, EventType.DEFINED,  # type: ignore[attr-defined]
                                 DefinedDetail.FROM_SNAPSHOT, rec.id)
            snaps.current = name
            self._persist_snapshots(rec, snaps)

    @staticmethod
    def _snapshot_config(rec: DomainRecord, snap: SnapshotDef) -> Domain | None:
        """The persistent definition a revert brings back (libvirt's: the snapshot's inactive
        definition, else its definition), read before anything changes; None for a transient
        domain or a record that kept no definition."""
        xml = snap.inactive_domain_xml or snap.domain_xml
        if rec.config is None or xml is None:
            return None
        return model.parse_definition(model.parse_stored(xml).to_xml(inactive=True, security_info=True))

    async def _revert_internal_running(self, rec: DomainRecord, snap: SnapshotDef, running: bool,
                                       paused: bool, config: Domain | None = None) -> None:
        """QEMU loads the snapshot in place (started paused first if the guest is off, with the
        snapshot's definition `config` when there is one); the events are libvirt 9.0's: started,
        or suspended then resumed, each "from snapshot"."""
        was_active = rec.active
        images = _internal_images(rec.current() if was_active or config is None else config, snap)
        if not was_active:
            await self._start_locked(rec, paused=True, definition=config,  # type: ignore[attr-defined]
                                     from_snapshot=True)
        run = rec.run
        assert run is not None
        if was_active and rec.state == DomainState.RUNNING:
            await self._qmp(run, "stop")  # type: ignore[attr-defined]
            rec.state, rec.reason = DomainState.PAUSED, PausedReason.FROM_SNAPSHOT
            self.events.emit(rec.name, rec.uuid, EventType.SUSPENDED,  # type: ignore[attr-defined]
                             SuspendedDetail.FROM_SNAPSHOT, rec.id)
        await self._snapshot_job(run, "snapshot-load", {"tag": snap.name, **_devices(await self._snapshot_nodes(run, images))})
        if paused or (snap.state == "paused" and not running):
            rec.state, rec.reason = DomainState.PAUSED, PausedReason.FROM_SNAPSHOT
            if not was_active:
                self.events.emit(rec.name, rec.uuid, EventType.SUSPENDED,  # type: ignore[attr-defined]
                                 SuspendedDetail.FROM_SNAPSHOT, rec.id)
        else:
            await self._qmp(run, "cont")  # type: ignore[attr-defined]
            rec.state, rec.reason = DomainState.RUNNING, RunningReason.FROM_SNAPSHOT
            if was_active:
                self.events.emit(rec.name, rec.uuid, EventType.RESUMED,  # type: ignore[attr-defined]
                                 ResumedDetail.FROM_SNAPSHOT, rec.id)
        self._save_runtime(rec)  # type: ignore[attr-defined]

    async def snapshot_delete(self, dom: str, name: str, *, children: bool = False, children_only: bool = False,
                              metadata_only: bool = False) -> None:
        if children and children_only:
            raise exclusive("VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN", "VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN_ONLY")
        rec = self.lookup(dom)  # type: ignore[attr-defined]
        async with rec.lock:
            snaps = self._snapset(rec)
            snaps.get(name)
            doomed = snaps.descendants(name) if children or children_only else []
            if not children_only:
                doomed.append(name)
            if metadata_only:
                gone = [s.name or "" for s in snaps.remove(name, children=children, children_only=children_only)]
                self._persist_snapshots(rec, snaps, gone)
                return
            gone = []
            try:  # one at a time, children first: each deletion sees the tree the one before left
                for victim in reversed(doomed):
                    await self._delete_one(rec, snaps, snaps.snaps[victim])
                    gone += [s.name or "" for s in snaps.remove(victim)]
            finally:
                self._persist_snapshots(rec, snaps, gone)

    async def _delete_one(self, rec: DomainRecord, snaps: SnapshotSet, snap: SnapshotDef) -> None:
        """Drop one snapshot's data: an external one merges (snapshots_external), an internal one
        is deleted from every image by QEMU's job (running) or qemu-img (shut off)."""
        if is_external(snap):
            await self._delete_external(rec, snaps, snap)  # type: ignore[attr-defined]
            remove_quietly(self._nvram_copy(rec, snap.name or ""))  # type: ignore[attr-defined]
            return
        images = _internal_images(rec.current(), snap)
        if rec.run is not None:
            run = rec.run
            await self._snapshot_job(run, "snapshot-delete",
                                     {"tag": snap.name, "devices": list(await self._snapshot_nodes(run, images))})
        else:
            await asyncio.to_thread(_qemu_img_all, "-d", snap.name or "", images)

    # ------------------------------------------------------------------ QEMU work
    async def _snapshot_running(self, rec: DomainRecord, snap: SnapshotDef, images: list[tuple[str, str]]) -> None:
        run = rec.run
        assert run is not None
        if snap.memory == "internal" and not images:
            raise _unsupported("an internal snapshot of a running guest needs a qcow2 disk to hold its memory state")
        nodes = await self._snapshot_nodes(run, images)
        args: dict[str, Any] = {"tag": snap.name, **_devices(nodes)}
        await self._snapshot_job(run, "snapshot-save", args)

    async def _snapshot_nodes(self, run: Running, images: list[tuple[str, str]]) -> list[str]:
        """The block node of each image, found by file name among QEMU's format nodes."""
        found = await self._qmp(run, "query-named-block-nodes", {"flat": True})  # type: ignore[attr-defined]
        by_file: dict[str, str] = {}
        for node in found:
            if node.get("drv") == "qcow2" and node.get("node-name"):
                by_file.setdefault(node.get("file", ""), node["node-name"])
        out = []
        for target, path in images:
            node = by_file.get(path)
            if node is None:
                raise _failed(f"cannot find the block node of disk '{target}' ({path}) in QEMU")
            out.append(node)
        return out

    async def _snapshot_job(self, run: Running, command: str, args: dict[str, Any]) -> None:
        """Run one QMP job to its end; its error, if any, becomes ours."""
        job_id = f"pyvirt-{command}"
        await self._qmp(run, command, {"job-id": job_id, **args})  # type: ignore[attr-defined]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + JOB_TIMEOUT
        while True:
            jobs = await self._qmp(run, "query-jobs")  # type: ignore[attr-defined]
            job = next((j for j in jobs if j.get("id") == job_id), None)
            if job is None or job.get("status") == "concluded":
                break
            if loop.time() > deadline:
                with contextlib.suppress(PyvirtError):
                    await self._qmp(run, "job-cancel", {"id": job_id})  # type: ignore[attr-defined]
                raise _failed(f"{command} did not finish within {JOB_TIMEOUT:.0f} s")
            await asyncio.sleep(0.05)
        with contextlib.suppress(PyvirtError):
            await self._qmp(run, "job-dismiss", {"id": job_id})  # type: ignore[attr-defined]
        if job is not None and job.get("error"):
            raise _failed(f"{command}: {job['error']}")

    async def _stop_for_snapshot(self, rec: DomainRecord) -> None:
        """Stop the guest (--halt, or reverting to a shut-off snapshot): reason 'from snapshot'."""
        from pyvirt.qemu import process

        run = rec.run
        assert run is not None
        run.stop_reason, run.stop_detail = ShutoffReason.FROM_SNAPSHOT, StoppedDetail.FROM_SNAPSHOT
        process.kill(run.ident, signal.SIGTERM)
        try:
            await asyncio.wait_for(run.exited.wait(), 10)
        except TimeoutError:
            process.kill(run.ident, signal.SIGKILL)
            await run.exited.wait()


def _check_name(name: str | None) -> None:
    """A snapshot's name becomes a file name: the domain name rules apply (no '/', no leading '.')."""
    from pyvirt.xml.errors import XMLError
    from pyvirt.xml.validate import validate_name

    try:
        validate_name(name, None, "snapshot")
    except XMLError as exc:
        raise PyvirtError(f"invalid argument: {exc.message}", ErrorCode.INVALID_ARG,
                          ErrorDomain.DOMAIN_SNAPSHOT) from None


def _refuse_pflash(dom: Domain) -> None:
    """UEFI variables live in a raw flash image that QEMU's internal snapshots leave out: a
    revert would pair old disks and RAM with new variables, so libvirt refuses, and so do we
    (external snapshots keep a copy of the variables instead: snapshots_external)."""
    os_ = dom.os
    if os_ is not None and (os_.firmware == "efi" or (os_.loader is not None and os_.loader.type == "pflash")):
        raise _unsupported("internal snapshots of a VM with pflash based firmware are not supported")


def _internal_images(dom: Domain, snap: SnapshotDef) -> list[tuple[str, str]]:
    """(target, image path) of every disk the snapshot holds internally; each must be qcow2
    (libvirt's check, with its wording)."""
    by_target = {d.target_dev: d for d in dom.devices.disks}
    out = []
    for sd in snap.disks:
        if sd.snapshot != "internal":
            continue
        disk = by_target.get(sd.name)
        if disk is None:
            raise _unsupported(f"no disk named '{sd.name}'")
        fmt = disk.driver_type or "raw"
        if fmt != "qcow2":
            raise _unsupported(f"internal snapshot for disk {sd.name} unsupported for storage type {fmt}")
        path = disk.source_file or disk.source_dev
        if not path:
            raise _unsupported(f"internal snapshot for disk {sd.name}: the disk has no source")
        out.append((sd.name or "", path))
    return out


def _devices(nodes: list[str]) -> dict[str, Any]:
    """snapshot-save/-load arguments: the disks, and the first one holds the memory state."""
    if not nodes:
        raise _unsupported("an internal snapshot of a running guest needs a qcow2 disk")
    return {"vmstate": nodes[0], "devices": nodes}


def _qemu_img_all(flag: str, name: str, images: list[tuple[str, str]]) -> None:
    """qemu-img snapshot -c/-a/-d NAME on every image of a shut-off guest.  The image is named
    with --image-opts (driver=qcow2): qemu-img snapshot has no -f, and the format is never probed."""
    from pyvirt.qemu.escape import kv_option
    from pyvirt.storage import qemuimg

    verb = {"-c": "creating", "-a": "applying", "-d": "deleting"}[flag]
    for target, path in images:
        try:
            spec = kv_option(None, {"driver": "qcow2", "file.driver": "file", "file.filename": path})
            qemuimg.run(["snapshot", "-q", "--image-opts", flag, name, spec],
                        f"{verb} internal snapshot '{name}' of disk '{target}'")
        except PyvirtError as exc:
            raise _failed(exc.message.removeprefix("operation failed: ")) from None

