"""UDP character devices: two ``<source>`` elements, one per direction.

libvirt reads a ``type='udp'`` character device's sources by mode (virDomainChrSourceDefParseUDP):
the first ``connect`` one (or one without a mode) is where QEMU sends to, the first ``bind`` one
where it listens; it writes them back bind first, each with mode, host, service
(virDomainChrSourceDefFormat).  The model's ``source_host``/``source_service`` carry the connect
side (so every builder reads them as for TCP), ``source_bind_host``/``source_bind_service`` the
bind side; these hooks translate between that and the two elements.  ``prefix`` is where the
sources sit (``backend/`` for an RNG's egd backend) and ``fields`` the model's field prefix.
"""

from __future__ import annotations

from typing import Any

from lxml import etree


def _type(obj: Any, fields: str) -> str | None:
    return obj.backend_type if fields == "backend_source_" else obj.type


def after_parse(obj: Any, el: etree._Element, prefix: str = "", fields: str = "source_") -> None:
    """Set the connect and bind sides from every ``<source>`` of a UDP device; refuse more
    ``<source>`` elements than the type has sides (virDomainChrSourceDefParseXML: one, UDP two)."""
    udp = _type(obj, fields) == "udp"
    sources = el.findall(f"{prefix}source")
    if len(sources) > (2 if udp else 1):
        from .errors import XMLError

        raise XMLError(f"only {'two source elements are' if udp else 'one source element is'} allowed for "
                       "character device", sources[-1].sourceline, libvirt_words=True)
    if not udp:
        return
    connect = bind = None
    for src in el.iterfind(f"{prefix}source"):
        mode = src.get("mode")
        if connect is None and mode in (None, "connect"):
            connect = src
        elif bind is None and mode == "bind":
            bind = src
    for side, src in (("", connect), ("bind_", bind)):
        setattr(obj, f"{fields}{side}host", src.get("host") if src is not None else None)
        setattr(obj, f"{fields}{side}service", src.get("service") if src is not None else None)
    setattr(obj, f"{fields}mode", None)


def after_build(obj: Any, el: etree._Element, prefix: str = "", fields: str = "source_") -> None:
    """Write the bind side, then the connect side, each only when it has a host or service."""
    if _type(obj, fields) != "udp":
        return
    parent = el.find(prefix.rstrip("/")) if prefix else el
    if parent is None:
        return
    built = parent.find("source")
    at = list(parent).index(built) if built is not None else 0
    if built is not None:
        parent.remove(built)
    for mode, side in (("connect", ""), ("bind", "bind_")):  # each inserted at `at`: bind ends first
        host, service = getattr(obj, f"{fields}{side}host"), getattr(obj, f"{fields}{side}service")
        if host is None and service is None:
            continue
        src = etree.Element("source")
        src.set("mode", mode)
        if host is not None:
            src.set("host", host)
        if service is not None:
            src.set("service", service)
        parent.insert(at, src)
