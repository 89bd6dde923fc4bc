"""Oracle test for the domain tuning and pinning commands (memtune, blkiotune, blkdeviotune,
schedinfo, numatune, domiftune, perf, vcpuinfo, vcpupin, emulatorpin, iothreadadd/del/set/pin,
cpu-stats, metadata, set-lifecycle-action, setvcpu, domblkthreshold): the same command lines
through the real virsh and through pyvirt against test:///default must give the same stdout,
stderr and exit status, the XML they leave behind included (each line ends with a dumpxml where
it changed something).  Nothing of virsh's output is written down here; only the test driver's
clock-based vCPU time is normalised."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest

VIRSH = shutil.which("virsh")
pytestmark = pytest.mark.skipif(VIRSH is None, reason="virsh (libvirt-clients) not installed")
PYVIRT = [sys.executable, "-m", "pyvirt.cli.main"]
_CPU_TIME = re.compile(r"^(CPU time:\s+)[0-9.]+s$", re.M)

LINES = [
    # memtune
    "memtune test; memtune test --hard-limit 1G; memtune test; memtune test --hard-limit 2G --swap-hard-limit 1G; "
    "memtune test --min-guarantee 5; memtune test --live --config; memtune test --hard-limit abc; "
    "memtune test --hard-limit 5 --live --config; memtune test --soft-limit 3M --config; dumpxml test; "
    "memtune test --hard-limit -1; memtune test --config; dumpxml --inactive test",
    "destroy test; memtune test --live; memtune test --current",
    # blkiotune
    "blkiotune test; blkiotune test --weight 300; blkiotune test --device-weights /dev/sda,100,/dev/sdb,5 "
    "--device-read-iops-sec /dev/sda,5; blkiotune test; blkiotune test --device-weights /dev/sda,0; "
    "blkiotune test --device-write-bytes-sec /dev/sdb,9; blkiotune test; dumpxml test",
    "blkiotune test --device-weights junk; blkiotune test --device-read-bytes-sec /dev/sda,1k; "
    "blkiotune test --weight 0; blkiotune test --weight -5; blkiotune test --weight 5 --config; "
    "blkiotune test --config; blkiotune test --current; blkiotune test --live --config",
    # blkdeviotune
    "blkdeviotune test vda; blkdeviotune test vdb; blkdeviotune test vda --total-bytes-sec 1000 --read-bytes-sec 5; "
    "blkdeviotune test vda --group-name g --total-iops-sec 4; blkdeviotune test vda --total-bytes-sec 1k "
    "--total-bytes-sec-max 2M --group-name grp --size-iops-sec 5; blkdeviotune test vda; dumpxml test; "
    "blkdeviotune test /guest/diskimage1 --config; blkdeviotune test vda --total-bytes-sec 0 "
    "--total-bytes-sec-max 0; dumpxml test",
    "destroy test; blkdeviotune test vda; blkdeviotune test vda --live; blkdeviotune test vda --write-iops-sec 3 "
    "--write-iops-sec-max 4; dumpxml test",
    # schedinfo
    "schedinfo test; schedinfo test --weight 5; schedinfo test --set cpu_shares=5; schedinfo test --config",
    "schedinfo test --live --config; schedinfo test --set weight=x; schedinfo test --set weight; "
    "schedinfo test --set weight=7 --live --config; schedinfo test --current; schedinfo nosuch",
    "destroy test; schedinfo test --live; schedinfo test",
    # numatune
    "numatune test; numatune test --nodeset 0; numatune test; numatune test --mode interleave; dumpxml test",
    "numatune test --mode interleave; numatune test --mode 7; numatune test --nodeset junk; numatune test --mode bogus; "
    "numatune test --nodeset 0-1 --mode preferred --config; numatune test --config; dumpxml --inactive test",
    # vcpuinfo, vcpupin, emulatorpin
    "vcpuinfo test; vcpuinfo test --pretty; vcpupin test; vcpupin test 1 2; vcpupin test 0 3; vcpupin test; "
    "vcpuinfo test; vcpupin test 1; dumpxml test",
    "vcpupin test --vcpu 5 0; vcpupin test 0 0-99; vcpupin test 0 ^0; vcpupin test 1 x; vcpupin test 3; "
    "vcpupin test 0 r; vcpupin test 0 --config; vcpupin test --config 1 3",
    "destroy test; vcpuinfo test --pretty; vcpuinfo test; vcpupin test 0 1",
    "emulatorpin test; emulatorpin test 1; emulatorpin test; emulatorpin test 0-2 --config; emulatorpin test --config; "
    "emulatorpin test --live; emulatorpin test --live --config; emulatorpin test 0 --live --config; "
    "dumpxml --inactive test",
    # IOThreads
    "iothreadadd test 5; iothreadinfo test; iothreaddel test 5; iothreadset test 1 --poll-max-ns 5; "
    "iothreadpin test 1 0; iothreadadd test 0; iothreadset test 1; iothreadpin test 1 x",
    "iothreadadd test 5 --config; iothreadpin test 5 1 --config; iothreadset test 5 --poll-max-ns 10 --config; "
    "dumpxml test --inactive; iothreaddel test 5 --config; dumpxml --inactive test",
    "iothreadadd test 3; iothreadadd test 1; iothreadadd test 3; iothreadpin test 3 0-1; "
    "iothreadset test 3 --poll-grow 2; iothreaddel test 1; iothreadinfo test; dumpxml test",
    # cpu-stats
    "cpu-stats test; cpu-stats test --total; cpu-stats test --start 1 --count 1; cpu-stats test --start 5; "
    "cpu-stats test --count 0; cpu-stats test --start -1",
    "destroy test; cpu-stats test",
    # domiftune
    "domiftune test vnet0; domiftune test testnet0; domiftune test aa:bb:cc:dd:ee:ff --inbound 100,200,300 "
    "--outbound 5; domiftune test aa:bb:cc:dd:ee:ff; dumpxml test; domiftune test testnet0 --inbound 7; "
    "domiftune test testnet0 --inbound 1,,3,4; dumpxml test",
    "domiftune test testnet0 --inbound abc; domiftune test testnet0 --inbound 0,5; "
    "domiftune test testnet0 --inbound 1,2,3,4,5; domiftune test testnet0 --outbound 1,2,3,4; "
    "domiftune test testnet0 --outbound 0; dumpxml test",
    # metadata
    "metadata test http://x; metadata test http://x --key k --set '<a b=\"1\">t</a>'; metadata test http://x; "
    "dumpxml test; metadata test http://x --remove; dumpxml test; metadata test http://x --set '<a/>'",
    "metadata test http://x --key k --set '<a><b/></a>' --config; metadata test http://x --config; "
    "dumpxml --inactive test; metadata test http://x --live; metadata test --uri http://x --key k --remove; "
    "metadata test http://x --key k --remove --set '<a/>'; metadata test http://x --edit --set '<a/>'",
    # set-lifecycle-action
    "set-lifecycle-action test poweroff restart; set-lifecycle-action test crash coredump-restart --config; "
    "set-lifecycle-action test bogus restart; set-lifecycle-action test reboot bogus; "
    "set-lifecycle-action test reboot preserve; set-lifecycle-action test poweroff coredump-destroy; "
    "set-lifecycle-action test crash rename-restart --live --config; dumpxml test; dumpxml --inactive test",
    "destroy test; set-lifecycle-action test crash preserve --live",
    # perf
    "perf test; perf test --enable cmt; perf test; perf test --enable cmt,bogus; perf test --enable cmt --disable cmt; "
    "perf test --disable mbmt --config; perf test --config; perf test --enable cmt,mbmt --disable cpu_cycles; "
    "dumpxml test; dumpxml --inactive test",
    # what the test driver lacks, and the help texts
    "setvcpu test 1 --disable; setvcpu test 1; domblkthreshold test vda 100; "
    "help memtune; help vcpupin; help metadata; help schedinfo",
]


@pytest.mark.parametrize("line", LINES)
def test_tuning_commands_match_virsh(line: str) -> None:
    env = {**os.environ, "LC_ALL": "C"}
    runs = [subprocess.run([*tool, "-c", "test:///default", line], capture_output=True, text=True, timeout=60,
                           env=env, stdin=subprocess.DEVNULL) for tool in ([VIRSH or "virsh"], PYVIRT)]
    theirs, ours = ((_CPU_TIME.sub(r"\1N", r.stdout), r.stderr, r.returncode) for r in runs)
    assert ours == theirs
