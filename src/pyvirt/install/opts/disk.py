"""--disk: storage devices.  Paths are matched against the connection's storage pools
(virt-install's storage lookup) to learn the volume format and disk type."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pyvirt.install import modelopt
from pyvirt.install.guest import Guest, log
from pyvirt.install.modelopt import get_value, set_value
from pyvirt.install.subopts import CheckError, Spec, SubOptError, check_unknown, parse, yesno
from pyvirt.xml.domain import Disk, NetHost
from pyvirt.xml.fields import Verbatim
from pyvirt.xml.mapping import specs
from pyvirt.xml.safe import safe_parse

if TYPE_CHECKING:
    from pyvirt.api import PoolInfo, VolInfo

DISK = Spec("--disk", keys=["path", "pool", "vol", "size", "format", "bus", "device", "cache",
                            "driver.cache", "io", "driver.io", "discard", "driver.discard",
                            "sparse", "backing_store", "backing_format", "readonly",
                            "shareable", "boot.order", "boot_order", "target", "target.dev",
                            "target.bus", "serial", "source.pool", "source.volume",
                            "driver.name", "driver.type", "driver_name", "driver_type", "type",
                            "perms", "bootorder"],
            positional=("path",),
            aliases={"driver_name": "driver.name", "driver_type": "driver.type",
                     "cache": "driver.cache", "io": "driver.io", "discard": "driver.discard",
                     "boot_order": "boot.order", "bootorder": "boot.order",
                     "target": "target.dev", "bus": "target.bus",
                     "source_pool": "source.pool", "source_volume": "source.volume",
                     "source_protocol": "source.protocol", "source_name": "source.name"})


def _all_volumes(conn: Any) -> Iterator[tuple[dict, dict]]:
    """(pool record, volume record) for every volume the connection can list; a pool or a
    connection that cannot list (inactive, no storage driver) just contributes nothing."""
    try:
        pools = conn.list_pools()
    except Exception:
        return
    for pool in pools:
        try:
            vols = conn.list_volumes(pool.name)
        except Exception:
            continue
        for vol in vols:
            yield pool, vol


def _find_volume(conn: Any, path: str) -> tuple[PoolInfo | None, VolInfo | None]:
    """(pool record, volume record) holding `path`, if the connection knows it."""
    for pool, vol in _all_volumes(conn):
        if vol.path == path:
            return pool, vol
    return None, None


def _volume_format(conn: Any, pool: PoolInfo, vol: VolInfo) -> str | None:
    try:
        root = safe_parse(conn.get_volume_xml(pool.name, vol.name))
    except Exception:
        return None
    fmt = root.find("target/format")
    return None if fmt is None else fmt.get("type")


URL = re.compile(r"[a-zA-Z]+(\+[a-zA-Z]+)?://.*")


def path_is_url(path: str | None) -> bool:
    """virtinst's diskbackend.path_is_url."""
    return bool(URL.match(path or ""))


def _names_source(o: dict) -> bool:
    """A source given by its XML sub-options (source.dev=, source.protocol=, type=nvme...)
    rather than by a path: virtinst's validate finds the disk is not empty."""
    return bool(o.get("type") == "nvme" or any(
        o.get(k) for k in ("source.file", "source.dev", "source.dir", "source.protocol",
                           "source.name", "source_name", "source_protocol")))


