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
import re
from collections.abc import Iterable, Mapping
from typing import Any


class _Flag:
    """Marker value: write the key alone (``-cpu Model,hv-crash``), as QEMU's feature flags."""

    def __repr__(self) -> str:
        return "FLAG"


#: ``kv_option(..., [("hv-crash", FLAG)])`` writes ``hv-crash`` with no ``=value``.
FLAG: Any = _Flag()

KVValue = str | int | bool | None

#: What an option key may look like.  Keys cannot be escaped (QEMU reads ``a,,b`` in a key as
#: part of the *value* of the previous key or as garbage), so anything else is refused.
_KEY_RE = re.compile(r"[A-Za-z0-9_.\-]+")


class UnsafeKeyError(ValueError):
    """A k=v option key that would let its text be read as more than one key."""


def check_key(key: str) -> str:
    """Return *key* when it is a plain QEMU property name; raise :class:`UnsafeKeyError` else.

    Keys come from code, except CPU feature names (``<cpu><feature name=>``), which the XML
    model also checks against libvirt's ``featureName`` pattern.  This is the second wall: a
    key with ``,`` or ``=`` would inject options (``sse2,model-id=evil``).
    """
    if not isinstance(key, str) or not _KEY_RE.fullmatch(key):
        raise UnsafeKeyError(f"refusing QEMU option key {key!r}: only letters, digits, '_', '.', '-'")
    return key


def escape_value(value: str) -> str:
    """Double every comma so QEMU's option parser reads *value* as one value."""
    return value.replace(",", ",,")


def _render(value: KVValue) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


def kv_option(head: KVValue | None, pairs: Iterable[tuple[str, KVValue]] | Mapping[str, KVValue] = ()) -> str:
    """Build ``head,k=v,k=v`` with every value (and the head) comma-escaped.

    ``None`` values are skipped, booleans become ``on``/``off``, :data:`FLAG` writes the bare key.
    Keys are never escaped but checked (:func:`check_key`): a key that is not a plain property
    name raises :class:`UnsafeKeyError`.
    """
    items = pairs.items() if isinstance(pairs, Mapping) else pairs
    parts: list[str] = []
    if head is not None:
        parts.append(escape_value(_render(head)))
    for key, val in items:
        if val is None:
            continue
        check_key(key)
        parts.append(key if val is FLAG else f"{key}={escape_value(_render(val))}")
    return ",".join(parts)


def json_value(props: Mapping[str, Any]) -> str:
    """Compact JSON in insertion order, as libvirt writes -device/-blockdev/-object values."""
    return json.dumps(props, separators=(",", ":"), ensure_ascii=False)
