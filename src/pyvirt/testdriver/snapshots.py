"""Snapshots in the test driver: metadata only, with libvirt 9.0 test driver's flags and wording.

A snapshot records the domain's definition and run state; reverting puts both back (the
test driver has no disks or memory to restore).  The tree rules live in
:mod:`pyvirt.snapshot_tree`, shared with pyvirtd.
"""

from __future__ import annotations

from pyvirt.api import (
    DomainState,
    ErrorCode,
    ErrorDomain,
    EventType,
    PausedReason,
    PyvirtError,
    RunningReason,
    ShutoffReason,
    SnapshotInfo,
    StartedDetail,
    StoppedDetail,
)
from pyvirt.snapshot_tree import (
    GuestDisk,
    SnapshotSet,
    align_disks,
    check_create_flags,
    exclusive,
    parse_request,
    regular_file,
)
from pyvirt.testdriver import errors as E
from pyvirt.testdriver.xmlutil import parse_string, to_string

TYPE_CHECKING = False
if TYPE_CHECKING:
    from lxml import etree

    from pyvirt.testdriver.objects import DomainObj
    from pyvirt.xml.snapshot import SnapshotDef

#: virDomainSnapshotCreateFlags and the ones libvirt's test driver accepts
CREATE_FLAGS = {"redefine": 0x1, "current": 0x2, "no_metadata": 0x4, "halt": 0x8, "disk_only": 0x10,
                "reuse_external": 0x20, "quiesce": 0x40, "atomic": 0x80, "live": 0x100, "validate": 0x200}
TEST_CREATE_OK = 0x1 | 0x2 | 0x8 | 0x40 | 0x80 | 0x100 | 0x200  # quiesce and atomic: accepted, nothing to do
STATE_WORDS = {DomainState.RUNNING: "running", DomainState.BLOCKED: "blocked", DomainState.PAUSED: "paused",
               DomainState.SHUTDOWN: "shutdown", DomainState.SHUTOFF: "shutoff", DomainState.CRASHED: "crashed",
               DomainState.PMSUSPENDED: "pmsuspended"}



def _deepcopy(tree: etree._Element) -> etree._Element:
    """copy.deepcopy, imported on use: `copy` (weakref, itertools) is not on `list`'s path."""
    import copy

    return copy.deepcopy(tree)

