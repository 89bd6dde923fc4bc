"""The QEMU guest agent end to end: pyvirtd and the real test guest under TCG running Debian's
qemu-ga on its org.qemu.guest_agent.0 channel (tests/guest/build.sh), one guest (the disk
variant: "/" is a real ext4 on vda) shared by the tests of this module, in order.

Seen here: the agent-lifecycle event when qemu-ga opens its port and the live XML's
state='connected'; the virsh commands answered by the agent (domfsinfo/freeze/thaw/trim,
guestinfo, guestvcpus, domhostname, domtime, domifaddr --source agent, SSH keys, passwords,
qemu-agent-command, setvcpus/vcpucount --guest); reconnection after a guest reboot through the
agent (disconnected, then connected again); dompmsuspend/dompmwakeup; shutdown --mode agent;
and libvirt's errors for a guest without the channel ("not configured")."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyvirt.api import AgentLifecycleEvent, DomainState, EventType, StartedDetail
from pyvirt.testguest import TestGuest
from tests.daemon_harness import DaemonHarness, guest_shell, guest_xml, module_guest, wait_state

pytestmark = [pytest.mark.qemu, pytest.mark.timeout(300)]
PYVIRT = [sys.executable, "-m", "pyvirt.cli.main", "-c", "qemu:///session"]
DOM = "agentvm"
CHANNEL = "<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>"
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHn5vUkd0yB3XHgH2v9M3pGu2Z0hVwLp7rQ5d0vP8lqX pyvirt@test"


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory, qemu_binary: str, test_guest: TestGuest
           ) -> Iterator[DaemonHarness]:
    folder = tmp_path_factory.mktemp("agent")
    disk = folder / "disk.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", str(test_guest.disk),
                    str(disk)], check=True)
    with module_guest(folder, guest_xml(test_guest, DOM, disk=disk, extra_devices=CHANNEL),
                      first_event=AgentLifecycleEvent.KIND) as harness:
        yield harness


def _cli(daemon: DaemonHarness, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PYVIRT, *args], capture_output=True, text=True, env=daemon.env(), timeout=120)


def _ok(daemon: DaemonHarness, *args: str) -> str:
    out = _cli(daemon, *args)
    assert (out.returncode, out.stderr) == (0, ""), (args, out.stdout)
    return out.stdout


def test_agent_connects_when_qemu_ga_opens_its_port(daemon: DaemonHarness) -> None:
    ev = daemon.first_event  # type: ignore[attr-defined]
    assert (type(ev), ev.name, ev.state, ev.reason) == (AgentLifecycleEvent, DOM, AgentLifecycleEvent.CONNECTED,
                                                        AgentLifecycleEvent.CHANNEL)
    assert "name='org.qemu.guest_agent.0' state='connected'" in _ok(daemon, "dumpxml", DOM)
    assert "state=" not in _ok(daemon, "dumpxml", DOM, "--inactive").split("<channel", 1)[1].split("</channel>")[0]


def test_filesystems(daemon: DaemonHarness) -> None:
    lines = _ok(daemon, "domfsinfo", DOM).splitlines()
    assert lines[0].split() == ["Mountpoint", "Name", "Type", "Target"]
    assert ["/", "vda", "ext4", "vda"] in [line.split() for line in lines[2:]]
    assert _ok(daemon, "domfsfreeze", DOM) == "Froze 1 filesystem(s)\n\n"
    frozen = _ok(daemon, "qemu-agent-command", DOM, '{"execute":"guest-fsfreeze-status"}')
    assert frozen == '{"return":"frozen"}\n\n'
    assert _ok(daemon, "domfsthaw", DOM) == "Thawed 1 filesystem(s)\n\n"
    assert _ok(daemon, "domfsfreeze", DOM, "--mountpoint", "/") == "Froze 1 filesystem(s)\n\n"
    assert _ok(daemon, "domfsthaw", DOM) == "Thawed 1 filesystem(s)\n\n"
    _ok(daemon, "domfstrim", DOM)
    bad = _cli(daemon, "domfstrim", DOM, "--mountpoint", "/")
    assert (bad.returncode, bad.stderr) == (1, "error: Unable to invoke fstrim\nerror: argument unsupported: "
                                               "Specifying mount point is not supported for now\n")


def test_quiesced_disk_only_snapshot(daemon: DaemonHarness, tmp_path: Path) -> None:
    """snapshot-create-as --disk-only --quiesce: the agent freezes the guest's filesystems for the
    snapshot and thaws them after it; a freeze the agent refuses fails the snapshot with nothing
    created; --quiesce alone is refused as libvirt's flag rule says."""
    overlay = tmp_path / "quiesced.qcow2"
    alone = _cli(daemon, "snapshot-create-as", DOM, "q0", "--quiesce")
    assert alone.returncode == 1 and alone.stderr.endswith(
        "Flag 'VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY' is required by flag 'VIR_DOMAIN_SNAPSHOT_CREATE_QUIESCE'\n"
    ), alone.stderr
    create = ("snapshot-create-as", DOM, "q1", "--disk-only", "--quiesce", "--diskspec", f"vda,file={overlay}")
    _ok(daemon, "domfsfreeze", DOM)  # already frozen: qemu-ga refuses the snapshot's own freeze
    busy = _cli(daemon, *create)
    assert busy.returncode == 1 and "guest-fsfreeze-freeze" in busy.stderr, busy.stderr
    assert not overlay.exists() and _ok(daemon, "snapshot-list", DOM, "--name") == "\n"
    status = '{"execute":"guest-fsfreeze-status"}'
    assert _ok(daemon, "qemu-agent-command", DOM, status) == '{"return":"frozen"}\n\n'  # not thawed: not ours
    assert _ok(daemon, "domfsthaw", DOM) == "Thawed 1 filesystem(s)\n\n"
    taken = tmp_path / "taken.qcow2"
    taken.write_bytes(b"")  # the snapshot fails after the freeze: the guest is thawed all the same
    failed = _cli(daemon, "snapshot-create-as", DOM, "q1", "--disk-only", "--quiesce", "--diskspec", f"vda,file={taken}")
    assert failed.returncode == 1 and "already exists" in failed.stderr, failed.stderr
    assert _ok(daemon, "qemu-agent-command", DOM, status) == '{"return":"thawed"}\n\n'
    assert _ok(daemon, "snapshot-list", DOM, "--name") == "\n"
    assert _ok(daemon, *create) == "Domain snapshot q1 created\n"
    assert _ok(daemon, "qemu-agent-command", DOM, status) == '{"return":"thawed"}\n\n'
    assert _ok(daemon, "snapshot-list", DOM, "--name") == "q1\n\n"
    assert f"<source file='{overlay}'" in _ok(daemon, "dumpxml", DOM)
    assert "<state>disk-snapshot</state>" in _ok(daemon, "snapshot-dumpxml", DOM, "q1")


