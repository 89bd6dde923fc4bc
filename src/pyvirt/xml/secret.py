"""libvirt ``<secret>`` XML <-> :class:`SecretDef`, on the declarative engine like pools.

A secret's document holds no value, only what the value is for: its UUID, whether it lives
only in memory (``ephemeral``), whether its value may ever be read back (``private``), and its
usage (the volume, Ceph client, iSCSI target, TLS or vTPM name it unlocks).  Reading follows
libvirt 9.0's virSecretDefParse, rule by rule and word for word (virsh shows these errors to
people who compare them with libvirt's); output is virSecretDefFormat's.
"""

from __future__ import annotations

from .errors import XMLError, XMLUnsupportedError
from .fields import attr, child, line_field, model, text
from .uuids import parse_uuid

#: virSecretUsageType, in libvirt's order (the index is the number virSecretGetUsageType returns)
USAGE_TYPES = ("none", "volume", "ceph", "iscsi", "tls", "vtpm")
#: the element that holds each usage type's identifier, and libvirt's name for it in errors
_USAGE_ID = {"volume": ("volume", "volume usage specified, but volume path is missing"),
             "ceph": ("name", "Ceph usage specified, but name is missing"),
             "iscsi": ("target", "iSCSI usage specified, but target is missing"),
             "tls": ("name", "TLS usage specified, but name is missing"),
             "vtpm": ("name", "vTPM usage specified, but name is missing")}


class SecretXMLError(XMLError):
    """libvirt reports these as internal errors (VIR_ERR_INTERNAL_ERROR), not XML errors."""


@model
class Usage:
    """``<usage type=>`` and the one element of its type that names what the secret is for."""

    type: str | None = attr("@type")
    volume: str | None = text("volume")
    name: str | None = text("name")
    target: str | None = text("target")
    line: int | None = line_field()


@model
class SecretDef:
    """A secret's attributes (never its value)."""

    ephemeral_attr: str | None = attr("@ephemeral")
    private_attr: str | None = attr("@private")
    uuid: str | None = text("uuid")
    description: str | None = text("description")
    usage: Usage | None = child("usage", Usage)
    line: int | None = line_field()

    @property
    def ephemeral(self) -> bool:
        return self.ephemeral_attr == "yes"

    @property
    def private(self) -> bool:
        return self.private_attr == "yes"

    @property
    def usage_type(self) -> str:
        return self.usage.type if self.usage is not None and self.usage.type else "none"

    @property
    def usage_id(self) -> str:
        """What the usage names ("" for none): libvirt's usage_id, the key of usage lookups."""
        if self.usage is None or self.usage_type == "none":
            return ""
        return getattr(self.usage, _USAGE_ID[self.usage_type][0]) or ""

    @classmethod
    def from_xml(cls, xml: str | bytes) -> SecretDef:
        """Read a ``<secret>`` document (XMLError and subclasses, with libvirt's words); `uuid`
        stays None when the document has none (the driver gives it one, as virSecretDefParse)."""
        from .libxml_report import URLS
        from .mapping import parse_model
        from .safe import safe_parse

        root = safe_parse(xml, URLS["secret"])
        if root.tag != "secret":
            raise XMLError(f"expecting root element of 'secret', not '{root.tag}'", root.sourceline)
        sec: SecretDef = parse_model(root, cls, "secret")
        for name in ("ephemeral", "private"):
            value = getattr(sec, f"{name}_attr")
            if value not in (None, "yes", "no"):
                raise XMLError(f"invalid value of '{name}'", sec.line)
            setattr(sec, f"{name}_attr", value or "no")
        if sec.uuid:
            uuid = parse_uuid(sec.uuid)
            if uuid is None:
                raise SecretXMLError("malformed uuid element", sec.line)
            sec.uuid = uuid
        else:
            sec.uuid = None
        sec.description = sec.description or None
        if sec.usage is not None:
            sec.usage = _usage(sec.usage)
        return sec

    def to_xml(self) -> str:
        """virSecretDefFormat: both flags always, usage only when it names something."""
        from .mapping import format_document

        usage = None
        if self.usage_type != "none":
            element = _USAGE_ID[self.usage_type][0]
            usage = Usage(type=self.usage_type, **{element: self.usage_id})
        doc = SecretDef(ephemeral_attr="yes" if self.ephemeral else "no",
                        private_attr="yes" if self.private else "no", uuid=self.uuid,
                        description=self.description, usage=usage)
        return format_document(doc, "secret")


def _usage(usage: Usage) -> Usage:
    """virSecretDefParseUsage: a known type, and the identifier its type needs (only that one
    is kept: libvirt reads nothing else of a ``<usage>``)."""
    if usage.type is None:
        raise XMLError("unknown secret usage type", usage.line)
    if usage.type not in USAGE_TYPES:
        raise XMLUnsupportedError(f"unknown secret usage type {usage.type}", usage.line)
    if usage.type == "none":
        return Usage(type="none", line=usage.line)
    element, missing = _USAGE_ID[usage.type]
    ident = getattr(usage, element)
    if not ident:
        raise SecretXMLError(missing, usage.line)
    return Usage(type=usage.type, line=usage.line, **{element: ident})


def usage_number(usage_type: str) -> int:
    """virSecretUsageType's number of a usage word (D-Bus and libvirt's API speak numbers)."""
    return USAGE_TYPES.index(usage_type)
