"""virsh 9.0's Interface commands: iface-list, -mac, -name, -dumpxml, -define, -undefine, -start,
-destroy, -edit, -bridge, -unbridge, -begin, -commit, -rollback.

pyvirtd reads the host's interfaces from sysfs and changes none: like libvirt without netcf (its
udev backend), it answers the changing calls "not supported".  The test driver has libvirt's
test-driver interfaces, with definitions, state and the change transaction.
"""

from __future__ import annotations

from pyvirt.api import InterfaceInfo
from pyvirt.cli.context import CmdError, Ctl, failing, xpath_option
from pyvirt.cli.fmt import table
from pyvirt.cli.grammar import Parsed

TYPE_CHECKING = False
if TYPE_CHECKING:
    import xml.etree.ElementTree as ET
    from collections.abc import Callable

_BY_NAME, _BY_MAC = 1, 2


def _is_mac(text: str) -> bool:
    """virMacAddrParse's rule: six hex octets of one or two digits, ':' between them."""
    parts = text.split(":")
    return len(parts) == 6 and all(0 < len(x) <= 2 and all(c in "0123456789abcdefABCDEF" for c in x)
                                   for x in parts)


def _mac_key(mac: str) -> str:
    """A MAC for comparison; a definition's MAC that is no MAC (libvirt keeps the string) as is."""
    try:
        return ":".join(f"{int(x, 16):02x}" for x in mac.split(":"))
    except ValueError:
        return mac.lower()


def get_interface(ctl: Ctl, ref: str, by: int = _BY_NAME | _BY_MAC) -> InterfaceInfo:
    """vshCommandOptInterfaceBy: a MAC-shaped argument is looked up by MAC, anything else by
    name, each only where the command allows it; a miss prints virsh's two lines (one when the
    argument's shape rules the lookup out)."""
    is_mac = _is_mac(ref)
    detail: list[str] = []
    if is_mac and by & _BY_MAC:
        found = [i for i in ctl.conn.list_interfaces() if i.mac and _mac_key(i.mac) == _mac_key(ref)]
        if len(found) == 1:
            return found[0]
        detail = [f"Interface not found: no interface with matching mac '{ref}'" if not found else
                  f"multiple matching interfaces found: the MAC address '{ref}' matches more than one interface"]
    elif not is_mac and by & _BY_NAME:
        for iface in ctl.conn.list_interfaces():
            if iface.name == ref:
                return iface
        detail = [f"Interface not found: no interface with matching name '{ref}'"]
    raise CmdError(f"failed to get interface '{ref}'", *detail)


def cmd_iface_list(ctl: Ctl, p: Parsed) -> bool:
    if p.bool("all") and p.bool("inactive"):
        raise CmdError("Options --all and --inactive are mutually exclusive")
    want_active, want_inactive = not p.bool("inactive") or p.bool("all"), p.bool("inactive") or p.bool("all")
    ifaces = sorted((i for i in ctl.conn.list_interfaces()
                     if (want_active and i.active) or (want_inactive and not i.active)), key=lambda i: i.name)
    rows = [[i.name, "active" if i.active else "inactive", i.mac] for i in ifaces]
    ctl.print(table(["Name", "State", "MAC Address"], rows, show_header=not ctl.quiet))
    return True


def cmd_iface_mac(ctl: Ctl, p: Parsed) -> bool:
    ctl.print(get_interface(ctl, p.str("interface") or "", _BY_NAME).mac + "\n")
    return True


def cmd_iface_name(ctl: Ctl, p: Parsed) -> bool:
    ctl.print(get_interface(ctl, p.str("interface") or "", _BY_MAC).name + "\n")
    return True


def cmd_iface_dumpxml(ctl: Ctl, p: Parsed) -> bool:
    iface = get_interface(ctl, p.str("interface") or "")
    xpath = xpath_option(p)
    ctl.print_xml(ctl.conn.get_interface_xml(iface.name, inactive=p.bool("inactive")), xpath,
                  wrap=p.bool("wrap"))
    return True


