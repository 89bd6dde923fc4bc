"""Define-time defaults and formatting rules of libvirt 9.0 (domain_conf.c parse/format,
qemu_domain.c PostParse), one test per rule, on documents written here."""

from __future__ import annotations

import pytest
from lxml import etree

from pyvirt.xml import XMLError, fill_defaults, parse_domain

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
    slots = {(c.index, c.model): (c.address.bus, c.address.slot) for c in q35.devices.controllers if c.type == "usb"}
    # real libvirt 9.0: the first set with a UHCI1 takes 00:1D whatever its index; a lone EHCI
    # is an ordinary conventional device (behind the pcie-to-pci-bridge libvirt adds)
    assert slots[(1, "ich9-ehci1")] == slots[(1, "ich9-uhci1")] == (0, 0x1D)
    assert slots[(0, "ich9-ehci1")][0] != 0


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


def test_tcp_sources_always_have_a_protocol_raw_by_default() -> None:
    root = define("<channel type='tcp'><source mode='connect' host='h' service='1'/>"
                  "<target type='virtio' name='a'/></channel>"
                  "<serial type='tcp'><source mode='connect' host='h' service='2'/><protocol type='telnet'/></serial>"
                  "<redirdev bus='usb' type='tcp'><source mode='connect' host='h' service='3'/></redirdev>"
                  "<smartcard mode='passthrough' type='tcp'><source mode='connect' host='h' service='4'/></smartcard>"
                  "<rng model='virtio'><backend model='egd' type='tcp'>"
                  "<source mode='connect' host='h' service='5'/></backend></rng>")
    assert root.find("devices/channel/protocol").get("type") == "raw"
    assert root.find("devices/serial/protocol").get("type") == "telnet"
    assert root.find("devices/console/protocol").get("type") == "telnet"
    assert root.find("devices/redirdev/protocol").get("type") == "raw"
    assert root.find("devices/smartcard/protocol").get("type") == "raw"
    assert root.find("devices/rng/backend/protocol").get("type") == "raw"


def test_implicit_controllers_are_appended_after_the_parsed_ones() -> None:
    # virDomainDefAddController appends: virtio-serial 0, needed by a channel, goes after the
    # parsed virtio-serial 1 and the driver's USB and PCI root controllers
    root = define("<controller type='virtio-serial' index='1'/>"
                  "<channel type='pty'><target type='virtio' name='a'/></channel>")
    got = [(c.get("type"), c.get("index")) for c in root.findall("devices/controller")]
    assert got == [("virtio-serial", "1"), ("usb", "0"), ("pci", "0"), ("virtio-serial", "0")]


def test_disk_post_parse_rules() -> None:
    root = define("<disk type='network'><source protocol='iscsi' name='iqn.2000-01.org.x'>"
                  "<host name='h'/></source><target dev='vda' bus='virtio'/></disk>"
                  "<disk type='network'><source protocol='iscsi' name='iqn.2000-01.org.x/2'>"
                  "<host name='h' port='3261'/></source><target dev='vdb' bus='virtio'/></disk>"
                  "<disk type='network'><source protocol='gluster' name='v/i'><host name='a'/>"
                  "<host transport='unix' socket='/s'/></source><target dev='vdc' bus='virtio'/></disk>"
                  "<disk type='network'><source protocol='rbd' name='p/i'><host name='m'/></source>"
                  "<target dev='vdd' bus='virtio'/></disk>"
                  "<disk type='file' device='cdrom'><target dev='hdc' bus='ide'/></disk>"
                  "<disk type='file' snapshot='no'><source file='/r'/><target dev='vde' bus='virtio'/>"
                  "<readonly/></disk>"
                  "<disk type='file'><source file='/s'/><target dev='sda' bus='scsi'/>"
                  "<address type='drive' controller='0' unit='1'/></disk>",
                  extra="<memoryBacking><access mode='shared'/></memoryBacking>")
    disks = {d.find("target").get("dev"): d for d in root.findall("devices/disk")}
    assert disks["vda"].find("source").get("name") == "iqn.2000-01.org.x/0"  # LUN 0 when none
    assert disks["vdb"].find("source").get("name") == "iqn.2000-01.org.x/2"
    assert disks["vda"].find("source/host").get("port") == "3260"  # the protocol's default port
    assert disks["vdb"].find("source/host").get("port") == "3261"
    assert [h.get("port") for h in disks["vdc"].findall("source/host")] == ["24007", None]
    assert disks["vdd"].find("source/host").get("port") is None  # rbd has no default
    for dev in ("vda", "vdd", "hdc"):  # raw unless said, network and empty CD-ROMs too
        assert disks[dev].find("driver").attrib == {"name": "qemu", "type": "raw"}
    assert disks["vde"].get("snapshot") is None  # 'no' is implied by <readonly/>
    assert disks["sda"].find("address").attrib == {"type": "drive", "controller": "0", "bus": "0",
                                                    "target": "0", "unit": "1"}


