"""``send-key``'s keycodes: numbers, or key names in the code sets that have them.

virsh reads each keycode as virshKeyCodeGetInt's number (virStrToLong_uip, base 0, at most
0xffff) and otherwise as a name of its code set (virKeycodeValueFromString: linux, os_x and
win32 have names, matched case-sensitively, the first of a name's rows winning).  The names come
from pyvirt.keymaps (generated from libvirt's virkeyname-*(7) pages), loaded only when a name is
looked up or completed.
"""

from __future__ import annotations

from functools import cache

from pyvirt.xml.cnumbers import c_integer

#: virKeycodeSet's names (rfb: qnum's older name), case as written
CODESETS = frozenset({"linux", "xt", "atset1", "atset2", "atset3", "os_x", "xt_kbd", "usb", "win32", "qnum", "rfb"})

def _number(text: str) -> int | None:
    """virshKeyCodeGetInt: the keycode a number spells whole, as virStrToLong_uip reads it (C
    blanks, an optional "+", base 0: hex, octal or decimal; any "-" refused), None when it is
    none or above 0xffff."""
    got = c_integer(text, None, 0, 0)
    if got is None or got[1] != len(text) or "-" in text or got[0] > 0xFFFF:
        return None
    return got[0]


@cache
def _lookup(codeset: str) -> dict[str, int]:
    """A code set's name -> code, the first row of each name (as virKeycodeValueFromString's loop)."""
    from pyvirt.keymaps import NAMES

    table: dict[str, int] = {}
    for name, code in NAMES.get(codeset, ()):
        table.setdefault(name, code)
    return table


def names(codeset: str) -> list[str]:
    """virshKeycodeNameCompleter: a code set's key names in libvirt's order ("rfb" and the sets
    without names have none)."""
    from pyvirt.keymaps import NAMES

    return [name for name, _ in NAMES.get(codeset, ())]


def keycode(codeset: str, name: str) -> int | None:
    """A keycode as virsh reads it: a number, else a name of the code set; None when neither."""
    value = _number(name)
    if value is not None:
        return value
    return _lookup(codeset).get(name)
