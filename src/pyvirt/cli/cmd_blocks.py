"""Disk sizes: domblkinfo (virDomainGetBlockInfo) and blockresize (virDomainBlockResize), with
virsh 9.0's layouts (the --all table, --human's three-decimal sizes, '-' for a disk without
a medium)."""

from __future__ import annotations

from pyvirt.cli.context import CmdError, Ctl, failing
from pyvirt.cli.fmt import pretty_capacity, table
from pyvirt.cli.grammar import Parsed
from pyvirt.cli.values import scaled_bytes


def _cells(info: dict[str, int] | None, human: bool) -> list[str]:
    """virsh's cmdDomblkinfoGet."""
    figures = [info.get(k, 0) for k in ("capacity", "allocation", "physical")] if info else [0, 0, 0]
    if not any(figures):
        return ["-", "-", "-"]
    if not human:
        return [str(v) for v in figures]
    return ["{:.3f} {}".format(*pretty_capacity(v)) for v in figures]


def cmd_domblkinfo(ctl: Ctl, p: Parsed) -> bool:
    import xml.etree.ElementTree as ET

    if p.bool("all") and p.has("device"):
        raise CmdError("Options --all and --device are mutually exclusive")
    info = ctl.domain(p.str("domain") or "")  # virsh looks the domain up before it asks for a device
    if not p.bool("all") and not p.str("device"):  # given empty: the same (read quietly)
        raise CmdError("command 'domblkinfo' requires <device> option")
    key, human = info.uuid or info.name, p.bool("human")
    if not p.bool("all"):
        figures = _cells(ctl.conn.block_info(key, p.str("device") or ""), human)
        ctl.print("".join(f"{label:<15} {v}\n" for label, v in zip(("Capacity:", "Allocation:", "Physical:"),
                                                                     figures, strict=True)))
        return True
    root = ET.fromstring(ctl.conn.get_xml(key))
    rows = []
    for disk in root.iterfind("devices/disk"):
        target = disk.find("target")
        dev = target.get("dev", "") if target is not None else ""
        figures = ctl.conn.block_info(key, dev) if disk.find("source") is not None else None
        rows.append([dev, *_cells(figures, human)])
    ctl.print(table(("Target", "Capacity", "Allocation", "Physical"), rows))
    return True


def cmd_blockresize(ctl: Ctl, p: Parsed) -> bool:
    info = ctl.domain(p.str("domain") or "")
    path = p.str("path") or ""
    size = scaled_bytes(p.str("size") or "", "size")
    with failing(f"Failed to resize block device '{path}'"):
        ctl.conn.block_resize(info.uuid or info.name, path, size)
    ctl.extra(f"Block device '{path}' is resized\n")
    return True
