"""libvirt's x86 CPU algebra on feature sets: the baseline of several CPUs (virCPUx86Baseline),
naming a feature set with the closest model (x86Decode), comparing a CPU with the host's
(x86Compute) and listing every feature a model implies (virCPUx86ExpandFeatures).

A CPU is the features its model implies plus the ones it requires, minus the ones it disables;
everything here is set arithmetic over a :class:`pyvirt.cpumap.CpuMap`, so it runs against any
map (the tests give it small made-up ones).
"""

from __future__ import annotations

from dataclasses import dataclass

from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError
from pyvirt.cpudef import PRESENT, CpuDef, cpu_error
from pyvirt.cpumap import LIBVIRT_ONLY, MIGRATE_BLOCKERS, VENDORS, CpuMap, CpuModelDef
from pyvirt.cpumodels import ANY_MODEL_ARCHES, PPC64_ARCHES, PPC64_MODELS, X86_ARCHES

IDENTICAL, SUPERSET, INCOMPATIBLE = 1, 2, 0  # virCPUCompareResult
_X86 = frozenset(X86_ARCHES)
_VENDOR_NAMES = frozenset(VENDORS.values())


def _other_arch_baseline(cpus: list[CpuDef]) -> CpuDef | None:
    """libvirt's other CPU drivers, chosen by the first CPU's arch (None: x86's): ARM's keeps the
    first model; ppc64's needs one model every CPU names (its own list); s390's has no baseline;
    other architectures have no CPU driver."""
    arch = cpus[0].arch
    if arch is None or arch in _X86:
        return None
    if arch in ANY_MODEL_ARCHES and not arch.startswith("s390"):
        return CpuDef(host=False, model=cpus[0].model, match="exact")
    if arch.startswith("s390"):
        raise cpu_error(f"cannot compute baseline CPU of {arch} architecture", ErrorCode.NO_SUPPORT)
    if arch not in PPC64_ARCHES:
        raise cpu_error(f"'{arch}' architecture is not supported by CPU driver", ErrorCode.NO_SUPPORT)
    for cpu in cpus:
        if cpu.model not in PPC64_MODELS:
            raise cpu_error(f"Unknown CPU model {cpu.model}", ErrorCode.INTERNAL_ERROR)
    if any(cpu.model != cpus[0].model for cpu in cpus):
        raise cpu_error("CPUs are incompatible", ErrorCode.OPERATION_FAILED)
    vendors = {cpu.vendor for cpu in cpus}
    vendor = vendors.pop() if len(vendors) == 1 else None
    return CpuDef(host=False, model=cpus[0].model, vendor=vendor, match="exact", fallback="forbid")


def _model(cmap: CpuMap, name: str) -> CpuModelDef:
    m = cmap.models.get(name)
    if m is None:
        raise cpu_error(f"Unknown CPU model {name}", ErrorCode.INTERNAL_ERROR)
    return m


def _check_features(cmap: CpuMap, cpu: CpuDef) -> None:
    for name, _ in cpu.features:
        if not cmap.known(name):
            raise cpu_error(f"Unknown CPU feature {name}", ErrorCode.INTERNAL_ERROR)


def features_of(cmap: CpuMap, cpu: CpuDef, policy: str | None = None) -> set[str]:
    """x86ModelFromCPU: with no `policy`, the CPU's whole feature set (model + required/forced -
    disabled/forbidden; optional ones ignored); with one, the features of that policy, the
    model's too for "require"."""
    _check_features(cmap, cpu)
    if cpu.host and policy not in (None, PRESENT):
        return set()
    data: set[str] = set()
    if cpu.model and policy in (None, "require"):
        data |= _model(cmap, cpu.model).features
    for name, pol in cpu.features:
        if policy is None:
            if pol in ("force", "require"):
                data.add(name)
            elif pol in ("disable", "forbid"):
                data.discard(name)
        elif pol == policy:
            data.add(name)
    return data


def _vendor(name: str) -> str:
    if name not in _VENDOR_NAMES:
        raise cpu_error(f"Unknown CPU vendor {name}", ErrorCode.OPERATION_FAILED)
    return name