def test_guestinfo_and_what_the_guest_says_about_itself(daemon: DaemonHarness) -> None:
    info = dict(line.split(": ", 1) for line in _ok(daemon, "guestinfo", DOM).splitlines() if ": " in line)
    info = {k.strip(): v for k, v in info.items()}
    assert info["os.id"] == "debian" and info["os.kernel-release"].endswith("-cloud-amd64")
    assert info["hostname"] == "pyvirt-guest"
    assert info["timezone.offset"] == "0"
    assert info["fs.0.mountpoint"] == "/" and info["fs.0.fstype"] == "ext4" and info["fs.0.disk.0.alias"] == "vda"
    assert int(info["if.count"]) >= 2 and info["if.0.name"] == "lo"
    only = _ok(daemon, "guestinfo", DOM, "--hostname")
    assert only == "hostname            : pyvirt-guest\n\n"
    assert _ok(daemon, "domhostname", DOM) == "pyvirt-guest\n\n"
    assert _ok(daemon, "domhostname", DOM, "--source", "agent") == "pyvirt-guest\n\n"
    seconds = int(_ok(daemon, "domtime", DOM).split()[1])
    assert abs(seconds - time.time()) < 300
    _ok(daemon, "domtime", DOM, "--sync")
    assert _ok(daemon, "guestvcpus", DOM) == "vcpus          : 0\nonline         : 0\nofflinable     : \n\n"
    assert _ok(daemon, "vcpucount", DOM, "--guest") == "1\n\n"
    deadline = time.monotonic() + 60
    while "10.0.2.15" not in (addrs := _ok(daemon, "domifaddr", DOM, "--source", "agent")):
        assert time.monotonic() < deadline, addrs  # the guest's DHCP lease may come after its boot
        time.sleep(1)
    assert "127.0.0.1/8" in addrs and "ipv4" in addrs


