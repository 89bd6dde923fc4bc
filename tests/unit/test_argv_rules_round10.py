"""libvirt 9.0 rules found on the tenth round of unseen qemuxml2argv probes (libvirt's held-back
inputs and one-feature documents of our own): one small case each, own XML, each checked against
the real libvirt 9.0's ``virsh domxml-to-native`` on this host first.  Most are refusals whose
words or class differed from libvirt's: the words are asserted whole, the class by the error type
(the daemon reports each class with libvirt's prefix: daemon.model.xml_error)."""

from __future__ import annotations

import json

import pytest

from pyvirt.daemon.model import xml_error
from pyvirt.qemu.argv import build_argv
from pyvirt.xml import fill_defaults, parse_domain
from pyvirt.xml.errors import (
    XMLConfigError,
    XMLDetailError,
    XMLError,
    XMLInternalError,
    XMLInvalidArgError,
    XMLNoSourceError,
    XMLValidationError,
)

BASE = """<domain type='qemu'><name>g</name>{pre}<memory unit='KiB'>{memory}</memory><vcpu>2</vcpu>
<os><type arch='x86_64' machine='{machine}'>hvm</type></os>{mid}<devices>{devices}
<memballoon model='none'/></devices></domain>"""
CELLS = ("<cpu><numa><cell id='0' cpus='0' memory='524288' unit='KiB'/>"
         "<cell id='1' cpus='1' memory='524288' unit='KiB'/></numa></cpu>")


def _dom(devices: str = "", pre: str = "", mid: str = "", machine: str = "pc", memory: int = 1048576):
    return fill_defaults(parse_domain(BASE.format(devices=devices, pre=pre, mid=mid, machine=machine,
                                                  memory=memory)))


def _refusal(devices: str = "", pre: str = "", mid: str = "", machine: str = "pc") -> XMLError:
    with pytest.raises(XMLError) as info:
        _dom(devices, pre, mid, machine)
    return info.value


def _said(exc: XMLError) -> str:
    """What the daemon reports, as virsh shows it (less pyvirt's "at line N")."""
    return str(xml_error(exc)).rsplit(" at line ", 1)[0]


def _devices(argv: list[str]) -> list[dict]:
    return [json.loads(argv[i + 1]) for i, a in enumerate(argv[:-1])
            if a == "-device" and argv[i + 1].startswith("{")]


FILE = "<disk type='file' device='disk'><source file='/tmp/{f}'/><target dev='{dev}' bus='{bus}'/>{addr}</disk>"
DRIVE0 = "<address type='drive' controller='0' bus='0' target='0' unit='0'/>"
PCI = "<address type='pci' domain='{d}' bus='{b}' slot='{s}' function='{f}'{m}/>"


# --- disks: addresses and targets ------------------------------------------------------------------

@pytest.mark.parametrize("bus", ["sata", "scsi", "fdc", "ide"])
def test_a_drive_bus_disk_with_another_address_type(bus: str) -> None:
    dev = {"sata": "sda", "scsi": "sda", "fdc": "fda", "ide": "hda"}[bus]
    addr = PCI.format(d=0, b=0, s=5, f=0, m="")
    exc = _refusal(FILE.format(f="a", dev=dev, bus=bus, addr=addr))
    assert isinstance(exc, XMLConfigError)
    assert _said(exc) == (f"unsupported configuration: Invalid address type 'pci' for the disk '{dev}' "
                          f"with the bus type '{bus}'")


def test_duplicate_drive_address_names_the_first_disk() -> None:
    # the first disk gets 0:0:0:0 when addresses are assigned, then meets the second's
    exc = _refusal(FILE.format(f="a", dev="sda", bus="sata", addr="")
                   + FILE.format(f="b", dev="sdb", bus="sata", addr=DRIVE0), machine="q35")
    assert isinstance(exc, XMLConfigError)
    assert _said(exc) == ("unsupported configuration: Found duplicate drive address for disk with target name "
                          "'sda' controller='0' bus='0' target='0' unit='0'")


def test_two_scsi_hostdevs_on_one_drive_address() -> None:
    hd = ("<hostdev mode='subsystem' type='scsi'><source><adapter name='scsi_host0'/>"
          "<address bus='0' target='0' unit='{u}'/></source>"
          "<address type='drive' controller='0' bus='0' target='0' unit='3'/></hostdev>")
    exc = _refusal("<controller type='scsi' model='virtio-scsi'/>" + hd.format(u=0) + hd.format(u=1))
    assert _said(exc) == ("unsupported configuration: SCSI host address controller='0' bus='0' target='0' "
                          "unit='3' in use by another SCSI host device")


@pytest.mark.parametrize(("disks", "pair"), [
    # libvirt keeps disks grouped by bus (the IDE one moves before the USB one) and names the
    # earlier of the pair first
    (FILE.format(f="h", dev="hda", bus="ide", addr="") + FILE.format(f="usb", dev="sda", bus="usb", addr="")
     + FILE.format(f="ide", dev="sda", bus="ide", addr=""), "'/tmp/ide' and '/tmp/usb'"),
    ("<disk type='network' device='disk'><source protocol='nbd' name='vol'><host name='h'/></source>"
     "<target dev='vda' bus='virtio'/></disk>" + FILE.format(f="b", dev="vda", bus="virtio", addr=""),
     "'vol' and '/tmp/b'"),
    (FILE.format(f="b", dev="vda", bus="virtio", addr="")
     + "<disk type='volume' device='disk'><source pool='p' volume='v'/><target dev='vda'/></disk>",
     "'/tmp/b' and '<null>'"),
])
def test_duplicate_target_names_both_sources(disks: str, pair: str) -> None:
    exc = _refusal(disks)
    assert isinstance(exc, XMLValidationError)
    assert _said(exc) == f"XML error: target '{exc.message.split(chr(39))[1]}' duplicated for disk sources {pair}"


