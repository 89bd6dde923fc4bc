"""virsh's Checkpoint group: checkpoint-create(-as), -delete, -dumpxml, -edit, -info, -list, -parent.

The connection lists a domain's checkpoints in one call; choosing (--from, --roots, --leaves),
sorting and the tree are virsh's own logic (virsh-checkpoint.c), done here the same way on
every driver.  The tree helpers are the snapshot commands' own.
"""

from __future__ import annotations

from pyvirt.cli.cmd_snapshot import (
    _children_map,
    _descendants,
    _exclusive,
    _key,
    _when,
    edited_name,
    moment_head,
)
from pyvirt.cli.context import CmdError, Ctl, failing, xpath_option
from pyvirt.cli.fmt import keyvalues, table
from pyvirt.cli.grammar import Parsed
from pyvirt.cli.values import string_array
from pyvirt.xml.escape import escape_xml

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pyvirt.api import CheckpointInfo


def _lookup(ctl: Ctl, p: Parsed, dom: str, arg: str = "checkpointname") -> CheckpointInfo:
    """virshLookupCheckpoint: --checkpointname NAME of an existing checkpoint."""
    from pyvirt.api import no_checkpoint

    name = p.str(arg)
    if not name:
        raise CmdError(f"--{arg} is required")
    rec = next((r for r in ctl.conn.list_checkpoints(dom) if r.name == name), None)
    if rec is None:
        raise no_checkpoint(name)
    return rec


def _diskspec(spec: str) -> str:
    """virshParseCheckpointDiskspec: ``disk[,checkpoint=type][,bitmap=name]``."""
    items = string_array(spec)
    values: dict[str, str] = {}
    for item in items[1:]:
        key, eq, value = item.partition("=")
        if not eq or key not in ("checkpoint", "bitmap") or key in values:
            raise CmdError(f"unable to parse diskspec: {spec}")
        values[key] = value
    attrs = "".join(f" {k}='{escape_xml(values[k])}'" for k in ("checkpoint", "bitmap") if k in values)
    name = f"<disk name='{escape_xml(items[0])}'" if items else ""  # none: virBufferEscapeString writes nothing
    return f"    {name}{attrs}/>\n"


def cmd_checkpoint_create(ctl: Ctl, p: Parsed) -> bool:
    from pyvirt.cli.cmd_lifecycle import read_file

    if p.bool("redefine-validate") and not p.bool("redefine"):
        raise CmdError("Option --redefine is required by option --redefine-validate")
    info = ctl.domain(p.str("domain") or "")
    path = p.str("xmlfile")
    xml = read_file(path) if path else "<domaincheckpoint/>"
    name = ctl.conn.checkpoint_create(_key(info), xml, redefine=p.bool("redefine"),
                                      redefine_validate=p.bool("redefine-validate"), quiesce=p.bool("quiesce"))
    ctl.extra(f"Domain checkpoint {name} created" + (f" from '{path}'" if path else ""))
    return True


def cmd_checkpoint_create_as(ctl: Ctl, p: Parsed) -> bool:
    info = ctl.domain(p.str("domain") or "")
    xml = moment_head("domaincheckpoint", p)
    if p.has("diskspec"):
        xml += "  <disks>\n" + "".join(_diskspec(s) for s in p.argv("diskspec")) + "  </disks>\n"
    xml += "</domaincheckpoint>\n"
    if p.bool("print-xml"):
        ctl.print(xml + "\n")
        return True
    name = ctl.conn.checkpoint_create(_key(info), xml, quiesce=p.bool("quiesce"))
    ctl.extra(f"Domain checkpoint {name} created")
    return True


def cmd_checkpoint_delete(ctl: Ctl, p: Parsed) -> bool:
    info = ctl.domain(p.str("domain") or "")
    dom = _key(info)
    name = _lookup(ctl, p, dom).name
    only = p.bool("children-only")
    with failing(f"Failed to delete checkpoint {name}"):
        ctl.conn.checkpoint_delete(dom, name, children=p.bool("children"), children_only=only,
                                   metadata_only=p.bool("metadata"))
    ctl.extra(f"Domain checkpoint {name} children deleted\n" if only else f"Domain checkpoint {name} deleted\n")
    return True


def cmd_checkpoint_dumpxml(ctl: Ctl, p: Parsed) -> bool:
    info = ctl.domain(p.str("domain") or "")
    dom = _key(info)
    xpath = xpath_option(p)  # before the checkpoint is looked up, as virsh reads it
    name = _lookup(ctl, p, dom).name
    xml = ctl.conn.checkpoint_xml(dom, name, security_info=p.bool("security-info"),
                                  no_domain=p.bool("no-domain"), size=p.bool("size"))
    ctl.print_xml(xml, xpath, wrap=p.bool("wrap"))
    return True


