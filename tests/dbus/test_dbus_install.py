"""`make install-dbus` / `make install-compat` into a staging DESTDIR, then used for real:
session-bus activation starts pyvirt-dbus on the first call (no systemd), and the system-bus
policy lets root own org.libvirt and lets only root and the chosen group call it."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.dbus.bus import CONNECT, TEST

REPO = Path(__file__).resolve().parents[2]
GROUP = "nogroup"  # exists on Debian; stands for the configurable `pyvirt` group


def _make(stage: Path, *targets: str, **variables: str) -> None:
    if shutil.which("make") is None:
        pytest.skip("make not installed")
    args = [f"{k}={v}" for k, v in variables.items()]
    # -o venv: use the venv as it is (the test runs inside it)
    subprocess.run(["make", "-s", "-C", str(REPO), "-o", "venv", *targets, f"DESTDIR={stage}",
                    f"BINDIR={Path(sys.executable).parent}", *args], check=True, capture_output=True)


@pytest.fixture(scope="module")
def stage() -> Iterator[Path]:
    if shutil.which("dbus-daemon") is None or shutil.which("busctl") is None:
        pytest.skip("dbus-daemon/busctl not installed")
    folder = Path(tempfile.mkdtemp(prefix="pvdbus-"))
    folder.chmod(0o755)  # the system bus socket must be reachable by an unprivileged caller
    _make(folder, "install-dbus", "install-compat", DBUS_GROUP=GROUP)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_compat_names_point_at_pyvirts_commands(stage: Path) -> None:
    bindir = stage / "usr/local/bin"
    expected = {"virsh": "pyvirt", "virt-install": "pyvirt-install", "virt-xml": "pyvirt-xml",
                "virt-clone": "pyvirt-clone", "libvirt-dbus": "pyvirt-dbus"}
    for name, target in expected.items():
        assert os.readlink(bindir / name) == str(Path(sys.executable).parent / target)
    out = subprocess.run([str(bindir / "virsh"), "-c", "test:///default", "list", "--all"],
                         capture_output=True, text=True, check=True).stdout
    assert " test " in out and "running" in out
    # an existing file that is not our link is left alone
    (bindir / "virsh").unlink()
    (bindir / "virsh").write_text("#!/bin/sh\n")
    with pytest.raises(subprocess.CalledProcessError):
        _make(stage, "install-compat")
    assert (bindir / "virsh").read_text() == "#!/bin/sh\n"


def test_installed_files_are_readable_whatever_the_umask(tmp_path: Path) -> None:
    """Written by `sed >` under root's umask 077, the activation files and the policy were 0600:
    the bus daemons, which read them as their own users, could not (no activation at all)."""
    if shutil.which("make") is None:
        pytest.skip("make not installed")
    subprocess.run(["make", "-s", "-C", str(REPO), "-o", "venv", "install-dbus", f"DESTDIR={tmp_path}",
                    f"BINDIR={Path(sys.executable).parent}", f"DBUS_GROUP={GROUP}"], check=True,
                   capture_output=True, preexec_fn=lambda: os.umask(0o077))
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(files) == 3
    assert {oct(p.stat().st_mode & 0o777) for p in files} == {oct(0o644)}


def _daemon(config: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(["dbus-daemon", f"--config-file={config}", "--nofork", "--print-address"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    assert proc.stdout is not None
    proc.stdout.readline()
    return proc


def _busctl(address: str, *args: str, user: str | None = None, group: str | None = None
            ) -> subprocess.CompletedProcess[str]:
    """busctl as a bus client of the bus at `address` (given as the session or system bus:
    busctl --address would not say Hello)."""
    prefix = ["setpriv", f"--reuid={user}", f"--regid={group}", "--clear-groups"] if user else []
    system = address.endswith("system.sock")
    env = dict(os.environ, **{"DBUS_SYSTEM_BUS_ADDRESS" if system else "DBUS_SESSION_BUS_ADDRESS": address})
    return subprocess.run([*prefix, "busctl", "--system" if system else "--user", *args], capture_output=True,
                          text=True, timeout=60, env=env)


def _owner_pid(address: str) -> int | None:
    out = _busctl(address, "call", "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                  "GetConnectionUnixProcessID", "s", "org.libvirt")
    return int(out.stdout.split()[1]) if out.returncode == 0 else None


def _stop(pid: int | None) -> None:
    if pid is not None:
        os.kill(pid, signal.SIGTERM)


def test_session_bus_activation_starts_the_service(stage: Path) -> None:
    services = stage / "usr/local/share/dbus-1/services"
    config = stage / "session.conf"
    address = f"unix:path={stage}/session.sock"
    config.write_text(f"""<busconfig><type>session</type><listen>{address}</listen><auth>EXTERNAL</auth>
<servicedir>{services}</servicedir>
<policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/>
<allow own="*"/></policy></busconfig>""")  # Debian's session.conf policy (busctl needs eavesdrop)
    env = dict(os.environ, PYVIRT_STATE_ROOT=str(stage / "state"))
    bus = _daemon(config, env)
    pid = None
    try:
        out = _busctl(address, "call", "org.libvirt", TEST, CONNECT, "ListDomains", "u", "0")
        assert out.returncode == 0, out.stderr
        assert out.stdout.startswith("ao 1 ") and "/org/libvirt/Test/domain/_" in out.stdout
        pid = _owner_pid(address)
        assert pid is not None
    finally:
        _stop(pid)
        bus.terminate()
        bus.wait(10)


def test_system_bus_policy(stage: Path) -> None:
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to act as other users")
    policy = stage / "etc/dbus-1/system.d/org.libvirt.conf"
    assert "@" not in policy.read_text()
    config = stage / "system.conf"
    address = f"unix:path={stage}/system.sock"
    # a system bus as Debian's system.conf sets one up: deny by default, then the included policy
    config.write_text(f"""<busconfig><type>system</type><listen>{address}</listen><auth>EXTERNAL</auth>
<policy context="default"><allow user="*"/><deny own="*"/><deny send_type="method_call"/>
<allow send_type="signal"/><allow send_requested_reply="true" send_type="method_return"/>
<allow send_requested_reply="true" send_type="error"/><allow receive_type="method_call"/>
<allow receive_type="method_return"/><allow receive_type="error"/><allow receive_type="signal"/>
<allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
<allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
</policy><include>{policy}</include></busconfig>""")
    bus = _daemon(config)
    service = None
    try:
        # nobody may not take the name
        taken = _busctl(address, "call", "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                        "RequestName", "su", "org.libvirt", "4", user="nobody", group=GROUP)
        assert taken.returncode != 0 and "denied" in taken.stderr.lower()
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=address, PYVIRT_STATE_ROOT=str(stage / "state"))
        service = subprocess.Popen([sys.executable, "-m", "pyvirt.dbus.main", "--system"], env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while _owner_pid(address) is None:
            assert service.poll() is None and time.monotonic() < deadline, "pyvirt-dbus did not own org.libvirt"
            time.sleep(0.1)
        call = ("call", "org.libvirt", TEST, CONNECT, "ListDomains", "u", "0")
        assert _busctl(address, *call).returncode == 0                                # root
        assert _busctl(address, *call, user="nobody", group=GROUP).returncode == 0     # the group
        refused = _busctl(address, *call, user="nobody", group="daemon")              # anybody else
        assert refused.returncode != 0 and "denied" in refused.stderr.lower()
    finally:
        if service is not None:
            service.terminate()
            service.wait(10)
        bus.terminate()
        bus.wait(10)
