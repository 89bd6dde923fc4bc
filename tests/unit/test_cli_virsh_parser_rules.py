"""virsh 9.0's command-string and option rules that libvirt's own virsh tests exercise
(vshCommandStringGetArg, vshCommandParse, VSH_OT_ALIAS, echo's escapes, -d debug lines).

Each case was checked against the real virsh 9.0 on test:///default; the cases are our own.
"""

from __future__ import annotations

import io
import re

import pytest

from pyvirt.cli import table
from pyvirt.cli.cmd_shell import shell_quote, table_problems
from pyvirt.cli.context import CmdError, Ctl
from pyvirt.cli.grammar import ParseError, parse_command, parse_line, split_line
from pyvirt.cli.run import run_words
from pyvirt.cli.values import string_array


@pytest.mark.parametrize(("line", "commands"), [
    ("echo a\necho b", [["echo", "a"], ["echo", "b"]]),                  # newline ends a command
    ("ec\\\nho x \\\n y", [["echo", "x", "y"]]),                          # backslash-newline vanishes
    ('"ec\\\nho" "\\\n z"', [["echo", " z"]]),  # ... inside double quotes too
    ("echo '\\\n b'", [["echo", "\\\n b"]]),                              # single quotes keep both
    ("echo a #b; c\necho d", [["echo", "a"], ["echo", "d"]]),            # '#' comments to end of line only
    ("echo a#b", [["echo", "a#b"]]),                                      # not inside a word
    ("echo a\r", [["echo", "a\r"]]),                                      # CR is no blank to virsh
])
def test_command_string_tokens(line: str, commands: list[list[str]]) -> None:
    assert split_line(line) == commands


def test_dangling_backslash_is_an_error() -> None:
    with pytest.raises(ParseError, match="dangling"):
        split_line("echo a\\")


def test_a_command_whose_first_word_starts_with_hash_is_skipped() -> None:
    parsed = parse_line(split_line("\\# ignored; echo a\n'#x' y"), table.lookup)
    assert [p.cmd.name for p in parsed] == ["echo"]


def test_hidden_option_aliases() -> None:
    assert parse_command(["echo", "--str", "x"], table.lookup).argv("string") == ["x"]
    assert parse_command(["echo", "--hi"], table.lookup).argv("string") == ["hello"]
    with pytest.raises(ParseError, match="invalid '=' after option --hi"):
        parse_command(["echo", "--hi=x"], table.lookup)
    assert parse_command(["setmem", "t", "--kilobytes", "9"], table.lookup).str("size") == "9"
    assert parse_command(["blkdeviotune", "t", "vda", "--read_iops_sec_max", "5"],
                         table.lookup).str("read-iops-sec-max") == "5"
    with pytest.raises(ParseError, match="expected syntax: --size <number>"):  # errors name the target
        parse_command(["setmaxmem", "t", "--kilobytes"], table.lookup)
    with pytest.raises(ParseError, match="doesn't support option --kilobytes"):  # per command
        parse_command(["memtune", "t", "--kilobytes", "1"], table.lookup)


def test_echo_shell_and_split_escapes() -> None:
    assert [shell_quote(w) for w in ("a", "=+./", "", "'", "a b", "*")] == [
        "a", "=+./", "''", "''\\'''", "'a b'", "'*'"]
    assert string_array(",a,,b,,,c,") == ["", "a,b,", "c", ""] and string_array("") == []


def _run(line: str, debug: int = -1) -> str:
    ctl = Ctl("test:///default", debug=debug, quiet=True)
    ctl.out = io.StringIO()
    try:
        run_words(ctl, split_line(line))
    finally:
        ctl.close()
    return ctl.out.getvalue()


def test_echo_split_prints_each_piece_on_its_line() -> None:
    assert _run("echo --split a,,b,c") == "a,b\nc\n"


