"""virNetworkUpdate on the model: add/delete/modify one entry of one section of a network.

Shared by the test driver and pyvirtd's network driver, so ``net-update`` means the same on
both.  The entry is read with the same declarative engine as whole documents; after the change
the network is re-checked as a whole (a DHCP host outside the subnet is refused here exactly as
in ``net-define``).  Messages are libvirt's (network_conf.c), since scripts match them.
"""

from __future__ import annotations

import copy

from .errors import XMLError, XMLUnsupportedError, XMLValidationError
from .libxml_report import NETWORK_UPDATE
from .mapping import UnknownNode, parse_obj
from .network import (
    DHCP,
    DNS,
    IP,
    DHCPHost,
    DHCPRange,
    DNSHost,
    DNSSrv,
    DNSTxt,
    ForwardInterface,
    Network,
    PortGroup,
)
from .network_rules import ip_of, parse_network
from .safe import safe_parse

COMMANDS = {"add-first": "add-first", "add-last": "add-last", "add": "add-last", "delete": "delete",
            "modify": "modify"}
SECTIONS = ("bridge", "domain", "ip", "ip-dhcp-host", "ip-dhcp-range", "forward", "forward-interface",
            "forward-pf", "portgroup", "dns-host", "dns-txt", "dns-srv")


class UpdateInvalid(XMLValidationError):
    """VIR_ERR_OPERATION_INVALID: the entry clashes with, or is missing from, the network."""


class UpdateUnsupported(XMLUnsupportedError):
    """VIR_ERR_OPERATION_UNSUPPORTED: a section or command libvirt cannot update."""


def update_network(net: Network, command: str, section: str, xml: str, parent_index: int = -1) -> Network:
    """A new, re-validated :class:`Network` with the change applied (``net`` is left untouched)."""
    cmd = COMMANDS.get(command)
    if cmd is None:
        raise UpdateUnsupported(f"unrecognized network update command code '{command}'")
    if section not in SECTIONS:
        raise UpdateUnsupported(f"unrecognized network update section '{section}'")
    new = copy.deepcopy(net)
    el = safe_parse(xml, NETWORK_UPDATE)
    tag = _ELEMENT.get(section)
    if tag is None:
        raise UpdateUnsupported(f"can't update '{section}' section of network '{net.name}'")
    if el.tag != tag:
        raise XMLError(f"unexpected element <{el.tag}>, expecting <{tag}>, while updating network '{net.name}'")
    try:
        entry = parse_obj(el, _CLASS[section])
    except UnknownNode as e:
        raise XMLUnsupportedError(e.message, e.line) from None
    _HANDLERS[section](new, cmd, entry, parent_index)
    return parse_network(new.to_xml())


def _insert(items: list, cmd: str, entry: object) -> None:
    items.insert(0 if cmd == "add-first" else len(items), entry)


def _ip_for_dhcp(net: Network, parent_index: int) -> IP:
    """virNetworkIPDefByIndex: the given <ip>, else the one with DHCP, else the first IPv4/IPv6."""
    if parent_index >= 0:
        if parent_index >= len(net.ips):
            raise UpdateInvalid(f"couldn't update dhcp host entry - no <ip> element found at index "
                                f"{parent_index} in network '{net.name}'")
        return net.ips[parent_index]
    for ip in net.ips:
        if ip.dhcp is not None and (ip.dhcp.ranges or ip.dhcp.hosts):
            return ip
    for version in (4, 6):
        for ip in net.ips:
            if ip_of(ip.address, "address", net.name or "", ip.line).version == version:
                return ip
    raise UpdateInvalid(f"couldn't update dhcp host entry - no <ip> element found in network '{net.name}'")


