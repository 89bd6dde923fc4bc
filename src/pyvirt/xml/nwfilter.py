"""libvirt ``<filter>`` (network filter) XML <-> :class:`FilterDef`.

A filter is a chain name, an optional priority, a UUID and an ordered list of entries: references
to other filters (``<filterref filter='x'>`` with ``<parameter>``s) and rules
(``<rule action direction priority>`` holding at most one protocol element such as
``<tcp dstportstart='22'/>``).  libvirt's grammar (nwfilter.rng, nwfilter_conf.c) has some thirty
protocol elements sharing a dozen attribute groups; they are declared here as data — one table
of attribute groups, one of which groups each protocol has — rather than thirty model classes,
so the set of allowed attributes per element is still known exactly: anything else is refused
with the element and attribute named.  Values are checked by type (MAC, IPv4/IPv6 address or
mask, integers in decimal or hex, the enumerations) or may be a variable (``$IP``, ``$IP[@1]``);
the output is virNWFilterDefFormat's (hex kept hex, masks as prefix lengths, MACs lower case,
rule priority 500 when not given, the chain's implicit priority).
"""

from __future__ import annotations

import re
import socket
from dataclasses import field

from .errors import XMLError
from .escape import escape_xml
from .fields import model
from .iptext import ip_text, parse_ip
from .uuids import parse_uuid
from .validate import validate_name

#: chain -> implicit priority (libvirt's chain_priorities); a chain may also be PREFIX-suffix.
#: 'stp' is a valid chain prefix that libvirt 9.0's table lacks: an stp chain's implicit priority
#: is 0, not NWFILTER_STP_FILTER_PRI (-810), so none is written
CHAIN_PRIORITIES = {"root": 0, "stp": 0, "mac": -800, "vlan": -750, "ipv4": -700, "ipv6": -600, "arp": -500,
                    "rarp": -400}
VALID_CHAIN_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-")
MAX_CHAIN_SUFFIX = 12
PRIORITY_RANGE = (-1000, 1000)
RULE_PRIORITY_DEFAULT = 500
ACTIONS = ("drop", "accept", "reject", "return", "continue")
DIRECTIONS = ("in", "out", "inout")

# --------------------------------------------------------------------- attribute value types
MAC, IP, IPMASK, IP6, IP6MASK, U8, U16, U32, BOOL, TEXT = ("mac", "ip", "ipmask", "ip6", "ip6mask", "u8", "u16",
                                                           "u32", "bool", "text")
#: a DSCP value: a byte of at most 63 (libvirt's dscpValidator: six bits)
DSCP = "dscp"
#: a MAC mask: a MAC address whose one bits come first (libvirt's checkMACMask)
MACMASK = "macmask"
ETHER_TYPES = ("arp", "rarp", "ipv4", "ipv6", "vlan")
IP_PROTOCOLS = ("tcp", "udp", "udplite", "esp", "ah", "icmp", "igmp", "sctp", "icmpv6")
ARP_OPCODES = ("Request", "Reply", "Request_Reverse", "Reply_Reverse", "DRARP_Request", "DRARP_Reply",
               "DRARP_Error", "InARP_Request", "ARP_NAK")
STATES = ("NEW", "ESTABLISHED", "RELATED", "INVALID", "NONE")
#: the numbers libvirt writes by name (its ipprotomap, macProtoMap and arpOpcodeMap): a number
#: given for one of these is written as the name (protocol='6' -> protocol='tcp')
NUMBERED_NAMES = {
    IP_PROTOCOLS: {6: "tcp", 17: "udp", 136: "udplite", 50: "esp", 51: "ah", 1: "icmp", 2: "igmp", 132: "sctp",
                   58: "icmpv6"},
    ETHER_TYPES: {0x0806: "arp", 0x8035: "rarp", 0x0800: "ipv4", 0x86DD: "ipv6", 0x8100: "vlan"},
    ARP_OPCODES: {n: name for n, name in enumerate(ARP_OPCODES, 1)},
}
#: TCP flag bits in libvirt's order (tcpFlags: bit 0 first), and the state-match bits (stateMatchFlags)
TCP_FLAG_BITS = ("SYN", "ACK", "URG", "PSH", "FIN", "RST")
TCP_FLAGS = (*TCP_FLAG_BITS, "ALL", "NONE")
STATE_BITS = STATES
#: the highest VLAN ID (checkVlanVlanID) and the lowest EtherType a <mac protocolid> may be
#: (checkMacProtocolID: below 0x600 the field is an 802.3 length, not a protocol)
VLAN_ID_MAX = 4095
ETHER_TYPE_MIN = 0x600

