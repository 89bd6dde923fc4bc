"""Network filter XML (libvirt's rules and format) and pyvirtd's filter driver over a directory of
the test's own: no daemon, no root."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyvirt.api import ErrorCode, PyvirtError
from pyvirt.nwfilter.driver import NWFilterDriver
from pyvirt.xml.errors import XMLError
from pyvirt.xml.nwfilter import FilterDef

UUID = "fce8ae33-e69e-83bf-262e-30786c1f8072"


def test_format_is_libvirts() -> None:
    xml = f"""<filter name='f' chain='ipv4-x'><uuid>{UUID}</uuid>
      <filterref filter='base'><parameter name='IP' value='10.0.0.1'/></filterref>
      <rule action='drop' direction='out' priority='-100' statematch='0'>
        <ip match='no' protocol='0x06' srcipmask='255.255.255.0' srcipaddr='$IP[@1]' srcmacaddr='52:54:0:AA:bb:cc'/>
      </rule>
      <rule action='accept' direction='in'><tcp flags='SYN,ACK/SYN' dstportstart='22' state='NEW'/></rule>
      <rule action='return' direction='inout'/></filter>"""
    assert FilterDef.from_xml(xml).to_xml() == (
        "<filter name='f' chain='ipv4-x' priority='-700'>\n"
        f"  <uuid>{UUID}</uuid>\n"
        "  <filterref filter='base'>\n    <parameter name='IP' value='10.0.0.1'/>\n  </filterref>\n"
        "  <rule action='drop' direction='out' priority='-100' statematch='false'>\n"
        "    <ip match='no' srcmacaddr='52:54:00:aa:bb:cc' srcipaddr='$IP[@1]' srcipmask='24' protocol='tcp'/>\n"
        "  </rule>\n"
        "  <rule action='accept' direction='in' priority='500'>\n"
        "    <tcp state='NEW' dstportstart='22' flags='SYN,ACK/SYN'/>\n  </rule>\n"
        "  <rule action='return' direction='inout' priority='500'/>\n"
        "</filter>\n")


@pytest.mark.parametrize(("xml", "words"), [
    ("<filter/>", "filter has no name"),
    ("<filter name='a' chain='root-x'/>", "Invalid chain name 'root-x'"),
    ("<filter name='a' chain='mac-abcdefghijkl'/>", "Name of chain is longer than 12 characters"),
    ("<filter name='a' chain='mac x'/>", "Chain name contains invalid characters"),
    ("<filter name='a' priority='2000'/>", "'priority': '2000' is not an integer in [-1000,1000]"),
    ("<filter name='a'><rule action='drop'/></filter>", "rule node requires direction attribute"),
    ("<filter name='a'><rule action='drop' direction='in'><ip/><tcp/></rule></filter>", "at most one protocol"),
    ("<filter name='a'><rule action='drop' direction='in'><ipx/></rule></filter>", "unknown protocol element <ipx>"),
    ("<filter name='a'><rule action='drop' direction='in'><mac srcmacaddr='zz'/></rule></filter>",
     "srcmacaddr has illegal value zz (in <mac>)"),
    ("<filter name='a'><rule action='drop' direction='in'><ipv6 srcipaddr='10.0.0.1'/></rule></filter>",
     "srcipaddr has illegal value 10.0.0.1 (in <ipv6>)"),
    ("<filter name='a'><rule action='drop' direction='in'><arp gratuitous='maybe'/></rule></filter>",
     "gratuitous has illegal value maybe"),
    ("<filter name='a'><rule action='drop' direction='in'><tcp dscp='0x40'/></rule></filter>",
     "dscp has illegal value 0x40 (in <tcp>)"),
    ("<filter name='a'><rule action='drop' direction='in'><mac srcmacmask='ff:00:ff:00:00:00'/></rule></filter>",
     "srcmacmask has illegal value ff:00:ff:00:00:00"),
    ("<filter name='a'><rule action='drop' direction='in'><ipv6 srcipmask='ffff:ff00::ff'/></rule></filter>",
     "srcipmask has illegal value ffff:ff00::ff"),
    ("<filter name='a'><rule action='drop' direction='in'><igmp dstportstart='1'/></rule></filter>",
     "unknown attribute 'dstportstart' of <igmp>"),
    ("<filter name='a'><filterref/></filter>", "filterref has no filter attribute"),
    ("<filter name='a'><uuid>nope</uuid></filter>", "malformed uuid element"),
    ("<filter name='a'><bogus/></filter>", "unknown element <bogus> in <filter>"),
    ("<filter name='a'><rule action='drop' direction='in'><vlan vlanid='4096'/></rule></filter>",
     "vlanid has illegal value 4096 (in <vlan>)"),
    ("<filter name='a'><rule action='drop' direction='in'><mac protocolid='0x5ff'/></rule></filter>",
     "protocolid has illegal value 0x5ff (in <mac>)"),
    ("<filter name='a'><rule action='drop' direction='in'><tcp-ipv6 flags='SYN/ALL'/></rule></filter>",
     "unknown attribute 'flags' of <tcp-ipv6>"),
    ("<filter name='a'><rule action='drop' direction='in'><tcp flags='SYN'/></rule></filter>",
     "flags has illegal value SYN (in <tcp>)"),
    ("<filter name='a'><rule action='drop' direction='in'><tcp flags='SYNX/ALL'/></rule></filter>",
     "flags has illegal value SYNX/ALL"),
    ("<filter name='a'><rule action='drop' direction='in'><tcp state='NEWISH'/></rule></filter>",
     "state has illegal value NEWISH"),
    ("<filter name='a'><rule action='drop' direction='in'><tcp srcipaddr='$V '/></rule></filter>",
     "srcipaddr has illegal value $V "),
    ("<filter name='a'><rule action='drop' direction='in'><tcp srcipaddr='$V [1]'/></rule></filter>",
     "srcipaddr has illegal value $V [1]"),
    ("<filter name='a'><rule action='drop' direction='in'><tcp srcipaddr='$V[0x2]'/></rule></filter>",
     "srcipaddr has illegal value $V[0x2]"),
    ("<filter name='a'><rule action='drop' direction='in'><tcp srcipaddr='$V[4294967296]'/></rule></filter>",
     "srcipaddr has illegal value $V[4294967296]"),
    # several bad values: the last one in libvirt's attribute order is named, as libvirt names it
    ("<filter name='a'><rule action='drop' direction='in'><tcp dstportstart='70000' srcipmask='33'/></rule>"
     "</filter>", "dstportstart has illegal value 70000"),
    ("<filter name='a'><rule action='drop' direction='in'><arp opcode='x' hwtype='65536'/></rule></filter>",
     "opcode has illegal value x"),
])
def test_bad_documents_are_refused_by_name(xml: str, words: str) -> None:
    with pytest.raises(XMLError) as err:
        FilterDef.from_xml(xml)
    assert words in err.value.message


def test_driver_keeps_files_uuids_and_refuses_loops(tmp_path: Path) -> None:
    folder = tmp_path / "nwfilter"
    drv = NWFilterDriver(folder)
    drv.load()
    made = drv.define_nwfilter("<filter name='a'><filterref filter='b'/></filter>")
    assert (folder / "a.xml").read_text() == drv.get_nwfilter_xml("a")
    assert drv.define_nwfilter("<filter name='a' chain='mac'><filterref filter='b'/></filter>").uuid == made.uuid
    drv.define_nwfilter("<filter name='b'/>")
    before = {p.name: p.read_text() for p in folder.iterdir()}
    for xml, words in ((f"<filter name='a'><uuid>{UUID}</uuid></filter>", "already exists with uuid"),
                       (f"<filter name='c'><uuid>{made.uuid}</uuid></filter>", "same UUID but different name ('a')"),
                       ("<filter name='b'><filterref filter='a'/></filter>", "filter would introduce a loop"),
                       ("<filter name='b'><rule action='x' direction='in'/></filter>", "unknown rule action")):
        with pytest.raises(PyvirtError, match=words.replace("(", r"\(").replace(")", r"\)")):
            drv.define_nwfilter(xml)
    assert {p.name: p.read_text() for p in folder.iterdir()} == before
    assert drv.lookup_nwfilter(made.uuid).name == "a"
    with pytest.raises(PyvirtError, match="no nwfilter with matching name 'zz'") as err:
        drv.lookup_nwfilter("zz")
    assert err.value.code == ErrorCode.NO_NWFILTER
    # a file dropped into the directory (as libvirt's shipped filters are) loads, and gets a UUID kept
    (folder / "shipped.xml").write_text("<filter name='shipped' chain='root'><rule action='accept' direction='in'/>"
                                        "</filter>")
    (folder / "wrong.xml").write_text("<filter name='other'/>")
    again = NWFilterDriver(folder)
    again.load()
    assert [f.name for f in again.list_nwfilters()] == ["a", "b", "shipped"]
    uuid = again.lookup_nwfilter("shipped").uuid
    assert f"<uuid>{uuid}</uuid>" in (folder / "shipped.xml").read_text()
    again.undefine_nwfilter("a")
    assert not (folder / "a.xml").exists() and [f.name for f in again.list_nwfilters()] == ["b", "shipped"]
    assert again.list_nwfilter_bindings() == []
    with pytest.raises(PyvirtError, match="^XML error: owner name must be specified$"):
        again.create_nwfilter_binding("<filterbinding/>")


def test_filterref_parameters_written_by_name_each_name_in_given_order() -> None:
    """virNWFilterFormatParamAttributes: the parameter table is written sorted by name, a
    name's values (a list variable) in the order they were given."""
    doc = ("<filter name='f'><uuid>83011800-f663-96d6-8841-fd836b4318c6</uuid><filterref filter='clean-traffic'>"
           "<parameter name='b' value='2'/><parameter name='a' value='9'/><parameter name='b' value='1'/>"
           "<parameter name='A' value='0'/><parameter name='a' value='3'/></filterref></filter>")
    text = FilterDef.from_xml(doc).to_xml()
    got = [ln.strip() for ln in text.splitlines() if "<parameter" in ln]
    assert got == ["<parameter name='A' value='0'/>", "<parameter name='a' value='9'/>",
                   "<parameter name='a' value='3'/>", "<parameter name='b' value='2'/>",
                   "<parameter name='b' value='1'/>"]
    assert FilterDef.from_xml(text).to_xml() == text


