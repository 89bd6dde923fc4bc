"""libvirt host ``<interface>`` XML (interface.rng) -> :class:`InterfaceDef` -> libvirt's text.

Read as virInterfaceDefParseXML reads it (its checks and its words, elements it does not read are
not kept) and written as virInterfaceDefFormat writes it: start mode, MTU and protocols at the top
level only, then the link, then the MAC (ethernet), the bridge, bond or VLAN part; a MAC is kept
as given (libvirt keeps the string).  libvirt's test driver defines host interfaces with this;
pyvirtd reads the host's own (daemon.hostdevs) and defines none, as libvirt without netcf.
"""

from __future__ import annotations

from dataclasses import field

from .errors import XMLError
from .escape import escape_xml
from .fields import model

TYPES = ("ethernet", "bridge", "bond", "vlan")
START_MODES = ("none", "onboot", "hotplug")
BOND_MODES = ("balance-rr", "active-backup", "balance-xor", "broadcast", "802.3ad", "balance-tlb", "balance-alb")
ARP_VALIDATE = ("none", "active", "backup", "all")


class InterfaceXMLError(XMLError):
    """What libvirt reports as VIR_ERR_XML_ERROR ("XML error: …")."""


class UnknownCauseError(XMLError):
    """A case where libvirt 9.0 fails without reporting why (its "An error occurred, but the cause
    is unknown"): an MTU that is not a number."""


@model
class Protocol:
    family: str
    autoconf: bool = False
    dhcp: bool = False
    peerdns: str | None = None
    ips: list[tuple[str, str | None]] = field(default_factory=list)
    gateway: str | None = None


@model
class InterfaceDef:
    type: str
    name: str | None = None
    start: str | None = None
    mtu: int | None = None
    mac: str | None = None
    link: tuple[str | None, str | None] = (None, None)  # speed, state
    protocols: list[Protocol] = field(default_factory=list)
    stp: str | None = None
    delay: str | None = None
    bond_mode: str | None = None
    miimon: dict[str, str] | None = None
    arpmon: dict[str, str] | None = None
    vlan_tag: str | None = None
    vlan_dev: str | None = None
    members: list[InterfaceDef] = field(default_factory=list)

    @classmethod
    def from_xml(cls, xml: str | bytes) -> InterfaceDef:
        from .libxml_report import URLS
        from .safe import safe_parse

        root = safe_parse(xml, URLS["interface"])
        if root.tag != "interface":
            raise InterfaceXMLError(f"expecting root element of 'interface', not '{root.tag}'", root.sourceline)
        return _parse(root, top=True)

    def to_xml(self) -> str:
        return "\n".join(_format(self, top=True)) + "\n"


def _parse(el: object, top: bool) -> InterfaceDef:
    get, line = el.get, el.sourceline  # type: ignore[attr-defined]
    kind = get("type")
    if kind is None:
        raise InterfaceXMLError("Missing required attribute 'type' in element 'interface'", line)
    if kind not in TYPES:
        raise InterfaceXMLError(f"Invalid value for attribute 'type' in element 'interface': '{kind}'.", line)
    out = InterfaceDef(kind)
    if kind != "vlan" or top:
        out.name = get("name")
        if not out.name:
            raise InterfaceXMLError("interface has no name", line)
    else:
        out.name = get("name")
    if top:
        start = el.find("start")  # type: ignore[attr-defined]
        if start is not None and start.get("mode") is not None:
            if start.get("mode") not in START_MODES:
                raise InterfaceXMLError(f"unknown interface startmode {start.get('mode')}", start.sourceline)
            out.start = start.get("mode")
        mtu = el.find("mtu")  # type: ignore[attr-defined]
        if mtu is not None and mtu.get("size") is not None:
            if not mtu.get("size").strip().isdigit():
                raise UnknownCauseError("An error occurred, but the cause is unknown", mtu.sourceline)
            out.mtu = int(mtu.get("size"))
        out.protocols = [_protocol(p) for p in el.findall("protocol")]  # type: ignore[attr-defined]
    link = el.find("link")  # type: ignore[attr-defined]
    if link is not None:
        out.link = (link.get("speed"), link.get("state"))
    if kind == "ethernet":
        mac = el.find("mac")  # type: ignore[attr-defined]
        out.mac = mac.get("address") if mac is not None else None
    elif kind == "bridge":
        _bridge(out, el)
    elif kind == "bond":
        _bond(out, el)
    else:
        _vlan(out, el)
    return out


