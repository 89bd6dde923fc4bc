"""Network filters on a system pyvirtd (in a network namespace of its own, no default network):
define, list, dump, edit, undefine through the CLI; libvirt's UUID and loop rules; bad input
refused with the attribute named and nothing changed; filters kept across a restart."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.daemon_harness import DaemonHarness, cli, running, system_daemon

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="a system daemon (network filters) needs root")

UUID = "fce8ae33-e69e-83bf-262e-30786c1f8072"
FILTER = f"""<filter name='web' chain='ipv4-web'>
  <uuid>{UUID}</uuid>
  <filterref filter='base'><parameter name='IP' value='10.0.0.1'/></filterref>
  <rule action='accept' direction='in' priority='400'>
    <tcp dstportstart='0x50' srcmacaddr='52:54:00:AB:CD:EF' srcipaddr='$IP' srcipmask='255.255.0.0'/>
  </rule>
  <rule action='drop' direction='inout'/>
</filter>"""


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonHarness]:
    with running(system_daemon(tmp_path_factory.mktemp("nwfilter") / "state")) as harness:
        yield harness


def _write(tmp_path: Path, text: str, name: str = "f.xml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def _files(daemon: DaemonHarness) -> dict[str, str]:
    folder = daemon.root / "config" / "nwfilter"
    return {p.name: p.read_text() for p in sorted(folder.glob("*"))}


def test_define_list_dump_undefine(daemon: DaemonHarness, tmp_path: Path) -> None:
    assert cli(daemon, "nwfilter-list").stdout.splitlines()[0].split() == ["UUID", "Name"]
    path = _write(tmp_path, FILTER)
    out = cli(daemon, "nwfilter-define", path)
    assert out.stdout == f"Network filter web defined from {path}\n\n", out.stderr
    listed = cli(daemon, "nwfilter-list").stdout.splitlines()
    assert listed[2].split() == [UUID, "web"]
    xml = cli(daemon, "nwfilter-dumpxml", "web").stdout
    assert xml.startswith("<filter name='web' chain='ipv4-web' priority='-700'>\n")
    assert f"  <uuid>{UUID}</uuid>\n" in xml
    assert ("    <tcp srcmacaddr='52:54:00:ab:cd:ef' srcipaddr='$IP' srcipmask='16' dstportstart='0x50'/>\n"
            in xml)
    assert "  <rule action='drop' direction='inout' priority='500'/>\n" in xml
    assert cli(daemon, "nwfilter-dumpxml", UUID).stdout == xml  # by UUID too
    assert cli(daemon, "nwfilter-dumpxml", "web", "--xpath", "//tcp/@dstportstart").stdout == ' dstportstart="0x50"\n\n'
    assert "web.xml" in _files(daemon)
    gone = cli(daemon, "nwfilter-undefine", "web")
    assert gone.stdout == "Network filter web undefined\n\n"
    assert "web.xml" not in _files(daemon)
    miss = cli(daemon, "nwfilter-dumpxml", "web")
    assert miss.returncode == 1 and miss.stderr == ("error: failed to get nwfilter 'web'\nerror: Network filter not "
                                                    "found: no nwfilter with matching name 'web'\n")


def test_uuid_rules_loops_and_bad_input_change_nothing(daemon: DaemonHarness, tmp_path: Path) -> None:
    assert cli(daemon, "nwfilter-define", _write(tmp_path, "<filter name='a'><filterref filter='b'/></filter>")
               ).returncode == 0
    uuid = re.search(r"<uuid>(.*)</uuid>", cli(daemon, "nwfilter-dumpxml", "a").stdout).group(1)  # type: ignore[union-attr]
    again = cli(daemon, "nwfilter-define", _write(tmp_path, "<filter name='a' chain='mac'/>"))
    assert again.returncode == 0
    assert f"<uuid>{uuid}</uuid>" in cli(daemon, "nwfilter-dumpxml", "a").stdout  # the name keeps its UUID
    cli(daemon, "nwfilter-define", _write(tmp_path, "<filter name='a'><filterref filter='b'/></filter>"))
    before = _files(daemon)
    cases = [
        (f"<filter name='a'><uuid>{UUID}</uuid></filter>", f"filter 'a' already exists with uuid {uuid}"),
        (f"<filter name='c'><uuid>{uuid}</uuid></filter>",
         "filter with same UUID but different name ('a') already exists"),
        ("<filter name='b'><filterref filter='a'/></filter>", "filter would introduce a loop"),
        ("<filter name='d'><rule action='drop' direction='in'><udp dstportstart='70000'/></rule></filter>",
         "dstportstart has illegal value 70000 (in <udp>)"),
        ("<filter name='d'><rule action='drop' direction='in'><udp flags='SYN'/></rule></filter>",
         "unknown attribute 'flags' of <udp>"),
        ("<filter name='d' chain='bogus'/>", "Invalid chain name 'bogus'"),
        ("<filter name='../d'/>", "cannot contain '/'"),
        ("<filter name='d'><rule direction='in'/></filter>", "rule node requires action attribute"),
        ("<network/>", "unknown root element for nw filter"),
    ]
    for xml, words in cases:
        out = cli(daemon, "nwfilter-define", path := _write(tmp_path, xml, "bad.xml"))
        assert out.returncode == 1, xml
        assert out.stderr.startswith(f"error: Failed to define network filter from {path}\nerror: "), out.stderr
        assert words in out.stderr, out.stderr
    assert _files(daemon) == before
    assert [row.split()[1] for row in cli(daemon, "nwfilter-list").stdout.splitlines()[2:] if row.strip()] == ["a"]


def test_edit_and_restart(daemon: DaemonHarness, tmp_path: Path) -> None:
    cli(daemon, "nwfilter-define", _write(tmp_path, "<filter name='e'><rule action='accept' direction='out' "
                                                    "priority='100'><all/></rule></filter>"))
    uuid = cli(daemon, "nwfilter-list").stdout
    edited = cli(daemon, "nwfilter-edit", "e", env={"EDITOR": "sed -i s/100/200/"})
    assert edited.stdout == "Network filter e XML configuration edited.\n\n", edited.stderr
    same = cli(daemon, "nwfilter-edit", "e", env={"EDITOR": "true"})
    assert same.stdout == "Network filter e XML configuration not changed.\n\n"
    daemon.stop()
    daemon.start()
    assert "<rule action='accept' direction='out' priority='200'>" in cli(daemon, "nwfilter-dumpxml", "e").stdout
    assert cli(daemon, "nwfilter-list").stdout == uuid  # same filters, same UUIDs


def test_no_bindings_and_bad_ones_refused(daemon: DaemonHarness, tmp_path: Path) -> None:
    """No guest port has a filter: no bindings are listed; an incomplete binding is refused with
    libvirt's words (applied bindings: test_nwfilter_apply.py)."""
    assert cli(daemon, "nwfilter-binding-list").stdout.splitlines()[0].split() == ["Port", "Dev", "Filter"]
    miss = cli(daemon, "nwfilter-binding-dumpxml", "vnet0")
    assert miss.stderr == ("error: failed to get nwfilter binding 'vnet0'\nerror: Network filter binding not found: "
                           "no nwfilter binding for port dev 'vnet0'\n")
    path = _write(tmp_path, "<filterbinding><portdev name='vnet0'/><filterref filter='web'/></filterbinding>")
    made = cli(daemon, "nwfilter-binding-create", path)
    assert made.returncode == 1 and "error: XML error: owner name must be specified" in made.stderr
