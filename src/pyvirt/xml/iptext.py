"""An IP address as libvirt writes it (virSocketAddrFormat: getnameinfo's numeric form).

For IPv6 that is the C library's inet_ntop, which writes IPv4-compatible and IPv4-mapped
addresses with a dotted tail (``::10.1.2.3``, ``::ffff:10.1.2.3``) where Python's ``str`` of an
address writes hex groups (``::a01:203``).
"""

from __future__ import annotations

import ipaddress
import socket

IPAddr = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_ip(text: str | None, family: int = socket.AF_UNSPEC) -> IPAddr:
    """``text`` read as libvirt reads an address (virSocketAddrParse: getaddrinfo with
    AI_NUMERICHOST), so IPv4 takes inet_aton's forms as well as the dotted quad: ``10.1`` is
    10.0.0.1, ``010.0.0.1`` is octal (8.0.0.1), ``0x0a.0.0.1`` hex, ``192.168.122.01`` is .1;
    blanks around it are refused.  ValueError when it is no address (of ``family``, when
    given); a scoped IPv6 address (``%eth0``) is refused too: no address libvirt keeps has one."""
    if not text or "%" in text:
        raise ValueError(f"not an address: {text!r}")
    try:
        info = socket.getaddrinfo(text, None, family, 0, 0, socket.AI_NUMERICHOST)
    except (OSError, UnicodeError, ValueError):
        raise ValueError(f"not an address: {text!r}") from None
    return ipaddress.ip_address(info[0][4][0])


def ip_text(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    """``addr`` in libvirt's spelling."""
    if addr.version == 6:
        return socket.inet_ntop(socket.AF_INET6, addr.packed)
    return str(addr)
