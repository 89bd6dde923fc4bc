"""virsh's command grammar and output layout, without any connection."""

from __future__ import annotations

import pytest

from pyvirt.cli import table
from pyvirt.cli.fmt import keyvalues, reason_word, state_word
from pyvirt.cli.fmt import table as vtable
from pyvirt.cli.grammar import ParseError, help_text, parse_command, split_line, synopsis


def parse(line: str):
    (words,) = split_line(line)
    return parse_command(words, table.lookup)


def test_split_line_quoting_and_separators() -> None:
    assert split_line("list --all; domstate 'a b'") == [["list", "--all"], ["domstate", "a b"]]
    assert split_line('echo "x\\"y" a\\ b # comment') == [["echo", 'x"y', "a b"]]
    assert split_line(" ; ;list") == [["list"]]
    assert split_line("echo 'unterminated") == [["echo", "unterminated"]]  # virsh: only " must close
    with pytest.raises(ParseError, match='missing "'):
        split_line('echo "unterminated')


def test_positional_named_and_equals_forms() -> None:
    assert parse("dominfo test").values == {"domain": "test"}
    assert parse("dominfo --domain=test").values == {"domain": "test"}
    assert parse("setmem test --size 10 --live").values == {"domain": "test", "size": "10", "live": True}
    assert parse("send-key test KEY_A KEY_B").argv("keycode") == ["KEY_A", "KEY_B"]
    assert parse("dominfo -- --weird").values == {"domain": "--weird"}


def test_optional_string_options_fill_from_bare_words_and_argv_options_repeat() -> None:
    """virsh fills non-bool options from bare words in table order; help still shows `--opt`."""
    assert parse("snapshot-create-as dom s1 'a desc'").values == {"domain": "dom", "name": "s1",
                                                                  "description": "a desc"}
    assert parse("snapshot-delete dom s1 --children").values == {"domain": "dom", "snapshotname": "s1",
                                                                 "children": True}
    assert parse("snapshot-create-as d --diskspec vda --diskspec vdb").argv("diskspec") == ["vda", "vdb"]
    assert "[--snapshotname <string>]" in synopsis(table.lookup("snapshot-delete"))


@pytest.mark.parametrize(("line", "message"), [
    ("nosuch", "unknown command: 'nosuch'"),
    ("list --bar", "command 'list' doesn't support option --bar"),
    ("list --al", "command 'list' doesn't support option --al"),
    ("list --all=x", "invalid '=' after option --all"),
    ("start", "command 'start' requires <domain> option"),
    ("dominfo a b", "unexpected data 'b'"),
    ("dominfo a --domain b", "option --domain already seen"),
    ("dumpxml a --xpath", "expected syntax: --xpath <string>"),
    ("send-key dom", "command 'send-key' requires <keycode> option"),
])
def test_errors_word_for_word(line: str, message: str) -> None:
    with pytest.raises(ParseError) as exc:
        parse(line)
    assert str(exc.value) == message


def test_every_missing_required_option_is_named() -> None:
    with pytest.raises(ParseError) as exc:
        parse("vol-create-as --name a")
    assert exc.value.messages == ["command 'vol-create-as' requires <pool> option",
                                  "command 'vol-create-as' requires <capacity> option"]


def test_table_layout() -> None:
    out = vtable(["Id", "Name", "State"], [["1", "test", "running"]])
    assert out == " Id   Name   State\n----------------------\n 1    test   running\n"
    assert vtable(["Id", "Name", "State"], [["1", "test", "running"]], show_header=False) == \
        " 1   test   running\n"
    assert vtable(["Id", "Name", "State"], []) == " Id   Name   State\n--------------------\n"


def test_keyvalues_and_words() -> None:
    assert keyvalues([("Id", "1"), ("Security model", "x")]) == "Id:             1\nSecurity model: x\n"
    assert state_word(5) == "shut off"
    assert reason_word(3, 1) == "user"
    assert reason_word(99, 0) == "unknown"


def test_help_layout() -> None:
    cmd = table.lookup("domstate")
    assert cmd is not None
    assert synopsis(cmd) == "domstate <domain> [--reason]"
    text = help_text(cmd)
    assert "    [--domain] <string>  domain name, id or uuid\n" in text
    assert "    --reason         also print reason for the state\n" in text


def test_every_command_has_a_handler() -> None:
    from pyvirt.cli.run import handler

    for cmd in table.COMMANDS:
        assert callable(handler(cmd)), cmd.name
