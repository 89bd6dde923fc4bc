"""Memory size units as libvirt reads them (virScaleInteger), results in KiB.

Kept separate because every XML kind (domain memory, volume capacity, pool sizes) scales numbers
the same way and must refuse the same bad input; free of lxml, so the CLI's hot path may use it.
"""

from __future__ import annotations

#: Largest size libvirt accepts for memory: it stores KiB in an unsigned long long of bytes.
MAX_BYTES = 2**64 - 1

_POWERS = {"k": 1, "m": 2, "g": 3, "t": 4, "p": 5, "e": 6}


def unit_scale(unit: str | None, default: int = 1024) -> int:
    """Bytes per unit for ``unit`` (``None``/empty = ``default``); case-insensitive like libvirt.

    The one table of libvirt's size units (virScaleInteger): XML sizes, virsh option values
    (cli/values.py), virsh-style sizes (storage/sizes.py) and the test driver all use it.  A
    bare letter or ``*iB`` is a power of 1024, ``*B`` a power of 1000, ``b``/``bytes`` is 1.
    Raises ValueError for anything else."""
    if unit is None or unit == "":
        return default
    u = unit.lower()
    if u in ("b", "byte", "bytes"):
        return 1
    power = _POWERS.get(u[0])
    if power is None:
        raise ValueError(unit)
    rest = u[1:]
    if rest in ("", "ib"):
        return 1024**power
    if rest == "b":
        return 1000**power
    raise ValueError(unit)


def parse_size_bytes(number: str, unit: str | None, where: str, line: int | None,
                     default_scale: int = 1024, xpath: str | None = None) -> int:
    """Parse ``number`` in ``unit`` to bytes; XMLError for a bad number, unit or overflow."""
    from .errors import XMLError  # here, not at import: the CLI's `list` scales sizes without it

    # virStrToLong_ullp: blanks before the number and a '+' are allowed, nothing after it
    s = number.lstrip(" \t\n\v\f\r")
    s = s[1:] if s.startswith("+") else s
    if not (s.isascii() and s.isdigit()):
        if xpath is not None:  # virDomainParseScaledValue's words
            raise XMLError(f"Invalid value '{number}' for element or attribute '{xpath}'", line,
                           libvirt_words=True)
        raise XMLError(f"invalid value {number!r} for {where}: expected a non-negative integer", line)
    try:
        scale = unit_scale(unit, default_scale)
    except ValueError:
        from .errors import XMLInvalidArgError

        raise XMLInvalidArgError(f"unknown suffix '{unit}'", line) from None  # virScaleInteger's words
    value = int(s) * scale
    if value > MAX_BYTES:
        raise XMLError(f"value {number}{unit or ''} for {where} is too large", line)
    return value


def parse_size_kib(number: str, unit: str | None, where: str, line: int | None, xpath: str | None = None) -> int:
    """Parse a memory size to KiB, rounding bytes up as libvirt does (VIR_DIV_UP)."""
    return -(-parse_size_bytes(number, unit, where, line, xpath=xpath) // 1024)
