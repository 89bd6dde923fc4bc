"""The <network> model: libvirt's normalisation rules and refusals, one behaviour per test."""

from __future__ import annotations

import pytest

from pyvirt.xml.errors import XMLError, XMLUnsupportedError, XMLValidationError
from pyvirt.xml.network import Network
from pyvirt.xml.network_rules import check_unique_hosts


def _net(body: str, attrs: str = "") -> Network:
    return Network.from_xml(f"<network{attrs}><name>n1</name><uuid>81ff0d90-c91e-6742-64da-4a736edb9a9b</uuid>"
                            f"{body}</network>")


IP4 = "<ip address='10.9.8.1' netmask='255.255.255.0'><dhcp><range start='10.9.8.2' end='10.9.8.254'/></dhcp></ip>"


def test_forward_without_mode_is_nat_and_bridge_gets_stp_defaults() -> None:
    net = _net("<forward/><bridge name='vbr9'/>" + IP4)
    assert net.forward_mode == "nat"
    xml = net.to_xml()
    assert "<forward mode='nat'/>" in xml
    assert "<bridge name='vbr9' stp='on' delay='0'/>" in xml


def test_isolated_network_has_no_forward_but_a_bridge() -> None:
    net = _net(IP4)
    assert net.forward is None and net.forward_mode == "none"
    assert "<bridge stp='on' delay='0'/>" in net.to_xml()


def test_bridge_mode_keeps_bridge_without_stp() -> None:
    xml = _net("<forward mode='bridge'/><bridge name='br0'/>").to_xml()
    assert "<bridge name='br0'/>" in xml
    with pytest.raises(XMLError, match="stp"):
        _net("<forward mode='bridge'/><bridge name='br0' stp='off'/>")


def test_forward_dev_becomes_first_interface() -> None:
    net = _net("<forward mode='route' dev='eth7'/>" + IP4)
    assert [i.dev for i in net.forward.interfaces] == ["eth7"]
    with pytest.raises(XMLError, match="must match"):
        _net("<forward mode='route' dev='eth7'><interface dev='eth8'/></forward>" + IP4)


def test_addresses_are_canonical_and_mac_lower_case() -> None:
    net = _net("<mac address='52:54:00:AB:CD:0E'/><ip family='ipv6' address='2001:DB8:0:0::1' prefix='64'/>")
    assert net.mac == "52:54:00:ab:cd:0e"
    assert net.ips[0].address == "2001:db8::1"


def test_ip_without_dhcp_is_written_open_and_closed() -> None:
    xml = _net("<ip address='10.1.1.1' prefix='24'/>").to_xml()
    assert "  <ip address='10.1.1.1' prefix='24'>\n  </ip>\n" in xml


def test_empty_settings_are_dropped() -> None:
    xml = _net("<dns/><domain localOnly='yes'/><ip address='10.1.1.1' prefix='24'><dhcp/></ip>", " ipv6='no'").to_xml()
    for gone in ("<dns", "<domain", "<dhcp", "ipv6="):
        assert gone not in xml


def test_dhcp_range_outside_subnet_is_refused() -> None:
    with pytest.raises(XMLError, match="is not entirely within network 10.9.8.1/24"):
        _net("<ip address='10.9.8.1' netmask='255.255.255.0'><dhcp><range start='10.9.9.2' end='10.9.9.9'/>"
             "</dhcp></ip>")
    with pytest.raises(XMLError, match="is reversed"):
        _net("<ip address='10.9.8.1' netmask='255.255.255.0'><dhcp><range start='10.9.8.9' end='10.9.8.2'/>"
             "</dhcp></ip>")


def test_unknown_forward_mode_and_bad_values_are_errors() -> None:
    with pytest.raises(XMLError, match="mode"):
        _net("<forward mode='teleport'/>" + IP4)
    with pytest.raises(XMLError, match="multicast"):
        _net("<mac address='01:00:5e:00:00:01'/>")
    with pytest.raises(XMLError, match="no IP address"):
        _net("<forward mode='nat'/>")


DNSMASQ_NS = "http://libvirt.org/schemas/network/dnsmasq/1.0"


