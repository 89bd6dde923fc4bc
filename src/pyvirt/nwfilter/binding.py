"""libvirt's ``<filterbinding>``: one network filter applied to one host port (virNWFilterBinding).

A binding names its owner (the guest's name and UUID), the port (``<portdev name>``, the tap),
an optional link device, the guest's MAC and the ``<filterref>`` with its parameters.  pyvirtd
makes one for each started guest NIC with a ``<filterref>``; ``nwfilter-binding-create`` makes one
by hand.  Read with the safe parser and written as virNWFilterBindingDefFormat writes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pyvirt.xml.errors import XMLError
from pyvirt.xml.escape import escape_xml
from pyvirt.xml.nwfilter import typed_value
from pyvirt.xml.uuids import parse_uuid


@dataclass
class Binding:
    owner_name: str
    owner_uuid: str
    portdev: str
    mac: str
    filter: str
    parameters: list[tuple[str, str]] = field(default_factory=list)
    linkdev: str | None = None

    @classmethod
    def from_xml(cls, xml: str) -> Binding:
        """virNWFilterBindingDefParseXML: every part is required but the link device."""
        from pyvirt.xml.libxml_report import URLS
        from pyvirt.xml.safe import safe_parse

        root = safe_parse(xml, URLS["filterbinding"])
        if root.tag != "filterbinding":
            raise XMLError(f"unexpected root element <{root.tag}>, expecting <filterbinding>", root.sourceline)
        name = root.findtext("owner/name")
        if not name:
            raise XMLError("owner name must be specified", root.sourceline)
        text = root.findtext("owner/uuid")
        if not text:
            raise XMLError("owner UUID must be specified", root.sourceline)
        uuid = parse_uuid(text)
        if uuid is None:
            raise XMLError(f"Unable to parse UUID '{text}'", root.sourceline)
        port = root.find("portdev")
        if port is None or not port.get("name"):
            raise XMLError("filter binding has no port dev name", root.sourceline)
        link = root.find("linkdev")
        mac_el = root.find("mac")
        if mac_el is None or not mac_el.get("address"):
            raise XMLError("filter binding has no MAC address", root.sourceline)
        mac = typed_value("mac", mac_el.get("address", ""))
        if mac is None:
            raise XMLError(f"unable to parse MAC '{mac_el.get('address')}'", mac_el.sourceline)
        ref = root.find("filterref")
        if ref is None or not ref.get("filter"):
            raise XMLError("filter binding has no filter reference", root.sourceline)
        params = [(p.get("name", ""), p.get("value", "")) for p in ref.findall("parameter")
                  if p.get("name") and p.get("value")]
        return cls(name, uuid, port.get("name", ""), mac, ref.get("filter", ""), params,
                   link.get("name") if link is not None else None)

    def to_xml(self) -> str:
        lines = ["<filterbinding>", "  <owner>", f"    <name>{escape_xml(self.owner_name)}</name>",
                 f"    <uuid>{self.owner_uuid}</uuid>", "  </owner>", f"  <portdev name='{escape_xml(self.portdev)}'/>"]
        if self.linkdev:
            lines.append(f"  <linkdev name='{escape_xml(self.linkdev)}'/>")
        lines.append(f"  <mac address='{self.mac}'/>")
        head = f"  <filterref filter='{escape_xml(self.filter)}'"
        if self.parameters:  # by name, as libvirt's table of them is written
            lines += [head + ">", *(f"    <parameter name='{escape_xml(n)}' value='{escape_xml(v)}'/>"
                                    for n, v in sorted(self.parameters, key=lambda p: p[0])), "  </filterref>"]
        else:
            lines.append(head + "/>")
        lines.append("</filterbinding>")
        return "\n".join(lines) + "\n"

    def variables(self) -> dict[str, list[str]]:
        """The filter's variables: the parameters, and MAC (the port's) unless they give it
        (libvirt's standard variable; IP is only what the parameters give: see docs/networks.md)."""
        out: dict[str, list[str]] = {}
        for name, value in self.parameters:
            out.setdefault(name, []).append(value)
        out.setdefault("MAC", [self.mac])
        return out
