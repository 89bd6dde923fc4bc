"""libvirt's ``<domainbackup>`` XML <-> :class:`BackupDef` (backup_conf.c's rules).

A backup job copies a running guest's disks: *push* mode writes them to target files, *pull*
mode exports them over NBD for a client to read (QEMU keeps a point-in-time view in a scratch
file meanwhile).  Full, or incremental since a checkpoint (``<incremental>``, or per disk).

:func:`parse_backup` reads a request the way virDomainBackupDefParse does; :func:`align_disks`
is virDomainBackupAlignDisks (the listed disks first, then every other disk of the guest);
:meth:`BackupDef.to_xml` is virDomainBackupDefFormat, what ``backup-dumpxml`` prints.
"""

from __future__ import annotations

import dataclasses

from .errors import XMLError, XMLUnsupportedError
from .fields import Bool, Enum, Int, attr, child, children, line_field, model, text
from .mapping import FormatOptions, build, parse_model, to_text
from .safe import parse_root


@model
class BackupServer:
    """``<server>``: where a pull-mode backup's NBD server listens."""

    transport: str | None = attr("@transport", Enum("tcp", "unix", known=("rdma",)))
    tls: bool | None = attr("@tls", Bool())
    name: str | None = attr("@name")
    port: int | None = attr("@port", Int(0, 65535))
    socket: str | None = attr("@socket")
    line: int | None = line_field()


@model
class BackupDisk:
    """``<disks><disk>``: one guest disk in the backup (by target), and where its copy goes."""

    name: str | None = attr("@name")
    backup: bool | None = attr("@backup", Bool())
    type: str | None = attr("@type", Enum("file", "block"))
    backupmode: str | None = attr("@backupmode", Enum("full", "incremental"))
    incremental: str | None = attr("@incremental")
    exportname: str | None = attr("@exportname")
    exportbitmap: str | None = attr("@exportbitmap")
    driver_type: str | None = attr("driver/@type", Enum("raw", "qcow2", known=("qed", "vmdk", "vdi", "vpc", "luks")))
    target_file: str | None = attr("target/@file")
    target_dev: str | None = attr("target/@dev")
    scratch_file: str | None = attr("scratch/@file")
    scratch_dev: str | None = attr("scratch/@dev")
    line: int | None = line_field()

    @property
    def path(self) -> str | None:
        """The push target or the pull scratch image, whichever the mode uses."""
        return self.target_file or self.target_dev or self.scratch_file or self.scratch_dev


@model
class BackupDef:
    """One backup job's definition (``mode`` "push" or "pull")."""

    mode: str | None = attr("@mode", Enum("push", "pull"))
    incremental: str | None = text("incremental")
    server: BackupServer | None = child("server", BackupServer)
    disks: list[BackupDisk] = children("disks/disk", BackupDisk)
    line: int | None = line_field()

    @property
    def push(self) -> bool:
        return self.mode != "pull"

    def to_xml(self) -> str:
        """virDomainBackupDefFormat: disks that are not backed up show only name and backup='no'."""
        disks = [d if d.backup else BackupDisk(name=d.name, backup=False) for d in self.disks]
        view = dataclasses.replace(self, mode=self.mode or "push", disks=disks)
        return to_text(build(view, "domainbackup", FormatOptions(inactive=True, security_info=True))).rstrip("\n") + "\n"


