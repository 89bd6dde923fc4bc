"""UUIDs as libvirt reads them.  Light (standard library only): the CLI's UUID arguments use it
without loading the XML model."""

from __future__ import annotations

_HEX = frozenset("0123456789abcdefABCDEF")


def parse_uuid(text: str) -> str | None:
    """libvirt's virUUIDParse: 32 hex digits, '-' or ' ' allowed between digit pairs, spaces
    around; the canonical lowercase form, or None when it is not one (no braces, no prefix:
    where libvirt refuses a UUID, pyvirt refuses it too)."""
    s = text.strip(" \t\n\v\f\r")
    pairs: list[str] = []
    i = 0
    while len(pairs) < 16:
        if i >= len(s):
            return None
        if s[i] in "- ":
            i += 1
            continue
        pair = s[i:i + 2]
        if len(pair) != 2 or not set(pair) <= _HEX:
            return None
        pairs.append(pair.lower())
        i += 2
    if i != len(s):
        return None
    h = "".join(pairs)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
