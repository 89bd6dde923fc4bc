"""Oracle test for network documents of every kind libvirt's networkxml2xml cases cover (NAT with
address/port ranges and IPv6, routed, open, isolated, host bridge, macvtap modes, hostdev pools,
passthrough PFs, Open vSwitch with VLANs and portgroups, DNS forwarders/TXT/SRV/hosts, DHCP leases,
TFTP/BOOTP, static routes, MTU, port isolation, metadata): each document (written here) defined and
dumped through the real virsh 9.0 and through pyvirt on test:///default, identical but for the
generated UUID.  Nothing of virsh's output is written down."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

VIRSH = shutil.which("virsh")
pytestmark = pytest.mark.skipif(VIRSH is None, reason="virsh (libvirt-clients) not installed")
PYVIRT = [sys.executable, "-m", "pyvirt.cli.main"]

NETS = {
"nat-full": """<network><name>nat-full</name><forward mode='nat' dev='eth0'><nat ipv6='yes'><address start='1.2.3.4' end='1.2.3.10'/><port start='500' end='1000'/></nat><interface dev='eth0'/></forward><bridge name='virbr9' stp='off' delay='2' macTableManager='libvirt'/><mac address='52:54:00:12:34:56'/><mtu size='9000'/><domain name='example.com' localOnly='yes'/><dns enable='yes' forwardPlainNames='no'><forwarder domain='a.com' addr='8.8.8.8'/><forwarder addr='8.8.4.4'/><forwarder domain='local'/><txt name='example' value='example value'/><srv service='name' protocol='tcp' domain='test-domain-name' target='.' port='1024' priority='10' weight='10'/><srv service='min' protocol='udp'/><host ip='192.168.122.2'><hostname>myhost</hostname><hostname>myhostalias</hostname></host></dns><ip address='192.168.122.1' netmask='255.255.255.0' localPtr='yes'><tftp root='/var/lib/tftp'/><dhcp><range start='192.168.122.2' end='192.168.122.254'><lease expiry='2' unit='hours'/></range><host mac='00:16:3e:77:e2:ed' name='a.example.com' ip='192.168.122.10'><lease expiry='0'/></host><host name='b.example.com' ip='192.168.122.11'/><bootp file='pxelinux.0' server='10.20.30.40'/></dhcp></ip><ip family='ipv6' address='2001:db8:ac10:fe01::1' prefix='64'><dhcp><range start='2001:db8:ac10:fe01::1:10' end='2001:db8:ac10:fe01::1:f0'/><host id='0:4:7e:7d:f0:7d:a8:bc:c5:d2:13:32:11:ed:16:ea:84:63' name='paul' ip='2001:db8:ac10:fe01::1:20'/></dhcp></ip><ip family='ipv4' address='10.24.10.1'/><route address='192.168.222.0' prefix='24' gateway='192.168.122.10'/><route family='ipv6' address='2001:db8:ac10:fc00::' prefix='64' gateway='2001:db8:ac10:fe01::2' metric='5'/></network>""",
"routed": """<network ipv6='yes' trustGuestRxFilters='yes'><name>routed</name><forward mode='route' dev='eth1'/><bridge name='virbr1' zone='myzone'/><ip address='10.0.0.1' prefix='24'/><ip family='ipv6' address='fd00::1' prefix='64'/></network>""",
"open": """<network><name>open</name><forward mode='open'/><bridge name='virbr3'/><ip address='192.168.3.1' netmask='255.255.255.0'/></network>""",
"isolated": """<network><name>isolated</name><bridge name='virbr2' stp='on' delay='0'/><ip address='192.168.152.1' netmask='255.255.255.0'><dhcp><range start='192.168.152.2' end='192.168.152.254'/></dhcp></ip></network>""",
"hostbridge": """<network><name>hostbridge</name><forward mode='bridge'/><bridge name='br0'/><bandwidth><inbound average='1000' peak='5000' burst='1024'/><outbound average='128' peak='256' burst='256'/></bandwidth></network>""",
"direct": """<network><name>direct</name><forward mode='private' dev='eth2'><interface dev='eth2'/><interface dev='eth3'/></forward><portgroup name='engineering' default='yes'><virtualport type='802.1Qbh'><parameters profileid='test'/></virtualport><bandwidth><inbound average='1000' peak='5000' burst='5120'/></bandwidth></portgroup></network>""",
"ovs": """<network><name>ovs</name><forward mode='bridge'/><bridge name='ovsbr0'/><virtualport type='openvswitch'/><vlan trunk='yes'><tag id='42' nativeMode='untagged'/><tag id='47'/></vlan><portgroup name='dontpanic'><vlan><tag id='42'/></vlan></portgroup><portgroup name='admin' trustGuestRxFilters='no'><virtualport><parameters interfaceid='09b11c53-8b5c-4eeb-8f00-d84eaa0aaa4f'/></virtualport></portgroup></network>""",
"hostdev": """<network><name>hostdev</name><forward mode='hostdev' managed='yes'><driver name='vfio'/><address type='pci' domain='0x0000' bus='0x03' slot='0x00' function='0x1'/><address type='pci' domain='0x0000' bus='0x03' slot='0x00' function='0x2'/></forward></network>""",
"pf": """<network><name>pf</name><forward mode='passthrough'><pf dev='eth0'/></forward></network>""",
"vepa": """<network><name>vepa</name><forward mode='vepa'><interface dev='eth1'/><interface dev='eth2'/></forward><virtualport type='802.1Qbg'><parameters managerid='11' typeid='1193047' typeidversion='2' instanceid='b153fa89-1b87-9719-ec12-99e0054fb844'/></virtualport></network>""",
"emptyv6": """<network ipv6='yes'><name>emptyv6</name><bridge name='virbr7'/></network>""",
"isoports": """<network><name>isoports</name><forward mode='bridge'/><bridge name='br9'/><port isolated='yes'/></network>""",
"natnoaddr": """<network><name>natnoaddr</name><forward mode='nat'><nat><address start='10.1.1.1' end='10.1.1.9'/></nat></forward><bridge name='virbr8'/><ip address='192.168.8.1' netmask='255.255.255.0'/></network>""",
"floodnat": """<network><name>floodnat</name><forward/><bridge name='virbr6' macTableManager='kernel'/><ip address='192.168.6.1' prefix='24'><dhcp><range start='192.168.6.2' end='192.168.6.9'><lease expiry='300' unit='seconds'/></range><host mac='00:16:3e:3e:a9:1a' ip='192.168.6.5'><lease expiry='3'/></host></dhcp></ip><dns><forwarder addr='1.1.1.1'/></dns></network>""",
"meta": """<network><name>meta</name><metadata><app1:foo xmlns:app1='http://foo.org/'>fooish</app1:foo></metadata><bridge name='virbr5'/><ip address='10.9.9.1' prefix='24'/></network>""",
}


def _run(tool: list[str], line: str) -> list[str]:
    proc = subprocess.run([*tool, "-c", "test:///default", line], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return [ln for ln in proc.stdout.splitlines() if "<uuid>" not in ln]


@pytest.mark.parametrize("name", sorted(NETS))
def test_network_dumpxml_same_as_libvirt(tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.xml"
    path.write_text(NETS[name])
    line = f"net-define {path}; net-dumpxml {name}"
    assert _run(PYVIRT, line) == _run([VIRSH], line)
