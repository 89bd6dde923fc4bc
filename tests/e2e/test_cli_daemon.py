"""``pyvirt`` as a subprocess against a real pyvirtd running the real test guest under QEMU.

One private daemon (tests/daemon_harness.py) serves the module; the CLI finds it through
PYVIRT_STATE_ROOT exactly as a user's shell would find the session daemon.  The guest is
defined from a file with ``pyvirt define``, so every step a user takes goes through the CLI.
"""

from __future__ import annotations

import contextlib
import os
import pty
import re
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.daemon_harness import DaemonHarness, guest_xml, wait_console

PYVIRT = [sys.executable, "-m", "pyvirt.cli.main"]
NAME = "e2e-cli"


class Cli:
    """Runs ``pyvirt -c qemu:///session …`` against one harness daemon."""

    def __init__(self, harness: DaemonHarness, workdir: Path) -> None:
        self.harness = harness
        self.workdir = workdir
        self.env = {**harness.env(), "VISUAL": "", "EDITOR": "true"}

    def __call__(self, *args: str, env: dict[str, str] | None = None, stdin: str = "",
                 timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*PYVIRT, "-c", "qemu:///session", *args], input=stdin, capture_output=True,
                              text=True, timeout=timeout, env={**self.env, **(env or {})})


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cli]:
    root = tmp_path_factory.mktemp("pyvirtd")
    harness = DaemonHarness(root)
    harness.start()
    try:
        yield Cli(harness, root)
    finally:
        harness.kill_all_guests()
        harness.stop()


@pytest.fixture(scope="module")
def running(cli: Cli, test_guest) -> str:
    """The test guest, defined and started through the CLI, its shell ready on the console."""
    xml_file = cli.workdir / f"{NAME}.xml"
    xml_file.write_text(guest_xml(test_guest, NAME))
    defined = cli("define", str(xml_file))
    assert defined.returncode == 0, defined.stderr
    assert defined.stdout == f"Domain '{NAME}' defined from {xml_file}\n\n"
    started = cli("start", NAME)
    assert started.returncode == 0, started.stderr
    assert started.stdout == f"Domain '{NAME}' started\n\n"
    from pyvirt.testguest import READY_MARKER

    with cli.harness.connect() as conn:
        wait_console(conn, NAME, READY_MARKER, timeout=180)
    return NAME


def test_list_dominfo_domstate(cli: Cli, running: str) -> None:
    listing = cli("list", "--all")
    assert listing.returncode == 0, listing.stderr
    lines = listing.stdout.splitlines()
    assert lines[0].split() == ["Id", "Name", "State"] and set(lines[1]) == {"-"}
    row = next(line for line in lines[2:] if f" {running} " in line)
    assert re.fullmatch(rf" \d+\s+{running}\s+running", row), row
    assert len(lines[1]) == len(lines[0]) + 1 or len(lines[1]) >= len(lines[0])  # virsh's rule width
    assert lines[-1] == "" and listing.stdout.endswith("\n\n")

    info = cli("dominfo", running)
    assert info.returncode == 0, info.stderr
    fields = dict(line.split(":", 1) for line in info.stdout.splitlines() if ":" in line)
    assert fields["Name"].strip() == running
    assert fields["State"].strip() == "running"
    assert fields["Persistent"].strip() == "yes"
    assert fields["Max memory"].strip() == "262144 KiB"
    assert re.fullmatch(r"[0-9a-f-]{36}", fields["UUID"].strip())

    state = cli("domstate", "--reason", running)
    assert state.stdout == "running (booted)\n\n"


def test_start_running_domain_is_an_error(cli: Cli, running: str) -> None:
    again = cli("start", running)
    assert again.returncode == 1
    assert again.stderr == "error: Domain is already active\n"


def test_send_key(cli: Cli, running: str) -> None:
    sent = cli("send-key", running, "KEY_LEFTCTRL", "KEY_A")
    assert (sent.returncode, sent.stderr) == (0, ""), sent.stderr
    bad = cli("send-key", running, "KEY_NOSUCH")
    assert bad.returncode == 1 and "KEY_NOSUCH" in bad.stderr


