"""Documents libvirt 9.0 reads past and pyvirt used to refuse (docs/conformance.md, the sixth
qemuxml2xml round's "Left"): checked against a private libvirtd by hand, kept here as rules."""

from __future__ import annotations

from pyvirt.qemu.argv import build_argv
from pyvirt.xml import fill_defaults, parse_domain
from pyvirt.xml.volume import VolumeDef


def _doc(body: str) -> str:
    return f"<domain type='qemu'><name>g</name><memory>65536</memory>{body}</domain>"


def test_two_os_elements_read_as_libvirts_xpath_reads_them() -> None:
    # ./os/type[1] text and machine: the first; type/@arch: the first copy that has one;
    # <boot>: every copy's; a child only the later copy has: kept; <bootmenu>: the first only
    dom = parse_domain(_doc(
        "<os><type machine='pc'>hvm</type><boot dev='hd'/><bootmenu enable='yes'/></os>"
        "<os firmware='efi'><type arch='i686' machine='q35'>hvm</type><boot dev='network'/>"
        "<bootmenu enable='no' timeout='300'/><kernel>/tmp/k</kernel></os>"), define_rules=False)
    os_ = dom.os
    assert os_ is not None
    assert (os_.arch, os_.machine, os_.boot_devs) == ("i686", "pc", ["hd", "network"])
    assert (os_.bootmenu_enable, os_.bootmenu_timeout, os_.kernel) == (True, None, "/tmp/k")
    assert dom.to_xml(inactive=True).count("<os") == 1


def test_bios_is_written_before_smbios() -> None:
    xml = parse_domain(_doc("<os><type arch='x86_64' machine='pc'>hvm</type><smbios mode='emulate'/>"
                            "<bios rebootTimeout='100'/></os>")).to_xml(inactive=True)
    assert xml.index("<bios ") < xml.index("<smbios ")


def test_an_empty_chardev_path_is_kept() -> None:
    # a NULL check in libvirt: path='' is kept, written back and put on QEMU's line as given
    for kind, head, source in (("file", "file", "<source path=''/>"), ("pipe", "pipe", "<source path=''/>"),
                               ("dev", "serial", "<source path=''/>"),
                               ("unix", "socket", "<source mode='connect' path=''/>")):
        dom = fill_defaults(parse_domain(_doc("<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>"
                                              f"<serial type='{kind}'><source path=''/></serial></devices>")))
        assert dom.devices.serials[0].source_path == ""
        assert source in dom.to_xml(inactive=True)
        assert f"{head},id=charserial0,path=" in build_argv(dom)


def test_a_repeated_qcow2_feature_is_one_feature() -> None:
    vol = VolumeDef.from_xml("<volume><name>v.qcow2</name><capacity>1048576</capacity><target>"
                             "<format type='qcow2'/><features><lazy_refcounts/><extended_l2/>"
                             "<lazy_refcounts/></features></target></volume>", "dir")
    xml = vol.to_xml()
    assert xml.count("<lazy_refcounts/>") == 1 and xml.count("<extended_l2/>") == 1
