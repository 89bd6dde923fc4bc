"""``--OPTION=?`` of every virt-install and virt-xml option that takes sub-options, against
Debian's virt-install / virt-xml 4.1 (test-only oracles): the same text.  The options are
read from the real tool's own --help, so a new one is compared as soon as it exists."""

from __future__ import annotations

import os
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conformance_data import REPO

TOOLS = {"virt-install": "pyvirt-install", "virt-xml": "pyvirt-xml"}
pytestmark = [
    pytest.mark.skipif(not Path("/usr/bin/virt-install").exists(), reason="virt-install (oracle) missing"),
    pytest.mark.skipif(os.environ.get("PYVIRT_VIRTINST_ORACLE") != "1",
                       reason="runs two tools per option: PYVIRT_VIRTINST_ORACLE=1 runs it"),
    pytest.mark.timeout(900),
]


def _run(argv: list[str]) -> str:
    env = dict(os.environ, COLUMNS="80", LANG="C.UTF-8")
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120,
                          stdin=subprocess.DEVNULL)
    return f"{done.stdout}{done.stderr}rc={done.returncode}"


@pytest.mark.parametrize("tool", sorted(TOOLS))
def test_suboption_listings_as_the_real_tool(tool: str) -> None:
    helptext = _run([f"/usr/bin/{tool}", "--help"])
    flags = sorted(set(re.findall(r"(--[A-Za-z][A-Za-z-]*)", helptext)))
    ours = str(REPO / ".venv" / "bin" / TOOLS[tool])

    def pair(flag: str) -> str | None:
        want, got = _run([f"/usr/bin/{tool}", f"{flag}=?"]), _run([ours, f"{flag}=?"])
        if " options:\n" not in want:  # no sub-options: the tool goes on to connect, parse...
            return None
        return None if want == got else f"{flag}:\n{want}\n--- pyvirt:\n{got}"

    with ThreadPoolExecutor(2) as pool:
        problems = [p for p in pool.map(pair, flags) if p]
    assert not problems, "\n".join(problems)
