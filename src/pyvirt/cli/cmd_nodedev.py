"""virsh 9.0's Node Device commands: nodedev-list (--tree, --cap, --inactive, --all),
nodedev-dumpxml, nodedev-info, nodedev-event, and the changing ones: nodedev-create, -destroy,
-define, -undefine, -start, -autostart, -detach, -reattach, -reset.

virsh's option checks, sort order (names, case-insensitively), tree drawing and messages; the
driver answers the rest (libvirt's test driver refuses nodedev-list's state flags, and so does
pyvirt's).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyvirt.cli.context import CmdError, Ctl, failing, xpath_option
from pyvirt.cli.fmt import keyvalues, tree
from pyvirt.cli.grammar import Parsed
from pyvirt.cli.values import number

if TYPE_CHECKING:
    from collections.abc import Callable

    from pyvirt.api import NodeDeviceInfo

#: nodedev-event's names (``nodedev-event --list``) and virshNodeDeviceEventToString's words
EVENT_NAMES = ("lifecycle", "update")
_EVENT_WORDS = ("Created", "Deleted", "Defined", "Undefined")


def get_device(ctl: Ctl, ref: str) -> NodeDeviceInfo:
    """virshNodeDeviceLookup: by name, or a SCSI host by its "wwnn,wwpn" pair (both checked as
    virsh checks them; no driver of pyvirt looks hosts up by WWN); a miss prints "Could not find
    matching device 'REF'" and the driver's reason."""
    from pyvirt.api import no_support

    if "," in ref:
        for wwn in ref.split(",", 1):
            if not _valid_wwn(wwn):
                raise CmdError(f"internal error: Malformed wwn: {wwn}")
        raise CmdError(f"Could not find matching device '{ref}'",
                       no_support("virNodeDeviceLookupSCSIHostByWWN").message)
    with failing(f"Could not find matching device '{ref}'"):
        dev = ctl.conn.lookup_node_device(ref)
    return dev


def _valid_wwn(wwn: str) -> bool:
    """virValidateWWN: 16 hex digits, an optional 0x before them."""
    digits = wwn[2:] if wwn.lower().startswith("0x") else wwn
    return len(digits) == 16 and all(c in "0123456789abcdefABCDEF" for c in digits)


def _caps(text: str | None) -> set[str]:
    from pyvirt.api import NODEDEV_CAPS

    wanted = {c for c in (text or "").split(",") if c}
    if wanted - set(NODEDEV_CAPS):
        raise CmdError("Invalid capability type")
    return wanted


def cmd_nodedev_list(ctl: Ctl, p: Parsed) -> bool:
    inactive, everything = p.bool("inactive"), p.bool("all")
    if inactive and everything:  # virsh's first check
        raise CmdError("Option --all is incompatible with --inactive")
    if p.bool("tree") and (p.str("cap") or inactive):
        raise CmdError("Option --tree is incompatible with --cap and --inactive")
    caps = _caps(p.str("cap"))
    with failing("Failed to list node devices"):
        devices = ctl.conn.list_node_devices(active=everything or not inactive, inactive=inactive or everything)
    chosen = sorted((d for d in devices if not caps or caps & set(d.caps)), key=lambda d: d.name.lower())
    if p.bool("tree"):
        names = {d.name for d in chosen}
        ctl.print(tree([d.name for d in chosen],
                       {d.name: d.parent if d.parent in names else None for d in chosen}))
        return True
    ctl.print("".join(d.name + "\n" for d in chosen))
    return True


def cmd_nodedev_dumpxml(ctl: Ctl, p: Parsed) -> bool:
    xpath = xpath_option(p)  # before the device is looked up, as virsh reads it
    dev = get_device(ctl, p.str("device") or "")
    ctl.print_xml(ctl.conn.get_node_device_xml(dev.name), xpath, wrap=p.bool("wrap"))
    return True


def cmd_nodedev_info(ctl: Ctl, p: Parsed) -> bool:
    dev = get_device(ctl, p.str("device") or "")
    autostart = "no autostart" if dev.autostart is None else "yes" if dev.autostart else "no"
    ctl.print(keyvalues([("Name", dev.name), ("Parent", dev.parent), ("Active", "yes" if dev.active else "no"),
                         ("Persistent", "yes" if dev.persistent else "no"), ("Autostart", autostart)]))
    return True


