"""virsh's own commands: help, echo, cd, pwd, connect (quit/exit are handled by the runner)."""

from __future__ import annotations

import os

from pyvirt.cli import table
from pyvirt.cli.context import CmdError, Ctl
from pyvirt.cli.grammar import Parsed, help_text


def _group_lines(group: str, keyword: str) -> str:
    lines = [f" {group} (help keyword '{keyword}'):\n"]
    lines += [f"    {c.name:<30} {c.summary}\n" for c in table.COMMANDS if c.group == group]
    return "".join(lines)


def cmd_help(ctl: Ctl, p: Parsed) -> bool:
    what = p.str("command")
    if not what:
        ctl.print("Grouped commands:\n\n" + "".join(_group_lines(g, k) + "\n" for g, k in table.GROUPS))
        return True
    for group, keyword in table.GROUPS:
        if what in (keyword, group):
            ctl.print(_group_lines(group, keyword))
            return True
    cmd = table.lookup(what)
    if cmd is None:
        raise CmdError(f"command or command group '{what}' doesn't exist")
    ctl.print(help_text(cmd))
    return True


def cmd_echo(ctl: Ctl, p: Parsed) -> bool:
    words = p.argv("string")
    if p.bool("xml"):
        from xml.sax.saxutils import escape

        words = [escape(w, {"'": "&apos;", '"': "&quot;"}) for w in words]
    if p.bool("shell"):
        import shlex

        words = [shlex.quote(w) if w else "''" for w in words]
    text = " ".join(words)  # no newline: the runner's line after the command ends it
    if not words:  # virsh's buffer never written is NULL: nothing printed, not even "error: "
        return True
    if p.bool("err"):
        ctl.error(text)
    else:
        ctl.print(text)
    return True


def cmd_cd(ctl: Ctl, p: Parsed) -> bool:
    if not ctl.interactive:
        raise CmdError("cd: command valid only in interactive mode")
    path = p.str("dir") or os.path.expanduser("~") or "/"
    try:
        os.chdir(path)
    except OSError as exc:
        raise CmdError(f"cd: {exc.strerror}: {path}") from None
    return True


def cmd_pwd(ctl: Ctl, p: Parsed) -> bool:
    ctl.print(os.getcwd() + "\n")
    return True


def cmd_connect(ctl: Ctl, p: Parsed) -> bool:
    ctl.connect(p.str("name") or ctl.uri, p.bool("readonly"))
    return True


def cmd_quit(ctl: Ctl, p: Parsed) -> bool:
    return True


cmd_exit = cmd_quit
