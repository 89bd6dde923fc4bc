"""pyvirt clone against the real virt-clone 4.1 (a test-only oracle, Debian's virtinst) on
virt-manager's kinds of command lines: each line of virtclone_oracle_cases.txt is
``kind|options``, run with test_cli.py's defaults (--debug for valid/invalid lines, the test
suite's connection unless one is given, ``--print-xml --__test-nodry`` for compare lines).
Both tools must agree on success; compare lines must print the same domain XML (masked) and
failures the same error.  A floor keeps what is reached.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

import pytest

from tests.conformance import test_virtinst_oracle_cases as oracle
from tests.conformance_data import CONFORMANCE as CONF
from tests.virtinst_pair import ending_difference, run_pair

VIRT_CLONE = Path("/usr/bin/virt-clone")
LINES = Path(__file__).with_name("virtclone_oracle_cases.txt")
SAME_FLOOR = 77
EXIST = ("/tmp/__virtinst_cli_exist1.img", "/tmp/__virtinst_cli_exist2.img")
NEW = tuple(f"/tmp/__virtinst_cli_new{i}.img" for i in (1, 2, 3))
PLACES = dict(oracle.PLACES, EXISTIMG3=EXIST[0], EXISTIMG4=EXIST[1])


def _fresh_files() -> None:
    """test_cli.py's setup: the 'existing' images exist, the 'new' ones do not."""
    for name in EXIST:
        Path(name).touch()
    for name in NEW:
        Path(name).unlink(missing_ok=True)


def _run_both(line: str) -> str | None:
    sys.path.insert(0, str(CONF / "tools"))
    import libvirt_xml_compare as lxc

    kind, options = line.split("|", 1)
    cli = options % PLACES
    extra = "" if kind == "compare" else "--debug"
    if "--connect " not in cli:
        extra += " --connect " + PLACES["URI-TEST-SUITE"]
    if kind == "compare" and "--print-xml" not in cli:
        extra += " --print-xml --__test-nodry"
    argv = shlex.split(cli + " " + extra)
    _fresh_files()
    ref, ours = run_pair(VIRT_CLONE, "pyvirt-clone", argv, between=_fresh_files)
    if (differs := ending_difference(line, "virt-clone", ref, ours)) or ref.returncode:
        return differs
    if kind == "compare":
        same, diff = lxc.compare(ref.stdout, ours.stdout, "masked")
        return None if same else f"{line}\n{diff}"
    return None


@pytest.mark.skipif(not VIRT_CLONE.exists() or not oracle.TREE.exists(),
                    reason="virt-clone (test oracle) or shared conformance data missing")
@pytest.mark.skipif(os.environ.get("PYVIRT_VIRTINST_ORACLE") != "1",
                    reason="takes minutes on a loaded 2-core machine: PYVIRT_VIRTINST_ORACLE=1 runs it")
@pytest.mark.timeout(1800)
def test_same_as_virt_clone() -> None:
    lines = [ln for ln in LINES.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    # one at a time: the lines share the /tmp images test_cli.py's setup makes
    problems = [p for p in map(_run_both, lines) if p]
    print(f"same {len(lines) - len(problems)}/{len(lines)}")
    print("\n".join(problems))
    assert len(lines) - len(problems) >= SAME_FLOOR, "\n".join(problems)
