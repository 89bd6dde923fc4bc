"""Start ``pyvirt web`` in the background for a URI, or find the one already running (what
``make demo`` does): its pid and login URL are kept in the URI's runtime directory (0600), so
a second ``make demo`` shows the same URL and ``make demo-stop`` ends exactly that process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

PORT = 8090
START_TIMEOUT = 20.0


def _files(uri: str) -> tuple[Path, Path, Path]:
    from pyvirt.paths import state_paths

    p = state_paths(uri)
    return p.runtime / "web.pid", p.runtime / "web.url", p.log / "web.log"


def _alive(pid_file: Path) -> int | None:
    try:
        pid = int(pid_file.read_text())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return None
    return pid if b"pyvirt.web.main" in cmdline else None


def running_url(uri: str) -> str | None:
    pid_file, url_file, _ = _files(uri)
    if _alive(pid_file) is None:
        return None
    try:
        return url_file.read_text().strip() or None
    except OSError:
        return None


def start(uri: str) -> str:
    """The login URL of the web UI for `uri` (started now unless it runs already)."""
    from pyvirt.atomicio import write_atomic
    from pyvirt.rundir import ensure_private_dir

    url = running_url(uri)
    if url:
        return url
    pid_file, url_file, log_file = _files(uri)
    ensure_private_dir(pid_file.parent)
    log_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    for port in (PORT, 0):  # 8090 taken by something else: any free port
        url_file.unlink(missing_ok=True)
        with open(log_file, "ab") as log, open(os.devnull, "rb") as devnull:
            proc = subprocess.Popen([sys.executable, "-m", "pyvirt.web.main", "-c", uri,
                                     "--listen", f"127.0.0.1:{port}", "--url-file", str(url_file)],
                                    stdin=devnull, stdout=log, stderr=log, start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and proc.poll() is None and not url_file.exists():
            time.sleep(0.1)
        if url_file.exists():
            write_atomic(pid_file, f"{proc.pid}\n")
            return url_file.read_text().strip()
        if proc.poll() is None:
            proc.terminate()
    raise RuntimeError(f"pyvirt web did not start (see {log_file})")


def stop(uri: str) -> bool:
    """Ends the web UI this module started for `uri` (by its recorded pid only)."""
    pid_file, url_file, _ = _files(uri)
    pid = _alive(pid_file)
    pid_file.unlink(missing_ok=True)
    url_file.unlink(missing_ok=True)
    if pid is None:
        return False
    os.kill(pid, signal.SIGTERM)
    return True
