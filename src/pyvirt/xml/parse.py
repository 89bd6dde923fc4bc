"""Reading a domain document: hardened parse, model mapping, then semantic checks."""

from __future__ import annotations

from .domain import Domain
from .errors import XMLError, XMLUnsupportedError
from .mapping import UnknownNode, parse_obj
from .safe import safe_parse
from .schema import schema_error
from .validate import validate_domain


def parse_domain(xml: str | bytes) -> Domain:
    """Parse libvirt domain XML into a :class:`Domain` (raises XMLError and subclasses)."""
    root = safe_parse(xml)
    if root.tag != "domain":
        raise XMLError(f"expected root element <domain>, found <{root.tag}>", root.sourceline)
    try:
        dom = parse_obj(root, Domain)
    except UnknownNode as e:
        bad = schema_error(root, "domain")
        if bad is not None:
            msg, line = bad
            raise XMLError(f"{e.message} (libvirt's schema: {msg})", e.line or line) from None
        raise XMLUnsupportedError(e.message, e.line) from None
    validate_domain(dom)
    return dom
