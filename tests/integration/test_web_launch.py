"""`make demo`'s web UI (pyvirt.web.launch): started once in the background for a URI, found
again by a second start, reachable at the URL it prints, stopped by its own recorded pid."""

from __future__ import annotations

import time
import urllib.request

import pytest

from pyvirt.web import launch
from tests.daemon_harness import DaemonHarness


def test_start_reuse_stop(daemon: DaemonHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYVIRT_STATE_ROOT", str(daemon.root))
    monkeypatch.setattr(launch, "PORT", 0)  # never the real 8090 of a running demo
    url = launch.start(daemon.uri)
    try:
        assert url.startswith("http://127.0.0.1:") and "/login?token=" in url
        assert launch.start(daemon.uri) == url  # the same process, not a second one
        with urllib.request.urlopen(url.split("/login")[0] + "/login", timeout=10) as page:
            assert b"Login token" in page.read()
        pid_file, url_file, _ = launch._files(daemon.uri)
        assert oct(url_file.stat().st_mode & 0o777) == "0o600"
        pid = int(pid_file.read_text())
    finally:
        assert launch.stop(daemon.uri)
    deadline = time.monotonic() + 10
    while is_web(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not is_web(pid)  # SIGTERM ended it
    assert launch.running_url(daemon.uri) is None
    assert not launch.stop(daemon.uri)  # nothing left to stop


def is_web(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return b"pyvirt.web.main" in f.read()
    except OSError:
        return False