_MAC_RE = re.compile(r"[0-9a-fA-F]{1,2}(:[0-9a-fA-F]{1,2}){5}")
#: a variable reference as virNWFilterVarAccessParse reads it: the name, then optionally an index
#: or iterator in brackets, with blanks allowed inside them; whatever follows ']' is not read
_VAR_RE = re.compile(r"\$([a-zA-Z0-9_]+)(?:\[ *(@?) *([-+]?[0-9]+) *\].*)?", re.DOTALL)
_UINT32 = 1 << 32
_IPSET_RE = re.compile(r"[a-zA-Z0-9_.:\-+ ]{1,31}")

#: attribute groups, in libvirt's format order: (name, type[, words a string value may be])
_SRCMAC = (("srcmacaddr", MAC), ("srcmacmask", MACMASK))
_L2 = (*_SRCMAC, ("dstmacaddr", MAC), ("dstmacmask", MACMASK))
_PORTS = (("srcportstart", U16), ("srcportend", U16), ("dstportstart", U16), ("dstportend", U16))
_COMMENT = (("comment", TEXT),)


def _l4(addr: str, mask: str) -> tuple[tuple[str, str] | tuple[str, str, tuple[str, ...]], ...]:
    """COMMON_IP_PROPS: the source MAC, addresses, ranges, DSCP, connection limit, state, ipset."""
    return (("srcmacaddr", MAC), ("srcipaddr", addr), ("srcipmask", mask), ("dstipaddr", addr),
            ("dstipmask", mask), ("srcipfrom", addr), ("srcipto", addr), ("dstipfrom", addr), ("dstipto", addr),
            ("dscp", DSCP), ("connlimit-above", U16), ("state", "states"), ("ipset", "ipset"),
            ("ipsetflags", "ipsetflags"))


_STP = (*_SRCMAC, ("type", U8), ("flags", U8), ("root-priority", U16), ("root-priority-hi", U16),
        ("root-address", MAC), ("root-address-mask", MACMASK), ("root-cost", U32), ("root-cost-hi", U32),
        ("sender-priority", U16), ("sender-priority-hi", U16), ("sender-address", MAC),
        ("sender-address-mask", MACMASK), ("port", U16), ("port-hi", U16), ("age", U16), ("age-hi", U16),
        ("max-age", U16), ("max-age-hi", U16), ("hello-time", U16), ("hello-time-hi", U16),
        ("forward-delay", U16), ("forward-delay-hi", U16))
_ARP = (*_L2, ("hwtype", U16), ("protocoltype", U16), ("opcode", U16, ARP_OPCODES), ("arpsrcmacaddr", MAC),
        ("arpdstmacaddr", MAC), ("arpsrcipaddr", IP), ("arpsrcipmask", IPMASK), ("arpdstipaddr", IP),
        ("arpdstipmask", IPMASK), ("gratuitous", BOOL))

#: protocol element -> its attributes in libvirt's format order
PROTOCOLS: dict[str, tuple[tuple, ...]] = {
    "mac": (*_L2, ("protocolid", U16, ETHER_TYPES), *_COMMENT),
    "vlan": (*_L2, ("vlanid", U16), ("encap-protocol", U16, ETHER_TYPES), *_COMMENT),
    "stp": (*_STP, *_COMMENT),
    "arp": (*_ARP, *_COMMENT),
    "rarp": (*_ARP, *_COMMENT),
    "ip": (*_L2, ("srcipaddr", IP), ("srcipmask", IPMASK), ("dstipaddr", IP), ("dstipmask", IPMASK),
           ("protocol", U8, IP_PROTOCOLS), *_PORTS, ("dscp", DSCP), *_COMMENT),
    "ipv6": (*_L2, ("srcipaddr", IP6), ("srcipmask", IP6MASK), ("dstipaddr", IP6), ("dstipmask", IP6MASK),
             ("protocol", U8, IP_PROTOCOLS), *_PORTS, ("type", U8), ("typeend", U8), ("code", U8),
             ("codeend", U8), *_COMMENT),
}
for _name, _extra in (("tcp", (*_PORTS, ("option", U8), ("flags", "tcpflags"))), ("udp", _PORTS),
                      ("sctp", _PORTS), ("icmp", (("type", U8), ("code", U8))), ("udplite", ()), ("esp", ()),
                      ("ah", ()), ("igmp", ()), ("all", ())):
    PROTOCOLS[_name] = (*_l4(IP, IPMASK), *_extra, *_COMMENT)
    if _name != "igmp":
        # libvirt 9.0's tcp-ipv6 table has no 'flags' (the schema allows it, the parser skips it
        # and no ip6tables rule gets it): refused here as an unknown attribute, not dropped
        _extra6 = tuple(spec for spec in _extra if _name != "tcp" or spec[0] != "flags")
        PROTOCOLS["icmpv6" if _name == "icmp" else f"{_name}-ipv6"] = (*_l4(IP6, IP6MASK), *_extra6, *_COMMENT)


