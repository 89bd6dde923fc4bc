"""libvirt 9.0's XML rules found in the seventh xml2xml round (issue 14): PCI addresses, ...
Each was checked on the same small document against the real libvirt 9.0 (a private session
daemon's ``virsh define`` + ``dumpxml --inactive``, or ``virsh -c test:///default``)."""

from __future__ import annotations

import pytest

from pyvirt.xml import fill_defaults, parse_domain
from pyvirt.xml.errors import XMLError


def _dom(devices: str, machine: str = "pc") -> str:
    return (f"<domain type='qemu'><name>d</name><memory>131072</memory><os><type arch='x86_64' "
            f"machine='{machine}'>hvm</type></os><devices><emulator>/usr/bin/qemu-system-x86_64</emulator>"
            f"{devices}</devices></domain>")


def _define(devices: str, machine: str = "pc") -> str:
    return fill_defaults(parse_domain(_dom(devices, machine))).to_xml(inactive=True)


def _nic(address: str, mac: str = "52:54:00:00:01:09", model: str = "virtio") -> str:
    return f"<interface type='user'><mac address='{mac}'/><model type='{model}'/>{address}</interface>"


def _addr(bus: int, slot: int, function: int = 0) -> str:
    return f"<address type='pci' domain='0x0000' bus='{bus:#04x}' slot='{slot:#04x}' function='{function:#x}'/>"


# --- virPCIDeviceAddressIsEmpty: domain, bus and slot all 0 ask for an address --------------------

@pytest.mark.parametrize("address", [
    "<address type='pci'/>", "<address type='pci' function='0x3'/>", "<address type='pci' multifunction='on'/>",
    _addr(0, 0), _addr(0, 0, 2),
])
@pytest.mark.parametrize(("machine", "where"), [
    ("pc", "bus='0x00' slot='0x02' function='0x0'/>"), ("q35", "bus='0x01' slot='0x00' function='0x0'/>")])
def test_an_empty_pci_address_is_assigned(address: str, machine: str, where: str) -> None:
    out = _define(_nic(address), machine)
    nic = out[out.index("<interface"):out.index("</interface>")]
    assert f"<address type='pci' domain='0x0000' {where}" in nic


def test_an_empty_pci_address_is_written_empty_where_nothing_assigns_one() -> None:
    # virsh -c test:///default define + dumpxml: the test driver assigns no PCI address
    dom = parse_domain(_dom(_nic("<address type='pci' domain='0' bus='0' slot='0' function='3' "
                                    "multifunction='on'/>")))
    assert "<address type='pci' multifunction='on'/>" in dom.to_xml()


def test_a_partial_pci_address_is_zero_filled() -> None:
    out = _define(_nic("<address type='pci' slot='0x05'/>"))
    assert "<address type='pci' domain='0x0000' bus='0x00' slot='0x05' function='0x0'/>" in out


# --- qemuDomainAssignPCIAddresses: the hotplug root port after a dry run that grew buses ----------

def _root_ports(out: str) -> int:
    return out.count("model='pcie-root-port'>")


def test_a_bus_an_address_names_grows_ports_and_one_spare() -> None:
    # buses 1-3 for the address; USB and balloon take 1 and 2; none left empty: a 4th for hotplug
    assert _root_ports(_define(_nic(_addr(3, 0)), "q35")) == 4
    # bus 1 named, no other PCI device: one more port
    bare = "<controller type='usb' model='none'/><memballoon model='none'/>"
    assert _root_ports(_define(_nic(_addr(1, 0)) + bare, "q35")) == 2
    # bus 5 named: four ports stay empty, none added
    assert _root_ports(_define(_nic(_addr(5, 0)) + bare, "q35")) == 5


def test_no_spare_port_when_the_xml_has_pci_controllers() -> None:
    out = _define("<controller type='pci' index='1' model='pcie-root-port'/>" + _nic(_addr(3, 0)), "q35")
    assert _root_ports(out) == 3  # 1 given (USB), 2 for the address's bus 3 (balloon), 3


# --- refusals of the QEMU driver ---------------------------------------------------------------

def test_pci_domain_other_than_0_is_refused() -> None:
    with pytest.raises(XMLError, match=r"Invalid PCI address 0001:00:05.0. Only PCI domain 0 is available"):
        _define(_nic("<address type='pci' domain='0x0001' bus='0x00' slot='0x05' function='0x0'/>"))


