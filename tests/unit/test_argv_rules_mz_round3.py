"""libvirt 9.0 rules found on the third round of unseen qemuxml2argv probes (names m..z): one
small case each, own XML, each checked against the real libvirt 9.0's domxml-to-native."""

from __future__ import annotations

import json

import pytest

from pyvirt.qemu.argv import build_argv
from pyvirt.xml import fill_defaults, parse_domain
from pyvirt.xml.errors import XMLError

BASE = """<domain type='qemu'><name>g</name><memory unit='MiB'>256</memory><vcpu>1</vcpu>
<os><type arch='x86_64' machine='{machine}'>hvm</type></os>{features}<devices>{devices}</devices></domain>"""


def _argv(devices: str, machine: str = "pc", features: str = "") -> list[str]:
    dom = fill_defaults(parse_domain(BASE.format(devices=devices, machine=machine, features=features)))
    return build_argv(dom)


def _devices(argv: list[str]) -> list[dict]:
    return [json.loads(argv[i + 1]) for i, a in enumerate(argv[:-1]) if a == "-device"]


def _by_id(argv: list[str]) -> dict[str, dict]:
    return {d["id"]: d for d in _devices(argv) if "id" in d}


RNG = "<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>"
PCI_SERIAL = "<serial type='pty'><target type='pci-serial' port='0'/></serial>"


def test_pci_serial_port_gets_a_slot_after_the_inputs() -> None:
    # libvirt's "Serial devices" step comes after virtio inputs and before the vsock
    ids = _by_id(_argv("<input type='tablet' bus='virtio'/>" + PCI_SERIAL + RNG))
    assert ids["serial0"]["driver"] == "pci-serial"
    assert ids["serial0"]["bus"] == "pci.0"
    slots = {k: int(ids[k]["addr"], 16) for k in ("balloon0", "rng0", "input0", "serial0")}
    assert slots["balloon0"] < slots["rng0"] < slots["input0"] < slots["serial0"]


def test_q35_bridge_index_follows_the_root_ports_grown_before_it() -> None:
    # USB controller and balloon each grow a root port first; the conventional PCI serial port
    # then grows a third one and the pcie-to-pci-bridge (index 4), which the real pass plugs
    # into the first port; the spare hotplug port comes last
    ids = _by_id(_argv(PCI_SERIAL, "q35"))
    assert ids["pci.4"]["driver"] == "pcie-pci-bridge" and ids["pci.4"]["bus"] == "pci.1"
    assert [ids[f"pci.{i}"]["driver"] for i in (1, 2, 3, 5)] == ["pcie-root-port"] * 4
    assert ids["usb"]["bus"] == "pci.2" and ids["balloon0"]["bus"] == "pci.3"
    assert ids["serial0"]["bus"] == "pci.4"


def test_q35_conventional_device_grows_its_own_port_even_when_ports_are_free() -> None:
    ports = ("<controller type='pci' index='0' model='pcie-root'/>"
             "<controller type='pci' index='1' model='pcie-root-port'/>"
             "<controller type='pci' index='2' model='pcie-root-port'/>")
    ids = _by_id(_argv(ports + "<sound model='ich6'/><audio id='1' type='none'/>" + RNG, "q35"))
    assert ids["pci.3"]["driver"] == "pcie-root-port"
    assert ids["pci.4"]["driver"] == "pcie-pci-bridge" and ids["pci.4"]["bus"] == "pci.1"
    assert ids["sound0"]["bus"] == "pci.4"
    assert (ids["usb"]["bus"], ids["balloon0"]["bus"], ids["rng0"]["bus"]) == ("pci.2", "pci.3", "pci.5")


def test_lone_ich9_ehci_on_q35_is_an_ordinary_conventional_device() -> None:
    ids = _by_id(_argv("<controller type='usb' index='0' model='ich9-ehci1'/>", "q35"))
    assert ids["usb"]["bus"] != "pcie.0"
    assert ids[ids["usb"]["bus"]]["driver"] == "pcie-pci-bridge"
    assert ids["usb"]["addr"] == "0x1.0x7"
    full = ("<controller type='usb' index='0' model='ich9-ehci1'/>"
            "<controller type='usb' index='0' model='ich9-uhci1'><master startport='0'/></controller>")
    ids = _by_id(_argv(full, "q35"))
    assert (ids["usb"]["bus"], ids["usb"]["addr"]) == ("pcie.0", "0x1d.0x7")


