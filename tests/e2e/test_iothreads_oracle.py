"""Oracle test for IOThread ids on the QEMU driver: the same virsh lines through the real virsh
against a session libvirtd 9.0 and through pyvirt against pyvirtd must print the same.

What it pins down is libvirt's ``<iothreadids>`` rule (virDomainDefIothreadShouldFormat and
virDomainIOThreadIDDel): ids its parser filled in for ``<iothreads>N`` stay unwritten, a
--config change writes them all (libvirt's QEMU driver edits a re-parsed copy), and a live
delete makes the ids after the deleted one written ones.  The guests start paused: QEMU runs
its IOThreads without booting anything."""

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
pytestmark = [pytest.mark.qemu, pytest.mark.skipif(VIRSH is None, reason="virsh (libvirt-clients) not installed")]
PYVIRT = [sys.executable, "-m", "pyvirt.cli.main", "-c", "qemu:///session"]
IDS = "--xpath '/domain/iothreads|/domain/iothreadids'"


def _doc(name: str, n: int) -> str:
    return (f"<domain type='qemu'><name>{name}</name><uuid>cccccccc-0000-4000-8000-00000000000{n}</uuid>"
            "<memory unit='MiB'>64</memory><vcpu>1</vcpu><iothreads>2</iothreads>"
            "<os><type arch='x86_64' machine='pc'>hvm</type></os><devices/></domain>")


SEQUENCES = [
    "define io1.xml; define io2.xml",
    f"iothreadadd io1 7 --config; dumpxml io1 --inactive {IDS}; iothreaddel io1 7 --config; "
    f"dumpxml io1 --inactive {IDS}; iothreaddel io1 1 --config; dumpxml io1 --inactive {IDS}",
    f"start io2 --paused; iothreadadd io2 5 --live; dumpxml io2 {IDS}; iothreaddel io2 5 --live; dumpxml io2 {IDS}; "
    f"iothreaddel io2 1 --live; dumpxml io2 {IDS}; dumpxml io2 --inactive {IDS}; destroy io2",
    "undefine io1; undefine io2",
]


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    d = Path(tempfile.mkdtemp(prefix="pyvirt-iothreads-oracle-"))
    os.chmod(d, 0o755)
    for n in (1, 2):
        (d / f"io{n}.xml").write_text(_doc(f"io{n}", n))
        os.chmod(d / f"io{n}.xml", 0o644)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def libvirtd() -> Iterator[Libvirtd]:
    yield from session_libvirtd()


@pytest.fixture(scope="module")
def pyvirtd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonHarness]:
    harness = DaemonHarness(tmp_path_factory.mktemp("iothreads"))
    harness.start()
    yield harness
    harness.stop()


def _run(cmd: list[str], line: str, cwd: Path, env: dict[str, str] | None = None) -> tuple[str, str, int]:
    proc = subprocess.run([*cmd, line], capture_output=True, timeout=120, cwd=cwd, env=env,
                          stdin=subprocess.DEVNULL)
    return proc.stdout.decode("latin-1"), proc.stderr.decode("latin-1"), proc.returncode


def test_iothread_ids_match_libvirtd(libvirtd: Libvirtd, pyvirtd: DaemonHarness, workdir: Path) -> None:
    env = {**pyvirtd.env(), "LC_ALL": "C"}
    differ = []
    for line in SEQUENCES:
        theirs = _run(libvirtd.virsh(), line, workdir)
        ours = _run(PYVIRT, line, workdir, env)
        if ours != theirs:
            differ.append((line, theirs, ours))
    for line, theirs, ours in differ:
        print(f"{line}\n--- virsh: {theirs!r}\n--- pyvirt: {ours!r}")
    assert [d[0] for d in differ] == []
