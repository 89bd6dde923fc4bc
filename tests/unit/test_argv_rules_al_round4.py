"""libvirt 9.0 rules found on unseen qemuxml2argv inputs (issue 14, names a..l, fourth round):
own small XML each, the expected values as real libvirt 9.0 builds or refuses them on this
machine (``virsh domxml-to-native qemu-argv`` / ``define`` in a private session daemon)."""

from __future__ import annotations

import datetime as dt
import json
import types

import pytest

from pyvirt.qemu import argv_machine
from pyvirt.qemu.argv import build_argv
from pyvirt.xml import fill_defaults, parse_domain
from pyvirt.xml.errors import XMLError

BASE = """<domain type='qemu'><name>g</name><memory unit='MiB'>256</memory><vcpu>1</vcpu>
<os><type arch='x86_64' machine='{machine}'>hvm</type></os>{extra}<devices>{devices}</devices></domain>"""


def _dom(devices: str = "", machine: str = "pc", extra: str = ""):  # noqa: ANN202
    return fill_defaults(parse_domain(BASE.format(devices=devices, machine=machine, extra=extra)))


def _opts(argv: list[str], name: str) -> list[str]:
    return [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == name]


def _blockdevs(argv: list[str]) -> list[dict]:
    return [json.loads(v) for v in _opts(argv, "-blockdev")]


def _dir_disk(device: str, target: str, bus: str, driver: str = "<driver name='qemu' type='fat'/>",
              readonly: str = "<readonly/>") -> str:
    return (f"<disk type='dir' device='{device}'>{driver}<source dir='/srv/share'/>"
            f"<target dev='{target}' bus='{bus}'/>{readonly}</disk>")


# --- <disk type='dir'>: QEMU's vvfat -----------------------------------------------------------

@pytest.mark.parametrize(("device", "target", "bus", "floppy", "frontend"), [
    ("floppy", "fda", "fdc", True, "floppy"),
    ("disk", "vda", "virtio", False, "virtio-blk-pci"),
    ("cdrom", "hdc", "ide", False, "ide-cd"),
])
def test_directory_disk_is_a_read_only_vvfat_node_under_a_raw_format(device, target, bus, floppy, frontend) -> None:
    argv = build_argv(_dom(_dir_disk(device, target, bus)))
    storage, fmt = _blockdevs(argv)
    assert storage == {"driver": "vvfat", "dir": "/srv/share", "floppy": floppy, "rw": False,
                       "node-name": "libvirt-1-storage", "auto-read-only": True, "discard": "unmap"}
    assert (fmt["driver"], fmt["read-only"], fmt["file"]) == ("raw", True, "libvirt-1-storage")
    assert any(f'"driver":"{frontend}"' in d and '"drive":"libvirt-1-format"' in d for d in _opts(argv, "-device"))


def test_directory_disk_keeps_its_source_in_the_xml() -> None:
    xml = _dom(_dir_disk("floppy", "fda", "fdc")).to_xml(inactive=True)
    assert "<disk type=\"dir\" device=\"floppy\">" in xml.replace("'", '"')
    assert "dir=\"/srv/share\"" in xml.replace("'", '"')


@pytest.mark.parametrize(("disk", "message"), [
    (_dir_disk("floppy", "fda", "fdc", driver=""), "storage type 'dir' requires use of storage format 'fat'"),
    (_dir_disk("floppy", "fda", "fdc", driver="<driver name='qemu' type='qcow2'/>"),
     "storage type 'dir' requires use of storage format 'fat'"),
    (_dir_disk("floppy", "fda", "fdc", readonly=""), "virtual FAT storage can't be accessed in read-write mode"),
    (_dir_disk("disk", "vda", "virtio", readonly=""), "virtual FAT storage can't be accessed in read-write mode"),
])
def test_directory_disk_refusals(disk: str, message: str) -> None:
    with pytest.raises(XMLError, match=message):
        _dom(disk)


# --- read-only hard disks on IDE/SATA ------------------------------------------------------------

