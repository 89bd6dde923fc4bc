"""libvirt 9.0 rules found on unseen qemuxml2argv cases (names m..z): one small case each, own XML.
Each asserts what libvirt 9.0's parser, address assignment or command-line builder does."""

from __future__ import annotations

import json

import pytest

from pyvirt.qemu.argv import build_argv
from pyvirt.xml import fill_defaults, parse_domain
from pyvirt.xml.errors import XMLError

BASE = """<domain type='qemu'><name>g</name><memory unit='MiB'>256</memory><vcpu>1</vcpu>
<os><type arch='x86_64' machine='{machine}'>hvm</type></os><devices>{devices}</devices></domain>"""


def _dom(devices: str, machine: str = "pc"):  # noqa: ANN202
    return fill_defaults(parse_domain(BASE.format(devices=devices, machine=machine)))


def _argv(devices: str, machine: str = "pc") -> list[str]:
    return build_argv(_dom(devices, machine))


def _by_id(argv: list[str]) -> dict[str, dict]:
    devs = [json.loads(argv[i + 1]) for i, a in enumerate(argv[:-1]) if a == "-device"]
    return {d["id"]: d for d in devs if "id" in d}


def _objects(argv: list[str]) -> list[dict]:
    return [json.loads(argv[i + 1]) for i, a in enumerate(argv[:-1]) if a == "-object" and argv[i + 1][0] == "{"]


def test_usb_companions_without_a_master_are_refused() -> None:
    for ctl in ("<controller type='usb' index='0' model='ich9-uhci2'><master startport='2'/></controller>",
                "<controller type='usb' index='0' model='ich9-uhci1'/>"):
        with pytest.raises(XMLError, match="No master USB controller specified"):
            _dom(ctl)
    # a master of any model makes the companions valid
    ok = ("<controller type='usb' index='0' model='ich9-ehci1'/>"
          "<controller type='usb' index='0' model='ich9-uhci1'><master startport='0'/></controller>")
    assert len(_dom(ok).devices.controllers) >= 2


def test_a_single_watchdog_only() -> None:
    with pytest.raises(XMLError, match="only a single watchdog device is supported"):
        _dom("<watchdog model='ib700'/><watchdog model='i6300esb'/>", "q35")
    assert "-watchdog-action" in _argv("<watchdog model='ib700' action='poweroff'/>")


def test_empty_random_rng_backend_reads_dev_random() -> None:
    dom = _dom("<rng model='virtio'><backend model='random'/></rng>")
    assert dom.devices.rngs[0].backend == "/dev/random"
    rng = [o for o in _objects(build_argv(dom)) if o["qom-type"] == "rng-random"]
    assert rng == [{"qom-type": "rng-random", "id": "objrng0", "filename": "/dev/random"}]


def test_first_ich9_sound_sits_at_slot_1b_on_q35() -> None:
    ids = _by_id(_argv("<sound model='ich6'/><sound model='ich9'/><sound model='ich9'/>", "q35"))
    assert (ids["sound1"]["bus"], ids["sound1"]["addr"]) == ("pcie.0", "0x1b")
    assert ids["sound2"]["bus"] != "pcie.0"  # only the first one
    assert ids["sound0"]["bus"] != "pcie.0"  # ich6 is a conventional PCI device behind a bridge


def test_primary_video_moves_first_and_is_the_vga_one() -> None:
    vids = ("<video><model type='qxl' heads='3'/></video>"
            "<video><model type='qxl' heads='1' primary='yes'/></video>")
    dom = _dom(vids)
    assert [v.model_heads for v in dom.devices.videos] == [1, 3]
    drivers = {d["id"]: d["driver"] for d in _by_id(build_argv(dom)).values()}
    assert drivers["video0"] == "qxl-vga" and drivers["video1"] == "qxl"
    assert "<video>\n      <model type='qxl' ram='65536' vram='65536' vgamem='16384' heads='1' primary='yes'/>" \
        in dom.to_xml(inactive=True).replace('"', "'")


def _usb_ports(argv: list[str]) -> dict[str, str]:
    return {i: d["port"] for i, d in _by_id(argv).items() if "port" in d and d.get("bus") == "usb.0"}