def test_vhostuser_disk_is_not_snapshotted() -> None:
    root = define("<disk type='vhostuser' device='disk'><driver name='qemu' type='raw'/>"
                  "<source type='unix' path='/tmp/s.sock'/><target dev='vda' bus='virtio'/></disk>",
                  extra="<memoryBacking><access mode='shared'/></memoryBacking>")
    assert root.find("devices/disk").get("snapshot") == "no"


def test_nic_models_are_matched_without_regard_to_case() -> None:
    root = define("<interface type='user'><model type='ViRtIo'/></interface>"
                  "<interface type='user'><model type='am79c973'/></interface>"
                  "<interface type='user'><model type='MyOwnNic'/></interface>")
    assert [m.get("type") for m in root.findall("devices/interface/model")] == ["virtio", "Am79C973", "MyOwnNic"]


def test_an_i686_guest_without_emulator_gets_the_32_bit_qemu() -> None:
    doc = HEAD.format(virt="qemu", extra="", devices="").replace("arch='x86_64'", "arch='i686'")
    assert fill_defaults(parse_domain(doc)).devices.emulator == "/usr/bin/qemu-system-i386"
    assert define().find("devices/emulator").text == "/usr/bin/qemu-system-x86_64"


def test_the_console_mirrors_only_an_isa_serial_port_address_included() -> None:
    debugcon = define("<serial type='pty'><target type='isa-debug'/><address type='isa' iobase='0x402'/></serial>")
    assert debugcon.find("devices/console") is None
    isa = define("<serial type='pty'><address type='isa' iobase='0x3f8' irq='0x4'/></serial>")
    assert isa.find("devices/console/address").attrib == {"type": "isa", "iobase": "0x3f8", "irq": "0x4"}


def test_the_console_mirrors_the_whole_source_of_the_first_serial() -> None:
    filed = define("<serial type='file'><source path='/s.log' append='on'/><log file='/l.log' append='off'/></serial>"
                   "<console type='file'><source path='/s.log'/></console>")
    assert filed.find("devices/console/source").attrib == {"path": "/s.log", "append": "on"}
    assert filed.find("devices/console/log").attrib == {"file": "/l.log", "append": "off"}
    tcp = define("<serial type='tcp'><source mode='connect' host='h' service='9'><reconnect enabled='yes' timeout='5'/>"
                 "</source><protocol type='telnet'/></serial><console type='tcp'><source mode='connect' host='h'"
                 " service='9'/></console>")
    assert tcp.find("devices/console/source/reconnect").attrib == {"enabled": "yes", "timeout": "5"}
    assert tcp.find("devices/console/protocol").get("type") == "telnet"


def test_a_domain_naming_no_machine_gets_the_default_machines_versioned_name() -> None:
    from pyvirt.qemu.argv_common import DEFAULT_QEMU_VERSION
    from pyvirt.xml.defaults import HostDefaults

    major, minor = DEFAULT_QEMU_VERSION[:2]
    for os_ in ("<os><type arch='x86_64'>hvm</type></os>", "<os><type arch='i686'>hvm</type></os>"):
        doc = HEAD.format(virt="qemu", extra="", devices="").replace(
            "<os><type arch='x86_64' machine='pc'>hvm</type></os>", os_)
        assert fill_defaults(parse_domain(doc)).os.machine == f"pc-i440fx-{major}.{minor}", os_
    assert define().find("os/type").get("machine") == "pc"  # an alias given stays one
    probed = HostDefaults(machine_aliases={"pc": "pc-i440fx-8.2"})
    assert fill_defaults(parse_domain(HEAD.format(virt="qemu", extra="", devices="").replace(
        " machine='pc'", "")), probed).os.machine == "pc-i440fx-8.2"