@pytest.mark.parametrize("bus", [1, 2])
def test_a_pci_controller_sits_on_a_lower_bus(bus: int) -> None:
    with pytest.raises(XMLError, match=f"PCI controller at index 1 \\(0x01\\) has bus='0x0{bus}', "
                                       "but index must be larger than bus"):
        _define("<controller type='pci' index='1' model='pci-bridge'>" + _addr(bus, 1) + "</controller>"
                "<controller type='pci' index='2' model='pci-bridge'/>")


# --- the other address readers (virDomainDeviceAddressParseXML) ---------------------------------

def _serial(address: str, target: str = "isa-serial") -> str:
    return f"<serial type='pty'><target type='{target}'/>{address}</serial>"


@pytest.mark.parametrize(("given", "written"), [
    ("iobase='2f8' irq='3'", "iobase='0x2f8' irq='0x3'"),   # base 16 with or without 0x
    ("iobase='0x3F8' irq='0x4'", "iobase='0x3f8' irq='0x4'"),
    ("iobase='0' irq='0x0'", ""),                           # 0 is not written
])
def test_isa_numbers_are_hexadecimal(given: str, written: str) -> None:
    out = _define(_serial(f"<address type='isa' {given}/>"))
    assert f"<address type='isa'{' ' + written if written else ''}/>" in out


@pytest.mark.parametrize("given", ["iobase='xyz'", "irq='-1'", "irq='10'", "iobase='0x10000'"])
def test_isa_numbers_that_are_none_or_past_the_schema_are_refused(given: str) -> None:
    with pytest.raises(XMLError, match="attribute '(iobase|irq)' of <address>"):
        _define(_serial(f"<address type='isa' {given}/>"))


def test_drive_virtio_serial_and_usb_addresses_are_written_whole() -> None:
    out = _define(_nic("<address type='drive'/>")
                  + "<channel type='pty'><target type='virtio' name='a.1'/><address type='virtio-serial' port='2'/>"
                    "</channel>", "q35")
    assert "<address type='drive' controller='0' bus='0' target='0' unit='0'/>" in out
    assert "<address type='virtio-serial' controller='0' bus='0' port='2'/>" in out
    dom = parse_domain(_dom("<input type='tablet' bus='usb'><address type='usb'/></input>"))
    assert "<address type='usb' bus='0'/>" in dom.to_xml()


@pytest.mark.parametrize(("port", "written"), [("0", None), ("1.0", "1"), ("01", "1"), ("1 2", "1.2"), ("2.3", "2.3")])
def test_usb_ports_read_as_libvirt_reads_them(port: str, written: str | None) -> None:
    dom = parse_domain(_dom(f"<input type='tablet' bus='usb'><address type='usb' bus='0' port='{port}'/></input>"))
    assert dom.devices.inputs[0].address.port == written


@pytest.mark.parametrize("port", ["1.", "a", "1.a", "1.2.3.4.5", "-1"])
def test_unreadable_usb_ports_are_refused(port: str) -> None:
    with pytest.raises(XMLError, match="Cannot parse <address> 'port' attribute"):
        parse_domain(_dom(f"<input type='tablet' bus='usb'><address type='usb' bus='0' port='{port}'/></input>"))


def test_an_address_without_type_is_refused() -> None:
    with pytest.raises(XMLError, match="No type specified for device address"):
        parse_domain(_dom(_nic("<address slot='5'/>")))


@pytest.mark.parametrize(("target", "address", "words"), [
    ("isa-serial", "<address type='pci'/>", "Target type 'isa-serial' requires address type 'isa'"),
    ("pci-serial", "<address type='usb' bus='0' port='1'/>", "Target type 'pci-serial' requires address type 'pci'"),
    ("usb-serial", "<address type='pci'/>", "usb-serial requires address of usb type"),
])
def test_a_serial_target_type_names_its_address_type(target: str, address: str, words: str) -> None:
    with pytest.raises(XMLError, match=words):
        _define(_serial(address, target))


# --- disks: the bus a target implies, target names, duplicates ------------------------------------

def _disk(target: str, device: str = "disk", bus: str = "", src: str = "/tmp/a.img") -> str:
    b = f" bus='{bus}'" if bus else ""
    s = f"<source file='{src}'/>" if device != "cdrom" else ""
    return f"<disk type='file' device='{device}'>{s}<target dev='{target}'{b}/></disk>"


