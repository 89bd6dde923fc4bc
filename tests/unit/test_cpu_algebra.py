"""The CPU algebra (pyvirt.cpucompute) over small made-up maps, the <cpu> parser's libvirt errors
(pyvirt.cpudef), the map built from QEMU's facts (pyvirt.cpumap) and the pure parts of the QEMU
probe (pyvirt.qemu.cpuprobe).  No QEMU: tests/integration/test_cpu_map.py runs the real probe."""

from __future__ import annotations

import pytest

from pyvirt.api import ErrorCode, PyvirtError
from pyvirt.cpucompute import IDENTICAL, INCOMPATIBLE, SUPERSET, baseline, baseline_xml, compare_xml, decode
from pyvirt.cpudef import parse_cpu
from pyvirt.cpumap import CpuMap, CpuModelDef, cpuid_features, from_facts, host_features
from pyvirt.qemu.cpuprobe import decode_runs, parse_warnings

POS = {"fpu": (1, 0, "EDX", 0), "vme": (1, 0, "EDX", 1), "sse3": (1, 0, "ECX", 0), "aes": (1, 0, "ECX", 25),
       "avx2": (7, 0, "EBX", 5), "abm": (0x80000001, 0, "ECX", 5), "nx": (0x80000001, 0, "EDX", 20)}


def _map(**models: tuple[str | None, set[str]]) -> CpuMap:
    defs = {n: CpuModelDef(n, v, frozenset(f)) for n, (v, f) in models.items()}
    order = sorted(POS, key=lambda n: (POS[n][0], ("EDX", "ECX", "EBX").index(POS[n][2]), POS[n][3]))
    hv = CpuModelDef("max", "AMD", frozenset({"fpu", "sse3", "nx"}))
    return CpuMap(defs, tuple(order), tuple(models), hv, dict(POS))


#: oldest first, as libvirt's index: Old < Mid < New for Intel, Amd for AMD, Gen has no vendor
MAP = _map(Gen=(None, {"fpu"}), Old=("Intel", {"fpu", "sse3"}), Mid=("Intel", {"fpu", "sse3", "aes"}),
           New=("Intel", {"fpu", "sse3", "aes", "avx2"}), Amd=("AMD", {"fpu", "sse3", "abm"}))


def host(model: str, vendor: str | None = "Intel", *features: str) -> str:
    v = f"<vendor>{vendor}</vendor>" if vendor else ""
    return f"<cpu><arch>x86_64</arch><model>{model}</model>{v}" + "".join(
        f"<feature name='{f}'/>" for f in features) + "</cpu>"


def test_baseline_of_a_model_and_its_superset_is_the_model() -> None:
    out = baseline_xml(MAP, [host("Mid"), host("New")])
    assert out == ("<cpu mode='custom' match='exact'>\n  <model fallback='allow'>Mid</model>\n"
                   "  <vendor>Intel</vendor>\n</cpu>\n")
    same = baseline_xml(MAP, [host("New"), host("New")])
    assert "<model fallback='forbid'>New</model>" in same  # every input named it


def test_baseline_names_extra_features_in_cpuid_order_and_expands_sorted() -> None:
    out = baseline_xml(MAP, [host("Old", "Intel", "abm", "avx2", "vme")])
    # CPUID order: leaf 1 EDX (vme), leaf 7 (avx2), leaf 0x80000001 (abm) - not alphabetical
    assert out.index("'vme'") < out.index("'avx2'") < out.index("'abm'")
    expanded = baseline_xml(MAP, [host("Mid")], expand=True)
    assert [line.split("'")[3] for line in expanded.splitlines() if "<feature" in line] == ["aes", "fpu", "sse3"]


