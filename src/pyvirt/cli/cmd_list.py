"""``list``: one bulk call to the connection, then virsh's table or its --name/--uuid/--id forms."""

from __future__ import annotations

from pyvirt.cli.context import CmdError, Ctl
from pyvirt.cli.fmt import state_word, table
from pyvirt.cli.grammar import Parsed

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import Any

#: the --state-* flags (domstats: --list-*) and the DomainState values each keeps
STATE_FLAGS = {"state-running": (1,), "state-paused": (3,), "state-shutoff": (5,),
                "state-other": (0, 2, 4, 6, 7)}


def build_filter(p: Parsed):
    """virsh's flag logic: active only by default; --inactive, --all or any --state-* widen it."""
    from pyvirt.api import ListFilter

    flt = ListFilter()
    states = [s for flag, ss in STATE_FLAGS.items() if p.bool(flag) for s in ss]
    if p.bool("all") or states:
        flt.active = None
    elif p.bool("inactive"):
        flt.active = False
    else:
        flt.active = True
    if p.bool("persistent") != p.bool("transient"):
        flt.persistent = p.bool("persistent")
    if p.bool("autostart") != p.bool("no-autostart"):
        flt.autostart = p.bool("autostart")
    flt.states = states
    return flt


def cmd_list(ctl: Ctl, p: Parsed) -> bool:
    by_name, by_uuid, by_id = p.bool("name"), p.bool("uuid"), p.bool("id")
    if p.bool("table") and (by_name or by_uuid or by_id):
        other = "name" if by_name else "uuid" if by_uuid else "id"
        raise CmdError(f"Options --table and --{other} are mutually exclusive")
    managed_save = p.bool("with-managed-save") != p.bool("without-managed-save")  # both: no filter (libvirt)
    doms: list[Any]
    if (by_name or by_uuid or by_id) and not managed_save:  # names, UUIDs, ids: no full records
        doms = ctl.conn.list_domain_names(build_filter(p))
    else:
        doms = ctl.conn.list_domains(build_filter(p))
    if managed_save:
        doms = [d for d in doms if d.managed_save == p.bool("with-managed-save")]
    for kind in ("snapshot", "checkpoint"):
        if p.bool(f"with-{kind}") != p.bool(f"without-{kind}"):  # VIR_CONNECT_LIST_DOMAINS_(NO_)HAS_*
            listing = getattr(ctl.conn, f"list_{kind}s")  # only then: it loads the driver's snapshot code
            doms = [d for d in doms if bool(listing(d.uuid or d.name)) == p.bool(f"with-{kind}")]
    if by_name or by_uuid or by_id:
        lines = []
        for d in doms:
            if by_id and not d.active and not (by_name or by_uuid):
                continue
            fields = []  # virsh's order: UUID, id, name
            if by_uuid:
                fields.append(d.uuid)
            if by_id:
                fields.append(str(d.id) if d.active else "-")
            if by_name:
                fields.append(d.name)
            lines.append(" ".join(fields) + "\n")
        ctl.print("".join(lines))
        return True
    header = ["Id", "Name", "State"] + (["Title"] if p.bool("title") else [])
    rows = []
    for d in doms:
        state = state_word(d.state)
        if p.bool("managed-save") and d.managed_save and not d.active:
            state = "saved"
        row = [str(d.id) if d.active else "-", d.name, state]
        if p.bool("title"):
            row.append(d.title)
        rows.append(row)
    ctl.print(table(header, rows, show_header=not ctl.quiet))
    return True
