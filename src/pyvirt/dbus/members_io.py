"""Rows of members.METHODS for members that move bytes or descriptors, or start jobs by flag:
BlockPeek, MemoryPeek, OpenGraphicsFD, BlockRebase, the *WithFiles starts, SendProcessSignal,
NodeDeviceLookupSCSIHostByWWN.

Each is one operation of the spine; what is written here is libvirt's public-API part of the
call (flag checks that virDomainMemoryPeek makes before any driver, BlockRebase's choice between
a pull and a copy) and the D-Bus shapes (bytes for base64, a descriptor for a stream).
"""

from __future__ import annotations

import base64

from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError, no_support
from pyvirt.dbus.members import MIB, Ctx, Descriptor, Row, _bandwidth, call, custom

# virDomainMemoryFlags
MEMORY_VIRTUAL, MEMORY_PHYSICAL = 1, 2
# virDomainBlockRebaseFlags
REBASE_SHALLOW, REBASE_REUSE_EXT, REBASE_COPY_RAW, REBASE_COPY = 1, 2, 4, 8
REBASE_RELATIVE, REBASE_COPY_DEV, REBASE_BANDWIDTH_BYTES = 16, 32, 64
OPEN_GRAPHICS_SKIPAUTH = 1


@custom(0)
def block_peek(ctx: Ctx, disk: str, offset: int, size: int) -> bytes:
    return base64.b64decode(ctx.conn.block_peek(ctx.target.ident[0], disk, offset, size))


@custom(0xFFFFFFFF)  # every bit reaches the checks below, in libvirt's order
def memory_peek(ctx: Ctx, offset: int, size: int) -> bytes:
    """virDomainMemoryPeek refuses both address kinds at once; the driver then refuses other
    bits, then neither kind (qemuDomainMemoryPeek, testDomainMemoryPeek)."""
    flags = ctx.flags
    if flags & MEMORY_VIRTUAL and flags & MEMORY_PHYSICAL:
        raise PyvirtError("Flags 'VIR_MEMORY_VIRTUAL' and 'VIR_MEMORY_PHYSICAL' are mutually exclusive",
                          ErrorCode.INVALID_ARG, ErrorDomain.DOMAIN)
    ctx.check_flags(flags, MEMORY_VIRTUAL | MEMORY_PHYSICAL)
    if not flags:
        raise PyvirtError("invalid argument: flags parameter must be VIR_MEMORY_VIRTUAL or VIR_MEMORY_PHYSICAL",
                          ErrorCode.INVALID_ARG, ErrorDomain.DOMAIN)
    data = ctx.conn.memory_peek(ctx.target.ident[0], offset, size, physical=bool(flags & MEMORY_PHYSICAL))
    return base64.b64decode(data)


@custom(OPEN_GRAPHICS_SKIPAUTH)
def open_graphics_fd(ctx: Ctx, idx: int) -> Descriptor:
    """A connected socket speaking the display's protocol: pyvirtd's graphics stream relayed into
    one end of a socket pair whose other end goes to the caller."""
    from pyvirt.client.relay import SocketRelay

    stream = ctx.conn.open_graphics(ctx.target.ident[0], idx, skipauth=bool(ctx.flags & OPEN_GRAPHICS_SKIPAUTH))
    relay = SocketRelay(stream, "graphics")
    fd = Descriptor(relay.peer.detach())  # the service closes it once the reply carries it
    relay.start()
    return fd


@custom(REBASE_SHALLOW | REBASE_REUSE_EXT | REBASE_COPY_RAW | REBASE_COPY | REBASE_RELATIVE | REBASE_COPY_DEV
        | REBASE_BANDWIDTH_BYTES)
