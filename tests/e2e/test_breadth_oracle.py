"""Oracle test for the virsh commands added for breadth: the Node Device ones pyvirt answers
(nodedev-list, -dumpxml, -info, -event), domhostname, domcontrol, domtime,
domblkerror, iothreadinfo and send-process-signal: the same command lines through the real virsh and through pyvirt against test:///default must
give the same stdout, stderr and exit status (libvirt's test driver refuses nodedev-list's state
flags, so that refusal is compared too).  Nothing of virsh's output is written down here."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

VIRSH = shutil.which("virsh")
pytestmark = pytest.mark.skipif(VIRSH is None, reason="virsh (libvirt-clients) not installed")
PYVIRT = [sys.executable, "-m", "pyvirt.cli.main"]

LINES = [
    "nodedev-list; nodedev-list --tree; nodedev-list --all; nodedev-list --inactive",
    "nodedev-list --cap bogus; nodedev-list --tree --cap pci; nodedev-list --tree --inactive; "
    "nodedev-list --all --cap pci,net",
    "nodedev-dumpxml computer; nodedev-dumpxml scsi_host11; nodedev-dumpxml --device scsi_host1 --xpath //wwnn; "
    "nodedev-dumpxml scsi_host2 --xpath //capability/@type --wrap; nodedev-dumpxml nosuch",
    "nodedev-info computer; nodedev-info scsi_host11; nodedev-info nosuch; nodedev-info",
    "nodedev-dumpxml a,b; nodedev-info 0x2000000012345678,zz; nodedev-dumpxml 2000000012341234,1000000012341234",
    "nodedev-event --list; nodedev-event; nodedev-event --event bogus",
    "nodedev-event --event lifecycle --timeout 1; nodedev-event --event update --device nosuch --timeout 1",
    "nodedev-event --event update --timeout 1 --device computer --loop --timestamp",
    "help nodedev-list; help nodedev-info",
    "domhostname test; domhostname test --source lease; domhostname test --source agent; "
    "domhostname test --source bogus; domhostname nosuch; domcontrol test; domcontrol nosuch",
    "destroy test; domhostname test; domcontrol test; domtime test; domtime test --now",
    "domtime test; domtime test --pretty; domtime test --now; domtime test --sync; domtime test --time 1000; "
    "domtime test --now --sync; domtime test --time 5 --now; domtime test --time x; "
    "domtime test --time 99999999999999999999; domtime nosuch",
    "domblkerror test; domblkerror nosuch; destroy test; domblkerror test",
    "iothreadinfo test; iothreadinfo test --current --live; iothreadinfo nosuch; define {iot}; iothreadinfo iot; "
    "iothreadinfo iot --config; iothreadinfo iot --live; start iot; iothreadinfo iot; iothreadinfo iot --live",
    "send-process-signal test 1 hup; send-process-signal test 1 SIG_RT32; send-process-signal test ' 1' +15; "
    "send-process-signal --domain test --pid 1 --signame Sigkill; help send-process-signal",
    "send-process-signal test 1 rtmin", "send-process-signal test 1 rt33", "send-process-signal test 1 -1",
    "send-process-signal test 1 65", "send-process-signal test 0x1 1", "send-process-signal test 2 hup",
    "send-process-signal nosuch 1 hup", "destroy test; send-process-signal test 1 0",
]
#: a domain with IOThreads, one pinned (the others follow the host's CPUs, which both tools read)
IOT = ("<domain type='test'><name>iot</name><memory>65536</memory><vcpu>2</vcpu><iothreads>2</iothreads>"
       "<cputune><iothreadpin iothread='1' cpuset='0'/></cputune><os><type>hvm</type></os></domain>")


@pytest.fixture(scope="module")
def iot(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("iot") / "iot.xml"
    path.write_text(IOT)
    return str(path)


@pytest.mark.parametrize("line", LINES)
def test_commands_match_virsh(line: str, iot: str) -> None:
    line = line.replace("{iot}", iot)
    env = {**os.environ, "LC_ALL": "C"}
    runs = [subprocess.run([*tool, "-c", "test:///default", line], capture_output=True, text=True, timeout=60,
                           env=env, stdin=subprocess.DEVNULL) for tool in ([VIRSH or "virsh"], PYVIRT)]
    theirs, ours = ((r.stdout, r.stderr, r.returncode) for r in runs)
    assert ours == theirs
