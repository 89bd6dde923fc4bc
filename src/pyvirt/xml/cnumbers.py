"""Numbers read as libvirt's and virsh's C code reads them (virStrToLong_*, C's strtol family).

One reader for the CLI (virsh's option values, at a position, within a C type's range) and the
XML engine (libvirt's attribute and element numbers, over the whole text): leading blanks, a
sign, then digits in the base (0: ``0x`` is hex and a leading ``0`` octal, as C does).  A
leaf module (no import) so that the CLI's paths may take it without the XML engine.
"""

from __future__ import annotations

#: [low, high) of the C integer types virsh and libvirt read: the option table's `ctype`
#: (vshCommandOptInt/UInt/UIntWrap/ULongLong) and the numbers commands read themselves
#: (virStrToLong_ll for memtune's sizes, typed parameters' uint/int/ullong/llong for schedinfo
#: --set, a cpulist's int...).  The ``wrap`` types take a minus sign and wrap it, as strtoul does.
C_RANGES = {"int": (-(1 << 31), 1 << 31), "uint": (0, 1 << 32), "uintwrap": (1 - (1 << 32), 1 << 32),
            "llong": (-(1 << 63), 1 << 63), "ullong": (0, 1 << 64), "ullongwrap": (1 - (1 << 64), 1 << 64)}

_BLANKS = " \t\n\v\f\r"
_HEX = "0123456789abcdef"


def c_integer(text: str, ctype: str | None, pos: int = 0, base: int = 10) -> tuple[int, int] | None:
    """libvirt's virStrToLong_* reading a C `ctype` (a C_RANGES key; None: no range) at `pos`:
    leading blanks, a sign, digits (0x for base 16; base 0 as C's strtol); (value, end of the
    digits) or None when there are no digits or the value is past the type.  A negative value of
    an unsigned type wraps where the type says so (``uintwrap``, ``ullongwrap``: virStrToLong_ui/
    ull, strtoul's wrap) and is refused otherwise (the _uip/_ullp forms).  What follows the
    digits is the caller's to judge."""
    i = pos
    while i < len(text) and text[i] in _BLANKS:
        i += 1
    negative = i < len(text) and text[i] == "-"
    if i < len(text) and text[i] in "+-":
        i += 1
    hex_prefix = text[i:i + 2].lower() == "0x" and text[i + 2:i + 3].lower() in tuple(_HEX)
    if base == 0:
        base = 16 if hex_prefix else 8 if text[i:i + 1] == "0" else 10
    if base == 16 and hex_prefix:
        i += 2
    digits = _HEX[:base]
    start = i
    while i < len(text) and text[i].lower() in digits:
        i += 1
    if i == start:
        return None
    value = -int(text[start:i], base) if negative else int(text[start:i], base)
    if ctype is None:
        return value, i
    low, high = C_RANGES[ctype]
    if not low <= value < high:
        return None
    return (value % high if value < 0 and ctype.endswith("wrap") else value), i


def c_strtol(text: str, base: int = 10) -> int | None:
    """``text`` as libvirt's virStrToLong_* reads a number over the whole text: blanks before it
    and a sign are allowed, anything after it is not (``'5 '`` is refused, where Python's int()
    would take it, and ``1_000``); base 0 reads ``0x`` as hex and a leading ``0`` as octal;
    base 16 reads hex with or without ``0x``.  None when it is no number."""
    got = c_integer(text, None, 0, base)
    return got[0] if got is not None and got[1] == len(text) else None
