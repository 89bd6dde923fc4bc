"""What the network driver hands to nft and dnsmasq, built from the model (no root needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyvirt.api import PyvirtError
from pyvirt.network import dnsmasq, firewall
from pyvirt.xml.network import Network

NAT = """<network><name>n1</name><forward mode='nat'/><bridge name='vbr7'/><domain name='lab' localOnly='yes'/>
<dns><forwarder addr='10.0.0.53'/><host ip='10.7.0.9'><hostname>db</hostname></host>
<txt name='t' value='v'/><srv service='ldap' protocol='tcp' target='db' port='389'/></dns>
<ip address='10.7.0.1' prefix='24'><dhcp><range start='10.7.0.10' end='10.7.0.19'><lease expiry='1' unit='hours'/>
</range><host mac='52:54:00:00:00:01' name='h1' ip='10.7.0.5'/></dhcp></ip></network>"""


def test_nat_rules_masquerade_and_filter_forwarding() -> None:
    program = firewall.ruleset("n1", "nat", "vbr7", ["10.7.0.0/24"])
    assert program is not None
    assert "table inet pyvirt_n1 {}\ndelete table inet pyvirt_n1\n" in program  # atomic replace
    assert "ip saddr 10.7.0.0/24 ip daddr != 10.7.0.0/24 masquerade" in program
    assert 'oifname "vbr7" ip daddr 10.7.0.0/24 ct state related,established accept' in program
    assert 'iifname "vbr7" reject' in program


def test_nat_like_libvirt_ports_multicast_and_ipv6() -> None:
    """libvirt's NAT: TCP/UDP source ports 1024-65535, local multicast/broadcast not NATed,
    IPv6 masqueraded only with <nat ipv6='yes'>."""
    program = firewall.ruleset("n1", "nat", "vbr7", ["10.7.0.0/24", "fd00:7::/64"])
    assert program is not None
    assert ("meta l4proto { tcp, udp } ip saddr 10.7.0.0/24 ip daddr != 10.7.0.0/24 masquerade to :1024-65535"
            in program)
    assert "ip saddr 10.7.0.0/24 ip daddr 224.0.0.0/24 return" in program
    assert "ip6 saddr fd00:7::/64 ip6 daddr != fd00:7::/64" not in program
    net = Network.from_xml("<network><name>n6</name><forward><nat ipv6='yes'><port start='5000' end='6000'/></nat>"
                           "</forward><ip family='ipv6' address='fd00:7::1' prefix='64'/></network>")
    assert net.forward is not None
    program = firewall.ruleset("n6", "nat", "vbr6", ["fd00:7::/64"], net.forward.nat)
    assert program is not None
    assert "ip6 saddr fd00:7::/64 ip6 daddr != fd00:7::/64 masquerade to :5000-6000" in program
    assert "ip6 saddr fd00:7::/64 ip6 daddr ff02::/16 return" in program
    assert 'oifname "vbr6" ip6 daddr fd00:7::/64 ct state related,established accept' in program


def test_isolated_network_forwards_nothing_and_open_has_no_rules() -> None:
    program = firewall.ruleset("iso", "none", "vbr8", ["10.8.0.0/24"])
    assert program is not None and "masquerade" not in program and "saddr 10.8" not in program
    assert 'iifname "vbr8" reject' in program and 'oifname "vbr8" reject' in program
    assert firewall.ruleset("o", "open", "vbr9", ["10.9.0.0/24"]) is None


def test_table_names_are_nft_identifiers() -> None:
    assert firewall.table_name("my-net.1") != firewall.table_name("my_net_1")
    assert all(c.isalnum() or c == "_" for c in firewall.table_name("my-net.1"))


def test_dnsmasq_config_from_model(tmp_path: Path) -> None:
    files = dnsmasq.Files.under(tmp_path, "n1")
    conf, hosts = dnsmasq.config(Network.from_xml(NAT), "vbr7", files)
    lines = conf.splitlines()
    for want in ("interface=vbr7", "dhcp-range=10.7.0.10,10.7.0.19,255.255.255.0,1h", "domain=lab",
                 "local=/lab/", "server=10.0.0.53", "no-resolv", f"addn-hosts={files.addnhosts}", "txt-record=t,v",
                 "srv-host=_ldap._tcp,db,389,0,0", f"dhcp-leasefile={files.leases}", "dhcp-lease-max=10"):
        assert want in lines, want
    assert hosts == "52:54:00:00:00:01,h1,10.7.0.5\n"
    assert not any(line.startswith("address=") for line in lines)
    assert dnsmasq.addn_hosts(Network.from_xml(NAT)) == "10.7.0.9\tdb\n"


def test_dns_host_names_go_to_an_addn_hosts_file_never_into_address_lines(tmp_path: Path) -> None:
    """<dns><host> names are exact names in an addn-hosts file, as libvirt writes them: a name
    such as '#' or 'a/evil.example' must not become dnsmasq's address=/#/ (every domain) or a
    second domain; a name the hosts-file reader would split or cut is refused by name."""
    def net(*names: str) -> Network:
        hostnames = "".join(f"<hostname>{n}</hostname>" for n in names)
        return Network.from_xml(f"<network><name>n</name><dns><host ip='10.1.0.9'>{hostnames}</host></dns>"
                                "<ip address='10.1.0.1' prefix='24'/></network>")
    files = dnsmasq.Files.under(tmp_path, "n")
    conf, _ = dnsmasq.config(net("a/evil.example", "web"), "vbr1", files)
    assert "/evil.example/" not in conf and f"addn-hosts={files.addnhosts}" in conf.splitlines()
    assert dnsmasq.addn_hosts(net("a/evil.example", "web")) == "10.1.0.9\ta/evil.example\tweb\n"
    for bad in ("#", "a b", "x#y"):
        with pytest.raises(PyvirtError, match=f"DNS host name '{bad}' cannot be passed to dnsmasq"):
            dnsmasq.addn_hosts(net("ok", bad))


def test_dnsmasq_refuses_values_that_would_change_its_config(tmp_path: Path) -> None:
    net = Network.from_xml("<network><name>n</name><dns><txt name='t' value='a,b'/></dns>"
                           "<ip address='10.1.0.1' prefix='24'/></network>")
    with pytest.raises(PyvirtError, match="cannot be passed to dnsmasq"):
        dnsmasq.config(net, "vbr1", dnsmasq.Files.under(tmp_path, "n"))


def test_leases_are_read_back(tmp_path: Path) -> None:
    import ipaddress

    files = dnsmasq.Files.under(tmp_path, "n1")
    files.leases.write_text("1900000000 52:54:00:AA:00:01 10.7.0.12 guest 01:52:54:00:aa:00:01\n"
                            "1900000001 52:54:00:aa:00:02 10.7.0.13 * *\n")
    leases = dnsmasq.read_leases(files, [ipaddress.ip_network("10.7.0.0/24")])
    assert [(x["mac"], x["ipaddr"], x["prefix"], x["hostname"]) for x in leases] == [
        ("52:54:00:aa:00:01", "10.7.0.12", 24, "guest"), ("52:54:00:aa:00:02", "10.7.0.13", 24, "")]


def test_dnsmasq_options_are_appended_last_one_line_each(tmp_path: Path) -> None:
    """<dnsmasq:options> lines end dnsmasq's configuration verbatim (commas included), after
    pyvirt's own lines, as libvirt appends them; one spanning two lines is refused by name."""
    ns = "xmlns:dnsmasq='http://libvirt.org/schemas/network/dnsmasq/1.0'"
    body = ("<name>n</name><ip address='10.1.0.1' prefix='24'/><dnsmasq:options>"
            "<dnsmasq:option value='cname=*.apps.example,master.example'/><dnsmasq:option value='log-queries'/>"
            "</dnsmasq:options></network>")
    conf, _ = dnsmasq.config(Network.from_xml(f"<network {ns}>{body}"), "vbr1", dnsmasq.Files.under(tmp_path, "n"))
    assert conf.splitlines()[-2:] == ["cname=*.apps.example,master.example", "log-queries"]
    bad = Network.from_xml(f"<network {ns}>" + body.replace("log-queries", "a&#10;b"))
    with pytest.raises(PyvirtError, match="dnsmasq:option 'a\nb' spans more than one line"):
        dnsmasq.config(bad, "vbr1", dnsmasq.Files.under(tmp_path, "n"))