class FilterXMLError(XMLError):
    """libvirt reports most nwfilter parse errors as internal errors or invalid arguments."""


@model
class Value:
    """One attribute of a protocol element: its text as libvirt formats it."""

    name: str
    text: str


@model
class Rule:
    action: str
    direction: str
    priority: int = RULE_PRIORITY_DEFAULT
    statematch: bool = True
    protocol: str | None = None
    negated: bool = False  # match='no'
    values: list[Value] = field(default_factory=list)


@model
class FilterRef:
    filter: str
    parameters: list[tuple[str, str]] = field(default_factory=list)


@model
class FilterDef:
    name: str
    chain: str = "root"
    priority: int = 0
    uuid: str | None = None
    entries: list[Rule | FilterRef] = field(default_factory=list)

    @classmethod
    def from_xml(cls, xml: str | bytes) -> FilterDef:
        """Read a ``<filter>`` (XMLError with the element, attribute and line); `uuid` stays None
        when the document has none (the driver keeps the old one or makes one)."""
        from .libxml_report import URLS
        from .safe import safe_parse

        root = safe_parse(xml, URLS["filter"])
        if root.tag != "filter":
            raise XMLError("unknown root element for nw filter", root.sourceline)
        _only(root, ("name", "chain", "priority"))
        name = root.get("name")
        if not name:
            raise FilterXMLError("filter has no name", root.sourceline)
        validate_name(name, root.sourceline, "filter")
        out = cls(name=name)
        chain = root.get("chain")
        if chain is not None:
            out.chain = chain
            out.priority = _chain_priority(chain, root.sourceline)
        if root.get("priority") is not None:
            out.priority = _int_in(root.get("priority", ""), PRIORITY_RANGE, "filter", "priority", root.sourceline)
        for child in root:
            if not isinstance(child.tag, str):
                continue  # comments, processing instructions
            if child.tag == "uuid":
                if out.uuid is not None:
                    raise XMLError("<filter> has more than one <uuid>", child.sourceline)
                out.uuid = parse_uuid(child.text or "")
                if out.uuid is None:
                    raise FilterXMLError("malformed uuid element", child.sourceline)
            elif child.tag == "filterref":
                out.entries.append(_filterref(child))
            elif child.tag == "rule":
                out.entries.append(_rule(child))
            else:
                raise XMLError(f"unknown element <{child.tag}> in <filter> (expected <uuid>, <rule> or "
                               "<filterref>)", child.sourceline)
        return out

    def references(self) -> list[str]:
        return [e.filter for e in self.entries if isinstance(e, FilterRef)]

    def to_xml(self) -> str:
        """virNWFilterDefFormat."""
        head = f"<filter name='{escape_xml(self.name)}' chain='{escape_xml(self.chain)}'"
        if self.priority:
            head += f" priority='{self.priority}'"
        lines = [head + ">", f"  <uuid>{self.uuid}</uuid>"]
        for entry in self.entries:
            lines += ["  " + line for line in _format_entry(entry)]
        lines.append("</filter>")
        return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------ reading
def _only(element: object, allowed: tuple[str, ...]) -> None:
    for name in element.attrib:  # type: ignore[attr-defined]
        if name not in allowed:
            raise XMLError(f"unknown attribute '{name}' of <{element.tag}>", element.sourceline)  # type: ignore[attr-defined]