def cmd_checkpoint_edit(ctl: Ctl, p: Parsed) -> bool:
    from pyvirt.api import PyvirtError
    from pyvirt.cli.cmd_edit import edit_loop

    info = ctl.domain(p.str("domain") or "")
    dom = _key(info)
    name = _lookup(ctl, p, dom).name
    original = ctl.conn.checkpoint_xml(dom, name, security_info=True)

    def define(xml: str, validate: bool) -> str:
        new_name = edited_name(xml, name)
        if new_name != name:  # checkpoint-edit has no --rename
            raise CmdError(f"Cannot rename checkpoint {name} to {new_name}")
        return ctl.conn.checkpoint_create(dom, xml, redefine=True)

    try:
        return edit_loop(ctl, original, name, "Checkpoint {}", define, tmp_prefix=f"pyvirt-checkpoint-{name}-",
                         done_message=lambda done: f"Checkpoint {done} edited.\n")
    except PyvirtError as exc:  # virsh: the reason, then its own last word
        raise CmdError(exc.message, f"Failed to update {name}") from None
    except CmdError as exc:
        raise CmdError(*exc.messages, f"Failed to update {name}") from None


def cmd_checkpoint_info(ctl: Ctl, p: Parsed) -> bool:
    info = ctl.domain(p.str("domain") or "")
    dom = _key(info)
    rec = _lookup(ctl, p, dom)
    kids = _children_map(ctl.conn.list_checkpoints(dom))
    ctl.print(keyvalues([
        ("Name", rec.name), ("Domain", info.name), ("Parent", rec.parent or "-"),
        ("Children", str(len(kids.get(rec.name, [])))),
        ("Descendants", str(len(_descendants(kids, rec.name)))),
    ]))
    return True


def cmd_checkpoint_parent(ctl: Ctl, p: Parsed) -> bool:
    info = ctl.domain(p.str("domain") or "")
    rec = _lookup(ctl, p, _key(info))
    if not rec.parent:
        raise CmdError(f"checkpoint '{rec.name}' has no parent")
    ctl.print(rec.parent)
    return True


def _check_list_options(p: Parsed) -> None:
    """virsh's checks, in its order, before the domain is looked up."""
    _exclusive(p, "tree", "name")
    _exclusive(p, "parent", "roots")
    _exclusive(p, "parent", "tree")
    _exclusive(p, "roots", "tree")
    if p.bool("roots") and p.str("from") is not None:
        raise CmdError("Options --roots and --from are mutually exclusive")
    for opt in ("leaves", "no-leaves"):
        if p.bool(opt) and p.bool("tree"):
            raise CmdError(f"--{opt} and --tree are mutually exclusive")
    if p.bool("descendants") and p.str("from") is None:
        raise CmdError("--descendants requires --from")


def cmd_checkpoint_list(ctl: Ctl, p: Parsed) -> bool:
    from pyvirt.cli.fmt import tree

    _check_list_options(p)
    info = ctl.domain(p.str("domain") or "")
    dom = _key(info)
    recs = ctl.conn.list_checkpoints(dom)
    by_name = {r.name: r for r in recs}
    kids = _children_map(recs)
    start: str | None = None
    if p.str("from") is not None:
        start = _lookup(ctl, p, dom, "from").name
        # unlike snapshot-list, --tree alone shows the direct children only (virsh 9.0)
        names = _descendants(kids, start) if p.bool("descendants") else list(kids.get(start, []))
        if p.bool("tree"):
            names = [start, *names]
    else:
        names = [r.name for r in recs]
    if p.bool("roots"):
        names = [n for n in names if not by_name[n].parent]
    leaves, no_leaves = p.bool("leaves"), p.bool("no-leaves")
    chosen = [by_name[n] for n in names
              if not (leaves and kids.get(n)) and not (no_leaves and not kids.get(n))]
    if not p.bool("topological"):
        chosen.sort(key=lambda r: r.name.lower())
    if p.bool("tree"):
        ctl.print(tree([r.name for r in chosen],
                       {r.name: (None if r.name == start else r.parent or None) for r in chosen}))
    elif p.bool("name"):
        ctl.print("".join(r.name + "\n" for r in chosen))
    else:
        header = ["Name", "Creation Time"] + (["Parent"] if p.bool("parent") else [])
        rows = [[r.name, _when(r.creation_time)] + ([r.parent] if p.bool("parent") else []) for r in chosen]
        ctl.print(table(header, rows))
    return True
