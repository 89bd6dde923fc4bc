"""A private pyvirtd for a test: its own state root, started and stopped by the test.

The daemon runs as a subprocess (as in production) so tests can also kill -9 it and start a
new one over the same state, which is the point of several of them.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from pyvirt.client.expect import wait_for_output
from pyvirt.client.remote import RemoteConnection
from pyvirt.testguest import READY_MARKER, TestGuest

URI = "qemu:///session"


class DaemonHarness:
    """`uri` and `wrap` (a command prefix, e.g. ``ip netns exec NS``) let network tests run a
    system daemon inside a private network namespace; `env` adds variables to the daemon's
    environment only (e.g. PYVIRT_NETWORK_AUTOSTART=0), never to the test process's own."""

    def __init__(self, root: Path, uri: str = URI, wrap: tuple[str, ...] = (),
                 env: dict[str, str] | None = None) -> None:
        self.root = short_alias(root)
        self.uri = uri
        self.wrap = wrap
        self.extra_env = dict(env or {})
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = root / "pyvirtd.log"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PYVIRT_STATE_ROOT"] = str(self.root)
        return env

    def start(self) -> None:
        if self.uri.rstrip("/").endswith("/system"):
            qemu_as_root(self.root / "config")
        read_fd, write_fd = os.pipe()
        cmd = [*self.wrap, sys.executable, "-m", "pyvirt.daemon.main", "--uri", self.uri, "--state-root", str(self.root),
               "--ready-fd", str(write_fd), "--log-file", str(self.log), "-v"]
        with open(self.root / "pyvirtd.err", "ab") as err:
            self.proc = subprocess.Popen(cmd, pass_fds=(write_fd,), start_new_session=True,
                                         env={**os.environ, **self.extra_env},
                                         stdout=subprocess.DEVNULL, stderr=err)
        os.close(write_fd)
        ready, _, _ = select.select([read_fd], [], [], 60)
        os.close(read_fd)
        if not ready:
            self.kill()
            raise RuntimeError(f"pyvirtd did not start: {self.log_text()}")

    def log_text(self) -> str:
        out = ""
        for path in (self.log, self.root / "pyvirtd.err"):
            with contextlib.suppress(OSError):
                out += path.read_text()[-4000:]
        return out

    SUBSCRIBED = b"event subscriber added"  # pyvirtd's debug line for each new event subscription

    @contextlib.contextmanager
    def new_subscriptions(self, count: int = 1, timeout: float = 120) -> Iterator[None]:
        """Wait, at the end of the block, until `count` more event subscriptions were made than
        at its start (pyvirtd logs each): a `pyvirt event` watcher started in the block listens
        from then on, however long a loaded machine took to start it."""
        before = self._log_bytes().count(self.SUBSCRIBED)
        yield
        deadline = time.monotonic() + timeout
        while self._log_bytes().count(self.SUBSCRIBED) < before + count:
            assert time.monotonic() < deadline, f"no {count} new event subscriptions in {timeout:g} s"
            time.sleep(0.05)

    def _log_bytes(self) -> bytes:
        try:
            return self.log.read_bytes()
        except FileNotFoundError:
            return b""

    def connect(self) -> RemoteConnection:
        old = os.environ.get("PYVIRT_STATE_ROOT")
        os.environ["PYVIRT_STATE_ROOT"] = str(self.root)
        try:
            return RemoteConnection(self.uri)
        finally:
            if old is None:
                del os.environ["PYVIRT_STATE_ROOT"]
            else:
                os.environ["PYVIRT_STATE_ROOT"] = old

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(10)
        self.proc = None

    def stop(self) -> None:
        self.kill(signal.SIGTERM)

    def qemu_pids(self) -> list[int]:
        """QEMU processes whose command line points into this harness's state root."""
        return [pid for pid, cmd in live_processes()
                if cmd and b"qemu-system" in cmd[0] and str(self.root).encode() in b" ".join(cmd)]

    def kill_all_guests(self) -> None:
        for pid in self.qemu_pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def running(harness: DaemonHarness) -> Iterator[DaemonHarness]:
    """`harness` started over a fresh state root, stopped at the end and any guest it left
    killed (a module fixture's body)."""
    harness.log.parent.mkdir(parents=True, exist_ok=True)  # the state root (harness.root is its short alias)
    harness.start()
    try:
        yield harness
    finally:
        harness.stop()
        harness.kill_all_guests()


