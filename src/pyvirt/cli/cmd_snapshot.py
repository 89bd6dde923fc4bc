"""virsh's Snapshot group: snapshot-create(-as), -current, -delete, -dumpxml, -edit, -info, -list,
-parent, -revert.

The connection lists a domain's snapshots in one call; the choosing (--from, --roots, --leaves,
the state and location filters), sorting and the tree are virsh's own logic, so they live here
and behave the same on every driver.
"""

from __future__ import annotations

import time

from pyvirt.cli.context import CmdError, Ctl, failing, xpath_option
from pyvirt.cli.fmt import keyvalues, table
from pyvirt.cli.grammar import Parsed
from pyvirt.cli.values import string_array
from pyvirt.xml.escape import escape_xml

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pyvirt.api import DomainInfo, SnapshotInfo


def edited_name(xml: str, name: str) -> str:
    """The <name> of the user's edited copy (snapshot-edit, checkpoint-edit), `name` when it has none
    or does not parse: the driver then reports the XML error in its own words."""
    import xml.etree.ElementTree as ET  # the user's own edited copy: local, trusted

    try:
        return ET.fromstring(xml).findtext("name") or name
    except ET.ParseError:
        return name


def _key(info: DomainInfo) -> str:
    return info.uuid or info.name


def _current(ctl: Ctl, dom: str) -> SnapshotInfo:
    from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError

    for rec in ctl.conn.list_snapshots(dom):
        if rec.current:
            return rec
    raise PyvirtError("Domain snapshot not found: the domain does not have a current snapshot",
                      ErrorCode.NO_DOMAIN_SNAPSHOT, ErrorDomain.DOMAIN_SNAPSHOT)


def _lookup(ctl: Ctl, p: Parsed, dom: str, *, exclusive: bool = True, arg: str = "snapshotname") -> str:
    """virshLookupSnapshot: --snapshotname NAME or --current, the name of an existing snapshot."""
    from pyvirt.api import no_snapshot

    name, current = p.str(arg), p.bool("current")
    if exclusive and current and name:
        raise CmdError(f"--{arg} and --current are mutually exclusive")
    if name:
        if not any(r.name == name for r in ctl.conn.list_snapshots(dom)):
            raise no_snapshot(name)
        return name
    if current:
        return _current(ctl, dom).name
    raise CmdError(f"--{arg} or --current is required")


def _memspec(spec: str) -> str:
    snapshot = file = None
    for item in string_array(spec):
        if snapshot is None and item.startswith("snapshot="):
            snapshot = item[len("snapshot="):]
        elif file is None and item.startswith("file="):
            file = item[len("file="):]
        elif file is None and item.startswith("/"):
            file = item
        else:
            raise CmdError(f"unable to parse memspec: {spec}")
    attrs = "".join(f" {k}='{escape_xml(v)}'" for k, v in (("snapshot", snapshot), ("file", file)) if v is not None)
    return f"  <memory{attrs}/>\n"


def _diskspec(spec: str) -> str:
    items = string_array(spec)
    values: dict[str, str] = {}
    for item in items[1:]:
        key, eq, value = item.partition("=")
        if not eq or key not in ("snapshot", "driver", "stype", "file") or key in values:
            raise CmdError(f"unable to parse diskspec: {spec}")
        values[key] = value
    out = f"    <disk name='{escape_xml(items[0])}'" if items else "    "  # none: virBufferEscapeString wrote nothing
    if "snapshot" in values:
        out += f" snapshot='{values['snapshot']}'"
    stype = values.get("stype")
    if stype is not None:
        if stype not in ("file", "block"):
            raise CmdError(f"Unknown storage type: '{stype}'", f"unable to parse diskspec: {spec}")
        out += f" type='{stype}'"
    if "driver" not in values and "file" not in values:
        return out + "/>\n"
    out += ">\n"
    if "driver" in values:
        out += f"      <driver type='{values['driver']}'/>\n"
    if "file" in values:
        out += f"      <source {'dev' if stype == 'block' else 'file'}='{escape_xml(values['file'])}'/>\n"
    return out + "    </disk>\n"


