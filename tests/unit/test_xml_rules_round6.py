"""libvirt 9.0's XML rules found in the sixth xml2xml round (issue 14): networks, addresses,
routes, VLANs.  Each was checked on the same small document against the real libvirt 9.0
(``virsh -c test:///default net-define`` + ``net-dumpxml``, or a session daemon's define)."""

from __future__ import annotations

import pytest

from pyvirt.xml.errors import XMLError
from pyvirt.xml.iptext import parse_ip
from pyvirt.xml.network import Network


def _net(body: str, name: str = "n") -> str:
    return Network.from_xml(f"<network><name>{name}</name>{body}</network>").to_xml()


# --- virSocketAddrParse: getaddrinfo(AI_NUMERICHOST), i.e. inet_aton's IPv4 forms -------------

@pytest.mark.parametrize(("text", "want"), [
    ("10.1", "10.0.0.1"), ("010.0.0.1", "8.0.0.1"), ("0x0a.0.0.1", "10.0.0.1"),
    ("192.168.122.01", "192.168.122.1"), ("1", "0.0.0.1"), ("4294967295", "255.255.255.255"),
    ("2001:DB8::1", "2001:db8::1"),
])
def test_addresses_read_as_getaddrinfo_reads_them(text: str, want: str) -> None:
    assert str(parse_ip(text)) == want


@pytest.mark.parametrize("text", [" 10.0.0.1", "10.0.0.1 ", "192.168.122.1.", "fe80::1%lo", "", "x"])
def test_not_addresses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_ip(text)


def test_network_addresses_in_inet_aton_forms_are_written_canonically() -> None:
    out = _net("<ip address='0x0a.0.0.1' prefix='24'><dhcp><range start='10.0.0.0x0a' end='10.0.0.20'/>"
               "<host mac='00:16:3e:77:e2:ed' ip='10.0.0.010'/></dhcp></ip>")
    assert "<ip address='10.0.0.1' prefix='24'>" in out
    assert "<range start='10.0.0.10' end='10.0.0.20'/>" in out
    assert "ip='10.0.0.8'" in out  # octal, as inet_aton


def test_network_address_with_blanks_is_refused() -> None:
    with pytest.raises(XMLError, match="Invalid address ' 10.0.0.1' in network 'n'"):
        _net("<ip address=' 10.0.0.1' prefix='24'/>")


def test_nwfilter_ip_values_read_the_same_way() -> None:
    from pyvirt.xml.nwfilter import IP, typed_value
    assert typed_value(IP, "10.1") == "10.0.0.1"
    assert typed_value(IP, " 10.0.0.1") is None


# --- virNetDevIPRouteCreate: the destination is a network address -------------------------------

_GW = "<ip address='192.168.122.1' prefix='24'/>"


@pytest.mark.parametrize("route", [
    "address='10.0.0.1' prefix='16'", "address='10.0.0.1' netmask='255.255.0.0'",
    "address='10.0.0.1'",  # no prefix: 0, so only a default route passes
    "address='10.0.0.0' prefix='0'",
])
def test_route_to_a_host_address_is_refused(route: str) -> None:
    with pytest.raises(XMLError, match="in route definition is not a network address"):
        _net(f"<route {route} gateway='192.168.122.10'/>{_GW}")


def test_ipv6_route_without_prefix_is_refused() -> None:
    with pytest.raises(XMLError, match="Address '2001:db8:ca2:3::' in route definition is not a network"):
        _net("<route family='ipv6' address='2001:db8:ca2:3::' gateway='2001:db8:ca2:2::2'/>"
             "<ip family='ipv6' address='2001:db8:ca2:2::1' prefix='64'/>")


def test_default_route_keeps_its_explicit_prefix_zero() -> None:
    from pyvirt.xml.network_rules import route_destination
    out = _net(f"<route address='0.0.0.0' prefix='0' gateway='192.168.122.10'/>{_GW}")
    assert "<route address='0.0.0.0' prefix='0' gateway='192.168.122.10'/>" in out
    net = Network.from_xml(f"<network><name>n</name><route address='0.0.0.0' prefix='0' "
                           f"gateway='192.168.122.10'/>{_GW}</network>")
    assert route_destination(net.routes[0]) == "0.0.0.0/0"


# --- virNetDevVlanParse ---------------------------------------------------------------------------

_BR = "<forward mode='bridge'/><bridge name='br0'/>"


def test_native_mode_alone_does_not_make_a_trunk() -> None:
    out = _net(f"{_BR}<vlan><tag id='5' nativeMode='tagged'/></vlan>")
    assert "<vlan>\n" in out and "trunk" not in out


