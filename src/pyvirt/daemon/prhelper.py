"""The managed persistent-reservation helper (``<source><reservations managed='yes'/>``): one
qemu-pr-helper per guest, started by a system daemon before QEMU and stopped with the guest,
as libvirt 9.0's qemuProcessStartManagedPRDaemon / qemuProcessKillManagedPRDaemon do.

It runs as root (it issues the SCSI PERSISTENT RESERVE commands QEMU may not), listens on
``<private dir>/pr-helper0.sock`` (where the command line's ``pr-manager-helper`` object
connects, argv_disks._pr_manager), which is given to QEMU's user; pyvirtd waits for the socket
before QEMU starts (QEMU connects at once).  Every end of the guest stops it
(daemon/guesthelpers).  A session daemon cannot run it (root only) and refuses the start,
naming why.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError
from pyvirt.daemon import guesthelpers
from pyvirt.qemu import process

SOCKET = "pr-helper0.sock"


def needed(dom: Any) -> bool:
    return any(d.source_reservations_managed for d in dom.devices.disks)


def check(dom: Any, privileged: bool) -> None:
    """Refuse what pyvirtd cannot run, before anything is started."""
    if needed(dom) and not privileged:
        disk = next(d for d in dom.devices.disks if d.source_reservations_managed)
        raise PyvirtError(f"unsupported configuration: <reservations managed='yes'> (disk {disk.target_dev}) needs "
                          "the qemu-pr-helper a system daemon runs as root; a session daemon cannot run it (run "
                          "one yourself and use managed='no' with its socket)", ErrorCode.CONFIG_UNSUPPORTED,
                          ErrorDomain.QEMU)


def start(dom: Any, private_dir: Path, log: Path, user: Any = None) -> list[process.ProcessIdentity]:
    """Start the guest's helper (none needed: nothing), wait for its socket and give it to QEMU's
    `user`; on failure nothing is left running."""
    if not needed(dom):
        return []
    binary = shutil.which("qemu-pr-helper") or "/usr/bin/qemu-pr-helper"
    if not os.access(binary, os.X_OK):
        raise PyvirtError("operation failed: qemu-pr-helper is not installed (Debian package 'qemu-system-common')",
                          ErrorCode.OPERATION_FAILED, ErrorDomain.QEMU)
    sock = private_dir / SOCKET
    ident = guesthelpers.launch([binary, "-k", str(sock)], log, private_dir, "pr-helper0", sock, socket_owner=user)
    return [ident]
