"""Read-only host interface commands: iface-list, iface-mac, iface-name, iface-dumpxml.

Host interfaces are only listed and shown (pyvirtd reads them from sysfs, the test driver has
libvirt's `eth1`); defining, starting or bridging them stays refused as unsupported.
"""

from __future__ import annotations

from pyvirt.api import InterfaceInfo
from pyvirt.cli.context import CmdError, Ctl
from pyvirt.cli.fmt import table
from pyvirt.cli.grammar import Parsed

_BY_NAME, _BY_MAC = 1, 2


def _is_mac(text: str) -> bool:
    """virMacAddrParse's rule: six hex octets of one or two digits, ':' between them."""
    parts = text.split(":")
    return len(parts) == 6 and all(0 < len(x) <= 2 and all(c in "0123456789abcdefABCDEF" for c in x)
                                   for x in parts)


def _mac_key(mac: str) -> str:
    return ":".join(f"{int(x, 16):02x}" for x in mac.split(":"))


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
    ctl.print_xml(ctl.conn.get_interface_xml(iface.name, inactive=p.bool("inactive")), p.str("xpath"),
                  wrap=p.bool("wrap"))
    return True
