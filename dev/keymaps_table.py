"""Write src/pyvirt/keymaps.py: libvirt's key code sets translated to qnum (QEMU's numbers).

libvirt's QEMU driver hands ``virDomainSendKey``'s keycodes to QEMU as qnum numbers, each
translated from its code set through keycodemapdb's keymaps.csv (virKeycodeValueTranslate),
and its test driver checks that each code exists in its set.  The same table ships with libvirt
as the virkeycode-*(7) manual pages (one per set: each value with its linux key name), which
this script reads: a code set's value -> its linux name -> that name's qnum value.  virsh's
send-key also takes key names in the sets that have them (linux, os_x, win32:
virKeycodeValueFromString, case-sensitive, the first of a name's rows wins) and its completer
lists them in the same order (virshKeycodeNameCompleter, rows without a name skipped); the
virkeyname-*(7) pages list those rows (name, value), in libvirt's order.  Run it where libvirt's
manual pages are installed (Debian: libvirt-daemon / libvirt-clients):

    python dev/keymaps_table.py > src/pyvirt/keymaps.py
"""

from __future__ import annotations

import gzip
import re
import struct
import sys
import textwrap
from pathlib import Path

MAN = Path("/usr/share/man/man7")
#: libvirt's code set names -> the manual page's
SETS = {"linux": "linux", "atset1": "atset1", "atset2": "atset2", "atset3": "atset3", "os_x": "osx",
        "xt_kbd": "xtkbd", "usb": "usb", "win32": "win32", "qnum": "qnum"}


#: the code sets with key names -> the virkeyname-*(7) page
NAMED = {"linux": "linux", "os_x": "osx", "win32": "win32"}


def rows(page: str) -> list[tuple[int, str]]:
    """A virkeycode page's (value, linux key name) rows."""
    text = gzip.decompress((MAN / f"virkeycode-{page}.7.gz").read_bytes()).decode()
    out, value = [], None
    for line in text.splitlines():
        if m := re.match(r"^(\d+) \(0x[0-9A-Fa-f]+\)$", line):
            value = int(m.group(1))
        elif line.startswith("Key name ") and value is not None:
            out.append((value, line.split()[2]))
    return out


def named_rows(page: str) -> list[tuple[int, str | None]]:
    """A virkeyname page's every row: its linux code and its name in the set (None: unnamed)."""
    return [(v, None if n == "None" else n) for n, v in _name_page(page)]


def names(page: str) -> list[tuple[str, int]]:
    """A virkeyname page's named rows (name, linux code) in its order."""
    return [(n, v) for n, v in _name_page(page) if n != "None"]


def _name_page(page: str) -> list[tuple[str, int]]:
    """A virkeyname page's (name, value) rows in its order; keymap-gen writes "None" for a row
    without a name in that set, which virsh neither lists nor accepts."""
    text = gzip.decompress((MAN / f"virkeyname-{page}.7.gz").read_bytes()).decode()
    out, name = [], None
    for line in text.splitlines():
        if name is None and line.startswith(".IP "):
            name = ""
        elif name == "":
            name = line.strip()
        elif name and (m := re.match(r"^Key value (\d+) \(0x[0-9A-Fa-f]+\)$", line)):
            out.append((name, int(m.group(1))))
            name = None
    return out


def codes_by_name(page: str) -> dict[str, list[int]]:
    """A virkeycode page of a set with its own names (os_x, win32): each name's codes, in order."""
    text = gzip.decompress((MAN / f"virkeycode-{page}.7.gz").read_bytes()).decode()
    out: dict[str, list[int]] = {}
    value = None
    for line in text.splitlines():
        if m := re.match(r"^(\d+) \(0x[0-9A-Fa-f]+\)$", line):
            value = int(m.group(1))
        elif line.startswith("Key name ") and value is not None:
            out.setdefault(line.split()[2], []).append(value)
    return out


