"""libvirt 9.0 refuses these documents at define (not only at start): pyvirt.xml.define_rules.
Documents written here; each refusal was checked against real libvirt 9.0's `virsh define`."""

from __future__ import annotations

import pytest

from pyvirt.xml import fill_defaults, parse_domain
from pyvirt.xml.errors import XMLError

HEAD = ("<domain type='qemu'><name>g</name><memory>65536</memory>{top}"
        "<os{fw}><type arch='x86_64' machine='{machine}'>hvm</type>{os}</os>{feat}<devices>{devices}</devices>"
        "</domain>")


def define(devices: str = "", *, top: str = "", fw: str = "", os: str = "<boot dev='hd'/>", feat: str = "",
           machine: str = "pc") -> None:
    fill_defaults(parse_domain(HEAD.format(top=top, fw=fw, os=os, feat=feat, devices=devices, machine=machine)))


def refused(message: str, **kw: str) -> None:
    with pytest.raises(XMLError) as err:
        define(**kw)
    assert message in str(err.value)


@pytest.mark.parametrize("disk,message", [
    ("<disk type='file' device='floppy'><source file='/a'/><target dev='hda' bus='ide'/></disk>",
     "Invalid bus type 'ide' for floppy disk"),
    ("<disk type='file' device='cdrom'><source file='/a'/><target dev='vda' bus='virtio'/></disk>",
     "disk type of 'vda' does not support ejectable media"),
    ("<disk type='file'><source file='/a'/><target dev='sda' bus='usb'/>"
     "<address type='pci' domain='0' bus='0' slot='5' function='0'/></disk>", "unexpected address type for usb disk"),
    ("<disk type='file'><source file='/a'/><target dev='vdb1' bus='virtio'/></disk>",
     "invalid disk target 'vdb1', partitions can't appear in disk targets"),
    ("<disk type='file'><driver name='qemu' type='qcow2'/><source file='/a'/><target dev='vda'/><shareable/></disk>",
     "shared access for disk 'vda' requires use of supported storage format"),
])
def test_disk_rules_at_define(disk: str, message: str) -> None:
    refused(message, devices=disk)


def test_a_read_only_shared_qcow2_and_a_floppy_on_fdc_are_fine() -> None:
    define("<disk type='file'><driver name='qemu' type='qcow2'/><source file='/a'/><target dev='vda'/>"
           "<readonly/><shareable/></disk>"
           "<disk type='file' device='floppy'><source file='/f'/><target dev='fda' bus='fdc'/></disk>")


def test_boot_order_beside_os_boot() -> None:
    disk = "<disk type='file'><source file='/a'/><target dev='vda' bus='virtio'/><boot order='1'/></disk>"
    refused("per-device boot elements cannot be used together with os/boot elements", devices=disk)
    define(disk, os="")  # per-device alone is fine


@pytest.mark.parametrize("fw,os,message", [
    (" firmware='bios'", "<nvram>/tmp/x_VARS.fd</nvram>", "firmware type 'bios' does not support nvram"),
    (" firmware='efi'", "<loader readonly='yes'/>",
     "loader attribute 'readonly' cannot be specified when firmware autoselection is enabled"),
    (" firmware='efi'", "<nvram template='/t.fd'/>",
     "nvram attribute 'template' cannot be specified when firmware autoselection is enabled"),
    ("", "<loader readonly='yes' type='pflash'/>", "no loader path specified and firmware auto selection disabled"),
    ("", "<loader readonly='yes' type='pflash'>/c.fd</loader>", "UEFI requires ACPI on this architecture"),
])
def test_loader_rules(fw: str, os: str, message: str) -> None:
    refused(message, fw=fw, os=os)


def test_graphics_video_smm_and_hugepage_rules() -> None:
    refused("graphics type 'egl-headless' is only supported with one of: 'vnc', 'spice' graphics types",
            devices="<graphics type='sdl'/><graphics type='egl-headless'/>")
    define("<graphics type='vnc'/><graphics type='egl-headless'/>")
    refused("address not supported for video type ramfb",
            devices="<video><model type='ramfb'/><address type='pci' domain='0' bus='0' slot='5' function='0'/>"
                    "</video>")
    tseg = "<features><smm state='on'><tseg unit='MiB'>48</tseg></smm></features>"
    refused("SMM TSEG is only supported with q35 machine type", feat=tseg)
    define(feat=tseg, machine="q35")
    pages = "<memoryBacking><hugepages><page size='2048' unit='KiB' nodeset='{}'/></hugepages></memoryBacking>"
    refused("hugepages: node 1 not found", top=pages.format(1))
    define(top=pages.format(0))  # a guest without NUMA cells has node 0



