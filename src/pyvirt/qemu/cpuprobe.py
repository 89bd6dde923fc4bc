"""The x86 CPU facts QEMU itself knows: which features each named model turns on, and which
features its ``max`` model has under TCG (the CPU this host's hypervisor can give a guest).

libvirt keeps these facts in its own cpu_map files; pyvirt asks QEMU instead, once per binary
(``query-cpu-model-expansion`` type ``static`` for every model in one probe session, about a
second), and caches the answer next to the other capability probes (:mod:`pyvirt.qemu.capscache`),
keyed by the binary's path, mtime and size like :func:`pyvirt.qemu.caps.cache_path`.
The facts are kept in QEMU's own feature names; :mod:`pyvirt.cpumap` turns them into libvirt's.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pyvirt.qemu.caps import DEFAULT_BINARY, EmulatorCaps, cache_path, probe_emulator, run_probe_session
from pyvirt.qemu.capscache import read_json, write_json_atomic

CACHE_FORMAT = 1  # bump when the cached document changes shape

#: QEMU's versioned names ("Haswell-v2") are spellings of the same models; "host" needs KVM
_VERSIONED = re.compile(r"-v\d+$")
_SKIP = ("host",)


def expanded_models(caps: EmulatorCaps) -> list[str]:
    """The models to expand: every unversioned one QEMU lists (``base`` and ``max`` included)."""
    return [m.name for m in caps.cpu_models if m.name not in _SKIP and not _VERSIONED.search(m.name)]


def parse_expansions(names: list[str], replies: list[Any], caps: EmulatorCaps) -> dict[str, Any]:
    """The cached document from the expansion replies (pure): per model the QEMU feature names it
    turns on, its vendor string, the features TCG cannot give it (``unavailable-features``), and
    every feature name QEMU knows (the boolean properties of ``base``)."""
    blockers = {m.name: list(m.unavailable_features) for m in caps.cpu_models}
    models: dict[str, Any] = {}
    known: set[str] = set()
    for name, reply in zip(names, replies, strict=True):
        props = reply["model"].get("props", {})
        flags = {k for k, v in props.items() if isinstance(v, bool)}
        known |= flags
        models[name] = {"features": sorted(k for k in flags if props[k]),
                        "vendor": str(props.get("vendor", "")), "blockers": blockers.get(name, [])}
    return {"models": models, "known": sorted(known)}


def probe_cpu_facts_uncached(caps: EmulatorCaps, timeout: float = 20.0) -> dict[str, Any]:
    names = expanded_models(caps)
    commands = [("query-cpu-model-expansion", {"type": "static", "model": {"name": n}}) for n in names]
    return parse_expansions(names, run_probe_session(caps.binary, commands, timeout), caps)


def _cache_file(binary: str, cache_dir: Path | None) -> Path | None:
    path = cache_path(binary, cache_dir)
    return None if path is None else path.with_name(path.stem + "-cpumap.json")


def cpu_facts(binary: str = DEFAULT_BINARY, cache_dir: Path | None = None) -> dict[str, Any]:
    """The CPU facts of ``binary``: from the cache while the binary is unchanged, else probed
    (after the capability probe, whose model list it expands) and stored."""
    path = _cache_file(binary, cache_dir)
    if path is None:
        raise FileNotFoundError(f"QEMU binary {binary} not found")
    data = read_json(path)
    if isinstance(data, dict) and data.get("format") == CACHE_FORMAT and isinstance(data.get("facts"), dict):
        return data["facts"]
    facts = probe_cpu_facts_uncached(probe_emulator(binary, cache_dir))
    write_json_atomic(path, {"format": CACHE_FORMAT, "facts": facts})
    return facts


_MAPS: dict[str, Any] = {}


def cpu_map(binary: str = DEFAULT_BINARY) -> Any:
    """The :class:`pyvirt.cpumap.CpuMap` of ``binary``, built once per process.  A missing QEMU
    is libvirt's "internal error" naming it: the map has nowhere else to come from."""
    from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError
    from pyvirt.cpumap import from_facts

    if binary not in _MAPS:
        try:
            _MAPS[binary] = from_facts(cpu_facts(binary))
        except (OSError, RuntimeError) as exc:
            raise PyvirtError(f"internal error: cannot read the x86 CPU map from QEMU: {exc}",
                              ErrorCode.INTERNAL_ERROR, ErrorDomain.CPU) from exc
    return _MAPS[binary]