@pytest.mark.parametrize(("disk", "bus"), [
    (_disk("ubda"), "uml"), (_disk("fda", "cdrom"), "ide"), (_disk("hdc", "cdrom"), "ide"),
])
def test_the_bus_a_target_implies(disk: str, bus: str) -> None:
    dom = fill_defaults(parse_domain(_dom(disk)))
    assert dom.devices.disks[0].target_bus == bus


@pytest.mark.parametrize(("disk", "words"), [
    (_disk("fda"), "Invalid harddisk device name: fda"),
    ("<disk type='block' device='lun'><source dev='/dev/sda'/><target dev='fdb' bus='scsi'/></disk>",
     "Invalid harddisk device name: fdb"),
    (_disk("hda", "floppy"), "Invalid floppy device name: hda"),
])
def test_target_names_of_the_wrong_kind_are_refused(disk: str, words: str) -> None:
    with pytest.raises(XMLError, match=words):
        _define(disk, "q35")


def test_a_third_floppy_unit_is_defined() -> None:
    out = _define("<disk type='file' device='floppy'><source file='/tmp/f.img'/><target dev='fda' bus='fdc'/>"
                  "<address type='drive' controller='0' bus='0' target='0' unit='2'/></disk>")
    assert "unit='2'" in out


def test_duplicates_are_named_as_libvirt_names_them() -> None:
    with pytest.raises(XMLError, match="target 'vda' duplicated for disk sources '/tmp/a.img' and '/tmp/b.img'"):
        _define(_disk("vda") + _disk("vda", src="/tmp/b.img"))
    drive = "<address type='drive' controller='0' bus='1' target='0' unit='0'/>"
    with pytest.raises(XMLError, match="Found duplicate drive address for disk with target name 'hda' "
                                       "controller='0' bus='1' target='0' unit='0'"):
        _define(_disk("hdc", bus="ide") + _disk("hda", bus="ide").replace("</disk>", drive + "</disk>"))


# --- networks (virsh -c test:///default net-define + net-dumpxml) ---------------------------------

def _net(body: str) -> str:
    from pyvirt.xml.network import Network
    return Network.from_xml(f"<network><name>n</name>{body}</network>").to_xml()


_IP = "<ip address='192.168.50.1' netmask='255.255.255.0'>{}</ip>"


def test_dns_txt_values_may_be_empty() -> None:
    assert "<txt name='a' value=''/>" in _net("<dns><txt name='a' value=''/></dns>" + _IP.format(""))
    # an empty name or bootp file libvirt 9.0 keeps, but its schema refuses what it writes: refused
    with pytest.raises(XMLError, match="empty name in DNS TXT record of network n"):
        _net("<dns><txt name='' value='x'/></dns>" + _IP.format(""))


def test_a_bootp_without_file_is_read_past() -> None:
    dhcp = "<dhcp><range start='192.168.50.2' end='192.168.50.9'/>{}</dhcp>"
    assert "bootp" not in _net(_IP.format(dhcp.format("<bootp server='1.2.3.4'/>")))
    with pytest.raises(XMLError, match="empty 'file' of <bootp> in network n"):
        _net(_IP.format(dhcp.format("<bootp file='' server='1.2.3.4'/>")))


@pytest.mark.parametrize("name", ["xen", "default"])
def test_forward_drivers_other_than_kvm_and_vfio_are_refused(name: str) -> None:
    with pytest.raises(XMLError, match=f"Unknown forward <driver name='{name}'/> in network n"):
        _net(f"<forward mode='hostdev'><driver name='{name}'/><pf dev='eth0'/></forward>")


def test_bridge_options_outside_their_modes_in_libvirt_9_words() -> None:
    with pytest.raises(XMLError, match=r"only allowed in route, nat, and isolated mode, not in bridge"):
        _net("<forward mode='bridge'/><bridge name='br0' stp='off'/>")
    assert "stp='off'" in _net("<forward mode='open'/><bridge name='virbr9' stp='off'/>" + _IP.format(""))


# --- snapshots of the test driver (virsh -c test:///default snapshot-create + snapshot-dumpxml) -----

def _snapshot(body: str, *, stop: bool = False) -> str:
    from pyvirt.testdriver import open_test_connection
    conn = open_test_connection("test:///default")
    if stop:
        conn.destroy("test")
    conn.snapshot_create("test", f"<domainsnapshot><name>s</name>{body}</domainsnapshot>")
    return conn.snapshot_xml("test", "s")


