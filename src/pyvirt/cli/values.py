"""Option value conversions with virsh's error wording (numbers, scaled sizes)."""

from __future__ import annotations

from pyvirt.cli.context import CmdError
from pyvirt.xml.cnumbers import c_integer, c_strtol
from pyvirt.xml.units import unit_scale

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from pyvirt.cli.grammar import Parsed


def number(value: str | None, name: str, default: int | None = None) -> int | None:
    """vshCommandOptInt/UInt/ULongLong: virStrToLong_* in base 10 over the whole text (leading
    blanks and a sign allowed; no 0x, no trailing blank, '010' is ten: cnumbers.c_strtol), within
    64 bits (the option's own C type is checked where the parse reads it: Parsed.str); else
    virsh's 'malformed' error.  (Python's int(x, 0) took 0x2 and '2 ', refused 010.)"""
    if value is None:
        return default
    n = c_strtol(value)
    if n is None or not -(1 << 63) <= n < 1 << 64:
        raise CmdError(f"Numeric value '{value}' for <{name}> option is malformed or out of range")
    return n


def strtoul(text: str, pos: int, base: int, bits: int, *, wrap: bool = False) -> tuple[int, int] | None:
    """C's strtoul at `pos` as libvirt's virStrToLong_ui/ul/ull read it (`bits` 32 or 64), a
    minus sign refused unless `wrap` (c_integer over the uint/ullong types)."""
    return c_integer(text, ("uint" if bits == 32 else "ullong") + ("wrap" if wrap else ""), pos, base)


def option_int(p: Parsed, name: str, *, unsigned: bool = False) -> int | None:
    """vshCommandOptInt/UInt/ULongLong: None when absent, virsh's wording when malformed."""
    value = number(p.str(name), name)
    if value is not None and unsigned and value < 0:
        raise CmdError(f"Numeric value '{p.str(name)}' for <{name}> option is malformed or out of range")
    return value


def pass_fds(p: Parsed) -> list[int]:
    """virshFetchPassFdsList: --pass-fds as comma-separated ints (virStrToLong_i: blanks before,
    a sign, nothing after), read quietly (absent or empty: none)."""
    text = p.str("pass-fds")
    if not text:
        return []
    fds = []
    for item in text.split(","):
        got = c_integer(item, "int")
        if got is None or got[1] != len(item):
            raise CmdError(f"Unable to parse FD number '{item}'")
        fds.append(got[0])
    return fds


def required(value: str | None, name: str) -> str | None:
    """vshCommandOptStringReq: an option given empty is an error (None: not given)."""
    if value == "":
        raise CmdError(f"Failed to get option '{name}': Option argument is empty")
    return value


def scaled_kib(value: str, name: str) -> int:
    """vshCommandOptScaledInt with KiB default: '1G' -> 1048576; bytes round up to KiB."""
    return (scaled_bytes(value, name) + 1023) // 1024


def scale_integer(n: int, suffix: str, default_scale: int, limit: int) -> int:
    """virScaleInteger: `n` times the unit `suffix` names (`default_scale` without one), at most
    `limit`; ValueError with libvirt's message (its error code's words first) otherwise."""
    try:
        scale = unit_scale(suffix, default_scale)
    except ValueError:
        raise ValueError(f"invalid argument: unknown suffix '{suffix}'") from None
    if n and n > limit // scale:
        raise ValueError(f"numerical overflow: value too large: {n}{suffix}")
    return n * scale


def scaled_bytes(value: str, name: str, default_scale: int = 1024, limit: int = 2**64 - 1) -> int:
    """vshCommandOptScaledInt in bytes: an unsigned decimal and a unit (virScaleInteger's,
    `default_scale` without one) up to `limit`; else virsh's line, then the error
    virScaleInteger left (an unknown suffix, a value too large) when it got that far."""
    head = f"Scaled numeric value '{value}' for <{name}> option is malformed or out of range"
    got = c_integer(value, "ullong")
    if got is None:
        raise CmdError(head)
    n, end = got
    try:
        return scale_integer(n, value[end:], default_scale, limit)
    except ValueError as exc:
        raise CmdError(head, reported=str(exc)) from None


def string_array(text: str) -> list[str]:
    """virsh's vshStringToArray: the text split on ``,``, where ``,,`` stands for a literal comma
    (taken from the left); an empty text has no item (g_strsplit's empty vector)."""
    if not text:
        return []
    return [part.replace("\0", ",") for part in text.replace(",,", "\0").split(",")]


def is_uuid(text: str) -> bool:
    """virUUIDParse's shape: 32 hex digits, dashes allowed (virsh tries a UUID lookup only then)."""
    digits = text.replace("-", "")
    return len(digits) == 32 and all(c in "0123456789abcdefABCDEF" for c in digits)
