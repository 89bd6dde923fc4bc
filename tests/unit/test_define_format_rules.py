"""Define-time defaults and formatting rules of libvirt 9.0 (domain_conf.c parse/format,
qemu_domain.c PostParse), one test per rule, on documents written here."""

from __future__ import annotations

from lxml import etree

from pyvirt.xml import fill_defaults, parse_domain

HEAD = ("<domain type='{virt}'><name>g</name><memory>65536</memory>{extra}"
        "<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>{devices}</devices></domain>")


def define(devices: str = "", extra: str = "", virt: str = "qemu") -> etree._Element:
    """The inactive XML pyvirt writes after define, as an element tree."""
    dom = fill_defaults(parse_domain(HEAD.format(virt=virt, extra=extra, devices=devices)))
    return etree.fromstring(dom.to_xml(inactive=True).encode())


def test_cdrom_is_always_readonly_and_a_closed_tray_is_not_written() -> None:
    root = define("<disk type='file' device='cdrom'><source file='/a.iso'/><target dev='hdc' tray='closed'/></disk>"
                  "<disk type='file' device='cdrom'><target dev='hdd' bus='ide' tray='open'/></disk>")
    cdroms = root.findall("devices/disk")
    assert all(d.find("readonly") is not None for d in cdroms)
    assert [d.find("target").get("tray") for d in cdroms] == [None, "open"]


def test_disks_are_ordered_by_bus_then_target_index() -> None:
    root = define("<disk type='file'><source file='/c'/><target dev='vdb' bus='virtio'/></disk>"
                  "<disk type='file'><source file='/a'/><target dev='hdb' bus='ide'/></disk>"
                  "<disk type='file'><source file='/b'/><target dev='vda' bus='virtio'/></disk>"
                  "<disk type='file'><source file='/d'/><target dev='hda' bus='ide'/></disk>")
    assert [t.get("dev") for t in root.findall("devices/disk/target")] == ["vda", "vdb", "hda", "hdb"]
    slots = [a.get("slot") for a in root.findall("devices/disk/address[@type='pci']")]
    assert slots == sorted(slots)  # PCI slots follow the sorted order


def test_custom_cpu_check_depends_on_the_accelerator() -> None:
    cpu = "<cpu><model>Haswell</model></cpu>"
    assert define(extra=cpu, virt="qemu").find("cpu").get("check") == "none"
    assert define(extra=cpu, virt="kvm").find("cpu").get("check") == "partial"
    host = define(extra="<cpu mode='host-model'><model fallback='allow'/></cpu>").find("cpu")
    assert host.get("check") == "partial" and host.find("model") is None


def test_protocol_is_kept_only_on_tcp_sources() -> None:
    root = define("<serial type='tcp'><source mode='bind' host='127.0.0.1' service='9999'/>"
                  "<protocol type='telnet'/></serial>"
                  "<redirdev bus='usb' type='unix'><source mode='connect' path='/s'/>"
                  "<protocol type='raw'/></redirdev>")
    assert root.find("devices/serial/protocol").get("type") == "telnet"
    assert root.find("devices/redirdev/protocol") is None


def test_display_ports_belong_to_address_listens() -> None:
    root = define("<graphics type='vnc' port='5901' autoport='no'><listen type='none'/></graphics>"
                  "<graphics type='spice' autoport='no'/>"
                  "<graphics type='spice' port='5903' autoport='no' listen='127.0.0.1'/>")
    vnc, spice_none, spice_addr = root.findall("devices/graphics")
    assert vnc.get("port") is None and vnc.get("autoport") is None
    assert spice_none.get("autoport") is None and spice_none.find("listen").get("type") == "none"
    assert (spice_addr.get("port"), spice_addr.get("autoport")) == ("5903", "no")


def test_vnc_socket_is_also_its_listen() -> None:
    g = define("<graphics type='vnc' socket='/run/vnc.sock'/>").find("devices/graphics")
    assert g.get("socket") == "/run/vnc.sock" and g.get("port") is None
    assert g.find("listen").attrib == {"type": "socket", "socket": "/run/vnc.sock"}
    g = define("<graphics type='vnc'><listen type='socket' socket='/s'/></graphics>").find("devices/graphics")
    assert g.get("socket") == "/s"


def test_hugepage_sizes_are_written_in_kib() -> None:
    root = define(extra="<memoryBacking><hugepages><page size='2' unit='MiB'/></hugepages></memoryBacking>")
    assert root.find("memoryBacking/hugepages/page").attrib == {"size": "2048", "unit": "KiB"}


def test_pci_root_comes_before_implicit_disk_controllers() -> None:
    root = define("<disk type='file'><source file='/a'/><target dev='hda'/></disk>"
                  "<controller type='usb' index='0'/>")
    types = [c.get("type") for c in root.findall("devices/controller")]
    assert types.index("pci") < types.index("ide")


def test_sound_gets_no_audio_id_and_secondary_video_no_primary_no() -> None:
    root = define("<sound model='ich6'/><audio id='1' type='none'/><audio id='2' type='none'/>"
                  "<video><model type='vga'/></video><video><model type='virtio' primary='no'/></video>")
    assert root.find("devices/sound/audio") is None
    assert [m.get("primary") for m in root.findall("devices/video/model")] == ["yes", None]