def test_suspend_resume_with_events(cli: Cli, running: str) -> None:
    with cli.harness.new_subscriptions(1):  # the watcher listens before anything happens
        watcher = subprocess.Popen([*PYVIRT, "-c", "qemu:///session", "event", "--all", "--loop", "--timeout", "15"],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli.env)
    try:
        suspended = cli("suspend", running)
        assert suspended.stdout == f"Domain '{running}' suspended\n\n", suspended.stderr
        assert cli("domstate", "--reason", running).stdout == "paused (user)\n\n"
        resumed = cli("resume", running)
        assert resumed.stdout == f"Domain '{running}' resumed\n\n", resumed.stderr
        assert cli("domstate", running).stdout == "running\n\n"
        out, err = watcher.communicate(timeout=60)
    finally:
        watcher.kill()
    assert f"event 'lifecycle' for domain '{running}': Suspended Paused\n" in out, (out, err)
    assert f"event 'lifecycle' for domain '{running}': Resumed Unpaused\n" in out, (out, err)
    assert out.endswith("event loop timed out\nevents received: 2\n\n"), out


def _read_until(fd: int, marker: bytes, seen: bytearray, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while marker not in seen:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"{marker!r} not seen; got {bytes(seen[-600:])!r}")
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                data = os.read(fd, 4096)
            except OSError:  # EIO: the child closed the pty
                data = b""
            if not data:
                raise AssertionError(f"console ended before {marker!r}; got {bytes(seen[-600:])!r}")
            seen += data


def test_console_on_a_pty(cli: Cli, running: str) -> None:
    pid, fd = pty.fork()
    if pid == 0:  # the child: pyvirt console with the pty as its terminal
        try:
            os.execve(sys.executable, [*PYVIRT, "-c", "qemu:///session", "console", running], cli.env)
        finally:
            os._exit(127)
    seen = bytearray()
    try:
        _read_until(fd, f"Connected to domain '{running}'".encode(), seen, 60)
        _read_until(fd, b"Escape character is ^]", seen, 10)
        os.write(fd, b"\r")
        time.sleep(0.5)
        os.write(fd, b"echo hi-$((1+2))\r")
        _read_until(fd, b"hi-3", seen, 60)
        os.write(fd, b"\x1d")  # ^]: leave the console, the guest keeps running
        deadline = time.monotonic() + 30
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"console did not exit on ^]; got {bytes(seen[-600:])!r}")
            ready, _, _ = select.select([fd], [], [], 0.2)
            if ready:
                with contextlib.suppress(OSError):
                    seen += os.read(fd, 4096)
    finally:
        try:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0, bytes(seen[-600:])
    assert cli("domstate", running).stdout == "running\n\n"


def test_shutdown_destroy_undefine(cli: Cli, running: str) -> None:
    down = cli("shutdown", running)
    assert down.stdout == f"Domain '{running}' is being shutdown\n\n", down.stderr
    deadline = time.monotonic() + 120
    while cli("domstate", running).stdout != "shut off\n\n":
        assert time.monotonic() < deadline, "ACPI shutdown did not end in 'shut off'"
        time.sleep(1)
    assert cli("domstate", "--reason", running).stdout == "shut off (shutdown)\n\n"

    started = cli("start", running)
    assert started.returncode == 0, started.stderr
    destroyed = cli("destroy", running)
    assert destroyed.stdout == f"Domain '{running}' destroyed\n\n", destroyed.stderr
    assert cli("domstate", "--reason", running).stdout == "shut off (destroyed)\n\n"

    gone = cli("undefine", running)
    assert gone.stdout == f"Domain '{running}' has been undefined\n\n", gone.stderr
    missing = cli("dominfo", running)
    assert missing.returncode == 1
    assert missing.stderr.startswith(f"error: failed to get domain '{running}'\n")


# ------------------------------------------------------------------ no QEMU needed below

SMALL = ("<domain type='qemu'><name>{name}</name><memory unit='MiB'>64</memory><vcpu>2</vcpu>"
         "<os><type arch='x86_64' machine='pc'>hvm</type></os></domain>")


