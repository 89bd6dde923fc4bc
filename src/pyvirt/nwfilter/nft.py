"""A port's network filter rules as one nftables ``bridge`` table (libvirt's ebtables layout).

libvirt's ebiptables driver gives each guest port two ebtables chains in the ``nat`` table:
``I-<port>`` for frames the guest sends (PREROUTING ``-i port``, the rules of direction ``out``
and ``inout``) and ``O-<port>`` for frames sent to it (POSTROUTING ``-o port``, directions ``in``
and ``inout``).  A filter whose chain is not ``root`` gets a sub-chain per direction, entered
from the root chain by protocol (``mac``: every frame; ``ipv4``/``ipv6``/``arp``/``rarp``/``vlan``:
that EtherType); the root chain holds the root filters' rules and those jumps interleaved by
priority (a jump before a rule of equal priority), each sub-chain its rules by priority (never
below its chain's priority).  An ``inout`` rule in the guest's sending chain matches with source
and destination swapped.  Falling off a chain returns (ebtables' RETURN policy of user chains);
falling off the root chain lets the frame through.  ``reject`` is ``drop`` there (ebtables has no
REJECT).

nftables' ``bridge`` family sees the same frames at the same hooks (prerouting at ebtables' nat
priority, postrouting), so each port gets one table, ``pyvirt_nwf_<port>``, replaced atomically
(``nft -f`` with the table created and deleted first) and dropped when the port goes.

Only the Ethernet-level protocol elements libvirt applies with ebtables are translated (``mac``,
``vlan``, ``arp``, ``rarp``, ``ip``, ``ipv6`` and rules without one: everything libvirt's shipped
filters use).  The elements libvirt applies with iptables on the host (``tcp``, ``udp``, ``icmp``,
``all``… and their ``-ipv6`` forms, with connection tracking), ``stp``, and ``arp gratuitous``
are refused naming the element, never left out.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re

from pyvirt.network.hostnet import run
from pyvirt.xml.nwfilter import NUMBERED_NAMES, PROTOCOLS, typed_value

from .instantiate import RuleInstance, error

#: protocol elements libvirt applies with ebtables (virNWFilterRuleIsProtocolEthernet)
ETHERNET = (None, "mac", "vlan", "stp", "arp", "rarp", "ip", "ipv6")
#: a sub-chain's entry test by its chain's prefix (ebtablesCreateTmpSubChainFW)
_ENTRY = {"mac": "", "arp": "ether type arp", "rarp": "ether type 0x8035", "ipv4": "ether type ip",
          "ipv6": "ether type ip6", "vlan": "ether type vlan"}
_VERDICT = {"accept": "accept", "drop": "drop", "reject": "drop", "return": "return", "continue": "continue"}
_SAFE = re.compile(r"[^A-Za-z0-9_]")
#: ebtables' nat PREROUTING / POSTROUTING priorities (NF_BR_PRI_NAT_DST_BRIDGED, _SRC)
_HOOKS = {"I": ("prerouting", -300, "iifname"), "O": ("postrouting", 300, "oifname")}
#: name -> number for the named values (EtherTypes, IP protocols, ARP opcodes)
_NUMBERS = {words: {name: number for number, name in names.items()} for words, names in NUMBERED_NAMES.items()}


def table_name(port: str) -> str:
    clean = _SAFE.sub("_", port)[:40]
    if clean != port:
        clean += "_" + hashlib.sha256(port.encode()).hexdigest()[:8]
    return f"pyvirt_nwf_{clean}"


def program(port: str, rules: list[RuleInstance]) -> str:
    """The nft program that (re)places the port's table; rules as libvirt orders them."""
    for inst in rules:
        if inst.rule.protocol not in ETHERNET or inst.rule.protocol == "stp":
            raise error(f"unsupported configuration: network filter rule element <{inst.rule.protocol}> is not "
                        "applied by pyvirt (only the Ethernet-level elements mac, vlan, arp, rarp, ip and ipv6)")
    # root rules first, then by priority; a sub-chain's rules never sort before their chain
    order = sorted(rules, key=lambda r: (r.chain != "root", _priority(r)))
    chains: dict[str, dict[str, int]] = {"I": {}, "O": {}}
    for inst in order:
        if inst.chain != "root":
            for side in _sides(inst.rule.direction):
                chains[side][inst.chain] = inst.chain_priority
    subchains = sorted(((prio, side, name) for side in "IO" for name, prio in chains[side].items()),
                       key=lambda s: s[0])
    body: dict[str, list[str]] = {"I": [], "O": []}
    sub: dict[tuple[str, str], list[str]] = {(side, name): [] for _, side, name in subchains}
    ids = {(side, name): f"{side}_{n}_{_SAFE.sub('_', name)}" for n, (_, side, name) in enumerate(subchains)}
    pending = list(subchains)

    def enter_until(priority: float) -> None:
        while pending and pending[0][0] <= priority:
            _, side, name = pending.pop(0)
            test = _ENTRY[name.split("-", 1)[0]]
            body[side].append(f"{test} jump {ids[(side, name)]}".strip())

    for inst in order:
        enter_until(_priority(inst))
        for side in _sides(inst.rule.direction):
            reverse = side == "I" and inst.rule.direction == "inout"
            line = " ".join([*_matches(inst, reverse), _VERDICT[inst.rule.action]])
            (body[side] if inst.chain == "root" else sub[(side, inst.chain)]).append(line)
    enter_until(float("inf"))
    table = table_name(port)
    lines = [f"table bridge {table} {{}}", f"delete table bridge {table}", f"table bridge {table} {{"]
    for key, name in ids.items():
        lines += [f"  chain {name} {{", *(f"    {r}" for r in sub[key]), "  }"]
    for side, (hook, priority, dev) in _HOOKS.items():
        if not body[side] and not any(s == side for s, _ in ids):
            continue
        lines += [f"  chain {side} {{", *(f"    {r}" for r in body[side]), "  }",
                  f"  chain {hook} {{", f"    type filter hook {hook} priority {priority}; policy accept;",
                  f'    {dev} "{port}" jump {side}', "  }"]
    lines.append("}")
    return "\n".join(lines) + "\n"


