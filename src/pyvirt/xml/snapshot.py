"""libvirt's ``<domainsnapshot>`` XML <-> :class:`SnapshotDef` (snapshot_conf.c's rules).

Two ways of reading, as libvirt has them:

- *create* (``virsh snapshot-create``): a request.  Only name, description, ``<memory>`` and
  ``<disks>`` count; the bookkeeping elements a snapshot's own dump carries (state, parent,
  creationTime, the domain) are ignored, as libvirt ignores them, so the dump of one snapshot
  can be fed back to create another.
- *redefine* (``--redefine``, and pyvirt's own metadata files): the full record, where
  creationTime and state are required and ``<domain>`` is the guest's definition when the
  snapshot was taken.

Defaults are filled in here once (memory location from the state, a disk's external location
when it names a file or format) so the stored record, ``snapshot-dumpxml`` and the drivers
all read the same values.  Writing follows virDomainSnapshotDefFormat's order and omissions.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import field

from pyvirt.xml.lazy_etree import etree

from .domain import NET_PROTOCOLS, Domain, NetHost, Seclabel
from .errors import XMLError, XMLUnsupportedError
from .fields import Enum, Int, NonEmpty, attr, child, children, ignored, line_field, model, raw, scaled, text
from .generic_defaults import net_host_rules
from .mapping import FormatOptions, _strip_ws, build, parse_model, to_text
from .safe import parse_root, safe_parse

#: Snapshot locations (virDomainSnapshotLocation); absent means "default" (decided later).
LOCATION = Enum("no", "internal", "external", "manual")
#: virDomainSnapshotState: a domain state plus disk-snapshot ("nostate" is never valid input).
STATES = ("running", "blocked", "paused", "shutdown", "shutoff", "crashed", "pmsuspended",
          "disk-snapshot")
#: virStorageFileFormat names valid for a snapshot's new image (0, "none", is not).
IMAGE_FORMATS = ("raw", "dir", "bochs", "cloop", "dmg", "iso", "vpc", "vdi", "fat", "vhd", "ploop",
                 "cow", "qcow", "qcow2", "qed", "vmdk", "luks", "luks2")
#: a snapshot's new image on the network is a <source><host> like a network disk's
SnapshotHost = NetHost


@model
class SnapshotSource:
    """``<disk><source>`` of an external snapshot: the new image (file, block device or network)."""

    #: an empty path is none (virDomainStorageSourceParse: an old spelling of "no source")
    file: str | None = attr("@file", NonEmpty())
    dev: str | None = attr("@dev", NonEmpty())
    protocol: str | None = attr("@protocol", Enum(*NET_PROTOCOLS))
    name: str | None = attr("@name")
    #: a disk's startupPolicy means nothing for a snapshot's new image: libvirt's snapshot parser
    #: (virDomainStorageSourceParse) does not read it, so it is accepted, whatever its value, and
    #: not written
    startup_policy: None = ignored("@startupPolicy")
    hosts: list[SnapshotHost] = children("host", SnapshotHost)
    seclabels: list[Seclabel] = children("seclabel", Seclabel)
    line: int | None = line_field()


@model
class SnapshotDisk:
    """``<disks><disk>``: what happens to one guest disk (by target or source path)."""

    name: str | None = attr("@name")
    snapshot: str | None = attr("@snapshot", LOCATION)
    type: str | None = attr("@type", Enum("file", "block", "network",
                                          known=("nvme", "vhostuser", "vhostvdpa")))
    driver_type: str | None = attr("driver/@type")
    metadata_cache_max_size: int | None = scaled("driver/metadata_cache/max_size", unit="bytes")
    source: SnapshotSource | None = child("source", SnapshotSource)
    line: int | None = line_field()

    @property
    def path(self) -> str | None:
        """The new image's path (file, device, or network volume name), as libvirt's src->path."""
        src = self.source
        if src is None:
            return None
        return {"block": src.dev, "network": src.name}.get(self.type or "file", src.file)


@model
class SnapshotDef:
    """One snapshot: its record (state, parent, time, guest definition) and what it holds.

    ``domain_xml`` is the guest definition when the snapshot was taken, as text (``None`` for a
    request, or an old record that kept only the UUID): drivers read it with their own domain
    rules (the test driver keeps any valid libvirt domain, pyvirtd only what it runs);
    ``inactive_domain_xml`` is the persistent one of a running guest.  ``cookie`` keeps the
    driver's ``<cookie>`` children verbatim.
    """

    name: str | None = text("name")
    description: str | None = text("description")
    state: str | None = text("state")
    parent: str | None = text("parent/name")
    creation_time: int | None = attr("creationTime", Int(None))
    memory: str | None = attr("memory/@snapshot", LOCATION)
    memory_file: str | None = attr("memory/@file")
    disks: list[SnapshotDisk] = children("disks/disk", SnapshotDisk)
    #: the overlays a revert to this snapshot created while it has children (whose chains need
    #: its own ``disks``): where the guest runs since, libvirt's ``<revertDisks>``
    revert_disks: list[SnapshotDisk] = children("revertDisks/disk", SnapshotDisk)
    cookie: list[str] | None = raw("cookie")
    active: int | None = attr("active", Int(0, 1))
    domain_xml: str | None = field(default=None, compare=False)
    inactive_domain_xml: str | None = field(default=None, compare=False)
    line: int | None = line_field()

    def to_xml(self, domain_uuid: str | None = None, *, internal: bool = False,
               current: bool = False) -> str:
        """virDomainSnapshotDefFormat: ``domain_uuid`` is written as ``<domain><uuid>`` when the
        record holds no definition; ``internal`` adds ``<active>`` (current or not), which only
        the driver's own metadata files carry."""
        view = dataclasses.replace(self, active=None, cookie=None,
                                   disks=[_disk_view(d) for d in self.disks],
                                   revert_disks=[_disk_view(d) for d in self.revert_disks])
        head = to_text(build(view, "domainsnapshot", FormatOptions(inactive=True, security_info=True)))
        lines = head.splitlines()
        if lines == ["<domainsnapshot/>"]:
            lines = ["<domainsnapshot>", "</domainsnapshot>"]
        body = lines[:-1]
        if self.domain_xml is not None:
            body += ["  " + ln for ln in self.domain_xml.splitlines()]
        elif domain_uuid is not None:
            body += ["  <domain>", f"    <uuid>{domain_uuid}</uuid>", "  </domain>"]
        if self.inactive_domain_xml is not None:
            body += ["  " + ln for ln in _retag(self.inactive_domain_xml, "inactiveDomain").splitlines()]
        if self.cookie is not None:
            cookie = etree.Element("cookie")
            for item in self.cookie:
                cookie.append(etree.fromstring(item))
            body += ["  " + ln for ln in to_text(cookie).splitlines()]
        if internal:
            body.append(f"  <active>{1 if current else 0}</active>")
        return "\n".join([*body, "</domainsnapshot>"]) + "\n"

    def domain(self) -> Domain | None:
        """The guest definition the snapshot recorded, read with the domain rules (None when
        the record kept only the UUID)."""
        from .parse import parse_domain

        return parse_domain(self.domain_xml) if self.domain_xml is not None else None

    @property
    def offline(self) -> bool:
        """A snapshot of a shut-off guest, or a disk-only one: it has no memory state."""
        return self.state in ("shutoff", "disk-snapshot")


