"""libvirt 9.0 rules found on the eighth round of unseen qemuxml2argv probes (libvirt's held-back
inputs and one-feature documents of our own): one small case each, own XML, each checked against
the real libvirt 9.0's ``virsh domxml-to-native`` on this host first."""

from __future__ import annotations

import json

import pytest

from pyvirt.qemu.argv import build_argv
from pyvirt.qemu.argv_common import RuntimePaths
from pyvirt.qemu.caps import EmulatorCaps, MachineType
from pyvirt.xml import fill_defaults, parse_domain
from pyvirt.xml.errors import XMLConfigError, XMLError, XMLInternalError, XMLUnsupportedError

BASE = """<domain type='qemu'><name>g</name><memory unit='KiB'>262144</memory>{pre}<vcpu>1</vcpu>
<os><type arch='x86_64' machine='{machine}'>hvm</type></os>{mid}<devices>{devices}
<memballoon model='none'/></devices></domain>"""
NUMA = "<cpu><numa><cell id='0' cpus='0' memory='262144' unit='KiB'/></numa></cpu>"
HOTPLUG = "<maxMemory slots='4' unit='KiB'>2097152</maxMemory>"


def _dom(devices: str = "", pre: str = "", mid: str = "", machine: str = "pc"):
    return fill_defaults(parse_domain(BASE.format(devices=devices, pre=pre, mid=mid, machine=machine)))


def _opt(argv: list[str], name: str) -> list[str]:
    return [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == name]


def _objects(argv: list[str]) -> list[dict]:
    return [json.loads(v) for v in _opt(argv, "-object") if v.startswith("{")]


def _host_runtime() -> RuntimePaths:
    """A real host's plumbing (not libvirt's test harness constants)."""
    return RuntimePaths(monitor_fd=3, domain_dir="/run/g", memory_backing_dir="/run/g")


# --- discard-data: QEMU's file backend only -------------------------------------------------------

def _ram(backing: str, cell: str = "") -> dict:
    argv = build_argv(_dom(pre=f"<memoryBacking>{backing}</memoryBacking>",
                           mid=NUMA.replace("<cell id='0'", f"<cell id='0'{cell}")))
    return next(o for o in _objects(argv) if o["id"] == "ram-node0")


@pytest.mark.parametrize(("backing", "cell"), [
    ("<source type='memfd'/><discard/>", ""),
    ("<source type='memfd'/>", " discard='yes'"),
])
def test_memfd_ram_has_no_discard_data(backing: str, cell: str) -> None:
    obj = _ram(backing, cell)
    assert obj["qom-type"] == "memory-backend-memfd" and "discard-data" not in obj


@pytest.mark.parametrize(("cell", "value"), [(" discard='yes'", True), (" discard='no'", False)])
def test_file_ram_keeps_discard_data(cell: str, value: bool) -> None:
    obj = _ram("<source type='file'/>", cell)
    assert obj["qom-type"] == "memory-backend-file" and obj["discard-data"] is value


def _pmem(model: str, attrs: str = "", pre: str = "") -> str:
    node = "<node>0</node>" if model == "nvdimm" else ""
    return (f"<memory model='{model}'{attrs}><source><path>/tmp/pm</path></source>"
            f"<target><size unit='KiB'>131072</size>{node}</target></memory>")


@pytest.mark.parametrize(("model", "words"), [("nvdimm", "discard is not supported for nvdimms"),
                                              ("virtio-pmem", "discard is not supported for model 'virtio-pmem'")])
def test_persistent_memory_refuses_discard(model: str, words: str) -> None:
    with pytest.raises(XMLConfigError, match=words):
        _dom(_pmem(model, " discard='yes'"), pre=HOTPLUG, mid=NUMA, machine="q35")


@pytest.mark.parametrize("model", ["nvdimm", "virtio-pmem"])
def test_persistent_memory_discard_no_is_not_passed_on(model: str) -> None:
    argv = build_argv(_dom(_pmem(model, " discard='no'"), pre=HOTPLUG, mid=NUMA, machine="q35"))
    obj = next(o for o in _objects(argv) if o.get("mem-path") == "/tmp/pm")
    assert "discard-data" not in obj


@pytest.mark.parametrize("backing", ["", "<memoryBacking><access mode='private'/></memoryBacking>"])
def test_virtio_pmem_is_always_mapped_shared(backing: str) -> None:
    argv = build_argv(_dom(_pmem("virtio-pmem"), pre=HOTPLUG + backing, mid=NUMA, machine="q35"))
    obj = next(o for o in _objects(argv) if o.get("mem-path") == "/tmp/pm")
    assert obj["share"] is True


