"""``dumpxml --xpath``: the one CLI feature that needs lxml, so it lives alone and is imported
only when that flag is given."""

from __future__ import annotations

from pyvirt.cli.context import CmdError


def xpath_dump(xml: str, expr: str, *, wrap: bool = False) -> str:
    from lxml import etree

    root = etree.fromstring(xml.encode())
    try:
        result = root.xpath(expr)
    except etree.XPathError as exc:
        raise CmdError(f"XPath evaluation failed: {exc}") from None
    if not isinstance(result, list):
        result = [result]
    parts: list[str] = []
    for r in result:
        if isinstance(r, etree._Element):
            r.tail = None
            parts.append(etree.tostring(r, encoding="unicode"))
        else:
            parts.append(str(r))
    if wrap:
        body = "".join(f"  {x}\n" for x in parts)
        return f"<nodes>\n{body}</nodes>\n"
    return "".join(x + "\n" for x in parts)
