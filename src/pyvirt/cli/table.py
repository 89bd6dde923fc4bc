"""The command table: every virsh 9.0 command, its option table and help text.

The definitions live in pyvirt.cli.tables, one module per virsh help group (generated from the
reference virsh by dev/virsh_table.py); this module assembles them.  Each command's implementation
is a function ``cmd_<name>`` in the module named by ``Cmd.module``, imported only when the command
runs, so that ``pyvirt list`` never pays for ``edit``'s or ``event``'s imports.  Commands whose
module is ``cmd_unsupported`` are known (help, parsing, completion) and fail as libvirt does for a
driver without the call.
"""

from __future__ import annotations

import sys

from pyvirt.cli.grammar import Cmd
from pyvirt.cli.tables import ORDER, group_of

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import ModuleType

__all__ = ["Cmd", "lookup"]  # and COMMANDS, GROUPS: see __getattr__

_by_group: dict[str, dict[str, Cmd]] = {}


def load(name: str) -> ModuleType:
    """``importlib.import_module(name)`` for an absolute name, without importing importlib (and
    warnings, which it imports): ~0.5 ms of every command's start-up."""
    __import__(name)
    return sys.modules[name]


def _group(keyword: str) -> dict[str, Cmd]:
    """One help group's commands by name, its module imported on first use."""
    found = _by_group.get(keyword)
    if found is None:
        module = load(f"pyvirt.cli.tables.{keyword}")
        found = _by_group[keyword] = {c.name: c for c in module.COMMANDS}
    return found


def lookup(name: str) -> Cmd | None:
    """The command called `name` (no abbreviations, as virsh)."""
    keyword = group_of(name)
    return None if keyword is None else _group(keyword).get(name)


def __getattr__(attr: str) -> tuple:
    """COMMANDS (every command, in help order) and GROUPS (help groups in virsh's order with their
    keyword for ``help <keyword>``) load every group: only help, completion and tests need them."""
    if attr == "COMMANDS":
        return tuple(c for k in ORDER for c in _group(k).values())
    if attr == "GROUPS":
        return tuple(load(f"pyvirt.cli.tables.{k}").GROUP for k in ORDER)
    raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")
