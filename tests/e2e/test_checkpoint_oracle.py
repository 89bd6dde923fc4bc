"""Oracle test for virsh's Checkpoint and Backup groups: the same command lines through the real
virsh and through pyvirt against test:///default give the same stdout, stderr and exit status.

Nothing of virsh's output is written down here.  Normalized: creation times (the clock moves
between the two runs) and libvirt's RelaxNG diagnostics (libxml2's own lines after the first).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

VIRSH = shutil.which("virsh")
pytestmark = pytest.mark.skipif(VIRSH is None, reason="virsh (libvirt-clients) not installed")
PYVIRT = [sys.executable, "-m", "pyvirt.cli.main"]

_TIMES = [(re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}"), "TIME"),
          (re.compile(r"<creationTime>\d+</creationTime>"), "<creationTime>N</creationTime>"),
          (re.compile(r"checkpoint \d{10}\b"), "checkpoint N")]

TREE = ("checkpoint-create-as test a1 --description 'first <one>'; checkpoint-create-as test a2; "
        "checkpoint-create-as test a3 --diskspec vda,checkpoint=no; checkpoint-create-as test b1 "
        "--diskspec vda,bitmap=bm")

SEQUENCES = [
    # listing: tables, names, trees, --from, filters, topological order
    f"{TREE}; checkpoint-list test; checkpoint-list test --parent; checkpoint-list test --tree; "
    "checkpoint-list test --name; checkpoint-list test --topological --name",
    f"{TREE}; checkpoint-list test --from a1; checkpoint-list test --from a1 --descendants --parent; "
    "checkpoint-list test --from a2 --tree; checkpoint-list test --roots; checkpoint-list test --leaves --parent; "
    "checkpoint-list test --no-leaves; checkpoint-list test --leaves --no-leaves",
    # one checkpoint: facts, XML (with and without the domain), parent
    f"{TREE}; checkpoint-info test a1; checkpoint-info test a2; checkpoint-parent test a2; "
    "checkpoint-parent test a1; checkpoint-dumpxml test a1; checkpoint-dumpxml test a3 --no-domain; "
    "checkpoint-dumpxml test b1 --no-domain --size --security-info; checkpoint-dumpxml test a2 --xpath //parent",
    # deleting: one (children move up), children only, children, metadata
    f"{TREE}; checkpoint-delete test a2; checkpoint-list test --parent; checkpoint-delete test a1 --children-only; "
    "checkpoint-list test --tree; checkpoint-create-as test c1; checkpoint-delete test a1 --children --metadata; "
    "checkpoint-list test",
    # building XML from arguments
    "checkpoint-create-as test --print-xml --name n --description 'a&b' --diskspec vda,checkpoint=bitmap,bitmap=x "
    "--diskspec 'vdb,,c,checkpoint=no'; checkpoint-create-as test --print-xml; "
    "checkpoint-create-as test --print-xml --diskspec vda,what=1; checkpoint-create-as test n1 d1; "
    "checkpoint-dumpxml test n1 --xpath //description",
    # errors: option checks, missing checkpoints, bad disks, duplicates, inactive domain
    "checkpoint-create-as test a1; checkpoint-list test --tree --name; checkpoint-list test --tree --parent; "
    "checkpoint-list test --roots --tree; checkpoint-list test --leaves --tree; checkpoint-list test --roots --from a1; "
    "checkpoint-list test --descendants; checkpoint-list test --parent --roots; checkpoint-list test --from nope; "
    "checkpoint-info test; checkpoint-dumpxml test nope; checkpoint-delete test; checkpoint-parent test; "
    "checkpoint-delete test a1 --children --children-only; checkpoint-edit test nope; "
    "checkpoint-create test /nonexist; checkpoint-create-as test a1; checkpoint-list nodom",
    "checkpoint-create-as test x --diskspec vdq; checkpoint-create-as test x --diskspec vda --diskspec vda; "
    "checkpoint-create-as test x --diskspec /guest/diskimage1,bitmap=b; checkpoint-dumpxml test x --no-domain; "
    "checkpoint-create test --redefine-validate; destroy test; checkpoint-create-as test off; checkpoint-list test",
    # backups: libvirt's test driver has none
    "backup-begin test; backup-dumpxml test; backup-dumpxml nodom",
]


def _run(tool: list[str], line: str) -> tuple[str, str, int]:
    proc = subprocess.run([*tool, "-c", "test:///default", line], capture_output=True, text=True, timeout=60,
                          cwd="/")
    out, err = proc.stdout, proc.stderr
    for pattern, repl in _TIMES:
        out = pattern.sub(repl, out)
        err = pattern.sub(repl, err)
    return out, err, proc.returncode


@pytest.mark.parametrize("line", SEQUENCES)
def test_checkpoint_commands_same_as_virsh(line: str) -> None:
    assert _run(PYVIRT, line) == _run([VIRSH], line)


def test_redefine_same_as_virsh(tmp_path: Path) -> None:
    domain = subprocess.run([*PYVIRT, "-c", "test:///default", "dumpxml --inactive test"], capture_output=True,
                            text=True, check=True).stdout
    files = {
        "bare": "<domaincheckpoint><name>x</name><creationTime>5</creationTime></domaincheckpoint>",
        "full": f"<domaincheckpoint><name>y</name><creationTime>6</creationTime><parent><name>x</name></parent>"
                f"{domain}</domaincheckpoint>",
        "orphan": "<domaincheckpoint><name>z</name><creationTime>5</creationTime>"
                  "<parent><name>nope</name></parent></domaincheckpoint>",
        "notime": "<domaincheckpoint><name>t</name></domaincheckpoint>",
        "noname": "<domaincheckpoint><creationTime>5</creationTime></domaincheckpoint>",
        "bitmaps": "<domaincheckpoint><name>w</name><creationTime>7</creationTime><disks><disk name='vda'/>"
                   "</disks></domaincheckpoint>",
    }
    for name, text in files.items():
        (tmp_path / f"{name}.xml").write_text(text)
    line = "; ".join(f"checkpoint-create test {tmp_path / n}.xml --redefine" for n in files)
    line += ("; checkpoint-list test --parent; checkpoint-dumpxml test y --xpath //parent; "
             "checkpoint-dumpxml test w; checkpoint-create-as test new; checkpoint-parent test new; "
             f"checkpoint-create test {tmp_path / 'bare.xml'}; checkpoint-list test --tree")
    assert _run(PYVIRT, line) == _run([VIRSH], line)


@pytest.mark.parametrize("change", ["s/hello/bye/", "s/<name>c1</<name>c9</", "s/nothing//"])
def test_edit_same_as_virsh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str) -> None:
    """checkpoint-edit: an edit, a rename (refused: no --rename), no change."""
    editor = tmp_path / "editor.sh"
    editor.write_text(f'#!/bin/sh\nsed -i "{change}" "$1"\n')
    editor.chmod(0o755)
    monkeypatch.setenv("EDITOR", str(editor))
    line = ("checkpoint-create-as test c1 --description hello; checkpoint-edit test c1; "
            "checkpoint-dumpxml test c1 --no-domain; checkpoint-list test --name")
    assert _run(PYVIRT, line) == _run([VIRSH], line)