def test_dumpxml_inactive_and_edit(cli: Cli) -> None:
    xml_file = cli.workdir / "small.xml"
    xml_file.write_text(SMALL.format(name="e2e-edit"))
    assert cli("define", str(xml_file)).returncode == 0
    dumped = cli("dumpxml", "--inactive", "e2e-edit")
    assert dumped.returncode == 0, dumped.stderr
    assert dumped.stdout.startswith("<domain type='qemu'>\n  <name>e2e-edit</name>\n")
    assert "<vcpu placement='static'>2</vcpu>" in dumped.stdout

    script = cli.workdir / "ed.sh"
    script.write_text("#!/bin/sh\nsed -i 's|>2</vcpu>|>1</vcpu>|' \"$1\"\n")
    script.chmod(0o755)
    edited = cli("edit", "e2e-edit", env={"EDITOR": str(script)})
    assert edited.stdout == "Domain 'e2e-edit' XML configuration edited.\n\n", edited.stderr
    assert "<vcpu placement='static'>1</vcpu>" in cli("dumpxml", "--inactive", "e2e-edit").stdout
    unchanged = cli("edit", "e2e-edit", env={"EDITOR": "true"})
    assert unchanged.stdout == "Domain 'e2e-edit' XML configuration not changed.\n\n"
    plain = cli("dumpxml", "e2e-edit").stdout
    assert cli("dumpxml", "--update-cpu", "e2e-edit").stdout == plain  # a named custom CPU: nothing to update
    migratable = cli("dumpxml", "--migratable", "e2e-edit")  # pyvirt.daemon.xmlflags, unit-tested
    assert "<controller type='usb' index='0' model='piix3-uhci'>" in plain
    assert migratable.returncode == 0 and "<controller type='usb'" not in migratable.stdout, migratable
    assert cli("undefine", "e2e-edit").returncode == 0


def test_host_interfaces(cli: Cli) -> None:
    """iface-list/-mac/-name/-dumpxml against pyvirtd read this host's /sys/class/net."""
    listing = cli("iface-list", "--all")
    assert listing.returncode == 0, listing.stderr
    names = [ln.split()[0] for ln in listing.stdout.splitlines()[2:] if ln.strip()]
    assert names == sorted(p.name for p in Path("/sys/class/net").iterdir())
    mac = Path("/sys/class/net/lo/address").read_text().strip()
    assert cli("iface-mac", "lo").stdout.strip() == mac  # virsh ends it with a blank line
    xml = cli("iface-dumpxml", "lo", "--xpath", "//mac")  # a node set: virsh refuses string() results
    assert xml.stdout.strip() == f'<mac address="{mac}"/>', xml
    gone = cli("iface-mac", "no-such-if0")
    assert (gone.returncode, gone.stderr.splitlines()[0]) == (1, "error: failed to get interface 'no-such-if0'")


def test_domxml_to_native(cli: Cli) -> None:
    xml_file = cli.workdir / "native.xml"
    xml_file.write_text(SMALL.format(name="e2e-native"))
    native = cli("domxml-to-native", "qemu-argv", str(xml_file))
    assert native.returncode == 0, native.stderr
    line = native.stdout.rstrip("\n")
    assert "\n" not in line and native.stdout.endswith("\n\n")
    assert re.search(r"(^| )/\S*qemu-system-x86_64 ", line), line
    assert " -name guest=e2e-native" in line and " -m " in line and " -smp 2" in line
    assert line.startswith("LC_ALL=C ") or "HOME=" in line

    wrong = cli("domxml-to-native", "xen-xm", str(xml_file))
    assert wrong.returncode == 1
    assert wrong.stderr == "error: invalid argument: unsupported config type xen-xm\n"  # libvirtd 9.0's words
    back = cli("domxml-from-native", "qemu-argv", str(xml_file))  # libvirt 9.0 parses no argv any more
    assert (back.returncode, back.stderr) == (
        1, "error: this function is not supported by the connection driver: virConnectDomainXMLFromNative\n")


def test_unreachable_daemon_names_the_socket(tmp_path: Path) -> None:
    env = {**os.environ, "PYVIRT_STATE_ROOT": str(tmp_path)}
    proc = subprocess.run([*PYVIRT, "-c", "qemu:///system", "list"], capture_output=True, text=True, timeout=60,
                          env=env)
    assert proc.returncode == 1
    sock = tmp_path / "run" / "pyvirtd.sock"
    lines = proc.stderr.splitlines()
    assert lines[0] == "error: failed to connect to the hypervisor"
    assert len(lines) == 2 and lines[1].startswith(f"error: Failed to connect socket to '{sock}'"), proc.stderr
    assert proc.stdout == ""
