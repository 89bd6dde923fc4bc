"""Cockpit Machines 288 against pyvirt-dbus on a session bus, with no libvirt package in the way.

Cockpit runs as an unprivileged user (it offers only the "session" connection then) through
../shared/tools/cockpit_session_stack.sh; its machines package is taken from the installed one
or extracted from cockpit-machines' .deb into the user's own cockpit packages (so libvirt, which
the .deb depends on, need not be installed); `virsh` & co. on its PATH are pyvirt's commands
(`make install-compat`).  Headless Chromium (../shared/tools/cdp_screenshot.py) loads the VM
list, checks the live states, clicks Run and Shut down, and the states follow.

Skips when cockpit-ws/cockpit-bridge/chromium/websocket-client are missing (they are not in the
Makefile's packages: Chromium is large and this test takes ~1 minute) or when the unprivileged
user cannot run this venv's Python.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyvirt.testguest import READY_MARKER, TestGuest
from tests.conformance_data import REFERENCE

REPO = Path(__file__).resolve().parents[2]
TOOLS = REFERENCE.parent / "tools"
STACK = TOOLS / "cockpit_session_stack.sh"
SHOT = TOOLS / "cdp_screenshot.py"
RUN_AS = "nobody"
PORT = 9300 + os.getpid() % 600
PAGE = f"http://127.0.0.1:{PORT}/cockpit/@localhost/machines/index.html"
ROWS_JS = ("JSON.stringify([...document.querySelectorAll('tbody tr')].map(r => r.cells.length > 2 ? "
           "r.cells[0].innerText.trim() + '=' + r.cells[2].innerText.trim() : ''))")


def until_rows(*expected: str, seconds: int = 50) -> str:
    """JS: the rows once each of `expected` ("name=State") shows (the page updates itself from
    the service's signals), or as they are after `seconds`."""
    cond = " && ".join(f"s.includes({json.dumps(e)})" for e in expected)
    return (f"new Promise(done => {{ const t0 = Date.now(); const poll = () => {{ const s = {ROWS_JS}; "
            f"if (({cond}) || Date.now() - t0 > {seconds * 1000}) done(s); else setTimeout(poll, 500); }}; poll(); }})")


def _machines_package(dest: Path) -> None:
    installed = Path("/usr/share/cockpit/machines")
    if installed.is_dir():
        shutil.copytree(installed, dest)
        return
    debs = list(Path(os.environ.get("PYVIRT_COCKPIT_DEBS", "/var/cache/apt/archives")).glob("cockpit-machines_*.deb"))
    if not debs:
        pytest.skip("cockpit-machines not installed (nor its .deb in /var/cache/apt/archives: apt-get download)")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["dpkg-deb", "-x", str(debs[0]), tmp], check=True)
        shutil.copytree(Path(tmp) / "usr/share/cockpit/machines", dest)


def _requirements() -> None:
    missing = [p for p in ("/usr/lib/cockpit/cockpit-ws", "/usr/bin/cockpit-bridge") if not Path(p).exists()]
    missing += [c for c in ("chromium", "runuser", "dbus-daemon", "busctl", "make") if shutil.which(c) is None]
    if missing:
        pytest.skip(f"not installed: {', '.join(missing)}")
    if not STACK.exists() or not SHOT.exists():
        pytest.skip(f"{TOOLS} not found")
    try:
        import websocket  # noqa: F401
    except ImportError:
        pytest.skip("websocket-client not installed (pip install websocket-client)")
    if os.geteuid() != 0:
        pytest.skip("needs root to run Cockpit as an unprivileged user")
    probe = subprocess.run(["runuser", "-u", RUN_AS, "--", sys.executable, "-c", "import pyvirt.dbus.main"],
                           capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"{RUN_AS} cannot run {sys.executable} (a venv under a private home?)")