def test_values_written_as_libvirt_does() -> None:
    """Masks written as addresses become prefix lengths (IPv6 too), IPv4-compatible IPv6
    addresses keep their dotted tail (inet_ntop), a variable's default iterator [@0] is not
    written."""
    text = FilterDef.from_xml(
        f"<filter name='a'><uuid>{UUID}</uuid><rule action='accept' direction='out'><ipv6 srcipaddr='::a01:203' "
        "srcipmask='ffff:ffff:ffff:ffff:ffff:ffff:ffff:8000' dstipaddr='::ffff:10.1.2.3'/></rule><rule action='accept' direction='out'><tcp srcipaddr='$A[@0]' "
        "dstipaddr='$A[@1]' srcipmask='255.255.254.0' dscp='63'/></rule></filter>").to_xml()
    assert "<ipv6 srcipaddr='::10.1.2.3' srcipmask='113' dstipaddr='::ffff:10.1.2.3'/>" in text
    assert "<tcp srcipaddr='$A' srcipmask='23' dstipaddr='$A[@1]' dscp='63'/>" in text


def test_numbers_with_a_libvirt_name_are_written_by_name() -> None:
    """ipprotomap, macProtoMap and arpOpcodeMap: protocol='6' is tcp, protocolid 2048 is ipv4,
    opcode 9 is ARP_NAK; other numbers stay numbers (hex stays hex); ipsetflags in any case are
    written lower case."""
    text = FilterDef.from_xml(
        f"<filter name='a'><uuid>{UUID}</uuid>"
        "<rule action='accept' direction='in'><ipv6 protocol='6'/></rule>"
        "<rule action='accept' direction='in'><ip protocol='18'/></rule>"
        "<rule action='accept' direction='in'><mac protocolid='2048' dstmacmask='FF:FF:F0:0:0:0'/></rule>"
        "<rule action='accept' direction='in'><mac protocolid='0x1234'/></rule>"
        "<rule action='accept' direction='in'><arp opcode='9'/></rule>"
        "<rule action='accept' direction='in'><all ipset='s' ipsetflags='SRC,dSt'/></rule></filter>").to_xml()
    for want in ("<ipv6 protocol='tcp'/>", "<ip protocol='18'/>", "<mac dstmacmask='ff:ff:f0:00:00:00' protocolid='ipv4'/>",
                 "<mac protocolid='0x1234'/>", "<arp opcode='ARP_NAK'/>", "<all ipset='s' ipsetflags='src,dst'/>"):
        assert want in text, want