# --- PCI addresses ----------------------------------------------------------------------------------

SOUND = "<sound model='ich6'>{addr}</sound>"


@pytest.mark.parametrize("addr", [
    PCI.format(d=0, b=0, s=0, f=0, m=""),
    PCI.format(d=0, b=0, s=0, f=3, m=""),
    PCI.format(d=0, b=0, s=0, f=0, m=" multifunction='on'"),
    "<address type='pci' domain='0' bus='0' function='0'/>",
])
def test_a_pci_address_on_the_host_bridge_slot_is_none(addr: str) -> None:
    # virPCIDeviceAddressIsEmpty: domain, bus and slot 0, whatever the function: assigned anew
    dom = _dom(SOUND.format(addr=addr))
    hda = next(d for d in _devices(build_argv(dom)) if d["driver"] == "intel-hda")
    assert (hda["bus"], hda["addr"]) == ("pci.0", "0x2")
    assert dom.devices.sounds[0].address.slot == 2 and not dom.devices.sounds[0].address.multifunction


def test_a_pci_domain_other_than_0() -> None:
    exc = _refusal(SOUND.format(addr=PCI.format(d=1, b=0, s=5, f=0, m="")))
    assert _said(exc) == "XML error: Invalid PCI address 0001:00:05.0. Only PCI domain 0 is available"


@pytest.mark.parametrize("model, machine", [("pci-root", "pc"), ("pcie-root", "q35")])
def test_a_root_bus_with_an_address(model: str, machine: str) -> None:
    exc = _refusal(f"<controller type='pci' index='0' model='{model}'>{PCI.format(d=0, b=0, s=3, f=0, m='')}"
                   "</controller>", machine=machine)
    assert _said(exc) == "unsupported configuration: pci-root and pcie-root controllers should not have an address"


@pytest.mark.parametrize(("addr", "words"), [
    ("<address type='foo'/>", "unsupported configuration: unknown address type 'foo'"),
    ("<address type='none'/>", "unsupported configuration: unknown address type 'none'"),
    (PCI.format(d=0, b=0, s="0xzz", f=0, m=""),
     "XML error: Invalid value for attribute 'slot' in element 'address': '0xzz'. Expected non-negative integer value"),
    (PCI.format(d=0, b=0, s=-1, f=0, m=""),
     "XML error: Invalid value for attribute 'slot' in element 'address': '-1'. Expected non-negative integer value"),
    (PCI.format(d=0, b=0, s=5, f=0, m=" multifunction='maybe'"),
     "XML error: Invalid value for attribute 'multifunction' in element 'address': 'maybe'."),
])
def test_bad_address_values_in_libvirts_words(addr: str, words: str) -> None:
    assert _said(_refusal(SOUND.format(addr=addr))) == words


def test_a_negative_queue_count() -> None:
    exc = _refusal("<interface type='user'><model type='virtio'/><driver queues='-5'/></interface>")
    assert _said(exc) == ("XML error: Invalid value for attribute 'queues' in element 'driver': '-5'. "
                          "Expected non-negative integer value")


# --- <cputune> --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("tune", "cls", "words"), [
    ("<iothreadpin iothread='3' cpuset='0'/>", XMLConfigError, "Cannot find 'iothread' : 3"),
    ("<iothreadsched iothreads='2' scheduler='batch'/>", XMLConfigError, "Cannot find 'iothread' : 2"),
    ("<iothreadpin cpuset='0'/>", XMLError, "Missing required attribute 'iothread' in element 'iothreadpin'"),
    ("<vcpupin cpuset='0'/>", XMLError, "Missing required attribute 'vcpu' in element 'vcpupin'"),
    ("<vcpupin vcpu='0'/>", XMLInternalError, "missing cpuset for vcpupin"),
    ("<emulatorpin cpuset=''/>", XMLInvalidArgError, "Failed to parse bitmap ''"),
    ("<vcpupin vcpu='0' cpuset='0'/><vcpupin vcpu='0' cpuset='1'/>", XMLInternalError,
     "duplicate vcpupin for vcpu '0'"),
    ("<iothreadpin iothread='1' cpuset='0'/><iothreadpin iothread='1' cpuset='1'/>", XMLInternalError,
     "duplicate iothreadpin for same iothread '1'"),
    ("<vcpusched vcpus='5' scheduler='fifo' priority='1'/>", XMLConfigError,
     "vCPU '5' is not present in domain definition"),
    ("<vcpusched vcpus='0-1' scheduler='batch'/><vcpusched vcpus='1' scheduler='batch'/>", XMLDetailError,
     "'vcpusched' attributes 'vcpus' must not overlap"),
    ("<vcpusched vcpus='0' scheduler='fifo'/>", XMLError,
     "Missing required attribute 'priority' in element 'vcpusched'"),
    ("<vcpusched vcpus='0' priority='1'/>", XMLError, "Missing required attribute 'scheduler' in element 'vcpusched'"),
    ("<emulatorsched scheduler='rr'/>", XMLError, "Missing required attribute 'priority' in element 'emulatorsched'"),
    ("<shares>-1</shares>", XMLError, "can't parse cputune shares value"),
    ("<period>500</period>", XMLConfigError, "Value of cputune 'period' must be in range [1000, 1000000]"),
    ("<global_period>2000000</global_period>", XMLConfigError,
     "Value of cputune 'global_period' must be in range [1000, 1000000]"),
    ("<emulator_quota>1</emulator_quota>", XMLConfigError,
     "Value of cputune 'emulator_quota' must be in range [1000, 17592186044415]"),
])
def test_cputune_refusals(tune: str, cls: type, words: str) -> None:
    exc = _refusal(pre="<iothreads>1</iothreads>", mid=f"<cputune>{tune}</cputune>")
    assert type(exc) is cls and exc.message == words


