"""``dumpxml --xpath``: the one CLI feature that needs lxml, so it lives alone and is imported
only when that flag is given."""

from __future__ import annotations

from pyvirt.cli.context import CmdError


class XPathSyntax(Exception):
    """An expression libxml2 cannot compile or evaluate: its words, for 'XPath error : ...'."""


def xpath_dump(xml: str, expr: str, *, wrap: bool = False) -> str:
    from lxml import etree

    # blank text dropped so nodes are re-indented from column 0, as virsh (libxml2) prints them
    root = etree.fromstring(xml.encode(), etree.XMLParser(remove_blank_text=True))
    try:
        result = root.xpath(expr)
    except etree.XPathError as exc:  # libxml2 reports it on stderr; virsh prints nothing and succeeds
        raise XPathSyntax(str(exc)) from None
    if not isinstance(result, list):  # virXPathNodeSet: a number, string or boolean is no node set
        raise CmdError(f"internal error: Incorrect xpath '{expr}'")
    parts: list[str] = []
    attrs: dict[str, str] = {}  # attribute nodes wrapped: <nodes>' own, as libxml2's xmlAddChild adds them
    for r in result:
        if isinstance(r, etree._Element):
            r.tail = None
            parts.append(etree.tostring(r, encoding="unicode", pretty_print=True).rstrip("\n"))
        elif getattr(r, "is_attribute", False):
            attr = f' {r.attrname}="{_attr_escape(str(r))}"'  # xmlNodeDump's form
            if wrap:
                attrs.pop(r.attrname, None)  # one of the same name is replaced, the new one goes last
                attrs[r.attrname] = attr
            else:
                parts.append(attr)
        else:
            parts.append(str(r))
    if wrap:
        own = "".join(attrs.values())
        if not parts:
            return f"<nodes{own}/>\n"
        body = "".join(f"  {ln}\n" for x in parts for ln in x.split("\n"))
        return f"<nodes{own}>\n{body}</nodes>\n"
    return "".join(x + "\n" for x in parts)


def _attr_escape(value: str) -> str:
    """libxml2's attribute serialisation."""
    for raw, ent in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"), ("\n", "&#10;"),
                     ("\r", "&#13;"), ("\t", "&#9;")):
        value = value.replace(raw, ent)
    return value
