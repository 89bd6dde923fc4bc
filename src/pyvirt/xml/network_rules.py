"""Reading a ``<network>`` document: libvirt's parse-time checks and normalisation.

libvirt does not print a network back the way it was written: it resolves defaults (a
``<forward>`` without mode is NAT, a NAT/routed/isolated bridge gets ``stp='on' delay='0'``),
folds ``<forward dev=>`` into the interface list, prints addresses canonically and drops
settings that mean nothing (an empty ``<dns/>``, ``<dhcp>`` without ranges or hosts, a
``<domain>`` without name).  Those rules (virNetworkDefParseXML and friends in libvirt's
network_conf.c) live here, so the model (:mod:`pyvirt.xml.network`) stays declarative and
``Network.to_xml()`` prints what ``virsh net-dumpxml`` prints.
"""

from __future__ import annotations

import ipaddress
import re
import uuid as uuidlib

from .bandwidth import bandwidth_rules
from .errors import (
    XMLConfigError,
    XMLDetailError,
    XMLError,
    XMLInternalError,
    XMLUnsupportedError,
    XMLValidationError,
)
from .fields import empty_attributes_absent
from .iptext import ip_text, parse_ip
from .macaddr import parse_mac
from .mapping import parse_model
from .network import (
    DHCP,
    DNS,
    IP,
    Bridge,
    DNSSrv,
    Forward,
    ForwardInterface,
    Lease,
    Network,
    Route,
    Vlan,
)
from .safe import parse_root
from .uuids import parse_uuid
from .validate import validate_name
from .virtualport import virtualport_rules

IPAddr = ipaddress.IPv4Address | ipaddress.IPv6Address

#: forward modes whose network is a bridge pyvirt/libvirt creates (bridge settings apply)
BRIDGED_MODES = ("none", "nat", "route", "open")
_PROTOCOL_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-+/")
_SERVICE_CHARS = _PROTOCOL_CHARS | set("_*")
_DNS_SRV_MAX = 189  # DNS_RECORD_LENGTH_SRV: 255 minus the rest of a record
_MAC_PART = re.compile(r"^[0-9a-fA-F]{1,2}$")


def parse_network(xml: str | bytes) -> Network:
    """Parse libvirt network XML into a normalised :class:`Network` (XMLError and subclasses)."""
    with empty_attributes_absent():  # virNetworkDefParseXML reads attributes with virXPathString
        net = parse_model(parse_root(xml, "network"), Network, "network")
    normalize_network(net)
    return net


def ip_of(text: str | None, what: str, netname: str, line: int | None) -> IPAddr:
    """An IPv4/IPv6 address, or XMLError naming what it was for."""
    try:
        return parse_ip(text)
    except ValueError:
        raise XMLError(f"Invalid {what} '{text}' in network '{netname}'", line) from None


#: libvirt's words for a MAC it cannot parse, and for a multicast one, by where the MAC is
_MAC_ERRORS = {
    "bridge": ("Invalid bridge mac address '{mac}' in network '{net}'",  # virNetworkDefParseXML
               "Invalid multicast bridge mac address '{mac}' in network '{net}'"),
    "host": ("Cannot parse MAC address '{mac}' in network '{net}'",  # virNetworkDHCPHostDefParseXML
             "expected unicast mac address, found multicast '{mac}' in network '{net}'"),
}


def format_mac(text: str, where: str, netname: str, line: int | None) -> str:
    """virMacAddrParse + virMacAddrFormat: six 1-2 digit hex octets, printed lower case; `where`
    ("bridge" or "host") picks libvirt's words for a refusal."""
    bad, multicast = _MAC_ERRORS[where]
    mac = parse_mac(text)
    if mac is None:
        raise XMLError(bad.format(mac=text, net=netname), line)
    if int(mac[:2], 16) & 1:
        raise XMLError(multicast.format(mac=text, net=netname), line)
    return mac


