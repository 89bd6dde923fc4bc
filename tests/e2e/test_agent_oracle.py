"""Oracle test for the guest agent commands (domfsinfo, domfsfreeze, domfsthaw, domfstrim,
guestinfo, guestvcpus, get/set-user-sshkeys, set-user-password, qemu-agent-command,
guest-agent-timeout, domtime, domhostname/domifaddr --source agent, dompmsuspend/dompmwakeup,
shutdown/reboot --mode agent, setvcpus/vcpucount --guest) on libvirt's test driver: the same
command lines through the real virsh and through pyvirt give the same stdout, stderr and exit
status.  The test driver pretends two frozen-or-not filesystems and refuses the rest; what is
compared is that pretence, virsh's option checks and their order, and the error lines.
"""

from __future__ import annotations

import pytest

from tests.e2e.test_host_oracle import PYVIRT, VIRSH, _run

pytestmark = pytest.mark.skipif(VIRSH is None, reason="virsh (libvirt-clients) not installed")

SEQUENCES = [
    'domfsinfo test',
    'domfsfreeze test',
    'domfsfreeze test; domfsthaw test; domfsthaw test',
    'domfsfreeze test --mountpoint /boot; domfsfreeze test; domfsthaw test --mountpoint /',
    'domfsfreeze test --mountpoint /nope',
    'domfstrim test',
    'domfstrim test --minimum 100 --mountpoint /',
    'guestinfo test',
    'guestvcpus test',
    'get-user-sshkeys test root',
    'set-user-sshkeys test root --file /dev/null',
    'set-user-password test root pw',
    'set-user-password test root pw --encrypted',
    'qemu-agent-command test \'{"execute":"guest-ping"}\'',
    'guest-agent-timeout test --timeout 5',
    'domtime test',
    'domtime test --now',
    'domtime test --sync',
    'domtime test --time 100',
    'domtime test --pretty',
    'domhostname test',
    'domhostname test --source agent',
    'domifaddr test --source agent',
    'dompmsuspend test mem',
    'dompmwakeup test',
    'shutdown test --mode agent',
    'reboot test --mode agent',
    'setvcpus test 1 --guest',
    'vcpucount test --guest',
    'destroy test; domfsinfo test',
    'destroy test; domfsfreeze test',
    'destroy test; domtime test',
    'destroy test; set-user-password test root x',
    'domfsinfo test --x',
    'domfsfreeze test --mountpoint / --mountpoint /boot; domfsthaw test --mountpoint /boot',
    'domfstrim test --minimum -1',
    'domfstrim test --minimum abc',
    'guestvcpus test --enable',
    'guestvcpus test --cpulist 1',
    'guestvcpus test --enable --disable --cpulist 1',
    'set-user-sshkeys test root',
    'set-user-sshkeys test root --reset',
    'set-user-sshkeys test root --remove',
    'set-user-sshkeys test root --file /nonexistent',
    'qemu-agent-command test --timeout 0 \'{"execute":"guest-ping"}\'',
    'qemu-agent-command test --async --block \'{"execute":"guest-ping"}\'',
    'guest-agent-timeout test',
    'guest-agent-timeout test --timeout abc',
    'dompmsuspend test foo',
    'dompmsuspend test mem --duration -1',
    'setvcpus test 1 --guest --config',
    'setvcpus test 1 --guest --maximum',
    'guestinfo test --os --user',
    'dompmsuspend nosuch mem',
]


@pytest.mark.parametrize("line", SEQUENCES)
def test_same_as_virsh(line: str) -> None:
    assert _run(PYVIRT, "test:///default", line) == _run([VIRSH], "test:///default", line)


def test_second_domain_without_disks(tmp_path) -> None:
    """A domain with no disk has no pretend filesystems (testDomainGetFSInfo), yet freezes two."""
    import re
    import subprocess

    xml = subprocess.run([VIRSH, "-c", "test:///default", "dumpxml test"], capture_output=True, text=True,
                         check=True).stdout
    xml = re.sub(r"<disk.*?</disk>", "", xml, flags=re.S).replace("<name>test</name>", "<name>t2</name>")
    xml = re.sub(r"<uuid>.*?</uuid>", "", xml)
    path = tmp_path / "t2.xml"
    path.write_text(xml)
    line = f"define {path}; start t2; domfsinfo t2; domfsfreeze t2; domfsthaw t2 --mountpoint /boot"
    assert _run(PYVIRT, "test:///default", line) == _run([VIRSH], "test:///default", line)
