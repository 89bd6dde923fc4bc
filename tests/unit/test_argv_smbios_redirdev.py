"""<sysinfo type='smbios'> -> -smbios, and SPICE's redirdev/agent channel, as libvirt 9.0 builds them.

libvirt's 9.0 test data has no x86_64 smbios case, so these pin the option layout of
qemuBuildSmbios*Str (field order, the always-written manufacturer of types 2 and 3, comma
escaping) and what virt-install's default SPICE devices turn into.
"""

from __future__ import annotations

import json

import pytest

from pyvirt.qemu.argv import build_argv
from pyvirt.xml import fill_defaults, parse_domain
from pyvirt.xml.errors import XMLConfigError, XMLError, XMLUnsupportedError

UUID = "c7a5fdbd-edaf-9455-926a-d65c16db1809"
BASE = """<domain type='qemu'><name>g</name><uuid>{uuid}</uuid><memory unit='MiB'>256</memory>
<vcpu>1</vcpu>{sysinfo}<os><type arch='x86_64' machine='{machine}'>hvm</type>{smbios}</os>
<devices>{devices}</devices></domain>"""

FULL = f"""<sysinfo type='smbios'>
<system><entry name='family'>Fam</entry><entry name='manufacturer'>Acme, Inc.</entry>
  <entry name='serial'>ds=nocloud</entry><entry name='uuid'>{UUID}</entry><entry name='serial'>2nd</entry></system>
<bios><entry name='vendor'>LENOVO</entry><entry name='date'>01/01/2011</entry>
  <entry name='release'>10.22</entry></bios>
<baseBoard><entry name='product'>board</entry><entry name='asset'>a1</entry></baseBoard>
<chassis><entry name='serial'>cs</entry><entry name='sku'>ck</entry></chassis>
<oemStrings><entry>myappname:some arbitrary data</entry><entry>otherapp:a,b</entry></oemStrings>
</sysinfo>"""


def _dom(sysinfo: str = "", smbios: str = "<smbios mode='sysinfo'/>", devices: str = "",
         machine: str = "pc", uuid: str = UUID):
    xml = BASE.format(sysinfo=sysinfo, smbios=smbios, devices=devices, machine=machine, uuid=uuid)
    if not uuid:
        xml = xml.replace("<uuid></uuid>", "")
    return fill_defaults(parse_domain(xml))


def _opts(argv: list[str], opt: str) -> list[str]:
    return [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == opt]


def test_smbios_tables_in_libvirt_layout() -> None:
    argv = build_argv(_dom(FULL))
    assert _opts(argv, "-smbios") == [
        "type=0,vendor=LENOVO,date=01/01/2011,release=10.22",
        f"type=1,manufacturer=Acme,, Inc.,serial=ds=nocloud,uuid={UUID},family=Fam",
        "type=2,manufacturer=,product=board,asset=a1",
        "type=3,manufacturer=,serial=cs,sku=ck",
        "type=11,value=myappname:some arbitrary data,value=otherapp:a,,b",
    ]
    assert argv.index("-smbios") == argv.index("-uuid") + 2  # right after -uuid, as libvirt


def test_sysinfo_round_trips_in_libvirt_order() -> None:
    dom = _dom(FULL)
    text = dom.to_xml()
    assert text.index("<sysinfo") < text.index("<os>")
    system = dom.sysinfos[0].system
    assert [(e.name, e.value) for e in system.entries] == [
        ("manufacturer", "Acme, Inc."), ("serial", "ds=nocloud"), ("uuid", UUID), ("family", "Fam")]
    assert fill_defaults(parse_domain(text)) == dom


def test_smbios_modes() -> None:
    assert "-smbios" not in build_argv(_dom(FULL, smbios=""))  # sysinfo alone changes nothing
    assert "-smbios" not in build_argv(_dom(FULL, smbios="<smbios mode='emulate'/>"))
    with pytest.raises(XMLUnsupportedError, match="host's DMI"):
        build_argv(_dom(FULL, smbios="<smbios mode='host'/>"))
    with pytest.raises(XMLError, match="sysinfo are not available"):
        build_argv(_dom())


