"""Oracle test for host figures and guest monitoring on libvirt's test driver: the same command
lines through the real virsh and through pyvirt must give the same stdout, stderr and exit status.

Nothing of virsh's output is written down here: both tools run in the test.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

VIRSH = shutil.which("virsh")
pytestmark = pytest.mark.skipif(VIRSH is None, reason="virsh (libvirt-clients) not installed")
PYVIRT = [sys.executable, "-m", "pyvirt.cli.main"]

SEQUENCES = [
    # host: cells, CPUs, memory
    "freecell", "freecell --all", "freecell 0", "freecell --cellno 1", "freecell 5", "freecell x",
    "freecell 0 --all", "maxvcpus", "maxvcpus --type qemu", "nodecpumap", "nodecpumap --pretty",
    "nodecpustats", "nodecpustats 2", "nodecpustats --cpu x", "nodememstats", "nodememstats 0",
    "nodecpustats --percent",
    # host: CPU models, huge pages, KSM, suspend; network filters, which libvirt's test driver does
    # not have (virsh's fallback count call for the list) — errors that change nothing share a line
    "cpu-models x86_64; cpu-models i686; cpu-models ppc64le; cpu-models aarch64; cpu-models s390x; "
    "cpu-models riscv64; cpu-models none; cpu-models foo",
    "freepages --all; freepages 0 4; freepages --cellno 1 --pagesize 2M; freepages --cellno 0; freepages --pagesize 4; "
    "freepages -1 4; freepages -2 4; freepages --all --pagesize 1G; freepages --all --cellno 0; freepages 0 x",
    "allocpages 2M 10; allocpages 2M 10 --all; allocpages 2M 10 --cellno 0 --all; allocpages x 1; node-memory-tune; "
    "node-memory-tune --shm-pages-to-scan 10; node-memory-tune --shm-sleep-millisecs x; nodesuspend mem 60; "
    "nodesuspend disk 10; nodesuspend foo 60; nodesuspend mem -1; nodesuspend mem x",
    "nwfilter-list; nwfilter-define /dev/null; nwfilter-define /nonexistent; nwfilter-dumpxml x; "
    "nwfilter-dumpxml fce8ae33-e69e-83bf-262e-30786c1f8072; nwfilter-undefine x; nwfilter-edit x; "
    "nwfilter-binding-list; nwfilter-binding-dumpxml vnet0; nwfilter-binding-delete vnet0; "
    "nwfilter-binding-create /dev/null",
    "nodesuspend mem x",
    # guests: memory statistics, stats records, addresses, keys
    "dommemstat test", "domstats", "domstats --raw test", "domstats --state", "domstats; uri",
    "domifaddr test", "domifaddr test --full", "domifaddr test --interface testnet0",
    "domifaddr test --source arp", "domifaddr test --source bogus", "destroy test; domifaddr test",
    "send-key test 1", "send-key test KEY_A KEY_B", "send-key test --codeset usb 4", "send-key test KEY_FOO",
    "send-key test --holdtime x 1", "destroy test; send-key test 1", "send-key nosuch 1",
    # key names per code set (case-sensitive, none in xt/qnum/usb), numbers as strtoul reads them
    "send-key test --codeset win32 VK_A VK_OEM_5; send-key test --codeset os_x ANSI_A Escape; "
    "send-key test KEY_RESERVED KEY_LEFTCTRL KEY_LEFTALT KEY_DELETE KEY_SYSRQ 30 0x1e 036 ' 30' +30; "
    "send-key test key_a; send-key test A; send-key test --codeset win32 KEY_A; send-key test --codeset qnum KEY_A; "
    "send-key test None; send-key test 70000; send-key test -1; send-key test 1_0; send-key test 08; send-key test 0x",
    "send-key test 65535", "send-key test KEY_A X 30",
    # os_x/win32 codes their pages list but libvirt's rows lack (win32 0x10, 0xa2), and row fillers
    "send-key test --codeset win32 16; send-key test --codeset win32 0xa2; send-key test --codeset win32 0 0x11 160; "
    "send-key test --codeset os_x 0 110 255; send-key test --codeset os_x 0xffff",
    # device changes: the XML attach-disk writes, scope flags, and what the test driver refuses
    "attach-disk test /tmp/a.img vdb --print-xml --targetbus virtio --subdriver qcow2 --driver qemu",
    "attach-disk test /tmp/a.img vdb --print-xml", "attach-disk test /tmp/a.img vdb --live --current",
    "attach-disk test /dev/null sdb --print-xml --type cdrom --mode readonly --cache none --serial S1",
    "attach-disk test /tmp/a.img vdb --mode bogus --print-xml", "attach-disk test /tmp/a.img vdb",
    "attach-disk nosuch /tmp/a.img vdb", "detach-disk test vdb", "attach-device test /dev/null --config",
    # host interfaces (read-only): lookups by name or MAC, each only where virsh allows it
    "iface-list", "iface-list --all", "iface-list --inactive", "iface-list --all --inactive",
    "iface-mac eth1", "iface-mac nope", "iface-mac aa:bb:cc:dd:ee:ff", "iface-name AA:BB:CC:DD:EE:FF",
    "iface-name 02:00:00:00:00:01", "iface-name eth1", "iface-dumpxml eth1", "iface-dumpxml aa:bb:cc:dd:ee:ff",
    "iface-dumpxml eth1 --inactive", "iface-dumpxml eth1 --xpath //mtu", "iface-dumpxml nope",
    # storage pools: define/undefine, lookups by UUID, capabilities the test driver lacks
    "pool-define-as p dir --target /tmp/x; pool-list --all; pool-info p; pool-start p; pool-undefine p",
    "pool-define-as p dir --target /tmp/x; pool-undefine p; pool-list --all",
    "pool-define-as default-pool dir --target /x", "pool-define-as q dir",
    "pool-name 35bb2ad9-388a-cdfe-461a-b8907f6e53fe", "pool-name nosuch",
    "pool-name dfe224cb-28fb-8dd0-c4b2-64eb3f0f4566", "pool-name default-pool", "pool-capabilities",
]

#: a node with several NICs on networks with and without DHCP ranges, and a second domain (libvirt
#: lists domains in hash order: domstats names them)
NODE = """<node>
<network><name>default</name><bridge name='virbr0'/><forward/>
  <ip address='192.168.122.1' netmask='255.255.255.0'><dhcp><range start='192.168.122.2' end='192.168.122.254'/>
  </dhcp></ip></network>
