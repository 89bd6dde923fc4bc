"""``<tpm><backend><active_pcr_banks>`` as libvirt 9.0 takes it (checked with define + dumpxml on
libvirt 9.0): kept in libvirt's bank order, TPM 2.0 only (libvirt's words), and given to
swtpm_setup as ``--pcr-banks`` when the state is made, or with ``--reconfigure`` on existing
state (qemuTPMEmulatorRunSetup / qemuTPMEmulatorReconfigure)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pyvirt.daemon import firmware
from pyvirt.xml import fill_defaults, parse_domain
from pyvirt.xml.errors import XMLError

DOC = """<domain type='qemu'><name>t</name><uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid>
<memory unit='MiB'>64</memory><os><type arch='x86_64' machine='pc'>hvm</type></os><devices>
<tpm model='tpm-tis'><backend type='emulator' version='{v}'>{banks}</backend></tpm></devices></domain>"""
BANKS = "<active_pcr_banks><sha512/><sha1/></active_pcr_banks>"


def test_banks_are_kept_in_libvirts_order() -> None:
    xml = fill_defaults(parse_domain(DOC.format(v="2.0", banks=BANKS))).to_xml(inactive=True)
    assert "<active_pcr_banks>\n          <sha1/>\n          <sha512/>\n        </active_pcr_banks>" in xml
    assert "active_pcr_banks" not in fill_defaults(parse_domain(DOC.format(v="2.0", banks=""))).to_xml()


def test_banks_need_tpm_2() -> None:
    with pytest.raises(XMLError, match="<active_pcr_banks/> requires TPM version '2.0'"):
        parse_domain(DOC.format(v="1.2", banks=BANKS))


def test_swtpm_setup_gets_the_banks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runs: list[list[str]] = []

    def run(argv, **_kw):
        runs.append(argv)
        return subprocess.CompletedProcess(argv, 0, b"", b"")

    monkeypatch.setattr(subprocess, "run", run)
    monkeypatch.setattr(firmware.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(firmware, "_localca_config", lambda root, user: "/cfg")
    dom = fill_defaults(parse_domain(DOC.format(v="2.0", banks=BANKS)))
    state = tmp_path / "tpm2"
    state.mkdir()
    firmware.setup_tpm_state(dom, state, "2.0", tmp_path, tmp_path / "log", None, None)
    assert runs[-1][-2:] == ["--pcr-banks", "sha1,sha512"] and "--createek" in runs[-1]
    (state / "tpm2-00.permall").write_bytes(b"")  # existing state: reconfigured, never re-made
    firmware.setup_tpm_state(dom, state, "2.0", tmp_path, tmp_path / "log", None, None)
    assert runs[-1][1:] == ["--tpm2", "--tpm-state", str(state), "--reconfigure", "--pcr-banks", "sha1,sha512"]
    plain = fill_defaults(parse_domain(DOC.format(v="2.0", banks="")))
    firmware.setup_tpm_state(plain, state, "2.0", tmp_path, tmp_path / "log", None, None)
    assert len(runs) == 2  # no banks and state there: nothing to run
