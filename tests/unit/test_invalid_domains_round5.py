"""Domains libvirt 9.0 refuses that pyvirt used to accept (issue 14, unseen-input round 5): each
rule in libvirt's words, on small documents of our own."""

from __future__ import annotations

import pytest

from pyvirt.xml import fill_defaults, parse_domain
from pyvirt.xml.errors import XMLError

BASE = """<domain type='qemu'><name>g</name><memory unit='MiB'>256</memory><vcpu>1</vcpu>
<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>{devices}</devices></domain>"""
VS = "<controller type='virtio-serial' index='0'/>"


def _define(devices: str) -> None:
    fill_defaults(parse_domain(BASE.format(devices=devices)))


@pytest.mark.parametrize(("devices", "message"), [
    # virDomainChrSourceDefParseXML: one <source>, two for UDP (connect and bind)
    (VS + "<channel type='tcp'><source mode='bind' host='h' service='1'/><source mode='connect' host='h' "
     "service='2'/><target type='virtio' name='a'/></channel>",
     "only one source element is allowed for character device"),
    ("<serial type='unix'><source mode='bind' path='/s/a'/><source mode='bind' path='/s/b'/></serial>",
     "only one source element is allowed for character device"),
    ("<serial type='udp'><source mode='connect' host='h' service='1'/><source mode='bind' service='2'/>"
     "<source mode='connect' host='h' service='3'/></serial>",
     "only two source elements are allowed for character device"),
    ("<rng model='virtio'><backend model='egd' type='tcp'><source mode='connect' host='h' service='1'/>"
     "<source mode='connect' host='h' service='2'/></backend></rng>",
     "only one source element is allowed for character device"),
    # virDomainChrSourceDefValidate: the attributes each source type needs
    ("<serial type='tcp'><source mode='bind' service='5678'/></serial>",
     "Missing source host attribute for char device"),
    ("<serial type='tcp'><source mode='connect' host='h'/></serial>",
     "Missing source service attribute for char device"),
    ("<console type='unix'><source mode='connect'/><target type='serial'/></console>",
     "Missing source path attribute for char device"),
    ("<redirdev bus='usb' type='unix'><source mode='connect'/></redirdev>",
     "Missing source path attribute for char device"),
    ("<smartcard mode='passthrough' type='unix'><source mode='connect'/></smartcard>",
     "Missing source path attribute for char device"),
    ("<rng model='virtio'><backend model='egd' type='unix'><source mode='connect'/></backend></rng>",
     "Missing source path attribute for char device"),
    ("<rng model='virtio'><backend model='egd' type='tcp'><source mode='connect' service='1'/></backend></rng>",
     "Missing source host attribute for char device"),
    # virDomainGraphicsListensParseXML: a network listen names its network; the legacy attribute
    # repeats the first <listen>
    ("<graphics type='vnc'><listen type='network'/></graphics>",
     "'network' attribute is required for listen type 'network'"),
    ("<graphics type='vnc' listen='192.0.2.1'><listen type='address' address='192.0.2.2'/></graphics>",
     "graphics 'listen' attribute '192.0.2.1' must match 'address' attribute of first listen element "
     r"\(found '192.0.2.2'\)"),
    ("<graphics type='vnc' socket='/s/a.sock'><listen type='socket' socket='/s/b.sock'/></graphics>",
     "graphics 'socket' attribute '/s/a.sock' must match 'socket' attribute of first listen element "
     r"\(found '/s/b.sock'\)"),
])
def test_refused_at_define_in_libvirts_words(devices: str, message: str) -> None:
    with pytest.raises(XMLError, match=message):
        _define(devices)


@pytest.mark.parametrize("devices", [
    # a virtio channel's unix socket is made up at start; UDP has two sides
    VS + "<channel type='unix'><source mode='bind'/><target type='virtio' name='org.qemu.guest_agent.0'/></channel>",
    "<serial type='udp'><source mode='connect' host='h' service='1'/><source mode='bind' service='2'/></serial>",
    "<graphics type='vnc' listen='192.0.2.1'><listen type='address' address='192.0.2.1'/></graphics>",
    "<graphics type='vnc' socket='/s/a.sock'><listen type='socket' socket='/s/a.sock'/></graphics>",
    "<graphics type='vnc' listen='192.0.2.1'/>",
])
def test_the_valid_neighbours_stay_accepted(devices: str) -> None:
    _define(devices)