def test_a_direct_kernel_boot_still_gets_the_default_boot_device() -> None:
    from pyvirt.qemu.argv import build_argv

    kernel = "<os><type arch='x86_64' machine='pc'>hvm</type><kernel>/k</kernel><initrd>/i</initrd></os>"
    disk = "<disk type='file'><driver name='qemu' type='raw'/><source file='/a'/><target dev='vda' bus='virtio'/></disk>"
    doc = HEAD.format(virt="qemu", extra="", devices=disk).replace("<os><type arch='x86_64' machine='pc'>hvm</type></os>",
                                                                  kernel)
    dom = fill_defaults(parse_domain(doc))
    assert dom.os.boot_devs == ["hd"]
    assert any('"bootindex":1' in a for a in build_argv(dom) if "virtio-blk" in a)  # as libvirt's argv has it
    ordered = fill_defaults(parse_domain(doc.replace("<target dev='vda'", "<boot order='1'/><target dev='vda'")))
    assert ordered.os.boot_devs == []  # a per-device boot order still says it all


def test_serial_ports_number_isa_first_then_the_others_and_each_type_names_its_model() -> None:
    def ports(*targets: str) -> list[tuple[str, str, str]]:
        devices = "".join(f"<serial type='pty'><target type='{t.split(':')[0]}'"
                          + (f" port='{t.split(':')[1]}'" if ":" in t else "") + "/></serial>" for t in targets)
        root = define(devices)
        return [(t.get("type"), t.get("port"), t.find("model").get("name")) for t in root.findall("devices/serial/target")]

    assert ports("pci-serial", "usb-serial", "isa-serial") == [
        ("pci-serial", "1", "pci-serial"), ("usb-serial", "2", "usb-serial"), ("isa-serial", "0", "isa-serial")]
    # an ISA port takes the lowest number no other ISA port holds, whatever a PCI one holds
    assert [p for _, p, _ in ports("pci-serial:0", "isa-serial")] == ["0", "0"]
    assert [p for _, p, _ in ports("isa-serial:0", "isa-serial", "isa-serial:1", "isa-serial")] == ["0", "2", "1", "3"]
    assert [p for _, p, _ in ports("usb-serial", "isa-serial:3", "isa-serial")] == ["4", "3", "0"]


def test_cpu_and_node_sets_are_written_canonically() -> None:
    root = define(extra="<vcpu>4</vcpu><numatune><memory mode='strict' nodeset='0-3,^1'/>"
                        "<memnode cellid='0' mode='strict' nodeset='0,0-1'/></numatune>"
                        "<cpu><numa><cell id='0' cpus='0-3,^2' memory='32768'/>"
                        "<cell id='1' cpus='2' memory='32768'/></numa></cpu>")
    assert root.find("numatune/memory").get("nodeset") == "0,2-3"
    assert root.find("numatune/memnode").get("nodeset") == "0-1"
    assert root.find("cpu/numa/cell").get("cpus") == "0-1,3"


def test_unindexed_usb2_sets_share_an_index_until_a_model_repeats() -> None:
    models = ["ich9-ehci1", "ich9-uhci1", "ich9-uhci2", "ich9-uhci3", "ich9-ehci1", "ich9-uhci1",
              "ich9-uhci1", "ich9-uhci2", "ich9-uhci3", "ich9-ehci1", "nec-xhci", "ich9-uhci1"]
    root = define("".join(f"<controller type='usb' model='{m}'/>" for m in models).replace("machine='pc'", ""),
                  extra="")
    got = [(c.get("model"), c.get("index")) for c in root.findall("devices/controller[@type='usb']")]
    want = zip(models, ["0", "0", "0", "0", "1", "1", "2", "2", "2", "2", "3", "4"], strict=True)
    assert sorted(got) == sorted(want)
    assert root.find("devices/controller[@model='ich9-uhci3']/master").get("startport") == "4"


def test_interface_tune_sndbuf_is_kept_and_reaches_the_tap_netdev() -> None:
    from pyvirt.qemu.argv import build_argv

    nic = ("<interface type='bridge'><source bridge='br0'/><model type='virtio'/>"
           "<tune><sndbuf>1600</sndbuf></tune><link state='up'/></interface>")
    root = define(nic)
    iface = root.find("devices/interface")
    assert iface.findtext("tune/sndbuf") == "1600"
    assert [c.tag for c in iface].index("tune") < [c.tag for c in iface].index("link")
    argv = build_argv(fill_defaults(parse_domain(HEAD.format(virt="qemu", extra="", devices=nic))))
    netdev = argv[argv.index("-netdev") + 1]
    assert '"sndbuf":1600,"id":"hostnet0"' in netdev and netdev.startswith('{"type":"tap"')


