"""dump (virDomainCoreDumpWithFormat) with the real test guest under TCG, through pyvirtd.

One boot serves every case: a memory-only ELF core (PT_NOTE and PT_LOAD headers), a live kdump
file, the full-state dump with --reset, refused inputs that leave the guest running and no file
behind, and --crash last (the guest ends shut off, crashed).
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from pyvirt.api import DomainState, PyvirtError, RunningReason, ShutoffReason
from pyvirt.testguest import READY_MARKER, TestGuest
from tests.daemon_harness import DaemonHarness, guest_xml, wait_console

PT_LOAD, PT_NOTE = 1, 4


def _program_header_types(core: bytes) -> set[int]:
    """The p_type of every program header of a 64-bit little-endian ELF file."""
    assert core[:4] == b"\x7fELF" and core[4] == 2 and core[5] == 1, core[:16]
    phoff, = struct.unpack_from("<Q", core, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", core, 0x36)
    return {struct.unpack_from("<I", core, phoff + i * phentsize)[0] for i in range(phnum)}


def test_dump_formats_and_after_dump_actions(daemon: DaemonHarness, test_guest: TestGuest, tmp_path: Path) -> None:
    conn = daemon.connect()
    conn.define_xml(guest_xml(test_guest, "cd"))
    conn.start("cd")
    wait_console(conn, "cd", READY_MARKER, 180)

    elf = tmp_path / "cd.elf"
    conn.core_dump("cd", str(elf), memory_only=True)
    types = _program_header_types(elf.read_bytes())
    assert {PT_NOTE, PT_LOAD} <= types, types
    assert elf.stat().st_mode & 0o777 == 0o600
    assert conn.get_state("cd") == (DomainState.RUNNING, RunningReason.UNPAUSED)  # paused for the dump only

    kdump = tmp_path / "cd.kdump"
    conn.core_dump("cd", str(kdump), memory_only=True, live=True, dump_format="kdump-zlib")
    assert kdump.read_bytes()[:12] == b"makedumpfile"  # QEMU 7.2 writes kdump in the flattened format

    for kwargs, message in (({"dump_format": "kdump-zlib"}, "only supported with memory-only"),
                            ({"crash": True, "reset": True}, "mutually exclusive")):
        with pytest.raises(PyvirtError, match=message):
            conn.core_dump("cd", str(tmp_path / "refused"), **kwargs)
    with pytest.raises(PyvirtError, match="must be absolute"):
        conn.core_dump("cd", "relative.core")
    assert not (tmp_path / "refused").exists()
    assert conn.get_state("cd")[0] == DomainState.RUNNING

    full = tmp_path / "cd.state"
    conn.core_dump("cd", str(full), reset=True)
    assert full.read_bytes()[:4] == b"QEVM"  # QEMU's migration stream, as libvirt's non-memory-only dump
    assert conn.get_state("cd")[0] == DomainState.RUNNING
    assert not list(tmp_path.glob(".*pyvirt-partial"))

    conn.core_dump("cd", str(elf), memory_only=True, crash=True)
    assert conn.get_state("cd") == (DomainState.SHUTOFF, ShutoffReason.CRASHED)
    assert PT_LOAD in _program_header_types(elf.read_bytes())
    conn.undefine("cd")
