"""More libvirt 9.0 rules found on qemuxml2argv cases pyvirt was not handed (issue 14), one small
domain of our own each; every expectation is libvirt 9.0's behaviour (its source, and real
``virsh domxml-to-native`` 9.0 where the host allows)."""

from __future__ import annotations

import json

import pytest

from pyvirt.qemu.argv import build_argv
from pyvirt.xml import fill_defaults, parse_domain
from pyvirt.xml.errors import XMLError

BASE = """<domain type='qemu'><name>g</name><memory unit='MiB'>256</memory><vcpu>1</vcpu>{top}
<os><type arch='x86_64' machine='{machine}'>hvm</type></os>{after_os}<devices>{devices}</devices></domain>"""


def _argv(devices: str = "", machine: str = "pc", top: str = "", after_os: str = "") -> list[str]:
    xml = BASE.format(devices=devices, machine=machine, top=top, after_os=after_os)
    return build_argv(fill_defaults(parse_domain(xml)))


def _json_opts(argv: list[str], opt: str) -> list[dict]:
    return [json.loads(argv[i + 1]) for i, a in enumerate(argv[:-1]) if a == opt and argv[i + 1].startswith("{")]


def _opts(argv: list[str], opt: str) -> list[str]:
    return [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == opt]


def test_writable_shareable_disk_defaults_to_cache_none() -> None:
    disk = ("<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='/img/a'/>"
            "<target dev='vda' bus='virtio'/><shareable/>{ro}</disk>")
    argv = _argv(disk.format(ro=""))
    nodes = _json_opts(argv, "-blockdev")
    assert all(n["cache"] == {"direct": True, "no-flush": False} for n in nodes)
    dev = next(d for d in _json_opts(argv, "-device") if d["driver"] == "virtio-blk-pci")
    assert dev["write-cache"] == "on" and dev["share-rw"] is True
    # read-only shared disks keep QEMU's default cache
    argv = _argv(disk.format(ro="<readonly/>"))
    assert not any("cache" in n for n in _json_opts(argv, "-blockdev"))


def _serial_ports(argv: list[str]) -> dict[str, tuple[str, int]]:
    return {d["name"]: (d["bus"], d["nr"]) for d in _json_opts(argv, "-device") if d["driver"] == "virtserialport"}


def test_virtio_serial_ports_fill_controllers_in_order_then_add_one() -> None:
    chan = "<channel type='pty'><target type='virtio' name='{}'/>{}</channel>"
    devices = ("<controller type='virtio-serial' index='0' ports='3'/>"
               + chan.format("a", "") + chan.format("b", "<address type='virtio-serial' controller='0' bus='2'/>")
               + chan.format("c", "") + chan.format("d", ""))
    argv = _argv(devices)
    # ports 1..2 on controller 0 (port 0 is the console's), the partial address gets bus 0
    assert _serial_ports(argv) == {"a": ("virtio-serial0.0", 1), "b": ("virtio-serial0.0", 2),
                                   "c": ("virtio-serial1.0", 1), "d": ("virtio-serial1.0", 2)}
    assert sum(d["driver"] == "virtio-serial-pci" for d in _json_opts(argv, "-device")) == 2


def test_virtio_serial_channel_on_a_full_controller_is_refused() -> None:
    chan = "<channel type='pty'><target type='virtio' name='{}'/>{}</channel>"
    devices = ("<controller type='virtio-serial' index='0' ports='2'/>" + chan.format("a", "")
               + chan.format("b", "<address type='virtio-serial' controller='0'/>"))
    with pytest.raises(XMLError, match="Unable to find a free port on virtio-serial controller 0"):
        _argv(devices)