def test_debug_lines_of_parsing_and_lookup() -> None:
    out = _run("echo x --shell; domname 1", debug=0)
    assert out.startswith("echo: string(optdata): x\necho: shell(bool): (none)\n"
                          "domname: domain(optdata): 1\n")
    assert "domname: found option <domain>: 1\ndomname: <domain> looks like ID\ntest" in out
    assert "looks like ID" not in _run("domname 1", debug=1)  # a DEBUG line, below INFO
    assert _run("echo x") == "x"  # nothing without -d


def test_self_test_finds_the_tables_consistent() -> None:
    assert table_problems() == []
    assert table.lookup("self-test").hidden


def test_a_bad_cpuset_is_refused_in_virbitmapparse_words() -> None:
    from pyvirt.xml.errors import XMLInvalidArgError
    from pyvirt.xml.validate import parse_cpuset

    with pytest.raises(XMLInvalidArgError, match="Failed to parse bitmap 'aaa'"):
        parse_cpuset("aaa")


def test_redefining_under_a_missing_parent_names_a_moment(tmp_path) -> None:
    def run(line: str) -> tuple[str, str]:
        ctl = Ctl("test:///default", quiet=True)
        ctl.out, ctl.err = io.StringIO(), io.StringIO()
        try:
            run_words(ctl, split_line(line))
        finally:
            ctl.close()
        return ctl.out.getvalue(), ctl.err.getvalue()

    xml, _ = run("snapshot-create-as test s1; snapshot-create-as test s2; snapshot-dumpxml test s2")
    (tmp_path / "s2.xml").write_text(xml[xml.index("<domainsnapshot>"):])
    _, err = run(f"snapshot-create test --redefine {tmp_path}/s2.xml")  # a new connection: no s1
    assert err == "error: invalid argument: parent s1 for moment s2 not found\n"