def _int_in(text: str, bounds: tuple[int, int], element: str, attr: str, line: int | None) -> int:
    try:
        value = int(text.strip(), 10)
    except ValueError:
        value = None
    if value is None or not bounds[0] <= value <= bounds[1]:
        raise FilterXMLError(f"<{element}> attribute '{attr}': '{text}' is not an integer in "
                             f"[{bounds[0]},{bounds[1]}]", line)
    return value


def _chain_priority(chain: str, line: int | None) -> int:
    """virNWFilterIsValidChainName / virNWFilterIsAllowedChain: 'root', a known chain, or a known
    chain's name followed by '-' and a suffix; its implicit priority."""
    if len(chain) > MAX_CHAIN_SUFFIX:
        raise FilterXMLError(f"Name of chain is longer than {MAX_CHAIN_SUFFIX} characters", line)
    if not chain or any(c not in VALID_CHAIN_CHARS for c in chain):
        raise FilterXMLError("Chain name contains invalid characters", line)
    prefix = chain.split("-", 1)[0]
    if prefix not in CHAIN_PRIORITIES or (prefix == "root" and chain != "root"):
        known = ", ".join(f"'{c}-'" for c in CHAIN_PRIORITIES if c != "root")
        raise FilterXMLError(f"Invalid chain name '{chain}'. Please use a chain name called 'root' or any of the "
                             f"following prefixes: {known}", line)
    return CHAIN_PRIORITIES[prefix]


def _filterref(element: object) -> FilterRef:
    _only(element, ("filter",))
    name = element.get("filter")  # type: ignore[attr-defined]
    line = element.sourceline  # type: ignore[attr-defined]
    if not name:
        raise FilterXMLError("filterref has no filter attribute", line)
    ref = FilterRef(name)
    for param in element:  # type: ignore[attr-defined]
        if not isinstance(param.tag, str):
            continue
        if param.tag != "parameter":
            raise XMLError(f"unknown element <{param.tag}> in <filterref> (expected <parameter>)", param.sourceline)
        _only(param, ("name", "value"))
        pname, value = param.get("name"), param.get("value")
        if not pname or value is None or not re.fullmatch(r"[a-zA-Z0-9_]+", pname):
            raise FilterXMLError("<parameter> needs a name (letters, digits, '_') and a value", param.sourceline)
        ref.parameters.append((pname, value))
    return ref


def _rule(element: object) -> Rule:
    _only(element, ("action", "direction", "priority", "statematch"))
    get, line = element.get, element.sourceline  # type: ignore[attr-defined]
    action, direction = get("action"), get("direction")
    if not action:
        raise FilterXMLError("rule node requires action attribute", line)
    if action not in ACTIONS:
        raise FilterXMLError(f"unknown rule action attribute value '{action}'", line)
    if not direction:
        raise FilterXMLError("rule node requires direction attribute", line)
    if direction not in DIRECTIONS:
        raise FilterXMLError(f"unknown rule direction attribute value '{direction}'", line)
    rule = Rule(action, direction)
    if get("priority") is not None:
        rule.priority = _int_in(get("priority"), PRIORITY_RANGE, "rule", "priority", line)
    statematch = get("statematch")
    if statematch is not None:
        if statematch not in ("0", "false", "1", "true"):
            raise FilterXMLError(f"<rule> attribute 'statematch': '{statematch}' is not 'true' or 'false'", line)
        rule.statematch = statematch in ("1", "true")
    children = [c for c in element if isinstance(c.tag, str)]  # type: ignore[attr-defined]
    if len(children) > 1:
        raise XMLError("a <rule> holds at most one protocol element", children[1].sourceline)
    if children:
        _protocol(rule, children[0])
    return rule


def _protocol(rule: Rule, element: object) -> None:
    tag, line = element.tag, element.sourceline  # type: ignore[attr-defined]
    if tag not in PROTOCOLS:
        raise XMLError(f"unknown protocol element <{tag}> in <rule>", line)
    rule.protocol = tag
    specs = {spec[0]: spec for spec in PROTOCOLS[tag]}
    given = dict(element.attrib)  # type: ignore[attr-defined]
    match = given.pop("match", None)
    if match not in (None, "yes", "no"):
        raise FilterXMLError(f"<{tag}> attribute 'match': '{match}' is not 'yes' or 'no'", line)
    rule.negated = match == "no"
    for name in given:
        if name not in specs:
            raise XMLError(f"unknown attribute '{name}' of <{tag}>", line)
    last_error: FilterXMLError | None = None
    for spec in PROTOCOLS[tag]:  # libvirt's order, whatever the document's
        if spec[0] in given:
            # virNWFilterRuleDetailsParse reads on past a bad value and each report replaces
            # the one before: the error names the last bad attribute in table order
            try:
                rule.values.append(Value(spec[0], _value(tag, spec, given[spec[0]], line)))
            except FilterXMLError as err:
                last_error = err
    if last_error is not None:
        raise last_error


