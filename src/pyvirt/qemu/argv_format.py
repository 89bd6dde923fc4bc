"""Render a QEMU command line the way libvirt writes its ``.args`` files.

Layout: each environment variable on its own line, then the binary, then one option per line
with its value on the same line, every line but the last ending in `` \\``.  An argument is
single-quoted only when it holds a shell metacharacter (the same set libvirt's
``virBufferEscapeShell`` checks), so the text can be pasted into a shell as-is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

_SHELL_META = set("\r\t\n !\"#$&'()*;<>?[\\]^`{|}~")


def shell_quote(arg: str) -> str:
    """Quote *arg* for a POSIX shell only when needed (libvirt's rule)."""
    if arg and not (_SHELL_META & set(arg)):
        return arg
    return "'" + arg.replace("'", "'\\''") + "'"


def format_args(argv: Sequence[str], env: Mapping[str, str] | None = None) -> str:
    """Return libvirt's ``.args`` text for *argv* (binary first) and *env* (ends in newline)."""
    lines: list[str] = [f"{k}={shell_quote(v)}" for k, v in (env or {}).items()]
    if argv:
        lines.append(shell_quote(argv[0]))
    for arg in argv[1:]:
        if arg.startswith("-") or not lines:
            lines.append(shell_quote(arg))
        else:
            lines[-1] += " " + shell_quote(arg)
    return " \\\n".join(lines) + "\n"
