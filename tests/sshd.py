"""A private sshd on loopback for tests of qemu+ssh:// URIs: its own host key, one client key the
test creates, listening on a free port of 127.0.0.1, stopped by the test.

It lets in only the key it made (AuthorizedKeysFile in the test's directory; StrictModes off
because that directory is pytest's, not a home).  The remote side's PATH starts with this
interpreter's bin directory, so ``pyvirt-ssh-helper`` resolves to the worktree's own install,
as it would on a host where pyvirt is installed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

SSHD = "/usr/sbin/sshd"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SSHServer:
    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self.host_key = self.dir / "host_key"
        self.client_key = self.dir / "client_key"
        self.known_hosts = self.dir / "known_hosts"
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    @staticmethod
    def available() -> str | None:
        """Why this cannot run here (None: it can)."""
        if not os.path.exists(SSHD):
            return f"{SSHD} missing (apt-get install openssh-server)"
        if not shutil.which("ssh") or not shutil.which("ssh-keygen"):
            return "ssh/ssh-keygen missing (apt-get install openssh-client)"
        return None

    def start(self) -> None:
        for key in (self.host_key, self.client_key):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
        (self.dir / "authorized_keys").write_text(Path(f"{self.client_key}.pub").read_text())
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # sshd's privilege separation directory
        bindir = os.path.dirname(sys.executable)
        config = self.dir / "sshd_config"
        for _attempt in range(5):
            self.port = free_port()
            config.write_text("\n".join([
                f"Port {self.port}", "ListenAddress 127.0.0.1", f"HostKey {self.host_key}",
                f"PidFile {self.dir / 'sshd.pid'}", f"AuthorizedKeysFile {self.dir / 'authorized_keys'}",
                "StrictModes no", "UsePAM no", "PasswordAuthentication no", "KbdInteractiveAuthentication no",
                "PubkeyAuthentication yes", "PermitRootLogin prohibit-password", "AllowTcpForwarding no",
                "X11Forwarding no", "PrintMotd no", f"SetEnv PATH={bindir}:/usr/local/bin:/usr/bin:/bin",
                "LogLevel ERROR", ""]))
            with open(self.dir / "sshd.log", "ab") as log:
                self.proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stdin=subprocess.DEVNULL,
                                             stdout=subprocess.DEVNULL, stderr=log)
            if self._wait_listening():
                return
            self.stop()
        raise RuntimeError(f"sshd did not start: {(self.dir / 'sshd.log').read_text()[-2000:]}")

    def _wait_listening(self) -> bool:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                return False
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 0.5):
                return True
            time.sleep(0.05)
        return False

    def uri(self, path: str = "/session", *, user: str = "root", **params: str) -> str:
        """A qemu+ssh:// URI to this server with its client key; `params` are added to the query."""
        query = {"keyfile": str(self.client_key), "no_verify": "1", "known_hosts": str(self.known_hosts),
                 **params}
        return (f"qemu+ssh://{user}@127.0.0.1:{self.port}{path}?"
                + "&".join(f"{k}={v}" for k, v in query.items()))

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
