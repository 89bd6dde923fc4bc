"""Live device changes and per-device statistics: attach-device, detach-device, detach-device-alias,
attach-disk, detach-disk, domblkstat, screenshot.

Scope flags follow virsh: no flag is the running guest (virDomainAttachDevice's AFFECT_LIVE),
--persistent is the definition plus the running guest when there is one, --current is whichever
the domain has now; --current does not mix with --live or --config.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from pyvirt.cli.cmd_lifecycle import read_file
from pyvirt.cli.context import CmdError, Ctl, failing
from pyvirt.cli.grammar import Parsed

TYPE_CHECKING = False  # the CLI's start-up time: typing-only imports stay out of the hot path
if TYPE_CHECKING:
    from collections.abc import Callable


def _scope(ctl: Ctl, p: Parsed, info) -> tuple[bool, bool]:
    """(live, config) for the API; (False, False) is --current."""
    check_scope(p)
    live, config = p.bool("live"), p.bool("config")
    if p.bool("persistent"):
        config = True
        live = live or info.active
    if not (live or config or p.bool("current")):
        live = True  # virDomainAttachDevice / virDomainDetachDevice act on the running guest
    return live, config


def check_scope(p: Parsed) -> None:
    """virsh's VSH_EXCLUSIVE_OPTIONS_VAR checks of the scope flags, in its order."""
    if p.bool("persistent") and p.bool("current"):
        raise CmdError("Options --persistent and --current are mutually exclusive")
    for other in ("live", "config"):
        if p.bool("current") and p.bool(other):
            raise CmdError(f"Options --current and --{other} are mutually exclusive")


def _key(info) -> str:
    return info.uuid or info.name


def device_call(p: Parsed, call: Callable[..., None]) -> Callable[..., None]:
    """`call` (attach_device or detach_device) named as virsh calls it: the Flags function
    whenever a scope flag is given, --live included, so a driver without device changes (the
    test driver) names that one; the API cannot tell --live from no flag."""
    from pyvirt.api import ErrorCode, PyvirtError

    def run(*args: object, **kwargs: object) -> None:
        try:
            call(*args, **kwargs)
        except PyvirtError as exc:
            if p.bool("live") and exc.code == ErrorCode.NO_SUPPORT and exc.message.endswith("Device"):
                raise PyvirtError(exc.message + "Flags", exc.code, exc.domain) from None
            raise
    return run


def _device_from_file(ctl: Ctl, p: Parsed, verb: str, call: Callable[..., None]) -> bool:
    """attach-device / detach-device: the device XML in --file, applied in the scope the flags say."""
    info = ctl.domain_arg(p)
    path = p.str("file") or ""
    live, config = _scope(ctl, p, info)
    xml = read_file(path)
    with failing(f"Failed to {verb} device from {path}"):
        device_call(p, call)(_key(info), xml, live=live, config=config)
    ctl.extra(f"Device {verb}ed successfully\n")
    return True


def cmd_attach_device(ctl: Ctl, p: Parsed) -> bool:
    return _device_from_file(ctl, p, "attach", ctl.conn.attach_device)


def cmd_detach_device(ctl: Ctl, p: Parsed) -> bool:
    return _device_from_file(ctl, p, "detach", ctl.conn.detach_device)


def cmd_detach_device_alias(ctl: Ctl, p: Parsed) -> bool:
    """virsh's cmdDetachDeviceAlias: --current (the default) is whichever the domain has now."""
    check_scope(p)
    info = ctl.domain_arg(p)
    alias = p.str("alias") or ""
    with failing(f"Failed to detach device with alias {alias}"):
        ctl.conn.detach_device_alias(_key(info), alias, live=p.bool("live"), config=p.bool("config"))
    ctl.extra("Device detach request sent successfully\n")
    return True


def quoteattr(value: str) -> str:
    """An attribute value as libvirt writes it: single quotes, XML specials escaped."""
    return "'" + escape(value, {"'": "&apos;", '"': "&quot;"}) + "'"


def cmd_attach_disk(ctl: Ctl, p: Parsed) -> bool:
    """virsh's cmdAttachDisk: the XML is written (and printed) before the domain is looked up."""
    from pyvirt.cli.diskxml import disk_xml

    check_scope(p)
    xml = disk_xml(p)
    if p.bool("print-xml"):
        ctl.print(xml)
        return True
    info = ctl.domain(p.str("domain") or "")
    live, config = _scope(ctl, p, info)
    with failing("Failed to attach disk"):
        device_call(p, ctl.conn.attach_device)(_key(info), xml, live=live, config=config)
    ctl.extra("Disk attached successfully\n")
    return True


def _disk_element(ctl: Ctl, info, target: str, inactive: bool) -> str:
    """The domain's own <disk> whose target or source is `target` (what virsh sends to detach)."""
    import xml.etree.ElementTree as ET

    root = ET.fromstring(ctl.conn.get_xml(_key(info), inactive=inactive))
    for disk in root.iterfind("devices/disk"):
        tgt, src = disk.find("target"), disk.find("source")
        sources = {src.get(a) for a in ("file", "dev", "name")} if src is not None else set()
        if (tgt is not None and tgt.get("dev") == target) or target in sources:
            from pyvirt.cli.cmd_nic import dump

            return dump(disk)  # as virsh's xmlNodeDump: no tail, no space before '/>'
    raise CmdError(f"No disk found whose source path or target is {target}")


