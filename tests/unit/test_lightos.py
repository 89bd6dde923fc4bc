"""pyvirt.lightos answers as os does for what the hot path asks of it."""

from __future__ import annotations

import os

import pytest

from pyvirt import lightos


def test_getenv_sees_what_os_environ_sets_and_removes(monkeypatch) -> None:
    monkeypatch.setenv("PYVIRT_LIGHTOS_PROBE", "caf\u00e9 \udcff")  # undecodable byte: surrogateescape
    assert lightos.getenv("PYVIRT_LIGHTOS_PROBE") == os.environ["PYVIRT_LIGHTOS_PROBE"]
    monkeypatch.delenv("PYVIRT_LIGHTOS_PROBE")
    assert lightos.getenv("PYVIRT_LIGHTOS_PROBE") is None
    assert lightos.getenv("PYVIRT_LIGHTOS_PROBE", "fallback") == "fallback"


@pytest.mark.parametrize("base, name", [("/run", "pyvirt"), ("/run/", "pyvirt"), ("", "x"), ("/", "run"),
                                        ("rel/dir", "sock")])
def test_join_is_os_path_join_for_relative_names(base: str, name: str) -> None:
    assert lightos.join(base, name) == os.path.join(base, name)


@pytest.mark.parametrize("path", ["/a/b/c.py", "/a/b/", "/a", "/", "a", "a/b", "//x", "/a//b"])
def test_dirname_is_os_path_dirname(path: str) -> None:
    assert lightos.dirname(path) == os.path.dirname(path)


def test_isdir(tmp_path) -> None:
    (tmp_path / "f").write_text("")
    (tmp_path / "link").symlink_to(tmp_path)
    for path in (tmp_path, tmp_path / "f", tmp_path / "link", tmp_path / "missing", "bad\0path"):
        assert lightos.isdir(str(path)) == os.path.isdir(path)
