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
    # a domain with vCPUs offline, a <vcpu cpuset>, pins, numatune and a throttled disk of its own
    "define {vc}; vcpuinfo vc; vcpupin vc; emulatorpin vc; numatune vc; blkdeviotune vc vdb; start vc; vcpuinfo vc; "
    "vcpuinfo vc --pretty; vcpupin vc; vcpupin vc 3; emulatorpin vc; vcpupin vc 0 2; vcpuinfo vc; "
    "numatune vc --mode strict; blkdeviotune vc vdb --read-bytes-sec 5; blkdeviotune vc vdb --total-bytes-sec 300",
    # update-memory-device: virsh picks the <memory> device from the XML itself
    "update-memory-device test; define {memdev}; update-memory-device memdev; update-memory-device memdev --node 0; "
    "update-memory-device memdev --alias ua-mem --print-xml; update-memory-device memdev --alias nosuch; "
    "update-memory-device memdev --alias ua-mem --requested-size 1G --print-xml; "
    "update-memory-device memdev --alias ua-mem --requested-size 256M",
    # what the test driver lacks, and the help texts
    "setvcpu test 1 --disable; setvcpu test 1; domblkthreshold test vda 100; "
    "help memtune; help vcpupin; help metadata; help schedinfo",
]

#: edge cases: inactive domains, scaled sizes, empty and malformed options, namespaces, ranges
EDGE_LINES = [
    'destroy test; memtune test; memtune test --config; memtune test --hard-limit 1G; memtune test; dumpxml test',
    'destroy test; blkiotune test; blkiotune test --weight 100; blkiotune test --live',
    'destroy test; numatune test; numatune test --nodeset 0-1; numatune test --mode interleave; numatune test; dumpxml test',
    'destroy test; emulatorpin test; emulatorpin test 1; emulatorpin test --live; dumpxml test',
    'destroy test; iothreadadd test 2; iothreadinfo test; iothreadpin test 2 1; iothreadset test 2 --poll-max-ns 5; iothreaddel test 2; dumpxml test',
    'destroy test; perf test --enable cmt; perf test; perf test --live',
    'destroy test; domiftune test testnet0; domiftune test testnet0 --inbound 5; domiftune test testnet0 --live',
    "destroy test; metadata test http://x --key k --set '<a/>'; metadata test http://x; metadata test http://x --live",
    'destroy test; set-lifecycle-action test reboot destroy; dumpxml test',
    'destroy test; blkdeviotune test vda --total-bytes-sec 1 --total-bytes-sec-max 2; blkdeviotune test vda; dumpxml test',
    'destroy test; undefine test; list --all',
    "memtune test --hard-limit 1K; memtune test; memtune test --swap-hard-limit 512; memtune test --swap-hard-limit 2M; memtune test; memtune test --hard-limit 1.5G; memtune test --hard-limit 1024b; memtune test; memtune test --soft-limit 0; memtune test; dumpxml test; blkiotune test --weight 100000; blkiotune test; blkiotune test --device-weights ''; blkiotune test; blkiotune test --device-weights /dev/sda,5 --device-weights /dev/sdb,6; blkiotune test --device-read-iops-sec /dev/sda,1,/dev/sda,2; blkiotune test; dumpxml test",
    'blkiotune test --device-weights /dev/sda,x; blkdeviotune test vda --total-bytes-sec abc; blkdeviotune test vda --total-iops-sec -1; blkdeviotune test vda --total-bytes-sec 2000000000000000 --total-bytes-sec-max 2000000000000000; blkdeviotune test vda --size-iops-sec 5; blkdeviotune test vda --group-name x; dumpxml test; blkdeviotune test vda --read-bytes-sec-max 10 --read-bytes-sec 5 --write-iops-sec-max 4 --write-iops-sec 1 --read-iops-sec-max-length 3; blkdeviotune test vda; dumpxml test; blkdeviotune test /guest/diskimage1; blkdeviotune test hda; blkdeviotune nosuch vda',
    "schedinfo test --set weight=5 --set cap=1; schedinfo test --set weight=-5; schedinfo test --cap 5; schedinfo test weight=5; numatune test --mode strict --nodeset 0; numatune test --mode restrictive; numatune test --mode 1; numatune test; numatune test --nodeset 0-3,^1; numatune test; numatune test --nodeset ''; numatune test --mode interleave --nodeset 0 --live; numatune test --mode preferred --live",
    'vcpuinfo nosuch; vcpupin test --vcpu 0 --cpulist 0-2; vcpupin test --vcpu 0; vcpupin test 0 0,2,4-5; vcpupin test; vcpuinfo test; vcpupin test -1 0; vcpupin test 0 8; vcpupin test 0 7; vcpupin test abc; vcpupin test 0 1 --live',
    "vcpupin test --live --config; vcpupin test 0 ''; emulatorpin test 0-7; emulatorpin test r; emulatorpin test; dumpxml test; emulatorpin test 0-8; emulatorpin test ^1; iothreadadd test abc; iothreadadd test -3; iothreadadd test 2 --live --config; iothreadinfo test --config; iothreadinfo test",
    'iothreadadd test 2; iothreadset test 2 --poll-max-ns 1 --poll-grow 2 --poll-shrink 3 --thread-pool-min 1 --thread-pool-max 2; iothreadadd test 2; iothreadset test 2 --poll-max-ns -1; iothreadadd test 2; iothreadset test 2 --thread-pool-min -1; iothreadpin test 5 0 --config; iothreaddel test 0; cpu-stats test --start 0; cpu-stats test --count 1; cpu-stats test --count 5; cpu-stats test --total --start 1; cpu-stats test --start abc; cpu-stats nosuch',
    'domiftune test testnet0 --inbound 10,20 --config; domiftune test testnet0 --config; dumpxml test --inactive; domiftune test testnet0 --inbound 0,0,0,5; dumpxml test; domiftune test testnet0 --outbound 5,6,7; domiftune test testnet0 --inbound 0; dumpxml test; domiftune test testnet0 --inbound -5; domiftune test testnet0 --inbound 99999999999; metadata test http://x --key k --set \'<a/>\'; metadata test http://x --key k --set \'<b/>\'; metadata test http://x; dumpxml test; metadata test http://x --key k --set \'<a xmlns="http://y"/>\'; metadata test http://x; dumpxml test; metadata test http://x --key k2 --set \'<a/>\'; metadata test http://y --key k2 --set \'<b/>\'; dumpxml test; metadata test http://y',
    "metadata test http://x --key k --set '<a>text<c/></a>'; metadata test http://x; metadata test --key k --set '<a/>' http://x; metadata test --uri http://x; metadata test http://x --key 'k:z' --set '<a/>'; metadata test http://x --key k --set ''; set-lifecycle-action test crash destroy --current; set-lifecycle-action test reboot rename-restart; dumpxml test; perf test --enable ''; perf test --disable cmt,cmt; perf test --enable cmt --live --config; perf test --enable cmt --current; perf test --current",
    'setvcpu test 1 --enable --disable; setvcpu test 1 --enable --live --current; domblkthreshold test vda abc; domblkthreshold test vda 1G',
    # <iothreadids>: written only when one was given (libvirt's autofill rule)
    # (iothreadinfo: an unpinned IOThread shows CPUs 0..vCPUs-1 on the test driver, not the host's)
    'define {io}; dumpxml io; iothreadinfo io; iothreadadd io 7; dumpxml io; define {io_ids}; dumpxml io2; '
    'iothreadinfo io2',
    # the ids libvirt filled in stay unwritten after an add and a delete; a delete unmarks the ones after it
    "define {io}; start io; iothreadadd io 7; dumpxml io; iothreaddel io 7; dumpxml io; dumpxml io --inactive; "
    "iothreadadd io 7; iothreaddel io 1; dumpxml io; iothreaddel io 7; dumpxml io; iothreadinfo io; "
    "iothreadadd io 3 --config; iothreaddel io 2 --config; iothreaddel io 3 --config; dumpxml io --inactive",
]


