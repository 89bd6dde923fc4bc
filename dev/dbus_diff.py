#!/usr/bin/env python3
"""Diff what pyvirt-dbus and Debian's libvirt-dbus 1.4.1 answer on /org/libvirt/Test.

A development tool, not part of pyvirt (libvirt-dbus is the oracle, never a dependency).  Each
service runs on a private session bus of its own, with a fresh test:///default; the same calls go
to both, in the same order, and every answer that differs is printed:

* the object tree: Introspect from /org/libvirt/Test down, each node's org.libvirt interface and
  child nodes (children compared as absolute paths: libvirt-dbus's GDBus names them absolutely,
  pyvirt-dbus relatively, as the D-Bus specification asks);
* Properties.GetAll of every object found there;
* the members Cockpit Machines 288 uses (../shared/reference/cockpit-machines-288.md), called as
  Cockpit calls them, in an order that leaves each one something to act on.

Usage: .venv/bin/python dev/dbus_diff.py [--show-same] [--tree-only] [--pyvirt-src DIR]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from dbus_fast import Variant

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.dbus.bus import Client, DBusError, PrivateBus  # noqa: E402

TEST = "/org/libvirt/Test"
_UUID = re.compile(r"[0-9a-f]{8}([-_])[0-9a-f]{4}\1[0-9a-f]{4}\1[0-9a-f]{4}\1[0-9a-f]{12}")
P = "org.libvirt."
DOMAIN_XML = ("<domain type='test'><name>{name}</name><memory>131072</memory><vcpu>1</vcpu>"
              "<os><type>hvm</type></os><devices/></domain>")
NETWORK_XML = ("<network><name>{name}</name><bridge name='virbr9'/><forward mode='nat'/>"
               "<ip address='192.168.9.1' netmask='255.255.255.0'/></network>")
POOL_XML = "<pool type='dir'><name>{name}</name><target><path>/tmp/{name}</path></target></pool>"
VOL_XML = "<volume><name>{name}</name><capacity unit='M'>1</capacity></volume>"


class Side:
    """One service on a private bus of its own, and a client."""

    def __init__(self, folder: Path, cmd: list[str], src: Path | None = None) -> None:
        folder.mkdir()
        self.bus = PrivateBus(folder)
        env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=self.bus.address, PYVIRT_STATE_ROOT=str(folder / "state"),
                   XDG_RUNTIME_DIR=str(folder), HOME=str(folder))
        if src is not None:  # another pyvirt's sources first on the path (e.g. an older commit's)
            env["PYTHONPATH"] = str(src)
        self.proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.client = Client(self.bus.address)
        import time

        deadline = time.monotonic() + 30
        while not self.client.call("/org/freedesktop/DBus", "org.freedesktop.DBus", "NameHasOwner", "s",
                                   "org.libvirt", destination="org.freedesktop.DBus")[0]:
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError(f"{cmd} did not take org.libvirt")
            time.sleep(0.05)

    def call(self, path: str, iface: str, member: str, signature: str, *args: Any) -> Any:
        try:
            return plain(self.client.call(path, iface, member, signature, *args))
        except DBusError as exc:
            return ("ERROR", exc.name, exc.text)

    def stop(self) -> None:
        self.client.close()
        self.proc.terminate()
        self.proc.wait(10)
        self.bus.stop()


def plain(value: Any) -> Any:
    if isinstance(value, Variant):
        return (value.signature, plain(value.value))
    if isinstance(value, dict):
        return {k: plain(v) for k, v in sorted(value.items())}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def node(side: Side, path: str) -> tuple[list[str], list[str]] | tuple[str, ...]:
    """(org.libvirt interfaces, absolute child paths) of one introspected node."""
    answer = side.call(path, "org.freedesktop.DBus.Introspectable", "Introspect", "")
    if isinstance(answer, tuple):
        return answer
    root = ET.fromstring(answer[0].split("-->", 1)[-1] if "<!--" in answer[0] else
                         answer[0][answer[0].index("<node"):])
    ifaces = sorted(i.get("name", "") for i in root.findall("interface") if i.get("name", "").startswith(P))
    kids = sorted(c.get("name", "") if c.get("name", "").startswith("/") else f"{path.rstrip('/')}/{c.get('name')}"
                  for c in root.findall("node"))
    return ifaces, kids


class Diff:
    def __init__(self, pyvirt: Side, libvirt: Side, show_same: bool) -> None:
        self.sides = (pyvirt, libvirt)
        self.show_same = show_same
        self.same = self.differ = 0

    def compare(self, label: str, mine: Any, theirs: Any) -> None:
        if mine == theirs:
            self.same += 1
            if self.show_same:
                print(f"same   {label}")
            return
        self.differ += 1
        print(f"DIFF   {label}\n  pyvirt-dbus:  {str(mine)[:600]}\n  libvirt-dbus: {str(theirs)[:600]}")

    def call(self, path: str | tuple[str, str], iface: str, member: str, signature: str, *args: Any) -> Any:
        """The same call on both (`path`: one for both, or each side's own, for objects made
        here: each service gives them UUIDs of its own, so answers are compared with every UUID,
        plain or path-encoded, as <uuid>)."""
        own = path if isinstance(path, tuple) else (path, path)
        answers = [side.call(p, iface, member, signature, *args) for side, p in zip(self.sides, own, strict=True)]
        shown = [_UUID.sub("<uuid>", str(a)) for a in answers]
        self.compare(f"{own[1].replace(TEST, '~')} {iface.replace(P, '')}.{member}{tuple(args)!r:.80}", *shown)
        return answers


def tree(diff: Diff) -> list[tuple[str, str]]:
    """Walk both trees from /org/libvirt/Test; (path, interface) of every object found."""
    todo, seen, objects = [TEST], set(), []
    while todo:
        path = todo.pop(0)
        if path in seen or path.count("/") > 5:
            continue
        seen.add(path)
        answers = [node(side, path) for side in diff.sides]
        diff.compare(f"Introspect {path.replace(TEST, '~')}", *answers)
        for answer in answers:
            if isinstance(answer, tuple) and len(answer) == 2 and isinstance(answer[1], list):
                todo += answer[1]
                if path.count("/") == 5:
                    objects += [(path, i) for i in answer[0]]
    return sorted(set(objects))


def scenario(diff: Diff) -> None:
    """Cockpit's members, with its arguments, on objects of both services' own test driver."""
    c = P + "Connect"
    for member, sig, args in [("ListDomains", "u", [0]), ("ListNetworks", "u", [0]), ("ListStoragePools", "u", [0]),
                              ("ListInterfaces", "u", [0]), ("ListNodeDevices", "u", [0]),
                              ("NodeGetMemoryStats", "iu", [-1, 0]),
                              ("GetDomainCapabilities", "ssssu", ["", "", "", "", 0])]:
        diff.call(TEST, c, member, sig, *args)
    diff.compare("LibVersion > 0", *[side.call(TEST, "org.freedesktop.DBus.Properties", "Get", "ss", c,
                                               "LibVersion")[0][1] > 0 for side in diff.sides])
    dom = tuple(a[0] for a in diff.call(TEST, c, "DomainDefineXML", "s", DOMAIN_XML.format(name="ck")))
    diff.call(TEST, c, "DomainLookupByName", "s", "ck")
    diff.call(TEST, c, "DomainLookupByName", "s", "nope")
    d = P + "Domain"
    for member, sig, args in [
            ("GetState", "u", [0]), ("Create", "u", [0]), ("GetState", "u", [0]), ("GetStats", "uu", [1, 0]),
            ("SetMemory", "tu", [131072, 2]), ("Suspend", "", []), ("GetState", "u", [0]), ("Resume", "", []),
            ("InterfaceAddresses", "uu", [0, 0]), ("InjectNMI", "u", [0]), ("SendKey", "uuauu", [0, 0, [29, 56, 59], 0]),
            ("SnapshotCreateXML", "su", ["<domainsnapshot><name>s1</name></domainsnapshot>", 0]),
            ("ListDomainSnapshots", "u", [0]), ("SnapshotCurrent", "u", [0]), ("SnapshotLookupByName", "su", ["s1", 0]),
            ("SnapshotLookupByName", "su", ["s2", 0])]:
        diff.call(dom, d, member, sig, *args)
    snap = tuple(f"{TEST}/domainsnapshot/{d.rsplit('/', 1)[1]}_s1" for d in dom)
    for member, sig, args in [("GetXMLDesc", "u", [0]), ("IsCurrent", "u", [0]), ("Revert", "u", [0]),
                              ("Delete", "u", [0]), ("IsCurrent", "u", [0])]:
        diff.call(snap, P + "DomainSnapshot", member, sig, *args)
    disk = "<disk type='file' device='disk'><source file='/tmp/x.img'/><target dev='vdb' bus='virtio'/></disk>"
    for member, sig, args in [
            ("AttachDevice", "su", [disk, 2]), ("UpdateDevice", "su", [disk, 2]), ("DetachDevice", "su", [disk, 2]),
            ("Reboot", "u", [0]), ("Reset", "u", [0]), ("Shutdown", "u", [0]), ("GetState", "u", [0]),
            ("Create", "u", [0]), ("Destroy", "u", [0]), ("Rename", "su", ["ck2", 0]), ("GetAll", "s", [d])]:
        if member == "GetAll":
            diff.call(dom, "org.freedesktop.DBus.Properties", "GetAll", "s", d)
        else:
            diff.call(dom, d, member, sig, *args)
    diff.call(dom, "org.freedesktop.DBus.Properties", "Set", "ssv", d, "Autostart", Variant("b", True))
    diff.call(dom, "org.freedesktop.DBus.Properties", "Get", "ss", d, "Autostart")
    diff.call(dom, d, "Undefine", "u", 0)
    n = P + "Network"
    net = tuple(a[0] for a in diff.call(TEST, c, "NetworkDefineXML", "s", NETWORK_XML.format(name="cknet")))
    diff.call(TEST, c, "NetworkLookupByName", "s", "cknet")
    for member, sig, args in [("Create", "", []), ("GetXMLDesc", "u", [0]),
                              ("Update", "uuisu", [3, 4, -1, "<host mac='52:54:00:00:00:09' ip='192.168.9.9'/>", 0]),
                              ("Destroy", "", [])]:
        diff.call(net, n, member, sig, *args)
    diff.call(net, "org.freedesktop.DBus.Properties", "Set", "ssv", n, "Autostart", Variant("b", True))
    diff.call(net, "org.freedesktop.DBus.Properties", "GetAll", "s", n)
    diff.call(net, n, "Undefine", "")
    s = P + "StoragePool"
    pool = tuple(a[0] for a in diff.call(TEST, c, "StoragePoolDefineXML", "su", POOL_XML.format(name="ckpool"), 0))
    diff.call(TEST, c, "StoragePoolLookupByName", "s", "ckpool")
    for member, sig, args in [("Create", "u", [0]), ("GetXMLDesc", "u", [0]), ("ListStorageVolumes", "u", [0]),
                              ("StorageVolCreateXML", "su", [VOL_XML.format(name="v1"), 0]),
                              ("StorageVolLookupByName", "s", ["v1"]), ("ListStorageVolumes", "u", [0]),
                              ("Refresh", "u", [0])]:
        diff.call(pool, s, member, sig, *args)
    diff.call(pool, "org.freedesktop.DBus.Properties", "Get", "ss", s, "Active")
    diff.call(pool, "org.freedesktop.DBus.Properties", "Set", "ssv", s, "Autostart", Variant("b", True))
    diff.call(pool, "org.freedesktop.DBus.Properties", "GetAll", "s", s)
    vol = tuple(a[0] for a in diff.call(pool, s, "StorageVolLookupByName", "s", "v1"))
    diff.call(vol, "org.freedesktop.DBus.Properties", "Get", "ss", P + "StorageVol", "Path")
    diff.call(TEST, c, "StorageVolLookupByPath", "s", "/tmp/ckpool/v1")
    diff.call(vol, P + "StorageVol", "GetXMLDesc", "u", 0)
    diff.call(vol, P + "StorageVol", "Delete", "u", 0)
    diff.call(pool, s, "Destroy", "")
    diff.call(pool, s, "Undefine", "")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show-same", action="store_true")
    parser.add_argument("--tree-only", action="store_true")
    parser.add_argument("--pyvirt-src", type=Path, help="run pyvirt-dbus from these sources (e.g. `git archive` "
                        "of an older commit's src/) instead of this checkout's")
    args = parser.parse_args()
    libvirt = shutil.which("libvirt-dbus") or "/usr/sbin/libvirt-dbus"
    with tempfile.TemporaryDirectory(prefix="dbus-diff-") as tmp:
        sides = [Side(Path(tmp) / "pyvirt", [str(ROOT / ".venv" / "bin" / "python"), "-m", "pyvirt.dbus.main",
                                             "--session"], args.pyvirt_src),
                 Side(Path(tmp) / "libvirt", [libvirt, "--session"])]
        try:
            diff = Diff(*sides, show_same=args.show_same)
            objects = tree(diff)
            for path, iface in objects:
                diff.call(path, "org.freedesktop.DBus.Properties", "GetAll", "s", iface)
            if not args.tree_only:
                scenario(diff)
                tree(diff)
        finally:
            for side in sides:
                side.stop()
    print(f"{diff.same} answers the same, {diff.differ} different")
    return 0


if __name__ == "__main__":
    sys.exit(main())
