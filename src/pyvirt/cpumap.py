"""The x86 CPU map: which features each named model implies, in libvirt's feature names.

libvirt reads this from its own cpu_map files.  pyvirt builds it from what QEMU on this host
says (:mod:`pyvirt.qemu.cpuprobe`: the static expansion of every model), so the map describes
exactly the models a guest here can be given.  Two kinds of difference from libvirt's files
remain, both on purpose (they are QEMU's facts): QEMU's models carry features libvirt's older
definitions lack (Haswell has f16c, rdrand, abm, xsaveopt in QEMU), and a few of libvirt's
definitions carry ``vme`` or ``mpx`` where QEMU's no longer do.

Pure: the map is built from the probe's document; nothing here runs QEMU.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pyvirt.cpumodels import X86_MODELS, cpu_model_vendor

#: QEMU's feature name -> libvirt's, where they differ.  libvirt named these features before
#: QEMU settled on its dashed spellings (and spelled PCLMULQDQ without its Q); libvirt's cpu_map
#: and every libvirt CPU XML keep the old names, so they are what pyvirt reads and writes.
QEMU_TO_LIBVIRT = {
    "cmp-legacy": "cmp_legacy",
    "ds-cpl": "ds_cpl",
    "fxsr-opt": "fxsr_opt",
    "lahf-lm": "lahf_lm",
    "nodeid-msr": "nodeid_msr",
    "pclmulqdq": "pclmuldq",
    "perfctr-core": "perfctr_core",
    "perfctr-nb": "perfctr_nb",
    "tsc-adjust": "tsc_adjust",
    "kvm-pv-eoi": "kvm_pv_eoi",
    "kvm-pv-unhalt": "kvm_pv_unhalt",
}
LIBVIRT_TO_QEMU = {v: k for k, v in QEMU_TO_LIBVIRT.items()}

#: features libvirt's CPU XML may name that QEMU has no switch for: bits the guest OS sets
#: (osxsave, ospke: libvirt's host CPU lists them) or that QEMU does not emulate.  Known, so
#: a host CPU description naming them is read, but no model implies them.  Their CPUID places
#: (leaf, subleaf, register, bit; Intel's and AMD's manuals) since QEMU cannot tell them.
LIBVIRT_ONLY = {
    "osxsave": (1, 0, "ECX", 27), "ospke": (7, 0, "ECX", 4), "pconfig": (7, 0, "EDX", 18),
    "cmt": (0xF, 1, "EDX", 0), "mbm_total": (0xF, 1, "EDX", 1), "mbm_local": (0xF, 1, "EDX", 2),
    "cvt16": (0x80000001, 0, "ECX", 18),
}

#: features libvirt's QEMU driver removes from every guest CPU before it writes ``-cpu``
#: (virQEMUCapsCPUFilterFeatures): resource monitoring and bits the guest OS sets
QEMU_FILTERED = frozenset({"cmt", "mbm_total", "mbm_local", "osxsave", "ospke"})

#: not part of any model: QEMU sets the hypervisor bit on every guest CPU it builds
NOT_MODEL_FEATURES = frozenset({"hypervisor"})

#: features whose guests cannot migrate (QEMU's unmigratable flags; libvirt's
#: migratable='no'): dropped by --migratable
MIGRATE_BLOCKERS = frozenset({"invtsc"})

#: CPUID vendor strings and libvirt's names for them
VENDORS = {"GenuineIntel": "Intel", "AuthenticAMD": "AMD", "HygonGenuine": "Hygon"}


def libvirt_name(qemu: str) -> str:
    return QEMU_TO_LIBVIRT.get(qemu, qemu)


def qemu_name(libvirt: str) -> str:
    return LIBVIRT_TO_QEMU.get(libvirt, libvirt)


def qemu_switch(libvirt: str, on: bool) -> tuple[str, bool] | None:
    """The ``-cpu`` switch libvirt 9.0 writes for a guest CPU feature of its map, in QEMU's
    spelling, or None where it writes none: the filtered features, and a disabled feature QEMU
    has no switch for (``pconfig``, ``cvt16``: off already; a required one is written, and
    QEMU refuses it, as under libvirt)."""
    if libvirt in QEMU_FILTERED or (not on and libvirt in LIBVIRT_ONLY):
        return None
    return qemu_name(libvirt), on


@dataclass(frozen=True)
class CpuModelDef:
    """One model: libvirt's vendor name for it (None: generic), the features it implies, and
    the features TCG cannot give it here (QEMU's unavailable-features, libvirt's "blockers")."""

    name: str
    vendor: str | None
    features: frozenset[str]
    blockers: tuple[str, ...] = ()


@dataclass(frozen=True)
class CpuMap:
    """Models by name, the known feature names in output order, and the order libvirt tries
    models in when it names a CPU from its features (``candidates``, oldest first)."""

    models: dict[str, CpuModelDef]
    features: tuple[str, ...]
    candidates: tuple[str, ...]
    hypervisor: CpuModelDef | None = None  # what TCG's "max" CPU gives a guest
    #: feature -> (leaf, subleaf, register, bit) in CPUID, or ("MSR", index, bit)
    positions: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    _rank: dict[str, int] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._rank.update({name: i for i, name in enumerate(self.features)})

    def known(self, feature: str) -> bool:
        return feature in self._rank

    def ordered(self, names: set[str] | frozenset[str]) -> list[str]:
        """`names` in the map's feature order (how libvirt lists features it computed)."""
        return sorted(names, key=lambda n: (self._rank.get(n, len(self._rank)), n))


