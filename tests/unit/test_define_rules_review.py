"""Define-time rules corrected on review, each checked against the real libvirt 9.0's
``virsh define`` first (own small documents)."""

from __future__ import annotations

import pytest

from pyvirt.xml import fill_defaults, parse_domain
from pyvirt.xml.errors import XMLError, XMLInternalError

BASE = ("<domain type='qemu'><name>g</name><memory unit='MiB'>64</memory>{cpu}"
        "<os><type arch='x86_64' machine='{machine}'>hvm</type></os><devices>{devices}</devices></domain>")


def _define(devices: str = "", machine: str = "pc", cpu: str = ""):  # type: ignore[no-untyped-def]
    return fill_defaults(parse_domain(BASE.format(devices=devices, machine=machine, cpu=cpu)))


@pytest.mark.parametrize("devices", ["<serial type='pty'><target port='4'/></serial>",
                                     "<serial type='pty'/>" * 5])
def test_serial_port_4_whose_type_is_left_to_the_defaults_is_defined(devices: str) -> None:
    dom = _define(devices)
    assert [s.target_port for s in dom.devices.serials][-1] == 4


def test_serial_port_4_typed_isa_serial_is_refused_as_an_internal_error() -> None:
    with pytest.raises(XMLInternalError, match="Maximum supported number of ISA serial ports is '4'"):
        _define("<serial type='pty'><target type='isa-serial' port='4'/></serial>")


def test_vnc_password_length_is_counted_in_bytes() -> None:
    # five two-byte characters: libvirt 9.0 says 10 (strlen), the VNC key takes 8 bytes
    with pytest.raises(XMLError, match="VNC password is 10 characters long, only 8 permitted"):
        _define("<graphics type='vnc' passwd='\u00e9\u00e9\u00e9\u00e9\u00e9'/>")
    assert _define("<graphics type='vnc' passwd='\u00e9\u00e9\u00e9\u00e9'/>").devices.graphics[0].passwd


def test_cpu_vendor_id_with_a_tab_is_defined() -> None:
    # libvirt 9.0 refuses only a comma (QEMU's option separator); a tab is 12 bytes like any other
    cpu = "<cpu mode='custom'><model vendor_id='Genuine&#9;ntel'>qemu64</model></cpu>"
    assert _define(cpu=cpu).cpu.model_vendor_id == "Genuine\tntel"


def test_a_secondary_video_without_model_is_judged_as_the_default_model() -> None:
    # libvirt 9.0 fills the model first: a second bare <video/> is a secondary cirrus, refused
    with pytest.raises(XMLError, match="video type 'cirrus' is only valid as primary video device"):
        _define("<video><model type='vga'/></video><video/>")
    assert [v.model_type for v in _define("<video/><video><model type='virtio'/></video>").devices.videos] == [
        "cirrus", "virtio"]


def test_pyvirtd_reports_a_parser_internal_error_as_libvirt_does() -> None:
    # libvirt 9.0's virsh define: 'internal error: ps2 bus does not support tablet input device'
    from pyvirt.api import ErrorCode, PyvirtError
    from pyvirt.daemon import model

    with pytest.raises(PyvirtError, match="^internal error: ps2 bus does not support tablet input device") as exc:
        model.parse_definition(BASE.format(devices="<input type='tablet' bus='ps2'/>", machine="pc", cpu=""))
    assert exc.value.code == ErrorCode.INTERNAL_ERROR


@pytest.mark.parametrize(("top", "devices", "message"), [
    ("<maxMemory slots='2' unit='KiB'>1048576</maxMemory>", "",
     "At least one numa node has to be configured when enabling memory hotplug"),
    ("", "<memory model='dimm'><target><size unit='KiB'>16384</size><node>0</node></target></memory>",
     "cannot use/hotplug a memory device when domain 'maxMemory' is not defined"),
    ("<maxMemory slots='2' unit='KiB'>1048576</maxMemory><cpu><numa><cell id='0' cpus='0' memory='65536' "
     "unit='KiB'/></numa></cpu>", "<memory model='dimm'><target><size unit='KiB'>16384</size><node>0</node>"
     "</target><address type='dimm' slot='5'/></memory>", "memory device slot '5' exceeds slots count '2'"),
])
def test_memory_hotplug_refusals_are_unsupported_configurations(top: str, devices: str, message: str) -> None:
    # libvirt 9.0's virsh define: 'unsupported configuration: ...' for each (qemuDomainDefValidateMemoryHotplug)
    from pyvirt.api import ErrorCode, PyvirtError
    from pyvirt.daemon import model

    doc = BASE.format(devices=devices, machine="pc", cpu="").replace("<os>", top + "<os>", 1)
    with pytest.raises(PyvirtError, match=f"^unsupported configuration: {message}") as exc:
        model.parse_definition(doc)
    assert exc.value.code == ErrorCode.CONFIG_UNSUPPORTED


