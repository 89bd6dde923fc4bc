"""Cockpit Machines 288 (Debian's cockpit-ws/cockpit-bridge 287, cockpit-machines 288) run
against pyvirt-dbus, without systemd and without any libvirt daemon, all on 127.0.0.1.

Why root and a private *system* bus (not the session-bus recipe of
../shared/tools/cockpit_session_stack.sh, which runs Cockpit as `nobody`): Cockpit's bridge
spawns `virsh` and `virt-install` (pyvirt's, through `make install-compat` links) as its own
user, and an unprivileged user cannot run a venv that lives under a private home (CI clones
and pyenv pythons under /root).  For root, Cockpit Machines offers only the "system"
connection; that connection is served here by `pyvirt-dbus --system` on a dbus-daemon of our
own (its socket in the stack's folder, never the host's bus), over a `qemu:///system` pyvirtd
whose state root is the caller's ($PYVIRT_STATE_ROOT): nothing of the host's state is used.

`cockpit-ws --local-session` serves one browser session per start: callers load the page once
and navigate inside it.  Every process started here is stopped by its PID (and cockpit-ws's
detached ssh-agent, found by the stack's folder in its environment).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
COCKPIT_WS = Path("/usr/lib/cockpit/cockpit-ws")
COCKPIT_BRIDGE = Path("/usr/bin/cockpit-bridge")
INSTALLED_MACHINES = Path("/usr/share/cockpit/machines")
#: where `make test-deps` puts cockpit-machines' .deb (installing the package would pull in
#: libvirt-daemon-system, whose init script starts libvirtd and its NAT bridge on the host)
DEB_DIRS = (REPO / ".cache" / "debs", Path("/var/cache/apt/archives"))
PAGE = "/cockpit/@localhost/machines/index.html"

BUS_CONF = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="root"/>
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
  </policy>
</busconfig>
"""

# The machine has no /dev/kvm a guest can use: Cockpit's hardware check must still pass.
HOST_VALIDATE = """#!/bin/sh
echo "  QEMU: Checking for hardware virtualization                                 : PASS"
"""


def missing() -> list[str]:
    """What this stack needs and the machine lacks (empty when it can run)."""
    out = [str(p) for p in (COCKPIT_WS, COCKPIT_BRIDGE) if not p.exists()]
    out += [c for c in ("dbus-daemon", "make") if shutil.which(c) is None]
    if not INSTALLED_MACHINES.is_dir() and not machines_debs():
        out.append("cockpit-machines (installed, or its .deb in .cache/debs: make test-deps)")
    if os.geteuid() != 0:
        out.append("root (Cockpit Machines offers the system connection to root only)")
    return out