def parse_backup(xml: str | bytes) -> BackupDef:
    """Read a ``<domainbackup>`` request (XMLError names the element and line)."""
    root = parse_root(xml, "domainbackup")
    backup: BackupDef = parse_model(root, BackupDef, "domainbackup")
    push = backup.push
    server = backup.server
    if server is not None:
        if push:
            raise XMLUnsupportedError("use of <server> requires pull mode backup", server.line)
        if server.transport == "rdma":
            raise XMLUnsupportedError("transport rdma is not supported for <server>", server.line)
        if server.transport == "unix":
            if not (server.socket or "").startswith("/"):
                raise XMLError(f"backup socket path '{server.socket}' must be absolute", server.line)
        elif server.name is None:
            raise XMLError("<server> needs a name (host) for transport 'tcp'", server.line)
    for disk in backup.disks:
        if disk.name is None:
            raise XMLError("missing name from disk backup element", disk.line)
        if disk.backup is None:
            disk.backup = True
        if not disk.backup:  # libvirt reads nothing else of such a disk
            backup.disks[backup.disks.index(disk)] = BackupDisk(name=disk.name, backup=False, line=disk.line)
            continue
        wrong = ("scratch_file", "scratch_dev") if push else ("target_file", "target_dev")
        if any(getattr(disk, a) is not None for a in wrong):
            raise XMLError(f"disk '{disk.name}': <{'scratch' if push else 'target'}> does not fit a "
                           f"{'push' if push else 'pull'} mode backup", disk.line)
        if push and (disk.exportname or disk.exportbitmap):
            disk.exportname = disk.exportbitmap = None  # pull mode only: libvirt does not read them
        kind = disk.type or "file"
        given = {"file": (disk.target_file, disk.scratch_file), "block": (disk.target_dev, disk.scratch_dev)}
        other = given["block" if kind == "file" else "file"]
        if any(v is not None for v in other):
            raise XMLError(f"disk '{disk.name}': the <{'target' if push else 'scratch'}> attribute does not fit "
                           f"type '{kind}'", disk.line)
        for path in given[kind]:
            if path is not None and not path.startswith("/"):
                raise XMLError(f"disk '{disk.name}': backup path '{path}' must be absolute", disk.line)
    return backup


class GuestDisk:
    """What aligning a backup's disks needs to know of one guest disk."""

    __slots__ = ("target", "source", "skip", "is_file")

    def __init__(self, target: str, source: str | None, skip: bool, is_file: bool) -> None:
        self.target, self.source, self.skip, self.is_file = target, source, skip, is_file


def align_disks(backup: BackupDef, disks: list[GuestDisk], suffix: str) -> None:
    """virDomainBackupAlignDisks: check the listed disks, then add every other guest disk
    (backed up only when the request listed none, and never when empty or read-only); a
    copy without a path is named ``SOURCE.SUFFIX`` (libvirt's suffix: the start time)."""
    if not disks:
        raise XMLUnsupportedError("domain must have at least one disk to perform backup")
    by_target = {g.target: g for g in disks}
    seen: set[str] = set()
    for req in backup.disks:
        guest = by_target.get(req.name or "")
        if guest is None:
            raise XMLUnsupportedError(f"no disk named '{req.name}'", req.line)
        if guest.target in seen:
            raise XMLUnsupportedError(f"disk '{req.name}' specified twice", req.line)
        seen.add(guest.target)
        if req.backupmode == "incremental" and req.incremental is None and backup.incremental is None:
            raise XMLUnsupportedError(f"'incremental' backup mode of disk '{req.name}' requires setting "
                                      "'incremental' field for disk or backup", req.line)
        if req.backup:
            _assign_store(req, guest, suffix, backup.push)
    backup_all = not backup.disks
    for guest in disks:
        if guest.target in seen:
            continue
        req = BackupDisk(name=guest.target, backup=backup_all and not guest.skip)
        if req.backup:
            _assign_store(req, guest, suffix, backup.push)
        backup.disks.append(req)
    for req in backup.disks:
        if not req.backup:
            continue
        if req.backupmode is None:
            req.backupmode = "incremental" if backup.incremental or req.incremental else "full"
        if req.backupmode == "incremental" and req.incremental is None:
            req.incremental = backup.incremental


def _assign_store(req: BackupDisk, guest: GuestDisk, suffix: str, push: bool) -> None:
    if guest.source is None:
        raise XMLUnsupportedError(f"disk '{req.name}' has no media", req.line)
    if req.type is None:
        req.type = "file"
    if req.path is None:
        if not guest.is_file or req.type != "file":
            raise XMLUnsupportedError(f"refusing to generate file name for disk '{req.name}'", req.line)
        path = f"{guest.source}.{suffix}"
        if push:
            req.target_file = path
        else:
            req.scratch_file = path
    if req.driver_type is None:  # qemu_backup.c: a file copy is qcow2 unless told, a device raw
        req.driver_type = "qcow2" if req.type == "file" else "raw"