def _same(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a.lower() == b.lower()


def _dhcp_host(net: Network, cmd: str, host: DHCPHost, parent_index: int) -> None:
    ip = _ip_for_dhcp(net, parent_index)
    dhcp = ip.dhcp = ip.dhcp or DHCP()
    shown = f"<host mac='{host.mac or 'unknown'}' name='{host.name or '(null)'}' ip='{host.ip or 'unknown'}'/>"
    if cmd == "delete":
        for i, old in enumerate(dhcp.hosts):
            if ((not host.mac or not old.mac or _same(host.mac, old.mac)) and (not host.name or host.name == old.name)
                    and (not host.ip or host.ip == old.ip)):
                del dhcp.hosts[i]
                return
        raise UpdateInvalid(f"couldn't locate a matching dhcp host entry in network '{net.name}'")
    if host.ip is None:
        raise XMLError(f"Missing IP address in static host definition for network '{net.name}'")
    matches = [i for i, old in enumerate(dhcp.hosts)
               if _same(host.mac, old.mac) or (host.name and host.name == old.name) or host.ip == old.ip]
    if cmd == "modify":
        if not matches:
            raise UpdateInvalid(f"couldn't locate an existing dhcp host entry with \"mac='{host.mac or 'unknown'}'\" "
                                f"\"name='{host.name or '(null)'}'\" \"ip='{host.ip}'\" in network '{net.name}'")
        dhcp.hosts[matches[0]] = host
        return
    if matches:
        raise UpdateInvalid(f"there is an existing dhcp host entry in network '{net.name}' that matches \"{shown}\"")
    _insert(dhcp.hosts, cmd, host)


def _dhcp_range(net: Network, cmd: str, rng: DHCPRange, parent_index: int) -> None:
    ip = _ip_for_dhcp(net, parent_index)
    dhcp = ip.dhcp = ip.dhcp or DHCP()
    if cmd == "modify":
        raise UpdateUnsupported("dhcp ranges cannot be modified, only added or deleted")
    found = next((i for i, old in enumerate(dhcp.ranges) if old.start == rng.start and old.end == rng.end), None)
    if cmd == "delete":
        if found is None:
            raise UpdateInvalid(f"couldn't locate a matching dhcp range entry in network '{net.name}'")
        del dhcp.ranges[found]
        return
    if found is not None:
        raise UpdateInvalid(f"there is an existing dhcp range entry in network '{net.name}' that matches "
                            f"\"<range start='{rng.start}' end='{rng.end}'/>\"")
    _insert(dhcp.ranges, cmd, rng)


def _dns(net: Network) -> DNS:
    net.dns = net.dns or DNS()
    return net.dns


def _dns_host(net: Network, cmd: str, host: DNSHost, _parent: int) -> None:
    hosts = _dns(net).hosts
    found = [i for i, old in enumerate(hosts) if old.ip == host.ip
             or cmd == "delete" and set(old.hostnames) & set(host.hostnames)]
    if cmd in ("add-first", "add-last"):
        if found:
            raise UpdateInvalid(f"there is already at least one DNS HOST record with a matching field in network "
                                f"{net.name}")
        _insert(hosts, cmd, host)
        return
    if not found:
        raise UpdateInvalid(f"couldn't locate a matching DNS HOST record in network {net.name}")
    if len(found) > 1:
        raise UpdateInvalid(f"multiple matching DNS HOST records were found in network {net.name}")
    if cmd == "delete":
        del hosts[found[0]]
    else:
        hosts[found[0]] = host


def _dns_txt(net: Network, cmd: str, txt: DNSTxt, _parent: int) -> None:
    txts = _dns(net).txts
    found = next((i for i, old in enumerate(txts) if old.name == txt.name), None)
    if cmd == "modify":
        raise UpdateUnsupported("DNS TXT records cannot be modified, only added or deleted")
    if cmd == "delete":
        if found is None:
            raise UpdateInvalid(f"couldn't locate a matching DNS TXT record in network {net.name}")
        del txts[found]
        return
    if found is not None:
        raise UpdateInvalid(f"there is already a DNS TXT record with name '{txt.name}' in network {net.name}")
    _insert(txts, cmd, txt)


def _dns_srv(net: Network, cmd: str, srv: DNSSrv, _parent: int) -> None:
    srvs = _dns(net).srvs
    if cmd == "modify":
        raise UpdateUnsupported("DNS SRV records cannot be modified, only added or deleted")
    found = [i for i, old in enumerate(srvs)
             if all(getattr(srv, k) is None or getattr(srv, k) == getattr(old, k)
                    for k in ("domain", "service", "protocol", "target"))]
    if cmd == "delete":
        if not found:
            raise UpdateInvalid(f"couldn't locate a matching DNS SRV record in network {net.name}")
        if len(found) > 1:
            raise UpdateInvalid(f"multiple DNS SRV records matching all specified fields were found in network "
                                f"{net.name}")
        del srvs[found[0]]
        return
    if found:
        raise UpdateInvalid(f"there is already at least one DNS SRV record matching all specified fields in "
                            f"network {net.name}")
    _insert(srvs, cmd, srv)


def _forward_interface(net: Network, cmd: str, iface: ForwardInterface, _parent: int) -> None:
    if cmd == "modify":
        raise UpdateUnsupported("forward interface entries cannot be modified, only added or deleted")
    if iface.dev is None:
        raise XMLError("missing dev attribute in <interface> element")
    if net.forward is None:
        raise UpdateInvalid(f"couldn't find an interface entry in network '{net.name}' matching "
                            f"<interface dev='{iface.dev}'>")
    ifaces = net.forward.interfaces
    found = next((i for i, old in enumerate(ifaces) if old.dev == iface.dev), None)
    if cmd == "delete":
        if found is None:
            raise UpdateInvalid(f"couldn't find an interface entry in network '{net.name}' matching "
                                f"<interface dev='{iface.dev}'>")
        del ifaces[found]
    elif found is not None:
        raise UpdateInvalid(f"there is an existing interface entry in network '{net.name}' that matches "
                            f"\"<interface dev='{iface.dev}'>\"")
    else:
        _insert(ifaces, cmd, iface)
    net.forward.dev = ifaces[0].dev if ifaces else None


def _portgroup(net: Network, cmd: str, pg: PortGroup, _parent: int) -> None:
    if pg.name is None:
        raise XMLError("Missing required name attribute in portgroup")
    found = next((i for i, old in enumerate(net.portgroups) if old.name == pg.name), None)
    default = next((i for i, old in enumerate(net.portgroups) if old.default), None)
    if found is None and cmd in ("modify", "delete"):
        raise UpdateInvalid(f"couldn't find a portgroup entry in network '{net.name}' matching "
                            f"<portgroup name='{pg.name}'>")
    if found is not None and cmd in ("add-first", "add-last"):
        raise UpdateInvalid(f"there is an existing portgroup entry in network '{net.name}' that matches "
                            f"\"<portgroup name='{pg.name}'>\"")
    if cmd != "delete" and pg.default and default is not None and default != found:
        raise UpdateInvalid(f"a different portgroup entry in network '{net.name}' is already set as the default. "
                            "Only one default is allowed.")
    if cmd == "modify":
        net.portgroups[found] = pg  # type: ignore[index]
    elif cmd == "delete":
        del net.portgroups[found]  # type: ignore[arg-type]
    else:
        _insert(net.portgroups, cmd, pg)


_ELEMENT = {"ip-dhcp-host": "host", "ip-dhcp-range": "range", "dns-host": "host", "dns-txt": "txt",
            "dns-srv": "srv", "forward-interface": "interface", "portgroup": "portgroup"}
_CLASS = {"ip-dhcp-host": DHCPHost, "ip-dhcp-range": DHCPRange, "dns-host": DNSHost, "dns-txt": DNSTxt,
          "dns-srv": DNSSrv, "forward-interface": ForwardInterface, "portgroup": PortGroup}
_HANDLERS = {"ip-dhcp-host": _dhcp_host, "ip-dhcp-range": _dhcp_range, "dns-host": _dns_host,
             "dns-txt": _dns_txt, "dns-srv": _dns_srv, "forward-interface": _forward_interface,
             "portgroup": _portgroup}

__all__ = ["COMMANDS", "SECTIONS", "UpdateInvalid", "UpdateUnsupported", "update_network"]
