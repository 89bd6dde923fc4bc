"""libvirt ``<volume>`` XML <-> :class:`VolumeDef`.

The same defensive parsing as pools (see :mod:`pyvirt.xml.pool`).  Read-only facts libvirt
ignores on input (``<timestamps>``, ``<source>`` extents) are accepted and dropped; creation
hints that are not part of the stored definition (``<nocow/>``) are parsed but not formatted,
as libvirt does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from pyvirt.xml.errors import XMLError
from pyvirt.xml.pool import (
    Permissions,
    check_attrs,
    check_children,
    check_name,
    scale,
    secure_parse,
    serialize,
    text_of,
)

VOLUME_TYPES = ("file", "block", "dir", "network", "netdir", "ploop")
# libvirt's virStorageFileFormat names (the ones a file volume may carry).
FILE_FORMATS = ("none", "raw", "dir", "bochs", "cloop", "dmg", "iso", "vpc", "vdi", "fat", "vhd",
                "ploop", "cow", "qcow", "qcow2", "qed", "vmdk")
QCOW2_FEATURES = ("lazy_refcounts", "extended_l2")


@dataclass
class Encryption:
    format: str
    secrets: list[tuple[str, str | None]] = field(default_factory=list)  # (type, uuid)


@dataclass
class BackingStore:
    path: str
    format: str | None = None
    permissions: Permissions | None = None


@dataclass
class VolumeDef:
    """A volume's definition: what to create, or what a pool reports about one."""

    name: str
    type: str = "file"
    key: str | None = None
    capacity: int | None = None
    allocation: int | None = None
    path: str | None = None
    format: str | None = None
    permissions: Permissions | None = None
    compat: str | None = None
    cluster_size: int | None = None
    features: list[str] | None = None  # None: no <features> element
    nocow: bool = False
    encryption: Encryption | None = None
    backing: BackingStore | None = None

    @classmethod
    def from_xml(cls, text: str | bytes) -> VolumeDef:
        root = secure_parse(text, "volume")
        check_attrs(root, {"type"}, "volume")
        vtype = root.get("type") or "file"
        if vtype not in VOLUME_TYPES:
            raise XMLError(f"unknown volume type '{vtype}'", root.sourceline)
        check_children(root, {"name", "key", "source", "capacity", "allocation", "target",
                              "backingStore"}, "volume")
        name = text_of(root.find("name")) or ""
        check_name(name, "storage volume", root.sourceline)
        vol = cls(name=name, type=vtype, key=text_of(root.find("key")) or None)
        for tag in ("capacity", "allocation"):
            el = root.find(tag)
            if el is not None:
                check_attrs(el, {"unit"}, tag)
                setattr(vol, tag, scale(el.text or "", el.get("unit"), tag, el.sourceline))
        if vol.allocation is None and vol.capacity is not None:
            vol.allocation = vol.capacity
        target = root.find("target")
        if target is not None:
            vol._parse_target(target)
        if vol.format is None and vtype == "file":
            vol.format = "raw"
        bs = root.find("backingStore")
        if bs is not None:
            check_children(bs, {"path", "format", "permissions"}, "backingStore")
            bpath = text_of(bs.find("path"))
            if not bpath:
                raise XMLError("missing backing store path", bs.sourceline)
            bfmt = bs.find("format")
            vol.backing = BackingStore(bpath, _format_type(bfmt),
                                       Permissions.parse(bs.find("permissions")))
        return vol

    def _parse_target(self, target: etree._Element) -> None:
        check_children(target, {"path", "format", "permissions", "timestamps", "encryption",
                                "compat", "clusterSize", "nocow", "features"}, "target")
        self.path = text_of(target.find("path")) or None
        self.format = _format_type(target.find("format"))
        self.permissions = Permissions.parse(target.find("permissions"))
        self.compat = text_of(target.find("compat")) or None
        if self.compat is not None and self.compat not in ("0.10", "1.1"):
            raise XMLError(f"unsupported qcow2 compat '{self.compat}'", target.sourceline)
        cs = target.find("clusterSize")
        if cs is not None:
            self.cluster_size = scale(cs.text or "", cs.get("unit"), "clusterSize", cs.sourceline)
        self.nocow = target.find("nocow") is not None
        feats = target.find("features")
        if feats is not None:
            check_children(feats, set(QCOW2_FEATURES), "features")
            self.features = [f.tag for f in feats]
            if self.compat is None:
                self.compat = "1.1"
        enc = target.find("encryption")
        if enc is not None:
            check_children(enc, {"secret"}, "encryption")
            efmt = enc.get("format")
            if efmt not in ("default", "qcow", "luks"):
                raise XMLError(f"unknown volume encryption format '{efmt}'", enc.sourceline)
            self.encryption = Encryption(efmt, [(s.get("type") or "passphrase", s.get("uuid"))
                                                for s in enc.findall("secret")])

    def to_xml(self) -> str:
        root = etree.Element("volume", type=self.type)
        etree.SubElement(root, "name").text = self.name
        if self.key:
            etree.SubElement(root, "key").text = self.key
        etree.SubElement(root, "capacity", unit="bytes").text = str(self.capacity or 0)
        etree.SubElement(root, "allocation", unit="bytes").text = str(self.allocation or 0)
        target = etree.SubElement(root, "target")
        if self.path:
            etree.SubElement(target, "path").text = self.path
        if self.format:
            etree.SubElement(target, "format", type=self.format)
        if self.permissions:
            self.permissions.format(target)
        if self.encryption:
            enc = etree.SubElement(target, "encryption", format=self.encryption.format)
            for stype, suuid in self.encryption.secrets:
                s = etree.SubElement(enc, "secret", type=stype)
                if suuid:
                    s.set("uuid", suuid)
        if self.compat:
            etree.SubElement(target, "compat").text = self.compat
        if self.cluster_size is not None:
            etree.SubElement(target, "clusterSize", unit="B").text = str(self.cluster_size)
        if self.features is not None:
            feats = etree.SubElement(target, "features")
            for name in self.features:
                etree.SubElement(feats, name)
        if self.backing:
            bs = etree.SubElement(root, "backingStore")
            etree.SubElement(bs, "path").text = self.backing.path
            if self.backing.format:
                etree.SubElement(bs, "format", type=self.backing.format)
            if self.backing.permissions:
                self.backing.permissions.format(bs)
        return serialize(root)


def _format_type(el: etree._Element | None) -> str | None:
    if el is None:
        return None
    check_attrs(el, {"type"}, "format")
    fmt = el.get("type")
    if fmt not in FILE_FORMATS:
        raise XMLError(f"unknown volume format type '{fmt}'", el.sourceline)
    return fmt
