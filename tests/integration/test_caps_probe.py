"""Integration: probe the real qemu-system-x86_64, and run the KVM probe image under TCG and KVM."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from lxml import etree

from pyvirt.daemon import hostnuma
from pyvirt.qemu import kvmprobe
from pyvirt.qemu.caps import DEFAULT_BINARY, probe_emulator
from pyvirt.qemu.capsxml import capabilities_xml, domain_capabilities_xml
from pyvirt.qemu.kvmprobe.image import SUCCESS_EXIT
from tests.conformance_data import SCHEMAS

pytestmark = [
    pytest.mark.qemu,
    pytest.mark.skipif(not shutil.which(DEFAULT_BINARY), reason="qemu-system-x86_64 not installed"),
]

PVM_HOST = Path("/sys/module/kvm_pvm").exists()


def test_probe_real_emulator(tmp_path: Path) -> None:
    caps = probe_emulator(cache_dir=tmp_path)
    assert not caps.cached and caps.version >= (7, 2, 0)
    assert caps.machine("pc") and caps.machine("q35") and caps.tcg
    assert any(m.name == "qemu64" for m in caps.cpu_models)
    assert caps.has_device("virtio-blk-pci") and caps.has_device("isa-debug-exit")
    again = probe_emulator(cache_dir=tmp_path)
    assert again.cached and again == caps


def test_probe_image_reaches_long_mode_under_tcg() -> None:
    rc, stage, err = kvmprobe.run_probe(accel="tcg")
    assert (rc, stage) == (SUCCESS_EXIT, "RPLI"), err


@pytest.mark.skipif(not PVM_HOST, reason="only this project's kvm_pvm host is known to lack usable KVM")
def test_kvm_unusable_on_pvm_host(tmp_path: Path) -> None:
    v = kvmprobe.kvm_usable(cache_dir=tmp_path)
    assert not v.usable and "kvm_pvm" in v.reason
    assert v.elapsed_s < 1.0
    cached = kvmprobe.kvm_usable(cache_dir=tmp_path)
    assert cached.cached and not cached.usable and cached.elapsed_s < 0.05


@pytest.mark.skipif(PVM_HOST or not os.access("/dev/kvm", os.R_OK | os.W_OK), reason="needs a real KVM host")
def test_kvm_usable_on_real_kvm_host(tmp_path: Path) -> None:
    v = kvmprobe.kvm_usable(cache_dir=tmp_path)
    assert v.usable, v.reason


def test_capabilities_documents_validate(tmp_path: Path) -> None:
    caps = probe_emulator(cache_dir=tmp_path)
    kvm = kvmprobe.kvm_usable(cache_dir=tmp_path)
    for schema, xml in (
        ("capability.rng", capabilities_xml(caps, kvm)),
        ("capability.rng", capabilities_xml(caps, kvm, cells=hostnuma.topology())),
        ("domaincaps.rng", domain_capabilities_xml(caps, kvm)),
        ("domaincaps.rng", domain_capabilities_xml(caps, kvm, machine="q35")),
    ):
        rng = etree.RelaxNG(file=str(SCHEMAS / schema))
        assert rng.validate(etree.fromstring(xml)), rng.error_log
