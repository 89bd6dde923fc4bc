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
from typing import Any

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
                   env: dict[str, str] | None = None, user: Any = None) -> ProcessIdentity:
    """Start QEMU in a new session with stdin closed and stdout/stderr appended to `log_path`;
    as `user` (uid, gid, groups: daemon.qemuuser.QemuUser) when given."""
    ids: dict[str, Any] = {}
    if user is not None:
        ids = {"user": user.uid, "group": user.gid, "extra_groups": list(user.groups)}
    with open(log_path, "ab", buffering=0) as log:
        proc = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                start_new_session=True, pass_fds=tuple(pass_fds), close_fds=True,
                                env=env, **ids)
    # Popen's own bookkeeping must not reap it behind the daemon's reaper: forget the object.
    proc.returncode = 0
    ticks = start_ticks(proc.pid)
    return ProcessIdentity(proc.pid, ticks if ticks is not None else -1)


def pin_all_threads(pid: int, cpus: frozenset[int]) -> None:
    """Restrict every thread of *pid* to *cpus* (``<vcpu cpuset>``, libvirt's default pinning of
    the emulator and all vCPUs).  Called once QEMU has created its vCPU threads (the monitor
    answers, guest still stopped by -S); threads started later inherit the mask."""
    for tid in os.listdir(f"/proc/{pid}/task"):
        with contextlib.suppress(ProcessLookupError):
            os.sched_setaffinity(int(tid), cpus)


class Reaper:
    """Reaps the daemon's QEMUs and adopted orphans on SIGCHLD, keeping exit statuses for errors.

    It must not reap children that other code waits for: `subprocess.run("qemu-img" ...)` in a
    worker thread would then see ECHILD and report success for a command that failed.  So it
    reaps only (a) the QEMU pids it was told about and (b) zombies outside the daemon's own
    session: orphans adopted as subreaper come from the guests' sessions, never from ours.
    """

    def __init__(self) -> None:
        self.statuses: dict[int, int] = {}
        self.tracked: set[int] = set()
        self.own_session = os.getsid(0)

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        self.own_session = os.getsid(0)
        loop.add_signal_handler(signal.SIGCHLD, self.reap)
        self.reap()

    def track(self, pid: int) -> None:
        self.tracked.add(pid)
        self.reap()  # it may have exited already

    def _record(self, pid: int, status: int) -> None:
        self.tracked.discard(pid)
        self.statuses[pid] = status
        if len(self.statuses) > 4096:  # bounded: drop the oldest
            self.statuses.pop(next(iter(self.statuses)))

    def _session_of(self, pid: int) -> int | None:
        fields = _stat_fields(pid)
        return int(fields[3]) if fields else None

    def reap(self) -> None:
        for pid in list(self.tracked):
            try:
                done, status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                self.tracked.discard(pid)
                continue
            if done:
                self._record(pid, status)
        while True:  # adopted orphans: peek first, reap only what is not someone else's to wait for
            try:
                info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            except ChildProcessError:
                return
            if info is None:
                return
            session = self._session_of(info.si_pid)
            if session is None or session == self.own_session:
                return  # a child of ours that its own waiter (subprocess, asyncio) will collect
            with contextlib.suppress(ChildProcessError):
                _, status = os.waitpid(info.si_pid, 0)
                self._record(info.si_pid, status)

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