def test_vmcoreinfo_feature_adds_its_device_after_the_rngs() -> None:
    argv = _argv(RNG + "<panic model='isa'/>", features="<features><vmcoreinfo state='on'/></features>")
    drivers = [d["driver"] for d in _devices(argv)]
    assert drivers.index("virtio-rng-pci") < drivers.index("vmcoreinfo") < drivers.index("pvpanic")
    off = _argv(RNG, features="<features><vmcoreinfo state='off'/></features>")
    assert "vmcoreinfo" not in [d["driver"] for d in _devices(off)]


def test_virtio_vga_primary_takes_virtio_options() -> None:
    video = ("<graphics type='vnc' port='-1'/><video><driver iommu='on' ats='on' packed='on'/>"
             "<model type='virtio'/></video>")
    vga = _by_id(_argv(video))["video0"]
    assert vga["driver"] == "virtio-vga"
    assert (vga["iommu_platform"], vga["ats"], vga["packed"]) == (True, True, True)


def test_itco_watchdog_is_refused_as_libvirt_9_0_does() -> None:
    with pytest.raises(XMLError, match="itco"):
        _argv("<watchdog model='itco' action='reset'/>", "q35")


def _refused(devices: str, message: str, machine: str = "pc", top: str = "", cpu: str = "") -> None:
    doc = (f"<domain type='qemu'><name>g</name><memory unit='KiB'>262144</memory>{top}<vcpu>1</vcpu>"
           f"<os><type arch='x86_64' machine='{machine}'>hvm</type></os>{cpu}<devices>{devices}</devices></domain>")
    with pytest.raises(XMLError, match=message):
        fill_defaults(parse_domain(doc))


NUMA = "<cpu><numa><cell id='0' cpus='0' memory='262144' unit='KiB'/></numa></cpu>"
SLOTS = "<maxMemory slots='2' unit='KiB'>16777216</maxMemory>"


@pytest.mark.parametrize("devices, message, kw", [
    ("<rng model='virtio'><backend model='random'>/dev/urandom</backend>"
     "<address type='pci' domain='0' bus='0' slot='32' function='0'/></rng>",
     r"Invalid PCI address slot='0x20', must be <= 0x1F", {}),
    ("<rng model='virtio'><backend model='random'>/dev/urandom</backend>"
     "<address type='pci' domain='0' bus='0' slot='3' function='8'/></rng>",
     r"Invalid PCI address function=0x8, must be <= 7", {}),
    ("<rng model='virtio'><backend model='random'>/dev/urandom</backend>"
     "<address type='pci' domain='0' bus='256' slot='3' function='0'/></rng>",
     r"Invalid PCI address bus='0x100', must be <= 0xFF", {}),
    ("", "both maximum memory size and memory slot count must be specified",
     {"top": "<maxMemory unit='KiB'>16777216</maxMemory>", "cpu": NUMA}),
    ("<memory model='dimm'><target><size unit='KiB'>524288</size><node>0</node></target></memory>",
     "maximum memory size must be equal or greater than the actual memory size",
     {"top": "<maxMemory slots='2' unit='KiB'>600000</maxMemory>", "cpu": NUMA}),
    ("<memory model='dimm'><target><size unit='KiB'>131072</size><node>0</node></target></memory>" * 3,
     "failed to find an empty memory slot", {"top": SLOTS, "cpu": NUMA}),
    ("<memory model='virtio-mem'><target><size unit='KiB'>1048576</size><node>0</node>"
     "<block unit='KiB'>3000</block><requested unit='KiB'>0</requested></target></memory>",
     "block size must be a power of two", {"top": SLOTS, "cpu": NUMA}),
    ("<memory model='virtio-mem'><target><size unit='KiB'>1048576</size><node>0</node>"
     "<block unit='KiB'>2048</block><requested unit='KiB'>1000</requested></target></memory>",
     "requested size must be an integer multiple of block size", {"top": SLOTS, "cpu": NUMA}),
    ("<panic model='isa'><address type='pci' domain='0' bus='0' slot='5' function='0'/></panic>",
     "panic is supported only with ISA address type", {}),
    ("<panic model='hyperv'><address type='isa' iobase='0x505'/></panic>",
     "setting the panic device address is not supported for model 'hyperv'", {}),
    ("<watchdog model='ib700'><address type='pci' domain='0' bus='0' slot='5' function='0'/></watchdog>",
     "ib700 model of watchdog does not support configuring the address", {}),
    ("<serial type='pty'><target type='isa-serial' port='4'/></serial>",
     "Maximum supported number of ISA serial ports is '4'", {}),
    ("<video><model type='bochs' heads='2'/></video>", "video type 'bochs' doesn't support multiple 'heads'", {}),
    ("<vsock model='virtio'><cid auto='yes' address='2'/></vsock>", "guest CIDs must be >= 3", {}),
    ("<input type='tablet' bus='usb'><address type='usb' bus='3' port='1'/></input>", "Missing USB bus 3", {}),
    ("<controller type='virtio-serial' index='0' ports='2'/><channel type='pty'><target type='virtio' name='a'/>"
     "<address type='virtio-serial' controller='0' bus='0' port='2'/></channel>",
     "virtio serial controller 0 does not have port 2", {}),
])
def test_libvirt_device_refusals(devices: str, message: str, kw: dict) -> None:
    _refused(devices, message, **kw)


