"""virsh's own command-line grammar: tokenizing, option tables and parsing.

virsh does not use getopt for commands: every command has a table of typed options (bool,
string, number, positional data, trailing argv), accepts ``--opt value`` and ``--opt=value``,
fills positional slots in order, refuses abbreviations, and parses a whole ``;``-separated line
before running any of it.  Scripts depend on its exact error messages, so they are reproduced
here word for word.  Pure functions only: no I/O, no connection, cheap to import.
"""

from __future__ import annotations

from pyvirt.cli.context import CmdError

TYPE_CHECKING = False  # collections.abc costs ~1.5 ms at start-up; only annotations need it
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

BOOL = "bool"          # VSH_OT_BOOL: --name, no value
STRING = "string"      # VSH_OT_STRING: optional, value given as --name v or in its positional slot
NUMBER = "number"      # VSH_OT_INT
DATA = "data"          # VSH_OT_DATA: a value help shows positionally (<name>)
ARGV = "argv"          # VSH_OT_ARGV: takes every remaining data word


class ParseError(Exception):
    """A syntax error: virsh prints each message as ``error: <msg>`` and runs nothing of the line."""

    def __init__(self, *messages: str) -> None:
        super().__init__(messages[0] if messages else "")
        self.messages = list(messages)


class Opt:
    """One option of a command: name, type, whether it is required and whether it may be positional.

    As in virsh, every option that takes a value also fills a positional slot (in table order),
    unless it is `named` (virsh's VSH_OFLAG_REQ_OPT: only ``--name value`` sets it).
    """

    __slots__ = ("name", "kind", "help", "pos", "req", "ctype")

    def __init__(self, name: str, kind: str = BOOL, help: str = "", *, req: bool = False,
                 named: bool = False, ctype: str | None = None) -> None:
        self.name = name
        self.kind = kind
        self.help = help
        self.pos = kind != BOOL and not named
        self.req = req
        self.ctype = ctype  # a number's C type as virsh reads it (a pyvirt.xml.cnumbers.C_RANGES key), if known


class Cmd:
    """A command's definition: name, help group, implementing module, and option table."""

    __slots__ = ("name", "group", "module", "summary", "desc", "_opts", "noconnect", "hidden")

    def __init__(self, name: str, group: str, module: str, summary: str, desc: str,
                 opts: Sequence[Opt] | Callable[[], Sequence[Opt]] = (), *, noconnect: bool = False,
                 hidden: bool = False) -> None:
        self.name = name
        self.group = group
        self.module = module
        self.summary = summary
        self.desc = desc
        self._opts = opts
        self.noconnect = noconnect
        self.hidden = hidden  # virsh's VSH_CMD_FLAG_HIDDEN: runs and has help, not listed by 'help'

    @property
    def opts(self) -> tuple[Opt, ...]:
        """The option table; the generated tables (pyvirt.cli.tables) give it as a function, built
        here on first use: a command line parses one command, and building every option of its
        group (the domain group: 614) cost more than a millisecond of each run."""
        opts = self._opts
        if type(opts) is not tuple:
            opts = self._opts = tuple(opts() if callable(opts) else opts)
        return opts

    def opt(self, name: str) -> Opt | None:
        for o in self.opts:
            if o.name == name:
                return o
        return None


#: the string options virsh 9.0 reads without vshCommandOptStringReq (vshCommandOptStringQuiet,
#: or VSH_OFLAG_EMPTY_OK): given empty, what follows is the command's own doing (a silent failure
#: for --xpath, "requires <device> option", the option taken as absent...).  A bare name is
#: every command's option of that name; "CMD --name" one command's.
EMPTY_READ_QUIETLY = frozenset({
    "xpath", "pass-fds", "vcpupin --cpulist", "emulatorpin --cpulist", "device-weights", "device-read-iops-sec", "device-write-iops-sec",
    "device-read-bytes-sec", "device-write-bytes-sec", "send-key --codeset", "undefine --storage",
    "domblkinfo --device", "domblkstat --device", "event --domain", "net-event --network",
    "nodedev-event --device", "secret-event --secret", "pool-event --pool", "nodedev-detach --driver",
    "nodedev-list --cap", "secret-set-value --file", "secret-set-value --base64",
    "vol-create-as --allocation", "vol-wipe --algorithm", "cd --dir", "connect --name",
    "help --command", "dump --format", "attach-disk --source",
})


#: virsh 9.0's hidden option aliases (VSH_OT_ALIAS), per command: the alias stands for the option
#: it names (errors then name that option), and ``name=value`` makes it a flag that gives the
#: option that value.  Not shown by help; found by trying every command of the reference virsh.
#: UNDERSCORED: every valued option of the command under its old name, '-' written '_'
#: (blkdeviotune's throttle settings: the names are the command table's, written once there).
UNDERSCORED = "_"
ALIASES: dict[str, dict[str, str] | str] = {
    "echo": {"str": "string", "hi": "string=hello"},
    "setmem": {"kilobytes": "size"},
    "setmaxmem": {"kilobytes": "size"},
    "domif-setlink": {"persistent": "config"},
    "domif-getlink": {"persistent": "config"},
    "blkdeviotune": UNDERSCORED,
}