def _retag(xml: str, tag: str) -> str:
    root = safe_parse(xml)
    root.tag = tag
    _strip_ws(root)
    return to_text(root)


def _element_text(el: etree._Element) -> str:
    """A nested definition as a stand-alone libvirt-style document."""
    copy_ = copy.deepcopy(el)
    copy_.tag = "domain"
    copy_.tail = None
    _strip_ws(copy_)
    return to_text(copy_)


def _disk_view(d: SnapshotDisk) -> SnapshotDisk:
    """What libvirt prints of a disk: the image part only when there is a path or format."""
    if d.path is None and d.driver_type is None:
        return SnapshotDisk(name=d.name, snapshot=d.snapshot)
    src = d.source
    if src is not None and (d.type or "file") == "network" and src.seclabels:
        # virDomainDiskSourceFormat writes no <seclabel> for a network source (it reads them)
        src = dataclasses.replace(src, seclabels=[])
    if src is not None and not (any(v is not None for v in (src.file, src.dev, src.protocol, src.name))
                                or src.hosts or src.seclabels):
        src = None  # an empty <source/> is not written back
    return dataclasses.replace(d, type=d.type or "file", source=src)


_SPECIAL = ("domain", "inactiveDomain")


def parse_snapshot(xml: str | bytes, *, redefine: bool = False, internal: bool = False,
                   creation_time: int | None = None) -> SnapshotDef:
    """Read ``<domainsnapshot>`` the way virDomainSnapshotDefParse does.

    ``creation_time`` stands for libvirt's clock in a create request: it becomes the snapshot's
    time and, when the request has no name, its name.  ``internal`` reads ``<active>``.
    """
    root = parse_root(xml, "domainsnapshot")
    body = copy.deepcopy(root)
    kept = {tag: body.find(tag) for tag in _SPECIAL}
    for sub in kept.values():
        if sub is not None:
            body.remove(sub)
    snap: SnapshotDef = parse_model(root, SnapshotDef, "domainsnapshot", body)
    # virXPathString: an empty <name/>, <description/> or parent name is none at all
    snap.name = snap.name or None
    snap.description = snap.description or None
    snap.parent = snap.parent or None
    if redefine:
        _read_record(snap, kept, root)
    else:
        snap.state = snap.parent = None
        snap.creation_time = creation_time
        if snap.name is None and creation_time is not None:
            snap.name = str(creation_time)
    if not internal:
        snap.active = None
    _check_memory(snap, redefine)
    for disk in [*snap.disks, *snap.revert_disks]:
        _check_disk(disk)
    if snap.offline:
        snap.cookie = None
    return snap