# --- NUMA cells and <numatune> --------------------------------------------------------------------

@pytest.mark.parametrize(("tune", "cls", "words"), [
    ("<memory mode='strict' nodeset='0,^0'/>", XMLConfigError, "Invalid value of 'nodeset': 0,^0"),
    ("<memnode cellid='0' mode='strict' nodeset='1,^1'/>", XMLConfigError, "Invalid value of 'nodeset': 1,^1"),
    ("<memory mode='foo' nodeset='0'/>", XMLConfigError, "Unsupported NUMA memory tuning mode 'foo'"),
    ("<memory placement='foo'/>", XMLConfigError, "Unsupported NUMA memory placement mode 'foo'"),
    ("<memory mode='strict'/>", XMLConfigError,
     "nodeset for NUMA memory tuning must be set if 'placement' is 'static'"),
    ("<memory mode='strict' placement='auto'/><memnode cellid='0' mode='strict' nodeset='0'/>", XMLConfigError,
     "Per-node binding is not compatible with automatic NUMA placement."),
    ("<memnode mode='strict' nodeset='0'/>", XMLError, "Missing required attribute 'cellid' in element 'memnode'"),
])
def test_numatune_refusals(tune: str, cls: type, words: str) -> None:
    exc = _refusal(mid=CELLS + f"<numatune>{tune}</numatune>")
    assert type(exc) is cls and exc.message == words


def _cells(cell0: str, cell1: str = "<cell id='1' cpus='1' memory='524288' unit='KiB'/>") -> str:
    return f"<cpu><numa>{cell0}{cell1}</numa></cpu>"


@pytest.mark.parametrize(("sibling", "words"), [
    ("<sibling id='1' value='300'/>", "'value 300' is invalid for 'sibling id 1' under NUMA 'cell id 0'"),
    ("<sibling value='20'/>", "Missing required attribute 'id' in element 'sibling'"),
    ("<sibling id='1'/>", "Missing required attribute 'value' in element 'sibling'"),
])
def test_numa_distance_refusals(sibling: str, words: str) -> None:
    cell = f"<cell id='0' cpus='0' memory='524288' unit='KiB'><distances>{sibling}</distances></cell>"
    assert _refusal(mid=_cells(cell)).message == words


def test_numa_cpu_ids_past_the_vcpus() -> None:
    exc = _refusal(mid=_cells("<cell id='0' cpus='0' memory='524288' unit='KiB'/>",
                              "<cell id='1' cpus='5' memory='524288' unit='KiB'/>"))
    assert isinstance(exc, XMLInternalError) and exc.message == "CPU IDs in <numa> exceed the <vcpu> count"


def test_a_numa_cell_whose_cpus_select_none_has_none() -> None:
    # libvirt accepts it; the first cell then takes the vCPUs no cell names (NumaCPUsRectify)
    dom = _dom(mid=_cells("<cell id='0' cpus='0,^0' memory='524288' unit='KiB'/>"))
    argv = build_argv(dom)
    assert "node,nodeid=0,cpus=0,memdev=ram-node0" in argv


# --- memory: sizes, huge pages, memoryBacking, iothreads ----------------------------------------------

@pytest.mark.parametrize(("pre", "cls", "words"), [
    ("<memtune><hard_limit unit='KiB'>-5</hard_limit></memtune>", XMLError,
     "Invalid value '-5' for element or attribute './memtune/hard_limit[1]'"),
    ("<memtune><soft_limit unit='XB'>5</soft_limit></memtune>", XMLInvalidArgError, "unknown suffix 'XB'"),
    ("<maxMemory slots='16' unit='KiB'>100</maxMemory>", XMLError,
     "maximum memory size must be equal or greater than the actual memory size"),
    ("<maxMemory unit='KiB'>4194304</maxMemory>", XMLError,
     "both maximum memory size and memory slot count must be specified"),
    ("<maxMemory slots='-1' unit='KiB'>4194304</maxMemory>", XMLError, "Failed to parse memory slot count"),
    ("<iothreads>-1</iothreads>", XMLError, "invalid iothreads count '-1'"),
    ("<iothreads>1</iothreads><iothreadids><iothread id='1' thread_pool_max='0'/></iothreadids>", XMLConfigError,
     "thread_pool_max must be a positive integer"),
    ("<blkiotune><device><path>/dev/sda</path><read_bytes_sec>x</read_bytes_sec></device></blkiotune>",
     XMLConfigError, "could not parse read bytes sec x"),
    ("<memoryBacking><hugepages><page size='0'/></hugepages></memoryBacking>", XMLDetailError,
     "hugepage size can't be zero"),
    ("<memoryBacking><hugepages><page/></hugepages></memoryBacking>", XMLError,
     "missing element or attribute './@size'"),
    ("<memoryBacking><hugepages><page size='2048' unit='foo'/></hugepages></memoryBacking>", XMLInvalidArgError,
     "unknown suffix 'foo'"),
    ("<memoryBacking><hugepages><page size='2048'/><page size='1048576'/></hugepages></memoryBacking>",
     XMLDetailError, "two master hugepages detected: 1048576 and 2048"),
    ("<memoryBacking><hugepages><page size='2048' nodeset='1'/></hugepages></memoryBacking>", XMLDetailError,
     "hugepages: node 1 not found"),
    ("<memoryBacking><hugepages/><source type='anonymous'/></memoryBacking>", XMLConfigError,
     "hugepages are not allowed with anonymous memory source"),
    ("<memoryBacking><source type='foo'/></memoryBacking>", XMLConfigError,
     "unknown memoryBacking/source/type 'foo'"),
    ("<memoryBacking><access mode='foo'/></memoryBacking>", XMLConfigError,
     "unknown memoryBacking/access/mode 'foo'"),
    ("<memoryBacking><allocation mode='foo'/></memoryBacking>", XMLConfigError,
     "unknown memoryBacking/allocation/mode 'foo'"),
])
def test_memory_refusals(pre: str, cls: type, words: str) -> None:
    exc = _refusal(pre=pre)
    assert type(exc) is cls and exc.message == words