@dataclass
class _Candidate:
    model: CpuModelDef
    require: set[str]
    disable: set[str]
    blocked: list[str]  # what the hypervisor cannot give this model, disabled after the rest

    @property
    def size(self) -> tuple[int, int]:
        """Fewest features listed wins; of two as long, the one disabling fewer."""
        disabled = len(self.disable) + len(self.blocked)
        return len(self.require) + disabled, disabled


def decode(cmap: CpuMap, data: set[str], vendor: str | None, preferred: str | None = None,
           hv_models: dict[str, tuple[str, ...]] | None = None, fallback: str = "allow",
           migratable: bool = False) -> CpuDef:
    """x86Decode: the model needing the fewest extra and disabled features to describe `data`
    (the preferred one when it qualifies), newest first; `hv_models` limits the choice to what
    a hypervisor offers and disables what it cannot give each model (its blockers)."""
    if migratable:
        data = data - MIGRATE_BLOCKERS
    best: _Candidate | None = None
    for name in reversed(cmap.candidates):
        if hv_models is not None and name not in hv_models:
            if preferred == name and fallback != "allow":
                raise cpu_error(f"CPU model {name} is not supported by hypervisor",
                                ErrorCode.CONFIG_UNSUPPORTED)
            continue
        model = cmap.models[name]
        if vendor and model.vendor and vendor != model.vendor:
            continue
        cand = _Candidate(model, set(data - model.features), set(model.features - data), [])
        for blocker in (hv_models or {}).get(name, ()):
            if cmap.known(blocker) and blocker not in cand.require and blocker not in cand.disable:
                cand.blocked.append(blocker)
        if preferred == name:
            best = cand
            break
        if best is None or best.size > cand.size:
            best = cand
    if best is None:
        raise cpu_error("Cannot find suitable CPU model for given data", ErrorCode.INTERNAL_ERROR)
    feats = [(n, "require") for n in cmap.ordered(best.require)]
    feats += [(n, "disable") for n in [*cmap.ordered(best.disable), *best.blocked]]
    return CpuDef(host=False, model=best.model.name, vendor=vendor, match="exact", features=feats)


def baseline(cmap: CpuMap, cpus: list[CpuDef], hv_models: dict[str, tuple[str, ...]] | None = None,
             features: set[str] | None = None, migratable: bool = False) -> CpuDef:
    """virCPUBaseline + virCPUx86Baseline: the features every CPU has, named by the closest
    model; `features` (a hypervisor's) limits the result to what it knows."""
    if not cpus:
        raise cpu_error("No CPUs given", ErrorCode.INVALID_ARG)
    for i, cpu in enumerate(cpus):
        if not cpu.model:
            raise cpu_error(f"no CPU model specified at index {i}", ErrorCode.INVALID_ARG)
    other = _other_arch_baseline(cpus)
    if other is not None:
        return other
    data = features_of(cmap, cpus[0])
    vendor = _vendor(cpus[0].vendor) if cpus[0].vendor else None
    output_vendor = cpus[0].vendor is not None
    model_name: str | None = cpus[0].model
    matching = True
    for cpu in cpus[1:]:
        if matching and cpu.model:
            if model_name is None:
                model_name = cpu.model
            elif model_name != cpu.model:
                model_name, matching = None, False
        feats = features_of(cmap, cpu)
        model = _model(cmap, cpu.model or "")
        if cpu.vendor and model.vendor and cpu.vendor != model.vendor:
            raise cpu_error(f"CPU vendor {model.vendor} of model {model.name} differs from vendor {cpu.vendor}",
                            ErrorCode.OPERATION_FAILED)
        if cpu.vendor:
            vn: str | None = cpu.vendor
        else:
            output_vendor = False
            vn = model.vendor
        if vn:
            if vendor is None:
                vendor = _vendor(vn)
            elif vendor != vn:
                raise cpu_error("CPU vendors do not match", ErrorCode.OPERATION_FAILED)
        data &= feats
    if features is not None:
        data &= features
    if not data:
        raise cpu_error("CPUs are incompatible", ErrorCode.OPERATION_FAILED)
    fallback = "forbid" if hv_models is not None else "allow"
    cpu = decode(cmap, data, vendor, model_name, hv_models, fallback, migratable)
    if cpu.model == model_name:
        cpu.fallback = "forbid"
    if not output_vendor:
        cpu.vendor = None
    return cpu


