"""The sPAPR VIO SCSI HBA (``<controller type='scsi' model='ibmvscsi'>``) as libvirt 9.0 takes it
on any machine (real libvirt 9.0 + QEMU 7.2 write the same line for libvirt's disk-scsi case; QEMU
x86 itself then refuses the device at start): a ``spapr-vio`` address with the first free register
from 0x2000 (no PCI slot), ``spapr-vscsi`` on that register, disks addressed by channel/id/LUN."""

from __future__ import annotations

import json

from pyvirt.qemu.argv import build_argv
from pyvirt.xml import fill_defaults, parse_domain

DOC = """<domain type='qemu'><name>g</name><memory unit='MiB'>128</memory><vcpu>1</vcpu>
<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>
<disk type='file' device='disk'><source file='/i'/><target dev='sda' bus='scsi'/>
<address type='drive' controller='1' bus='0' target='2' unit='3'/></disk>
<controller type='scsi' index='0' model='ibmvscsi'><address type='spapr-vio' reg='0x2000'/></controller>
<controller type='scsi' index='1' model='ibmvscsi'/></devices></domain>"""


def test_vio_registers_and_command_line() -> None:
    dom = fill_defaults(parse_domain(DOC))
    xml = dom.to_xml(inactive=True)
    assert "<address type='spapr-vio' reg='0x00002000'/>" in xml
    assert "<address type='spapr-vio' reg='0x00003000'/>" in xml  # the next free register
    argv = build_argv(dom)
    devs = {d["id"]: d for d in (json.loads(argv[i + 1]) for i, a in enumerate(argv) if a == "-device")}
    assert devs["scsi1"] == {"driver": "spapr-vscsi", "id": "scsi1", "reg": 0x3000}
    disk = devs["scsi1-0-2-3"]
    assert (disk["bus"], disk["channel"], disk["scsi-id"], disk["lun"]) == ("scsi1.0", 0, 2, 3)
    assert fill_defaults(parse_domain(xml)).to_xml(inactive=True) == xml
