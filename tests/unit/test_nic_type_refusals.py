"""The NIC types pyvirt does not run are refused by their type, with the reason, before anything
only that type has (a hostdev NIC's ``managed`` or PCI ``<source><address>``, a macvtap's
``<source mode>``) could be reported instead: the model's ``xml_discriminator``.  The test
driver, which keeps what the QEMU driver refuses (as libvirt's test driver does), still keeps them."""

from __future__ import annotations

import pytest

from pyvirt.xml import parse_domain
from pyvirt.xml.errors import XMLError, XMLUnsupportedError

HOSTDEV_NIC = ("<interface type='hostdev' managed='no'><mac address='52:54:00:6d:90:02'/><source>"
               "<address type='pci' domain='0x0000' bus='0x00' slot='0x07' function='0x1'/></source>"
               "<vlan><tag id='42'/></vlan></interface>")


def _doc(nic: str) -> str:
    return ("<domain type='qemu'><name>g</name><memory>65536</memory><os><type arch='x86_64' machine='pc'>hvm"
            f"</type></os><devices>{nic}</devices></domain>")


@pytest.mark.parametrize(("nic", "kind", "why"), [
    (HOSTDEV_NIC, "hostdev", "pyvirt neither programs the PF"),
    (HOSTDEV_NIC.replace(" managed='no'", ""), "hostdev", "<hostdev mode='subsystem' type='pci' managed='no'>"),
    ("<interface type='direct'><source dev='eth0' mode='vepa'/></interface>", "direct", "no macvtap devices"),
    ("<interface type='vdpa'><source dev='/dev/vhost-vdpa-0'/></interface>", "vdpa", "/dev/vhost-vdpa-N"),
])
def test_unsupported_nic_types_are_refused_by_type_with_the_reason(nic: str, kind: str, why: str) -> None:
    with pytest.raises(XMLUnsupportedError, match=f"unsupported value '{kind}' for attribute 'type' of <interface>: "
                                                  f".*{why}") as err:
        parse_domain(_doc(nic))
    assert "unsupported element" not in str(err.value) and "unsupported attribute" not in str(err.value)


def test_an_invalid_nic_type_is_still_libvirts_error() -> None:
    with pytest.raises(XMLError, match="'bogus'"):
        parse_domain(_doc("<interface type='bogus'><source dev='x'/></interface>"))


def test_the_test_driver_keeps_a_hostdev_nic() -> None:
    from pyvirt.client import connect

    conn = connect("test:///default")
    conn.define_xml(_doc(HOSTDEV_NIC).replace("<name>g</name>", "<name>nicg</name>"))
    assert "<interface type='hostdev' managed='no'>" in conn.get_xml("nicg", inactive=True)