def _create_flags(p: Parsed) -> dict[str, bool]:
    names = ("no-metadata", "halt", "disk-only", "reuse-external", "quiesce", "atomic", "live", "validate")
    return {n.replace("-", "_"): p.bool(n) for n in names}


def cmd_snapshot_create(ctl: Ctl, p: Parsed) -> bool:
    from pyvirt.cli.cmd_lifecycle import read_file

    info = ctl.domain(p.str("domain") or "")
    path = p.str("xmlfile")
    xml = read_file(path) if path else "<domainsnapshot/>"
    name = ctl.conn.snapshot_create(_key(info), xml, redefine=p.bool("redefine"), current=p.bool("current"),
                                    **_create_flags(p))
    ctl.extra(f"Domain snapshot {name} created" + (f" from '{path}'" if path else ""))
    return True


def moment_head(tag: str, p: Parsed) -> str:
    """The start of the XML snapshot-create-as and checkpoint-create-as build: root, --name,
    --description."""
    xml = f"<{tag}>\n"
    if p.str("name") is not None:
        xml += f"  <name>{escape_xml(p.str('name') or '')}</name>\n"
    if p.str("description") is not None:
        xml += f"  <description>{escape_xml(p.str('description') or '')}</description>\n"
    return xml


def cmd_snapshot_create_as(ctl: Ctl, p: Parsed) -> bool:
    info = ctl.domain(p.str("domain") or "")
    xml = moment_head("domainsnapshot", p)
    if p.str("memspec") is not None:
        xml += _memspec(p.str("memspec") or "")
    if p.has("diskspec"):
        xml += "  <disks>\n" + "".join(_diskspec(s) for s in p.argv("diskspec")) + "  </disks>\n"
    xml += "</domainsnapshot>\n"
    if p.bool("print-xml"):
        ctl.print(xml + "\n")
        return True
    name = ctl.conn.snapshot_create(_key(info), xml, **_create_flags(p))
    ctl.extra(f"Domain snapshot {name} created")
    return True


def cmd_snapshot_current(ctl: Ctl, p: Parsed) -> bool:
    info = ctl.domain(p.str("domain") or "")
    dom = _key(info)
    name = p.str("snapshotname")
    if name is not None:
        for opt in ("name", "security-info"):
            if p.bool(opt):
                raise CmdError(f"Options --{opt} and --snapshotname are mutually exclusive")
        xml = ctl.conn.snapshot_xml(dom, name, security_info=True)
        ctl.conn.snapshot_create(dom, xml, redefine=True, current=True)
        ctl.extra(f"Snapshot {name} set as current")
        return True
    current = next((r for r in ctl.conn.list_snapshots(dom) if r.current), None)
    if current is None:
        raise CmdError(f"domain '{p.str('domain') or ''}' has no current snapshot")  # as given
    if p.bool("name"):
        ctl.print(current.name)
    else:
        ctl.print_xml(ctl.conn.snapshot_xml(dom, current.name, security_info=p.bool("security-info")))
    return True


def cmd_snapshot_delete(ctl: Ctl, p: Parsed) -> bool:
    info = ctl.domain(p.str("domain") or "")
    dom = _key(info)
    name = _lookup(ctl, p, dom)
    children, only = p.bool("children"), p.bool("children-only")
    with failing(f"Failed to delete snapshot {name}"):
        ctl.conn.snapshot_delete(dom, name, children=children, children_only=only,
                                 metadata_only=p.bool("metadata"))
    ctl.extra(f"Domain snapshot {name} children deleted\n" if only else f"Domain snapshot {name} deleted\n")
    return True


def cmd_snapshot_dumpxml(ctl: Ctl, p: Parsed) -> bool:
    info = ctl.domain(p.str("domain") or "")
    xml = ctl.conn.snapshot_xml(_key(info), p.str("snapshotname") or "", security_info=p.bool("security-info"))
    ctl.print_xml(xml, xpath_option(p), wrap=p.bool("wrap"))  # read once the snapshot is found, as virsh
    return True