def _ro_file_disk(device: str, target: str, bus: str) -> str:
    return (f"<disk type='file' device='{device}'><driver name='qemu' type='raw'/><source file='/img/a'/>"
            f"<target dev='{target}' bus='{bus}'/><readonly/></disk>")


@pytest.mark.parametrize(("bus", "target", "machine"), [("ide", "hda", "pc"), ("sata", "sda", "q35")])
def test_read_only_ide_and_sata_hard_disks_are_refused(bus: str, target: str, machine: str) -> None:
    with pytest.raises(XMLError, match=f"readonly {bus} disks are not supported"):
        _dom(_ro_file_disk("disk", target, bus), machine=machine)


@pytest.mark.parametrize(("device", "target", "bus"), [
    ("cdrom", "hdc", "ide"), ("disk", "sda", "scsi"), ("disk", "sda", "usb"), ("floppy", "fda", "fdc"),
    ("disk", "vda", "virtio")])
def test_read_only_disks_elsewhere_are_accepted(device: str, target: str, bus: str) -> None:
    fmt = [b for b in _blockdevs(build_argv(_dom(_ro_file_disk(device, target, bus)))) if b["driver"] == "raw"]
    assert fmt[0]["read-only"] is True


# --- <clock offset='variable'> -----------------------------------------------------------------

def _rtc(extra: str) -> str:
    return next(v for v in _opts(build_argv(_dom(extra=extra)), "-rtc"))


def _base_near(rtc: str, adjust_s: float) -> bool:
    base = dt.datetime.strptime(rtc.split(",")[0], "base=%Y-%m-%dT%H:%M:%S").replace(tzinfo=dt.UTC)
    want = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=adjust_s)
    return abs((base - want).total_seconds()) < 5


def test_variable_clock_without_adjustment_is_still_a_start_time() -> None:
    rtc = _rtc("<clock offset='variable' adjustment='0'/>")
    assert rtc != "base=utc" and _base_near(rtc, 0)


def test_variable_clock_with_localtime_basis_adds_the_hosts_utc_offset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(argv_machine, "_time", types.SimpleNamespace(localtime=lambda: types.SimpleNamespace(
        tm_gmtoff=7200)))
    assert _base_near(_rtc("<clock offset='variable' adjustment='3600' basis='localtime'/>"), 3600 + 7200)
    assert _base_near(_rtc("<clock offset='variable' adjustment='3600' basis='utc'/>"), 3600)


# --- guest NUMA cells: ids in any order, <memory> from the cells -----------------------------------

def _numa_dom(cells: str, memory: str = "<memory unit='MiB'>768</memory>"):  # noqa: ANN202
    xml = (f"<domain type='qemu'><name>g</name>{memory}<vcpu>6</vcpu><os><type arch='x86_64' machine='pc'>hvm</type>"
           f"</os><cpu><numa>{cells}</numa></cpu><devices/></domain>")
    return fill_defaults(parse_domain(xml))


def _cell(cid: int, cpus: str, mib: int = 256) -> str:
    return f"<cell id='{cid}' cpus='{cpus}' memory='{mib}' unit='MiB'/>"


def test_numa_cells_in_any_order_are_kept_and_numbered_by_id() -> None:
    dom = _numa_dom(_cell(0, "0-1") + _cell(2, "2-3") + _cell(1, "4-5"))
    assert [(c.id, c.cpus) for c in dom.cpu.numa_cells] == [(0, "0-1"), (1, "4-5"), (2, "2-3")]
    nodes = _opts(build_argv(dom), "-numa")
    assert [n.split(",memdev")[0] for n in nodes] == [
        "node,nodeid=0,cpus=0-1", "node,nodeid=1,cpus=4-5", "node,nodeid=2,cpus=2-3"]


@pytest.mark.parametrize(("cells", "message"), [
    (_cell(0, "0-1") + _cell(3, "2-3"), "non-contiguous ranges or ranges not starting from 0 are not allowed"),
    (_cell(1, "0-1") + _cell(1, "2-3"), "Duplicate NUMA cell info for cell id '1'"),
])
def test_numa_cell_id_refusals(cells: str, message: str) -> None:
    with pytest.raises(XMLError, match=message):
        _numa_dom(cells)


