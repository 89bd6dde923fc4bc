"""Tell "libvirt allows this but pyvirt does not" from "libvirt does not allow this".

Both show up as an element/attribute the model does not declare.  When libvirt's RelaxNG
schemas are available (installed libvirt, ``PYVIRT_LIBVIRT_SCHEMAS``, or the project's shared
conformance copy) the document is validated: valid means unsupported, invalid means an error.
Without schemas pyvirt stays conservative and calls it unsupported.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from pyvirt.xml.lazy_etree import etree


def _candidates() -> list[Path]:
    out = []
    env = os.environ.get("PYVIRT_LIBVIRT_SCHEMAS")
    if env:
        out.append(Path(env))
    out.append(Path("/usr/share/libvirt/schemas"))
    here = Path(__file__).resolve()
    for parent in here.parents:
        out.append(parent.parent / "shared" / "conformance" / "libvirt-9.0.0" / "schemas")
        if (parent / "pyproject.toml").exists():
            break
    return out


def schema_dir() -> Path | None:
    """The first folder holding libvirt's domain.rng, or None."""
    for d in _candidates():
        if (d / "domain.rng").is_file():
            return d
    return None


@functools.cache
def relaxng(kind: str) -> etree.RelaxNG | None:
    """The compiled schema ``KIND.rng`` (domain, network, ...), or None when not available."""
    d = schema_dir()
    if d is None or not (d / f"{kind}.rng").is_file():
        return None
    try:
        return etree.RelaxNG(file=str(d / f"{kind}.rng"))
    except etree.RelaxNGParseError:
        return None


def schema_error(root: etree._Element, kind: str) -> tuple[str, int | None] | None:
    """(message, line) of the first schema violation, or None when valid or no schema is known."""
    rng = relaxng(kind)
    if rng is None or rng.validate(root):
        return None
    err = rng.error_log.last_error
    return (err.message, err.line) if err is not None else ("does not match libvirt's schema", None)


def schema_report(root: etree._Element, kind: str) -> str | None:
    """libvirt's text for a document its schema refuses (virXMLValidateAgainstSchema): the
    schema's path, then every error the validator gave, one a line; None when valid or no
    schema is known."""
    rng = relaxng(kind)
    if rng is None or rng.validate(root):
        return None
    lines = [f"Unable to validate doc against {schema_dir() / f'{kind}.rng'}"]
    lines += [e.message for e in rng.error_log]
    return "\n".join(lines) + "\n"
