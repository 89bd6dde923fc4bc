"""libvirt's test driver registers no dnsmasq namespace: a network defined there with
``<dnsmasq:options>`` reads and is shown without them (and without the namespace)."""

from __future__ import annotations

from pyvirt.testdriver import open_test_connection

DOC = ("<network xmlns:dnsmasq='http://libvirt.org/schemas/network/dnsmasq/1.0'><name>dn</name>"
       "<bridge name='virbr7'/><ip address='10.7.0.1' prefix='24'/>"
       "<dnsmasq:options><dnsmasq:option value='foo=bar'/></dnsmasq:options></network>")


def test_dnsmasq_options_are_not_kept_by_the_test_driver() -> None:
    conn = open_test_connection("test:///default")
    try:
        conn.define_network(DOC)
        xml = conn.get_network_xml("dn")
    finally:
        conn.close()
    assert "dnsmasq" not in xml and xml.startswith("<network>")
    assert "<ip address='10.7.0.1' prefix='24'>" in xml