@pytest.mark.parametrize("model", ["piix3-uhci", "ich9-ehci1"])
def test_ports_on_a_usb_controller_other_than_xhci_are_defined_and_refused_when_built(model: str) -> None:
    # libvirt 9.0 defines it; its command line (domxml-to-native) refuses it as a configuration
    from pyvirt.qemu.argv import build_argv
    from pyvirt.xml.errors import XMLConfigError

    dom = _define(f"<controller type='usb' index='0' model='{model}' ports='4'/>")
    with pytest.raises(XMLConfigError, match=f"usb controller type '{model}' doesn't support 'ports' with this "
                                             "QEMU binary"):
        build_argv(dom)


def test_more_than_15_xhci_ports_are_an_unsupported_configuration() -> None:
    from pyvirt.xml.errors import XMLConfigError

    with pytest.raises(XMLConfigError, match="'nec-xhci' controller only supports up to '15' ports"):
        _define("<controller type='usb' index='0' model='nec-xhci' ports='20'/>")


DISK = "<disk type='file' device='{device}'><source file='/tmp/a.img'/><target dev='{dev}' bus='{bus}'/>{extra}</disk>"


@pytest.mark.parametrize(("devices", "said"), [
    # each line as libvirt 9.0's virsh define words it (qemu_validate.c / virDomainDiskDefValidate)
    (DISK.format(device="disk", dev="vda1", bus="virtio", extra=""),
     "unsupported configuration: invalid disk target 'vda1', partitions can't appear in disk targets"),
    (DISK.format(device="cdrom", dev="vda", bus="virtio", extra=""),
     "unsupported configuration: disk type of 'vda' does not support ejectable media"),
    (DISK.format(device="floppy", dev="fda", bus="ide", extra=""),
     "internal error: Invalid bus type 'ide' for floppy disk"),
    (DISK.format(device="disk", dev="vda", bus="usb",
                 extra="<address type='drive' controller='0' bus='0' target='0' unit='0'/>"),
     "internal error: unexpected address type for usb disk"),
    ("<panic model='hyperv'><address type='isa' iobase='0x505'/></panic>",
     "unsupported configuration: setting the panic device address is not supported for model 'hyperv'"),
    ("<video><model type='vga' heads='2'/></video>",
     "unsupported configuration: video type 'vga' doesn't support multiple 'heads'"),
    ("<vsock model='virtio'><cid auto='no' address='2'/></vsock>", "unsupported configuration: guest CIDs must be >= 3"),
    ("<graphics type='egl-headless'/><graphics type='sdl'/>",
     "unsupported configuration: graphics type 'egl-headless' is only supported with one of: 'vnc', 'spice' "
     "graphics types"),
])
def test_pyvirtd_words_define_refusals_with_libvirts_error_class(devices: str, said: str) -> None:
    from pyvirt.api import PyvirtError
    from pyvirt.daemon import model

    with pytest.raises(PyvirtError) as exc:
        model.parse_definition(BASE.format(devices=devices, machine="pc", cpu=""))
    assert exc.value.message.startswith(said)


def test_nvram_template_with_autoselection_in_libvirts_words() -> None:
    os_ = "<os firmware='efi'><type arch='x86_64' machine='pc'>hvm</type><nvram template='/tmp/x.fd'/></os>"
    doc = BASE.format(devices="", machine="pc", cpu="<features><acpi/></features>")
    doc = doc.replace("<os><type arch='x86_64' machine='pc'>hvm</type></os>", os_)
    with pytest.raises(XMLError, match="^nvram attribute 'template' cannot be specified when firmware autoselection "
                                       "is enabled"):
        parse_domain(doc)


@pytest.mark.parametrize(("controllers", "said"), [
    ("<controller type='pci' index='1' model='pcie-root-port'/>", "a PCI slot is needed to connect a PCI controller "
     "model='pcie-root-port', but none is available, and it cannot be automatically added"),
    ("<controller type='pci' index='1' model='pcie-switch-upstream-port'/>", "model='pcie-root-port', but none"),
    ("<controller type='pci' index='1' model='dmi-to-pci-bridge'/>", "model='dmi-to-pci-bridge', but none"),
    ("<controller type='pci' index='1' model='pcie-switch-downstream-port'/>",
     "model='pcie-switch-downstream-port', but none"),
    ("<controller type='pci' index='1' model='pcie-to-pci-bridge'/>",
     "Cannot automatically add a new PCI bus for a device with connect flags 2000"),
])
def test_pci_express_controllers_on_i440fx_are_refused_at_define(controllers: str, said: str) -> None:
    # libvirt 9.0's virsh define: 'internal error: ...' (its address assignment finds no place)
    with pytest.raises(XMLInternalError, match=said):
        _define(controllers)


def test_pci_express_controllers_are_still_placed_on_q35() -> None:
    dom = _define("<controller type='pci' index='1' model='pcie-root-port'/>", machine="q35")
    assert next(c for c in dom.devices.controllers if c.index == 1).address is not None


def test_expander_bus_on_the_wrong_machine_is_an_unsupported_configuration() -> None:
    from pyvirt.xml.errors import XMLConfigError

    with pytest.raises(XMLConfigError, match="pci-expander-bus controllers are only supported on 440fx-based"):
        _define("<controller type='pci' index='1' model='pci-expander-bus'/>", machine="q35")
