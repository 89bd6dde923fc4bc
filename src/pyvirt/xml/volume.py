"""libvirt ``<volume>`` XML <-> :class:`VolumeDef`, on the declarative engine like pools.

Output order is libvirt 9.0's (virStorageVolDefFormat).  Read-only facts libvirt ignores on
input (``<timestamps>``, ``<source>`` extents) and creation hints that are not part of the
stored definition (``<nocow/>``) are accepted and not written, as libvirt does.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from .errors import XMLConfigError, XMLError
from .fields import Enum, Int, attr, child, children, flag, ignored, line_field, model, scaled, text
from .pool import Permissions, _permissions, check_name
from .uuids import parse_uuid

VOLUME_TYPES = ("file", "block", "dir", "network", "netdir", "ploop")
# libvirt's virStorageFileFormat names (the ones a file volume may carry).
FILE_FORMATS = ("none", "raw", "dir", "bochs", "cloop", "dmg", "iso", "vpc", "vdi", "fat", "vhd",
                "ploop", "cow", "qcow", "qcow2", "qed", "vmdk")
#: libvirt's virStorageVolFormatDisk names: what a volume (a partition) of a ``disk`` pool carries.
#: The document alone does not say which pool it is for, so both vocabularies read here; a pool
#: refuses the other one's names when a volume is created in it (:func:`format_fits_pool`).
PARTITION_FORMATS = ("none", "linux", "fat16", "fat32", "linux-swap", "linux-lvm", "linux-raid", "extended")
_FORMAT = Enum(*FILE_FORMATS, *(f for f in PARTITION_FORMATS if f not in FILE_FORMATS))
#: a volume's own format: any other name is refused in virStorageVolDefParseXML's words
_TARGET_FORMAT = Enum(*_FORMAT.values, unknown="unknown volume format type {}")
#: libvirt's per-pool-type volume options (virStoragePoolTypeInfo.volOptions in storage_conf.c):
#: the format names a pool type's volumes take and the one they get when none is given.  Pool
#: types missing here (logical, iscsi, iscsi-direct, scsi, mpath, zfs) have no volume format
#: at all: libvirt neither reads nor writes ``<target><format>`` for their volumes.
VOLUME_FORMATS: dict[str, tuple[tuple[str, ...], str]] = {
    # virStorageVolumeFormatFromString: an image format, 'none' excluded
    **{t: (FILE_FORMATS[1:], "raw") for t in ("dir", "fs", "netfs", "gluster", "rbd", "sheepdog", "vstorage")},
    "disk": (PARTITION_FORMATS, "none"),
}


def format_fits_pool(fmt: str | None, pool_type: str) -> bool:
    """Whether a volume format name is one the pool type's volumes take (libvirt's per-pool
    formatFromString: partition types for ``disk`` pools, image formats for the others; a pool
    whose volumes have no format ignores any)."""
    if fmt is None or pool_type not in VOLUME_FORMATS:
        return True
    return fmt in VOLUME_FORMATS[pool_type][0]


def pool_volume_format(fmt: str | None, pool_type: str, line: int | None = None) -> str | None:
    """The format a volume of a `pool_type` pool has, as libvirt's virStorageVolDefParseXML
    settles it: the pool's default when none is given, none at all for pools whose volumes have
    no format, and a name outside the pool's vocabulary refused in libvirt's words."""
    if pool_type not in VOLUME_FORMATS:
        return None
    names, default = VOLUME_FORMATS[pool_type]
    if fmt is None:
        return default
    if fmt not in names:
        raise XMLConfigError(f"unknown volume format type {fmt}", line)
    return fmt


@model
class Secret:
    """``<encryption><secret type= uuid=|usage=>``: the secret object holding the passphrase,
    named by UUID or by usage (virSecretLookupParseSecret: exactly one of the two)."""

    type: str | None = attr("@type", Enum("passphrase"))
    uuid: str | None = attr("@uuid")
    usage: str | None = attr("@usage")
    line: int | None = line_field()

    def check(self) -> None:
        """virStorageEncryptionSecretParse's refusals, with its words."""
        if self.type is None:
            raise XMLError("unknown volume encryption secret type", self.line)
        if self.uuid is None and self.usage is None:
            raise XMLError("missing secret uuid or usage attribute", self.line)
        if self.uuid is not None and self.usage is not None:
            raise XMLError("either secret uuid or usage expected", self.line)
        if self.uuid is not None:
            canonical = parse_uuid(self.uuid)
            if canonical is None:
                raise XMLError(f"invalid secret uuid '{self.uuid}'", self.line)
            self.uuid = canonical


@model
class Encryption:
    """``<target><encryption format=>`` (parsed so that it can be refused by name at create);
    written open and closed even when empty, as virStorageEncryptionFormat writes it."""

    xml_keep_open = True

    format: str | None = attr("@format", Enum("default", "qcow", "luks", "luks2"))
    secrets: list[Secret] = children("secret", Secret)
    #: LUKS cipher and IV generator choices (virStorageEncryptionInfoDef), written as given
    cipher_name: str | None = attr("cipher/@name")
    cipher_size: int | None = attr("cipher/@size", Int(1))
    cipher_mode: str | None = attr("cipher/@mode")
    cipher_hash: str | None = attr("cipher/@hash")
    ivgen_name: str | None = attr("ivgen/@name")
    ivgen_hash: str | None = attr("ivgen/@hash")
    line: int | None = line_field()

    def check(self) -> None:
        """virStorageEncryptionInfoParseCipher/IVgen: a cipher needs a name and a size, an IV
        generator a name."""
        has_cipher = any(v is not None for v in (self.cipher_name, self.cipher_size, self.cipher_mode,
                                                 self.cipher_hash))
        if has_cipher and not self.cipher_name:
            raise XMLError("cipher element missing cipher name", self.line)
        if has_cipher and self.cipher_size is None:
            raise XMLError("cipher element missing cipher size", self.line)
        if self.ivgen_hash is not None and not self.ivgen_name:
            raise XMLError("ivgen element missing ivgen name", self.line)


