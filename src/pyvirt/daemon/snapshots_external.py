"""External disk-only snapshots (snapshot-create-as --disk-only, <disk snapshot='external'>), as
libvirt's QEMU driver takes them on -blockdev.

Each disk taking part gets a new qcow2 overlay whose backing file is the disk's current image
(created with ``qemu-img create -u``, or an existing one with --reuse-external); the disk moves
onto it, in the running guest with one QMP transaction of ``blockdev-snapshot`` (all disks or
none), and in the persistent definition.  The old images stay as they are: the snapshot's
state.  A failure removes the overlays it created and changes no definition.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import os
from typing import Any

from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError
from pyvirt.daemon import model
from pyvirt.daemon.records import DomainRecord
from pyvirt.xml.snapshot import SnapshotDef


def _snapshot_error(message: str) -> PyvirtError:
    return PyvirtError(f"unsupported configuration: {message}", ErrorCode.CONFIG_UNSUPPORTED,
                       ErrorDomain.DOMAIN_SNAPSHOT)


def _create_overlay(path: str, backing: str, backing_fmt: str, size: int) -> None:
    from pyvirt.storage import qemuimg

    # -u: the backing image is in use by the guest; its size is given instead of read
    qemuimg.run(["create", "-q", "-f", "qcow2", "-u", "-b", backing, "-F", backing_fmt, path, str(size)],
                f"creating '{path}'")


class ExternalSnapshotsMixin:
    """_external_snapshot for SnapshotsMixin (lookup, _running, _qmp, _commit, _format_node,
    _qemu_image come from QemuDriver)."""

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
            raise _snapshot_error("a disk-only snapshot needs at least one disk to snapshot")
        created: list[str] = []
        added: list[str] = []
        run = rec.run if rec.active else None
        try:
            actions = []
            for disk, new, current in plan:
                fmt = disk.driver_type or "raw"
                if run is not None:
                    image = await self._qemu_image(run, disk) or {}
                    size = int(image.get("virtual-size", 0))
                else:
                    size = int((await asyncio.to_thread(qemuimg.info, current, fmt)).get("virtual-size", 0))
                if not reuse_external:
                    await asyncio.to_thread(_create_overlay, new, current, fmt, size)
                    created.append(new)
                if run is not None:
                    await self._give_files(rec, [(new, False)])  # type: ignore[attr-defined]  # QEMU's user's
                    actions.append(await self._overlay_nodes(run, disk, new, added))
            if run is not None:
                await self._qmp(run, "transaction", {"actions": actions})
        except BaseException:
            if run is not None:
                for node in reversed(added):
                    with contextlib.suppress(Exception):
                        await self._qmp(run, "blockdev-del", {"node-name": node})
            for path in created:
                with contextlib.suppress(OSError):
                    os.unlink(path)
            raise
        self._move_disks(rec, {disk.target_dev: new for disk, new, _ in plan})

    async def _overlay_nodes(self, run: Any, disk: Any, new: str, added: list[str]) -> dict[str, Any]:
        """blockdev-add the overlay (its backing left to the snapshot) and the transaction action."""
        from pyvirt.qemu.hotplug import free_node

        used = {n.get("node-name", "") for n in await self._qmp(run, "query-named-block-nodes")}
        node = free_node(used | set(added))
        await self._qmp(run, "blockdev-add", {"driver": "file", "filename": new, "node-name": f"{node}-storage"})
        added.append(f"{node}-storage")
        await self._qmp(run, "blockdev-add", {"driver": "qcow2", "file": f"{node}-storage",
                                              "node-name": f"{node}-format", "backing": None})
        added.append(f"{node}-format")
        return {"type": "blockdev-snapshot", "data": {"node": await self._format_node(run, disk),
                                                      "overlay": f"{node}-format"}}

    def _move_disks(self, rec: DomainRecord, moved: dict[str, str]) -> None:
        """The running guest's and the definition's disks now use their overlays (qcow2)."""
        new_live = new_config = None
        for current in [d for d in (rec.live, rec.config) if d is not None]:
            changed = copy.deepcopy(current)
            for disk in changed.devices.disks:
                if disk.target_dev in moved:
                    disk.source_file, disk.driver_type = moved[disk.target_dev], "qcow2"
            if current is rec.config:
                new_config = model.parse_definition(changed.to_xml(inactive=True, security_info=True))
            else:
                new_live = changed
        self._commit(rec, config=new_config, live=new_live)

    async def _delete_external(self, rec: DomainRecord, snap: SnapshotDef) -> None:
        """libvirt 9.0's external snapshot deletion, for a snapshot whose overlays the disks use now:
        each overlay is committed into the image under it (running: an active block commit and a
        pivot; shut off: qemu-img commit), the disks move back onto those images, the overlays go."""
        from pyvirt.storage import qemuimg

        guest = rec.current()
        plan = []
        for req in snap.disks:
            if req.snapshot != "external":
                continue
            disk = next((d for d in guest.devices.disks if d.target_dev == req.name), None)
            if disk is None or disk.source_file != req.path:
                raise _snapshot_error(f"disk '{req.name}' no longer uses the overlay of snapshot {snap.name} "
                                      f"('{req.path}'): only the newest external snapshot can be deleted")
            info = await asyncio.to_thread(qemuimg.info, req.path or "", "qcow2")
            base = info.get("full-backing-filename") or info.get("backing-filename")
            if not base:
                raise _snapshot_error(f"overlay '{req.path}' of snapshot {snap.name} has no backing image")
            base_info = await asyncio.to_thread(qemuimg.info, base, info.get("backing-filename-format") or "raw")
            if base_info.get("backing-filename"):
                raise _snapshot_error(f"the image under '{req.path}' has a backing chain of its own: committing "
                                      "into it is not implemented by pyvirt yet")
            plan.append((disk.target_dev, req.path or "", base, info.get("backing-filename-format") or "raw"))
        for target, overlay, base, base_fmt in plan:
            if rec.active:
                await self.commit_and_pivot(rec, target)
            else:
                await asyncio.to_thread(qemuimg.run, ["commit", "-q", "-f", "qcow2", overlay], f"committing '{overlay}'")
            self._restore_disk(rec, target, base, base_fmt)
            with contextlib.suppress(OSError):
                os.unlink(overlay)

    def _restore_disk(self, rec: DomainRecord, target: str, base: str, fmt: str) -> None:
        """The definition (and a stopped pivot's live copy) back on the image under the overlay."""
        new_live = new_config = None
        for current in [d for d in (rec.live, rec.config) if d is not None]:
            changed = copy.deepcopy(current)
            for disk in changed.devices.disks:
                if disk.target_dev == target:
                    disk.source_file, disk.driver_type = base, fmt
            if current is rec.config:
                new_config = model.parse_definition(changed.to_xml(inactive=True, security_info=True))
            else:
                new_live = changed
        self._commit(rec, config=new_config, live=new_live)