def test_private_virtio_pmem_is_refused() -> None:
    with pytest.raises(XMLConfigError, match="shared access mode required for virtio-pmem device"):
        _dom(_pmem("virtio-pmem", " access='private'"), pre=HOTPLUG, mid=NUMA, machine="q35")


# --- timers ----------------------------------------------------------------------------------------

def _clock(timer: str) -> str:
    return f"<clock offset='utc'>{timer}</clock>"


@pytest.mark.parametrize(("timer", "want"), [
    ("<timer name='pit' present='yes'/>", ["kvm-pit.lost_tick_policy=delay"]),
    ("<timer name='pit' present='no'/>", ["kvm-pit.lost_tick_policy=delay"]),
    ("<timer name='pit' tickpolicy='discard'/>", ["kvm-pit.lost_tick_policy=discard"]),
    ("<timer name='pit' tickpolicy='catchup'/>", []),
    ("<timer name='rtc' tickpolicy='catchup'/>", []),
])
def test_pit_timer_tick_policy_global(timer: str, want: list[str]) -> None:
    assert _opt(build_argv(_dom(mid=_clock(timer))), "-global") == want


@pytest.mark.parametrize(("present", "machine_pair", "no_hpet"), [("no", "hpet=off", True),
                                                                   ("yes", "hpet=on", False)])
def test_hpet_spelling_follows_the_qemu(present: str, machine_pair: str, no_hpet: bool) -> None:
    dom = _dom(mid=_clock(f"<timer name='hpet' present='{present}'/>"))
    harness = build_argv(dom)  # libvirt's test harness: QEMU capabilities with the machine property
    assert machine_pair in _opt(harness, "-machine")[0] and "-no-hpet" not in harness
    host = build_argv(dom, runtime=_host_runtime())  # QEMU 7.2 as libvirt 9.0 probes it: no property
    assert "hpet" not in _opt(host, "-machine")[0]
    assert ("-no-hpet" in host) is no_hpet


# --- drive addresses, serials ----------------------------------------------------------------------

def _disk(bus: str, dev: str, addr: str = "", serial: str = "") -> str:
    return (f"<disk type='file' device='disk'><source file='/tmp/a.img'/><target dev='{dev}' bus='{bus}'/>"
            f"{serial}{addr}</disk>")


def _drive(bus: int, target: int, unit: int) -> str:
    return f"<address type='drive' controller='0' bus='{bus}' target='{target}' unit='{unit}'/>"


@pytest.mark.parametrize(("bus", "dev", "addr", "machine", "words"), [
    ("ide", "hda", _drive(0, 1, 0), "pc", "target must be 0 for ide controller"),
    ("ide", "hdc", _drive(1, 1, 1), "pc", "target must be 0 for ide controller"),
    ("sata", "sda", _drive(1, 0, 0), "q35", "bus must be 0 for sata controller"),
    ("sata", "sda", _drive(1, 1, 0), "q35", "bus must be 0 for sata controller"),
    ("sata", "sda", _drive(0, 1, 5), "q35", "target must be 0 for sata controller"),
])
def test_ide_and_sata_drive_address_limits(bus: str, dev: str, addr: str, machine: str, words: str) -> None:
    with pytest.raises(XMLConfigError, match=words):
        _dom(_disk(bus, dev, addr), machine=machine)


@pytest.mark.parametrize(("bus", "dev", "addr", "machine"), [
    ("ide", "hdd", _drive(1, 0, 1), "pc"),
    ("sata", "sdf", _drive(0, 0, 5), "q35"),
])
def test_ide_and_sata_addresses_libvirt_takes(bus: str, dev: str, addr: str, machine: str) -> None:
    assert build_argv(_dom(_disk(bus, dev, addr), machine=machine))


@pytest.mark.parametrize("char", list("!#$%()*,/:;=?@[]^`{|}~\\'"))
def test_disk_serial_with_unsafe_characters_is_refused(char: str) -> None:
    serial = f"a{char}b"
    with pytest.raises(XMLInternalError, match="contains unsafe characters"):
        _dom(_disk("virtio", "vda", serial=f"<serial>{serial}</serial>"))


def test_disk_serial_safe_characters_and_libvirt_space_escape() -> None:
    argv = build_argv(_dom(_disk("virtio", "vda", serial="<serial>Ab9 -_.+ z</serial>")))
    dev = next(json.loads(v) for v in _opt(argv, "-device") if "virtio-blk" in v)
    assert dev["serial"] == "Ab9\\ -_.+\\ z"


# --- PCI controller <target> options ----------------------------------------------------------------

