"""The interactive shell: ``pyvirt # `` prompt, readline history and tab completion."""

from __future__ import annotations

import contextlib
import os
import sys

from pyvirt.cli.context import ConnectError, Ctl
from pyvirt.cli.run import QUIT, connect_or_report, run_words

WELCOME = ("Welcome to pyvirt, the virtualization interactive terminal.\n\n"
           "Type:  'help' for help with commands\n"
           "       'quit' to quit\n\n")


def _history_path() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "pyvirt", "history")


class Completer:
    """TAB completion as virsh's readline completion (vshReadlineParse): the same engine as the
    hidden ``complete`` command (pyvirt.cli.completion), on the line up to the cursor."""

    def __init__(self, ctl: Ctl) -> None:
        self.ctl = ctl
        self.matches: list[str] = []

    def candidates(self, line: str, text: str) -> list[str]:
        from pyvirt.cli.completion import candidates

        try:
            return candidates(self.ctl, line, text) or []
        except Exception:  # noqa: BLE001 - completion must never break the prompt
            return []

    def __call__(self, text: str, state: int) -> str | None:
        if state == 0:
            import readline

            # Python's readline binding appends nothing after a unique completion: add the space
            # GNU readline (and so virsh) would, so the next word can be typed straight away
            line = readline.get_line_buffer()[:readline.get_endidx()]
            self.matches = [m + " " for m in self.candidates(line, text)]
        return self.matches[state] if state < len(self.matches) else None


def interactive(ctl: Ctl, *, connect_first: bool = False) -> int:
    """virsh's interactive mode: a URI named with -c (`connect_first`) is connected before the
    banner and must succeed (virshInit: its errors, exit 1); otherwise the connection is opened
    when a command first needs it.  The exit status is 0 whatever the commands did, and the
    shell ends with a line break (virsh's, after EOF and after quit alike)."""
    ctl.interactive = True
    if connect_first and not connect_or_report(ctl):
        return 1
    try:
        import readline
    except ImportError:  # pragma: no cover - readline is part of Debian's python
        readline = None  # type: ignore[assignment]
    hist = _history_path()
    if readline is not None:
        readline.set_completer(Completer(ctl))
        readline.set_completer_delims(" \t\n`@$><=;|&{(")  # virsh's rl_basic_word_break_characters
        readline.parse_and_bind("tab: complete")
        with contextlib.suppress(OSError):
            readline.read_history_file(hist)
    if not ctl.quiet:
        ctl.print(WELCOME)
    # virsh reads every line through readline, which shows what it read after the prompt even when
    # the input is a pipe or a file; Python's input() uses readline only on a terminal
    echo = not sys.stdin.isatty()
    try:
        while True:
            try:
                line = input("pyvirt > " if ctl.readonly else "pyvirt # ")  # as 'connect' left it
                if echo:
                    ctl.print(line + "\n")
            except EOFError:
                break
            except KeyboardInterrupt:
                ctl.print("\n")
                continue
            try:
                if line and run_words(ctl, line) == QUIT:
                    break
            except ConnectError:
                pass
        ctl.print("\n")  # virsh: "line break after alone prompt", its cmdstr freed after each line
    finally:
        if readline is not None:
            try:
                os.makedirs(os.path.dirname(hist), exist_ok=True)
                readline.set_history_length(500)
                readline.write_history_file(hist)
            except OSError:
                pass
        sys.stdout.flush()
    return 0
