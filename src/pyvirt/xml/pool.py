"""libvirt ``<pool>`` XML <-> :class:`PoolDef`, for the pool types pyvirt drives.

Supported: ``dir`` and ``fs`` (driven), ``logical`` (driven where lvm2 is installed), ``netfs``
(parsed and formatted; mounting is up to the driver).  Other libvirt pool types (iscsi, rbd,
scsi, disk, ...) are refused with :class:`XMLUnsupportedError` rather than half-understood.

Parsing is defensive: no DTDs, no entities, no network, and every element must be one
libvirt's schema allows where it stands (an unknown element is refused, naming it and its
line) — an ignored typo would otherwise silently give the user a different pool.

The helpers at the top (secure parsing, unit scaling, permissions, single-quoted output) are
shared with :mod:`pyvirt.xml.volume`, which describes the same storage vocabulary.
"""

from __future__ import annotations

import re
import uuid as uuidlib
from dataclasses import dataclass, field

from lxml import etree

from pyvirt.xml.errors import XMLError, XMLUnsupportedError, XMLValidationError
from pyvirt.xml.units import unit_scale

# --------------------------------------------------------------------------------------------
# shared helpers

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                          huge_tree=False, remove_comments=True, remove_pis=True)

FS_NS = "http://libvirt.org/schemas/storagepool/fs/1.0"

def unit_multiplier(unit: str | None, default: int = 1) -> int:
    """Bytes per `unit` (``None``/empty means `default`, bytes); raises ValueError for unknown units."""
    try:
        return unit_scale(unit.strip() if unit else unit, default)
    except ValueError:
        raise ValueError(f"unknown unit '{unit}'") from None


def scale(text: str, unit: str | None, where: str, line: int | None) -> int:
    """A non-negative integer scaled by a libvirt unit, refused past 2**63-1 or when malformed."""
    t = (text or "").strip()
    if not re.fullmatch(r"[0-9]+", t):
        raise XMLError(f"invalid value '{text}' for {where}", line)
    try:
        value = int(t) * unit_multiplier(unit)
    except ValueError as exc:
        raise XMLError(f"{exc} for {where}", line) from None
    if value > 2**63 - 1:
        raise XMLError(f"value '{text}{unit or ''}' for {where} is too large", line)
    return value