ROOT, UP = "<controller type='pci' index='1' model='pcie-root-port'/>", \
    "<controller type='pci' index='2' model='pcie-switch-upstream-port'/>"


@pytest.mark.parametrize(("controllers", "machine", "option", "model_name"), [
    ("<controller type='pci' index='1' model='pci-bridge'><target hotplug='off'/></controller>", "pc",
     "hotplug", "pci-bridge"),
    ("<controller type='pci' index='1' model='pci-bridge'><target port='0x10'/></controller>", "pc",
     "port", "pci-bridge"),
    ("<controller type='pci' index='1' model='pcie-root-port'><model name='ioh3420'/>"
     "<target chassis='8' port='0x1f' busNr='3'/></controller>", "q35", "busNr", "ioh3420"),
    ("<controller type='pci' index='1' model='pcie-root-port'><target chassisNr='5'/></controller>", "q35",
     "chassisNr", "pcie-root-port"),
    (ROOT + "<controller type='pci' index='2' model='pcie-switch-upstream-port'><target chassis='5'/>"
     "</controller>", "q35", "chassis", "x3130-upstream"),
    (ROOT + UP + "<controller type='pci' index='3' model='pcie-switch-downstream-port'><target busNr='9'/>"
     "</controller>", "q35", "busNr", "xio3130-downstream"),
    ("<controller type='pci' index='1' model='dmi-to-pci-bridge'><target hotplug='off'/></controller>", "q35",
     "hotplug", "i82801b11-bridge"),
    ("<controller type='pci' index='1' model='pcie-expander-bus'><target chassis='3'/></controller>", "q35",
     "chassis", "pxb-pcie"),
    ("<controller type='pci' index='1' model='pci-expander-bus'><target hotplug='off'/></controller>", "pc",
     "hotplug", "pxb"),
])
def test_pci_target_option_the_model_has_no_use_for(controllers: str, machine: str, option: str,
                                                    model_name: str) -> None:
    words = f"Option '{option}' is not valid for PCI controller with index '\\d+', model '[a-z-]+' " \
            f"and modelName '{model_name}'"
    with pytest.raises(XMLConfigError, match=words):
        _dom(controllers, machine=machine)


@pytest.mark.parametrize(("controllers", "machine"), [
    ("<controller type='pci' index='0' model='pci-root'><target hotplug='off'/></controller>", "pc"),
    ("<controller type='pci' index='1' model='pci-bridge'><target chassisNr='5'/></controller>", "pc"),
    ("<controller type='pci' index='1' model='pcie-root-port'><target chassis='5' port='0x10' hotplug='off'/>"
     "</controller>", "q35"),
    (ROOT + UP + "<controller type='pci' index='3' model='pcie-switch-downstream-port'>"
     "<target chassis='30' port='0x27' hotplug='off'/></controller>", "q35"),
    ("<controller type='pci' index='1' model='pcie-expander-bus'><target busNr='200'/></controller>", "q35"),
])
def test_pci_target_options_the_model_takes(controllers: str, machine: str) -> None:
    assert build_argv(_dom(controllers, machine=machine))


# --- a USB controller model the probed QEMU lacks ----------------------------------------------------

def _caps(devices: tuple[str, ...]) -> EmulatorCaps:
    return EmulatorCaps(binary="/usr/bin/qemu-system-x86_64", version=(7, 2, 0), version_string="7.2.0",
                        package="", machines=(MachineType("pc-i440fx-7.2", "pc", True, 255),),
                        kvm_present=False, kvm_enabled=False, accelerators=("tcg",), cpu_models=(),
                        device_types=devices)


def test_usb_controller_model_missing_from_the_probed_qemu_is_refused() -> None:
    dom = _dom("<controller type='usb' model='vt82c686b-uhci'/>")
    with pytest.raises(XMLConfigError, match="USB controller model 'vt82c686b-uhci' not supported in this QEMU"):
        build_argv(dom, _caps(("piix3-usb-uhci", "qemu-xhci")))
    assert build_argv(dom)  # no probed QEMU: nothing to say it lacks the device


# --- i440fx: pci-bridges added when the root bus runs out ------------------------------------------

def _disks(n: int, first: int = 0) -> str:
    return "".join(f"<disk type='file' device='disk'><source file='/tmp/d{i}.img'/>"
                   f"<target dev='vd{chr(97 + i // 26)}{chr(97 + i % 26)}' bus='virtio'/></disk>"
                   for i in range(first, first + n))


def _pci_devices(argv: list[str]) -> list[tuple[str, str, str]]:
    out = []
    for v in _opt(argv, "-device"):
        d = json.loads(v)
        if "addr" in d and d.get("bus", "").startswith("pci."):
            out.append((d["driver"], d["bus"], d["addr"]))
    return out


