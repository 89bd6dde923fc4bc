"""Launching QEMU detached from pyvirtd, and knowing, without guessing, when it has ended.

QEMU runs in its own session (setsid) with its output in a per-guest log, so signals to the
daemon's process group and the daemon's death never reach it.  A process's end is observed
through a pidfd (readable once the process has exited, zombie or not) rather than the process
table: on this kind of host PID 1 reaps orphans late, and a pid can be reused.  pyvirtd makes
itself a child subreaper and reaps every child it has, recording exit statuses for the waiters.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

PR_SET_CHILD_SUBREAPER = 36


def become_subreaper() -> bool:
    """Adopt orphaned descendants so they are reaped promptly (returns False where unsupported)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


@dataclass(frozen=True)
class ProcessIdentity:
    """A pid plus its start time (clock ticks since boot): together they survive pid reuse."""

    pid: int
    start_ticks: int

    def to_dict(self) -> dict[str, int]:
        return {"pid": self.pid, "start_ticks": self.start_ticks}


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # comm may hold spaces and parentheses: split after the last ')'
    return raw[raw.rfind(")") + 2:].split()


def start_ticks(pid: int) -> int | None:
    fields = _stat_fields(pid)
    return int(fields[19]) if fields else None


def identity_alive(ident: ProcessIdentity) -> bool:
    """True while that very process exists and has not exited (a zombie counts as ended)."""
    fields = _stat_fields(ident.pid)
    if not fields or fields[0] in ("Z", "X"):
        return False
    return int(fields[19]) == ident.start_ticks


def cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def spawn_detached(argv: Sequence[str], log_path: Path, pass_fds: Sequence[int] = (),
                   env: dict[str, str] | None = None) -> ProcessIdentity:
    """Start QEMU in a new session with stdin closed and stdout/stderr appended to `log_path`."""
    with open(log_path, "ab", buffering=0) as log:
        proc = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                start_new_session=True, pass_fds=tuple(pass_fds), close_fds=True,
                                env=env)
    # Popen's own bookkeeping must not reap it behind the daemon's reaper: forget the object.
    proc.returncode = 0
    ticks = start_ticks(proc.pid)
    return ProcessIdentity(proc.pid, ticks if ticks is not None else -1)


class Reaper:
    """Reaps every child of the daemon on SIGCHLD and keeps their exit statuses for waiters."""

    def __init__(self) -> None:
        self.statuses: dict[int, int] = {}

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        loop.add_signal_handler(signal.SIGCHLD, self.reap)
        self.reap()

    def reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self.statuses[pid] = status
            if len(self.statuses) > 4096:  # bounded: drop the oldest
                self.statuses.pop(next(iter(self.statuses)))

    def exit_code(self, pid: int) -> int | None:
        status = self.statuses.get(pid)
        if status is None:
            return None
        return os.waitstatus_to_exitcode(status)


async def wait_for_exit(ident: ProcessIdentity) -> None:
    """Return once the process has exited, whether or not it is our child."""
    try:
        pidfd = os.pidfd_open(ident.pid)
    except ProcessLookupError:
        return
    loop = asyncio.get_running_loop()
    done = loop.create_future()

    def readable() -> None:
        if not done.done():
            done.set_result(None)

    try:
        if start_ticks(ident.pid) != ident.start_ticks:  # already gone and the pid reused
            return
        loop.add_reader(pidfd, readable)
        try:
            await done
        finally:
            loop.remove_reader(pidfd)
    finally:
        os.close(pidfd)


def kill(ident: ProcessIdentity, sig: int = signal.SIGKILL) -> bool:
    """Signal that very process (pidfd_send_signal: no pid-reuse race). False if already gone."""
    try:
        pidfd = os.pidfd_open(ident.pid)
    except ProcessLookupError:
        return False
    try:
        if start_ticks(ident.pid) != ident.start_ticks:
            return False
        with contextlib.suppress(ProcessLookupError):
            signal.pidfd_send_signal(pidfd, sig)
            return True
        return False
    finally:
        os.close(pidfd)


def log_tail(path: Path, limit: int = 2000) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - limit))
            return handle.read().decode(errors="replace").strip()
    except OSError:
        return ""