def test_user_aliases_stay_in_the_inactive_xml() -> None:
    root = define("<controller type='usb' index='0' model='ich9-ehci1'><alias name='ua-ehci'/></controller>"
                  "<controller type='usb' index='0' model='ich9-uhci1'><alias name='ua-u1'/>"
                  "<master startport='0'/></controller>"
                  "<interface type='user'><alias name='net7'/></interface>")
    assert root.find("devices/controller[@model='ich9-ehci1']/alias").get("name") == "ua-ehci"
    uhci = [el.tag for el in root.find("devices/controller[@model='ich9-uhci1']")]
    assert uhci[:2] == ["alias", "master"]
    assert root.find("devices/interface/alias") is None


def test_virtio_driver_position_in_input_and_memballoon() -> None:
    root = define("<input type='passthrough' bus='virtio'><source evdev='/dev/input/event1'/>"
                  "<driver iommu='on'/></input><memballoon model='virtio'><driver iommu='on'/></memballoon>")
    kids = [el.tag for el in root.find("devices/input[@type='passthrough']")]
    assert kids.index("driver") < kids.index("source")
    balloon = [el.tag for el in root.find("devices/memballoon")]
    assert balloon.index("address") < balloon.index("driver")


def test_usb2_companions_get_their_ports_and_q35_slots() -> None:
    root = define("<controller type='usb' index='0' model='ich9-ehci1'/>"
                  "<controller type='usb' index='0' model='ich9-uhci2'/>"
                  "<controller type='usb' index='1' model='ich9-ehci1'/>"
                  "<controller type='usb' index='1' model='ich9-uhci1'/>").find("devices")
    assert root.find("controller[@model='ich9-uhci2']/master").get("startport") == "2"
    q35 = fill_defaults(parse_domain(HEAD.format(virt="qemu", extra="", devices=(
        "<controller type='usb' index='0' model='ich9-ehci1'/><controller type='usb' index='1' model='ich9-ehci1'/>"
        "<controller type='usb' index='1' model='ich9-uhci1'/>")).replace("machine='pc'", "machine='q35'")))
    slots = {(c.index, c.model): c.address.slot for c in q35.devices.controllers if c.type == "usb"}
    assert slots == {(0, "ich9-ehci1"): 0x1D, (1, "ich9-ehci1"): 0x1A, (1, "ich9-uhci1"): 0x1A}


def test_controllers_read_back_grouped_by_type_and_index_masters_first() -> None:
    dom = parse_domain(HEAD.format(virt="qemu", extra="", devices=(
        "<controller type='usb' index='1' model='nec-xhci'/>"
        "<controller type='usb' index='0' model='ich9-uhci1'><master startport='0'/></controller>"
        "<controller type='usb' index='0' model='ich9-ehci1'/>")))
    assert [(c.index, c.model) for c in dom.devices.controllers] == [
        (0, "ich9-ehci1"), (0, "ich9-uhci1"), (1, "nec-xhci")]


def test_virtio_consoles_get_no_virtio_serial_address() -> None:
    from pyvirt.xml.defaults import with_start_defaults

    devices = ("<console type='pty'><target type='virtio' port='1'/></console>"
               "<channel type='pty'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>")
    dom = fill_defaults(parse_domain(HEAD.format(virt="qemu", extra="", devices=devices)))
    console = next(c for c in dom.devices.consoles if c.target_type == "virtio")
    assert console.address is None and dom.devices.channels[0].address.port == "1"
    started = with_start_defaults(dom)
    assert next(c for c in started.devices.consoles if c.target_type == "virtio").address is None


def test_endpoint_devices_go_to_a_pci_bridge_not_the_dmi_bridge() -> None:
    q35 = HEAD.replace("machine='pc'", "machine='q35'").format(virt="qemu", extra="", devices=(
        "<controller type='pci' index='1' model='dmi-to-pci-bridge'/>"
        "<controller type='pci' index='2' model='pci-bridge'/>"
        "<controller type='usb' index='0' model='ich9-ehci1'/><controller type='usb' index='1' model='ich9-ehci1'/>"
        "<controller type='usb' index='2' model='ich9-ehci1'/>"))
    dom = fill_defaults(parse_domain(q35))
    bridge = next(c for c in dom.devices.controllers if c.model == "pci-bridge")
    third = next(c for c in dom.devices.controllers if c.type == "usb" and c.index == 2)
    assert bridge.address.bus == 1 and third.address.bus == 2


def test_9p_multidevs_reaches_the_fsdev_and_default_is_not_written() -> None:
    from pyvirt.qemu.argv import build_argv

    fs = ("<filesystem type='mount' accessmode='mapped' multidevs='{}'><source dir='/e'/>"
          "<target dir='t'/></filesystem>")
    root = define(fs.format("remap") + fs.format("default").replace("'t'", "'u'"))
    assert [f.get("multidevs") for f in root.findall("devices/filesystem")] == ["remap", None]
    argv = build_argv(fill_defaults(parse_domain(HEAD.format(virt="qemu", extra="", devices=fs.format("forbid")))))
    assert argv[argv.index("-fsdev") + 1].startswith("local,security_model=mapped,multidevs=forbid,")


def test_isolated_port_round_trips_and_is_refused_at_start_by_name() -> None:
    import pytest

    from pyvirt.qemu.argv import build_argv
    from pyvirt.xml.errors import XMLUnsupportedError

    nic = "<interface type='network'><source network='default'/><port isolated='yes'/><model type='virtio'/></interface>"
    root = define(nic)
    kids = [el.tag for el in root.find("devices/interface")]
    assert kids.index("source") < kids.index("port") < kids.index("model")
    with pytest.raises(XMLUnsupportedError, match="port isolated"):
        build_argv(fill_defaults(parse_domain(HEAD.format(virt="qemu", extra="", devices=nic))))