def test_dnsmasq_options_read_and_written_last_with_the_namespace_on_the_root() -> None:
    """libvirt's dnsmasq namespace: options kept in order, written after everything else, the
    namespace declared on <network> whatever prefix the document used."""
    net = Network.from_xml(f"<network xmlns:d='{DNSMASQ_NS}'><name>n</name>"
                           "<d:options><d:option value='cname=a.example,b.example'/><d:option value=''/>"
                           "</d:options><bridge name='vb1'/>" + IP4 + "</network>")
    assert net.dnsmasq_options == ["cname=a.example,b.example", ""]
    text = net.to_xml()
    assert text.splitlines()[0] == f"<network xmlns:dnsmasq='{DNSMASQ_NS}'>"
    assert text.splitlines()[-5:] == ["  <dnsmasq:options>",
                                      "    <dnsmasq:option value='cname=a.example,b.example'/>",
                                      "    <dnsmasq:option value=''/>", "  </dnsmasq:options>", "</network>"]
    assert Network.from_xml(text).to_xml() == text
    assert "xmlns:dnsmasq" not in _net(IP4).to_xml()  # declared only when used


def test_dnsmasq_option_without_value_is_refused_naming_it() -> None:
    with pytest.raises(XMLError, match="No dnsmasq options value specified"):  # libvirt 9.0's words
        Network.from_xml(f"<network xmlns:dnsmasq='{DNSMASQ_NS}'><name>n</name>"
                         "<dnsmasq:options><dnsmasq:option/></dnsmasq:options></network>")


def test_foreign_namespace_element_is_refused_by_name() -> None:
    """Only libvirt's dnsmasq namespace extends <network>; another is invalid (schema words)."""
    with pytest.raises(XMLError, match="x:frob"):
        Network.from_xml("<network xmlns:x='http://example.org/x'><name>n</name><x:frob/></network>")


def test_unknown_element_is_an_error_naming_it() -> None:
    with pytest.raises(XMLError, match="frobnicate"):
        _net("<frobnicate/>")


def test_name_rules() -> None:
    with pytest.raises(XMLError, match="name"):
        Network.from_xml("<network><name>a/b</name></network>")
    with pytest.raises(XMLError, match="missing name"):
        Network.from_xml("<network><bridge name='x'/></network>")


def test_duplicate_dhcp_hosts_are_found() -> None:
    net = _net("<ip address='10.9.8.1' prefix='24'><dhcp><host mac='52:54:00:00:00:01' ip='10.9.8.5'/>"
               "<host mac='52:54:00:00:00:02' ip='10.9.8.5'/></dhcp></ip>")
    with pytest.raises(XMLValidationError, match="10.9.8.5"):
        check_unique_hosts(net)


def test_lease_defaults() -> None:
    net = _net("<ip address='10.9.8.1' prefix='24'><dhcp><range start='10.9.8.2' end='10.9.8.9'>"
               "<lease expiry='5'/></range><host name='h' ip='10.9.8.20'><lease expiry='0'/></host></dhcp></ip>")
    xml = net.to_xml()
    assert "<lease expiry='5' unit='minutes'/>" in xml and "<lease expiry='0'/>" in xml
    with pytest.raises(XMLUnsupportedError, match="minimum lease"):
        _net("<ip address='10.9.8.1' prefix='24'><dhcp><range start='10.9.8.2' end='10.9.8.9'>"
             "<lease expiry='60' unit='seconds'/></range></dhcp></ip>")


def test_libvirt_9_0_reading_quirks_kept() -> None:
    """What libvirt 9.0 reads in its own way (checked against real virsh): STP stays on unless
    'off', <mtu size='0'/> is no MTU, <title>/<description> (9.7+) and a DNS forwarder's port
    are accepted and not kept,
    a UUID in any of libvirt's spellings is written canonically."""
    net = _net("<bridge name='vb1' stp='maybe'/><mtu size='0'/><title>t</title><description>d</description>"
               + IP4).to_xml()
    assert "<bridge name='vb1' stp='on' delay='0'/>" in net
    assert "<mtu" not in net and "<title" not in net and "<description" not in net
    fwd = _net("<dns><forwarder addr='8.8.8.8' port='5353'/></dns>" + IP4)  # port: a later version's
    assert "<forwarder addr='8.8.8.8'/>" in fwd.to_xml() and fwd.dns.forwarders[0].port is None
    assert _net("<bridge name='vb1' stp='off'/>" + IP4).bridge.stp is False
    spaced = Network.from_xml("<network><name>n</name><uuid>81ff0d90c91e674264da4a736edb9a9b</uuid></network>")
    assert spaced.uuid == "81ff0d90-c91e-6742-64da-4a736edb9a9b"
    with pytest.raises(XMLError, match="malformed uuid"):
        Network.from_xml("<network><name>n</name><uuid>{81ff0d90-c91e-6742-64da-4a736edb9a9b}</uuid></network>")


