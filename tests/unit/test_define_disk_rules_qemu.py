"""libvirt 9.0's define-time disk rules seen on its unseen qemuxml2xml inputs (issue 14), on
documents written here: empty removable network drives, transient disks, LUKS2/librbd
encryption; each rule was checked against real libvirt 9.0's define (dev/define_oracle.py)."""

from __future__ import annotations

import pytest
from lxml import etree

from pyvirt.qemu.argv import build_argv
from pyvirt.xml import XMLUnsupportedError, fill_defaults, parse_domain
from pyvirt.xml.errors import XMLError
from tests.conformance_data import SCHEMAS

HEAD = ("<domain type='qemu'><name>g</name><memory>65536</memory>"
        "<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>{}</devices></domain>")
RBD = ("<disk type='network'><driver name='qemu' type='raw'/><source protocol='rbd' name='pool/img'>"
       "<host name='mon.example.org'/><encryption format='{fmt}'{engine}>"
       "<secret type='passphrase' uuid='0a81f5b2-8403-7b23-c8d6-21ccc2f80fb0'/></encryption>"
       "</source><target dev='vda' bus='virtio'/></disk>")


def define(devices: str) -> str:
    return fill_defaults(parse_domain(HEAD.format(devices))).to_xml(inactive=True)


def valid(text: str) -> bool:
    return etree.RelaxNG(file=str(SCHEMAS / "domain.rng")).validate(etree.fromstring(text.encode()))


@pytest.mark.parametrize("device,bus,dev", [("cdrom", "ide", "hdc"), ("floppy", "fdc", "fda")])
def test_empty_network_removable_drive_becomes_an_empty_file_drive(device: str, bus: str, dev: str) -> None:
    out = define(f"<disk type='network' device='{device}'><target dev='{dev}' bus='{bus}'/></disk>")
    disk = etree.fromstring(out.encode()).find("devices/disk")
    assert disk.get("type") == "file" and disk.find("source") is None
    assert valid(out)  # a network disk without <source> would not be


def test_a_network_cdrom_with_a_source_stays_network() -> None:
    out = define("<disk type='network' device='cdrom'><source protocol='http' name='/a.iso'>"
                 "<host name='example.org'/></source><target dev='hdc' bus='ide'/></disk>")
    assert etree.fromstring(out.encode()).find("devices/disk").get("type") == "network"


def test_transient_disk_is_kept_at_define_and_refused_at_start() -> None:
    xml = ("<disk type='file'><driver name='qemu' type='qcow2'/><source file='/tmp/a.qcow2'/>"
           "<target dev='vda' bus='virtio'/><transient shareBacking='yes'/></disk>")
    out = define(xml)
    transient = etree.fromstring(out.encode()).find("devices/disk/transient")
    assert transient is not None and transient.get("shareBacking") == "yes"
    assert valid(out)
    with pytest.raises(XMLUnsupportedError, match="transient"):
        build_argv(fill_defaults(parse_domain(HEAD.format(xml))))


@pytest.mark.parametrize("disk,message", [
    ("<disk type='block'><source dev='/dev/sdz'/><target dev='vda'/><transient/></disk>",
     "transient disk supported only with 'file' type (vda)"),
    ("<disk type='file'><source file='/a'/><target dev='vda'/><readonly/><transient/></disk>",
     "transient disk 'vda' must not be read-only"),
    ("<disk type='file' device='cdrom'><source file='/a.iso'/><target dev='hdc'/><transient/></disk>",
     "transient disk 'hdc' must not be read-only"),
    ("<disk type='file' device='floppy'><source file='/a.img'/><target dev='fda'/><transient/></disk>",
     "transient disk supported only with 'disk' device (fda)"),
])
def test_transient_disk_rules(disk: str, message: str) -> None:
    with pytest.raises(XMLError, match=message.replace("(", r"\(").replace(")", r"\)")):
        define(disk)


def test_luks2_with_librbd_is_kept_and_refused_at_start() -> None:
    xml = RBD.format(fmt="luks2", engine=" engine='librbd'")
    out = define(xml)
    enc = etree.fromstring(out.encode()).find("devices/disk/source/encryption")
    assert (enc.get("format"), enc.get("engine")) == ("luks2", "librbd")
    assert valid(out)
    with pytest.raises(XMLUnsupportedError, match="luks2"):
        build_argv(fill_defaults(parse_domain(HEAD.format(xml))))


@pytest.mark.parametrize("disk,message", [
    (RBD.format(fmt="luks2", engine=""), "luks2 is currently not supported by the qemu encryption engine"),
    (RBD.format(fmt="luks2", engine=" engine='qemu'"), "luks2 is currently not supported by the qemu"),
    ("<disk type='file'><source file='/a'><encryption format='luks' engine='librbd'>"
     "<secret type='passphrase' uuid='0a81f5b2-8403-7b23-c8d6-21ccc2f80fb0'/></encryption></source>"
     "<target dev='vda'/></disk>", "librbd encryption is supported only with RBD backed disks"),
])
def test_encryption_engine_rules(disk: str, message: str) -> None:
    with pytest.raises(XMLError, match=message):
        define(disk)


def test_lun_needs_a_block_device_or_an_iscsi_lun_at_define() -> None:
    with pytest.raises(XMLError, match="disk device='lun' is only valid for block type disk source"):
        define("<disk type='file' device='lun'><source file='/a'/><target dev='sda' bus='scsi'/></disk>")
    out = define("<disk type='block' device='lun'><source dev='/dev/sdz'/><target dev='sda' bus='scsi'/></disk>")
    assert valid(out)


@pytest.mark.parametrize("disk", [
    "<disk type='file' device='cdrom'><driver name='qemu' type='iso'/><source file='/a.iso'/>"
    "<target dev='hdc' bus='ide'/></disk>",
    "<disk type='file'><driver name='qemu' type='qcow2'/><source file='/a.qcow2'/><backingStore type='file'>"
    "<format type='iso'/><source file='/b.iso'/></backingStore><target dev='vda' bus='virtio'/></disk>",
])
def test_the_iso_format_is_refused_on_any_layer_of_the_chain(disk: str) -> None:
    with pytest.raises(XMLError, match="storage format 'iso' is not directly supported by QEMU, use 'raw'"):
        define(disk)
    assert "type='raw'" in define(disk.replace("type='iso'", "type='raw'"))  # raw is accepted