def aliases(cmd: Cmd) -> dict[str, str]:
    """The hidden aliases of `cmd`'s options (ALIASES, UNDERSCORED spelt out from its table)."""
    found = ALIASES.get(cmd.name)
    if found is None:
        return {}
    if found == UNDERSCORED:
        return {o.name.replace("-", "_"): o.name for o in cmd.opts if o.kind != BOOL and "-" in o.name}
    assert isinstance(found, dict)
    return found


def _past_c_type(text: str, ctype: str) -> bool:
    """Whether `text`, a whole decimal number as virStrToLong_* reads it, is beyond what `ctype`
    holds (what is no number at all is the reading command's to refuse)."""
    from pyvirt.xml.cnumbers import C_RANGES, c_strtol

    n = c_strtol(text)
    if n is None:
        return False
    low, high = C_RANGES[ctype]
    return not low <= n < high


class Parsed:
    """A parsed command: its definition and option values (bool True, str, or list for argv)."""

    __slots__ = ("cmd", "values", "trail")

    def __init__(self, cmd: Cmd, values: dict[str, object],
                 trail: list[tuple[str, str | None]] | None = None) -> None:
        self.cmd = cmd
        self.values = values
        self.trail = trail or []  # (option, its text or None for a bool) in the order given

    def debug_lines(self) -> str:
        """What vshCommandParse logs at level INFO as it saves each option: ``CMD: OPT(optdata): TEXT``
        or ``CMD: OPT(bool): (none)``."""
        return "".join(f"{self.cmd.name}: {name}(optdata): {value}\n" if value is not None
                       else f"{self.cmd.name}: {name}(bool): (none)\n" for name, value in self.trail)

    def bool(self, name: str) -> bool:
        return bool(self.values.get(name))

    def str(self, name: str) -> str | None:
        """The option's text (None: not given).  Given empty, it is refused here, when the command
        reads it, as vshCommandOptStringReq refuses it, unless virsh reads that option otherwise
        (EMPTY_READ_QUIETLY) or it is a number (vshCommandOptInt words that error itself).  What
        cannot be read is the command's failure (CmdError), as virsh's option getters report it
        inside the command: a command that adds its own line to such a failure adds it here too."""
        v = self.values.get(name)
        if not isinstance(v, str):
            return None
        opt = self.cmd.opt(name)
        if opt is not None and opt.ctype and _past_c_type(v, opt.ctype):
            raise CmdError(f"Numeric value '{v}' for <{name}> option is malformed or out of range")
        if not v and name not in EMPTY_READ_QUIETLY and f"{self.cmd.name} --{name}" not in EMPTY_READ_QUIETLY:
            opt = self.cmd.opt(name)
            if opt is not None and opt.kind != NUMBER:
                raise CmdError(f"Failed to get option '{name}': Option argument is empty")
        return v

    def argv(self, name: str) -> list[str]:
        v = self.values.get(name)
        return list(v) if isinstance(v, list) else []

    def has(self, name: str) -> bool:
        return name in self.values


# ---------------------------------------------------------------------------------------------
# tokenizing


#: the kinds of token next_token reads (vsh.c's vshCommandToken)
TK_ERROR, TK_ARG, TK_SUBCMD_END, TK_END = range(4)


def next_token(line: str, pos: int, report: bool = True) -> tuple[int, str, int]:
    """virsh's vshCommandStringGetArg: the next word of the command string `line` from `pos`, as
    (kind, text, position after it) -- the one tokenizer of the command line, the partial parse
    of completion included.

    Blanks (space, tab) and backslash-newlines separate words; ``;`` and newline end a command
    (TK_SUBCMD_END); a word starting with ``#`` comments out the rest of its line (TK_SUBCMD_END
    after it); ``'...'`` is literal; ``"..."`` keeps backslash escapes; a backslash outside
    single quotes takes the next character literally, a backslash-newline vanishes; an
    unterminated single quote just ends the word.  At the end of the line (TK_END) the text is
    what was left from `pos` (virsh's copy of the rest: completion's "quirk" reads it) and the
    position stays.  TK_ERROR (the text is virsh's message; the position stays, as virsh leaves
    its parser there): a trailing backslash always, an unterminated double quote only when
    `report` (without it the word simply ends: completion's option values)."""
    rest = line[pos:]
    p, n = pos, len(line)
    while p < n and (line[p] in " \t" or (line[p] == "\\" and line[p + 1:p + 2] == "\n")):
        p += 1 + (line[p] == "\\")
    if p >= n:
        return TK_END, rest, pos
    c = line[p]
    if c in ";\n":
        return TK_SUBCMD_END, "", p + 1
    if c == "#":
        end = line.find("\n", p)
        return TK_SUBCMD_END, "", n if end < 0 else end + 1
    buf: list[str] = []
    single = double = False
    while p < n:
        c = line[p]
        if not single and not double and c in " \t;\n":
            break
        if not double and c == "'":
            single = not single
            p += 1
            continue
        if not single and c == "\\":
            p += 1
            if p >= n:
                return TK_ERROR, "dangling \\", pos
            if line[p] == "\n":  # backslash-newline is elided entirely
                p += 1
                continue
        elif not single and c == '"':
            double = not double
            p += 1
            continue
        buf.append(line[p])
        p += 1
    if double and report:
        return TK_ERROR, 'missing "', pos
    return TK_ARG, "".join(buf), p


