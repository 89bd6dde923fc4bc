"""--network: NICs (network=, bridge=, type=user, model=, mac=, none)."""

from __future__ import annotations

from pyvirt.install import modelopt
from pyvirt.install.guest import Guest
from pyvirt.install.subopts import Spec, check_unknown, parse
from pyvirt.xml import domain as xd

NETWORK = Spec("--network", keys=["type", "network", "bridge", "source", "source.mode",
                                  "source_mode", "model", "model.type", "mac", "mac.address",
                                  "target", "target.dev", "boot.order", "link.state",
                                  "mtu.size"],
               positional=("type",),
               aliases={"model.type": "model", "mac.address": "mac", "target.dev": "target",
                        "source_mode": "source.mode", "link_state": "link.state"})


def apply_network(g: Guest, optstr: str) -> None:
    if optstr == "none":
        return
    o = parse(NETWORK, optstr)
    check_unknown(NETWORK, o)
    typ = o.get("type")
    if typ in ("network", "bridge") and o.get(typ) is None and "=" not in optstr.split(",")[0]:
        pass
    if typ == "default":
        typ = None
        if "network" not in o and "bridge" not in o:
            typ = _default_type(g, o)
    if typ is None:
        # virtinst's DeviceInterface.set_defaults: no type is a bridge (the host's default
        # bridge fills the source in nic_defaults)
        typ = "network" if "network" in o else "bridge"
    nic = xd.Interface(type=typ)
    if typ == "network":
        nic.source_network = o.get("network") or o.get("source") or "default"
    elif typ == "bridge" and (o.get("bridge") or o.get("source")):
        nic.source_bridge = o.get("bridge") or o.get("source")
    elif typ == "direct" and o.get("source"):
        nic.source_dev = o["source"]  # no mode: virtinst leaves libvirt its default (vepa)
    nic.source_mode = o.get("source.mode") or nic.source_mode
    mac = o.get("mac")
    if mac and mac.upper() != "RANDOM":
        nic.mac_address = mac
    nic.target_dev = o.get("target") or None
    nic.model_type = o.get("model") or None
    nic.boot_order = o.get("boot.order") or None
    nic.link_state = _link_state(o["link.state"]) if o.get("link.state") else None
    nic.mtu_size = o.get("mtu.size") or None
    modelopt.add(g, "--network", nic)


def _link_state(val: str) -> str:
    """virtinst's set_link_state: up/down as given, a yes/no word as up/down, else as is."""
    if val in ("up", "down"):
        return val
    low = val.lower()
    if low in ("y", "yes", "on", "1", "true", "t"):
        return "up"
    if low in ("n", "no", "off", "0", "false", "f"):
        return "down"
    return val


def _default_type(g: Guest, o: dict) -> str:
    """virtinst's DeviceInterface.set_default_source: user networking for session and test
    connections; else the host's default bridge (nic_defaults fills it in), or, where the host has
    none (and on remote connections), the network 'default', whether or not it exists or runs."""
    from pyvirt.install.defaults import default_bridge

    if g.ci.is_test() or g.ci.is_session():
        return "user"
    if default_bridge(g):
        return "bridge"
    o["network"] = "default"
    return "network"


SPECS = {"--network": NETWORK}
APPLY = {"--network": apply_network}
