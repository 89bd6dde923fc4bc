"""virsh's own command-line grammar: tokenizing, option tables and parsing.

virsh does not use getopt for commands: every command has a table of typed options (bool,
string, number, positional data, trailing argv), accepts ``--opt value`` and ``--opt=value``,
fills positional slots in order, refuses abbreviations, and parses a whole ``;``-separated line
before running any of it.  Scripts depend on its exact error messages, so they are reproduced
here word for word.  Pure functions only: no I/O, no connection, cheap to import.
"""

from __future__ import annotations

TYPE_CHECKING = False  # collections.abc costs ~1.5 ms at start-up; only annotations need it
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

BOOL = "bool"
STRING = "string"
NUMBER = "number"
ARGV = "argv"          # positional, takes every remaining data word


class ParseError(Exception):
    """A syntax error: virsh prints each message as ``error: <msg>`` and runs nothing of the line."""

    def __init__(self, *messages: str) -> None:
        super().__init__(messages[0] if messages else "")
        self.messages = list(messages)


class Opt:
    """One option of a command: name, type, whether it is positional and/or required."""

    __slots__ = ("name", "kind", "help", "pos", "req", "fill")

    def __init__(self, name: str, kind: str = BOOL, help: str = "", *, pos: bool = False,
                 req: bool = False, fill: bool = False) -> None:
        self.name = name
        self.kind = kind
        self.help = help
        self.pos = pos or kind == ARGV
        self.req = req
        # virsh fills any non-bool option from bare words, in table order, unless it is marked
        # option-only; help still shows it as `--name <string>` (``fill`` says exactly that)
        self.fill = fill


class Cmd:
    """A command's definition: name, help group, implementing module, and option table."""

    __slots__ = ("name", "group", "module", "summary", "desc", "opts", "noconnect", "blank")

    def __init__(self, name: str, group: str, module: str, summary: str, desc: str,
                 opts: Sequence[Opt] = (), *, noconnect: bool = False, blank: bool = True) -> None:
        self.name = name
        self.group = group
        self.module = module
        self.summary = summary
        self.desc = desc
        self.opts = tuple(opts)
        self.noconnect = noconnect
        self.blank = blank          # virsh prints an empty line after most commands

    def opt(self, name: str) -> Opt | None:
        for o in self.opts:
            if o.name == name:
                return o
        return None


class Parsed:
    """A parsed command: its definition and option values (bool True, str, or list for argv)."""

    __slots__ = ("cmd", "values")

    def __init__(self, cmd: Cmd, values: dict[str, object]) -> None:
        self.cmd = cmd
        self.values = values

    def bool(self, name: str) -> bool:
        return bool(self.values.get(name))

    def str(self, name: str) -> str | None:
        v = self.values.get(name)
        return v if isinstance(v, str) else None

    def argv(self, name: str) -> list[str]:
        v = self.values.get(name)
        return list(v) if isinstance(v, list) else []

    def has(self, name: str) -> bool:
        return name in self.values


# ---------------------------------------------------------------------------------------------
# tokenizing


def split_line(line: str) -> list[list[str]]:
    """Split one shell line into commands (lists of words) with virsh's quoting rules.

    Whitespace separates words; ``;`` ends a command; ``'...'`` is literal; ``"..."`` allows
    backslash escapes; a backslash outside quotes escapes the next character; ``#`` at the
    start of a word starts a comment running to the end of the line.
    """
    commands: list[list[str]] = []
    words: list[str] = []
    i, n = 0, len(line)
    while True:
        while i < n and line[i] in " \t\n\r":
            i += 1
        if i >= n:
            break
        c = line[i]
        if c == ";":
            if words:
                commands.append(words)
            words = []
            i += 1
            continue
        if c == "#":
            break
        buf: list[str] = []
        quote = ""
        while i < n:
            c = line[i]
            if not quote and (c in " \t\n\r;"):
                break
            if c == "\\" and quote != "'" and i + 1 < n:
                buf.append(line[i + 1])
                i += 2
                continue
            if quote:
                if c == quote:
                    quote = ""
                else:
                    buf.append(c)
            elif c in "'\"":
                quote = c
            else:
                buf.append(c)
            i += 1
        if quote:
            raise ParseError("missing \"")
        words.append("".join(buf))
    if words:
        commands.append(words)
    return commands


