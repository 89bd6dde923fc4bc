"""Output profiles: one model, written in libvirt's or virt-install's layout.

The virt-install profile is the one ordering table pyvirt install/xml/clone place elements
with (install/xmltree inserts through it); the model's writer takes it too, so an object
built through the model comes out as virt-install writes it.
"""

from __future__ import annotations

from lxml import etree

from pyvirt.install import xmltree
from pyvirt.xml import parse_domain
from pyvirt.xml.mapping import build_for, format_document
from pyvirt.xml.profiles import LIBVIRT, SCRATCH_MARK, VIRTINST

DOMAIN = """<domain type='qemu'>
  <name>g</name>
  <memory unit='KiB'>65536</memory>
  <memoryBacking><locked/><source type='memfd'/><access mode='shared'/><hugepages/></memoryBacking>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
  <devices>
    <disk type='file' device='disk'>
      <source file='/a.img'/>
      <target dev='vda' bus='virtio'/>
      <serial>S1</serial>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x05' function='0x0'/>
      <driver name='qemu' type='qcow2'/>
    </disk>
  </devices>
</domain>
"""


def _tags(el: etree._Element) -> list[str]:
    return [k.tag for k in el]


def test_each_profile_orders_the_same_model_its_own_way() -> None:
    dom = parse_domain(DOMAIN)
    ours = etree.fromstring(format_document(dom, "domain", profile=VIRTINST))
    libvirt = etree.fromstring(dom.to_xml())
    # libvirt writes <serial> before <address>; virt-install the other way round
    assert _tags(libvirt.find("devices/disk")) == ["driver", "source", "target", "serial", "address"]
    assert _tags(ours.find("devices/disk")) == ["driver", "source", "target", "address", "serial"]
    # <memoryBacking>: libvirt puts <source> before <access>, virt-install after
    assert _tags(libvirt.find("memoryBacking")) == ["hugepages", "locked", "source", "access"]
    assert _tags(ours.find("memoryBacking")) == ["hugepages", "locked", "access", "source"]


def test_profiles_change_layout_only() -> None:
    dom = parse_domain(DOMAIN)
    text = format_document(dom, "domain", profile=VIRTINST)
    assert "type=\"file\"" in text and "'" not in text
    assert format_document(dom, "domain", profile=LIBVIRT) == dom.to_xml()
    assert parse_domain(text) == dom


def test_insert_places_a_late_child_where_virt_install_writes_it() -> None:
    disk = etree.Element("disk")
    for tag in ("boot", "target", "driver", "serial", "address", "unknown"):
        xmltree.child(disk, tag)
    assert _tags(disk) == ["driver", "target", "address", "serial", "boot", "unknown"]
    # a device looked up by its path under <domain>, attached or not
    devices = etree.SubElement(etree.Element("domain"), "devices")
    devices.append(etree.Element("disk"))
    assert VIRTINST.order_for(devices[0]) == VIRTINST.order_for(disk)


def test_arrange_keeps_unplaced_children_after_placed_ones() -> None:
    el = etree.fromstring("<memoryBacking><zzz/><source/><hugepages/><access/></memoryBacking>")
    assert _tags(VIRTINST.arrange(el)) == ["hugepages", "access", "source", "zzz"]
    # the libvirt profile is the model's own order: build_for leaves it alone
    dom = parse_domain(DOMAIN)
    assert _tags(build_for(dom.memory_backing, "memoryBacking", LIBVIRT)) == \
        _tags(etree.fromstring(dom.to_xml()).find("memoryBacking"))


def test_virt_install_text_drops_empty_scratch_elements() -> None:
    root = etree.fromstring("<domain><cpu/><clock offset='utc'/></domain>")
    root.find("cpu").set(SCRATCH_MARK, "1")
    root.find("clock").set(SCRATCH_MARK, "1")
    assert VIRTINST.to_text(root) == '<domain>\n  <clock offset="utc"/>\n</domain>\n'
    assert root.find("cpu") is not None  # the tree itself is left as it was


def test_every_order_key_is_a_path_an_element_can_have() -> None:
    """A key no element's path can equal is a dead row (optmap's generator once left
    ``source/..`` keys that never matched)."""
    for key, order in VIRTINST.orders.items():
        steps = key.removesuffix("@").split("/")
        assert steps[0] == "domain" and all(s and s != ".." for s in steps), key
        assert len(set(order)) == len(order) and ".." not in order, key
