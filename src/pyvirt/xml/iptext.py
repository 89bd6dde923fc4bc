"""An IP address as libvirt writes it (virSocketAddrFormat: getnameinfo's numeric form).

For IPv6 that is the C library's inet_ntop, which writes IPv4-compatible and IPv4-mapped
addresses with a dotted tail (``::10.1.2.3``, ``::ffff:10.1.2.3``) where Python's ``str`` of an
address writes hex groups (``::a01:203``).
"""

from __future__ import annotations

import ipaddress
import socket


def ip_text(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    """``addr`` in libvirt's spelling."""
    if addr.version == 6:
        return socket.inet_ntop(socket.AF_INET6, addr.packed)
    return str(addr)
