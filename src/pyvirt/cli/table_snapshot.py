"""Command table entries for virsh's Snapshot group (virsh 9.0's option tables and help text).

Implementations live in cmd_snapshot.py, imported only when a snapshot command runs.
"""

from __future__ import annotations

from pyvirt.cli.grammar import ARGV, BOOL, STRING, Cmd, Opt

SNAPSHOT = "Snapshot"
GROUPS = ((SNAPSHOT, "snapshot"),)


def _dom() -> Opt:
    return Opt("domain", STRING, "domain name, id or uuid", pos=True, req=True)


def _name(help: str = "snapshot name") -> Opt:
    return Opt("snapshotname", STRING, help, fill=True)


_CREATE_FLAGS = (
    Opt("no-metadata", BOOL, "take snapshot but create no metadata"),
    Opt("halt", BOOL, "halt domain after snapshot is created"),
    Opt("disk-only", BOOL, "capture disk state but not vm state"),
    Opt("reuse-external", BOOL, "reuse any existing external files"),
    Opt("quiesce", BOOL, "quiesce guest's file systems"),
    Opt("atomic", BOOL, "require atomic operation"),
    Opt("live", BOOL, "take a live snapshot"),
    Opt("validate", BOOL, "validate the XML against the schema"),
)
_SECURE = Opt("security-info", BOOL, "include security sensitive information in XML dump")

COMMANDS: tuple[Cmd, ...] = (
    Cmd("snapshot-create", SNAPSHOT, "cmd_snapshot", "Create a snapshot from XML",
        "Create a snapshot (disk and RAM) from XML",
        (_dom(), Opt("xmlfile", STRING, "domain snapshot XML", fill=True),
         Opt("redefine", BOOL, "redefine metadata for existing snapshot"),
         Opt("current", BOOL, "with redefine, set current snapshot"), *_CREATE_FLAGS)),
    Cmd("snapshot-create-as", SNAPSHOT, "cmd_snapshot", "Create a snapshot from a set of args",
        "Create a snapshot (disk and RAM) from arguments",
        (_dom(), Opt("name", STRING, "name of snapshot", fill=True),
         Opt("description", STRING, "description of snapshot", fill=True),
         Opt("print-xml", BOOL, "print XML document rather than create"), *_CREATE_FLAGS,
         Opt("memspec", STRING, "memory attributes: [file=]name[,snapshot=type]", fill=True),
         Opt("diskspec", ARGV, "disk attributes: disk[,snapshot=type][,driver=type][,stype=type][,file=name]"))),
    Cmd("snapshot-current", SNAPSHOT, "cmd_snapshot", "Get or set the current snapshot",
        "Get or set the current snapshot",
        (_dom(), Opt("name", BOOL, "list the name, rather than the full xml"), _SECURE,
         _name("name of existing snapshot to make current"))),
    Cmd("snapshot-delete", SNAPSHOT, "cmd_snapshot", "Delete a domain snapshot", "Snapshot Delete",
        (_dom(), _name(), Opt("current", BOOL, "delete current snapshot"),
         Opt("children", BOOL, "delete snapshot and all children"),
         Opt("children-only", BOOL, "delete children but not snapshot"),
         Opt("metadata", BOOL, "delete only libvirt metadata, leaving snapshot contents behind"))),
    Cmd("snapshot-dumpxml", SNAPSHOT, "cmd_snapshot", "Dump XML for a domain snapshot", "Snapshot Dump XML",
        (_dom(), Opt("snapshotname", STRING, "snapshot name", pos=True, req=True), _SECURE,
         Opt("xpath", STRING, "xpath expression to filter the XML document", fill=True),
         Opt("wrap", BOOL, "wrap xpath results in an common root element"))),
    Cmd("snapshot-edit", SNAPSHOT, "cmd_snapshot", "edit XML for a snapshot",
        "Edit the domain snapshot XML for a named snapshot",
        (_dom(), _name(), Opt("current", BOOL, "also set edited snapshot as current"),
         Opt("rename", BOOL, "allow renaming an existing snapshot"),
         Opt("clone", BOOL, "allow cloning to new name"))),
    Cmd("snapshot-info", SNAPSHOT, "cmd_snapshot", "snapshot information",
        "Returns basic information about a snapshot.",
        (_dom(), _name(), Opt("current", BOOL, "info on current snapshot"))),
    Cmd("snapshot-list", SNAPSHOT, "cmd_snapshot", "List snapshots for a domain", "Snapshot List",
        (_dom(), Opt("parent", BOOL, "add a column showing parent snapshot"),
         Opt("roots", BOOL, "list only snapshots without parents"),
         Opt("leaves", BOOL, "list only snapshots without children"),
         Opt("no-leaves", BOOL, "list only snapshots that are not leaves (with children)"),
         Opt("metadata", BOOL, "list only snapshots that have metadata that would prevent undefine"),
         Opt("no-metadata", BOOL, "list only snapshots that have no metadata managed by libvirt"),
         Opt("inactive", BOOL, "filter by snapshots taken while inactive"),
         Opt("active", BOOL, "filter by snapshots taken while active (full system snapshots)"),
         Opt("disk-only", BOOL, "filter by disk-only snapshots"),
         Opt("internal", BOOL, "filter by internal snapshots"),
         Opt("external", BOOL, "filter by external snapshots"),
         Opt("tree", BOOL, "list snapshots in a tree"),
         Opt("from", STRING, "limit list to children of given snapshot", fill=True),
         Opt("current", BOOL, "limit list to children of current snapshot"),
         Opt("descendants", BOOL, "with --from, list all descendants"),
         Opt("name", BOOL, "list snapshot names only"),
         Opt("topological", BOOL, "sort list topologically rather than by name"))),
    Cmd("snapshot-parent", SNAPSHOT, "cmd_snapshot", "Get the name of the parent of a snapshot",
        "Extract the snapshot's parent, if any",
        (_dom(), _name("find parent of snapshot name"), Opt("current", BOOL, "find parent of current snapshot"))),
    Cmd("snapshot-revert", SNAPSHOT, "cmd_snapshot", "Revert a domain to a snapshot", "Revert domain to snapshot",
        (_dom(), _name(), Opt("current", BOOL, "revert to current snapshot"),
         Opt("running", BOOL, "after reverting, change state to running"),
         Opt("paused", BOOL, "after reverting, change state to paused"),
         Opt("force", BOOL, "try harder on risky reverts"),
         Opt("reset-nvram", BOOL, "re-initialize NVRAM from its pristine template"))),
)
