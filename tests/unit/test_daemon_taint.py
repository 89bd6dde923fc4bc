"""pyvirtd's taint checks at start (daemon/taint.py) and the messages they give, one libvirt rule
each (qemuDomainObjCheckTaint and the functions it calls; words and messages: pyvirt.taints)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from pyvirt.daemon import taint
from pyvirt.qemu.caps import CpuModel, MachineType
from pyvirt.taints import messages
from pyvirt.xml import parse_domain

CAPS = SimpleNamespace(machine=lambda name: {"pc": MachineType("pc"), "old": MachineType("old", deprecated=True)}.get(name),
                       cpu_models=(CpuModel("qemu64"), CpuModel("Opteron_G1", deprecated=True)))
USER = SimpleNamespace(uid=107, gid=107)


def _dom(devices: str = "", extra: str = "", machine: str = "pc", ns: str = "") -> object:
    return parse_domain(
        f"<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'><name>t</name>"
        f"<memory>65536</memory><os><type arch='x86_64' machine='{machine}'>hvm</type>{extra}</os>"
        f"<devices>{devices}</devices>{ns}</domain>")


def _found(dom: object, *, privileged: bool = False, user: object = USER, incoming: bool = False) -> list:
    return taint.at_start(dom, privileged=privileged, qemu_user=user, caps=CAPS, incoming=incoming)


def test_nothing_for_a_plain_guest() -> None:
    assert _found(_dom()) == []


def test_qemu_as_root_on_a_privileged_daemon_is_high_privileges() -> None:
    assert _found(_dom(), privileged=True, user=None) == [("high-privileges", None)]
    assert _found(_dom(), privileged=True, user=SimpleNamespace(uid=107, gid=0)) == [("high-privileges", None)]
    assert _found(_dom(), privileged=False, user=None) == []  # a session daemon runs QEMU as its own user


def test_qemu_namespace_argv_env_and_overrides() -> None:
    env = "<qemu:commandline><qemu:env name='A' value='1'/></qemu:commandline>"
    assert _found(_dom(ns=env)) == [("custom-argv", None)]


def test_devices_rawio_scripts_and_dtb_in_libvirts_order_each_once() -> None:
    devices = ("<disk type='block' device='lun' rawio='yes'><source dev='/dev/sdz'/><target dev='sda' bus='scsi'/></disk>"
               "<interface type='ethernet'><script path='/etc/qemu-ifup'/></interface>"
               "<interface type='ethernet'><script path='/etc/qemu-ifup'/></interface>")
    assert _found(_dom(devices, extra="<dtb>/boot/x.dtb</dtb>")) == [
        ("high-privileges", None), ("shell-scripts", None), ("custom-dtb", None)]


def test_a_cdrom_image_on_a_block_path_that_is_no_cd_drive_is_no_passthrough() -> None:
    cd = "<disk type='block' device='cdrom'><source dev='/dev/null'/><target dev='hdc' bus='ide'/></disk>"
    assert _found(_dom(cd)) == []  # virFileIsCDROM asks the device


def test_deprecated_machine_and_cpu_model_carry_their_message() -> None:
    dom = _dom(machine="old")
    dom.cpu = parse_domain("<domain type='qemu'><name>c</name><memory>1</memory><os><type>hvm</type></os>"
                           "<cpu mode='custom'><model>Opteron_G1</model></cpu></domain>").cpu
    found = _found(dom)
    assert found == [("deprecated-config", "machine type 'old'"), ("deprecated-config", "CPU model 'Opteron_G1'")]
    taints: set[str] = set()
    deprecations: list[str] = []
    for word, extra in found:
        taint.record(taints, deprecations, 3, "t", "u", Path("/nonexistent/t.log"), word, extra)
    assert messages(taints, deprecations) == ["tainted: use of deprecated configuration settings",
                                              "deprecated configuration: machine type 'old'",
                                              "deprecated configuration: CPU model 'Opteron_G1'"]


def test_host_cpu_only_for_an_incoming_guest() -> None:
    dom = parse_domain("<domain type='qemu'><name>c</name><memory>1</memory><os><type>hvm</type></os>"
                       "<cpu mode='host-passthrough'/></domain>")
    assert _found(dom) == []
    assert _found(dom, incoming=True) == [("host-cpu", None)]


def test_record_logs_a_taint_once_in_libvirts_line(tmp_path: Path) -> None:
    log = tmp_path / "t.log"
    taints: set[str] = set()
    assert taint.record(taints, [], 4, "t", "u", log, "custom-monitor")
    assert not taint.record(taints, [], 4, "t", "u", log, "custom-monitor")
    line = log.read_text()
    assert line.endswith(": Domain id=4 is tainted: custom-monitor\n") and line.count("\n") == 1
    assert line[:10].count("-") == 2 and "+0000: " in line
