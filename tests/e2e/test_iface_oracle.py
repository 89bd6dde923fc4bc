"""Host interfaces on libvirt's test driver against the real virsh: definitions (libvirt's parse
errors and its formatting of what it read), start/destroy, the change transaction, bridging; the
same command lines through both tools must give the same stdout, stderr and exit status.

The XML files are written here; nothing of virsh's output is."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.test_host_oracle import VIRSH, assert_same_in, files_folder

pytestmark = pytest.mark.skipif(VIRSH is None, reason="virsh (libvirt-clients) not installed")

FILES = {
    "notype": "<interface name='e2'/>",
    "badtype": "<interface type='foo' name='e2'/>",
    "noname": "<interface type='ethernet'/>",
    "badstart": "<interface type='ethernet' name='eth3'><start mode='bogus'/></interface>",
    "badmtu": "<interface type='ethernet' name='eth3'><mtu size='x'/></interface>",
    "loose": "<interface type='ethernet' name='eth3'><mac address='xx'/><foo/></interface>",
    "eth": "<interface type='ethernet' name='eth2'><start mode='onboot'/><mac address='aa:bb:cc:dd:ee:00'/>"
           "</interface>",
    "rich": """<interface type='ethernet' name='eth5'>
  <mac address='AA:BB:CC:DD:EE:05'/><link speed='1000' state='up'/>
  <protocol family='ipv6'><autoconf/><dhcp/><ip address='fe80::1' prefix='64'/><route gateway='fe80::2'/></protocol>
  <protocol family='ipv4'><dhcp peerdns='yes'/><ip address='10.1.1.1' prefix='0'/></protocol>
  <mtu size='9000'/><start mode='hotplug'/></interface>""",
    "bond": """<interface type='bond' name='bond0'><start mode='none'/><bond mode='active-backup'>
  <miimon freq='100' updelay='10' carrier='ioctl'/>
  <interface type='ethernet' name='eth6'><mac address='aa:bb:cc:dd:ee:06'/></interface>
  <interface type='ethernet' name='eth7'><mac address='aa:bb:cc:dd:ee:07'/></interface></bond></interface>""",
    "arpbond": """<interface type='bond' name='bond1'><bond><arpmon interval='5' target='10.0.0.1' validate='all'/>
  <interface type='ethernet' name='eth8'/></bond></interface>""",
    "vlan": "<interface type='vlan' name='eth0.42'><protocol family='ipv4'><dhcp/></protocol>"
            "<vlan tag='42'><interface name='eth0'/></vlan></interface>",
    "bridge": "<interface type='bridge' name='br0'><start mode='onboot'/><bridge stp='off' delay='0'>"
              "<interface type='ethernet' name='eth0'><mac address='aa:bb:cc:dd:ee:01'/></interface></bridge></interface>",
}

#: command lines (one fresh test:///default each); errors that change nothing share a line
LINES = [
    "iface-define notype.xml; iface-define badtype.xml; iface-define noname.xml; iface-define badstart.xml; "
    "iface-define badmtu.xml; iface-define nonexistent.xml; iface-start nope; iface-bridge nope br0; iface-rollback; "
    "iface-commit; iface-start eth1; iface-bridge eth1 eth1; iface-unbridge eth1; iface-edit eth1",
    "iface-define loose.xml; iface-dumpxml eth3; iface-define rich.xml; iface-dumpxml AA:BB:CC:DD:EE:05; "
    "iface-define bond.xml; iface-dumpxml bond0; iface-define arpbond.xml; iface-dumpxml bond1; iface-define vlan.xml; "
    "iface-list --all; iface-dumpxml eth0.42; iface-define bridge.xml; iface-dumpxml br0",
    "iface-define eth.xml; iface-list --all; iface-dumpxml eth2; iface-start eth2; iface-list; iface-destroy eth2; "
    "iface-undefine eth2; iface-list --all",
    "iface-define eth.xml; iface-start eth2; iface-define eth.xml; iface-list --all",
    "iface-begin; iface-begin; iface-undefine eth1; iface-list --all; iface-rollback; iface-list --all; iface-commit",
    "iface-begin; iface-define eth.xml; iface-commit; iface-list --all; iface-rollback",
    "iface-destroy eth1", "iface-destroy eth1; iface-destroy eth1; iface-list --all",
    "iface-undefine aa:bb:cc:dd:ee:ff; iface-list --all", "iface-bridge eth1 br0", "iface-bridge eth1 br0 --delay x",
]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return files_folder(tmp_path_factory, "ifaces", FILES)


@pytest.mark.parametrize("line", LINES)
def test_same_as_virsh(folder: Path, line: str) -> None:
    assert_same_in(folder, line)