def test_iothread_pool_sizes_are_read_as_signed() -> None:
    exc = _refusal(pre="<iothreads>1</iothreads><iothreadids><iothread id='1' thread_pool_min='-1'/></iothreadids>")
    assert _said(exc) == ("XML error: Invalid value for attribute 'thread_pool_min' in element 'iothread': '-1'. "
                          "Expected non-negative value")


def test_zero_preallocation_threads_is_none() -> None:
    argv = build_argv(_dom(pre="<memoryBacking><allocation mode='immediate' threads='0'/></memoryBacking>"))
    assert "prealloc-threads" not in " ".join(argv)


# --- character devices ------------------------------------------------------------------------------

@pytest.mark.parametrize(("devices", "cls", "words"), [
    ("<serial type='tcp'><source mode='connect' host='h' service='1'><reconnect enabled='yes' timeout='0'/>"
     "</source></serial>", XMLInvalidArgError, "chardev reconnect source timeout cannot be '0'"),
    ("<serial type='tcp'><source mode='connect' host='h' service='1'/><protocol type='foo'/></serial>",
     XMLConfigError, "Unknown protocol 'foo'"),
    ("<channel type='pty'><target type='guestfwd' address='10.0.2.1'/></channel>", XMLError,
     "Missing required attribute 'port' in element 'target'"),
])
def test_chardev_refusals(devices: str, cls: type, words: str) -> None:
    exc = _refusal(devices)
    assert type(exc) is cls and exc.message == words


def test_a_serial_port_of_minus_one_is_none() -> None:
    dom = _dom("<serial type='pty'><target port='-1'/></serial>")
    assert dom.devices.serials[0].target_port == 0


def test_a_channel_state_is_not_read_in_a_definition() -> None:
    _dom("<channel type='pty'><target type='virtio' name='a' state='foo'/></channel>")


@pytest.mark.parametrize("attr", ["ports='-1'", "vectors='-1'"])
def test_virtio_serial_counts_are_read_as_signed(attr: str) -> None:
    exc = _refusal(f"<controller type='virtio-serial' {attr}/>")
    name = attr.split("=")[0]
    assert _said(exc) == (f"XML error: Invalid value for attribute '{name}' in element 'controller': '-1'. "
                          "Expected non-negative value")


# --- graphics ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("graphics", ["<graphics type='vnc' port='100'/>", "<graphics type='vnc' port='0'/>",
                                      "<graphics type='vnc' port='70000'/>",
                                      "<graphics type='vnc' port='-1' autoport='no'/>"])
def test_a_vnc_port_outside_its_range_is_refused_when_built(graphics: str) -> None:
    dom = _dom(graphics)  # defined as libvirt defines it
    with pytest.raises(XMLConfigError, match=r"^vnc port must be in range \[5900,65535\]"):
        build_argv(dom)


def test_vnc_ignores_an_autoport_that_is_not_yes_or_no() -> None:
    dom = _dom("<graphics type='vnc' port='5901' autoport='maybe'/>")
    assert dom.devices.graphics[0].port == 5901 and not dom.devices.graphics[0].autoport
    argv = build_argv(dom)
    assert argv[argv.index("-vnc") + 1].startswith("127.0.0.1:1,")
    exc = _refusal("<graphics type='spice' autoport='maybe'/>")
    assert _said(exc) == "XML error: Invalid value for attribute 'autoport' in element 'graphics': 'maybe'."


@pytest.mark.parametrize(("graphics", "cls", "words"), [
    ("<graphics type='vnc' passwd='x' connected='foo'/>", XMLConfigError, "unknown connected value foo"),
    ("<graphics type='vnc' passwd='x' connected='fail'/>", XMLConfigError, "VNC supports connected='keep' only"),
    ("<graphics type='vnc' passwd='x' passwdValidTo='bad'/>", XMLInternalError,
     "cannot parse password validity time 'bad', expect YYYY-MM-DDTHH:MM:SS"),
])
def test_display_password_refusals(graphics: str, cls: type, words: str) -> None:
    exc = _refusal(graphics)
    assert type(exc) is cls and exc.message == words


def test_connected_without_a_password_is_not_read() -> None:
    assert _dom("<graphics type='spice' connected='foo'/>").devices.graphics[0].connected is None


# --- <os> ---------------------------------------------------------------------------------------------

def _os_refusal(os_body: str, machine: str = "pc", firmware: str = "") -> XMLError:
    doc = (f"<domain type='qemu'><name>g</name><memory>1048576</memory><os{firmware}>"
           f"<type arch='x86_64' machine='{machine}'>hvm</type>{os_body}</os><devices/></domain>")
    with pytest.raises(XMLError) as info:
        fill_defaults(parse_domain(doc))
    return info.value


