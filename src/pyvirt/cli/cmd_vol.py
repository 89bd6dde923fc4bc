"""Storage volume commands: vol-list, vol-info, vol-create(-as, -from), vol-clone, vol-delete,
vol-wipe, vol-resize, vol-dumpxml, vol-path, vol-key, vol-name, vol-pool, vol-upload,
vol-download; and undefine's --storage/--remove-all-storage (virsh does that client side too).

Volumes come back from the connection as dicts; lookups follow virsh's vshCommandOptVol
(name in --pool, then key, then path), so its error pairs read the same.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from pyvirt.cli.cmd_lifecycle import from_file
from pyvirt.cli.cmd_pool import get_pool, pretty
from pyvirt.cli.context import CmdError, Ctl, failing, xpath_option
from pyvirt.cli.fmt import keyvalues, table
from pyvirt.cli.grammar import Parsed
from pyvirt.cli.values import number, strtoul

if TYPE_CHECKING:
    from pyvirt.api import VolInfo

def vol_size(text: str) -> int:
    """vshVolSize: virStrToLong_ullp (blanks and a '+' before the digits, no '-', decimal only)
    then virScaleInteger on exactly what follows, bytes by default, up to ULLONG_MAX; virsh's
    "Malformed size" otherwise, with the error virScaleInteger left."""
    from pyvirt.cli.values import scale_integer

    got = strtoul(text, 0, 10, 64)
    if got is None:
        raise CmdError(f"Malformed size {text}")
    digits, end = got
    try:
        return scale_integer(digits, text[end:], 1, 2**64 - 1)
    except ValueError as exc:
        raise CmdError(f"Malformed size {text}", str(exc)) from None


def get_vol(ctl: Ctl, ref: str, pool_ref: str | None, hint: bool = True, pool_opt: str = "pool") -> VolInfo:
    """vshCommandOptVol: by name within --pool, then by key, then by path (`hint`: the command
    has a pool option, named `pool_opt`, so a miss suggests it, as virsh does)."""
    from pyvirt.api import PyvirtError

    last: PyvirtError | None = None
    if pool_ref is not None:
        pool = get_pool(ctl, pool_ref)
        try:
            return ctl.conn.lookup_volume(pool.name, ref)
        except PyvirtError as exc:
            last = exc
    try:
        return ctl.conn.lookup_volume_by_path(ref)
    except PyvirtError as exc:
        last = exc
    first = f"failed to get vol '{ref}'" + ("" if pool_ref is not None or not hint else
                                            f", specifying --{pool_opt} might help")
    raise CmdError(first, last.message)


def _vol(ctl: Ctl, p: Parsed) -> VolInfo:
    return get_vol(ctl, p.str("vol") or "", p.str("pool"))


# ------------------------------------------------------------------------------------ read side
def cmd_vol_list(ctl: Ctl, p: Parsed) -> bool:
    pool = get_pool(ctl, p.str("pool") or "")
    with failing("Failed to list active vols"):
        vols = sorted(ctl.conn.list_volumes(pool.name), key=lambda v: v.name)
    if p.bool("details"):
        rows = [[v.name, v.path, v.type, pretty(int(v.capacity or 0)),
                 pretty(int(v.allocation or 0))] for v in vols]
        ctl.print(table(["Name", "Path", "Type", "Capacity", "Allocation"], rows, show_header=not ctl.quiet))
    else:
        rows = [[v.name, v.path] for v in vols]
        ctl.print(table(["Name", "Path"], rows, show_header=not ctl.quiet))
    return True


def cmd_vol_info(ctl: Ctl, p: Parsed) -> bool:
    vol = _vol(ctl, p)
    as_bytes = p.bool("bytes")

    def size(key: str) -> str:
        value = int(getattr(vol, key) or 0)
        return f"{value} bytes" if as_bytes else pretty(value)

    alloc_label = "Physical" if p.bool("physical") else "Allocation"
    ctl.print(keyvalues([("Name", vol.name), ("Type", vol.type), ("Capacity", size("capacity")),
                         (alloc_label, size("allocation"))]))
    return True


def cmd_vol_dumpxml(ctl: Ctl, p: Parsed) -> bool:
    vol = _vol(ctl, p)
    xpath = xpath_option(p)
    ctl.print_xml(ctl.conn.get_volume_xml(vol.pool, vol.name), xpath, wrap=p.bool("wrap"))
    return True


def cmd_vol_path(ctl: Ctl, p: Parsed) -> bool:
    ctl.print(_vol(ctl, p).path + "\n")
    return True


def cmd_vol_key(ctl: Ctl, p: Parsed) -> bool:
    vol = _vol(ctl, p)
    ctl.print((vol.key or vol.path) + "\n")
    return True


def cmd_vol_name(ctl: Ctl, p: Parsed) -> bool:
    ctl.print(get_vol(ctl, p.str("vol") or "", None, hint=False).name + "\n")
    return True


def cmd_vol_pool(ctl: Ctl, p: Parsed) -> bool:
    vol = get_vol(ctl, p.str("vol") or "", None, hint=False)
    if p.bool("uuid"):
        ctl.print(get_pool(ctl, vol.pool).uuid + "\n")
    else:
        ctl.print(vol.pool + "\n")
    return True


# ------------------------------------------------------------------------------------ creation
def cmd_vol_create_as(ctl: Ctl, p: Parsed) -> bool:
    pool = get_pool(ctl, p.str("pool") or "")
    name = p.str("name") or ""
    capacity = vol_size(p.str("capacity") or "")
    alloc_text = p.str("allocation")  # read quietly: given empty, as if not given
    allocation = vol_size(alloc_text) if alloc_text else None
    fmt = p.str("format")
    backing_ref, backing_fmt = p.str("backing-vol"), p.str("backing-vol-format")
    backing = None
    if backing_ref:
        bvol = get_vol(ctl, backing_ref, pool.name)
        backing = bvol.path
        backing_fmt = backing_fmt or bvol.format
    if p.bool("print-xml"):
        from pyvirt.xml.volume import BackingStore, VolumeDef

        doc = VolumeDef(name=name, capacity=capacity, allocation=allocation, format=fmt or None,
                        backing=BackingStore(path=backing, format=backing_fmt or None) if backing else None)
        ctl.print(doc.to_request_xml())
        return True
    with failing(f"Failed to create vol {name}"):
        for size in (capacity, allocation or 0):  # libvirt's volume XML (virsh sends it) holds a long long
            if size > 2**63 - 1:
                from pyvirt.api import ErrorCode, PyvirtError

                raise PyvirtError(f"numerical overflow: value too large: {size}", ErrorCode.OVERFLOW)
        ctl.conn.create_volume(pool.name, name, capacity, format=fmt, allocation=allocation, backing=backing,
                               prealloc_metadata=p.bool("prealloc-metadata"))
    ctl.extra(f"Vol {name} created\n")
    return True


def cmd_vol_create(ctl: Ctl, p: Parsed) -> bool:
    pool = get_pool(ctl, p.str("pool") or "")
    path, vol = from_file(p, "create vol", lambda xml: ctl.conn.create_volume_xml(
        pool.name, xml, prealloc_metadata=p.bool("prealloc-metadata")))
    ctl.extra(f"Vol {vol.name} created from {path}\n")
    return True


def cmd_vol_create_from(ctl: Ctl, p: Parsed) -> bool:
    pool = get_pool(ctl, p.str("pool") or "")
    # virsh looks the source up in --inputpool only (by key or path without it), never in the target pool
    src = get_vol(ctl, p.str("vol") or "", p.str("inputpool"), pool_opt="inputpool")
    _, vol = from_file(p, "create vol", lambda xml: ctl.conn.create_volume_xml(
        pool.name, xml, prealloc_metadata=p.bool("prealloc-metadata"), from_pool=src.pool,
        from_vol=src.name, reflink=p.bool("reflink")))
    ctl.extra(f"Vol {vol.name} created from input vol {src.name}\n")
    return True


def cmd_vol_clone(ctl: Ctl, p: Parsed) -> bool:
    src = _vol(ctl, p)
    new = p.str("newname") or ""
    if p.bool("print-xml"):
        from pyvirt.xml.volume import VolumeDef

        doc = VolumeDef.from_xml(ctl.conn.get_volume_xml(src.pool, src.name))
        doc.name = new
        ctl.print(doc.to_xml())
        return True
    with failing(f"Failed to clone vol from {src.name}"):
        ctl.conn.clone_volume(src.pool, src.name, new, prealloc_metadata=p.bool("prealloc-metadata"),
                              reflink=p.bool("reflink"))
    ctl.extra(f"Vol {new} cloned from {src.name}\n")
    return True


# ------------------------------------------------------------------------------------ changes
def cmd_vol_delete(ctl: Ctl, p: Parsed) -> bool:
    vol = _vol(ctl, p)
    with failing(f"Failed to delete vol {p.str('vol')}"):
        ctl.conn.delete_volume(vol.pool, vol.name)
    ctl.extra(f"Vol {p.str('vol')} deleted\n")
    return True


def cmd_vol_wipe(ctl: Ctl, p: Parsed) -> bool:
    vol = _vol(ctl, p)
    algorithm = p.str("algorithm")
    if algorithm not in (None, "zero"):
        raise CmdError(f"Unsupported algorithm '{algorithm}'")
    with failing(f"Failed to wipe vol {p.str('vol')}"):
        ctl.conn.wipe_volume(vol.pool, vol.name)
    ctl.extra(f"Vol {p.str('vol')} wiped\n")
    return True


def cmd_vol_resize(ctl: Ctl, p: Parsed) -> bool:
    vol = _vol(ctl, p)
    text = p.str("capacity") or ""
    delta, shrink = p.bool("delta"), p.bool("shrink")
    raw = text
    if raw.startswith("-"):
        if not (delta and shrink):
            raise CmdError("negative size requires --delta and --shrink")
        raw = raw[1:]
    size = vol_size(raw)
    if text.startswith("-"):
        current = int(ctl.conn.lookup_volume(vol.pool, vol.name).capacity or 0)
        target, delta = current - size, False
        if target < 0:
            raise CmdError(f"Failed to change size of volume '{vol.name}' by {text}",
                           "invalid argument: can't shrink capacity below 0 bytes")
    else:
        target = size
    how = "by" if p.bool("delta") else "to"
    with failing(f"Failed to change size of volume '{vol.name}' {how} {text}"):
        ctl.conn.resize_volume(vol.pool, vol.name, target, delta=delta, shrink=shrink,
                               allocate=p.bool("allocate"))
    ctl.extra(f"Size of volume '{vol.name}' successfully changed {how} {text}\n")
    return True


# ------------------------------------------------------------------------------------ streams
def _progress(verb: str) -> Callable[[int, int], None] | None:
    """A one-line progress bar on stderr when it is a terminal; nothing otherwise."""
    if not sys.stderr.isatty():
        return None
    state = {"shown": -1}

    def show(done: int, total: int) -> None:
        pct = 100 if total <= 0 else done * 100 // total
        if pct == state["shown"]:
            return
        state["shown"] = pct
        bar = "#" * (pct * 30 // 100)
        end = "\n" if done >= total else ""
        sys.stderr.write(f"\r{verb} [{bar:<30}] {pct:3d}% {pretty(done)} of {pretty(total)}{end}")
        sys.stderr.flush()

    return show


def _stream_args(p: Parsed) -> tuple[int, int | None]:
    """virsh reads --offset unsigned (vshCommandOptULongLong) and --length wrapping a negative
    (vshCommandOptULongLongWrap: -5 is 2^64-5, longer than any volume, so: to its end)."""
    from pyvirt.cli.values import option_int

    offset = option_int(p, "offset", unsigned=True) or 0
    length = number(p.str("length"), "length", 0) or None
    if length is not None and length < 0:
        length = None
    return offset, length


def cmd_vol_upload(ctl: Ctl, p: Parsed) -> bool:
    from pyvirt.api import PyvirtError

    offset, length = _stream_args(p)
    vol = _vol(ctl, p)
    path = p.str("file") or ""
    try:
        src = open(path, "rb")  # noqa: SIM115 - closed below, after the stream
    except OSError:
        raise CmdError(f"cannot read {path}") from None
    try:
        ctl.conn.upload_volume(vol.pool, vol.name, src, offset=offset, length=length,
                               progress=_progress("Uploading"))
    except PyvirtError as exc:
        raise CmdError(f"cannot upload to volume {p.str('vol')}", exc.message) from None
    finally:
        src.close()
    return True


def cmd_vol_download(ctl: Ctl, p: Parsed) -> bool:
    from pyvirt.api import PyvirtError

    offset, length = _stream_args(p)
    vol = _vol(ctl, p)
    path = p.str("file") or ""
    existed = os.path.exists(path)
    try:
        dst = open(path, "wb")  # noqa: SIM115 - closed below, after the stream
    except OSError:
        raise CmdError(f"cannot create {path}") from None
    ok = False
    try:
        ctl.conn.download_volume(vol.pool, vol.name, dst, offset=offset, length=length,
                                 sparse=True, progress=_progress("Downloading"))
        ok = True
    except PyvirtError as exc:
        raise CmdError(f"cannot download from volume {p.str('vol')}", exc.message) from None
    finally:
        dst.close()
        if not ok and not existed:
            os.unlink(path)
    return True


# ------------------------------------------------------------------------------------ undefine
def _disks(xml: str) -> list[tuple[str, str, str | None, str | None]]:
    """(target, source, pool, volume) of each disk with a source (stdlib parser: our own XML)."""
    import xml.etree.ElementTree as ET

    out = []
    for disk in ET.fromstring(xml).iterfind("./devices/disk"):
        src = disk.find("source")
        tgt = disk.find("target")
        if src is None:
            continue
        target = tgt.get("dev", "") if tgt is not None else ""
        pool, volume = src.get("pool"), src.get("volume")
        path = src.get("file") or src.get("dev") or src.get("dir") or src.get("name") or volume
        if path:
            out.append((target, path, pool, volume))
    return out


def undefine_storage(ctl: Ctl, dom: str, p: Parsed) -> Callable[[], bool]:
    """Resolve the volumes to remove before the domain goes (so a bad --storage changes nothing);
    the returned function removes them afterwards and prints virsh's lines."""
    from pyvirt.api import PyvirtError

    if p.has("storage") and p.bool("remove-all-storage"):
        raise CmdError("Options --storage and --remove-all-storage are mutually exclusive")
    if p.bool("delete-storage-volume-snapshots") and not p.bool("remove-all-storage"):  # VSH_REQUIRE_OPTION
        raise CmdError("Option --remove-all-storage is required by option --delete-storage-volume-snapshots")
    if p.bool("wipe-storage") and not (p.has("storage") or p.bool("remove-all-storage")):
        raise CmdError("'--wipe-storage' requires '--storage <string>' or '--remove-all-storage'")
    wanted = [t for t in (p.str("storage") or "").split(",") if t]
    if (wanted or p.bool("remove-all-storage")) and ctl.conn.lookup_domain(dom).id >= 0:
        raise CmdError("Storage volume deletion is supported only on stopped domains")
    disks = _disks(ctl.conn.get_xml(dom, inactive=True))
    if wanted:
        known = {d[0] for d in disks} | {d[1] for d in disks}
        for token in wanted:
            if token not in known:
                raise CmdError(f"Volume '{token}' was not found in domain's definition.")
        disks = [d for d in disks if d[0] in wanted or d[1] in wanted]
    chosen: list[tuple[str, str, VolInfo]] = []
    for target, source, pool, volume in disks:
        try:
            vol = ctl.conn.lookup_volume(pool, volume) if pool and volume else ctl.conn.lookup_volume_by_path(source)
        except PyvirtError:
            msg = f"Storage volume '{target}'({source}) is not managed by libvirt. Remove it manually."
            if wanted:
                raise CmdError(msg) from None
            ctl.extra(msg + "\n")
            continue
        chosen.append((target, vol.path or source, vol))

    def remove() -> bool:
        ok = True
        for target, source, vol in chosen:
            if p.bool("wipe-storage"):
                ctl.extra(f"Wiping volume '{target}'({source}) ... ")
                try:
                    ctl.conn.wipe_volume(vol.pool, vol.name)
                    ctl.extra("done.\n")
                except PyvirtError as exc:
                    ctl.error(f"Failed! Volume not removed.\n{exc.message}")
                    ok = False
                    continue
            try:
                ctl.conn.delete_volume(vol.pool, vol.name)
            except PyvirtError as exc:
                ctl.error(f"Failed to remove storage volume '{target}'({source})")
                ctl.error(exc.message)
                ok = False
                continue
            ctl.extra(f"Volume '{target}'({source}) removed.\n")
        return ok

    return remove