def test_static_seclabel_needs_its_label() -> None:
    _refused("", "security label is missing", top="<seclabel type='static' model='dac' relabel='yes'/>")


def test_root_port_bus_has_slot_0_only() -> None:
    _refused("<rng model='virtio'><backend model='random'>/dev/urandom</backend>"
             "<address type='pci' domain='0' bus='3' slot='3' function='0'/></rng>",
             r"Invalid PCI address 0000:03:03\.0\. slot must be <= 0", machine="q35")


def test_pci_buses_a_device_names_are_added() -> None:
    rng = ("<rng model='virtio'><backend model='random'>/dev/urandom</backend>"
           "<address type='pci' domain='0' bus='{b}' slot='{s}' function='0'/></rng>")
    ids = _by_id(_argv(rng.format(b=3, s=3)))  # i440fx: pci-bridges 1..3 on the root bus
    assert [ids[f"pci.{i}"]["driver"] for i in (1, 2, 3)] == ["pci-bridge"] * 3
    assert [ids[f"pci.{i}"]["chassis_nr"] for i in (1, 2, 3)] == [1, 2, 3]
    assert ids["rng0"]["bus"] == "pci.3"
    ids = _by_id(_argv(rng.format(b=2, s=0), "q35"))  # q35: root ports, and the spare one
    assert [ids[f"pci.{i}"]["driver"] for i in (1, 2, 3, 4)] == ["pcie-root-port"] * 4
    assert (ids["rng0"]["bus"], ids["usb"]["bus"], ids["balloon0"]["bus"]) == ("pci.2", "pci.1", "pci.3")
    hda = ("<sound model='ich6'><address type='pci' domain='0' bus='2' slot='1' function='0'/></sound>"
           "<audio id='1' type='none'/>")
    ids = _by_id(_argv(hda, "q35"))  # a conventional device's bus is a pcie-to-pci-bridge
    assert ids["pci.2"]["driver"] == "pcie-pci-bridge" and ids["pci.2"]["bus"] == "pci.1"
    assert ids["sound0"]["bus"] == "pci.2"


def test_virtio_mem_size_aligned_to_2_mib() -> None:
    mem = ("<memory model='virtio-mem'><target><size unit='KiB'>1049600</size><node>0</node>"
           "<block unit='KiB'>4096</block><requested unit='KiB'>524288</requested></target></memory>")
    doc = (f"<domain type='qemu'><name>g</name><memory unit='KiB'>262144</memory>{SLOTS.replace('2', '4', 1)}"
           f"<vcpu>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type></os>{NUMA}<devices>{mem}</devices></domain>")
    argv = build_argv(fill_defaults(parse_domain(doc)))
    objs = [json.loads(argv[i + 1]) for i, a in enumerate(argv[:-1]) if a == "-object" and argv[i + 1][0] == "{"]
    backend = next(o for o in objs if o["id"] == "memvirtiomem0")
    assert backend["size"] == 1050624 * 1024


def test_fixed_audio_settings_need_the_mixing_engine() -> None:
    _refused("<audio id='1' type='none'><input mixingEngine='no' fixedSettings='yes'/></audio>",
             "fixed audio settings requires mixing engine")


def test_user_alias_names_one_device() -> None:
    rng = "<rng model='virtio'><backend model='random'>/dev/urandom</backend><alias name='ua-x'/></rng>"
    _refused(rng + rng.replace("urandom", "random"), "non unique alias detected: ua-x")