def _bad(tag: str, name: str, text: str, line: int | None) -> FilterXMLError:
    """virNWFilterRuleDetailsParse's wording, with the element named.  libvirt 9.0 refuses the
    filter (older versions reported the value and left it out: "we ignore malformed rules"; the
    cases that relied on it became its nwfilterxml2xml ``*-invalid`` inputs)."""
    return FilterXMLError(f"{name} has illegal value {text} (in <{tag}>)", line)


def _value(tag: str, spec: tuple, text: str, line: int | None) -> str:
    """One attribute's value as libvirt formats it, or its error."""
    name, kind = spec[0], spec[1]
    if kind == TEXT:
        if len(text) > 256:
            raise _bad(tag, name, "(longer than 256 characters)", line)
        return text
    if text.startswith("$"):
        out = _variable(text)
        if out is None:
            raise _bad(tag, name, text, line)
        return out
    words = spec[2] if len(spec) > 2 else ()
    if text in words:
        return text
    out = typed_value(kind, text)
    if out is None or not _in_protocol_range(tag, name, out):
        raise _bad(tag, name, text, line)
    if words:
        return NUMBERED_NAMES[words].get(int(out, 0), out)
    return out


def _in_protocol_range(tag: str, name: str, out: str) -> bool:
    """The validators libvirt adds to a number's type for one element: a VLAN ID is 12 bits
    (checkVlanVlanID), a <mac> protocolid an EtherType (checkMacProtocolID; a <vlan>
    encap-protocol has no such check)."""
    if tag == "vlan" and name == "vlanid":
        return int(out, 0) <= VLAN_ID_MAX
    if tag == "mac" and name == "protocolid":
        return int(out, 0) >= ETHER_TYPE_MIN
    return True


def _variable(text: str) -> str | None:
    """A ``$NAME``, ``$NAME[N]`` or ``$NAME[@N]`` reference as virNWFilterVarAccessPrint writes it,
    None when virNWFilterVarAccessParse refuses it.  Blanks inside the brackets and anything after
    ']' are not kept; the number is read as virStrToLong_ui reads it (a sign allowed, a negative
    one wrapping round 2^32); iterator 0 is a variable's default one, written as the bare name."""
    match = _VAR_RE.fullmatch(text)
    if match is None:
        return None
    name, iterator, number = match.groups()
    if number is None:
        return f"${name}"
    value = int(number)
    if not -_UINT32 < value < _UINT32:
        return None
    value %= _UINT32
    if iterator:
        return f"${name}" if value == 0 else f"${name}[@{value}]"
    return f"${name}[{value}]"


def _string_items(text: str, words: tuple[str, ...]) -> set[str] | None:
    """libvirt's parseStringItems: words separated by ',' or blanks, in any case, each the first
    table word the text goes on with (so 'SYNACK' is SYN and ACK); None when some part starts
    with no word."""
    found: set[str] = set()
    i, upper = 0, text.upper()
    while i < len(text):
        if text[i].isspace() or text[i] == ",":
            i += 1
            continue
        word = next((w for w in words if upper.startswith(w, i)), None)
        if word is None:
            return None
        found.add(word)
        i += len(word)
    return found


def _tcp_flags(text: str) -> str | None:
    """tcpFlagsValidator + printTCPFlags: MASK/FLAGS, each a set of flags written in libvirt's
    bit order, ALL when all six are set and NONE when none is."""
    if "/" not in text:
        return None
    parts = []
    for part in text.split("/", 1):
        words = _string_items(part, TCP_FLAGS)
        if words is None:
            return None
        bits = set(TCP_FLAG_BITS) if "ALL" in words else words - {"NONE"}
        parts.append("ALL" if len(bits) == len(TCP_FLAG_BITS) else
                     ",".join(f for f in TCP_FLAG_BITS if f in bits) or "NONE")
    return "/".join(parts)


