"""pyvirt xml against the real virt-xml 4.1 (a test-only oracle, Debian's virtinst) on
virt-manager's kinds of command lines: each line of virtxml_oracle_cases.txt is
``category-options|options``, run with test_cli.py's defaults (--debug, the test suite's
connection unless one is given).  Both tools must agree on success; successful runs must
print the same (diffs, XML; debug lines and trailing blank lines aside) and failures the
same error.  A floor keeps what is reached.
"""

from __future__ import annotations

import difflib
import os
import shlex
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conformance import test_virtinst_oracle_cases as oracle
from tests.virtinst_pair import ending_difference, run_pair

VIRT_XML = Path("/usr/bin/virt-xml")
LINES = Path(__file__).with_name("virtxml_oracle_cases.txt")
SAME_FLOOR = 551


def _shown(text: str) -> list[str]:
    lines = [ln for ln in text.splitlines() if "DEBUG" not in ln and not ln.startswith("[")]
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def _run_both(line: str) -> str | None:
    category, options = line.split("|", 1)
    cli = (category + " " + options) % oracle.PLACES
    extra = "--debug"
    if "--connect " not in cli:
        extra += " --connect " + oracle.PLACES["URI-TEST-SUITE"]
    argv = shlex.split(cli + " " + extra)
    ref, ours = run_pair(VIRT_XML, "pyvirt-xml", argv)
    if (differs := ending_difference(line, "virt-xml", ref, ours)) or ref.returncode:
        return differs
    want, got = _shown(ref.stdout), _shown(ours.stdout)
    if want == got:
        return None
    return line + "\n" + "\n".join(difflib.unified_diff(want, got, "virt-xml", "pyvirt",
                                                         lineterm="", n=1))


@pytest.mark.skipif(not VIRT_XML.exists() or not oracle.TREE.exists(),
                    reason="virt-xml (test oracle) or shared conformance data missing")
@pytest.mark.skipif(os.environ.get("PYVIRT_VIRTINST_ORACLE") != "1",
                    reason="takes minutes on a loaded 2-core machine: PYVIRT_VIRTINST_ORACLE=1 runs it")
@pytest.mark.timeout(3600)
def test_same_as_virt_xml() -> None:
    lines = [ln for ln in LINES.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    with ThreadPoolExecutor(2) as pool:
        problems = [p for p in pool.map(_run_both, lines) if p]
    print(f"same {len(lines) - len(problems)}/{len(lines)}")
    print("\n".join(problems))
    assert len(lines) - len(problems) >= SAME_FLOOR, "\n".join(problems)