DISK = "<disk type='file'><source file='/a'/><target dev='{dev}' bus='{bus}'{extra}/>{addr}</disk>"


@pytest.mark.parametrize("devices,machine,message", [
    ("<input type='tablet' bus='ps2'/>", "pc", "ps2 bus does not support tablet input device"),
    (DISK.format(dev="vda", bus="virtio", extra=" removable='on'", addr=""), "q35", "removable is only valid for usb"),
    (DISK.format(dev="sda", bus="sata", extra=" removable='off'", addr=""), "q35", "removable is only valid for usb"),
    ("<controller type='ide' index='1'/>", "pc", "Only a single IDE controller is supported for this machine type"),
    ("<controller type='ide' index='0'/>", "q35", "IDE controllers are unsupported for this QEMU binary or machine"),
    ("<controller type='scsi'/>" + DISK.format(dev="sda", bus="scsi", extra="",
                                               addr="<address type='drive' controller='0' bus='0' target='2' unit='0'/>"),
     "pc", "target must be 0 for controller model 'lsilogic'"),
])
def test_invalid_inputs_controllers_and_drive_targets_are_refused(devices: str, machine: str, message: str) -> None:
    refused(message, devices=devices, machine=machine)


@pytest.mark.parametrize("devices,machine", [
    ("<input type='mouse' bus='ps2'/><input type='tablet' bus='usb'/>", "pc"),
    (DISK.format(dev="sda", bus="usb", extra=" removable='on'", addr=""), "q35"),
    ("<controller type='ide' index='0'/>", "pc"),
    ("<controller type='scsi' model='lsisas1068'/>" + DISK.format(
        dev="sda", bus="scsi", extra="", addr="<address type='drive' controller='0' bus='0' target='2' unit='0'/>"), "pc"),
    ("<controller type='scsi' model='virtio-scsi'/>" + DISK.format(
        dev="sda", bus="scsi", extra="", addr="<address type='drive' controller='0' bus='0' target='2' unit='0'/>"), "pc"),
])
def test_their_valid_neighbours_are_accepted(devices: str, machine: str) -> None:
    define(devices=devices, machine=machine)


@pytest.mark.parametrize("bus,dev,extra,message", [
    ("sata", "sda", "<wwn>0x5000c50015ea71ac</wwn>", "Only ide and scsi disk support wwn"),
    ("virtio", "vda", "<wwn>0x5000c50015ea71ac</wwn>", "Only ide and scsi disk support wwn"),
    ("ide", "hda", "<product>P</product>", "Only scsi disk supports vendor and product"),
    ("sata", "sda", "<vendor>V</vendor>", "Only scsi disk supports vendor and product"),
])
def test_disk_identities_only_on_the_buses_that_carry_them(bus: str, dev: str, extra: str, message: str) -> None:
    disk = f"<disk type='file'><source file='/a'/><target dev='{dev}' bus='{bus}'/>{extra}</disk>"
    refused(message, devices=disk, machine="q35" if bus == "sata" else "pc")
    define(devices=disk.replace(f"dev='{dev}' bus='{bus}'", "dev='sdb' bus='scsi'"))  # SCSI carries all three
    define(devices="<disk type='file'><source file='/a'/><target dev='hda' bus='ide'/><wwn>0x5000c50015ea71ac</wwn>"
                   "</disk>")  # and IDE a WWN


@pytest.mark.parametrize("cpu,message", [
    ("<cpu mode='host-model'><cache mode='passthrough'/></cpu>",
     "CPU cache mode 'passthrough' can only be used with 'host-passthrough' / 'maximum' CPUs"),
    ("<cpu mode='custom'><model>qemu64</model><cache mode='passthrough'/></cpu>", "'host-passthrough' / 'maximum'"),
    ("<cpu mode='host-passthrough'><cache mode='emulate' level='2'/></cpu>",
     "CPU cache mode 'emulate' can only be used with level='3'"),
    ("<cpu mode='host-passthrough'><cache mode='passthrough' level='3'/></cpu>",
     "unsupported CPU cache level for mode 'passthrough'"),
])
def test_cpu_cache_rules_refuse_at_define(cpu: str, message: str) -> None:
    """qemuValidateDomainDefCpu: refused by libvirt 9.0's define, where pyvirt waited for a start."""
    with pytest.raises(XMLError) as err:
        parse_domain(HEAD.format(top=cpu, fw="", os="", feat="", devices="", machine="pc"))
    assert message in str(err.value)


def test_cpu_cache_passthrough_of_a_maximum_cpu_is_defined() -> None:
    define(top="<cpu mode='maximum'><cache mode='passthrough'/></cpu>")
