"""Value conversions and global option parsing."""

from __future__ import annotations

import pytest

from pyvirt.cli.cmd_console import escape_byte
from pyvirt.cli.context import CmdError
from pyvirt.cli.keycodes import keycode
from pyvirt.cli.main import UsageError, parse_global
from pyvirt.cli.values import number, scaled_kib


def test_scaled_sizes() -> None:
    assert scaled_kib("1024", "size") == 1024
    assert scaled_kib("1G", "size") == 1048576
    assert scaled_kib("1MiB", "size") == 1024
    assert scaled_kib("1000b", "size") == 1
    with pytest.raises(CmdError, match="Scaled numeric value 'abc' for <size>"):
        scaled_kib("abc", "size")


def test_numbers() -> None:
    assert number("12", "count") == 12
    assert number(None, "count", 3) == 3
    with pytest.raises(CmdError, match="Numeric value 'x' for <count> option is malformed"):
        number("x", "count")


def test_escape_and_keycodes() -> None:
    assert escape_byte("^]") == 0x1D
    assert escape_byte("^a") == 1
    assert escape_byte("x") == ord("x")
    assert keycode("linux", "KEY_A") == 30
    assert keycode("linux", "28") == 28
    assert keycode("linux", "KEY_NOPE") is None


def test_global_options() -> None:
    opts, rest = parse_global(["-c", "test:///default", "-q", "list", "--all"])
    assert opts == {"connect": "test:///default", "quiet": True} and rest == ["list", "--all"]
    opts, rest = parse_global(["--connect=qemu:///session", "-rq", "uri"])
    assert opts["connect"] == "qemu:///session" and opts["readonly"] and rest == ["uri"]
    with pytest.raises(UsageError):
        parse_global(["--bogus"])
