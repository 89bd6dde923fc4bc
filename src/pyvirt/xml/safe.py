"""One hardened lxml entry point for every libvirt XML kind pyvirt reads.

XML comes from users and remote clients: no entity expansion, no network, no DTD, no huge
trees.  Line numbers stay on the elements so every error can point at the user's line.
"""

from __future__ import annotations

from pyvirt.xml.lazy_etree import etree

from .errors import XMLError, XMLMalformedError
from .libxml_report import URLS, report

#: far above any real definition (a domain with 200 disks has ~5,000 elements), far below what
#: costs the daemon: 1.5 million empty elements (9 MB) took ~380 MB and 3 s to parse
MAX_ELEMENTS = 100_000


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                           remove_comments=True, remove_pis=True, dtd_validation=False)


def safe_parse(xml: str | bytes, url: str | None = None) -> etree._Element:
    """Parse a document and return its root element; XMLMalformedError (with line, and libvirt's
    report naming the document `url` as libvirt's parser names that kind) when malformed."""
    if isinstance(xml, str):
        # an encoding declaration in a str is meaningless; lxml refuses str with one.  Bytes a
        # file held that are not UTF-8 come as surrogates (cli read_file): they go back to
        # libxml2 as the bytes they were, which reports them as libvirt's parser does
        xml = xml.encode("utf-8", "surrogateescape")
    if not isinstance(xml, bytes):
        raise XMLError(f"expected XML text, got {type(xml).__name__}")
    if not xml.strip():
        raise XMLError("empty XML document")
    # counted before parsing, in C: every element, comment or PI opens with '<' not followed by '/'
    tags = xml.count(b"<") - xml.count(b"</")
    if tags > MAX_ELEMENTS:
        raise XMLError(f"XML document has too many elements ({tags}; at most {MAX_ELEMENTS})")
    parser = _parser()
    try:
        root = etree.fromstring(xml, parser)
    except etree.XMLSyntaxError as e:
        raise malformed(e, parser, xml, url) from None
    if root is None:
        raise XMLError("empty XML document")
    for el in root.iter():
        if isinstance(el, etree._Entity):
            raise XMLError("entity references are not allowed", el.sourceline)
    return root


def malformed(exc: etree.XMLSyntaxError, parser: etree.XMLParser, data: bytes, url: str | None) -> XMLMalformedError:
    """The error for a failed parse: libxml2's first fatal error, as libvirt reports it (it
    reports the first one only: later ones find its error already set)."""
    line = exc.lineno or None
    entries = [e for e in parser.error_log if e.level_name == "FATAL"] or list(parser.error_log)
    if not entries:
        return XMLMalformedError(f"malformed XML: {exc.msg}", line, f"malformed XML: {exc.msg}")
    first = entries[0]
    return XMLMalformedError(f"malformed XML: {exc.msg}", line,
                             report(url, first.message, data, first.line, first.column))


def parse_root(xml: str | bytes, tag: str) -> etree._Element:
    """:func:`safe_parse` (the document named as libvirt's parser of ``tag`` names it), then
    insist on the document's root element ``tag``."""
    root = safe_parse(xml, URLS.get(tag))
    if root.tag != tag:
        raise XMLError(f"expected root element <{tag}>, found <{root.tag}>", root.sourceline)
    return root
