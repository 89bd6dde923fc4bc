"""``edit``: the inactive XML in $VISUAL/$EDITOR, redefined on save, with virsh's retry prompt."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile

from pyvirt.cli.context import CmdError, Ctl
from pyvirt.cli.grammar import Parsed

PROMPT = "Failed. Try again? [y,n,i,f,?]:"
HELP = ("y - yes, start editor again\n"
        "n - no, throw away my changes\n"
        "i - turn off validation and try to redefine again\n"
        "f - force, try to redefine again\n"
        "? - print this help\n")


def _editor() -> str:
    return os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"


def _run_editor(path: str) -> None:
    argv = [*shlex.split(_editor()), path]
    rc = subprocess.call(argv)
    if rc != 0:
        raise CmdError(f"{argv[0]}: command failed with exit status {rc}")


def _ask(ctl: Ctl) -> str:
    """One answer from the user: a single key in raw mode on a terminal, else a line from stdin."""
    while True:
        ctl.extra(f"\n{PROMPT} ")
        ctl.out.flush()
        fd = sys.stdin.fileno()
        if os.isatty(fd):
            import termios
            import tty

            saved = termios.tcgetattr(fd)
            try:
                tty.setraw(fd)
                c = os.read(fd, 1).decode(errors="replace")
            finally:
                termios.tcsetattr(fd, termios.TCSADRAIN, saved)
        else:
            line = sys.stdin.readline()
            c = line.strip()[:1] if line else "n"
        if c == "?":
            ctl.print("\n" + HELP)
            continue
        if c in ("y", "n", "i", "f"):
            ctl.print("\n")
            return c


def cmd_edit(ctl: Ctl, p: Parsed) -> bool:
    from pyvirt.api import PyvirtError

    info = ctl.domain(p.str("domain") or "")
    original = ctl.conn.get_xml(info.uuid or info.name, inactive=True, security_info=True)
    validate = not p.bool("skip-validate")
    fd, path = tempfile.mkstemp(prefix=f"pyvirt-{info.name}-", suffix=".xml")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(original)
        edit = True
        while True:
            if edit:
                _run_editor(path)
            with open(path, encoding="utf-8") as fh:
                new = fh.read()
            if new == original:
                ctl.extra(f"Domain '{info.name}' XML configuration not changed.\n")
                return True
            try:
                dom = ctl.conn.define_xml(new, validate=validate)
            except PyvirtError as exc:
                ctl.error(exc.message)
                answer = _ask(ctl)
                if answer == "n":
                    return False
                if answer == "i":
                    validate = False
                edit = answer == "y"
                continue
            ctl.extra(f"Domain '{dom.name}' XML configuration edited.\n")
            return True
    finally:
        os.unlink(path)