def test_memory_may_come_from_the_numa_cells_alone() -> None:
    dom = _numa_dom(_cell(1, "3-5", 128) + _cell(0, "0-2", 64), memory="")
    assert (dom.memory, dom.current_memory) == (192 * 1024, 192 * 1024)
    assert _opts(build_argv(dom), "-m") == ["192"]
    with pytest.raises(XMLError, match="Memory size must be specified via <memory> or in the <numa> configuration"):
        parse_domain("<domain type='qemu'><name>g</name><os><type>hvm</type></os><devices/></domain>")


# --- network disks: ssh, and the parts libvirt reads for curl protocols only -----------------------

def _net_disk(proto: str, inner: str = "", name: str = "img") -> str:
    return (f"<disk type='network' device='disk'><driver name='qemu' type='raw'/><source protocol='{proto}' "
            f"name='{name}'><host name='example.org' port='2222'/>{inner}</source><target dev='vda' bus='virtio'/></disk>")


def test_ssh_disk_is_qemus_ssh_node_on_an_untyped_server() -> None:
    storage = _blockdevs(build_argv(_dom(_net_disk("ssh", name="test.img"))))[0]
    assert storage == {"driver": "ssh", "path": "test.img", "server": {"host": "example.org", "port": "2222"},
                       "node-name": "libvirt-1-storage", "auto-read-only": True, "discard": "unmap"}
    default_port = _dom(_net_disk("ssh").replace(" port='2222'", ""))
    assert _blockdevs(build_argv(default_port))[0]["server"]["port"] == "22"
    auth = "<auth username='u'><secret type='iscsi' usage='x'/></auth>"
    with pytest.raises(XMLError, match="<auth> of a network disk with protocol 'ssh'"):
        build_argv(_dom(_net_disk("ssh").replace("<source", auth + "<source")))


@pytest.mark.parametrize("proto", ["nbd", "ssh"])
def test_curl_only_parts_are_dropped_on_other_protocols(proto: str) -> None:
    inner = "<ssl verify='no'/><cookies><cookie name='a'>b</cookie></cookies><readahead size='1024'/><timeout seconds='5'/>"
    dom = _dom(_net_disk(proto, inner))
    storage = _blockdevs(build_argv(dom))[0]
    assert not {"sslverify", "cookie-secret", "readahead", "timeout"} & set(storage)
    xml = dom.to_xml(inactive=True)
    assert not any(tag in xml for tag in ("<ssl", "<cookies", "<readahead", "<timeout"))


def test_curl_node_properties_in_libvirts_order() -> None:
    inner = ("<ssl verify='yes'/><cookies><cookie name='a'>b</cookie></cookies><readahead size='1024'/>"
             "<timeout seconds='5'/>")
    auth = "<auth username='u'><secret type='iscsi' usage='x'/></auth>"
    storage = _blockdevs(build_argv(_dom(_net_disk("https", inner).replace("<source", auth + "<source"))))[0]
    assert list(storage)[:8] == ["driver", "url", "username", "password-secret", "sslverify", "cookie-secret",
                                 "timeout", "readahead"]
    assert storage["sslverify"] is True  # a tristate: 'yes' is written too


def test_a_disks_block_job_mirror_is_accepted_and_dropped() -> None:
    """libvirt reads <mirror> only from its own status XML: a definition drops it, the command
    line never shows it (its disk-mirror-old input, checked with domxml-to-native and define)."""
    disk = ("<disk type='file' device='disk'><source file='/img/a'/><mirror file='/img/copy' format='qcow2' "
            "ready='yes'/><target dev='vda' bus='virtio'/></disk>")
    dom = _dom(disk)
    assert "mirror" not in dom.to_xml(inactive=True)
    assert "/img/copy" not in " ".join(build_argv(dom))


