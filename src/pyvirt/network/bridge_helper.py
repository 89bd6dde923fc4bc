"""Tap devices for session daemons through QEMU's setuid bridge helper, as libvirt does.

A session daemon cannot create taps or touch bridges itself.  libvirt's qemu:///session hands
``<interface type='bridge'>`` to ``qemu-bridge-helper`` (setuid root, or given CAP_NET_ADMIN by
the admin): the helper checks the bridge against its ACL file (``/etc/qemu/bridge.conf``,
``allow BRIDGE`` lines), creates a tap, attaches it to the bridge and passes its fd back over a
unix socket.  pyvirtd does the same and gives the fd to QEMU exactly like its own taps.
"""

from __future__ import annotations

import fcntl
import os
import socket
import struct
import subprocess

from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError

#: Debian's qemu-system-common path (libvirt's qemu.conf ``bridge_helper`` points there on Debian)
HELPER = "/usr/lib/qemu/qemu-bridge-helper"
_TUNGETIFF = 0x800454D2
_TIMEOUT = 30.0


def available() -> bool:
    return os.access(HELPER, os.X_OK)


def open_tap(bridge: str, *, vnet_hdr: bool) -> tuple[int, str]:
    """(fd, tap name) of a new tap on `bridge`, created by the helper.  Errors name the bridge
    and carry the helper's own words (an ACL refusal, a missing setuid bit)."""
    if not available():
        raise PyvirtError(f"unsupported configuration: interface type='bridge' (bridge '{bridge}') in a "
                          f"session daemon needs QEMU's bridge helper {HELPER} (qemu-system-common)",
                          ErrorCode.CONFIG_UNSUPPORTED, ErrorDomain.QEMU)
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    argv = [HELPER, *(["--use-vnet"] if vnet_hdr else []), f"--br={bridge}", f"--fd={theirs.fileno()}"]
    try:
        with ours:
            try:
                proc = subprocess.Popen(argv, pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            finally:
                theirs.close()
            try:
                _, err = proc.communicate(timeout=_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()
                err = b"timed out"
            fds: list[int] = []
            if proc.returncode == 0:
                ours.settimeout(_TIMEOUT)
                _, fds, _, _ = socket.recv_fds(ours, 1, 1)
    except OSError as exc:
        raise _failed(bridge, exc.strerror or str(exc)) from None
    if proc.returncode != 0 or len(fds) != 1:
        for fd in fds:
            os.close(fd)
        raise _failed(bridge, err.decode(errors="replace").strip()[-400:] or f"exit status {proc.returncode}")
    fd = fds[0]
    os.set_inheritable(fd, False)
    try:
        name = fcntl.ioctl(fd, _TUNGETIFF, struct.pack("16sH", b"", 0))[:16].rstrip(b"\0").decode()
    except OSError as exc:
        os.close(fd)
        raise _failed(bridge, f"cannot read the tap's name: {exc.strerror}") from None
    return fd, name


def _failed(bridge: str, why: str) -> PyvirtError:
    return PyvirtError(f"internal error: {HELPER} could not attach a tap to bridge '{bridge}': {why} (the "
                       "helper must be allowed the bridge in /etc/qemu/bridge.conf and be setuid root or have "
                       "CAP_NET_ADMIN)", ErrorCode.INTERNAL_ERROR, ErrorDomain.QEMU)