def _source_from_url(disk: Disk, url: str) -> None:
    """virtinst's DiskSource.set_from_url with its URI split: scheme[+transport]://
    [user@]host[:port]/path?query (an IPv6 host in brackets)."""
    from urllib.parse import unquote
    scheme, _, rest = url.partition(":")
    scheme = scheme.lower()
    transport = ""
    if "+" in scheme:
        scheme, transport = scheme.rsplit("+", 1)
    netloc, path, query = "", rest, ""
    if rest.startswith("//"):
        cut = next((i for i in (rest.find(c, 2) for c in "/?#") if i >= 0), len(rest))
        netloc, path = rest[2:cut], rest[cut:]
    if "#" in path:
        path = path.split("#", 1)[0]
    if "?" in path:
        path, query = path.split("?", 1)
    netloc = netloc.rsplit("@", 1)[-1]
    host, port = unquote(netloc), ""
    if host.startswith("[") and "]" in host:
        if "]:" in host:
            host, port = host.rsplit(":", 1)
        host = "".join(host[1:].split("]", 1))
    elif ":" in host:
        host, port = host.split(":", 1)
    path, query = unquote(path), unquote(query)
    if scheme:
        set_value(disk, "source/@protocol", scheme)
    hostel = None
    if host or port or transport:
        hostel = NetHost(name=Verbatim(host) if host else None, port=Verbatim(port) if port else None,
                                transport=Verbatim(transport) if transport else None)
        disk.source_hosts.append(hostel)
    if path:
        if hostel is not None and transport:
            hostel.socket = Verbatim(path)
        else:
            set_value(disk, "source/@name", path[1:] if path.startswith("/") else path)
    if query:
        set_value(disk, "source/@query", query)


#: pools whose volumes a guest reaches over the network (virtinst's network storage backends)
NETWORK_POOLS = ("rbd", "sheepdog", "gluster", "iscsi-direct")


def _clear_source(disk: Disk) -> None:
    """Everything of the disk's <source> removed (a volume's path replaced by its network
    source)."""
    for field in SOURCE_FIELDS:
        setattr(disk, field, [] if field == "source_hosts" else None)


#: Disk's fields inside <source>
SOURCE_FIELDS = tuple(name for name, spec in specs(Disk) if spec.path.split("/")[0] == "source")


def _network_volume_source(g: Guest, disk: Disk, pool: str, name: str, path: str) -> None:
    """A network pool's volume as a network disk (virtinst's _set_source_network_from_storage
    and DiskSource.set_network_from_storage): the pool's hosts and auth, the pool type as
    protocol (iscsi-direct speaks iscsi), the volume named under the pool's source name or,
    for iscsi-direct, by the IQN in its path."""
    try:
        root = safe_parse(g.ci.conn.get_pool_xml(pool).encode())
    except Exception:
        return
    ptype = root.get("type")
    set_value(disk, "@type", "network")
    _clear_source(disk)
    auth = root.find("source/auth")
    if auth is not None and auth.get("type"):
        set_value(disk, "auth/@username", auth.get("username"))
        sec = auth.find("secret")
        set_value(disk, "auth/secret/@type", auth.get("type"))
        set_value(disk, "auth/secret/@uuid", sec.get("uuid") if sec is not None else None)
    set_value(disk, "source/@protocol", "iscsi" if ptype == "iscsi-direct" else ptype)
    for host in root.findall("source/host"):
        disk.source_hosts.append(NetHost(name=_verbatim(host.get("name")),
                                                port=_verbatim(host.get("port"))))
    if ptype == "iscsi-direct":
        vname = path.split("-iscsi-", 1)[-1] if "-iscsi-iqn." in path else ""
    else:
        vname = ""
        if root.findtext("source/name"):
            vname = (root.findtext("source/name") or "") + (
                root.find("source/dir").get("path", "") if root.find("source/dir") is not None else "")
            if not vname.endswith("/"):
                vname += "/"
        vname += name
    if vname:
        set_value(disk, "source/@name", vname)
    if _has_driver(disk) and g.ci.is_qemu():
        set_value(disk, "driver/@type", "raw")


def _verbatim(value: str | None) -> Verbatim | None:
    return None if value is None else Verbatim(value)


#: Disk's fields on <driver>
DRIVER_FIELDS = tuple(name for name, spec in specs(Disk) if spec.path.split("/")[0] == "driver")


def _has_driver(disk: Disk) -> bool:
    return any(getattr(disk, f) is not None for f in DRIVER_FIELDS)


def _has_source(disk: Disk) -> bool:
    return any(getattr(disk, f) not in (None, []) for f in SOURCE_FIELDS)