BRIDGE = "<controller type='pci' index='1' model='pci-bridge'/>"


@pytest.mark.parametrize(("devices", "bridges"), [
    (_disks(29), 0),                        # 29 of the root bus's 30 free slots: one left over
    (_disks(30), 1),                        # the root bus full: libvirt keeps a slot for a bridge
    (_disks(33), 1),
    (_disks(70), 2),
    (BRIDGE + _disks(59), 0),               # 29 on the root bus, 30 of the bridge's 31
    (BRIDGE + _disks(60), 1),
], ids=["29", "30", "33", "70", "bridge+59", "bridge+60"])
def test_pci_bridges_grow_with_the_devices(devices: str, bridges: int) -> None:
    dom = _dom(devices)
    argv = build_argv(dom)
    found = [d for d in _pci_devices(argv) if d[0] == "pci-bridge"]
    assert len([c for c in dom.devices.controllers if c.model == "pci-bridge"]) == len(found)
    given = devices.count("pci-bridge")
    assert len(found) == given + bridges
    if bridges and not given:  # the first bridge takes the first free root slot, before any disk
        assert found[0] == ("pci-bridge", "pci.0", "0x2")
        assert ("virtio-blk-pci", "pci.1", "0x1") in _pci_devices(argv)


def test_pci_bridge_growth_keeps_given_addresses() -> None:
    addressed = ("<disk type='file' device='disk'><source file='/tmp/x.img'/><target dev='vdzz' bus='virtio'/>"
                 "<address type='pci' domain='0' bus='0' slot='0x1f' function='0'/></disk>")
    devs = _pci_devices(build_argv(_dom(_disks(29) + addressed)))
    assert ("virtio-blk-pci", "pci.0", "0x1f") in devs and ("pci-bridge", "pci.0", "0x2") in devs


# --- VMware SVGA ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("model", "mb"), [("<model type='vmvga'/>", 16), ("<model type='vmvga' vram='8192'/>", 8)])
def test_vmvga_is_qemus_vmware_svga(model: str, mb: int) -> None:
    dev = json.loads(_opt(build_argv(_dom(f"<video>{model}</video>")), "-device")[-1])
    assert dev["driver"] == "vmware-svga" and dev["vgamem_mb"] == mb and dev["addr"] == "0x2"


@pytest.mark.parametrize(("video", "words"), [
    ("<video><model type='vga'/></video><video><model type='vmvga'/></video>",
     "video type 'vmvga' is only valid as primary video device"),
    ("<video><model type='vmvga' heads='2'/></video>", "video type 'vmvga' doesn't support multiple 'heads'"),
])
def test_vmvga_limits(video: str, words: str) -> None:
    with pytest.raises(XMLConfigError, match=words):
        build_argv(_dom(video))


# --- qemu-vdagent behind any character device front end ---------------------------------------------

@pytest.mark.parametrize(("device", "frontend"), [
    ("<serial type='qemu-vdagent'><source><clipboard copypaste='yes'/><mouse mode='client'/></source>"
     "<target port='0'/></serial>", "isa-serial"),
    ("<serial type='qemu-vdagent'><target type='pci-serial'/></serial>", "pci-serial"),
    ("<parallel type='qemu-vdagent'/>", "isa-parallel"),
    ("<console type='qemu-vdagent'><target type='virtio'/></console>", "virtconsole"),
])
def test_qemu_vdagent_is_a_back_end_like_any_other(device: str, frontend: str) -> None:
    argv = build_argv(_dom(device))
    chardev = next(v for v in _opt(argv, "-chardev") if v.startswith("qemu-vdagent,"))
    assert ",name=vdagent" in chardev
    assert ("clipboard=on,mouse=on" in chardev) is ("clipboard" in device)
    ident = chardev.split("id=")[1].split(",")[0]
    assert any(json.loads(v).get("chardev") == ident and json.loads(v)["driver"] == frontend
               for v in _opt(argv, "-device"))


# --- <source startupPolicy=> ----------------------------------------------------------------------

def _media(policy: str, path: str, device: str = "cdrom") -> str:
    target = "<target dev='hdc' bus='ide'/><readonly/>" if device == "cdrom" else "<target dev='vda' bus='virtio'/>"
    return f"<disk type='file' device='{device}'><source file='{path}' startupPolicy='{policy}'/>{target}</disk>"


