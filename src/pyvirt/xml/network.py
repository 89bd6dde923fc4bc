"""The libvirt ``<network>`` XML model on the declarative engine (:mod:`pyvirt.xml.fields`).

One dataclass per element, one line per attribute; field order is libvirt 9.0's output order
(virNetworkDefFormatBuf).  :func:`parse_network` reads a document, refuses what is undeclared
(naming it), and applies libvirt's parse-time normalisation and checks
(:mod:`pyvirt.xml.network_rules`), so that ``to_xml()`` prints what ``virsh net-dumpxml`` prints.

Elements the network driver cannot set up (hostdev/vepa/passthrough/private modes, portgroups,
virtualport, vlan, bandwidth) are still *modelled*, so that defining and dumping such a network
means the same as with libvirt; starting one is refused by the driver, naming the element.
"""

from __future__ import annotations

from typing import Any

from .domain import Bandwidth
from .errors import XMLError
from .fields import (
    INT,
    YESNO,
    Conv,
    Enum,
    Int,
    Present,
    attr,
    child,
    children,
    ignored,
    line_field,
    model,
    raw,
    text,
    values,
)

FORWARD_MODES = ("nat", "route", "open", "bridge", "private", "vepa", "passthrough", "hostdev")


@model
class PCIAddress:
    """``<forward><address type='pci' .../>``: a VF for hostdev networks (hex, libvirt's widths)."""

    type: str | None = attr("@type", Enum("pci"))
    domain: int | None = attr("@domain", Int(0, 0xFFFF, base0=True, hex_width=4))
    bus: int | None = attr("@bus", Int(0, 0xFF, base0=True, hex_width=2))
    slot: int | None = attr("@slot", Int(0, 0x1F, base0=True, hex_width=2))
    function: int | None = attr("@function", Int(0, 7, base0=True, hex_width=1))
    connections: int | None = attr("@connections", INT, live_only=True)
    line: int | None = line_field()


@model
class ForwardInterface:
    """``<forward><interface dev=>``: a host interface the network forwards through."""

    dev: str | None = attr("@dev")
    connections: int | None = attr("@connections", INT, live_only=True)
    line: int | None = line_field()


@model
class ForwardPF:
    """``<forward><pf dev=>``: the SR-IOV physical function of a hostdev/passthrough pool."""

    dev: str | None = attr("@dev")
    line: int | None = line_field()


@model
class Nat:
    """``<forward><nat>``: SNAT address range and source port range, IPv6 NAT."""

    ipv6: bool | None = attr("@ipv6", YESNO)
    address_start: str | None = attr("address/@start")
    address_end: str | None = attr("address/@end")
    port_start: int | None = attr("port/@start", INT)
    port_end: int | None = attr("port/@end", INT)
    line: int | None = line_field()


@model
class Forward:
    """``<forward>``: how guests reach beyond the bridge (absent: isolated)."""

    dev: str | None = attr("@dev")
    mode: str | None = attr("@mode", Enum(*FORWARD_MODES, "none"))
    managed: bool | None = attr("@managed", YESNO)
    #: libvirt 9.0 knows kvm and vfio here (any other is refused by name in network_rules)
    driver_name: str | None = attr("driver/@name")
    nat: Nat | None = child("nat", Nat)
    pfs: list[ForwardPF] = children("pf", ForwardPF)
    interfaces: list[ForwardInterface] = children("interface", ForwardInterface)
    addresses: list[PCIAddress] = children("address", PCIAddress)
    line: int | None = line_field()

    def xml_omit(self, name: str, value: object) -> bool:
        """A ``<pf>`` beside the pool's interfaces or addresses is kept (libvirt's network
        driver refuses the mix) but not written, as virNetworkForwardDefFormat writes none."""
        return name == "pfs" and bool(self.interfaces or self.addresses)


class StpSwitch(Conv):
    """``<bridge stp=>`` as libvirt 9.0 reads it: only ``off`` turns STP off, any other word
    leaves it on (virNetworkDefParseXML compares with "off"); written on/off."""

    name = "boolean"

    def parse(self, text: str, where: str, line: int | None) -> bool:
        return text != "off"

    def format(self, value: Any) -> str:
        return "on" if value else "off"


@model
class Bridge:
    """``<bridge>``: the host bridge's name, firewalld zone, STP and forward delay."""

    name: str | None = attr("@name")
    zone: str | None = attr("@zone")
    stp: bool | None = attr("@stp", StpSwitch())
    delay: int | None = attr("@delay", INT)
    mac_table_manager: str | None = attr("@macTableManager", Enum("kernel", "libvirt"))
    line: int | None = line_field()


@model
class DNSForwarder:
    """``<dns><forwarder>``: an upstream server for all or one domain (``port`` is read and
    dropped: libvirt 9.0 does not know it)."""

    domain: str | None = attr("@domain")
    addr: str | None = attr("@addr")
    port: int | None = attr("@port", Int(1, 65535))
    line: int | None = line_field()


