"""The firmware-only guest for start-up benchmarks, and a private libvirtd to compare against.

The guest is pyvirt.testguest's 64 KiB ROM (``<loader type='rom'>``, QEMU's ``-bios``) whose first
instructions write a marker to COM1: no kernel, no disk, so "start -> marker" is QEMU's own
start-up plus the management stack's path, with a few ms of noise instead of a kernel boot's ±500.

The serial port is a file (``<serial type='file'>``): the bench waits for the marker in that file
for all three stacks alike (bare QEMU, pyvirt, libvirt), polling it every 0.5 ms.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from _common import terminate

from pyvirt.testguest import ROM_MARKER, rom_domain_xml, rom_image

__all__ = ["ROM_MARKER", "SessionLibvirtd", "rom_domain_xml", "session_libvirtd", "wait_file_marker", "write_rom"]


def write_rom(path: Path) -> Path:
    path.write_bytes(rom_image())
    path.chmod(0o644)
    return path


def wait_file_marker(path: Path, marker: str = ROM_MARKER, timeout: float = 30.0,
                     proc: subprocess.Popen[bytes] | None = None) -> float:
    """perf_counter stamp of the first poll that finds *marker* in *path* (which the caller
    removed before starting the guest, so an old run's marker cannot match)."""
    needle = marker.encode()
    deadline = time.monotonic() + timeout
    while True:
        try:
            with open(path, "rb") as fh:
                if needle in fh.read(65536):
                    return time.perf_counter()
        except FileNotFoundError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{marker!r} did not appear in {path}")
        if proc is not None and proc.poll() not in (None, 0):
            raise RuntimeError(f"{proc.args!r} failed with exit code {proc.returncode}")
        time.sleep(0.0005)


# ---------------------------------------------------------------------------- a private libvirtd

class SessionLibvirtd:
    """libvirtd in session mode, as an unprivileged user, in its own network namespace.

    Nothing it does can touch the host's libvirtd, bridges or firewall: its state lives under
    *root*, its network namespace is empty, and it runs as *user* (``nobody`` by default) since
    libvirtd run by root is always the system daemon. virsh (run by root) reaches it through
    the socket path in the URI.
    """

    def __init__(self, root: Path, user: str = "nobody") -> None:
        self.root = root
        self.user = pwd.getpwnam(user)
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def socket(self) -> Path:
        return self.root / "run" / "libvirt" / "libvirt-sock"

    @property
    def uri(self) -> str:
        return f"qemu+unix:///session?socket={self.socket}"

    @staticmethod
    def available() -> str | None:
        """Why it cannot run here, or None."""
        if os.geteuid() != 0:
            return "needs root (to run libvirtd as another user in its own network namespace)"
        for tool in ("libvirtd", "virsh", "unshare", "setpriv"):
            if shutil.which(tool) is None:
                return f"{tool} not found"
        return None

    def owned_dir(self, path: Path) -> Path:
        """A directory the daemon's user may write (serial logs of its guests)."""
        path.mkdir(parents=True, exist_ok=True)
        os.chown(path, self.user.pw_uid, self.user.pw_gid)
        return path

    def start(self, timeout: float = 30.0) -> None:
        self.root.chmod(0o755)
        for sub in ("home", "run"):
            self.owned_dir(self.root / sub)
        env = {"HOME": str(self.root / "home"), "XDG_RUNTIME_DIR": str(self.root / "run"),
               "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
        cmd = ["unshare", "-n", "setpriv", f"--reuid={self.user.pw_uid}", f"--regid={self.user.pw_gid}",
               "--clear-groups", "libvirtd"]
        with open(self.root / "libvirtd.log", "ab") as log:
            self.proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                         start_new_session=True, cwd=self.root)
        deadline = time.monotonic() + timeout
        while subprocess.run(["virsh", "-q", "-c", self.uri, "uri"], capture_output=True).returncode != 0:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"private libvirtd did not start; see {self.root}/libvirtd.log")
            time.sleep(0.1)

    def virsh(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["virsh", "-q", "-c", self.uri, *args], capture_output=True, text=True,
                              check=check, timeout=120)

    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid  # unshare and setpriv exec, so this is libvirtd itself

    def stop(self, kill_guests: bool = True) -> None:
        """Stop the daemon (its pid only), then any QEMU of its own left (run as its user,
        command line under our root) unless `kill_guests` is False (a restart)."""
        terminate(self.proc)
        self.proc = None
        if not kill_guests:
            return
        needle = str(self.root).encode()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError):
                if entry.stat().st_uid == self.user.pw_uid and needle in (entry / "cmdline").read_bytes():
                    os.kill(int(entry.name), signal.SIGKILL)


@contextlib.contextmanager
def session_libvirtd(root: Path) -> Iterator[SessionLibvirtd]:
    daemon = SessionLibvirtd(root)
    daemon.start()
    try:
        yield daemon
    finally:
        daemon.stop()
