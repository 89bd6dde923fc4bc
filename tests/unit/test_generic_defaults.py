"""libvirt's driver-independent completion of a domain, and the model's keep-unknown reading.

The test driver returns domains the way libvirt's generic parser and formatter leave them;
the QEMU driver still refuses what the model does not declare.
"""

from __future__ import annotations

import pytest

from pyvirt.xml import XMLError, parse_domain
from pyvirt.xml.fields import keeping_unknown
from pyvirt.xml.generic_defaults import fill_generic_defaults, format_cpuset, order_disks

DOC = """<domain type='qemu'><name>g</name><memory>1024</memory>
<blkiotune><weight>100</weight></blkiotune>
<os><type arch='x86_64'>hvm</type></os>
<devices>
  <interface type='user'><mac address='52:54:00:00:00:01'/></interface>
  <lease><lockspace>a</lockspace><key>k</key><target path='/p'/></lease>
  <graphics type='vnc' display=':1'/>
  <controller type='usb' index='0'/>
</devices>
<keywrap><cipher name='aes' state='on'/></keywrap>
</domain>"""


def test_the_qemu_driver_still_refuses_what_the_model_does_not_declare() -> None:
    with pytest.raises(XMLError, match="keywrap"):
        parse_domain(DOC)


def test_kept_elements_are_written_where_libvirt_puts_them() -> None:
    text = parse_domain(DOC, keep_unknown=True).to_xml()
    assert text.index("<memory") < text.index("<blkiotune>") < text.index("<os>")
    # <lease> belongs between the controllers and the interfaces, <keywrap> after <devices>
    assert text.index("<controller") < text.index("<lease>") < text.index("<interface")
    assert text.index("</devices>") < text.index("<keywrap>")
    assert "display=':1'" in text


def test_keep_mode_does_not_leak_outside_its_block() -> None:
    with keeping_unknown():
        parse_domain(DOC, keep_unknown=True)
    with pytest.raises(XMLError):
        parse_domain(DOC)


def test_a_known_value_pyvirt_does_not_implement_is_kept_for_formatting_only() -> None:
    doc = DOC.replace("<lease>", "<video><model type='vbox'/></video><lease>")
    dom = parse_domain(doc, keep_unknown=True, validate=False)
    assert dom.devices.videos[0].model_type == "vbox"
    with pytest.raises(XMLError, match="vbox"):
        parse_domain(doc.replace("<blkiotune><weight>100</weight></blkiotune>", "")
                     .replace("<lease><lockspace>a</lockspace><key>k</key><target path='/p'/></lease>", "")
                     .replace(" display=':1'", "").replace("<keywrap><cipher name='aes' state='on'/></keywrap>", ""))


def _filled(devices: str, extra: str = "") -> str:
    dom = parse_domain(f"<domain type='qemu'><name>g</name><memory>1024</memory>{extra}"
                       f"<os><type arch='x86_64'>hvm</type></os><devices>{devices}</devices></domain>",
                       keep_unknown=True, validate=False)
    fill_generic_defaults(dom)
    return dom.to_xml(inactive=True)


def test_drive_addresses_and_implicit_controllers() -> None:
    text = _filled("<disk type='file'><source file='/a'/><target dev='hdf'/></disk>"
                   "<disk type='file'><source file='/b'/><target dev='sdb' bus='scsi'/>"
                   "<address type='drive' controller='2'/></disk>"
                   "<controller type='scsi' index='2' model='virtio-scsi'/>")
    assert "<address type='drive' controller='1' bus='0' target='0' unit='1'/>" in text  # hdf: 6th IDE disk
    assert "<address type='drive' controller='2' bus='0' target='0' unit='0'/>" in text
    scsi = [line.strip() for line in text.splitlines() if "type='scsi'" in line and "controller" in line]
    assert scsi == ["<controller type='scsi' index='0'/>", "<controller type='scsi' index='1'/>",
                    "<controller type='scsi' index='2' model='virtio-scsi'/>"]
    assert "<controller type='ide' index='1'/>" in text


def test_an_unindexed_controller_takes_the_first_free_index() -> None:
    text = _filled("<controller type='usb' index='1'/><controller type='usb'/>")
    assert text.index("<controller type='usb' index='0'/>") < text.index("<controller type='usb' index='1'/>")


def test_console_mirrors_the_first_serial_and_ports_are_numbered() -> None:
    text = _filled("<serial type='pty'/><console type='pty'><target type='virtio'/></console>")
    # a console's port is its position as written, before the serial console is put first (real virsh 9.0)
    assert "<target type='serial' port='0'/>" in text and "<target type='virtio' port='0'/>" in text
    assert "<controller type='virtio-serial' index='0'/>" in text


def test_video_and_graphics_defaults() -> None:
    text = _filled("<graphics type='vnc'/><graphics type='spice'/>"
                   "<video><model type='cirrus' vram='10240'/></video><video><model type='qxl'/></video>")
    assert "<graphics type='vnc' port='-1' autoport='yes'>" in text and "<listen type='address'/>" in text
    assert "<listen type='none'/>" in text
    assert "<model type='cirrus' vram='16384' heads='1' primary='yes'/>" in text
    assert "<model type='qxl' ram='65536' vram='65536' heads='1'/>" in text


def test_cpuset_and_placement() -> None:
    text = _filled("", "<vcpu cpuset='1,2,3,5'>4</vcpu>")
    assert "<vcpu placement='static' cpuset='1-3,5'>4</vcpu>" in text
    assert format_cpuset({0}) == "0" and format_cpuset({4, 0, 1, 7, 6}) == "0-1,4,6-7"


def test_disks_are_ordered_per_bus_by_target() -> None:
    dom = parse_domain("<domain type='qemu'><name>g</name><memory>1024</memory><os><type>hvm</type></os>"
                       "<devices><disk><target dev='sdb' bus='scsi'/></disk><disk><target dev='vda' bus='virtio'/>"
                       "</disk><disk><target dev='sda' bus='scsi'/></disk></devices></domain>",
                       keep_unknown=True, validate=False)
    assert [d.target_dev for d in order_disks(dom.devices.disks)] == ["sda", "sdb", "vda"]


def test_a_host_bootloader_drops_boot_devices_bootmenu_and_bios() -> None:
    """libvirt formats <boot>, <bootmenu> and <bios> only without <bootloader> (real libvirt
    9.0's test driver drops them on define, so virt-xml reports an unchanged XML)."""
    doc = ("<domain type='test'><name>b</name><memory>1024</memory>"
           "<bootloader>/tmp/bootfoo</bootloader><os><type arch='i686'>hvm</type>"
           "<boot dev='cdrom'/><bootmenu enable='yes'/><bios useserial='yes'/></os></domain>")
    dom = parse_domain(doc, keep_unknown=True, validate=False)
    fill_generic_defaults(dom)
    text = dom.to_xml()
    assert "<bootloader>" in text
    assert "<boot " not in text and "<bootmenu" not in text and "<bios" not in text
    plain = parse_domain(doc.replace("<bootloader>/tmp/bootfoo</bootloader>", ""),
                         keep_unknown=True, validate=False)
    fill_generic_defaults(plain)
    assert "<bootmenu enable='yes'/>" in plain.to_xml()