def _pool_by_name(conn: Any, name: str) -> PoolInfo | None:
    for pool in conn.list_pools():
        if pool.name == name:
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
            raise CheckError(f"Improper value for 'size': could not convert string to float: '{size}'") from exc
    perms = o.get("perms")
    if perms not in (None, "rw", "ro", "sh"):  # checked before anything else, as virtinst does
        raise CheckError(f"Unknown 'perms' value '{perms}'")
    if o.get("vol") and not (o.get("pool") and "/" not in o["vol"]) and o["vol"].count("/") != 1:
        raise SubOptError("Storage volume must be specified as vol=poolname/volname")
    disk = Disk(type=Verbatim("file"), device=Verbatim(device))
    netvol: tuple[str, str, str] | None = None  # a network pool's volume: (pool, name, path)
    # source.pool/source.volume name the volume in the XML itself (<disk type='volume'>,
    # virtinst's DeviceDisk.source); vol=POOL/VOL only finds the path of one.
    by_ref = bool(o.get("source.pool") or o.get("source.volume"))
    if by_ref:
        if not (o.get("source.pool") and o.get("source.volume")):
            raise SubOptError("--disk source.pool= and source.volume= must be given together")
        o["pool"], o["vol"] = o["source.pool"], o["source.volume"]
    if o.get("vol"):
        pname, _, vname = o["vol"].partition("/")
        if not vname and o.get("pool"):  # source_pool=P,source_volume=V
            pname, vname = o["pool"], o["vol"]
        try:
            vols = conn.list_volumes(pname)
        except Exception as exc:
            raise SubOptError(str(exc)) from exc
        vol = next((v for v in vols if v.name == vname), None)
        if vol is None:
            raise SubOptError(f"Storage volume not found: no storage vol with matching name '{vname}'")
        path = vol.path
        vpool = _pool_by_name(conn, pname)
        if vpool is not None and vpool.type in NETWORK_POOLS:
            netvol = (pname, vname, vol.path)
    sparse = yesno(o["sparse"], "sparse") if o.get("sparse") is not None else True
    new = False
    if path is None and not o.get("vol") and (size or o.get("pool")):
        pname = o.get("pool") or "default"
        pool = _pool_by_name(conn, pname) if conn else None
        if pool is None and pname != "default":
            raise SubOptError(f"Storage pool not found: no storage pool with matching name '{pname}'")
        _check_format(pool, o.get("format"))
        # No 'default' pool yet: virt-install makes it at /var/lib/libvirt/images; pyvirtd
        # makes its own on first use (build_storage looks it up again).
        base = (pool.path if pool else None) or _default_pool_dir(g)
        ext = fmt or _default_format(g, pool)
        # virt-install names a raw image .img (StorageVolume.get_file_extension_for_format);
        # a pool whose volumes are no files has no format, so no extension
        suffix = "" if pool is not None and pool.type in NO_FORMAT_POOLS else \
            ".img" if ext == "raw" else f".{ext}"
        path = _unique(g, pool, os.path.join(base, f"{g.name or 'vm'}{suffix}"))
        _need_size(size, path)
        _new_disk(g, pool, "default", None, path, size, ext, sparse, o)
        new = True
        if pool is not None and pool.type in NETWORK_POOLS:
            netvol = (pool.name, os.path.basename(path), path)
        if g.ci.is_qemu():
            _set_driver(disk, name="qemu", type=ext)
    elif path and size and not o.get("vol") and not os.path.exists(path) and not path_is_url(path) \
            and _find_volume(conn, path)[1] is None:
        # A new file at an explicit path: its folder must be a pool, or a folder a dir pool
        # can be made for at install time (never under /dev).
        pool = _pool_for_dir(conn, os.path.dirname(path), create=False)
        if pool is None and os.path.normpath(path).startswith("/dev/"):
            raise SubOptError(f"Don't know how to create storage for path '{os.path.basename(path)}'. "
                              "Use libvirt APIs to manage the parent directory as a pool first.")
        _check_format(pool, o.get("format"))
        ext = fmt or _default_format(g, pool)
        _new_disk(g, pool, "", os.path.dirname(path), path, size, ext, sparse, o)
        new = True
        if g.ci.is_qemu():
            _set_driver(disk, name="qemu", type=ext)
    elif path and not size and not o.get("vol") and _wants_storage(g, path) \
            and not path_is_url(path):
        _need_size(size, path)
    elif path is None and device == "disk" and not _names_source(o):
        raise SubOptError(f"Device type '{device}' requires a path")
    if path and path_is_url(path):
        # virtinst's DiskSource.set_from_url: gluster://, nbd+unix://, https://... name a
        # network source, not a file
        set_value(disk, "@type", "network")
        if g.ci.is_qemu():
            _set_driver(disk, name="qemu")
            upool, uvol = _find_volume(conn, path)
            if uvol is not None and upool is not None:  # a network pool's volume
                vfmt = _volume_format(conn, upool, uvol)
                _set_driver(disk, type="raw" if vfmt in (None, "iso") else vfmt)
        _source_from_url(disk, path)
    elif path:
        pool, vol = _find_volume(conn, path)
        if vol is not None and pool is not None:
            vfmt = _volume_format(conn, pool, vol)
            if vfmt is None and pool.type in ("dir", "fs", "netfs"):
                vfmt = "raw"  # libvirt's default format for file volumes
            if pool.type in ("logical", "disk", "iscsi", "scsi", "mpath"):
                set_value(disk, "@type", "block")
            if g.ci.is_xen() and disk.type == "block":
                # Xen's recommended default for block devices (virtinst follows it).
                _set_driver(disk, name="phy")
            elif g.ci.is_qemu() or g.ci.is_xen():
                _set_driver(disk, name="qemu")
                # virtinst's _qemu_sanitize_drvtype on the volume's own format (format= only
                # names the format of storage it creates): block storage and ISO images
                # are raw to QEMU; driver.type= is the XML property itself.
                vtype = "raw" if disk.type == "block" or vfmt == "iso" else vfmt
                if o.get("driver.type") or vtype:
                    _set_driver(disk, type=o.get("driver.type") or vtype or "raw")
        elif os.path.isdir(path):
            set_value(disk, "@type", "dir")
        elif _is_block(path):
            set_value(disk, "@type", "block")
        elif g.ci.is_qemu():
            _set_driver(disk, name="qemu")
            if fmt:  # a file no pool knows: its format is not guessed (virt-install neither)
                _set_driver(disk, type=fmt)
        set_value(disk, SOURCE_ATTR[disk.type or "file"], path)
    if o.get("type"):
        # the disk type as given (type=dir, type=block, type=nvme...); a path already
        # written moves to the attribute that type reads it from
        new_attr = SOURCE_ATTR.get(o["type"])
        if new_attr and disk.type in SOURCE_ATTR:
            old_attr = SOURCE_ATTR[disk.type or "file"]
            moved = get_value(disk, old_attr)
            if moved is not None and new_attr != old_attr:
                set_value(disk, old_attr, None)
                set_value(disk, new_attr, moved)
        set_value(disk, "@type", o["type"])
    elif o.get("source.protocol"):
        set_value(disk, "@type", "network")
    elif not _has_source(disk):
        for key, typ in (("source.dev", "block"), ("source.dir", "dir")):
            if o.get(key):
                set_value(disk, "@type", typ)
    # a local source named by its sub-options is checked as a path is (virtinst's
    # DeviceDisk works on the source path whichever way it was given)
    src_path = None if path else next(
        (o[k] for k in ("source.file", "source.dev", "source.dir") if o.get(k)), None)
    if src_path and not size and _wants_storage(g, src_path):
        raise SubOptError("Must specify storage creation parameters for non-existent path "
                          f"'{src_path}'.")
    if g.ci.is_qemu() and (path or _names_source(o)) \
            and disk.type in ("file", "block", "dir", "volume", "network"):
        # virtinst's _get_default_driver_name (qemu for any disk with a source) and
        # _qemu_sanitize_drvtype (block storage is raw to QEMU)
        if not disk.driver_name:
            _set_driver(disk, name="qemu")
        if disk.type == "block" and not disk.driver_type:
            _set_driver(disk, type="raw")
    if netvol is not None and not by_ref:
        _network_volume_source(g, disk, *netvol)
    if by_ref:
        set_value(disk, "@type", "volume")
        _clear_source(disk)
        set_value(disk, "source/@volume", o["vol"])
        set_value(disk, "source/@pool", o["pool"])
        ref_pool = _pool_by_name(conn, o["pool"]) if conn else None
        if disk.driver_type and not fmt and (
                disk.driver_type == "iso" or ref_pool is None or ref_pool.type in NO_FORMAT_POOLS):
            # Only a file volume has a format of its own (virtinst's supports_format and
            # _qemu_sanitize_drvtype): anything else is raw to QEMU.
            _set_driver(disk, type="raw")
    for key in ("driver.name", "driver.cache", "driver.io", "driver.discard"):
        if o.get(key):
            _set_driver(disk, **{key.split(".")[1]: o[key]})
    for key in ("target.dev", "target.bus"):
        if o.get(key):
            set_value(disk, key.replace(".", "/@"), o[key])
    if perms == "ro" or (o.get("readonly") is not None and yesno(o.get("readonly") or "yes", "readonly")):
        disk.readonly = True
    if perms == "sh" or (o.get("shareable") is not None and yesno(o.get("shareable") or "yes", "shareable")):
        disk.shareable = True
    if new and sparse and device == "disk" and g.ci.is_qemu() and not o.get("driver.discard"):
        _set_driver(disk, discard="unmap")  # a sparse new volume: let TRIM free it
    if o.get("serial"):
        set_value(disk, "serial", o["serial"])
    if o.get("boot.order"):
        set_value(disk, "boot/@order", o["boot.order"])
    new_paths = {n.path for n in g.flags.extra.get("new_disks", [])}
    used = path or (src_path if not g.flags.extra.get("probe") else None)
    if used and used not in new_paths:
        # checked once every option is parsed (virt-install's validate_disk, in disk order
        # with the size checks); virt-xml never checks it
        g.flags.extra.setdefault("disk_checks", []).append(
            (used, bool(disk.readonly) or device == "cdrom", bool(disk.shareable)))
    modelopt.add(g, "--disk", disk)