@pytest.mark.parametrize(("device", "words"), [
    ("<disk type='network' device='cdrom'><source protocol='http' name='x.iso' startupPolicy='optional'>"
     "<host name='e.org'/></source><target dev='hdc' bus='ide'/><readonly/></disk>",
     "disk startupPolicy 'optional' is not allowed for disk of 'network' type"),
    (_media("requisite", "/tmp/x.img", "disk"), "disk startupPolicy 'requisite' is allowed only for cdrom or floppy"),
])
def test_startup_policy_define_rules(device: str, words: str) -> None:
    with pytest.raises(XMLError, match=words):
        _dom(device)


@pytest.mark.parametrize("policy", ["mandatory", "requisite", "optional"])
def test_startup_policy_with_a_present_source_starts_as_without(tmp_path, policy: str) -> None:
    iso = tmp_path / "a.iso"
    iso.write_bytes(b"")
    argv = build_argv(_dom(_media(policy, str(iso))), runtime=_host_runtime())
    assert any(str(iso) in v for v in _opt(argv, "-blockdev"))


@pytest.mark.parametrize("policy", ["requisite", "optional"])
def test_startup_policy_with_a_missing_source_is_refused(tmp_path, policy: str) -> None:
    dom = _dom(_media(policy, str(tmp_path / "gone.iso")))
    with pytest.raises(XMLUnsupportedError, match=f"startupPolicy='{policy}'> with a missing source"):
        build_argv(dom, runtime=_host_runtime())
    assert build_argv(dom)  # libvirt's harness checks no file


# --- q35: NIC models libvirt has no name for are placed as PCI Express devices ------------------------

@pytest.mark.parametrize(("model", "bridged"), [("e1000", True), ("rtl8139", True), ("vmxnet3", True),
                                               ("virtio-transitional", True), ("virtio", False),
                                               ("e1000e", False), ("pcnet", False), ("ne2k_pci", False),
                                               ("i82559er", False)])
def test_q35_nic_placement_by_model(model: str, bridged: bool) -> None:
    nic = f"<interface type='user'><mac address='52:54:00:11:22:33'/><model type='{model}'/></interface>"
    argv = build_argv(_dom(nic, machine="q35"))
    devices = [json.loads(v) for v in _opt(argv, "-device")]
    nic_dev = next(d for d in devices if d.get("mac") == "52:54:00:11:22:33")
    bus = next(d for d in devices if d.get("id") == nic_dev["bus"])
    assert bus["driver"] == ("pcie-pci-bridge" if bridged else "pcie-root-port")
    assert any(d["driver"] == "pcie-pci-bridge" for d in devices) is bridged


def test_pci_bridges_are_not_grown_for_a_live_hotplug() -> None:
    """qemuDomainEnsurePCIAddress: a device hot-plugged into a running guest gets a free slot of
    the buses it has, never a new bridge (a define or a --config attach does grow them)."""
    from pyvirt.xml.pciaddr import assign_pci_addresses

    dom = parse_domain(BASE.format(devices=_disks(30), pre="", mid="", machine="pc"))
    live = fill_defaults(dom, live=True)
    assert not [c for c in live.devices.controllers if c.model == "pci-bridge"]
    assert [c.model for c in fill_defaults(dom).devices.controllers].count("pci-bridge") == 1
    assign_pci_addresses(dom, grow=False)
    assert not [c for c in dom.devices.controllers if c.model == "pci-bridge"]


def test_pci_bridges_are_not_added_when_no_number_of_them_makes_room() -> None:
    given = "".join(f"<disk type='file' device='disk'><source file='/tmp/g{s}.img'/><target dev='vdq{chr(97 + s % 26)}{chr(97 + s // 26)}' "
                    f"bus='virtio'/><address type='pci' domain='0' bus='0' slot='{s}' function='0'/></disk>"
                    for s in range(2, 32))
    with pytest.raises(XMLUnsupportedError, match="no free PCI slot"):
        _dom(given + _disks(1))


@pytest.mark.parametrize(("timer", "message"), [
    ("<timer name='rtc' tickpolicy='merge'/>", "unsupported rtc timer tickpolicy 'merge'"),
    ("<timer name='rtc' tickpolicy='discard'/>", "unsupported rtc timer tickpolicy 'discard'"),
    ("<timer name='pit' tickpolicy='merge'/>", "unsupported pit tickpolicy 'merge'"),
])
def test_stored_definition_timer_refused_at_start_in_define_words(timer: str, message: str) -> None:
    """A definition stored before the define-time rule existed is refused by the command line's
    builder with the same (one) rule and words, not a second spelling of it."""
    with pytest.raises(XMLConfigError, match=message):
        build_argv(_dom(mid=f"<clock offset='utc'>{timer}</clock>"))
