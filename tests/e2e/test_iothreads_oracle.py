"""Oracle test for IOThread ids on the QEMU driver: the same virsh lines through the real virsh
against a session libvirtd 9.0 and through pyvirt against pyvirtd must print the same.

What it pins down is libvirt's ``<iothreadids>`` rule (virDomainDefIothreadShouldFormat and
virDomainIOThreadIDDel): ids its parser filled in for ``<iothreads>N`` stay unwritten, a
--config change writes them all (libvirt's QEMU driver edits a re-parsed copy), and a live
delete makes the ids after the deleted one written ones.  The guests start paused: QEMU runs
its IOThreads without booting anything."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.daemon_harness import DaemonHarness
from tests.libvirtd_oracle import Libvirtd, differing_lines, session_libvirtd, session_pyvirtd, shared_workdir

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
    yield from shared_workdir("pyvirt-iothreads-oracle-", {f"io{n}.xml": _doc(f"io{n}", n) for n in (1, 2)})


@pytest.fixture(scope="module")
def libvirtd() -> Iterator[Libvirtd]:
    yield from session_libvirtd()


@pytest.fixture(scope="module")
def pyvirtd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonHarness]:
    yield from session_pyvirtd(tmp_path_factory.mktemp("iothreads"))  # type: ignore[misc]


def test_iothread_ids_match_libvirtd(libvirtd: Libvirtd, pyvirtd: DaemonHarness, workdir: Path) -> None:
    assert differing_lines(libvirtd, PYVIRT, pyvirtd.env(), SEQUENCES, workdir) == []