def ip_prefix(ip: IP | Route) -> int:
    """virSocketAddrGetIPPrefix: explicit prefix, netmask bits, else the classful default."""
    if ip.prefix:
        return ip.prefix
    addr = ipaddress.ip_address(ip.address or "")
    if ip.netmask:
        return ipaddress.ip_network(f"0.0.0.0/{ip.netmask}").prefixlen
    if addr.version == 6:
        return 64
    first = int(addr) >> 24
    if first & 0x80 == 0:
        return 8
    if first & 0xC0 == 0x80:
        return 16
    if first & 0xE0 == 0xC0:
        return 24
    return -1


def route_destination(route: Route) -> str:
    """``ip route`` destination of a ``<route>`` (prefix as libvirt derives it for addresses)."""
    zero = int(ipaddress.ip_address(route.address or "")) == 0
    if zero and (route.prefix == 0 or (route.netmask is not None and route.netmask == "0.0.0.0")):
        prefix = 0  # virNetDevIPRouteGetPrefix: a default route, given as such
    else:
        prefix = ip_prefix(route)
    if prefix < 0:
        raise XMLError(f"bad prefix for static route to {route.address}", route.line)
    return str(ipaddress.ip_network(f"{route.address}/{prefix}", strict=False))


def ip_network(ip: IP) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """The subnet an ``<ip>`` element puts the bridge in."""
    return ipaddress.ip_network(f"{ip.address}/{max(ip_prefix(ip), 0)}", strict=False)


def normalize_network(net: Network) -> None:
    """Apply libvirt's parse-time checks and defaults in place (see the module docstring)."""
    name = net.name
    if name is None:
        raise XMLError("missing name information", net.line)
    validate_name(name, net.line, "network")
    if net.uuid is None:
        net.uuid = str(uuidlib.uuid4())
    elif (canonical := parse_uuid(net.uuid)) is None:
        raise XMLInternalError("malformed uuid element", net.line)  # virNetworkDefParseXML's words
    else:
        net.uuid = canonical
    net.mtu = net.mtu or None  # <mtu size='0'/> is no MTU
    net.bandwidth = bandwidth_rules(net.bandwidth, allow_floor=False)
    net.connections = None  # runtime only, never read from a document
    if not net.ipv6:
        net.ipv6 = None  # libvirt prints ipv6='yes' only
    if net.domain_name is None:
        net.domain_local_only = None
    if net.mac is not None:
        net.mac = format_mac(net.mac, "bridge", name, net.line)
    if net.dns is not None:
        net.dns = _dns(net.dns, name)
    for ip in net.ips:
        _ip(ip, name)
    for route in net.routes:
        _route(route, net, name)
    if net.vlan is not None:
        _vlan(net.vlan)
    if net.virtualport is not None:
        virtualport_rules(net.virtualport, require_type=True)
    for pg in net.portgroups:
        if pg.name is None:
            raise XMLError("Missing required name attribute in portgroup", pg.line)
        if pg.virtualport is not None:
            virtualport_rules(pg.virtualport, require_type=False)
        pg.default = True if pg.default else None
        pg.bandwidth = bandwidth_rules(pg.bandwidth, allow_floor=False)
        if pg.vlan is not None:
            _vlan(pg.vlan)
    if net.forward is not None:
        net.forward = _forward(net.forward, name)
    _mode_rules(net, name)


