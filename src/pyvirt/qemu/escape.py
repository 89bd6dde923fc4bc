"""Value encoding for QEMU options: the one place where commas are escaped.

QEMU's legacy ``k=v,k=v`` option syntax treats ``,`` as the separator, so a literal comma inside a
value must be doubled.  Getting this wrong lets a disk path or a guest name inject extra options,
which is why every ``k=v`` value pyvirt emits goes through :func:`escape_value` (via
:func:`kv_option`), and why nothing else in the package is allowed to double commas.

Options that take JSON (``-device``, ``-blockdev``, ``-object``, ``-netdev``, ``-audiodev``) need no
comma escaping at all: :func:`json_value` renders them compactly, keeping the insertion order of
the dict so the output follows libvirt's key order.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

KVValue = str | int | bool | None


def escape_value(value: str) -> str:
    """Double every comma so QEMU's option parser reads *value* as one value."""
    return value.replace(",", ",,")


def _render(value: KVValue) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


def kv_option(head: KVValue | None, pairs: Iterable[tuple[str, KVValue]] | Mapping[str, KVValue] = ()) -> str:
    """Build ``head,k=v,k=v`` with every value (and the head) comma-escaped.

    ``None`` values are skipped, booleans become ``on``/``off``; a pair whose value is the empty
    string ``""`` with key ending in ``!`` is not supported on purpose: flags are written as
    ``k=on``.
    """
    items = pairs.items() if isinstance(pairs, Mapping) else pairs
    parts: list[str] = []
    if head is not None:
        parts.append(escape_value(_render(head)))
    for key, val in items:
        if val is None:
            continue
        parts.append(f"{key}={escape_value(_render(val))}")
    return ",".join(parts)


def json_value(props: Mapping[str, Any]) -> str:
    """Compact JSON in insertion order, as libvirt writes -device/-blockdev/-object values."""
    return json.dumps(props, separators=(",", ":"), ensure_ascii=False)