class Tokens:
    """virsh's vshCommandParser: the words of a command line, read one at a time as the parse
    asks for them, so that what the parse finds wrong in a command comes before a tokenizing
    error later in the line (``nosuch; echo "x``: unknown command, not the missing quote).
    A command string is read through next_token; argv words (``virsh CMD ARG...``) as they are."""

    __slots__ = ("line", "pos", "words", "kind")

    def __init__(self, line: str = "", words: Sequence[str] | None = None) -> None:
        self.line = line
        self.words = words
        self.pos = 0
        self.kind = TK_ARG  # what the last read found

    def next(self, report: bool = True) -> str | None:
        """The next word, or None where the command ends (`kind` says how: TK_SUBCMD_END,
        TK_END, or TK_ERROR for an error not reported).  A tokenizing error is a ParseError
        when `report`."""
        if self.words is not None:  # vshCommandArgvGetArg: every word is a word
            if self.pos >= len(self.words):
                self.kind = TK_END
                return None
            self.pos += 1
            return self.words[self.pos - 1]
        self.kind, text, self.pos = next_token(self.line, self.pos, report)
        if self.kind == TK_ARG:
            return text
        if self.kind == TK_ERROR and report:
            raise ParseError(text)
        return None


def split_line(line: str) -> list[list[str]]:
    """The commands (lists of words) of a command string, every word read by next_token; a
    tokenizing error is a ParseError."""
    tokens = Tokens(line)
    commands: list[list[str]] = []
    words: list[str] = []
    while True:
        word = tokens.next()
        if word is not None:
            words.append(word)
            continue
        if words:
            commands.append(words)
        words = []
        if tokens.kind == TK_END:
            return commands


# ---------------------------------------------------------------------------------------------
# parsing


def parse_command(words: Sequence[str], lookup) -> Parsed:
    """Parse one command's words against its option table (``lookup(name) -> Cmd | None``)."""
    tokens = Tokens(words=words)
    return _parse_command(tokens.next() or "", tokens, lookup)


def _parse_command(name: str, tokens: Tokens, lookup) -> Parsed:
    """vshCommandParse of one command named `name`, its words read from `tokens` up to the
    command's end."""
    cmd = lookup(name)
    if cmd is None:
        raise ParseError(f"unknown command: '{name}'")
    values: dict[str, object] = {}
    trail: list[tuple[str, str | None]] = []
    positional = [o for o in cmd.opts if o.pos]
    data_only = False
    wants_help = False
    while (w := tokens.next()) is not None:
        if not data_only and w.startswith("--") and len(w) > 2:
            oname, eq, inline = w[2:].partition("=")
            alias = aliases(cmd).get(oname)
            if alias is not None:  # vshCmddefGetOption: the alias is replaced by what it names
                oname, preset, value = alias.partition("=")
                if preset:
                    if eq:
                        raise ParseError(f"invalid '=' after option --{w[2:].partition('=')[0]}")
                    eq, inline = preset, value
            opt = cmd.opt(oname)
            if opt is None and oname == "help":  # every command's hidden --help: 'help CMD' instead
                if eq:
                    raise ParseError("invalid '=' after option --help")
                wants_help = True
                continue
            if opt is None and cmd.name == "help":  # virsh: 'help' ignores every spurious option
                continue
            if opt is None:
                raise ParseError(f"command '{cmd.name}' doesn't support option --{oname}")
            if opt.name in values and opt.kind != ARGV:  # argv options repeat (--diskspec a --diskspec b)
                raise ParseError(f"option --{opt.name} already seen")
            if opt.kind == BOOL:
                if eq:
                    raise ParseError(f"invalid '=' after option --{opt.name}")
                values[opt.name] = True
                trail.append((opt.name, None))
                continue
            if eq:
                value = inline
            else:
                got = tokens.next()
                if got is None:
                    raise ParseError(f"expected syntax: --{opt.name} <{_type_word(opt)}>")
                value = got
            if opt.kind == ARGV:
                lst = values.setdefault(opt.name, [])
                assert isinstance(lst, list)
                lst.append(value)
            else:
                values[opt.name] = value
            trail.append((opt.name, value))
            continue
        if not data_only and w == "--":
            data_only = True
            continue
        slot = next((o for o in positional if o.name not in values or o.kind == ARGV), None)
        if slot is None and cmd.name == "help":  # ... and spurious data
            continue
        if slot is None:
            raise ParseError(f"unexpected data '{w}'")
        if slot.kind == ARGV:
            lst = values.setdefault(slot.name, [])
            assert isinstance(lst, list)
            lst.append(w)
        else:
            values[slot.name] = w
        trail.append((slot.name, w))
    if wants_help:  # vshCommandParse: the parsed command becomes 'help <cmdname>', nothing required
        return Parsed(lookup("help"), {"command": cmd.name})
    missing = [f"command '{cmd.name}' requires " + (f"<{o.name}>" if o.kind in (DATA, ARGV) else f"--{o.name}")
               + " option"
               for o in cmd.opts if o.req and o.name not in values]
    if missing:  # vshCommandCheckOpts names every one
        raise ParseError(*missing)
    return Parsed(cmd, values, trail)