def test_the_memory_location_follows_the_guest_state_unless_external() -> None:
    assert "<memory snapshot='internal'/>" in _snapshot("<memory snapshot='no'/>")
    assert "<memory snapshot='no'/>" in _snapshot("<memory snapshot='internal'/>", stop=True)
    assert "<memory snapshot='external' file='/tmp/m.img'/>" in _snapshot(
        "<memory snapshot='external' file='/tmp/m.img'/><disks><disk name='vda' snapshot='no'/></disks>")


def test_manual_disk_snapshots_are_refused_by_the_test_driver() -> None:
    with pytest.raises(Exception, match="'manual' snapshot mode is not supported by the test driver"):
        _snapshot("<disks><disk name='vda' snapshot='manual'/></disks>")


# --- leases, socket NICs, what 9.0 defines and refuses only at start ------------------------------

def test_a_lease_is_kept_and_written_back() -> None:
    out = _define(_nic("") + "<lease><lockspace>area</lockspace><key>k</key><target path='/p' offset='1024'/>"
                  "</lease><lease><lockspace>b</lockspace><key>k2</key><target path='/q' offset='0'/></lease>")
    assert ("<lease>\n      <lockspace>area</lockspace>\n      <key>k</key>\n      <target path='/p' offset='1024'/>"
            "\n    </lease>") in out
    assert "<target path='/q'/>" in out  # offset 0 is not written
    assert out.rindex("</controller>") < out.index("<lease>") < out.index("<interface")  # libvirt's order


@pytest.mark.parametrize(("lease", "words"), [
    ("<lockspace>a</lockspace><target path='/p'/>", "Missing 'key' element for lease"),
    ("<lockspace>a</lockspace><key>k</key>", "Missing 'target' element for lease"),
    ("<lockspace>a</lockspace><key>k</key><target path='/p' offset='x'/>", "Malformed lease target offset x"),
])
def test_an_incomplete_lease_is_refused(lease: str, words: str) -> None:
    with pytest.raises(XMLError, match=words):
        parse_domain(_dom(f"<lease>{lease}</lease>"))


def _sock(kind: str, source: str) -> str:
    return f"<interface type='{kind}'><mac address='52:54:00:00:02:01'/>{source}<model type='virtio'/></interface>"


@pytest.mark.parametrize(("nic", "words"), [
    (_sock("udp", ""), "interface type='udp' requires a 'source' element"),
    (_sock("client", "<source port='5555'/>"), "Missing required attribute 'address' in element 'source'"),
    (_sock("mcast", "<source port='5555'/>"), "Missing required attribute 'address' in element 'source'"),
    (_sock("udp", "<source address='127.0.0.1' port='1'/>"), "'<local>' element missing for 'udp' socket interface"),
    (_sock("udp", "<source address='127.0.0.1' port='1'><local port='2'/></source>"),
     "Missing required attribute 'address' in element 'local'"),
    (_sock("udp", "<source address='127.0.0.1' port='1'><local address='127.0.0.1'/></source>"),
     "Missing required attribute 'port' in element 'local'"),
])
def test_socket_nic_sources_as_libvirt_reads_them(nic: str, words: str) -> None:
    with pytest.raises(XMLError, match=words):
        _define(nic, "q35")


def test_a_server_nic_keeps_no_local_address() -> None:
    out = _define(_sock("server", "<source address='127.0.0.1' port='5555'><local address='127.0.0.1' port='1'/>"
                                  "</source>"), "q35")
    assert "<source address='127.0.0.1' port='5555'/>" in out


def test_defined_by_9_0_refused_at_start() -> None:
    from pyvirt.qemu.argv import build_argv
    dup = (_nic("<acpi index='3'/>") + "<disk type='file' device='disk'><source file='/tmp/a.img'/>"
           "<target dev='vda' bus='virtio'/><acpi index='3'/></disk>")
    queues = "<interface type='user'><mac address='52:54:00:00:02:01'/><model type='virtio'/><driver queues='2'/>" \
             "</interface>"
    for devices, words in ((dup, "non unique 'acpi index' '3'"), (queues, "multiqueue is not supported")):
        dom = fill_defaults(parse_domain(_dom(devices, "q35")))
        with pytest.raises(XMLError, match=words):
            build_argv(dom)


# --- <metadata>: virXMLNodeSanitizeNamespaces ------------------------------------------------------

