"""libvirt 9.0 rules found on the sixth round of unseen qemuxml2argv probes (a random sample of
libvirt's held-back inputs): one small case each, own XML, each checked against the real
libvirt 9.0's ``virsh define`` / ``domxml-to-native`` first."""

from __future__ import annotations

import json

import pytest

from pyvirt.qemu.argv import build_argv
from pyvirt.xml import fill_defaults, parse_domain
from pyvirt.xml.errors import XMLError

BASE = """<domain type='qemu'><name>g</name>{memory}<vcpu>2</vcpu>
<os><type arch='x86_64' machine='{machine}'>hvm</type></os>{cpu}<devices>{devices}</devices></domain>"""
MEMORY = "<memory unit='MiB'>256</memory>"
HOTPLUG = "<maxMemory slots='4' unit='GiB'>4</maxMemory>" + MEMORY
NUMA1 = "<cpu><numa><cell id='0' cpus='0-1' memory='256' unit='MiB'/></numa></cpu>"


def _dom(devices: str = "", machine: str = "pc", memory: str = MEMORY, cpu: str = ""):
    return fill_defaults(parse_domain(BASE.format(devices=devices, machine=machine, memory=memory, cpu=cpu)))


def _devices(argv: list[str]) -> dict[str, dict]:
    found = [json.loads(argv[i + 1]) for i, a in enumerate(argv[:-1]) if a == "-device"]
    return {d["id"]: d for d in found if "id" in d}


# --- memory hotplug needs guest NUMA, with or without a memory device ---------------------------

@pytest.mark.parametrize("machine", ["pc", "q35"])
def test_max_memory_without_numa_is_refused(machine: str) -> None:
    # qemuDomainDefValidateMemoryHotplug: QEMU would add a NUMA node of its own
    with pytest.raises(XMLError, match="At least one numa node has to be configured when enabling memory hotplug"):
        _dom(machine=machine, memory=HOTPLUG)


def test_max_memory_with_numa_is_accepted() -> None:
    argv = build_argv(_dom(memory=HOTPLUG, cpu=NUMA1))
    assert "-numa" in argv
    assert argv[argv.index("-m") + 1].startswith("size=")


# --- which PCI controller a device with a given address may plug into ------------------------

def _ctrl(index: int, model: str, bus: int | None = None, slot: int = 0) -> str:
    addr = f"<address type='pci' bus='{bus}' slot='{slot}'/>" if bus is not None else ""
    return f"<controller type='pci' index='{index}' model='{model}'>{addr}</controller>"


Q35_ROOT = _ctrl(0, "pcie-root")
PC_ROOT = _ctrl(0, "pci-root")


@pytest.mark.parametrize(("machine", "devices", "where", "wants"), [
    # a PCIe expander bus hangs off the root complex only (libvirt's pcie-expander-bus-bad-bus)
    ("q35", Q35_ROOT + _ctrl(1, "pcie-root-port") + _ctrl(2, "pcie-expander-bus", 1), "0000:01:00.0' x 1",
     "pcie-expander-bus"),
    # a downstream port needs an upstream port's bus, not the root complex
    ("q35", Q35_ROOT + _ctrl(1, "pcie-switch-downstream-port", 0, 5), "0000:00:05.0' x 0",
     "pcie-switch-downstream-port"),
    # a root port does not nest in another root port
    ("q35", Q35_ROOT + _ctrl(1, "pcie-root-port") + _ctrl(2, "pcie-root-port", 1), "0000:01:00.0' x 1",
     "pcie-root-port"),
    # a DMI-to-PCI bridge goes on pcie-root (or a PCIe expander bus), never behind a port
    ("q35", Q35_ROOT + _ctrl(1, "pcie-root-port") + _ctrl(2, "dmi-to-pci-bridge", 1), "0000:01:00.0' x 1",
     "dmi-to-pci-bridge"),
    # a pci-expander-bus plugs into pci-root only; a pci-bridge is a standard PCI device
    ("pc", PC_ROOT + _ctrl(1, "pci-bridge") + _ctrl(2, "pci-expander-bus", 1, 3), "0000:01:03.0' x 1",
     "pci-expander-bus"),
    ("q35", Q35_ROOT + _ctrl(1, "pcie-root-port") + _ctrl(2, "pcie-switch-upstream-port", 1)
     + _ctrl(3, "pci-bridge", 2), "0000:02:00.0' x 2", "standard PCI device"),
    # an upstream port's bus takes downstream ports, no endpoint
    ("q35", Q35_ROOT + _ctrl(1, "pcie-root-port") + _ctrl(2, "pcie-switch-upstream-port", 1)
     + "<interface type='user'><model type='virtio'/><address type='pci' bus='2' slot='0'/></interface>",
     "0000:02:00.0' x 2", "PCI Express device"),
    # on i440fx there is nothing a root port could plug into
    ("pc", PC_ROOT + _ctrl(1, "pcie-root-port", 0, 5), "0000:00:05.0' x 0", "pcie-root-port"),
])
def test_pci_controller_in_a_bus_that_does_not_take_it_is_refused(machine: str, devices: str, where: str,
                                                                   wants: str) -> None:
    address, _, index = where.partition("' x ")
    message = (f"The device at PCI address {address} cannot be plugged into the PCI controller with "
               f"index='{index}'. It requires a controller that accepts a {wants}.")
    with pytest.raises(XMLError) as err:
        _dom(devices, machine)
    assert message in str(err.value)


