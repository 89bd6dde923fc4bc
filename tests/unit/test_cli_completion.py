"""pyvirt.cli.completion's own rules (the oracle test compares the words with real virsh's): the
partial parse finds the option under the cursor as vshCommandParse does, words with spaces are
escaped before they are filtered, and the interactive shell's TAB uses the same engine."""

from __future__ import annotations

from pyvirt.cli import table
from pyvirt.cli.completion import candidates, completer_of, missing_completers, parse_partial
from pyvirt.cli.context import Ctl
from pyvirt.cli.shell import Completer


def test_the_option_under_the_cursor() -> None:
    assert parse_partial("dominfo t").under_cursor().name == "domain"           # a data word being typed
    assert parse_partial("dominfo --domain ").under_cursor().name == "domain"   # a value not typed yet
    assert parse_partial("dominfo --domain").under_cursor() is None             # the option name itself
    assert parse_partial("dominfo test ").under_cursor() is None                # after a complete word
    assert parse_partial("vol-info --pool p --vol ").value("pool") == "p"


def test_a_partial_line_keeps_what_parsed_before_an_error() -> None:
    part = parse_partial("list --table --t")  # --t is no option: the parse stops there
    assert part.cmd.name == "list" and [o.name for o, _, _ in part.opts] == ["table"]
    assert parse_partial("nosuch x").cmd is None
    assert parse_partial("list; dom").cmd is None  # a new command after ';'
    assert parse_partial("list --help ").cmd.name == "help"  # --help makes it 'help list'


def test_words_with_spaces_are_escaped_then_filtered() -> None:
    ctl = Ctl("test:///default")
    assert candidates(ctl, "dominfo t", "t") == ["test"]
    assert candidates(ctl, "start ", "")[:2] == ["--domain", "--console"]
    assert candidates(ctl, "complete", "complete") == []  # hidden commands are not offered


def test_every_table_option_resolves_to_a_completer_or_none() -> None:
    for cmd in table.COMMANDS:
        for opt in cmd.opts:
            completer_of(cmd.name, opt.name)  # no KeyError for a kind the table names
    assert "source" in missing_completers(table.lookup("attach-disk"))
    assert "file" not in missing_completers(table.lookup("define"))  # virsh gives it an empty one


def test_the_shells_tab_offers_the_same_words() -> None:
    tab = Completer(Ctl("test:///default"))
    assert tab.candidates("dominfo --domain t", "t") == ["test"]
    assert tab.candidates("list --st", "--st") == ["--state-running", "--state-paused", "--state-shutoff",
                                                   "--state-other"]