def _dns(dns: DNS, netname: str) -> DNS | None:
    for fwd in dns.forwarders:
        fwd.port = None  # libvirt 9.0 has no forwarder port (a later version's): read past, as 9.0
        if fwd.addr is not None:
            fwd.addr = ip_text(ip_of(fwd.addr, "forwarder IP address", netname, fwd.line))
        if fwd.addr is None and fwd.domain is None:
            raise XMLError("Invalid forwarder element, must contain at least one of addr or domain", fwd.line)
    for host in dns.hosts:
        if not host.hostnames or any(not h.strip() for h in host.hostnames):
            raise XMLError(f"Missing hostname in network '{netname}' DNS HOST record", host.line)
        if host.ip is None:
            raise XMLError(f"Missing IP address in network '{netname}' DNS HOST record", host.line)
        try:
            host.ip = ip_text(parse_ip(host.ip))
        except ValueError:
            raise XMLDetailError(f"Invalid IP address in network '{netname}' DNS HOST record", host.line) from None
    for srv in dns.srvs:
        _srv(srv, netname)
    for txt in dns.txts:
        if txt.name is None:
            raise XMLError(f"missing required name attribute in DNS TXT record of network {netname}", txt.line)
        if txt.name == "":  # libvirt 9.0 keeps it and writes what its own schema refuses
            raise XMLError(f"empty name in DNS TXT record of network {netname}", txt.line)
        if " " in txt.name or "," in txt.name:
            raise XMLDetailError(f"prohibited character in DNS TXT record name '{txt.name}' of network {netname}",
                                 txt.line)
        if txt.value is None:
            raise XMLError(f"missing required value attribute in DNS TXT record named '{txt.name}' "
                           f"of network {netname}", txt.line)
        if "\n" in txt.value or "\r" in txt.value:
            raise XMLError("invalid line break in DNS TXT record value attribute", txt.line)
    if dns.enable is False and (dns.forwarders or dns.hosts or dns.srvs or dns.txts):
        raise XMLError(f"Extra data in disabled network '{netname}'", dns.line)
    if dns.enable is None and dns.forward_plain_names is None and not (
            dns.forwarders or dns.hosts or dns.srvs or dns.txts):
        return None
    return dns


def _srv(srv: DNSSrv, netname: str) -> None:
    if srv.service is None:
        raise XMLError(f"missing required service attribute in DNS SRV record of network '{netname}'", srv.line)
    if len(srv.service) > _DNS_SRV_MAX:
        raise XMLError(f"service attribute '{srv.service}' in network '{netname}' is too long, "
                       f"limit is {_DNS_SRV_MAX} bytes", srv.line)
    if not set(srv.service) <= _SERVICE_CHARS:
        raise XMLError(f"invalid character in service attribute '{srv.service}' in DNS SRV record "
                       f"of network '{netname}'", srv.line)
    if srv.protocol is None:
        raise XMLError(f"missing required protocol attribute in DNS SRV record '{srv.service}' "
                       f"of network '{netname}'", srv.line)
    if not set(srv.protocol) <= _PROTOCOL_CHARS:
        raise XMLError(f"invalid character in protocol attribute '{srv.protocol}' in DNS SRV record "
                       f"of network '{netname}'", srv.line)
    for what in ("port", "priority", "weight"):
        value = getattr(srv, what)
        if value is None:
            continue
        if srv.target is None:
            raise XMLError(f"DNS SRV {what} attribute not permitted without target for service "
                           f"'{srv.service}' in network '{netname}'", srv.line)
        if value > 65535 or what == "port" and value < 1:
            raise XMLError(f"invalid DNS SRV {what} attribute for service '{srv.service}' "
                           f"in network '{netname}'", srv.line)
    # libvirt prints zero port/priority/weight as absent
    srv.port, srv.priority, srv.weight = srv.port or None, srv.priority or None, srv.weight or None