def cmd_snapshot_edit(ctl: Ctl, p: Parsed) -> bool:
    from pyvirt.cli.cmd_edit import edit_loop

    if p.bool("rename") and p.bool("clone"):
        raise CmdError("--rename and --clone are mutually exclusive")
    info = ctl.domain(p.str("domain") or "")
    dom = _key(info)
    name = _lookup(ctl, p, dom, exclusive=False)
    make_current = p.bool("current") and p.str("snapshotname") is not None
    original = ctl.conn.snapshot_xml(dom, name, security_info=True)

    def define(xml: str, validate: bool) -> str:
        new_name = edited_name(xml, name)
        if new_name != name and not (p.bool("rename") or p.bool("clone")):
            raise CmdError(f"cannot rename snapshot {name} to {new_name} without --rename or --clone")
        done = ctl.conn.snapshot_create(dom, xml, redefine=True, current=make_current)
        if done != name and p.bool("rename"):
            ctl.conn.snapshot_delete(dom, name, metadata_only=True)
        return done

    def message(done: str) -> str:
        if done == name:
            return f"Snapshot {name} edited.\n"
        return f"Snapshot {name} cloned to {done}.\n" if p.bool("clone") else f"Snapshot {name} renamed to {done}.\n"

    return edit_loop(ctl, original, name, "Snapshot {}", define, tmp_prefix=f"pyvirt-snap-{name}-",
                     done_message=message)


def cmd_snapshot_info(ctl: Ctl, p: Parsed) -> bool:
    info = ctl.domain(p.str("domain") or "")
    dom = _key(info)
    name = _lookup(ctl, p, dom, exclusive=False)
    recs = ctl.conn.list_snapshots(dom)
    rec = next(r for r in recs if r.name == name)
    kids = _children_map(recs)
    ctl.print(keyvalues([
        ("Name", name), ("Domain", info.name), ("Current", "yes" if rec.current else "no"),
        ("State", rec.state), ("Location", rec.location), ("Parent", rec.parent or "-"),
        ("Children", str(len(kids.get(name, [])))), ("Descendants", str(len(_descendants(kids, name)))),
        ("Metadata", "yes" if rec.metadata else "no"),
    ]))
    return True


def cmd_snapshot_parent(ctl: Ctl, p: Parsed) -> bool:
    info = ctl.domain(p.str("domain") or "")
    dom = _key(info)
    name = _lookup(ctl, p, dom, exclusive=False)
    rec = next(r for r in ctl.conn.list_snapshots(dom) if r.name == name)
    if not rec.parent:
        raise CmdError(f"snapshot '{name}' has no parent")
    ctl.print(rec.parent)
    return True


def cmd_snapshot_revert(ctl: Ctl, p: Parsed) -> bool:
    info = ctl.domain(p.str("domain") or "")
    dom = _key(info)
    name = _lookup(ctl, p, dom)
    with failing(f"Failed to revert snapshot {name}"):
        ctl.conn.snapshot_revert(dom, name, running=p.bool("running"), paused=p.bool("paused"),
                                 force=p.bool("force"), reset_nvram=p.bool("reset-nvram"))
    ctl.extra(f"Domain snapshot {name} reverted\n")
    return True


# ------------------------------------------------------------------ snapshot-list


def _children_map(recs: list[SnapshotInfo]) -> dict[str, list[str]]:
    kids: dict[str, list[str]] = {}
    for r in recs:
        kids.setdefault(r.parent, []).append(r.name)
    return kids


def _descendants(kids: dict[str, list[str]], name: str) -> list[str]:
    out: list[str] = []
    for k in kids.get(name, []):
        out += [k, *_descendants(kids, k)]
    return out


def _exclusive(p: Parsed, a: str, b: str) -> None:
    if p.bool(a) and p.bool(b):
        raise CmdError(f"Options --{a} and --{b} are mutually exclusive")


