"""A domain's checkpoints as libvirt keeps them: the snapshot tree's rules, checkpoints' words.

Checkpoints and snapshots are both "moments" in libvirt (virdomainmomentobjlist.c): a tree by
parent name, a current one that a new one becomes the child of, and the same reparenting on
delete.  :class:`CheckpointSet` is :class:`pyvirt.snapshot_tree.SnapshotSet` with the
checkpoint lookup error and record; :func:`align_disks` is virDomainCheckpointAlignDisks.
Both drivers use them, so the test driver and pyvirtd answer alike.
"""

from __future__ import annotations

import time

from pyvirt.api import CheckpointInfo, ErrorCode, ErrorDomain, PyvirtError, check_schema, no_checkpoint
from pyvirt.snapshot_tree import SnapshotSet

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pyvirt.xml.checkpoint import CheckpointDef


def flag_error(message: str) -> PyvirtError:
    """The public API's flag checks (libvirt-domain-checkpoint.c), worded as libvirt's macros."""
    return PyvirtError(message, ErrorCode.INVALID_ARG, ErrorDomain.DOMAIN)


def check_create_flags(redefine: bool, redefine_validate: bool) -> None:
    if redefine_validate and not redefine:
        raise flag_error("Flag 'VIR_DOMAIN_CHECKPOINT_CREATE_REDEFINE' is required by flag "
                         "'VIR_DOMAIN_CHECKPOINT_CREATE_REDEFINE_VALIDATE'")


def check_delete_flags(children: bool, children_only: bool) -> None:
    if children and children_only:
        raise flag_error("Flags 'VIR_DOMAIN_CHECKPOINT_DELETE_CHILDREN' and "
                         "'VIR_DOMAIN_CHECKPOINT_DELETE_CHILDREN_ONLY' are mutually exclusive")


def unsupported(message: str) -> PyvirtError:
    return PyvirtError(f"unsupported configuration: {message}", ErrorCode.CONFIG_UNSUPPORTED,
                       ErrorDomain.DOMAIN_CHECKPOINT)


def parse_request(xml: str, *, redefine: bool) -> CheckpointDef:
    """The checkpoint XML as libvirt reads it: always against domaincheckpoint.rng (where the
    schema is installed), then the model's own rules; errors are libvirt's XML errors."""
    from pyvirt.xml.checkpoint import MISSING_TIME, parse_checkpoint
    from pyvirt.xml.errors import XMLError, XMLMalformedError, XMLUnsupportedError

    check_schema(xml, "domaincheckpoint", ErrorDomain.DOMAIN_CHECKPOINT)
    try:
        chk = parse_checkpoint(xml, redefine=redefine, creation_time=int(time.time()))
    except XMLUnsupportedError as e:
        raise unsupported(e.message) from None
    except XMLMalformedError as e:
        raise PyvirtError(e.report, ErrorCode.XML_DETAIL, ErrorDomain.DOMAIN_CHECKPOINT) from None
    except XMLError as e:
        if e.message.startswith(MISSING_TIME):  # libvirt reports this one as an internal error
            raise PyvirtError(f"internal error: {e.message}", ErrorCode.INTERNAL_ERROR,
                              ErrorDomain.DOMAIN_CHECKPOINT) from None
        raise PyvirtError(f"XML error: {e.message}", ErrorCode.XML_ERROR, ErrorDomain.DOMAIN_CHECKPOINT) from None
    return chk


def prepare_redefine(chk: CheckpointDef, uuid: str | None, own_uuid: str, disks: list[GuestDisk] | None) -> None:
    """virDomainCheckpointRedefinePrep's checks on a redefined checkpoint: a recorded definition
    (`uuid`, `disks`: read from it by the driver) must be this domain's and aligns the disks;
    without one, bitmaps are named after the checkpoint."""
    if disks is not None:
        if uuid != own_uuid:
            raise PyvirtError(f"invalid argument: definition for checkpoint {chk.name} must use uuid {own_uuid}",
                              ErrorCode.INVALID_ARG, ErrorDomain.DOMAIN_CHECKPOINT)
        align_disks(chk, disks)
        return
    for disk in chk.disks:
        if disk.checkpoint == "bitmap" and disk.bitmap is None:
            disk.bitmap = chk.name


def redefine_makes_current(chks: CheckpointSet, chk: CheckpointDef) -> bool:
    """virDomainCheckpointRedefinePrep: a redefined checkpoint becomes current when its parent
    is the current one, or when there is no current one yet."""
    return chks.current is None or (chk.parent is not None and chk.parent == chks.current)


class CheckpointSet(SnapshotSet):
    """The checkpoints of one domain (``snaps`` holds :class:`CheckpointDef` records here)."""

    @staticmethod
    def not_found(name: str) -> PyvirtError:
        return no_checkpoint(name)

    @staticmethod
    def _invalid(message: str) -> PyvirtError:
        return PyvirtError(f"invalid argument: {message}", ErrorCode.INVALID_ARG, ErrorDomain.DOMAIN_CHECKPOINT)

    def info(self, name: str) -> CheckpointInfo:  # type: ignore[override]
        chk = self.get(name)
        return CheckpointInfo(name=name, parent=chk.parent or "", creation_time=chk.creation_time or 0)

    def records(self) -> list[CheckpointInfo]:  # type: ignore[override]
        return super().records()  # type: ignore[return-value]  # parents first, each through info()


class GuestDisk:
    """What aligning a checkpoint's disks needs to know of one guest disk."""

    __slots__ = ("target", "source", "skip")

    def __init__(self, target: str, source: str | None, skip: bool) -> None:
        #: `skip`: empty or read-only (libvirt never gives those a bitmap)
        self.target, self.source, self.skip = target, source, skip


def align_disks(chk: CheckpointDef, disks: list[GuestDisk]) -> None:
    """virDomainCheckpointAlignDisks: one entry per guest disk in the guest's order, named by
    target; without ``<disks>`` every writable disk gets a bitmap, with it the others none;
    a bitmap is named after the checkpoint unless the request named it."""
    from pyvirt.xml.checkpoint import CheckpointDisk

    if len(chk.disks) > len(disks):
        raise unsupported("too many disk checkpoint requests for domain")
    if not disks:
        raise unsupported("domain must have at least one disk to perform checkpoints")
    default = "no" if chk.disks else "bitmap"
    by_target: dict[str, CheckpointDisk] = {}
    for req in chk.disks:
        guest = next((g for g in disks if req.name in (g.target, g.source)), None)
        if guest is None:
            raise unsupported(f"no disk named '{req.name}'")
        if guest.target in by_target:
            raise unsupported(f"disk '{req.name}' specified twice")
        if guest.skip and req.checkpoint != "no":
            raise unsupported(f"disk '{req.name}' is empty or readonly")
        req.name = guest.target
        by_target[guest.target] = req
    out = []
    for guest in disks:
        req = by_target.get(guest.target)
        if req is None:
            req = CheckpointDisk(name=guest.target, checkpoint="no" if guest.skip else default)
        if req.checkpoint == "bitmap" and req.bitmap is None:
            req.bitmap = chk.name
        out.append(req)
    chk.disks = out