# --- disks: empty sources, auth secret types, SCSI disk vs host device addresses -----------------

@pytest.mark.parametrize("disk", [
    "<disk type='file' device='disk'><target dev='vda' bus='virtio'/></disk>",
    "<disk type='network' device='disk'><driver name='qemu' type='raw'/><target dev='vda' bus='virtio'/></disk>",
])
def test_a_hard_disk_without_source_is_refused(disk: str) -> None:
    with pytest.raises(XMLError, match="missing source information for device vda"):
        _dom(disk)


def test_an_empty_network_cdrom_is_an_empty_drive() -> None:
    disk = ("<disk type='network' device='cdrom'><driver name='qemu' type='raw'/><target dev='hdd' bus='ide'/>"
            "<readonly/></disk>")
    argv = build_argv(_dom(disk))
    assert not _opts(argv, "-blockdev")
    cd = [json.loads(d) for d in _opts(argv, "-device") if '"ide-cd"' in d]
    assert cd == [{"driver": "ide-cd", "bus": "ide.1", "unit": 1, "id": "ide0-1-1"}]


@pytest.mark.parametrize(("secret", "shown"), [("", "<null>")])
def test_an_auth_secret_needs_a_known_type(secret: str, shown: str) -> None:
    disk = (f"<disk type='network' device='disk'><driver name='qemu' type='raw'/><auth username='u'><secret{secret} "
            "usage='x'/></auth><source protocol='iscsi' name='iqn.1992-01.com.example:storage/1'>"
            "<host name='example.org'/></source><target dev='vda' bus='virtio'/></disk>")
    with pytest.raises(XMLError, match=f"unknown secret type '{shown}'"):
        _dom(disk)


def test_a_scsi_disk_named_onto_a_host_devices_address_is_refused() -> None:
    hostdev = ("<hostdev mode='subsystem' type='scsi'><source><adapter name='scsi_host2'/>"
               "<address bus='0' target='0' unit='1'/></source>{addr}</hostdev>")
    disk = "<disk type='block' device='disk'><source dev='/dev/sdx'/><target dev='sdb' bus='scsi'/></disk>"
    ctrl = "<controller type='scsi' index='0' model='virtio-scsi'/>"
    taken = hostdev.format(addr="<address type='drive' controller='0' bus='0' target='0' unit='1'/>")
    with pytest.raises(XMLError, match="using disk target name 'sdb' conflicts with SCSI host device address "
                                       "controller='0' bus='0' target='0' unit='1 "):  # no closing quote: libvirt's
        _dom(disk + taken + ctrl)
    dom = _dom(disk + hostdev.format(addr="") + ctrl)  # an unaddressed host device goes elsewhere
    assert [(h.address.unit) for h in dom.devices.hostdevs] == [0]


# --- host devices and displays: define-time refusals ------------------------------------------------

_MDEV = ("<hostdev mode='subsystem' type='mdev' model='vfio-pci'{extra}><source>"
         "<address uuid='53764d0e-85a0-42b4-af5c-2046b460b1d{n}'/></source>{inner}</hostdev>")


@pytest.mark.parametrize(("devices", "message"), [
    ("<hostdev mode='subsystem' type='scsi_host'><source protocol='vhost' wwpn='naa.5123456789abcde0'/>"
     "<boot order='1'/></hostdev>", "booting from assigned devices is not supported by vhost SCSI devices"),
    (_MDEV.format(extra="", n="c", inner="<boot order='1'/>"),
     "booting from assigned devices is not supported by mediated devices of model vfio-pci"),
    ("<graphics type='vnc'/>" + _MDEV.format(extra=" display='on' ramfb='on'", n="c", inner="")
     + _MDEV.format(extra=" display='on' ramfb='on'", n="d", inner=""),
     "Only one vgpu device can have 'ramfb' enabled"),
    ("<graphics type='spice'><listen type='none'/><gl enable='yes'/></graphics><graphics type='egl-headless'/>",
     "multiple OpenGL displays are not supported by QEMU"),
])
def test_host_device_and_display_refusals(devices: str, message: str) -> None:
    with pytest.raises(XMLError, match=message):
        _dom(devices)


