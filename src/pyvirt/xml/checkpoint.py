"""libvirt's ``<domaincheckpoint>`` XML <-> :class:`CheckpointDef` (checkpoint_conf.c's rules).

A checkpoint names, per disk, a dirty bitmap that starts recording guest writes when the
checkpoint is taken: an incremental backup "since checkpoint X" copies what X's bitmap marks.

Two ways of reading, as libvirt has them:

- *create*: a request.  Name, description and ``<disks>`` count; parent, creationTime and the
  domain are the driver's to fill in (a missing name becomes the creation time, as libvirt's
  moment post-parse does).
- *redefine* (``--redefine``, and pyvirt's own metadata files): the full record; a name and a
  creationTime are required, ``<domain>`` is the guest definition when it was taken.

libvirt validates every checkpoint document against domaincheckpoint.rng; the rules that
schema states (name pattern, ``checkpoint='no'`` without a bitmap) are checked here too, with
the element and line, so the answer does not depend on a schema being installed.
Writing follows virDomainCheckpointDefFormat's order and omissions.
"""

from __future__ import annotations

import copy
import dataclasses
import re
from dataclasses import field

from pyvirt.xml.lazy_etree import etree

from .errors import XMLError
from .fields import Enum, Int, attr, children, line_field, model, text
from .mapping import FormatOptions, _strip_ws, build, parse_model, to_text
from .safe import parse_root

#: virDomainCheckpointType: "no" or "bitmap" (absent in a request: bitmap)
CHECKPOINT_TYPES = Enum("no", "bitmap")
#: domaincheckpoint.rng's checkpointName: no leading '.', no '/' or newline (it becomes a file name)
#: a redefinition without its time (libvirt reports it as an internal error, not an XML one)
MISSING_TIME = "missing creationTime from existing checkpoint"
NAME_PATTERN = re.compile(r"[a-zA-Z0-9_\-][a-zA-Z0-9_\-.]*")


@model
class CheckpointDisk:
    """``<disks><disk>``: whether one guest disk (by target or source path) gets a bitmap."""

    name: str | None = attr("@name")
    checkpoint: str | None = attr("@checkpoint", CHECKPOINT_TYPES)
    bitmap: str | None = attr("@bitmap")
    #: bytes the bitmap marks dirty: output only, ``--size`` (VIR_DOMAIN_CHECKPOINT_XML_SIZE)
    size: int | None = attr("@size", Int())
    line: int | None = line_field()


@model
class CheckpointDef:
    """One checkpoint: its record (parent, time, guest definition) and its disks' bitmaps.

    ``domain_xml`` is the guest definition when the checkpoint was taken, as text (``None``
    for a request); drivers read it with their own domain rules.
    """

    name: str | None = text("name")
    description: str | None = text("description")
    parent: str | None = text("parent/name")
    creation_time: int | None = attr("creationTime", Int(None))
    disks: list[CheckpointDisk] = children("disks/disk", CheckpointDisk)
    domain_xml: str | None = field(default=None, compare=False)
    line: int | None = line_field()

    def to_xml(self, *, no_domain: bool = False, size: bool = False) -> str:
        """virDomainCheckpointDefFormat: ``no_domain`` leaves out ``<domain>``; ``size`` writes
        each bitmap's ``size`` where the driver measured one."""
        disks = [dataclasses.replace(d, size=d.size if size and d.bitmap else None) for d in self.disks]
        view = dataclasses.replace(self, disks=disks)
        lines = to_text(build(view, "domaincheckpoint", FormatOptions(inactive=True, security_info=True))).splitlines()
        if lines == ["<domaincheckpoint/>"]:
            lines = ["<domaincheckpoint>", "</domaincheckpoint>"]
        body = lines[:-1]
        if self.domain_xml is not None and not no_domain:
            body += ["  " + ln for ln in self.domain_xml.splitlines()]
        return "\n".join([*body, "</domaincheckpoint>"]) + "\n"


def parse_checkpoint(xml: str | bytes, *, redefine: bool = False, creation_time: int | None = None) -> CheckpointDef:
    """Read ``<domaincheckpoint>`` the way virDomainCheckpointDefParse does.

    ``creation_time`` stands for libvirt's clock in a create request: it becomes the
    checkpoint's time and, when the request has no name, its name.
    """
    root = parse_root(xml, "domaincheckpoint")
    body = copy.deepcopy(root)
    dom = body.find("domain")
    if dom is not None:
        body.remove(dom)
    chk: CheckpointDef = parse_model(root, CheckpointDef, "domaincheckpoint", body)
    for label, value in (("name", chk.name), ("parent/name", chk.parent)):
        if value is not None and NAME_PATTERN.fullmatch(value) is None:
            raise XMLError(f"invalid checkpoint <{label}> '{value}': it must match {NAME_PATTERN.pattern}",
                           chk.line)
    for disk in chk.disks:
        _check_disk(disk)
    if redefine:
        if chk.name is None:
            raise XMLError("a redefined checkpoint must have a name", root.sourceline)
        if chk.creation_time is None:
            raise XMLError(MISSING_TIME, root.sourceline)
        if dom is not None and dom.get("type") is not None:
            chk.domain_xml = _element_text(dom)
    else:
        chk.parent = None
        chk.creation_time = creation_time
        if chk.name is None and creation_time is not None:
            chk.name = str(creation_time)
    for disk in chk.disks:
        disk.size = None  # output only: never taken from input
    return chk


def _check_disk(disk: CheckpointDisk) -> None:
    """What domaincheckpoint.rng's diskcheckpoint allows."""
    if disk.name is None:
        raise XMLError("missing name from disk checkpoint element <disks/disk>", disk.line)
    if disk.checkpoint == "no" and (disk.bitmap is not None or disk.size is not None):
        raise XMLError(f"disk '{disk.name}' with checkpoint='no' cannot name a bitmap or size "
                       "(<disks/disk>)", disk.line)
    if disk.checkpoint is None:
        disk.checkpoint = "bitmap"


def _element_text(el: etree._Element) -> str:
    """The nested definition as a stand-alone libvirt-style document."""
    copy_ = copy.deepcopy(el)
    copy_.tail = None
    _strip_ws(copy_)
    return to_text(copy_)
