"""Checkpoints of QEMU guests: a persistent dirty bitmap per disk, in the qcow2 image itself.

As libvirt 9.0 (qemu_checkpoint.c) does it: a checkpoint of a running guest adds, in one QMP
``transaction``, a persistent bitmap named after the checkpoint on every disk it covers; all
bitmaps stay active, so checkpoint X's bitmap marks every cluster written since X (that is what
an incremental backup since X copies, daemon/backup.py).  Deleting a checkpoint removes its
bitmaps (a parent's bitmap already covers what a child's does).  Creating or deleting one needs
the guest running, as in libvirt; redefining metadata does not.

Metadata is libvirt's: one ``<domaincheckpoint>`` file per checkpoint under
``config/qemu/checkpoint/DOMAIN/``, written atomically; the tree rules are
:mod:`pyvirt.checkpoint_tree`'s, shared with the test driver.  libvirt keeps no "current" mark
in those files either: after a restart the newest checkpoint is the current one again.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from pyvirt.api import CheckpointInfo, ErrorCode, ErrorDomain, PyvirtError
from pyvirt.checkpoint_tree import (
    CheckpointSet,
    GuestDisk,
    align_disks,
    check_create_flags,
    check_delete_flags,
    parse_request,
    prepare_redefine,
    redefine_makes_current,
    unsupported,
)
from pyvirt.daemon import model
from pyvirt.snapshot_tree import load_moments, save_moments

if TYPE_CHECKING:
    from pyvirt.daemon.records import DomainRecord, Running
    from pyvirt.xml import Domain
    from pyvirt.xml.checkpoint import CheckpointDef

#: QEMU's protocol drivers: nodes that read a file or a server, under a format node
PROTOCOL_DRIVERS = frozenset(("file", "host_device", "host_cdrom", "nbd", "iscsi", "rbd", "gluster", "http", "https",
                              "ftp", "ftps", "ssh", "null-co", "null-aio", "nvme", "throttle", "copy-on-read"))


def _not_running(action: str) -> PyvirtError:
    return PyvirtError(f"Operation not supported: cannot {action} checkpoint for inactive domain",
                       ErrorCode.OPERATION_UNSUPPORTED, ErrorDomain.DOMAIN_CHECKPOINT)


def guest_disks(dom: Domain) -> list[GuestDisk]:
    """The guest's disks as checkpoint alignment sees them: empty and read-only ones get no bitmap."""
    out = []
    for d in dom.devices.disks:
        source = d.source_file or d.source_dev
        out.append(GuestDisk(d.target_dev or "", source,
                             skip=source is None or bool(d.readonly) or d.device in ("cdrom", "floppy")))
    return out