def test_one_ramfb_and_spice_without_gl_beside_egl_headless_are_fine() -> None:
    _dom("<graphics type='vnc'/>" + _MDEV.format(extra=" display='on' ramfb='on'", n="c", inner="")
         + _MDEV.format(extra=" display='on'", n="d", inner=""))
    _dom("<graphics type='spice'><listen type='none'/><gl enable='no'/></graphics><graphics type='egl-headless'/>")


# --- chardev reconnect -------------------------------------------------------------------------------

def _channel(kind: str, source: str) -> str:
    return f"<channel type='{kind}'>{source}<target type='virtio' name='asdf'/></channel>"


def test_reconnect_on_a_tcp_socket_without_mode_is_a_client() -> None:
    ok = _channel("tcp", "<source host='localhost' service='1234'><reconnect enabled='yes' timeout='5'/></source>")
    assert any("reconnect=5" in v for v in _opts(build_argv(_dom(ok)), "-chardev"))
    zero = ok.replace("timeout='5'", "timeout='0'")
    with pytest.raises(XMLError, match="chardev reconnect source timeout cannot be '0'"):
        build_argv(_dom(zero))


def test_a_channel_path_libvirt_generated_is_dropped_and_bound() -> None:
    """qemuDomainChrDefDropDefaultPath: ``…/domain-<old name>/<channel name>`` is libvirt's own path
    (from an old definition): dropped at define, the socket is libvirt's bound one again."""
    generated = "<source mode='connect' path='/tmp/channel/domain-oldname/asdf'/>"
    dom = _dom(_channel("unix", generated))
    assert dom.devices.channels[0].source_path is None
    with pytest.raises(XMLError, match="chardev reconnect is possible only for connect mode"):
        build_argv(_dom(_channel("unix", generated.replace("/>", "><reconnect enabled='yes' timeout='10'/></source>"))))
    own = _dom(_channel("unix", "<source mode='connect' path='/tmp/channel/domain-oldname/other'/>"))
    assert own.devices.channels[0].source_path == "/tmp/channel/domain-oldname/other"  # another name: the user's


# --- huge pages: masters and nodesets ----------------------------------------------------------------

def _pages(pages: str, numa: str = "") -> str:
    return f"<memoryBacking><hugepages>{pages}</hugepages></memoryBacking>" + (f"<cpu><numa>{numa}</numa></cpu>" if numa else "")


def test_without_numa_a_page_for_node_0_is_the_guests_page() -> None:
    dom = _dom(extra=_pages("<page size='2048' unit='KiB' nodeset='0'/>"))
    assert dom.memory_backing.pages[0].nodeset is None
    with pytest.raises(XMLError, match="two master hugepages detected: 2048 and 1048576"):
        _dom(extra=_pages("<page size='1048576' unit='KiB'/><page size='2048' unit='KiB' nodeset='0'/>"))


def test_page_nodesets_may_not_intersect() -> None:
    numa = "<cell id='0' cpus='0' memory='128' unit='MiB'/>"
    with pytest.raises(XMLError, match="nodeset attribute of hugepages of sizes 1048576 and 2048 intersect"):
        _dom(extra=_pages("<page size='2048' unit='KiB' nodeset='0'/><page size='1' unit='G' nodeset='0'/>", numa))


# --- D-Bus character devices -------------------------------------------------------------------------

def test_dbus_chardevs_are_qemus_dbus_backend_on_their_name() -> None:
    devices = ("<serial type='dbus'><source channel='org.qemu.console.serial.0'/><target port='1'/></serial>"
               "<channel type='dbus'><source channel='org.test'/><target type='virtio' name='org.test.port'/></channel>"
               "<graphics type='dbus' p2p='yes'/><redirdev bus='usb' type='dbus'/>")
    dom = _dom(devices)
    assert dom.devices.redirdevs[0].source_channel == "org.qemu.usbredir"  # libvirt's default, written back
    assert "<source channel='org.qemu.usbredir'/>" in dom.to_xml(inactive=True)
    chardevs = [c for c in _opts(build_argv(dom), "-chardev") if c.startswith("dbus")]
    assert chardevs == ["dbus,id=charserial0,name=org.qemu.console.serial.0", "dbus,id=charchannel0,name=org.test",
                        "dbus,id=charredir0,name=org.qemu.usbredir"]


