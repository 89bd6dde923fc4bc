"""Unit tests for the QEMU probe's parsing, its cache, the KVM probe image and the capabilities XML."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest
from lxml import etree

from pyvirt.cpumodels import cpu_model_vendor
from pyvirt.qemu import caps as capsmod
from pyvirt.qemu import kvmprobe
from pyvirt.qemu.capsxml import (
    HostInfo,
    capabilities_xml,
    domain_capabilities_xml,
    parse_cpuinfo,
)
from pyvirt.qemu.kvmprobe import KvmVerdict
from pyvirt.qemu.kvmprobe import image as probeimage
from tests.conformance_data import SCHEMAS

REPLIES = [
    {"qemu": {"major": 7, "minor": 2, "micro": 22}, "package": "Debian 1:7.2+dfsg-7 "},
    [
        {"name": "pc-i440fx-7.2", "alias": "pc", "is-default": True, "cpu-max": 255, "deprecated": False},
        {"name": "pc-q35-7.2", "alias": "q35", "cpu-max": 288, "deprecated": False},
        {"name": "pc-i440fx-1.4", "cpu-max": 255, "deprecated": True},
        {"name": "none", "cpu-max": 1, "deprecated": False},
    ],
    {"enabled": False, "present": True},
    [
        {"name": "qemu64", "unavailable-features": [], "deprecated": False, "static": False},
        {"name": "EPYC", "unavailable-features": ["svm"], "deprecated": False, "static": False},
        {"name": "Skylake-Client", "unavailable-features": [], "deprecated": True, "static": False},
    ],
    [
        {"name": "virtio-blk-pci"},
        {"name": "VGA"},
        {"name": "qxl-vga"},
        {"name": "tpm-crb"},
        {"name": "vmgenid"},
    ],
    [{"name": "tcg-accel"}, {"name": "kvm-accel"}, {"name": "accel"}],
]

HOST = HostInfo(uuid="3d1219c7-c4c5-404a-aa1f-6d2a48adfda4", arch="x86_64", cpu_vendor="AMD", cpu_model=None,
                sockets=1, cores=2, threads=1, cpu_flags=frozenset({"pse", "lm"}))  # fmt: skip


@pytest.fixture
def caps() -> capsmod.EmulatorCaps:
    return capsmod.parse_replies("/usr/bin/qemu-system-x86_64", REPLIES, 0.1)


def test_parse_replies(caps: capsmod.EmulatorCaps) -> None:
    assert caps.version == (7, 2, 22) and caps.version_string == "7.2.22"
    assert caps.package == "Debian 1:7.2+dfsg-7"
    assert caps.default_machine == "pc-i440fx-7.2"
    assert caps.canonical_machine("q35") == "pc-q35-7.2"
    assert caps.machine("pc-i440fx-1.4").deprecated
    assert caps.machine("nope") is None
    assert caps.accelerators == ("kvm", "tcg") and caps.tcg
    assert caps.kvm_present and not caps.kvm_enabled
    epyc = next(m for m in caps.cpu_models if m.name == "EPYC")
    assert not epyc.usable and epyc.unavailable_features == ("svm",)
    assert caps.has_device("qxl-vga") and not caps.has_device("cirrus-vga")


def test_dict_round_trip(caps: capsmod.EmulatorCaps) -> None:
    assert capsmod.EmulatorCaps.from_dict(caps.to_dict()) == caps


def test_probe_argv_uses_prebound_monitor() -> None:
    argv = capsmod.probe_argv("/q", 7)
    assert "socket,id=mon,fd=7,server=on,wait=off" in argv and "none" in argv and "-S" in argv


def test_cache_key_follows_binary(tmp_path: Path, caps: capsmod.EmulatorCaps, monkeypatch) -> None:
    binary = tmp_path / "qemu"
    binary.write_bytes(b"v1")
    calls = []

    def fake_probe(b: str, timeout: float = 10.0) -> capsmod.EmulatorCaps:
        calls.append(b)
        return capsmod.EmulatorCaps(**{**caps.__dict__, "binary": b})

    monkeypatch.setattr(capsmod, "probe_uncached", fake_probe)
    cache = tmp_path / "cache"
    first = capsmod.probe_emulator(str(binary), cache_dir=cache)
    second = capsmod.probe_emulator(str(binary), cache_dir=cache)
    assert not first.cached and second.cached and second == first and len(calls) == 1
    assert not [p for p in cache.iterdir() if p.name.startswith(".")], "no temp files left behind"
    binary.write_bytes(b"version 2")  # size (and mtime) change: must re-probe
    os.utime(binary, ns=(1, 1))
    assert not capsmod.probe_emulator(str(binary), cache_dir=cache).cached and len(calls) == 2
    next(cache.iterdir()).write_text("{broken")  # a broken cache entry is a miss, not an error
    capsmod.probe_emulator(str(binary), cache_dir=cache)
    with pytest.raises(FileNotFoundError):
        capsmod.probe_emulator(str(tmp_path / "missing"), cache_dir=cache)


def test_probe_image_layout() -> None:
    img = probeimage.build_image()
    assert len(img) == probeimage.IMAGE_SIZE == 0x10000
    assert img == probeimage.build_image()
    # reset vector: jmp far 0xF000:0000 (the code starts at the image's first byte)
    assert img[0xFFF0:0xFFF5] == b"\xea" + struct.pack("<HH", 0, 0xF000)
    assert img[0] == 0xFA  # cli
    assert probeimage.SUCCESS_EXIT == 99 and probeimage.FAILURE_EXIT == 3


def test_kvm_precheck_missing_device(tmp_path: Path) -> None:
    v = kvmprobe.kvm_usable(dev=str(tmp_path / "kvm"), cache_dir=tmp_path)
    assert not v.usable and "does not exist" in v.reason and v.elapsed_s < 0.5


def test_kvm_cache_key_changes_with_binary(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_bytes(b"1")
    b.write_bytes(b"22")
    assert kvmprobe.cache_key(str(a)) == kvmprobe.cache_key(str(a)) != kvmprobe.cache_key(str(b))


def test_kvm_verdict_cached(tmp_path: Path, monkeypatch) -> None:
    calls = []

    def fake(binary: str, dev: str) -> KvmVerdict:
        calls.append(1)
        return KvmVerdict(False, "guest stuck", 0.3, stage="RPL")

    monkeypatch.setattr(kvmprobe, "_probe", fake)
    v1 = kvmprobe.kvm_usable(cache_dir=tmp_path)
    v2 = kvmprobe.kvm_usable(cache_dir=tmp_path)
    assert (v1.cached, v2.cached) == (False, True) and v2.reason == "guest stuck" and len(calls) == 1


def test_parse_cpuinfo() -> None:
    block = "processor\t: {n}\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC\nphysical id\t: 0\n" \
            "core id\t: {c}\nflags\t\t: fpu pse lm\n\n"  # fmt: skip
    info = parse_cpuinfo("".join(block.format(n=n, c=n // 2) for n in range(4)))
    assert (info["sockets"], info["cores"], info["threads"]) == (1, 2, 2)
    assert info["vendor"] == "AuthenticAMD" and "lm" in info["flags"]


def test_cpu_model_vendor() -> None:
    assert cpu_model_vendor("EPYC-Rome") == "AMD"
    assert cpu_model_vendor("Skylake-Client-IBRS") == "Intel"
    assert cpu_model_vendor("qemu64") == "unknown"


def _valid(schema: str, xml: str) -> None:
    rng = etree.RelaxNG(file=str(SCHEMAS / schema))
    assert rng.validate(etree.fromstring(xml)), rng.error_log


@pytest.mark.parametrize("usable", [False, True])
def test_capabilities_xml_valid(caps: capsmod.EmulatorCaps, usable: bool) -> None:
    xml = capabilities_xml(caps, KvmVerdict(usable, "", 0.0), HOST)
    _valid("capability.rng", xml)
    root = etree.fromstring(xml)
    x86 = root.find("guest/arch[@name='x86_64']")
    assert x86.findtext("emulator") == "/usr/bin/qemu-system-x86_64"
    assert [d.get("type") for d in x86.findall("domain")] == (["qemu", "kvm"] if usable else ["qemu"])
    assert x86.find("machine[.='pc']").get("canonical") == "pc-i440fx-7.2"
    assert x86.find("machine[.='none']") is None
    assert root.findtext("host/uuid") == HOST.uuid


@pytest.mark.parametrize(("machine", "virttype"), [(None, "qemu"), ("q35", "qemu"), ("pc", "kvm")])
def test_domain_capabilities_xml_valid(caps: capsmod.EmulatorCaps, machine: str | None, virttype: str,
                                       tmp_path: Path) -> None:  # fmt: skip
    (tmp_path / "OVMF_CODE_4M.secboot.fd").write_bytes(b"")
    xml = domain_capabilities_xml(
        caps, KvmVerdict(True, "", 0.0), machine, virttype=virttype, ovmf_dir=tmp_path
    )
    _valid("domaincaps.rng", xml)
    root = etree.fromstring(xml)
    assert root.findtext("machine") == caps.canonical_machine(machine or "pc")
    passthrough = root.find("cpu/mode[@name='host-passthrough']").get("supported")
    assert passthrough == ("yes" if virttype == "kvm" else "no")
    assert root.find("cpu/mode[@name='custom']/model[.='EPYC']").get("usable") == "no"
    secure = [v.text for v in root.findall("os/loader/enum[@name='secure']/value")]
    assert secure == (["yes", "no"] if machine == "q35" else ["no"])


def test_domain_capabilities_refusals(caps: capsmod.EmulatorCaps) -> None:
    with pytest.raises(ValueError, match="the accel 'kvm' is not supported by"):
        domain_capabilities_xml(caps, KvmVerdict(False, "pvm", 0.0), virttype="kvm")
    with pytest.raises(ValueError, match="the machine 'virt' is not supported by emulator"):
        domain_capabilities_xml(caps, KvmVerdict(False, "", 0.0), machine="virt")
    with pytest.raises(ValueError, match="unknown virttype: xen"):
        domain_capabilities_xml(caps, KvmVerdict(False, "", 0.0), virttype="xen")


def test_domain_capabilities_host_model(caps: capsmod.EmulatorCaps) -> None:
    """A host-model CPU (pyvirtd passes TCG's, pyvirt.cpucompute.decode) is listed as libvirt
    lists it, schema-valid; without one the mode is unsupported."""
    from pyvirt.cpudef import CpuDef

    cpu = CpuDef(host=False, model="EPYC", vendor="AMD", features=[("acpi", "require"), ("vme", "disable")])
    xml = domain_capabilities_xml(caps, KvmVerdict(False, "", 0.0), host_model=cpu)
    mode = etree.fromstring(xml.encode()).find("cpu/mode[@name='host-model']")
    assert mode.get("supported") == "yes" and mode.find("model").get("fallback") == "forbid"
    assert [(f.get("policy"), f.get("name")) for f in mode.findall("feature")] == [("require", "acpi"),
                                                                                 ("disable", "vme")]
    plain = domain_capabilities_xml(caps, KvmVerdict(False, "", 0.0))
    assert etree.fromstring(plain.encode()).find("cpu/mode[@name='host-model']").get("supported") == "no"


def test_domcapabilities_maps_only_its_refusals_to_invalid_argument(
        caps: capsmod.EmulatorCaps, monkeypatch: pytest.MonkeyPatch) -> None:
    """pyvirtd answers "invalid argument" for a machine the emulator lacks, but a ValueError
    from a bug while the document is built stays a bug (the route's "internal error")."""
    import asyncio

    from pyvirt.api import ErrorCode, PyvirtError
    from pyvirt.daemon.hostinfo import HostInfo as DaemonHostInfo
    from pyvirt.qemu import capsxml

    class Driver:
        async def caps(self) -> capsmod.EmulatorCaps:
            return caps

        async def kvm(self) -> KvmVerdict:
            return KvmVerdict(False, "", 0.0)

    async def no_host_model(self: object) -> None:
        return None

    monkeypatch.setattr(DaemonHostInfo, "host_model_cpu", no_host_model)
    info = DaemonHostInfo("qemu:///session", Driver())
    with pytest.raises(PyvirtError) as refused:
        asyncio.run(info.get_domain_capabilities(machine="virt"))
    assert refused.value.code == ErrorCode.INVALID_ARG and "machine 'virt'" in str(refused.value)

    def broken(*args: object, **kwargs: object) -> str:
        raise ValueError("All strings must be XML compatible")

    monkeypatch.setattr(capsxml, "domain_capabilities_xml", broken)
    with pytest.raises(ValueError, match="XML compatible"):
        asyncio.run(info.get_domain_capabilities())