<network><name>n2</name><bridge name='virbr1'/><ip address='10.0.0.1' prefix='16'/></network>
<domain type='test'><name>t2</name><memory>1048576</memory><vcpu>2</vcpu><os><type>hvm</type></os><devices>
  <interface type='network'><mac address='52:54:00:00:00:01'/><source network='n2'/></interface>
  <interface type='network'><mac address='52:54:00:00:00:02'/><source network='default'/></interface>
  <interface type='user'><mac address='52:54:00:00:00:03'/></interface>
  <interface type='network'><mac address='52:54:00:00:00:04'/><source network='nosuch'/></interface>
</devices></domain>
<domain type='test'><name>c</name><memory>1048576</memory><vcpu>1</vcpu><os><type>hvm</type></os><devices>
  <disk type='file' device='cdrom'><source file='/tmp/a.iso'/><target dev='hdc' bus='ide'/><readonly/></disk>
  <disk type='file' device='cdrom'><target dev='hdd' bus='ide'/><readonly/></disk>
  <disk type='file' device='disk'><source file='/tmp/x.img'/><target dev='vda' bus='virtio'/></disk>
</devices></domain>
<domain type='test'><name>t3</name><memory>1048576</memory><vcpu>2</vcpu><os><type>hvm</type></os></domain>
</node>
"""
NODE_SEQUENCES = ["domifaddr t2", "domifaddr t3", "domstats t3 t2", "domstats t2 --raw", "domifaddr t2 --interface testnet1",
                  "change-media c hdc --eject", "change-media c hdd /tmp/b.iso --insert", "change-media c hdd --insert",
                  "change-media c hdc /tmp/b.iso", "change-media c vda --eject", "change-media c hdd --eject",
                  "change-media c hdc /tmp/b.iso --insert", "change-media c hdq --eject",
                  "change-media c hdc --eject --insert", "change-media c hdc --eject --config --current",
                  "update-device c /dev/null"]

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _run(tool: list[str], uri: str, line: str, cwd: Path | None = None) -> tuple[str, str, int]:
    proc = subprocess.run([*tool, "-c", uri, line], capture_output=True, text=True, timeout=60, cwd=cwd)
    # pool-define-as makes a random UUID in both tools
    return _UUID.sub("UUID", proc.stdout), proc.stderr, proc.returncode


def files_folder(factory: pytest.TempPathFactory, name: str, files: dict[str, str]) -> Path:
    """A folder with NAME.xml for each of `files` (what command lines of other oracle tests read)."""
    path = factory.mktemp(name)
    for stem, text in files.items():
        (path / f"{stem}.xml").write_text(text)
    return path


def assert_same_in(folder: Path, line: str) -> None:
    """`line` on test:///default through both tools, run in `folder`."""
    assert _run(PYVIRT, "test:///default", line, folder) == _run([VIRSH], "test:///default", line, folder)


@pytest.mark.parametrize("line", SEQUENCES)
def test_same_as_virsh(line: str) -> None:
    assert _run(PYVIRT, "test:///default", line) == _run([VIRSH], "test:///default", line)


@pytest.fixture(scope="module")
def node_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    path: Path = tmp_path_factory.mktemp("node") / "node.xml"
    path.write_text(NODE)
    return f"test://{path}"


@pytest.mark.parametrize("line", NODE_SEQUENCES)
def test_node_file_same_as_virsh(node_uri: str, line: str) -> None:
    assert _run(PYVIRT, node_uri, line) == _run([VIRSH], node_uri, line)