@model
class DNSTxt:
    """``<dns><txt name= value=>``."""

    name: str | None = attr("@name", Present())  # virXMLPropString: '' is kept
    value: str | None = attr("@value", Present())
    line: int | None = line_field()


@model
class DNSSrv:
    """``<dns><srv>``: a service record."""

    service: str | None = attr("@service")
    protocol: str | None = attr("@protocol")
    domain: str | None = attr("@domain")
    target: str | None = attr("@target")
    port: int | None = attr("@port", INT)
    priority: int | None = attr("@priority", INT)
    weight: int | None = attr("@weight", INT)
    line: int | None = line_field()


@model
class DNSHost:
    """``<dns><host ip=>`` with its ``<hostname>`` names."""

    ip: str | None = attr("@ip")
    hostnames: list[str] = values("hostname")
    line: int | None = line_field()


@model
class DNS:
    """``<dns>``: the network's DNS server (dnsmasq) settings and records."""

    enable: bool | None = attr("@enable", YESNO)
    forward_plain_names: bool | None = attr("@forwardPlainNames", YESNO)
    forwarders: list[DNSForwarder] = children("forwarder", DNSForwarder)
    txts: list[DNSTxt] = children("txt", DNSTxt)
    srvs: list[DNSSrv] = children("srv", DNSSrv)
    hosts: list[DNSHost] = children("host", DNSHost)
    line: int | None = line_field()


@model
class Lease:
    """``<lease expiry= unit=>``: DHCP lease time (0: infinite; unit defaults to minutes)."""

    expiry: int | None = attr("@expiry", INT)
    unit: str | None = attr("@unit", Enum("seconds", "minutes", "hours"))
    line: int | None = line_field()


@model
class DHCPRange:
    """``<dhcp><range start= end=>``."""

    start: str | None = attr("@start")
    end: str | None = attr("@end")
    lease: Lease | None = child("lease", Lease)
    line: int | None = line_field()


@model
class DHCPHost:
    """``<dhcp><host>``: a static lease by MAC (IPv4) or DUID/name (IPv6)."""

    mac: str | None = attr("@mac")
    id: str | None = attr("@id")
    name: str | None = attr("@name")
    ip: str | None = attr("@ip")
    lease: Lease | None = child("lease", Lease)
    line: int | None = line_field()


@model
class DHCP:
    """``<ip><dhcp>``: address ranges, static hosts, PXE boot file."""

    ranges: list[DHCPRange] = children("range", DHCPRange)
    hosts: list[DHCPHost] = children("host", DHCPHost)
    bootp_file: str | None = attr("bootp/@file", Present())  # virXMLPropString: '' is kept
    bootp_server: str | None = attr("bootp/@server")
    line: int | None = line_field()


@model
class IP:
    """``<ip>``: the bridge's address in one subnet, and DHCP in it.

    Written open/closed even when empty (``<ip ...>`` / ``</ip>``), as libvirt 9.0 does.
    """

    xml_keep_open = True

    family: str | None = attr("@family", Enum("ipv4", "ipv6"))
    address: str | None = attr("@address")
    netmask: str | None = attr("@netmask")
    #: read with virXMLPropUInt (an empty prefix is a bad number, not none)
    prefix: int | None = attr("@prefix", Present(INT))
    local_ptr: bool | None = attr("@localPtr", YESNO)
    tftp_root: str | None = attr("tftp/@root")
    dhcp: DHCP | None = child("dhcp", DHCP)
    line: int | None = line_field()


@model
class Route:
    """``<route>``: a static route the network adds via a gateway inside one of its subnets."""

    family: str | None = attr("@family", Enum("ipv4", "ipv6"))
    address: str | None = attr("@address")
    netmask: str | None = attr("@netmask")
    prefix: int | None = attr("@prefix", INT)
    gateway: str | None = attr("@gateway")
    metric: int | None = attr("@metric", Int(1))
    line: int | None = line_field()


class _Trunk(Conv):
    """``<vlan trunk=>``: virNetDevVlanParse compares without regard to case (``YES`` is yes)."""

    name = "boolean"

    def parse(self, text: str, where: str, line: int | None) -> bool:
        if text.lower() in ("yes", "no"):
            return text.lower() == "yes"
        raise XMLError(f"invalid \"trunk='{text}'\" in <vlan> - must be yes or no", line)

    def format(self, value: Any) -> str:
        return "yes" if value else "no"


@model
class VlanTag:
    """``<vlan><tag id= nativeMode=>``."""

    id: int | None = attr("@id", Present(Int(0, 4095)))  # virXMLPropUInt: '' is a bad id
    native_mode: str | None = attr("@nativeMode", Enum("tagged", "untagged"))
    line: int | None = line_field()


