"""The one XML escaping of libvirt-style output (virBufferEscapeString): ``& < > ' "``.

Every writer that prints libvirt's single-quoted layout uses it: the model's writer
(:mod:`pyvirt.xml.mapping`), the test driver's formatter, and the CLI's small documents
(snapshot-create-as).  Kept free of lxml so the CLI may import it.
"""

from __future__ import annotations


def escape_xml(value: str) -> str:
    """`value` safe in element text and in attribute values of either quote."""
    return (value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("'", "&apos;").replace('"', "&quot;"))
