"""libvirt ``<pool>`` XML <-> :class:`PoolDef`, on the declarative engine (:mod:`pyvirt.xml.fields`).

One dataclass per element, one line per attribute, libvirt 9.0's output order
(virStoragePoolDefFormatBuf).  :meth:`PoolDef.from_xml` reads through the one hardened parser,
refuses what the model does not declare (naming it and its line), then applies libvirt's
per-type rules (virStoragePoolDefParseSource): which ``<source>`` children a type takes, its
source formats, a logical pool's name/VG defaulting.

Supported: ``dir`` and ``fs`` (driven), ``logical`` (driven where lvm2 is installed), ``netfs``
(parsed and formatted; mounting is up to the driver).  Other libvirt pool types (iscsi, rbd,
scsi, disk, ...) are refused with :class:`XMLUnsupportedError` rather than half-understood;
their source elements (adapter, initiator, auth) are modelled only so that virsh's
``pool-define-as --print-xml`` documents are built through the model too.

``Permissions`` is shared with :mod:`pyvirt.xml.volume` (the same storage vocabulary).
"""

from __future__ import annotations

import dataclasses
import re
import uuid as uuidlib
from dataclasses import dataclass

from .errors import XMLError, XMLUnsupportedError, XMLValidationError
from .fields import Enum, Int, Octal, OwnerId, attr, child, children, line_field, scaled, text, values


def sanitize_path(path: str) -> str:
    """libvirt's virFileSanitizePath: collapse '//' runs and drop a trailing '/'."""
    cleaned = re.sub(r"/{2,}", "/", path.strip())
    if len(cleaned) > 1 and cleaned.endswith("/"):
        cleaned = cleaned.rstrip("/") or "/"
    return cleaned


def check_name(name: str | None, what: str, line: int | None) -> str:
    """A pool or volume name: present, no '/', not '.' or '..' (it becomes a file name)."""
    if not name:
        raise XMLValidationError(f"missing {what} name", line)
    if "/" in name or "\0" in name or name in (".", ".."):
        raise XMLValidationError(f"{what} name '{name}' cannot contain '/' or be '.' or '..'", line)
    return name


@dataclass
class Permissions:
    """``<permissions>``: mode/owner/group/label; ``None`` means "not given" (libvirt's -1)."""

    mode: int | None = text("mode", Octal())
    owner: int | None = text("owner", OwnerId())
    group: int | None = text("group", OwnerId())
    label: str | None = text("label")
    line: int | None = line_field()


def _permissions(perms: Permissions | None) -> Permissions | None:
    """An empty ``<permissions/>`` (or only -1 ids) is not written, as libvirt."""
    if perms is None or all(v is None for v in (perms.mode, perms.owner, perms.group, perms.label)):
        return None
    return perms


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
#: the <source> fields each supported type takes (libvirt's poolTypeInfo options)
_SOURCE_FIELDS = {"dir": set(), "fs": {"devices", "format"},
                  "netfs": {"hosts", "dir", "format", "protocol_ver"},
                  "logical": {"devices", "name", "format"}}
_SOURCE_TAGS = {"devices": "device", "hosts": "host", "dir": "dir", "name": "name", "format": "format",
                "protocol_ver": "protocol", "adapter_type": "adapter", "adapter_name": "adapter",
                "initiator_iqn": "initiator", "auth": "auth"}


@dataclass
class SourceDevice:
    """``<source><device path=>``: a block device backing an fs or logical pool."""

    path: str | None = attr("@path")
    part_separator: str | None = attr("@part_separator", Enum("yes", "no"))
    line: int | None = line_field()


@dataclass
class SourceHost:
    """``<source><host name= port=>``: the server of a network pool."""

    name: str | None = attr("@name")
    port: int | None = attr("@port", Int(0, 65535))
    line: int | None = line_field()


@dataclass
class SourceAuth:
    """``<source><auth>``: CHAP/ceph credentials by secret (iscsi, rbd: refused pool types)."""

    type: str | None = attr("@type", Enum("chap", "ceph"))
    username: str | None = attr("@username")
    secret_usage: str | None = attr("secret/@usage")
    secret_uuid: str | None = attr("secret/@uuid")
    line: int | None = line_field()


@dataclass
class PoolSource:
    """``<source>``: what backs the pool (block devices, an NFS export, a volume group).

    Always written, open and closed when empty (``<source>`` / ``</source>``), as libvirt."""

    xml_keep_open = True

    hosts: list[SourceHost] = children("host", SourceHost)
    devices: list[SourceDevice] = children("device", SourceDevice)
    dir: str | None = attr("dir/@path")
    adapter_type: str | None = attr("adapter/@type", Enum("scsi_host", "fc_host"))
    adapter_name: str | None = attr("adapter/@name")
    name: str | None = text("name")
    initiator_iqn: str | None = attr("initiator/iqn/@name")
    auth: SourceAuth | None = child("auth", SourceAuth)
    format: str | None = attr("format/@type")
    protocol_ver: int | None = attr("protocol/@ver", Int(0))
    line: int | None = line_field()


@dataclass
class VirshPoolSource(PoolSource):
    """The ``<source>`` of virsh's buildPoolXML (``pool-define-as --print-xml``), which writes
    its children in its own order, not libvirt's."""

    xml_order = ("hosts", "dir", "devices", "adapter_type", "adapter_name", "initiator_iqn", "auth",
                 "format", "name", "protocol_ver")