def block_rebase(ctx: Ctx, disk: str, base: str, bandwidth: int) -> None:
    """qemuDomainBlockRebase: without COPY a block pull (the whole chain, or the images above
    `base`); with COPY a block copy into the file `base` (raw with COPY_RAW, else the disk's
    format; REUSE_EXT an existing file; SHALLOW the top image only, sharing the disk's chain),
    pivoted with BlockJobAbort.
    A driver without those jobs answers for virDomainBlockRebase, as libvirt's test driver."""
    try:
        _rebase(ctx, disk, base, bandwidth, ctx.flags)
    except PyvirtError as exc:
        if exc.code == ErrorCode.NO_SUPPORT:
            raise no_support("virDomainBlockRebase") from None
        raise


def _rebase(ctx: Ctx, disk: str, base: str, bandwidth: int, flags: int) -> None:
    speed = _bandwidth(bandwidth, bool(flags & REBASE_BANDWIDTH_BYTES))
    if not flags & REBASE_BANDWIDTH_BYTES and bandwidth > (2**63 - 1) // MIB:
        raise PyvirtError(f"numerical overflow: bandwidth must be less than {(2**63 - 1) // MIB}",
                          ErrorCode.OVERFLOW, ErrorDomain.QEMU)
    dom = ctx.target.ident[0]
    if not flags & REBASE_COPY:
        ctx.conn.block_pull(dom, disk, speed, base or None, keep_relative=bool(flags & REBASE_RELATIVE))
        return
    if flags & REBASE_RELATIVE:
        raise PyvirtError("argument unsupported: Relative backing during copy not supported yet",
                          ErrorCode.ARGUMENT_UNSUPPORTED, ErrorDomain.QEMU)
    if flags & REBASE_COPY_DEV:
        raise PyvirtError("Operation not supported: a block device destination (VIR_DOMAIN_BLOCK_REBASE_COPY_DEV): "
                          "pyvirt copies into files", ErrorCode.OPERATION_UNSUPPORTED, ErrorDomain.QEMU)
    ctx.conn.block_copy(dom, disk, base, format="raw" if flags & REBASE_COPY_RAW else None,
                        reuse_external=bool(flags & REBASE_REUSE_EXT), bandwidth=speed,
                        shallow=bool(flags & REBASE_SHALLOW))


#: virDomainCreateFlags bits: the *WithFiles calls take what Create / DomainCreateXML take
_XML_FLAGS = {1: "paused", 2: "autodestroy", 16: "validate"}
_START_FLAGS = {1: "paused", 2: "autodestroy", 4: "bypass_cache", 8: "force_boot", 32: "reset_nvram"}


def _flag_kwargs(ctx: Ctx, bits: dict[int, str]) -> dict[str, bool]:
    ctx.check_flags(ctx.flags, sum(bits))
    return {name: bool(ctx.flags & bit) for bit, name in bits.items()}


@custom(0xFFFFFFFF)  # checked against the operation's bits below
def create_xml_with_files(ctx: Ctx, xml: str, files: list[int]) -> str:
    """The descriptors (indexes into the message's, which the service closes) are not passed on:
    no pyvirt driver gives files to a guest (libvirt's LXC driver does)."""
    return ctx.path_of(ctx.conn.create_xml_with_files(xml, **_flag_kwargs(ctx, _XML_FLAGS)))


@custom(0xFFFFFFFF)
def start_with_files(ctx: Ctx, files: list[int]) -> None:
    ctx.conn.start_with_files(ctx.target.ident[0], **_flag_kwargs(ctx, _START_FLAGS))


METHODS: dict[str, Row] = {
    "Connect.DomainCreateXMLWithFiles": create_xml_with_files,
    "Connect.NodeDeviceLookupSCSIHostByWWN": call("lookup_scsi_host_by_wwn", "wwnn", "wwpn", flags={}),
    "Domain.BlockPeek": block_peek,
    "Domain.BlockRebase": block_rebase,
    "Domain.CreateWithFiles": start_with_files,
    "Domain.MemoryPeek": memory_peek,
    "Domain.OpenGraphicsFD": open_graphics_fd,
    "Domain.SendProcessSignal": call("send_process_signal", "pid", "signum", flags={}),
}
