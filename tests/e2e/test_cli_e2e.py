"""``pyvirt`` as a subprocess against test:///default: shell, edit, events, failures, imports."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

PYVIRT = [sys.executable, "-m", "pyvirt.cli.main"]


def run(*args: str, stdin: str = "", env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*PYVIRT, *args], input=stdin, capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})})


def test_version_is_bare() -> None:
    from pyvirt import __version__

    assert run("--version").stdout == f"{__version__}\n"
    assert run("-v").stdout == f"{__version__}\n"


def test_hot_path_imports_nothing_heavy() -> None:
    code = textwrap.dedent("""
        import sys
        from pyvirt.cli.main import main
        main(["-c", "qemu:///system", "list", "--all"])  # the remote client: the real hot path
        bad = [m for m in ("argparse", "lxml", "aiohttp", "http.client", "pyvirt.daemon", "pyvirt.qemu")
               if m in sys.modules]
        print("BAD", bad)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60).stdout
    assert out.strip().endswith("BAD []"), out


def test_interactive_shell_runs_lines_and_quits() -> None:
    proc = run("-c", "test:///default", stdin="list --all\ndestroy test; domstate test\nquit\nlist\n")
    assert "Welcome to pyvirt" in proc.stdout
    assert "Domain 'test' destroyed" in proc.stdout and "shut off" in proc.stdout
    assert proc.returncode == 0


def test_edit_unchanged_and_changed(tmp_path) -> None:
    unchanged = run("-c", "test:///default", "edit test", env={"EDITOR": "true", "VISUAL": ""})
    assert unchanged.stdout == "Domain 'test' XML configuration not changed.\n\n"
    script = tmp_path / "ed.sh"
    script.write_text("#!/bin/sh\nsed -i 's|<vcpu placement=.static.>2</vcpu>|<vcpu>1</vcpu>|' \"$1\"\n")
    script.chmod(0o755)
    changed = run("-c", "test:///default", "edit test; dumpxml --inactive test",
                  env={"EDITOR": str(script), "VISUAL": ""})
    assert "Domain 'test' XML configuration edited." in changed.stdout
    assert "<vcpu placement='static'>1</vcpu>" in changed.stdout or ">1</vcpu>" in changed.stdout


def test_edit_failure_asks_again(tmp_path) -> None:
    script = tmp_path / "break.sh"
    script.write_text("#!/bin/sh\necho '<domain' > \"$1\"\n")
    script.chmod(0o755)
    proc = run("-c", "test:///default", "edit test", stdin="n\n", env={"EDITOR": str(script), "VISUAL": ""})
    assert "Failed. Try again? [y,n,i,f,?]: " in proc.stdout
    assert proc.stderr.startswith("error: ")
    assert proc.returncode == 1


def test_pool_edit_shares_the_edit_loop(tmp_path) -> None:
    unchanged = run("-c", "test:///default", "pool-edit default-pool", env={"EDITOR": "true", "VISUAL": ""})
    assert unchanged.stdout == "Pool default-pool XML configuration not changed.\n\n"
    script = tmp_path / "break.sh"
    script.write_text("#!/bin/sh\necho '<pool' > \"$1\"\n")
    script.chmod(0o755)
    proc = run("-c", "test:///default", "pool-edit default-pool", stdin="f\nn\n",
               env={"EDITOR": str(script), "VISUAL": ""})
    assert proc.stdout.count("Failed. Try again? [y,n,i,f,?]: ") == 2
    # one report per failed attempt, each in libvirt's malformed-XML layout (the message naming the
    # document, then the input line and a pointer, as virsh's pool-define prints them)
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 2 and all(e.startswith("error: (storage_pool_definition):") for e in errors)
    assert proc.returncode == 1


def test_event_timeout_counts() -> None:
    proc = run("-c", "test:///default", "event --all --timeout 1")
    assert proc.stdout == "event loop timed out\nevents received: 0\n\n"
    assert proc.returncode == 1


def test_console_refuses_inactive_domain() -> None:
    proc = run("-c", "test:///default", "destroy test; console test")
    assert "error: The domain is not running" in proc.stderr


def test_unreachable_daemon_is_one_clear_error() -> None:
    proc = run("-c", "qemu:///system", "list")    # system URIs never start a daemon
    if proc.returncode == 0:
        pytest.skip("a system pyvirtd is running here")
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error: failed to connect to the hypervisor\nerror: ")


def test_quiet_list_and_names() -> None:
    assert run("-q", "-c", "test:///default", "list --all").stdout == " 1   test   running\n"
    assert run("-c", "test:///default", "list --name").stdout == "test\n\n"


def _pty_session(keys: list[bytes], timeout: float = 20.0) -> str:
    """Run the interactive shell on a pseudo-terminal (readline active), type `keys`, return the screen."""
    import pty
    import select
    import time

    pid, fd = pty.fork()
    if pid == 0:  # child: the shell, as a user would start it
        os.execvpe(sys.executable, [*PYVIRT, "-c", "test:///default"], {**os.environ, "TERM": "dumb"})
    out = b""

    def drain(until: bytes, wait: float) -> None:
        """Read until `until` appears in what arrives from now on (or `wait` seconds pass)."""
        nonlocal out
        start = len(out)
        deadline = time.monotonic() + wait
        while until not in out[start:] and time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.1)
            if ready:
                try:
                    out += os.read(fd, 65536)
                except OSError:
                    return

    try:
        drain(b"pyvirt # ", timeout)
        for key in keys:
            os.write(fd, key)
            drain(b"pyvirt # ", timeout if key.endswith(b"\n") else 0.5)
        return out.decode(errors="replace")
    finally:
        os.close(fd)
        os.waitpid(pid, 0)


def test_shell_completes_commands_and_domains_on_a_terminal() -> None:
    screen = _pty_session([b"dominf\t", b"te\t", b"\n", b"domstate --reas\t", b"te\t", b"\n", b"quit\n"])
    assert "pyvirt # dominfo test" in screen  # command and domain name completed
    assert "domstate --reason test" in screen  # option completed
    assert "running (unknown)" in screen and "UUID:" in screen  # what virsh says for test:///default


def test_shell_history_recalls_the_last_line() -> None:
    screen = _pty_session([b"domid test\n", b"\x1b[A", b"\n", b"quit\n"])  # Up-arrow, Enter: run it again
    assert screen.count("pyvirt # domid test\r\n1\r\n") == 2, screen
