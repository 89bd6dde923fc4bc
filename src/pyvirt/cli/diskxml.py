"""The <disk> attach-disk hands to virDomainAttachDevice, written as virsh 9.0's cmdAttachDisk
writes it: element for element, its checks in its order (all before the domain is looked up, so
--print-xml works without one), --address read as virshAddressParse reads it.

Kept out of cmd_hotplug.py because virsh's address syntax and the network-source options are a
small grammar of their own.  Values virsh writes unescaped (target, bus, mode, serial, alias)
are written unescaped here too: a value that breaks the XML is the driver's parse error, as there.
"""

from __future__ import annotations

import contextlib
import os
from xml.sax.saxutils import escape

from pyvirt.cli.context import CmdError
from pyvirt.cli.grammar import Parsed
from pyvirt.cli.values import strtoul

#: virshAddressParse's fields per type: (name, base, bits); drive types share one layout
_DRIVE = (("controller", 10, 32), ("bus", 10, 32), ("unit", 10, 64))
_FIELDS = {
    "pci": (("domain", 16, 32), ("bus", 16, 32), ("slot", 16, 32), ("function", 16, 32)),
    "scsi": _DRIVE, "ide": _DRIVE, "sata": _DRIVE,
    "ccw": (("cssid", 16, 32), ("ssid", 16, 32), ("devno", 16, 32)),
    "usb": (("bus", 10, 32), ("port", 10, 32)),
}
#: which address types a target prefix takes, and virsh's words when another is given
_BY_TARGET = (("vd", ("pci", "ccw"), "expecting a pci:0000.00.00.00 or ccw:00.0.0000 address."),
              ("sd", ("scsi", "usb", "sata"), "expecting a scsi:00.00.00 or usb:00.00 or sata:00.00.00 address."),
              ("hd", ("ide",), "expecting an ide:00.00.00 address."))


def escape_attr(value: str) -> str:
    """virBufferEscapeString's escaping inside a single-quoted attribute."""
    return escape(value, {"'": "&apos;", '"': "&quot;"})


def _address(text: str, target: str, multifunction: bool) -> str:
    """cmdAttachDiskFormatAddress: parse, check against the target's prefix, format."""
    kind, colon, _ = text.partition(":")
    values: list[int] = []
    pos = len(kind)
    for _name, base, bits in _FIELDS.get(kind, ()) if colon else ():
        got = strtoul(text, pos + 1, base, bits) if pos < len(text) else None  # ++a past the separator
        if got is None:
            break
        values.append(got[0])
        pos = got[1]
    if not colon or kind not in _FIELDS or len(values) < len(_FIELDS[kind]):
        raise CmdError("Invalid address.")
    for prefix, kinds, words in _BY_TARGET:
        if target.startswith(prefix):
            if kind not in kinds:
                raise CmdError(words)
            break
    if kind == "pci":
        dom, bus, slot, fn = values
        multi = " multifunction='on'" if multifunction else ""
        return f"<address type='pci' domain='0x{dom:04x}' bus='0x{bus:02x}' slot='0x{slot:02x}' function='0x{fn:x}'{multi}/>"
    if kind == "ccw":
        return "<address type='ccw' cssid='0x{:02x}' ssid='0x{:x}' devno='0x{:04x}'/>".format(*values)
    if kind == "usb":
        return "<address type='usb' bus='{}' port='{}'/>".format(*values)
    return "<address type='drive' controller='{}' bus='{}' unit='{}'/>".format(*values)


def _valid_wwn(wwn: str) -> bool:
    """virValidateWWN: 16 hex digits, an optional 0x before them."""
    digits = wwn[2:] if wwn.startswith("0x") else wwn
    return len(digits) == 16 and all(c in "0123456789abcdefABCDEF" for c in digits)


def _element(name: str, attrs: list[tuple[str, str | None]], children: list[str] | None = None) -> list[str]:
    """virXMLFormatElement: nothing when it has neither attributes nor children."""
    text = "".join(f" {k}='{escape_attr(v)}'" for k, v in attrs if v is not None)
    if not text and not children:
        return []
    if not children:
        return [f"<{name}{text}/>"]
    return [f"<{name}{text}>", *("  " + c for c in children), f"</{name}>"]


def disk_xml(p: Parsed) -> str:
    """virsh's cmdAttachDisk up to the XML it sends (or prints with --print-xml)."""
    for opt, needs in (("source-host-name", "source-protocol"), ("source-host-transport", "source-protocol"),
                       ("source-host-socket", "source-protocol"), ("source-host-socket", "source-host-transport")):
        if p.has(opt) and not p.has(needs):  # VSH_REQUIRE_OPTION
            raise CmdError(f"Option --{needs} is required by option --{opt}")
    if p.has("source-host-name") and p.has("source-host-socket"):  # VSH_EXCLUSIVE_OPTIONS
        raise CmdError("Options --source-host-name and --source-host-socket are mutually exclusive")
    names = ("source", "target", "driver", "subdriver", "type", "mode", "iothread", "cache", "io", "serial", "wwn",
             "address", "targetbus", "alias", "sourcetype", "source-protocol", "source-host-name",
             "source-host-transport", "source-host-socket")
    o = {name: p.str(name) for name in names}  # read in virsh's order: the first empty one is refused
    source, target, protocol = o["source"], o["target"] or "", o["source-protocol"]
    kind = o["sourcetype"]
    if kind not in (None, "", "file", "block", "network"):
        raise CmdError(f"Unknown source type: '{kind}'")
    if not kind:
        kind = "network" if protocol else "file"
        if not protocol and o["driver"] not in ("file", "tap") and source:
            import stat

            with contextlib.suppress(OSError):
                kind = "block" if stat.S_ISBLK(os.stat(source).st_mode) else "file"
    if (kind == "network") != bool(protocol):
        raise CmdError("--source-protocol option requires --sourcetype network")
    mode = o["mode"]
    if mode is not None and mode not in ("readonly", "shareable"):
        raise CmdError(f"No support for {mode} in command 'attach-disk'")
    if o["wwn"] is not None and not _valid_wwn(o["wwn"]):
        raise CmdError(f"internal error: Malformed wwn: {o['wwn']}")
    children = _element("driver", [("name", o["driver"]), ("type", o["subdriver"]), ("iothread", o["iothread"]),
                                   ("cache", o["cache"]), ("io", o["io"])])
    if kind == "network":
        host_name, colon, port = (o["source-host-name"] or "").partition(":")
        given = o["source-host-name"] is not None
        host = _element("host", [("transport", o["source-host-transport"]), ("socket", o["source-host-socket"]),
                                 ("name", host_name if given else None), ("port", port if colon else None)])
        children += _element("source", [("protocol", protocol), ("name", source)], host)
    else:
        children += _element("source", [("dev" if kind == "block" else "file", source)])
    bus = f" bus='{o['targetbus']}'" if o["targetbus"] else ""
    children.append(f"<target dev='{target}'{bus}/>")
    children += [f"<{mode}/>"] * bool(mode)
    children += [f"<serial>{o['serial']}</serial>"] * bool(o["serial"])
    children += [f"<alias name='{o['alias']}'/>"] * bool(o["alias"])
    children += [f"<wwn>{o['wwn']}</wwn>"] * bool(o["wwn"])
    if o["address"]:
        children.append(_address(o["address"], target, p.bool("multifunction")))
    attrs: list[tuple[str, str | None]] = [("type", kind), ("device", o["type"])]
    attrs += [("rawio", "yes")] * p.bool("rawio")
    return "\n".join(_element("disk", attrs, children)) + "\n"
