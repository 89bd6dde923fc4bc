"""Oracle test: the same command lines through the real virsh and through pyvirt, against
test:///default, must give the same stdout, stderr and exit status.

Nothing of virsh's output is written down here: both tools run in the test.  Only values that
change from run to run (the test driver's CPU time is wall-clock based) are normalized.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import xml.dom.minidom

import pytest

VIRSH = shutil.which("virsh")
pytestmark = pytest.mark.skipif(VIRSH is None, reason="virsh (libvirt-clients) not installed")

SEQUENCES = [
    "list", "list --all", "list --inactive", "list --name", "list --uuid", "list --all --name --uuid",
    "list --title", "list --table", "list --state-running", "list --state-shutoff",
    "list --all --autostart", "list --all --no-autostart", "list --persistent", "list --transient",
    "list --id", "list --id --name", "list --table --name",
    "domstate test", "domstate --reason test", "domstate 1", "domstate 6695eb01-f6a4-8304-79aa-97f2502e193f",
    "domid test", "domname 1", "domuuid test", "domid nosuch", "domname 7",
    "destroy test; list --all", "destroy test; domid test; domstate test --reason",
    "suspend test; domstate test --reason", "suspend test; resume test; domstate --reason test",
    "destroy test; start test; list",
    "shutdown test; domstate test --reason", "reboot test", "reset test",
    "autostart test; list --all --autostart", "autostart --disable test",
    "destroy test; undefine test; list --all",
    "uri", "hostname", "nodeinfo", "sysinfo", "domblklist test", "domblklist test --details",
    "domiflist test", "desc test", "desc test --title", "desc test --title hello; list --title",
    "destroy test; domrename test foo; list --all", "domrename test foo",
    "setmem test 1024", "setmem test abc", "setvcpus test abc", "setvcpus test 1 --config",
    "setmaxmem test 4096000", "event", "vncdisplay test", "domdisplay test",
    "echo hello world", "help domstate", "help list", "help nosuch", "quit", "list; quit; list",
    # errors: syntax, options, domains, states
    "foo", "foo; list", "list --bar", "list --al", "list --all=foo", "start", "dominfo",
    "dominfo test extra", "dominfo --domain=test", "dominfo test --domain test",
    "domstate test --reason --reason", "dumpxml test --xpath", "list -all", "destroy test; dominfo test",
    "start test", "resume test", "resume test; list", "list; resume test",
    "dominfo nosuch", "start nosuch", "destroy nosuch", "undefine nosuch", "domstate nosuch --reason",
    "suspend nosuch",
    # 'help' ignores spurious options and data; lookups before option checks; names checked first
    "help test --bogus", "help list --bogus", "help list extra", "domblkinfo nosuch",
    "domblkinfo test", "pool-list nosuch", "pool-list --type dir,nosuch", "qemu-attach nosuch", "qemu-attach -5",
    "domxml-to-native qemu-argv",
    # every command's hidden --help; lookups by ID/UUID only; modes and files checked first
    "attach-device --help", "list --all --help", "list --help=3", "list --bogus --help",
    "domname test", "shutdown nosuch --mode bad", "reboot test --mode acpi,bad",
    "domdisplay test --type vnc", "domxml-from-native test /nonexistent",
    "undefine test --storage vda", "change-media test nosuch",
    "domblkstat test vda", "domblkstat test", "domblkstat test hda",
    "destroy test; domblkstat test vda",
    # the domain named as the command line named it; domuuid not by UUID, net-name by UUID only
    "destroy 1", "suspend 6695eb01-f6a4-8304-79aa-97f2502e193f", "autostart 1", "resume 1",
    "domuuid 6695eb01-f6a4-8304-79aa-97f2502e193f", "net-name 6695eb01-f6a4-8304-79aa-97f2502e193f",
    # domstats --enforce refuses the groups the driver cannot answer (their bits), --backing
    "domstats --enforce --perf test", "domstats --enforce --state --iothread test",
    "domstats --enforce --vm --memory --cpu-total", "domstats --backing --block test",
]
ARGV_SEQUENCES = [["list", "--all"], ["domstate", "test", "--reason"], ["list", ";", "uri"],
                  ["-q", "list --all"], ["-q", "destroy test; list --all; domstate test"],
                  ["-q", "dominfo x"], ["-q", "uri"], ["-q", "echo hi; echo --err oops; desc test; domstats"],
                  ["echo --err oops; desc test --new-desc hi; desc test; desc test --title"]]
#: known differences, each with its cause; strict, so a fix elsewhere makes them pass loudly
KNOWN: dict[str, str] = {}
XML_SEQUENCES = ["dumpxml test", "dumpxml --inactive test", "capabilities"]

_CPU_TIME = re.compile(r"^(CPU time:\s+)[0-9.]+s$", re.M)
#: the test driver's block counters come from the clock (microseconds): only their layout compares
_CLOCK_COUNTERS = re.compile(r"^((?:vda (?:rd_req|rd_bytes|wr_req|wr_bytes|errs)| number of [a-z ]+:| error count:)"
                             r"\s+)\d+$", re.M)


def _run(tool: list[str], args: list[str]) -> tuple[str, str, int]:
    proc = subprocess.run([*tool, "-c", "test:///default", *args], capture_output=True, text=True,
                          timeout=60)
    out = _CLOCK_COUNTERS.sub(r"\1N", _CPU_TIME.sub(r"\1Ns", proc.stdout))
    return out, proc.stderr, proc.returncode


PYVIRT = [sys.executable, "-m", "pyvirt.cli.main"]


@pytest.mark.parametrize("line", [pytest.param(s, marks=pytest.mark.xfail(reason=KNOWN[s], strict=True))
                                  if s in KNOWN else s for s in SEQUENCES])
def test_same_as_virsh(line: str) -> None:
    assert _run(PYVIRT, [line]) == _run([VIRSH], [line])


@pytest.mark.parametrize("args", ARGV_SEQUENCES, ids=" ".join)
def test_argv_form_same_as_virsh(args: list[str]) -> None:
    assert _run(PYVIRT, args) == _run([VIRSH], args)


def _canon(text: str) -> str:
    return xml.dom.minidom.parseString(text).toprettyxml()


@pytest.mark.parametrize("line", XML_SEQUENCES)
def test_xml_same_as_virsh(line: str) -> None:
    ours, theirs = _run(PYVIRT, [line]), _run([VIRSH], [line])
    assert ours[1:] == theirs[1:]
    assert _canon(ours[0]) == _canon(theirs[0])
