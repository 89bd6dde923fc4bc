"""virsh 9.0's Networking commands: net-list, net-info, net-define/create/start/destroy/undefine,
net-autostart, net-update, net-dumpxml, net-edit, net-uuid/name, net-dhcp-leases, net-event and
the net-port-* commands.

Networks come back from the connection as dicts (the same keys from the test driver and
from pyvirtd); every message is virsh's, since scripts grep for "Network x started".
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from pyvirt.cli.cmd_lifecycle import from_file
from pyvirt.cli.context import CmdError, Ctl, act_on, failing, state_flags_match, xpath_option
from pyvirt.cli.fmt import keyvalues, table
from pyvirt.cli.grammar import Parsed
from pyvirt.cli.values import is_uuid, number

if TYPE_CHECKING:
    from pyvirt.api import NetworkInfo

#: net-event's names (``net-event --list``) and virshNetworkEventToString's words
EVENT_NAMES = ("lifecycle",)
_EVENT_WORDS = ("Defined", "Undefined", "Started", "Stopped")
_SECTIONS = ("bridge", "domain", "ip", "ip-dhcp-host", "ip-dhcp-range", "forward", "forward-interface",
             "forward-pf", "portgroup", "dns-host", "dns-txt", "dns-srv")
_COMMANDS = ("add", "add-first", "add-last", "delete", "modify")


def _yes_no(value: Any) -> str:
    return "yes" if value else "no"


def get_network(ctl: Ctl, ref: str, *, by_name: bool = True, by_uuid: bool = True) -> NetworkInfo:
    """vshCommandOptNetworkBy: UUID first (when it looks like one), then name; a miss prints
    "failed to get network 'REF'" and the driver's last word, as virsh does."""
    from pyvirt.api import PyvirtError

    last: PyvirtError | None = None
    if by_uuid and is_uuid(ref) or by_name:
        try:
            net = ctl.conn.lookup_network(ref)
        except PyvirtError as exc:
            last = exc
            if not by_name:  # only the UUID was looked up: virsh's last word names it so
                last = PyvirtError(f"Network not found: no network with matching uuid '{ref}'")
        else:
            if by_uuid or net.name == ref:
                return net
            last = PyvirtError(f"Network not found: no network with matching name '{ref}'")
    raise CmdError(f"failed to get network '{ref}'", *([last.message] if last is not None else []))


def _act(ctl: Ctl, p: Parsed, fail: str, done: str, call) -> bool:
    given = p.str("network") or ""
    return act_on(ctl, get_network(ctl, given).name, fail, done, call, given)


# ------------------------------------------------------------------------------------ listing
def _matches(p: Parsed, net: NetworkInfo) -> bool:
    return state_flags_match(p, net)


def cmd_net_list(ctl: Ctl, p: Parsed) -> bool:
    if sum(p.bool(k) for k in ("table", "name", "uuid")) > 1:
        raise CmdError("Only one argument from --table, --name and --uuid may be specified.")
    nets = sorted((n for n in ctl.conn.list_networks() if _matches(p, n)), key=lambda n: n.name)
    if p.bool("name") or p.bool("uuid"):
        ctl.print("".join(f"{n.name if p.bool('name') else n.uuid}\n" for n in nets))
        return True
    rows = [[n.name, "active" if n.active else "inactive", _yes_no(n.autostart),
             _yes_no(n.persistent)] for n in nets]
    ctl.print(table(["Name", "State", "Autostart", "Persistent"], rows, show_header=not ctl.quiet))
    return True


def cmd_net_info(ctl: Ctl, p: Parsed) -> bool:
    net = get_network(ctl, p.str("network") or "")
    pairs = [("Name", net.name), ("UUID", net.uuid), ("Active", _yes_no(net.active)),
             ("Persistent", _yes_no(net.persistent)), ("Autostart", _yes_no(net.autostart))]
    if net.bridge:
        pairs.append(("Bridge", net.bridge))
    ctl.print(keyvalues(pairs))
    return True


def cmd_net_uuid(ctl: Ctl, p: Parsed) -> bool:
    ctl.print(get_network(ctl, p.str("network") or "", by_uuid=False).uuid + "\n")
    return True


def cmd_net_name(ctl: Ctl, p: Parsed) -> bool:
    ctl.print(get_network(ctl, p.str("network") or "", by_name=False).name + "\n")
    return True


def cmd_net_dumpxml(ctl: Ctl, p: Parsed) -> bool:
    net = get_network(ctl, p.str("network") or "")
    xpath = xpath_option(p)
    ctl.print_xml(ctl.conn.get_network_xml(net.name, inactive=p.bool("inactive")), xpath,
                  wrap=p.bool("wrap"))
    return True


# ------------------------------------------------------------------------------------ definition
def cmd_net_define(ctl: Ctl, p: Parsed) -> bool:
    path, net = from_file(p, "define network", lambda xml: ctl.conn.define_network(xml, p.bool("validate")))
    ctl.extra(f"Network {net.name} defined from {path}\n")
    return True


def cmd_net_create(ctl: Ctl, p: Parsed) -> bool:
    path, net = from_file(p, "create network", lambda xml: ctl.conn.create_network(xml, p.bool("validate")))
    ctl.extra(f"Network {net.name} created from {path}\n")
    return True


def cmd_net_edit(ctl: Ctl, p: Parsed) -> bool:
    """The inactive XML in $VISUAL/$EDITOR, redefined on save, with edit's retry prompt."""
    from pyvirt.cli.cmd_edit import edit_loop, inactive_xml

    name = get_network(ctl, p.str("network") or "").name
    return edit_loop(ctl, inactive_xml(ctl.conn.get_network_xml, name), name, "Network {}",
                     lambda xml, validate: ctl.conn.define_network(xml, validate).name,
                     tmp_prefix=f"pyvirt-net-{name}-")