@pytest.mark.parametrize(("machine", "devices"), [
    ("q35", Q35_ROOT + _ctrl(1, "pcie-expander-bus") + _ctrl(2, "pcie-root-port", 1)),
    ("q35", Q35_ROOT + _ctrl(1, "pcie-root-port") + _ctrl(2, "pcie-switch-upstream-port", 1)
     + _ctrl(3, "pcie-switch-downstream-port", 2) + _ctrl(4, "pcie-to-pci-bridge", 3)),
    ("q35", Q35_ROOT + _ctrl(1, "dmi-to-pci-bridge", 0, 5) + _ctrl(2, "pci-bridge", 1, 3)),
    ("pc", PC_ROOT + _ctrl(1, "pci-expander-bus", 0, 5) + _ctrl(2, "pci-bridge", 1, 3)),
])
def test_pci_controllers_where_libvirt_takes_them(machine: str, devices: str) -> None:
    devs = _devices(build_argv(_dom(devices, machine)))
    plugged = devices.count("<controller") - 1  # all but the root
    assert all(f"pci.{i}" in devs for i in range(1, plugged + 1))


# --- virtio-net ring sizes (<driver rx_queue_size tx_queue_size>) --------------------------------

def _nic(driver: str, model: str = "virtio") -> str:
    return (f"<interface type='user'><mac address='52:54:00:00:00:01'/><model type='{model}'/>{driver}"
            "</interface>")


def test_nic_queue_sizes_reach_the_virtio_net_device() -> None:
    dom = _dom(_nic("<driver rx_queue_size='512' tx_queue_size='1024'/>"))
    net = _devices(build_argv(dom))["net0"]
    assert (net["driver"], net["rx_queue_size"], net["tx_queue_size"]) == ("virtio-net-pci", 512, 1024)
    assert "rx_queue_size='512' tx_queue_size='1024'" in dom.to_xml(inactive=True)


@pytest.mark.parametrize("name", ["rx_queue_size", "tx_queue_size"])
def test_nic_queue_size_must_be_a_power_of_two(name: str) -> None:
    with pytest.raises(XMLError, match=f"{name} has to be a power of two"):
        _dom(_nic(f"<driver {name}='300'/>"))


def test_nic_queue_size_on_a_non_virtio_model_is_dropped_at_define() -> None:
    # libvirt 9.0's parser reads <driver> options for virtio NICs only: an e1000's are dropped at
    # define (the defined XML shows they are gone) and so never reach the command line
    dom = _dom(_nic("<driver rx_queue_size='512'/>", "e1000"))
    assert "rx_queue_size" not in dom.to_xml(inactive=True)
    assert "rx_queue_size" not in " ".join(build_argv(dom))


# --- SPICE ticketing follows qemu.conf's spice_password ------------------------------------------