#: the <source> attribute a local disk of each type names its path with
SOURCE_ATTR = {"file": "source/@file", "block": "source/@dev", "dir": "source/@dir"}


def _set_driver(disk: Disk, **attrs: str) -> None:
    """<driver> attributes of the disk (name=, type=, cache=...), each as given."""
    for attr, value in attrs.items():
        set_value(disk, "driver/@" + attr, value)


@dataclass
class NewDisk:
    """A volume --disk size= asks for, created by Installer.build_storage at install time."""

    pool: str
    name: str
    path: str
    size_bytes: int
    folder: str | None
    format: str | None
    sparse: bool
    size_conflict: str | None = None
    #: backing_store=/backing_format=: the new volume is an overlay of this image
    backing_store: str | None = None
    backing_format: str | None = None

    def backing_format_of(self, conn: Any) -> str | None:
        """backing_format=, else the backing image's own format where a pool knows it (virtinst's
        _detect_backing_store_format)."""
        if self.backing_format or not self.backing_store:
            return self.backing_format
        pool, vol = _find_volume(conn, self.backing_store)
        return _volume_format(conn, pool, vol) if pool is not None and vol is not None else None


BLOCK_POOLS = ("logical", "disk", "iscsi", "scsi", "mpath")
NO_FORMAT_POOLS = ("logical", "disk", "iscsi", "scsi", "mpath", "rbd", "sheepdog", "gluster",
                   "iscsi-direct", "zfs")