def test_usb_hubs_and_port_paths() -> None:
    devs = ("<hub type='usb'><address type='usb' bus='0' port='1'/></hub>"
            "<input type='mouse' bus='usb'><address type='usb' bus='0' port='1.1'/></input>"
            "<hub type='usb'><address type='usb' bus='0' port='1.2'/></hub>"
            "<input type='mouse' bus='usb'><address type='usb' bus='0' port='1.2.1'/></input>")
    argv = _argv(devs)
    assert {"driver": "usb-hub", "id": "hub1", "bus": "usb.0", "port": "1.2"} in _by_id(argv).values()
    assert _usb_ports(argv) == {"hub0": "1", "hub1": "1.2", "input0": "1.1", "input1": "1.2.1"}
    # hubs come right after the controllers, before the devices plugged into them
    order = [json.loads(argv[i + 1])["id"] for i, a in enumerate(argv[:-1]) if a == "-device"]
    assert order.index("hub0") < order.index("input0")


def test_usb_ports_fill_hubs_first_then_the_root_then_hub_ports() -> None:
    # piix3-uhci has two ports: four devices need a hub, which takes port 1 before them
    ports = _usb_ports(_argv("<input type='mouse' bus='usb'/>" * 3 + "<input type='tablet' bus='usb'/>"))
    assert ports == {"hub0": "1", "input0": "2", "input1": "1.1", "input2": "1.2", "input3": "1.3"}
    many = _usb_ports(_argv("<input type='tablet' bus='usb'/>" * 15))
    assert many["hub0"] == "1" and many["hub1"] == "2" and many["input7"] == "1.8" and many["input8"] == "2.1"
    # hubs without a port take theirs before the devices do
    ports = _usb_ports(_argv("<input type='mouse' bus='usb'><address type='usb' bus='0'/></input>"
                             "<hub type='usb'/><hub type='usb'/>"))
    assert ports == {"hub0": "1", "hub1": "2", "input0": "1.1"}


@pytest.mark.parametrize(("devices", "message"), [
    ("<hub type='usb'><address type='usb' bus='0' port='1'/></hub>"
     "<input type='mouse' bus='usb'><address type='usb' bus='0' port='1'/></input>",
     "Duplicate USB address bus 0 port 1"),
    ("<hub type='usb'><address type='usb' bus='0' port='1'/></hub>"
     "<input type='mouse' bus='usb'><address type='usb' bus='0' port='1.9'/></input>",
     "requested USB port 1.9 not present on USB bus 0"),
    ("<input type='mouse' bus='usb'><address type='usb' bus='0' port='3'/></input>",
     "requested USB port 3 not present on USB bus 0"),
    ("<input type='mouse' bus='usb'><address type='usb' bus='0' port='2.1'/></input>",
     "there is no hub at port 2"),
])
def test_usb_address_checks(devices: str, message: str) -> None:
    with pytest.raises(XMLError, match=message):
        _dom(devices)


def test_usb_port_count_follows_the_controller_model() -> None:
    xhci = "<controller type='usb' model='qemu-xhci' ports='8'/>"
    ports = _usb_ports(_argv(xhci + "<input type='tablet' bus='usb'/>" * 8, "q35"))
    assert "hub0" not in ports and ports["input7"] == "8"
    ports = _usb_ports(_argv("<controller type='usb' model='qemu-xhci'/>" + "<input type='tablet' bus='usb'/>" * 5,
                             "q35"))
    assert ports["hub0"] == "1"  # four ports by default


