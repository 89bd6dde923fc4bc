"""libvirt's network driver checks (networkValidate): documents its parser reads but a forward
mode cannot carry are refused at define/create, in libvirt's words, and nothing is stored; the
parser alone (and the test driver) still reads them."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyvirt.api import ErrorCode, PyvirtError
from pyvirt.network import hostnet
from pyvirt.network.driver import NetworkDriver
from pyvirt.xml.errors import XMLConfigError
from pyvirt.xml.network_rules import parse_network
from pyvirt.xml.network_validate import validate_network

PCI = "<address type='pci' domain='0' bus='3' slot='0' function='1'/>"
REFUSED = {
    "ip-in-bridge": ("<forward mode='bridge'/><bridge name='br0'/><ip address='10.1.1.1' prefix='24'/>",
                     "Unsupported <ip> element in network n with forward mode='bridge'"),
    "mac-in-vepa": ("<forward mode='vepa'><interface dev='eth1'/></forward><mac address='52:54:00:aa:bb:cc'/>",
                    "Unsupported <mac> element in network n with forward mode='vepa'"),
    "dns-in-private": ("<forward mode='private' dev='eth1'/><dns><txt name='a' value='b'/></dns>",
                       "Unsupported <dns> element in network n with forward mode='private'"),
    "domain-in-passthrough": ("<forward mode='passthrough' dev='eth1'/><domain name='x.org'/>",
                              "Unsupported <domain> element in network n with forward mode='passthrough'"),
    "bandwidth-in-private": ("<forward mode='private' dev='eth1'/><bandwidth><inbound average='10'/></bandwidth>",
                             "Unsupported network-wide <bandwidth> element in network n with forward mode='private'"),
    "pci-in-passthrough": (f"<forward mode='passthrough'>{PCI}</forward>",
                           "network 'n' has forward mode 'passthrough' but lists a device by PCI address"),
    "netdev-in-hostdev": ("<forward mode='hostdev'><interface dev='eth1'/></forward>",
                          "hostdev network 'n' lists 'eth1' in the device pool, but hostdev networks require"),
    "pf-and-interface": ("<forward mode='passthrough'><pf dev='eth0'/><interface dev='eth1'/></forward>",
                         "<address>, <interface>, and <pf> elements of <forward> in network n are mutually exclusive"),
    "pf-and-address": (f"<forward mode='hostdev'><pf dev='eth0'/>{PCI}</forward>",
                       "<address>, <interface>, and <pf> elements of <forward> in network n are mutually exclusive"),
    "two-dhcp-v4": ("<ip address='10.1.1.1' prefix='24'><dhcp><range start='10.1.1.2' end='10.1.1.9'/></dhcp></ip>"
                    "<ip address='10.2.1.1' prefix='24'><dhcp><range start='10.2.1.2' end='10.2.1.9'/></dhcp></ip>",
                    "Multiple IPv4 dhcp sections found"),
    "vlan-in-nat": ("<forward/><ip address='10.1.1.1' prefix='24'/><vlan><tag id='5'/></vlan>",
                    "<vlan> element specified for network n, whose type doesn't support vlan configuration"),
    "two-defaults": ("<forward mode='bridge'/><bridge name='br0'/><portgroup name='a' default='yes'/>"
                     "<portgroup name='b' default='yes'/>",
                     "network 'n' has multiple default <portgroup> elements (a and b)"),
    "same-portgroup": ("<forward mode='bridge'/><bridge name='br0'/><portgroup name='a'/><portgroup name='a'/>",
                       "multiple <portgroup> elements with the same name (a) in network 'n'"),
    "portgroup-bandwidth-hostdev": (f"<forward mode='hostdev'>{PCI}</forward><portgroup name='a'><bandwidth>"
                                    "<inbound average='10'/></bandwidth></portgroup>",
                                    "Unsupported <bandwidth> element in network 'n' in portgroup 'a'"),
}
ACCEPTED = {
    "ovs-vlans": ("<forward mode='bridge'/><bridge name='ovsbr0'/><virtualport type='openvswitch'/>"
                  "<portgroup name='a' default='yes'><vlan><tag id='4'/></vlan><virtualport><parameters "
                  "profileid='p'/></virtualport></portgroup>"),
    "hostdev-pci": f"<forward mode='hostdev' managed='yes'>{PCI}</forward>",
    "bridge-bandwidth": ("<forward mode='bridge'/><bridge name='br0'/><bandwidth><inbound average='10'/>"
                         "</bandwidth>"),
    "passthrough-vlan": "<forward mode='passthrough' dev='eth1'/><vlan><tag id='7'/></vlan>",
    "dhcp-v4-and-v6": ("<ip address='10.1.1.1' prefix='24'><dhcp><range start='10.1.1.2' end='10.1.1.9'/></dhcp>"
                       "</ip><ip family='ipv6' address='fd00::1' prefix='64'><dhcp><range start='fd00::10' "
                       "end='fd00::20'/></dhcp></ip><ip address='10.2.1.1' prefix='24'/>"),
}


def _net(body: str) -> str:
    return f"<network><name>n</name>{body}</network>"


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_parsed_but_refused_by_the_network_driver_rules(case: str) -> None:
    body, words = REFUSED[case]
    net = parse_network(_net(body))  # libvirt's parser reads it
    with pytest.raises(XMLConfigError) as err:
        validate_network(net)
    assert err.value.message.startswith(words)


@pytest.mark.parametrize("case", sorted(ACCEPTED))
def test_what_each_mode_may_carry_passes(case: str) -> None:
    validate_network(parse_network(_net(ACCEPTED[case])))


def test_define_and_create_refuse_in_libvirts_words_and_store_nothing(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hostnet, "link_names", lambda: {"lo"})
    drv = NetworkDriver(tmp_path / "config", tmp_path / "run")
    drv.load()
    doc = _net(REFUSED["pci-in-passthrough"][0])
    for call in (drv.define_network, drv.create_network):
        with pytest.raises(PyvirtError) as err:
            call(doc)
        assert err.value.code == ErrorCode.CONFIG_UNSUPPORTED
        assert err.value.message.startswith("unsupported configuration: network 'n' has forward mode 'passthrough'")
    assert drv.list_networks() == [] and not list((tmp_path / "config").glob("*.xml"))
    assert drv.define_network(_net(ACCEPTED["bridge-bandwidth"])).name == "n"


def test_a_pf_beside_the_pool_is_kept_for_the_check_but_not_written() -> None:
    net = parse_network(_net("<forward mode='passthrough'><pf dev='eth0'/><interface dev='eth1'/></forward>"))
    assert [pf.dev for pf in net.forward.pfs] == ["eth0"]  # type: ignore[union-attr]
    text = net.to_xml()
    assert "<pf" not in text and "<forward dev='eth1' mode='passthrough'>" in text
    alone = parse_network(_net("<forward mode='passthrough'><pf dev='eth0'/></forward>")).to_xml()
    assert "<pf dev='eth0'/>" in alone
