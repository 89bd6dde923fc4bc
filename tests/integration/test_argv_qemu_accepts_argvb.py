"""Real QEMU 7.2 (TCG) takes the command lines of this round's supported features: a backing
chain spelled out in the XML with a LUKS-encrypted qcow2 backing layer (each layer's secret read
from its own file), ``<qemu:deprecation>`` (``-compat``), a ``<qemu:override>`` property on a disk,
``<idmap>``, and transitional virtio devices behind q35's pcie-to-pci-bridge.  Started with
``-S`` and no monitor; it must stay up."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from pyvirt.qemu.argv import RuntimePaths, build_argv
from pyvirt.qemu.argv_disks import encryption_purpose, secret_file
from pyvirt.xml import fill_defaults, parse_domain
from tests.qemu_img import qemu_img_create
from tests.qemu_stays_up import running

QEMU = shutil.which("qemu-system-x86_64")
pytestmark = [pytest.mark.qemu, pytest.mark.skipif(QEMU is None or shutil.which("qemu-img") is None,
                                                    reason="qemu-system-x86_64/qemu-img not installed")]
U = "0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f"


def test_qemu_accepts_this_rounds_options(tmp_path: Path) -> None:
    base, top = tmp_path / "base.qcow2", tmp_path / "top.qcow2"
    key = ["--object", "secret,id=s0,data=pw"]
    qemu_img_create("-q", *key, "-f", "qcow2", "-o", "encrypt.format=luks,encrypt.key-secret=s0,encrypt.iter-time=10",
                    str(base), "16M")
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", str(base), "-F", "qcow2", str(top)], check=True)
    enc = f"<encryption format='luks'><secret type='passphrase' uuid='{U}'/></encryption>"
    xml = f"""<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'><name>acc</name>
<memory unit='MiB'>128</memory><vcpu>1</vcpu><os><type arch='x86_64' machine='q35'>hvm</type></os>
<idmap><uid start='0' target='1000' count='10'/><gid start='0' target='1000' count='10'/></idmap><devices>
<disk type='file' device='disk' model='virtio-transitional'><driver name='qemu' type='qcow2'/>
<source file='{top}' index='2'/><backingStore type='file' index='1'><format type='qcow2'/>
<source file='{base}'>{enc}</source><backingStore/></backingStore><target dev='vda' bus='virtio'/>
<alias name='ua-top'/></disk>
<memballoon model='virtio-transitional'/></devices>
<qemu:override><qemu:device alias='ua-top'><qemu:frontend><qemu:property name='serial' type='string' value='ovr1'/>
</qemu:frontend></qemu:device></qemu:override><qemu:deprecation behavior='reject'/></domain>"""
    (tmp_path / Path(secret_file(str(tmp_path), "vda", encryption_purpose(1))).name).write_text("pw")
    argv = build_argv(fill_defaults(parse_domain(xml)), None,
                      runtime=RuntimePaths(monitor_fd=3, domain_dir=str(tmp_path)))
    assert "-compat" in argv and '"serial":"ovr1"' in " ".join(argv)
    with running(argv):
        pass
