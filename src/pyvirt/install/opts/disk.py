"""--disk: storage devices.  Paths are matched against the connection's storage pools
(virt-install's storage lookup) to learn the volume format and disk type."""

from __future__ import annotations

import os
from typing import Any

from lxml import etree

from pyvirt.install.guest import Guest
from pyvirt.install.subopts import Spec, SubOptError, check_unknown, parse, yesno
from pyvirt.install.xmltree import child

DISK = Spec("--disk", keys=["path", "pool", "vol", "size", "format", "bus", "device", "cache",
                            "driver.cache", "io", "driver.io", "discard", "driver.discard",
                            "sparse", "backing_store", "backing_format", "readonly",
                            "shareable", "boot.order", "boot_order", "target", "target.dev",
                            "target.bus", "serial", "source_pool", "source_volume",
                            "driver.name", "driver.type", "driver_name", "driver_type", "type",
                            "perms", "startup_policy", "error_policy", "snapshot_policy",
                            "address.type", r"address\..*", "wwn", "bootorder"],
            positional=("path",),
            aliases={"driver_name": "driver.name", "driver_type": "driver.type",
                     "cache": "driver.cache", "io": "driver.io", "discard": "driver.discard",
                     "boot_order": "boot.order", "bootorder": "boot.order",
                     "target": "target.dev", "bus": "target.bus",
                     "source_pool": "pool", "source_volume": "vol"})


def _find_volume(conn: Any, path: str) -> tuple[dict | None, dict | None]:
    """(pool record, volume record) holding `path`, if the connection knows it."""
    try:
        pools = conn.list_pools()
    except Exception:
        return None, None
    for pool in pools:
        try:
            vols = conn.list_volumes(pool["name"])
        except Exception:
            continue
        for vol in vols:
            if vol.get("path") == path:
                return pool, vol
    return None, None


def _volume_format(conn: Any, pool: dict, vol: dict) -> str | None:
    try:
        root = etree.fromstring(conn.get_volume_xml(pool["name"], vol["name"]).encode())
    except Exception:
        return None
    fmt = root.find("target/format")
    return None if fmt is None else fmt.get("type")


def _pool_by_name(conn: Any, name: str) -> dict | None:
    for pool in conn.list_pools():
        if pool["name"] == name:
            return pool
    return None


def apply_disk(g: Guest, optstr: str) -> None:
    if optstr == "none":
        return
    o = parse(DISK, optstr)
    check_unknown(DISK, o)
    device = o.get("device") or "disk"
    conn = g.ci.conn
    path = o.get("path")
    fmt = o.get("format") or o.get("driver.type")
    size = o.get("size")
    if size is not None:
        try:
            float(size)
        except ValueError as exc:
            raise SubOptError(f"Improper value for 'size': could not convert string to float: '{size}'") from exc
    disk = etree.Element("disk", type="file", device=device)
    if o.get("vol"):
        pname, _, vname = o["vol"].partition("/")
        try:
            vols = conn.list_volumes(pname)
        except Exception as exc:
            raise SubOptError(str(exc)) from exc
        vol = next((v for v in vols if v["name"] == vname), None)
        if vol is None:
            raise SubOptError(f"Storage volume not found: no storage vol with matching name '{vname}'")
        path = vol["path"]
    if path is None and (size or o.get("pool")):
        pool = _pool_by_name(conn, o.get("pool") or "default") if conn else None
        if pool is None and o.get("pool"):
            raise SubOptError(f"Storage pool not found: no storage pool with matching name '{o['pool']}'")
        base = (pool or {}).get("path") or "/var/lib/libvirt/images"
        ext = fmt or "qcow2"
        name = g.name or "vm"
        path = _unique(conn, pool, os.path.join(base, f"{name}.{ext}"))
        g.flags.extra.setdefault("new_disks", []).append((path, size, ext))
        if g.ci.is_qemu():
            child(disk, "driver", name="qemu", type=ext)
    elif path is None and device == "disk":
        raise SubOptError(f"Device type '{device}' requires a path")
    if path:
        pool, vol = _find_volume(conn, path)
        if vol is not None and pool is not None:
            vfmt = _volume_format(conn, pool, vol)
            if pool.get("type") in ("logical", "disk", "iscsi", "scsi", "mpath"):
                disk.set("type", "block")
            if g.ci.is_qemu():
                drv = child(disk, "driver", name="qemu")
                if vfmt or fmt:
                    drv.set("type", fmt or vfmt or "raw")
        elif os.path.isdir(path):
            disk.set("type", "dir")
        elif path.startswith("/dev/"):
            disk.set("type", "block")
        elif g.ci.is_qemu():
            drv = child(disk, "driver", name="qemu")
            if fmt:
                drv.set("type", fmt)
            elif os.path.exists(path):
                drv.set("type", "raw")
        attr = {"file": "file", "block": "dev", "dir": "dir"}[disk.get("type", "file")]
        child(disk, "source").set(attr, path)
    drv_keys = {"driver.name": "name", "driver.cache": "cache", "driver.io": "io",
                "driver.discard": "discard"}
    for k, attr in drv_keys.items():
        if o.get(k):
            child(disk, "driver").set(attr, o[k])
    if o.get("target.bus"):
        child(disk, "target").set("bus", o["target.bus"])
    if o.get("target.dev"):
        child(disk, "target").set("dev", o["target.dev"])
    if o.get("readonly") is not None and yesno(o.get("readonly") or "yes"):
        child(disk, "readonly")
    if o.get("shareable") is not None and yesno(o.get("shareable") or "yes"):
        child(disk, "shareable")
    if o.get("serial"):
        child(disk, "serial").text = o["serial"]
    if o.get("boot.order"):
        child(disk, "boot", order=o["boot.order"])
    g.add_device(disk)


def _unique(conn: Any, pool: dict | None, path: str) -> str:
    if pool is None:
        return path
    names = {v["path"] for v in conn.list_volumes(pool["name"])}
    if path not in names:
        return path
    stem, ext = os.path.splitext(path)
    for i in range(1, 1000):
        cand = f"{stem}-{i}{ext}"
        if cand not in names:
            return cand
    return path


SPECS = {"--disk": DISK}
APPLY = {"--disk": apply_disk}