@pytest.mark.parametrize(("body", "firmware", "cls", "words"), [
    ("<smbios mode='foo'/>", "", XMLConfigError, "unknown smbios mode 'foo'"),
    ("<acpi><table type='foo'>/t</table></acpi>", "", XMLError, "Unknown acpi table type: foo"),
    ("<boot/>", "", XMLError, "Missing required attribute 'dev' in element 'boot'"),
    ("<nvram>/tmp/n</nvram>", "", XMLDetailError, "no loader path specified and firmware auto selection disabled"),
    ("<firmware><feature enabled='yes'/></firmware>", " firmware='efi'", XMLError,
     "Missing required attribute 'name' in element 'feature'"),
    ("", " firmware='foo'", XMLError, "unknown firmware value foo"),
])
def test_os_refusals(body: str, firmware: str, cls: type, words: str) -> None:
    exc = _os_refusal(body, firmware=firmware)
    assert type(exc) is cls and exc.message == words


@pytest.mark.parametrize(("type_", "words"), [("<type arch='foo' machine='pc'>hvm</type>", "Unknown architecture foo"),
                                              ("<type arch='x86_64' machine='pc'>foo</type>", "unknown OS type 'foo'")])
def test_os_type_and_arch_refusals(type_: str, words: str) -> None:
    with pytest.raises(XMLConfigError) as info:
        parse_domain(f"<domain type='qemu'><name>g</name><memory>1048576</memory><os>{type_}</os></domain>")
    assert info.value.message == words


def test_a_bios_useserial_that_is_not_yes_or_no_is_ignored() -> None:
    doc = ("<domain type='qemu'><name>g</name><memory>1048576</memory><os><type arch='x86_64' machine='pc'>hvm"
           "</type><bios useserial='maybe'/></os><devices/></domain>")
    assert fill_defaults(parse_domain(doc)).os.bios_useserial is None


def test_missing_domain_and_sysinfo_types() -> None:
    with pytest.raises(XMLInternalError, match="^missing domain type attribute"):
        parse_domain("<domain><name>g</name><memory>1048576</memory><os><type>hvm</type></os></domain>")
    exc = _refusal(pre="<sysinfo><system><entry name='vendor'>x</entry></system></sysinfo>")
    assert exc.message == "Missing required attribute 'type' in element 'sysinfo'"


# --- other devices ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("devices", "cls", "words"), [
    ("<filesystem type='mount'><target dir='t'/></filesystem>", XMLNoSourceError,
     "missing source information for device t"),
    ("<disk type='file' device='disk'><target dev='vda' bus='virtio'/></disk>", XMLNoSourceError,
     "missing source information for device vda"),
    ("<shmem/>", XMLValidationError, "shmem element must contain 'name' attribute"),
    ("<shmem name='a/b'/>", XMLConfigError, "shmem name cannot include '/' character"),
    ("<watchdog/>", XMLInternalError, "watchdog must contain model name"),
    ("<tpm model='tpm-tis'/>", XMLValidationError, "missing TPM device backend"),
    ("<sound model='ich6'><codec type='foo'/></sound>", XMLConfigError, "unknown codec type 'foo'"),
    ("<hub type='foo'/>", XMLConfigError, "unknown hub device type 'foo'"),
    ("<rng model='virtio'><backend model='egd' type='foo'/></rng>", XMLConfigError,
     "unknown backend type 'foo' for egd"),
    ("<rng model='virtio'><rate bytes='x'/><backend model='random'>/dev/urandom</backend></rng>", XMLError,
     "invalid RNG rate bytes value"),
    ("<video><model type='vga' vram='x'/></video>", XMLError, "cannot parse video vram 'x'"),
    ("<video><model type='virtio' heads='-1'/></video>", XMLInternalError, "cannot parse video heads '-1'"),
])
def test_device_refusals(devices: str, cls: type, words: str) -> None:
    exc = _refusal(devices)
    assert type(exc) is cls and exc.message == words


def test_no_source_is_reported_bare() -> None:
    exc = _refusal("<filesystem type='mount'><target dir='t'/></filesystem>")
    assert _said(exc) == "missing source information for device t"


def test_a_filesystem_create_mode_that_is_not_octal() -> None:
    exc = _refusal("<filesystem type='mount' fmode='999'><source dir='/s'/><target dir='t'/></filesystem>")
    assert _said(exc) == ("XML error: Invalid value for attribute 'fmode' in element 'filesystem': '999'. "
                          "Expected non-negative integer value")


def test_zero_rng_rate_and_qxl_heads_build_nothing() -> None:
    argv = build_argv(_dom("<rng model='virtio'><rate bytes='0'/><backend model='random'>/dev/urandom</backend>"
                           "</rng><video><model type='qxl' heads='0'/></video>"))
    devices = _devices(argv)
    rng = next(d for d in devices if d["driver"] == "virtio-rng-pci")
    qxl = next(d for d in devices if d["driver"] == "qxl-vga")
    assert "max-bytes" not in rng and "period" not in rng and "max_outputs" not in qxl


def test_a_video_primary_other_than_yes_is_ignored() -> None:
    dom = _dom("<video><model type='cirrus' primary='maybe'/></video>")
    assert dom.devices.videos[0].model_primary is True  # the only video: primary by position


# --- disks: sources, backing layers, tuning -------------------------------------------------------------