@pytest.mark.parametrize(("body", "msg"), [
    ("<outbound peak='5'/>", "Missing mandatory average or floor attributes"),
    ("<inbound/>", "Missing mandatory average or floor attributes"),
    ("<inbound floor='10' peak='20'/>", "'peak' and 'burst' require 'average' attribute"),
    ("<outbound average='5' floor='10'/>", "'floor' attribute allowed only in <inbound> element"),
    ("<inbound floor='10'/>", "floor attribute is not supported for this config"),
])
def test_bandwidth_refusals_as_libvirt(body: str, msg: str) -> None:
    with pytest.raises(XMLError, match=msg):
        _net(f"<bridge name='vb1'/><bandwidth>{body}</bandwidth>" + IP4)
    with pytest.raises(XMLError, match=msg):  # the same rule in a port group
        _net(f"<forward mode='bridge'/><bridge name='br0'/><portgroup name='p'><bandwidth>{body}</bandwidth>"
             "</portgroup>")


def test_bandwidth_zero_values_unset_and_empty_element_kept_open() -> None:
    out = _net("<bridge name='vb1'/><bandwidth><inbound average='10' peak='0' burst='0'/>"
               "<outbound average='0'/></bandwidth>" + IP4).to_xml()
    assert "<bandwidth>\n    <inbound average='10'/>\n  </bandwidth>" in out
    out = _net("<bridge name='vb1'/><bandwidth><inbound average='0'/></bandwidth>" + IP4).to_xml()
    assert "<bandwidth>\n  </bandwidth>" in out
    assert "<bandwidth" not in _net("<bridge name='vb1'/><bandwidth/>" + IP4).to_xml()


def test_guest_nic_bandwidth_takes_a_floor_only_on_a_libvirt_network() -> None:
    from pyvirt.xml.parse import parse_domain

    def nic(kind: str, bw: str) -> str:
        src = "<source network='default'/>" if kind == "network" else ""
        return (f"<domain type='qemu'><name>g</name><memory>65536</memory><os><type>hvm</type></os><devices>"
                f"<interface type='{kind}'>{src}<bandwidth>{bw}</bandwidth></interface></devices></domain>")

    dom = parse_domain(nic("network", "<inbound average='0' floor='5'/>"))
    assert dom.devices.interfaces[0].bandwidth.inbound.floor == 5
    assert dom.devices.interfaces[0].bandwidth.inbound.average is None
    with pytest.raises(XMLError, match="floor attribute is not supported"):
        parse_domain(nic("user", "<inbound floor='5'/>"))
    with pytest.raises(XMLError, match="Missing mandatory average"):
        parse_domain(nic("user", "<outbound burst='5'/>"))


def test_ipv6_addresses_written_as_the_c_library_writes_them() -> None:
    """virSocketAddrFormat (inet_ntop): IPv4-compatible and -mapped IPv6 addresses keep a dotted
    tail, where Python's str() writes hex groups (checked against real virsh)."""
    text = _net("<bridge name='vb1'/><dns><host ip='::a01:203'><hostname>h</hostname></host></dns>"
                "<ip family='ipv6' address='::ffff:a01:201' prefix='120'><dhcp>"
                "<range start='::ffff:a01:202' end='::ffff:a01:210'/></dhcp></ip>").to_xml()
    assert "<host ip='::10.1.2.3'>" in text
    assert "<ip family='ipv6' address='::ffff:10.1.2.1' prefix='120'>" in text
    assert "<range start='::ffff:10.1.2.2' end='::ffff:10.1.2.16'/>" in text
    assert Network.from_xml(text).to_xml() == text