def _ip(ip: IP, netname: str) -> None:
    if ip.address is None:
        raise XMLError(f"Missing required address attribute in network '{netname}'", ip.line)
    addr = ip_of(ip.address, "address", netname, ip.line)
    ip.address = ip_text(addr)
    if ip.family in (None, "ipv4"):
        if addr.version != 4:
            raise XMLUnsupportedError(f"{ip.family or 'no'} family specified for non-IPv4 address "
                                      f"'{addr}' in network '{netname}'", ip.line)
        if ip.netmask is not None:
            mask = ip_of(ip.netmask, "netmask", netname, ip.line)
            if mask.version != 4:
                raise XMLConfigError(f"Invalid netmask '{ip.netmask}' for address '{addr}' in network "
                                     f"'{netname}' (both must be IPv4)", ip.line)
            try:
                ipaddress.ip_network(f"0.0.0.0/{mask}")
            except ValueError:
                raise XMLError(f"Invalid netmask '{mask}' in network '{netname}'", ip.line) from None
            if ip.prefix:
                raise XMLConfigError(f"Network '{netname}' IP address cannot have both a prefix and a netmask",
                                     ip.line)
            ip.netmask = str(mask)
        elif ip.prefix is not None and ip.prefix > 32:
            raise XMLConfigError(f"Invalid IPv4 prefix '{ip.prefix}' in network '{netname}'", ip.line)
    else:
        if addr.version != 6:
            raise XMLUnsupportedError(f"Family 'ipv6' specified for non-IPv6 address '{addr}' in network "
                                      f"'{netname}'", ip.line)
        if ip.netmask is not None:
            raise XMLConfigError(f"netmask not allowed for IPv6 address '{addr}' in network '{netname}'", ip.line)
        if ip.prefix is not None and ip.prefix > 128:
            raise XMLConfigError(f"Invalid IPv6 prefix '{ip.prefix}' in network '{netname}'", ip.line)
    ip.prefix = ip.prefix or None
    if ip.dhcp is not None:
        ip.dhcp = _dhcp(ip.dhcp, ip, addr, netname)
    if ip.tftp_root is not None and addr.version != 4:
        raise XMLUnsupportedError(f"Unsupported <tftp> element in an IPv6 element in network '{netname}'",
                                  ip.line)
    if ip.tftp_root == "":
        ip.tftp_root = None


def _lease(lease: Lease | None) -> Lease | None:
    """Lease times: absent expiry means none; unit defaults to minutes; 0 is infinite (no unit)."""
    if lease is None or lease.expiry is None:
        return None
    if lease.expiry == 0:
        lease.unit = None
        return lease
    lease.unit = lease.unit or "minutes"
    if (lease.unit == "seconds" and lease.expiry < 120) or (lease.unit == "minutes" and lease.expiry < 2):
        raise XMLUnsupportedError("The minimum lease time should be greater than 2 minutes", lease.line)
    return lease


def _dhcp(dhcp: DHCP, ip: IP, addr: IPAddr, netname: str) -> DHCP | None:
    subnet = ip_network(ip)
    for rng in dhcp.ranges:
        if rng.start is None:
            raise XMLError(f"Missing 'start' attribute in dhcp range for network '{netname}'", rng.line)
        if rng.end is None:
            raise XMLError(f"Missing 'end' attribute in dhcp range for network '{netname}'", rng.line)
        start = ip_of(rng.start, "dhcp range start", netname, rng.line)
        end = ip_of(rng.end, "dhcp range end", netname, rng.line)
        check_range(start, end, subnet, rng.line, addr)
        rng.start, rng.end = ip_text(start), ip_text(end)
        rng.lease = _lease(rng.lease)
    for host in dhcp.hosts:
        if host.mac is not None:
            if addr.version == 6:
                raise XMLError(f"Invalid to specify MAC address '{host.mac}' in network '{netname}' IPv6 "
                               "static host definition", host.line)
            format_mac(host.mac, "host", netname, host.line)
        if host.id is not None:
            bad = next((c for c in host.id if c not in "0123456789abcdefABCDEF:"), None)
            if bad is not None:
                raise XMLError(f"Invalid character '{bad}' in id '{host.id}' of network '{netname}'", host.line)
        if host.name is not None and not (host.name[:1].isascii() and host.name[:1].isalnum()):
            raise XMLError(f"Cannot use host name '{host.name}' in network '{netname}'", host.line)
        if addr.version == 6 and not (host.id or host.name):
            raise XMLError(f"Static host definition in IPv6 network '{netname}' must have id or name "
                           "attribute", host.line)
        if addr.version == 4 and not (host.mac or host.name):
            raise XMLError(f"Static host definition in IPv4 network '{netname}' must have mac or name "
                           "attribute", host.line)
        if host.ip is None:
            raise XMLError(f"Missing IP address in static host definition for network '{netname}'",
                           host.line)
        host.ip = ip_text(ip_of(host.ip, "IP address in static host definition", netname, host.line))
        host.lease = _lease(host.lease)
    if dhcp.bootp_file is not None or dhcp.bootp_server is not None:
        if addr.version != 4:
            dhcp.bootp_file = dhcp.bootp_server = None
        elif dhcp.bootp_file is None:  # virNetworkDHCPDefParseXML reads past a <bootp> without file
            dhcp.bootp_server = None
        elif dhcp.bootp_file == "":  # libvirt 9.0 keeps it and writes what its own schema refuses
            raise XMLError(f"empty 'file' of <bootp> in network {netname}", dhcp.line)
        elif dhcp.bootp_server is not None:
            dhcp.bootp_server = ip_text(ip_of(dhcp.bootp_server, "bootp server", netname, dhcp.line))
    if not (dhcp.ranges or dhcp.hosts):
        return None  # libvirt writes <dhcp> only around ranges or hosts
    return dhcp


