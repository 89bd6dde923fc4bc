"""``console``: attach the terminal to a guest's serial console until the escape character.

The terminal is put in raw mode (so Ctrl-C and friends reach the guest) and restored on every
exit path; the escape character (``^]`` by default, ``-e`` to change) ends the session.
"""

from __future__ import annotations

import os
import select
import sys

from pyvirt.cli.context import CmdError, Ctl
from pyvirt.cli.grammar import Parsed


def escape_byte(spec: str) -> int:
    """``^]`` -> 0x1d, ``^X`` -> Ctrl-X, a single character -> itself (virsh's -e rule)."""
    if len(spec) == 2 and spec[0] == "^":
        return ord(spec[1].upper()) & 0x1F if spec[1] != "?" else 0x7F
    if len(spec) == 1:
        return ord(spec)
    raise CmdError(f"Invalid escape character '{spec}'")


def cmd_console(ctl: Ctl, p: Parsed) -> bool:
    if p.str("devname"):
        pass  # one serial console per guest for now: the name is accepted and ignored
    return run_console(ctl, p.str("domain") or "", force=p.bool("force"), safe=p.bool("safe"))


def run_console(ctl: Ctl, ref: str, *, force: bool = False, safe: bool = False) -> bool:
    info = ctl.domain(ref)
    esc = escape_byte(ctl.escape)
    state, _ = ctl.conn.get_state(info.uuid or info.name)
    if state not in (1, 3):
        raise CmdError("The domain is not running")
    stream = ctl.conn.open_console(info.uuid or info.name, force=force, safe=safe)
    ctl.extra(f"Connected to domain '{info.name}'\n")
    ctl.extra(f"Escape character is {ctl.escape}")
    if ctl.escape.startswith("^"):
        ctl.extra(f" (Ctrl + {ctl.escape[1]})")
    ctl.extra("\n")
    ctl.out.flush()
    with stream:
        _relay(stream, esc)
    return True


def _relay(stream, esc: int) -> None:
    fd_in = sys.stdin.fileno()
    fd_out = sys.stdout.fileno()
    saved = None
    if os.isatty(fd_in):
        import termios
        import tty

        saved = termios.tcgetattr(fd_in)
        tty.setraw(fd_in)
    try:
        sfd = stream.fileno()
        if sfd >= 0:
            _relay_select(stream, sfd, fd_in, fd_out, esc)
        else:
            _relay_threads(stream, fd_in, fd_out, esc)
    finally:
        if saved is not None:
            import termios

            termios.tcsetattr(fd_in, termios.TCSADRAIN, saved)


def _forward(stream, fd_in: int, esc: int) -> bool:
    """Copy what the user typed to the guest; False at end of input or at the escape character
    (what came before it still goes)."""
    data = os.read(fd_in, 1024)
    if not data:
        return False
    if esc in data:
        before = data[:data.index(esc)]
        if before:
            stream.write(before)
        return False
    stream.write(data)
    return True


def _relay_select(stream, sfd: int, fd_in: int, fd_out: int, esc: int) -> None:
    while True:
        ready, _, _ = select.select([fd_in, sfd], [], [])
        if sfd in ready:
            # one recv can bring several frames: drain what the stream holds, or it would sit
            # there unseen by select() until the guest prints something more
            while True:
                try:
                    data = stream.read(65536, timeout=0)
                except TimeoutError:
                    break
                if not data:
                    return
                os.write(fd_out, data)
                if not stream.has_buffered():
                    break
        if fd_in in ready and not _forward(stream, fd_in, esc):
            return


def _relay_threads(stream, fd_in: int, fd_out: int, esc: int) -> None:
    import threading

    done = threading.Event()

    def pump_out() -> None:
        while not done.is_set():
            try:
                data = stream.read(4096, timeout=0.2)
            except TimeoutError:
                continue
            except Exception:  # noqa: BLE001 - stream ended or broke: leave the session
                data = b""
            if not data:
                break
            os.write(fd_out, data)
        done.set()

    t = threading.Thread(target=pump_out, daemon=True)
    t.start()
    while not done.is_set():
        ready, _, _ = select.select([fd_in], [], [], 0.2)
        if ready and not _forward(stream, fd_in, esc):
            break
    done.set()