# ---------------------------------------------------------------------------------------------
# parsing


def parse_command(words: Sequence[str], lookup) -> Parsed:
    """Parse one command's words against its option table (``lookup(name) -> Cmd | None``)."""
    name = words[0]
    cmd = lookup(name)
    if cmd is None:
        raise ParseError(f"unknown command: '{name}'")
    values: dict[str, object] = {}
    positional = [o for o in cmd.opts if o.pos or o.fill]
    data_only = False
    i = 1
    while i < len(words):
        w = words[i]
        i += 1
        if not data_only and w.startswith("--") and len(w) > 2:
            oname, eq, inline = w[2:].partition("=")
            opt = cmd.opt(oname)
            if opt is None:
                raise ParseError(f"command '{cmd.name}' doesn't support option --{oname}")
            if opt.name in values and opt.kind != ARGV:  # argv options repeat (--diskspec a --diskspec b)
                raise ParseError(f"option --{opt.name} already seen")
            if opt.kind == BOOL:
                if eq:
                    raise ParseError(f"invalid '=' after option --{opt.name}")
                values[opt.name] = True
                continue
            if eq:
                value = inline
            elif i < len(words):
                value = words[i]
                i += 1
            else:
                raise ParseError(f"expected syntax: --{opt.name} <{_type_word(opt)}>")
            if opt.kind == ARGV:
                lst = values.setdefault(opt.name, [])
                assert isinstance(lst, list)
                lst.append(value)
            else:
                values[opt.name] = value
            continue
        if not data_only and w == "--":
            data_only = True
            continue
        slot = next((o for o in positional if o.name not in values or o.kind == ARGV), None)
        if slot is None:
            raise ParseError(f"unexpected data '{w}'")
        if slot.kind == ARGV:
            lst = values.setdefault(slot.name, [])
            assert isinstance(lst, list)
            lst.append(w)
        else:
            values[slot.name] = w
    missing = [f"command '{cmd.name}' requires " + (f"<{o.name}>" if o.pos else f"--{o.name}") + " option"
               for o in cmd.opts if o.req and o.name not in values]
    if missing:  # vshCommandCheckOpts names every one
        raise ParseError(*missing)
    return Parsed(cmd, values)


def parse_line(commands: Iterable[Sequence[str]], lookup) -> list[Parsed]:
    """Parse every command of a line first, as virsh does: one syntax error runs nothing."""
    return [parse_command(words, lookup) for words in commands if words]


def _type_word(opt: Opt) -> str:
    return "number" if opt.kind == NUMBER else "string"


# ---------------------------------------------------------------------------------------------
# help text (virsh's layout)


def synopsis(cmd: Cmd) -> str:
    parts = [cmd.name]
    for o in cmd.opts:
        if o.pos and o.kind == ARGV:
            parts.append(f"[--{o.name}] <{_type_word(o)}>..." if o.req else f"[[--{o.name}] <{_type_word(o)}>]...")
        elif o.pos:
            parts.append(f"<{o.name}>" if o.req else f"[<{o.name}>]")
        elif o.kind == BOOL:
            parts.append(f"[--{o.name}]")
        else:
            parts.append(f"--{o.name} <{_type_word(o)}>" if o.req else f"[--{o.name} <{_type_word(o)}>]")
    return " ".join(parts)


def help_text(cmd: Cmd) -> str:
    lines = ["  NAME", f"    {cmd.name} - {cmd.summary}", "", "  SYNOPSIS", f"    {synopsis(cmd)}", ""]
    if cmd.desc:  # virsh leaves the section out for commands without a description (net-update)
        lines += ["  DESCRIPTION", *(f"    {d}" for d in cmd.desc.split("\n")), ""]
    if cmd.opts:
        lines.append("  OPTIONS")
        for o in cmd.opts:
            if o.kind == BOOL:
                left = f"--{o.name}"
            elif o.pos:
                left = f"[--{o.name}] <{_type_word(o)}>"
            else:
                left = f"--{o.name} <{_type_word(o)}>"
            lines.append(f"    {left:<15}  {o.help}")
        lines.append("")
    return "\n".join(lines) + "\n"
