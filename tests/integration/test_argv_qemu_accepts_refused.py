"""Real QEMU 7.2 (TCG) takes the command line pyvirt builds for what issue 14's last round
turned from refused into supported: a ``dc390`` SCSI controller with a disk on it (QEMU's
device name, not libvirt 9.0's ``dc-390``, which QEMU refuses), and a custom CPU with a
``<vendor>``, a CPUID vendor string of its own (``<model vendor_id>``) and features in libvirt's spellings (translated to QEMU's, the filtered ones left
off).  Started with ``-S`` and no monitor; it must stay up."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from pyvirt.qemu.argv import RuntimePaths, build_argv
from pyvirt.xml import fill_defaults, parse_domain
from tests.qemu_stays_up import running

QEMU = shutil.which("qemu-system-x86_64")
pytestmark = [pytest.mark.qemu, pytest.mark.skipif(QEMU is None or shutil.which("qemu-img") is None,
                                                    reason="qemu-system-x86_64/qemu-img not installed")]


def test_qemu_takes_dc390_and_a_translated_custom_cpu(tmp_path: Path) -> None:
    image = tmp_path / "d.img"
    subprocess.run(["qemu-img", "create", "-q", "-f", "raw", str(image), "1M"], check=True)
    xml = f"""<domain type='qemu'><name>qref</name><memory unit='MiB'>128</memory><vcpu>1</vcpu>
<os><type arch='x86_64' machine='pc'>hvm</type></os>
<cpu mode='custom' match='exact'><model vendor_id='Genuine Inte'>qemu64</model><vendor>Intel</vendor>
<feature policy='require' name='pclmuldq'/><feature policy='disable' name='lahf_lm'/>
<feature policy='require' name='osxsave'/><feature policy='disable' name='pconfig'/></cpu>
<devices><controller type='scsi' index='0' model='dc390'/>
<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='{image}'/>
<target dev='sda' bus='scsi'/></disk></devices></domain>"""
    argv = build_argv(fill_defaults(parse_domain(xml)), None,
                      runtime=RuntimePaths(monitor_fd=3, domain_dir=str(tmp_path)))
    assert argv[argv.index("-cpu") + 1] == "qemu64,vendor=Genuine Inte,pclmulqdq=on,lahf-lm=off"
    assert '"driver":"dc390"' in " ".join(argv)
    with running(argv, seconds=3.0):
        pass