def test_smartcard_modes_on_an_implicit_ccid_controller() -> None:
    dom = _dom("<smartcard mode='host'/>")
    ccid = [c for c in dom.devices.controllers if c.type == "ccid"]
    assert len(ccid) == 1 and ccid[0].index == 0
    assert (dom.devices.smartcards[0].address.type, dom.devices.smartcards[0].address.slot) == ("ccid", 0)
    ids = _by_id(build_argv(dom))
    assert ids["ccid0"] == {"driver": "usb-ccid", "id": "ccid0", "bus": "usb.0", "port": "1"}
    assert ids["smartcard0"] == {"driver": "ccid-card-emulated", "backend": "nss-emulated", "id": "smartcard0",
                                 "bus": "ccid0.0"}
    certs = _by_id(_argv("<smartcard mode='host-certificates'><certificate>a</certificate>"
                         "<certificate>b</certificate><certificate>c</certificate></smartcard>"))["smartcard0"]
    assert (certs["backend"], certs["cert1"], certs["cert3"], certs["db"]) == ("certificates", "a", "c",
                                                                              "/etc/pki/nssdb")
    argv = _argv("<smartcard mode='passthrough' type='tcp'><source mode='bind' host='127.0.0.1' service='2001'/>"
                 "<protocol type='raw'/></smartcard>")
    assert "socket,id=charsmartcard0,host=127.0.0.1,port=2001,server=on,wait=off" in argv
    assert _by_id(argv)["smartcard0"]["driver"] == "ccid-card-passthru"
    assert "<smartcard mode='passthrough' type='tcp'>" in dom.__class__.to_xml(_dom(
        "<smartcard mode='passthrough' type='tcp'><source mode='bind' host='h' service='1'/></smartcard>"),
        inactive=True).replace('"', "'")


@pytest.mark.parametrize(("devices", "message"), [
    ("<smartcard mode='host-certificates'><certificate>a</certificate></smartcard>", "exactly three certificates"),
    ("<smartcard mode='host-certificates'><certificate>a</certificate><certificate>b</certificate>"
     "<certificate>c</certificate><database>rel/db</database></smartcard>", "expecting absolute path"),
    ("<smartcard mode='passthrough'/>", "requires a character device type"),
])
def test_smartcard_checks(devices: str, message: str) -> None:
    with pytest.raises(XMLError, match=message):
        _dom(devices)


def test_a_second_smartcard_is_refused_as_libvirt_9_0() -> None:
    with pytest.raises(XMLError, match="lacks multiple smartcard support"):
        _argv("<smartcard mode='host'/><smartcard mode='host'/>")


def test_virgl_virtio_gpus_use_the_gl_models() -> None:
    ids = _by_id(_argv("<video><model type='virtio' heads='1'><acceleration accel3d='yes'/></model></video>"
                       "<video><model type='virtio' heads='1'><acceleration accel3d='yes'/></model></video>"
                       "<video><model type='virtio' heads='1'><acceleration accel3d='no'/></model></video>"))
    assert [ids[f"video{n}"]["driver"] for n in range(3)] == ["virtio-vga-gl", "virtio-gpu-gl-pci", "virtio-gpu-pci"]


def test_virtio_net_offloads() -> None:
    nic = ("<interface type='user'><mac address='52:54:00:00:00:01'/><model type='virtio'/><driver>"
           "<host csum='off' gso='on' mrg_rxbuf='off'/><guest tso4='off' ufo='on'/></driver></interface>")
    dev = _by_id(_argv(nic))["net0"]
    assert (dev["csum"], dev["gso"], dev["mrg_rxbuf"], dev["guest_tso4"], dev["guest_ufo"]) == (
        False, True, False, False, True)
    assert "host_tso4" not in dev
    assert "<host csum='off' gso='on' mrg_rxbuf='off'/>" in _dom(nic).to_xml(inactive=True).replace('"', "'")
    # an e1000's <driver> is dropped at define, as libvirt 9.0's parser drops it
    assert "csum" not in _by_id(_argv(nic.replace("virtio", "e1000")))["net0"]


def test_isa_serial_addresses_and_debugcon() -> None:
    ids = _by_id(_argv("<serial type='pty'><target port='0'/><address type='isa' iobase='0x3f8' irq='0x4'/>"
                       "</serial><serial type='pty'><target type='isa-debug'/>"
                       "<address type='isa' iobase='0x402'/></serial>"))
    assert (ids["serial0"]["iobase"], ids["serial0"]["irq"]) == (0x3F8, 4)
    assert ids["serial1"] == {"driver": "isa-debugcon", "chardev": "charserial1", "id": "serial1", "iobase": 0x402}
    assert "<model name='isa-debugcon'/>" in _dom("<serial type='pty'><target type='isa-debug'/></serial>").to_xml(
        inactive=True).replace('"', "'")


