"""<vcpu cpuset>: libvirt's syntax, and the daemon's pinning of every QEMU thread."""

from __future__ import annotations

import os
import subprocess

import pytest

from pyvirt.qemu.process import pin_all_threads
from pyvirt.xml.errors import XMLError
from pyvirt.xml.validate import parse_cpuset


def test_cpuset_syntax() -> None:
    assert parse_cpuset("0-3,^2,8") == {0, 1, 3, 8}
    assert parse_cpuset("1") == {1}
    for bad in ("", "a", "3-1", "0,,1", "^1", "0-99999"):
        with pytest.raises(XMLError):
            parse_cpuset(bad)


def test_pin_all_threads_sets_every_thread_affinity() -> None:
    cpu = min(os.sched_getaffinity(0))
    proc = subprocess.Popen(["sleep", "30"])
    try:
        pin_all_threads(proc.pid, frozenset({cpu}))
        assert os.sched_getaffinity(proc.pid) == {cpu}
    finally:
        proc.kill()
        proc.wait()
