"""A restarted pyvirtd takes idle definitions from its load index only where the stored text is
the one indexed (daemon/loadindex.py): edits made while it was down, broken files and forged or
stale entries are all parsed (and judged) again."""

from __future__ import annotations

import json

import pytest

from pyvirt.api import DomainState, ShutoffReason
from pyvirt.daemon import loadindex
from tests.daemon_harness import DaemonHarness

pytestmark = pytest.mark.timeout(120)

XML = ("<domain type='qemu'><name>{name}</name><title>{title}</title><memory unit='MiB'>{mib}</memory>"
       "<vcpu>{vcpus}</vcpu><os><type arch='x86_64' machine='pc'>hvm</type></os></domain>")


def test_restart_uses_the_index_only_for_unchanged_texts(daemon: DaemonHarness) -> None:
    conn = daemon.connect()
    conn.define_xml(XML.format(name="same", title="kept", mib=64, vcpus=2))
    conn.define_xml(XML.format(name="edited", title="old", mib=64, vcpus=1))
    conn.set_autostart("same", False)
    daemon.stop()  # a clean stop writes the index
    index = daemon.root / "run" / loadindex.INDEX_NAME
    doc = json.loads(index.read_text())
    assert sorted(doc["domains"]) == ["edited", "same"]

    config = daemon.root / "config" / "qemu"
    edited = config / "edited.xml"
    edited.write_text(edited.read_text().replace("<title>old</title>", "<title>new</title>"))
    (config / "broken.xml").write_text("<domain type='qemu'><name>broken</name>")
    # an entry forged for the broken file, with some other text's digest, must not vouch for it
    doc["domains"]["broken"] = [loadindex.digest("<domain/>"), "3b6fa3f0-6c1e-4d1a-9a55-1d8a1b0e0a11",
                                ["", 1024, 1024, 1, 1], []]
    index.write_text(json.dumps(doc))

    daemon.start()
    conn = daemon.connect()
    infos = {i.name: i for i in conn.list_domains()}
    assert sorted(infos) == ["broken", "edited", "same"]
    assert (infos["same"].title, infos["same"].max_mem_kib, infos["same"].max_vcpus) == ("kept", 65536, 2)
    assert infos["edited"].title == "new"  # the text changed: parsed again, not taken from the index
    assert (infos["broken"].state, infos["broken"].reason) == (DomainState.SHUTOFF, ShutoffReason.FAILED)
    assert "broken.xml cannot be loaded" in daemon.log_text()
    # the indexed domain is whole when used: its definition is parsed from the text on demand
    assert "<title>kept</title>" in conn.get_xml("same")
    assert sorted(json.loads(index.read_text())["domains"]) == ["edited", "same"]  # rewritten at load


def test_reattach_leaves_unchanged_runtime_files_alone(daemon: DaemonHarness, tmp_path) -> None:
    """A guest found again as it was recorded (same state, same pty) keeps its runtime files:
    with hundreds of guests, rewriting two files each was most of a restart's disk time."""
    from pyvirt.testguest import rom_domain_xml, rom_image

    rom = tmp_path / "rom.bin"
    rom.write_bytes(rom_image())
    conn = daemon.connect()
    conn.define_xml(rom_domain_xml("fw", rom))  # a pty serial: the console is re-opened too
    conn.start("fw", paused=True)
    xml_before = conn.get_xml("fw")
    assert "tty='/dev/pts/" in xml_before
    daemon.stop()
    (run_dir,) = (daemon.root / "run" / "qemu").iterdir()
    stamps = {p.name: p.stat().st_mtime_ns for p in (run_dir / "record.json", run_dir / "live.xml")}
    daemon.start()
    conn = daemon.connect()
    assert conn.get_info("fw").state == DomainState.PAUSED
    assert conn.get_xml("fw") == xml_before
    assert {p: (run_dir / p).stat().st_mtime_ns for p in stamps} == stamps
    conn.resume("fw")  # a change of state is recorded as before
    assert (run_dir / "record.json").stat().st_mtime_ns != stamps["record.json"]
    conn.destroy("fw")
