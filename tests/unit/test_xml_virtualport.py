"""A network's ``<virtualport>`` as libvirt's parser reads it: UUID parameters written in the
canonical form, only the parameters its type takes, a short enough profile ID, and a type
required on the network's own virtualport (a portgroup's may leave it out)."""

from __future__ import annotations

import pytest

from pyvirt.xml.errors import XMLError
from pyvirt.xml.network_rules import parse_network

UUID_UPPER = "09B11C538B5C4EEB8F00D84EAA0AAA4F"
UUID = "09b11c53-8b5c-4eeb-8f00-d84eaa0aaa4f"


def _net(vport: str, where: str = "net") -> str:
    inner = vport if where == "net" else f"<portgroup name='p'>{vport}</portgroup>"
    return f"<network><name>n</name><forward mode='bridge'/><bridge name='b'/>{inner}</network>"


def test_uuid_parameters_are_written_canonically() -> None:
    net = parse_network(_net(f"<virtualport type='openvswitch'><parameters interfaceid='{UUID_UPPER}'/></virtualport>"))
    assert f"<parameters interfaceid='{UUID}'/>" in net.to_xml()
    qbg = parse_network(_net(f"<virtualport type='802.1Qbg'><parameters instanceid='{UUID_UPPER}'/></virtualport>"))
    assert f"instanceid='{UUID}'" in qbg.to_xml()


@pytest.mark.parametrize(("vport", "where", "words"), [
    ("<virtualport type='midonet'><parameters interfaceid='zz'/></virtualport>", "net",
     "cannot parse interfaceid parameter as a uuid"),
    ("<virtualport type='802.1Qbg'><parameters instanceid='nope'/></virtualport>", "pg",
     "cannot parse instanceid parameter as a uuid"),
    (f"<virtualport type='802.1Qbh'><parameters profileid='{'p' * 40}'/></virtualport>", "net",
     "profileid parameter too long"),
    (f"<virtualport type='openvswitch'><parameters interfaceid='{UUID}' managerid='3'/></virtualport>", "net",
     "extra managerid unsupported in <virtualport type='openvswitch'>"),
    ("<virtualport type='802.1Qbh'><parameters profileid='x' typeid='1'/></virtualport>", "pg",
     "extra typeid unsupported in <virtualport type='802.1Qbh'>"),
    (f"<virtualport><parameters interfaceid='{UUID}'/></virtualport>", "net", "missing required virtualport type"),
])
def test_bad_virtualports_are_refused_in_libvirts_words(vport: str, where: str, words: str) -> None:
    with pytest.raises(XMLError, match=words.replace("(", r"\(")):
        parse_network(_net(vport, where))


def test_a_portgroup_virtualport_may_leave_the_type_to_the_network() -> None:
    net = parse_network(_net(f"<virtualport><parameters interfaceid='{UUID}' profileid='x'/></virtualport>", "pg"))
    assert net.portgroups[0].virtualport is not None and net.portgroups[0].virtualport.type is None
    longest = parse_network(_net(f"<virtualport type='802.1Qbh'><parameters profileid='{'p' * 39}'/></virtualport>"))
    assert longest.virtualport is not None and longest.virtualport.profileid == "p" * 39  # 39 fit