QCOW = "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/tmp/a'/><target dev='vda' bus='virtio'/>{}</disk>"
NET = "<disk type='network' device='disk'><source protocol='{p}' name='x'>{inner}</source><target dev='vda' bus='virtio'/></disk>"


@pytest.mark.parametrize(("devices", "cls", "words"), [
    (QCOW.format("<backingStore type='file'><source file='/tmp/b'/></backingStore>"), XMLError,
     "missing disk backing store format"),
    (QCOW.format("<backingStore type='block'><format type='raw'/></backingStore>"), XMLError,
     "missing disk backing store source"),
    (QCOW.format("<backingStore type='foo'><format type='raw'/></backingStore>"), XMLError,
     "missing disk backing store source"),
    (QCOW.format("<backingStore type='file'><format type='foo'/><source file='/tmp/b'/></backingStore>"), XMLError,
     "unknown storage source format 'foo'"),
    ("<disk type='file' device='disk'><driver name='qemu' type='foo'/><source file='/tmp/a'/>"
     "<target dev='vda' bus='virtio'/></disk>", XMLConfigError, "unknown driver format value 'foo'"),
    ("<disk type='network' device='disk'><source name='x'/><target dev='vda' bus='virtio'/></disk>", XMLError,
     "Missing required attribute 'protocol' in element 'source'"),
    (NET.format(p="nbd", inner="<host name='h' port='x'/>"), XMLInvalidArgError, "failed to parse port number 'x'"),
    (NET.format(p="nbd", inner="<host name='h' transport='foo'/>"), XMLConfigError,
     "unknown protocol transport type 'foo'"),
    (NET.format(p="http", inner="<host name='h'/><cookies><cookie name='a'>b c</cookie></cookies>"), XMLError,
     "value of cookie 'a' contains invalid characters"),
    (NET.format(p="http", inner="<host name='h'/><cookies><cookie name='a b'>c</cookie></cookies>"), XMLError,
     "cookie name 'a b' contains invalid characters"),
    (NET.format(p="http", inner="<host name='h'/><cookies><cookie name='a'>1</cookie><cookie name='a'>2</cookie>"
                              "</cookies>"), XMLError, "duplicate cookie 'a'"),
    (QCOW.format("<iotune><total_bytes_sec>-1</total_bytes_sec></iotune>"), XMLError,
     "disk iotune field 'total_bytes_sec' must be an integer"),
    (QCOW.format("<wwn>xyz</wwn>"), XMLInternalError, "Malformed wwn: xyz"),
    (QCOW.format("<encryption format='foo'/>"), XMLConfigError, "unknown volume encryption format type foo"),
    ("<disk type='file' device='disk'><source file='/tmp/a'><slices><slice type='storage' offset='x' size='1'/>"
     "</slices></source><target dev='vda' bus='virtio'/></disk>", XMLError,
     "malformed value 'x' of 'offset' attribute of slice"),
])
def test_disk_source_refusals(devices: str, cls: type, words: str) -> None:
    exc = _refusal(devices)
    assert type(exc) is cls and exc.message == words


def test_an_nbd_source_needs_one_host() -> None:
    with pytest.raises(XMLInternalError, match="^nbd protocol accepts only one host"):
        build_argv(_dom(NET.format(p="nbd", inner="")))


def test_a_backing_store_without_type_ends_the_chain() -> None:
    dom = _dom(QCOW.format("<backingStore><format type='raw'/><source file='/tmp/b'/></backingStore>"))
    assert "/tmp/b" not in " ".join(build_argv(dom))


@pytest.mark.parametrize("zero", ["<driver name='qemu' type='raw' queues='0'/>"])
def test_zero_disk_queues_is_none(zero: str) -> None:
    dom = _dom(f"<disk type='file' device='disk'>{zero}<source file='/tmp/a'/><target dev='vda' bus='virtio'/></disk>")
    blk = next(d for d in _devices(build_argv(dom)) if d["driver"] == "virtio-blk-pci")
    assert "num-queues" not in blk


def test_a_slice_of_another_type_is_not_read() -> None:
    dom = _dom("<disk type='file' device='disk'><source file='/tmp/a'><slices><slice type='foo' offset='0' "
               "size='1'/></slices></source><target dev='vda' bus='virtio'/></disk>")
    assert dom.devices.disks[0].slice_offset is None


def test_zero_curl_readahead_and_timeout_are_none() -> None:
    argv = " ".join(build_argv(_dom(NET.format(p="http", inner="<host name='h'/><readahead size='0'/>"
                                                          "<timeout seconds='0'/>"))))
    assert "readahead" not in argv and "timeout" not in argv


# --- NICs and host devices -------------------------------------------------------------------------------

USER_NIC = "<interface type='user'><model type='virtio'/>{}</interface>"
MDEV = "<hostdev mode='subsystem' type='mdev' model='vfio-pci'><source>{}</source></hostdev>"


