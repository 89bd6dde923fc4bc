"""Private network namespaces for tests that create bridges, taps, dnsmasq or nft rules.

Such tests never touch the host's own namespace: each makes a named namespace of its own
(``ip netns add pyvirt-t<pid>-<n>``), runs what it needs inside it with ``ip netns exec`` and
deletes it afterwards, ending only the processes it started there.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress

_counter = 0


def available() -> str | None:
    """Why namespaces cannot be used here, or None when they can."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    for tool in ("ip", "nft", "dnsmasq"):
        if shutil.which(tool) is None and not os.path.exists(f"/usr/sbin/{tool}"):
            return f"{tool} is not installed (make deps)"
    return None


class NetNS:
    def __init__(self, name: str) -> None:
        self.name = name

    def cmd(self, *argv: str) -> list[str]:
        return ["ip", "netns", "exec", self.name, *argv]

    def run(self, *argv: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.cmd(*argv), capture_output=True, text=True, check=check, timeout=timeout)

    def pids(self) -> list[int]:
        out = subprocess.run(["ip", "netns", "pids", self.name], capture_output=True, text=True).stdout
        return [int(p) for p in out.split()]


@contextmanager
def netns() -> Iterator[NetNS]:
    """A fresh namespace with loopback up; on exit its processes are ended and it is deleted."""
    global _counter
    _counter += 1
    ns = NetNS(f"pyvirt-t{os.getpid()}-{_counter}")
    subprocess.run(["ip", "netns", "add", ns.name], check=True)
    try:
        ns.run("ip", "link", "set", "lo", "up")
        yield ns
    finally:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in ns.pids():  # only processes inside this test's own namespace
                with suppress(ProcessLookupError):
                    os.kill(pid, sig)
            time.sleep(0.2)
        subprocess.run(["ip", "netns", "del", ns.name], check=False)
