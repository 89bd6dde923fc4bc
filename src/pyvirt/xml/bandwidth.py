"""``<bandwidth>`` as libvirt reads it (virNetDevBandwidthParse), for networks, their port
groups and guest NICs alike: one rule, whatever element carries it.

libvirt refuses a direction without ``average`` (inbound may have a ``floor`` instead, where
the configuration takes one: NICs on a libvirt network), ``peak``/``burst`` without
``average`` and ``floor`` on outbound; it treats zero as "not set", drops a direction left
without average (or floor), and keeps an element that had children even when nothing is left
(written open and closed), while a childless ``<bandwidth/>`` means no bandwidth at all.
"""

from __future__ import annotations

from .domain import Bandwidth
from .errors import XMLDetailError, XMLUnsupportedError


def bandwidth_rules(bw: Bandwidth | None, *, allow_floor: bool) -> Bandwidth | None:
    """Check and normalise ``bw`` in place; the value to keep (None: no ``<bandwidth>``)."""
    if bw is None or (bw.inbound is None and bw.outbound is None):
        return None
    for rate in (bw.inbound, bw.outbound):
        if rate is None:
            continue
        if rate.average is None and rate.floor is None:
            raise XMLDetailError("Missing mandatory average or floor attributes", rate.line)
        if (rate.peak is not None or rate.burst is not None) and rate.average is None:
            raise XMLUnsupportedError("'peak' and 'burst' require 'average' attribute", rate.line)
    if bw.outbound is not None and bw.outbound.floor is not None:
        raise XMLUnsupportedError("'floor' attribute allowed only in <inbound> element", bw.outbound.line)
    if bw.inbound is not None and bw.inbound.floor is not None and not allow_floor:
        raise XMLUnsupportedError("floor attribute is not supported for this config", bw.inbound.line)
    for rate in (bw.inbound, bw.outbound):
        if rate is not None:
            rate.average, rate.peak, rate.floor, rate.burst = (
                v or None for v in (rate.average, rate.peak, rate.floor, rate.burst))
    if bw.inbound is not None and bw.inbound.average is None and bw.inbound.floor is None:
        bw.inbound = None
    if bw.outbound is not None and bw.outbound.average is None:
        bw.outbound = None
    return bw
