"""pyvirtd keeps an idle definition as its stored text: 1000 defined domains must not hold 1000
parsed object trees.  What a listing shows comes from a small summary; an operation that needs
the definition gets it parsed from that text, equal to what was defined."""

from __future__ import annotations

from pyvirt.daemon import model
from pyvirt.daemon.records import DomainRecord

XML = ("<domain type='qemu'><name>d1</name><title>T</title><memory unit='MiB'>64</memory>"
       "<currentMemory unit='MiB'>32</currentMemory><vcpu current='1'>2</vcpu>"
       "<os><type arch='x86_64' machine='pc'>hvm</type></os><devices><disk type='file' device='disk'>"
       "<source file='/img/d1.qcow2'/><target dev='vda' bus='virtio'/></disk></devices></domain>")


def _record() -> tuple[DomainRecord, str]:
    dom = model.parse_definition(XML)
    stored = dom.to_xml(inactive=True, security_info=True)
    rec = DomainRecord(name="d1", uuid=dom.uuid or "", config=dom)
    rec.stored_as(stored)
    return rec, stored


def test_idle_definition_is_text_and_summary() -> None:
    rec, stored = _record()
    assert rec._config is None and rec.persistent  # noqa: SLF001 - the point of the test
    assert rec.summary() == ("T", 65536, 32768, 2, 1)
    assert rec._config is None  # noqa: SLF001 - listing did not parse it
    assert [(d.target_dev, d.source_file) for d in rec.disks()] == [("vda", "/img/d1.qcow2")]
    assert rec._config is None  # noqa: SLF001 - nor did domain stats
    assert rec.config is not None and rec.config.to_xml(inactive=True, security_info=True) == stored


def test_config_parsed_on_use_is_stable_until_compacted() -> None:
    rec, stored = _record()
    first = rec.config
    assert first is not None and first is rec.config  # identity holds while in use
    assert first.to_xml(inactive=True, security_info=True) == stored
    rec.compact()
    assert rec._config is None and rec.config is not first  # noqa: SLF001
    assert rec.config.to_xml(inactive=True, security_info=True) == stored


def test_running_guest_holds_its_live_model_and_the_definition_as_text() -> None:
    rec, stored = _record()
    live = model.parse_stored(XML.replace("<title>T</title>", "<title>L</title>"))
    rec.id, rec.live = 3, live
    assert rec.config is not None
    rec.compact()  # what a start does once its guest runs
    assert rec._config is None and rec.persistent  # noqa: SLF001 - one tree per running guest
    assert rec.current() is live and rec.summary()[0] == "L"
    assert rec.config.to_xml(inactive=True, security_info=True) == stored  # parsed again on use


def test_a_config_without_stored_text_is_never_dropped() -> None:
    rec, _ = _record()
    other = model.parse_definition(XML.replace("<title>T</title>", "<title>U</title>"))
    rec.config = other  # not stored yet: the object is the only copy
    rec.compact()
    assert rec.config is other


def test_replacing_the_config_forgets_the_old_text() -> None:
    rec, _ = _record()
    other = model.parse_definition(XML.replace("<title>T</title>", "<title>U</title>"))
    rec.config = other
    assert rec.config is other and rec.summary()[0] == "U"
    rec.config = None
    assert not rec.persistent


def test_config_copy_is_a_fresh_parse_of_idle_text_and_a_copy_of_a_held_config() -> None:
    rec, stored = _record()
    mine = rec.config_copy()
    assert mine is not None and mine.to_xml(inactive=True, security_info=True) == stored
    assert rec._config is None  # noqa: SLF001 - nothing parsed is kept for the caller's copy
    mine.name = "changed"
    held = rec.config
    assert held is not None and held.name == "d1"  # the caller's changes are its own
    other = rec.config_copy()
    assert other is not None and other is not held and other.devices.disks[0] is not held.devices.disks[0]
    other.devices.disks[0].source_file = "/elsewhere"
    assert held.devices.disks[0].source_file == "/img/d1.qcow2"