class Stack:
    def __init__(self, folder: Path) -> None:
        self.dir = folder

    def sh(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        env = dict(os.environ, PORT=str(PORT), RUN_AS=RUN_AS)
        return subprocess.run(["sh", str(STACK), *args], env=env, capture_output=True, text=True, check=check,
                              timeout=120)

    def as_user(self, command: str) -> str:
        return subprocess.run(["runuser", "-u", RUN_AS, "--", "sh", "-c", f". '{self.dir}/env.sh'; {command}"],
                              capture_output=True, text=True, check=True, timeout=120).stdout

    def dbus(self, *args: str) -> str:
        return self.as_user("busctl --user " + " ".join(shlex.quote(a) for a in args))

    def browse(self, *evals: str) -> list[object]:
        """Load the page in a fresh browser (cockpit-ws serves one page load per start) and run
        `evals` in order ("sleep:N" waits); the JSON results of the non-sleep ones."""
        self.sh("restart-ws", str(self.dir))
        args = [sys.executable, str(SHOT), PAGE, str(self.dir / "shot.png"), "--wait", "15",
                "--console-log", str(self.dir / "console.log")]
        for js in evals:
            args += ["--eval", js]
        out = subprocess.run(args, capture_output=True, text=True, timeout=180, check=True).stdout
        return [json.loads(m) for m in re.findall(r"^eval: .* -> (.*)$", out, re.M)]


@pytest.fixture(scope="module")
def stack(test_guest: TestGuest) -> Iterator[Stack]:
    _requirements()
    folder = Path(tempfile.mkdtemp(prefix="pvcockpit-"))
    folder.chmod(0o755)
    stack = Stack(folder)
    try:
        _machines_package(folder / "home/.local/share/cockpit/machines")
        subprocess.run(["make", "-s", "-C", str(REPO), "-o", "venv", "install-compat", f"PREFIX={folder}",
                        f"BINDIR={Path(sys.executable).parent}"], check=True, capture_output=True)
        guest = folder / "guest"
        guest.mkdir()
        shutil.copy(test_guest.kernel, guest / "vmlinuz")
        shutil.copy(test_guest.initrd, guest / "initrd")
        for name in ("ck1", "ck2"):
            xml = test_guest.domain_xml(name, memory_mib=192).replace(str(test_guest.kernel), str(guest / "vmlinuz"))
            (guest / f"{name}.xml").write_text(xml.replace(str(test_guest.initrd), str(guest / "initrd")))
        subprocess.run(["chmod", "-R", "a+rX", str(folder)], check=True)
        stack.sh("start", str(folder), f"{Path(sys.executable).parent / 'pyvirt-dbus'} --session")
        yield stack
    finally:
        with contextlib.suppress(Exception):
            stack.as_user("for d in ck1 ck2; do virsh destroy $d; virsh undefine $d; done >/dev/null 2>&1; true")
        stack.sh("stop", str(folder), check=False)
        lock = folder / "run/pyvirt/pyvirtd.lock"  # the session pyvirtd the client started
        with contextlib.suppress(OSError, ValueError):
            os.kill(int(lock.read_text().split()[0]), signal.SIGTERM)
        time.sleep(1)
        shutil.rmtree(folder, ignore_errors=True)


def _states(rows: object) -> dict[str, str]:
    return dict(r.split("=", 1) for r in json.loads(str(rows)) if "=" in r)  # type: ignore[arg-type]


def test_vm_list_run_and_shut_down(stack: Stack) -> None:
    for name in ("ck1", "ck2"):
        stack.dbus("call", "org.libvirt", "/org/libvirt/QEMU", "org.libvirt.Connect", "DomainDefineXML", "s",
                   (stack.dir / "guest" / f"{name}.xml").read_text())
    stack.as_user("virsh start ck1 >/dev/null")  # pyvirt's virsh, from the compat links
    # the guest must be up to answer the ACPI button below
    stack.as_user(f"{shlex.quote(sys.executable)} -c 'from pyvirt.client import connect; "
                  f"from pyvirt.client.expect import wait_for_output; "
                  f"wait_for_output(connect(), \"ck1\", \"{READY_MARKER}\", 120)'")

    click = "[...document.querySelectorAll('tbody tr')].find(r => r.cells[0].innerText.trim() == '{}')" \
            ".querySelector('button').click()"
    before, _, _, after = stack.browse(until_rows("ck1=Running", "ck2=Shut off"), click.format("ck2"),
                                       click.format("ck1"), until_rows("ck1=Shut off", "ck2=Running"))
    assert _states(before) == {"ck1": "Running", "ck2": "Shut off"}, before  # the list, live states
    assert _states(after) == {"ck1": "Shut off", "ck2": "Running"}, after  # Shut down (ACPI) and Run
    listing = stack.as_user("virsh list --all")
    assert re.search(r"ck2\s+running", listing) and re.search(r"ck1\s+shut off", listing), listing
