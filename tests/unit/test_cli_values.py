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
    # strtoul's base 0 (octal, hex, blanks, "+"), nothing past 0xffff or negative, names per set
    assert [keycode("linux", k) for k in ("036", "0x1E", " +30", "65535")] == [30, 30, 30, 65535]
    assert [keycode("linux", k) for k in ("70000", "-1", "1_0", "08", "0x", "", "key_a", "None")] == [None] * 8
    assert (keycode("win32", "VK_A"), keycode("os_x", "ANSI_A"), keycode("win32", "KEY_A")) == (0x41, 0, None)
    assert keycode("qnum", "KEY_A") is None and keycode("xt", "KEY_A") is None


def test_global_options() -> None:
    opts, rest = parse_global(["-c", "test:///default", "-q", "list", "--all"])
    assert opts == {"connect": "test:///default", "quiet": True} and rest == ["list", "--all"]
    opts, rest = parse_global(["--connect=qemu:///session", "-rq", "uri"])
    assert opts["connect"] == "qemu:///session" and opts["readonly"] and rest == ["uri"]
    with pytest.raises(UsageError):
        parse_global(["--bogus"])


def test_xml_file_arguments_are_read_as_virsh_reads_them(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """virFileReadAll(FILE, VSH_MAX_XML_FILE): at most 10 MiB, read no further (define /dev/zero
    took this process's memory until a MemoryError trace), and virsh's words for each failure."""
    from pyvirt.cli.cmd_lifecycle import MAX_XML_FILE, read_file

    exact = tmp_path / "exact.xml"
    exact.write_bytes(b"<a/>" + b" " * (MAX_XML_FILE - 4))
    assert read_file(str(exact)).startswith("<a/>")
    for path, words in (("/dev/zero", "Failed to read file '/dev/zero': Value too large for defined data type"),
                        (str(tmp_path), f"Failed to read file '{tmp_path}': Is a directory"),
                        (str(tmp_path / "no"), f"Failed to open file '{tmp_path / 'no'}': No such file or directory")):
        try:
            read_file(path)
        except CmdError as exc:
            assert exc.messages == [words]
        else:
            raise AssertionError(path)
