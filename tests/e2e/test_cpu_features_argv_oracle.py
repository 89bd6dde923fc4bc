"""Oracle test for guest CPU features on the command line: ``domxml-to-native qemu-argv`` of small
TCG domains through the real libvirt 9.0 (a private session libvirtd) and through a pyvirtd
session daemon; the ``-cpu`` argument, or the error, must be the same.  The domains cover every
policy of an unknown name, QEMU's own spellings, the names libvirt spells otherwise, the
features libvirt filters, features QEMU has no switch for, ``policy='optional'`` (resolved
against what TCG gives a CPU here), ``<vendor>`` and ``<model vendor_id>``."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyvirt.api import PyvirtError
from tests.daemon_harness import DaemonHarness, running
from tests.libvirtd_oracle import VIRSH, Libvirtd, session_libvirtd

pytestmark = pytest.mark.skipif(VIRSH is None, reason="virsh (libvirt-clients) not installed")

BASE = ("<domain type='qemu'><name>cpu{n}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
        "<os><type arch='x86_64' machine='pc'>hvm</type></os>{cpu}"
        "<devices><emulator>/usr/bin/qemu-system-x86_64</emulator></devices></domain>")


def _custom(policy: str, name: str, model: str = "qemu64") -> str:
    return f"<cpu mode='custom'><model>{model}</model><feature policy='{policy}' name='{name}'/></cpu>"


CPUS = [
    *(_custom(p, "nosuchfeature") for p in ("require", "force", "optional", "disable", "forbid")),
    "<cpu mode='maximum'><feature policy='require' name='nosuchfeature'/></cpu>",
    *(_custom("require", n) for n in ("pclmulqdq", "tsc-adjust", "kvm_pv_eoi", "vmx-invpcid-exit")),
    *(_custom(p, n, "Haswell") for p in ("require", "disable")
      for n in ("pclmuldq", "tsc_adjust", "lahf_lm", "fxsr_opt", "cmt", "osxsave", "ospke", "mbm_local",
                "pconfig", "cvt16", "avx512f")),
    *(_custom("optional", n) for n in ("vmx", "svm", "sse4.2", "avx", "x2apic", "pdpe1gb", "invtsc", "pclmuldq",
                                        "cmt", "pconfig")),
    "<cpu mode='custom' match='exact'><model>Haswell</model><vendor>AMD</vendor></cpu>",
    "<cpu mode='custom'><model vendor_id='GenuineIntel'>EPYC</model><feature policy='require' name='pclmuldq'/></cpu>",
    "<cpu mode='custom'><model vendor_id='Genuine_Inte'/></cpu>",
    "<cpu mode='maximum'><model vendor_id='GenuineIntel'/></cpu>",
    "<cpu mode='custom'><model vendor_id='Short'>qemu64</model></cpu>",
    "<cpu mode='custom'><model vendor_id='Genuine,ntel'>qemu64</model></cpu>",
    *(f"<cpu mode='custom'><model>{m}</model></cpu>" for m in ("EPYC", "EPYC-IBPB", "Dhyana", "Opteron_G3",
                                                             "Icelake-Server")),
    _custom("disable", "monitor", "EPYC"), _custom("require", "monitor", "Opteron_G3"),
    _custom("optional", "monitor", "EPYC"), _custom("require", "avx2", "Icelake-Server"),
    "<cpu mode='custom' match='exact'><model fallback='forbid'>Icelake-Client</model></cpu>",  # QEMU 7.2 lacks it
]


def _cpu_or_error(text: str) -> str:
    m = re.search(r" -cpu (\S+)", text)
    if m:
        return m.group(1)
    m = re.search(r"(unknown CPU feature: \S+|XML error: .*|CPU model \S+ is not supported by hypervisor)", text)
    found = m.group(1).strip() if m else text.strip()[-200:]
    return re.sub(r" at line \d+$", "", found)  # pyvirt's messages say where


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    d = Path(tempfile.mkdtemp(prefix="pyvirt-cpufeat-oracle-"))
    os.chmod(d, 0o755)
    yield d
    for p in d.iterdir():
        p.unlink()
    d.rmdir()


@pytest.fixture(scope="module")
def libvirtd() -> Iterator[Libvirtd]:
    yield from session_libvirtd()


@pytest.fixture(scope="module")
def pyvirtd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonHarness]:
    with running(DaemonHarness(tmp_path_factory.mktemp("cpufeat"))) as harness:
        yield harness


def test_cpu_lines_are_libvirts(libvirtd: Libvirtd, pyvirtd: DaemonHarness, workdir: Path) -> None:
    conn = pyvirtd.connect()
    differ = []
    for n, cpu in enumerate(CPUS):
        xml = BASE.format(n=n, cpu=cpu)
        doc = workdir / f"cpu{n}.xml"
        doc.write_text(xml)
        os.chmod(doc, 0o644)
        proc = subprocess.run([*libvirtd.virsh(), "domxml-to-native", "qemu-argv", str(doc)], capture_output=True,
                              text=True, timeout=120)
        theirs = _cpu_or_error(proc.stdout + proc.stderr)
        try:
            ours = _cpu_or_error(conn.domain_xml_to_native("qemu-argv", xml))
        except PyvirtError as exc:
            ours = _cpu_or_error(str(exc))
        if theirs != ours:
            differ.append((cpu, theirs, ours))
    assert differ == [], "\n".join(f"{cpu}\n  libvirt: {a}\n  pyvirt:  {b}" for cpu, a, b in differ)