def check_range(start: IPAddr, end: IPAddr, subnet: ipaddress.IPv4Network | ipaddress.IPv6Network | None,
                line: int | None, address: IPAddr | None = None) -> None:
    """virSocketAddrGetRange, in its order and words (all "internal error"): one family, inside
    the network (`subnet`, shown as its <ip address=> `address` and prefix, as libvirt shows it),
    not the IPv4 network or broadcast address, and not reversed.  `subnet` None: a range outside
    any network (<nat><address>), checked only for family and order."""
    def refuse(message: str) -> XMLInternalError:
        return XMLInternalError(message, line)

    if start.version != end.version:
        raise refuse(f"mismatch of address family in range {start} - {end}")
    if subnet is not None:
        where = f"{address if address is not None else subnet.network_address}/{subnet.prefixlen}"
        if start.version != subnet.version:
            raise refuse(f"mismatch of address family in range {start} - {end} for network "
                         f"{address if address is not None else subnet.network_address}")
        if start not in subnet or end not in subnet:
            raise refuse(f"range {start} - {end} is not entirely within network {where}")
        if subnet.version == 4 and subnet.prefixlen < 31:
            if start == subnet.network_address:
                raise refuse(f"start of range {start} - {end} in network {where} is the network address")
            if end == subnet.broadcast_address:
                raise refuse(f"end of range {start} - {end} in network {where} is the broadcast address")
    if end < start:
        raise refuse(f"range {start} - {end} is reversed ")  # libvirt's trailing blank


def _route(route: Route, net: Network, netname: str) -> None:
    if route.address is None:
        raise XMLError(f"Missing required address attribute in network '{netname}'", route.line)
    if route.gateway is None:
        raise XMLError(f"Missing required gateway attribute in network '{netname}'", route.line)
    addr = ip_of(route.address, "route address", netname, route.line)
    gw = ip_of(route.gateway, "route gateway", netname, route.line)
    route.address, route.gateway = ip_text(addr), ip_text(gw)
    _route_families(route, addr, gw, netname)
    _route_is_network(route, addr, netname)
    for ip in net.ips:
        if ipaddress.ip_address(ip.address or "").version == gw.version and gw in ip_network(ip):
            return
    raise XMLUnsupportedError(f"unreachable static route gateway '{gw}' specified for network '{netname}'",
                              route.line)


