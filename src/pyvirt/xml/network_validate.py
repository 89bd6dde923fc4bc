"""What a network driver refuses at define/create although libvirt's parser reads it.

libvirt's parser (virNetworkDefParse) accepts a document that asks a forward mode for things it
cannot have; its network driver then refuses it before storing anything (networkValidate in
bridge_driver.c, which libvirt's networkxml2xml test also runs), in its words, as
"unsupported configuration: ...".  libvirt's test driver does not run these checks, so neither
does pyvirt's: they are for the daemon's network driver.  The host-dependent ones (a bridge
name another network holds, a PCI device that is not an SR-IOV virtual function) stay with the
driver.
"""

from __future__ import annotations

from .errors import XMLConfigError
from .network import Network
from .network_rules import BRIDGED_MODES


def validate_network(net: Network) -> None:
    """Refuse (XMLConfigError) what networkValidate refuses in a parsed, normalised network."""
    name, mode = net.name or "", net.forward_mode
    bandwidth_allowed = mode in BRIDGED_MODES or (mode == "bridge" and net.bridge_name is not None)
    if mode not in BRIDGED_MODES:
        # only the networks libvirt makes a bridge for have a host-side MAC, IPs, DNS, a domain
        dns_records = net.dns is not None and bool(net.dns.txts or net.dns.hosts or net.dns.srvs)
        for what, present in (("<mac>", net.mac is not None), ("<ip>", bool(net.ips)), ("<dns>", dns_records),
                              ("<domain>", net.domain_name is not None)):
            if present:
                raise XMLConfigError(f"Unsupported {what} element in network {name} with forward mode='{mode}'",
                                     net.line)
    if net.bandwidth is not None and not bandwidth_allowed:
        raise XMLConfigError(f"Unsupported network-wide <bandwidth> element in network {name} with forward "
                             f"mode='{mode}'", net.line)
    _device_pool(net, name, mode)
    _one_dhcp_per_family(net)
    _portgroups_and_vlans(net, name, mode, bandwidth_allowed)


def _device_pool(net: Network, name: str, mode: str) -> None:
    """A hostdev network's pool lists PCI addresses only; only a hostdev network lists them."""
    fwd = net.forward
    if fwd is None:
        return
    if mode == "hostdev" and fwd.interfaces:
        raise XMLConfigError(f"hostdev network '{name}' lists '{fwd.interfaces[0].dev}' in the device pool, but "
                             "hostdev networks require all devices to be listed by PCI address, not network "
                             "device name", fwd.line)
    if mode != "hostdev" and fwd.addresses:
        raise XMLConfigError(f"network '{name}' has forward mode '{mode}' but lists a device by PCI address in "
                             "the device pool. This is only supported for networks with forward mode 'hostdev'",
                             fwd.line)
    if bool(fwd.pfs) + bool(fwd.interfaces) + bool(fwd.addresses) > 1:
        raise XMLConfigError(f"<address>, <interface>, and <pf> elements of <forward> in network {name} are "
                             "mutually exclusive", fwd.line)


def _one_dhcp_per_family(net: Network) -> None:
    """dnsmasq serves DHCP on one IPv4 and one IPv6 address of a network."""
    seen: set[str] = set()
    for ip in net.ips:
        if ip.dhcp is None or not (ip.dhcp.ranges or ip.dhcp.hosts):
            continue
        family = "IPv6" if ":" in (ip.address or "") else "IPv4"
        if family in seen:
            raise XMLConfigError(f"Multiple {family} dhcp sections found -- dhcp is supported only for a single "
                                 f"{family} address on each network", ip.line)
        seen.add(family)


def _portgroups_and_vlans(net: Network, name: str, mode: str, bandwidth_allowed: bool) -> None:
    """VLAN tags need a hostdev/passthrough pool or an Open vSwitch bridge; one default portgroup,
    unique names, and bandwidth only where the network allows it."""
    ovs = net.virtualport is not None and net.virtualport.type == "openvswitch"
    vlan_allowed = mode in ("hostdev", "passthrough") or (mode == "bridge" and ovs)
    vlan_used = net.vlan is not None and bool(net.vlan.tags)
    bad_vlan = False
    default = None
    names: set[str] = set()
    for pg in net.portgroups:
        if vlan_used or (pg.vlan is not None and pg.vlan.tags):
            if pg.virtualport is not None:
                # a portgroup's <virtualport> without a type is the network's, completed (as
                # libvirt's networkxml2xml openvswitch-net case, valid, shows)
                pg_type = pg.virtualport.type or (net.virtualport.type if net.virtualport is not None else None)
                bad_vlan |= mode != "bridge" or pg_type != "openvswitch"
            elif not vlan_allowed:
                bad_vlan = True
        if pg.default:
            if default is not None:
                raise XMLConfigError(f"network '{name}' has multiple default <portgroup> elements ({default} and "
                                     f"{pg.name}), but only one default is allowed", pg.line)
            default = pg.name
        if pg.name in names:
            raise XMLConfigError(f"multiple <portgroup> elements with the same name ({pg.name}) in network "
                                 f"'{name}'", pg.line)
        names.add(pg.name or "")
        if pg.bandwidth is not None and not bandwidth_allowed:
            raise XMLConfigError(f"Unsupported <bandwidth> element in network '{name}' in portgroup '{pg.name}' "
                                 f"with forward mode='{mode}'", pg.line)
    if bad_vlan or (vlan_used and not vlan_allowed and default is None):
        raise XMLConfigError(f"<vlan> element specified for network {name}, whose type doesn't support vlan "
                             "configuration", net.line)
    if mode == "hostdev":
        for pg in net.portgroups:
            if pg.bandwidth is not None:
                raise XMLConfigError(f"unsupported <bandwidth> element in <portgroup name='{pg.name}'> of network "
                                     f"'{name}' with forward mode='{mode}'", pg.line)


__all__ = ["validate_network"]