def row_codes(page: str, named: list[tuple[int, str | None]]) -> list[int] | None:
    """libvirt's own code table of a set (virKeyCodeTable_*, one code per keymaps.csv row), found in
    libvirt.so by the rows whose name has one code: the man pages do not say which code a row
    has when its name has several (win32's VK_CONTROL: 0x11 and 0xa2).  None when not found."""
    lib = Path("/usr/lib/x86_64-linux-gnu/libvirt.so.0")
    if not lib.exists():
        return None
    data = lib.read_bytes()
    known = codes_by_name(page)
    want = [known[n][0] if n and len(known.get(n, ())) == 1 else None for _, n in named]
    start = next(i for i in range(len(want) - 3) if None not in want[i:i + 4])
    pattern = struct.pack("<4H", *want[start:start + 4])
    at = data.find(pattern)
    while at >= 0:
        base = at - 2 * start
        table = list(struct.unpack(f"<{len(want)}H", data[base:base + 2 * len(want)]))
        if all(w is None or w == t for w, t in zip(want, table, strict=True)):
            return table
        at = data.find(pattern, at + 1)
    return None


def named_codes(codeset: str, page: str) -> list[tuple[str, int]]:
    """A set's (name, code) rows in libvirt's order: linux names are linux codes; os_x and win32
    names take their row's code in that set."""
    rows_ = names(page)
    if codeset == "linux":
        return rows_
    everything = named_rows(page)
    table = row_codes(page, [(v, n) for v, n in everything])
    by_row = dict(zip([v for v, _ in everything], table, strict=True)) if table else {}
    known = codes_by_name(page)
    return [(n, by_row[v] if by_row else known[n][0]) for n, v in rows_ if by_row or n in known]


def main() -> None:
    qnum_of: dict[str, int] = {}
    for value, name in rows("qnum"):
        qnum_of[name] = min(value, qnum_of.get(name, value))  # KEY_SYSRQ has two: QEMU's is 0x54
    print('"""Generated by dev/keymaps_table.py from libvirt\'s virkeycode-*(7) and virkeyname-*(7) pages')
    print("(keycodemapdb): each code set's valid codes and the qnum number libvirt's QEMU driver sends")
    print('for each (-1: no qnum), and the key names virsh takes per set.  Do not edit."""')
    print()
    linux_names = dict(rows("linux"))
    print("QNUM: dict[str, dict[int, int]] = {")
    for codeset, page in SETS.items():
        table: dict[int, int] = {}
        if codeset in NAMED and codeset != "linux":
            # their pages name codes in the set's own names: go through libvirt's rows (a code's
            # first row, as virKeycodeValueTranslate) to the row's linux name and its qnum
            every = named_rows(page)
            codes = row_codes(page, every)
            if codes is None:
                sys.exit(f"libvirt's {codeset} code table not found in libvirt.so")
            for code, (linux, _) in zip(codes, every, strict=True):
                table.setdefault(code, qnum_of.get(linux_names[linux], -1))
        for value, name in rows(page) if not table else ():
            table.setdefault(value, qnum_of.get(name, -1) if codeset != "qnum" else value)
        pairs = textwrap.wrap(", ".join(f"{k}: {v}" for k, v in sorted(table.items())), 100)
        print(f"    {codeset!r}: {{")
        for line in pairs:
            print(f"        {line}")
        print("    },")
    print("}")
    print()
    print("#: each named code set's (name, code) rows in libvirt's order (its completer's; duplicates kept)")
    print("NAMES: dict[str, tuple[tuple[str, int], ...]] = {")
    for codeset, page in NAMED.items():
        print(f"    {codeset!r}: (")
        for line in textwrap.wrap(" ".join(f"({n!r}, {v})," for n, v in named_codes(codeset, page)), 100):
            print(f"        {line}")
        print("    ),")
    print("}")


if __name__ == "__main__":
    sys.exit(main())
