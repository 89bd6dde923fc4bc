"""nftables rules for one virtual network, applied and removed as one transaction.

Each network owns one ``inet`` table named after it (``pyvirt_<name>``): NAT networks get
masquerading for traffic leaving their subnets and a forward filter that lets out what the
guests start and lets in only replies; routed networks forward both ways; isolated networks
forward nothing; open networks get no table at all.  ``nft -f`` applies a file atomically, and
the file first creates and deletes the table, so re-applying replaces the old rules in one step
and a failed apply leaves the previous state untouched.
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING

from pyvirt.network.hostnet import run

if TYPE_CHECKING:
    from pyvirt.xml.network import Nat

_SAFE = re.compile(r"[^A-Za-z0-9_]")


def table_name(network: str) -> str:
    """An nft identifier for `network` (names may hold characters nft does not allow)."""
    clean = _SAFE.sub("_", network)[:40]
    if clean != network:
        clean += "_" + hashlib.sha256(network.encode()).hexdigest()[:8]
    return f"pyvirt_{clean}"


def snat_rules(fam: str, net: str, nat: Nat | None) -> list[str]:
    """Source NAT for subnet *net* (nft family word *fam*), libvirt's rules in nft words: local
    multicast (and IPv4 broadcast) is left alone; TCP/UDP get source ports from ``<nat><port>``
    (libvirt's 1024-65535 when absent); with ``<nat><address>`` (IPv4 only, as in libvirt) the
    source becomes that range (SNAT) instead of the outgoing interface's address (masquerade)."""
    match = f"{fam} saddr {net} {fam} daddr != {net}"
    ports = f"{nat.port_start or 1024}-{nat.port_end or 65535}" if nat is not None else "1024-65535"
    if fam == "ip" and nat is not None and nat.address_start:
        end = nat.address_end if nat.address_end and nat.address_end != nat.address_start else None
        to = nat.address_start + (f"-{end}" if end else "")
        action, port_action = f"snat ip to {to}", f"snat ip to {to}:{ports}"
    else:
        action, port_action = "masquerade", f"masquerade to :{ports}"
    keep = ["224.0.0.0/24", "255.255.255.255"] if fam == "ip" else ["ff02::/16"]
    return [*(f"{fam} saddr {net} {fam} daddr {dest} return" for dest in keep),
            f"meta l4proto {{ tcp, udp }} {match} {port_action}", f"{match} {action}"]


def ruleset(network: str, mode: str, bridge: str, subnets: list[str], nat_range: Nat | None = None) -> str | None:
    """The nft program for a network, or None when it needs no rules (open mode)."""
    if mode == "open":
        return None
    table = table_name(network)
    v4 = [s for s in subnets if ":" not in s]
    v6 = [s for s in subnets if ":" in s]
    fwd: list[str] = []
    nat: list[str] = []
    br = f'"{bridge}"'
    if mode in ("nat", "route"):
        for fam, nets in (("ip", v4), ("ip6", v6)):
            for net in nets:
                fwd.append(f"iifname {br} {fam} saddr {net} accept")
                if mode == "nat" and (fam == "ip" or (nat_range is not None and nat_range.ipv6)):
                    fwd.append(f"oifname {br} {fam} daddr {net} ct state related,established accept")
                    nat += snat_rules(fam, net, nat_range)
                else:
                    fwd.append(f"oifname {br} {fam} daddr {net} accept")
    fwd.append(f"iifname {br} oifname {br} accept")  # guest to guest on the same bridge
    fwd.append(f"iifname {br} reject")
    fwd.append(f"oifname {br} reject")
    lines = [f"table inet {table} {{}}", f"delete table inet {table}", f"table inet {table} {{",
             "  chain forward {", "    type filter hook forward priority filter; policy accept;"]
    lines += [f"    {r}" for r in fwd]
    lines.append("  }")
    if nat:
        lines += ["  chain postrouting {", "    type nat hook postrouting priority srcnat; policy accept;"]
        lines += [f"    {r}" for r in nat]
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def apply(network: str, mode: str, bridge: str, subnets: list[str], nat_range: Nat | None = None) -> None:
    program = ruleset(network, mode, bridge, subnets, nat_range)
    if program is not None:
        run(["nft", "-f", "-"], input=program)


def remove(network: str) -> None:
    """Delete the network's table if it is there (idempotent: stop after a crash must work)."""
    table = table_name(network)
    run(["nft", "-f", "-"], input=f"table inet {table} {{}}\ndelete table inet {table}\n", check=False)


def present(network: str) -> bool:
    return bool(run(["nft", "list", "table", "inet", table_name(network)], check=False).strip())
