"""The org.libvirt interfaces, read from libvirt-dbus 1.4.1's own introspection files.

The files in ``data/`` are verbatim copies of the contract (a test compares them with the shared
reference): every member, argument name and signature comes from them, never retyped, so the
service cannot drift from what D-Bus clients were written against.  Each member's DocString
names the libvirt function it wraps; that name is what a member without an implementation
reports in libvirt's "not supported" error.

Two readings of the same files:

- :func:`interface`: dbus-fast's parsed :class:`~dbus_fast.introspection.Interface`, for what
  needs the whole document (``Introspect`` answers, the tests);
- :func:`methods`, :func:`properties`, :func:`signals`: what dispatching a call needs (the
  signatures, the names of the arguments, the libvirt function), from :mod:`pyvirt.dbus.iftable`,
  which ``python -m pyvirt.dbus.interfaces`` writes from the files (a unit test checks it is
  current).  Parsing a file takes ~1 M instructions per ten members (Connect's: ~10 M, a twentieth
  of the service's start until its first answer); a kind's table row is one ``marshal.loads``.
"""

from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dbus_fast.introspection import Interface, Method, Property, Signal

PREFIX = "org.libvirt."
#: libvirt-dbus's interface files, by object kind
KINDS = ("Connect", "Domain", "DomainSnapshot", "Interface", "NWFilter", "Network", "NodeDevice",
         "Secret", "StoragePool", "StorageVol")
IFTABLE = "iftable.py"


def data_files() -> dict[str, str]:
    """file name -> text of each shipped introspection file (a plain path beside this module:
    importlib.resources would add tempfile, shutil, bz2 and lzma to the service's start)."""
    return {f"{PREFIX}{kind}.xml": _read(kind) for kind in KINDS}


def _read(kind: str) -> str:
    with open(os.path.join(os.path.dirname(__file__), "data", f"{PREFIX}{kind}.xml"), encoding="utf-8") as file:
        return file.read()


def interfaces() -> dict[str, Interface]:
    """kind ("Domain", …) -> the parsed interface."""
    return {kind: interface(kind) for kind in KINDS}


@functools.cache
def interface(kind: str) -> Interface:
    """One kind's parsed interface (dbus-fast's objects), parsed on first use: Introspect."""
    from dbus_fast.introspection import Node

    name = PREFIX + kind
    (iface,) = Node.parse(_read(kind)).interfaces
    if iface.name != name:
        raise ValueError(f"{name}.xml declares {iface.name}")
    return iface


def _doc(member: Method | Property | Signal) -> str:
    return str((member.annotations or {}).get("org.gtk.GDBus.DocString", ""))


def libvirt_function(member: Method | Property) -> str:
    """The libvirt API a member wraps, from its DocString link (virDomainCreateWithFlags…)."""
    import re

    match = re.search(r"#(vir\w+)", _doc(member))
    return match.group(1) if match else member.name


# ------------------------------------------------------------------ what a call needs, as a table
class MethodInfo:
    """A method: its in and out signatures, the names of its in-arguments (``flags`` last where it
    has one), how many out-arguments it has, and the libvirt function it wraps."""

    __slots__ = ("name", "in_signature", "out_signature", "in_names", "n_out", "function")

    def __init__(self, name: str, in_signature: str, out_signature: str, in_names: tuple[str, ...],
                 n_out: int, function: str) -> None:
        self.name = name
        self.in_signature = in_signature
        self.out_signature = out_signature
        self.in_names = in_names
        self.n_out = n_out
        self.function = function


class PropertyInfo:
    """A property: its signature, whether it can be set, and the libvirt function it wraps."""

    __slots__ = ("name", "signature", "writable", "function")

    def __init__(self, name: str, signature: str, writable: bool, function: str) -> None:
        self.name = name
        self.signature = signature
        self.writable = writable
        self.function = function


class SignalInfo:
    __slots__ = ("name", "signature")

    def __init__(self, name: str, signature: str) -> None:
        self.name = name
        self.signature = signature


def table_row(iface: Interface) -> tuple[Any, ...]:
    """What :mod:`pyvirt.dbus.iftable` holds of one interface (its members in the file's order)."""
    return (tuple((m.name, m.in_signature, m.out_signature, tuple(a.name for a in m.in_args), len(m.out_args),
                   libvirt_function(m)) for m in iface.methods),
            tuple((p.name, p.signature, "write" in p.access.value, libvirt_function(p)) for p in iface.properties),
            tuple((s.name, s.signature) for s in iface.signals))


@functools.cache
def _row(kind: str) -> tuple[Any, ...]:
    from marshal import loads

    from pyvirt.dbus.iftable import ROWS

    return loads(ROWS[kind])  # type: ignore[no-any-return]


@functools.cache
def methods(kind: str) -> dict[str, MethodInfo]:
    return {row[0]: MethodInfo(*row) for row in _row(kind)[0]}


@functools.cache
def properties(kind: str) -> dict[str, PropertyInfo]:
    return {row[0]: PropertyInfo(*row) for row in _row(kind)[1]}


@functools.cache
def signals(kind: str) -> dict[str, SignalInfo]:
    return {row[0]: SignalInfo(*row) for row in _row(kind)[2]}


def render_iftable() -> str:
    """The text of :mod:`pyvirt.dbus.iftable`, parsed from the files by dbus-fast."""
    from marshal import dumps

    lines = ['"""Generated by `python -m pyvirt.dbus.interfaces` from libvirt-dbus\'s introspection files',
             "(data/): per object kind, (methods, properties, signals) as pyvirt.dbus.interfaces reads them",
             "(marshalled: decoded on a kind's first call).  Do not edit; a unit test checks it is current.\"\"\"",
             "", "ROWS = {"]
    lines += [f"    {kind!r}: {dumps(table_row(interface(kind)))!r}," for kind in KINDS]
    lines.append("}")
    return "\n".join(lines) + "\n"


def main() -> int:
    """Rewrite pyvirt/dbus/iftable.py from the introspection files."""
    from pyvirt.atomicio import write_atomic

    path = os.path.join(os.path.dirname(__file__), IFTABLE)
    write_atomic(path, render_iftable(), mode=0o644, durable=False)
    print(f"{path}: written")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
