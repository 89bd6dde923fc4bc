"""A domain's snapshots as libvirt keeps them: a tree by parent name, and one current snapshot.

Both drivers hold their snapshots in a :class:`SnapshotSet` (the test driver in memory, pyvirtd
also on disk), so creation, redefinition, deletion with its reparenting and the choice of the
current snapshot follow one set of rules (virdomainmomentobjlist.c and the drivers' delete
code), and ``list_snapshots`` answers the same records everywhere.
"""

from __future__ import annotations

import time

from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError, SnapshotInfo, no_snapshot

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path
    from typing import Any

    from pyvirt.xml.snapshot import SnapshotDef


def no_current() -> PyvirtError:
    return PyvirtError("Domain snapshot not found: the domain does not have a current snapshot",
                       ErrorCode.NO_DOMAIN_SNAPSHOT, ErrorDomain.DOMAIN_SNAPSHOT)


def _invalid_arg(message: str) -> PyvirtError:
    return PyvirtError(f"invalid argument: {message}", ErrorCode.INVALID_ARG, ErrorDomain.DOMAIN_SNAPSHOT)


def flag_error(message: str) -> PyvirtError:
    """The public API's flag checks (libvirt-domain-snapshot.c), worded as libvirt's macros."""
    return PyvirtError(message, ErrorCode.INVALID_ARG, ErrorDomain.DOMAIN)


def exclusive(a: str, b: str) -> PyvirtError:
    return flag_error(f"Flags '{a}' and '{b}' are mutually exclusive")


def check_create_flags(redefine: bool, current: bool, no_metadata: bool) -> None:
    if current and not redefine:
        raise flag_error("Flag 'VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE' is required by flag "
                         "'VIR_DOMAIN_SNAPSHOT_CREATE_CURRENT'")
    if redefine and no_metadata:
        raise exclusive("VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE", "VIR_DOMAIN_SNAPSHOT_CREATE_NO_METADATA")


def parse_request(xml: str, *, redefine: bool, validate: bool) -> SnapshotDef:
    """The snapshot XML as libvirt reports its errors (XML error / unsupported configuration)."""
    from pyvirt.xml.errors import XMLError, XMLMalformedError, XMLUnsupportedError
    from pyvirt.xml.libxml_report import URLS
    from pyvirt.xml.snapshot import parse_snapshot

    if validate:
        from pyvirt.xml.safe import safe_parse
        from pyvirt.xml.schema import schema_error

        try:
            bad = schema_error(safe_parse(xml, URLS["domainsnapshot"]), "domainsnapshot")
        except XMLMalformedError as e:
            raise PyvirtError(e.report, ErrorCode.XML_DETAIL, ErrorDomain.DOMAIN_SNAPSHOT) from None
        except XMLError as e:
            raise PyvirtError(f"XML error: {e.message}", ErrorCode.XML_ERROR, ErrorDomain.DOMAIN_SNAPSHOT) from None
        if bad is not None:
            raise PyvirtError(f"XML document failed to validate against schema: {bad[0]}",
                              ErrorCode.XML_INVALID_SCHEMA, ErrorDomain.DOMAIN_SNAPSHOT)
    try:
        return parse_snapshot(xml, redefine=redefine, creation_time=int(time.time()))
    except XMLUnsupportedError as e:
        raise PyvirtError(f"unsupported configuration: {e.message}", ErrorCode.CONFIG_UNSUPPORTED,
                          ErrorDomain.DOMAIN_SNAPSHOT) from None
    except XMLMalformedError as e:
        raise PyvirtError(e.report, ErrorCode.XML_DETAIL, ErrorDomain.DOMAIN_SNAPSHOT) from None
    except XMLError as e:
        raise PyvirtError(f"XML error: {e.message}", ErrorCode.XML_ERROR, ErrorDomain.DOMAIN_SNAPSHOT) from None


def location(snap: SnapshotDef) -> str:
    """virsh snapshot-info's Location: where the snapshot's state lives."""
    kinds = {snap.memory} | {d.snapshot for d in snap.disks}
    internal, external = "internal" in kinds, "external" in kinds
    if internal and external:
        return "both"
    return "internal" if internal else "external" if external else "none"


def is_external(snap: SnapshotDef) -> bool:
    return snap.memory == "external" or any(d.snapshot == "external" for d in snap.disks)