def test_trunk_is_read_without_regard_to_case() -> None:
    assert "<vlan trunk='yes'>" in _net(f"{_BR}<vlan trunk='YES'><tag id='5'/></vlan>")
    assert "trunk" not in _net(f"{_BR}<vlan trunk='No'><tag id='5'/></vlan>")


@pytest.mark.parametrize(("vlan", "message"), [
    ("<vlan trunk='no'><tag id='5' nativeMode='tagged'/></vlan>", "not allowed with a native vlan id"),
    ("<vlan trunk='no'><tag id='5'/><tag id='6'/></vlan>", "trunk='yes' is required for more than one"),
    ("<vlan trunk='yes'><tag id='5' nativeMode='untagged'/><tag id='6' nativeMode='tagged'/></vlan>",
     "duplicate native vlan setting"),
    ("<vlan/>", "each <vlan> must have at least one <tag id='n'/>"),
    ("<vlan><tag/></vlan>", "Missing required attribute 'id' in element 'tag'"),
    ("<vlan trunk='maybe'><tag id='5'/></vlan>", "trunk='maybe'\" in <vlan> - must be yes or no"),
])
def test_vlan_refusals(vlan: str, message: str) -> None:
    with pytest.raises(XMLError, match=message):
        _net(f"{_BR}{vlan}")


def test_empty_dns_hostname_named_as_libvirt_names_it() -> None:
    with pytest.raises(XMLError, match="Missing hostname in network 'n' DNS HOST record"):
        _net("<dns><host ip='192.168.122.2'><hostname></hostname></host></dns>")


_V6 = "<ip family='ipv6' address='2001:db8:ca2:2::1' prefix='64'/>"


@pytest.mark.parametrize(("route", "ips", "message"), [
    ("address='10.0.0.0' prefix='33' gateway='192.168.122.10'", _GW, "Invalid prefix 33 .* must be 0 - 32"),
    ("address='10.0.0.0' prefix='8' netmask='255.0.0.0' gateway='192.168.122.10'", _GW,
     "Route definition cannot have both a prefix and a netmask"),
    ("address='10.0.0.0' prefix='0' netmask='255.0.0.0' gateway='192.168.122.10'", _GW,
     "Route definition cannot have both a prefix and a netmask"),
    ("address='10.0.0.0' netmask='ffff::' gateway='192.168.122.10'", _GW,
     r"Invalid netmask 'ffff::' for address '10.0.0.0' \(both must be IPv4\)"),
    ("address='2001:db8::' prefix='32' gateway='2001:db8:ca2:2::2'", _V6,
     "No family specified for non-IPv4 address '2001:db8::'"),
    ("address='10.0.0.0' prefix='8' gateway='2001:db8:ca2:2::2'", _V6,
     "No family specified for non-IPv4 gateway '10.0.0.0'"),
    ("family='ipv6' address='10.0.0.0' prefix='8' gateway='192.168.122.10'", _GW,
     "ipv6 family specified for non-IPv6 address '10.0.0.0'"),
    ("family='ipv6' address='2001:db8::' prefix='32' gateway='192.168.122.10'", _GW,
     "ipv6 specified for non-IPv6 gateway address '192.168.122.10'"),
    ("family='ipv6' address='2001:db8::' netmask='ffff::' gateway='2001:db8:ca2:2::2'", _V6,
     "Specifying netmask invalid for IPv6 address"),
    ("family='ipv6' address='2001:db8::' prefix='129' gateway='2001:db8:ca2:2::2'", _V6,
     "Invalid prefix 129 .* must be 0 - 128"),
    ("family='ipv4' address='10.0.0.0' prefix='8' gateway='2001:db8::2'", _GW,
     "IPv4 family specified for non-IPv4 gateway '10.0.0.0'"),
])
def test_route_family_rules(route: str, ips: str, message: str) -> None:
    with pytest.raises(XMLError, match=f"^n: {message}"):
        _net(f"<route {route}/>{ips}")


def test_route_with_a_non_contiguous_netmask_is_kept() -> None:
    out = _net(f"<route address='10.0.0.0' netmask='255.0.255.0' gateway='192.168.122.10'/>{_GW}")
    assert "netmask='255.0.255.0'" in out


# --- storage pools: virFileSanitizePath, virStorageDefParsePerms ----------------------------------

