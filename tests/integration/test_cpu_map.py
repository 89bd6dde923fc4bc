"""The x86 CPU map pyvirt reads from this host's QEMU (pyvirt.qemu.cpuprobe, cached per binary):
facts any QEMU 7.x gives, and what the CPU calls make of them.  The oracle comparison with
libvirt's own map is tests/e2e/test_cpu_oracle.py."""

from __future__ import annotations

import os

import pytest

from pyvirt.cpucompute import baseline_xml, compare_xml
from pyvirt.qemu.caps import DEFAULT_BINARY

pytestmark = pytest.mark.skipif(not os.access(DEFAULT_BINARY, os.X_OK), reason="qemu-system-x86_64 not installed")


@pytest.fixture(scope="module")
def cmap():  # noqa: ANN201 - pyvirt.cpumap.CpuMap
    from pyvirt.qemu.cpuprobe import cpu_map

    return cpu_map()


def test_models_imply_their_features_in_libvirts_names(cmap) -> None:  # noqa: ANN001
    haswell, skylake = cmap.models["Haswell"].features, cmap.models["Skylake-Client"].features
    assert {"avx2", "fma", "bmi2", "hle", "rtm", "pclmuldq", "lahf_lm"} <= haswell < skylake
    assert "pclmulqdq" not in haswell and "hypervisor" not in haswell  # libvirt's name; QEMU's guest bit
    assert cmap.models["EPYC"].vendor == "AMD" and cmap.models["qemu64"].vendor is None
    assert "Denverton" in cmap.models and "Denverton" not in cmap.candidates  # accepted, never proposed
    assert cmap.candidates.index("Nehalem") < cmap.candidates.index("Haswell")  # libvirt's index order


def test_features_have_their_cpuid_places(cmap) -> None:  # noqa: ANN001
    # architectural facts (Intel SDM / AMD APM): the probe must find exactly these
    assert cmap.positions["sse2"] == (1, 0, "EDX", 26)
    assert cmap.positions["pclmuldq"] == (1, 0, "ECX", 1)
    assert cmap.positions["avx2"] == (7, 0, "EBX", 5)
    assert cmap.positions["lahf_lm"] == (0x80000001, 0, "ECX", 0)
    assert cmap.positions["npt"] == (0x8000000A, 0, "EDX", 0)
    assert cmap.ordered({"abm", "avx512f", "vme"}) == ["vme", "avx512f", "abm"]


def test_tcg_hypervisor_cpu_and_blockers(cmap) -> None:  # noqa: ANN001
    hv = cmap.hypervisor
    assert hv is not None and "hypervisor" in hv.features and "sse2" in hv.features
    assert "hle" in cmap.models["Haswell"].blockers  # TCG has no TSX
    assert compare_xml(cmap, set(hv.features), hv.vendor, "<cpu><model>Haswell</model></cpu>") == 0
    out = baseline_xml(cmap, ["<cpu><model>Haswell</model></cpu>"], hypervisor=True)
    assert "<model fallback='forbid'>Haswell</model>" in out and "<feature policy='disable' name='rtm'/>" in out


def test_baseline_of_real_models(cmap) -> None:  # noqa: ANN001
    cpus = [f"<cpu><arch>x86_64</arch><model>{m}</model><vendor>Intel</vendor></cpu>"
            for m in ("Haswell", "Skylake-Client", "Cascadelake-Server")]
    assert "<model fallback='allow'>Haswell</model>" in baseline_xml(cmap, cpus)
    amd = ["<cpu><arch>x86_64</arch><model>EPYC-Rome</model><vendor>AMD</vendor></cpu>",
           "<cpu><arch>x86_64</arch><model>EPYC-Milan</model><vendor>AMD</vendor></cpu>"]
    assert "<model fallback='allow'>EPYC-Rome</model>" in baseline_xml(cmap, amd)


def _tcg_guest(cpu: str):  # noqa: ANN202 - pyvirt.xml.Domain
    from pyvirt.xml import fill_defaults, parse_domain

    return fill_defaults(parse_domain("<domain type='qemu'><name>g</name><memory>262144</memory><os><type "
                                      f"arch='x86_64' machine='pc'>hvm</type></os>{cpu}<devices/></domain>"))


@pytest.mark.parametrize(("cpu", "words"), [
    ("<model>qemu64</model><feature policy='require' name='vmx'/>",
     "Host CPU does not provide required features: vmx"),
    ("<model>qemu64</model><feature policy='forbid' name='sse2'/>", "Host CPU provides forbidden features: sse2"),
    ("<model>Nehalem</model><vendor>Intel</vendor>", "host CPU vendor does not match required CPU vendor Intel"),
])
def test_partial_check_compares_a_tcg_guest_cpu_with_tcgs(cmap, cpu: str, words: str) -> None:  # noqa: ANN001
    """libvirt 9.0 compares a check='partial' custom CPU with the hypervisor's before a TCG start."""
    from pyvirt.api import PyvirtError
    from pyvirt.qemu.cpuprobe import check_guest_cpu

    guest = _tcg_guest(f"<cpu mode='custom' match='exact' check='partial'>{cpu}</cpu>")
    with pytest.raises(PyvirtError, match=f"the CPU is incompatible with host CPU: {words}"):
        check_guest_cpu(guest)
    for check in ("none", "full"):  # not compared before the start
        check_guest_cpu(_tcg_guest(f"<cpu mode='custom' match='exact' check='{check}'>{cpu}</cpu>"))
    check_guest_cpu(_tcg_guest("<cpu mode='custom' match='exact' check='partial'><model>qemu64</model></cpu>"))
