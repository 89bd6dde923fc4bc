"""virsh-style sizes: ``10G``, ``1024M``, ``512KiB``, ``2GB`` -> bytes.

As virsh (``virScaleInteger``): a bare letter or ``*iB`` is a power of 1024, ``*B`` a power
of 1000, ``b``/``bytes`` is 1, no suffix means `default_unit`.  Case-insensitive.  Negative,
fractional, malformed or overflowing values raise :class:`ValueError` with the reason, so the
CLI and the daemon can refuse them before touching a disk.
"""

from __future__ import annotations

import re

from pyvirt.xml.units import unit_scale

MAX_SIZE = 2**63 - 1
_SIZE_RE = re.compile(r"\s*([0-9]+)\s*([A-Za-z]*)\s*")


def parse_size(text: str | int, default_unit: str = "b") -> int:
    """Bytes for a size such as ``"10G"``; ints pass through (but must be >= 0)."""
    if isinstance(text, bool):
        raise ValueError(f"invalid size {text!r}")
    if isinstance(text, int):
        if text < 0:
            raise ValueError(f"size must not be negative: {text}")
        return text
    if not isinstance(text, str):
        raise ValueError(f"invalid size {text!r}")
    if text.strip().startswith("-"):
        raise ValueError(f"size must not be negative: '{text}'")
    m = _SIZE_RE.fullmatch(text)
    if not m:
        raise ValueError(f"malformed size '{text}' (expected a number with an optional "
                         "suffix such as K, M, G, T, KiB, MB)")
    number, unit = m.groups()
    try:
        mult = unit_scale(unit or default_unit, 1)
    except ValueError:
        raise ValueError(f"unknown size suffix '{unit}' in '{text}'") from None
    value = int(number) * mult
    if value > MAX_SIZE:
        raise ValueError(f"size '{text}' is too large")
    return value


def format_size(value: int) -> str:
    """Human form as virsh prints it in vol-info: ``1.00 GiB``."""
    units = ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")
    size = float(value)
    idx = 0
    while size >= 1024 and idx < len(units) - 1:
        size /= 1024
        idx += 1
    return f"{value} bytes" if idx == 0 else f"{size:.2f} {units[idx]}"
