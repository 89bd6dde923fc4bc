"""UEFI autoselection from firmware descriptors, NVRAM from its template, swtpm's absence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pyvirt.api import PyvirtError
from pyvirt.daemon.firmware import prepare_firmware, start_swtpms
from pyvirt.qemu.firmware import select
from pyvirt.xml import XMLError, parse_domain


def _descriptor(folder: Path, name: str, code: Path, features: list[str], machines: list[str]) -> None:
    vars_ = code.with_name(code.name + ".vars")
    vars_.write_bytes(b"VARS" * 16)
    folder.joinpath(name).write_text(json.dumps({
        "interface-types": ["uefi"],
        "mapping": {"device": "flash", "executable": {"filename": str(code), "format": "raw"},
                    "nvram-template": {"filename": str(vars_), "format": "raw"}},
        "targets": [{"architecture": "x86_64", "machines": machines}], "features": features}))


@pytest.fixture
def fw(tmp_path: Path) -> tuple[str, ...]:
    folder = tmp_path / "firmware"
    folder.mkdir()
    for name in ("secure.fd", "plain.fd"):
        (tmp_path / name).write_bytes(b"CODE")
    _descriptor(folder, "50-secure.json", tmp_path / "secure.fd", ["requires-smm", "secure-boot"], ["pc-q35-*"])
    _descriptor(folder, "60-plain.json", tmp_path / "plain.fd", [], ["pc-q35-*", "pc-i440fx-*"])
    (folder / "70-broken.json").write_text("{not json")
    return (str(folder),)


def test_first_descriptor_that_fits_machine_and_wishes(fw: tuple[str, ...]) -> None:
    assert select("x86_64", "pc-q35-7.2", {}, fw).executable.endswith("secure.fd")
    assert select("x86_64", "pc-i440fx-7.2", {}, fw).executable.endswith("plain.fd")
    assert select("x86_64", "pc-q35-7.2", {"secure-boot": False}, fw).executable.endswith("plain.fd")
    with pytest.raises(PyvirtError, match="Unable to find any firmware to satisfy 'efi' with secure-boot=yes"):
        select("x86_64", "pc-i440fx-7.2", {"secure-boot": True}, fw)


def test_no_descriptors_names_the_package(tmp_path: Path) -> None:
    with pytest.raises(PyvirtError, match="install Debian's 'ovmf' package"):
        select("x86_64", "pc-q35-7.2", {}, (str(tmp_path / "none"),))


def test_prepare_fills_loader_nvram_and_smm(fw: tuple[str, ...], tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import pyvirt.qemu.firmware as firmware

    monkeypatch.setattr(firmware, "SEARCH_DIRS", fw)
    dom = parse_domain("<domain type='qemu'><name>g</name><memory>65536</memory><os firmware='efi'>"
                       "<type arch='x86_64' machine='pc-q35-7.2'>hvm</type><firmware>"
                       "<feature enabled='yes' name='secure-boot'/></firmware></os><features><acpi/></features>"
                       "<devices/></domain>")  # UEFI needs ACPI (libvirt refuses it at define otherwise)
    prepare_firmware(dom, None, tmp_path / "nvram")
    assert dom.os.loader.path.endswith("secure.fd") and dom.os.loader.secure and dom.os.loader.type == "pflash"
    assert dom.features.smm is True and dom.os.firmware is None
    assert Path(dom.os.nvram.path).read_bytes() == b"VARS" * 16  # copied from the template
    Path(dom.os.nvram.path).write_bytes(b"guest's own variables")
    again = parse_domain("<domain type='qemu'><name>g</name><memory>65536</memory><os firmware='efi'>"
                         "<type arch='x86_64' machine='pc-q35-7.2'>hvm</type></os><features><acpi/></features>"
                         "<devices/></domain>")
    prepare_firmware(again, None, tmp_path / "nvram")
    assert Path(again.os.nvram.path).read_bytes() == b"guest's own variables"  # never overwritten


def test_features_without_autoselection_are_refused() -> None:
    with pytest.raises(XMLError, match="firmware autoselection is disabled"):
        parse_domain("<domain type='qemu'><name>g</name><memory>65536</memory><os>"
                     "<type arch='x86_64' machine='q35'>hvm</type><firmware><feature enabled='yes' "
                     "name='secure-boot'/></firmware></os><devices/></domain>")


def test_missing_swtpm_names_the_packages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    dom = parse_domain("<domain type='qemu'><name>g</name><memory>65536</memory><os>"
                       "<type arch='x86_64' machine='q35'>hvm</type></os><devices><tpm model='tpm-crb'>"
                       "<backend type='emulator' version='2.0'/></tpm></devices></domain>")
    with pytest.raises(PyvirtError, match="Debian packages 'swtpm' and 'swtpm-tools'"):
        start_swtpms(dom, tmp_path, tmp_path / "state", tmp_path)