@contextlib.contextmanager
def module_guest(root: Path, xml: str, *, boot: bool = True, first_event: str | None = None
                 ) -> Iterator[DaemonHarness]:
    """A module's one guest, shared by its tests in order: a session pyvirtd over `root` with the
    domain `xml` defined and started, booted to READY_MARKER unless `boot` is false (tests that
    only need QEMU running skip the wait).  With `first_event` (an event kind) the first event of
    that kind after the start is kept as ``harness.first_event`` (subscribed before the start,
    so it cannot be missed).  One boot per module instead of one per test: a TCG boot is
    seconds of a 2-core machine."""
    with running(DaemonHarness(root)) as harness:
        conn = harness.connect()
        name = conn.define_xml(xml).name
        events = conn.subscribe(name, timeout=120, kinds=[first_event]) if first_event else None
        conn.start(name)
        if events is not None:
            harness.first_event = next(iter(events))  # type: ignore[attr-defined]
            events.close()
        if boot:
            wait_console(conn, name, READY_MARKER)
        yield harness


def cli(daemon: DaemonHarness, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`pyvirt -c URI ARGS…` against `daemon` (extra environment in `env`: EDITOR, …)."""
    return subprocess.run([sys.executable, "-m", "pyvirt.cli.main", "-c", daemon.uri, *args], capture_output=True,
                          text=True, env={**daemon.env(), **(env or {})}, timeout=120)


def system_daemon(root: Path) -> DaemonHarness:
    """A qemu:///system daemon in a network namespace of its own (``unshare -n``), with no default
    network: for tests of what only system daemons have (network filters), nothing on the host's
    network.  Start and stop it as any harness."""
    return DaemonHarness(root, uri="qemu:///system", wrap=("unshare", "-n"), env={"PYVIRT_NETWORK_AUTOSTART": "0"})


def qemu_as_root(config_dir: Path) -> None:
    """A test's system daemon runs QEMU as root (qemu.conf ``user = "root"``), unless the test
    wrote its own qemu.conf: its state root sits under pytest's 0700 directories and the test
    guest in /root/.cache, which the default unprivileged QEMU user could not reach (as libvirt's
    libvirt-qemu could not).  tests/security/test_qemu_user.py covers the unprivileged default."""
    conf = Path(config_dir) / "qemu.conf"
    if not conf.exists():
        conf.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        conf.write_text('# test daemon: state and test guest live in root-only directories\n'
                        'user = "root"\ngroup = "root"\n')


def short_alias(root: Path) -> Path:
    """A short path that is a symlink to `root`, the same for the same root (restart tests build a
    second harness over it).

    pytest's tmp_path is deep; under it a guest's generated unix sockets (monitor, agent channel)
    would pass AF_UNIX's 108-byte limit, which pyvirtd rightly refuses.  Production roots
    (/run/pyvirt, $XDG_RUNTIME_DIR/pyvirt) are short; the files still live in tmp_path."""
    root = Path(root).absolute()
    if len(str(root)) <= 40:
        return root
    alias = Path("/tmp") / ("pvt-" + hashlib.sha256(str(root).encode()).hexdigest()[:12])
    with contextlib.suppress(FileExistsError):
        alias.symlink_to(root, target_is_directory=True)
    if alias.resolve() != root.resolve():
        raise RuntimeError(f"{alias} exists and does not point to {root}")
    return alias


def live_processes() -> Iterator[tuple[int, list[bytes]]]:
    """(pid, argv) of every process that has not exited (zombies are left out)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            yield int(entry.name), cmd


def guest_xml(guest: TestGuest, name: str, *, extra_devices: str = "", on_poweroff: str = "destroy",
              on_reboot: str = "restart", memory_mib: int = 256, disk: Path | None = None) -> str:
    return guest.domain_xml(name, memory_mib=memory_mib, disk=disk, extra_devices=extra_devices,
                            on_poweroff=on_poweroff, on_reboot=on_reboot)


def wait_console(conn: RemoteConnection, name: str, marker: str, timeout: float = 180.0) -> float:
    """Seconds until `marker` shows on the serial console (history included).  The default is
    generous on purpose: a TCG boot takes 10 s on an idle 2-core machine and several times that
    under the parallel suite; only a guest that never gets there should fail."""
    return wait_for_output(conn, name, marker, timeout)


def wait_state(conn: RemoteConnection, name: str, state: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        info = conn.get_info(name)
        if info.state == state:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{name}: state {info.state}/{info.reason}, wanted {state}")
        time.sleep(0.05)


def guest_shell(conn: object, name: str, command: str, marker: str, timeout: float = 90) -> str:
    """Run `command` on the guest's console shell and return what the console showed until
    `marker` was printed (the echoed command line spells it split by quotes, so only the
    output matches)."""
    seen = b""
    with conn.open_console(name) as console:  # type: ignore[attr-defined]
        console.write(f"\n{command}; echo {marker[:3]}''{marker[3:]}\n".encode())
        deadline = time.monotonic() + timeout
        while marker.encode() not in seen and time.monotonic() < deadline:
            with contextlib.suppress(TimeoutError):
                seen += console.read(65536, timeout=1)
    text = seen.decode(errors="replace")
    assert marker in text, f"no {marker} from the guest: {text!r}"
    return text
