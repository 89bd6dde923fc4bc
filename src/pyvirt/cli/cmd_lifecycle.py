"""Lifecycle commands: start, create, destroy, shutdown, reboot, reset, suspend, resume.

Each one resolves the domain first (so a bad name reads "failed to get domain"), calls the
connection once, and wraps a failure as virsh does: "Failed to <verb> domain 'x'" followed by
the driver's own message.
"""

from __future__ import annotations

from pyvirt.cli.context import CmdError, Ctl
from pyvirt.cli.grammar import Parsed


def read_file(path: str) -> str:
    """virFileReadAll's wording, which virsh shows when FILE cannot be read."""
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except OSError as exc:
        raise CmdError(f"Failed to open file '{path}': {exc.strerror}") from None


def _act(ctl: Ctl, p: Parsed, verb: str, done: str, call) -> bool:
    from pyvirt.api import PyvirtError

    info = ctl.domain(p.str("domain") or "")
    try:
        call(info.uuid or info.name)
    except PyvirtError as exc:
        raise CmdError(f"Failed to {verb} domain '{info.name}'", exc.message) from None
    ctl.extra(f"Domain '{info.name}' {done}\n")
    return True


def cmd_start(ctl: Ctl, p: Parsed) -> bool:
    from pyvirt.api import PyvirtError

    info = ctl.domain(p.str("domain") or "")
    if info.active:
        raise CmdError("Domain is already active")
    try:
        ctl.conn.start(info.uuid or info.name, paused=p.bool("paused"), autodestroy=p.bool("autodestroy"),
                       force_boot=p.bool("force-boot"))
    except PyvirtError as exc:
        raise CmdError(f"Failed to start domain '{info.name}'", exc.message) from None
    ctl.extra(f"Domain '{info.name}' started\n")
    if p.bool("console"):
        from pyvirt.cli.cmd_console import run_console

        return run_console(ctl, info.name)
    return True


def cmd_create(ctl: Ctl, p: Parsed) -> bool:
    from pyvirt.api import PyvirtError

    path = p.str("file") or ""
    xml = read_file(path)
    try:
        info = ctl.conn.create_xml(xml, paused=p.bool("paused"), autodestroy=p.bool("autodestroy"),
                                   validate=p.bool("validate"))
    except PyvirtError as exc:
        raise CmdError(f"Failed to create domain from {path}", exc.message) from None
    ctl.extra(f"Domain '{info.name}' created from {path}\n")
    if p.bool("console"):
        from pyvirt.cli.cmd_console import run_console

        return run_console(ctl, info.name)
    return True


def cmd_destroy(ctl: Ctl, p: Parsed) -> bool:
    graceful = p.bool("graceful")
    return _act(ctl, p, "destroy", "destroyed", lambda d: ctl.conn.destroy(d, graceful=graceful))


def cmd_shutdown(ctl: Ctl, p: Parsed) -> bool:
    mode = p.str("mode")
    return _act(ctl, p, "shutdown", "is being shutdown", lambda d: ctl.conn.shutdown(d, mode))


def cmd_reboot(ctl: Ctl, p: Parsed) -> bool:
    mode = p.str("mode")
    return _act(ctl, p, "reboot", "is being rebooted", lambda d: ctl.conn.reboot(d, mode))


def cmd_reset(ctl: Ctl, p: Parsed) -> bool:
    return _act(ctl, p, "reset", "was reset", ctl.conn.reset)


def cmd_suspend(ctl: Ctl, p: Parsed) -> bool:
    return _act(ctl, p, "suspend", "suspended", ctl.conn.suspend)


def cmd_resume(ctl: Ctl, p: Parsed) -> bool:
    return _act(ctl, p, "resume", "resumed", ctl.conn.resume)