@pytest.mark.parametrize(("devices", "cls", "words"), [
    (USER_NIC.format("<coalesce><rx><frames max='x'/></rx></coalesce>"), XMLDetailError,
     "cannot parse value 'x' for coalesce parameter"),
    (USER_NIC.format("<bandwidth><inbound average='x'/></bandwidth>"), XMLConfigError,
     "could not convert bandwidth average value 'x'"),
    (USER_NIC.format("<bandwidth><inbound peak='10'/></bandwidth>"), XMLDetailError,
     "Missing mandatory average or floor attributes"),
    (USER_NIC.format("<mtu size='x'/>"), XMLError, "malformed mtu size"),
    (USER_NIC.format("<teaming type='transient'/>"), XMLConfigError,
     "teaming persistent attribute must be set if teaming type is 'transient'"),
    ("<interface type='vhostuser'><source type='foo' path='/s' mode='client'/><model type='virtio'/></interface>",
     XMLConfigError, "Type='foo' unsupported for <interface type='vhostuser'>"),
    ("<hostdev mode='subsystem' type='usb'><source/></hostdev>", XMLInternalError,
     "USB host device is missing bus/device information"),
    ("<hostdev mode='subsystem' type='usb'><source><vendor id='0x1'/></source></hostdev>", XMLInternalError,
     "missing product"),
    ("<hostdev mode='subsystem' type='scsi'><source><adapter name='scsi_host0'/></source></hostdev>", XMLError,
     "'address' must be specified for scsi hostdev source"),
    ("<hostdev mode='subsystem' type='scsi_host'><source protocol='foo' wwpn='naa.5123456789abcde0'/></hostdev>",
     XMLConfigError, "Unknown scsi_host subsystem protocol 'foo'"),
    (MDEV.format("<address domain='0' bus='6' slot='0x12' function='5'/>"), XMLConfigError,
     "Missing 'uuid' attribute for element <address>"),
    (MDEV.format("<address uuid='x'/>"), XMLInternalError, "Cannot parse uuid attribute of element <address>"),
    ("<controller type='usb' index='0'/><input type='mouse' bus='usb'><address type='usb' bus='0' port='1.2.3'/>"
     "</input>", XMLValidationError, "there is no hub at port 1 in USB address bus: 0 port: 1.2.3"),
])
def test_nic_and_hostdev_refusals(devices: str, cls: type, words: str) -> None:
    exc = _refusal(devices)
    assert type(exc) is cls and exc.message == words


def test_a_vhostuser_nic_without_path() -> None:
    dom = _dom("<interface type='vhostuser'><source type='unix' mode='client'/><model type='virtio'/></interface>")
    with pytest.raises(XMLError, match="^Missing required attribute 'path' in element 'source'"):
        build_argv(dom)


def test_zero_mtu_is_none_and_a_hostdev_managed_other_than_yes_is_not_managed() -> None:
    dom = _dom(USER_NIC.format("<mtu size='0'/>") + "<hostdev mode='subsystem' type='pci' managed='maybe'><source>"
               "<address domain='0' bus='1' slot='0' function='0'/></source></hostdev>")
    assert dom.devices.interfaces[0].mtu_size is None and not dom.devices.hostdevs[0].managed


# --- CPU, features, clock, lifecycle, sysinfo ---------------------------------------------------------------

@pytest.mark.parametrize(("mid", "cls", "words"), [
    ("<cpu><model fallback='foo'>qemu64</model></cpu>", XMLConfigError, "Invalid fallback attribute"),
    ("<cpu><model>qemu64</model><feature policy='foo' name='sse2'/></cpu>", XMLConfigError,
     "Invalid CPU feature policy"),
    ("<cpu><cache level='5' mode='emulate'/></cpu>", XMLError, "invalid CPU cache level, must be in range [1,3]"),
    ("<clock offset='variable' basis='foo'/>", XMLConfigError, "unknown clock basis 'foo'"),
    ("<on_reboot>coredump-destroy</on_reboot>", XMLConfigError,
     "Lifecycle event 'reboot' doesn't support 'coredump-destroy' action"),
    ("<features><smm state='on'><tseg unit='foo'>48</tseg></smm></features>", XMLInvalidArgError,
     "unknown suffix 'foo'"),
    ("<features><tcg><tb-cache unit='MiB'>x</tb-cache></tcg></features>", XMLError,
     "Invalid value 'x' for element or attribute './tb-cache'"),
])
def test_cpu_feature_clock_refusals(mid: str, cls: type, words: str) -> None:
    exc = _refusal(mid=mid)
    assert type(exc) is cls and exc.message == words


def test_a_malformed_genid() -> None:
    exc = _refusal(pre="<genid>x</genid>")
    assert isinstance(exc, XMLInternalError) and exc.message == "malformed genid element"


def test_a_tseg_without_smm_on_is_not_read() -> None:
    dom = _dom(mid="<features><smm state='off'><tseg unit='MiB'>48</tseg></smm></features>", machine="q35")
    assert dom.features.smm_tseg is None and "extended-tseg" not in " ".join(build_argv(dom))


def test_an_unknown_cpu_model_is_an_internal_error() -> None:
    with pytest.raises(XMLInternalError, match="^Unknown CPU model foo"):
        build_argv(_dom(mid="<cpu><model>foo</model></cpu>"))


def test_a_disk_on_a_scsi_hostdev_address_in_libvirts_words() -> None:
    exc = _refusal("<controller type='scsi' model='virtio-scsi'/><disk type='block' device='disk'>"
                   "<source dev='/dev/sdx'/><target dev='sda' bus='scsi'/></disk><hostdev mode='subsystem' "
                   "type='scsi'><source><adapter name='scsi_host2'/><address bus='0' target='0' unit='1'/></source>"
                   "<address type='drive' controller='0' bus='0' target='0' unit='0'/></hostdev>")
    # libvirt 9.0's message has no closing quote after the unit
    assert exc.message.endswith("controller='0' bus='0' target='0' unit='0")


# --- controllers, memory devices, <boot> ---------------------------------------------------------------------

MEMDEV = "<memory model='dimm'>{}<target><size unit='KiB'>{size}</size>{node}</target></memory>"


