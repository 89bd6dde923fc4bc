"""`pyvirt event --loop` across a daemon restart (issue 10, defect 10): the disconnect is reported
as virsh reports it, and the loop goes on with the new daemon instead of ending as a "timeout"."""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
from pathlib import Path

from tests.daemon_harness import DaemonHarness
from tests.fakeqemu import make_emulator
from tests.security.fakedriver import domain_xml


def _lines(stream) -> queue.Queue[str]:
    """The lines of `stream` as they come, read by a thread (an empty string at its end): the test
    waits on each line it needs with a deadline instead of sleeping and hoping it came."""
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for line in stream:
            lines.put(line)
        lines.put("")

    threading.Thread(target=pump, daemon=True).start()
    return lines


def _until(lines: queue.Queue[str], text: str | None, seen: list[str], timeout: float = 60) -> None:
    """Lines into `seen` until one holds `text` (None: until the end of the stream)."""
    while True:
        line = lines.get(timeout=timeout)
        if not line:
            assert text is None, f"{text!r} never came: {''.join(seen)!r}"
            return
        seen.append(line)
        if text is not None and text in line:
            return


def test_event_loop_survives_a_daemon_restart(tmp_path: Path) -> None:
    harness = DaemonHarness(tmp_path)
    harness.start()
    watcher = None
    seen: list[str] = []
    try:
        emu = make_emulator(tmp_path)
        with harness.new_subscriptions(1):
            watcher = subprocess.Popen([sys.executable, "-m", "pyvirt.cli.main", "-c", "qemu:///session", "event",
                                        "--all", "--loop", "--timeout", "120"], env=harness.env(), text=True,
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        lines = _lines(watcher.stdout)
        harness.connect().define_xml(domain_xml("before", emu))
        _until(lines, "'before'", seen)
        with harness.new_subscriptions(1):  # the watcher subscribes again to the new daemon
            harness.stop()
            harness.start()
        harness.connect().define_xml(domain_xml("after", emu))
        _until(lines, "'after'", seen)
        watcher.terminate()
        _until(lines, None, seen)  # whatever it printed on its way out, too
        watcher.wait(timeout=30)
        err = watcher.stderr.read()
    finally:
        if watcher is not None and watcher.poll() is None:
            watcher.kill()
        harness.stop()
    out = "".join(seen)
    assert "event 'lifecycle' for domain 'before': Defined Added" in out
    assert "event 'lifecycle' for domain 'after': Defined Added" in out, (out, err)
    assert "error: Disconnected from qemu:///session due to end of file" in err
    assert "timed out" not in out