@model
class QcowFeatures:
    """``<target><features>``: qcow2 features; present but empty is written ``<features/>``."""

    lazy_refcounts: bool = flag("lazy_refcounts")
    extended_l2: bool = flag("extended_l2")

    #: virStorageVolDefParseXML sets a bit per feature element, so a repeated one is the same one
    xml_repeated = ("lazy_refcounts", "extended_l2")

    def names(self) -> list[str]:
        """The set features as qemu-img's option names."""
        return [n for n in ("lazy_refcounts", "extended_l2") if getattr(self, n)]


@model
class BackingStore:
    """``<backingStore>``: the image a copy-on-write volume reads through to."""

    path: str | None = text("path")
    format: str | None = attr("format/@type", _FORMAT)
    permissions: Permissions | None = child("permissions", Permissions)
    line: int | None = line_field()


def _check_sizes(root: Any) -> None:
    """virStorageSize's refusal, before the generic size reader words it its own way: a
    capacity or allocation that virStrToLong_ullp does not read (blanks before it and a '+'
    are allowed, a '-' or anything after the digits is not) is "malformed capacity element"
    for both."""
    for tag in ("capacity", "allocation"):
        node = root.find(tag)
        if node is not None and node.text and not re.fullmatch(r"[ \t\n\v\f\r]*\+?\d+", node.text):
            raise XMLError("malformed capacity element", node.sourceline)


@model
class VolumeDef:
    """A volume's definition: what to create, or what a pool reports about one."""

    type: str | None = attr("@type", Enum(*VOLUME_TYPES))
    name: str | None = text("name")
    key: str | None = text("key")
    source: None = ignored("source")
    capacity: int | None = scaled("capacity", "bytes")
    allocation: int | None = scaled("allocation", "bytes")
    path: str | None = text("target/path")
    format: str | None = attr("target/format/@type", _TARGET_FORMAT)
    permissions: Permissions | None = child("target/permissions", Permissions)
    timestamps: None = ignored("target/timestamps")
    encryption: Encryption | None = child("target/encryption", Encryption)
    compat: str | None = text("target/compat", Enum("0.10", "1.1"))
    cluster_size: int | None = scaled("target/clusterSize", "bytes", label="B")
    nocow: None = ignored("target/nocow")
    features: QcowFeatures | None = child("target/features", QcowFeatures)
    backing: BackingStore | None = child("backingStore", BackingStore)
    line: int | None = line_field()

    @classmethod
    def from_xml(cls, xml: str | bytes, pool_type: str | None = None) -> VolumeDef:
        """Read and normalise a ``<volume>`` document (XMLError and subclasses).

        `pool_type` is the type of the pool the volume belongs to, which decides its format
        (:func:`pool_volume_format`); without one, a file volume defaults to raw and any
        format name of either vocabulary reads."""
        from .mapping import parse_model
        from .safe import parse_root

        root = parse_root(xml, "volume")
        _check_sizes(root)
        vol: VolumeDef = parse_model(root, cls, "storagevol")
        vol.type = vol.type or "file"
        vol.name = check_name(vol.name, "storage volume", vol.line)
        vol.key = vol.key or None
        vol.path = vol.path or None
        if vol.allocation is None and vol.capacity is not None:
            vol.allocation = vol.capacity
        if pool_type is not None:
            vol.format = pool_volume_format(vol.format, pool_type, vol.line)
        elif vol.format is None and vol.type == "file":
            vol.format = "raw"
        if vol.features is not None and vol.compat is None:
            vol.compat = "1.1"
        if vol.encryption is not None:
            if vol.encryption.format is None:
                raise XMLError("missing volume encryption format", vol.encryption.line)
            vol.encryption.check()
            for secret in vol.encryption.secrets:
                secret.check()
        if vol.backing is not None and not vol.backing.path:
            raise XMLError("missing backing store path", vol.backing.line)
        if vol.backing is not None and pool_type is not None:  # the same vocabulary and default
            vol.backing.format = pool_volume_format(vol.backing.format, pool_type, vol.backing.line)
        return vol

    def feature_names(self) -> list[str] | None:
        """qcow2 features to create with (None: no ``<features>`` given)."""
        return None if self.features is None else self.features.names()

    def to_xml(self) -> str:
        """The volume as libvirt reports it: type, both sizes and ``<target>`` always written."""
        from .mapping import FormatOptions, build, ensure_open_child, to_text

        backing = self.backing
        if backing is not None:
            backing = dataclasses.replace(backing, permissions=_permissions(backing.permissions))
        doc = dataclasses.replace(self, type=self.type or "file", capacity=self.capacity or 0,
                                  allocation=self.allocation or 0, backing=backing,
                                  permissions=_permissions(self.permissions))
        el = build(doc, "volume", FormatOptions())
        ensure_open_child(el, "target", VolumeDef)  # virStorageVolTargetDefFormat always writes it
        return to_text(el)

    def to_request_xml(self) -> str:
        """Only what is set, sizes as bare byte counts: the document virsh's
        ``vol-create-as --print-xml`` prints."""
        from .mapping import format_document

        return format_document(self, "volume", bare_sizes=True)
