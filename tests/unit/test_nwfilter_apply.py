"""Network filter instantiation (variables, references, iterators) and its nftables program:
libvirt's rule order, directions and refusals, on small filters of our own (the traffic they
make is checked in tests/integration/test_nwfilter_apply.py)."""

from __future__ import annotations

import pytest

from pyvirt.api import PyvirtError
from pyvirt.nwfilter import nft
from pyvirt.nwfilter.binding import Binding
from pyvirt.nwfilter.instantiate import instantiate
from pyvirt.xml.nwfilter import FilterDef


def _filters(*docs: str) -> dict[str, FilterDef]:
    out = {}
    for doc in docs:
        filt = FilterDef.from_xml(doc)
        out[filt.name] = filt
    return out


def _texts(filters: dict[str, FilterDef], name: str, variables: dict[str, list[str]]) -> list[list[str]]:
    return [[v.text for v in inst.values] for inst in instantiate(name, variables, filters.get)]


def test_references_pass_variables_and_the_callers_win() -> None:
    filters = _filters("<filter name='top'><filterref filter='leaf'><parameter name='A' value='10.0.0.1'/>"
                       "<parameter name='B' value='10.0.0.2'/></filterref></filter>",
                       "<filter name='leaf' chain='ipv4'><rule action='accept' direction='out'>"
                       "<ip srcipaddr='$A' dstipaddr='$B'/></rule></filter>")
    assert _texts(filters, "top", {}) == [["10.0.0.1", "10.0.0.2"]]
    assert _texts(filters, "top", {"A": ["10.9.9.9"]}) == [["10.9.9.9", "10.0.0.2"]]


def test_lists_iterators_and_elements() -> None:
    rule = "<filter name='f' chain='ipv4'><rule action='accept' direction='out'><ip {}/></rule></filter>"
    same = _filters(rule.format("srcipaddr='$A' dstipaddr='$B'"))
    two = {"A": ["1.1.1.1", "2.2.2.2", "1.1.1.1"], "B": ["3.3.3.3", "4.4.4.4", "3.3.3.3"]}
    # one iterator: the lists in parallel, a pair seen before skipped
    assert _texts(same, "f", two) == [["1.1.1.1", "3.3.3.3"], ["2.2.2.2", "4.4.4.4"]]
    with pytest.raises(PyvirtError, match="Cardinality of list items must be the same"):
        instantiate("f", {"A": ["1.1.1.1"], "B": ["3.3.3.3", "4.4.4.4"]}, same.get)
    product = _filters(rule.format("srcipaddr='$A[@1]' dstipaddr='$B[@2]'"))
    assert len(_texts(product, "f", {"A": ["1.1.1.1", "2.2.2.2"], "B": ["3.3.3.3", "4.4.4.4"]})) == 4
    element = _filters(rule.format("srcipaddr='$A[1]'"))
    assert _texts(element, "f", {"A": ["1.1.1.1", "2.2.2.2"]}) == [["2.2.2.2"]]
    with pytest.raises(PyvirtError, match="unresolvable variables or unavailable list elements: A\\[1\\]$"):
        instantiate("f", {"A": ["1.1.1.1"]}, element.get)


def test_missing_filter_and_variables_named() -> None:
    filters = _filters("<filter name='top'><filterref filter='gone'/></filter>",
                       "<filter name='v' chain='ipv4'><rule action='drop' direction='out'><ip srcipaddr='$IP' "
                       "dstipaddr='$GW'/></rule></filter>")
    with pytest.raises(PyvirtError, match="referenced filter 'gone' is missing"):
        instantiate("top", {}, filters.get)
    with pytest.raises(PyvirtError, match="unresolvable variables or unavailable list elements: GW, IP$"):
        instantiate("v", {}, filters.get)


FILTERS = _filters(
    "<filter name='root'><filterref filter='mac'/><filterref filter='ip4'/>"
    "<rule action='accept' direction='inout' priority='-750'><mac protocolid='ipv4'/></rule>"
    "<rule action='reject' direction='inout' priority='1000'/></filter>",
    "<filter name='mac' chain='mac'><rule action='return' direction='out'><mac srcmacaddr='$MAC'/></rule>"
    "<rule action='drop' direction='out'/></filter>",
    "<filter name='ip4' chain='ipv4-x' priority='-700'><rule action='accept' direction='inout'>"
    "<ip srcipaddr='$IP' srcipmask='24' protocol='udp' dstportstart='67' dstportend='68'/></rule></filter>",
)


def _chain(program: str, name: str) -> list[str]:
    lines = program.splitlines()
    start = lines.index(f"  chain {name} {{")
    return [ln.strip() for ln in lines[start + 1:lines.index("  }", start)]]


def test_program_orders_chains_and_rules_as_libvirt() -> None:
    binding = Binding("g", "8f0a0f4c-5a4e-4d3b-9e1d-7a7f3c1b2d01", "vnet7", "52:54:00:00:00:07", "root",
                      [("IP", "10.1.2.3")])
    program = nft.program("vnet7", instantiate("root", binding.variables(), FILTERS.get))
    # from the guest: the mac jump (-800), the root rule (-750), the ipv4 jump (-700), reject = drop
    assert _chain(program, "I") == ["jump I_0_mac", "ether type 0x0800 accept", "ether type ip jump I_1_ipv4_x",
                                    "drop"]
    assert _chain(program, "I_0_mac") == ["ether saddr 52:54:00:00:00:07 return", "drop"]
    # inout: the guest's own sending side matches with source and destination swapped
    assert _chain(program, "I_1_ipv4_x") == ["ether type ip ip daddr 10.1.2.0/24 ip protocol 17 th sport 67-68 accept"]
    assert _chain(program, "O_2_ipv4_x") == ["ether type ip ip saddr 10.1.2.0/24 ip protocol 17 th dport 67-68 accept"]
    assert _chain(program, "O") == ["ether type 0x0800 accept", "ether type ip jump O_2_ipv4_x", "drop"]
    assert 'iifname "vnet7" jump I' in program and 'oifname "vnet7" jump O' in program


