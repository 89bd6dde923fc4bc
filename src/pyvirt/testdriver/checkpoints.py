"""Checkpoints in the test driver: metadata only, as libvirt 9.0's test driver keeps them.

A checkpoint records the running domain's definition and which disks get a bitmap; there are
no images to put bitmaps in, so sizes are never measured and backups are not supported (the
test driver has no virDomainBackupBegin: the inherited "not supported" stays).  The tree
rules are :mod:`pyvirt.checkpoint_tree`'s, shared with pyvirtd.
"""

from __future__ import annotations

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
)
from pyvirt.testdriver.xmlutil import to_string

TYPE_CHECKING = False
if TYPE_CHECKING:
    from lxml import etree

    from pyvirt.testdriver.objects import DomainObj


class CheckpointsMixin:
    """virDomainCheckpoint* for :class:`pyvirt.testdriver.connection.TestConnection`."""

    _chksets: dict[str, CheckpointSet]  # by domain UUID, made on first use

    def _chkset(self, obj: DomainObj) -> CheckpointSet:
        return self._chksets.setdefault(obj.uuid, CheckpointSet())

    def drop_snapshots(self, uuid: str) -> None:
        """A domain that is gone takes its checkpoints along with its snapshots."""
        self._chksets.pop(uuid, None)
        super().drop_snapshots(uuid)  # type: ignore[misc]

    def checkpoint_create(self, dom: str, xml: str, *, redefine: bool = False, redefine_validate: bool = False,
                          quiesce: bool = False) -> str:
        check_create_flags(redefine, redefine_validate)
        self._write("virDomainCheckpointCreateXML")  # type: ignore[attr-defined]
        obj: DomainObj = self._get(dom)  # type: ignore[attr-defined]
        if self.snapshot_count(obj):  # type: ignore[attr-defined]  # the test driver keeps the two apart
            raise PyvirtError("Operation not supported: cannot create checkpoint while snapshot exists",
                              ErrorCode.OPERATION_UNSUPPORTED, ErrorDomain.DOMAIN_CHECKPOINT)
        if not redefine and not obj.active:
            raise PyvirtError("Operation not supported: cannot create checkpoint for inactive domain",
                              ErrorCode.OPERATION_UNSUPPORTED, ErrorDomain.DOMAIN_CHECKPOINT)
        chk = parse_request(xml, redefine=redefine)
        chks = self._chkset(obj)
        chks.check_new(chk, redefine=redefine)
        if redefine:
            make_current = redefine_makes_current(chks, chk)
            if chk.domain_xml is not None:
                from pyvirt.testdriver.domxml import parse_domain_xml
                from pyvirt.testdriver.xmlutil import text

                root = parse_domain_xml(chk.domain_xml, unsupported_ok=True)[0]
                prepare_redefine(chk, text(root, "uuid").lower(), obj.uuid, guest_disks(root))
                chk.domain_xml = to_string(root)
            else:
                prepare_redefine(chk, None, obj.uuid, None)
            chks.add(chk, redefine=True, make_current=make_current)
            return chk.name or ""
        tree = obj.current
        chk.domain_xml = to_string(tree)
        align_disks(chk, guest_disks(tree))
        chks.add(chk)
        return chk.name or ""

    def list_checkpoints(self, dom: str) -> list[CheckpointInfo]:
        obj: DomainObj = self._get(dom)  # type: ignore[attr-defined]
        return self._chkset(obj).records()

    def checkpoint_xml(self, dom: str, name: str, *, security_info: bool = False, no_domain: bool = False,
                       size: bool = False) -> str:
        obj: DomainObj = self._get(dom)  # type: ignore[attr-defined]
        chk = self._chkset(obj).get(name)
        self._secure(security_info, "virDomainCheckpointGetXMLDesc")  # type: ignore[attr-defined]
        return chk.to_xml(no_domain=no_domain)

    def checkpoint_delete(self, dom: str, name: str, *, children: bool = False, children_only: bool = False,
                          metadata_only: bool = False) -> None:
        check_delete_flags(children, children_only)
        self._write("virDomainCheckpointDelete")  # type: ignore[attr-defined]
        obj: DomainObj = self._get(dom)  # type: ignore[attr-defined]
        self._chkset(obj).remove(name, children=children, children_only=children_only)


def guest_disks(tree: etree._Element) -> list[GuestDisk]:
    """The domain's disks as checkpoint alignment sees them (CD-ROMs are read-only in libvirt)."""
    from pyvirt.testdriver.snapshots import disk_sources

    return [GuestDisk(target, path, skip=path is None or disk.find("readonly") is not None
                      or disk.get("device") == "cdrom")
            for target, path, disk in disk_sources(tree)]