def _spice(graphics: str, runtime) -> str:
    from pyvirt.qemu.argv_common import RuntimePaths
    argv = build_argv(_dom(graphics), runtime=RuntimePaths(**runtime))
    return argv[argv.index("-spice") + 1]


@pytest.mark.parametrize("graphics", ["<graphics type='spice' autoport='yes'/>",
                                      "<graphics type='spice'><listen type='none'/></graphics>",
                                      "<graphics type='spice'><listen type='socket' socket='/tmp/s.sock'/></graphics>"])
def test_spice_without_any_password_turns_ticketing_off(graphics: str) -> None:
    # libvirt 9.0 with qemu.conf's default (no spice_password): no password will ever be set
    assert "disable-ticketing=on" in _spice(graphics, {}).split(",")


@pytest.mark.parametrize(("graphics", "runtime"), [
    ("<graphics type='spice' autoport='yes' passwd='secret'/>", {}),  # set over QMP at start
    ("<graphics type='spice' autoport='yes'/>", {"spice_password": True}),  # qemu.conf's
])
def test_spice_with_a_password_keeps_ticketing(graphics: str, runtime: dict) -> None:
    opts = _spice(graphics, runtime)
    assert "disable-ticketing" not in opts and "secret" not in opts


# --- <timer name='tsc' frequency=> ---------------------------------------------------------------

def _with_clock(timers: str, cpu: str = "") -> str:
    return BASE.format(devices="", machine="pc", memory=MEMORY, cpu=cpu + f"<clock offset='utc'>{timers}</clock>")


@pytest.mark.parametrize(("cpu", "model"), [
    ("", "qemu64"), ("<cpu mode='custom' match='exact'><model>Nehalem</model></cpu>", "Nehalem")])
def test_tsc_frequency_is_a_cpu_property(cpu: str, model: str) -> None:
    dom = fill_defaults(parse_domain(_with_clock("<timer name='tsc' frequency='2500000000'/>", cpu)))
    argv = build_argv(dom)
    assert argv[argv.index("-cpu") + 1] == f"{model},tsc-frequency=2500000000"
    assert "<timer name='tsc' frequency='2500000000'/>" in dom.to_xml(inactive=True)


def test_tsc_mode_is_still_refused_by_name() -> None:
    with pytest.raises(XMLError, match="mode"):
        parse_domain(_with_clock("<timer name='tsc' frequency='2500000000' mode='native'/>"))


def test_spice_agent_mouse_comes_before_the_ticket_and_the_certificates() -> None:
    graphics = ("<graphics type='spice' port='5903' tlsPort='5904' autoport='no' listen='127.0.0.1'>"
                "<mouse mode='server'/><channel name='main' mode='secure'/></graphics>")
    opts = _spice(graphics, {"spice_tls_x509_dir": "/etc/pki/spice"})
    assert opts == ("port=5903,tls-port=5904,addr=127.0.0.1,agent-mouse=off,disable-ticketing=on,"
                    "x509-dir=/etc/pki/spice,tls-channel=main,seamless-migration=on")


# --- addresses the chipset and PCI bridges keep ---------------------------------------------------

def _nic_at(bus: int, slot: int, function: int = 0) -> str:
    return _nic("").replace("</interface>", f"<address type='pci' bus='{bus}' slot='{slot}' "
                                            f"function='{function}'/></interface>")


@pytest.mark.parametrize(("machine", "slot", "function"), [
    ("pc", 1, 0), ("pc", 1, 3),        # PIIX3 ISA bridge, PIIX4 power management
    ("q35", 0x1F, 0), ("q35", 0x1F, 3),  # ICH9 LPC, SMBus
])
def test_chipset_functions_are_taken(machine: str, slot: int, function: int) -> None:
    with pytest.raises(XMLError, match=f"Attempted double use of PCI Address 0000:00:{slot:02x}.{function}"):
        _dom("<controller type='usb' model='none'/>" + _nic_at(0, slot, function), machine)


@pytest.mark.parametrize(("machine", "slot", "function"), [("pc", 1, 4), ("q35", 0x1F, 4)])
def test_other_functions_of_the_chipset_slot_are_free(machine: str, slot: int, function: int) -> None:
    net = _devices(build_argv(_dom("<controller type='usb' model='none'/>" + _nic_at(0, slot, function), machine)))
    assert net["net0"]["addr"] == f"0x{slot:x}.0x{function}"


