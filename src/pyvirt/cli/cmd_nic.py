"""Guest network interfaces: attach-interface, detach-interface, domif-setlink, domif-getlink,
domifstat -- virsh's commands, which build or pick an <interface> element client-side and hand it
to virDomainAttachDeviceFlags / DetachDeviceFlags / UpdateDeviceFlags, as virsh does.

Elements taken from the domain's XML are written back the way virsh's libxml2 dump writes them
(double quotes, the element's own indentation, no trailing text), so --print-xml matches virsh.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from pyvirt.cli.cmd_hotplug import _key, _scope, check_scope, device_call, quoteattr
from pyvirt.cli.context import CmdError, Ctl, failing
from pyvirt.cli.grammar import Parsed

#: interface types virsh 9.0's attach-interface can write (the rest: "No support for T in command")
_SOURCE_ATTR = {"network": "network", "bridge": "bridge", "direct": "dev"}
IFSTAT_FIELDS = ("rx_bytes", "rx_packets", "rx_errs", "rx_drop", "tx_bytes", "tx_packets", "tx_errs", "tx_drop")


def dump(el: ET.Element) -> str:
    """An element as libxml2's xmlNodeDump writes it: no tail, `<a b="c"/>` for empty ones."""
    import copy

    el = copy.copy(el)
    el.tail = None
    return ET.tostring(el, encoding="unicode").replace(" />", "/>")


def _rate(ctl: Ctl, text: str) -> list[int]:
    """virsh's 'average,peak,burst,floor' rate string (empty fields are 0)."""
    fields = text.split(",")
    if len(fields) > 4:
        raise CmdError(f"Rate string '{text}' has too many fields")
    out = []
    for name, value in zip(("average", "peak", "burst", "floor"), fields + [""] * (4 - len(fields)), strict=True):
        if value and not value.isdigit():
            raise CmdError(f"field '{name}' is malformed")
        out.append(int(value) if value else 0)
    return out


def _pci(text: str) -> tuple[int, int, int, int]:
    """virsh's str2PCIAddress: four hexadecimal numbers (strtol's grammar), each of the first three
    followed by one separator character of any kind (what follows the last is not looked at)."""
    import re

    number = re.compile(r"\s*([+-]?)(?:0[xX](?=[0-9a-fA-F]))?([0-9a-fA-F]+)")
    values, pos = [], 0
    for _ in range(4):
        m = number.match(text, pos)
        if m is None:
            raise CmdError(f"cannot parse pci address '{text}' for network interface")
        values.append(int(m.group(1) + m.group(2), 16))
        pos = m.end() + 1
    return values[0], values[1], values[2], values[3]


def interface_xml(ctl: Ctl, p: Parsed) -> str:
    """The <interface> virsh 9.0's cmdAttachInterface writes, element for element."""
    kind, source = p.str("type") or "", p.str("source") or ""
    mode = p.str("source-mode")
    if mode is not None and mode not in ("server", "client"):
        raise CmdError(f"Invalid source mode: {mode}")
    if kind not in (*_SOURCE_ATTR, "vhostuser", "hostdev"):
        raise CmdError(f"No support for {kind} in command 'attach-interface'")
    inbound = _rate(ctl, p.str("inbound") or "") if p.has("inbound") else None
    if inbound is not None and not inbound[0] and not inbound[3]:
        raise CmdError("either inbound average or floor is mandatory")
    outbound = _rate(ctl, p.str("outbound") or "") if p.has("outbound") else None
    if outbound is not None:
        if not outbound[0]:
            raise CmdError("outbound average is mandatory")
        if outbound[3]:
            raise CmdError("outbound floor is unsupported yet")
    lines = [f"<interface type={quoteattr(kind)}" + (" managed='yes'>" if p.bool("managed") else ">")]
    if kind in _SOURCE_ATTR:
        lines.append(f"  <source {_SOURCE_ATTR[kind]}={quoteattr(source)}/>")
    elif kind == "vhostuser":
        lines.append(f"  <source type='unix' path={quoteattr(source)} mode={quoteattr(mode or 'client')}/>")
    else:
        domain, bus, slot, function = _pci(source)
        lines += ["  <source>", f"    <address type='pci' domain='0x{domain:04x}' bus='0x{bus:02x}' "
                  f"slot='0x{slot:02x}' function='0x{function:x}'/>", "  </source>"]
    for opt, fmt in (("target", "<target dev={}/>"), ("mac", "<mac address={}/>"),
                     ("script", "<script path={}/>"), ("model", "<model type={}/>"),
                     ("alias", "<alias name={}/>")):
        if p.has(opt):
            lines.append("  " + fmt.format(quoteattr(p.str(opt) or "")))
    if inbound is not None or outbound is not None:
        lines.append("  <bandwidth>")
        for tag, rate in (("inbound", inbound), ("outbound", outbound)):
            if rate is not None and (rate[0] or rate[3]):
                keys = ("average", "peak", "burst", "floor") if tag == "inbound" else ("average", "peak", "burst")
                attrs = "".join(f" {k}='{v}'" for k, v in zip(keys, rate, strict=False) if v)
                lines.append(f"    <{tag}{attrs}/>")
        lines.append("  </bandwidth>")
    lines.append("</interface>")
    return "\n".join(lines) + "\n"


