"""What Cockpit Machines 288 uses of org.libvirt, read from shared/reference/cockpit-machines-288.md."""

from __future__ import annotations

import re

import pytest

from tests.conformance_data import REFERENCE

COCKPIT = REFERENCE / "cockpit-machines-288.md"
LIBVIRT_DBUS = REFERENCE / "libvirt-dbus-1.4.1"


def cockpit_members() -> dict[str, list[str]]:
    """interface kind ("Domain") -> member names; "<GetAll>" stands for Properties.GetAll."""
    if not COCKPIT.exists():
        pytest.skip(f"{COCKPIT} not found (set PYVIRT_REFERENCE)")
    out: dict[str, list[str]] = {}
    for line in COCKPIT.read_text().splitlines():
        match = re.match(r"\* \*\*org\.libvirt\.(\w+)\*\*: (.*)", line)
        if match:
            out[match.group(1)] = [m.strip() for m in match.group(2).split(",")]
    assert out, f"no member lists in {COCKPIT}"
    return out