class SnapshotsMixin:
    """virDomainSnapshot* for :class:`pyvirt.testdriver.connection.TestConnection`."""

    _snapsets: dict[str, SnapshotSet]  # by domain UUID, made on first use

    def _snapset(self, obj: DomainObj) -> SnapshotSet:
        return self._snapsets.setdefault(obj.uuid, SnapshotSet())

    def snapshot_count(self, obj: DomainObj) -> int:
        snaps = self._snapsets.get(obj.uuid)
        return len(snaps.snaps) if snaps is not None else 0

    def drop_snapshots(self, uuid: str) -> None:
        """Forget the snapshots of a domain that is gone."""
        self._snapsets.pop(uuid, None)

    def snapshot_create(self, dom: str, xml: str, *, redefine: bool = False, current: bool = False,
                        no_metadata: bool = False, halt: bool = False, disk_only: bool = False,
                        reuse_external: bool = False, quiesce: bool = False, atomic: bool = False,
                        live: bool = False, validate: bool = False) -> str:
        given = dict(redefine=redefine, current=current, no_metadata=no_metadata, halt=halt,
                     disk_only=disk_only, reuse_external=reuse_external, quiesce=quiesce, atomic=atomic,
                     live=live, validate=validate)
        check_create_flags(redefine, current, no_metadata)
        self._write("virDomainSnapshotCreateXML")  # type: ignore[attr-defined]
        obj: DomainObj = self._get(dom)  # type: ignore[attr-defined]
        flags = sum(CREATE_FLAGS[k] for k, v in given.items() if v)
        if flags & ~TEST_CREATE_OK:
            raise E.unsupported_flags(flags & ~TEST_CREATE_OK, "testDomainSnapshotCreateXML")
        if self.list_checkpoints(dom):  # type: ignore[attr-defined]  # the test driver keeps the two apart
            raise E.err("Operation not supported: cannot create snapshot while checkpoint exists",
                        ErrorCode.OPERATION_UNSUPPORTED)
        snap = parse_request(xml, redefine=redefine, validate=validate)
        snaps = self._snapset(obj)
        if redefine:
            self._redefine(obj, snaps, snap, current)
            return snap.name or ""
        snaps.check_new(snap, redefine=False)
        tree = obj.current
        snap.domain_xml = to_string(_deepcopy(tree))
        snap.state = STATE_WORDS.get(obj.state, "nostate")
        if any(d.snapshot == "manual" for d in snap.disks):  # libvirt 9.0's test driver, before aligning
            raise E.err("Operation not supported: 'manual' snapshot mode is not supported by the test driver",
                        ErrorCode.OPERATION_UNSUPPORTED)
        if snap.memory != "external":
            # testDomainSnapshotAlignDisks: unless external, the memory location follows the
            # guest's state whatever the request said ('no' of a running guest is internal, an
            # internal one of a guest that is off is 'no')
            snap.memory = "no" if snap.offline else "internal"
        # external memory makes the disks' default external too (libvirt's alignment)
        align_disks(snap, _guest_disks(tree), "external" if snap.memory == "external" else "internal", True)
        snaps.add(snap)
        if halt and obj.active:
            self._stop(obj, ShutoffReason.FROM_SNAPSHOT, StoppedDetail.FROM_SNAPSHOT)  # type: ignore[attr-defined]
        return snap.name or ""

    def _redefine(self, obj: DomainObj, snaps: SnapshotSet, snap: SnapshotDef, current: bool) -> None:
        if snap.domain_xml is not None:
            from pyvirt.testdriver.domxml import parse_domain_xml
            from pyvirt.testdriver.xmlutil import text

            root = parse_domain_xml(snap.domain_xml, unsupported_ok=True)[0]
            snap.domain_xml = to_string(root)  # with the defaults a define fills in
            uuid = text(root, "uuid").lower()
            if uuid != obj.uuid:
                raise PyvirtError(f"invalid argument: definition for snapshot {snap.name} must use uuid {obj.uuid}",
                                  ErrorCode.INVALID_ARG, ErrorDomain.DOMAIN_SNAPSHOT)
        old = snaps.snaps.get(snap.name or "")
        if old is not None:
            online = ("running", "paused")
            if (old.state in online) != (snap.state in online):
                raise PyvirtError(f"invalid argument: cannot change between online and offline snapshot state "
                                  f"in snapshot {snap.name}", ErrorCode.INVALID_ARG, ErrorDomain.DOMAIN_SNAPSHOT)
            if snap.domain_xml is None:
                snap.domain_xml = old.domain_xml
        if snap.domain_xml is None:
            raise E.internal("missing domain in snapshot")
        from pyvirt.snapshot_tree import is_external

        external = snap.state == "disk-snapshot" or is_external(snap)
        align_disks(snap, _guest_disks(parse_string(snap.domain_xml)), "external" if external else "internal",
                    not external)
        snaps.add(snap, redefine=True, make_current=current or snaps.current == snap.name)

    def list_snapshots(self, dom: str) -> list[SnapshotInfo]:
        obj: DomainObj = self._get(dom)  # type: ignore[attr-defined]
        return self._snapset(obj).records()

    def snapshot_xml(self, dom: str, name: str, *, security_info: bool = False) -> str:
        obj: DomainObj = self._get(dom)  # type: ignore[attr-defined]
        snap = self._snapset(obj).get(name)
        self._secure(security_info, "virDomainSnapshotGetXMLDesc")  # type: ignore[attr-defined]
        return snap.to_xml(obj.uuid)

    def snapshot_revert(self, dom: str, name: str, *, running: bool = False, paused: bool = False,
                        force: bool = False, reset_nvram: bool = False) -> None:
        if running and paused:
            raise exclusive("VIR_DOMAIN_SNAPSHOT_REVERT_RUNNING", "VIR_DOMAIN_SNAPSHOT_REVERT_PAUSED")
        self._write("virDomainRevertToSnapshot")  # type: ignore[attr-defined]
        obj: DomainObj = self._get(dom)  # type: ignore[attr-defined]
        if reset_nvram:
            raise E.unsupported_flags(0x8, "testDomainRevertToSnapshot")
        snaps = self._snapset(obj)
        snap = snaps.get(name)
        tree = parse_string(snap.domain_xml) if snap.domain_xml is not None else _deepcopy(obj.current)
        # libvirt 9.0's test driver leaves an offline snapshot's guest off even with --running
        online = snap.state in ("running", "paused")
        if online:
            if obj.active and to_string(obj.current) != to_string(tree):
                # another machine than the one running: it is stopped and started again
                self._stop(obj, ShutoffReason.FROM_SNAPSHOT, StoppedDetail.FROM_SNAPSHOT)  # type: ignore[attr-defined]
                if obj not in self._domains:  # type: ignore[attr-defined]
                    self._domains.append(obj)  # type: ignore[attr-defined]
            if obj.active:
                obj.live = tree
            else:
                if obj.config is not None:
                    obj.config = _deepcopy(tree)
                obj.live = tree
                obj.id = self._next_id  # type: ignore[attr-defined]
                self._next_id += 1  # type: ignore[attr-defined]
                self._emit(obj, EventType.STARTED, StartedDetail.FROM_SNAPSHOT)  # type: ignore[attr-defined]
            want_paused = paused or (snap.state == "paused" and not running)
            if want_paused:
                obj.state, obj.reason = DomainState.PAUSED, PausedReason.FROM_SNAPSHOT
            else:
                obj.state, obj.reason = DomainState.RUNNING, RunningReason.FROM_SNAPSHOT
        else:
            if obj.active:
                self._stop(obj, ShutoffReason.FROM_SNAPSHOT, StoppedDetail.FROM_SNAPSHOT)  # type: ignore[attr-defined]
            if obj.config is not None:
                obj.config = tree
            obj.state, obj.reason = DomainState.SHUTOFF, ShutoffReason.FROM_SNAPSHOT
        snaps.current = name

    def snapshot_delete(self, dom: str, name: str, *, children: bool = False, children_only: bool = False,
                        metadata_only: bool = False) -> None:
        if children and children_only:
            raise exclusive("VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN", "VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN_ONLY")
        self._write("virDomainSnapshotDelete")  # type: ignore[attr-defined]
        obj: DomainObj = self._get(dom)  # type: ignore[attr-defined]
        self._snapset(obj).remove(name, children=children, children_only=children_only)


def disk_sources(tree: etree._Element) -> list[tuple[str, str | None, etree._Element]]:
    """(target, source path or None, the <disk>) of each of a domain's disks, as snapshots and
    checkpoints both align their disks with them."""
    out = []
    for disk in tree.findall("devices/disk"):
        target = disk.find("target")
        src = disk.find("source")
        path = None
        if src is not None:
            path = src.get("file") or src.get("dev") or src.get("name") or src.get("volume")
        out.append((target.get("dev", "") if target is not None else "", path, disk))
    return out


def _guest_disks(tree: etree._Element) -> list[GuestDisk]:
    return [GuestDisk(target, path, disk.get("snapshot"), regular_file=regular_file(path))
            for target, path, disk in disk_sources(tree)]
