"""Oracle test of virsh's shell mode and command-line reading: the same script on stdin (the
interactive shell reading a pipe), the same command strings, connection URIs and read-only lines
through the real virsh 9.0 and through pyvirt, against the test driver: the same stdout, stderr
and exit status.  Nothing of virsh's output is written here; the shells' own names (banner,
prompt) are the only thing masked.  Few processes: each script or line batches many cases."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

VIRSH = shutil.which("virsh")
pytestmark = pytest.mark.skipif(VIRSH is None, reason="virsh (libvirt-clients) not installed")
PYVIRT = [sys.executable, "-m", "pyvirt.cli.main"]

#: one interactive session: quoting and escaping, comments, ';', a command's own error before a
#: tokenizing error later in the line, echo's forms, cd/pwd, connect (read-only prompt, a failed
#: connect leaving the shell to reconnect to the previous URI), quit ending the session
SCRIPT = r"""echo a b   c
echo 'a b'  "c  d" e\ f "a\"b" 'a\b' a\\b
echo --shell "a b" "it's" '$x' 'a;b' ''
echo --split a,b,,c d; echo --split "" a; echo --split a ""; echo --split ""
echo ;;; echo after
echo x # comment ; echo not
nosuch; echo "x
echo --nosuch "x
dominfo; echo "x
echo "x" ; dominfo test extra ; echo "y
"#x" "y; echo z
\#a "b; echo c
'#quoted' a\
echo a; echo b\
echo "multi\
line" 'open
cd /
pwd
cd /nonexistent
pwd
list -- --all
connect test:///default --readonly
destroy test
shutdown test
connect test:///default
connect test:///nosuchfile --readonly
list
uri
snapshot-create-as test --print-xml --diskspec ""
shutdown test --mode acpi,signal
quit
echo never
"""

#: command strings (one process each; several commands a line)
LINES = [
    ["nosuch; echo \"x"], ["list --all; dominfo; echo \"x"], ["\"#x\" a\\"], ["echo a; \"#x\" \"y; echo z"],
    ["complete", "--", "dominfo", "\"te"], ["complete", "--", "dominfo", "--domain", "\"te"],
    ["complete", "--", "dominfo", "te\\"],
    ["-c", "test:///nosuchfile", "echo a"], ["-c", "test://", "echo a"], ["-c", "test:///", "echo a"],
    # qemu-monitor-command's wrapping: arguments joined by commas in braces, judged as libvirt's
    # JSON parser judges them (yajl's errors and offsets)
    ["qemu-monitor-command test info extra; qemu-monitor-command test info a '' b; qemu-monitor-command test "
     "info '\"x\":}'; qemu-monitor-command test info '\"x\":1 \"y\"'; qemu-monitor-command test info "
     "'\"x\":[1 2]'; qemu-monitor-command test info '\"x\":NaN'; qemu-monitor-command test info '\"x\":\"abc'; "
     "qemu-monitor-command test info '\"x\":1e'; qemu-monitor-command test info '\"x\":\"\\\\q\"'; "
     "qemu-monitor-command test info '/*c*/'; qemu-monitor-command test info '\"a\":1,\"b\":2,\"c\":3,"
     "\"d\":4,\"e\":5,\"f\":6,\"g\":7,\"h\":8 zz'; qemu-monitor-command test '{\"execute\":' '\"x\"}'"],
    # read-only: libvirt refuses before it asks the driver, naming the function virsh called
    # (not save: virsh 9.0 runs it in a watched thread and hangs at random when it fails at once)
    ["-r", "destroy test; destroy test --graceful; shutdown test; shutdown test --mode acpi; "
     "restore /x; restore /x --paused; detach-device test /dev/null; "
     "blockresize test vda 1M; dompmwakeup test; nodesuspend mem 10; qemu-monitor-command test x"],
    ["-r", "managedsave-dumpxml test --security-info; nodedev-detach computer; nwfilter-binding-delete tap0; "
     "migrate test test:///default; migrate-getspeed test; lxc-enter-namespace test /bin/true; nodesevinfo; "
     "qemu-attach 1; qemu-monitor-event --timeout 1"],
]


def _mask(text: str) -> str:
    return text.replace("pyvirt", "virsh")


def _run(tool: list[str], args: list[str], stdin: str | None = None, cwd: str | None = None) -> tuple[str, str, int]:
    options = [] if args[:1] == ["-c"] else ["-c", "test:///default"]
    proc = subprocess.run([*tool, *options, *args], input=stdin or "", capture_output=True, text=True,
                          timeout=60, cwd=cwd)
    return _mask(proc.stdout), _mask(proc.stderr), proc.returncode


@pytest.mark.parametrize("quiet", [[], ["-q"]], ids=["banner", "quiet"])
def test_shell_script_same_as_virsh(quiet: list[str], tmp_path) -> None:
    assert _run(PYVIRT, quiet, SCRIPT, str(tmp_path)) == _run([VIRSH], quiet, SCRIPT, str(tmp_path))


@pytest.mark.parametrize("args", LINES, ids=" ".join)
def test_line_same_as_virsh(args: list[str], tmp_path) -> None:
    assert _run(PYVIRT, args, cwd=str(tmp_path)) == _run([VIRSH], args, cwd=str(tmp_path))


def test_node_files_and_a_named_uri_in_the_shell(tmp_path) -> None:
    """A node file that is missing, a folder, malformed; -c must connect before the shell starts
    (virsh exits 1 without its banner), else the shell connects when a command needs it."""
    (tmp_path / "bad.xml").write_text("<node><bad\n")
    (tmp_path / "text.xml").write_text("x\n")
    for uri in (f"test://{tmp_path}/bad.xml", f"test://{tmp_path}/text.xml", f"test://{tmp_path}"):
        assert _run(PYVIRT, ["-c", uri, "echo a"]) == _run([VIRSH], ["-c", uri, "echo a"])
    args = ["-c", f"test://{tmp_path}/missing.xml"]
    assert _run(PYVIRT, args, "echo a\n") == _run([VIRSH], args, "echo a\n")
