"""``model='virtio-transitional'`` / ``'virtio-non-transitional'`` on disks, 9p shares, SCSI host
(vhost-scsi) devices, virtio-serial controllers, balloons and RNGs, as libvirt 9.0 builds them
(checked with domxml-to-native): the ``-transitional`` / ``-non-transitional`` QEMU driver, and on
q35 a transitional device is conventional PCI, so it goes behind a pcie-to-pci-bridge (added with
its root port first), while a non-transitional one gets a root port of its own."""

from __future__ import annotations

import json

from pyvirt.qemu.argv import build_argv
from pyvirt.xml import fill_defaults, parse_domain

BASE = """<domain type='qemu'><name>g</name><memory unit='MiB'>256</memory><vcpu>1</vcpu>
<os><type arch='x86_64' machine='q35'>hvm</type></os><devices>
<disk type='file' device='disk' model='{m}'><source file='/i'/><target dev='vda' bus='virtio'/></disk>
<filesystem type='mount' model='{m}'><source dir='/s'/><target dir='t'/></filesystem>
<controller type='virtio-serial' model='{m}'/><memballoon model='{m}'/>
<rng model='{m}'><backend model='random'>/dev/urandom</backend></rng></devices></domain>"""


def _devices(model: str) -> tuple[list[dict], str]:
    dom = fill_defaults(parse_domain(BASE.format(m=model)))
    argv = build_argv(dom)
    return [json.loads(argv[i + 1]) for i, a in enumerate(argv) if a == "-device"], dom.to_xml(inactive=True)


def test_transitional_devices_sit_behind_a_pcie_to_pci_bridge() -> None:
    devs, xml = _devices("virtio-transitional")
    by = {d["driver"]: d for d in devs}
    for drv in ("virtio-blk-pci-transitional", "virtio-9p-pci-transitional", "virtio-serial-pci-transitional",
                "virtio-balloon-pci-transitional", "virtio-rng-pci-transitional"):
        assert by[drv]["bus"] == "pci.2", drv
    assert by["pcie-pci-bridge"]["bus"] == "pci.1"  # root port 1 made for it, the bridge index 2
    assert "<disk type='file' device='disk' model='virtio-transitional'>" in xml
    assert fill_defaults(parse_domain(xml)).to_xml(inactive=True) == xml


def test_non_transitional_devices_each_get_a_root_port() -> None:
    devs, _ = _devices("virtio-non-transitional")
    mine = [d for d in devs if d["driver"].endswith("-non-transitional")]
    assert len(mine) == 5 and all(d["addr"] == "0x0" for d in mine)
    assert len({d["bus"] for d in mine}) == 5
    assert not any(d["driver"] == "pcie-pci-bridge" for d in devs)