@pytest.mark.parametrize(("machine", "bridge"), [
    ("pc", _ctrl(1, "pci-bridge")),
    ("q35", _ctrl(1, "pcie-root-port") + _ctrl(2, "pcie-to-pci-bridge")),
])
def test_slot_0_of_a_pci_bridge_is_its_own(machine: str, bridge: str) -> None:
    bus = bridge.count("<controller")
    with pytest.raises(XMLError, match=f"Invalid PCI address 0000:0{bus}:00.0. slot must be >= 1"):
        _dom(bridge + _nic_at(bus, 0), machine)


def test_slot_0_of_a_dmi_to_pci_bridge_takes_a_device() -> None:
    net = _devices(build_argv(_dom(_ctrl(1, "dmi-to-pci-bridge") + _nic_at(1, 0), "q35")))["net0"]
    assert (net["bus"], net["addr"]) == ("pci.1", "0x0")


# --- character devices name their file, pipe, host device or SPICE port at define ---------------

@pytest.mark.parametrize(("device", "message"), [
    ("<serial type='file'><target port='0'/></serial>", "Missing source path attribute for char device"),
    ("<parallel type='file'><target port='0'/></parallel>", "Missing source path attribute for char device"),
    ("<serial type='pipe'><target port='0'/></serial>", "Missing source path attribute for char device"),
    ("<serial type='dev'><target port='0'/></serial>", "Missing source path attribute for char device"),
    ("<channel type='file'><target type='virtio' name='org.example.0'/></channel>",
     "Missing source path attribute for char device"),
    ("<console type='file'><target type='virtio'/></console>", "Missing source path attribute for char device"),
    ("<serial type='spiceport'><target port='0'/></serial><graphics type='spice' autoport='yes'/>",
     "Missing source channel attribute for char device"),
])
def test_chardev_without_its_source_is_refused_at_define(device: str, message: str) -> None:
    with pytest.raises(XMLError, match=f"^{message}"):
        _dom(device)


def test_file_chardev_with_its_path_is_built() -> None:
    argv = build_argv(_dom("<serial type='file'><source path='/tmp/s.log'/><target port='0'/></serial>"))
    assert any(a.startswith("file,id=charserial0,path=/tmp/s.log") for a in argv)


# --- Hyper-V dependencies are QEMU's KVM check, not libvirt 9.0's -----------------------------------

@pytest.mark.parametrize(("hyperv", "switch"), [("<synic state='on'/>", "hv-synic=on"),
                                                ("<vpindex state='on'/><stimer state='on'/>", "hv-stimer=on"),
                                                ("<evmcs state='on'/>", "hv-evmcs=on")])
def test_hyperv_feature_without_its_dependency_builds_for_a_tcg_guest(hyperv: str, switch: str) -> None:
    # real libvirt 9.0 defines and builds these (TCG ignores Hyper-V enlightenments)
    xml = BASE.format(devices="", machine="pc", memory=MEMORY, cpu="").replace(
        "</os>", f"</os><features><acpi/><hyperv mode='custom'>{hyperv}</hyperv></features>")
    argv = build_argv(fill_defaults(parse_domain(xml)))
    assert switch in argv[argv.index("-cpu") + 1].split(",")
    with pytest.raises(XMLError, match="hyperv feature requires"):  # QEMU's KVM accelerator would refuse it
        build_argv(fill_defaults(parse_domain(xml.replace("type='qemu'", "type='kvm'", 1))))


# --- <clock adjustment> as libvirt 9.0's parser reads it -----------------------------------------