# ------------------------------------------------------------------------------------ lifecycle
def cmd_net_start(ctl: Ctl, p: Parsed) -> bool:
    return _act(ctl, p, "Failed to start network {}", "Network {} started", ctl.conn.start_network)


def cmd_net_destroy(ctl: Ctl, p: Parsed) -> bool:
    return _act(ctl, p, "Failed to destroy network {}", "Network {} destroyed", ctl.conn.destroy_network)


def cmd_net_undefine(ctl: Ctl, p: Parsed) -> bool:
    return _act(ctl, p, "Failed to undefine network {}", "Network {} has been undefined",
                ctl.conn.undefine_network)


def cmd_net_autostart(ctl: Ctl, p: Parsed) -> bool:
    enable = not p.bool("disable")
    verb = "mark" if enable else "unmark"
    return _act(ctl, p, f"failed to {verb} network {{}} as autostarted", f"Network {{}} {verb}ed as autostarted",
                lambda name: ctl.conn.set_network_autostart(name, enable))


def cmd_net_update(ctl: Ctl, p: Parsed) -> bool:
    current, live, config = p.bool("current"), p.bool("live"), p.bool("config")
    for other, given in (("live", live), ("config", config)):
        if current and given:
            raise CmdError(f"Options --current and --{other} are mutually exclusive")
    net = get_network(ctl, p.str("network") or "")
    command, section = p.str("command") or "", p.str("section") or ""
    if command not in _COMMANDS:
        raise CmdError(f"unrecognized command name '{command}'")
    if section not in _SECTIONS:
        raise CmdError(f"unrecognized section name '{section}'")
    xml = p.str("xml") or ""
    if not xml.startswith("<"):
        from pyvirt.cli.cmd_lifecycle import read_file

        xml = read_file(xml)
    parent = number(p.str("parent-index"), "parent-index")
    with failing(f"Failed to update network {net.name}"):
        ctl.conn.update_network(net.name, command, section, xml, -1 if parent is None else parent,
                                live=live, config=config)
    if config:
        affected = "persistent config and live state" if live else "persistent config"
    elif live or net.active:
        affected = "live state"
    else:
        affected = "persistent config"
    ctl.extra(f"Updated network {net.name} {affected}")  # virsh's message has no newline of its own
    return True


# ------------------------------------------------------------------------------------ leases, events, ports
def cmd_net_dhcp_leases(ctl: Ctl, p: Parsed) -> bool:
    net = get_network(ctl, p.str("network") or "")
    mac = (p.str("mac") or "").lower() or None
    with failing(f"Failed to get leases info for {p.str('network')}"):
        leases = ctl.conn.network_dhcp_leases(net.name, mac)
    rows = []
    for lease in sorted(leases, key=lambda x: (x.get("mac") or "", x.get("ipaddr") or "")):
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(int(lease.get("expirytime") or 0)))
        rows.append([when, lease.get("mac") or "", "ipv6" if lease.get("type") == 1 else "ipv4",
                     f"{lease.get('ipaddr')}/{lease.get('prefix')}", lease.get("hostname") or "-",
                     lease.get("clientid") or "-"])
    ctl.print(table(["Expiry Time", "MAC address", "Protocol", "IP address", "Hostname", "Client ID or DUID"],
                    rows, show_header=not ctl.quiet))
    return True


def cmd_net_event(ctl: Ctl, p: Parsed) -> bool:
    from pyvirt.cli.cmd_event import chosen_event, event_loop, object_event_line

    kind = chosen_event(ctl, p, EVENT_NAMES)
    if kind is None:
        return True
    timeout = number(p.str("timeout"), "timeout")
    name = get_network(ctl, p.str("network") or "").uuid if p.str("network") else None
    line = object_event_line(kind, "network", _EVENT_WORDS)
    return event_loop(ctl, p, lambda left: ctl.conn.network_events(name, timeout=left), line, timeout) > 0  # virsh: no event is a failure


def cmd_net_port_list(ctl: Ctl, p: Parsed) -> bool:
    if p.bool("uuid") and p.bool("table"):  # before the network is looked up
        raise CmdError("Only one argument from --table and --uuid may be specified.")
    net = get_network(ctl, p.str("network") or "")
    ports = ctl.conn.list_network_ports(net.name)
    if p.bool("uuid"):
        ctl.print("".join(f"{x['uuid']}\n" for x in ports))
        return True
    ctl.print(table(["UUID"], [[x["uuid"]] for x in ports], show_header=not ctl.quiet))
    return True


def cmd_net_port_create(ctl: Ctl, p: Parsed) -> bool:
    """Ports are not kept by pyvirt (libvirt's test driver has none either): virsh's network,
    then its file, then the driver's answer under "Failed to create network from FILE"."""
    get_network(ctl, p.str("network") or "")
    from_file(p, "create network", _no_port_create)
    return False


def _no_port_create(xml: str) -> None:
    from pyvirt.api import no_support

    raise no_support("virNetworkPortCreateXML")


def _port_lookup(ctl: Ctl, p: Parsed) -> bool:
    """Ports (libvirt's per-guest-NIC reservations) are not kept by pyvirt: no lookup succeeds.
    virsh reports the miss, of the port or of its network (its first line only), but still
    exits 0 here (virshCommandOptNetworkPort's failure leaves the command's result true)."""
    try:
        get_network(ctl, p.str("network") or "")
    except CmdError:
        ctl.error(f"failed to get network '{p.str('network') or ''}'")
        return True
    ctl.error(f"failed to get network port '{p.str('port') or ''}'")
    return True


cmd_net_port_dumpxml = _port_lookup
cmd_net_port_delete = _port_lookup
