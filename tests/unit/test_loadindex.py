"""The load index (daemon/loadindex.py): what it gives back, and everything it refuses to trust."""

from __future__ import annotations

import json
from pathlib import Path

from pyvirt import textindex
from pyvirt.daemon import loadindex
from pyvirt.daemon.records import DomainRecord

ENTRY = ("ab" * 32, "1b6fa3f0-6c1e-4d1a-9a55-1d8a1b0e0a11", ("title", 65536, 32768, 2, 1),
         (("vda", "/img/a.qcow2", None, None, None),))


def test_round_trip_and_record_rebuilt_without_parsing(tmp_path: Path) -> None:
    loadindex.save(tmp_path, "code-1", [("a", ENTRY)])
    entries = loadindex.load(tmp_path, "code-1")
    assert entries == {"a": ENTRY}
    rec = DomainRecord.indexed("a", "<domain/>", entries["a"], autostart=True)
    assert rec._config is None  # nothing parsed
    assert (rec.uuid, rec.summary(), rec.autostart, rec.persistent) == (ENTRY[1], ENTRY[2], True, True)
    assert [(d.target_dev, d.source_file) for d in rec.disks()] == [("vda", "/img/a.qcow2")]
    assert rec.index_entry(ENTRY[0]) == ENTRY  # what the next save writes back


def test_other_code_or_format_gives_nothing(tmp_path: Path) -> None:
    loadindex.save(tmp_path, "code-1", [("a", ENTRY)])
    assert loadindex.load(tmp_path, "code-2") == {}
    doc = json.loads((tmp_path / loadindex.INDEX_NAME).read_text())
    doc["format"] = loadindex.FORMAT + 1
    (tmp_path / loadindex.INDEX_NAME).write_text(json.dumps(doc))
    assert loadindex.load(tmp_path, "code-1") == {}


def test_malformed_file_or_entries_are_ignored(tmp_path: Path) -> None:
    path = tmp_path / loadindex.INDEX_NAME
    assert loadindex.load(tmp_path, "c") == {}  # absent
    path.write_text("{not json")
    assert loadindex.load(tmp_path, "c") == {}
    for corrupt in (b"\xff\xfe{}", b"[" * 100_000):  # not UTF-8; nested past the parser's recursion limit
        path.write_bytes(corrupt)
        assert loadindex.load(tmp_path, "c") == {}
    good = [ENTRY[0], ENTRY[1], list(ENTRY[2]), [list(d) for d in ENTRY[3]]]
    bad = {"short": good[:3], "summary": [*good[:2], ["t", "64", 1, 1, 1], good[3]],
           "disk": [*good[:3], [["vda", 5, None, None, None]]], "bool": [*good[:2], ["t", True, 1, 1, 1], good[3]]}
    path.write_text(json.dumps({"format": loadindex.FORMAT, "code": "c", "domains": {"good": good, **bad}}))
    assert list(loadindex.load(tmp_path, "c")) == ["good"]


def test_oversized_file_is_not_read(tmp_path: Path, monkeypatch: object) -> None:
    loadindex.save(tmp_path, "c", [("a", ENTRY)])
    monkeypatch.setattr(textindex, "MAX_INDEX_BYTES", 10)  # type: ignore[attr-defined]  (the rule of every index)
    assert loadindex.load(tmp_path, "c") == {}


def test_fingerprint_follows_the_parser_code(tmp_path: Path) -> None:
    names = {(p.parent.name, p.name) for p in loadindex.code_files()}
    assert {("xml", "domain.py"), ("xml", "mapping.py"), ("daemon", "model.py"), ("daemon", "records.py")} <= names
    files = [tmp_path / "a.py", tmp_path / "b.py"]
    for path in files:
        path.write_text("x = 1\n")
    first = loadindex.code_fingerprint(files)
    assert loadindex.code_fingerprint(files) == first
    files[1].write_text("x = 22\n")  # an upgraded parser
    assert loadindex.code_fingerprint(files) != first
    assert loadindex.code_fingerprint(files[:1]) != loadindex.code_fingerprint(files)
