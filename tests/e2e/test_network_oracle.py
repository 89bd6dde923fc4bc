"""Oracle test for the Networking commands: the same command lines through the real virsh and
through pyvirt against test:///default must give the same stdout, stderr and exit status.

Nothing of virsh's output is written down here: both tools run in the test.  The networks the
sequences define carry fixed UUIDs so that the two runs print the same documents.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

VIRSH = shutil.which("virsh")
pytestmark = pytest.mark.skipif(VIRSH is None, reason="virsh (libvirt-clients) not installed")

NET2 = """<network>
  <name>n2</name>
  <uuid>7b4ba1c6-3c37-4a51-9a43-6a8a6f3b0e1d</uuid>
  <bridge name='vbr2'/>
  <forward/>
  <mac address='52:54:00:AA:BB:CC'/>
  <ip address='10.5.5.1' netmask='255.255.255.0'>
    <dhcp><range start='10.5.5.10' end='10.5.5.20'/></dhcp>
  </ip>
  <ip family='ipv6' address='FD00:5::1' prefix='64'/>
</network>
"""
ISOLATED = """<network><name>iso</name><uuid>0f0e0d0c-0b0a-0908-0706-050403020100</uuid>
<dns><host ip='10.6.6.7'><hostname>h</hostname></host></dns>
<ip address='10.6.6.1' prefix='24'/></network>"""
BAD = "<network><name>bad</name><forward mode='nat'/></network>"

SEQUENCES = [
    "net-list", "net-list --all", "net-list --inactive", "net-list --name", "net-list --uuid",
    "net-list --uuid --name", "net-list --persistent", "net-list --transient", "net-list --autostart",
    "net-list --no-autostart", "net-info default", "net-info nosuch", "net-dumpxml default",
    "net-dumpxml default --inactive", "net-uuid default",
    "net-name default", "net-name dd8fe884-6c02-601e-7551-cca97df1c5df",
    "net-uuid dd8fe884-6c02-601e-7551-cca97df1c5df",
    "net-destroy default; net-destroy default; net-list --all", "net-start default",
    "net-undefine default", "net-destroy default; net-undefine default; net-list --all",
    "net-autostart default; net-list --autostart", "net-autostart default --disable",
    "net-dhcp-leases default", "net-port-list default", "net-port-dumpxml default 1234",
    "net-port-delete default 1234", "net-event --list", "net-event", "net-event --event frob",
    "net-update default add bridge '<bridge/>'", "net-update default frob ip '<ip/>'",
    "net-update default add frob '<ip/>'",
    "net-update default add-first ip-dhcp-host \"<host mac='52:54:00:00:00:09' ip='192.168.122.9'/>\" "
    "--live --config; net-update default add ip-dhcp-host \"<host mac='52:54:00:00:00:09' ip='192.168.122.9'/>\"",
    "net-update default add dns-host \"<host ip='1.2.3.4'><hostname>x</hostname></host>\"; net-dumpxml default",
    "net-update default delete ip-dhcp-range \"<range start='192.168.122.2' end='192.168.122.254'/>\"; "
    "net-dumpxml default",
    "net-update default modify ip-dhcp-range \"<range start='192.168.122.2' end='192.168.122.254'/>\"",
    "net-update default add portgroup \"<portgroup name='pg'/>\"; net-dumpxml default",
    "net-update default add dns-txt \"<txt name='a' value='b'/>\"; "
    "net-update default add dns-srv \"<srv service='s' protocol='tcp'/>\"; net-dumpxml default",
    "net-update default add forward-interface \"<interface dev='eth9'/>\"; net-dumpxml default",
    "net-update default --current --live add dns-host '<host/>'",
    "net-define {n2}; net-list --all; net-info n2; net-dumpxml n2; net-start n2; net-create {n2}; "
    "net-autostart n2; net-list --all --autostart; net-undefine n2; net-destroy n2; net-list --all",
    "net-create {n2}; net-info n2; net-destroy n2; net-list --all",
    "net-define {iso}; net-dumpxml iso; net-start iso; net-list",
    "net-define {bad}", "net-create {bad}", "net-define /nonexistent.xml",
    "help net-update", "help net-list", "help network",
]


def _run(tool: list[str], line: str) -> tuple[str, str, int]:
    proc = subprocess.run([*tool, "-c", "test:///default", line], capture_output=True, text=True, timeout=60)
    return proc.stdout, proc.stderr, proc.returncode


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    d = tmp_path_factory.mktemp("nets")
    out = {}
    for key, text in (("n2", NET2), ("iso", ISOLATED), ("bad", BAD)):
        path = Path(d, f"{key}.xml")
        path.write_text(text)
        out[key] = str(path)
    return out


@pytest.mark.parametrize("line", SEQUENCES)
def test_same_as_virsh(line: str, files: dict[str, str]) -> None:
    line = line.format(**files)
    assert _run([sys.executable, "-m", "pyvirt.cli.main"], line) == _run([VIRSH], line)
