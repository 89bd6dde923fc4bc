"""Running parsed command lines: connect on demand, dispatch, report errors as virsh does.

virsh parses a whole line before running any of it, keeps going after a command fails, prints an
empty line after most commands (unless ``-q``) and exits with the status of the last command.
"""

from __future__ import annotations

from pyvirt.cli import table
from pyvirt.cli.context import CmdError, ConnectError, Ctl, pyvirt_error
from pyvirt.cli.grammar import Parsed, ParseError, parse_line

TYPE_CHECKING = False  # collections.abc costs ~1.5 ms at start-up; only annotations need it
if TYPE_CHECKING:
    from collections.abc import Sequence

QUIT = "quit"


def run_words(ctl: Ctl, commands: str | Sequence[Sequence[str]], *, connect_first: bool = False) -> bool | str:
    """Parse and run a command string or commands split into words (grammar.parse_line); True/
    False is the last command's outcome, QUIT asks to leave.  `connect_first`: connect once the
    line parsed, before running any of it (virsh -c)."""
    try:
        parsed = parse_line(commands, table.lookup)
    except ParseError as exc:
        for message in exc.messages:
            ctl.error(message)
        return False
    if ctl.debugging(ctl.INFO):
        ctl.debug_msg(ctl.INFO, "".join(p.debug_lines() for p in parsed))
    if connect_first and not connect_or_report(ctl):
        return False
    ok: bool | str = True
    for p in parsed:
        ok = run_one(ctl, p)
        if ok == QUIT:
            return QUIT
    return ok


def connect_or_report(ctl: Ctl) -> bool:
    """Open the connection named with -c now (virshInit's connect), reporting a failure in
    virsh's two lines; False when it failed."""
    try:
        ctl.conn  # noqa: B018
    except ConnectError as exc:
        _connect_failed(ctl, exc)
        return False
    return True


def _connect_failed(ctl: Ctl, exc: ConnectError) -> None:
    """virsh's two lines for a connection that could not be opened."""
    ctl.error("failed to connect to the hypervisor")
    ctl.error(str(exc))


def handler(cmd: table.Cmd):
    module = table.load(f"pyvirt.cli.{cmd.module}")
    return getattr(module, "cmd_" + cmd.name.replace("-", "_"))


def run_one(ctl: Ctl, p: Parsed) -> bool | str:
    cmd = p.cmd
    if cmd.name in ("quit", "exit"):
        return QUIT
    ctl.cmdname = cmd.name
    try:
        if not cmd.noconnect:
            ctl.conn  # noqa: B018 - open the connection before the command, as virsh does
        ok = handler(cmd)(ctl, p) is not False
    except ConnectError as exc:  # said, and the line goes on (the next command connects again)
        _connect_failed(ctl, exc)
        ok = False
    except CmdError as exc:
        for m in exc.messages:
            ctl.error(m)
        ok = False
    except pyvirt_error() as exc:
        ctl.error(exc.message)  # type: ignore[attr-defined]
        ok = False
    except KeyboardInterrupt:
        ok = False
    ctl.extra("\n")  # vshCommandRun's line after every command: commands end their own output without it
    ctl.out.flush()
    return ok
