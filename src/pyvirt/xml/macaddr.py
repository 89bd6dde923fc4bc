"""A MAC address as libvirt reads one (virMacAddrParse) and writes it (virMacAddrFormat)."""

from __future__ import annotations

_HEX = set("0123456789abcdefABCDEF")


def parse_mac(text: str) -> str | None:
    """``text`` in libvirt's spelling (six two-digit lower-case octets), or None when
    virMacAddrParse refuses it: six octets of one or two hex digits joined by ``:`` (no sign or
    blank before one); after the sixth, anything from a blank or control character on is
    ignored (``52:54:0:1:2:3`` is 52:54:00:01:02:03, ``... xyz`` after a blank is dropped)."""
    octets = []
    pos = 0
    for i in range(6):
        end = pos
        while end < len(text) and text[end] in _HEX and end - pos < 3:
            end += 1
        if not 1 <= end - pos <= 2:
            return None
        octets.append(int(text[pos:end], 16))
        rest = text[end:end + 1]
        if i == 5:
            return ":".join(f"{o:02x}" for o in octets) if rest == "" or rest <= " " else None
        if rest != ":":
            return None
        pos = end + 1
    return None