def from_facts(facts: dict[str, Any]) -> CpuMap:
    """The map from :func:`pyvirt.qemu.cpuprobe.cpu_facts`'s document."""
    known = {libvirt_name(n) for n in facts["known"]} | set(LIBVIRT_ONLY)
    models: dict[str, CpuModelDef] = {}
    hypervisor = None
    for name, m in facts["models"].items():
        feats = frozenset(libvirt_name(f) for f in m["features"])
        blockers = tuple(libvirt_name(f) for f in m.get("blockers", ()))
        if name == "max":  # a guest's CPU: the hypervisor bit included
            hypervisor = CpuModelDef(name, VENDORS.get(m.get("vendor", "")), feats, blockers)
            continue
        feats -= NOT_MODEL_FEATURES
        if name == "base":
            continue
        vendor = cpu_model_vendor(name)
        models[name] = CpuModelDef(name, None if vendor == "unknown" else vendor, feats, blockers)
    # libvirt names a CPU only with the models its map has, newest tried first; QEMU's other
    # models (Denverton, KnightsMill, ...) are accepted as input, never proposed
    candidates = tuple(n for n in X86_MODELS if n in models)
    positions = {libvirt_name(n): tuple(p) for n, p in facts.get("positions", {}).items()}
    positions.update(LIBVIRT_ONLY)
    order = sorted(known, key=lambda n: (_order_key(positions.get(n)), n))
    return CpuMap(models, tuple(order), candidates, hypervisor, positions)


def _order_key(pos: tuple[Any, ...] | None) -> tuple[Any, ...]:
    """libvirt lists features in CPUID order: by leaf and subleaf, then register (EDX before ECX
    in leaves 1 and 0x80000001, the order of their manuals' tables), then bit; MSR features
    (IA32_ARCH_CAPABILITIES first) after all of them; features without a place last."""
    if pos is None:
        return (2,)
    if pos[0] == "MSR":
        return (1, pos[1] != 0x10A, pos[1], pos[2])
    leaf, sub, reg, bit = pos
    regs = ("EDX", "ECX", "EAX", "EBX") if leaf in (1, 0x80000001) else ("EAX", "EBX", "ECX", "EDX")
    return (0, leaf, sub, regs.index(reg), bit)


#: /proc/cpuinfo's flag -> libvirt's name where the kernel spells it otherwise than by the
#: rules of :func:`host_features` (the kernel names bits after Intel's manuals, not after QEMU)
KERNEL_NAMES = {
    "sse4_1": "sse4.1", "sse4_2": "sse4.2", "pclmulqdq": "pclmuldq", "tsc_deadline_timer": "tsc-deadline",
    "ibrs": "spec-ctrl", "constant_tsc": "invtsc",
}


def host_features(cmap: CpuMap, flags: frozenset[str] | set[str]) -> set[str]:
    """The host CPU's features in libvirt's names, from /proc/cpuinfo's flags: the kernel's
    name itself, else with '_' as '-', else without '_' (avx512_vnni is avx512vnni), where the
    map knows it.  invtsc needs both of the kernel's TSC flags."""
    out: set[str] = set()
    for flag in flags:
        if flag == "constant_tsc" and "nonstop_tsc" not in flags:
            continue
        for name in (KERNEL_NAMES.get(flag, flag), flag.replace("_", "-"), flag.replace("_", "")):
            if cmap.known(name):
                out.add(name)
                break
    return out


def cpuid_features(cmap: CpuMap, read: Any) -> set[str]:
    """The features a CPU's CPUID reports: `read(leaf, subleaf)` gives (eax, ebx, ecx, edx) or
    None for a leaf it lacks.  What libvirt reads for its host CPU (virCPUx86GetHost)."""
    regs: dict[tuple[int, int], Any] = {}
    out: set[str] = set()
    for name, pos in cmap.positions.items():
        if pos[0] == "MSR" or not cmap.known(name):
            continue
        leaf, sub, reg, bit = pos
        if (leaf, sub) not in regs:
            regs[leaf, sub] = read(leaf, sub)
        values = regs[leaf, sub]
        if values is not None and values[["EAX", "EBX", "ECX", "EDX"].index(reg)] >> bit & 1:
            out.add(name)
    return out
