"""virsh's Backup group: backup-begin and backup-dumpxml (virsh-backup.c)."""

from __future__ import annotations

from pyvirt.cli.context import Ctl, xpath_option
from pyvirt.cli.grammar import Parsed


def cmd_backup_begin(ctl: Ctl, p: Parsed) -> bool:
    from pyvirt.cli.cmd_lifecycle import read_file
    from pyvirt.cli.cmd_snapshot import _key

    info = ctl.domain(p.str("domain") or "")
    backup_path, checkpoint_path = p.str("backupxml"), p.str("checkpointxml")
    backup = read_file(backup_path) if backup_path else "<domainbackup/>"
    checkpoint = read_file(checkpoint_path) if checkpoint_path else None
    ctl.conn.backup_begin(_key(info), backup, checkpoint_xml=checkpoint, reuse_external=p.bool("reuse-external"))
    ctl.print("Backup started\n")
    return True


def cmd_backup_dumpxml(ctl: Ctl, p: Parsed) -> bool:
    from pyvirt.cli.cmd_snapshot import _key

    info = ctl.domain(p.str("domain") or "")
    xpath = xpath_option(p)
    ctl.print_xml(ctl.conn.backup_xml(_key(info)), xpath, wrap=p.bool("wrap"))
    return True