def test_bad_macs_are_refused_in_libvirts_words_for_where_they_are() -> None:
    """virNetworkDHCPHostDefParseXML and virNetworkDefParseXML word a MAC they refuse
    differently; pyvirt said "Invalid MAC address" for a DHCP host's."""
    def net(body: str) -> str:
        return f"<network><name>n</name>{body}<ip address='10.1.0.1' prefix='24'><dhcp>{{}}</dhcp></ip></network>"

    cases = (
        (net("").format("<host mac='zz' ip='10.1.0.5'/>"), "Cannot parse MAC address 'zz' in network 'n'"),
        (net("").format("<host mac='01:00:00:00:00:01' ip='10.1.0.5'/>"),
         "expected unicast mac address, found multicast '01:00:00:00:00:01' in network 'n'"),
        (net("<mac address='zz'/>").format(""), "Invalid bridge mac address 'zz' in network 'n'"),
        (net("<mac address='01:00:00:00:00:01'/>").format(""),
         "Invalid multicast bridge mac address '01:00:00:00:00:01' in network 'n'"),
    )
    for xml, words in cases:
        with pytest.raises(XMLError) as refused:
            Network.from_xml(xml)
        assert refused.value.message == words


def test_dhcp_and_nat_ranges_are_refused_as_virsocketaddrgetrange_does() -> None:
    """libvirt checks every range with virSocketAddrGetRange: its own words, "internal error",
    the network shown as its <ip address=>/prefix; pyvirt had words of its own as XML errors."""
    from pyvirt.xml.errors import XMLInternalError

    def dhcp(start: str, end: str) -> str:
        return (f"<network><name>n</name><ip address='10.9.0.1' netmask='255.255.255.0'><dhcp>"
                f"<range start='{start}' end='{end}'/></dhcp></ip></network>")

    cases = (
        (dhcp("10.9.0.250", "10.9.0.240"), "range 10.9.0.250 - 10.9.0.240 is reversed "),
        (dhcp("10.9.0.2", "10.9.1.240"), "range 10.9.0.2 - 10.9.1.240 is not entirely within network 10.9.0.1/24"),
        (dhcp("10.9.0.0", "10.9.0.5"),
         "start of range 10.9.0.0 - 10.9.0.5 in network 10.9.0.1/24 is the network address"),
        (dhcp("fd00::1", "10.9.0.5"), "mismatch of address family in range fd00::1 - 10.9.0.5"),
        ("<network><name>n</name><forward mode='nat'><nat><address start='10.0.0.9' end='10.0.0.2'/></nat>"
         "</forward><ip address='10.9.0.1' netmask='255.255.255.0'/></network>", "range 10.0.0.9 - 10.0.0.2 is reversed "),
    )
    for xml, words in cases:
        with pytest.raises(XMLInternalError) as refused:
            Network.from_xml(xml)
        assert refused.value.message == words


def test_ip_and_dns_refusals_carry_libvirts_codes() -> None:
    """virNetworkIPDefParseXML reports its address rules as "unsupported configuration", the DNS
    record rules bare (VIR_ERR_XML_DETAIL), a bad UUID as "internal error: malformed uuid
    element"; pyvirt reported them all as "XML error" (and named the UUID, the DNS HOST address
    in other words)."""
    from pyvirt.xml.errors import XMLConfigError, XMLDetailError, XMLInternalError

    def net(body: str) -> str:
        return f"<network><name>a</name>{body}</network>"

    cases = (
        (net("<ip address='10.1.0.1' prefix='33'/>"), XMLConfigError, "Invalid IPv4 prefix '33' in network 'a'"),
        (net("<ip address='10.1.0.1' prefix='24' netmask='255.255.255.0'/>"), XMLConfigError,
         "Network 'a' IP address cannot have both a prefix and a netmask"),
        (net("<ip family='ipv6' address='fd00::1' netmask='255.255.255.0'/>"), XMLConfigError,
         "netmask not allowed for IPv6 address 'fd00::1' in network 'a'"),
        (net("<dns><txt name='a b' value='v'/></dns>"), XMLDetailError,
         "prohibited character in DNS TXT record name 'a b' of network a"),
        (net("<dns><host ip='bogus'><hostname>h</hostname></host></dns>"), XMLDetailError,
         "Invalid IP address in network 'a' DNS HOST record"),
        (net("<uuid>nope</uuid>"), XMLInternalError, "malformed uuid element"),
    )
    for xml, kind, words in cases:
        with pytest.raises(XMLError) as refused:
            Network.from_xml(xml)
        assert type(refused.value) is kind and refused.value.message == words, xml