def apply(port: str, rules: list[RuleInstance]) -> None:
    """Replace the port's rules in one transaction (a failure leaves the old ones)."""
    run(["nft", "-f", "-"], input=program(port, rules))


def remove(port: str) -> None:
    """Drop the port's table if there is one (idempotent: a restarted pyvirtd may repeat it)."""
    table = table_name(port)
    run(["nft", "-f", "-"], input=f"table bridge {table} {{}}\ndelete table bridge {table}\n", check=False)


def present(port: str) -> bool:
    return bool(run(["nft", "list", "table", "bridge", table_name(port)], check=False).strip())


# ------------------------------------------------------------------------------ one rule
def _priority(inst: RuleInstance) -> int:
    if inst.chain != "root" and inst.chain_priority > inst.rule.priority:
        return inst.chain_priority
    return inst.rule.priority


def _sides(direction: str) -> tuple[str, ...]:
    """Which chains a rule goes into: 'out' (from the guest) is I, 'in' (to it) is O."""
    return {"out": ("I",), "in": ("O",), "inout": ("I", "O")}[direction]


def _value(inst: RuleInstance, name: str, values: dict[str, str]) -> str:
    """An attribute's value (a variable's value now), checked against the attribute's type."""
    spec = next(s for s in PROTOCOLS[inst.rule.protocol or ""] if s[0] == name)
    text = values[name]
    words = spec[2] if len(spec) > 2 else ()
    if text in words:
        return str(_NUMBERS[words][text]) if words in _NUMBERS else text
    out = typed_value(spec[1], text)
    if out is None:
        raise error(f"invalid value '{text}' for attribute '{name}' of <{inst.rule.protocol}> in a rule of chain "
                    f"'{inst.chain}'")
    return out


