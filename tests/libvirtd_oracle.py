"""A real libvirtd as an oracle: a session daemon in a private folder (as ``nobody`` when the
tests run as root, in its own network namespace when it can have one), so nothing of it touches
the host's libvirt or pyvirt state.  Tests compare virsh against it with pyvirt's answers."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

VIRSH = shutil.which("virsh")
LIBVIRTD = shutil.which("libvirtd") or ("/usr/sbin/libvirtd" if os.path.exists("/usr/sbin/libvirtd") else None)
NOBODY = 65534


class Libvirtd:
    """A session libvirtd in a private folder: its virsh command, stopped at the end."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.proc: subprocess.Popen[bytes] | None = None
        as_nobody = os.geteuid() == 0
        self.prefix = (["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
                       if as_nobody else [])
        self.env = {"HOME": str(home), "XDG_RUNTIME_DIR": str(home / "run"), "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
                    "LC_ALL": "C"}

    def start(self) -> None:
        (self.home / "run").mkdir(parents=True, mode=0o700)
        if os.geteuid() == 0:
            for p in (self.home, self.home / "run"):
                os.chown(p, NOBODY, NOBODY)
        # its own network namespace when it can have one: a libvirtd must never touch the host's
        netns = ["unshare", "-n"] if os.geteuid() == 0 and shutil.which("unshare") else []
        cmd = [*netns, *self.prefix, "env", "-i", *(f"{k}={v}" for k, v in self.env.items()),
               LIBVIRTD or "libvirtd", "--timeout", "120"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        sock = self.home / "run" / "libvirt" / "libvirt-sock"
        deadline = time.monotonic() + 30
        while not sock.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.skip("libvirtd did not start in session mode here")
            time.sleep(0.1)

    def virsh(self) -> list[str]:
        return [*self.prefix, "env", "-i", *(f"{k}={v}" for k, v in self.env.items()), VIRSH or "virsh",
                "-c", "qemu:///session"]

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)


def session_libvirtd() -> Iterator[Libvirtd]:
    """The body of a module fixture: a started session libvirtd (skips where none can run)."""
    if LIBVIRTD is None or VIRSH is None:
        pytest.skip("libvirtd (libvirt-daemon) and virsh (libvirt-clients) not installed")
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) needed to run libvirtd unprivileged")
    home = Path(tempfile.mkdtemp(prefix="pyvirt-libvirtd-"))
    os.chmod(home, 0o755)
    daemon = Libvirtd(home)
    daemon.start()
    yield daemon
    daemon.stop()
    shutil.rmtree(home, ignore_errors=True)


def session_pyvirtd(root: Path) -> Iterator[object]:
    """The body of a module fixture: a started pyvirtd session daemon over `root`, beside the
    libvirtd it is compared with."""
    from tests.daemon_harness import DaemonHarness

    harness = DaemonHarness(root)
    harness.start()
    yield harness
    harness.stop()


def run_line(cmd: list[str], line: str, cwd: Path, env: dict[str, str] | None = None) -> tuple[str, str, int]:
    """One virsh line (commands separated by ';' run in one process) through `cmd`: its stdout,
    stderr and exit status."""
    proc = subprocess.run([*cmd, line], capture_output=True, timeout=120, cwd=cwd, env=env, stdin=subprocess.DEVNULL)
    return proc.stdout.decode("latin-1"), proc.stderr.decode("latin-1"), proc.returncode


def differing_lines(libvirtd: Libvirtd, ours: list[str], env: dict[str, str], lines: list[str],
                    cwd: Path) -> list[str]:
    """The lines whose output differs between virsh on `libvirtd` and pyvirt (`ours`, run with
    `env`), each difference printed for the failure report."""
    differ = []
    for line in lines:
        theirs, mine = run_line(libvirtd.virsh(), line, cwd), run_line(ours, line, cwd, {**env, "LC_ALL": "C"})
        if mine != theirs:
            print(f"{line}\n--- virsh: {theirs!r}\n--- pyvirt: {mine!r}")
            differ.append(line)
    return differ


def shared_workdir(prefix: str, docs: dict[str, str]) -> Iterator[Path]:
    """The body of a module fixture: a folder every tool may read (a libvirtd running as nobody
    too) holding `docs` by name, removed at the end."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    os.chmod(folder, 0o755)
    for name, text in docs.items():
        (folder / name).write_text(text)
        os.chmod(folder / name, 0o644)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)
