"""Output formatting exactly as virsh 9.0 lays it out (vshTable, key/value blocks, state words).

Kept apart from the commands so the layout rules are unit-tested once and shared by every
command that prints a table.
"""

from __future__ import annotations

TYPE_CHECKING = False  # collections.abc costs ~1.5 ms at start-up; only annotations need it
if TYPE_CHECKING:
    from collections.abc import Sequence

STATES = ("no state", "running", "idle", "paused", "in shutdown", "shut off", "crashed", "pmsuspended")

REASONS: dict[int, tuple[str, ...]] = {
    1: ("unknown", "booted", "migrated", "restored", "from snapshot", "unpaused", "migration canceled",
        "save canceled", "event wakeup", "crashed", "post-copy"),
    3: ("unknown", "user", "migrating", "saving", "dumping", "I/O error", "watchdog", "from snapshot",
        "shutting down", "creating snapshot", "crashed", "starting up", "post-copy", "post-copy failed"),
    4: ("unknown", "user"),
    5: ("unknown", "shutdown", "destroyed", "crashed", "migrated", "saved", "failed", "from snapshot",
        "daemon"),
    6: ("unknown", "panicked"),
}

EVENTS = ("Defined", "Undefined", "Started", "Suspended", "Resumed", "Stopped", "Shutdown", "PMSuspended",
          "Crashed")
EVENT_DETAILS: tuple[tuple[str, ...], ...] = (
    ("Added", "Updated", "Renamed", "Snapshot"),
    ("Removed", "Renamed"),
    ("Booted", "Migrated", "Restored", "Snapshot", "Event wakeup"),
    ("Paused", "Migrated", "I/O Error", "Watchdog", "Restored", "Snapshot", "API error", "Post-copy",
     "Post-copy Error"),
    ("Unpaused", "Migrated", "Snapshot", "Post-copy", "Post-copy Error"),
    ("Shutdown", "Destroyed", "Crashed", "Migrated", "Saved", "Failed", "Snapshot"),
    ("Finished", "Finished after guest request", "Finished after host request"),
    ("Memory", "Disk"),
    ("Panicked", "Crashloaded"),
)


def state_word(state: int) -> str:
    return STATES[state] if 0 <= state < len(STATES) else "no state"


def reason_word(state: int, reason: int) -> str:
    words = REASONS.get(state, ("unknown",))
    return words[reason] if 0 <= reason < len(words) else "unknown"


def event_words(event: int, detail: int) -> tuple[str, str]:
    if not 0 <= event < len(EVENTS):
        return "unknown", "unknown"
    details = EVENT_DETAILS[event]
    return EVENTS[event], details[detail] if 0 <= detail < len(details) else "unknown"


def table(header: Sequence[str], rows: Sequence[Sequence[str]], *, show_header: bool = True) -> str:
    """vshTable: each cell is preceded by one space and padded to its column's width, columns are
    separated by two more spaces, the last column is not padded; the dash rule under the header
    is as long as all widths plus three per column.  Widths count only the rows printed (so
    ``-q`` narrows the columns, as in virsh)."""
    shown = ([list(header)] if show_header else []) + [list(r) for r in rows]
    if not shown:
        return ""
    ncol = len(header)
    widths = [max(len(r[i]) for r in shown) for i in range(ncol)]
    out: list[str] = []
    for n, row in enumerate(shown):
        cells = [" " + (c if i == ncol - 1 else c.ljust(widths[i])) for i, c in enumerate(row)]
        out.append("  ".join(cells) + "\n")
        if n == 0 and show_header:
            out.append("-" * (sum(widths) + 3 * ncol) + "\n")
    return "".join(out)


def keyvalues(pairs: Sequence[tuple[str, str]], width: int = 15) -> str:
    """dominfo's ``Key:<pad> value`` block (``%-15s %s``)."""
    return "".join(f"{k + ':':<{width}} {v}\n" for k, v in pairs)


_CAPACITY_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")


def typed_value(value: object) -> str:
    """A typed parameter's value as virTypedParameterToString / vshGetTypedParamValue write it:
    booleans yes/no, doubles with six decimals (%lf), the rest as text."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.6f}"
    return str(value)


def pretty_capacity(value: int) -> tuple[float, str]:
    """vshPrettyCapacity: the value in the largest binary unit that keeps it at least 1."""
    size, idx = float(value), 0
    while size >= 1024 and idx < len(_CAPACITY_UNITS) - 1:
        size /= 1024
        idx += 1
    return size, _CAPACITY_UNITS[idx]


def tree(names: Sequence[str], parents: dict[str, str | None]) -> str:
    """vshTreePrint: every name whose parent is None as a root, children in `names`' order, drawn
    with virsh's ``|`` and ``+-`` lines (snapshot-list --tree, nodedev-list --tree)."""
    out: list[str] = []

    def walk(name: str, last: bool, root: bool, indent: str) -> None:
        out.append(f"{indent}{'' if root else '+- '}{name}\n")
        if not root:
            indent += (" " if last else "|") + " "
        kids = [n for n in names if parents.get(n) == name]
        if kids:
            out.append(f"{indent}  |\n")
        for k in kids:
            walk(k, k == kids[-1], False, indent + "  ")
        if not kids and last:
            out.append(f"{indent}\n")

    for n in names:
        if parents.get(n) is None:
            walk(n, True, True, "")
    return "".join(out)


def pretty_json(value: object, level: int = 0) -> str:
    """libvirt's pretty JSON (virJSONValueToString with pretty: json-c's PRETTY|SPACED, slashes
    unescaped): two-space indent, ``"key": value``, and json-c's way with an empty container, an
    empty line before its closing bracket at the container's indent (``{\\n\\n  }``)."""
    import json

    if isinstance(value, dict | list):
        opening, closing = ("{", "}") if isinstance(value, dict) else ("[", "]")
        inner = "  " * (level + 1)
        if isinstance(value, dict):
            items = [f"{inner}{json.dumps(str(k), ensure_ascii=False)}: {pretty_json(v, level + 1)}"
                     for k, v in value.items()]
        else:
            items = [f"{inner}{pretty_json(v, level + 1)}" for v in value]
        return f"{opening}\n" + ",\n".join(items) + "\n" + "  " * level + closing
    return json.dumps(value, ensure_ascii=False)