def test_pipe_and_spiceport_chardevs() -> None:
    argv = _argv("<channel type='pipe'><source path='/tmp/p,x'/><target type='virtio' name='org.a'/></channel>"
                 "<serial type='spiceport'><source channel='org.qemu.console.serial.0'/></serial>"
                 "<graphics type='spice'/>")
    chardevs = [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == "-chardev"]
    assert "pipe,id=charchannel0,path=/tmp/p,,x" in chardevs
    assert "spiceport,id=charserial0,name=org.qemu.console.serial.0" in chardevs
    with pytest.raises(XMLError, match="not supported without spice graphics"):
        _argv("<serial type='spiceport'><source channel='c'/></serial>")


def test_serial_ports_default_past_the_highest_in_use() -> None:
    dom = _dom("<serial type='pty'/><serial type='pty'><target port='0'/></serial>")
    assert [s.target_port for s in dom.devices.serials] == [1, 0]
    ids = _by_id(build_argv(dom))
    assert (ids["serial0"]["index"], ids["serial1"]["index"]) == (1, 0)


@pytest.mark.parametrize(("xml_devices", "message"), [
    ("<video><model type='qxl'/></video><video><model type='none'/></video>",
     "a 'none' video type must be the only video device"),
    ("<hub type='usb'><address type='usb' bus='0' port='1.1.1.1.1'/></hub>", "Cannot parse <address> 'port'"),
    ("<input type='tablet' bus='usb'><address type='usb' bus='0' port='1.x'/></input>", "Cannot parse <address>"),
])
def test_more_libvirt_refusals(xml_devices: str, message: str) -> None:
    with pytest.raises(XMLError, match=message):
        _dom(xml_devices)


def test_several_domain_seclabels_each_name_their_model() -> None:
    two = BASE.format(devices="", machine="pc").replace(
        "</domain>", "<seclabel type='none' relabel='no'/><seclabel type='dynamic' model='dac'/></domain>")
    with pytest.raises(XMLError, match="missing security model when using multiple labels"):
        parse_domain(two)
    dup = two.replace("<seclabel type='none' relabel='no'/>", "<seclabel type='none' model='dac'/>")
    with pytest.raises(XMLError, match="seclabel for model dac is already defined"):
        parse_domain(dup)


def test_pci_option_roms() -> None:
    nic = "<interface type='user'><mac address='52:54:00:00:00:0{n}'/><model type='virtio'/>{rom}</interface>"
    ids = _by_id(_argv(nic.format(n=1, rom="<rom bar='off' file='/r.bin'/>")
                       + nic.format(n=2, rom="<rom enabled='no'/>") + nic.format(n=3, rom="<rom file=''/>")
                       + nic.format(n=4, rom="")))
    assert (ids["net0"]["rombar"], ids["net0"]["romfile"]) == (0, "/r.bin")
    assert ids["net1"]["romfile"] == "" and ids["net2"]["romfile"] == "" and "romfile" not in ids["net3"]
    assert "<rom enabled='no'/>" in _dom(nic.format(n=3, rom="<rom file=''/>")).to_xml(inactive=True).replace('"', "'")
    with pytest.raises(XMLError, match="ROM tuning is not supported when ROM is disabled"):
        _dom(nic.format(n=1, rom="<rom enabled='no' bar='on'/>"))


def test_machine_types_qemu_7_2_lacks_are_refused_without_probed_caps() -> None:
    with pytest.raises(XMLError, match="does not support machine type 'pc-i440fx-wily'"):
        _argv("", "pc-i440fx-wily")
    with pytest.raises(XMLError, match="does not support machine type 'pc-1.2'"):
        _argv("", "pc-1.2")
    assert _argv("", "pc-q35-4.0.1")[5].startswith("pc-q35-4.0.1,")


