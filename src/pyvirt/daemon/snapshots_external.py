"""External snapshots (``<disk snapshot='external'>``, ``<memory snapshot='external' file=...>``),
as libvirt's QEMU driver takes them on -blockdev, with the revert and delete libvirt 9.0 lacks.

Taking one: each disk taking part gets a new qcow2 overlay whose backing file is the disk's
current image (``qemu-img create -u``, or an existing one with --reuse-external); the disk moves
onto it, in the running guest with one QMP transaction of ``blockdev-snapshot`` (all disks or
none), and in the persistent definition.  With an external memory file the guest's RAM and
device state go there first, while it is paused, as a save image (:mod:`pyvirt.qemu.saveimage`,
so ``restore`` and ``save-image-dumpxml`` read it too).  A failure removes what it created and
changes no definition.

The images under a snapshot's overlays hold its state, and the snapshot's ``<domain>`` names
them.  Reverting never writes them (libvirt >= 9.7's way): new overlays named after the revert's
time go on top, the guest starts from the memory file when there is one, and the overlays the
guest ran on since the current snapshot are dropped.  The new overlays become the snapshot's
disks, or its ``<revertDisks>`` while children still build on its disks.

Deleting merges (libvirt's qemuSnapshotDiscardExternal): the snapshot's overlay is committed into
the image under it (the active layer: an active commit and a pivot; deeper in the chain: a
commit, and the image above is rebased onto the base), other branches' images that were built on
it are rebased, and the remaining snapshots' definitions name the base.  A leaf the guest no
longer runs on (after a revert elsewhere) only loses the images its state was in.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import dataclasses
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pyvirt.api import (
    DomainState,
    ErrorCode,
    ErrorDomain,
    PyvirtError,
    ShutoffReason,
)
from pyvirt.atomicio import remove_quietly
from pyvirt.daemon import model
from pyvirt.daemon.firmware import copy_file, nvram_path, nvram_to_reset
from pyvirt.snapshot_tree import SnapshotSet, default_overlay, is_external

if TYPE_CHECKING:
    from pyvirt.daemon.records import DomainRecord
    from pyvirt.xml import Domain
    from pyvirt.xml.snapshot import SnapshotDef, SnapshotDisk


def _snapshot_error(message: str) -> PyvirtError:
    return PyvirtError(f"unsupported configuration: {message}", ErrorCode.CONFIG_UNSUPPORTED,
                       ErrorDomain.DOMAIN_SNAPSHOT)


def _failed(message: str) -> PyvirtError:
    return PyvirtError(f"operation failed: {message}", ErrorCode.OPERATION_FAILED, ErrorDomain.DOMAIN_SNAPSHOT)


def _create_overlay(path: str, backing: str, backing_fmt: str, size: int) -> None:
    from pyvirt.storage import qemuimg

    # -u: the backing image is in use by the guest; its size is given instead of read
    qemuimg.run(["create", "-q", "-f", "qcow2", "-u", "-b", backing, "-F", backing_fmt, path, str(size)],
                f"creating '{path}'")


def _snapshot_domain(snap: SnapshotDef) -> Domain:
    """The guest as it was when `snap` was taken: its disks name the images holding its state."""
    if snap.domain_xml is None:
        raise _snapshot_error(f"snapshot {snap.name} does not record the guest's definition")
    return model.parse_stored(snap.domain_xml)


def _disk(dom: Domain, target: str | None) -> Any:
    return next((d for d in dom.devices.disks if d.target_dev == target), None)


def _files_named(snaps: SnapshotSet, skip: str | None = None) -> set[str]:
    """Every image a snapshot's record names (its definition's disks, its overlays)."""
    out: set[str] = set()
    for name, snap in snaps.snaps.items():
        if name == skip:
            continue
        out |= {d.path for d in [*snap.disks, *snap.revert_disks] if d.snapshot == "external" and d.path}
        if snap.domain_xml is not None:
            out |= {d.source_file for d in _snapshot_domain(snap).devices.disks if d.source_file}
    return out


class ExternalSnapshotsMixin:
    """External snapshots for SnapshotsMixin (lookup, _running, _qmp, _commit, _format_node,
    _qemu_image, _write_state_image, _restore_locked, _start_locked come from QemuDriver)."""

    # ------------------------------------------------------------------ create
    async def _external_snapshot(self, rec: DomainRecord, snap: SnapshotDef, reuse_external: bool) -> None:
        from pyvirt.storage import qemuimg

        guest = rec.current()
        plan = []
        for req in snap.disks:
            if req.snapshot != "external":
                continue
            disk = next(d for d in guest.devices.disks if d.target_dev == req.name)
            new = req.path or ""
            current = disk.source_file or ""
            if (disk.type or "file") != "file" or not current:
                raise _snapshot_error(f"external snapshot of disk '{req.name}': only file disks are supported")
            if os.path.exists(new) and not reuse_external:
                raise PyvirtError(f"unsupported configuration: external snapshot file for disk {req.name} already "
                                  f"exists and is not a block device: {new}", ErrorCode.CONFIG_UNSUPPORTED,
                                  ErrorDomain.DOMAIN_SNAPSHOT)
            if reuse_external and not os.path.exists(new):
                raise PyvirtError(f"Cannot access storage file '{new}': No such file or directory",
                                  ErrorCode.NO_SOURCE, ErrorDomain.DOMAIN_SNAPSHOT)
            plan.append((disk, new, current))
        if not plan:
            return
        created: list[str] = []
        added: list[str] = []
        run = rec.run if rec.active else None
        try:
            actions = []
            for disk, new, current in plan:
                fmt = disk.driver_type or "raw"
                if run is not None:
                    image = await self._qemu_image(run, disk) or {}  # type: ignore[attr-defined]
                    size = int(image.get("virtual-size", 0))
                else:
                    size = int((await asyncio.to_thread(qemuimg.info, current, fmt)).get("virtual-size", 0))
                if not reuse_external:
                    await asyncio.to_thread(_create_overlay, new, current, fmt, size)
                    created.append(new)
                if run is not None:
                    await self._give_files(rec, [(new, False)])  # type: ignore[attr-defined]  # QEMU's user's
                    action = await self._overlay_nodes(run, disk, new, added)
                    actions.append(action)
                    actions += await self.carry_bitmaps(run, action["data"]["node"],  # type: ignore[attr-defined]
                                                        action["data"]["overlay"])
            if run is not None:
                await self._qmp(run, "transaction", {"actions": actions})  # type: ignore[attr-defined]
        except BaseException:
            if run is not None:
                for node in reversed(added):
                    with contextlib.suppress(Exception):
                        await self._qmp(run, "blockdev-del", {"node-name": node})  # type: ignore[attr-defined]
            for path in created:
                with contextlib.suppress(OSError):
                    os.unlink(path)
            if run is not None:  # a reused overlay is its owner's again now, not at stop
                with contextlib.suppress(Exception):
                    await self._give_back_unused(rec)  # type: ignore[attr-defined]
            raise
        self._move_disks(rec, {disk.target_dev: (new, "qcow2") for disk, new, _ in plan})

    async def _memory_snapshot(self, rec: DomainRecord, snap: SnapshotDef, reuse_external: bool,
                               live: bool) -> bool:
        """RAM and device state to the snapshot's memory file, then the disks' overlays, with
        the guest paused (with `live`, QEMU pauses it only at the end of the copy).  QEMU is
        left paused; whether the guest was running (the caller resumes or halts it)."""
        from pyvirt.qemu import saveimage

        target = snap.memory_file or ""
        if os.path.exists(target) and not reuse_external:
            raise _snapshot_error(f"external memory snapshot file '{target}' already exists")
        run = self._running(rec)  # type: ignore[attr-defined]
        was_running = rec.state == DomainState.RUNNING
        header = saveimage.SaveHeader(rec.current().to_xml(inactive=True, security_info=True), was_running)
        await self._write_state_image(run, target, header, pause=was_running and not live,  # type: ignore[attr-defined]
                                      running=was_running)
        try:
            await self._external_snapshot(rec, snap, reuse_external)
        except BaseException:
            remove_quietly(target)
            if was_running:
                with contextlib.suppress(Exception):
                    await self._qmp(run, "cont")  # type: ignore[attr-defined]
            raise
        return was_running

    async def _overlay_nodes(self, run: Any, disk: Any, new: str, added: list[str]) -> dict[str, Any]:
        """blockdev-add the overlay (its backing left to the snapshot) and the transaction action."""
        from pyvirt.qemu.hotplug import free_node

        used = {n.get("node-name", "") for n in await self._qmp(run, "query-named-block-nodes")}  # type: ignore[attr-defined]
        node = free_node(used | set(added))
        await self._qmp(run, "blockdev-add", {"driver": "file", "filename": new,  # type: ignore[attr-defined]
                                              "node-name": f"{node}-storage"})
        added.append(f"{node}-storage")
        await self._qmp(run, "blockdev-add", {"driver": "qcow2", "file": f"{node}-storage",  # type: ignore[attr-defined]
                                              "node-name": f"{node}-format", "backing": None})
        added.append(f"{node}-format")
        return {"type": "blockdev-snapshot", "data": {"node": await self._format_node(run, disk),  # type: ignore[attr-defined]
                                                      "overlay": f"{node}-format"}}

    def _move_disks(self, rec: DomainRecord, moved: dict[str, tuple[str, str]]) -> None:
        """The running guest's and the definition's disks now use other images: {target: (path, format)}."""
        new_live = new_config = None
        for current in [d for d in (rec.live, rec.config) if d is not None]:
            changed = copy.deepcopy(current)
            for disk in changed.devices.disks:
                if disk.target_dev in moved:
                    disk.source_file, disk.driver_type = moved[disk.target_dev]
            if current is rec.config:
                new_config = model.parse_definition(changed.to_xml(inactive=True, security_info=True))
            else:
                new_live = changed
        self._commit(rec, config=new_config, live=new_live)  # type: ignore[attr-defined]

    # ------------------------------------------------------------------ revert
    async def _revert_external(self, rec: DomainRecord, snaps: SnapshotSet, snap: SnapshotDef,
                               running: bool, paused: bool, reset_nvram: bool = False,
                               config: Domain | None = None) -> bool:
        """Revert to an external snapshot; whether the guest was started (running or paused).
        The UEFI variables kept with the snapshot come back (`reset_nvram`: the template's
        instead), once everything that could refuse the revert has been checked.  `config`: the
        persistent definition the snapshot brings back, its disks moved onto the new overlays too."""
        from pyvirt.qemu import saveimage
        from pyvirt.storage import qemuimg

        if snap.state == "pmsuspended":
            raise _snapshot_error("qemu doesn't support reversion of snapshot taken in PMSUSPENDED state")
        dom = _snapshot_domain(snap)
        header = None
        if snap.memory == "external":
            header = await asyncio.to_thread(saveimage.read_header, snap.memory_file or "")
        stamp = str(int(time.time()))
        plan: list[tuple[Any, str]] = []
        for req in snap.disks:
            if req.snapshot != "external":
                continue
            disk = _disk(dom, req.name)
            if disk is None or (disk.type or "file") != "file" or not disk.source_file:
                raise _snapshot_error(f"disk '{req.name}' of snapshot {snap.name}: only file disks can be reverted")
            if not os.path.exists(disk.source_file):
                raise _failed(f"image '{disk.source_file}' of snapshot {snap.name} (disk '{req.name}') is missing")
            new, n = default_overlay(disk.source_file, stamp), 0
            while os.path.exists(new) or new in [p for _, p in plan]:
                n += 1
                new = default_overlay(disk.source_file, f"{stamp}-{n}")
            plan.append((disk, new))
        vars_file = nvram_path(dom, self.paths.data / "nvram")  # type: ignore[attr-defined]
        if reset_nvram:
            vars_file = nvram_to_reset(dom, self.paths.data / "nvram")  # type: ignore[attr-defined]
        dropped = self._running_overlays(rec, snaps)
        created: list[str] = []
        try:  # the new overlays first: a failure leaves the guest as it was
            for disk, new in plan:
                fmt = disk.driver_type or "raw"
                info = await asyncio.to_thread(qemuimg.info, disk.source_file, fmt)
                await asyncio.to_thread(_create_overlay, new, disk.source_file, fmt, int(info.get("virtual-size", 0)))
                created.append(new)
        except BaseException:
            for path in created:
                remove_quietly(path)
            raise
        for disk, new in plan:
            disk.source_file, disk.driver_type = new, "qcow2"
        if rec.active:
            await self._stop_for_snapshot(rec)  # type: ignore[attr-defined]
        kept = self._nvram_copy(rec, snap.name or "")
        if reset_nvram and vars_file:  # the start copies the template afresh
            remove_quietly(vars_file)
        elif vars_file and kept.is_file():
            copy_file(str(kept), vars_file, f"cannot restore the NVRAM of snapshot {snap.name}")
        if config is not None:  # the snapshot's definition is the domain's again (libvirt)
            moved = {d.target_dev: new for d, new in plan}
            for disk in config.devices.disks:
                if disk.target_dev in moved:
                    disk.source_file, disk.driver_type = moved[disk.target_dev], "qcow2"
            self._commit(rec, config=model.parse_definition(config.to_xml(inactive=True, security_info=True)))  # type: ignore[attr-defined]
        keep = _files_named(snaps, skip=snaps.current) | {d.source_file for d in dom.devices.disks}
        for path in dropped:
            if path not in keep:
                remove_quietly(path)
        self._record_revert(snaps, snap, {d.target_dev: new for d, new in plan})
        rec.state, rec.reason = DomainState.SHUTOFF, ShutoffReason.FROM_SNAPSHOT
        if header is not None:
            await self._restore_locked(rec, dom, snap.memory_file, header, running, paused,  # type: ignore[attr-defined]
                                       from_snapshot=True)
            return True
        if running or paused:
            await self._start_locked(rec, paused=paused, from_snapshot=True)  # type: ignore[attr-defined]
            return True
        return False

    def _nvram_copy(self, rec: DomainRecord, name: str) -> Path:
        return self.paths.data / "nvram" / "snapshot" / rec.name / f"{name}.fd"  # type: ignore[attr-defined]

    def _keep_nvram(self, rec: DomainRecord, snap: SnapshotDef) -> None:
        """A UEFI guest's variables are part of its state: an external snapshot keeps a copy
        beside pyvirt's variable stores, which a revert puts back (pyvirt's addition: libvirt's
        external snapshots leave the NVRAM out, and its internal ones refuse UEFI guests)."""
        vars_file = nvram_path(rec.current(), self.paths.data / "nvram")  # type: ignore[attr-defined]
        if vars_file and os.path.isfile(vars_file):
            copy_file(vars_file, str(self._nvram_copy(rec, snap.name or "")),
                      f"cannot keep the NVRAM of snapshot {snap.name}")

    def _running_overlays(self, rec: DomainRecord, snaps: SnapshotSet) -> list[str]:
        """The current snapshot's overlays the guest runs on: what a revert throws away."""
        cur = snaps.snaps.get(snaps.current or "")
        if cur is None:
            return []
        guest = rec.current()
        return [d.path for d in (cur.revert_disks or cur.disks)
                if d.snapshot == "external" and d.path and getattr(_disk(guest, d.name), "source_file", None) == d.path]

    @staticmethod
    def _record_revert(snaps: SnapshotSet, snap: SnapshotDef, new: dict[str, str]) -> None:
        from pyvirt.xml.snapshot import SnapshotSource  # the snapshot model loads with the first snapshot

        cur = snaps.snaps.get(snaps.current or "")
        if cur is not None:
            cur.revert_disks = []
        disks = [dataclasses.replace(d, type="file", source=SnapshotSource(file=new[d.name or ""]))
                 if d.name in new else d for d in snap.disks]
        if snaps.children(snap.name):
            snap.revert_disks = disks  # its own disks stay: its children's chains are built on them
        else:
            snap.disks, snap.revert_disks = disks, []

    # ------------------------------------------------------------------ delete
    async def _delete_external(self, rec: DomainRecord, snaps: SnapshotSet, snap: SnapshotDef) -> None:

        dom = _snapshot_domain(snap)
        external = [d for d in snap.disks if d.snapshot == "external"]
        if snaps.current != snap.name and not snaps.children(snap.name):
            # a leaf the guest left by a revert elsewhere: nothing builds on the images its state is in
            keep = _files_named(snaps, skip=snap.name) | set(await self._chains(rec))
            for req in external:
                image = getattr(_disk(dom, req.name), "source_file", None)
                if image and image not in keep:
                    remove_quietly(image)
        else:
            steps = [await self._merge_step(rec, snaps, snap, dom, req) for req in external]
            for target, top, base, base_fmt, above in steps:
                await self._merge(rec, target, top, base, base_fmt, above)
                await self._rebase_others(snaps, snap, top, base, base_fmt)
                self._forget_image(snaps, snap, target, top, base, base_fmt)
                remove_quietly(top)
        if snap.memory == "external" and snap.memory_file:
            remove_quietly(snap.memory_file)

    async def _chains(self, rec: DomainRecord) -> list[str]:
        """Every image in the guest's disks' chains now."""
        from pyvirt.storage import qemuimg

        out: list[str] = []
        for disk in rec.current().devices.disks:
            if disk.source_file and os.path.exists(disk.source_file):
                chain = await asyncio.to_thread(qemuimg.chain, disk.source_file, disk.driver_type or "raw")
                out += [name for name, _ in chain]
        return out

    async def _merge_step(self, rec: DomainRecord, snaps: SnapshotSet, snap: SnapshotDef, dom: Domain,
                          req: SnapshotDisk) -> tuple[str, str, str, str, tuple[str, str] | None]:
        """Check one disk can be merged (libvirt's qemuSnapshotDeleteExternalPrepareData):
        (target, overlay, base, base format, the image above the overlay or None)."""
        from pyvirt.storage import qemuimg

        parent = snaps.snaps.get(snap.parent or "")
        while parent is not None and not any(d.name == req.name and d.snapshot != "no" for d in parent.disks):
            parent = snaps.snaps.get(parent.parent or "")
        if parent is not None and not is_external(parent):
            raise PyvirtError("Operation not supported: deleting external snapshot that has internal snapshot "
                              "as parent not supported", ErrorCode.OPERATION_UNSUPPORTED, ErrorDomain.DOMAIN_SNAPSHOT)
        disk, base_disk = _disk(rec.current(), req.name), _disk(dom, req.name)
        if disk is None or base_disk is None or not disk.source_file or not base_disk.source_file:
            raise _failed(f"failed to find disk '{req.name}' in snapshot VM XML")
        chain = await asyncio.to_thread(qemuimg.chain, disk.source_file, disk.driver_type or "raw")
        names = [name for name, _ in chain]
        if req.path not in names:
            raise _failed(f"VM disk source and snapshot disk source are not the same: '{req.path}' of snapshot "
                          f"{snap.name} is not in the chain of disk '{req.name}'")
        at = names.index(req.path)
        if at + 1 >= len(names) or names[at + 1] != base_disk.source_file:
            raise _failed(f"snapshot VM disk source and parent disk source are not the same: '{req.path}' is not "
                          f"built on '{base_disk.source_file}'")
        return (req.name or "", req.path, base_disk.source_file, chain[at + 1][1],
                chain[at - 1] if at > 0 else None)

    async def _merge(self, rec: DomainRecord, target: str, top: str, base: str, base_fmt: str,
                     above: tuple[str, str] | None) -> None:
        """Commit `top` into `base`: the guest's disk moves onto `base` when `top` was its image,
        or the image `above` it is rebased onto `base`."""
        from pyvirt.storage import qemuimg

        if rec.active:
            if above is None:
                await self.commit_and_pivot(rec, target, base=base)  # type: ignore[attr-defined]
            else:
                run = self._running(rec)  # type: ignore[attr-defined]
                node = await self._format_node(run, _disk(rec.current(), target))  # type: ignore[attr-defined]
                # QEMU rewrites the backing file name of the image above
                await self._snapshot_job(run, "block-commit", {"device": node, "top": top, "base": base,  # type: ignore[attr-defined]
                                                               "auto-dismiss": False})
        else:
            await asyncio.to_thread(qemuimg.run, ["commit", "-q", "-f", "qcow2", top], f"committing '{top}'")
            if above is not None:
                await asyncio.to_thread(qemuimg.run, ["rebase", "-q", "-u", "-f", above[1], "-F", base_fmt, "-b",
                                                      base, above[0]], f"rebasing '{above[0]}'")
        if above is None:
            self._move_disks(rec, {target: (base, base_fmt)})

    async def _rebase_others(self, snaps: SnapshotSet, snap: SnapshotDef, top: str, base: str,
                             base_fmt: str) -> None:
        """Images of other branches built on `top` are rebased onto `base` (libvirt's
        qemuSnapshotUpdateBackingStore)."""
        from pyvirt.storage import qemuimg

        for path in sorted(_files_named(snaps, skip=snap.name) - {top, base}):
            if not os.path.isfile(path):
                continue
            with contextlib.suppress(PyvirtError, ValueError):
                info = await asyncio.to_thread(qemuimg.info, path, "qcow2")
                if top in (info.get("full-backing-filename"), info.get("backing-filename")):
                    await asyncio.to_thread(qemuimg.run, ["rebase", "-q", "-u", "-f", "qcow2", "-F", base_fmt,
                                                          "-b", base, path], f"rebasing '{path}'")

    def _forget_image(self, snaps: SnapshotSet, snap: SnapshotDef, target: str, top: str, base: str,
                      base_fmt: str) -> None:
        """The other snapshots' definitions that named the merged overlay name its base now."""
        for other in snaps.snaps.values():
            if other is snap or other.domain_xml is None:
                continue
            dom = model.parse_stored(other.domain_xml)
            disk = _disk(dom, target)
            if disk is not None and disk.source_file == top:
                disk.source_file, disk.driver_type = base, base_fmt
                other.domain_xml = dom.to_xml(inactive=True)
