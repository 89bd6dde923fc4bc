"""The org.libvirt interfaces, read from libvirt-dbus 1.4.1's own introspection files.

The files in ``data/`` are verbatim copies of the contract (a test compares them with the shared
reference): every member, argument name and signature comes from them, never retyped, so the
service cannot drift from what D-Bus clients were written against.  Each member's DocString
names the libvirt function it wraps; that name is what a member without an implementation
reports in libvirt's "not supported" error.
"""

from __future__ import annotations

import functools
import os
import re

from dbus_fast.introspection import Interface, Method, Node, Property, Signal

PREFIX = "org.libvirt."
#: libvirt-dbus's interface files, by object kind
KINDS = ("Connect", "Domain", "DomainSnapshot", "Interface", "NWFilter", "Network", "NodeDevice",
         "Secret", "StoragePool", "StorageVol")

_FUNCTION = re.compile(r"#(vir\w+)")


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
    """One kind's parsed interface, parsed on first use: a first call on the Connect object
    parses Connect's file only (the ten files take ~40 M instructions)."""
    name = PREFIX + kind
    (iface,) = Node.parse(_read(kind)).interfaces
    if iface.name != name:
        raise ValueError(f"{name}.xml declares {iface.name}")
    return iface


def _doc(member: Method | Property | Signal) -> str:
    return str((member.annotations or {}).get("org.gtk.GDBus.DocString", ""))


def libvirt_function(member: Method | Property) -> str:
    """The libvirt API a member wraps, from its DocString link (virDomainCreateWithFlags…)."""
    match = _FUNCTION.search(_doc(member))
    return match.group(1) if match else member.name


@functools.cache
def methods(kind: str) -> dict[str, Method]:
    return {m.name: m for m in interface(kind).methods}


@functools.cache
def properties(kind: str) -> dict[str, Property]:
    return {p.name: p for p in interface(kind).properties}


@functools.cache
def signals(kind: str) -> dict[str, Signal]:
    return {s.name: s for s in interface(kind).signals}
