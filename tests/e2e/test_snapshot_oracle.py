"""Oracle test for virsh's Snapshot group: the same command lines through the real virsh and
through pyvirt against test:///default give the same stdout, stderr and exit status.

Nothing of virsh's output is written down here.  Normalized: creation times (the clock moves
between the two runs) and libvirt's own log lines on stderr (its test driver warns about
snapshots without a domain).
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
          (re.compile(r"<creationTime>\d+</creationTime>"), "<creationTime>N</creationTime>")]
_LOG = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+\+\d{4}: \d+: (info|warning) : .*\n", re.M)

TREE = ("snapshot-create-as test a1 --description 'first <one>'; snapshot-create-as test a2; "
        "snapshot-revert test a1; snapshot-create-as test b1; snapshot-create-as test b2")

SEQUENCES = [
    # listing: tables, names, trees, --from/--current, filters, topological order
    f"{TREE}; snapshot-list test; snapshot-list test --parent; snapshot-list test --tree; snapshot-list test --name",
    f"{TREE}; snapshot-list test --from a1; snapshot-list test --from a1 --descendants --parent; "
    "snapshot-list test --current --tree; snapshot-list test --from b1 --tree; snapshot-list test --roots; "
    "snapshot-list test --leaves --parent; snapshot-list test --no-leaves; snapshot-list test --topological --name",
    f"{TREE}; snapshot-list test --inactive; snapshot-list test --active --internal --name; "
    "snapshot-list test --external; snapshot-list test --no-metadata; snapshot-list test --metadata --name; "
    "snapshot-list test --leaves --no-leaves; snapshot-list test --tree --topological",
    # one snapshot's facts, XML, parent, current
    f"{TREE}; snapshot-info test a1; snapshot-info test --current; snapshot-parent test b2; snapshot-parent test a1; "
    "snapshot-dumpxml test a1; snapshot-dumpxml test b1 --xpath //parent; snapshot-current test --name; "
    "snapshot-current test a2; snapshot-current test; snapshot-list test --tree",
    # deleting: one (children move up), children, children only; the current snapshot moves
    f"{TREE}; snapshot-delete test a1; snapshot-list test --parent; snapshot-current test --name",
    f"{TREE}; snapshot-delete test b1 --children-only; snapshot-list test --tree; snapshot-current test --name; "
    "snapshot-delete --current test --children; snapshot-list test --tree; snapshot-current test --name",
    # reverting changes the run state; --halt stops the guest
    "snapshot-create-as test s1; suspend test; snapshot-create-as test s2 --halt; domstate test --reason; "
    "snapshot-revert test s1; domstate test --reason; snapshot-revert test s2; domstate test --reason; "
    "snapshot-revert test s1 --paused; domstate test --reason; destroy test; snapshot-create-as test off; "
    "start test; snapshot-revert test off; domstate test --reason; snapshot-revert test off --running; "
    "domstate test --reason; snapshot-dumpxml test off --xpath //memory",
    # building XML from arguments
    "snapshot-create-as test --print-xml --name n --description 'a&b' --memspec snapshot=no,file=/a "
    "--diskspec vda,snapshot=external,driver=qcow2,file=/b --diskspec vdb,stype=block,file=/dev/x; "
    "snapshot-create-as test --print-xml --memspec /m,,x; snapshot-create-as test --print-xml --memspec bad; "
    "snapshot-create-as test --print-xml --diskspec vda,stype=nope; snapshot-create-as test --print-xml "
    "--diskspec vda,what=1; snapshot-create-as test n1 desc1; snapshot-dumpxml test n1 --xpath //description",
    # errors: option checks, missing snapshots, unsupported flags, duplicates, undefine
    "snapshot-create-as test a1; snapshot-list test --tree --name; snapshot-list test --tree --parent; "
    "snapshot-list test --tree --leaves; snapshot-list test --from a1 --current; snapshot-list test --roots --from a1; "
    "snapshot-list test --descendants; snapshot-list test --parent --roots; snapshot-list test --from nope; "
    "snapshot-info test; snapshot-dumpxml test nope; snapshot-revert test --current --running --paused; "
    "snapshot-delete test; snapshot-delete test a1 --current; snapshot-parent test; snapshot-edit test nope; "
    "snapshot-create test /nonexist; snapshot-create-as test a1; snapshot-list nodom; snapshot-revert test nope",
    "snapshot-create test --current; snapshot-create-as test s1 --disk-only; snapshot-create-as test s3 --no-metadata; "
    "snapshot-create-as test s5 --memspec snapshot=no --diskspec vda,snapshot=external,file=/tmp/x.qcow2; "
    "snapshot-current test --name; snapshot-create-as test s6; snapshot-revert test s6 --reset-nvram; "
    "snapshot-current test --name s6; destroy test; undefine test; undefine test --snapshots-metadata; list --all",
    "snapshot-current test; snapshot-current test --name; snapshot-list test; snapshot-list test --tree",
    # external memory: the disks default to external too, and the test driver's disk is no file here; --live
    "snapshot-create-as test m1 --memspec file=/nonexistent/m1.mem; snapshot-create-as test m2 --live; "
    "snapshot-create-as test m3 --memspec file=/m3,snapshot=external --diskspec vda,snapshot=no; "
    "snapshot-info test m3; snapshot-list test --external --name; snapshot-dumpxml test m3 --xpath //memory",
]

REDEFINE = ("<domainsnapshot><name>x</name><state>running</state><creationTime>5</creationTime>"
            "<parent><name>y</name></parent>{domain}</domainsnapshot>")


def _run(tool: list[str], line: str) -> tuple[str, str, int]:
    proc = subprocess.run([*tool, "-c", "test:///default", line], capture_output=True, text=True, timeout=60,
                          cwd="/")
    out, err = proc.stdout, _LOG.sub("", proc.stderr)
    for pattern, repl in _TIMES:
        out = pattern.sub(repl, out)
    return out, err, proc.returncode


@pytest.mark.parametrize("line", SEQUENCES)
def test_snapshot_commands_same_as_virsh(line: str) -> None:
    assert _run(PYVIRT, line) == _run([VIRSH], line)


def test_redefine_same_as_virsh(tmp_path: Path) -> None:
    bare = tmp_path / "bare.xml"
    bare.write_text("<domainsnapshot><name>x</name><state>running</state><creationTime>5</creationTime>"
                    "</domainsnapshot>")
    full = tmp_path / "full.xml"
    domain = subprocess.run([*PYVIRT, "-c", "test:///default", "dumpxml --inactive test"], capture_output=True,
                            text=True, check=True).stdout
    full.write_text(REDEFINE.format(domain=domain))
    line = (f"snapshot-create test {bare} --redefine; snapshot-create test {bare} --redefine --no-metadata; "
            f"snapshot-create-as test y; snapshot-create test {full} --redefine; snapshot-list test --parent; "
            f"snapshot-current test --name; snapshot-create test {full} --redefine --current; "
            f"snapshot-current test --name; snapshot-dumpxml test x; snapshot-create test {bare} --redefine; "
            f"snapshot-info test x; snapshot-create test {full} --current; snapshot-create test {bare}")
    assert _run(PYVIRT, line) == _run([VIRSH], line)