class SnapshotSet:
    """The snapshots of one domain, in creation order, and the name of the current one.

    Checkpoints are moments of the same kind (libvirt's virDomainMomentObjList): their set is
    a subclass (:mod:`pyvirt.checkpoint_tree`) with its own lookup error and record."""

    def __init__(self) -> None:
        self.snaps: dict[str, SnapshotDef] = {}
        self.current: str | None = None

    def __bool__(self) -> bool:
        return bool(self.snaps)

    def get(self, name: str) -> SnapshotDef:
        snap = self.snaps.get(name)
        if snap is None:
            raise self.not_found(name)
        return snap

    @staticmethod
    def not_found(name: str) -> PyvirtError:
        return no_snapshot(name)

    @staticmethod
    def _invalid(message: str) -> PyvirtError:
        return _invalid_arg(message)

    def current_def(self) -> SnapshotDef:
        if self.current is None:
            raise no_current()
        return self.snaps[self.current]

    def children(self, name: str | None) -> list[str]:
        """Direct children (roots for None), newest first: libvirt links a new child in front."""
        return [n for n, s in reversed(self.snaps.items()) if s.parent == name]

    def descendants(self, name: str) -> list[str]:
        out: list[str] = []
        for kid in self.children(name):
            out += [kid, *self.descendants(kid)]
        return out

    def check_new(self, snap: SnapshotDef, *, redefine: bool) -> None:
        """Refuse a name taken (create) or a parent that is missing or would make a cycle
        (redefine), before the driver does any work."""
        name = snap.name or ""
        if not redefine:
            if name in self.snaps:
                raise PyvirtError(f"operation failed: domain moment {name} already exists",
                                  ErrorCode.OPERATION_FAILED, ErrorDomain.DOMAIN_SNAPSHOT)
            return
        parent = snap.parent
        if parent is None:
            return
        if parent == name:
            raise self._invalid(f"cannot set moment {name} as its own parent")  # virDomainMomentCheckCycles
        if parent not in self.snaps:
            raise self._invalid(f"parent {parent} for moment {name} not found")
        walk: str | None = parent
        while walk is not None:
            if walk == name:
                raise self._invalid(f"parent {parent} would create cycle to {name}")
            walk = self.snaps[walk].parent

    def add(self, snap: SnapshotDef, *, redefine: bool = False, make_current: bool = True) -> None:
        """Record `snap` (a new one becomes a child of the current snapshot, unless redefined)."""
        self.check_new(snap, redefine=redefine)
        name = snap.name or ""
        if not redefine:
            snap.parent = self.current
        self.snaps[name] = snap
        if make_current:
            self.current = name

    def remove(self, name: str, *, children: bool = False, children_only: bool = False) -> list[SnapshotDef]:
        """Delete `name` (and/or its descendants); the removed records, deepest first, so a
        driver can drop their data in an order that never leaves a child without its parent.

        A snapshot's children move up to its parent; a removed current snapshot hands
        "current" to the snapshot the deletion started from, or to its parent (libvirt)."""
        snap = self.get(name)
        gone: list[str] = []
        if children or children_only:
            gone = self.descendants(name)
            if self.current in gone:
                self.current = name
        else:
            for kid in self.children(name):
                self.snaps[kid].parent = snap.parent
        if not children_only:
            gone.append(name)
            if self.current == name:
                self.current = snap.parent
        removed = [self.snaps.pop(n) for n in reversed(gone)]
        return removed

    def info(self, name: str) -> SnapshotInfo:
        snap = self.get(name)
        return SnapshotInfo(name=name, parent=snap.parent or "", creation_time=snap.creation_time or 0,
                            state=snap.state or "nostate", current=name == self.current,
                            location=location(snap), metadata=True)

    def records(self) -> list[SnapshotInfo]:
        """Every snapshot in libvirt's topological order (parents before children)."""
        order: list[str] = []
        for root in self.children(None):
            order += [root, *self.descendants(root)]
        return [self.info(n) for n in order]


def load_moments(moments: SnapshotSet, folder: Path, parse: Callable[[str], Any]) -> list[Any]:
    """Fill `moments` from pyvirtd's metadata files (``folder/*.xml``, read with `parse`), oldest
    first; a file that cannot be read is logged and skipped, and a moment whose parent's file
    was lost becomes a root.  The records, in that order (the caller picks the current one)."""
    import logging

    from pyvirt.xml.errors import XMLError

    found = []
    for path in sorted(folder.glob("*.xml")) if folder.is_dir() else []:
        try:
            found.append(parse(path.read_text()))
        except (OSError, UnicodeDecodeError, XMLError) as exc:
            logging.getLogger(__name__).error("skipping metadata %s: %s", path, exc)
    found.sort(key=lambda m: (m.creation_time or 0, m.name or ""))
    for moment in found:
        moments.snaps[moment.name or ""] = moment
    for moment in found:
        if moment.parent is not None and moment.parent not in moments.snaps:
            moment.parent = None
    return found


