"""A device that reaches a guest by attach-device / update-device (and so attach-disk,
attach-interface, pyvirt-xml --add-device) is read by define's own parse, defaults and rules."""

import pytest

from pyvirt.api import PyvirtError
from pyvirt.daemon import model
from pyvirt.daemon.hotplug import with_device
from pyvirt.xml import safe_parse

_BASE = ("<domain type='qemu'><name>g</name><memory>65536</memory>"
         "<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>{}</devices></domain>")
_NIC = "<interface type='network'><source network='default'/><model type='e1000'/>{}</interface>"


@pytest.mark.parametrize("inactive", [True, False])
def test_attached_nic_loses_non_virtio_driver_settings_as_at_define(inactive: bool) -> None:
    nic = _NIC.format("<driver queues='2' rx_queue_size='256'/>")
    attached = with_device(model.parse_definition(_BASE.format("")), safe_parse(nic), inactive=inactive)
    defined = model.parse_definition(_BASE.format(nic))
    assert attached.devices.interfaces[0].driver_queues is None
    assert defined.devices.interfaces[0].driver_queues is None
    assert "<driver" not in attached.to_xml(inactive=inactive)


def test_attached_nic_with_virtio_option_is_refused_as_at_define() -> None:
    nic = _NIC.format("<driver iommu='on'/>")
    with pytest.raises(PyvirtError) as at_define:
        model.parse_definition(_BASE.format(nic))
    with pytest.raises(PyvirtError) as at_attach:
        with_device(model.parse_definition(_BASE.format("")), safe_parse(nic), inactive=True)
    words = "iommu driver option is only supported for virtio devices"
    assert words in str(at_define.value) and words in str(at_attach.value)
    assert at_attach.value.code == at_define.value.code
