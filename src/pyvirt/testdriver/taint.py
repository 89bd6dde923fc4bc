"""The messages libvirt's test driver keeps for the domains of a node file (virDomainGetMessages).

libvirt's test driver checks each domain it loads from a node file (testParseDomains ->
testDomainObjCheckTaint) and never those defined or created later.  virDomainGetMessages lists
the taints in libvirt's flag order, then the deprecations.  Checked against virsh 9.0 on
test:///<node file>: a hostdev or a host-passthrough CPU taints nothing there; a block CD-ROM
taints whether or not its path exists.
"""

from __future__ import annotations

from typing import Any

from pyvirt.taints import messages

#: the taints the test driver sets (libvirt's words and messages: pyvirt.taints)
_SET_HERE = ("high-privileges", "shell-scripts", "cdrom-passthrough", "custom-dtb", "deprecated-config")

#: the one CPU model the test driver's CPU map marks deprecated
DEPRECATED_CPU_MODEL = "Deprecated-Test"


def _deprecated_cpu(root: Any) -> str | None:
    cpu = root.find("cpu")
    if cpu is None or cpu.get("mode", "custom") != "custom":
        return None
    model = (cpu.findtext("model") or "").strip()
    return model if model == DEPRECATED_CPU_MODEL else None


def taint_messages(root: Any) -> tuple[str, ...]:
    """The messages a domain loaded from a node file carries, as `virsh dominfo` lists them."""
    devices = root.find("devices")
    disks = devices.findall("disk") if devices is not None else []
    found = set()
    if any(d.get("rawio") == "yes" for d in disks):
        found.add("high-privileges")
    if devices is not None and any(i.find("script") is not None and i.find("script").get("path")
                                   for i in devices.findall("interface")):
        found.add("shell-scripts")
    if any(d.get("device") == "cdrom" and d.get("type") == "block"
           and d.find("source") is not None and d.find("source").get("dev") for d in disks):
        found.add("cdrom-passthrough")
    if root.find("os/dtb") is not None:
        found.add("custom-dtb")
    model = _deprecated_cpu(root)
    if model:
        found.add("deprecated-config")
    assert found <= set(_SET_HERE)
    return tuple(messages(found, [f"CPU model {model}"] if model else []))