def _protocol(el: object) -> Protocol:
    family = el.get("family")  # type: ignore[attr-defined]
    if family not in ("ipv4", "ipv6"):
        raise InterfaceXMLError("protocol misses the family attribute" if family is None else
                                f"unsupported protocol family '{family}'", el.sourceline)  # type: ignore[attr-defined]
    out = Protocol(family, autoconf=family == "ipv6" and el.find("autoconf") is not None)  # type: ignore[attr-defined]
    dhcp = el.find("dhcp")  # type: ignore[attr-defined]
    if dhcp is not None:
        out.dhcp = True
        peerdns = dhcp.get("peerdns")
        if peerdns not in (None, "yes", "no"):
            raise InterfaceXMLError(f"Invalid value for attribute 'peerdns' in element 'dhcp': '{peerdns}'.",
                                    dhcp.sourceline)
        out.peerdns = peerdns
    for ip in el.findall("ip"):  # type: ignore[attr-defined]
        prefix = ip.get("prefix")
        if prefix is not None and not prefix.isdigit():
            raise InterfaceXMLError("Invalid ip address prefix value", ip.sourceline)
        out.ips.append((ip.get("address") or "", prefix))
    route = el.find("route")  # type: ignore[attr-defined]
    if route is not None:
        out.gateway = route.get("gateway")
    return out


def _members(out: InterfaceDef, parent: object) -> None:
    for sub in parent.findall("interface"):  # type: ignore[attr-defined]
        member = _parse(sub, top=False)
        if member.type == "bridge" or (out.type == "bond" and member.type != "ethernet"):
            raise InterfaceXMLError(f"{out.type} member interface of type '{member.type}' is not allowed",
                                    sub.sourceline)
        out.members.append(member)


def _bridge(out: InterfaceDef, el: object) -> None:
    bridge = el.find("bridge")  # type: ignore[attr-defined]
    if bridge is None:
        raise InterfaceXMLError("bridge interface misses the bridge element", el.sourceline)  # type: ignore[attr-defined]
    stp = bridge.get("stp")
    if stp not in (None, "on", "off"):
        raise InterfaceXMLError(f"bridge interface stp should be on or off got {stp}", bridge.sourceline)
    out.stp, out.delay = stp, bridge.get("delay")
    _members(out, bridge)


def _bond(out: InterfaceDef, el: object) -> None:
    bond = el.find("bond")  # type: ignore[attr-defined]
    if bond is None:
        raise InterfaceXMLError("bond interface misses the bond element", el.sourceline)  # type: ignore[attr-defined]
    mode = bond.get("mode")
    if mode is not None and mode not in BOND_MODES:
        raise InterfaceXMLError(f"unknown bonding mode {mode}", bond.sourceline)
    out.bond_mode = mode
    miimon, arpmon = bond.find("miimon"), bond.find("arpmon")
    if miimon is not None:
        if not (miimon.get("freq") or "").isdigit():
            raise InterfaceXMLError("bond interface miimon freq missing or invalid", miimon.sourceline)
        carrier = miimon.get("carrier")
        if carrier not in (None, "ioctl", "netif"):
            raise InterfaceXMLError(f"unknown mii bonding carrier {carrier}", miimon.sourceline)
        out.miimon = {k: miimon.get(k) for k in ("freq", "downdelay", "updelay", "carrier") if miimon.get(k)}
    elif arpmon is not None:
        if not (arpmon.get("interval") or "").isdigit():
            raise InterfaceXMLError("bond interface arpmon interval missing or invalid", arpmon.sourceline)
        if not arpmon.get("target"):
            raise InterfaceXMLError("bond interface arpmon target missing", arpmon.sourceline)
        if arpmon.get("validate") not in (None, *ARP_VALIDATE):
            raise InterfaceXMLError(f"unknown arp bonding validate {arpmon.get('validate')}", arpmon.sourceline)
        out.arpmon = {k: arpmon.get(k) for k in ("interval", "target", "validate") if arpmon.get(k)}
    _members(out, bond)
    if not out.members:
        raise InterfaceXMLError("bond has no interfaces", bond.sourceline)


