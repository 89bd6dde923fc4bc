"""Generators for new UUIDs and MAC addresses, predictable under VIRTCOMPAT_PREDICTABLE=1.

virt-manager's test suite compares generated XML byte for byte, so with the hook set every
new UUID is ``00000000-1111-2222-3333-444444444444`` and MACs count up from
``00:11:22:33:44:55``.  Kept free of pyvirt imports so the CLI and virt-install code can use
it too (one counter per process, as virtinst's own predictable mode).  `uuid` and `random`
are imported on first use: `uuid` alone pulls in `platform` (~2 ms), and most CLI runs never
generate an identifier.
"""

from __future__ import annotations

import itertools

from pyvirt.lightos import getenv

PREDICTABLE_UUID = "00000000-1111-2222-3333-444444444444"
_PREDICTABLE_MAC_BASE = 0x001122334455
_mac_counter = itertools.count()


def predictable() -> bool:
    """True when the VIRTCOMPAT_PREDICTABLE hook asks for deterministic identifiers."""
    return getenv("VIRTCOMPAT_PREDICTABLE", "") not in ("", "0")


def new_uuid() -> str:
    """A random UUID, or the fixed predictable one."""
    if predictable():
        return PREDICTABLE_UUID
    import uuid

    return str(uuid.uuid4())


def new_mac(prefix: str = "52:54:00") -> str:
    """A random MAC under `prefix` (QEMU's OUI by default), or the next predictable one."""
    if predictable():
        value = _PREDICTABLE_MAC_BASE + next(_mac_counter)
        return ":".join(f"{(value >> shift) & 0xFF:02x}" for shift in range(40, -8, -8))
    import random

    tail = [random.randint(0, 255) for _ in range(6 - len(prefix.split(":")))]
    return ":".join([prefix.lower(), *(f"{b:02x}" for b in tail)])


def reset_predictable() -> None:
    """Restart the MAC sequence (tests that expect :55 first call this)."""
    global _mac_counter
    _mac_counter = itertools.count()


def save_state() -> int:
    """How many predictable MACs were handed out (to undo trial builds with restore_state)."""
    global _mac_counter
    used = next(_mac_counter)
    _mac_counter = itertools.count(used)
    return used


def restore_state(used: int) -> None:
    """Rewind the predictable MAC sequence to a save_state() point."""
    global _mac_counter
    _mac_counter = itertools.count(used)
