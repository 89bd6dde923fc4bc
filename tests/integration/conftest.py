"""The private pyvirtd most integration tests run against (tests/daemon_harness.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.daemon_harness import DaemonHarness


@pytest.fixture
def daemon(tmp_path: Path, qemu_binary: str) -> Iterator[DaemonHarness]:
    """A pyvirtd with its own state root; stopped, and any guest it left killed, afterwards."""
    harness = DaemonHarness(tmp_path)
    harness.start()
    try:
        yield harness
    finally:
        harness.stop()
        harness.kill_all_guests()
