"""pyvirt.atomicio.write_atomic: the guarantees every state file relies on (all or nothing, the
mode asked for, no temp file left, never through a symlink or over someone else's file), kept
while the write itself became plain file-descriptor calls (a start writes its runtime record
before QEMU's exec)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pyvirt import atomicio
from pyvirt.atomicio import write_atomic


def _temps(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


@pytest.mark.parametrize("durable", [True, False])
def test_writes_text_or_bytes_with_the_mode_and_leaves_no_temp(tmp_path: Path, durable: bool) -> None:
    target = tmp_path / "record.json"
    write_atomic(target, "{}", 0o644, durable=durable)
    assert target.read_text() == "{}"
    assert target.stat().st_mode & 0o777 == 0o644
    write_atomic(str(target), b"\x00" * 200_000, durable=durable)  # a str path, bytes, default mode
    assert target.read_bytes() == b"\x00" * 200_000
    assert target.stat().st_mode & 0o777 == 0o600
    assert _temps(tmp_path) == []


def test_a_failed_write_keeps_the_old_file_and_removes_its_temp(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "domain.xml"
    write_atomic(target, "old")

    def full(fd: int, data: object) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomicio.os, "write", full)
    with pytest.raises(OSError, match="No space left"):
        write_atomic(target, "new")
    assert target.read_text() == "old"
    assert _temps(tmp_path) == []


def test_a_name_already_taken_or_a_symlink_is_skipped_not_followed(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Temp names are predictable (pid, counter): whatever already holds one (a dead process's
    leftover, a symlink planted there) is left alone and the next name is taken."""
    monkeypatch.setattr(atomicio, "_SEQUENCE", iter(range(3)))
    stem = f".live.xml.{os.getpid()}."
    (tmp_path / f"{stem}0.tmp").write_text("leftover")
    victim = tmp_path / "victim"
    victim.write_text("untouched")
    (tmp_path / f"{stem}1.tmp").symlink_to(victim)
    write_atomic(tmp_path / "live.xml", "<domain/>")
    assert (tmp_path / "live.xml").read_text() == "<domain/>"
    assert victim.read_text() == "untouched"
    assert (tmp_path / f"{stem}0.tmp").read_text() == "leftover"
    assert not (tmp_path / f"{stem}2.tmp").exists()  # the one used became live.xml


def test_a_long_name_still_fits_the_file_name_limit(tmp_path: Path) -> None:
    # the limit is 255 bytes: a name of 4-byte characters (a domain named in emoji) counts them
    for name in ("n" * 240, "\U0001f5a5" * 60 + ".xml"):
        target = tmp_path / name
        write_atomic(target, "x")
        assert target.read_text() == "x"