@model
class Vlan:
    """``<vlan trunk=>`` and its tags."""

    trunk: bool | None = attr("@trunk", _Trunk())
    tags: list[VlanTag] = children("tag", VlanTag)
    line: int | None = line_field()


@model
class VirtualPort:
    """``<virtualport type=>`` with its ``<parameters>`` (802.1Qbg/Qbh, openvswitch, midonet)."""

    type: str | None = attr("@type", Enum("802.1Qbg", "802.1Qbh", "openvswitch", "midonet"))
    managerid: int | None = attr("parameters/@managerid", Int(0, 255))
    typeid: int | None = attr("parameters/@typeid", Int(0, 0xFFFFFF))
    typeidversion: int | None = attr("parameters/@typeidversion", Int(0, 255))
    instanceid: str | None = attr("parameters/@instanceid")
    interfaceid: str | None = attr("parameters/@interfaceid")
    profileid: str | None = attr("parameters/@profileid")
    line: int | None = line_field()


@model
class PortGroup:
    """``<portgroup>``: named settings (vlan, virtualport, bandwidth) guests can pick (always
    written open/closed, as libvirt does)."""

    xml_keep_open = True

    name: str | None = attr("@name")
    default: bool | None = attr("@default", YESNO)
    trust_guest_rx_filters: bool | None = attr("@trustGuestRxFilters", YESNO)
    vlan: Vlan | None = child("vlan", Vlan)
    virtualport: VirtualPort | None = child("virtualport", VirtualPort)
    bandwidth: Bandwidth | None = child("bandwidth", Bandwidth)
    line: int | None = line_field()


@model
class Network:
    """``<network>``: a virtual network definition.

    ``forward is None`` is an isolated network; ``bridge.name`` may be empty until the driver
    picks ``virbrN``.  Addresses are kept as libvirt prints them (canonical, lower case).
    """

    connections: int | None = attr("@connections", INT, live_only=True)
    ipv6: bool | None = attr("@ipv6", YESNO)
    trust_guest_rx_filters: bool | None = attr("@trustGuestRxFilters", YESNO)
    name: str | None = text("name")
    uuid: str | None = text("uuid")
    #: libvirt 9.0 has no network title or description (they came in 9.7): accepted, not kept
    title: None = ignored("title")
    description: None = ignored("description")
    metadata: list[str] | None = raw("metadata", namespaced=True)
    forward: Forward | None = child("forward", Forward)
    bridge: Bridge | None = child("bridge", Bridge)
    mtu: int | None = attr("mtu/@size", INT)  # 0: unset, as libvirt
    mac: str | None = attr("mac/@address")
    domain_name: str | None = attr("domain/@name", Present())  # virXMLPropString: '' is kept
    domain_local_only: bool | None = attr("domain/@localOnly", YESNO)
    dns: DNS | None = child("dns", DNS)
    vlan: Vlan | None = child("vlan", Vlan)
    bandwidth: Bandwidth | None = child("bandwidth", Bandwidth)
    port_isolated: bool | None = attr("port/@isolated", YESNO)
    ips: list[IP] = children("ip", IP)
    routes: list[Route] = children("route", Route)
    virtualport: VirtualPort | None = child("virtualport", VirtualPort)
    portgroups: list[PortGroup] = children("portgroup", PortGroup)
    #: ``<dnsmasq:options>``: lines appended verbatim to the network's dnsmasq configuration
    #: (libvirt's dnsmasq namespace, written last as virNetworkDefFormatBuf does)
    dnsmasq_options: list[str] = values("dnsmasq:options/dnsmasq:option/@value",
                                        missing="No dnsmasq options value specified")
    line: int | None = line_field()

    @property
    def forward_mode(self) -> str:
        """libvirt's forward type name: 'none' (isolated), 'nat', 'route', 'open', 'bridge', ..."""
        return (self.forward.mode or "nat") if self.forward is not None else "none"

    @property
    def bridge_name(self) -> str | None:
        return self.bridge.name if self.bridge is not None else None

    def to_xml(self, *, inactive: bool = False) -> str:
        """Serialize like ``virsh net-dumpxml`` (``inactive``: ``--inactive``)."""
        from .mapping import format_document

        return format_document(self, "network", inactive=inactive)

    @classmethod
    def from_xml(cls, xml: str | bytes) -> Network:
        from .network_rules import parse_network

        return parse_network(xml)


__all__ = ["DHCP", "DNS", "IP", "Bandwidth", "Bridge", "DHCPHost", "DHCPRange", "DNSForwarder",
           "DNSHost", "DNSSrv", "DNSTxt", "Forward", "ForwardInterface", "ForwardPF", "Lease", "Nat",
           "Network", "PCIAddress", "PortGroup", "Route", "VirtualPort", "Vlan", "VlanTag"]
