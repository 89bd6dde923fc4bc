"""Helpers shared by the benchmarks: medians, a private pyvirtd, and raw QEMU on the same machine.

Every figure a bench prints for pyvirt is set next to the same operation done without it, in
the same run, so that machine load (other jobs, TCG on a small host) moves both columns alike.
The raw QEMU command line is pyvirt's own argv for the same XML with only the pyvirtd plumbing
taken out (paused start, QMP monitor, pty), so the difference measured is pyvirt's overhead and
not a different machine model.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, TYPE_CHECKING

from pyvirt.testguest import READY_MARKER, TestGuest

if TYPE_CHECKING:
    from pyvirt.client.remote import RemoteConnection

__all__ = [
    "READY_MARKER",
    "PrivateDaemon",
    "compile_pyvirt",
    "cpu_ms",
    "RawQemu",
    "guest_xml",
    "median",
    "ms",
    "raw_qemu_command",
    "rss_kib",
    "small_domain_xml",
    "terminate",
    "wait_all_markers",
]

SESSION_URI = "qemu:///session"


def compile_pyvirt(src: str | None = None) -> None:
    """Byte-compile pyvirt's modules once: with PYTHONDONTWRITEBYTECODE set (as in some CI shells)
    every command run would otherwise compile them anew, which an installed pyvirt never does.
    `src`: an older tree's src/ dir (a --before-src comparison) instead of this one's."""
    import compileall

    if src is None:
        import pyvirt

        compileall.compile_dir(os.path.dirname(pyvirt.__file__), quiet=1)
    else:
        compileall.compile_dir(os.path.join(src, "pyvirt"), quiet=1)


def pip_script(folder: Path) -> str:
    """pip's console script for `pyvirt` as an older tree had it (`main` under a site-enabled
    interpreter): a --before-src tree runs through it with PYTHONPATH, so that what pyvirt's own
    launcher (pyvirt/cli/launcher.py) changes is part of the before/after difference."""
    path = folder / "pyvirt-pip"
    path.write_text(f"#!{sys.executable}\nimport sys\nfrom pyvirt.cli.main import main\n"
                    "if __name__ == '__main__':\n    sys.exit(main())\n")
    path.chmod(0o755)
    return str(path)


def median(values: Iterable[float]) -> float:
    """Median of the runs: one slow run (another job on the CPUs) must not move the figure."""
    data = list(values)
    return statistics.median(data) if data else float("nan")


def ms(seconds: float) -> float:
    return seconds * 1000.0


def guest_xml(guest: TestGuest, name: str, memory_mib: int = 256) -> str:
    """The test guest as integration tests define it (initramfs root, serial on a pty)."""
    return guest.domain_xml(name, memory_mib=memory_mib)


def small_domain_xml(name: str) -> str:
    """A minimal inactive definition, for listing benchmarks (never started)."""
    return (f"<domain type='qemu'><name>{name}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
            "<os><type arch='x86_64' machine='pc'>hvm</type></os></domain>")


# ---------------------------------------------------------------------------- raw QEMU

def raw_qemu_command(xml: str, workdir: Path) -> tuple[list[str], dict[str, str]]:
    """argv and environment of a bare QEMU running the same machine pyvirtd would build for *xml*.

    Taken out: ``-S`` (pyvirtd starts paused and resumes over QMP), the QMP monitor (its fd is
    pyvirtd's) and the serial pty, which becomes stdio so the caller reads the console from a
    pipe. Everything else (machine, devices, sandbox) is pyvirt's argv, built with the same probed
    capabilities the daemon uses.
    """
    from pyvirt.daemon.model import parse_definition
    from pyvirt.qemu.argv import RuntimePaths, build_argv, build_env
    from pyvirt.qemu.caps import probe_emulator
    from pyvirt.xml.defaults import assign_start_defaults

    caps = probe_emulator()
    dom = parse_definition(xml, None)  # as pyvirtd defines it; caps only steer the argv
    assign_start_defaults(dom)
    workdir.mkdir(parents=True, exist_ok=True)
    runtime = RuntimePaths(monitor_fd=3, pidfile=None, domain_dir=str(workdir))
    argv = build_argv(dom, caps, runtime=runtime)
    env = build_env(dom, runtime)
    out: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        value = argv[i + 1] if i + 1 < len(argv) else ""
        if arg == "-S":
            i += 1
            continue
        if arg == "-mon" or (arg == "-chardev" and "id=charmonitor" in value):
            i += 2
            continue
        if arg == "-chardev" and value.startswith("pty,"):
            out += [arg, "stdio," + value[len("pty,"):]]
            i += 2
            continue
        out.append(arg)
        i += 1
    return out, env


class RawQemu:
    """One bare QEMU whose serial console is its stdout pipe."""

    def __init__(self, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.started = time.perf_counter()
        with open(log, "ab") as err:
            self.proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                         stderr=err, start_new_session=True)
        assert self.proc.stdout is not None
        self.stdout: IO[bytes] = self.proc.stdout
        os.set_blocking(self.stdout.fileno(), False)
        self.seen = b""
        self.marker_at: float | None = None

    def feed(self, marker: str) -> bool:
        """Read what the console has; True (and marker_at set) once *marker* was printed."""
        try:
            data = os.read(self.stdout.fileno(), 65536)
        except BlockingIOError:
            return self.marker_at is not None
        if not data and self.marker_at is None:
            raise EOFError(f"QEMU exited before {marker!r}: {self.seen[-300:]!r}")
        self.seen = (self.seen + data)[-4096:]
        if self.marker_at is None and marker.encode() in self.seen:
            self.marker_at = time.perf_counter()
        return self.marker_at is not None

    def wait_marker(self, marker: str = READY_MARKER, timeout: float = 120.0) -> float:
        """Seconds from exec to *marker* on the console."""
        wait_all_markers([self], marker, timeout)
        assert self.marker_at is not None
        return self.marker_at - self.started

    def terminate(self) -> float:
        """SIGTERM and reap; seconds until the process is gone (what `destroy` has to wait for)."""
        t = time.perf_counter()
        self.proc.terminate()
        self.proc.wait(30)
        elapsed = time.perf_counter() - t
        self.stdout.close()
        return elapsed

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        with contextlib.suppress(OSError):
            self.stdout.close()


def wait_all_markers(qemus: list[RawQemu], marker: str = READY_MARKER, timeout: float = 180.0) -> None:
    """Block until every QEMU has printed *marker*, reading all consoles as they come."""
    deadline = time.monotonic() + timeout
    pending = [q for q in qemus if not q.feed(marker)]
    while pending:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"{len(pending)} raw QEMU(s) did not print {marker!r}")
        ready, _, _ = select.select([q.stdout for q in pending], [], [], left)
        for stream in ready:
            for q in pending:
                if q.stdout is stream:
                    q.feed(marker)
        pending = [q for q in pending if q.marker_at is None]


# ---------------------------------------------------------------------------- pyvirtd

def rss_kib(pid: int) -> int:
    """VmRSS of a process, as `ps` and libvirt's figures count it."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_ms(pids: list[int]) -> float:
    """CPU time (user + system) the processes have used so far (those gone count 0)."""
    ticks = 0
    for pid in pids:
        with contextlib.suppress(OSError, IndexError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
    return ticks * 1000.0 / os.sysconf("SC_CLK_TCK")


def terminate(proc: subprocess.Popen[bytes] | None) -> None:
    """SIGTERM a daemon the bench started, wait for it, SIGKILL if it does not go."""
    if proc is not None and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


class PrivateDaemon:
    """A pyvirtd with its own state root, started and torn down by a bench.

    Runs without -v: debug logging of every QMP message would be measured as overhead.
    """

    def __init__(self, root: Path, uri: str = SESSION_URI) -> None:
        self.root = root
        self.uri = uri  # qemu:///system too: its state still lives under `root`
        self.proc: subprocess.Popen[bytes] | None = None
        self._old_env: str | None = None

    def start(self, timeout: float = 60.0, env: dict[str, str] | None = None) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        read_fd, write_fd = os.pipe()
        cmd = [sys.executable, "-m", "pyvirt.daemon.main", "--uri", self.uri, "--state-root",
               str(self.root), "--ready-fd", str(write_fd), "--log-file", str(self.root / "pyvirtd.log")]
        env = dict(os.environ, PYVIRT_STATE_ROOT=str(self.root), **(env or {}))
        with open(self.root / "pyvirtd.err", "ab") as err:
            self.proc = subprocess.Popen(cmd, env=env, pass_fds=(write_fd,), start_new_session=True,
                                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
        os.close(write_fd)
        ready, _, _ = select.select([read_fd], [], [], timeout)
        os.close(read_fd)
        if not ready:
            self.stop()
            raise RuntimeError(f"pyvirtd did not start; see {self.root}/pyvirtd.log")

    def connect(self) -> RemoteConnection:
        """A client for this daemon (the client finds the socket through PYVIRT_STATE_ROOT)."""
        from pyvirt.client.remote import RemoteConnection

        old = os.environ.get("PYVIRT_STATE_ROOT")
        os.environ["PYVIRT_STATE_ROOT"] = str(self.root)
        try:
            return RemoteConnection(self.uri, autostart=False)
        finally:
            if old is None:
                del os.environ["PYVIRT_STATE_ROOT"]
            else:
                os.environ["PYVIRT_STATE_ROOT"] = old

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def rss_kib(self) -> int:
        return rss_kib(self.pid)

    def cpu_ms(self) -> float:
        return cpu_ms([self.pid])

    def qemu_pids(self) -> list[int]:
        """Live QEMUs started by this daemon (their command line points into our state root)."""
        pids = []
        needle = str(self.root).encode()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                cmd = (entry / "cmdline").read_bytes()
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            except (OSError, IndexError):
                continue
            if state != "Z" and b"qemu-system" in cmd.split(b"\0", 1)[0] and needle in cmd:
                pids.append(int(entry.name))
        return pids

    def stop(self, kill_guests: bool = True) -> None:
        """Stop the daemon, then kill any guest it left behind (pyvirtd keeps guests on exit)
        unless `kill_guests` is False (a restart)."""
        terminate(self.proc)
        self.proc = None
        for pid in self.qemu_pids() if kill_guests else ():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


# ---------------------------------------------------------------------------- libvirt (the reference)

def _pid_running(pidfile: str) -> int | None:
    with contextlib.suppress(OSError, ValueError):
        pid = int(Path(pidfile).read_text().strip())
        os.kill(pid, 0)
        return pid
    return None


def _pid_alive(pid: int) -> bool:
    """Still running (a zombie waiting for init to reap it counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


@contextlib.contextmanager
def libvirt_daemons(log: Callable[[str], None] = lambda msg: print(msg, file=sys.stderr)):
    """virtlogd + libvirtd (qemu:///system) for the duration: started only if not running, and
    only those started here are stopped again (libvirtd first, waiting so a rerun starts fresh)."""
    started: list[int] = []
    try:
        for daemon, pidfile in (("virtlogd", "/run/virtlogd.pid"), ("libvirtd", "/run/libvirtd.pid")):
            if _pid_running(pidfile) is None:
                subprocess.run([daemon, "-d"], check=True, timeout=30)
                deadline = time.monotonic() + 30
                while (pid := _pid_running(pidfile)) is None:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{daemon} did not start")
                    time.sleep(0.1)
                started.append(pid)
                log(f"libvirt: started {daemon} (pid {pid}); it is stopped again at the end")
            else:
                log(f"libvirt: {daemon} already running; its RSS is not a fresh daemon's")
        time.sleep(1.0)
        yield
    finally:
        for pid in reversed(started):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 15
            while _pid_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.1)
