"""build_argv for features added after the first pass: audio backends, PCIe switch ports, ..."""

from __future__ import annotations

import json

import pytest

from pyvirt.qemu.argv import build_argv
from pyvirt.xml import fill_defaults, parse_domain
from pyvirt.xml.errors import XMLError

BASE = """<domain type='qemu'><name>g</name><memory unit='MiB'>256</memory><vcpu>1</vcpu>{top}
<os><type arch='x86_64' machine='{machine}'>hvm</type></os>{after_os}<devices>{devices}</devices></domain>"""


def _dom(devices: str = "", machine: str = "pc", top: str = "", after_os: str = ""):
    return fill_defaults(parse_domain(BASE.format(devices=devices, machine=machine, top=top,
                                                  after_os=after_os)))


def _json(argv: list[str], opt: str) -> list[dict]:
    return [json.loads(argv[i + 1]) for i, a in enumerate(argv[:-1]) if a == opt]


def test_audio_backend_with_streams() -> None:
    argv = build_argv(_dom("<audio id='1' type='oss' tryMMap='yes' dspPolicy='3'>"
                           "<input mixingEngine='yes' fixedSettings='yes' dev='/dev/dsp0' tryPoll='no'>"
                           "<settings frequency='44100' format='s16'/></input>"
                           "<output fixedSettings='no'/></audio>"))
    (au,) = _json(argv, "-audiodev")
    assert au == {"id": "audio1", "driver": "oss", "try-mmap": True, "dsp-policy": 3,
                  "in": {"mixing-engine": True, "fixed-settings": True, "frequency": 44100, "format": "s16",
                         "dev": "/dev/dsp0", "try-poll": False},
                  "out": {"fixed-settings": False}}


def test_audio_attribute_of_another_backend_is_refused() -> None:
    with pytest.raises(XMLError, match="not valid for audio type 'alsa'"):
        build_argv(_dom("<audio id='1' type='alsa'><input bufferCount='3'/></audio>"))


def test_audio_round_trip_and_names() -> None:
    dom = _dom("<audio id='1' type='pulseaudio' serverName='h'><output name='n'/></audio>"
               "<audio id='2' type='file' path='/tmp/a.wav'/>"
               "<graphics type='vnc'><audio id='2'/></graphics>")
    assert fill_defaults(parse_domain(dom.to_xml())) == dom
    argv = build_argv(dom)
    assert [a["driver"] for a in _json(argv, "-audiodev")] == ["pa", "wav"]
    assert argv[argv.index("-vnc") + 1].endswith("audiodev=audio2")


def test_pcie_switch_ports_are_addressed() -> None:
    dom = _dom("<controller type='pci' index='0' model='pcie-root'/>"
               "<controller type='pci' index='1' model='pcie-root-port'/>"
               "<controller type='pci' index='2' model='pcie-switch-upstream-port'/>"
               "<controller type='pci' index='3' model='pcie-switch-downstream-port'/>"
               "<controller type='pci' index='4' model='pcie-switch-downstream-port'/>", machine="q35")
    by_index = {c.index: c for c in dom.devices.controllers if c.type == "pci"}
    assert (by_index[2].address.bus, by_index[2].address.slot) == (1, 0)
    assert [(by_index[i].address.bus, by_index[i].address.slot) for i in (3, 4)] == [(2, 0), (2, 1)]
    assert (by_index[4].target_chassis, by_index[4].target_port) == (4, 1)
    assert by_index[2].model_name == "x3130-upstream"


def test_cpu_paravirt_features_and_feature_names() -> None:
    dom = _dom(after_os="<features><apic eoi='on'/><pvspinlock state='off'/></features>"
                        "<cpu mode='custom'><model>Haswell</model><feature name='lahf_lm' policy='require'/></cpu>")
    argv = build_argv(dom)
    parts = argv[argv.index("-cpu") + 1].split(",")
    assert parts[0] == "Haswell"
    assert {"lahf-lm=on", "kvm-pv-eoi=on", "kvm-pv-unhalt=off"} <= set(parts[1:])
    assert fill_defaults(parse_domain(dom.to_xml())) == dom


