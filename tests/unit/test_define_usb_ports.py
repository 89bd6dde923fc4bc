"""libvirt's define assigns USB ports (VIR_DOMAIN_DEF_PARSE_ABI_UPDATE), a plain parse does not:
Cockpit Machines reads a defined, never started guest's redirdev address (it fails on none)."""

from __future__ import annotations

from pyvirt.daemon.model import parse_definition
from pyvirt.xml import fill_defaults, parse_domain

XML = """<domain type='qemu'><name>u</name><memory>65536</memory><os><type>hvm</type></os><devices>
<controller type='usb' model='qemu-xhci'/>
<graphics type='spice'/>
<input type='tablet' bus='usb'/>
<redirdev bus='usb' type='spicevmc'/>
<redirdev bus='usb' type='spicevmc'><address type='usb' bus='0' port='2'/></redirdev>
</devices></domain>"""


def test_define_gives_each_usb_device_a_free_port() -> None:
    devs = parse_definition(XML).devices
    tablet, (first, second) = devs.inputs[0], devs.redirdevs
    assert (tablet.address.type, tablet.address.port) == ("usb", "1")
    assert second.address.port == "2"  # kept where the XML put it
    assert first.address.port == "3"  # the next port nobody holds
    xml = parse_definition(XML).to_xml(inactive=True)
    assert xml.count("<address type='usb' bus='0' port=") == 3


def test_plain_parse_leaves_usb_ports_out() -> None:
    dom = fill_defaults(parse_domain(XML))
    assert dom.devices.inputs[0].address is None and dom.devices.redirdevs[0].address is None