def test_baseline_vendor_rules() -> None:
    with pytest.raises(PyvirtError, match="operation failed: CPU vendors do not match"):
        baseline_xml(MAP, [host("Mid"), host("Gen", "AMD")])
    with pytest.raises(PyvirtError, match="CPU vendor Intel of model Mid differs from vendor AMD"):
        baseline_xml(MAP, [host("Gen"), host("Mid", "AMD")])
    with pytest.raises(PyvirtError, match="Unknown CPU vendor Foo"):
        baseline_xml(MAP, [host("Mid", "Foo")])
    # an input without a vendor: the result names none, but the model's vendor still limits the choice
    out = baseline_xml(MAP, [host("Old", None), host("Amd", "AMD")])
    assert "<vendor>" not in out and "<model fallback='allow'>Gen</model>" in out


def test_baseline_errors_name_what_is_unknown() -> None:
    with pytest.raises(PyvirtError, match="internal error: Unknown CPU model Nope"):
        baseline_xml(MAP, [host("Nope")])
    with pytest.raises(PyvirtError, match="internal error: Unknown CPU feature zzz"):
        baseline_xml(MAP, [host("Mid", "Intel", "zzz")])
    with pytest.raises(PyvirtError, match="invalid argument: no CPUs given"):
        baseline_xml(MAP, [])
    with pytest.raises(PyvirtError, match="operation failed: CPUs are incompatible"):
        baseline(MAP, [parse_cpu(host("Gen", None))], features={"aes"})


def test_decode_prefers_fewer_features_then_fewer_disabled() -> None:
    # {fpu, sse3, avx2}: Old + avx2 (1 listed, 0 disabled) beats New - aes (1 listed, 1 disabled)
    cpu = decode(MAP, {"fpu", "sse3", "avx2"}, "Intel")
    assert (cpu.model, cpu.features) == ("Old", [("avx2", "require")])
    # a hypervisor's blockers are disabled after the rest, in its own order
    hv = decode(MAP, {"fpu", "sse3", "aes"}, "Intel", hv_models={"Mid": ("aes", "sse3")})
    assert (hv.model, hv.features) == ("Mid", [("aes", "disable"), ("sse3", "disable")])


def test_compare_results_and_reasons() -> None:
    host_set = {"fpu", "sse3", "aes", "nx"}

    def cmp(xml: str, fail: bool = False) -> int:
        return compare_xml(MAP, host_set, "Intel", xml, fail)

    assert cmp("<cpu><model>Mid</model><feature name='nx'/></cpu>") == IDENTICAL
    assert cmp("<cpu><model>Old</model></cpu>") == SUPERSET
    assert cmp("<cpu mode='host-model'/>") == SUPERSET
    assert cmp("<cpu><model>New</model></cpu>") == INCOMPATIBLE
    with pytest.raises(PyvirtError, match="the CPU is incompatible with host CPU: Host CPU does not provide "
                                          "required features: avx2") as err:
        cmp("<cpu><model>New</model></cpu>", fail=True)
    assert err.value.code == ErrorCode.CPU_INCOMPATIBLE
    assert cmp("<cpu><model>New</model><feature policy='disable' name='avx2'/></cpu>") == SUPERSET
    assert cmp("<cpu><model>New</model><feature policy='optional' name='avx2'/></cpu>") == SUPERSET
    with pytest.raises(PyvirtError, match="Host CPU provides forbidden features: aes"):
        cmp("<cpu><model>Old</model><feature policy='forbid' name='aes'/></cpu>", fail=True)
    with pytest.raises(PyvirtError, match="strictly match guest CPU: Extra features: aes, nx"):
        cmp("<cpu match='strict'><model>Old</model></cpu>", fail=True)
    with pytest.raises(PyvirtError, match="host CPU vendor does not match required CPU vendor AMD"):
        cmp("<cpu><model>Amd</model><vendor>AMD</vendor></cpu>", fail=True)
    assert cmp("<cpu><arch>aarch64</arch><model>Gen</model></cpu>") == INCOMPATIBLE