@pytest.mark.parametrize(("path", "want"), [
    ("//", "//"), ("//x//y/", "//x/y"), ("///x", "/x"), ("/", "/"), ("/x/", "/x"),
    ("/var//lib/./libvirt/images", "/var/lib/./libvirt/images"), ("gluster://h//v", "gluster://h//v"),
])
def test_paths_sanitised_as_libvirt(path: str, want: str) -> None:
    from pyvirt.xml.pool import sanitize_path
    assert sanitize_path(path) == want


def _pool_perms(perms: str) -> str:
    from pyvirt.xml.pool import PoolDef
    return PoolDef.from_xml(f"<pool type='dir'><name>p</name><target><path>/x</path>"
                            f"<permissions>{perms}</permissions></target></pool>").to_xml()


@pytest.mark.parametrize(("perms", "written"), [
    ("<mode>0000755</mode>", "<mode>0755</mode>"), ("<mode> 755</mode>", "<mode>0755</mode>"),
    ("<mode>+755</mode>", "<mode>0755</mode>"), ("<owner> 5</owner>", "<owner>5</owner>"),
    ("<group>+7</group>", "<group>7</group>"),
])
def test_permission_numbers_read_as_strtol(perms: str, written: str) -> None:
    assert written in _pool_perms(perms)


@pytest.mark.parametrize("perms", ["<mode></mode>", "<label></label>"])
def test_empty_permission_values_are_absent(perms: str) -> None:
    assert "<permissions>" not in _pool_perms(perms)


@pytest.mark.parametrize("perms", ["<mode>7777</mode>", "<mode>01777</mode>", "<mode>-1</mode>",
                                   "<mode>755 </mode>", "<owner>5 </owner>", "<owner>5.0</owner>",
                                   "<owner></owner>"])
def test_malformed_permissions_refused(perms: str) -> None:
    with pytest.raises(XMLError, match="malformed"):
        _pool_perms(perms)


# --- virDomainStorageSourceParse: an empty path is no path ---------------------------------------

def _dom_disk(disk: str) -> str:
    from pyvirt.xml import fill_defaults, parse_domain
    doc = (f"<domain type='qemu'><name>d</name><memory>65536</memory><os><type arch='x86_64' "
           f"machine='pc'>hvm</type></os><devices>{disk}</devices></domain>")
    return fill_defaults(parse_domain(doc.encode())).to_xml(inactive=True)


@pytest.mark.parametrize("disk", [
    "<disk type='file' device='cdrom'><source file=''/><target dev='hdc' bus='ide'/><readonly/></disk>",
    "<disk type='block' device='cdrom'><source dev=''/><target dev='hdc' bus='ide'/><readonly/></disk>",
    "<disk type='file' device='floppy'><source file=''/><target dev='fda' bus='fdc'/></disk>",
])
def test_empty_disk_source_path_is_no_source(disk: str) -> None:
    assert "<source" not in _dom_disk(disk)


def test_empty_backing_store_path_is_none() -> None:
    out = _dom_disk("<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
                    "<source file='/x.qcow2'/><backingStore type='file'><format type='raw'/>"
                    "<source file=''/></backingStore><target dev='vda' bus='virtio'/></disk>")
    assert "<source file=''/>" not in out and "<format type='raw'/>" in out


def test_empty_snapshot_image_path_is_none() -> None:
    from pyvirt.xml.snapshot import parse_snapshot
    snap = parse_snapshot(b"<domainsnapshot><disks><disk name='vda' snapshot='external'>"
                          b"<source file=''/></disk></disks></domainsnapshot>")
    assert snap.disks[0].path is None


# --- virStrToLong_*: blanks before a number, nothing after it ------------------------------------

@pytest.mark.parametrize(("text", "base", "want"), [
    (" 5", 10, 5), ("+5", 10, 5), ("-5", 10, -5), ("5 ", 10, None), ("1_000", 10, None), ("", 10, None),
    ("0x1f", 0, 31), ("010", 0, 8), ("0", 0, 0), ("08", 0, None), (" 0x03", 0, 3), ("0x03 ", 0, None),
])
def test_numbers_read_as_strtol(text: str, base: int, want: int | None) -> None:
    from pyvirt.xml.fields import c_strtol
    assert c_strtol(text, base) == want


def _dom(body: str) -> str:
    from pyvirt.xml import fill_defaults, parse_domain
    doc = (f"<domain type='qemu'><name>d</name><memory>65536</memory>{body}<os><type arch='x86_64' "
           f"machine='pc'>hvm</type></os></domain>")
    return fill_defaults(parse_domain(doc.encode())).to_xml(inactive=True)