def test_users_keys_and_passwords(daemon: DaemonHarness, tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.write_text(KEY + "\n")
    _ok(daemon, "set-user-sshkeys", DOM, "root", "--reset", "--file", str(keys))
    assert _ok(daemon, "get-user-sshkeys", DOM, "root") == KEY + "\n\n"
    _ok(daemon, "set-user-sshkeys", DOM, "root", "--remove", "--file", str(keys))
    assert _ok(daemon, "get-user-sshkeys", DOM, "root") == "\n"
    nobody = _cli(daemon, "get-user-sshkeys", DOM, "nosuchuser")
    assert nobody.returncode == 1 and nobody.stderr.startswith(
        "error: internal error: unable to execute QEMU agent command 'guest-ssh-get-authorized-keys': ")
    assert _ok(daemon, "set-user-password", DOM, "root", "s3cret") == f"Password set successfully for root in {DOM}\n"
    shown = guest_shell(daemon.connect(), DOM, "grep '^root:' /etc/passwd", "PWDONE")
    assert "root:$6$" in shown
    assert "s3cret" not in daemon.log_text()  # pyvirtd's verbose log never shows a password


def test_raw_agent_commands(daemon: DaemonHarness) -> None:
    assert _ok(daemon, "qemu-agent-command", DOM, '{"execute":"guest-ping"}') == '{"return":{}}\n\n'
    assert _ok(daemon, "qemu-agent-command", DOM, "--pretty", '{"execute":"guest-ping"}') == \
        '{\n  "return": {\n\n  }\n}\n\n'  # json-c's pretty printer, as virsh's
    missing = _cli(daemon, "qemu-agent-command", DOM, '{"execute":"guest-nothing"}')
    assert (missing.returncode, missing.stderr) == (
        1, "error: internal error: unable to execute QEMU agent command 'guest-nothing': "
           "The command guest-nothing has not been found\n")
    _ok(daemon, "guest-agent-timeout", DOM, "--timeout", "10")
    bad = _cli(daemon, "guest-agent-timeout", DOM, "--timeout", "-3")
    assert bad.stderr == "error: invalid argument: guest agent timeout '-3' is less than the minimum '-2'\n"


def test_agent_reconnects_after_a_guest_reboot(daemon: DaemonHarness) -> None:
    conn = daemon.connect()
    events = conn.subscribe(DOM, timeout=120, kinds=[AgentLifecycleEvent.KIND])
    assert _ok(daemon, "reboot", DOM, "--mode", "agent") == f"Domain '{DOM}' is being rebooted\n\n"
    seen = []
    for ev in events:
        seen.append(ev.state)
        if seen[-2:] == [AgentLifecycleEvent.DISCONNECTED, AgentLifecycleEvent.CONNECTED]:
            break
    events.close()
    assert seen[-2:] == [AgentLifecycleEvent.DISCONNECTED, AgentLifecycleEvent.CONNECTED]
    assert _ok(daemon, "domhostname", DOM) == "pyvirt-guest\n\n"
    assert conn.get_info(DOM).state == DomainState.RUNNING


def test_power_management_suspend_and_wakeup(daemon: DaemonHarness) -> None:
    """dompmsuspend: qemu-ga's guest-suspend-ram, QEMU's SUSPEND makes the domain pmsuspended
    (libvirt's PMSUSPENDED/MEMORY event); dompmwakeup: QMP system_wakeup, running again."""
    conn = daemon.connect()
    events = iter(conn.subscribe(DOM, timeout=60, kinds=["Domain"]))
    assert _ok(daemon, "dompmsuspend", DOM, "mem") == f"Domain '{DOM}' successfully suspended\n\n"
    ev = next(events)
    assert (ev.event, ev.detail) == (EventType.PMSUSPENDED, 0)
    wait_state(conn, DOM, DomainState.PMSUSPENDED)
    assert _ok(daemon, "dompmwakeup", DOM) == f"Domain '{DOM}' successfully woken up\n\n"
    ev = next(events)
    assert (ev.event, ev.detail) == (EventType.STARTED, StartedDetail.WAKEUP)
    assert conn.get_info(DOM).state == DomainState.RUNNING
    deadline = time.monotonic() + 60  # qemu-ga may reopen its port as the guest resumes
    while (out := _cli(daemon, "domhostname", DOM)).returncode != 0 and time.monotonic() < deadline:
        assert "QEMU guest agent is not connected" in out.stderr, out.stderr
        time.sleep(1)
    assert out.stdout == "pyvirt-guest\n\n"


def test_agent_after_a_daemon_restart(daemon: DaemonHarness) -> None:
    """A restarted pyvirtd finds the guest again and asks QEMU whether qemu-ga is there
    (query-chardev's frontend-open): the agent answers at once, no event needed."""
    daemon.stop()
    daemon.start()
    assert _ok(daemon, "domhostname", DOM) == "pyvirt-guest\n\n"
    assert "state='connected'" in _ok(daemon, "dumpxml", DOM)


def test_paused_guest_refused_before_the_agent_is_asked(daemon: DaemonHarness) -> None:
    """libvirt's qemuDomainAgentAvailable: a paused guest's agent cannot answer, so every agent
    call is refused at once with "domain is not running" (no timeout waited out)."""
    _ok(daemon, "suspend", DOM)
    try:
        started = time.monotonic()
        for args in (("domhostname", DOM), ("domfsinfo", DOM), ("qemu-agent-command", DOM, '{"execute":"guest-ping"}'),
                     ("guestvcpus", DOM), ("shutdown", DOM, "--mode", "agent")):
            out = _cli(daemon, *args)
            assert out.returncode == 1 and out.stderr.endswith(
                "error: Requested operation is not valid: domain is not running\n"), (args, out.stderr)
        assert time.monotonic() - started < 30
    finally:
        _ok(daemon, "resume", DOM)
    assert _ok(daemon, "domhostname", DOM) == "pyvirt-guest\n\n"


def test_guest_without_the_channel(daemon: DaemonHarness, test_guest: TestGuest, tmp_path: Path) -> None:
    conn = daemon.connect()
    disk, overlay = tmp_path / "noagent.qcow2", tmp_path / "noagent-snap.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", str(test_guest.disk),
                    str(disk)], check=True)
    conn.create_xml(guest_xml(test_guest, "noagent", disk=disk))
    try:
        for args in (("domfsinfo", "noagent"), ("domhostname", "noagent"), ("domtime", "noagent")):
            out = _cli(daemon, *args)
            assert out.returncode == 1
            assert out.stderr.endswith("error: argument unsupported: QEMU guest agent is not configured\n"), out.stderr
        refused = _cli(daemon, "shutdown", "noagent", "--mode", "agent")
        assert refused.stderr.endswith("argument unsupported: QEMU guest agent is not configured\n")
        quiesce = _cli(daemon, "snapshot-create-as", "noagent", "q", "--disk-only", "--quiesce",
                       "--diskspec", f"vda,file={overlay}")
        assert quiesce.stderr.endswith("argument unsupported: QEMU guest agent is not configured\n"), quiesce.stderr
        assert not overlay.exists() and _ok(daemon, "snapshot-list", "noagent", "--name") == "\n"
        assert f"<source file='{disk}'" in _ok(daemon, "dumpxml", "noagent")
    finally:
        conn.destroy("noagent")


def test_shutdown_through_the_agent(daemon: DaemonHarness) -> None:
    conn = daemon.connect()
    assert _ok(daemon, "shutdown", DOM, "--mode", "agent") == f"Domain '{DOM}' is being shutdown\n\n"
    wait_state(conn, DOM, DomainState.SHUTOFF, timeout=60)
    out = _cli(daemon, "domfsinfo", DOM)
    assert out.stderr.endswith("error: Requested operation is not valid: domain is not running\n")