@pytest.mark.parametrize(("given", "kept"), [
    ("<foo>bar</foo>", []),
    ("<foo>bar</foo><a:x xmlns:a='http://a/'>1</a:x>", ["x"]),
    ("<a:x xmlns:a='http://a/'>1</a:x><a:y xmlns:a='http://a/'>2</a:y><b:z xmlns:b='http://b/'/>", ["x", "z"]),
    ("<x xmlns='http://a/'>1</x>", ["x"]),
])
def test_metadata_keeps_the_first_child_of_each_namespace(given: str, kept: list[str]) -> None:
    from lxml import etree

    from pyvirt.xml.network import Network
    dom = parse_domain(_dom("").replace("<os>", f"<metadata>{given}</metadata><os>"))
    net = Network.from_xml(f"<network><name>n</name><metadata>{given}</metadata></network>")
    for md in (dom.metadata, net.metadata):
        assert [etree.QName(etree.fromstring(x)).localname for x in md or []] == kept
    assert ("<metadata/>" in dom.to_xml()) == (not kept)


def test_a_nic_backend_is_kept_and_only_the_default_devices_start() -> None:
    from pyvirt.qemu.argv import build_argv
    nic = ("<interface type='user'><mac address='52:54:00:00:02:01'/><model type='virtio'/><driver txmode='iothread'/>"
           "<backend tap='{}' vhost='/dev/vhost-net'/><link state='up'/></interface>")
    out = _define(nic.format("/dev/net/tun"), "q35")
    assert "<driver txmode='iothread'/>\n      <backend tap='/dev/net/tun' vhost='/dev/vhost-net'/>\n      <link" in out
    build_argv(fill_defaults(parse_domain(_dom(nic.format("/dev/net/tun"), "q35"))))
    with pytest.raises(XMLError, match="<backend tap= vhost=>"):
        build_argv(fill_defaults(parse_domain(_dom(nic.format("/dev/mytun"), "q35"))))


def test_a_zero_current_memory_is_the_whole_memory() -> None:
    from pyvirt.testdriver import open_test_connection
    doc = _dom("").replace("<os>", "<currentMemory>0</currentMemory><os>")
    assert fill_defaults(parse_domain(doc)).current_memory == 131072
    conn = open_test_connection("test:///default")  # virDomainDefPostParseMemory, every driver
    conn.define_xml(doc.replace("type='qemu'", "type='test'").replace(
        "<emulator>/usr/bin/qemu-system-x86_64</emulator>", ""))
    assert "<currentMemory unit='KiB'>131072</currentMemory>" in conn.get_xml("d")


# --- controllers ------------------------------------------------------------------------------------

def test_a_scsi_controller_model_auto_is_the_default_model() -> None:
    assert "<controller type='scsi' index='0' model='lsilogic'>" in _define(
        "<controller type='scsi' index='0' model='auto'/>")


@pytest.mark.parametrize(("controller", "words"), [
    ("<controller type='scsi' model='lsilogic'><driver cmd_per_lun='8'/></controller>", "'cmd_per_lun' is only"),
    ("<controller type='scsi' model='lsilogic'><driver max_sectors='8'/></controller>", "'max_sectors' is only"),
    ("<controller type='scsi'><driver queues='2'/></controller>", "'queues' is only supported by virtio-scsi"),
    ("<controller type='virtio-serial'><driver queues='2'/></controller>", "'queues' is only supported"),
    ("<controller type='usb' index='0' model='none'/><controller type='usb' index='1' model='qemu-xhci'/>",
     "Can't add another USB controller: USB is disabled for this domain"),
])
def test_controller_refusals_of_libvirt_9(controller: str, words: str) -> None:
    with pytest.raises(XMLError, match=words):
        _define(controller, "q35")


def test_an_empty_address_is_not_an_absent_one_for_ich9_homes() -> None:
    """qemuDomainValidateDevicePCISlotsQ35 gives the DMI-to-PCI bridge 00:1e.0 and the first
    USB2 set 00:1d.x only when the XML gave them no <address> at all."""
    dmi = "<controller type='pci' index='1' model='dmi-to-pci-bridge'>{}</controller>"
    assert "slot='0x1e'" in _define(dmi.format(""), "q35")
    out = _define(dmi.format("<address type='pci'/>"), "q35")
    assert "slot='0x1e'" not in out and "<address type='pci' domain='0x0000' bus='0x00' slot='0x01'" in out
    usb2 = ("<controller type='usb' index='0' model='ich9-ehci1'>{0}</controller><controller type='usb' index='0' "
            "model='ich9-uhci1'><master startport='0'/>{0}</controller>")
    assert "slot='0x1d'" in _define(usb2.format(""), "q35")
    out = _define(usb2.format("<address type='pci'/>"), "q35")
    assert "slot='0x1d'" not in out and "model='pcie-to-pci-bridge'" in out