@pytest.mark.parametrize(("xml", "kind", "message"), [
    ("<cpu><arch>x86_64</arch></cpu>", "auto", "XML error: Missing CPU model name"),
    ("<cpu><model>Mid</model></cpu>", "host", "XML error: Missing CPU architecture"),
    ("<cpu><arch>nope</arch><model>Mid</model></cpu>", "auto", "unsupported configuration: Unknown architecture nope"),
    ("<cpu match='exact'><arch>x86_64</arch><model>Mid</model></cpu>", "auto",
     "'arch' element cannot be used inside 'cpu' element with 'match' attribute'"),
    ("<cpu mode='custom'><arch>x86_64</arch><model>Mid</model></cpu>", "auto",
     "unsupported configuration: Attribute mode is only allowed for guest CPU"),
    ("<cpu mode='bogus'><model>Mid</model></cpu>", "auto", "Invalid mode attribute 'bogus'"),
    ("<cpu match='bogus'><model>Mid</model></cpu>", "auto",
     "Invalid value for attribute 'match' in element 'cpu': 'bogus'."),
    ("<cpu><vendor>Intel</vendor></cpu>", "auto", "CPU vendor specified without CPU model"),
    ("<cpu><feature name='aes'/></cpu>", "auto", "Non-empty feature list specified without CPU model"),
    ("<cpu><model>Mid</model><feature policy='x' name='aes'/></cpu>", "auto", "Invalid CPU feature policy"),
    ("<cpu><model>Mid</model><feature name=''/></cpu>", "auto", "XML error: Invalid CPU feature name"),
    ("<cpu><model>Mid</model><feature name='aes'/><feature name='aes'/></cpu>", "auto",
     "CPU feature 'aes' specified more than once"),
    ("<domain/>", "auto", "XML does not contain expected 'cpu' element"),
    ("<cpu><model>", "auto", "XML error: \\(CPU_definition\\)"),
])
def test_cpu_parse_errors_are_libvirts(xml: str, kind: str, message: str) -> None:
    with pytest.raises(PyvirtError, match=message):
        parse_cpu(xml, kind)


def test_map_from_qemu_facts_uses_libvirt_names_and_order() -> None:
    facts = {
        "known": ["fpu", "pclmulqdq", "lahf-lm", "hypervisor", "sse4.1", "kvm-pv-eoi"],
        "models": {
            "Westmere": {"features": ["fpu", "pclmulqdq", "hypervisor"], "vendor": "GenuineIntel", "blockers": []},
            "qemu64": {"features": ["fpu", "lahf-lm", "hypervisor"], "vendor": "AuthenticAMD", "blockers": []},
            "Haswell-noTSX": {"features": ["fpu", "sse4.1"], "vendor": "GenuineIntel", "blockers": ["lahf-lm"]},
            "Denverton": {"features": ["fpu"], "vendor": "GenuineIntel", "blockers": []},
            "max": {"features": ["fpu", "hypervisor"], "vendor": "AuthenticAMD", "blockers": []},
            "base": {"features": [], "vendor": "", "blockers": []},
        },
        "positions": {"fpu": [1, 0, "EDX", 0], "pclmulqdq": [1, 0, "ECX", 1], "lahf-lm": [2147483649, 0, "ECX", 0],
                      "hypervisor": [1, 0, "ECX", 31], "sse4.1": [1, 0, "ECX", 19]},
    }
    cmap = from_facts(facts)
    assert cmap.models["Westmere"].features == {"fpu", "pclmuldq"}  # libvirt's spelling, no hypervisor bit
    assert cmap.models["qemu64"].vendor is None  # QEMU's vendor string is not libvirt's model vendor
    assert cmap.models["Haswell-noTSX"].blockers == ("lahf_lm",)
    assert cmap.hypervisor is not None and cmap.hypervisor.features == {"fpu", "hypervisor"}
    assert cmap.candidates == ("qemu64", "Westmere", "Haswell-noTSX")  # libvirt's models, its index order
    assert cmap.known("osxsave") and cmap.known("kvm_pv_eoi") and not cmap.known("pclmulqdq")
    assert cmap.ordered({"lahf_lm", "sse4.1", "fpu", "pclmuldq", "hypervisor"}) == [
        "fpu", "pclmuldq", "sse4.1", "hypervisor", "lahf_lm"]


