"""pyvirtd's block_peek (virDomainBlockPeek) on a domain's definition, no QEMU needed: the raw
disk's host bytes, libvirt's refusals, and a system daemon's host path policy (a shut-off
domain whose disk is a protected file must not read it out)."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from pyvirt.api import ErrorCode, PyvirtError
from pyvirt.daemon.peek import PeekMixin


class Driver(PeekMixin):
    def __init__(self, disks: list[Any], system: bool, root: Path) -> None:
        dom = SimpleNamespace(devices=SimpleNamespace(disks=disks))
        self.rec = SimpleNamespace(current=lambda: dom)
        self.system = system
        self.paths = SimpleNamespace(config=root / "etc", runtime=root / "run", log=root / "log")

    def lookup(self, dom: str) -> Any:
        return self.rec

    def _is_system(self) -> bool:
        return self.system

    def _disk_path(self, disk: Any) -> str | None:
        return disk.source_file or disk.source_dev


def _disk(target: str, path: str, fmt: str = "raw") -> Any:
    return SimpleNamespace(target_dev=target, source_file=path, source_dev=None, driver_type=fmt, type="file",
                           source_protocol=None)


def _peek(driver: Driver, disk: str, offset: int, size: int) -> bytes:
    return base64.b64decode(asyncio.run(driver.block_peek("dom", disk, offset, size)))


def test_bytes_of_the_raw_disk_and_libvirts_refusals(tmp_path: Path) -> None:
    image = tmp_path / "disk.raw"
    image.write_bytes(b"\0" * 100 + b"PEEK" + b"\0" * 20)
    driver = Driver([_disk("vda", str(image)), _disk("vdb", str(tmp_path / "x.qcow2"), "qcow2")], False, tmp_path)
    assert _peek(driver, "vda", 100, 4) == b"PEEK"
    assert _peek(driver, str(image), 98, 4) == b"\0\0PE"  # by source path too
    for disk, offset, size, message in (("vda", 120, 8, "'vda' starting from 120 has only 4 bytes available"),
                                        ("vdz", 0, 1, "disk 'vdz' not found in domain"),
                                        ("vdb", 0, 1, "only supported for disk with 'raw' format not 'qcow2'"),
                                        ("vda", 0, (4 << 20) + 1, "too large for remote protocol")):
        with pytest.raises(PyvirtError, match=message):
            _peek(driver, disk, offset, size)


def test_a_system_daemon_reads_no_protected_file(tmp_path: Path) -> None:
    driver = Driver([_disk("vda", "/etc/passwd")], True, tmp_path)
    with pytest.raises(PyvirtError) as err:
        _peek(driver, "vda", 0, 1)
    assert err.value.code == ErrorCode.CONFIG_UNSUPPORTED and "'/etc/passwd' is in /etc" in err.value.message
    assert _peek(Driver([_disk("vda", "/etc/passwd")], False, tmp_path), "vda", 0, 1)  # a session's own user