def test_intel_iommu_needs_q35_and_split_ioapic() -> None:
    with pytest.raises(XMLError, match="only supported with Q35"):
        _dom("<iommu model='intel'/>")
    with pytest.raises(XMLError, match="split I/O APIC"):
        _dom("<iommu model='intel'><driver intremap='on'/></iommu>", machine="q35")
    dom = _dom("<iommu model='intel'><driver intremap='on' caching_mode='on'/></iommu>", machine="q35",
               after_os="<features><ioapic driver='qemu'/></features>")
    argv = build_argv(dom)
    assert "kernel_irqchip=split" in argv[argv.index("-machine") + 1]
    devs = _json(argv, "-device")
    assert devs[0] == {"driver": "intel-iommu", "id": "iommu0", "intremap": "on", "caching-mode": True}


def test_virtio_iommu_is_integrated_on_the_root_bus() -> None:
    acpi = "<features><acpi/></features>"
    dom = _dom("<iommu model='virtio'/>", machine="q35", after_os=acpi)
    assert dom.devices.iommu.address.bus == 0  # after the root port the USB controller needs
    with pytest.raises(XMLError, match="integrated"):
        _dom("<iommu model='virtio'><address type='pci' bus='1' slot='0'/></iommu>", machine="q35", after_os=acpi)
    # libvirt's machine checks: q35 (or ARM virt) only, and the guest finds it through ACPI
    with pytest.raises(XMLError, match="only supported with Q35"):
        _dom("<iommu model='virtio'/>", machine="pc", after_os=acpi)
    with pytest.raises(XMLError, match="requires ACPI"):
        _dom("<iommu model='virtio'/>", machine="q35")


def test_virtio_options_reach_virtio_devices_only() -> None:
    dom = _dom("<interface type='user'><model type='virtio'/><driver iommu='on' packed='off'/></interface>"
               "<rng model='virtio'><backend model='random'>/dev/random</backend><driver ats='on'/></rng>")
    assert fill_defaults(parse_domain(dom.to_xml())) == dom
    devs = {d["driver"]: d for d in _json(build_argv(dom), "-device")}
    assert devs["virtio-net-pci"]["iommu_platform"] is True and devs["virtio-net-pci"]["packed"] is False
    assert devs["virtio-rng-pci"]["ats"] is True
    with pytest.raises(XMLError, match="ats driver option is only supported for virtio devices"):
        build_argv(_dom("<interface type='user'><model type='e1000'/><driver ats='on'/></interface>"))


def test_disk_queue_options_and_rotation_rate() -> None:
    dom = _dom("<disk type='file'><driver name='qemu' type='raw' queues='4' queue_size='256' ioeventfd='on'/>"
               "<source file='/tmp/a.img'/><target dev='vda' bus='virtio'/></disk>"
               "<disk type='file'><source file='/tmp/b.img'/><target dev='hda' bus='ide' rotation_rate='1'/></disk>")
    assert fill_defaults(parse_domain(dom.to_xml())) == dom
    devs = {d["driver"]: d for d in _json(build_argv(dom), "-device")}
    assert (devs["virtio-blk-pci"]["num-queues"], devs["virtio-blk-pci"]["queue-size"]) == (4, 256)
    assert devs["virtio-blk-pci"]["ioeventfd"] is True and devs["ide-hd"]["rotation_rate"] == 1
    with pytest.raises(XMLError, match="queues"):
        build_argv(_dom("<disk type='file'><driver name='qemu' queues='2'/><source file='/tmp/a'/>"
                        "<target dev='hda' bus='ide'/></disk>"))


def test_passthrough_input() -> None:
    dom = _dom("<input type='passthrough' bus='virtio'><source evdev='/dev/input/event3'/></input>")
    dev = next(d for d in _json(build_argv(dom), "-device") if d["driver"] == "virtio-input-host-pci")
    assert dev["evdev"] == "/dev/input/event3"
    with pytest.raises(XMLError, match="passthrough input"):
        _dom("<input type='passthrough' bus='usb'><source evdev='/dev/input/event3'/></input>")
