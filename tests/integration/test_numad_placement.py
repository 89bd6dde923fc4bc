"""placement='auto' on a real guest under TCG: pyvirtd asks numad (a fake one on the daemon's
PATH: the real numad may start its own daemon on the host) for the host nodes, binds the
guest's RAM to them on QEMU's command line and pins every QEMU thread to their CPUs before the
guest first runs."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyvirt.testguest import TestGuest
from tests.daemon_harness import DaemonHarness, guest_xml, running

pytestmark = pytest.mark.timeout(180)

AUTO = "<vcpu placement='auto'>1</vcpu><numatune><memory mode='strict' placement='auto'/></numatune>"


@pytest.fixture
def numad_daemon(tmp_path: Path, qemu_binary: str) -> Iterator[DaemonHarness]:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "numad").write_text(f'#!/bin/sh\necho "$@" > {tmp_path}/numad-args\necho 0\n')
    (bindir / "numad").chmod(0o755)
    (tmp_path / "d").mkdir()
    with running(DaemonHarness(tmp_path / "d", env={"PATH": f"{bindir}:{os.environ['PATH']}"})) as harness:
        yield harness


def test_auto_placement_binds_and_pins_to_numad_nodes(numad_daemon: DaemonHarness, test_guest: TestGuest,
                                                      tmp_path: Path) -> None:
    node0 = Path("/sys/devices/system/node/node0/cpulist")
    if not node0.exists():
        pytest.skip("the host kernel shows no NUMA node 0")
    from pyvirt.xml.validate import parse_cpuset

    cpus = parse_cpuset(node0.read_text().strip())
    conn = numad_daemon.connect()
    conn.define_xml(guest_xml(test_guest, "auto").replace("<vcpu>1</vcpu>", AUTO))
    conn.start("auto")
    try:
        pid = next(p for p in numad_daemon.qemu_pids())
        assert (tmp_path / "numad-args").read_text().split()[0] == "-w"
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        ram = next(json.loads(v) for v in argv if v.startswith(b'{"qom-type":"memory-backend'))
        assert (ram["host-nodes"], ram["policy"]) == ([0], "bind")
        for tid in os.listdir(f"/proc/{pid}/task"):
            assert os.sched_getaffinity(int(tid)) == cpus
    finally:
        conn.destroy("auto")