def _states(text: str) -> str | None:
    """stateValidator + stateFormatter: the states in libvirt's order; NONE outweighs the rest."""
    words = _string_items(text, STATE_BITS)
    if not words:
        return None
    return "NONE" if "NONE" in words else ",".join(s for s in STATE_BITS if s in words)


_UINT_MAX = {U8: 0xFF, U16: 0xFFFF, U32: 0xFFFFFFFF, DSCP: 0x3F}


def _mask_prefix(text: str, version: int) -> str | None:
    """A netmask written as an address (255.255.255.0, ffff:ffff::) as its prefix length, as
    libvirt stores it (virSocketAddrGetNumNetmaskBits); None unless its ones are contiguous."""
    try:
        mask = parse_ip(text, socket.AF_INET if version == 4 else socket.AF_INET6)
    except ValueError:
        return None
    if mask.version != version:
        return None
    bits = 32 if version == 4 else 128
    value = int(mask)
    ones = bits - (~value & ((1 << bits) - 1)).bit_length()
    return str(ones) if value == ((1 << bits) - 1) ^ ((1 << (bits - ones)) - 1) else None


def typed_value(kind: str, text: str) -> str | None:
    """The formatted value of `text` as a `kind`, None when it is not one."""
    if kind in _UINT_MAX:
        hexa = text.lower().startswith("0x")
        try:
            number = int(text[2:] if hexa else text, 16 if hexa else 10)
        except ValueError:
            return None
        if not 0 <= number <= _UINT_MAX[kind]:
            return None
        return f"0x{number:x}" if hexa else str(number)
    if kind in (MAC, MACMASK):
        if not _MAC_RE.fullmatch(text):
            return None
        octets = [int(p, 16) for p in text.split(":")]
        bits = int.from_bytes(bytes(octets), "big")
        ones = 48 - (~bits & (1 << 48) - 1).bit_length()
        if kind == MACMASK and bits != ((1 << 48) - 1) ^ ((1 << (48 - ones)) - 1):
            return None
        return ":".join(f"{o:02x}" for o in octets)
    if kind in (IP, IP6):
        try:
            address = parse_ip(text, socket.AF_INET if kind == IP else socket.AF_INET6)
        except ValueError:
            return None
        return ip_text(address) if address.version == (4 if kind == IP else 6) else None
    if kind in (IPMASK, IP6MASK):
        bits = 32 if kind == IPMASK else 128
        if text.isdigit():
            return text if int(text) <= bits else None
        return _mask_prefix(text, 4 if kind == IPMASK else 6)
    if kind == BOOL:
        return {"true": "true", "1": "true", "false": "false", "0": "false"}.get(text)
    if kind == "states":
        return _states(text)
    if kind == "tcpflags":
        return _tcp_flags(text)
    if kind == "ipset":
        return text if _IPSET_RE.fullmatch(text) else None
    if kind == "ipsetflags":  # ipsetFlagsValidator: src/dst in any case, at most six, written lower case
        parts = text.lower().split(",")
        return ",".join(parts) if 0 < len(parts) <= 6 and all(p in ("src", "dst") for p in parts) else None
    return None


# ------------------------------------------------------------------------------ writing
def _format_entry(entry: Rule | FilterRef) -> list[str]:
    if isinstance(entry, FilterRef):
        head = f"<filterref filter='{escape_xml(entry.filter)}'"
        if not entry.parameters:
            return [head + "/>"]
        # libvirt keeps parameters in a table by name and writes it sorted by name, each name's
        # values in the order given (virNWFilterFormatParamAttributes)
        params = sorted(entry.parameters, key=lambda p: p[0])
        return [head + ">", *(f"  <parameter name='{escape_xml(n)}' value='{escape_xml(v)}'/>"
                              for n, v in params), "</filterref>"]
    head = f"<rule action='{entry.action}' direction='{entry.direction}' priority='{entry.priority}'"
    if not entry.statematch:
        head += " statematch='false'"
    if entry.protocol is None:
        return [head + "/>"]
    attrs = "".join(f" {v.name}='{escape_xml(v.text)}'" for v in entry.values)
    match = " match='no'" if entry.negated and entry.values else ""
    return [head + ">", f"  <{entry.protocol}{match}{attrs}/>", "</rule>"]