def _written(protocol: str, attrs: str, chain: str = "") -> str:
    """The protocol element line pyvirt writes for one rule of a filter of our own."""
    xml = f"<filter name='f'{chain}><rule action='accept' direction='in'><{protocol} {attrs}/></rule></filter>"
    return next(line.strip() for line in FilterDef.from_xml(xml).to_xml().splitlines()
                if line.strip().startswith(f"<{protocol}"))


@pytest.mark.parametrize(("attrs", "written"), [
    ("srcipaddr='$V[ 2 ]'", "srcipaddr='$V[2]'"),          # blanks inside the brackets
    ("srcipaddr='$V[@ 3] '", "srcipaddr='$V[@3]'"),       # and after them
    ("srcipaddr='$V[1]tail'", "srcipaddr='$V[1]'"),        # what follows ']' is not read
    ("srcipaddr='$V[  @0 ]'", "srcipaddr='$V'"),           # iterator 0 is the default one
    ("srcipaddr='$V[+4]'", "srcipaddr='$V[4]'"),
    ("srcipaddr='$V[-1]'", "srcipaddr='$V[4294967295]'"),  # virStrToLong_ui wraps a negative
])
def test_variable_references_are_read_as_libvirt_reads_them(attrs: str, written: str) -> None:
    assert _written("tcp", attrs) == f"<tcp {written}/>"


