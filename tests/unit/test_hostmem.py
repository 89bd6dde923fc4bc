"""Huge pages, KSM and suspend as libvirt's Linux code does them, over a sysfs tree of the test's
own (pyvirt.daemon.hostmem reads its roots from module constants: nothing on the host changes)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pyvirt.api import ErrorCode, PyvirtError
from pyvirt.daemon import hostmem, hostnuma


@pytest.fixture
def sysfs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    node = tmp_path / "node"
    for cell in (0, 1):
        pool = node / f"node{cell}" / "hugepages" / "hugepages-2048kB"
        pool.mkdir(parents=True)
        (pool / "nr_hugepages").write_text("3\n")
        (pool / "free_hugepages").write_text(f"{cell + 2}\n")
        (node / f"node{cell}" / "meminfo").write_text(f"Node {cell} MemTotal: 100000 kB\nNode {cell} MemFree: 4000 kB\n")
    host = tmp_path / "hugepages" / "hugepages-2048kB"
    host.mkdir(parents=True)
    (host / "nr_hugepages").write_text("6\n")
    (host / "free_hugepages").write_text("5\n")
    ksm = tmp_path / "ksm"
    ksm.mkdir()
    for name, value in (("pages_to_scan", 100), ("sleep_millisecs", 20), ("pages_shared", 0), ("full_scans", 7)):
        (ksm / name).write_text(f"{value}\n")
    monkeypatch.setattr(hostmem, "SYS_NODE", str(node))
    monkeypatch.setattr(hostmem, "SYS_HUGEPAGES", str(tmp_path / "hugepages"))
    monkeypatch.setattr(hostmem, "SYS_KSM", str(ksm))
    monkeypatch.setattr(hostnuma, "_SYS_NODE", str(node))
    monkeypatch.setattr(hostmem, "system_page_kib", lambda: 4)
    return tmp_path


def test_free_pages_cell_by_cell(sysfs: Path) -> None:
    assert hostmem.free_pages([4, 2048], 0, 2) == [1000, 2, 1000, 3]
    assert hostmem.free_pages([2048], -1, 1) == [5]
    assert hostmem.free_pages([2048], 1, 5) == [3]  # cut at the last cell


def test_free_pages_errors_name_size_and_cell(sysfs: Path) -> None:
    with pytest.raises(PyvirtError, match=r"start cell 2 out of range \(0-1\)"):
        hostmem.free_pages([4], 2, 1)
    with pytest.raises(PyvirtError, match="page size or NUMA node not available"):
        hostmem.free_pages([8], 0, 1)
    with pytest.raises(PyvirtError, match="page size 8 is not available on node -1"):
        hostmem.free_pages([8], -1, 1)


def test_alloc_pages_sets_adds_and_leaves_equal_pools_alone(sysfs: Path) -> None:
    pool = sysfs / "node" / "node1" / "hugepages" / "hugepages-2048kB" / "nr_hugepages"
    assert hostmem.alloc_pages([2048], [5], 1, 1, add=False) == 1
    assert pool.read_text() == "5"
    hostmem.alloc_pages([2048], [2], 1, 1, add=True)
    assert pool.read_text() == "7"
    pool.write_text("7\n")
    pool.chmod(0o444)
    try:
        hostmem.alloc_pages([2048], [7], 1, 1, add=False)   # already that size: nothing written
        hostmem.alloc_pages([2048], [0], 1, 1, add=True)
        if os.geteuid() != 0:  # root writes through a read-only mode bit
            with pytest.raises(PyvirtError, match=f"Unable to write to: {pool}: Permission denied") as err:
                hostmem.alloc_pages([2048], [9], 1, 1, add=False)
            assert err.value.code == ErrorCode.SYSTEM_ERROR
    finally:
        pool.chmod(0o644)


def test_alloc_pages_refuses_the_system_page_size(sysfs: Path) -> None:
    with pytest.raises(PyvirtError, match="system pages pool can't be modified") as err:
        hostmem.alloc_pages([4], [10], 0, 1, add=False)
    assert err.value.code == ErrorCode.OPERATION_INVALID


def test_alloc_pages_reports_what_the_kernel_gave(sysfs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = hostmem._read_number
    calls = []

    def stingy(path: str) -> int:
        calls.append(path)
        return 4 if len(calls) > 1 else real(path)

    monkeypatch.setattr(hostmem, "_read_number", stingy)
    with pytest.raises(PyvirtError, match="Unable to allocate 9 pages. Allocated only 4"):
        hostmem.alloc_pages([2048], [9], -1, 1, add=False)


def test_ksm_parameters_in_libvirts_order_and_writes_checked_first(sysfs: Path) -> None:
    assert list(hostmem.memory_parameters().items()) == [
        ("shm_pages_to_scan", 100), ("shm_sleep_millisecs", 20), ("shm_pages_shared", 0), ("shm_full_scans", 7)]
    hostmem.set_memory_parameters({"shm_pages_to_scan": 50})
    assert (sysfs / "ksm" / "pages_to_scan").read_text() == "50"
    with pytest.raises(PyvirtError, match="parameter 'shm_full_scans' not supported"):
        hostmem.set_memory_parameters({"shm_full_scans": 1})
    with pytest.raises(PyvirtError, match="Parameter 'shm_merge_across_nodes' is not supported by this kernel"):
        hostmem.set_memory_parameters({"shm_sleep_millisecs": 5, "shm_merge_across_nodes": 0})
    assert (sysfs / "ksm" / "sleep_millisecs").read_text() == "20\n"  # nothing written before the check failed


def test_suspend_is_refused_for_every_target() -> None:
    for target, words in (("mem", "Suspend-to-RAM"), ("disk", "Suspend-to-Disk"), ("hybrid", "Hybrid-Suspend")):
        with pytest.raises(PyvirtError, match=f"Requested operation is not valid: {words}"):
            hostmem.suspend(target, 60)
    with pytest.raises(PyvirtError, match="Invalid suspend target"):
        hostmem.suspend("sleep", 60)