# -- definitions, state and transactions


def cmd_iface_define(ctl: Ctl, p: Parsed) -> bool:
    from pyvirt.cli.cmd_lifecycle import from_file

    path, info = from_file(p, "define interface",
                           lambda xml: ctl.conn.define_interface(xml, validate=p.bool("validate")))
    ctl.extra(f"Interface {info.name} defined from {path}\n")
    return True


def _act(ctl: Ctl, p: Parsed, verb: str, done: str, call: Callable[[str], object]) -> None:
    ref = p.str("interface") or ""
    iface = get_interface(ctl, ref)
    with failing(f"Failed to {verb} interface {ref}"):
        call(iface.name)
    ctl.extra(f"Interface {ref} {done}\n")


def cmd_iface_undefine(ctl: Ctl, p: Parsed) -> bool:
    _act(ctl, p, "undefine", "undefined", ctl.conn.undefine_interface)
    return True


def cmd_iface_start(ctl: Ctl, p: Parsed) -> bool:
    _act(ctl, p, "start", "started", ctl.conn.start_interface)
    return True


def cmd_iface_destroy(ctl: Ctl, p: Parsed) -> bool:
    """virsh 9.0's iface-destroy reports success and still exits 1 (its status is never set on the
    success path); pyvirt answers the same, as scripts that check it see it."""
    _act(ctl, p, "destroy", "destroyed", ctl.conn.destroy_interface)
    return False


def cmd_iface_edit(ctl: Ctl, p: Parsed) -> bool:
    from pyvirt.cli.cmd_edit import edit_loop

    name = get_interface(ctl, p.str("interface") or "").name
    return edit_loop(ctl, ctl.conn.get_interface_xml(name, inactive=True), name, "Interface {}",
                     lambda xml, validate: ctl.conn.define_interface(xml).name,
                     tmp_prefix=f"pyvirt-iface-{name}-")


_TRANSACTION = {"begin": ("begin", "started"), "commit": ("commit", "committed"),
                "rollback": ("rollback", "rolled back")}


def _transaction(ctl: Ctl, step: str) -> bool:
    verb, done = _TRANSACTION[step]
    with failing(f"Failed to {verb} network config change transaction"):
        getattr(ctl.conn, f"interface_change_{step}")()
    ctl.extra(f"Network config change transaction {done}\n")
    return True


def cmd_iface_begin(ctl: Ctl, p: Parsed) -> bool:
    return _transaction(ctl, "begin")


def cmd_iface_commit(ctl: Ctl, p: Parsed) -> bool:
    return _transaction(ctl, "commit")


def cmd_iface_rollback(ctl: Ctl, p: Parsed) -> bool:
    return _transaction(ctl, "rollback")


# -- bridging: virsh rewrites the interface's inactive XML and defines the result (the driver
#    takes the old definition away, as netcf does)


def _inactive_root(ctl: Ctl, name: str) -> ET.Element:
    """The inactive definition (a driver error is printed alone, as virsh prints it)."""
    import xml.etree.ElementTree as ET

    try:
        return ET.fromstring(ctl.conn.get_interface_xml(name, inactive=True))
    except ET.ParseError:
        raise CmdError(f"Failed to parse configuration of {name}") from None


def _checked_type(top: ET.Element, name: str, refused: Callable[[str], str | None], *stale: str) -> str:
    """The definition's type, after virsh's checks in virsh's order: it has one, `refused(type)`
    finds nothing wrong with it, it names `name`."""
    kind = top.get("type")
    if kind is None:
        raise CmdError(f"Existing device {name} has no type", *stale)
    if refused(kind):
        raise CmdError(refused(kind) or "", *stale)
    if top.get("name") != name:
        raise CmdError(f"Interface name from config {top.get('name')} doesn't match given supplied name {name}",
                       *stale)
    return kind