def _route_families(route: Route, addr: IPAddr, gw: IPAddr, netname: str) -> None:
    """virNetDevIPRouteCreate's checks, in its order and words: the address and gateway of the
    route's family (IPv4 when none is named), a netmask only on IPv4 and never beside a
    prefix (an explicit 0 included), a prefix within the family's width."""
    def refuse(message: str) -> XMLError:
        return XMLError(f"{netname}: {message}", route.line)
    a = route.address
    if route.family == "ipv6":
        if addr.version != 6:
            raise refuse(f"ipv6 family specified for non-IPv6 address '{a}' in route definition")
        if gw.version != 6:
            raise refuse(f"ipv6 specified for non-IPv6 gateway address '{route.gateway}' in route definition")
        if route.netmask is not None:
            raise refuse(f"Specifying netmask invalid for IPv6 address '{a}' in route definition")
        if route.prefix is not None and route.prefix > 128:
            raise refuse(f"Invalid prefix {route.prefix} specified in route definition, must be 0 - 128")
        return
    named = route.family == "ipv4"
    if addr.version != 4:
        raise refuse(f"{'IPv4 family' if named else 'No family'} specified for non-IPv4 address '{a}' in "
                     "route definition")
    if gw.version != 4:  # libvirt names the address here, not the gateway
        raise refuse(f"{'IPv4 family' if named else 'No family'} specified for non-IPv4 gateway '{a}' in "
                     "route definition")
    if route.netmask is not None:
        try:
            mask = parse_ip(route.netmask)
        except ValueError:
            mask = None
        if mask is None or mask.version != 4:
            raise refuse(f"Invalid netmask '{route.netmask}' for address '{a}' (both must be IPv4)")
        route.netmask = ip_text(mask)
        if route.prefix is not None:
            raise refuse("Route definition cannot have both a prefix and a netmask")
    if route.prefix is not None and route.prefix > 32:
        raise refuse(f"Invalid prefix {route.prefix} specified in route definition, must be 0 - 32")


def _route_is_network(route: Route, addr: IPAddr, netname: str) -> None:
    """virNetDevIPRouteCreate: the destination must be a network address under the netmask, or
    else the prefix -- 0 when neither is given, so a route without either is a default route
    (0.0.0.0 or ::) or refused.  An explicit prefix, 0 included, is kept and written."""
    if route.netmask is not None:
        mask = int(ipaddress.ip_address(route.netmask))
    else:
        bits = 32 if addr.version == 4 else 128
        prefix = min(route.prefix or 0, bits)
        mask = ((1 << bits) - 1) ^ ((1 << (bits - prefix)) - 1)
    if int(addr) & mask != int(addr):
        raise XMLError(f"{netname}: Address '{ip_text(addr)}' in route definition is not a network address",
                       route.line)


def _vlan(vlan: Vlan) -> None:
    """virNetDevVlanParse: every tag needs an id and at most one a native mode; ``trunk='no'``
    (a single tag's, then not written) is refused with several tags or a native one; several
    tags make a trunk, a native mode alone does not."""
    if not vlan.tags:
        raise XMLError("missing tag id - each <vlan> must have at least one <tag id='n'/> subelement", vlan.line)
    for tag in vlan.tags:
        if tag.id is None:
            raise XMLError("Missing required attribute 'id' in element 'tag'", tag.line)
    natives = [tag for tag in vlan.tags if tag.native_mode]
    if len(natives) > 1:
        raise XMLError("duplicate native vlan setting", natives[1].line)
    if vlan.trunk is False:
        if len(vlan.tags) > 1:
            raise XMLError("invalid \"trunk='no'\" in <vlan> - trunk='yes' is required for more than one "
                           "vlan tag", vlan.line)
        if natives:
            raise XMLError("invalid configuration in <vlan> - \"trunk='no'\" is not allowed with a native "
                           "vlan id", vlan.line)
    vlan.trunk = True if (vlan.trunk or len(vlan.tags) > 1) else None