def test_sysinfo_checks() -> None:
    with pytest.raises(XMLError, match="UUID mismatch"):
        _dom(FULL.replace(UUID, "11111111-2222-3333-4444-555555555555"))
    assert _dom(FULL, uuid="").uuid == UUID  # the domain takes the sysinfo uuid
    with pytest.raises(XMLError, match="Invalid BIOS 'date' format"):
        _dom("<sysinfo type='smbios'><bios><entry name='date'>2011-01-01</entry></bios></sysinfo>")
    # an entry of a name libvirt does not look up is not read (libvirt 9.0 defines it, without it)
    dom = _dom("<sysinfo type='smbios'><chassis><entry name='bogus'>x</entry>"
               "<entry name='serial'>s</entry></chassis></sysinfo>")
    assert [e.name for e in dom.sysinfos[0].chassis.entries] == ["serial"]
    # type='fwcfg' is supported now (test_argv_libvirt_rules.test_fw_cfg_entries); its entries only there
    with pytest.raises(XMLError, match="only 'fwcfg' has them"):
        build_argv(_dom("<sysinfo type='smbios'><entry name='opt/x'>y</entry></sysinfo>"))
    two = "<sysinfo type='smbios'><baseBoard><entry name='product'>a</entry></baseBoard>" \
          "<baseBoard><entry name='product'>b</entry></baseBoard></sysinfo>"
    with pytest.raises(XMLConfigError, match="more than one entry to Type 2 in SMBIOS table"):  # libvirt 9.0's words
        build_argv(_dom(two))


SPICE = """<controller type='usb' model='ich9-ehci1'/>
<controller type='usb' model='ich9-uhci1'><master startport='0'/></controller>
<controller type='usb' model='ich9-uhci2'><master startport='2'/></controller>
<controller type='usb' model='ich9-uhci3'><master startport='4'/></controller>
<channel type='spicevmc'><target type='virtio'/></channel>
<input type='tablet' bus='usb'/>
<graphics type='spice' port='-1' tlsPort='-1' autoport='yes'><image compression='off'/></graphics>
<video><model type='qxl'/></video>
<redirdev bus='usb' type='spicevmc'/><redirdev bus='usb' type='spicevmc'/>"""


def test_virt_install_spice_defaults() -> None:
    dom = _dom(smbios="", devices=SPICE, machine="q35")
    assert {c.index for c in dom.devices.controllers if c.type == "usb"} == {0}
    assert dom.devices.channels[0].target_name is None  # libvirt 9.0's define names no port
    argv = build_argv(dom)
    port = next(json.loads(v) for v in _opts(argv, "-device") if '"virtserialport"' in v)
    assert port["name"] == "com.redhat.spice.0"  # its command line does (domxml-to-native)
    chardevs = _opts(argv, "-chardev")
    assert "spicevmc,id=charchannel0,name=vdagent" in chardevs
    assert chardevs[-2:] == ["spicevmc,id=charredir0,name=usbredir", "spicevmc,id=charredir1,name=usbredir"]
    devs = [json.loads(v) for v in _opts(argv, "-device")]
    redir = [d for d in devs if d["driver"] == "usb-redir"]
    assert redir == [{"driver": "usb-redir", "chardev": "charredir0", "id": "redir0", "bus": "usb.0", "port": "2"},
                     {"driver": "usb-redir", "chardev": "charredir1", "id": "redir1", "bus": "usb.0", "port": "3"}]
    port = next(d for d in devs if d["driver"] == "virtserialport")
    assert port["chardev"] == "charchannel0" and port["name"] == "com.redhat.spice.0"
    assert [d.get("firstport") for d in devs if d["driver"].startswith("ich9-usb-uhci")] == [0, 2, 4]
    assert _opts(argv, "-spice")[0].endswith("image-compression=off,seamless-migration=on")
    # a reparse moves the PCI root ports next to the root (virDomainControllerInsertPreAlloced, as
    # real libvirt 9.0 does with its own output); from then on the definition is stable
    once = fill_defaults(parse_domain(dom.to_xml()))
    assert fill_defaults(parse_domain(once.to_xml())) == once


def test_redirdev_sockets_and_refusals() -> None:
    argv = build_argv(_dom(smbios="", devices="<redirdev bus='usb' type='tcp'><source mode='connect' "
                           "host='localhost' service='4000'/><protocol type='raw'/><boot order='1'/></redirdev>"))
    assert "socket,id=charredir0,host=localhost,port=4000" in _opts(argv, "-chardev")
    (redir,) = [json.loads(v) for v in _opts(argv, "-device") if "usb-redir" in v]
    assert redir["bootindex"] == 1 and redir["port"] == "1"
    with pytest.raises(XMLError, match="chardev 'spicevmc' not supported without spice graphics"):  # as libvirt
        build_argv(_dom(smbios="", devices="<graphics type='vnc'/><redirdev bus='usb' type='spicevmc'/>"))
    with pytest.raises(XMLError, match="spicevmc device type only supports virtio"):  # at define, as libvirt
        _dom(smbios="", devices="<graphics type='spice'/><serial type='spicevmc'/>")