def _define_and_start(ctl: Ctl, p: Parsed, root: ET.Element, words: tuple[str, str, str, str]) -> bool:
    """Define the rewritten interface, then start it unless --no-start: `words` are virsh's
    define failure, defined, start failure and started lines."""
    import xml.etree.ElementTree as ET

    with failing(words[0]):
        created = ctl.conn.define_interface(ET.tostring(root, encoding="unicode"))
    ctl.extra(words[1] + "\n")
    if not p.bool("no-start"):
        with failing(words[2]):
            ctl.conn.start_interface(created.name)
        ctl.extra(words[3] + "\n")
    return True


def _uint(p: Parsed, option: str, stale: str) -> int:
    """vshCommandOptUInt (virStrToLong_uip, the whole text), its error followed by `stale`,
    libvirt's last error, as virsh prints it: the text is read raw, not through Parsed.str,
    whose own range error would come without that line."""
    from pyvirt.cli.values import c_integer

    text = str(p.values.get(option, ""))
    got = c_integer(text, "uint")
    if got is None or got[1] != len(text):
        raise CmdError(f"Numeric value '{text}' for <{option}> option is malformed or out of range", stale)
    return got[0]


def cmd_iface_bridge(ctl: Ctl, p: Parsed) -> bool:
    """cmdInterfaceBridge: the interface becomes the only member of a new bridge."""
    import xml.etree.ElementTree as ET

    name = get_interface(ctl, p.str("interface") or "").name
    bridge = p.str("bridge") or ""
    if any(i.name == bridge for i in ctl.conn.list_interfaces()):
        raise CmdError(f"Network device {bridge} already exists")
    # virsh's lookup of the new name failed, as it should; its error stays libvirt's last one and
    # virsh prints it after any error of its own that follows (not after a driver's)
    stale = f"Interface not found: no interface with matching name '{bridge}'"
    stp = not p.bool("no-stp")
    delay = 0 if p.values.get("delay") is None else _uint(p, "delay", stale)
    top = _inactive_root(ctl, name)
    kind = _checked_type(top, name, lambda k: f"Existing device {name} is already a bridge" if k == "bridge" else None,
                         stale)
    node = ET.SubElement(top, "bridge", {"stp": "on" if stp else "off"})
    if stp:
        node.set("delay", str(delay))
    top.set("type", "bridge")
    top.set("name", bridge)
    member = ET.SubElement(node, "interface", {"type": kind, "name": name})
    for child in list(top):
        if child.tag in ("mac", "bond", "vlan"):
            top.remove(child)
            member.append(child)
    return _define_and_start(ctl, p, top, (f"Failed to define new bridge interface {bridge}",
                                           f"Created bridge {bridge} with attached device {name}",
                                           f"Failed to start bridge interface {bridge}",
                                           f"Bridge interface {bridge} started"))


def cmd_iface_unbridge(ctl: Ctl, p: Parsed) -> bool:
    """cmdInterfaceUnbridge: the bridge's one member takes its place."""
    name = get_interface(ctl, p.str("bridge") or "").name
    top = _inactive_root(ctl, name)
    _checked_type(top, name, lambda k: f"Device {name} is not a bridge" if k != "bridge" else None)
    node = top.find("bridge")
    if node is None:
        raise CmdError("No bridge node in xml document")
    members = node.findall("interface")
    if len(members) != 1:
        raise CmdError(f"No interface attached to bridge {name}" if not members else
                       f"Multiple interfaces attached to bridge {name}")
    member = members[0]
    if not member.get("name"):
        raise CmdError(f"Device attached to bridge {name} has no name")
    if not member.get("type"):
        raise CmdError(f"Attached device {member.get('name')} has no type")
    device = member.get("name", "")
    top.set("type", member.get("type", ""))
    top.set("name", device)
    top.remove(node)
    for child in list(member):
        top.append(child)
    return _define_and_start(ctl, p, top, (f"Failed to define new interface {device}",
                                           f"Device {device} un-attached from bridge {name}",
                                           f"Failed to start interface {device}", f"Interface {device} started"))
