"""Object paths of the org.libvirt API, encoded exactly as libvirt-dbus 1.4.1 encodes them.

Why two encodings: objects with a UUID (domains, networks, storage pools, secrets, nwfilters) are
named by it, so a rename keeps the path (``_`` + the UUID with ``-`` written ``_``); objects
without one are named by their name, key or MAC, in which every byte outside ``[A-Za-z0-9]``
becomes ``_`` + two lowercase hex digits (a D-Bus path element allows only ``[A-Za-z0-9_]``).
Snapshots have a segment of their own, not a place under their domain: ``<connection
path>/domainsnapshot/<encoded domain UUID>_<encoded name>`` (libvirt-dbus 1.4.1's
virtDBusUtilBusPathForVirDomainSnapshot; its test driver answers e.g.
``/org/libvirt/Test/domainsnapshot/_6695eb01_f6a4_8304_79aa_97f2502e193f_my_5fsnapshot``).

Decoding is libvirt-dbus's too, which hands every element under a kind's segment to the kind's
lookup: a name element is decoded leniently (:func:`decode_name`), so a malformed one names an
object that is not found (org.libvirt.Error) rather than no object at all (UnknownObject); an
element that is no encoded UUID is refused as libvirt's vir*LookupByUUIDString refuses it
(:class:`BadUUID`).
"""

from __future__ import annotations

import re

ROOT = "/org/libvirt"

#: path element of each object kind under a connection object (libvirt-dbus's names)
SEGMENTS = {"Domain": "domain", "Network": "network", "StoragePool": "storagepool",
            "StorageVol": "storagevol", "NodeDevice": "nodedev", "Interface": "interface",
            "Secret": "secret", "NWFilter": "nwfilter"}
KIND_OF_SEGMENT = {seg: kind for kind, seg in SEGMENTS.items()}
BY_UUID = frozenset({"Domain", "Network", "StoragePool", "Secret", "NWFilter"})
SNAPSHOT_SEGMENT = "domainsnapshot"

_UUID_ELEMENT = re.compile(r"_([0-9a-f]{8})_([0-9a-f]{4})_([0-9a-f]{4})_([0-9a-f]{4})_([0-9a-f]{12})")
_UUID_LENGTH = 37  # "_" and the 36 characters of a UUID
_ALNUM = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")


class BadPath(ValueError):
    """A path under /org/libvirt that names no object of this API."""


class BadUUID(BadPath):
    """An element under a kind named by UUID that is no encoded UUID.  libvirt-dbus passes it to
    the kind's vir*LookupByUUIDString all the same, and answers that function's refusal."""

    def __init__(self, kind: str, element: str) -> None:
        super().__init__(f"not an encoded UUID: {element!r}")
        self.kind = kind
        self.function = f"vir{kind}LookupByUUIDString"


def encode_uuid(uuid: str) -> str:
    return "_" + uuid.lower().replace("-", "_")


def decode_uuid(element: str, kind: str = "Domain") -> str:
    match = _UUID_ELEMENT.fullmatch(element)
    if match is None:
        raise BadUUID(kind, element)
    return "-".join(match.groups())


def encode_name(name: str) -> str:
    """Every byte of the UTF-8 name outside [A-Za-z0-9] as _xx (an empty name stays empty)."""
    return "".join(chr(b) if b in _ALNUM else f"_{b:02x}" for b in name.encode())


def _hex_value(char: str) -> int:
    """libvirt-dbus's virtDBusUtilHexcharToNum: a value for any character, hex digit or not."""
    code = ord(char)
    return (code - 87 if code >= 97 else code - 48) & 0xFF


def decode_name(element: str) -> str:
    """The name, key or MAC an element encodes, decoded as libvirt-dbus's virtDBusUtilDecodeStr
    does: ``_`` and the two characters after it are one byte (a ``_`` with fewer after it stays),
    and the result ends at its first NUL byte, as the C string it is there.  Any element decodes,
    so a malformed one is looked up (and not found) as libvirt-dbus looks it up; bytes that are
    not UTF-8 are replaced, as the name is answered back in error texts."""
    out = bytearray()
    i, size = 0, len(element)
    while i < size:
        if element[i] != "_" or i + 2 >= size:
            out += element[i].encode()
            i += 1
        else:
            out.append(((_hex_value(element[i + 1]) << 4) + _hex_value(element[i + 2])) & 0xFF)
            i += 3
    end = out.find(0)
    return (out if end < 0 else out[:end]).decode(errors="replace")


def object_path(conn_path: str, kind: str, ident: str) -> str:
    encode = encode_uuid if kind in BY_UUID else encode_name
    return f"{conn_path}/{SEGMENTS[kind]}/{encode(ident)}"


def snapshot_path(conn_path: str, dom_uuid: str, name: str) -> str:
    return f"{conn_path}/{SNAPSHOT_SEGMENT}/{encode_uuid(dom_uuid)}_{encode_name(name)}"


def _parse_snapshot(element: str) -> tuple[str, str]:
    """(domain UUID, snapshot name) of a snapshot's element: the encoded UUID has a fixed length,
    so the name's encoding, which may itself hold ``_``, is whatever follows it and one ``_``
    (libvirt-dbus reads the name from there whatever that character is, and from an element
    shorter than the UUID it reads past the end: such an element names nothing here)."""
    if len(element) < _UUID_LENGTH:
        raise BadPath(f"not a snapshot element: {element!r}")
    return decode_uuid(element[:_UUID_LENGTH]), decode_name(element[_UUID_LENGTH + 1:])


class Target:
    """What a path names: the connection object (its name under /org/libvirt), the object kind
    (libvirt-dbus's interface name without ``org.libvirt.``) and the identity: (uuid,),
    (name-or-key-or-MAC,), or (domain uuid, snapshot name)."""

    __slots__ = ("conn", "kind", "ident")

    def __init__(self, conn: str, kind: str, ident: tuple[str, ...] = ()) -> None:
        self.conn = conn
        self.kind = kind
        self.ident = ident

    @property
    def conn_path(self) -> str:
        return f"{ROOT}/{self.conn}"

    def __repr__(self) -> str:
        return f"Target({self.conn!r}, {self.kind!r}, {self.ident!r})"


def parse(path: str, connections: tuple[str, ...] | list[str]) -> Target:
    """The object a path names (raises BadPath for anything else: an unknown connection or kind,
    a deeper path, or BadUUID for an element of a kind named by UUID that is no encoded UUID)."""
    prefix = ROOT + "/"
    if not path.startswith(prefix):
        raise BadPath(path)
    parts = path[len(prefix):].split("/")
    if parts[0] not in connections:
        raise BadPath(path)
    if len(parts) == 1:
        return Target(parts[0], "Connect")
    if len(parts) != 3:
        raise BadPath(path)
    if parts[1] == SNAPSHOT_SEGMENT:
        return Target(parts[0], "DomainSnapshot", _parse_snapshot(parts[2]))
    kind = KIND_OF_SEGMENT.get(parts[1])
    if kind is None:
        raise BadPath(path)
    if not parts[2]:
        raise BadPath(path)
    ident = decode_uuid(parts[2], kind) if kind in BY_UUID else decode_name(parts[2])
    return Target(parts[0], kind, (ident,))