def test_a_dbus_chardev_needs_its_name() -> None:
    with pytest.raises(XMLError, match="Missing source channel attribute for char device"):
        _dom("<serial type='dbus'/><graphics type='dbus'/>")


# --- audio references ----------------------------------------------------------------------------------

def _dbus_display_audio(audio_type: str, ref: int = 1) -> str:
    return (f"<graphics type='dbus' p2p='yes'><audio id='{ref}'/></graphics><audio id='1' type='{audio_type}'>"
            "<input mixingEngine='no'/><output mixingEngine='no'/></audio>")


def test_a_dbus_display_plays_its_dbus_audio() -> None:
    argv = build_argv(_dom(_dbus_display_audio("dbus")))
    assert _opts(argv, "-display") == ["dbus,p2p=on,audiodev=audio1"]
    assert json.loads(_opts(argv, "-audiodev")[0])["driver"] == "dbus"
    with pytest.raises(XMLError, match="The associated audio is not of 'dbus' kind."):
        _dom(_dbus_display_audio("none"))
    with pytest.raises(XMLError, match="no audio device with ID 2"):  # at define, as libvirt 9.0
        _dom(_dbus_display_audio("dbus", ref=2))


def test_a_sound_device_names_an_existing_audio_backend() -> None:
    with pytest.raises(XMLError, match="no audio device with ID 5"):
        _dom("<sound model='ich6'><audio id='5'/></sound><audio id='1' type='none'/>")


# --- NVMe disks and io='native' -------------------------------------------------------------------

def _nvme(extra: str = " managed='no' namespace='2'", addr: str = "<address domain='0x0001' bus='0x02' slot='0x00' function='0x0'/>",
          driver: str = "<driver name='qemu' type='raw'/>") -> str:
    return (f"<disk type='nvme' device='disk'>{driver}<source type='pci'{extra}>{addr}</source>"
            "<target dev='vda' bus='virtio'/></disk>")


def test_an_nvme_disk_is_qemus_nvme_node_on_the_controllers_pci_name() -> None:
    dom = _dom(_nvme())
    storage, fmt = _blockdevs(build_argv(dom))
    assert storage == {"driver": "nvme", "device": "0001:02:00.0", "namespace": 2, "node-name": "libvirt-1-storage",
                       "auto-read-only": True, "discard": "unmap"}
    assert (fmt["driver"], fmt["file"]) == ("raw", "libvirt-1-storage")
    xml = dom.to_xml(inactive=True)
    assert "<source type='pci' managed='no' namespace='2'>" in xml
    assert "<address domain='0x0001' bus='0x02' slot='0x00' function='0x0'/>" in xml


@pytest.mark.parametrize(("disk", "message"), [
    (_nvme(extra=" namespace='0'"), "NVMe namespace can't be zero"),
    (_nvme(extra=" managed='yes'"), "missing 'namespace' attribute to disk source"),
    (_nvme(addr=""), "NVMe disk source is missing address"),
    (_nvme().replace(" type='pci'", ""), "missing 'type' attribute to disk source"),
])
def test_nvme_refusals(disk: str, message: str) -> None:
    with pytest.raises(XMLError, match=message):
        _dom(disk)


