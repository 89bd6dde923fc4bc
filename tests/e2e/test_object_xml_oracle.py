"""Networks and storage pools read and written as real libvirt 9.0 does: our own documents (valid
and invalid), defined and dumped through the real virsh on test:///default, whose parse and
format are libvirt's own (its dumps equal libvirt's networkxml2xml/storagepoolxml2xml expected
files), and read and written by pyvirt's model in the test.  Nothing of virsh's output is
written down here.

Left out on purpose: the dnsmasq and pool namespaces (the test driver does not register them),
and what pyvirt refuses deliberately (a relative pool target path, a source part the pool type
does not take), listed in docs/conformance.md.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from pyvirt.xml.errors import XMLError
from pyvirt.xml.network import Network
from pyvirt.xml.pool import PoolDef

VIRSH = shutil.which("virsh")
pytestmark = pytest.mark.skipif(VIRSH is None, reason="virsh (libvirt-clients) not installed")

U = "<uuid>81ff0d90-c91e-6742-64da-4a736edb9a9b</uuid>"
IP = "<ip address='192.168.122.1' netmask='255.255.255.0'><dhcp><range start='192.168.122.2' end='192.168.122.254'/></dhcp></ip>"
IP0 = "<ip address='192.168.122.1' netmask='255.255.255.0'/>"

NETWORKS = {
    # valid
    "stp-word": "<bridge name='vb1' stp='maybe'/>" + IP,
    "mtu-zero": "<mtu size='0'/>" + IP,
    "title": "<title>t</title><description>d</description>" + IP,
    "bandwidth-zeros": "<bridge name='vb1'/><bandwidth><inbound average='10' peak='0' burst='0'/></bandwidth>" + IP,
    "bandwidth-emptied": "<bridge name='vb1'/><bandwidth><inbound average='0'/></bandwidth>" + IP,
    "bandwidth-childless": "<bridge name='vb1'/><bandwidth/>" + IP,
    "forwarder-port": "<dns><forwarder addr='8.8.8.8' port='5353'/></dns>" + IP,
    "v6-dotted": "<dns><host ip='::a01:203'><hostname>h</hostname></host></dns><ip family='ipv6' "
                 "address='::ffff:a01:201' prefix='120'><dhcp><range start='::ffff:a01:202' end='::ffff:a01:210'/></dhcp></ip>",
    "pg-vlan-trunk": "<forward mode='bridge'/><bridge name='br0'/><virtualport type='openvswitch'/><portgroup name='a' "
                     "default='yes' trustGuestRxFilters='yes'><vlan trunk='yes'><tag id='42' nativeMode='untagged'/>"
                     "<tag id='47'/></vlan><bandwidth><inbound average='1000' peak='5000' burst='1024'/>"
                     "<outbound average='128'/></bandwidth></portgroup>",
    "routes": IP0 + "<route address='10.0.0.0' prefix='8' gateway='192.168.122.2' metric='5'/>"
                    "<route family='ipv4' address='10.1.0.0' netmask='255.255.0.0' gateway='192.168.122.3'/>",
    "dns-records": "<dns><txt name='ex' value='a &quot;q&quot; &amp; &lt;v&gt;'/><srv service='ldap' protocol='tcp' "
                   "domain='x.com' target='t.x.com' port='389' priority='1' weight='2'/><host ip='192.168.122.2'>"
                   "<hostname>a</hostname><hostname>b</hostname></host></dns>" + IP,
    "v6-hosts-leases": "<ip family='ipv6' address='2001:DB8::1' prefix='64'><dhcp><range start='2001:db8::10' "
                       "end='2001:db8::20'><lease expiry='30' unit='minutes'/></range><host id='0:1' ip='2001:db8::30'>"
                       "<lease expiry='2' unit='hours'/></host><host name='n' ip='2001:db8::11'/></dhcp></ip>",
    "nat-range": "<forward mode='nat'><nat><address start='1.2.3.4' end='1.2.3.10'/><port start='500' end='1000'/></nat>"
                 "</forward>" + IP,
    "hostdev-addrs": "<forward mode='hostdev' managed='no'><driver name='vfio'/><address type='pci' domain='0' bus='3' "
                     "slot='0x10' function='1'/></forward>",
    "bridge-bits": "<bridge name='vb1' zone='trusted' stp='off' delay='5' macTableManager='libvirt'/><mac "
                   "address='52:54:00:AB:CD:EF'/><domain name='example.org' localOnly='no'/><port isolated='yes'/>" + IP,
    "bootp-server": "<ip address='192.168.122.1' prefix='24' localPtr='yes'><dhcp><range start='192.168.122.2' "
                    "end='192.168.122.9'/><bootp file='pxelinux.0' server='192.168.122.5'/></dhcp></ip>",
    "qbg": "<forward mode='vepa'><interface dev='eth1'/></forward><virtualport type='802.1Qbg'><parameters managerid='11' "
           "typeid='1193047' typeidversion='2' instanceid='b153fa89-1b87-9719-ec12-99e0054fb844'/></virtualport>",
    # invalid
    "bandwidth-no-average": "<bandwidth><outbound peak='10'/></bandwidth>" + IP,
    "bandwidth-floor": "<bridge name='vb1'/><bandwidth><inbound floor='5'/></bandwidth>" + IP,
    "bandwidth-peak-only": "<bridge name='vb1'/><bandwidth><inbound floor='5' peak='20'/></bandwidth>" + IP,
    "range-outside": "<ip address='192.168.122.1' netmask='255.255.255.0'><dhcp><range start='192.168.123.2' "
                     "end='192.168.123.254'/></dhcp></ip>",
    "v6-host-mac": "<ip family='ipv6' address='2001:db8::1' prefix='64'><dhcp><host mac='00:16:3e:77:e2:ed' "
                   "ip='2001:db8::10'/></dhcp></ip>",
    "prefix-and-netmask": "<ip address='192.168.122.1' netmask='255.255.255.0' prefix='24'/>",
    "dup-interface": "<forward mode='passthrough'><interface dev='eth0'/><interface dev='eth0'/></forward>",
    "disabled-dns-extra": "<forward dev='eth1' mode='route'/><bridge name='virbr1'/><dns enable='no'><forwarder "
                          "addr='8.8.8.8'/></dns>" + IP0,
    "open-with-dev": "<forward mode='open' dev='eth0'/>" + IP0,
}

T = "<target><path>/var/lib/x</path></target>"
PU = "<uuid>1c13165a-d0f4-3aee-b447-30fb38789091</uuid>"
POOLS = {
    # valid
    "netfs-protocol-text": "<pool type='netfs'><name>p</name>" + PU + "<source><host name='h'/><dir path='/e'/>"
                           "<format type='nfs'/><protocol ver='4.1'/></source>" + T + "</pool>",
    "fs-two-devices": "<pool type='fs'><name>p</name>" + PU + "<source><device path='/dev/a'/><device path='/dev/b'/>"
                      "</source>" + T + "</pool>",
    "iscsi-chap": "<pool type='iscsi'><name>p</name>" + PU + "<source><host name='h' port='3261'/><device "
                  "path='iqn.2013-06.com.example:p'/><auth type='chap' username='u'><secret "
                  "uuid='2ec115d7-3a88-3ceb-bc12-0ac909a6fd87'/></auth><initiator><iqn name='iqn.1993-08.org.x'/>"
                  "</initiator></source><target><path>/dev/disk/by-path</path></target></pool>",
    "rbd-hosts": "<pool type='rbd'><name>p</name>" + PU + "<source><name>r</name><host name='m1' port='6789'/>"
                 "<host name='m2'/><auth username='admin' type='ceph'><secret usage='k'/></auth></source></pool>",
    "scsi-fabric": "<pool type='scsi'><name>p</name>" + PU + "<source><adapter type='fc_host' "
                   "parent_fabric_wwn='20000000c9831b4b' wwnn='20000000c9831b4c' wwpn='10000000c9831b4c'/></source>"
                   "<target><path>/dev/disk/by-path</path></target></pool>",
    "gluster-dir": "<pool type='gluster'><name>p</name>" + PU + "<source><name>gv0</name><dir path='/a/b/'/>"
                   "<host name='gl'/></source></pool>",
    "dir-sizes-perms": "<pool type='dir'><name>p</name>" + PU + "<capacity unit='G'>10</capacity><target>"
                       "<path>///var//lib/x/</path><permissions><mode>0755</mode><owner>107</owner><group>-1</group>"
                       "</permissions></target></pool>",
    # invalid
    "protocol-comma": "<pool type='netfs'><name>p</name>" + PU + "<source><host name='h'/><dir path='/e'/>"
                      "<protocol ver='4,1'/></source>" + T + "</pool>",
    "netfs-no-dir": "<pool type='netfs'><name>p</name>" + PU + "<source><host name='h'/></source>" + T + "</pool>",
    "rbd-no-name": "<pool type='rbd'><name>p</name>" + PU + "<source><host name='h'/></source></pool>",
    "mode-bad": "<pool type='dir'><name>p</name>" + PU + "<target><path>/x</path><permissions><mode>0999</mode>"
                "</permissions></target></pool>",
    "fc-no-wwn": "<pool type='scsi'><name>p</name>" + PU + "<source><adapter type='fc_host'/></source><target>"
                 "<path>/dev/disk/by-path</path></target></pool>",
}


def _virsh(tmp_path: Path, kind: str, name: str, xml: str) -> str | None:
    """The document real libvirt keeps for `xml`, or None when it refuses it."""
    doc = tmp_path / f"{name}.xml"
    doc.write_text(xml)
    drop = "net-destroy default; net-undefine default;" if kind == "net" else \
        "pool-destroy default-pool; pool-undefine default-pool;"
    run = subprocess.run([VIRSH, "-q", "-c", "test:///default", f"{drop} {kind}-define {doc}; {kind}-dumpxml p"],
                         capture_output=True, text=True, timeout=60, check=False)
    if "Failed to define" in run.stderr:
        return None
    lines = [ln for ln in run.stdout.splitlines() if not ln.startswith(("Network ", "Pool "))]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_network_reads_as_libvirt(name: str, tmp_path: Path) -> None:
    xml = f"<network><name>p</name>{U}{NETWORKS[name]}</network>"
    want = _virsh(tmp_path, "net", name, xml)
    if want is None:
        with pytest.raises(XMLError):
            Network.from_xml(xml)
        return
    assert Network.from_xml(xml).to_xml() == want


@pytest.mark.parametrize("name", sorted(POOLS))
def test_pool_reads_as_libvirt(name: str, tmp_path: Path) -> None:
    want = _virsh(tmp_path, "pool", name, POOLS[name])
    if want is None:
        with pytest.raises(XMLError):
            PoolDef.from_xml(POOLS[name])
        return
    # the test driver reports a fixed 100 GiB for any inactive pool's size: libvirt's parse says 0
    want = re.sub(r"(<(capacity|available) unit='bytes'>)107374182400<", r"\g<1>0<", want)
    assert PoolDef.from_xml(POOLS[name]).to_xml() == want
