"""<domaincheckpoint> through the one XML engine: round trips, libvirt's defaults and order, and
refusals that name what and where (checkpoint_conf.c, domaincheckpoint.rng)."""

from __future__ import annotations

import pytest

from pyvirt.api import ErrorCode, PyvirtError
from pyvirt.checkpoint_tree import CheckpointSet, GuestDisk, align_disks, parse_request
from pyvirt.xml.checkpoint import parse_checkpoint
from pyvirt.xml.errors import XMLError

DOMAIN = "<domain type='kvm'>\n  <name>g</name>\n  <uuid>11111111-2222-3333-4444-555555555555</uuid>\n</domain>"


def test_record_round_trips_in_libvirts_order() -> None:
    req = parse_checkpoint("<domaincheckpoint><disks><disk name='vdb' checkpoint='no'/>"
                           "<disk name='vda' bitmap='b&amp;1'/></disks><description>d &lt;x&gt;</description>"
                           "<name>c2</name></domaincheckpoint>", creation_time=1700000000)
    req.parent, req.domain_xml = "c1", DOMAIN
    text = req.to_xml()
    assert text.splitlines()[:9] == [
        "<domaincheckpoint>", "  <name>c2</name>", "  <description>d &lt;x&gt;</description>",
        "  <parent>", "    <name>c1</name>", "  </parent>", "  <creationTime>1700000000</creationTime>",
        "  <disks>", "    <disk name='vdb' checkpoint='no'/>"]
    assert "    <disk name='vda' checkpoint='bitmap' bitmap='b&amp;1'/>" in text
    assert "  <domain type='kvm'>" in text and text.endswith("</domaincheckpoint>\n")
    again = parse_checkpoint(text, redefine=True)
    assert again == req and again.domain_xml == DOMAIN + "\n"
    assert "<domain " not in again.to_xml(no_domain=True)


def test_request_ignores_bookkeeping_and_names_itself_after_the_clock() -> None:
    req = parse_checkpoint("<domaincheckpoint><parent><name>p</name></parent><creationTime>5</creationTime>"
                           "</domaincheckpoint>", creation_time=42)
    assert (req.name, req.parent, req.creation_time) == ("42", None, 42)
    assert req.to_xml() == "<domaincheckpoint>\n  <name>42</name>\n  <creationTime>42</creationTime>\n</domaincheckpoint>\n"


def test_size_is_output_only() -> None:
    chk = parse_checkpoint("<domaincheckpoint><name>c</name><disks><disk name='vda' size='99'/></disks>"
                           "</domaincheckpoint>", creation_time=1)
    assert chk.disks[0].size is None
    chk.disks[0].bitmap, chk.disks[0].size = "c", 65536
    assert "size='65536'" in chk.to_xml(size=True) and "size=" not in chk.to_xml()
    chk.disks[0].size = 0  # nothing written since: libvirt still says so
    assert "bitmap='c' size='0'/>" in chk.to_xml(size=True)


@pytest.mark.parametrize(("xml", "words"), [
    ("<domaincheckpoint><name>.hidden</name></domaincheckpoint>", "<name> '.hidden'"),
    ("<domaincheckpoint><name>a/b</name></domaincheckpoint>", "<name> 'a/b'"),
    ("<domaincheckpoint><disks><disk checkpoint='no'/></disks></domaincheckpoint>", "<disks/disk>"),
    ("<domaincheckpoint><disks>\n<disk name='vda' checkpoint='no' bitmap='x'/></disks></domaincheckpoint>",
     "disk 'vda' with checkpoint='no'"),
    ("<domaincheckpoint><disks><disk name='vda' checkpoint='maybe'/></disks></domaincheckpoint>", "maybe"),
    ("<domaincheckpoint><bogus/></domaincheckpoint>", "bogus"),
    ("<domainsnapshot/>", "<domaincheckpoint>"),
])
def test_bad_documents_name_what_and_where(xml: str, words: str) -> None:
    with pytest.raises(XMLError) as err:
        parse_checkpoint(xml, creation_time=1)
    assert words in str(err.value)


def test_redefine_needs_name_and_time() -> None:
    with pytest.raises(XMLError, match="must have a name"):
        parse_checkpoint("<domaincheckpoint><creationTime>1</creationTime></domaincheckpoint>", redefine=True)
    with pytest.raises(PyvirtError) as err:
        parse_request("<domaincheckpoint><name>x</name></domaincheckpoint>", redefine=True)
    assert err.value.code == ErrorCode.INTERNAL_ERROR and "creationTime" in err.value.message


def test_align_disks_follows_libvirt() -> None:
    disks = [GuestDisk("vda", "/i/a.qcow2", False), GuestDisk("hdc", None, True), GuestDisk("vdb", "/i/b", False)]
    chk = parse_checkpoint("<domaincheckpoint><name>c</name></domaincheckpoint>", creation_time=1)
    align_disks(chk, disks)
    assert [(d.name, d.checkpoint, d.bitmap) for d in chk.disks] == [
        ("vda", "bitmap", "c"), ("hdc", "no", None), ("vdb", "bitmap", "c")]
    chk = parse_checkpoint("<domaincheckpoint><name>c</name><disks><disk name='/i/b' bitmap='own'/></disks>"
                           "</domaincheckpoint>", creation_time=1)
    align_disks(chk, disks)  # with <disks>, the disks left out get none
    assert [(d.name, d.checkpoint, d.bitmap) for d in chk.disks] == [
        ("vda", "no", None), ("hdc", "no", None), ("vdb", "bitmap", "own")]
    for xml, words in [("<disk name='vdz'/>", "no disk named 'vdz'"), ("<disk name='hdc'/>", "empty or readonly"),
                       ("<disk name='vda'/><disk name='/i/a.qcow2'/>", "specified twice")]:
        chk = parse_checkpoint(f"<domaincheckpoint><disks>{xml}</disks></domaincheckpoint>", creation_time=1)
        with pytest.raises(PyvirtError, match=words):
            align_disks(chk, disks)


def test_set_reparents_and_words_errors_as_checkpoints() -> None:
    chks = CheckpointSet()
    for n in ("a", "b", "c"):
        chks.add(parse_checkpoint(f"<domaincheckpoint><name>{n}</name></domaincheckpoint>", creation_time=1))
    assert [(r.name, r.parent) for r in chks.records()] == [("a", ""), ("b", "a"), ("c", "b")]
    chks.remove("b")
    assert [(r.name, r.parent) for r in chks.records()] == [("a", ""), ("c", "a")]
    with pytest.raises(PyvirtError, match="no domain checkpoint with matching name 'b'"):
        chks.get("b")
    orphan = parse_checkpoint("<domaincheckpoint><name>z</name><creationTime>1</creationTime>"
                              "<parent><name>nope</name></parent></domaincheckpoint>", redefine=True)
    with pytest.raises(PyvirtError, match="parent nope for moment z not found"):
        chks.check_new(orphan, redefine=True)
