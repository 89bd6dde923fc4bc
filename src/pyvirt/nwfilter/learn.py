"""Learning a guest port's IPv4 address for its filter's ``$IP`` (libvirt's CTRL_IP_LEARNING).

libvirt (nwfilter_learnipaddr.c): when a filter needs ``IP`` and the reference gives none, the
address is learnt from the guest's own traffic — with ``any`` (the default) from the first ARP
packet the guest sends with its MAC and a non-zero sender address, or from a DHCP ACK sent to
it; with ``dhcp`` from DHCP ACKs only; ``none`` does not learn (the filter then cannot be
instantiated).  Meanwhile the port gets libvirt's basic rules: frames from the guest with
another source MAC are dropped, its IPv4 and ARP go through, everything else it sends is
dropped (``dhcp``: only its DHCP requests and the replies to it).

Here a thread per port reads the port's frames from an ``AF_PACKET`` socket (both directions,
bounded reads, a short poll so that stopping is prompt) and calls back with the address once.
"""

from __future__ import annotations

import contextlib
import ipaddress
import select
import socket
import struct
import threading
from collections.abc import Callable

from pyvirt.network.hostnet import run

from .instantiate import error
from .nft import table_name

ETH_P_ALL = 0x0003
MODES = ("any", "dhcp", "none")


def mode_of(variables: dict[str, list[str]]) -> str:
    """The binding's CTRL_IP_LEARNING (libvirt's default: any), checked."""
    value = (variables.get("CTRL_IP_LEARNING") or ["any"])[0].lower()
    if value not in MODES:
        raise error(f"invalid value for CTRL_IP_LEARNING: '{value}' (any, dhcp or none)")
    return value


def basic_program(port: str, mac: str, mode: str) -> str:
    """libvirt's rules while it learns (ebtablesApplyBasicRules / ebtablesApplyDHCPOnlyRules)."""
    table = table_name(port)
    if mode == "dhcp":
        frm = [f"ether saddr {mac} ether type ip udp sport 68 udp dport 67 accept", "drop"]
        to = [f"ether daddr {{ {mac}, ff:ff:ff:ff:ff:ff }} ether type ip udp sport 67 udp dport 68 accept", "drop"]
    else:
        frm = [f"ether saddr != {mac} drop", "ether type ip accept", "ether type arp accept", "drop"]
        to = []
    lines = [f"table bridge {table} {{}}", f"delete table bridge {table}", f"table bridge {table} {{",
             "  chain prerouting {", "    type filter hook prerouting priority -300; policy accept;",
             *(f'    iifname "{port}" {r}' for r in frm), "  }"]
    if to:
        lines += ["  chain postrouting {", "    type filter hook postrouting priority 300; policy accept;",
                  *(f'    oifname "{port}" {r}' for r in to), "  }"]
    lines.append("}")
    return "\n".join(lines) + "\n"


def apply_basic(port: str, mac: str, mode: str) -> None:
    run(["nft", "-f", "-"], input=basic_program(port, mac, mode))


def learnt_from(frame: bytes, mac: bytes, mode: str) -> str | None:
    """The guest's address if this Ethernet frame tells it (None otherwise)."""
    if len(frame) < 14:
        return None
    dst, src, kind = frame[0:6], frame[6:12], struct.unpack("!H", frame[12:14])[0]
    body = frame[14:]
    if kind == 0x0806 and mode == "any" and src == mac and len(body) >= 28:
        sha, spa = body[8:14], body[14:18]
        if sha == mac and spa != b"\0\0\0\0":
            return str(ipaddress.IPv4Address(spa))
    if kind == 0x0800 and len(body) >= 20 and body[9] == 17:  # UDP: a DHCP ACK to the guest
        ihl = (body[0] & 0x0F) * 4
        udp = body[ihl:]
        if len(udp) < 8 + 240 or struct.unpack("!HH", udp[0:4]) != (67, 68):
            return None
        dhcp = udp[8:]
        if dhcp[0] != 2 or dhcp[28:34] != mac or dst not in (mac, b"\xff" * 6):  # BOOTREPLY to this MAC
            return None
        options, i = dhcp[240:], 0
        while i + 1 < len(options) and options[i] != 255:
            code, size = options[i], options[i + 1]
            if code == 53 and size >= 1 and options[i + 2] == 5:  # DHCPACK
                yiaddr = dhcp[16:20]
                return str(ipaddress.IPv4Address(yiaddr)) if yiaddr != b"\0\0\0\0" else None
            i += 2 + size if code != 0 else 1
    return None


class Learner:
    """One port's learning thread; `found(ip)` is called once, from the thread."""

    def __init__(self, port: str, mac: str, mode: str, found: Callable[[str], None]) -> None:
        self.port, self.mode, self.found = port, mode, found
        self.mac = bytes(int(x, 16) for x in mac.split(":"))
        self._stop = threading.Event()
        self._sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self._sock.bind((port, ETH_P_ALL))
        self._thread = threading.Thread(target=self._run, name=f"nwfilter-learn-{port}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                ready, _, _ = select.select([self._sock], [], [], 0.5)
                if not ready:
                    continue
                try:
                    frame = self._sock.recv(2048)
                except OSError:
                    return  # the port went away
                address = learnt_from(frame, self.mac, self.mode)
                if address is not None:
                    self.found(address)
                    return
        finally:
            with contextlib.suppress(OSError):
                self._sock.close()

    def stop(self) -> None:
        self._stop.set()
        if threading.current_thread() is not self._thread:
            self._thread.join(2)