@pytest.mark.parametrize("body", [
    "<vcpu>2 </vcpu>", "<vcpu current='1 '>2</vcpu>", "<currentMemory>65536 </currentMemory>",
    "<iothreads>2 </iothreads>", "<devices><controller type='usb' index='0 '/></devices>",
    "<devices><video><model type='vga' vram='16384 '/></video></devices>",
])
def test_trailing_blank_after_a_number_refused(body: str) -> None:
    with pytest.raises(XMLError):
        _dom(body)


@pytest.mark.parametrize("body", ["<vcpu> 2</vcpu>", "<vcpu current=' 1'>2</vcpu>",
                                  "<currentMemory> 65536</currentMemory>"])
def test_leading_blank_before_a_number_accepted(body: str) -> None:
    assert "<vcpu" in _dom(body)


def test_network_numbers_with_trailing_blanks_refused() -> None:
    with pytest.raises(XMLError):
        _net("<bridge name='virbr1' delay='5 '/>")
    with pytest.raises(XMLError):
        _net("<ip address='192.168.122.1' prefix='24 '/>")
    assert "prefix='24'" in _net("<ip address='192.168.122.1' prefix=' 24'/>")


@pytest.mark.parametrize(("base", "written"), [("100000000", "0x100000000"), ("0x100000000", "0x100000000"),
                                               ("010", "0x10")])
def test_dimm_base_is_hexadecimal(base: str, written: str) -> None:
    out = _dom("<maxMemory slots='16' unit='KiB'>4194304</maxMemory><vcpu>2</vcpu>"
               "<cpu><numa><cell id='0' cpus='0-1' memory='1048576' unit='KiB'/></numa></cpu>"
               "<devices><memory model='dimm'><target><size unit='KiB'>524288</size><node>0</node>"
               f"</target><address type='dimm' slot='0' base='{base}'/></memory></devices>")
    assert f"base='{written}'" in out


def test_pci_address_numbers_are_c_base_0() -> None:
    out = _dom("<devices><memballoon model='virtio'><address type='pci' domain='0' bus='0' slot='010' "
               "function='0'/></memballoon></devices>")
    assert "slot='0x08'" in out
    with pytest.raises(XMLError):
        _dom("<devices><memballoon model='virtio'><address type='pci' domain='0' bus='0' slot='08' "
             "function='0'/></memballoon></devices>")


# --- qemuValidateDomainDeviceDefAddressDrive on the address a target name implies --------------

def test_ide_target_past_hdd_implies_a_second_ide_controller_refused() -> None:
    from pyvirt.xml.errors import XMLInternalError
    with pytest.raises(XMLInternalError, match="Only 1 IDE controller is supported"):
        _dom("<devices><disk type='file' device='disk'><source file='/x.img'/>"
             "<target dev='hde' bus='ide'/></disk></devices>")
    assert "dev='hdd'" in _dom("<devices><disk type='file' device='disk'><source file='/x.img'/>"
                               "<target dev='hdd' bus='ide'/></disk></devices>")


# --- virMacAddrParse -------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "want"), [
    ("52:54:0:1:2:3", "52:54:00:01:02:03"), ("52:54:00:AB:CD:EF", "52:54:00:ab:cd:ef"),
    ("52:54:00:ab:cd:ef xyz", "52:54:00:ab:cd:ef"), ("52:54:00:ab:cd:e", "52:54:00:ab:cd:0e"),
    ("52:54:00:ab:cd:ef:", None), ("52:54:00:ab:cd:0ef", None), ("52-54-00-ab-cd-ef", None),
    (" 52:54:00:ab:cd:ef", None),
])
def test_mac_addresses_read_as_libvirt(text: str, want: str | None) -> None:
    from pyvirt.xml.macaddr import parse_mac
    assert parse_mac(text) == want


def test_short_mac_octets_written_in_full_in_domains_and_networks() -> None:
    assert "<mac address='52:54:00:01:02:03'/>" in _dom(
        "<devices><interface type='user'><mac address='52:54:0:1:2:3'/><model type='virtio'/></interface></devices>")
    assert "<mac address='52:54:00:01:02:03'/>" in _net("<mac address='52:54:0:1:2:3'/>")


def test_volume_sizes_read_as_strtoull() -> None:
    from pyvirt.xml.volume import VolumeDef
    out = VolumeDef.from_xml("<volume><name>v</name><capacity unit='bytes'>+5</capacity></volume>", "dir").to_xml()
    assert "<capacity unit='bytes'>5</capacity>" in out
    for bad in ("5 ", "-5", "1.5"):
        with pytest.raises(XMLError, match="malformed capacity element"):
            VolumeDef.from_xml(f"<volume><name>v</name><capacity>{bad}</capacity></volume>", "dir")


