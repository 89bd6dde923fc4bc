"""virsh's own commands: help, echo, cd, pwd, connect (quit/exit are handled by the runner)."""

from __future__ import annotations

import os

from pyvirt.cli import table
from pyvirt.cli.context import CmdError, Ctl
from pyvirt.cli.grammar import Parsed, help_text
from pyvirt.cli.values import string_array


def _group_lines(group: str, keyword: str) -> str:
    lines = [f" {group} (help keyword '{keyword}'):\n"]
    lines += [f"    {c.name:<30} {c.summary}\n" for c in table.COMMANDS
              if c.group == group and not c.hidden]
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


#: virBufferEscapeShell quotes a word only when it holds one of these
_SHELL_META = frozenset("\r\t\n !\"#$&'()*;<>?[\\]^`{|}~")
#: virBufferEscapeString's XML escapes; the other C0 controls but tab, newline, CR are dropped
_XML_ESCAPES = {"<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;",
                **{chr(c): "" for c in range(1, 32) if chr(c) not in "\t\n\r"}}


def shell_quote(word: str) -> str:
    """A word as virBufferEscapeShell writes it: bare when safe, else in single quotes with each
    ``'`` written ``'\\''`` (not Python's shlex.quote, whose safe set and quoting differ)."""
    if word and not _SHELL_META.intersection(word):
        return word
    return "'" + word.replace("'", "'\\''") + "'"


def cmd_echo(ctl: Ctl, p: Parsed) -> bool:
    for other in ("shell", "xml"):
        if p.bool(other) and p.bool("split"):
            raise CmdError(f"Options --{other} and --split are mutually exclusive")
    words = p.argv("string")
    if p.bool("xml"):
        words = ["".join(_XML_ESCAPES.get(c, c) for c in w) for w in words]
    if p.bool("shell"):
        words = [shell_quote(w) for w in words]
    if p.bool("split"):  # each piece on its own line, the words still joined by a space (cmdEcho)
        words = ["".join(piece + "\n" for piece in string_array(w)) for w in words]
    text = " ".join(words)  # no newline: the runner's line after the command ends it
    if not words:  # virsh's buffer never written is NULL: nothing printed, not even "error: "
        return True
    if p.bool("err"):
        ctl.error(text)
    else:
        ctl.print(text)
    return True


def table_problems() -> list[str]:
    """What virsh's self-test (vshCmddefCheckInternals) would find wrong in the command tables:
    a command without an implementation, an option twice, an alias naming no option."""
    from pyvirt.cli.grammar import aliases
    from pyvirt.cli.run import handler

    problems = []
    for cmd in table.COMMANDS:
        try:
            handler(cmd)
        except (ImportError, AttributeError):
            problems.append(f"command '{cmd.name}' has no implementation")
        names = [o.name for o in cmd.opts]
        problems += [f"command '{cmd.name}': option '{n}' defined twice" for n in sorted(set(names))
                     if names.count(n) > 1]
        for alias, target in aliases(cmd).items():
            if target.partition("=")[0] not in names:
                problems.append(f"command '{cmd.name}': alias '{alias}' names no option")
    return problems


def cmd_self_test(ctl: Ctl, p: Parsed) -> bool:
    """virsh's hidden consistency check of its own command tables: silent when all is well."""
    problems = table_problems()
    for problem in problems:
        ctl.error(problem)
    if p.bool("completers-missing") and not problems:  # vshCmddefCheckInternals, command by command
        from pyvirt.cli.completion import missing_completers

        for cmd in table.COMMANDS:
            missing = missing_completers(cmd)
            if missing:
                ctl.extra(f"{cmd.name}: {', '.join(missing)}\n")
    return not problems


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
    """virshReconnect: the URI given (empty: libvirt's default), else the one connected before;
    the URI and read-only mode are kept only once connected (a failure leaves the shell
    unconnected, to reconnect to the previous URI when a command needs it)."""
    name = p.str("name")
    ctl.connect((name or None) if name is not None else ctl.uri, p.bool("readonly"))
    return True


def cmd_quit(ctl: Ctl, p: Parsed) -> bool:
    return True


cmd_exit = cmd_quit