def test_ethernet_nics_are_taps() -> None:
    eth = ("<interface type='ethernet'><mac address='52:54:00:00:00:01'/><script path='/etc/qemu-ifup'/>"
           "<target dev='mytap0' managed='no'/><model type='virtio'/></interface>")
    argv = _argv(eth)
    netdevs = [json.loads(argv[i + 1]) for i, a in enumerate(argv[:-1]) if a == "-netdev"]
    assert netdevs[0]["type"] == "tap" and "fd" in netdevs[0]
    assert netdevs[0]["vhost"] is True and "vhostfd" in netdevs[0]  # a virtio tap NIC in test mode
    plain = _argv(eth.replace("<model type='virtio'/>", "<model type='virtio'/><driver name='qemu'/>"))
    assert "vhost" not in json.loads(plain[plain.index("-netdev") + 1])
    xml = _dom(eth).to_xml(inactive=True).replace('"', "'")
    assert "<script path='/etc/qemu-ifup'/>\n      <target dev='mytap0' managed='no'/>" in xml
    with pytest.raises(XMLError, match="scripts are not supported on interfaces of type user"):
        _argv("<interface type='user'><script path='/s'/></interface>")


def test_ethernet_taps_in_the_daemon(monkeypatch: pytest.MonkeyPatch) -> None:
    from pyvirt.api import PyvirtError
    from pyvirt.daemon import nics
    from pyvirt.network import hostnet

    calls: list[tuple] = []
    monkeypatch.setattr(hostnet, "open_tap", lambda name, vnet_hdr=True: calls.append(("open", name)) or 42)
    monkeypatch.setattr(hostnet, "link_up", lambda name: calls.append(("up", name)))
    monkeypatch.setattr(nics, "_run_script", lambda script, tap: calls.append(("script", script, tap)))
    nic = _dom("<interface type='ethernet'><mac address='52:54:00:00:00:01'/><script path='/s'/></interface>"
               ).devices.interfaces[0]
    assert nics.open_tap(nic, None, {"vnet0"}) == 42
    assert calls == [("open", "vnet1"), ("up", "vnet1"), ("script", "/s", "vnet1")] and nic.target_dev == "vnet1"
    unmanaged = _dom("<interface type='ethernet'><target dev='mytap0' managed='no'/></interface>").devices.interfaces[0]
    calls.clear()
    assert nics.open_tap(unmanaged, None, {"mytap0"}) == 42 and calls == [("open", "mytap0")]
    with pytest.raises(PyvirtError, match="No such device"):
        nics.open_tap(unmanaged, None, set())
    with pytest.raises(PyvirtError, match="needs qemu:///system"):
        nics.session_nic(_dom("<interface type='ethernet'/>").devices.interfaces[0])


def test_ethernet_host_side_addresses(monkeypatch: pytest.MonkeyPatch) -> None:
    from pyvirt.daemon import nics
    from pyvirt.network import hostnet

    eth = ("<interface type='ethernet'><mac address='52:54:00:00:00:01'/><source>"
           "<ip address='192.168.125.1' family='ipv4' prefix='24' peer='192.168.125.2'/>"
           "<route family='ipv4' address='10.20.0.0' prefix='16' gateway='192.168.125.2'/></source>"
           "<model type='rtl8139'/></interface>")
    xml = _dom(eth).to_xml(inactive=True).replace('"', "'")
    assert "<source>\n        <ip address='192.168.125.1' family='ipv4' prefix='24' peer='192.168.125.2'/>" in xml
    assert _by_id(_argv(eth))["net0"]["driver"] == "rtl8139"
    calls: list[tuple] = []
    monkeypatch.setattr(hostnet, "open_tap", lambda name, vnet_hdr=True: 7)
    monkeypatch.setattr(hostnet, "link_up", lambda name: None)
    monkeypatch.setattr(hostnet, "addr_add", lambda *a: calls.append(("addr", *a)))
    monkeypatch.setattr(hostnet, "route_add", lambda *a: calls.append(("route", *a)))
    assert nics.open_tap(_dom(eth).devices.interfaces[0], None, set()) == 7
    assert calls == [("addr", "vnet0", "192.168.125.1", 24, "192.168.125.2"),
                     ("route", "vnet0", "10.20.0.0/16", "192.168.125.2", None)]
    with pytest.raises(XMLError, match="belong to ethernet interfaces"):
        _argv(eth.replace("type='ethernet'", "type='user'"))
