"""Which pool already uses a new pool's source: libvirt's virStoragePoolObjSourceFindDuplicate.

libvirt refuses to define or create a pool whose storage another pool (of another name)
already names, before any name or UUID check: "Storage source conflict with pool: 'x'".  Kept
apart from the pool operations because the matching rules are per pool type, read off
virstorageobj.c: directory-like pools by their directory (target path, or exported directory and
host), device-backed pools by any shared source device (iSCSI also by initiator IQN).  The one
rule for both drivers: the test driver matches its pools' trees, pyvirtd's storage driver the
trees of its parsed definitions (`conflicting_defs`).
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from collections.abc import Iterable

    from lxml import etree

    from pyvirt.xml.pool import PoolDef

#: pool types compared by a source device (virStoragePoolObjSourceMatchTypeDEVICE)
_DEVICE_TYPES = frozenset({"iscsi", "fs", "logical", "disk", "zfs"})


def _host(xml: etree._Element) -> tuple[str, str] | None:
    host = xml.find("source/host")
    return None if host is None else (host.get("name", ""), host.get("port", ""))


def _same_host(old: etree._Element, new: etree._Element) -> bool:
    """virStoragePoolSourceMatchSingleHost: the first host's name and port."""
    a, b = _host(old), _host(new)
    return a is not None and a == b


def _same_dir(old: etree._Element, new: etree._Element) -> bool:
    """virStoragePoolObjSourceMatchTypeDIR (old and new of the same type)."""
    kind = old.get("type")
    if kind == "dir":
        return old.findtext("target/path") == new.findtext("target/path")
    src_dir = old.find("source/dir"), new.find("source/dir")
    dirs = tuple(None if d is None else d.get("path") for d in src_dir)
    if kind == "gluster":
        return (old.findtext("source/name") == new.findtext("source/name") and dirs[0] == dirs[1]
                and _same_host(old, new))
    return dirs[0] is not None and dirs[0] == dirs[1] and _same_host(old, new)  # netfs


def _same_device(old: etree._Element, new: etree._Element) -> bool:
    """virStoragePoolObjSourceMatchTypeDEVICE: iSCSI only against iSCSI (same device and
    initiator IQN), the other device-backed types against each other by any shared device."""
    if (old.get("type") == "iscsi") != (new.get("type") == "iscsi"):
        return False
    devices = {d.get("path") for d in old.findall("source/device")}
    if not any(d.get("path") in devices for d in new.findall("source/device")):
        return False
    if old.get("type") != "iscsi":
        return True
    iqn = "source/initiator/iqn"  # virStoragePoolSourceISCSIMatch: the IQN, never the host
    a, b = old.find(iqn), new.find(iqn)
    return (None if a is None else a.get("name")) == (None if b is None else b.get("name"))


def _conflicts(old: etree._Element, new: etree._Element) -> bool:
    kind, new_kind = old.get("type"), new.get("type")
    if kind in ("dir", "gluster", "netfs"):
        return kind == new_kind and _same_dir(old, new)
    if kind in _DEVICE_TYPES:
        return new_kind in _DEVICE_TYPES and _same_device(old, new)
    return False


def conflicting(pools: Iterable[tuple[str, etree._Element]], new: etree._Element) -> str | None:
    """The name of the first other-named pool whose source `new` (a <pool> tree) would reuse."""
    name = new.findtext("name")
    return next((other for other, xml in pools if other != name and _conflicts(xml, new)), None)


def conflicting_defs(pools: Iterable[PoolDef], new: PoolDef) -> str | None:
    """`conflicting` for parsed definitions (pyvirtd's storage driver): each compared as the
    tree its normalised XML makes (target paths already sanitised by the parse)."""
    from pyvirt.xml.safe import parse_root

    tree = parse_root(new.to_xml(), "pool")
    return conflicting(((p.name or "", parse_root(p.to_xml(), "pool")) for p in pools if p.name != new.name), tree)