def _read_record(snap: SnapshotDef, kept: dict[str, etree._Element | None], root: etree._Element) -> None:
    if snap.name is None:
        raise XMLError("a redefined snapshot must have a name", root.sourceline)
    if snap.creation_time is None:
        raise XMLError("missing creationTime from existing snapshot", root.sourceline)
    if snap.state is None:
        raise XMLError("missing state from existing snapshot", root.sourceline)
    if snap.state not in STATES:
        raise XMLUnsupportedError(f"Invalid state '{snap.state}' in domain snapshot XML", root.sourceline)
    dom = kept["domain"]
    if dom is not None and dom.get("type") is not None:  # older records kept only <uuid>
        snap.domain_xml = _element_text(dom)
    inactive = kept["inactiveDomain"]
    if inactive is not None:
        snap.inactive_domain_xml = _element_text(inactive)


def _check_memory(snap: SnapshotDef, redefine: bool) -> None:
    line = snap.line
    if snap.memory == "manual":
        raise XMLError("'manual' memory snapshot mode not supported", line)
    if snap.memory is None:
        if snap.memory_file is not None:
            snap.memory = "external"
        elif redefine:
            snap.memory = "no" if snap.offline else "internal"
    if snap.memory_file is not None and snap.memory != "external":
        raise XMLError(f"memory filename '{snap.memory_file}' requires external snapshot", line)
    if snap.memory_file is None and snap.memory == "external":
        raise XMLError("external memory snapshots require a filename", line)
    if snap.offline and snap.memory not in (None, "no"):
        raise XMLError("memory state cannot be saved with offline or disk-only snapshot", line)
    if snap.memory_file is not None and not snap.memory_file.startswith("/"):
        raise XMLError(f"memory snapshot file path ({snap.memory_file}) must be absolute", line)


def _check_disk(disk: SnapshotDisk) -> None:
    line = disk.line
    if disk.name is None:
        raise XMLError("missing name from disk snapshot element", line)
    if disk.driver_type is not None and disk.driver_type not in IMAGE_FORMATS:
        raise XMLUnsupportedError(f"unknown disk snapshot driver '{disk.driver_type}'", line)
    if disk.metadata_cache_max_size == 0:
        raise XMLError("value of <max_size> must be at least 1", line)
    src = disk.source
    if src is not None:
        for sl in src.seclabels:
            if sl.relabel is False and sl.label is not None:
                raise XMLError("Cannot specify a label if relabelling is turned off", sl.line)
            if sl.labelskip:
                sl.relabel = None  # libvirt prints one or the other
            else:
                sl.labelskip = None
                if sl.relabel is None:
                    sl.relabel = True
        kind = disk.type or "file"
        allowed = {"file": ("file",), "block": ("dev",), "network": ("protocol", "name")}[kind]
        for a in ("file", "dev", "protocol", "name"):
            if getattr(src, a) is not None and a not in allowed:
                raise XMLError(f"attribute '{a}' of <source> does not fit a disk of type '{kind}'",
                               src.line)
        if src.hosts and kind != "network":
            raise XMLError(f"<host> of <source> does not fit a disk of type '{kind}'", src.line)
        if kind == "network" and src.protocol is None:
            raise XMLError("missing network source protocol type", src.line)
        net_host_rules(src.hosts, src.protocol)
    path = disk.path
    if disk.type in (None, "file", "block") and path and not path.startswith("/"):
        raise XMLError(f"disk snapshot image path '{path}' must be absolute", line)
    if disk.snapshot is None and (path or disk.driver_type):
        disk.snapshot = "external"
