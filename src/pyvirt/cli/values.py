"""Option value conversions with virsh's error wording (numbers, scaled sizes)."""

from __future__ import annotations

from pyvirt.cli.context import CmdError
from pyvirt.xml.units import unit_scale


def number(value: str | None, name: str, default: int | None = None) -> int | None:
    """vshCommandOptInt/UInt: decimal (or 0x hex) integer, else virsh's 'malformed' error."""
    if value is None:
        return default
    try:
        n = int(value, 0)
    except ValueError:
        raise CmdError(f"Numeric value '{value}' for <{name}> option is malformed or out of range") from None
    return n


def required(value: str | None, name: str) -> str | None:
    """vshCommandOptStringReq: an option given empty is an error (None: not given)."""
    if value == "":
        raise CmdError(f"Failed to get option '{name}': Option argument is empty")
    return value


def scaled_kib(value: str, name: str) -> int:
    """vshCommandOptScaledInt with KiB default: '1G' -> 1048576; bytes round up to KiB."""
    return (scaled_bytes(value, name) + 1023) // 1024


def scaled_bytes(value: str, name: str, default_scale: int = 1024) -> int:
    """vshCommandOptScaledInt in bytes: a number with an optional unit (default KiB)."""
    s = value.strip()
    i = len(s)
    while i and not s[i - 1].isdigit():
        i -= 1
    digits, suffix = s[:i], s[i:].strip().lower()
    try:
        n = int(digits)
        scale = unit_scale(suffix, default_scale)
    except ValueError:
        raise CmdError(f"Scaled numeric value '{value}' for <{name}> option is malformed or out of range") from None
    if n < 0:
        raise CmdError(f"Scaled numeric value '{value}' for <{name}> option is malformed or out of range")
    return n * scale


def is_uuid(text: str) -> bool:
    """virUUIDParse's shape: 32 hex digits, dashes allowed (virsh tries a UUID lookup only then)."""
    digits = text.replace("-", "")
    return len(digits) == 32 and all(c in "0123456789abcdefABCDEF" for c in digits)