@pytest.mark.parametrize(("clock", "written"), [
    ("<clock offset='utc' adjustment='3600'/>", "<clock offset='variable' adjustment='3600' basis='utc'/>"),
    ("<clock offset='localtime' adjustment='-60'/>",
     "<clock offset='variable' adjustment='-60' basis='localtime'/>"),
    ("<clock offset='utc' adjustment='reset'/>", "<clock offset='utc' adjustment='reset'/>"),
    ("<clock offset='variable'/>", "<clock offset='variable' adjustment='0' basis='utc'/>"),
    ("<clock offset='variable' adjustment='reset'/>", "<clock offset='variable' adjustment='0' basis='utc'/>"),
    ("<clock offset='variable' adjustment='12.5'/>", "<clock offset='variable' adjustment='0' basis='utc'/>"),
])
def test_clock_adjustment_is_normalised_at_parse(clock: str, written: str) -> None:
    dom = fill_defaults(parse_domain(BASE.format(devices="", machine="pc", memory=MEMORY, cpu=clock)))
    assert written in dom.to_xml(inactive=True)
    argv = build_argv(dom)  # a variable clock starts from a computed date (this crashed on 'reset')
    assert argv[argv.index("-rtc") + 1].startswith("base=")


def test_clock_adjustment_that_is_not_a_number_is_refused_on_utc() -> None:
    with pytest.raises(XMLError, match="unknown clock adjustment 'abc'"):
        parse_domain(BASE.format(devices="", machine="pc", memory=MEMORY, cpu="<clock offset='utc' adjustment='abc'/>"))


# --- the default USB controller is the one with index 0 ------------------------------------------

@pytest.mark.parametrize(("machine", "driver"), [("pc", "piix3-usb-uhci"), ("q35", "qemu-xhci")])
def test_default_usb_controller_is_added_beside_a_second_bus(machine: str, driver: str) -> None:
    # qemuDomainDefAddDefaultDevices looks for USB index 0: a lone index 1 does not stand in for it
    devs = _devices(build_argv(_dom("<controller type='usb' index='1' model='qemu-xhci'/>", machine)))
    assert devs["usb"]["driver"] == driver
    assert devs["usb1"]["driver"] == "qemu-xhci"


# --- video acceleration and VNC passwords, in libvirt 9.0's words ---------------------------------

@pytest.mark.parametrize(("devices", "message"), [
    ("<video><model type='virtio'><acceleration accel2d='yes'/></model></video>",
     "qemu does not support the accel2d setting"),
    ("<video><model type='qxl'><acceleration accel3d='yes'/></model></video>",
     "3d acceleration is supported only with 'virtio' video device"),
    ("<graphics type='vnc' autoport='yes' passwd='abcdefghij'/>",
     "VNC password is 10 characters long, only 8 permitted"),
])
def test_video_and_vnc_settings_qemu_cannot_honour_are_refused(devices: str, message: str) -> None:
    with pytest.raises(XMLError, match=message):
        _dom(devices)


@pytest.mark.parametrize("devices", ["<video><model type='vga'><acceleration accel2d='no'/></model></video>",
                                     "<graphics type='vnc' autoport='yes' passwd='12345678'/>",
                                     "<graphics type='spice' autoport='yes' passwd='1234567890123'/>"])
def test_what_libvirt_takes_of_them_is_built(devices: str) -> None:
    assert build_argv(_dom(devices))


@pytest.mark.parametrize("address", ["", "<address type='pci' bus='0' slot='5'/>"])
def test_ich7_sound_is_not_a_qemu_device(address: str) -> None:
    # libvirt 9.0's QEMU driver has no device for it (pyvirt built an ich6's intel-hda)
    with pytest.raises(XMLError, match="sound card model 'ich7' is not supported by qemu"):
        _dom(f"<sound model='ich7'>{address}</sound><audio id='1' type='none'/>", "q35")


# --- firmware autoselection for a machine alias -----------------------------------------------------

@pytest.mark.parametrize("machine", ["q35", "pc"])
def test_efi_autoselection_takes_the_machine_alias(machine: str) -> None:
    # without a probed QEMU, 'q35'/'pc' stand for the assumed QEMU's versioned machine, which the
    # firmware descriptors' globs (pc-q35-*, pc-i440fx-*) match; this was "Unable to find any firmware"
    xml = BASE.format(devices="", machine=machine, memory=MEMORY, cpu="<features><acpi/></features>").replace(
        "<os>", "<os firmware='efi'>")
    argv = build_argv(fill_defaults(parse_domain(xml)))
    pflash = [json.loads(argv[i + 1]) for i, a in enumerate(argv[:-1]) if a == "-blockdev"]
    assert any("OVMF" in json.dumps(b) for b in pflash)
    assert argv[argv.index("-machine") + 1].startswith(f"{machine},")