def cmd_nodedev_event(ctl: Ctl, p: Parsed) -> bool:
    from pyvirt.cli.cmd_event import chosen_event, event_loop, object_event_line

    kind = chosen_event(ctl, p, EVENT_NAMES)
    if kind is None:
        return True
    timeout = number(p.str("timeout"), "timeout")
    name = get_device(ctl, p.str("device") or "").name if p.has("device") else None
    line = object_event_line(kind, "node device", _EVENT_WORDS)

    subscribe = lambda left: ctl.conn.events(name, timeout=left,  # noqa: E731
                                             kinds=["NodeDevice.update" if kind == "update" else "NodeDevice"])
    return event_loop(ctl, p, subscribe, line, timeout) > 0


# -- creating, defining and starting devices (vHBAs, mediated devices) and PCI passthrough


def cmd_nodedev_create(ctl: Ctl, p: Parsed) -> bool:
    from pyvirt.cli.cmd_lifecycle import from_file

    path, dev = from_file(p, "create node device",
                          lambda xml: ctl.conn.create_node_device(xml, validate=p.bool("validate")))
    ctl.extra(f"Node device {dev.name} created from {path}\n")
    return True


def cmd_nodedev_define(ctl: Ctl, p: Parsed) -> bool:
    from pyvirt.cli.cmd_lifecycle import read_file

    path = p.str("file") or ""
    xml = read_file(path)
    with failing(f"Failed to define node device from '{path}'"):
        dev = ctl.conn.define_node_device(xml, validate=p.bool("validate"))
    ctl.extra(f"Node device '{dev.name}' defined from '{path}'\n")
    return True


def _by_name(ctl: Ctl, name: str) -> NodeDeviceInfo:
    """A plain virNodeDeviceLookupByName (what the commands below use, no WWN pairs)."""
    with failing(f"Could not find matching device '{name}'"):
        return ctl.conn.lookup_node_device(name)


def cmd_nodedev_destroy(ctl: Ctl, p: Parsed) -> bool:
    ref = p.str("device") or ""
    dev = get_device(ctl, ref)
    with failing(f"Failed to destroy node device '{ref}'"):
        ctl.conn.destroy_node_device(dev.name)
    ctl.extra(f"Destroyed node device '{ref}'\n")
    return True


def cmd_nodedev_undefine(ctl: Ctl, p: Parsed) -> bool:
    ref = p.str("device") or ""
    dev = get_device(ctl, ref)
    with failing(f"Failed to undefine node device '{ref}'"):
        ctl.conn.undefine_node_device(dev.name)
    ctl.extra(f"Undefined node device '{ref}'\n")
    return True


def _act(ctl: Ctl, p: Parsed, verb: str, done: str, call: Callable[[str], object]) -> bool:
    """virsh's plain-lookup commands: "Failed to VERB device NAME", else "Device NAME DONE"."""
    name = _by_name(ctl, p.str("device") or "").name
    with failing(f"Failed to {verb} device {name}"):
        call(name)
    ctl.extra(f"Device {name} {done}\n")
    return True


def cmd_nodedev_start(ctl: Ctl, p: Parsed) -> bool:
    return _act(ctl, p, "start", "started", ctl.conn.start_node_device)


def cmd_nodedev_autostart(ctl: Ctl, p: Parsed) -> bool:
    name = get_device(ctl, p.str("device") or "").name
    on = not p.bool("disable")
    with failing(f"failed to {'mark' if on else 'unmark'} device {name} as autostarted"):
        ctl.conn.set_node_device_autostart(name, on)
    ctl.extra(f"Device {name} {'marked' if on else 'unmarked'} as autostarted\n")
    return True


def cmd_nodedev_detach(ctl: Ctl, p: Parsed) -> bool:
    return _act(ctl, p, "detach", "detached", lambda name: ctl.conn.detach_node_device(name, p.str("driver")))


def cmd_nodedev_reattach(ctl: Ctl, p: Parsed) -> bool:
    return _act(ctl, p, "re-attach", "re-attached", ctl.conn.reattach_node_device)


def cmd_nodedev_reset(ctl: Ctl, p: Parsed) -> bool:
    return _act(ctl, p, "reset", "reset", ctl.conn.reset_node_device)
