"""<cputune> on a real guest under TCG: pyvirtd pins each vCPU thread, the emulator's threads
and schedules them as the XML says, before the guest's vCPUs first run; what it cannot apply
(per-thread cgroup bandwidth) stops the start with the elements named."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pyvirt.api import PyvirtError
from pyvirt.testguest import TestGuest
from tests.daemon_harness import DaemonHarness, guest_xml

pytestmark = [pytest.mark.timeout(180),
              pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two host CPUs")]

TUNE = ("<vcpu>2</vcpu><cputune><vcpupin vcpu='0' cpuset='1'/><vcpupin vcpu='1' cpuset='0'/>"
        "<emulatorpin cpuset='0'/><vcpusched vcpus='1' scheduler='batch'/></cputune>")


def _threads(pid: int) -> dict[str, int]:
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        out[Path(f"/proc/{pid}/task/{tid}/comm").read_text().strip()] = int(tid)
    return out


def test_cputune_pins_and_schedules_threads(daemon: DaemonHarness, test_guest: TestGuest) -> None:
    conn = daemon.connect()
    conn.define_xml(guest_xml(test_guest, "tuned").replace("<vcpu>1</vcpu>", TUNE))
    conn.start("tuned")
    pid = next(p for p in daemon.qemu_pids())
    threads = _threads(pid)
    assert os.sched_getaffinity(threads["CPU 0/TCG"]) == {1}
    assert os.sched_getaffinity(threads["CPU 1/TCG"]) == {0}
    assert os.sched_getscheduler(threads["CPU 1/TCG"]) == os.SCHED_BATCH
    assert os.sched_getscheduler(threads["CPU 0/TCG"]) == os.SCHED_OTHER
    assert os.sched_getaffinity(pid) == {0}  # the main (emulator) thread
    xml = conn.get_xml("tuned")
    assert "<vcpupin vcpu='0' cpuset='1'/>" in xml and "<emulatorpin cpuset='0'/>" in xml
    conn.destroy("tuned")

    conn.define_xml(guest_xml(test_guest, "capped").replace("<vcpu>1</vcpu>", "<vcpu>1</vcpu><cputune>"
                                                           "<period>100000</period><quota>-1</quota></cputune>"))
    with pytest.raises(PyvirtError, match="<period>, <quota>: per-thread CPU bandwidth"):
        conn.start("capped")
