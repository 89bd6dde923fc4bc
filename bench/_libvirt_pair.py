"""Two libvirtd on this machine that migrate a guest between them: bench/migrate.py's libvirt figures.

libvirt refuses a migration whose two ends report the same host UUID ("Attempt to migrate guest to
the same host"), and two libvirtd on one machine read the same SMBIOS/machine-id.  So each daemon
here gets its own ``host_uuid`` in its own libvirtd.conf.  Both are session daemons (a libvirtd run
by root is always the system one) of an unprivileged user, each with its own HOME and
XDG_RUNTIME_DIR, so configuration, state and sockets are apart; both run inside one network
namespace made for the bench, where they reach each other over its loopback (nothing touches the
host's network, libvirtd or firewall).  virsh (run here) reaches each through its socket's path.
Every process of the namespace (the daemons, their virtlogd, their QEMUs) is ended with it.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import time
import uuid
from pathlib import Path

from _common import terminate
from tests.netns import NetNS


class LibvirtPair:
    def __init__(self, root: Path, ns: NetNS, user: str = "nobody") -> None:
        self.root, self.ns = root, ns
        self.user = pwd.getpwnam(user)
        self.procs: list[subprocess.Popen[bytes]] = []

    @staticmethod
    def available() -> str | None:
        """Why it cannot run here, or None: what a private session libvirtd needs, and ``ip``."""
        from _rom import SessionLibvirtd

        return SessionLibvirtd.available() or (None if shutil.which("ip") else "ip not found (iproute2)")

    def owned(self, path: Path) -> Path:
        """`path` (a directory, created, or a file) handed to the daemons' user."""
        if not path.exists():
            path.mkdir(parents=True)
        os.chown(path, self.user.pw_uid, self.user.pw_gid)
        return path

    def uri(self, i: int) -> str:
        return f"qemu+unix:///session?socket={self.root / str(i) / 'run' / 'libvirt' / 'libvirt-sock'}"

    def start(self, timeout: float = 60.0) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)
        for i in (0, 1):
            home = self.root / str(i) / "home"
            (home / ".config" / "libvirt").mkdir(parents=True)
            (home / ".config" / "libvirt" / "libvirtd.conf").write_text(f'host_uuid = "{uuid.uuid4()}"\n')
            (self.root / str(i) / "run").mkdir()
            for path in (self.root / str(i), home, home / ".config", home / ".config" / "libvirt",
                         home / ".config" / "libvirt" / "libvirtd.conf", self.root / str(i) / "run"):
                self.owned(path)
            env = {"HOME": str(home), "XDG_RUNTIME_DIR": str(self.root / str(i) / "run"),
                   "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
            with open(self.root / f"libvirtd-{i}.log", "ab") as log:
                self.procs.append(subprocess.Popen(
                    self.ns.cmd("setpriv", f"--reuid={self.user.pw_uid}", f"--regid={self.user.pw_gid}",
                                "--clear-groups", "libvirtd"),
                    env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
                    cwd=self.root / str(i)))
        deadline = time.monotonic() + timeout
        for i in (0, 1):
            while self.virsh(i, "uri", check=False).returncode != 0:
                if self.procs[i].poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"private libvirtd {i} did not start; see {self.root}/libvirtd-{i}.log")
                time.sleep(0.1)

    def virsh(self, i: int, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["virsh", "-q", "-c", self.uri(i), *args], capture_output=True, text=True,
                              check=check, timeout=600)

    def completed_job(self, i: int, name: str) -> dict[str, float]:
        """The last migration's figures on daemon `i` (its source): virsh domjobinfo --completed."""
        text = self.virsh(i, "domjobinfo", "--completed", name).stdout

        def field(label: str) -> float:
            found = re.search(rf"^{label}:\s+(\d+)\s+ms", text, re.M)
            return float(found.group(1)) if found else 0.0

        return {"total": field("Time elapsed"), "downtime": field("Total downtime")}

    def stop(self) -> None:
        """The two daemons (by pid); what they started goes with the namespace."""
        for proc in self.procs:
            terminate(proc)
        self.procs = []
