"""``edit``: the inactive XML in $VISUAL/$EDITOR, redefined on save, with virsh's retry prompt."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Callable

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


def edit_text(text: str) -> str:
    """vshEditWriteToTempFile, vshEditFile and vshEditReadBackFile: `text` in $VISUAL/$EDITOR,
    what the user saved read back (its final newline, which editors add, removed as
    virStringTrimOptionalNewline does)."""
    import tempfile

    with tempfile.NamedTemporaryFile("w", prefix="virsh", suffix=".xml", delete=False) as fh:
        fh.write(text)
    try:
        _run_editor(fh.name)
        with open(fh.name, encoding="utf-8", errors="replace") as back:
            edited = back.read()
    finally:
        os.unlink(fh.name)
    return edited[:-1] if edited.endswith("\n") else edited


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


def inactive_xml(get: Callable[..., str], name: str) -> str:
    """The definition an edit starts from: the inactive one, or the current one where the driver
    refuses that flag as unsupported (virsh's pool-edit and net-edit retry without it on
    VIR_ERR_INVALID_ARG, which is what libvirt's test driver answers)."""
    from pyvirt.api import ErrorCode, PyvirtError

    try:
        return get(name, inactive=True)
    except PyvirtError as exc:
        if exc.code != ErrorCode.INVALID_ARG:
            raise
    return get(name)


def edit_loop(ctl: Ctl, original: str, name: str, label: str, define: Callable[[str, bool], str], *,
              tmp_prefix: str, validate: bool = True, relax: bool = False,
              done_message: Callable[[str], str] | None = None, unchanged_message: str | None = None) -> bool:
    """virsh-edit.c's loop over a temporary copy of `original`.  `label` formats as the object
    (``"Domain '{}'"``, ``"Pool {}"``) in the not-changed/edited lines; `define(xml, validate)`
    redefines and returns the new name.  On failure: y edits again, n gives up, f redefines as it
    is, i redefines without validation where `relax` (otherwise it edits again, like y).
    `done_message(new_name)` replaces the "XML configuration edited." line where virsh words it
    otherwise (snapshot-edit), `unchanged_message` the not-changed line (metadata --edit)."""
    from pyvirt.api import PyvirtError

    fd, path = tempfile.mkstemp(prefix=tmp_prefix, suffix=".xml")
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
                ctl.extra(unchanged_message if unchanged_message is not None
                          else f"{label.format(name)} XML configuration not changed.\n")
                return True
            try:
                done = define(new, validate)
            except PyvirtError as exc:
                ctl.error(exc.message)
                answer = _ask(ctl)
                if answer == "n":
                    return False
                if answer == "i" and relax:
                    validate = False
                edit = answer == "y" or (answer == "i" and not relax)
                continue
            ctl.extra(done_message(done) if done_message is not None
                      else f"{label.format(done)} XML configuration edited.\n")
            return True
    finally:
        os.unlink(path)


def cmd_edit(ctl: Ctl, p: Parsed) -> bool:
    info = ctl.domain(p.str("domain") or "")
    original = ctl.conn.get_xml(info.uuid or info.name, inactive=True, security_info=True)
    return edit_loop(ctl, original, info.name, "Domain '{}'",
                     lambda xml, validate: ctl.conn.define_xml(xml, validate=validate).name,
                     tmp_prefix=f"pyvirt-{info.name}-", validate=not p.bool("skip-validate"), relax=True)