def test_automatic_memory_placement_overrides_a_static_vcpu_placement_without_pins() -> None:
    auto = "<numatune><memory mode='strict' placement='auto' nodeset='0'/></numatune>"
    unpinned = define(extra="<vcpu placement='static'>2</vcpu>" + auto)
    assert unpinned.find("vcpu").get("placement") == "auto"
    assert unpinned.find("numatune/memory").attrib == {"mode": "strict", "placement": "auto"}  # nodeset dropped
    for pins in ("<vcpu cpuset='1'>2</vcpu>",
                 "<vcpu>2</vcpu><cputune><vcpupin vcpu='0' cpuset='1'/></cputune>",
                 "<vcpu>2</vcpu><cputune><emulatorpin cpuset='1'/></cputune>",
                 "<vcpu>2</vcpu><iothreads>1</iothreads><cputune><iothreadpin iothread='1' cpuset='1'/></cputune>"):
        pinned = define(extra=pins + auto)
        assert pinned.find("vcpu").get("placement") == "static", pins
        assert pinned.find("numatune/memory").get("nodeset") is None


def test_automatic_placement_of_vcpus_and_memory_go_together() -> None:
    from pyvirt.qemu.argv import build_argv
    from pyvirt.xml import XMLUnsupportedError
    from pyvirt.xml.errors import XMLConfigError

    vcpu_auto = define(extra="<vcpu placement='auto' cpuset='0-1'>2</vcpu>")
    assert vcpu_auto.find("vcpu").attrib == {"placement": "auto"}  # the cpuset goes
    assert vcpu_auto.find("numatune/memory").attrib == {"mode": "strict", "placement": "auto"}
    mem_auto = define(extra="<vcpu>2</vcpu><numatune><memory mode='interleave' placement='auto'/></numatune>")
    assert mem_auto.find("vcpu").get("placement") == "auto"
    static = define(extra="<vcpu>2</vcpu><numatune><memory nodeset='0' placement='static'/></numatune>")
    assert static.find("numatune/memory").attrib == {"mode": "strict", "nodeset": "0"}
    with pytest.raises(XMLConfigError, match="nodeset for NUMA memory tuning must be set"):
        define(extra="<vcpu cpuset='0'>2</vcpu><numatune><memory mode='strict'/></numatune>")
    from pyvirt.qemu.argv import RuntimePaths

    doc = HEAD.format(virt="qemu", extra="<vcpu placement='auto'>2</vcpu>", devices="")
    no_advice = RuntimePaths.debug("g")
    no_advice.auto_nodeset = None  # a start without numad's advice (tests/unit/test_numad_placement.py)
    with pytest.raises(XMLUnsupportedError, match="numad"):
        build_argv(fill_defaults(parse_domain(doc)), runtime=no_advice)


@pytest.mark.parametrize("event", ["on_poweroff", "on_reboot"])
def test_preserve_on_poweroff_or_reboot_is_refused_by_the_qemu_driver(event: str) -> None:
    from pyvirt.xml import XMLError

    with pytest.raises(XMLError, match="qemu driver doesn't support the 'preserve' action"):
        define(extra=f"<{event}>preserve</{event}>")
    assert define(extra="<on_crash>preserve</on_crash>").findtext("on_crash") == "preserve"  # allowed on a crash


@pytest.mark.parametrize(("device", "path"), [
    ("<serial type='unix'><source path='/run/s.sock'/></serial>", "devices/serial/source"),
    ("<serial type='tcp'><source host='127.0.0.1' service='4555'/></serial>", "devices/serial/source"),
    ("<parallel type='unix'><source path='/run/p.sock'/></parallel>", "devices/parallel/source"),
    ("<channel type='unix'><source path='/run/c.sock'/><target type='virtio' name='org.example.c'/></channel>",
     "devices/channel/source"),
    ("<redirdev bus='usb' type='unix'><source path='/run/r.sock'/></redirdev>", "devices/redirdev/source"),
    ("<rng model='virtio'><backend model='egd' type='unix'><source path='/run/e.sock'/></backend></rng>",
     "devices/rng/backend/source"),
])
def test_a_socket_source_without_mode_is_written_as_a_client(device: str, path: str) -> None:
    """virDomainChrSourceDefFormat always writes a TCP source's mode, and a UNIX socket's when it
    has a path: a source that names none is a client (connect)."""
    assert define(device).find(path).get("mode") == "connect"