class CheckpointsMixin:
    """virDomainCheckpoint* for :class:`pyvirt.daemon.driver.QemuDriver`."""

    _chksets: dict[str, CheckpointSet]  # by domain UUID

    # ------------------------------------------------------------------ metadata on disk
    def _checkpoint_dir(self, rec: DomainRecord) -> Path:
        return self.paths.domains_config / "checkpoint" / rec.name  # type: ignore[attr-defined]

    def _chkset(self, rec: DomainRecord) -> CheckpointSet:
        """A domain's checkpoints, read from disk on first use."""
        chks = self._chksets.get(rec.uuid)
        if chks is None:
            chks = self._chksets[rec.uuid] = self._load_checkpoints(rec)
        return chks

    def _load_checkpoints(self, rec: DomainRecord) -> CheckpointSet:
        """Read a domain's checkpoint files; the newest is current (libvirt keeps no mark either)."""
        from pyvirt.xml.checkpoint import parse_checkpoint

        chks = CheckpointSet()
        found = load_moments(chks, self._checkpoint_dir(rec), lambda text: parse_checkpoint(text, redefine=True))
        chks.current = found[-1].name if found else None
        return chks

    def _persist_checkpoints(self, rec: DomainRecord, chks: CheckpointSet, removed: list[str] | tuple[str, ...] = (),
                             ) -> None:
        save_moments(self._checkpoint_dir(rec), {n: c.to_xml() for n, c in chks.snaps.items()}, removed)

    def drop_checkpoint_metadata(self, rec: DomainRecord) -> None:
        """An undefined domain's checkpoint records go with it (its images keep their bitmaps)."""
        import shutil

        self._chksets.pop(rec.uuid, None)
        folder = self._checkpoint_dir(rec)
        if folder.is_dir():
            shutil.rmtree(folder)

    # ------------------------------------------------------------------ API
    def list_checkpoints(self, dom: str) -> list[CheckpointInfo]:
        return self._chkset(self.lookup(dom)).records()  # type: ignore[attr-defined]

    async def checkpoint_xml(self, dom: str, name: str, security_info: bool = False, no_domain: bool = False,
                             size: bool = False) -> str:
        rec = self.lookup(dom)  # type: ignore[attr-defined]
        chk = self._chkset(rec).get(name)
        if size:
            run = self._running(rec)  # type: ignore[attr-defined]
            async with rec.lock:
                sizes = await self._bitmap_sizes(run, rec, chk)
            for disk in chk.disks:
                disk.size = sizes.get(disk.name or "")
        return chk.to_xml(no_domain=no_domain, size=size)

    async def checkpoint_create(self, dom: str, xml: str, *, redefine: bool = False, redefine_validate: bool = False,
                                quiesce: bool = False) -> str:
        check_create_flags(redefine, redefine_validate)
        rec = self.lookup(dom)  # type: ignore[attr-defined]
        if quiesce:  # libvirt 9.0's QEMU driver takes no QUIESCE for checkpoints (its test driver does)
            raise PyvirtError("unsupported flags (0x2) in function qemuCheckpointCreateXML", ErrorCode.INVALID_ARG,
                              ErrorDomain.QEMU)
        if not redefine and not rec.active:
            raise _not_running("create")
        chk = parse_request(xml, redefine=redefine)
        async with rec.lock:
            chks = self._chkset(rec)
            chks.check_new(chk, redefine=redefine)
            if redefine:
                await self._redefine_checkpoint(rec, chks, chk, redefine_validate)
                return chk.name or ""
            run = self._running(rec)  # type: ignore[attr-defined]
            guest = rec.current()
            chk.domain_xml = guest.to_xml(inactive=True)
            align_disks(chk, guest_disks(guest))
            nodes = await self._bitmap_nodes(run, rec, chk, new=True)
            await self._qmp(run, "transaction", {"actions": [  # type: ignore[attr-defined]
                {"type": "block-dirty-bitmap-add", "data": {"node": node, "name": bitmap, "persistent": True}}
                for node, bitmap in nodes.values()]})
            chks.add(chk)
            self._persist_checkpoints(rec, chks)
        return chk.name or ""

    async def _redefine_checkpoint(self, rec: DomainRecord, chks: CheckpointSet, chk: CheckpointDef,
                                   validate: bool) -> None:
        """Record metadata only (a checkpoint taken before, e.g. on another host)."""
        if chk.domain_xml is not None:
            dom = model.parse_stored(chk.domain_xml)
            prepare_redefine(chk, dom.uuid, rec.uuid, guest_disks(dom))
        else:
            prepare_redefine(chk, None, rec.uuid, None)
        if validate:  # qemuCheckpointRedefineValidateBitmaps
            run = self._running(rec)  # type: ignore[attr-defined]
            present = await self._bitmaps_present(run, rec)
            for disk in chk.disks:
                if disk.checkpoint == "bitmap" and disk.name in present and chk.name not in present[disk.name]:
                    raise PyvirtError(f"checkpoint inconsistent: missing or broken bitmap '{chk.name}' for disk "
                                      f"'{disk.name}'", ErrorCode.CHECKPOINT_INCONSISTENT,
                                      ErrorDomain.DOMAIN_CHECKPOINT)
        chks.add(chk, redefine=True, make_current=redefine_makes_current(chks, chk))
        self._persist_checkpoints(rec, chks)

    async def checkpoint_delete(self, dom: str, name: str, *, children: bool = False, children_only: bool = False,
                                metadata_only: bool = False) -> None:
        check_delete_flags(children, children_only)
        rec = self.lookup(dom)  # type: ignore[attr-defined]
        if not metadata_only and not rec.active:
            raise _not_running("delete")
        async with rec.lock:
            chks = self._chkset(rec)
            chks.get(name)
            doomed = chks.descendants(name) if children or children_only else []
            if not children_only:
                doomed.append(name)
            if not metadata_only:
                run = self._running(rec)  # type: ignore[attr-defined]
                actions = []
                for victim in doomed:
                    for node, bitmap in (await self._bitmap_nodes(run, rec, chks.snaps[victim])).values():
                        actions.append({"type": "block-dirty-bitmap-remove", "data": {"node": node, "name": bitmap}})
                if actions:
                    await self._qmp(run, "transaction", {"actions": actions})  # type: ignore[attr-defined]
            gone = [c.name or "" for c in chks.remove(name, children=children, children_only=children_only)]
            self._persist_checkpoints(rec, chks, gone)

    # ------------------------------------------------------------------ QEMU's side
    async def _bitmap_nodes(self, run: Running, rec: DomainRecord, chk: CheckpointDef,
                            new: bool = False) -> dict[str, tuple[str, str]]:
        """{target: (format node, bitmap)} of the checkpoint's bitmaps on the running guest.
        `new`: libvirt's checks for a checkpoint about to be taken (qcow2 only, the bitmap named
        after the checkpoint); otherwise a disk unplugged since is skipped, as libvirt does, and
        a bitmap that is gone is an error."""
        guest = rec.current()
        by_target = {d.target_dev: d for d in guest.devices.disks}
        present = {} if new else await self._bitmaps_present(run, rec)
        out: dict[str, tuple[str, str]] = {}
        for cd in chk.disks:
            disk = by_target.get(cd.name)
            if cd.checkpoint != "bitmap" or disk is None:
                continue
            bitmap = cd.bitmap or chk.name or ""
            if new:
                if bitmap != chk.name:
                    raise unsupported(f"bitmap for disk '{cd.name}' must match checkpoint name '{chk.name}'")
                fmt = disk.driver_type or "raw"
                if fmt != "qcow2":
                    raise unsupported(f"checkpoint for disk {cd.name} unsupported for storage type {fmt}")
            elif bitmap not in present.get(cd.name or "", {}):
                raise PyvirtError(f"internal error: bitmap '{bitmap}' not found in backing chain of '{cd.name}'",
                                  ErrorCode.INTERNAL_ERROR, ErrorDomain.DOMAIN_CHECKPOINT)
            node = await self._format_node(run, disk)  # type: ignore[attr-defined]
            if node is None:
                raise PyvirtError(f"operation failed: cannot find the block node of disk '{cd.name}' in QEMU",
                                  ErrorCode.OPERATION_FAILED, ErrorDomain.DOMAIN_CHECKPOINT)
            out[cd.name or ""] = (node, bitmap)
        return out

    async def _bitmaps_present(self, run: Running, rec: DomainRecord) -> dict[str, dict[str, dict[str, Any]]]:
        """{target: {bitmap name: QEMU's record (count = dirty bytes, granularity, …)}} over each
        disk's backing chain (an external snapshot's or a copy's overlay carries the checkpoints'
        bitmaps on: see bitmap_layers); the top-most layer's record, its count summed over the
        layers (an upper bound of what changed: a cluster written in two layers counts twice)."""
        out: dict[str, dict[str, dict[str, Any]]] = {}
        for target, layers in (await self.bitmap_layers(run, rec)).items():
            merged: dict[str, dict[str, Any]] = {}
            for _node, bitmaps in layers:
                for name, record in bitmaps.items():
                    if name in merged:
                        merged[name] = {**merged[name], "count": int(merged[name].get("count", 0))
                                        + int(record.get("count", 0))}
                    else:
                        merged[name] = record
            out[target] = merged
        return out

    async def bitmap_layers(self, run: Running, rec: DomainRecord) -> dict[str, list[tuple[str, dict[str, Any]]]]:
        """{target: [(format node, {bitmap name: record}), …]} from the disk's top image down its
        backing chain (libvirt's view of a checkpoint: the same-named bitmap of every layer,
        merged, since an overlay made after the checkpoint starts its own copy of it)."""
        nodes = await self._qmp(run, "query-named-block-nodes", {"flat": True})  # type: ignore[attr-defined]
        by_name = {n.get("node-name"): n for n in nodes}
        formats = {n.get("file"): n for n in nodes if n.get("drv") not in PROTOCOL_DRIVERS}
        out: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        for disk in rec.current().devices.disks:
            node = by_name.get(await self._format_node(run, disk))  # type: ignore[attr-defined]
            layers: list[tuple[str, dict[str, Any]]] = []
            while node is not None and len(layers) < 64:
                layers.append((node.get("node-name", ""),
                               {b.get("name", ""): b for b in node.get("dirty-bitmaps") or []}))
                backing = node.get("backing_file")
                node = formats.get(backing) if backing else None
            out[disk.target_dev or ""] = layers
        return out

    async def carry_bitmaps(self, run: Running, top: str, overlay: str) -> list[dict[str, Any]]:
        """Transaction actions giving a new overlay (external snapshot, block copy) an empty
        persistent bitmap for each persistent bitmap of the image it goes over, same name and
        granularity (libvirt's qemuBlockBitmapsHandleSnapshot): writes from then on are recorded
        in the overlay, the older ones stay in the layer below, and a backup merges both."""
        for node in await self._qmp(run, "query-named-block-nodes", {"flat": True}):  # type: ignore[attr-defined]
            if node.get("node-name") == top:
                return [{"type": "block-dirty-bitmap-add",
                         "data": {"node": overlay, "name": b["name"], "persistent": True,
                                  "granularity": b.get("granularity", 65536)}}
                        for b in node.get("dirty-bitmaps") or [] if b.get("persistent")]
        return []

    async def _bitmap_sizes(self, run: Running, rec: DomainRecord, chk: CheckpointDef) -> dict[str, int]:
        """What ``--size`` reports: the bytes each disk's bitmap marks written since the checkpoint."""
        present = await self._bitmaps_present(run, rec)
        out = {}
        for cd in chk.disks:
            entry = present.get(cd.name or "", {}).get(cd.bitmap or "")
            if cd.checkpoint == "bitmap" and entry is not None:
                out[cd.name or ""] = int(entry.get("count", 0))
        return out
