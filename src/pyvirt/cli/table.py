"""The command table: every virsh 9.0 command, its option table and help text.

The definitions live in pyvirt.cli.tables, one module per virsh help group (generated from the
reference virsh by dev/virsh_table.py); this module assembles them.  Each command's implementation
is a function ``cmd_<name>`` in the module named by ``Cmd.module``, imported only when the command
runs, so that ``pyvirt list`` never pays for ``edit``'s or ``event``'s imports.  Commands whose
module is ``cmd_unsupported`` are known (help, parsing, completion) and fail as libvirt does for a
driver without the call.
"""

from __future__ import annotations

from pyvirt.cli.grammar import Cmd
from pyvirt.cli.tables import MODULES

#: help groups in virsh's order with their keyword for ``help <keyword>``
GROUPS: tuple[tuple[str, str], ...] = tuple(m.GROUP for m in MODULES)
COMMANDS: tuple[Cmd, ...] = tuple(c for m in MODULES for c in m.COMMANDS)
_BY_NAME: dict[str, Cmd] = {c.name: c for c in COMMANDS}


def lookup(name: str) -> Cmd | None:
    """The command called `name` (no abbreviations, as virsh)."""
    return _BY_NAME.get(name)
