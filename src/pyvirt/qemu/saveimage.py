"""Save images: libvirt's on-disk layout (qemu_saveimage.c, version 2), so images move between
pyvirt and libvirt hosts and ``virsh save-image-dumpxml`` reads ours.

Layout (integers little-endian, as libvirt writes them on x86)::

    offset 0   magic        16 bytes  "LibvirtQemudSave" ("LibvirtQemudPart" while being written)
    offset 16  version      u32       2
    offset 20  data_len     u32       bytes of XML area that follow the header
    offset 24  was_running  u32       1: the guest runs again after a restore
    offset 28  compressed   u32       0 (raw QEMU migration stream; nothing else is written)
    offset 32  cookieOffset u32       0 (no cookie)
    offset 36  unused       14 x u32  zero
    offset 92  XML area     data_len  the domain XML, NUL, zero padding
    then       QEMU's migration stream, starting on a 4 KiB boundary

The padding (at least 1 KiB) lets ``save-image-define`` replace the XML in place.  Reading is
bounded: the header is checked before the XML area is read, and that area is capped.
"""

from __future__ import annotations

import os
import struct

from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError

MAGIC = b"LibvirtQemudSave"
PARTIAL = b"LibvirtQemudPart"
VERSION = 2
HEADER = struct.Struct("<16s5I14I")
ALIGN = 4096
MIN_PAD = 1024
MAX_XML_AREA = 16 << 20


def _failed(message: str) -> PyvirtError:
    return PyvirtError(f"operation failed: {message}", ErrorCode.OPERATION_FAILED, ErrorDomain.QEMU)


class SaveHeader:
    """The fields that matter of a save image's header, and where QEMU's stream starts."""

    __slots__ = ("data_len", "was_running", "xml")

    def __init__(self, xml: str, was_running: bool, data_len: int = 0) -> None:
        self.xml = xml
        self.was_running = was_running
        self.data_len = data_len or _area_len(xml)

    @property
    def stream_offset(self) -> int:
        return HEADER.size + self.data_len

    def pack(self, *, partial: bool = False) -> bytes:
        """Header and XML area, ready to write at offset 0."""
        raw = self.xml.encode() + b"\0"
        if len(raw) > self.data_len:
            raise _failed("new xml too large to fit in file")
        head = HEADER.pack(PARTIAL if partial else MAGIC, VERSION, self.data_len, int(self.was_running), 0, 0,
                           *([0] * 14))
        return head + raw + b"\0" * (self.data_len - len(raw))


def _area_len(xml: str) -> int:
    need = HEADER.size + len(xml.encode()) + 1 + MIN_PAD
    return -(-need // ALIGN) * ALIGN - HEADER.size


def read_header(path: str) -> SaveHeader:
    """Check and read a save image's header and XML (libvirt's wording for what is wrong)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as exc:
        raise PyvirtError(f"Failed to open file '{path}': {exc.strerror}", ErrorCode.SYSTEM_ERROR,  # qemuDomainOpenFile's
                          ErrorDomain.QEMU) from None
    with os.fdopen(fd, "rb") as fh:
        head = fh.read(HEADER.size)
        if len(head) < HEADER.size:
            raise _failed(f"failed to read qemu header of '{path}'")
        magic, version, data_len, was_running, compressed, cookie, *_ = HEADER.unpack(head)
        if magic == PARTIAL:
            raise _failed(f"save image '{path}' is incomplete")
        if magic != MAGIC:
            raise _failed(f"image magic is incorrect in '{path}'")
        if version > VERSION:
            raise _failed(f"image version is not supported ({version} > {VERSION})")
        if compressed:
            raise PyvirtError(f"unsupported configuration: compressed save image '{path}' (format {compressed})",
                              ErrorCode.CONFIG_UNSUPPORTED, ErrorDomain.QEMU)
        if not 0 < data_len <= MAX_XML_AREA:
            raise _failed(f"save image '{path}' has an invalid XML length {data_len}")
        area = fh.read(data_len)
        if len(area) < data_len:
            raise _failed(f"failed to read domain XML of '{path}'")
        end = cookie if 0 < cookie < data_len else data_len
        xml = area[:end].split(b"\0", 1)[0].decode(errors="replace")
        if not xml.strip():
            raise _failed(f"save image '{path}' holds no domain XML")
        return SaveHeader(xml, bool(was_running), data_len)


def rewrite_header(path: str, header: SaveHeader) -> None:
    """Replace the XML / was_running of an existing image in place (save-image-define)."""
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.pwrite(fd, header.pack(), 0)
        os.fsync(fd)
    finally:
        os.close(fd)
