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

CACHE_FORMAT = 2  # bump when the cached document changes shape

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
    facts = parse_expansions(names, run_probe_session(caps.binary, commands, timeout), caps)
    try:
        facts["positions"] = probe_positions(caps.binary, facts["known"], timeout)
    except RuntimeError:  # a QEMU without the pc machine: the map still works, features sorted by name
        facts["positions"] = {}
    return facts


# -- where each feature lives in CPUID (or an MSR), for libvirt's feature order and the host's CPU
#
# QEMU names a feature's place only in its warnings: a CPU built with every feature on warns, for
# each one TCG cannot give, "TCG doesn't support requested feature: CPUID.07H:EBX.hle [bit 4]".
# The rest (what TCG does give, ~90 features) are found from the CPUID words of a few CPUs, each
# with a different subset on: the subsets spell each feature's index in binary, so a bit set in
# the CPUs of runs 0 and 2 belongs to feature 0b101 - 1.  xsave is on in every run, since
# QEMU drops the XSAVE features of a CPU without it.

_WARNING = re.compile(r"(?:feature|requested): (?:CPUID\.([0-9A-F]+)H:(E[A-D]X)|MSR\(([0-9A-F]+)H\))"
                      r"\.([A-Za-z0-9_.-]+) \[bit (\d+)\]")
_ROOT = "xsave"


def _subleaf(leaf: int, reg: str) -> int:
    """The warnings name no subleaf: leaf 7's EAX is subleaf 1's, so are leaf 0xD's features."""
    return 1 if (leaf == 7 and reg == "EAX") or leaf == 0xD else 0


def _cpu_run(binary: str, features: list[str], timeout: float) -> tuple[list[Any], str]:
    """Feature words and warnings of a CPU ``base`` with `features` on (a stopped pc machine)."""
    cpu = ",".join(["base", *(f"{f}=on" for f in features)])
    path = "/machine/unattached/device[0]"
    warnings: list[str] = []
    replies = run_probe_session(binary, [("qom-get", {"path": path, "property": "feature-words"}),
                                         ("qom-get", {"path": path, "property": "filtered-features"})],
                                timeout, ("-machine", "pc", "-cpu", cpu), warnings)
    return [w for reply in replies for w in reply], "".join(warnings)


def _bits(words: list[Any]) -> set[tuple[int, int, str, int]]:
    """(leaf, subleaf, register, bit) set in these words; leaf 0xD subleaf 0 lists XSAVE state
    components a feature brings along (AVX's registers), not features."""
    out = set()
    for w in words:
        leaf, sub = int(w["cpuid-input-eax"]), int(w.get("cpuid-input-ecx") or 0)
        if (leaf, sub) == (0xD, 0):
            continue
        out |= {(leaf, sub, str(w["cpuid-register"]), b) for b in range(32) if int(w["features"]) >> b & 1}
    return out


def parse_warnings(text: str) -> dict[str, list[Any]]:
    """Feature -> [leaf, subleaf, register, bit] or ["MSR", index, bit] from QEMU's warnings (pure)."""
    out: dict[str, list[Any]] = {}
    for leaf, reg, msr, name, bit in _WARNING.findall(text):
        if msr:
            out[name] = ["MSR", int(msr, 16), int(bit)]
        else:
            out[name] = [int(leaf, 16), _subleaf(int(leaf, 16), reg), reg, int(bit)]
    return out


def decode_runs(coded: list[str], base: set[Any], runs: list[set[Any]]) -> dict[str, list[Any]]:
    """Feature -> position from the binary-coded runs (pure): a position set in run j has bit j
    of its feature's index + 1; one no feature's code explains is left out."""
    codes: dict[Any, int] = {}
    for j, bits in enumerate(runs):
        for pos in bits - base:
            codes[pos] = codes.get(pos, 0) | 1 << j
    out: dict[str, list[Any]] = {}
    for pos, code in sorted(codes.items()):
        if 1 <= code <= len(coded) and coded[code - 1] not in out:
            out[coded[code - 1]] = list(pos)
    return out


def probe_positions(binary: str, known: list[str], timeout: float = 20.0) -> dict[str, list[Any]]:
    """Feature (QEMU's name) -> [leaf, subleaf, register, bit] or ["MSR", index, bit]: about ten
    stopped QEMUs, a second or two once per binary."""
    _, err = _cpu_run(binary, [f for f in known if f != "apic"], timeout)  # apic: every pc CPU has it
    positions = parse_warnings(err)
    coded = [f for f in known if f not in positions and f != _ROOT]
    plain = _bits(_cpu_run(binary, [], timeout)[0])
    base = _bits(_cpu_run(binary, [_ROOT], timeout)[0])
    if len(base - plain) == 1:
        positions[_ROOT] = list(next(iter(base - plain)))
    runs = []
    for j in range((len(coded) + 1).bit_length()):
        words, err = _cpu_run(binary, [_ROOT, *(f for i, f in enumerate(coded) if (i + 1) >> j & 1)], timeout)
        runs.append(_bits(words))
        positions.update({k: v for k, v in parse_warnings(err).items() if k not in positions})
    positions.update({k: v for k, v in decode_runs(coded, base, runs).items() if k not in positions})
    return positions
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


def tcg_host_model(binary: str = DEFAULT_BINARY) -> Any:
    """The CPU libvirt gives a host-model guest under TCG (its host-model for virttype qemu):
    QEMU's ``max`` named by the closest model of the map, as libvirt decodes it
    (:func:`pyvirt.cpucompute.decode`); None where QEMU has no ``max``.  domcapabilities offers
    it and a TCG guest's host-model CPU is started as it, so the two agree."""
    from pyvirt.cpucompute import decode

    cmap = cpu_map(binary)
    hv = cmap.hypervisor
    return None if hv is None else decode(cmap, set(hv.features), hv.vendor)


def check_guest_cpu(dom: Any, binary: str = DEFAULT_BINARY) -> None:
    """A TCG guest's custom CPU with ``check='partial'`` is compared with the CPU TCG gives (QEMU's
    ``max``) before the start, as libvirt 9.0 does (qemuProcessUpdateGuestCPU, virCPUCompare): a
    model or required feature TCG lacks, or a forbidden one it has, is libvirt's CPU_INCOMPATIBLE
    error naming them.  ``check='none'`` (TCG's default) and ``'full'`` (checked after QEMU
    started, by the CPUID it reports) are not compared here."""
    cpu = dom.cpu
    if (dom.type != "qemu" or cpu is None or cpu.check != "partial" or cpu.mode not in (None, "custom")
            or not cpu.model or cpu.match == "minimum"):
        return
    from pyvirt.cpucompute import compare
    from pyvirt.cpudef import CpuDef

    cmap = cpu_map(binary)
    hv = cmap.hypervisor
    if hv is None:
        return
    guest = CpuDef(host=False, model=cpu.model, vendor=cpu.vendor, match=cpu.match or "exact",
                   features=[(f.name, f.policy or "require") for f in cpu.features])
    compare(cmap, set(hv.features), hv.vendor, guest, fail_incompatible=True)
