"""virsh 9.0's Network Filter commands: nwfilter-define, -undefine, -list, -dumpxml, -edit, and
the nwfilter-binding ones.

virsh's lookups (by UUID when the argument has a UUID's length, then by name), messages and
table; the driver answers the rest.  A driver without filters (libvirt's test driver, a session
daemon) fails as virsh fails there: nwfilter-list through its fallback count call.  Bindings
are the filters pyvirtd applies to guest ports (pyvirt/nwfilter/driver.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyvirt.cli.context import CmdError, Ctl, failing, xpath_option
from pyvirt.cli.fmt import table
from pyvirt.cli.grammar import Parsed

if TYPE_CHECKING:
    from pyvirt.api import NWFilterInfo


def get_nwfilter(ctl: Ctl, ref: str) -> NWFilterInfo:
    """virshCommandOptNWFilter: "failed to get nwfilter 'REF'" and the driver's reason on a miss."""
    with failing(f"failed to get nwfilter '{ref}'"):
        return ctl.conn.lookup_nwfilter(ref)


def cmd_nwfilter_define(ctl: Ctl, p: Parsed) -> bool:
    from pyvirt.cli.cmd_lifecycle import from_file

    path, info = from_file(p, "define network filter",
                           lambda xml: ctl.conn.define_nwfilter(xml, validate=p.bool("validate")))
    ctl.extra(f"Network filter {info.name} defined from {path}\n")
    return True


def cmd_nwfilter_undefine(ctl: Ctl, p: Parsed) -> bool:
    ref = p.str("nwfilter") or ""
    info = get_nwfilter(ctl, ref)
    with failing(f"Failed to undefine network filter {ref}"):
        ctl.conn.undefine_nwfilter(info.name)
    ctl.extra(f"Network filter {ref} undefined\n")
    return True


def cmd_nwfilter_list(ctl: Ctl, p: Parsed) -> bool:
    from pyvirt.api import ErrorCode, PyvirtError, no_support

    try:
        filters = ctl.conn.list_nwfilters()
    except PyvirtError as exc:
        if exc.code == ErrorCode.NO_SUPPORT:  # virsh falls back to the pre-0.10.2 calls
            raise CmdError("Failed to count network filters", no_support("virConnectNumOfNWFilters").message) from None
        raise CmdError("Failed to list network filters", exc.message) from None
    rows = [[f.uuid, f.name] for f in sorted(filters, key=lambda f: f.name.lower())]
    ctl.print(table(["UUID", "Name"], rows, show_header=not ctl.quiet))
    return True


def cmd_nwfilter_dumpxml(ctl: Ctl, p: Parsed) -> bool:
    info = get_nwfilter(ctl, p.str("nwfilter") or "")
    xpath = xpath_option(p)
    ctl.print_xml(ctl.conn.get_nwfilter_xml(info.name), xpath, wrap=p.bool("wrap"))
    return True


def cmd_nwfilter_edit(ctl: Ctl, p: Parsed) -> bool:
    from pyvirt.cli.cmd_edit import edit_loop

    name = get_nwfilter(ctl, p.str("nwfilter") or "").name
    return edit_loop(ctl, ctl.conn.get_nwfilter_xml(name), name, "Network filter {}",
                     lambda xml, validate: ctl.conn.define_nwfilter(xml).name,
                     tmp_prefix=f"pyvirt-nwfilter-{name}-")


# -- bindings (a filter applied to a guest port)


def cmd_nwfilter_binding_list(ctl: Ctl, p: Parsed) -> bool:
    with failing("Failed to list network filter bindings"):
        bindings = ctl.conn.list_nwfilter_bindings()
    rows = [[b.portdev, b.filter] for b in sorted(bindings, key=lambda b: b.portdev.lower())]
    ctl.print(table(["Port Dev", "Filter"], rows, show_header=not ctl.quiet))
    return True


def cmd_nwfilter_binding_dumpxml(ctl: Ctl, p: Parsed) -> bool:
    ref = p.str("binding") or ""
    with failing(f"failed to get nwfilter binding '{ref}'"):
        xml = ctl.conn.get_nwfilter_binding_xml(ref)
    ctl.print_xml(xml, xpath_option(p), wrap=p.bool("wrap"))  # virsh reads it after the lookup
    return True


def cmd_nwfilter_binding_delete(ctl: Ctl, p: Parsed) -> bool:
    """virsh looks the binding up, then deletes it: a miss reads as the lookup's failure."""
    from pyvirt.api import ErrorCode, PyvirtError

    ref = p.str("binding") or ""
    try:
        ctl.conn.delete_nwfilter_binding(ref)
    except PyvirtError as exc:
        lookup = exc.code in (ErrorCode.NO_NWFILTER_BINDING, ErrorCode.NO_SUPPORT)
        first = f"failed to get nwfilter binding '{ref}'" if lookup else f"Failed to delete network filter binding on {ref}"
        raise CmdError(first, exc.message) from None
    ctl.extra(f"Network filter binding on {ref} deleted\n")
    return True


def cmd_nwfilter_binding_create(ctl: Ctl, p: Parsed) -> bool:
    from pyvirt.cli.cmd_lifecycle import from_file

    path, binding = from_file(p, "create network filter",
                              lambda xml: ctl.conn.create_nwfilter_binding(xml, validate=p.bool("validate")))
    ctl.extra(f"Network filter binding on {binding.portdev} created from {path}\n")
    return True