def cmd_detach_disk(ctl: Ctl, p: Parsed) -> bool:
    info = ctl.domain(p.str("domain") or "")
    live, config = _scope(ctl, p, info)
    xml = _disk_element(ctl, info, p.str("target") or "", inactive=config and not live)
    if p.bool("print-xml"):
        ctl.print(xml)
        return True
    with failing("Failed to detach disk"):
        device_call(p, ctl.conn.detach_device)(_key(info), xml, live=live, config=config)
    ctl.extra("Disk detached successfully\n")
    return True


#: virsh's domblkstat rows: API field, short name, --human label
_BLKSTAT = (("rd_operations", "rd_req", "number of read operations:"),
            ("rd_bytes", "rd_bytes", "number of bytes read:"),
            ("wr_operations", "wr_req", "number of write operations:"),
            ("wr_bytes", "wr_bytes", "number of bytes written:"),
            ("errs", "errs", "error count:"),
            ("flush_operations", "flush_operations", "number of flush operations:"),
            ("rd_total_times", "rd_total_times", "total duration of reads (ns):"),
            ("wr_total_times", "wr_total_times", "total duration of writes (ns):"),
            ("flush_total_times", "flush_total_times", "total duration of flushes (ns):"))


def cmd_domblkstat(ctl: Ctl, p: Parsed) -> bool:
    info = ctl.domain(p.str("domain") or "")
    device = p.str("device") or ""
    with failing(f"Failed to get block stats {p.str('domain') or ''} {device}"):
        stats = ctl.conn.block_stats(_key(info), device)
    if p.bool("human"):
        lines = [f"Device: {device}\n"] + [f" {label:<31} {stats[k]}\n" for k, _, label in _BLKSTAT if k in stats]
    else:
        lines = [f"{device} {short} {stats[k]}\n" for k, short, _ in _BLKSTAT if k in stats]
    ctl.print("".join(lines))
    return True


def cmd_screenshot(ctl: Ctl, p: Parsed) -> bool:
    """The PNG QEMU draws, to --file or virsh's default name (DOMAIN-YYYY-MM-DD-HH:MM:SS.png);
    --file and --screen are read before the domain is looked up, as virsh reads them."""
    import base64
    import time

    from pyvirt.cli.values import option_int

    path = p.str("file")
    screen = option_int(p, "screen", unsigned=True) or 0
    info = ctl.domain(p.str("domain") or "")
    with failing(f"could not take a screenshot of {info.name}"):
        data = base64.b64decode(ctl.conn.screenshot(_key(info), screen))
    path = path or f"{info.name}-{time.strftime('%Y-%m-%d-%H:%M:%S')}.png"
    from pyvirt.atomicio import write_atomic

    write_atomic(path, data)
    ctl.print(f"Screenshot saved to {path}, with type of image/png")
    return True


def cmd_update_device(ctl: Ctl, p: Parsed) -> bool:
    info = ctl.domain(p.str("domain") or "")
    path = p.str("file") or ""
    live, config = _scope(ctl, p, info)
    xml = read_file(path)
    with failing(f"Failed to update device from {path}"):
        ctl.conn.update_device(_key(info), xml, live=live, config=config, force=p.bool("force"))
    ctl.extra("Device updated successfully\n")
    return True


def cmd_change_media(ctl: Ctl, p: Parsed) -> bool:
    """virsh's cmdChangeMedia: the domain's own cdrom/floppy <disk> with its <source> replaced
    (or removed, to eject), handed to virDomainUpdateDeviceFlags."""
    import xml.etree.ElementTree as ET

    picked = [a for a in ("eject", "insert", "update") if p.bool(a)]
    if len(picked) > 1:
        raise CmdError(f"Options --{picked[0]} and --{picked[1]} are mutually exclusive")
    action = picked[0] if picked else "update"
    source = p.str("source")
    info = ctl.domain(p.str("domain") or "")
    live, config = _scope(ctl, p, info)
    target = p.str("path") or ""
    root = ET.fromstring(ctl.conn.get_xml(_key(info), inactive=config and not live))
    disk = None
    for candidate in root.iterfind("devices/disk"):
        if candidate.get("device") not in ("cdrom", "floppy"):
            continue
        tgt, src = candidate.find("target"), candidate.find("source")
        names = {tgt.get("dev") if tgt is not None else None}
        names |= {src.get(a) for a in ("file", "dev")} if src is not None else set()
        if target in names:
            disk = candidate
            break
    if disk is None:
        raise CmdError(f"No disk found whose source path or target is {target}")
    if action == "update" and not source and p.bool("update"):
        action = "eject"  # virsh: an explicit --update without a source takes the medium out
    elif action != "eject" and not source:  # asked once the disk is found, as virshUpdateDiskXML
        raise CmdError("New disk media source was not specified")
    dev = disk.find("target").get("dev")  # type: ignore[union-attr]
    old = disk.find("source")
    if action == "eject" and old is None:
        raise CmdError(f"The disk device '{dev}' doesn't have media")
    if action == "insert" and old is not None:
        raise CmdError(f"The disk device '{dev}' already has media")
    if old is not None:
        disk.remove(old)
    if action != "eject":
        block = p.bool("block")
        disk.set("type", "block" if block else "file")
        new = ET.Element("source", {"dev" if block else "file": source or ""})
        disk.insert(list(disk).index(disk.find("target")), new)  # type: ignore[arg-type]
    xml = ET.tostring(disk, encoding="unicode")
    if p.bool("print-xml"):
        ctl.print(xml.rstrip() + "\n")
        return True
    with failing(f"Failed to complete action {action} on media"):
        ctl.conn.update_device(_key(info), xml, live=live, config=config, force=p.bool("force"))
    done = {"eject": "ejected", "insert": "inserted", "update": "updated"}[action]
    ctl.extra(f"Successfully {done} media.\n")
    return True
