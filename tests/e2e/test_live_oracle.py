"""Oracle test for the live-change and per-device commands (attach-interface, detach-interface,
domif-setlink, domif-getlink, domifstat, dommemstat --period, vcpucount, domblkinfo, blockresize,
qemu-monitor-command, undefine's NVRAM/TPM flags, start --reset-nvram, block jobs) on libvirt's test driver: the same command lines through the real virsh
and through pyvirt give the same stdout, stderr and exit status.  The test driver refuses the
device calls themselves, so what is compared is virsh's own work: the XML it writes or picks, its
checks and their order, and its error lines.  domifstat's figures are clock-based in both: only
their layout is compared.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e.test_host_oracle import PYVIRT, VIRSH, _run

pytestmark = pytest.mark.skipif(VIRSH is None, reason="virsh (libvirt-clients) not installed")

SEQUENCES = [
    "attach-interface test network default --print-xml",
    "attach-interface test network default --mac 52:54:00:11:22:33 --model virtio --target vnet5 --alias ua-x "
    "--inbound 100,200,300 --outbound 10 --script /x --managed --print-xml",
    "attach-interface test bridge br0 --print-xml", "attach-interface test direct eth0 --print-xml",
    "attach-interface test vhostuser /tmp/s --source-mode server --print-xml",
    "attach-interface test hostdev 0000:00:01.0 --print-xml", "attach-interface test hostdev 01:02.3 --print-xml",
    "attach-interface test hostdev nonsense --print-xml", "attach-interface test hostdev 0:1:2:3 --print-xml",
    "attach-interface test hostdev 0x1:2:3.4x --print-xml", "attach-interface test direct eth0 --source-mode x",
    "attach-interface test user x", "attach-interface test ethernet x", "attach-interface test bogus x",
    "attach-interface test network default --inbound 0", "attach-interface test network default --inbound 1,2,3,4,5",
    "attach-interface test network default --inbound x", "attach-interface test network default --outbound 1,2,3,4",
    "attach-interface test network default --outbound ,2", "attach-interface test network default --inbound ,,,5 --print-xml",
    "attach-interface test bridge br0 --persistent --current", "attach-interface test bridge br0 --current --live",
    "attach-interface test network default", "attach-interface test network default --config",
    "attach-interface nosuch network default", "attach-interface nosuch network default --print-xml",
    "detach-interface test bridge", "detach-interface test network --mac aa:bb:cc:dd:ee:00",
    "detach-interface test network --mac AA:bb:cc:dd:ee:ff --print-xml", "detach-interface test network --print-xml",
    "detach-interface test network --mac aa:bb:cc:dd:ee:ff --config", "detach-interface test network",
    "detach-interface test network --current --config", "detach-interface nosuch network",
    "domif-setlink test testnet0 down --config", "domif-setlink test AA:BB:cc:dd:ee:ff up --print-xml",
    "domif-setlink test testnet0 down --print-xml --config", "domif-setlink test testnet0 sideways",
    "domif-setlink test nosuch down", "domif-setlink nosuch x down", "domif-setlink test testnet0 down",
    "domif-getlink test testnet0", "domif-getlink test AA:BB:CC:DD:EE:FF", "domif-getlink test nosuch",
    "domif-getlink test testnet0 --config", "domifstat test testnet0", "domifstat test aa:bb:cc:dd:ee:ff",
    "domifstat test nosuch", "destroy test; domifstat test testnet0", "domifstat nosuch x",
    # balloon statistics period (the test driver keeps it in the XML)
    "dommemstat test --period 5; dumpxml test", "dommemstat test --period 5 --config; dumpxml test --inactive",
    "dommemstat test --period -1", "destroy test; dommemstat test --period 3 --live",
    "dommemstat test --period 3 --live --current", "dommemstat test --period x",
    "dommemstat test --period 3 --live --config", "dommemstat test --period 3; dommemstat test --period 0; dumpxml test",
    # vCPU counts
    "vcpucount test", "vcpucount test --maximum", "vcpucount test --live --maximum", "vcpucount test --active --config",
    "vcpucount test --current", "vcpucount test --guest", "vcpucount test --active --maximum",
    "vcpucount test --guest --config", "vcpucount test --live --config", "destroy test; vcpucount test",
    "destroy test; vcpucount test --live", "setvcpus test 1 --live; vcpucount test",
    "setvcpus test 1 --config; vcpucount test", "vcpucount nosuch",
    # disk sizes
    "domblkinfo test", "domblkinfo test --all", "domblkinfo test vda --human", "domblkinfo test --all --human",
    "domblkinfo test vdz", "domblkinfo test vda --all", "destroy test; domblkinfo test vda",
    "domblkinfo test /guest/diskimage1", "blockresize test vda 10M", "blockresize nosuch vda 1",
    "blockresize test vda x",
    # raw monitor commands (the test driver has none)
    "qemu-monitor-command test query-status", "qemu-monitor-command test --hmp --pretty info",
    "qemu-monitor-command nosuch x",
    # UEFI variable store and TPM state at undefine and start (the test driver takes few of the flags)
    "destroy test; start test --reset-nvram", "undefine test --tpm --keep-tpm", "destroy test; undefine test --tpm",
    "destroy test; undefine test --keep-tpm --nvram", "destroy test; undefine test --nvram",
    "destroy test; undefine test --tpm --nvram", "destroy test; undefine test --nvram --managed-save",
    "destroy test; undefine test --keep-tpm", "destroy test; undefine test --keep-nvram",
    "undefine test --nvram --keep-nvram",
    # block jobs: virsh's own checks, then the test driver's refusal
    "blockpull test vda", "blockpull test vda --wait", "blockcommit test vda --active", "blockcommit test vda --pivot",
    "blockcopy test vda /tmp/x.img", "blockcopy test vda", "blockjob test vda", "blockjob test vda --info",
    "blockjob test vda --abort", "blockjob test vda --pivot", "blockjob test vda --bandwidth 5",
    "blockpull test vda --bandwidth x", "blockcopy test vda /tmp/x --pivot --finish", "blockjob nosuch vda",
]

#: two NICs of one type, a link already down, a NIC without a target
NODE = """<node>
<network><name>default</name><bridge name='virbr0'/></network>
<domain type='test'><name>two</name><memory>1048576</memory><vcpu>1</vcpu><os><type>hvm</type></os><devices>
  <interface type='network'><mac address='52:54:00:00:00:01'/><source network='default'/><link state='down'/></interface>
  <interface type='network'><mac address='52:54:00:00:00:02'/><source network='default'/></interface>
  <interface type='bridge'><mac address='52:54:00:00:00:03'/><source bridge='br0'/><target dev='tap7'/></interface>