_TREE_FILTERS = ("leaves", "no-leaves", "inactive", "active", "disk-only", "internal", "external")


def _check_list_options(p: Parsed) -> None:
    """virsh's checks, in its order, before the domain is looked up."""
    _exclusive(p, "tree", "name")
    _exclusive(p, "parent", "tree")
    _exclusive(p, "roots", "tree")
    _exclusive(p, "parent", "roots")
    if p.bool("roots") and p.str("from") is not None:
        raise CmdError("Options --roots and --from are mutually exclusive")
    for opt in _TREE_FILTERS:
        if p.bool(opt) and p.bool("tree"):
            raise CmdError(f"--{opt} and --tree are mutually exclusive")
    if p.str("from") is not None and p.bool("current"):
        raise CmdError("--from and --current are mutually exclusive")
    if p.bool("descendants") and p.str("from") is None and not p.bool("current"):
        raise CmdError("--descendants requires either --from or --current")


def _keep(p: Parsed, rec: SnapshotInfo, kids: dict[str, list[str]]) -> bool:
    """virDomainSnapshotFilter: leaves, metadata, state and location filters."""
    leaves, no_leaves = p.bool("leaves"), p.bool("no-leaves")
    has_kids = bool(kids.get(rec.name))
    if leaves and no_leaves or leaves and has_kids or no_leaves and not has_kids:
        return False
    if p.bool("no-metadata") and not p.bool("metadata") and rec.metadata:
        return False
    if p.bool("metadata") and not p.bool("no-metadata") and not rec.metadata:
        return False
    states = [s for s, on in (("inactive", p.bool("inactive")), ("active", p.bool("active")),
                              ("disk-only", p.bool("disk-only"))) if on]
    if states:
        kind = ("inactive" if rec.state == "shutoff" else "disk-only" if rec.state == "disk-snapshot"
                else "active")
        if kind not in states:
            return False
    internal, external = p.bool("internal"), p.bool("external")
    if internal != external:
        is_external = rec.location in ("external", "both")
        if is_external != external:
            return False
    return True


def _when(seconds: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S %z", time.localtime(seconds))


def cmd_snapshot_list(ctl: Ctl, p: Parsed) -> bool:
    _check_list_options(p)
    info = ctl.domain(p.str("domain") or "")
    dom = _key(info)
    recs = ctl.conn.list_snapshots(dom)
    by_name = {r.name: r for r in recs}
    kids = _children_map(recs)
    tree = p.bool("tree")
    start: str | None = None
    if p.str("from") is not None or p.bool("current"):
        start = _lookup(ctl, p, dom, arg="from") if p.str("from") is not None else _current(ctl, dom).name
        deep = tree or p.bool("descendants")
        names = _descendants(kids, start) if deep else list(kids.get(start, []))
        if tree:
            names = [start, *names]
    else:
        names = [r.name for r in recs]
    if p.bool("roots"):
        names = [n for n in names if not by_name[n].parent]
    chosen = [by_name[n] for n in names if _keep(p, by_name[n], kids)]
    if not p.bool("topological"):
        chosen.sort(key=lambda r: r.name.lower())
    if tree:
        ctl.print(_tree(chosen, start))
    elif p.bool("name"):
        ctl.print("".join(r.name + "\n" for r in chosen))
    else:
        header = ["Name", "Creation Time", "State"] + (["Parent"] if p.bool("parent") else [])
        rows = [[r.name, _when(r.creation_time), r.state] + ([r.parent] if p.bool("parent") else [])
                for r in chosen]
        ctl.print(table(header, rows))
    return True


def _tree(recs: list[SnapshotInfo], start: str | None) -> str:
    """vshTreePrint over the chosen snapshots (the --from snapshot stands as a root)."""
    from pyvirt.cli.fmt import tree

    return tree([r.name for r in recs], {r.name: (None if r.name == start else r.parent or None) for r in recs})