def test_a_bound_socket_keeps_its_mode_and_a_pathless_one_has_none() -> None:
    root = define("<serial type='tcp'><source mode='bind' host='127.0.0.1' service='4555'/></serial>"
                  "<channel type='unix'><source mode='bind'/><target type='virtio' name='org.example.c'/></channel>")
    assert root.find("devices/serial/source").get("mode") == "bind"
    assert root.find("devices/channel/source") is None  # libvirt makes the path at start


def test_reconnect_timeout_is_kept_only_when_reconnecting() -> None:
    """virDomainChrSourceReconnectDefParseXML reads the timeout only when enabled='yes'."""
    root = define("<serial type='unix'><source mode='connect' path='/run/s.sock'>"
                  "<reconnect enabled='no' timeout='5'/></source></serial>")
    assert root.find("devices/serial/source/reconnect").attrib == {"enabled": "no"}


@pytest.mark.parametrize(("device", "words"), [
    # a listening socket refuses <reconnect>, enabled or not, a generated channel path included
    ("<serial type='tcp'><source mode='bind' host='127.0.0.1' service='4555'><reconnect enabled='no'/>"
     "</source></serial>", "chardev reconnect is possible only for connect mode"),
    ("<channel type='unix'><source mode='connect' path='/x/domain-1-old/org.example.c'>"
     "<reconnect enabled='yes' timeout='3'/></source><target type='virtio' name='org.example.c'/></channel>",
     "chardev reconnect is possible only for connect mode"),
    ("<redirdev bus='usb' type='unix'><source mode='bind' path='/run/r.sock'><reconnect enabled='yes' timeout='3'/>"
     "</source></redirdev>", "chardev reconnect is possible only for connect mode"),
    ("<rng model='virtio'><backend model='egd' type='tcp'><source mode='bind' host='127.0.0.1' service='1'>"
     "<reconnect enabled='yes' timeout='3'/></source></backend></rng>",
     "chardev reconnect is possible only for connect mode"),
    ("<serial type='unix'><source path='/run/s.sock'><reconnect enabled='yes'/></source></serial>",
     "Missing required attribute 'timeout' in element 'reconnect'"),
    ("<serial type='unix'><source path='/run/s.sock'><reconnect enabled='yes' timeout='0'/></source></serial>",
     "chardev reconnect source timeout cannot be '0'"),
])
def test_reconnect_rules_are_checked_at_define(device: str, words: str) -> None:
    """libvirt 9.0 refuses these at define (virDomainChrSourceReconnectDefValidate), not at start."""
    with pytest.raises(XMLError, match=words):
        define(device)


def test_no_channel_gets_a_port_name_at_define() -> None:
    """libvirt 9.0's define keeps a spicevmc channel nameless (its command line names the port
    com.redhat.spice.0, test_argv_libvirt_rules), and a qemu-vdagent one too."""
    root = define("<graphics type='spice'/><channel type='spicevmc'><target type='virtio'/></channel>"
                  "<channel type='qemu-vdagent'><target type='virtio'/></channel>")
    names = [t.get("name") for t in root.findall("devices/channel/target")]
    assert names == [None, None]


@pytest.mark.parametrize(("model", "version"), [("tpm-tis", "1.2"), ("tpm-crb", "2.0"), (None, "1.2")])
def test_an_emulated_tpm_gets_its_models_default_version(model: str | None, version: str) -> None:
    """qemuDomainTPMDefPostParse in libvirt 9.0: TPM 2.0 for a CRB device, 1.2 for TIS (the default
    model), when the backend names no version."""
    attr = f" model='{model}'" if model else ""
    root = define(f"<tpm{attr}><backend type='emulator'/></tpm>")
    assert root.find("devices/tpm/backend").get("version") == version


def test_a_panic_device_without_model_is_the_isa_one_on_x86() -> None:
    root = define("<panic/><panic model='hyperv'/>")
    assert [p.get("model") for p in root.findall("devices/panic")] == ["isa", "hyperv"]


