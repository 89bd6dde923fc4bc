"""libvirt XML documents <-> typed model objects.  Imports nothing else of pyvirt.

Entry points: :func:`parse_domain`, :meth:`Domain.to_xml`, :func:`fill_defaults`,
:func:`safe_parse` (shared by every XML kind).

The names below load their modules on first use (PEP 562), so that light modules of this
package (:mod:`pyvirt.xml.units`, :mod:`pyvirt.xml.errors`) can serve the CLI's hot path
without importing lxml and the whole model.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (CLI start-up time)
if TYPE_CHECKING:
    from typing import Any

_EXPORTS = {"Domain": ".domain", "HostDefaults": ".defaults", "fill_defaults": ".defaults",
            "XMLError": ".errors", "XMLUnsupportedError": ".errors", "XMLValidationError": ".errors",
            "parse_domain": ".parse", "safe_parse": ".safe"}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    full = __name__ + module  # __import__ and sys.modules, not importlib: it is not loaded on the hot path
    __import__(full)
    value = getattr(sys.modules[full], name)
    globals()[name] = value
    return value
