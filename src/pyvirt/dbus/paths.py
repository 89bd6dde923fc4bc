"""Object paths of the org.libvirt API, encoded exactly as libvirt-dbus 1.4.1 encodes them.

Why two encodings: objects with a UUID (domains, networks, storage pools, secrets, nwfilters) are
named by it, so a rename keeps the path (``_`` + the UUID with ``-`` written ``_``); objects
without one are named by their name, key or MAC, in which every byte outside ``[A-Za-z0-9]``
becomes ``_`` + two lowercase hex digits (a D-Bus path element allows only ``[A-Za-z0-9_]``).
Snapshots have a segment of their own, not a place under their domain: ``<connection
path>/domainsnapshot/<encoded domain UUID>_<encoded name>`` (libvirt-dbus 1.4.1's
virtDBusUtilBusPathForVirDomainSnapshot; its test driver answers e.g.
``/org/libvirt/Test/domainsnapshot/_6695eb01_f6a4_8304_79aa_97f2502e193f_my_5fsnapshot``).
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
_ENCODED = re.compile(r"(?:[A-Za-z0-9]|_[0-9a-f]{2})*")


class BadPath(ValueError):
    """A path under /org/libvirt that names no object of this API."""


def encode_uuid(uuid: str) -> str:
    return "_" + uuid.lower().replace("-", "_")


def decode_uuid(element: str) -> str:
    match = _UUID_ELEMENT.fullmatch(element)
    if match is None:
        raise BadPath(f"not an encoded UUID: {element!r}")
    return "-".join(match.groups())


def encode_name(name: str) -> str:
    """Every byte of the UTF-8 name outside [A-Za-z0-9] as _xx (an empty name stays empty)."""
    return "".join(chr(b) if b in _ALNUM else f"_{b:02x}" for b in name.encode())


def decode_name(element: str) -> str:
    if not _ENCODED.fullmatch(element):
        raise BadPath(f"not an encoded name: {element!r}")
    out = bytearray()
    i = 0
    while i < len(element):
        if element[i] == "_":
            out.append(int(element[i + 1:i + 3], 16))
            i += 3
        else:
            out.append(ord(element[i]))
            i += 1
    try:
        return out.decode()
    except UnicodeDecodeError:
        raise BadPath(f"not UTF-8 once decoded: {element!r}") from None


def object_path(conn_path: str, kind: str, ident: str) -> str:
    encode = encode_uuid if kind in BY_UUID else encode_name
    return f"{conn_path}/{SEGMENTS[kind]}/{encode(ident)}"


def snapshot_path(conn_path: str, dom_uuid: str, name: str) -> str:
    return f"{conn_path}/{SNAPSHOT_SEGMENT}/{encode_uuid(dom_uuid)}_{encode_name(name)}"


def _parse_snapshot(element: str) -> tuple[str, str]:
    """(domain UUID, snapshot name) of a snapshot's element: the encoded UUID has a fixed length,
    so the name's encoding, which may itself hold ``_``, is whatever follows it and one ``_``."""
    if len(element) <= _UUID_LENGTH + 1 or element[_UUID_LENGTH] != "_":
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
    """The object a path names (raises BadPath for anything else: an unknown connection, kind
    or element, or an element that does not decode)."""
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
    decode = decode_uuid if kind in BY_UUID else decode_name
    return Target(parts[0], kind, (decode(parts[2]),))