def expand_features(cmap: CpuMap, cpu: CpuDef) -> CpuDef:
    """virCPUx86ExpandFeatures: every feature the CPU has listed as required, its explicit
    disables kept, sorted by name."""
    feats = {n: "require" for n in features_of(cmap, cpu)}
    for name, policy in cpu.features:
        if policy in ("require", "disable"):
            feats[name] = policy
    cpu.features = sorted(feats.items())
    return cpu


def compare(cmap: CpuMap, host: set[str], host_vendor: str | None, cpu: CpuDef,
            fail_incompatible: bool = False) -> int:
    """virCPUx86Compare (x86Compute) of `cpu` with a host CPU having the `host` features:
    IDENTICAL, SUPERSET (the host has more) or INCOMPATIBLE; with `fail_incompatible` the last
    is libvirt's CPU_INCOMPATIBLE error saying why."""
    why = _incompatibility(cmap, host, host_vendor, cpu)
    if isinstance(why, int):
        return why
    if fail_incompatible:
        raise PyvirtError(f"the CPU is incompatible with host CPU: {why}", ErrorCode.CPU_INCOMPATIBLE,
                          ErrorDomain.CPU)
    return INCOMPATIBLE


def _incompatibility(cmap: CpuMap, host: set[str], host_vendor: str | None, cpu: CpuDef) -> int | str:
    """The comparison's result, or the reason the CPU is incompatible."""
    if cpu.arch is not None and cpu.arch not in _X86:
        return f"CPU arch {cpu.arch} does not match host arch"
    if cpu.vendor and cpu.vendor != host_vendor:
        return f"host CPU vendor does not match required CPU vendor {cpu.vendor}"
    force = features_of(cmap, cpu, "force")
    require = features_of(cmap, cpu, "require")
    optional = features_of(cmap, cpu, "optional")
    disable = features_of(cmap, cpu, "disable")
    forbid = features_of(cmap, cpu, "forbid") & host
    if forbid:
        return "Host CPU provides forbidden features: " + ", ".join(cmap.ordered(forbid))
    require -= force | optional | disable
    if not require <= host:
        return "Host CPU does not provide required features: " + ", ".join(cmap.ordered(require - host))
    extra = host - optional - require - disable - force
    if not extra:
        return IDENTICAL
    if not cpu.host and cpu.match == "strict":
        return "Host CPU does not strictly match guest CPU: Extra features: " + ", ".join(cmap.ordered(extra))
    return SUPERSET


# -- the four calls, from their XML arguments to their answers (both drivers share these)


def baseline_xml(cmap: CpuMap, xml_cpus: list[str], *, expand: bool = False, migratable: bool = False,
                 hypervisor: bool = False) -> str:
    """virConnectBaselineCPU (every input read as a host CPU, as libvirt does) or, with
    `hypervisor`, virConnectBaselineHypervisorCPU: inputs of either kind, only the models and
    features QEMU offers here (each model's TCG blockers disabled), fallback forbidden."""
    from pyvirt.cpudef import format_cpu, parse_cpu

    if not xml_cpus:
        raise cpu_error("no CPUs given", ErrorCode.INVALID_ARG)
    cpus = [parse_cpu(x, "auto" if hypervisor else "host") for x in xml_cpus]
    if hypervisor:
        hv_models = {name: m.blockers for name, m in cmap.models.items()}
        offered = {n for n in cmap.features if n not in LIBVIRT_ONLY}
        cpu = baseline(cmap, cpus, hv_models, offered, migratable)
        cpu.fallback = "forbid"
    else:
        cpu = baseline(cmap, cpus, migratable=migratable)
    if expand and (cpus[0].arch is None or cpus[0].arch in _X86):  # the other drivers list no features
        expand_features(cmap, cpu)
    return format_cpu(cpu)


def compare_xml(cmap: CpuMap, host: set[str], host_vendor: str | None, xml: str,
                fail_incompatible: bool = False, validate: bool = False) -> int:
    """virCPUCompareXML: `xml` (either kind of CPU) against a host CPU with these features."""
    from pyvirt.cpudef import parse_cpu

    if validate:
        from pyvirt.api import check_schema

        check_schema(xml, "cpu", ErrorDomain.CPU)
    return compare(cmap, host, host_vendor, parse_cpu(xml), fail_incompatible)