def _check_format(pool: PoolInfo | None, fmt: str | None) -> None:
    if fmt and pool is not None and pool.type in NO_FORMAT_POOLS and fmt != "raw" \
            or fmt and pool is not None and pool.type in BLOCK_POOLS:
        raise SubOptError("Format attribute not supported for this volume type")


def _default_format(g: Guest, pool: PoolInfo | None) -> str:
    """qcow2 only where virt-install trusts it (its conn_default_qcow2: QEMU and the test
    driver); other hypervisors (bhyve, Xen, ...) and pools without formats get raw."""
    if pool is not None and pool.type in NO_FORMAT_POOLS:
        return "raw"
    return "qcow2" if g.ci.is_qemu() or g.ci.is_test() else "raw"


def _default_pool_dir(g: Guest) -> str:
    """Where virt-install would make the 'default' pool: per user for session URIs."""
    if g.ci.is_session():
        data = os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share")
        return os.path.join(data, "libvirt", "images")
    return "/var/lib/libvirt/images"


def _is_block(path: str) -> bool:
    """A block device, or a /dev path not there yet (a volume a block pool will make)."""
    import stat
    try:
        return stat.S_ISBLK(os.stat(path).st_mode)
    except OSError:
        return path.startswith("/dev/")


def _pool_for_dir(conn: Any, dirname: str, create: bool = True) -> PoolInfo | None:
    """The pool whose target is `dirname`; with `create`, a folder that none manages gets a
    new dir pool (virt-install does the same), unless it is under /dev."""
    want = os.path.normpath(dirname)
    try:
        pools = conn.list_pools()
    except Exception:
        return None
    for pool in pools:
        if pool.path and os.path.normpath(pool.path) == want:
            return pool
    if not create or want.startswith("/dev"):
        return None
    names = {p.name for p in pools}
    base = os.path.basename(want) or "root"
    name = base
    for i in range(1, 1000):
        if name not in names:
            break
        name = f"{base}-{i}"
    from pyvirt.xml.pool import PoolDef

    xml = PoolDef(type="dir", name=name, target_path=want).to_request_xml()
    try:
        conn.define_pool(xml)
        conn.build_pool(name)  # virtinst's StoragePool.install: build, then start without flags
        conn.start_pool(name)
        conn.set_pool_autostart(name, True)
        return _pool_by_name(conn, name)
    except Exception as exc:
        log.debug("Could not create a pool for %s: %s", want, exc)
        return None


