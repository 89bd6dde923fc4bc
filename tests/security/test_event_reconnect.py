"""`pyvirt event --loop` across a daemon restart (issue 10, defect 10): the disconnect is reported
as virsh reports it, and the loop goes on with the new daemon instead of ending as a "timeout"."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from tests.daemon_harness import DaemonHarness
from tests.fakeqemu import make_emulator
from tests.security.fakedriver import domain_xml


def test_event_loop_survives_a_daemon_restart(tmp_path: Path) -> None:
    harness = DaemonHarness(tmp_path)
    harness.start()
    watcher = None
    try:
        emu = make_emulator(tmp_path)
        watcher = subprocess.Popen([sys.executable, "-m", "pyvirt.cli.main", "-c", "qemu:///session", "event",
                                    "--all", "--loop", "--timeout", "30"], env=harness.env(), text=True,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(1.5)  # subscribed
        harness.connect().define_xml(domain_xml("before", emu))
        time.sleep(0.5)
        harness.stop()
        harness.start()
        time.sleep(1.0)  # the watcher re-subscribes (it polls every 0.2 s)
        harness.connect().define_xml(domain_xml("after", emu))
        time.sleep(1.0)
        watcher.terminate()
        out, err = watcher.communicate(timeout=10)
    finally:
        if watcher is not None and watcher.poll() is None:
            watcher.kill()
        harness.stop()
    assert "event 'lifecycle' for domain 'before': Defined Added" in out
    assert "event 'lifecycle' for domain 'after': Defined Added" in out, (out, err)
    assert "error: Disconnected from qemu:///session due to end of file" in err
    assert "timed out" not in out
