"""Oracle tests for individual vCPUs (``<vcpus>``) in definitions: the same virsh lines
through the real virsh and through pyvirt must give the same stdout, stderr and exit status.

Two oracles, both run here (nothing of virsh's output is written down in this file):
- a session libvirtd 9.0 (private folder, as ``nobody`` when root, own network namespace) next to
  a pyvirtd session daemon: define-time rules (the list made whole, ``current`` derived, the
  QEMU driver's refusals), setvcpu/setvcpus ``--config`` (which vCPUs change, hot-pluggable or
  not, orders cleared), vcpucount and vcpuinfo of a shut-off domain;
- ``test:///default``: libvirt's test driver takes what only the QEMU driver refuses, changes a
  list through setvcpus its own way, and has no setvcpu.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.daemon_harness import DaemonHarness
from tests.libvirtd_oracle import (
    Libvirtd,
    differing_lines,
    run_line,
    session_libvirtd,
    session_pyvirtd,
    shared_workdir,
)

VIRSH = shutil.which("virsh")
pytestmark = pytest.mark.skipif(VIRSH is None, reason="virsh (libvirt-clients) not installed")
PYVIRT = [sys.executable, "-m", "pyvirt.cli.main"]


def _doc(name: str, vcpus: str) -> str:
    uuid = f"bbbbbbbb-0000-4000-8000-{name.encode().hex():0>12}"
    return (f"<domain type='qemu'><name>{name}</name><uuid>{uuid}</uuid>"
            f"<memory unit='MiB'>64</memory>{vcpus}<os><type arch='x86_64'>hvm</type></os></domain>")


def _v(n: int, enabled: str, extra: str = "") -> str:
    return f"<vcpu id='{n}' enabled='{enabled}'{extra}/>"


HP, NOHP = " hotpluggable='yes'", " hotpluggable='no'"
DOCS = {
    # the list made whole, current derived (a given current ignored), later ids win, order kept
    "a.xml": _doc("va", f"<vcpu current='3'>4</vcpu><vcpus>{_v(0, 'yes')}{_v(1, 'yes')}{_v(1, 'no')}"
                        f"{_v(2, 'no', HP + ' order=' + repr('2'))}</vcpus>"),
    "b.xml": _doc("vbb", "<vcpu current='2'>4</vcpu>"),  # no list: setvcpu makes one
    "c.xml": _doc("vccc", f"<vcpu>4</vcpu><vcpus>{_v(0, 'yes', NOHP + ' order=' + repr('1'))}"
                          f"{_v(1, 'yes', HP + ' order=' + repr('3'))}{_v(3, 'yes', HP + ' order=' + repr('2'))}"
                          "</vcpus>"),
    "d.xml": _doc("vdddd", "<vcpu current='3'>4</vcpu>"),
    "e.xml": _doc("veeeee", "<vcpu>2</vcpu><vcpus></vcpus>"),
    # refusals: generic parser, then the QEMU driver's
    "bad1.xml": _doc("x1", f"<vcpu>4</vcpu><vcpus>{_v(0, 'yes')}{_v(4, 'yes')}</vcpus>"),
    "bad2.xml": _doc("x2", f"<vcpu>4</vcpu><vcpus>{_v(0, 'yes')}<vcpu id='1'/></vcpus>"),
    "bad3.xml": _doc("x3", f"<vcpu>4</vcpu><vcpus>{_v(0, 'yes')}{_v(1, 'no', NOHP)}</vcpus>"),
    "bad4.xml": _doc("x4", f"<vcpu>4</vcpu><vcpus>{_v(0, 'no')}{_v(1, 'yes')}</vcpus>"),
    "bad5.xml": _doc("x5", f"<vcpu>4</vcpu><vcpus>{_v(0, 'yes', HP)}</vcpus>"),
    "bad6.xml": _doc("x6", f"<vcpu>4</vcpu><vcpus>{_v(0, 'yes', ' order=' + repr('1'))}{_v(1, 'yes', HP)}</vcpus>"),
    "bad7.xml": _doc("x7", f"<vcpu>4</vcpu><vcpus>{_v(0, 'yes', ' order=' + repr('2'))}"
                           f"{_v(1, 'yes', HP + ' order=' + repr('1'))}</vcpus>"),
    "bad8.xml": _doc("x8", "<vcpu>2</vcpu><vcpus><vcpu enabled='yes'/></vcpus>"),
}
SHOW = "dumpxml {0} --inactive --xpath '/domain/vcpu|/domain/vcpus'; vcpucount {0}"

#: each line is one run of each tool (commands separated by ';' run in one virsh process)
QEMU_SEQUENCES = [
    "define a.xml; define b.xml; define c.xml; define d.xml; define e.xml",
    "; ".join(SHOW.format(d) for d in ("va", "vbb", "vccc", "vdddd", "veeeee")),
    "define bad1.xml; define bad2.xml; define bad3.xml; define bad4.xml; define bad5.xml; define bad6.xml; "
    "define bad7.xml; define bad8.xml",
    "vcpuinfo va; vcpuinfo vccc",
    # setvcpu --config: vCPU 0 stays, non-hotpluggable ones stay first, bitmap words
    "setvcpu vdddd 1 --disable --config; setvcpu vdddd 0 --enable --config; setvcpu vdddd 9 --enable --config; "
    "setvcpu vdddd 2 --disable --config; " + SHOW.format("vdddd"),
    "setvcpu vdddd 1-2 --disable --config; setvcpu vdddd 3 --enable; setvcpu vdddd x --enable; "
    "setvcpu vdddd 1,3 --disable --live; " + SHOW.format("vdddd"),
    "setvcpu vbb 3 --enable --config; " + SHOW.format("vbb"),
    "setvcpu vccc 2 --enable --config; " + SHOW.format("vccc"),
    # setvcpus --config over a list: lowest free first, hot-pluggable after a hot-pluggable one
    "setvcpus vdddd 3 --config; " + SHOW.format("vdddd") + "; setvcpus vdddd 4 --config --hotpluggable; "
    + SHOW.format("vdddd"),
    "setvcpus va 1 --config; " + SHOW.format("va") + "; setvcpus va 3 --config; " + SHOW.format("va"),
    # (a list grown by --maximum differs until libvirtd restarts: its new entries are written without
    # hotpluggable='yes' until the definition is parsed again; pyvirtd parses it again at once)
    "setvcpus va 2 --config --maximum; " + SHOW.format("va"),
    "setvcpus vbb 4 --config --hotpluggable; " + SHOW.format("vbb"),
    "undefine va; undefine vbb; undefine vccc; undefine vdddd; undefine veeeee",
]

#: libvirt's test driver: the same documents, all in one run (its state lives in the process)
TEST_DRIVER_LINE = "; ".join([
    "define a.xml", "define c.xml", "define d.xml", "define bad1.xml", "define bad3.xml", "define bad4.xml",
    "define bad6.xml", SHOW.format("va"), SHOW.format("vccc"),
    "setvcpus va 3 --config", SHOW.format("va"), "setvcpus va 6 --config --maximum", SHOW.format("va"),
    "setvcpus va 1 --config --maximum", SHOW.format("va"), "setvcpu vdddd 1 --disable --config",
    "setvcpus vccc 1 --config", SHOW.format("vccc"),
])


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    yield from shared_workdir("pyvirt-vcpus-oracle-", DOCS)


def test_test_driver_matches_libvirts(workdir: Path) -> None:
    env = {**os.environ, "LC_ALL": "C"}
    theirs = run_line([VIRSH or "virsh", "-c", "test:///default"], TEST_DRIVER_LINE, workdir, env)
    ours = run_line([*PYVIRT, "-c", "test:///default"], TEST_DRIVER_LINE, workdir, env)
    assert ours == theirs
    assert "<vcpus>" in theirs[0] and "not supported by the connection driver: virDomainSetVcpu" in theirs[1]


@pytest.fixture(scope="module")
def libvirtd() -> Iterator[Libvirtd]:
    yield from session_libvirtd()


@pytest.fixture(scope="module")
def pyvirtd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonHarness]:
    yield from session_pyvirtd(tmp_path_factory.mktemp("vcpus"))  # type: ignore[misc]


def test_definitions_match_libvirtd(libvirtd: Libvirtd, pyvirtd: DaemonHarness, workdir: Path) -> None:
    assert differing_lines(libvirtd, [*PYVIRT, "-c", "qemu:///session"], pyvirtd.env(), QEMU_SEQUENCES, workdir) == []
