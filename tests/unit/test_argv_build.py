"""build_argv over small domain shapes: accel choice, escaping of names/paths, refusals."""

from __future__ import annotations

import json

import pytest

from pyvirt.qemu.argv import build_argv, main
from pyvirt.qemu.argv_common import RuntimePaths
from pyvirt.xml import fill_defaults, parse_domain
from pyvirt.xml.errors import XMLError, XMLUnsupportedError

BASE = """<domain type='{type}'><name>{name}</name><memory unit='MiB'>256</memory><vcpu>2</vcpu>
<os><type arch='x86_64' machine='{machine}'>hvm</type></os><devices>{devices}</devices></domain>"""


def _argv(type_: str = "qemu", name: str = "g1", machine: str = "pc", devices: str = "", **kw) -> list[str]:
    dom = parse_domain(BASE.format(type=type_, name=name, machine=machine, devices=devices))
    dom = fill_defaults(dom) or dom
    return build_argv(dom, **kw)


def _values(argv: list[str], opt: str) -> list[str]:
    return [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == opt]


def test_accel_follows_domain_type() -> None:
    assert _values(_argv("kvm"), "-accel") == ["kvm"]
    assert _values(_argv("qemu"), "-accel") == ["tcg"]


def test_name_comma_is_doubled() -> None:
    assert _values(_argv(name="a,b"), "-name") == ["guest=a,,b,debug-threads=on"]


def test_memory_and_smp() -> None:
    argv = _argv()
    assert _values(argv, "-m") == ["256"]
    assert _values(argv, "-smp") == ["2,sockets=2,cores=1,threads=1"]
    objs = [json.loads(v) for v in _values(argv, "-object")]
    assert {"qom-type": "memory-backend-ram", "id": "pc.ram", "size": 256 << 20} in objs


def test_disk_blockdev_chain_and_device() -> None:
    argv = _argv(devices="<disk type='file' device='disk'><driver name='qemu' type='qcow2' cache='none'/>"
                         "<source file='/tmp/a,b.qcow2'/><target dev='vda' bus='virtio'/></disk>")
    nodes = [json.loads(v) for v in _values(argv, "-blockdev")]
    assert nodes[0]["driver"] == "file" and nodes[0]["filename"] == "/tmp/a,b.qcow2"
    assert nodes[0]["cache"] == {"direct": True, "no-flush": False}
    assert nodes[1]["driver"] == "qcow2" and nodes[1]["file"] == nodes[0]["node-name"]
    dev = next(json.loads(v) for v in _values(argv, "-device") if "virtio-blk" in v)
    assert dev["drive"] == nodes[1]["node-name"] and dev["write-cache"] == "on"


def test_runtime_monitor_fd_and_pidfile() -> None:
    argv = _argv(runtime=RuntimePaths(monitor_fd=7, pidfile="/run/x.pid", domain_dir="/run/d"))
    assert "socket,id=charmonitor,fd=7,server=on,wait=off" in _values(argv, "-chardev")
    assert _values(argv, "-pidfile") == ["/run/x.pid"]


def test_bridge_needs_tap_fd_from_daemon() -> None:
    nic = "<interface type='bridge'><source bridge='br0'/><model type='virtio'/></interface>"
    with pytest.raises(XMLUnsupportedError):
        _argv(devices=nic, runtime=RuntimePaths(domain_dir="/run/d"))
    argv = _argv(devices=nic, runtime=RuntimePaths(domain_dir="/run/d", tap_fds={"net0": [23]}))
    assert json.loads(_values(argv, "-netdev")[0]) == {"type": "tap", "fd": "23", "id": "hostnet0"}


def test_unsupported_machine_is_refused() -> None:
    with pytest.raises(XMLError):
        _argv(machine="isapc")


def test_main_prints_args_layout(tmp_path, capsys) -> None:
    path = tmp_path / "d.xml"
    path.write_text(BASE.format(type="qemu", name="g1", machine="pc", devices=""))
    assert main([str(path)]) == 0
    out = capsys.readouterr().out
    assert "\n-accel tcg \\\n" in out and out.rstrip().endswith("-msg timestamp=on")


def test_build_argv_does_not_change_the_definition() -> None:
    """The argv builder is pure: aliases and USB ports are start-time defaults the daemon assigns
    (xml.defaults.assign_start_defaults); building a command line leaves the definition as given,
    and the line is the same as for the definition with those defaults assigned."""
    import copy

    from pyvirt.xml.defaults import assign_start_defaults

    devices = ("<disk type='file' device='disk'><source file='/i.qcow2'/><target dev='vda' bus='virtio'/></disk>"
               "<disk type='file' device='disk'><source file='/u.img'/><target dev='sda' bus='usb'/></disk>"
               "<input type='tablet' bus='usb'/><serial type='pty'/>")
    dom = fill_defaults(parse_domain(BASE.format(type="qemu", name="g", machine="pc", devices=devices)))
    before = copy.deepcopy(dom)
    argv = build_argv(dom)
    assert dom == before and dom.devices.disks[0].alias is None and dom.devices.inputs[0].address is None
    started = copy.deepcopy(dom)
    assign_start_defaults(started)
    assert started.devices.disks[0].alias == "virtio-disk0" and started.devices.inputs[0].address.port
    assert build_argv(started) == argv
    assert "virtio-disk0" in " ".join(argv)
