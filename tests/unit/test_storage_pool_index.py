"""The pool index (storage/driver.py's _PoolTable): a restart takes a pool file whose very text
parsed before without parsing it (so an idle pyvirtd loads no lxml for its pools), and parses
everything else as before: a changed or broken file, or one indexed by other parser code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pyvirt.storage import StorageDriver
from pyvirt.storage import driver as storage_driver
from pyvirt.xml.pool import PoolDef


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the pool texts parsed from here on."""
    seen: list[str] = []
    real = PoolDef.from_xml

    def counted(xml: str | bytes) -> PoolDef:
        pool = real(xml)
        seen.append(pool.name)
        return pool

    monkeypatch.setattr(PoolDef, "from_xml", staticmethod(counted))
    return seen


def _driver(tmp_path: Path) -> StorageDriver:
    return StorageDriver(tmp_path / "etc", tmp_path / "run", tmp_path / "img")


def _define(drv: StorageDriver, tmp_path: Path, name: str) -> None:
    drv.define_pool(f"<pool type='dir'><name>{name}</name><target><path>{tmp_path / name}</path></target></pool>")


def test_restart_defers_the_parse_of_indexed_pools(tmp_path: Path, parses: list[str]) -> None:
    first = _driver(tmp_path)
    _define(first, tmp_path, "a")
    _define(first, tmp_path, "b")
    before = first.list_pools()
    _driver(tmp_path)  # the first restart indexes what it parsed
    parses.clear()
    again = _driver(tmp_path)
    assert parses == []  # loaded without a parse
    assert again.lookup_pool("b") == before[1]
    assert parses == ["b"]  # parsed on first use, once
    assert again.list_pools() == before
    assert parses == ["b", "a"]
    again.lookup_pool(before[0].uuid)  # by UUID too
    assert parses == ["b", "a"]


def test_changed_broken_or_foreign_files_are_parsed_at_load(tmp_path: Path, parses: list[str],
                                                             caplog: pytest.LogCaptureFixture) -> None:
    drv = _driver(tmp_path)
    _define(drv, tmp_path, "a")
    _define(drv, tmp_path, "b")
    _driver(tmp_path)
    (tmp_path / "etc/storage/a.xml").write_text("<pool type='dir'><name>a")  # broken since
    text = (tmp_path / "etc/storage/b.xml").read_text()
    (tmp_path / "etc/storage/b.xml").write_text(text.replace("<name>b</name>", "<name>c</name>"))
    parses.clear()
    again = _driver(tmp_path)
    assert parses == ["c"]  # b.xml changed: parsed at load, and refused as before
    assert again.list_pools() == []
    assert "skipping unreadable pool file" in caplog.text and "it defines pool 'c'" in caplog.text
    # an index written by other parser code vouches for nothing
    (tmp_path / "etc/storage/b.xml").write_text(text)
    _driver(tmp_path)
    index = tmp_path / "run/storage" / storage_driver.POOL_INDEX
    doc = json.loads(index.read_text())
    assert list(doc["digests"]) == ["config/b.xml"]
    doc["code"] = "other"
    index.write_text(json.dumps(doc))
    parses.clear()
    _driver(tmp_path)
    assert parses == ["b"]