def test_host_devices_scsi_controllers_come_before_the_post_parse_ones() -> None:
    """virDomainDefParseXML adds the SCSI controller a <hostdev type='scsi'> needs as it reads it:
    after the parsed controllers, before the USB controller and PCI root the post-parse adds;
    a SCSI disk's controller is one of the post-parse's (after them)."""
    hostdev = ("<hostdev mode='subsystem' type='scsi'><source><adapter name='scsi_host0'/>"
               "<address bus='0' target='0' unit='0'/></source></hostdev>")
    root = define("<controller type='ide'/>" + hostdev)
    assert [c.get("type") for c in root.findall("devices/controller")] == ["ide", "scsi", "usb", "pci"]
    root = define("<disk type='file'><source file='/a'/><target dev='sda' bus='scsi'/></disk>")
    assert [c.get("type") for c in root.findall("devices/controller")] == ["usb", "pci", "scsi"]


def test_every_subsystem_host_device_writes_managed() -> None:
    root = define("<hostdev mode='subsystem' type='scsi'><source><adapter name='scsi_host0'/>"
                  "<address bus='0' target='0' unit='0'/></source></hostdev>"
                  "<hostdev mode='subsystem' type='scsi_host'><source protocol='vhost' wwpn='naa.5123456789abcde0'/>"
                  "</hostdev><hostdev mode='subsystem' type='scsi' managed='yes'><source><adapter name='scsi_host1'/>"
                  "<address bus='0' target='0' unit='1'/></source></hostdev>")
    assert [h.get("managed") for h in root.findall("devices/hostdev")] == ["no", "no", "yes"]


def test_acpi_index_is_written_after_the_alias_and_rom() -> None:
    """virDomainDeviceInfoFormat: boot, alias, rom, acpi, address."""
    root = define("<interface type='user'><mac address='52:54:00:00:00:03'/><acpi index='4'/><rom bar='off'/>"
                  "<alias name='ua-n'/><boot order='1'/></interface>"
                  "<disk type='file'><source file='/a'/><target dev='vda' bus='virtio'/><acpi index='5'/>"
                  "<alias name='ua-d'/></disk>")
    nic = [c.tag for c in root.find("devices/interface")]
    assert nic[nic.index("boot"):] == ["boot", "alias", "rom", "acpi", "address"]
    disk = [c.tag for c in root.find("devices/disk")]
    assert disk[disk.index("alias"):] == ["alias", "acpi", "address"]


@pytest.mark.parametrize(("nic", "kept"), [
    ("<interface type='bridge'><source bridge='br0'/><target dev='vnet7'/></interface>", None),
    ("<interface type='network'><source network='default'/><target dev='macvtap0'/></interface>", None),
    ("<interface type='user'><target dev='macvlan2'/></interface>", None),
    ("<interface type='bridge'><source bridge='br0'/><target dev='tap0'/></interface>", "tap0"),
    # an existing tap pyvirt does not manage keeps its name, whatever it is
    ("<interface type='ethernet'><target dev='vnet3' managed='no'/></interface>", "vnet3"),
])
def test_a_generated_host_interface_name_is_not_kept(nic: str, kept: str | None) -> None:
    """virDomainNetDefParseXML blanks a target name with the prefix of the names libvirt makes
    (vnet, macvtap, macvlan): a running guest's, made anew at the next start."""
    target = define(nic).find("devices/interface/target")
    assert (target.get("dev") if target is not None else None) == kept


@pytest.mark.parametrize(("target", "ok"), [
    ("<target dev='sda' bus='sata' rotation_rate='7200'/>", True),
    ("<target dev='sdb' rotation_rate='1'/>", True),  # sd* is a SCSI disk
    ("<target dev='vda' bus='virtio' rotation_rate='1'/>", False),
    ("<target dev='sdc' bus='usb' rotation_rate='1'/>", False),
])
def test_rotation_rate_only_on_scsi_ide_sata(target: str, ok: bool) -> None:
    disk = f"<disk type='file'><source file='/a'/>{target}</disk>"
    if ok:
        define(disk)
        return
    with pytest.raises(XMLError, match="rotation rate is only valid for SCSI/IDE/SATA bus"):
        define(disk)


def test_a_running_guests_tap_name_is_kept_when_its_live_document_is_completed() -> None:
    """Only libvirt's inactive parse blanks generated names: a live hot-plug re-reads the running
    guest's document (fill_defaults(live=True)) and keeps the tap it runs on."""
    dom = parse_domain(HEAD.format(virt="qemu", extra="", devices="<interface type='bridge'><source bridge='br0'/>"
                                                                   "<target dev='vnet7'/></interface>"))
    assert fill_defaults(dom, live=True).devices.interfaces[0].target_dev == "vnet7"
    assert fill_defaults(dom).devices.interfaces[0].target_dev is None
