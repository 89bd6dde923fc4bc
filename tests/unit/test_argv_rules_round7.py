"""libvirt 9.0 rules found on the seventh round of unseen qemuxml2argv probes (a new random sample
of libvirt's held-back inputs): one small case each, own XML, each checked against the real
libvirt 9.0's ``virsh define`` / ``domxml-to-native`` / a started guest's command line first."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from pyvirt.cpudef import CpuDef
from pyvirt.qemu.argv import build_argv
from pyvirt.qemu.argv_common import RuntimePaths
from pyvirt.qemu.argv_machine import needs_host_model
from pyvirt.xml import fill_defaults, parse_domain
from pyvirt.xml.errors import XMLConfigError, XMLError, XMLInternalError, XMLUnsupportedError

BASE = """<domain type='{type}'><name>g</name><memory unit='MiB'>256</memory>
<os><type arch='x86_64' machine='pc'>hvm</type></os>{cpu}<devices>{devices}</devices>{tail}</domain>"""


def _dom(devices: str = "", cpu: str = "", tail: str = "", type: str = "qemu"):
    return fill_defaults(parse_domain(BASE.format(devices=devices, cpu=cpu, tail=tail, type=type)))


def _opt(argv: list[str], name: str) -> list[str]:
    return [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == name]


# --- ISA serial ports written twice --------------------------------------------------------------

def _serial(target: str) -> str:
    return f"<serial type='pty'><target {target}/></serial>"


def test_two_written_isa_serials_on_one_port_are_refused() -> None:
    with pytest.raises(XMLInternalError, match="target port '1' already allocated"):
        _dom(_serial("type='isa-serial' port='1'") * 2)


@pytest.mark.parametrize("devices", [
    _serial("port='0'") * 2,                                          # untyped: typed only later
    _serial("port='0'") + _serial("type='isa-serial' port='0'"),
    _serial("type='pci-serial' port='0'") * 2,                        # not ISA ports
])
def test_shared_serial_ports_libvirt_lets_through(devices: str) -> None:
    assert len(_opt(build_argv(_dom(devices)), "-device")) >= 2


# --- a disk layer's label override needs a relabelling domain label ------------------------------

def _disk(layer_label: str, backing: bool = False) -> str:
    if backing:
        return ("<disk type='file' device='disk'><source file='/i/top.qcow2'/><backingStore type='file'>"
                f"<format type='raw'/><source file='/i/base.img'>{layer_label}</source></backingStore>"
                "<target dev='vda' bus='virtio'/></disk>")
    return f"<disk type='file' device='disk'><source file='/i/a.img'>{layer_label}</source>" \
           "<target dev='vda' bus='virtio'/></disk>"


STATIC_DAC = "<seclabel type='static' model='dac'><label>+1:+1</label></seclabel>"


@pytest.mark.parametrize(("label", "domain", "backing"), [
    ("<seclabel model='dac' relabel='no'/>", STATIC_DAC, False),        # static: relabel off by default
    ("<seclabel model='dac' relabel='yes'/>", STATIC_DAC, False),       # whatever the layer's own relabel
    ("<seclabel model='dac' relabel='no'/>", "<seclabel type='none' model='dac'/>", False),
    ("<seclabel model='dac' relabel='no'/>", STATIC_DAC, True),         # every layer of the chain
])
def test_label_override_under_a_domain_label_without_relabelling_is_refused(label: str, domain: str,
                                                                            backing: bool) -> None:
    with pytest.raises(XMLConfigError, match="label overrides require relabeling to be enabled at the domain level"):
        _dom(_disk(label, backing), tail=domain)


@pytest.mark.parametrize(("label", "domain"), [
    ("<seclabel model='dac' relabel='no'/>", "<seclabel type='dynamic' model='dac'/>"),
    ("<seclabel model='dac' relabel='no'/>", STATIC_DAC.replace("model='dac'", "model='dac' relabel='yes'")),
    ("<seclabel relabel='no'/>", STATIC_DAC),                           # no model: nothing overridden
    ("<seclabel model='dac' relabel='no'/>", "<seclabel type='none'/>"),
])
def test_label_overrides_libvirt_accepts(label: str, domain: str) -> None:
    _dom(_disk(label), tail=domain)


# --- virtio channels whose socket libvirt names ---------------------------------------------------

def _start_runtime() -> RuntimePaths:
    """A pyvirtd start's plumbing, not the harness's (which passes listening fds instead)."""
    return replace(RuntimePaths.debug("g"), test_mode=False, channel_dir="/run/ch")


def _channel(source: str = "", target: str = "", address: str = "") -> str:
    return f"<channel type='unix'>{source}<target type='virtio'{target}/>{address}</channel>"


def test_unnamed_virtio_channel_socket_is_named_after_its_port() -> None:
    devices = ("<controller type='virtio-serial' index='3'/>"
               + _channel(address="<address type='virtio-serial' controller='3' bus='0' port='7'/>")
               + _channel())
    chardevs = _opt(build_argv(_dom(devices), runtime=_start_runtime()), "-chardev")
    assert "socket,id=charchannel0,path=/run/ch/vioser-03-00-07.sock,server=on,wait=off" in chardevs
    assert "socket,id=charchannel1,path=/run/ch/vioser-00-00-01.sock,server=on,wait=off" in chardevs


def test_a_generated_channel_socket_is_always_qemus_to_create() -> None:
    # <source mode='connect'/> without a path: libvirt names the socket, so QEMU listens on it
    devices = _channel("<source mode='connect'/>", " name='org.qemu.guest_agent.0'")
    chardevs = _opt(build_argv(_dom(devices), runtime=_start_runtime()), "-chardev")
    assert "socket,id=charchannel0,path=/run/ch/org.qemu.guest_agent.0,server=on,wait=off" in chardevs


# --- a user NIC's guest-side network --------------------------------------------------------------

def _user_nic(ips: str, type: str = "user") -> str:
    return f"<interface type='{type}'><mac address='52:54:00:00:00:01'/>{ips}<model type='e1000'/></interface>"


def _netdev(ips: str) -> dict:
    return json.loads(_opt(build_argv(_dom(_user_nic(ips))), "-netdev")[0])


@pytest.mark.parametrize(("ips", "props"), [
    ("<ip address='10.9.0.0' prefix='16'/><ip address='fd00:1::' prefix='64'/>",
     {"net": "10.9.0.0/16", "ipv6-prefix": "fd00:1::", "ipv6-prefixlen": 64}),
    ("<ip address='10.9.0.0'/>", {"net": "10.9.0.0"}),
    ("<ip address='FD00:0001::5' prefix='0'/>", {"ipv6-prefix": "fd00:1::5"}),  # prefix 0: none
])
def test_user_nic_ip_sets_the_slirp_networks(ips: str, props: dict) -> None:
    assert _netdev(ips) == {"type": "user", **props, "id": "hostnet0"}


def test_user_nic_ip_family_is_written_as_libvirt_writes_it() -> None:
    xml = _dom(_user_nic("<ip address='10.9.0.0' prefix='16'/>")).to_xml(inactive=True)
    assert "<ip address='10.9.0.0' family='ipv4' prefix='16'/>" in xml
    nic = xml[xml.index("<interface"):xml.index("</interface>")]
    assert nic.index("<mac ") < nic.index("<ip ") < nic.index("<model ")


@pytest.mark.parametrize(("ips", "type", "error", "message"), [
    ("<ip address='10.9.0.0' prefix='28'/>", "user", XMLError, "invalid prefix, must be in range of 4-27"),
    ("<ip address='fd00::' prefix='96'/>", "user", XMLConfigError, "unsupported IPv6 address prefix='96' - must be 64"),
    ("<ip address='10.9.0.0'/><ip address='10.8.0.0'/>", "user", XMLConfigError,
     "Only one IPv4 address per interface is allowed"),
    ("<ip address='10.9.0.0' prefix='16' peer='10.9.0.1'/>", "user", XMLConfigError,
     "Invalid attempt to set peer IP for guest"),
    ("<ip address='10.9.0.0' prefix='16'/>", "ethernet", XMLConfigError,
     "Invalid attempt to set network interface guest-side IP route and/or address info"),
    ("<ip prefix='16'/>", "user", XMLError, "Missing required address in <ip>"),
    ("<ip address='10.9.0.0' family='ipv6'/>", "user", XMLError, "Invalid address '10.9.0.0' in <ip>"),
    ("<ip address='10.9.0.0' prefix='33'/>", "user", XMLError, "Invalid prefix value '33' in <ip>"),
])
def test_user_nic_ip_rules(ips: str, type: str, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        _dom(_user_nic(ips, type))


# --- firmware image formats of a later libvirt --------------------------------------------------

@pytest.mark.parametrize(("os_xml", "element"), [
    ("<nvram format='qcow2'>/v/g_VARS.qcow2</nvram>", "nvram"),
    ("<loader readonly='yes' type='pflash' format='qcow2'>/f/CODE.qcow2</loader>", "loader"),
])
def test_firmware_image_format_is_refused_with_why(os_xml: str, element: str) -> None:
    text = BASE.format(type="qemu", cpu="", devices="", tail="").replace("</os>", os_xml + "</os>")
    with pytest.raises(XMLUnsupportedError, match=f"<os><{element} format='qcow2'> is libvirt 9.2's: libvirt 9.0 "
                                                  "drops the attribute"):
        parse_domain(text)


# --- a TCG guest's host-model CPU is the one domcapabilities offers ------------------------------

HOST_MODEL = CpuDef(host=False, model="Westmere", vendor="Intel",
                    features=[("aes", "require"), ("x2apic", "require"), ("vme", "disable")])


def _cpu_arg(cpu: str, type: str = "qemu", host_model: CpuDef | None = HOST_MODEL) -> str:
    rt = replace(RuntimePaths.debug("g"), host_model=host_model)
    argv = build_argv(_dom(cpu=cpu, type=type), runtime=rt)
    return argv[argv.index("-cpu") + 1]


@pytest.mark.parametrize("cpu", ["<cpu mode='host-model'/>", "<cpu match='minimum'><model>486</model></cpu>"])
def test_tcg_host_model_is_started_as_the_named_model(cpu: str) -> None:
    assert _cpu_arg(cpu) == "Westmere,aes=on,x2apic=on,vme=off"


def test_guest_features_override_the_expanded_host_model_in_place() -> None:
    cpu = "<cpu mode='host-model'><feature policy='disable' name='aes'/><feature name='avx'/></cpu>"
    assert _cpu_arg(cpu) == "Westmere,aes=off,x2apic=on,vme=off,avx=on"


def test_host_model_unknown_or_under_kvm_is_left_to_qemu() -> None:
    assert _cpu_arg("<cpu mode='host-model'/>", host_model=None) == "max"
    assert _cpu_arg("<cpu mode='host-model'/>", type="kvm").startswith("host")


@pytest.mark.parametrize(("cpu", "type", "needed"), [
    ("<cpu mode='host-model'/>", "qemu", True),
    ("<cpu match='minimum'><model>486</model></cpu>", "qemu", True),
    ("<cpu mode='host-model'/>", "kvm", False),
    ("<cpu><model>Westmere</model></cpu>", "qemu", False),
    ("", "qemu", False),
])
def test_which_guests_pyvirtd_expands_a_host_model_for(cpu: str, type: str, needed: bool) -> None:
    assert needs_host_model(_dom(cpu=cpu, type=type)) is needed


# --- a NIC's <driver> back-end options belong to virtio models --------------------------------

@pytest.mark.parametrize("model", ["<model type='e1000'/>", "<model type='rtl8139'/>", ""])
def test_backend_driver_options_of_a_non_virtio_nic_are_dropped_at_define(model: str) -> None:
    nic = ("<interface type='user'><mac address='52:54:00:00:00:01'/>" + model +
           "<driver name='vhost' queues='2' txmode='iothread' rx_queue_size='512'><host csum='off'/></driver>"
           "</interface>")
    dom = _dom(nic)
    assert "<driver" not in dom.to_xml(inactive=True).split("<interface")[1]
    assert _opt(build_argv(dom), "-netdev") == ['{"type":"user","id":"hostnet0"}']


def test_backend_driver_options_of_a_virtio_nic_are_kept() -> None:
    nic = ("<interface type='user'><mac address='52:54:00:00:00:01'/><model type='VIRTIO'/>"
           "<driver txmode='iothread'/></interface>")
    nics = [json.loads(v) for v in _opt(build_argv(_dom(nic)), "-device") if '"virtio-net-pci"' in v]
    assert nics[0]["tx"] == "bh"


# --- virtio options on a device that is not virtio: refused at define ---------------------------

@pytest.mark.parametrize(("device", "option"), [
    ("<interface type='user'><model type='e1000'/><driver ats='on'/></interface>", "ats"),
    ("<interface type='user'><driver iommu='on'/></interface>", "iommu"),            # rtl8139 by default
    ("<disk type='file' device='disk'><driver name='qemu' type='raw' packed='on'/><source file='/i/a'/>"
     "<target dev='sda' bus='sata'/></disk>", "packed"),
    ("<disk type='file' device='disk'><driver name='qemu' type='raw' iommu='on'/><source file='/i/a'/>"
     "<target dev='hda'/></disk>", "iommu"),                                        # ide by its name
    ("<video><model type='vga'/><driver page_per_vq='on'/></video>", "page_per_vq"),
])
def test_virtio_options_on_a_non_virtio_device_are_refused_at_define(device: str, option: str) -> None:
    with pytest.raises(XMLConfigError, match=f"^{option} driver option is only supported for virtio devices"):
        parse_domain(BASE.format(type="qemu", cpu="", devices=device, tail=""))


@pytest.mark.parametrize("device", [
    "<interface type='user'><model type='virtio-transitional'/><driver iommu='on'/></interface>",
    "<disk type='file' device='disk'><driver name='qemu' type='raw' ats='on'/><source file='/i/a'/>"
    "<target dev='vdb'/></disk>",                                                   # virtio by its name
    "<video><model type='virtio'/><driver iommu='on'/></video>",
])
def test_virtio_options_on_virtio_devices_are_kept(device: str) -> None:
    assert "driver" in _dom(device).to_xml(inactive=True).split("<devices>")[1]
