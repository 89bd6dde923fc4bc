"""pyvirt install against the real virt-install 4.1 (a test-only oracle, Debian's
virtinst): command lines of our own, one per option family, must give the same domain XML.

The handed conformance cases cover few sub-options; these lines exercise the rest
(memtune, cputune, hostdev by address, char sources, sysinfo tables...).  Both tools get
virt-manager's test driver and capabilities; virt-install through its magic URI, pyvirt
through the VIRTCOMPAT_* hooks (tools/run_virtinst_cases.py's own conversion).
"""

from __future__ import annotations

import os
import shlex
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conformance_data import CONFORMANCE as CONF
from tests.virtinst_pair import TREE, ending_difference, run_pair

VIRT_INSTALL = Path("/usr/bin/virt-install")
LINES = Path(__file__).with_name("virtinst_oracle_cmdlines.txt")
DATA = TREE / "tests" / "data"
URI = (f"__virtinst_test__test://{DATA}/testdriver/testdriver.xml,predictable,"
       f"fakeuri=qemu:///system,caps={DATA}/capabilities/kvm-x86_64.xml,"
       f"domcaps={DATA}/capabilities/kvm-x86_64-domcaps-latest.xml")


def _run_both(line: str) -> str | None:
    sys.path.insert(0, str(CONF / "tools"))
    import libvirt_xml_compare as lxc

    argv = ["--connect", URI, "--print-xml", "--noautoconsole", "--os-variant",
            "fedora-unknown", *shlex.split(line)]
    ref, ours = run_pair(VIRT_INSTALL, "pyvirt-install", argv, timeout=120)
    if ref.returncode or ours.returncode:
        return ending_difference(line, "virt-install", ref, ours, errors=False)
    same, diff = lxc.compare(ref.stdout, ours.stdout, "masked")
    return None if same else f"{line}\n{diff}"


@pytest.mark.skipif(not VIRT_INSTALL.exists() or not TREE.exists(),
                    reason="virt-install (test oracle) or shared conformance data missing")
@pytest.mark.skipif(os.environ.get("PYVIRT_VIRTINST_ORACLE") != "1",
                    reason="takes minutes on a loaded 2-core machine: PYVIRT_VIRTINST_ORACLE=1 runs it")
@pytest.mark.timeout(3600)  # 105 lines, two tools each: over the default limit when loaded
def test_same_xml_as_virt_install() -> None:
    lines = [ln for ln in LINES.read_text().splitlines() if ln.strip()]
    with ThreadPoolExecutor(2) as pool:
        problems = [p for p in pool.map(_run_both, lines) if p]
    assert not problems, f"{len(problems)}/{len(lines)} differ:\n" + "\n".join(problems)