def parse_line(line: str | Iterable[Sequence[str]], lookup) -> list[Parsed]:
    """Parse every command of a line first, as virsh does: one syntax error runs nothing.  `line`
    is a command string (read word by word as the parse goes, vshCommandStringParse) or commands
    already split into words (argv: vshCommandArgvParse, one list per command).  A command whose
    first word starts with ``#`` (quoted or escaped, so not a comment to the tokenizer) is
    skipped whole, its words read without reporting errors, as vshCommandParse skips it."""
    if not isinstance(line, str):
        return [p for words in line for p in _parse_tokens(Tokens(words=words), lookup)]
    return _parse_tokens(Tokens(line), lookup)


def _parse_tokens(tokens: Tokens, lookup) -> list[Parsed]:
    parsed: list[Parsed] = []
    while True:
        first = tokens.next()
        if first is not None:
            if first.startswith("#"):
                while tokens.next(report=False) is not None:
                    pass
            else:
                parsed.append(_parse_command(first, tokens, lookup))
        if tokens.kind == TK_END:  # after an unreported error the same word is read again, reported
            return parsed


def _type_word(opt: Opt) -> str:
    return "number" if opt.kind == NUMBER else "string"


# ---------------------------------------------------------------------------------------------
# help text (virsh's layout)


def _shapes(cmd: Cmd) -> list[tuple[str, str]]:
    """(synopsis word, OPTIONS column) of each option, as virsh 9.0's vshCmddefHelp draws them.

    An argv option is drawn as nameable (``[--cmd] <string>``) only once some earlier option is
    positional, mirroring how virsh decides it."""
    shapes: list[tuple[str, str]] = []
    shortopt = False
    for o in cmd.opts:
        n = o.name
        if o.kind == BOOL:
            shapes.append((f"[--{n}]", f"--{n}"))
        elif o.kind == NUMBER:
            shapes.append((f"<{n}>", f"[--{n}] <number>") if o.req else (f"[--{n} <number>]", f"--{n} <number>"))
        elif o.kind == STRING:
            shapes.append((f"[--{n} <string>]", f"--{n} <string>"))
        elif o.kind == DATA:
            shapes.append((f"<{n}>" if o.req else f"[<{n}>]", f"[--{n}] <string>"))
        elif shortopt:
            shapes.append((f"{{[--{n}] <string>}}..." if o.req else f"[[--{n}] <string>]...", f"[--{n}] <string>"))
        else:
            shapes.append((f"<{n}>..." if o.req else f"[<{n}>]...", f"<{n}>"))
        shortopt = shortopt or (o.pos and o.kind != ARGV)
    return shapes


def synopsis(cmd: Cmd) -> str:
    return " ".join([cmd.name, *(syn for syn, _ in _shapes(cmd))])


def help_text(cmd: Cmd) -> str:
    """``help CMD``: NAME, SYNOPSIS, DESCRIPTION (when there is one), OPTIONS (when there are any)."""
    text = f"  NAME\n    {cmd.name} - {cmd.summary}\n\n  SYNOPSIS\n    {synopsis(cmd)}\n"
    if cmd.desc:
        text += f"\n  DESCRIPTION\n    {cmd.desc}\n"
    if cmd.opts:
        text += "\n  OPTIONS\n" + "".join(f"    {left:<15}  {o.help}\n"
                                           for o, (_, left) in zip(cmd.opts, _shapes(cmd), strict=True))
    return text + "\n"