def cmd_attach_interface(ctl: Ctl, p: Parsed) -> bool:
    check_scope(p)  # before anything else, as virsh
    xml = interface_xml(ctl, p)
    if p.bool("print-xml"):
        ctl.print(xml)
        return True
    info = ctl.domain(p.str("domain") or "")
    live, config = _scope(ctl, p, info)
    with failing("Failed to attach interface"):
        device_call(p, ctl.conn.attach_device)(_key(info), xml, live=live, config=config)
    ctl.extra("Interface attached successfully\n")
    return True


def _domain_xml(ctl: Ctl, info, inactive: bool) -> ET.Element:
    return ET.fromstring(ctl.conn.get_xml(_key(info), inactive=inactive))


def _mac(el: ET.Element) -> str:
    mac = el.find("mac")
    return (mac.get("address") or "") if mac is not None else ""


def _pick_for_detach(root: ET.Element, kind: str, mac: str | None) -> ET.Element:
    """virsh's virshDomainDetachInterface: the one interface of `kind` (and `mac`)."""
    found = [el for el in root.iterfind("devices/interface") if el.get("type") == kind]
    if not found:
        raise CmdError(f"No interface with MAC address {mac} was found" if mac
                       else f"No interface found whose type is {kind}")
    if mac is None:
        if len(found) > 1:
            raise CmdError(f"Domain has {len(found)} interfaces. Please specify which one to detach using --mac")
        return found[0]
    matching = [el for el in found if _mac(el).lower() == mac.lower()]
    if not matching:
        raise CmdError(f"No interface with MAC address {mac} was found")
    if len(matching) > 1:
        raise CmdError(f"Domain has multiple interfaces matching MAC address {mac}. You must use "
                       "detach-device and specify the device pci address to remove it.")
    return matching[0]


def cmd_detach_interface(ctl: Ctl, p: Parsed) -> bool:
    info = ctl.domain(p.str("domain") or "")
    live, config = _scope(ctl, p, info)
    try:  # virsh's cleanup adds its failure line to an option it could not read
        kind, mac = p.str("type") or "", p.str("mac")
    except CmdError as exc:
        raise exc.then("Failed to detach interface") from None
    # the persistent copy is picked from the inactive XML, the live one from the running guest's
    passes = ([(True, False, True)] if config else []) + ([(False, live, False)] if live or not config else [])
    try:
        picked = [(_pick_for_detach(_domain_xml(ctl, info, inactive), kind, mac), want_live, want_config)
                  for inactive, want_live, want_config in passes]
    except CmdError as exc:
        raise CmdError(*exc.messages, "Failed to detach interface") from None
    if p.bool("print-xml"):
        ctl.print("\n".join(dump(el) for el, _, _ in picked))
        return True
    with failing("Failed to detach interface"):
        for el, want_live, want_config in picked:
            device_call(p, ctl.conn.detach_device)(_key(info), dump(el), live=want_live, config=want_config)
    ctl.extra("Interface detached successfully\n")
    return True


def _find_iface(root: ET.Element, iface: str) -> ET.Element | None:
    """An interface by MAC (any case) or by its target device name, as virsh's link commands."""
    for el in root.iterfind("devices/interface"):
        target = el.find("target")
        if _mac(el).lower() == iface.lower() or (target is not None and target.get("dev") == iface):
            return el
    return None


def cmd_domif_setlink(ctl: Ctl, p: Parsed) -> bool:
    iface, state = p.str("interface") or "", p.str("state") or ""
    if state not in ("up", "down"):
        raise CmdError(f"invalid link state '{state}'")
    info = ctl.domain(p.str("domain") or "")
    config = p.bool("config") or not info.active
    el = _find_iface(_domain_xml(ctl, info, inactive=config), iface)
    if el is None:
        raise CmdError(f"interface '{iface}' not found")
    link = el.find("link")
    if link is None:
        link = ET.SubElement(el, "link")
    link.set("state", state)
    xml = dump(el)
    if p.bool("print-xml"):
        ctl.print(xml)
        return True
    with failing("Failed to update interface link state"):
        ctl.conn.update_device(_key(info), xml, live=not config, config=config)
    ctl.extra("Device updated successfully\n")
    return True


def cmd_domif_getlink(ctl: Ctl, p: Parsed) -> bool:
    iface = p.str("interface") or ""
    info = ctl.domain(p.str("domain") or "")
    el = _find_iface(_domain_xml(ctl, info, inactive=p.bool("config")), iface)
    if el is None:
        raise CmdError(f"Interface (dev: {iface}) not found.")
    link = el.find("link")
    ctl.print(f"{iface} {(link.get('state') if link is not None else None) or 'up'}")
    return True


def cmd_domifstat(ctl: Ctl, p: Parsed) -> bool:
    info = ctl.domain(p.str("domain") or "")
    iface = p.str("interface") or ""
    with failing(f"Failed to get interface stats {info.name} {iface}"):
        stats = ctl.conn.interface_stats(_key(info), iface)
    ctl.print("".join(f"{iface} {k} {stats[k]}\n" for k in IFSTAT_FIELDS if stats.get(k, -1) >= 0))
    return True