def test_the_shell_shows_each_line_it_reads_from_a_pipe(monkeypatch: pytest.MonkeyPatch) -> None:
    from pyvirt.cli import shell

    lines = iter(["  # note", "echo a"])

    def fake_input(prompt: str) -> str:
        ctl.out.write(prompt)
        try:
            return next(lines)
        except StopIteration:
            raise EOFError from None

    monkeypatch.setattr("builtins.input", fake_input)
    monkeypatch.setattr(shell.sys.stdin, "isatty", lambda: False, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", "/nonexistent-pyvirt-test")
    ctl = Ctl("test:///default", quiet=True)
    ctl.out = io.StringIO()
    try:
        shell.interactive(ctl)
    finally:
        ctl.close()
    assert ctl.out.getvalue() == "pyvirt #   # note\npyvirt # echo a\napyvirt # \n"


def test_default_uri_order(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    import pyvirt.client as client

    (tmp_path / "libvirt").mkdir()
    (tmp_path / "libvirt" / "libvirt.conf").write_text('# mine\nuri_default = "test:///default?cfg"\n')
    for var in ("PYVIRT_DEFAULT_URI", "LIBVIRT_DEFAULT_URI"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.setattr(client, "geteuid", lambda: 1000)
    assert client.default_uri() == "test:///default?cfg"  # the user's libvirt.conf
    monkeypatch.setenv("LIBVIRT_DEFAULT_URI", "test:///default?env")
    assert client.default_uri() == "test:///default?env"  # the environment first
    monkeypatch.delenv("LIBVIRT_DEFAULT_URI")
    (tmp_path / "libvirt" / "libvirt.conf").write_text("uri_aliases = []\n")
    assert client.default_uri() == "qemu:///session"


@pytest.mark.parametrize(("text", "value"), [
    ("2", 2), (" 2", 2), ("+2", 2), ("-2", -2), ("010", 10),   # base 10, C's leading blanks and sign
    ("0x2", None), ("2 ", None), ("1_0", None), ("", None), ("1" + "0" * 20, None),
])
def test_numeric_options_read_as_virstrtolong_base_10(text: str, value: int | None) -> None:
    from pyvirt.cli.context import CmdError
    from pyvirt.cli.values import number

    if value is None:
        with pytest.raises(CmdError, match=f"Numeric value '{text}' for <count> option is malformed"):
            number(text, "count")
    else:
        assert number(text, "count") == value


@pytest.mark.parametrize(("argv", "message"), [
    (["-d", "abc"], "option -d takes a numeric argument"),
    (["--debug=4x"], "option --debug takes a numeric argument"),
    (["-k", "abc"], "Invalid value for option -k"),
    (["-K", "-1"], "option -K requires a positive integer argument"),
    (["-e", "xy"], "Invalid string 'xy' for escape sequence"),
    (["-e", "^?"], "Invalid string '^?' for escape sequence"),
])
def test_global_option_values_are_checked(argv: list[str], message: str) -> None:
    from pyvirt.cli.main import UsageError, parse_global

    with pytest.raises(UsageError, match=re.escape(message)):
        parse_global([*argv, "uri"])


def test_global_option_values_virsh_takes(capsys: pytest.CaptureFixture[str]) -> None:
    from pyvirt.cli.main import parse_global

    assert parse_global(["-k", "0x10", "-e", "^a", "-e", "~", "uri"])[0]["keepalive-interval"] == "0x10"
    opts, _ = parse_global(["-d", "5", "uri"])  # out of range: said, and the default kept
    assert "debug" not in opts
    assert capsys.readouterr().err == "error: ignoring debug level 5 out of range [0-4]\n"


def test_keepalive_asked_for_fails_on_the_test_driver(capsys: pytest.CaptureFixture[str]) -> None:
    from pyvirt.cli.main import main

    assert main(["-k", "3", "-c", "test:///default", "uri"]) == 1
    assert capsys.readouterr().err == (
        "error: Cannot setup keepalive on connection as requested, disconnecting\n"
        "error: failed to connect to the hypervisor\n"
        "error: this function is not supported by the connection driver: virConnectSetKeepAlive\n")
    assert main(["-k", "0", "-c", "test:///default", "uri"]) == 0  # 0: no keepalive asked


def test_a_connect_uri_is_connected_before_any_command(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    from pyvirt.cli.main import main

    assert main(["-c", f"test://{tmp_path}/missing.xml", "echo", "a"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and "error: failed to connect to the hypervisor\n" in err  # after libxml2's I/O warning


@pytest.mark.parametrize(("words", "name", "refused"), [
    (["cpu-stats", "t", "--start", "2147483648"], "start", True),      # a C int
    (["cpu-stats", "t", "--start", "-2147483648"], "start", False),
    (["setvcpus", "t", "4294967296"], "count", True),                  # an unsigned int
    (["setvcpus", "t", "4294967295"], "count", False),
    (["setvcpus", "t", "-1"], "count", True),
    (["setvcpus", "t", "abc"], "count", False),                        # no number: the command's to say
])
def test_numbers_past_their_c_type_are_malformed(words: list[str], name: str, refused: bool) -> None:
    p = parse_command(words, table.lookup)
    if refused:
        # the command's failure (virsh's getter reports it inside the command, which may add its own line)
        with pytest.raises(CmdError, match=f"Numeric value '{words[-1]}' for <{name}> option is malformed"):
            p.str(name)
    else:
        assert p.str(name) == words[-1]


def test_a_number_past_its_c_type_fails_inside_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    # the command adds its own line to the getter's, and the rest of the line still runs, as in virsh
    _run("blkdeviotune test vda --total-iops-sec -1; detach-interface test --type ''; echo done")
    assert capsys.readouterr().err.splitlines() == [
        "error: Numeric value '-1' for <total-iops-sec> option is malformed or out of range",
        "error: Unable to parse integer parameter",
        "error: Failed to get option 'type': Option argument is empty",
        "error: Failed to detach interface",
    ]