@pytest.mark.parametrize(("devices", "cls", "words"), [
    ("<controller type='pci' model='pci-bridge' index='1'><target chassisNr='0'/></controller>", XMLConfigError,
     "PCI controller chassisNr '0' out of range - must be 1-255"),
    ("<controller type='pci' index='1'/>", XMLInternalError, "PCI controller model was not set correctly"),
    ("<controller type='pci' model='pci-expander-bus' index='1'><target><node>x</node></target></controller>",
     XMLError, "invalid NUMA node in target"),
    ("<controller type='usb' model='ich9-ehci1' index='0'><master startport='0'/></controller>", XMLDetailError,
     "No master USB controller specified"),
    ("<disk type='file' device='disk'><source file='/tmp/a'/><target dev='vda' bus='virtio'/><boot/></disk>",
     XMLError, "Missing required attribute 'order' in element 'boot'"),
])
def test_controller_and_boot_refusals(devices: str, cls: type, words: str) -> None:
    exc = _refusal(devices)
    assert type(exc) is cls and exc.message == words


@pytest.mark.parametrize(("attr", "words"), [
    ("index='x'", "'x'. Expected integer value"), ("index='-1'", "'-1'. Expected non-negative value")])
def test_a_controller_index_is_read_as_a_signed_int(attr: str, words: str) -> None:
    exc = _refusal(f"<controller type='usb' {attr}/>")
    assert _said(exc) == f"XML error: Invalid value for attribute 'index' in element 'controller': {words}"


@pytest.mark.parametrize(("size", "node", "src", "words"), [
    ("x", "<node>0</node>", "", "Invalid value 'x' for element or attribute './size'"),
    ("524288", "<node>x</node>", "", "invalid value of memory device node"),
    ("524288", "<node>0</node>", "<source><pagesize unit='KiB'>x</pagesize></source>",
     "Invalid value 'x' for element or attribute './pagesize'"),
])
def test_memory_device_value_refusals(size: str, node: str, src: str, words: str) -> None:
    exc = _refusal(MEMDEV.format(src, size=size, node=node), pre="<maxMemory slots='4' unit='KiB'>4194304</maxMemory>",
                   mid=CELLS)
    assert exc.message == words


def test_zero_scsi_driver_values_are_none_and_zero_xhci_ports_are_kept() -> None:
    dom = _dom("<controller type='scsi' model='virtio-scsi'><driver queues='0' cmd_per_lun='0'/></controller>"
               "<controller type='usb' model='qemu-xhci' ports='0'/>")
    devices = _devices(build_argv(dom))
    scsi = next(d for d in devices if d["driver"] == "virtio-scsi-pci")
    xhci = next(d for d in devices if d["driver"] == "qemu-xhci")
    assert "num_queues" not in scsi and "cmd_per_lun" not in scsi and (xhci["p2"], xhci["p3"]) == (0, 0)


def test_two_listens_on_one_display_are_refused() -> None:
    exc = _refusal("<graphics type='vnc'><listen type='address' address='0.0.0.0'/>"
                   "<listen type='address' address='::'/></graphics>")
    assert isinstance(exc, XMLConfigError)
    assert exc.message == "QEMU does not support multiple listens for one graphics device."


def test_a_spice_listen_address_without_a_port_is_not_written() -> None:
    argv = build_argv(_dom("<graphics type='spice' autoport='no'><listen type='address' address='::1'/></graphics>"))
    spice = argv[argv.index("-spice") + 1]
    assert spice.startswith("port=0,") and "addr=" not in spice


def test_spice_secure_channels_without_tls_are_a_configuration_refusal() -> None:
    with pytest.raises(XMLConfigError, match="^spice secure channels set in XML configuration, but TLS connection "
                                             "is not available"):
        build_argv(_dom("<graphics type='spice'><channel name='main' mode='secure'/></graphics>"))


@pytest.mark.parametrize(("mid", "cls", "words"), [
    ("<features><hyperv mode='custom'><relaxed/></hyperv></features>", XMLError,
     "Missing required attribute 'state' in element 'relaxed'"),
    ("<features><hyperv mode='custom'><spinlocks state='on'/></hyperv></features>", XMLError,
     "Missing required attribute 'retries' in element 'spinlocks'"),
    ("<features><hyperv mode='custom'><foo state='on'/></hyperv></features>", XMLConfigError,
     "unsupported HyperV Enlightenment feature: foo"),
    ("<features><kvm><hidden/></kvm></features>", XMLError, "Missing required attribute 'state' in element 'hidden'"),
    ("<features><kvm><foo state='on'/></kvm></features>", XMLConfigError, "unsupported KVM feature: foo"),
    ("<perf><event enabled='yes'/></perf>", XMLError, "Missing required attribute 'name' in element 'event'"),
    ("<clock offset='absolute' start='x'/>", XMLInternalError,
     "missing 'start' attribute for clock with offset='absolute'"),
])
def test_feature_perf_and_clock_refusals(mid: str, cls: type, words: str) -> None:
    exc = _refusal(mid=mid)
    assert type(exc) is cls and exc.message == words


@pytest.mark.parametrize(("model", "who"), [("pseries", "pSeries"), ("s390", "S390")])
def test_another_architectures_panic_model(model: str, who: str) -> None:
    exc = _refusal(f"<panic model='{model}'/>")
    assert isinstance(exc, XMLConfigError)
    assert exc.message == f"only {who} guests support panic device of model '{model}'"


def test_two_smartcards_are_a_configuration_refusal() -> None:
    card = "<smartcard mode='host'><address type='ccid' controller='0' slot='0'/></smartcard>"
    with pytest.raises(XMLConfigError, match="^this QEMU binary lacks multiple smartcard support"):
        build_argv(_dom(card * 2))
