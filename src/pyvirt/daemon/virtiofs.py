"""virtiofs shares (``<filesystem><driver type='virtiofs'>``): one virtiofsd per share, started by
pyvirtd before QEMU, as libvirt 9.0's qemuVirtioFSStart does.

pyvirtd makes the listening socket itself, where the command line's chardev connects
(``<private dir>/<alias>-fs.sock``), hands it to virtiofsd as ``--fd`` and gives the path to
QEMU's user; virtiofsd runs as root (libvirt's "so far only running as root is supported": it
switches credentials per request) and exits when QEMU closes the connection.  The binary is
``<binary path>`` or the first vhost-user descriptor of type ``fs`` (Debian 12: QEMU 7.2's
``/usr/lib/qemu/virtiofsd`` from qemu-system-common); ``<binary>``'s children become its options
(qemuVirtioFSBuildCommandLine).  A share with ``<source socket>`` is served by a virtiofsd the
user runs: nothing is started for it.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError
from pyvirt.qemu import process
from pyvirt.qemu.escape import escape_value


def socket_path(private_dir: str | os.PathLike[str], alias: str) -> str:
    """Where a share's vhost-user socket is (the command line's ``chr-vu-ALIAS`` connects there)."""
    return f"{os.fspath(private_dir)}/{alias}-fs.sock"


def managed(dom: Any) -> list[Any]:
    """The virtiofs shares pyvirtd serves (not those on a user's ``<source socket>``)."""
    return [fs for fs in dom.devices.filesystems if fs.driver_type == "virtiofs" and not fs.source_socket]


def command_line(fs: Any, binary: str, fd: int) -> list[str]:
    """virtiofsd's arguments for `fs`, listening on descriptor `fd` (libvirt's order)."""
    opts = "source=" + escape_value(fs.source_dir or "")
    if fs.binary_cache_mode:
        opts += f",cache={fs.binary_cache_mode}"
    if fs.binary_sandbox_mode:
        opts += f",sandbox={fs.binary_sandbox_mode}"
    for value, name in ((fs.binary_xattr, "xattr"), (fs.binary_lock_flock, "flock"),
                        (fs.binary_lock_posix, "posix_lock")):
        if value is not None:
            opts += f",{name}" if value else f",no_{name}"
    argv = [binary, f"--fd={fd}", "-o", opts]
    if fs.binary_thread_pool_size is not None:
        argv.append(f"--thread-pool-size={fs.binary_thread_pool_size}")
    return argv


def _error(message: str) -> PyvirtError:
    return PyvirtError(f"internal error: {message}", ErrorCode.INTERNAL_ERROR, ErrorDomain.QEMU)


def check(dom: Any, privileged: bool) -> None:
    """libvirt's refusal of a share it would have to serve from a session daemon: virtiofsd
    runs as root (a share on the user's own ``<source socket>`` needs none)."""
    if managed(dom) and not privileged:
        raise PyvirtError("unsupported configuration: virtiofs is not yet supported in session mode",
                          ErrorCode.CONFIG_UNSUPPORTED, ErrorDomain.QEMU)


def start(dom: Any, private_dir: Path, log_dir: Path, user: Any = None) -> list[process.ProcessIdentity]:
    """Start one virtiofsd per managed share, logging to ``<log dir>/<guest>-<alias>-virtiofsd.log``
    (libvirt's name); on failure nothing is left running or bound.  `user`: QEMU's
    (daemon.qemuuser.QemuUser), who is given the socket to connect to."""
    from pyvirt.daemon.vhost_user_gpu import vhost_user_binary

    helpers: list[process.ProcessIdentity] = []
    try:
        for fs in managed(dom):
            binary = fs.binary_path or vhost_user_binary("fs")
            if binary is None:
                raise _error("no virtiofsd found (QEMU's vhost-user descriptors of type 'fs'; Debian package "
                             "'qemu-system-common'), and the filesystem names no <binary path>")
            if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
                raise _error(f"virtiofsd binary '{binary}' is not executable")
            if not os.path.exists(fs.source_dir or ""):
                raise _error(f"the virtiofs export directory '{fs.source_dir}' does not exist")
            path = socket_path(private_dir, fs.alias or "fs0")
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                listener.bind(path)
                listener.listen(1)
                if user is not None:
                    os.chown(path, user.uid, user.gid)
                log = log_dir / f"{dom.name}-{fs.alias or 'fs0'}-virtiofsd.log"
                helpers.append(process.spawn_detached(command_line(fs, binary, listener.fileno()), log,
                                                      pass_fds=(listener.fileno(),)))
            finally:
                listener.close()  # virtiofsd holds it now
    except BaseException:
        for ident in helpers:
            process.kill(ident)
        raise
    return helpers