@pytest.mark.parametrize(("flags", "written"), [
    ("syn,Ack/all", "SYN,ACK/ALL"),        # any case
    ("RST,SYN,SYN/FIN", "SYN,RST/FIN"),    # each set once, in libvirt's bit order
    ("SYNACK/ URG", "SYN,ACK/URG"),        # words need no separator, blanks are skipped
    ("SYN,ACK,URG,PSH,FIN,RST/NONE", "ALL/NONE"),
    ("ALL,SYN/SYN,", "ALL/SYN"),
    ("/SYN", "NONE/SYN"),
])
def test_tcp_flags_are_written_as_libvirts_bit_sets(flags: str, written: str) -> None:
    assert _written("tcp", f"flags='{flags}'") == f"<tcp flags='{written}'/>"


@pytest.mark.parametrize(("state", "written"), [
    ("invalid, new", "NEW,INVALID"), ("NEW,NEW,related", "NEW,RELATED"), ("NEW,NONE", "NONE"),
])
def test_states_are_written_in_libvirts_order(state: str, written: str) -> None:
    assert _written("tcp", f"state='{state}'") == f"<tcp state='{written}'/>"


def test_vlan_and_ethertype_bounds() -> None:
    assert _written("vlan", "vlanid='4095' encap-protocol='0x5ff'") == "<vlan vlanid='4095' encap-protocol='0x5ff'/>"
    assert _written("mac", "protocolid='1536'") == "<mac protocolid='1536'/>"
    assert _written("tcp-ipv6", "option='5'") == "<tcp-ipv6 option='5'/>"


def test_stp_chains_have_no_implicit_priority() -> None:
    """libvirt 9.0's chain_priorities has no 'stp' entry: an stp chain's priority is 0 (unwritten)
    unless given, while the other prefixes carry theirs."""
    head = FilterDef.from_xml("<filter name='f' chain='stp-x'/>").to_xml().splitlines()[0]
    assert head == "<filter name='f' chain='stp-x'>"
    head = FilterDef.from_xml("<filter name='f' chain='arp-x'/>").to_xml().splitlines()[0]
    assert head == "<filter name='f' chain='arp-x' priority='-500'>"
    assert FilterDef.from_xml("<filter name='f' chain='stp' priority='-810'/>").priority == -810