#: a domain with two memory devices, one virtio-mem with an alias (update-memory-device)
MEMDEV = ("<domain type='test'><name>memdev</name><memory>4194304</memory><maxMemory slots='4'>8388608</maxMemory>"
          "<vcpu>1</vcpu><cpu><numa><cell id='0' cpus='0' memory='4194304'/></numa></cpu><os><type>hvm</type></os>"
          "<devices><memory model='virtio-mem'><target><size unit='KiB'>1048576</size><node>0</node>"
          "<block unit='KiB'>2048</block><requested unit='KiB'>524288</requested></target><alias name='ua-mem'/>"
          "</memory><memory model='dimm'><target><size>524288</size><node>0</node></target></memory></devices>"
          "</domain>")


VC = ("<domain type='test'><name>vc</name><memory>65536</memory><vcpu placement='static' cpuset='1-3' current='2'>4"
      "</vcpu><cputune><vcpupin vcpu='1' cpuset='0'/><emulatorpin cpuset='2'/></cputune><numatune>"
      "<memory mode='interleave' nodeset='0'/></numatune><os><type>hvm</type></os><devices><disk type='file' "
      "device='disk'><source file='/tmp/x.img'/><target dev='vdb' bus='virtio'/><iotune><total_bytes_sec>100"
      "</total_bytes_sec><total_bytes_sec_max>200</total_bytes_sec_max></iotune></disk></devices></domain>")


IO = "<domain type='test'><name>io</name><uuid>6d1f8f4c-4a0e-4b9e-9c53-8c5f0f1a2b3c</uuid><memory>65536</memory><vcpu>1</vcpu><iothreads>2</iothreads>" \
     "<os><type>hvm</type></os></domain>"
IO_IDS = IO.replace("<name>io</name>", "<name>io2</name>").replace("2b3c<", "2b3d<").replace(
    "</iothreads>", "</iothreads><iothreadids><iothread id='5'/></iothreadids>").replace(">2<", ">3<")


@pytest.fixture(scope="module")
def io(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    folder = tmp_path_factory.mktemp("io")
    (folder / "io.xml").write_text(IO)
    (folder / "io2.xml").write_text(IO_IDS)
    return str(folder / "io.xml"), str(folder / "io2.xml")


@pytest.fixture(scope="module")
def vc(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("vc") / "vc.xml"
    path.write_text(VC)
    return str(path)


@pytest.fixture(scope="module")
def memdev(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("memdev") / "memdev.xml"
    path.write_text(MEMDEV)
    return str(path)


@pytest.mark.parametrize("line", LINES + EDGE_LINES)
def test_tuning_commands_match_virsh(line: str, memdev: str, vc: str, io: tuple[str, str]) -> None:
    line = line.replace("{memdev}", memdev).replace("{vc}", vc).replace("{io}", io[0]).replace("{io_ids}", io[1])
    env = {**os.environ, "LC_ALL": "C"}
    runs = [subprocess.run([*tool, "-c", "test:///default", line], capture_output=True, text=True, timeout=60,
                           env=env, stdin=subprocess.DEVNULL) for tool in ([VIRSH or "virsh"], PYVIRT)]
    theirs, ours = ((_CPU_TIME.sub(r"\1N", r.stdout), r.stderr, r.returncode) for r in runs)
    assert ours == theirs