def save_moments(folder: Path, texts: dict[str, str], removed: list[str] | tuple[str, ...] = ()) -> None:
    """Write each moment's metadata file atomically (``NAME.xml``) and remove the `removed` ones."""
    from pyvirt.atomicio import remove_quietly, write_atomic

    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    for name, text in texts.items():
        write_atomic(folder / f"{name}.xml", text)
    for name in removed:
        remove_quietly(folder / f"{name}.xml")


def regular_file(path: str | None) -> bool:
    """libvirt names an external image only for a source that is a regular file on this host
    (it stats the path, whatever the disk's type says)."""
    import os

    return path is not None and os.path.isfile(path)


class GuestDisk:
    """What aligning a snapshot's disks needs to know of one guest disk."""

    __slots__ = ("target", "source", "snapshot", "regular_file")

    def __init__(self, target: str, source: str | None, snapshot: str | None = None,
                 regular_file: bool = False) -> None:
        self.target, self.source, self.snapshot, self.regular_file = target, source, snapshot, regular_file


def _unsupported(message: str) -> PyvirtError:
    return PyvirtError(f"unsupported configuration: {message}", ErrorCode.CONFIG_UNSUPPORTED,
                       ErrorDomain.DOMAIN_SNAPSHOT)


def align_disks(snap: SnapshotDef, disks: list[GuestDisk], default: str, uniform_internal: bool) -> None:
    """virDomainSnapshotAlignDisks: one entry per guest disk, in the guest's order, named by
    target; unnamed disks get the guest disk's own policy or `default`; external images
    without a path are named after the snapshot beside the disk's image."""
    from pyvirt.xml.snapshot import SnapshotDisk

    if len(snap.disks) > len(disks):
        raise _unsupported("too many disk snapshot requests for domain")
    require_match = uniform_internal and default == "internal"
    by_target: dict[str, SnapshotDisk] = {}
    for req in snap.disks:
        guest = next((g for g in disks if req.name in (g.target, g.source)), None)
        if guest is None:
            raise _unsupported(f"no disk named '{req.name}'")
        if guest.target in by_target:
            raise _unsupported(f"disk '{req.name}' specified twice")
        by_target[guest.target] = req
        if req.snapshot is None:
            own = guest.snapshot
            req.snapshot = own if own is not None and (not require_match or own == "no") else default
        elif require_match and req.snapshot != default and not (req.snapshot == "no" and guest.snapshot == "no"):
            raise _unsupported(f"disk '{req.name}' must use snapshot mode '{default}'")
        if req.path is not None and req.snapshot != "external":
            raise _unsupported(f"file '{req.path}' for disk '{req.name}' requires use of external snapshot mode")
        req.name = guest.target
    out: list[SnapshotDisk] = []
    for guest in disks:
        req = by_target.get(guest.target)
        if req is None:
            req = SnapshotDisk(name=guest.target,
                               snapshot="no" if guest.source is None else guest.snapshot or default)
        out.append(req)
    snap.disks = out
    _external_names(snap, disks)


def default_overlay(image: str, name: str) -> str:
    """libvirt's name for a new overlay of `image`: its suffix replaced by `name` (a snapshot's
    name, or a revert's timestamp)."""
    head, dot, tail = image.rpartition(".")
    stem = head if dot and "/" not in tail else image
    return f"{stem}.{name}"


def _external_names(snap: SnapshotDef, disks: list[GuestDisk]) -> None:
    from pyvirt.xml.snapshot import SnapshotSource

    seen: dict[str, str] = {}
    for req, guest in zip(snap.disks, disks, strict=True):
        generated = req.snapshot == "external" and req.path is None
        if generated:
            if (req.type or "file") != "file":
                raise _unsupported(f"cannot generate external snapshot name for disk '{req.name}' "
                                   f"on a '{req.type}' device")
            if guest.source is None:
                raise _unsupported(f"cannot generate external snapshot name for disk '{req.name}' "
                                   "without source")
            if not guest.regular_file:
                raise _unsupported(f"source for disk '{req.name}' is not a regular file; refusing to "
                                   "generate external snapshot name")
            req.source = SnapshotSource(file=default_overlay(guest.source, snap.name or ""))
        path = req.path
        if path is not None:
            if generated and path in seen:
                raise _unsupported(f"cannot generate external snapshot name for disk '{req.name}': "
                                   f"collision with disk '{seen[path]}'")
            seen[path] = req.name or ""