def _need_size(size: str | None, path: str) -> None:
    """virtinst's build_vol_install: storage to create needs a size."""
    if size is None:
        raise SubOptError(f"Size must be specified for non existent volume '{os.path.basename(path)}'")


def _wants_storage(g: Guest, path: str) -> bool:
    """Whether a --disk path names storage that does not exist yet (virt-install would
    create it, so it needs a size).  On a remote connection only pool volumes are known,
    and /dev, /sys and /proc paths are passed through unmanaged."""
    if g.flags.extra.get("probe") or "://" in path or path.startswith(("nbd:", "nbd+", "gluster:")):
        return False
    if _find_volume(g.ci.conn, path)[1] is not None:
        return False
    if g.ci.is_remote():
        return not path.startswith(("/dev/", "/sys/", "/proc/"))
    return not os.path.exists(path)


def _check_space(pool: PoolInfo | None, nbytes: int, sparse: bool) -> str | None:
    """virtinst's StorageVolume.is_size_conflict: a fully allocated volume that does not fit
    is refused now; a sparse one that could outgrow the pool is left to the disk_size check
    (the message is returned)."""
    avail = int(getattr(pool, "available", 0) or 0) if pool is not None else 0
    if pool is None or not avail:
        return None
    mib = 1024 * 1024
    if not sparse and nbytes > avail:
        raise SubOptError("There is not enough free space on the storage pool to create the "
                          f"volume. ({nbytes // mib} M requested allocation > {avail // mib} M "
                          "available)")
    if nbytes > avail:
        msg = ("The requested volume capacity will exceed the available pool space when the "
               f"volume is fully allocated. ({nbytes // mib} M requested capacity > "
               f"{avail // mib} M available)")
        log.warning("%s", msg)
        return msg
    return None


def check_disks(g: Guest) -> None:
    """virt-install's validate_disk after every option was parsed, disk by disk: another
    guest's use of an existing path (path_in_use), a new volume that may outgrow its pool
    (disk_size)."""
    checks = g.flags.extra.get("checks", {})
    for new in g.flags.extra.get("disk_checks", []):
        if isinstance(new, tuple):
            check_in_use(g, *new)
        elif new.size_conflict and checks.get("disk_size", checks.get("all", True)):
            raise CheckError(f"{new.size_conflict} (Use --check disk_size=off or --check all=off "
                             "to override)")