def machines_debs() -> list[Path]:
    found: list[Path] = []
    for folder in DEB_DIRS:
        found += sorted(folder.glob("cockpit-machines_*.deb")) if folder.is_dir() else []
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class CockpitStack:
    """`start()` brings up the bus, pyvirt-dbus and cockpit-ws; `url` is the Machines page."""

    def __init__(self, folder: Path, state_root: Path) -> None:
        self.dir = folder
        self.state_root = state_root
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}{PAGE}"
        self.bus_address = f"unix:path={folder / 'bus'}"
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def env(self) -> dict[str, str]:
        """What every process of the stack sees: a private home, our bus as the system bus, the
        compat links first on PATH, pyvirtd's state root."""
        home = self.dir / "home"
        return {**{k: v for k, v in os.environ.items() if not k.startswith(("DBUS_", "XDG_"))},
                "HOME": str(home), "XDG_RUNTIME_DIR": str(self.dir / "run"),
                "XDG_CONFIG_HOME": str(home / ".config"), "XDG_DATA_HOME": str(home / ".local/share"),
                "XDG_CACHE_HOME": str(home / ".cache"),
                "PATH": f"{self.dir / 'bin'}:/usr/sbin:/usr/bin:/sbin:/bin",
                "DBUS_SYSTEM_BUS_ADDRESS": self.bus_address,
                "DBUS_SESSION_BUS_ADDRESS": f"unix:path={self.dir / 'no-session-bus'}",
                "PYVIRT_STATE_ROOT": str(self.state_root), "PYVIRT_NETWORK_AUTOSTART": "0",
                "LC_ALL": "C.UTF-8"}

    # ----------------------------------------------------------------- set-up
    def _machines_package(self) -> None:
        dest = self.dir / "home/.local/share/cockpit/machines"
        if INSTALLED_MACHINES.is_dir():
            shutil.copytree(INSTALLED_MACHINES, dest)
            return
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(["dpkg-deb", "-x", str(machines_debs()[0]), tmp], check=True)
            shutil.copytree(Path(tmp) / "usr/share/cockpit/machines", dest)

    def _compat(self) -> None:
        """virsh, virt-install, virt-xml, virt-clone on PATH: pyvirt's (make install-compat)."""
        subprocess.run(["make", "-s", "-C", str(REPO), "-o", "venv", "install-compat", f"PREFIX={self.dir}",
                        f"BINDIR={Path(sys.executable).parent}"], check=True, capture_output=True)
        validate = self.dir / "bin/virt-host-validate"
        validate.write_text(HOST_VALIDATE)
        validate.chmod(0o755)

    def _spawn(self, name: str, argv: list[str]) -> subprocess.Popen[bytes]:
        with open(self.dir / f"{name}.log", "ab") as log:
            proc = subprocess.Popen(argv, env=self.env(), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                    start_new_session=True)
        self.procs[name] = proc
        return proc

    def start(self) -> None:
        for sub in ("home", "run", "bin"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        (self.dir / "run").chmod(0o700)
        self._machines_package()
        self._compat()
        conf = self.dir / "bus.conf"
        conf.write_text(BUS_CONF.format(socket=self.dir / "bus"))
        self._spawn("bus", ["dbus-daemon", "--nofork", f"--config-file={conf}"])
        self._wait(lambda: (self.dir / "bus").exists(), "dbus-daemon", "bus")
        self._spawn("service", [sys.executable, "-m", "pyvirt.dbus.main", "--system"])
        self._wait(self._owned, "pyvirt-dbus", "service")
        self._spawn("ws", [str(COCKPIT_WS), "--address", "127.0.0.1", "--port", str(self.port),
                           "--local-session=cockpit-bridge"])
        self._wait(self._listening, "cockpit-ws", "ws")

    def restart_ws(self) -> None:
        """A fresh cockpit-ws (and bridge): it serves one browser session per start."""
        proc = self.procs.pop("ws")
        proc.terminate()
        proc.wait(10)
        for pid in self.processes():  # the old session's bridge and ssh-agent
            if pid not in (p.pid for p in self.procs.values()):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)
        self._spawn("ws", [str(COCKPIT_WS), "--address", "127.0.0.1", "--port", str(self.port),
                           "--local-session=cockpit-bridge"])
        self._wait(self._listening, "cockpit-ws", "ws")

    def session_pids(self) -> list[int]:
        """cockpit-ws and the processes of its session (bridge, ssh-agent, helpers)."""
        ours = {p.pid for name, p in self.procs.items() if name != "ws"}
        return [pid for pid in self.processes() if pid not in ours]

    def _wait(self, ready: object, what: str, name: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not ready():  # type: ignore[operator]
            if self.procs[name].poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not come up: {self.log(name)}")
            time.sleep(0.1)

    def _owned(self) -> bool:
        out = subprocess.run(["busctl", f"--address={self.bus_address}", "status", "org.libvirt"],
                             capture_output=True, env=self.env())
        return out.returncode == 0

    def _listening(self) -> bool:
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", self.port)) == 0

    def log(self, name: str) -> str:
        with contextlib.suppress(OSError):
            return (self.dir / f"{name}.log").read_text(errors="replace")[-3000:]
        return ""

    def processes(self) -> list[int]:
        """PIDs of every process of this stack still running: ours, the bridge and helpers
        cockpit-ws started, and the detached ssh-agent (all carry our HOME in their environment)."""
        mark = f"HOME={self.dir / 'home'}".encode() + b"\0"
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            with contextlib.suppress(OSError):
                if mark in (entry / "environ").read_bytes():
                    pids.append(int(entry.name))
        return pids

    def stop(self) -> None:
        for name in ("ws", "service", "bus"):
            proc = self.procs.pop(name, None)
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(10)
        for pid in self.processes():  # bridge, ssh-agent and what they spawned
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
