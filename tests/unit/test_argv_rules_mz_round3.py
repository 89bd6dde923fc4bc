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