def test_ccid_and_console_virtio_serial_addresses_are_written_whole() -> None:
    from pyvirt.qemu.argv import build_argv
    out = _define("<smartcard mode='host'><address type='ccid' slot='0'/></smartcard>", "q35")
    assert "<address type='ccid' controller='0' slot='0'/>" in out
    doc = _dom("<console type='pty'><target type='virtio'/><address type='virtio-serial'/></console>", "q35")
    assert "<address type='virtio-serial' controller='0' bus='0' port='0'/>" in _define(
        "<console type='pty'><target type='virtio'/><address type='virtio-serial'/></console>", "q35")
    assert '"nr"' not in next(a for a in build_argv(fill_defaults(parse_domain(doc))) if "virtconsole" in a)


def test_a_serial_port_without_target_type_is_isa_and_needs_an_isa_address() -> None:
    with pytest.raises(XMLError, match="Target type 'isa-serial' requires address type 'isa'"):
        _define("<serial type='pty'><address type='spapr-vio'/></serial>")


@pytest.mark.parametrize("model", ["piix3", "piix4", "ich6"])
def test_ide_controller_models_are_kept_on_i440fx(model: str) -> None:
    """libvirt 9.0 records the model; i440fx's built-in PIIX3 IDE serves the disks (no device)."""
    from pyvirt.qemu.argv import build_argv
    doc = _dom(f"<controller type='ide' index='0' model='{model}'/>" + _disk("hda", bus="ide"))
    assert f"<controller type='ide' index='0' model='{model}'>" in fill_defaults(parse_domain(doc)).to_xml()
    assert not [a for a in build_argv(fill_defaults(parse_domain(doc))) if f"\"driver\":\"{model}\"" in a]


def test_ich9_companions_follow_their_ehci_whatever_the_written_order() -> None:
    out = _define("<controller type='usb' index='0' model='ich9-uhci2'/><controller type='usb' index='0' "
                  "model='ich9-uhci1'/><controller type='usb' index='0' model='ich9-ehci1'/><controller "
                  "type='usb' index='0' model='ich9-uhci3'/>")
    models = [m for m in ("ich9-ehci1", "ich9-uhci2", "ich9-uhci1", "ich9-uhci3")]
    assert sorted(models, key=lambda m: out.index(f"model='{m}'")) == models


def test_the_test_driver_gives_ich9_companions_their_master() -> None:
    from pyvirt.testdriver import open_test_connection
    conn = open_test_connection("test:///default")
    conn.define_xml("<domain type='test'><name>u</name><memory>131072</memory><os><type>hvm</type></os><devices>"
                    "<controller type='usb' index='0' model='ich9-uhci2'/><controller type='usb' index='0' "
                    "model='ich9-ehci1'/></devices></domain>")
    xml = conn.get_xml("u")
    assert xml.index("model='ich9-ehci1'") < xml.index("model='ich9-uhci2'>\n      <master startport='2'/>")


def test_the_test_driver_keeps_a_given_memory_beside_numa_cells() -> None:
    """virDomainDefPostParseMemory sums the cells only without <memory> (or under the QEMU
    driver's ABI update, which libvirt's test driver does not ask for)."""
    from pyvirt.testdriver import open_test_connection
    conn = open_test_connection("test:///default")
    cells = "<cpu><numa><cell cpus='0' memory='109550'/><cell cpus='1' memory='109550'/></numa></cpu>"
    conn.define_xml(f"<domain type='test'><name>a</name><memory>2097152</memory><vcpu>2</vcpu><os><type>hvm</type>"
                    f"</os>{cells}</domain>")
    conn.define_xml(f"<domain type='test'><name>b</name><vcpu>2</vcpu><os><type>hvm</type></os>{cells}</domain>")
    assert "<memory unit='KiB'>2097152</memory>" in conn.get_xml("a")
    assert "<memory unit='KiB'>219100</memory>" in conn.get_xml("b")
