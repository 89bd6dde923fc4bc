"""Real QEMU 7.2 (TCG) takes the options pyvirt learned from libvirt's unseen qemuxml2argv cases:
file-backed guest RAM in the guest's directory, a qcow2 metadata cache size, a storage slice,
event_idx on virtio disks and NICs, VNC's share policy, phys-bits, and an unassigned host device
(no QEMU device at all).  Started with ``-S`` and no monitor; it must stay up."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from pyvirt.qemu.argv import RuntimePaths, build_argv
from pyvirt.xml import fill_defaults, parse_domain
from tests.qemu_stays_up import running

QEMU = shutil.which("qemu-system-x86_64")
pytestmark = [pytest.mark.qemu, pytest.mark.skipif(QEMU is None or shutil.which("qemu-img") is None,
                                                    reason="qemu-system-x86_64/qemu-img not installed")]


def test_qemu_accepts_the_new_options(tmp_path: Path) -> None:
    top, raw = tmp_path / "top.qcow2", tmp_path / "raw.img"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(top), "64M"], check=True)
    subprocess.run(["qemu-img", "create", "-q", "-f", "raw", str(raw), "8M"], check=True)
    xml = f"""<domain type='qemu'><name>qc</name><memory unit='MiB'>128</memory><vcpu>1</vcpu>
<memoryBacking><source type='file'/><access mode='shared'/></memoryBacking>
<os><type arch='x86_64' machine='pc'>hvm</type></os>
<cpu mode='custom'><model>qemu64</model><maxphysaddr mode='emulate' bits='40'/></cpu><devices>
<disk type='file' device='disk'><driver name='qemu' type='qcow2' event_idx='on'><metadata_cache>
<max_size unit='KiB'>512</max_size></metadata_cache></driver><source file='{top}'/><target dev='vda' bus='virtio'/></disk>
<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='{raw}'><slices>
<slice type='storage' offset='1048576' size='2097152'/></slices></source><target dev='vdb' bus='virtio'/></disk>
<interface type='user'><model type='virtio'/><driver event_idx='off'/></interface>
<graphics type='vnc' socket='{tmp_path}/vnc.sock' sharePolicy='force-shared'/>
<hostdev mode='subsystem' type='pci' managed='no'><source><address domain='0x0000' bus='0x06' slot='0x12'
function='0x1'/></source><address type='unassigned'/></hostdev></devices></domain>"""
    argv = build_argv(fill_defaults(parse_domain(xml)), None,
                      runtime=RuntimePaths(monitor_fd=3, domain_dir=str(tmp_path), memory_backing_dir=str(tmp_path)))
    with running(argv):
        assert (tmp_path / "pc.ram").exists()  # QEMU made the file-backed RAM in memory_backing_dir