def test_host_features_from_cpuid_and_from_kernel_flags() -> None:
    regs = {(1, 0): (0, 0, 1 << 25, 1 << 1), (7, 0): (0, 1 << 5, 0, 0)}
    assert cpuid_features(MAP, lambda leaf, sub: regs.get((leaf, sub))) == {"vme", "aes", "avx2"}
    cmap = from_facts({"known": ["sse4.1", "avx512vnni", "tsc-deadline", "md-clear", "invtsc"], "models": {}})
    flags = {"sse4_1", "avx512_vnni", "tsc_deadline_timer", "md_clear", "constant_tsc", "nopl"}
    assert host_features(cmap, flags) == {"sse4.1", "avx512vnni", "tsc-deadline", "md-clear"}
    assert "invtsc" in host_features(cmap, flags | {"nonstop_tsc"})


def test_probe_parses_qemus_warnings_and_binary_coded_runs() -> None:
    text = ("qemu: warning: TCG doesn't support requested feature: CPUID.07H:EBX.hle [bit 4]\n"
            "qemu: warning: TCG doesn't support requested feature: CPUID.07H:EAX.avx-vnni [bit 4]\n"
            "qemu: warning: This feature depends on other features that were not requested: "
            "CPUID.8000000AH:EDX.npt [bit 0]\n"
            "qemu: warning: TCG doesn't support requested feature: MSR(10AH).rdctl-no [bit 0]\n"
            "qemu: warning: TCG doesn't support requested feature: CPUID.0DH:ECX [bit 15]\n")
    assert parse_warnings(text) == {"hle": [7, 0, "EBX", 4], "avx-vnni": [7, 1, "EAX", 4],
                                    "npt": [0x8000000A, 0, "EDX", 0], "rdctl-no": ["MSR", 0x10A, 0]}
    coded = ["a", "b", "c"]  # indexes + 1: 0b01, 0b10, 0b11
    base = {(1, 0, "ECX", 26)}
    runs = [base | {(1, 0, "EDX", 0), (1, 0, "EDX", 5)}, base | {(1, 0, "ECX", 3), (1, 0, "EDX", 5)}]
    assert decode_runs(coded, base, runs) == {"a": [1, 0, "EDX", 0], "b": [1, 0, "ECX", 3], "c": [1, 0, "EDX", 5]}


def test_baseline_of_other_architectures_follows_their_cpu_drivers() -> None:
    def cpus(arch: str, *models: str) -> list[str]:
        return [f"<cpu><arch>{arch}</arch><model>{m}</model></cpu>" for m in models]

    assert "<model fallback='allow'>cortex-a57</model>" in baseline_xml(MAP, cpus("aarch64", "cortex-a57", "x"),
                                                                        expand=True)
    assert "<model fallback='forbid'>POWER9</model>" in baseline_xml(MAP, cpus("ppc64le", "POWER9", "POWER9"))
    with pytest.raises(PyvirtError, match="operation failed: CPUs are incompatible"):
        baseline_xml(MAP, cpus("ppc64le", "POWER8", "POWER9"))
    with pytest.raises(PyvirtError, match="Unknown CPU model Haswell"):
        baseline_xml(MAP, cpus("ppc64", "Haswell"))
    with pytest.raises(PyvirtError, match="not supported by the connection driver: cannot compute baseline CPU of s390x"):
        baseline_xml(MAP, cpus("s390x", "z14"))
    with pytest.raises(PyvirtError, match="'riscv64' architecture is not supported by CPU driver"):
        baseline_xml(MAP, cpus("riscv64", "x"))