def test_nvme_controllers_are_checked_like_pci_host_devices(tmp_path) -> None:
    from pyvirt.api import PyvirtError
    from pyvirt.daemon import hostdev_prep
    from pyvirt.daemon.qemuuser import hostdev_nodes

    fn = tmp_path / "pci" / "0001:02:00.0"
    fn.mkdir(parents=True)
    group = tmp_path / "groups" / "9"
    group.mkdir(parents=True)
    (fn / "iommu_group").symlink_to(group)
    with pytest.raises(PyvirtError, match="does not detach host PCI devices"):
        hostdev_prep.check_pci(_dom(_nvme(extra=" namespace='1'")), tmp_path / "pci")  # managed by default
    with pytest.raises(PyvirtError, match="not bound to vfio-pci"):
        hostdev_prep.check_pci(_dom(_nvme()), tmp_path / "pci")
    assert hostdev_nodes(_dom(_nvme()), pci_root=tmp_path / "pci") == ["/dev/vfio/9"]


@pytest.mark.parametrize(("cache", "ok"), [("", False), (" cache='writeback'", False), (" cache='none'", True),
                                           (" cache='directsync'", True)])
def test_native_io_needs_an_uncached_disk(cache: str, ok: bool) -> None:
    disk = (f"<disk type='file' device='disk'><driver name='qemu' type='raw' io='native'{cache}/>"
            "<source file='/img/a'/><target dev='vda' bus='virtio'/></disk>")
    if ok:
        assert _blockdevs(build_argv(_dom(disk)))[0]["aio"] == "native"
    else:
        with pytest.raises(XMLError, match="io='native' needs either no disk cache or directsync cache mode"):
            _dom(disk)


def test_host_passthrough_needs_kvm() -> None:
    """libvirt 9.0 refuses it for a TCG guest when it builds the command line (QEMU's 'host'
    CPU exists only under KVM): pyvirt wrote -cpu host and QEMU failed at start."""
    with pytest.raises(XMLError, match="CPU mode 'host-passthrough' for x86_64 qemu domain on .* host is not "
                                       "supported by hypervisor"):
        build_argv(_dom(extra="<cpu mode='host-passthrough'/>"))
    kvm = fill_defaults(parse_domain(BASE.format(devices="", machine="pc", extra="<cpu mode='host-passthrough'/>")
                                     .replace("type='qemu'", "type='kvm'")))
    assert _opts(build_argv(kvm), "-cpu")[0].startswith("host")


def test_an_acpi_slic_table_is_handed_to_the_firmware() -> None:
    xml = BASE.format(devices="", machine="pc", extra="").replace(
        "<os><type arch='x86_64' machine='pc'>hvm</type>",
        "<os><type arch='x86_64' machine='pc'>hvm</type><acpi><table type='slic'>/srv/acpi,slic.dat</table></acpi>")
    dom = fill_defaults(parse_domain(xml))
    argv = build_argv(dom)
    assert _opts(argv, "-acpitable") == ["sig=SLIC,file=/srv/acpi,,slic.dat"]  # QEMU's comma escaping
    assert argv.index("-acpitable") == argv.index("-boot") + 2  # right after -boot, as libvirt
    assert "<acpi>\n      <table type='slic'>/srv/acpi,slic.dat</table>\n    </acpi>" in dom.to_xml(inactive=True)
    with pytest.raises(XMLError, match="Missing acpi table type"):
        parse_domain(xml.replace(" type='slic'", ""))


def test_an_empty_genid_gets_a_generation_id_once_at_define() -> None:
    """libvirt makes the value when it reads ``<genid/>`` and keeps it in the definition
    (checked with real libvirt 9.0's define + dumpxml): stable across starts."""
    xml = BASE.format(devices="", machine="pc", extra="").replace("<name>g</name>", "<name>g</name><genid/>")
    dom = fill_defaults(parse_domain(xml))
    assert len(dom.genid) == 36 and f"<genid>{dom.genid}</genid>" in dom.to_xml(inactive=True)
    assert json.loads(_opts(build_argv(dom), "-device")[0]) == {"driver": "vmgenid", "guid": dom.genid, "id": "vmgenid0"}
    again = fill_defaults(parse_domain(dom.to_xml(inactive=True)))
    assert again.genid == dom.genid
    assert fill_defaults(parse_domain(xml)).genid != dom.genid  # each new definition its own
