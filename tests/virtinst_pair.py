"""Running one command line through a real virtinst tool and through pyvirt's counterpart.

The virt-install, virt-xml and virt-clone oracle tests differ in how they build a line and
what they compare on success; how the two tools are run (virt-manager's test-suite
environment, the magic URI turned into pyvirt's VIRTCOMPAT_* hooks) and how their failures
are compared is the same, so it lives here once.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.conformance_data import CONFORMANCE as CONF
from tests.conformance_data import REPO

TREE = CONF / "virt-manager-4.1.0" / "tree"
# What virt-manager's test_cli.py runs every tool with (no prompts, no consoles).
SUITE_ENV = {"VIRTINST_TEST_SUITE": "1", "HOME": "/tmp", "DISPLAY": ":3.4", "LANG": "C.UTF-8"}

Run = subprocess.CompletedProcess


def run_pair(reference: Path, ours: str, argv: list[str], *, timeout: int = 300,
             between: Callable[[], None] | None = None) -> tuple[Run, Run]:
    """The reference tool on ``argv`` (its magic URI as is), then ``.venv/bin/<ours>`` on the
    same line with the URI turned into pyvirt's test hooks, both from the data tree.
    ``between`` restores files the first run may have consumed (virt-clone's targets)."""
    sys.path.insert(0, str(CONF / "tools"))
    from run_virtinst_cases import magic_to_env

    env = dict(os.environ, **SUITE_ENV)
    ref = subprocess.run([str(reference), *argv], cwd=TREE, env=env, capture_output=True,
                         text=True, stdin=subprocess.DEVNULL, timeout=timeout)
    if between:
        between()
    ours_argv, hooks = magic_to_env(argv)
    mine = subprocess.run([str(REPO / ".venv" / "bin" / ours), *ours_argv], cwd=TREE,
                          env={**env, **hooks}, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=timeout)
    return ref, mine


def last_error(text: str) -> str:
    """The last ERROR's message (its first line; under --debug a message that begins with a
    newline is on the line after ``ERROR (module:line)``)."""
    rows = text.splitlines()
    found = ""
    for i, ln in enumerate(rows):
        if "ERROR" not in ln:
            continue
        msg = re.sub(r"^\(\w+:\d+\)\s*", "", ln.split("ERROR", 1)[1].strip())
        if not msg:
            msg = next((r.strip() for r in rows[i + 1:] if r.strip()), "")
        found = msg
    return found[:60]


def ending_difference(line: str, tool: str, ref: Run, ours: Run, *,
                      errors: bool = True) -> str | None:
    """How the two runs ended differently: one failed and the other not, or (``errors``) both
    failed with different last errors.  None when they agree; callers compare the output
    only when both succeeded."""
    if bool(ref.returncode) != bool(ours.returncode):
        return (f"{line}\n  exit {tool}={ref.returncode} pyvirt={ours.returncode}\n"
                f"  {ref.stderr[-300:]}\n  {ours.stderr[-300:]}")
    if ref.returncode and errors:
        want, got = last_error(ref.stdout + ref.stderr), last_error(ours.stdout + ours.stderr)
        return None if want == got else f"{line}\n  error {want!r} != {got!r}"
    return None