# --- virUUIDParse and virBitmapParse for every object -----------------------------------------------

@pytest.mark.parametrize(("text", "ok"), [
    ("c7a5fdbd edaf 9455 926a d65c16db1809", True), ("c7-a5-fd-bd-ed-af-94-55-92-6a-d6-5c-16-db-18-09", True),
    ("c7a5fdbd-edaf-9455-926a-d65c16db1809-", False), ("{c7a5fdbd-edaf-9455-926a-d65c16db1809}", False),
    ("urn:uuid:c7a5fdbd-edaf-9455-926a-d65c16db1809", False),
])
def test_domain_and_pool_uuids_read_as_virUUIDParse(text: str, ok: bool) -> None:
    from pyvirt.xml.pool import PoolDef
    from pyvirt.xml.validate import normalize_uuid
    pool = f"<pool type='dir'><name>p</name><uuid>{text}</uuid><target><path>/x</path></target></pool>"
    if ok:
        assert normalize_uuid(text, None) == "c7a5fdbd-edaf-9455-926a-d65c16db1809"
        assert "<uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid>" in PoolDef.from_xml(pool).to_xml()
    else:
        with pytest.raises(XMLError, match="malformed uuid element"):
            normalize_uuid(text, None)
        with pytest.raises(XMLError, match="malformed uuid element"):
            PoolDef.from_xml(pool)


@pytest.mark.parametrize(("text", "want"), [
    ("0-1, 3", {0, 1, 3}), (" 0-1", {0, 1}), ("0 -1", {0, 1}), ("0- 1", {0, 1}), ("0-1,", {0, 1}),
    ("0-3,^2,8", {0, 1, 3, 8}), ("^2,0-3", {0, 1, 2, 3}),  # a ^N clears only what is set before it
])
def test_cpusets_read_as_virBitmapParse(text: str, want: set[int]) -> None:
    from pyvirt.xml.validate import parse_cpuset
    assert parse_cpuset(text) == want


@pytest.mark.parametrize("text", [",0-1", "0-1,,3", "1-0", "3 4", "", "^1-2"])
def test_cpuset_syntax_errors(text: str) -> None:
    from pyvirt.xml.validate import parse_cpuset
    with pytest.raises(XMLError, match="Failed to parse bitmap"):
        parse_cpuset(text)


def test_cpuset_with_blanks_written_canonically() -> None:
    assert "cpuset='0-1,3'" in _dom("<vcpu cpuset='0-1, 3'>2</vcpu>")


# --- virXPathString: an element with no text is absent --------------------------------------------

@pytest.mark.parametrize(("body", "gone"), [
    ("<description></description>", "<description"), ("<title></title>", "<title"),
    ("<devices><emulator></emulator></devices>", "<emulator/>"),
    ("<devices><disk type='file' device='disk'><source file='/x.img'/><target dev='vda' bus='virtio'/>"
     "<serial></serial></disk></devices>", "<serial"),
])
def test_empty_element_text_is_absent(body: str, gone: str) -> None:
    assert gone not in _dom(body)


def test_empty_kernel_cmdline_not_written() -> None:
    from pyvirt.xml import fill_defaults, parse_domain
    doc = ("<domain type='qemu'><name>d</name><memory>65536</memory><os><type arch='x86_64' machine='pc'>hvm"
           "</type><kernel>/vmlinuz</kernel><cmdline></cmdline></os></domain>")
    out = fill_defaults(parse_domain(doc.encode())).to_xml(inactive=True)
    assert "<kernel>/vmlinuz</kernel>" in out and "cmdline" not in out


def test_empty_genid_still_asks_for_one() -> None:
    from pyvirt.xml import fill_defaults, parse_domain
    doc = ("<domain type='qemu'><name>d</name><genid/><memory>65536</memory><os><type arch='x86_64' "
           "machine='pc'>hvm</type></os></domain>")
    assert fill_defaults(parse_domain(doc.encode())).genid


@pytest.mark.parametrize("graphics", ["<graphics type='vnc' listen=''/>",
                                      "<graphics type='vnc'><listen type='address' address=''/></graphics>"])
def test_empty_graphics_listen_address_is_none(graphics: str) -> None:
    out = _dom(f"<devices>{graphics}</devices>")
    assert "address=''" not in out and "listen=''" not in out and "<listen type='address'/>" in out


