"""Reading a domain document: hardened parse, model mapping, then semantic checks."""

from __future__ import annotations

from .domain import Domain
from .mapping import parse_model
from .safe import parse_root
from .validate import validate_domain


def parse_domain(xml: str | bytes) -> Domain:
    """Parse libvirt domain XML into a :class:`Domain` (raises XMLError and subclasses)."""
    dom = parse_model(parse_root(xml, "domain"), Domain, "domain")
    validate_domain(dom)
    return dom