@dataclass
class PoolDef:
    """A storage pool's definition.  ``capacity``/``allocation``/``available`` are live figures:
    ignored on input (as libvirt), written by :meth:`to_xml` from what the driver measured."""

    type: str | None = attr("@type")
    name: str | None = text("name")
    uuid: str | None = text("uuid")
    capacity: int | None = scaled("capacity", "bytes")
    allocation: int | None = scaled("allocation", "bytes")
    available: int | None = scaled("available", "bytes")
    source: PoolSource | None = child("source", PoolSource)
    target_path: str | None = text("target/path")
    permissions: Permissions | None = child("target/permissions", Permissions)
    mount_opts: list[str] = values("fs:mount_opts/fs:option/@name")
    line: int | None = line_field()

    @classmethod
    def from_xml(cls, xml: str | bytes) -> PoolDef:
        """Read and normalise a ``<pool>`` document (XMLError and subclasses)."""
        from .mapping import parse_model
        from .safe import parse_root

        root = parse_root(xml, "pool")
        ptype = root.get("type")
        if not ptype:
            raise XMLError("storage pool missing type attribute", root.sourceline)
        if ptype not in KNOWN_TYPES:
            raise XMLError(f"unknown storage pool type '{ptype}'", root.sourceline)
        if ptype not in SUPPORTED_TYPES:
            raise XMLUnsupportedError(
                f"storage pool type '{ptype}' is not supported by pyvirt "
                f"(supported: {', '.join(SUPPORTED_TYPES)})", root.sourceline)
        pool: PoolDef = parse_model(root, cls, "storagepool")
        _normalise_pool(pool)
        return pool

    def to_xml(self, capacity: int = 0, allocation: int = 0, available: int = 0) -> str:
        """The pool document; pass live figures for an active pool (libvirt shows 0 otherwise)."""
        from .mapping import format_document

        doc = dataclasses.replace(self, capacity=capacity, allocation=allocation, available=available,
                                  source=self.source or PoolSource(),
                                  permissions=_permissions(self.permissions))
        return format_document(doc, "pool")

    def to_request_xml(self) -> str:
        """Only what is set, in virsh's order: the document ``pool-define-as --print-xml`` prints."""
        from .mapping import format_document

        return format_document(self, "pool")


def _normalise_pool(pool: PoolDef) -> None:
    """virStoragePoolDefParseXML's per-type rules and defaults, after the model has read the XML."""
    line, ptype = pool.line, pool.type or ""
    pool.capacity = pool.allocation = pool.available = None
    src = pool.source = pool.source or PoolSource(line=line)
    _check_source(src, ptype, line)
    if ptype == "logical":
        pool.name = pool.name or src.name
        src.name = src.name or pool.name
        src.format = src.format or "lvm2"
    elif ptype in ("fs", "netfs"):
        src.format = src.format or "auto"
    pool.name = check_name(pool.name, "storage pool", line)
    if pool.uuid is None:
        pool.uuid = str(uuidlib.uuid4())
    else:
        try:
            pool.uuid = str(uuidlib.UUID(pool.uuid.strip()))
        except ValueError:
            raise XMLError(f"malformed uuid element '{pool.uuid}'", line) from None
    if ptype == "logical":
        pool.target_path = f"/dev/{src.name}"
    if not pool.target_path or not pool.target_path.strip():
        raise XMLError("missing storage pool target path", line)
    pool.target_path = sanitize_path(pool.target_path)
    if not pool.target_path.startswith("/"):
        raise XMLValidationError(f"storage pool target path '{pool.target_path}' must be absolute", line)
    if pool.mount_opts:
        if ptype not in ("fs", "netfs"):
            raise XMLError("mount_opts is only valid for fs and netfs pools", line)
        for opt in pool.mount_opts:
            if not opt or "," in opt:
                raise XMLError(f"bad fs:option name '{opt}'", line)


def _check_source(src: PoolSource, ptype: str, line: int | None) -> None:
    allowed = _SOURCE_FIELDS[ptype]
    for name, tag in _SOURCE_TAGS.items():
        if name not in allowed and getattr(src, name) not in (None, []):
            raise XMLError(f"unknown element <{tag}> in <source> of a {ptype} pool", src.line or line)
    for dev in src.devices:
        if not dev.path:
            raise XMLError("missing source device path", dev.line)
    for host in src.hosts:
        if not host.name:
            raise XMLError("missing storage pool host name", host.line)
    if src.dir is not None:
        if not src.dir:
            raise XMLError("missing source dir path", src.line)
        src.dir = sanitize_path(src.dir)
    src.name = src.name.strip() if src.name and src.name.strip() else None
    if src.format is not None and src.format not in FORMATS[ptype]:
        raise XMLError(f"unknown pool format type '{src.format}'", src.line)
    if ptype == "fs" and len(src.devices) != 1:
        raise XMLError("fs pool needs exactly one source device", src.line or line)
    if ptype == "netfs":
        if not src.hosts:
            raise XMLError("missing storage pool source host name", src.line or line)
        if src.dir is None:
            raise XMLError("missing storage pool source path", src.line or line)
