"""Start a built command line under real QEMU without pyvirtd's fd-passed monitor (``-S``, no
monitor) and check it stays up: the integration tests' "QEMU accepts this line" check."""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Iterator


def without_monitor(argv: list[str]) -> list[str]:
    """`argv` with its fd-passed ``-chardev``/``-mon`` pair replaced by ``-monitor none``."""
    at = argv.index("-mon")
    out = [a for i, a in enumerate(argv) if i not in (at, at + 1, at - 2, at - 1)] + ["-monitor", "none"]
    assert "charmonitor" not in " ".join(out)
    return out


@contextlib.contextmanager
def running(argv: list[str], seconds: float = 2.0) -> Iterator[subprocess.Popen[bytes]]:
    """QEMU on `argv` (monitor removed), asserted alive after `seconds`; killed on exit."""
    proc = subprocess.Popen(without_monitor(argv), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
        assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
        yield proc
    finally:
        proc.kill()
        proc.wait()
