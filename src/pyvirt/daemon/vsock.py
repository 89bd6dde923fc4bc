"""A guest's ``<vsock>``: open /dev/vhost-vsock and claim the guest's context id on it, as
libvirt does before QEMU starts (virVsockSetGuestCid / virVsockAcquireGuestCid), so a CID in use
by another guest fails the start with a clear error, and ``auto='yes'`` gets the first free one.
QEMU receives the open descriptor (``vhostfd``); the live XML shows the CID.
"""

from __future__ import annotations

import errno
import fcntl
import os
import struct
from typing import Any

from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError

DEVICE = "/dev/vhost-vsock"
#: _IOW(VHOST_VIRTIO=0xAF, 0x60, __u64) from <linux/vhost.h>
VHOST_VSOCK_SET_GUEST_CID = 0x4008AF60
#: the first CID a guest may have; auto-selection gives up after this many CIDs in use
FIRST_CID, TRIES = 3, 1 << 16


def _set_cid(fd: int, cid: int) -> bool:
    """Claim *cid*; False when another guest holds it."""
    try:
        fcntl.ioctl(fd, VHOST_VSOCK_SET_GUEST_CID, struct.pack("=Q", cid))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            return False
        raise
    return True


def claim(dom: Any, device: str = DEVICE) -> tuple[int, int] | None:
    """(open fd, CID) for the domain's vsock, or None without one; the caller passes the fd to
    QEMU and closes its copy.  The CID is written into the (live) definition."""
    v = dom.devices.vsock
    if v is None:
        return None
    try:
        fd = os.open(device, os.O_RDWR | os.O_CLOEXEC)
    except OSError as exc:
        raise PyvirtError(f"unable to open vhost-vsock device: {device}: {exc.strerror} "
                          "(the host needs the vhost_vsock kernel module)", ErrorCode.SYSTEM_ERROR,
                          ErrorDomain.QEMU) from None
    try:
        if v.cid_auto:
            cid = next((c for c in range(FIRST_CID, FIRST_CID + TRIES) if _set_cid(fd, c)), None)
            if cid is None:
                raise PyvirtError("could not find a free vsock guest CID", ErrorCode.INTERNAL_ERROR, ErrorDomain.QEMU)
        else:
            cid = v.cid_address or 0
            if not _set_cid(fd, cid):
                raise PyvirtError(f"failed to set guest cid {cid}: another guest uses it",
                                  ErrorCode.OPERATION_FAILED, ErrorDomain.QEMU)
    except OSError as exc:
        os.close(fd)
        raise PyvirtError(f"failed to set guest cid {v.cid_address}: {exc.strerror}", ErrorCode.SYSTEM_ERROR,
                          ErrorDomain.QEMU) from None
    except BaseException:
        os.close(fd)
        raise
    v.cid_address = cid
    return fd, cid