def _matches(inst: RuleInstance, reverse: bool) -> list[str]:
    """nft match expressions for one rule instance (`reverse`: source and destination swapped)."""
    proto = inst.rule.protocol
    if proto is None:
        return []
    values = {v.name: v.text for v in inst.values}
    neg = "!= " if inst.rule.negated else ""
    src, dst = ("daddr", "saddr") if reverse else ("saddr", "daddr")
    out: list[str] = []

    def get(name: str) -> str | None:
        return _value(inst, name, values) if name in values else None

    for attr, field in (("srcmacaddr", src), ("dstmacaddr", dst)):
        mac = get(attr)
        if mac is not None:
            mask = get(attr.replace("addr", "mask"))
            out.append(f"ether {field} & {mask} {neg or '== '}{mac}" if mask else f"ether {field} {neg}{mac}")
    if proto == "mac":
        if (kind := get("protocolid")) is not None:
            out.append(f"ether type {neg}{_hex16(kind)}")
    elif proto == "vlan":
        out.append("ether type vlan")
        if (vid := get("vlanid")) is not None:
            out.append(f"vlan id {neg}{vid}")
        if (encap := get("encap-protocol")) is not None:
            out.append(f"vlan type {neg}{_hex16(encap)}")
    elif proto in ("arp", "rarp"):
        out += _arp(inst, proto, get, neg, reverse)
    else:
        out += _ip(proto, get, neg, reverse)
    return out


def _hex16(number: str) -> str:
    return f"0x{int(number, 0):04x}"


def _arp(inst: RuleInstance, proto: str, get, neg: str, reverse: bool) -> list[str]:  # noqa: ANN001
    """ARP/RARP fields by their offsets in the packet (the same layout for both; nft's ``arp``
    keyword would add an ARP-only EtherType check)."""
    out = ["ether type arp" if proto == "arp" else "ether type 0x8035"]
    if get("gratuitous") == "true":
        raise error(f"unsupported configuration: <{proto} gratuitous='true'> is not applied by pyvirt")
    for attr, offset in (("hwtype", 0), ("protocoltype", 16), ("opcode", 48)):
        if (number := get(attr)) is not None:
            out.append(f"@nh,{offset},16 {neg}{int(number, 0)}")
    mac_at = {"arpsrcmacaddr": 64, "arpdstmacaddr": 144}
    ip_at = {"arpsrcipaddr": 112, "arpdstipaddr": 192}
    if reverse:
        mac_at = {"arpsrcmacaddr": 144, "arpdstmacaddr": 64}
        ip_at = {"arpsrcipaddr": 192, "arpdstipaddr": 112}
    for attr, offset in mac_at.items():
        if (mac := get(attr)) is not None:
            out.append(f"@nh,{offset},48 {neg}0x{mac.replace(':', '')}")
    for attr, offset in ip_at.items():
        if (addr := get(attr)) is not None:
            bits = int(get(attr.replace("addr", "mask")) or 32)
            mask = ((1 << bits) - 1) << (32 - bits)
            value = int(ipaddress.IPv4Address(addr)) & mask
            test = f"& 0x{mask:08x} {neg or '== '}" if bits < 32 else neg
            out.append(f"@nh,{offset},32 {test}0x{value:08x}")
    return out


def _ip(proto: str, get, neg: str, reverse: bool) -> list[str]:  # noqa: ANN001
    fam = "ip" if proto == "ip" else "ip6"
    out = [f"ether type {fam}"]
    src, dst = ("daddr", "saddr") if reverse else ("saddr", "daddr")
    for attr, field in (("srcipaddr", src), ("dstipaddr", dst)):
        if (addr := get(attr)) is not None:
            mask = get(attr.replace("addr", "mask"))
            net = ipaddress.ip_network(f"{addr}/{mask}", strict=False) if mask else addr
            out.append(f"{fam} {field} {neg}{net}")
    if (number := get("protocol")) is not None:
        out.append(f"{'ip protocol' if fam == 'ip' else 'ip6 nexthdr'} {neg}{int(number, 0)}")
    sport, dport = ("dport", "sport") if reverse else ("sport", "dport")
    for start, end, field in (("srcportstart", "srcportend", sport), ("dstportstart", "dstportend", dport)):
        if (first := get(start)) is not None:
            last = get(end)
            out.append(f"th {field} {neg}{int(first, 0)}" + (f"-{int(last, 0)}" if last else ""))
    if (dscp := get("dscp")) is not None:
        out.append(f"ip dscp {neg}{int(dscp, 0)}")
    for attr, end, field in (("type", "typeend", "type"), ("code", "codeend", "code")):
        if (first := get(attr)) is not None:
            last = get(end)
            out.append(f"icmpv6 {field} {neg}{int(first, 0)}" + (f"-{int(last, 0)}" if last else ""))
    return out