def secure_parse(text: str | bytes, root_tag: str) -> etree._Element:
    """Parse untrusted XML without DTDs/entities/network access and check the root element."""
    if isinstance(text, str):
        text = text.encode("utf-8")
    if b"<!DOCTYPE" in text or b"<!ENTITY" in text:
        raise XMLError("DOCTYPE and entity declarations are not allowed")
    try:
        root = etree.fromstring(text, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise XMLError(f"malformed XML: {exc.msg}", exc.lineno) from None
    if root.tag != root_tag:
        raise XMLError(f"expected root element <{root_tag}>, got <{root.tag}>", root.sourceline)
    return root


def check_children(el: etree._Element, allowed: set[str], where: str) -> None:
    """Refuse any child element (or non-blank text) that libvirt's schema does not allow here."""
    for child in el:
        if not isinstance(child.tag, str):
            raise XMLError(f"unexpected node in <{where}>", child.sourceline)
        if child.tag not in allowed:
            name = etree.QName(child).localname if child.tag.startswith("{") else child.tag
            raise XMLError(f"unknown element <{name}> in <{where}>", child.sourceline)


def check_attrs(el: etree._Element, allowed: set[str], where: str) -> None:
    for key in el.attrib:
        if key not in allowed:
            raise XMLError(f"unknown attribute '{key}' on <{where}>", el.sourceline)


def text_of(el: etree._Element | None) -> str | None:
    if el is None:
        return None
    return (el.text or "").strip()


def sanitize_path(path: str) -> str:
    """libvirt's virFileSanitizePath: collapse '//' runs and drop a trailing '/'."""
    cleaned = re.sub(r"/{2,}", "/", path.strip())
    if len(cleaned) > 1 and cleaned.endswith("/"):
        cleaned = cleaned.rstrip("/") or "/"
    return cleaned


@dataclass
class Permissions:
    """``<permissions>``: mode/owner/group/label; ``None`` means "not given" (libvirt's -1)."""

    mode: int | None = None
    owner: int | None = None
    group: int | None = None
    label: str | None = None

    @classmethod
    def parse(cls, el: etree._Element | None) -> Permissions | None:
        if el is None:
            return None
        check_children(el, {"mode", "owner", "group", "label"}, "permissions")
        perms = cls()
        mode = text_of(el.find("mode"))
        if mode is not None:
            if not re.fullmatch(r"[0-7]{1,4}", mode):
                raise XMLError(f"malformed octal mode '{mode}'", el.find("mode").sourceline)
            perms.mode = int(mode, 8)
        for key in ("owner", "group"):
            node = el.find(key)
            raw = text_of(node)
            if raw is None:
                continue
            if not re.fullmatch(r"-?[0-9]+", raw):
                raise XMLError(f"malformed {key} '{raw}'", node.sourceline)
            value = int(raw, 10)
            if value < -1 or value > 0xFFFFFFFF:
                raise XMLError(f"{key} '{raw}' out of range", node.sourceline)
            setattr(perms, key, None if value in (-1, 0xFFFFFFFF) else value)
        perms.label = text_of(el.find("label"))
        return perms

    def format(self, parent: etree._Element) -> None:
        if self.mode is None and self.owner is None and self.group is None and self.label is None:
            return
        el = etree.SubElement(parent, "permissions")
        if self.mode is not None:
            etree.SubElement(el, "mode").text = f"0{self.mode:o}"
        if self.owner is not None:
            etree.SubElement(el, "owner").text = str(self.owner)
        if self.group is not None:
            etree.SubElement(el, "group").text = str(self.group)
        if self.label is not None:
            etree.SubElement(el, "label").text = self.label


def _esc(text: str, quote: bool = False) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if quote:
        text = text.replace("'", "&apos;").replace('"', "&quot;")
    return text


def _qname(el: etree._Element, tag: str, nsmap: dict[str, str]) -> str:
    if tag.startswith("{"):
        q = etree.QName(tag)
        for prefix, uri in nsmap.items():
            if uri == q.namespace and prefix:
                return f"{prefix}:{q.localname}"
        return q.localname
    return tag


def serialize(root: etree._Element) -> str:
    """Serialize like libvirt: two-space indent, single-quoted attributes, trailing newline.

    Every value goes through escaping; documents are built as element trees, never by
    formatting strings around user input.
    """
    nsmap = {k: v for k, v in (root.nsmap or {}).items() if k}
    out: list[str] = []

    def emit(el: etree._Element, depth: int) -> None:
        pad = "  " * depth
        tag = _qname(el, el.tag, nsmap)
        attrs = "".join(f" {_qname(el, k, nsmap)}='{_esc(v, True)}'" for k, v in el.attrib.items())
        if el is root:
            attrs += "".join(f" xmlns:{p}='{_esc(u, True)}'" for p, u in nsmap.items())
        kids = list(el)
        if kids:
            out.append(f"{pad}<{tag}{attrs}>\n")
            for kid in kids:
                emit(kid, depth + 1)
            out.append(f"{pad}</{tag}>\n")
        elif el.text is not None and el.text.strip() == "" and "\n" in el.text:
            out.append(f"{pad}<{tag}{attrs}>\n{pad}</{tag}>\n")
        elif el.text:
            out.append(f"{pad}<{tag}{attrs}>{_esc(el.text)}</{tag}>\n")
        else:
            out.append(f"{pad}<{tag}{attrs}/>\n")

    emit(root, 0)
    return "".join(out)


def parse_uuid(el: etree._Element | None) -> str:
    raw = text_of(el)
    if raw is None:
        return str(uuidlib.uuid4())
    try:
        return str(uuidlib.UUID(raw))
    except ValueError:
        raise XMLError(f"malformed uuid element '{raw}'", el.sourceline) from None


def check_name(name: str, what: str, line: int | None) -> None:
    if not name:
        raise XMLValidationError(f"missing {what} name", line)
    if "/" in name or "\0" in name or name in (".", ".."):
        raise XMLValidationError(f"{what} name '{name}' cannot contain '/' or be '.' or '..'", line)


# --------------------------------------------------------------------------------------------
# pools

SUPPORTED_TYPES = ("dir", "fs", "netfs", "logical")
KNOWN_TYPES = ("dir", "fs", "netfs", "logical", "disk", "iscsi", "iscsi-direct", "scsi",
               "mpath", "rbd", "sheepdog", "gluster", "zfs", "vstorage")
FORMATS = {
    "fs": ("auto", "ext2", "ext3", "ext4", "ufs", "iso9660", "udf", "gfs", "gfs2", "vfat",
           "hfs+", "xfs", "ocfs2", "vmfs"),
    "netfs": ("auto", "nfs", "glusterfs", "cifs"),
    "logical": ("unknown", "lvm2"),
}
_SOURCE_CHILDREN = {"dir": set(), "fs": {"device", "format"},
                    "netfs": {"host", "dir", "format", "protocol"},
                    "logical": {"device", "name", "format"}}


@dataclass
class SourceDevice:
    path: str
    part_separator: str | None = None


@dataclass
class PoolSource:
    """``<source>``: what backs the pool (block devices, an NFS export, a volume group)."""

    devices: list[SourceDevice] = field(default_factory=list)
    hosts: list[tuple[str, int | None]] = field(default_factory=list)
    dir: str | None = None
    name: str | None = None
    format: str | None = None
    protocol_ver: str | None = None


@dataclass
class PoolDef:
    """A storage pool's persistent definition (capacity figures are live, not stored)."""

    type: str
    name: str
    uuid: str
    target_path: str
    source: PoolSource = field(default_factory=PoolSource)
    permissions: Permissions | None = None
    mount_opts: list[str] = field(default_factory=list)

    @classmethod
    def from_xml(cls, text: str | bytes) -> PoolDef:
        root = secure_parse(text, "pool")
        check_attrs(root, {"type"}, "pool")
        ptype = root.get("type")
        if not ptype:
            raise XMLError("storage pool missing type attribute", root.sourceline)
        if ptype not in KNOWN_TYPES:
            raise XMLError(f"unknown storage pool type '{ptype}'", root.sourceline)
        if ptype not in SUPPORTED_TYPES:
            raise XMLUnsupportedError(
                f"storage pool type '{ptype}' is not supported by pyvirt "
                f"(supported: {', '.join(SUPPORTED_TYPES)})", root.sourceline)
        check_children(root, {"name", "uuid", "capacity", "allocation", "available", "source",
                              "target", f"{{{FS_NS}}}mount_opts"}, "pool")
        source = cls._parse_source(root.find("source"), ptype)
        name = text_of(root.find("name"))
        if ptype == "logical":
            if not name and source.name:
                name = source.name
            if not source.name and name:
                source.name = name
            source.format = source.format or "lvm2"
        check_name(name or "", "storage pool", root.sourceline)
        target = root.find("target")
        target_path = None
        perms = None
        if target is not None:
            check_children(target, {"path", "permissions"}, "target")
            target_path = text_of(target.find("path"))
            perms = Permissions.parse(target.find("permissions"))
        if ptype == "logical":
            target_path = f"/dev/{source.name}"
        if not target_path:
            raise XMLError("missing storage pool target path", root.sourceline)
        target_path = sanitize_path(target_path)
        if not target_path.startswith("/"):
            raise XMLValidationError(f"storage pool target path '{target_path}' must be absolute",
                                     root.sourceline)
        mount_opts = []
        mo = root.find(f"{{{FS_NS}}}mount_opts")
        if mo is not None:
            if ptype not in ("fs", "netfs"):
                raise XMLError("mount_opts is only valid for fs and netfs pools", mo.sourceline)
            check_children(mo, {f"{{{FS_NS}}}option"}, "fs:mount_opts")
            for opt in mo:
                value = opt.get("name")
                if not value or "," in value:
                    raise XMLError("bad fs:option name", opt.sourceline)
                mount_opts.append(value)
        return cls(type=ptype, name=name or "", uuid=parse_uuid(root.find("uuid")),
                   target_path=target_path, source=source, permissions=perms,
                   mount_opts=mount_opts)

    @staticmethod
    def _parse_source(el: etree._Element | None, ptype: str) -> PoolSource:
        src = PoolSource()
        if el is None:
            if ptype in ("fs", "netfs"):
                raise XMLError(f"storage pool type '{ptype}' needs a <source>")
            return src
        check_children(el, _SOURCE_CHILDREN[ptype], "source")
        for dev in el.findall("device"):
            check_attrs(dev, {"path", "part_separator"}, "device")
            path = dev.get("path")
            if not path:
                raise XMLError("missing source device path", dev.sourceline)
            src.devices.append(SourceDevice(path, dev.get("part_separator")))
        for host in el.findall("host"):
            check_attrs(host, {"name", "port"}, "host")
            hname = host.get("name")
            if not hname:
                raise XMLError("missing storage pool host name", host.sourceline)
            port = host.get("port")
            if port is not None and not port.isdigit():
                raise XMLError(f"invalid port '{port}'", host.sourceline)
            src.hosts.append((hname, int(port) if port else None))
        d = el.find("dir")
        if d is not None:
            if not d.get("path"):
                raise XMLError("missing source dir path", d.sourceline)
            src.dir = sanitize_path(d.get("path"))
        src.name = text_of(el.find("name")) or None
        fmt = el.find("format")
        if fmt is not None:
            src.format = fmt.get("type")
            if src.format not in FORMATS[ptype]:
                raise XMLError(f"unknown pool format type '{src.format}'", fmt.sourceline)
        proto = el.find("protocol")
        if proto is not None:
            src.protocol_ver = proto.get("ver")
            if not src.protocol_ver or not src.protocol_ver.isdigit():
                raise XMLError("bad protocol ver", proto.sourceline)
        if ptype == "fs" and len(src.devices) != 1:
            raise XMLError("fs pool needs exactly one source device", el.sourceline)
        if ptype == "netfs":
            if not src.hosts:
                raise XMLError("missing storage pool source host name", el.sourceline)
            if src.dir is None:
                raise XMLError("missing storage pool source path", el.sourceline)
        return src

    def to_xml(self, capacity: int = 0, allocation: int = 0, available: int = 0) -> str:
        """The pool document; pass live figures for an active pool (libvirt shows 0 otherwise)."""
        nsmap = {"fs": FS_NS} if self.mount_opts else None
        root = etree.Element("pool", nsmap=nsmap)
        root.set("type", self.type)
        etree.SubElement(root, "name").text = self.name
        etree.SubElement(root, "uuid").text = self.uuid
        for tag, value in (("capacity", capacity), ("allocation", allocation),
                           ("available", available)):
            el = etree.SubElement(root, tag, unit="bytes")
            el.text = str(value)
        self._format_source(etree.SubElement(root, "source"))
        target = etree.SubElement(root, "target")
        etree.SubElement(target, "path").text = self.target_path
        if self.permissions:
            self.permissions.format(target)
        if self.mount_opts:
            mo = etree.SubElement(root, f"{{{FS_NS}}}mount_opts")
            for opt in self.mount_opts:
                etree.SubElement(mo, f"{{{FS_NS}}}option", name=opt)
        return serialize(root)

    def _format_source(self, el: etree._Element) -> None:
        src = self.source
        for hname, port in src.hosts:
            h = etree.SubElement(el, "host", name=hname)
            if port is not None:
                h.set("port", str(port))
        for dev in src.devices:
            d = etree.SubElement(el, "device", path=dev.path)
            if dev.part_separator:
                d.set("part_separator", dev.part_separator)
        if src.dir is not None:
            etree.SubElement(el, "dir", path=src.dir)
        if src.name:
            etree.SubElement(el, "name").text = src.name
        fmt = src.format
        if fmt is None and self.type in ("fs", "netfs"):
            fmt = "auto"
        if fmt is not None:
            etree.SubElement(el, "format", type=fmt)
        if src.protocol_ver:
            etree.SubElement(el, "protocol", ver=src.protocol_ver)
        if len(el) == 0:
            el.text = "\n  "