def _new_disk(g: Guest, pool: PoolInfo | None, pool_name: str, folder: str | None, path: str,
              size: str | None, fmt: str, sparse: bool, o: dict[str, str | None]) -> None:
    """Plan a volume in `pool`; without one, in `pool_name` ('default': not made yet) or, when
    that is empty, in a dir pool made for `folder` at install time; `o` (the --disk
    sub-options) may name a backing image for it."""
    if size is None:
        return
    nbytes = int(float(size) * 1024 ** 3)
    conflict = _check_space(pool, nbytes, sparse)
    g.flags.extra.setdefault("new_disks", []).append(
        new := NewDisk(pool=pool.name if pool else pool_name, name=os.path.basename(path), path=path,
                size_bytes=nbytes, folder=None if pool else folder,
                format=None if pool and pool.type in NO_FORMAT_POOLS else fmt, sparse=sparse,
                size_conflict=conflict, backing_store=o.get("backing_store") or None,
                backing_format=o.get("backing_format") or None))
    g.flags.extra.setdefault("disk_checks", []).append(new)


def _pool_paths(conn: Any) -> tuple[dict[tuple[str, str], str], dict[str, str]]:
    """(pool, volume) -> path, and backing path -> volume path, over every pool."""
    paths: dict[tuple[str, str], str] = {}
    backing: dict[str, str] = {}
    for pool, vol in _all_volumes(conn):
        paths[(pool.name, vol.name)] = vol.path
        try:
            root = safe_parse(conn.get_volume_xml(pool.name, vol.name))
        except Exception:
            continue
        back = root.findtext("backingStore/path")
        if back:
            backing[back] = vol.path
    return paths, backing


def _disk_users(conn: Any, skip: str | None, path: str, readonly: bool,
                shareable: bool) -> list[str]:
    """Names of the domains whose disks (or kernel/initrd/dtb) use `path`, directly or as
    the backing file of the volume they use (virtinst's path_in_use_by)."""
    try:
        doms = conn.list_domain_names()
    except Exception:
        return []
    roots = []
    for dom in doms:
        if dom.name == skip:
            continue
        try:
            roots.append((dom.name, safe_parse(conn.get_xml(dom.name))))
        except Exception:
            continue
    if not roots:
        return []
    volpaths, backing = _pool_paths(conn)
    chain: list[str] = []
    back = path
    while back in backing and backing[back] not in chain:
        back = backing[back]
        chain.append(back)
    users = []
    for name, root in roots:
        if not readonly and path in (root.findtext("os/kernel"), root.findtext("os/initrd"),
                                     root.findtext("os/dtb")):
            users.append(name)
            continue
        for d in root.findall("devices/disk"):
            src = d.find("source")
            if src is None:
                continue
            if src.get("pool") and src.get("volume"):
                used = volpaths.get((src.get("pool", ""), src.get("volume", "")))
            else:
                used = next((src.get(a) for a in ("file", "dev", "dir", "name") if src.get(a)), None)
            if used in chain:
                users.append(name)
                break
            if used != path:
                continue
            if shareable and d.find("shareable") is not None:
                continue
            if readonly and d.find("readonly") is not None:
                continue
            users.append(name)
            break
    return users


def check_in_use(g: Guest, path: str, readonly: bool, shareable: bool) -> None:
    """virt-install's path_in_use check: refuse a disk another guest already uses."""
    users = _disk_users(g.ci.conn, g.name, path, readonly, shareable)
    if not users:
        return
    checks = g.flags.extra.get("checks", {})
    msg = f"Disk {path} is already in use by other guests {users}."
    if not checks.get("path_in_use", checks.get("all", True)):
        log.warning("%s", msg)
        return
    raise CheckError(f"{msg} (Use --check path_in_use=off or --check all=off to override)")


def _unique(g: Guest, pool: PoolInfo | None, path: str) -> str:
    """`path`, or `stem-N.ext` when the pool (or this command's earlier disks) has it."""
    taken = {n.path for n in g.flags.extra.get("new_disks", [])}
    if pool is not None:
        with contextlib.suppress(Exception):
            taken |= {v.path for v in g.ci.conn.list_volumes(pool.name)}
    if path not in taken:
        return path
    stem, ext = os.path.splitext(path)
    for i in range(1, 1000):
        cand = f"{stem}-{i}{ext}"
        if cand not in taken:
            return cand
    return path


SPECS = {"--disk": DISK}
APPLY = {"--disk": apply_disk}
