"""virStorageVolCreateXMLFrom's PREALLOC_METADATA and REFLINK flags: honoured or refused as
libvirt's copier for the formats does, never accepted and dropped."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyvirt.api import ErrorCode, PyvirtError
from pyvirt.storage import StorageDriver
from pyvirt.storage.volumes import copy_options


@pytest.mark.parametrize(("src", "dst", "prealloc", "reflink", "want"), [
    ("raw", "raw", False, True, None),                       # a plain file copy, cloned
    ("qcow2", "qcow2", True, False, {"preallocation": "metadata"}),
    ("raw", "qcow2", False, False, {}),
])
def test_copy_options_honoured(src: str, dst: str, prealloc: bool, reflink: bool, want: object) -> None:
    assert copy_options(src, dst, prealloc_metadata=prealloc, reflink=reflink) == want


@pytest.mark.parametrize(("src", "dst", "prealloc", "reflink", "code", "words"), [
    ("raw", "raw", True, False, ErrorCode.CONFIG_UNSUPPORTED, "not supported for raw volumes"),
    ("qcow2", "raw", True, False, ErrorCode.CONFIG_UNSUPPORTED, "only available with qcow2"),
    ("qcow2", "qcow2", False, True, ErrorCode.INVALID_ARG, "unsupported flags (0x2)"),
])
def test_copy_options_refused(src: str, dst: str, prealloc: bool, reflink: bool, code: int, words: str) -> None:
    with pytest.raises(PyvirtError) as exc:
        copy_options(src, dst, prealloc_metadata=prealloc, reflink=reflink)
    assert exc.value.code == code and words in str(exc.value)


def test_clone_preallocates_qcow2_metadata_and_refuses_raw(tmp_path: Path) -> None:
    drv = StorageDriver(tmp_path / "etc", tmp_path / "run", tmp_path / "images")
    drv.ensure_default_pool()
    drv.create_volume("default", "q", 1 << 20, "qcow2")
    drv.create_volume("default", "r", 1 << 20, "raw")
    plain = drv.clone_volume("default", "q", "q1")
    full = drv.clone_volume("default", "q", "q2", prealloc_metadata=True)
    assert full.allocation > plain.allocation  # the L2 tables are written
    with pytest.raises(PyvirtError, match="metadata preallocation is not supported for raw volumes"):
        drv.clone_volume("default", "r", "r2", prealloc_metadata=True)
    with pytest.raises(PyvirtError, match="metadata preallocation is not supported for raw volumes"):
        drv.create_volume("default", "r3", 1 << 20, "raw", prealloc_metadata=True)
    assert sorted(v.name for v in drv.list_volumes("default")) == ["q", "q1", "q2", "r"]


def test_test_driver_refuses_both_flags() -> None:
    from pyvirt.client import connect

    conn = connect("test:///default")
    conn.create_volume("default-pool", "v", 1024)
    for kw, bit in (({"prealloc_metadata": True}, 1), ({"reflink": True}, 2)):
        with pytest.raises(PyvirtError, match=rf"unsupported flags \(0x{bit}\) in function testStorageVolCreateXMLFrom"):
            conn.clone_volume("default-pool", "v", "copy", **kw)
