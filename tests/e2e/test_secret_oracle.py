"""Oracle tests for the Secret commands: the same command lines through the real virsh and
through pyvirt must give the same stdout, stderr and exit status.

Two oracles, both run in the test (nothing of virsh's output is written down here):
- ``test:///default``: libvirt's test driver has no secrets, so every command fails there, and
  pyvirt's test driver must fail the same way (virsh's fallbacks included);
- a real secret driver: libvirtd in session mode, started by the test in a private state folder
  (as ``nobody`` when the test runs as root, inside its own network namespace when it can), next
  to a pyvirtd session daemon.  The documents carry fixed UUIDs so both print the same.
The secret values the sequences set must never show in pyvirtd's log.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.daemon_harness import DaemonHarness
from tests.libvirtd_oracle import Libvirtd, session_libvirtd

VIRSH = shutil.which("virsh")
pytestmark = pytest.mark.skipif(VIRSH is None, reason="virsh (libvirt-clients) not installed")
PYVIRT = [sys.executable, "-m", "pyvirt.cli.main"]

U = "aaaaaaaa-0000-4000-8000-00000000000{}"
DOCS = {
    "s1.xml": f"<secret ephemeral='no' private='no'><uuid>{U.format(1)}</uuid><description>disk one &amp; "
              "'two'</description><usage type='volume'><volume>/var/lib/img/one.qcow2</volume></usage></secret>",
    "s2.xml": f"<secret ephemeral='yes' private='yes'><uuid>{U.format(2)}</uuid>"
              "<usage type='ceph'><name>client.admin</name></usage></secret>",
    "s3.xml": "<secret private='yes'><uuid>AAAAAAAA0000-4000-8000-00000000 0003</uuid>"
              "<usage type='iscsi'><target>iqn.2026-11.org.example:t</target></usage></secret>",
    "s4.xml": f"<secret><uuid>{U.format(4)}</uuid><usage type='tls'><name>web</name></usage></secret>",
    "s5.xml": f"<secret><uuid>{U.format(5)}</uuid><usage type='ceph'><name>client.admin</name></usage></secret>",
    "s6.xml": f"<secret private='no'><uuid>{U.format(2)}</uuid><usage type='ceph'><name>client.admin</name></usage>"
              "</secret>",
    "s7.xml": f"<secret private='yes'><uuid>{U.format(2)}</uuid><usage type='ceph'><name>client.admin</name></usage>"
              "</secret>",
    "s8.xml": f"<secret private='yes'><uuid>{U.format(2)}</uuid><usage type='tls'><name>other</name></usage></secret>",
    "s9.xml": f"<secret><uuid>{U.format(9)}</uuid><usage type='vtpm'><name>vm-tpm</name></usage></secret>",
    "bad1.xml": "<secret ephemeral='x'/>",
    "bad2.xml": "<secret><usage type='tls'/></secret>",
    "bad3.xml": "<secret><usage type='nope'><name>a</name></usage></secret>",
    "bad4.xml": "<secret><uuid>zz</uuid></secret>",
    "bad5.xml": "<domain/>",
    "bad6.xml": "<secret><usage><name>a</name></usage></secret>",
    "bad7.xml": "<secret><usage type='volume'><volume></volume></usage></secret>",
}
#: the values set below: none of them may reach pyvirtd's log
VALUES = {"v64": b"aGVs\nbG8=\n", "vraw": b"raw\0bytes\n", "big": b"\0" * 1025}

#: each line is one run of each tool (commands separated by ';' run in one virsh process)
SEQUENCES = [
    "secret-list; secret-event --list; secret-event; secret-event --event bogus",
    "secret-define s1.xml; secret-define s2.xml; secret-define s3.xml; secret-define s4.xml; secret-define s5.xml; "
    "secret-define s9.xml",
    "secret-define bad1.xml; secret-define bad2.xml; secret-define bad3.xml; secret-define bad4.xml; "
    "secret-define bad5.xml; secret-define bad6.xml; secret-define bad7.xml; secret-define nonexist.xml",
    "secret-list; secret-list --ephemeral; secret-list --no-ephemeral; secret-list --private; "
    "secret-list --no-private; secret-list --private --no-ephemeral; secret-list --private --no-private",
    f"secret-dumpxml {U.format(1)}; secret-dumpxml AAAAAAAA-0000-4000-8000-000000000003; "
    f"secret-dumpxml {U.format(8)}; secret-dumpxml nosuch; secret-dumpxml {U.format(1)} --xpath //volume; "
    f"secret-dumpxml {U.format(4)} --xpath //usage/@type --wrap",
    f"secret-get-value {U.format(1)}; secret-set-value {U.format(1)}; secret-set-value {U.format(1)} --base64 aGVsbG8=",
    f"secret-get-value {U.format(1)}",
    f"secret-get-value {U.format(1)} --plain",
    f"secret-set-value {U.format(1)} --file v64; secret-get-value {U.format(1)}",
    f"secret-set-value {U.format(1)} --file vraw --plain; secret-get-value {U.format(1)}",
    f"secret-get-value {U.format(1)} --plain",
    f"secret-set-value {U.format(1)} --file big; secret-set-value {U.format(1)} --file nonexist; "
    f"secret-set-value {U.format(1)} --base64 '!!!'; secret-set-value {U.format(1)} --base64 ''; "
    f"secret-set-value {U.format(1)} --base64 a --file v64; secret-set-value {U.format(1)} --interactive --plain; "
    f"secret-set-value nosuch --base64 aGk=",
    f"secret-set-value {U.format(1)} --interactive",
    f"secret-set-value {U.format(2)} --base64 c2VjcmV0; secret-get-value {U.format(2)}; secret-get-value {U.format(4)}",
    "secret-define s6.xml; secret-define s8.xml; secret-define s7.xml; secret-list --ephemeral",
    f"secret-undefine {U.format(2)}; secret-undefine {U.format(2)}; secret-undefine aaaaaaaa000040008000000000000003; "
    f"secret-undefine {U.format(4).upper()}; secret-list",
    "secret-event --event lifecycle --secret nosuch --timeout 1",
    f"secret-undefine {U.format(1)}; secret-undefine {U.format(5)}; secret-undefine {U.format(9)}; secret-list",
]

#: what libvirt's test driver is asked (it has no secrets: every command fails its own way)
TEST_DRIVER_LINES = [
    "secret-list", "secret-list --ephemeral", "secret-list --no-private",
    "secret-define {dir}/s1.xml", "secret-define /nonexistent.xml",
    f"secret-dumpxml {U.format(1)}", "secret-dumpxml nosuch", f"secret-undefine {U.format(1)}",
    f"secret-get-value {U.format(1)} --plain", "secret-get-value nosuch",
    f"secret-set-value {U.format(1)} --base64 aGk=", "secret-set-value nosuch",
    f"secret-set-value {U.format(1)} --file a --base64 b",
    "secret-event --list", "secret-event", "secret-event --event lifecycle --timeout 1",
    "secret-event --event value-changed --secret nosuch --timeout 1",
]


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    """Documents and value files every tool may read (a libvirtd running as nobody too)."""
    d = Path(tempfile.mkdtemp(prefix="pyvirt-secret-oracle-"))
    os.chmod(d, 0o755)
    for name, text in DOCS.items():
        (d / name).write_text(text)
    for name, data in VALUES.items():
        (d / name).write_bytes(data)
    for p in d.iterdir():
        os.chmod(p, 0o644)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def _run(cmd: list[str], line: str, cwd: Path, env: dict[str, str] | None = None) -> tuple[str, str, int]:
    proc = subprocess.run([*cmd, line], capture_output=True, timeout=120, cwd=cwd, env=env,
                          stdin=subprocess.DEVNULL)
    return proc.stdout.decode("latin-1"), proc.stderr.decode("latin-1"), proc.returncode


def test_test_driver_fails_as_libvirts(workdir: Path) -> None:
    """All lines in one run of each tool (virsh goes on after a failed command)."""
    env = {**os.environ, "LC_ALL": "C"}
    line = "; ".join(TEST_DRIVER_LINES).format(dir=workdir)
    theirs = _run([VIRSH or "virsh", "-c", "test:///default"], line, workdir, env)
    ours = _run([*PYVIRT, "-c", "test:///default"], line, workdir, env)
    assert ours == theirs
    assert theirs[1].count("error: ") >= len(TEST_DRIVER_LINES) - 1  # each failed (--list does not)


# ------------------------------------------------------------------------------------ a real libvirtd
@pytest.fixture(scope="module")
def libvirtd() -> Iterator[Libvirtd]:
    yield from session_libvirtd()


@pytest.fixture(scope="module")
def pyvirtd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonHarness]:
    harness = DaemonHarness(tmp_path_factory.mktemp("secrets"))
    harness.start()
    yield harness
    harness.stop()


def test_secret_commands_match_libvirtd(libvirtd: Libvirtd, pyvirtd: DaemonHarness, workdir: Path) -> None:
    env = {**pyvirtd.env(), "LC_ALL": "C"}
    differ = []
    for line in SEQUENCES:
        theirs = _run(libvirtd.virsh(), line, workdir)
        ours = _run([*PYVIRT, "-c", "qemu:///session"], line, workdir, env)
        if ours != theirs:
            differ.append((line, theirs, ours))
    for line, theirs, ours in differ:
        print(f"{line}\n--- virsh: {theirs!r}\n--- pyvirt: {ours!r}")
    assert [d[0] for d in differ] == []
    log = pyvirtd.log_text()
    for secret in ("aGVsbG8", "hello", "c2VjcmV0", "raw\0bytes", "cmF3AGJ5dGVz"):
        assert secret not in log


def test_secret_state_files_are_private(pyvirtd: DaemonHarness, workdir: Path) -> None:
    env = {**pyvirtd.env(), "LC_ALL": "C"}
    _, err, rc = _run([*PYVIRT, "-c", "qemu:///session"], f"secret-define s4.xml; secret-set-value {U.format(4)} "
                      "--file v64", workdir, env)
    assert rc == 0, err
    folder = Path(pyvirtd.root) / "config" / "secrets"
    assert oct(folder.stat().st_mode & 0o777) == "0o700"
    files = sorted(folder.iterdir())
    assert [p.name for p in files] == [f"{U.format(4)}.base64", f"{U.format(4)}.xml"]
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in files)
    _run([*PYVIRT, "-c", "qemu:///session"], f"secret-undefine {U.format(4)}", workdir, env)
    assert list(folder.iterdir()) == []