def _vlan(out: InterfaceDef, el: object) -> None:
    vlan = el.find("vlan")  # type: ignore[attr-defined]
    if vlan is None:
        raise InterfaceXMLError("vlan interface misses the vlan element", el.sourceline)  # type: ignore[attr-defined]
    out.vlan_tag = vlan.get("tag")
    if not out.vlan_tag:
        raise InterfaceXMLError("vlan interface misses the tag attribute", vlan.sourceline)
    dev = vlan.find("interface")
    if dev is not None:
        out.vlan_dev = dev.get("name")
        if not out.vlan_dev:
            raise InterfaceXMLError("vlan interface misses name attribute", dev.sourceline)


def _attrs(pairs: list[tuple[str, str | None]]) -> str:
    return "".join(f" {k}='{escape_xml(v)}'" for k, v in pairs if v is not None)


def _format(d: InterfaceDef, top: bool) -> list[str]:
    head = f"<interface type='{d.type}'" + (f" name='{escape_xml(d.name)}'" if d.name is not None else "") + ">"
    body: list[str] = []
    if top:
        if d.start:
            body.append(f"<start mode='{d.start}'/>")
        if d.mtu:
            body.append(f"<mtu size='{d.mtu}'/>")
        for p in d.protocols:
            body.append(f"<protocol family='{p.family}'>")
            body += ["  <autoconf/>"] if p.autoconf else []
            body += [f"  <dhcp{_attrs([('peerdns', p.peerdns)])}/>"] if p.dhcp else []
            body += [f"  <ip{_attrs([('address', a), ('prefix', x if x and int(x) > 0 else None)])}/>"
                     for a, x in p.ips if a]
            body += [f"  <route gateway='{escape_xml(p.gateway)}'/>"] if p.gateway else []
            body.append("</protocol>")
    if d.type != "bridge" and any(d.link):
        body.append(f"<link{_attrs([('speed', d.link[0]), ('state', d.link[1])])}/>")
    if d.type == "ethernet" and d.mac is not None:
        body.append(f"<mac address='{escape_xml(d.mac)}'/>")
    elif d.type in ("bridge", "bond"):
        if d.type == "bridge":
            body.append(f"<bridge{_attrs([('stp', d.stp), ('delay', d.delay)])}>")
        else:
            body.append(f"<bond{_attrs([('mode', d.bond_mode)])}>")
            if d.miimon is not None:
                body.append(f"  <miimon{_attrs(list(d.miimon.items()))}/>")
            elif d.arpmon is not None:
                body.append(f"  <arpmon{_attrs(list(d.arpmon.items()))}/>")
        for member in d.members:
            body += ["  " + line for line in _format(member, top=False)]
        body.append(f"</{d.type}>")
    elif d.type == "vlan":
        if d.vlan_dev is None:
            body.append(f"<vlan tag='{escape_xml(d.vlan_tag or '')}'/>")
        else:
            body += [f"<vlan tag='{escape_xml(d.vlan_tag or '')}'>", f"  <interface name='{escape_xml(d.vlan_dev)}'/>",
                     "</vlan>"]
    return [head, *("  " + line for line in body), "</interface>"]