def _forward(fwd: Forward, netname: str) -> Forward | None:
    mode = fwd.mode or "nat"
    if mode == "none":
        return None  # libvirt's VIR_NETWORK_FORWARD_NONE: not printed
    fwd.mode = mode
    if fwd.driver_name is not None and fwd.driver_name not in ("kvm", "vfio"):
        raise XMLConfigError(f"Unknown forward <driver name='{fwd.driver_name}'/> in network {netname}", fwd.line)
    if fwd.nat is not None:
        if mode != "nat":
            raise XMLError(f"The <nat> element can only be used when <forward> 'mode' is 'nat' in network "
                           f"{netname}", fwd.nat.line)
        _nat(fwd, netname)
    fwd.managed = bool(fwd.managed) if mode == "hostdev" else None
    if fwd.dev is not None and (fwd.addresses or fwd.pfs):
        raise XMLError("the <forward> 'dev' attribute cannot be used when <address> or <pf> sub-elements "
                       f"are present in network {netname}", fwd.line)
    if len(fwd.pfs) > 1:
        raise XMLError(f"Only one <pf> element is allowed in <forward> of network {netname}", fwd.line)
    # one source of devices, in libvirt's order of preference: interfaces (or dev=), PCI addresses, a PF
    devs: list[str] = []
    for i, iface in enumerate(fwd.interfaces):
        if iface.dev is None:
            raise XMLError(f"Missing required dev attribute in <forward> <interface> element of network "
                           f"{netname}", iface.line)
        if i == 0 and fwd.dev is not None and iface.dev != fwd.dev:
            raise XMLError(f"<forward dev='{fwd.dev}'> must match first <interface dev='{iface.dev}'/> in "
                           f"network {netname}", iface.line)
        if iface.dev in devs:
            raise XMLError(f"interface '{iface.dev}' can only be listed once in network {netname}", iface.line)
        devs.append(iface.dev)
    if fwd.dev is not None and not devs:
        devs.append(fwd.dev)
    fwd.interfaces = [ForwardInterface(dev=d) for d in devs]
    if devs:
        fwd.addresses = []  # libvirt reads no addresses beside interfaces; a <pf> stays (not written)
    seen = set()
    for a in fwd.addresses:
        if a.type is None:
            raise XMLError(f"missing address type in network {netname}", a.line)
        key = (a.domain or 0, a.bus or 0, a.slot or 0, a.function or 0)
        if key in seen:
            raise XMLError(f"PCI device '{key[0]:04x}:{key[1]:02x}:{key[2]:02x}.{key[3]:x}' can only be "
                           f"listed once in network {netname}", a.line)
        seen.add(key)
        a.domain, a.bus, a.slot, a.function = key
        a.connections = None
    for pf in fwd.pfs:
        if pf.dev is None:
            raise XMLError(f"Missing required dev attribute in <pf> element of network '{netname}'", pf.line)
    # libvirt prints dev= as the first interface
    fwd.dev = fwd.interfaces[0].dev if fwd.interfaces else None
    return fwd


