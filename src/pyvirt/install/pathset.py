"""Applying optmap's plain sub-options: ``--disk driver.cache=none`` -> ``<driver cache>``.

One function per step: `lookup` finds the table row for a typed name (``boot1.dev`` matches
``boot[0-9]*.dev`` and yields index 1), `convert` turns the typed value into what the XML
holds (yes/no, decimal integers).  The rows are set on the option's model object
(install/modelopt); `set_path` writes a plain path only for what the model cannot hold:
the ``~`` rows (elements virt-install writes where libvirt's XML has none) and --vcpus'
per-vCPU entries.
"""

from __future__ import annotations

import re
from functools import cache

from pyvirt.install.optmap import PATHS
from pyvirt.install.subopts import SubOptError, yesno
from pyvirt.install.xmltree import Element, append, child

_BOOL_KINDS = ("b", "YN", "OO")


@cache
def _compiled(flag: str) -> list[tuple[re.Pattern[str], str, str]]:
    rows = PATHS.get(flag, ("", "", {}))[2]
    out = []
    for name, (path, kind) in rows.items():
        pattern = re.escape(name).replace(re.escape("[0-9]*"), "([0-9]*)")
        out.append((re.compile(f"^{pattern}$"), path, kind))
    return out


def names(flag: str) -> list[str]:
    """Every sub-option name the table knows for `flag` (for ``--OPTION=?`` and Spec)."""
    return list(PATHS.get(flag, ("", "", {}))[2])


def rows(flag: str) -> dict[str, tuple[str, str]]:
    """The table's rows of `flag`: name -> (path, kind)."""
    return PATHS.get(flag, ("", "", {}))[2]


def where(flag: str) -> tuple[str, str] | None:
    """(path under <domain>, tag) of the element `flag` builds, if the table has it."""
    entry = PATHS.get(flag)
    return (entry[0], entry[1]) if entry else None


def lookup(flag: str, key: str) -> tuple[str, str, list[int]] | None:
    """(path, kind, list indexes) for a typed sub-option name, or None."""
    for regex, path, kind in _compiled(flag):
        m = regex.match(key)
        if m:
            return path, kind, [int(g or 0) for g in m.groups()]
    return None


def convert(kind: str, value: str | None, flag: str, key: str) -> str | bool:
    """The value as virt-install writes it for a row's kind (True/False: element present or
    removed)."""
    kind = kind.rstrip("!~")
    if value == "":
        # virtinst's _VirtCLIArgument: an empty value is None, which unsets the property
        return False
    if kind in _BOOL_KINDS:
        on = yesno("on" if value is None else value, key)
        return on if kind == "b" else ("yes" if on else "no") if kind == "YN" else ("on" if on else "off")
    if value is None:
        return True
    if kind == "i":
        try:
            return str(int(value, 16 if "0x" in value else 10))
        except ValueError as exc:
            raise SubOptError(f"invalid literal for int() with base 10: '{value}'") from exc
    return value


def _step(parent: Element, tag: str, index: int | None) -> Element:
    if index is None:
        return child(parent, tag)
    found = parent.findall(tag)
    while len(found) <= index:
        found.append(append(parent, tag))
    return found[index]


def set_path(el: Element, path: str, value: str | bool, indexes: list[int] | None = None) -> None:
    """Write `value` at `path` under `el`, creating elements in their ordered places."""
    idx = list(indexes or [])
    parts = path.split("/")
    last = parts[-1]
    node = el
    for part in parts[:-1] if last.startswith("@") else parts:
        is_list = part.endswith("[]")
        index = idx.pop(0) if is_list and idx else (0 if is_list else None)
        tag = part[:-2] if is_list else part
        if value is False:  # unsetting: nothing to create on the way
            found = node.findall(tag)
            if len(found) <= (index or 0):
                return
            node = found[index or 0]
            continue
        node = _step(node, tag, index)
    if last.startswith("@"):
        if value is False:
            node.attrib.pop(last[1:], None)
        elif value is not True:
            node.set(last[1:], value)
        return
    if value is False:
        node.getparent().remove(node)
    elif value is not True:
        node.text = value