@pytest.mark.parametrize(("rule", "message"), [
    ("<tcp dstportstart='22'/>", "<tcp> is not applied by pyvirt"),
    ("<stp/>", "<stp> is not applied by pyvirt"),
    ("<arp gratuitous='true'/>", "gratuitous='true'> is not applied"),
    ("<ip srcipaddr='$IP'/>", "invalid value 'not-an-ip' for attribute 'srcipaddr' of <ip>"),
])
def test_program_refuses_what_it_cannot_apply(rule: str, message: str) -> None:
    filters = _filters(f"<filter name='f' chain='root'><rule action='drop' direction='out'>{rule}</rule></filter>")
    with pytest.raises(PyvirtError, match=message):
        nft.program("vnet0", instantiate("f", {"IP": ["not-an-ip"]}, filters.get))


def test_binding_xml_round_trip_and_refusals() -> None:
    xml = ("<filterbinding><owner><name>g</name><uuid>8f0a0f4c-5a4e-4d3b-9e1d-7a7f3c1b2d01</uuid></owner>"
           "<portdev name='vnet0'/><mac address='52:54:00:AA:00:01'/><filterref filter='clean-traffic'>"
           "<parameter name='IP' value='10.0.0.2'/><parameter name='CTRL' value='x'/></filterref></filterbinding>")
    binding = Binding.from_xml(xml)
    assert binding.mac == "52:54:00:aa:00:01" and binding.variables()["MAC"] == ["52:54:00:aa:00:01"]
    text = binding.to_xml()
    assert text.index("name='CTRL'") < text.index("name='IP'") and Binding.from_xml(text).to_xml() == text
    with pytest.raises(Exception, match="Unable to parse UUID 'x'"):
        Binding.from_xml(xml.replace("8f0a0f4c-5a4e-4d3b-9e1d-7a7f3c1b2d01", "x"))
    with pytest.raises(Exception, match="filter binding has no port dev name"):
        Binding.from_xml(xml.replace("<portdev name='vnet0'/>", ""))


def test_address_learning_reads_the_guests_arp_and_its_dhcp_ack() -> None:
    """libvirt's CTRL_IP_LEARNING: 'any' learns from an ARP the guest sends (its MAC, a sender
    address) or a DHCP ACK to it; 'dhcp' only from the ACK; anything else is not its address."""
    import struct

    from pyvirt.nwfilter.learn import basic_program, learnt_from, mode_of

    mac, other = bytes.fromhex("525400000007"), bytes.fromhex("525400000099")
    arp = (b"\xff" * 6 + mac + b"\x08\x06" + struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + mac
           + bytes([10, 1, 2, 3]) + b"\0" * 6 + bytes([10, 1, 2, 1]))
    assert learnt_from(arp, mac, "any") == "10.1.2.3"
    assert learnt_from(arp, mac, "dhcp") is None and learnt_from(arp, other, "any") is None
    probe = arp[:28] + b"\0\0\0\0" + arp[32:]  # an ARP probe (sender 0.0.0.0) tells nothing
    assert learnt_from(probe, mac, "any") is None
    dhcp = bytearray(240)
    dhcp[0], dhcp[16:20], dhcp[28:34], dhcp[236:240] = 2, bytes([10, 1, 2, 9]), mac, b"\x63\x82\x53\x63"
    dhcp += bytes([53, 1, 5, 255])  # DHCPACK
    udp = struct.pack("!HHHH", 67, 68, 8 + len(dhcp), 0) + bytes(dhcp)
    ip = bytes([0x45, 0, 0, 0, 0, 0, 0, 0, 64, 17, 0, 0, 10, 1, 2, 1, 255, 255, 255, 255]) + udp
    ack = b"\xff" * 6 + other + b"\x08\x00" + ip
    assert learnt_from(ack, mac, "dhcp") == "10.1.2.9" == learnt_from(ack, mac, "any")
    offer = ack[:-2] + bytes([2, 255])
    assert learnt_from(offer, mac, "any") is None
    assert mode_of({}) == "any" and mode_of({"CTRL_IP_LEARNING": ["DHCP"]}) == "dhcp"
    with pytest.raises(PyvirtError, match="CTRL_IP_LEARNING"):
        mode_of({"CTRL_IP_LEARNING": ["sometimes"]})
    assert 'iifname "vnet0" ether saddr != 52:54:00:00:00:07 drop' in basic_program("vnet0", "52:54:00:00:00:07", "any")


def test_domain_filterref_kept_and_its_parameters_written_by_name() -> None:
    """A guest NIC's <filterref> is part of the domain (no longer refused); libvirt writes its
    parameters sorted by name, a list's values in the order given."""
    from pyvirt.xml.parse import parse_domain

    xml = ("<domain type='qemu'><name>f</name><memory>65536</memory><os><type>hvm</type></os><devices>"
           "<interface type='bridge'><source bridge='br0'/><filterref filter='clean-traffic'>"
           "<parameter name='IP' value='10.0.0.3'/><parameter name='CTRL_IP_LEARNING' value='none'/>"
           "<parameter name='IP' value='10.0.0.2'/></filterref></interface></devices></domain>")
    nic = parse_domain(xml).devices.interfaces[0]
    assert nic.filterref.filter == "clean-traffic"
    assert [(p.name, p.value) for p in nic.filterref.parameters] == [
        ("CTRL_IP_LEARNING", "none"), ("IP", "10.0.0.3"), ("IP", "10.0.0.2")]