def _nat(fwd: Forward, netname: str) -> None:
    nat = fwd.nat
    assert nat is not None
    if (nat.address_start is None) != (nat.address_end is None):
        which = "start" if nat.address_start is None else "end"
        raise XMLError(f"missing '{which}' attribute in <address> element in <nat> in <forward> in network "
                       f"{netname}", nat.line)
    if nat.address_start is not None:
        start, end = (ip_of(a, "ipv4 NAT address", netname, nat.line) for a in (nat.address_start, nat.address_end))
        if start.version != 4 or end.version != 4:
            raise XMLError(f"Bad ipv4 start address '{nat.address_start}' in <nat> in <forward> in network "
                           f"'{netname}'", nat.line)
        check_range(start, end, None, nat.line)
        nat.address_start, nat.address_end = ip_text(start), ip_text(end)
    if nat.port_start is not None or nat.port_end is not None:
        if nat.port_start is None or nat.port_start > 65535:
            raise XMLError(f"Missing or invalid 'start' attribute in <port> in <nat> in <forward> in network "
                           f"{netname}", nat.line)
        if nat.port_end is None or nat.port_end > 65535 or nat.port_end < nat.port_start:
            raise XMLError(f"Missing or invalid 'end' attribute in <port> in <nat> in <forward> in network "
                           f"{netname}", nat.line)
        if not nat.port_start and not nat.port_end:
            nat.port_start = nat.port_end = None
        elif not nat.port_end:
            nat.port_end = None
    if nat.ipv6 is False:
        nat.ipv6 = False  # tristate: 'no' is printed
    if nat.address_start is None and nat.port_start is None and nat.port_end is None and nat.ipv6 is None:
        fwd.nat = None


def _mode_rules(net: Network, name: str) -> None:
    """What each forward mode allows, and the <bridge> element libvirt prints for it."""
    mode = net.forward_mode
    fwd = net.forward
    nifs = len(fwd.interfaces) if fwd is not None else 0
    br = net.bridge
    stp_given = br is not None and br.stp is not None
    if mode in ("route", "nat"):
        if not net.ips:
            raise XMLError(f"{mode} forwarding requested, but no IP address provided for network '{name}'",
                           net.line)
        if nifs > 1:
            raise XMLError(f"multiple forwarding interfaces specified for network '{name}', only one is "
                           "supported", net.line)
    elif mode == "open" and nifs:
        raise XMLError(f"forward dev not allowed for network '{name}' with forward mode='{mode}'", net.line)
    elif mode not in BRIDGED_MODES:
        if mode != "bridge" and br is not None:
            for what, value in (("name", br.name), ("zone", br.zone), ("macTableManager setting",
                                                                     br.mac_table_manager)):
                if value is not None:
                    raise XMLError(f"bridge {what} not allowed in {mode} mode (network '{name}')", br.line)
        if br is not None and (br.delay or stp_given or br.zone is not None):
            # libvirt 9.0's words (open mode takes them too; its message predates it)
            raise XMLError(f"bridge delay/stp/zone options only allowed in route, nat, and isolated "
                           f"mode, not in {mode} (network '{name}')", br.line)
        if br is not None and br.name is not None and fwd is not None and (fwd.interfaces or fwd.pfs):
            raise XMLError(f"A network with forward mode='{mode}' can specify a bridge name or a forward dev, "
                           f"but not both (network '{name}')", br.line)
        if net.mtu:
            raise XMLError(f"mtu size only allowed in open, route, nat, and isolated mode, not in {mode} "
                           f"(network '{name}')", net.line)
    if mode in BRIDGED_MODES:
        br = net.bridge = net.bridge or Bridge()
        br.stp = br.stp is not False
        br.delay = br.delay or 0
    elif br is not None:
        br.stp = br.delay = None
        if br.name is None and br.mac_table_manager is None:
            net.bridge = None


def check_unique_hosts(net: Network) -> None:
    """Duplicate static DHCP hosts (same MAC, name or IP) would make dnsmasq refuse or misassign."""
    for ip in net.ips:
        if ip.dhcp is None:
            continue
        seen: set[tuple[str, str]] = set()
        for host in ip.dhcp.hosts:
            for key in (("mac", (host.mac or "").lower()), ("ip", host.ip or ""), ("name", host.name or "")):
                if not key[1]:
                    continue
                if key in seen:
                    raise XMLValidationError(f"duplicate DHCP host {key[0]} '{key[1]}' in network '{net.name}'",
                                             host.line)
                seen.add(key)


__all__ = ["BRIDGED_MODES", "check_range", "check_unique_hosts", "format_mac", "ip_network", "ip_of",
           "ip_prefix", "normalize_network", "parse_network"]