</devices></domain>
</node>
"""
NODE_SEQUENCES = ["detach-interface two network", "detach-interface two network --mac 52:54:00:00:00:02 --print-xml",
                  "detach-interface two bridge --print-xml", "domif-getlink two 52:54:00:00:00:01",
                  "domif-getlink two tap7", "domif-setlink two 52:54:00:00:00:01 up --print-xml",
                  "domif-setlink two tap7 down --print-xml", "domifstat two tap7", "domifstat two 52:54:00:00:00:02"]

_FIGURES = re.compile(r"^(\S+ [rt]x_\w+) \d+$", re.M)


def _same_shape(tool: list[str], uri: str, line: str) -> tuple[str, str, int]:
    out, err, rc = _run(tool, uri, line)
    return _FIGURES.sub(r"\1 N", out), err, rc


@pytest.mark.parametrize("line", SEQUENCES)
def test_same_as_virsh(line: str) -> None:
    assert _same_shape(PYVIRT, "test:///default", line) == _same_shape([VIRSH], "test:///default", line)


@pytest.fixture(scope="module")
def node_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    path: Path = tmp_path_factory.mktemp("livenode") / "node.xml"
    path.write_text(NODE)
    return f"test://{path}"


@pytest.mark.parametrize("line", NODE_SEQUENCES)
def test_node_file_same_as_virsh(node_uri: str, line: str) -> None:
    assert _same_shape(PYVIRT, node_uri, line) == _same_shape([VIRSH], node_uri, line)
