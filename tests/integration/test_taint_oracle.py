"""Domain taints against a real libvirtd 9.0 (session mode, private folder) and a pyvirtd: the same
guest with a ``<qemu:commandline>`` environment variable, started paused on each, then monitor
commands, destroy and start again.  What ``virsh dominfo`` lists as Messages and the taint lines
each daemon appends to the guest's log (time stamps masked) must be the same; nothing of
libvirt's output is written here.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.daemon_harness import DaemonHarness, running
from tests.libvirtd_oracle import Libvirtd, session_libvirtd

XML = """<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'><name>taint1</name>
<memory unit='MiB'>64</memory><vcpu>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type></os>
<devices><emulator>/usr/bin/qemu-system-x86_64</emulator><video><model type='none'/></video>
<memballoon model='none'/></devices>
<qemu:commandline><qemu:env name='PYVIRT_TAINT_TEST' value='1'/></qemu:commandline></domain>
"""
STEPS = [
    ["start", "taint1", "--paused"], ["dominfo", "taint1"],
    ["qemu-monitor-command", "taint1", '{"execute":"query-status"}'], ["dominfo", "taint1"],
    ["qemu-monitor-command", "taint1", "--hmp", "info status"], ["dominfo", "taint1"],
    ["destroy", "taint1"], ["dominfo", "taint1"],
    ["start", "taint1", "--paused"], ["dominfo", "taint1"], ["destroy", "taint1"],
]
_TAINT_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\+0000: (Domain id=\d+ is tainted: .*)$", re.M)


def _messages(dominfo: str) -> list[str]:
    """dominfo's Messages lines (the first after its label, the others indented under it)."""
    out, inside = [], False
    for line in dominfo.splitlines():
        if line.startswith("Messages:"):
            inside = True
            out.append(line.split(":", 1)[1].strip())
        elif inside and line.startswith(" ") and line.strip():
            out.append(line.strip())
        else:
            inside = False
    return out


def _walk(virsh: list[str], xml: Path, log: Path) -> tuple[list[list[str]], list[str]]:
    subprocess.run([*virsh, "define", str(xml)], check=True, capture_output=True, timeout=120)
    seen = []
    for step in STEPS:
        proc = subprocess.run([*virsh, *step], capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, (step, proc.stderr)
        if step[0] == "dominfo":
            seen.append(_messages(proc.stdout))
    return seen, _TAINT_LINE.findall(log.read_text())


@pytest.fixture(scope="module")
def libvirtd() -> Iterator[Libvirtd]:
    yield from session_libvirtd()


def test_taints_as_libvirtd(libvirtd: Libvirtd, tmp_path: Path, qemu_binary: str) -> None:
    xml = libvirtd.home / "taint1.xml"  # where the unprivileged libvirtd can read it
    xml.write_text(XML)
    xml.chmod(0o644)
    theirs = _walk(libvirtd.virsh(), xml, libvirtd.home / ".cache" / "libvirt" / "qemu" / "log" / "taint1.log")
    with running(DaemonHarness(tmp_path / "pyvirtd")) as daemon:
        virsh = ["env", f"PYVIRT_STATE_ROOT={daemon.root}", sys.executable, "-m", "pyvirt.cli.main", "-c", daemon.uri]
        ours = _walk(virsh, xml, Path(daemon.root) / "log" / "qemu" / "taint1.log")
    assert theirs[0][0] == ["tainted: custom configuration parameters specified"]  # the oracle did taint
    assert ours == theirs
