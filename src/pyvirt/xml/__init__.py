"""libvirt XML documents <-> typed model objects.  Imports nothing else of pyvirt.

Entry points: :func:`parse_domain`, :meth:`Domain.to_xml`, :func:`fill_defaults`,
:func:`safe_parse` (shared by every XML kind).
"""

from __future__ import annotations

from .defaults import HostDefaults, fill_defaults
from .domain import Domain
from .errors import XMLError, XMLUnsupportedError, XMLValidationError
from .parse import parse_domain
from .safe import safe_parse

__all__ = ["Domain", "HostDefaults", "XMLError", "XMLUnsupportedError", "XMLValidationError",
           "fill_defaults", "parse_domain", "safe_parse"]
