"""virt-install's USB2 set (ICH9 EHCI + three UHCI companions) as libvirt addresses it.

On i440fx virt-install adds the set without addresses; libvirt puts it in one slot
(EHCI at function 7, UHCI1/2/3 at 0/1/2, multifunction on UHCI1), and so must pyvirt.
"""

from __future__ import annotations

import pytest

from pyvirt.xml.defaults import fill_defaults
from pyvirt.xml.parse import parse_domain

_XML = """<domain type='qemu'><name>t</name><memory>65536</memory>
<os><type arch='x86_64' machine='{machine}'>hvm</type></os>
<devices><emulator>/usr/bin/qemu-system-x86_64</emulator>
<interface type='user'><model type='virtio'/></interface>
<controller type='usb' index='0' model='ich9-ehci1'/>
<controller type='usb' index='0' model='ich9-uhci1'><master startport='0'/></controller>
<controller type='usb' index='0' model='ich9-uhci2'><master startport='2'/></controller>
<controller type='usb' index='0' model='ich9-uhci3'><master startport='4'/></controller>
<memballoon model='virtio'/></devices></domain>"""


@pytest.mark.parametrize(("machine", "slot"), [("pc", 3), ("q35", 0x1D)])
def test_usb2_set_shares_one_slot(machine: str, slot: int) -> None:
    dom = fill_defaults(parse_domain(_XML.format(machine=machine)))
    usb = {c.model: c.address for c in dom.devices.controllers if c.type == "usb"}
    want = {"ich9-ehci1": (7, None), "ich9-uhci1": (0, True), "ich9-uhci2": (1, None),
            "ich9-uhci3": (2, None)}
    for model, (function, multi) in want.items():
        a = usb[model]
        assert a is not None
        assert (a.bus or 0, a.slot, a.function or 0, a.multifunction) == (0, slot, function, multi)
    if machine == "pc":
        # libvirt's order: NICs (slot 2) before controllers, the balloon after them.
        assert dom.devices.interfaces[0].address.slot == 2
        assert dom.devices.memballoon.address.slot == 4