def test_numa_cell_without_cpus_leaves_them_to_the_first_cell() -> None:
    doc = ("<domain type='qemu'><name>g</name><memory unit='KiB'>1048576</memory><vcpu>3</vcpu>"
           "<os><type arch='x86_64' machine='pc'>hvm</type></os><cpu><numa>"
           "<cell id='0' cpus='0' memory='524288' unit='KiB'/><cell id='1' cpus='2' memory='262144' unit='KiB'/>"
           "<cell id='2' memory='262144' unit='KiB'/></numa></cpu></domain>")
    dom = fill_defaults(parse_domain(doc))
    assert [c.cpus for c in dom.cpu.numa_cells] == ["0-1", "2", None]
    argv = build_argv(dom)
    assert "node,nodeid=0,cpus=0-1,memdev=ram-node0" in argv


def test_usb2_sets_with_uhci1_take_1d_then_1a_in_order() -> None:
    s = ("<controller type='usb' index='{i}' model='ich9-ehci1'/>"
         "<controller type='usb' index='{i}' model='ich9-uhci1'><master startport='0'/></controller>")
    ids = _by_id(_argv(s.format(i=0) + s.format(i=1), "q35"))
    assert (ids["usb"]["addr"], ids["usb1"]["addr"]) == ("0x1d.0x7", "0x1a.0x7")
    lone_first = "<controller type='usb' index='0' model='ich9-ehci1'/>" + s.format(i=1)
    ids = _by_id(_argv(lone_first, "q35"))
    assert (ids["usb1"]["bus"], ids["usb1"]["addr"]) == ("pcie.0", "0x1d.0x7")
    assert ids["usb"]["bus"] != "pcie.0"


def test_bios_serial_output_needs_a_serial_port_and_turns_machine_graphics_off() -> None:
    os_block = "<os><type arch='x86_64' machine='pc'>hvm</type><bios useserial='yes'/></os>"
    doc = ("<domain type='qemu'><name>g</name><memory unit='MiB'>256</memory><vcpu>1</vcpu>"
           f"{os_block}<devices>{{devices}}</devices></domain>")
    with pytest.raises(XMLError, match="need at least one serial port to use BIOS serial output"):
        parse_domain(doc.format(devices=""))
    argv = build_argv(fill_defaults(parse_domain(doc.format(devices="<serial type='pty'/>"))))
    machine = argv[argv.index("-machine") + 1]
    assert machine.endswith(",memory-backend=pc.ram,graphics=off") and "sga" not in " ".join(argv)


def test_sdl_display_with_opengl() -> None:
    argv = _argv("<graphics type='sdl'><gl enable='yes'/></graphics>"
                 "<video><model type='virtio'><acceleration accel3d='yes'/></model></video>")
    assert argv[argv.index("-display") + 1] == "sdl,gl=on"
    assert _by_id(argv)["video0"]["driver"] == "virtio-vga-gl"


N2 = ("<cpu><numa><cell id='0' cpus='0' memory='131072' unit='KiB'/>"
      "<cell id='1' cpus='1' memory='131072' unit='KiB'/></numa></cpu>")


@pytest.mark.parametrize("devices, message, kw", [
    ("<audio id='1' type='none'/><audio id='1' type='none'/>", "audio ID 1 is used multiple times", {}),
    ("<controller type='usb' index='0' model='qemu-xhci' ports='20'/>",
     "'qemu-xhci' controller only supports up to '15' ports", {}),
    ("<input type='tablet' bus='usb'><address type='pci' domain='0' bus='0' slot='5' function='0'/></input>",
     "Invalid address for a USB device", {}),
    ("", "Multiple memnode elements with cellid 0",
     {"cpu": N2, "top": "<numatune><memnode cellid='0' mode='strict' nodeset='0'/>"
                        "<memnode cellid='0' mode='strict' nodeset='0'/></numatune>"}),
    ("", "'restrictive' mode is required in memnode element when mode is 'restrictive' in memory element",
     {"cpu": N2, "top": "<numatune><memory mode='restrictive' nodeset='0'/>"
                        "<memnode cellid='0' mode='strict' nodeset='0'/></numatune>"}),
    ("", "Per-node binding is not compatible with automatic NUMA placement",
     {"cpu": N2, "top": "<numatune><memory mode='strict' placement='auto'/>"
                        "<memnode cellid='0' mode='strict' nodeset='0'/></numatune>"}),
])
def test_libvirt_refusals_round3b(devices: str, message: str, kw: dict) -> None:
    top = kw.pop("top", "")
    cpu = kw.pop("cpu", "")
    doc = (f"<domain type='qemu'><name>g</name><memory unit='KiB'>262144</memory>{top}<vcpu>2</vcpu>"
           f"<os><type arch='x86_64' machine='pc'>hvm</type></os>{cpu}<devices>{devices}</devices></domain>")
    with pytest.raises(XMLError, match=message):
        fill_defaults(parse_domain(doc))