# --- PCI controllers libvirt cannot place by itself on q35 ----------------------------------------

@pytest.mark.parametrize(("devices", "message"), [
    # a pcie-to-pci-bridge needs a free root port the XML has: libvirt grows ports for PCIe
    # devices and upstream ports only
    (_ctrl(1, "pcie-to-pci-bridge"), "Cannot automatically add a new PCI bus for a device with connect flags 2000"),
    # a downstream port needs an upstream port with a free slot
    (_ctrl(1, "pcie-switch-downstream-port"),
     "a PCI slot is needed to connect a PCI controller model='pcie-switch-downstream-port', but none is "
     "available, and it cannot be automatically added"),
])
def test_q35_controllers_without_their_upstream_bus_are_refused(devices: str, message: str) -> None:
    with pytest.raises(XMLError) as err:
        _dom(Q35_ROOT + devices, "q35")
    assert message in str(err.value)


@pytest.mark.parametrize("devices", [
    _ctrl(1, "pcie-root-port") + _ctrl(2, "pcie-to-pci-bridge"),
    _ctrl(1, "pcie-switch-upstream-port"),  # libvirt grows a root port for it
    _ctrl(1, "pcie-root-port") + _ctrl(2, "pcie-switch-upstream-port") + _ctrl(3, "pcie-switch-downstream-port"),
])
def test_q35_controllers_libvirt_places(devices: str) -> None:
    devs = _devices(build_argv(_dom(Q35_ROOT + devices, "q35")))
    assert all(d.get("bus", "").startswith("pci") for d in devs.values() if d["id"].startswith("pci."))


def test_second_ahci_on_q35_is_a_conventional_device_behind_a_bridge() -> None:
    # libvirt gives an AHCI controller conventional PCI connect flags: beyond ICH9's own at
    # 00:1f.2 it goes behind a pcie-to-pci-bridge, not in a root port
    disk = ("<disk type='file' device='disk'><source file='/tmp/a.img'/><target dev='sda' bus='sata'/>"
            "<address type='drive' controller='1' bus='0' target='0' unit='0'/></disk>")
    devs = _devices(build_argv(_dom("<controller type='sata' index='1'/>" + disk, "q35")))
    bridge = devs[devs["sata1"]["bus"]]
    assert (devs["sata1"]["driver"], bridge["driver"]) == ("ahci", "pcie-pci-bridge")


@pytest.mark.parametrize("model", ["vga", "cirrus", "bochs", "ramfb"])
def test_only_qxl_and_virtio_video_can_be_secondary(model: str) -> None:
    with pytest.raises(XMLError, match=f"video type '{model}' is only valid as primary video device"):
        _dom(f"<video><model type='qxl'/></video><video><model type='{model}'/></video>", "q35")


def test_a_secondary_qxl_beside_a_bochs_primary_is_built() -> None:
    devs = _devices(build_argv(_dom("<video><model type='bochs'/></video><video><model type='qxl'/></video>", "q35")))
    assert (devs["video0"]["driver"], devs["video1"]["driver"]) == ("bochs-display", "qxl")


@pytest.mark.parametrize("nic_type, source", [
    ("user", ""), ("mcast", "<source address='230.0.0.1' port='5558'/>"),
    ("server", "<source address='127.0.0.1' port='5558'/>"),
])
def test_an_mtu_on_a_nic_without_a_tap_is_refused_at_define(nic_type: str, source: str) -> None:
    nic = (f"<interface type='{nic_type}'>{source}<mac address='52:54:00:00:00:01'/><model type='virtio'/>"
           "<mtu size='1400'/></interface>")
    with pytest.raises(XMLError, match=f"setting MTU on interface type {nic_type} is not supported yet"):
        _dom(nic)
    bridged = nic.replace(f"type='{nic_type}'>{source}", "type='bridge'><source bridge='br0'/>")
    assert "<mtu size='1400'/>" in _dom(bridged).to_xml(inactive=True)  # a tap's MTU is kept at define
