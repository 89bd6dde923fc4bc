"""dumpxml --update-cpu / --migratable of the QEMU driver (pyvirt.daemon.xmlflags), on definitions
completed as define completes them.  The expected documents are what libvirt 9.0's session daemon
printed for the same definitions (its host model and machine name aside), as rules, not copies."""

from __future__ import annotations

import pytest

from pyvirt.api import PyvirtError
from pyvirt.cpudef import CpuDef
from pyvirt.cpumap import CpuMap, CpuModelDef
from pyvirt.daemon.model import parse_definition
from pyvirt.daemon.xmlflags import formatted_copy

FEATURES = ("fpu", "vme", "sse3", "aes", "avx2", "nx")
CMAP = CpuMap({"Old": CpuModelDef("Old", "Intel", frozenset({"fpu", "vme", "sse3"}))}, FEATURES, ("Old",),
              CpuModelDef("max", "Intel", frozenset({"fpu", "sse3", "aes"})))
#: the host-model CPU domcapabilities offers: Old, plus aes, without vme
HOST = CpuDef(host=False, model="Old", vendor="Intel", match="exact", features=[("aes", "require"), ("vme", "disable")])


def _dom(cpu: str = "", devices: str = "", machine: str = "pc"):
    return parse_definition(f"<domain type='qemu'><name>d</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
                            f"<os><type arch='x86_64' machine='{machine}'>hvm</type></os>{cpu}"
                            f"<devices>{devices}</devices></domain>")


def _cpu(cpu: str):
    return formatted_copy(_dom(cpu), update_cpu=True, migratable=False, host_model=HOST, cpu_map=CMAP).cpu


def test_host_model_becomes_the_offered_model_with_the_guests_features_over_it() -> None:
    cpu = _cpu("<cpu mode='host-model'><feature policy='require' name='vme'/>"
               "<feature policy='disable' name='nx'/></cpu>")
    assert (cpu.mode, cpu.match, cpu.check, cpu.model, cpu.vendor, cpu.model_fallback) == \
        ("custom", "exact", "partial", "Old", "Intel", "allow")
    assert [(f.name, f.policy) for f in cpu.features] == [("aes", "require"), ("vme", "require"), ("nx", "disable")]


def test_minimum_match_expands_keeping_its_vendor_and_optional_features_resolve() -> None:
    cpu = _cpu("<cpu mode='custom' match='minimum'><model>Old</model></cpu>")
    assert (cpu.mode, cpu.match, cpu.model, cpu.vendor) == ("custom", "exact", "Old", None)
    cpu = _cpu("<cpu mode='custom' match='exact'><model>Old</model><feature policy='optional' name='aes'/>"
               "<feature policy='optional' name='avx2'/></cpu>")
    assert (cpu.model, [(f.name, f.policy) for f in cpu.features]) == ("Old", [("aes", "require"), ("avx2", "disable")])


def test_other_cpus_are_kept_and_no_host_model_is_libvirts_error() -> None:
    for text in ("<cpu mode='host-passthrough'/>", "<cpu mode='custom'><model>Old</model></cpu>", ""):
        dom = _dom(text)
        assert formatted_copy(dom, update_cpu=True, migratable=False, cpu_map=CMAP).cpu == dom.cpu
    with pytest.raises(PyvirtError, match="^unsupported configuration: unknown host CPU model$"):
        formatted_copy(_dom("<cpu mode='host-model'/>"), update_cpu=True, migratable=False, cpu_map=CMAP)


def _migratable(devices: str, machine: str = "pc") -> tuple[object, object]:
    dom = _dom(devices=devices, machine=machine)
    return dom, formatted_copy(dom, update_cpu=False, migratable=True)


def test_migratable_drops_the_defaults_older_libvirt_did_not_write() -> None:
    dom, out = _migratable("<serial type='pty'/><panic/><sound model='ich9'/><input type='tablet' bus='usb'/>")
    assert {c.type for c in dom.devices.controllers} == {"usb", "pci"}  # the original is left alone
    assert out.devices.controllers == [] and out.devices.audios == []
    assert sorted((i.type, i.bus) for i in out.devices.inputs) == [("mouse", "ps2"), ("tablet", "usb")]
    assert [p.model for p in out.devices.panics] == [p.model for p in dom.devices.panics]  # an isa panic stays
    assert out.devices.serials[0].target_type == "isa-serial"


def test_migratable_keeps_what_is_not_a_plain_default() -> None:
    _, out = _migratable("<controller type='usb' model='ich9-ehci1'/><controller type='pci' model='pci-root'>"
                         "<pcihole64 unit='KiB'>1048576</pcihole64></controller><graphics type='spice'/>"
                         "<audio id='1' type='spice'/>")
    assert [(c.type, c.model) for c in out.devices.controllers][:2] == [("usb", "ich9-ehci1"), ("pci", "pci-root")]
    assert out.devices.audios == []  # spice chose it by default
    _, out = _migratable("<controller type='usb' index='0'><alias name='ua-u'/></controller><graphics type='vnc'/>"
                         "<audio id='1' type='file'/>")  # (SPICE audio beside VNC is refused at define)
    assert [c.type for c in out.devices.controllers] == ["usb"] and [a.type for a in out.devices.audios] == ["file"]


def test_migratable_puts_controllers_in_libvirts_insertion_order() -> None:
    """virDomainDefCopy re-parses: a q35 guest's root ports follow pcie-root, before virtio-serial."""
    _, out = _migratable("<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>",
                         machine="q35")
    kinds = [c.type for c in out.devices.controllers]
    assert kinds.index("virtio-serial") > max(i for i, k in enumerate(kinds) if k == "pci")