def test_xhci_ports_up_to_15_accepted() -> None:
    ids = _by_id(_argv("<controller type='usb' index='0' model='qemu-xhci' ports='15'/>"))
    assert ids["usb"]["p2"] == 15 and ids["usb"]["p3"] == 15


@pytest.mark.parametrize("cpu, devices, message", [
    ("<cpu mode='custom' migratable='on'><model>qemu64</model></cpu>", "",
     "Attribute migratable is only allowed for 'host-passthrough' / 'maximum' CPU mode"),
    ("<cpu mode='custom'><model>qemu64</model><feature policy='require' name='vmx'/>"
     "<feature policy='disable' name='vmx'/></cpu>", "", "CPU feature 'vmx' specified more than once"),
    ("", "<disk type='file' device='disk'><source file='/tmp/a.img'><seclabel model='dac' relabel='no'/>"
         "<seclabel model='dac' relabel='no'/></source><target dev='vda' bus='virtio'/></disk>",
     "seclabel for model dac is already provided"),
    ("", "<disk type='file' device='disk'><source file='/tmp/a.img'><seclabel model='selinux' relabel='no'>"
         "<label>system_u:object_r:svirt_image_t:s0</label></seclabel></source><target dev='vda' bus='virtio'/>"
         "</disk>", "Cannot specify a label if relabelling is turned off. model=selinux"),
])
def test_cpu_and_device_label_refusals(cpu: str, devices: str, message: str) -> None:
    doc = ("<domain type='qemu'><name>g</name><memory unit='KiB'>262144</memory><vcpu>1</vcpu>"
           f"<os><type arch='x86_64' machine='pc'>hvm</type></os>{cpu}<devices>{devices}</devices></domain>")
    with pytest.raises(XMLError, match=message):
        parse_domain(doc)


def test_zero_memory_without_numa_is_refused() -> None:
    doc = ("<domain type='qemu'><name>g</name><memory unit='KiB'>0</memory><vcpu>1</vcpu>"
           "<os><type arch='x86_64' machine='pc'>hvm</type></os></domain>")
    with pytest.raises(XMLError, match="Memory size must be specified via <memory> or in the <numa> configuration"):
        parse_domain(doc)


@pytest.mark.parametrize("model", ["Denverton", "max", "Skylake-Client-v1", "Foobar"])
def test_custom_cpu_model_outside_libvirts_map_is_refused(model: str) -> None:
    doc = ("<domain type='qemu'><name>g</name><memory unit='MiB'>256</memory><vcpu>1</vcpu>"
           "<os><type arch='x86_64' machine='pc'>hvm</type></os>"
           f"<cpu mode='custom' match='exact'><model>{model}</model></cpu></domain>")
    with pytest.raises(XMLError, match=f"Unknown CPU model {model}"):
        build_argv(fill_defaults(parse_domain(doc)))
    ok = build_argv(fill_defaults(parse_domain(doc.replace(model, "EPYC-Milan"))))
    assert ok[ok.index("-cpu") + 1].startswith("EPYC-Milan")


def test_am53c974_scsi_controller_addresses_disks_by_scsi_id() -> None:
    disks = "".join(f"<disk type='file' device='disk'><source file='/tmp/{n}.img'/><target dev='sd{n}' bus='scsi'/>"
                    "</disk>" for n in "ab")
    ids = _by_id(_argv("<controller type='scsi' index='0' model='am53c974'/>" + disks))
    assert ids["scsi0"]["driver"] == "am53c974" and ids["scsi0"]["bus"] == "pci.0"
    assert [(ids[f"scsi0-0-0-{u}"]["bus"], ids[f"scsi0-0-0-{u}"]["scsi-id"]) for u in (0, 1)] == [
        ("scsi0.0", 0), ("scsi0.0", 1)]


def test_vcpupin_for_a_missing_vcpu_is_dropped_as_libvirt_does() -> None:
    doc = ("<domain type='qemu'><name>g</name><memory unit='MiB'>256</memory><vcpu>2</vcpu>"
           "<cputune><vcpupin vcpu='5' cpuset='0'/><vcpupin vcpu='1' cpuset='0'/></cputune>"
           "<os><type arch='x86_64' machine='pc'>hvm</type></os></domain>")
    dom = fill_defaults(parse_domain(doc))
    assert [(p.vcpu, p.cpuset) for p in dom.cputune.vcpupins] == [(1, "0")]
    assert "<vcpupin vcpu='5'" not in dom.to_xml(inactive=True)
