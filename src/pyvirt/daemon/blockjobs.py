"""Block jobs of running guests, on QEMU's -blockdev job commands, with libvirt's semantics:
blockpull (block-stream: the disk's image takes in its backing chain), blockcommit (block-commit:
an image's data goes down into its base; --active commits the top and waits for a pivot),
blockcopy (blockdev-mirror into a new image, then a pivot onto it), blockjob (--info, --abort,
--pivot, bandwidth).

One job per disk, as libvirt.  QEMU's job events (BLOCK_JOB_READY / _COMPLETED / _CANCELLED /
_ERROR) keep each disk's last job state, publish libvirt's block-job and block-job-2 events, and
a pivot rewrites the live definition's <source> (the copy's file, or the commit's base).  Only
the running guest changes: as libvirt, the persistent definition keeps its source.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import os
from typing import Any

from pyvirt.api import BlockJobEvent, ErrorCode, ErrorDomain, PyvirtError, operation_invalid
from pyvirt.daemon.records import DomainRecord, Running

#: libvirt's virDomainBlockJobType numbers and virsh's words for them
JOB_TYPES = {"pull": (1, "Block Pull"), "copy": (2, "Block Copy"), "commit": (3, "Block Commit"),
             "active-commit": (4, "Active Block Commit")}
#: QEMU's job event -> libvirt's virConnectDomainEventBlockJobStatus word
_STATUS = {"BLOCK_JOB_COMPLETED": "completed", "BLOCK_JOB_READY": "ready", "BLOCK_JOB_CANCELLED": "canceled",
           "BLOCK_JOB_ERROR": "failed"}
BLOCK_JOB_EVENTS = tuple(_STATUS)
MiB = 1 << 20


def check_bandwidth(bandwidth: int) -> None:
    """libvirt's QEMU driver, before anything else: a speed QEMU's int64 cannot hold is
    refused in MiB/s words (virsh's --bandwidth wraps negative numbers into huge ones)."""
    limit = (2**63 - 1) // MiB
    if not 0 <= bandwidth <= limit * MiB:
        raise PyvirtError(f"numerical overflow: bandwidth must be less than {limit}", ErrorCode.OVERFLOW,
                          ErrorDomain.QEMU)


def _invalid_path(disk: str) -> PyvirtError:
    return PyvirtError(f"invalid argument: invalid path {disk} not assigned to domain", ErrorCode.INVALID_ARG,
                       ErrorDomain.QEMU)


def _chain(image: dict[str, Any]) -> list[str]:
    """The filenames of a query-block image chain, top first."""
    out = []
    while isinstance(image, dict):
        out.append(str(image.get("filename", "")))
        image = image.get("backing-image")  # type: ignore[assignment]
    return out


def _backing_node(image: dict[str, Any], nodes: list[dict[str, Any]]) -> str | None:
    """The node name of the image right below a disk's top one (query-block's chain and
    query-named-block-nodes' nodes), None when the top image has no backing."""
    below = image.get("backing-image")
    if not isinstance(below, dict):
        return None
    for node in nodes:
        if node.get("file") == below.get("filename") and node.get("drv") == below.get("format"):
            return str(node.get("node-name"))
    raise PyvirtError(f"internal error: no block node for backing image '{below.get('filename')}'",
                      ErrorCode.INTERNAL_ERROR, ErrorDomain.QEMU)


def _check_beneath(chain: list[str], base: str, disk: str) -> None:
    """`base` must be an image below the disk's top one (libvirt's virStorageSourceChainLookup)."""
    if base not in chain[1:]:
        top = chain[0] if chain else disk
        raise operation_invalid(f"could not find image '{base}' beneath '{top}' in chain for '{disk}'")


class BlockJobsMixin:
    """block_pull, block_commit, block_copy, block_job_info, block_job_abort, block_job_speed."""

    # lookup, _running, _qmp, _commit, _format_node, _qemu_image, events come from QemuDriver

    def _job_disk(self, rec: DomainRecord, ref: str) -> Any:
        from pyvirt.daemon.blockops import find_disk

        if not rec.active or rec.live is None:
            raise operation_invalid("domain is not running")
        disk = find_disk(rec.live, ref)
        if disk is None:
            raise _invalid_path(ref)
        return disk

    def _jobs(self, run: Running) -> dict[str, dict[str, Any]]:
        return run.block_jobs

    async def _start_job(self, rec: DomainRecord, disk: Any, kind: str, command: str, args: dict[str, Any],
                         extra: dict[str, Any] | None = None) -> None:
        run = self._running(rec)
        jobs = self._jobs(run)
        current = jobs.get(disk.target_dev)
        if current is not None and current["state"] in ("running", "ready"):
            raise operation_invalid(f"disk '{disk.target_dev}' already in active block job")
        job_id = f"{kind}-{disk.target_dev}-{disk.alias}"
        jobs[disk.target_dev] = {"id": job_id, "type": kind, "state": "running", "error": "", **(extra or {})}
        try:
            await self._qmp(run, command, {"job-id": job_id, **args})
        except BaseException:
            jobs.pop(disk.target_dev, None)
            raise

    # ------------------------------------------------------------------ starting jobs
    async def block_pull(self, dom: str, disk: str, bandwidth: int = 0, base: str | None = None, *,
                         keep_relative: bool = False) -> None:
        """block-stream into the disk's image: the whole chain (libvirt's full pull), or the
        images above `base` (a partial pull; QEMU then writes `base` as the image's backing file).
        A relative backing name is refused by name (libvirt's rule first: it needs a base)."""
        if keep_relative and not base:
            raise PyvirtError("invalid argument: flag VIR_DOMAIN_BLOCK_REBASE_RELATIVE is valid only with non-null "
                              "base", ErrorCode.INVALID_ARG, ErrorDomain.QEMU)
        if keep_relative:  # QEMU writes the base's name as the chain has it
            raise PyvirtError("Operation not supported: a relative backing name (VIR_DOMAIN_BLOCK_REBASE_RELATIVE): "
                              "pyvirt keeps the base's name as the chain gives it", ErrorCode.OPERATION_UNSUPPORTED,
                              ErrorDomain.QEMU)
        check_bandwidth(bandwidth)
        rec = self.lookup(dom)
        async with rec.lock:
            found = self._job_disk(rec, disk)
            run = self._running(rec)
            node = await self._format_node(run, found)
            args: dict[str, Any] = {"device": node, "auto-dismiss": True}
            if base is not None:
                _check_beneath(_chain(await self._qemu_image(run, found) or {}), base, disk)
                args["base"] = base
            if bandwidth:
                args["speed"] = bandwidth
            await self._start_job(rec, found, "pull", "block-stream", args)

    async def block_commit(self, dom: str, disk: str, active: bool = False, bandwidth: int = 0, *,
                           base: str | None = None, top: str | None = None, shallow: bool = False,
                           delete: bool = False, keep_relative: bool = False) -> None:
        """block-commit of the disk's image into the bottom of its chain: only the active layer can
        be committed here (libvirt's --active), which waits in 'ready' for a pivot or an abort;
        libvirt's choice of images and its other flags are refused by name."""
        check_bandwidth(bandwidth)
        for what, given in (("base", base), ("top", top), ("shallow", shallow), ("delete", delete),
                            ("keep-relative", keep_relative)):
            if given:
                raise PyvirtError(f"Operation not supported: pyvirt commits the active image into the bottom of its "
                                  f"chain: --{what} is not supported yet", ErrorCode.OPERATION_UNSUPPORTED,
                                  ErrorDomain.QEMU)
        rec = self.lookup(dom)
        async with rec.lock:
            await self._block_commit_locked(rec, disk, active, bandwidth)

    async def _block_commit_locked(self, rec: DomainRecord, disk: str, active: bool, bandwidth: int,
                                   base: str | None = None) -> None:
        """`base`: the image to commit into (default: the bottom of the chain)."""
        found = self._job_disk(rec, disk)
        run = self._running(rec)
        image = await self._qemu_image(run, found) or {}
        chain = _chain(image)
        if len(chain) < 2:
            raise operation_invalid(f"top '{chain[0] if chain else disk}' in chain for '{disk}' has no "
                                    "backing file")
        if not active:
            raise PyvirtError("Operation not supported: committing the active layer requires --active "
                              "(pyvirt commits only the top image)", ErrorCode.OPERATION_UNSUPPORTED,
                              ErrorDomain.QEMU)
        node = await self._format_node(run, found)
        args: dict[str, Any] = {"device": node, "auto-dismiss": False}
        if bandwidth:
            args["speed"] = bandwidth
        base_image = image.get("backing-image") or {}
        if base is not None:
            _check_beneath(chain, base, disk)
            while base_image.get("filename") != base:
                base_image = base_image.get("backing-image") or {}
            args["base"] = base
        await self._start_job(rec, found, "active-commit", "block-commit", args,
                              {"base": base or chain[-1], "base_format": base_image.get("format")})

    async def block_copy(self, dom: str, disk: str, dest: str, *, format: str | None = None,  # noqa: A002
                         reuse_external: bool = False, bandwidth: int = 0, shallow: bool = False) -> None:
        """blockdev-mirror of the whole chain into `dest` (created, unless `reuse_external`, with the
        disk's virtual size), or (`shallow`) of the top image only into a `dest` backed by the disk's
        own backing image (libvirt's --shallow; a disk without one is copied whole); the job waits
        in 'ready' for a pivot onto the copy or an abort."""
        from pyvirt.qemu.hotplug import free_node
        from pyvirt.storage import qemuimg

        check_bandwidth(bandwidth)
        rec = self.lookup(dom)
        async with rec.lock:
            found = self._job_disk(rec, disk)
            run = self._running(rec)
            fmt = format or ("raw" if reuse_external else found.driver_type or "raw")
            if fmt not in ("raw", "qcow2"):
                raise PyvirtError(f"unsupported configuration: blockcopy destination format '{fmt}' (raw and qcow2 "
                                  "are supported)", ErrorCode.CONFIG_UNSUPPORTED, ErrorDomain.QEMU)
            if not os.path.isabs(dest):
                raise PyvirtError(f"invalid argument: destination '{dest}' must be an absolute path",
                                  ErrorCode.INVALID_ARG, ErrorDomain.QEMU)
            exists = os.path.exists(dest)
            if reuse_external and not exists:
                raise PyvirtError(f"Cannot access storage file '{dest}': No such file or directory",
                                  ErrorCode.NO_SOURCE, ErrorDomain.QEMU)
            if not reuse_external and exists:
                raise PyvirtError(f"requested operation is not valid: destination file '{dest}' exists; use "
                                  "--reuse-external", ErrorCode.OPERATION_INVALID, ErrorDomain.QEMU)
            image = await self._qemu_image(run, found) or {}
            size = int(image.get("virtual-size", 0))
            nodes = await self._qmp(run, "query-named-block-nodes")
            backing = _backing_node(image, nodes) if shallow else None
            if backing is not None and fmt == "raw":
                raise PyvirtError(f"unsupported configuration: a shallow copy of '{disk}' keeps its backing chain: "
                                  "the destination format must be qcow2, not raw", ErrorCode.CONFIG_UNSUPPORTED,
                                  ErrorDomain.QEMU)
            created = False
            if not reuse_external:
                backing_file = (image.get("backing-image") or {}) if backing is not None else {}
                await asyncio.to_thread(qemuimg.create, dest, fmt, size, backing=backing_file.get("filename"),
                                        backing_fmt=backing_file.get("format"))
                created = True
            used = {n.get("node-name", "") for n in nodes}
            target = free_node(used)
            added: list[str] = []
            try:
                await self._give_files(rec, [(dest, False)])  # type: ignore[attr-defined]  # QEMU's user's
                await self._qmp(run, "blockdev-add", {"driver": "file", "filename": dest,
                                                      "node-name": f"{target}-storage"})
                added.append(f"{target}-storage")
                fmt_node: dict[str, Any] = {"driver": fmt, "file": f"{target}-storage", "node-name": f"{target}-format"}
                if backing is not None:
                    fmt_node["backing"] = backing  # the copy reads below its top from the disk's own chain
                elif fmt != "raw":
                    fmt_node["backing"] = None  # a full copy stands alone (whatever its header names)
                await self._qmp(run, "blockdev-add", fmt_node)
                added.append(f"{target}-format")
                args: dict[str, Any] = {"device": await self._format_node(run, found), "target": f"{target}-format",
                                        "sync": "top" if backing is not None else "full", "auto-dismiss": False}
                if bandwidth:
                    args["speed"] = bandwidth
                await self._start_job(rec, found, "copy", "blockdev-mirror", args,
                                      {"dest": dest, "format": fmt, "nodes": [f"{target}-format", f"{target}-storage"]})
            except BaseException:
                for name in reversed(added):
                    with contextlib.suppress(Exception):
                        await self._qmp(run, "blockdev-del", {"node-name": name})
                if created:
                    with contextlib.suppress(OSError):
                        os.unlink(dest)
                with contextlib.suppress(Exception):  # a reused destination is its owner's again now
                    await self._give_back_unused(rec)  # type: ignore[attr-defined]
                raise

    # ------------------------------------------------------------------ inspecting and ending jobs
    async def block_job_info(self, dom: str, disk: str) -> dict[str, Any]:
        """The disk's job: type (libvirt's number), state (running, ready, completed, failed,
        canceled; "none" when the disk never had one), cur/end (bytes), bandwidth (bytes/s)."""
        rec = self.lookup(dom)
        found = self._job_disk(rec, disk)
        run = self._running(rec)
        job = self._jobs(run).get(found.target_dev)
        if job is None:
            return {"type": 0, "state": "none", "cur": 0, "end": 0, "bandwidth": 0, "error": ""}
        out = {"type": JOB_TYPES[job["type"]][0], "state": job["state"], "cur": 0, "end": 0, "bandwidth": 0,
               "error": job["error"]}
        for entry in await self._qmp(run, "query-block-jobs"):
            if entry.get("device") == job["id"]:
                out.update(cur=int(entry.get("offset", 0)), end=int(entry.get("len", 0)),
                           bandwidth=int(entry.get("speed", 0)))
        return out

    async def block_job_speed(self, dom: str, disk: str, bandwidth: int) -> None:
        check_bandwidth(bandwidth)
        rec = self.lookup(dom)
        found = self._job_disk(rec, disk)
        run = self._running(rec)
        job = self._jobs(run).get(found.target_dev)
        if job is None or job["state"] not in ("running", "ready"):
            raise operation_invalid(f"disk {found.target_dev} does not have an active block job")
        await self._qmp(run, "block-job-set-speed", {"device": job["id"], "speed": bandwidth})

    async def block_job_abort(self, dom: str, disk: str, pivot: bool = False) -> None:
        """Cancel the disk's job, or with `pivot` finish a ready copy or active commit onto its new
        image; either way this returns once QEMU reported the job's end."""
        rec = self.lookup(dom)
        async with rec.lock:
            await self._block_job_abort_locked(rec, disk, pivot)

    async def _block_job_abort_locked(self, rec: DomainRecord, disk: str, pivot: bool) -> None:
        found = self._job_disk(rec, disk)
        run = self._running(rec)
        job = self._jobs(run).get(found.target_dev)
        if job is None or job["state"] not in ("running", "ready"):
            raise operation_invalid(f"disk {found.target_dev} does not have an active block job")
        if pivot and (job["type"] not in ("copy", "active-commit") or job["state"] != "ready"):
            raise operation_invalid(f"block job '{job['id']}' not ready for pivot yet")
        ended = job.setdefault("ended", asyncio.Event())
        old_node = await self._format_node(run, found) if pivot else None
        if pivot:
            job["pivot"] = True
            if job["type"] == "copy" and job.get("format") == "qcow2" and old_node:
                await self._copy_bitmaps(rec, run, found, job["nodes"][0])
            await self._qmp(run, "job-complete", {"id": job["id"]})
        else:
            await self._qmp(run, "block-job-cancel", {"device": job["id"], "force": True})
        await asyncio.wait_for(ended.wait(), 60)
        if pivot and job["state"] == "completed":
            from pyvirt.qemu.hotplug import disk_nodes

            # the disk's old top image is out of the graph now: its nodes go, which also lets
            # go of the chain it held (a commit's base stays, held by the disk itself)
            for node in disk_nodes(old_node) if old_node else []:
                with contextlib.suppress(PyvirtError):
                    await self._qmp(run, "blockdev-del", {"node-name": node})
            changed = copy.deepcopy(rec.live)
            mine = next(d for d in changed.devices.disks if d.target_dev == found.target_dev)
            if job["type"] == "copy":
                mine.source_file, mine.driver_type = job["dest"], job["format"]
            else:
                mine.source_file = job["base"]
                mine.driver_type = job.get("base_format") or mine.driver_type
            self._commit(rec, live=changed)

    async def _copy_bitmaps(self, rec: DomainRecord, run: Running, disk: Any, copy: str) -> None:
        """Before a copy's pivot: each checkpoint bitmap of the disk's chain merged into a
        same-named persistent bitmap of the copy (libvirt's qemuBlockBitmapsHandleBlockcopy), so
        incremental backups since those checkpoints still work on the new image; the mirror keeps
        the copy in step until the pivot, and its writes mark the copy's new bitmaps."""
        layers = (await self.bitmap_layers(run, rec)).get(disk.target_dev or "", [])  # type: ignore[attr-defined]
        names: dict[str, int] = {}
        for _node, found in layers:
            for name, record in found.items():
                if record.get("persistent"):
                    names.setdefault(name, int(record.get("granularity", 65536)))
        nodes = await self._qmp(run, "query-named-block-nodes", {"flat": True})
        there = {b.get("name") for n in nodes if n.get("node-name") == copy for b in n.get("dirty-bitmaps") or []}
        actions: list[dict[str, Any]] = []
        for name, granularity in names.items():
            if name not in there:  # a reused image may hold older ones already: merged into, a superset
                actions.append({"type": "block-dirty-bitmap-add",
                                "data": {"node": copy, "name": name, "persistent": True, "granularity": granularity}})
            actions += [{"type": "block-dirty-bitmap-merge",
                         "data": {"node": copy, "target": name,
                                  "bitmaps": [{"node": node, "name": name} for node, found in layers if name in found]}}]
        if actions:
            await self._qmp(run, "transaction", {"actions": actions})

    async def on_block_job_event(self, rec: DomainRecord, run: Running, name: str, data: dict[str, Any]) -> None:
        """QEMU's job event: the disk's job state, libvirt's events, clean-up of a copy's nodes."""
        job_id = str(data.get("device", ""))
        jobs = self._jobs(run)
        target, job = next(((t, j) for t, j in jobs.items() if j["id"] == job_id), (None, None))
        if job is None or target is None:
            return
        status = _STATUS[name]
        if name == "BLOCK_JOB_ERROR":
            job["error"] = str(data.get("operation", "")) + " error"
            return  # the job stops with BLOCK_JOB_COMPLETED carrying the error
        if name == "BLOCK_JOB_COMPLETED" and data.get("error"):
            status, job["error"] = "failed", str(data.get("error"))
        job["state"] = status
        if status != "ready":
            if job["type"] in ("copy", "active-commit"):
                with contextlib.suppress(PyvirtError):
                    await self._qmp(run, "job-dismiss", {"id": job_id})
            if job["type"] == "copy" and not job.get("pivot"):
                for node in job.get("nodes", []):  # the copy was abandoned: its nodes go
                    with contextlib.suppress(PyvirtError):
                        await self._qmp(run, "blockdev-del", {"node-name": node})
            if "ended" in job:
                job["ended"].set()
        disk = next((d for d in (rec.live.devices.disks if rec.live else []) if d.target_dev == target), None)
        path = (disk.source_file or disk.source_dev or target) if disk is not None else target
        kind = JOB_TYPES[job["type"]][1]
        for event, where in (("block-job", path), ("block-job-2", target)):
            self.events.publish(BlockJobEvent(name=rec.name, uuid=rec.uuid, id=rec.id, kind=f"Domain.{event}",
                                              disk=where, job=kind, status=status))

    async def commit_and_pivot(self, rec: DomainRecord, disk: str, timeout: float = 300,
                               base: str | None = None) -> None:
        """Active commit of the disk's top image into its chain (down to `base`, default the
        bottom), pivoted once ready (the caller holds the domain's lock): what deleting an
        external snapshot of a running guest does."""
        await self._block_commit_locked(rec, disk, True, 0, base)
        run = self._running(rec)
        job = self._jobs(run)[disk]
        deadline = asyncio.get_running_loop().time() + timeout
        while job["state"] == "running":
            if asyncio.get_running_loop().time() > deadline:
                await self._block_job_abort_locked(rec, disk, False)
                raise PyvirtError(f"Timed out during operation: commit of disk '{disk}' did not get ready",
                                  ErrorCode.OPERATION_TIMEOUT, ErrorDomain.QEMU)
            await asyncio.sleep(0.1)
        if job["state"] != "ready":
            raise PyvirtError(f"operation failed: commit of disk '{disk}' {job['state']}: {job['error']}",
                              ErrorCode.OPERATION_FAILED, ErrorDomain.QEMU)
        await self._block_job_abort_locked(rec, disk, True)
