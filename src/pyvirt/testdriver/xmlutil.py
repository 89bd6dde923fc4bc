"""Secure lxml parsing and small XPath helpers for the test driver.

The test driver keeps every object's XML as an lxml tree rather than a typed model, because
<node> files from other projects use elements pyvirt's model may refuse; only the few fields
the API reports (name, uuid, memory, vcpus, state…) are read with XPath.

lxml is imported inside the functions that need it: `text()` and `scaled()` also read the
light trees of :mod:`pyvirt.testdriver.fastload`, so `list` on test:///default never loads lxml
(~9 ms of the CLI's start-up).
"""

from __future__ import annotations

from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError
from pyvirt.xml.escape import escape_xml

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import Any

    from lxml import etree

TEST_NS = "http://libvirt.org/schemas/domain/test/1.0"



def parser() -> etree.XMLParser:
    """No entity expansion, no network: XML comes from users and foreign files."""
    from lxml import etree

    return etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=False,
                           huge_tree=False, load_dtd=False)


def parse_string(text: str | bytes, url: str | None = None) -> etree._Element:
    """Parse XML text or raise libvirt's words: for a document a caller gave (`url` the name
    libvirt's parser gives its kind, see pyvirt.xml.libxml_report), its report of malformed XML."""
    from lxml import etree

    data = text.encode("utf-8", "surrogateescape") if isinstance(text, str) else text  # see safe_parse
    xml_parser = parser()
    try:
        return etree.fromstring(data, xml_parser)
    except etree.XMLSyntaxError as exc:
        if url is not None:
            from pyvirt.xml.safe import malformed

            raise PyvirtError(malformed(exc, xml_parser, data, url).report, ErrorCode.XML_DETAIL,
                              ErrorDomain.XML) from exc
        raise PyvirtError(f"XML error: {exc}", ErrorCode.XML_ERROR, ErrorDomain.XML) from exc


def parse_file(path: str) -> etree._Element:
    """Parse a node file as testOpenFromFile does (virXMLParseFile): libxml2 says on stderr what
    it could not read (a file it cannot open: libvirt's "failed to parse xml document"; a folder
    reads as an empty document) and a malformed file is reported at its line, named by its path."""
    import sys

    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except IsADirectoryError:
        sys.stderr.write("I/O error : Is a directory\n")
        data = b""
    except OSError as exc:
        sys.stderr.write(f'I/O warning : failed to load external entity "{path}"\n')
        raise PyvirtError(f"XML error: failed to parse xml document '{path}'",
                          ErrorCode.XML_ERROR, ErrorDomain.XML) from exc
    return parse_string(data, url=path)


def text(el: Any, path: str, default: str = "") -> str:
    """Stripped text of the first element matching `path` (or `default`)."""
    found = el.find(path)
    if found is None or found.text is None:
        return default
    return found.text.strip()


def scaled(el: Any, path: str, default_unit: str = "KiB", out_unit: str = "KiB",
           default: int = 0) -> int:
    """A libvirt scaled integer (`<memory unit='MiB'>`), converted to `out_unit`."""
    found = el.find(path)
    if found is None or not (found.text or "").strip():
        return default
    from pyvirt.xml.units import unit_scale  # the one unit table (light: no lxml)

    try:
        value = int(found.text.strip()) * unit_scale(found.get("unit") or default_unit)
    except ValueError:
        return default
    return value // unit_scale(out_unit)


def _escape(value: str, quote: bool, verbatim: bool = False) -> str:
    """libvirt's virBufferEscapeString (quotes too); ``verbatim`` subtrees (<metadata>, which
    libvirt dumps through libxml2) escape only what XML requires, attributes in double quotes."""
    if not verbatim:
        return escape_xml(value)
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return value.replace('"', "&quot;") if quote else value


def _qname(el: etree._Element, name: str) -> str:
    if name[0] != "{":
        return name
    from lxml import etree

    qn = etree.QName(name)
    if qn.namespace is None:
        return qn.localname
    for prefix, uri in (el.nsmap or {}).items():
        if uri == qn.namespace and prefix:
            return f"{prefix}:{qn.localname}"
    return qn.localname


def _emit(el: etree._Element, depth: int, out: list[str], declared: dict[str | None, str],
          verbatim: bool = False) -> None:
    pad = "  " * depth
    tag = _qname(el, el.tag)
    q = '"' if verbatim else "'"
    attrs = []
    for prefix, uri in (el.nsmap or {}).items():
        if declared.get(prefix) != uri and uri != TEST_NS:
            value = _escape(uri, True, verbatim)
            attrs.append(f" xmlns:{prefix}={q}{value}{q}" if prefix else f" xmlns={q}{value}{q}")
    scope = {**declared, **(el.nsmap or {})}
    attrs += [f" {_qname(el, k)}={q}{_escape(v, True, verbatim)}{q}" for k, v in el.attrib.items()
              if not k.startswith(_TEST_ATTR)]  # the test driver's own bookkeeping (tuning.AUTOFILL)
    children = [c for c in el if isinstance(c.tag, str)]
    body = (el.text or "").strip() if not children else ""
    if not children and not body and "\n" in (el.text or ""):
        out.append(f"{pad}<{tag}{''.join(attrs)}>\n{pad}</{tag}>")  # libvirt's empty <devices>/<source>
        return
    if not children and not body:
        out.append(f"{pad}<{tag}{''.join(attrs)}/>")
        return
    if not children:
        out.append(f"{pad}<{tag}{''.join(attrs)}>{_escape(el.text or '', False, verbatim)}</{tag}>")
        return
    out.append(f"{pad}<{tag}{''.join(attrs)}>")
    for child in children:
        _emit(child, depth + 1, out, scope, verbatim or el.tag == "metadata")
    out.append(f"{pad}</{tag}>")


_TEST_ATTR = "{" + TEST_NS + "}"


def to_string(el: etree._Element) -> str:
    """Serialise as libvirt does: single-quoted attributes, two-space indentation, no comments,
    no XML declaration, trailing newline (so test-driver output reads like virsh's)."""
    out: list[str] = []
    _emit(el, 0, out, {})
    return "\n".join(out) + "\n"


def set_child_text(root: etree._Element, tag: str, value: str, after: tuple[str, ...] = ()) -> etree._Element:
    """Set `<tag>` text, creating the element after the last of `after` present (keeps schema order)."""
    el = root.find(tag)
    if el is None:
        from lxml import etree

        el = etree.Element(tag)
        anchor = None
        for name in after:
            found = root.find(name)
            if found is not None:
                anchor = found
        if anchor is not None:
            el.tail = anchor.tail
            anchor.addnext(el)
        else:
            root.insert(0, el)
    el.text = value
    return el