@pytest.mark.parametrize(("body", "message"), [
    ("<vcpu></vcpu>", None), ("<vcpu current='1'></vcpu>", None),
])
def test_empty_vcpu_is_not_a_number(body: str, message: str | None) -> None:
    with pytest.raises(XMLError):
        _dom(body)


@pytest.mark.parametrize("os", ["<os><boot dev='hd'/></os>", "<os><type arch='x86_64' machine='pc'></type></os>"])
def test_os_without_type_refused(os: str) -> None:
    from pyvirt.xml import parse_domain
    with pytest.raises(XMLError, match="an os <type> must be specified"):
        parse_domain(f"<domain type='qemu'><name>d</name><memory>65536</memory>{os}</domain>".encode())


def test_empty_iotune_and_unit_only_tseg_not_written() -> None:
    out = _dom("<devices><disk type='file' device='disk'><source file='/x.img'/><target dev='vda' bus='virtio'/>"
               "<iotune><total_bytes_sec></total_bytes_sec></iotune></disk></devices>")
    assert "iotune" not in out
    from pyvirt.xml import fill_defaults, parse_domain
    doc = ("<domain type='qemu'><name>d</name><memory>65536</memory><os><type arch='x86_64' machine='q35'>hvm"
           "</type></os><features><smm state='on'><tseg unit='MiB'/></smm></features></domain>")
    assert "tseg" not in fill_defaults(parse_domain(doc.encode())).to_xml(inactive=True)


@pytest.mark.parametrize(("adjustment", "want"), [(" 5", "5"), ("+5", "5"), ("-5", "-5"), ("5 ", "0"),
                                                  ("5.0", "0"), ("0x10", "0")])
def test_variable_clock_adjustment_read_as_strtoll(adjustment: str, want: str) -> None:
    out = _dom(f"<clock offset='variable' adjustment='{adjustment}' basis='utc'/>")
    assert f"adjustment='{want}'" in out


@pytest.mark.parametrize(("vendor", "want"), [("1234", "0x04d2"), ("0x1234", "0x1234"), ("0X00ab", "0x00ab"),
                                              (" 010", "0x0008"), ("0x12345", "0x12345")])
def test_usb_host_ids_read_in_c_base_0(vendor: str, want: str) -> None:
    out = _dom(f"<devices><hostdev mode='subsystem' type='usb'><source><vendor id='{vendor}'/>"
               "<product id='1'/></source></hostdev></devices>")
    assert f"<vendor id='{want}'/>" in out and "<product id='0x0001'/>" in out


@pytest.mark.parametrize("vendor", ["", "abcd", "-1"])
def test_bad_usb_host_ids_refused(vendor: str) -> None:
    with pytest.raises(XMLError, match="Invalid value for attribute 'id' in element 'vendor'"):
        _dom(f"<devices><hostdev mode='subsystem' type='usb'><source><vendor id='{vendor}'/>"
             "<product id='1'/></source></hostdev></devices>")


# --- networks and pools: virXPathString("string(./@x)") reads an empty attribute as none -------

def test_network_empty_attributes_are_absent() -> None:
    out = _net("<forward mode='nat' dev=''/><ip address='192.168.122.1' prefix='24'/>")
    assert "<forward mode='nat'/>" in out and "dev=''" not in out
    with pytest.raises(XMLError, match="Missing required name attribute in portgroup"):
        _net("<forward mode='bridge'/><bridge name='br0'/><portgroup name=''/>")


def test_network_attributes_libvirt_reads_with_virXMLProp_keep_empty() -> None:
    assert "<domain name=''/>" in _net("<domain name=''/>")
    with pytest.raises(XMLError):
        _net("<ip address='192.168.122.1' prefix=''/>")


def test_pool_empty_initiator_iqn_is_none() -> None:
    from pyvirt.xml.pool import PoolDef
    out = PoolDef.from_xml("<pool type='iscsi'><name>p</name><source><host name='h'/><device path='iqn.x'/>"
                           "<initiator><iqn name=''/></initiator></source><target><path>/dev/disk/by-path</path>"
                           "</target></pool>").to_xml()
    assert "initiator" not in out


def test_empty_metadata_is_kept_as_libvirt_keeps_the_node() -> None:
    assert "<metadata/>" in _dom("<metadata></metadata>")
    assert "<metadata/>" in _net("<metadata/><bridge name='virbr3'/>")
    assert "metadata" not in _dom("")
