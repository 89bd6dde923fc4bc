"""USB redirection filters (``<redirfilter><usbdev class= vendor= product= version= allow=>``).

libvirt 9.0 (virDomainRedirFilterUSBDevDefParseXML / virDomainRedirFilterDefFormat) reads each
number as C's strtol with base 0 (``010`` is octal), ``-1`` (any negative vendor/product) as
"any", a class within 0-0xff, and the version as a USB BCD ``M.mm`` (``1.1`` is ``1.10``, major
0-99, one or two minor digits); it writes class ``0x%02X``, vendor/product ``0x%04X`` and the
version ``%x.%02x`` of its BCD.  QEMU's usb-redir takes the rules as one ``filter`` string.
"""

from __future__ import annotations

import re
from typing import Any

from .errors import XMLError

_C_INT = re.compile(r"\s*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)")
_VERSION = re.compile(r"\s*\+?(\d+)\.(\d{1,2})")


def _c_int(name: str, text: str, line: int | None) -> int:
    """virXMLPropInt with base 0: a C integer within int32, else libvirt's message."""
    m = _C_INT.fullmatch(text)
    value = None
    if m:
        digits = m.group(2)
        value = int(digits, 16 if digits[:2].lower() == "0x" else 8 if digits.startswith("0") else 10)
        value = -value if m.group(1) == "-" else value
    if value is None or not -(2**31) <= value < 2**31:
        raise XMLError(f"Invalid value for attribute '{name}' in element 'usbdev': '{text}'. "
                       "Expected integer value", line)
    return value


def _bcd(n: int) -> int:
    return int(str(n), 16)


def normalise(rule: Any) -> None:
    """Check one ``<usbdev>`` as libvirt and keep its attributes in libvirt's written form."""
    line = rule.line
    if rule.allow is None:
        raise XMLError("Missing required attribute 'allow' in element 'usbdev'", line)
    if rule.usb_class is not None:
        value = _c_int("class", rule.usb_class, line)
        if value != -1 and not 0 <= value <= 0xFF:
            raise XMLError(f"Invalid USB Class code 0x{value & 0xFFFFFFFF:x}", line)
        rule.usb_class = None if value == -1 else f"0x{value:02X}"
    for name in ("vendor", "product"):
        text = getattr(rule, name)
        if text is not None:
            value = _c_int(name, text, line)
            if value > 0xFFFF:  # libvirt 9.0 takes it, but its schema (and USB) has 16-bit IDs
                raise XMLError(f"USB {name} ID {text} of <usbdev> is out of range (0-0xFFFF)", line)
            setattr(rule, name, None if value < 0 else f"0x{value:04X}")
    if rule.version is not None and rule.version != "-1":
        m = _VERSION.fullmatch(rule.version)
        if m is None or int(m.group(1)) > 99:
            raise XMLError(f"Cannot parse USB device version {rule.version}", line)
        rule.version = f"{_bcd(int(m.group(1))):x}.{_bcd(int(m.group(2).ljust(2, '0'))):02x}"
    elif rule.version == "-1":
        rule.version = None


def filter_string(rules: list[Any]) -> str | None:
    """usb-redir's ``filter`` (qemuBuildRedirdevDevProps): ``class:vendor:product:version:allow``
    per rule, ``-1`` for any, joined by ``|``; None without rules."""
    if not rules:
        return None
    out = []
    for r in rules:
        version = f"0x{int(r.version.replace('.', ''), 16):04X}" if r.version is not None else "-1"
        out.append(":".join((r.usb_class or "-1", r.vendor or "-1", r.product or "-1", version,
                             "1" if r.allow else "0")))
    return "|".join(out)
