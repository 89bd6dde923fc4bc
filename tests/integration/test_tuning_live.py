"""Domain tuning and pinning on a running guest under TCG (pyvirtd session daemon), one guest for
the module: vCPU, emulator and IOThread pins reach the kernel (sched_getaffinity of QEMU's
threads), IOThreads come and go in QEMU (query-iothreads), disk throttling and write thresholds
reach QEMU's block layer (query-block / query-named-block-nodes), --config changes leave the
running guest and its live XML alone, and what a session daemon cannot apply (cgroup limits,
moving guest memory between NUMA nodes, perf events) is refused, naming what, with nothing
changed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyvirt.api import PyvirtError
from pyvirt.testguest import READY_MARKER, TestGuest
from tests.daemon_harness import DaemonHarness, guest_shell, guest_xml, module_guest, wait_console

pytestmark = [pytest.mark.qemu, pytest.mark.timeout(300),
              pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two host CPUs")]
PYVIRT = [sys.executable, "-m", "pyvirt.cli.main", "-c", "qemu:///session"]
DOM = "tuned"


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory, qemu_binary: str, test_guest: TestGuest
           ) -> Iterator[DaemonHarness]:
    root = tmp_path_factory.mktemp("tune")
    image = root / "data.img"
    image.write_bytes(b"\0" * (4 << 20))
    disk = (f"<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='{image}'/>"
            "<target dev='vdb' bus='virtio'/></disk>")
    xml = guest_xml(test_guest, DOM, extra_devices=disk).replace("<vcpu>1</vcpu>",
                                                                  "<vcpu>2</vcpu><iothreads>1</iothreads>")
    with module_guest(root, xml, boot=False) as harness:
        yield harness


def _cli(daemon: DaemonHarness, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PYVIRT, *args], capture_output=True, text=True, env=daemon.env(), timeout=90)


def _qmp(daemon: DaemonHarness, command: str, args: dict | None = None) -> object:
    request = {"execute": command, **({"arguments": args} if args else {})}
    return json.loads(daemon.connect().qemu_monitor_command(DOM, json.dumps(request)))["return"]


def _threads(pid: int) -> dict[str, int]:
    return {Path(f"/proc/{pid}/task/{t}/comm").read_text().strip(): int(t) for t in os.listdir(f"/proc/{pid}/task")}


def test_vcpu_and_emulator_pins_reach_the_threads(daemon: DaemonHarness) -> None:
    (pid,) = daemon.qemu_pids()
    threads = _threads(pid)
    with daemon.new_subscriptions(1):  # the watcher listens before the pin
        watcher = subprocess.Popen([*PYVIRT, "event", DOM, "--event", "tunable", "--timeout", "60"],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=daemon.env())
    out = _cli(daemon, "vcpupin", DOM, "0", "1", "--live")
    assert out.returncode == 0, out.stderr
    seen, err = watcher.communicate(timeout=70)  # virsh's event ends after the first one
    assert f"event 'tunable' for domain '{DOM}':\n\tcputune.vcpupin0: 1\n" in seen, seen + err
    assert os.sched_getaffinity(threads["CPU 0/TCG"]) == {1}
    out = _cli(daemon, "vcpuinfo", DOM, "--pretty")
    assert out.returncode == 0, out.stderr
    assert "VCPU:           0" in out.stdout and "VCPU:           1" in out.stdout
    assert f"CPU Affinity:   1 (out of {os.cpu_count()})" in out.stdout
    out = _cli(daemon, "vcpupin", DOM)
    assert " 0      1\n" in out.stdout, out.stdout
    conn = daemon.connect()
    assert "<vcpupin vcpu='0' cpuset='1'/>" in conn.get_xml(DOM)
    assert "vcpupin" not in conn.get_xml(DOM, inactive=True)  # --live only
    assert _cli(daemon, "emulatorpin", DOM, "0").returncode == 0
    assert os.sched_getaffinity(pid) == {0}
    assert "       *: 0" in _cli(daemon, "emulatorpin", DOM).stdout
    out = _cli(daemon, "vcpupin", DOM, "5", "0")
    assert out.returncode == 1 and "vcpu 5 is out of range of live cpu count 2" in out.stderr


def test_iothreads_come_and_go_live(daemon: DaemonHarness) -> None:
    conn = daemon.connect()
    assert _cli(daemon, "iothreadadd", DOM, "3", "--live").returncode == 0
    assert {t["id"] for t in _qmp(daemon, "query-iothreads")} == {"iothread1", "iothread3"}  # type: ignore
    out = _cli(daemon, "iothreadpin", DOM, "3", "1")
    assert out.returncode == 0, out.stderr
    tid = next(t["thread-id"] for t in _qmp(daemon, "query-iothreads") if t["id"] == "iothread3")  # type: ignore
    assert os.sched_getaffinity(tid) == {1}
    out = _cli(daemon, "iothreadset", DOM, "3", "--poll-max-ns", "4000")
    assert out.returncode == 0, out.stderr
    assert _qmp(daemon, "qom-get", {"path": "/objects/iothread3", "property": "poll-max-ns"}) == 4000
    assert "<iothreadpin iothread='3' cpuset='1'/>" in conn.get_xml(DOM)
    assert _cli(daemon, "iothreaddel", DOM, "3").returncode == 0
    assert {t["id"] for t in _qmp(daemon, "query-iothreads")} == {"iothread1"}  # type: ignore
    assert "iothread='3'" not in conn.get_xml(DOM)
    out = _cli(daemon, "iothreaddel", DOM, "9")
    assert "cannot find IOThread '9'" in out.stderr


def test_disk_throttle_and_threshold_reach_qemu(daemon: DaemonHarness) -> None:
    conn = daemon.connect()
    out = _cli(daemon, "blkdeviotune", DOM, "vdb", "--total-bytes-sec", "10M", "--total-iops-sec", "300")
    assert out.returncode == 0, out.stderr
    block = next(b for b in _qmp(daemon, "query-block") if "vdb" in b["qdev"] or b["device"] == "")  # type: ignore
    blocks = [b for b in _qmp(daemon, "query-block") if b.get("inserted", {}).get("bps")]  # type: ignore
    assert [(b["inserted"]["bps"], b["inserted"]["iops"]) for b in blocks] == [(10 << 20, 300)], block
    out = _cli(daemon, "blkdeviotune", DOM, "vdb")
    assert "total_bytes_sec: 10485760\n" in out.stdout and "total_iops_sec : 300\n" in out.stdout
    assert "<total_bytes_sec>10485760</total_bytes_sec>" in conn.get_xml(DOM)
    assert "iotune" not in conn.get_xml(DOM, inactive=True)
    out = _cli(daemon, "blkdeviotune", DOM, "vdb", "--read-bytes-sec", "1")
    assert out.returncode == 1 and "total and read/write of bytes_sec cannot be set at the same time" in out.stderr
    assert _cli(daemon, "domblkthreshold", DOM, "vdb", "1M").returncode == 0
    nodes = _qmp(daemon, "query-named-block-nodes")
    assert any(n.get("write_threshold") == 1 << 20 for n in nodes)  # type: ignore


def test_config_tunables_and_refusals(daemon: DaemonHarness) -> None:
    conn = daemon.connect()
    live_before = conn.get_xml(DOM)
    out = _cli(daemon, "memtune", DOM, "--hard-limit", "1G")  # a session daemon has no cgroups
    assert out.returncode == 1 and "cgroup 'memory' controller" in out.stderr, out.stderr
    assert _cli(daemon, "memtune", DOM, "--hard-limit", "1G", "--config").returncode == 0
    out = _cli(daemon, "memtune", DOM, "--config")
    assert "hard_limit     : 1048576\n" in out.stdout and "soft_limit     : unlimited\n" in out.stdout
    out = _cli(daemon, "schedinfo", DOM, "--set", "cpu_shares=512", "--config")
    assert out.returncode == 0 and "cpu_shares     : 512\n" in out.stdout, out.stderr
    for args in (("blkiotune", DOM), ("blkiotune", DOM, "--weight", "300")):  # no blkio cgroup here: libvirt's words
        out = _cli(daemon, *args)
        assert out.returncode == 1 and out.stderr.endswith(
            "error: Requested operation is not valid: blkio cgroup isn't mounted\n"), out.stderr
    assert _cli(daemon, "blkiotune", DOM, "--weight", "300", "--device-read-bytes-sec", "/dev/vdz,4096",
                "--config").returncode == 0
    out = _cli(daemon, "blkiotune", DOM, "--config")
    assert out.stdout.startswith("weight         : 300\n") and "device_read_bytes_sec: /dev/vdz,4096\n" in out.stdout
    mac = live_before.split("<mac address='", 1)[1].split("'", 1)[0]
    out = _cli(daemon, "domiftune", DOM, mac, "--inbound", "100")  # user-mode NIC: no tap to shape
    assert out.returncode == 1 and out.stderr.endswith(
        "error: unsupported configuration: setting bandwidth on interfaces of type 'user' is not implemented yet\n")
    assert _cli(daemon, "domiftune", DOM, mac, "--inbound", "100,200", "--config").returncode == 0
    assert _cli(daemon, "domiftune", DOM, mac, "--config").stdout.startswith(
        "inbound.average: 100\ninbound.peak   : 200\n")
    out = _cli(daemon, "numatune", DOM, "--nodeset", "0")
    assert out.returncode == 1 and "running guest" in out.stderr
    assert _cli(daemon, "numatune", DOM, "--nodeset", "0", "--config").returncode == 0
    out = _cli(daemon, "perf", DOM, "--enable", "cmt")
    assert out.returncode == 1 and "cmt" in out.stderr
    assert _cli(daemon, "set-lifecycle-action", DOM, "crash", "preserve", "--config").returncode == 0
    assert _cli(daemon, "metadata", DOM, "http://example.org/app", "--key", "app", "--set", "<app v='1'/>",
                "--config").returncode == 0
    assert _cli(daemon, "metadata", DOM, "http://example.org/app", "--config").stdout == '<app v="1"/>\n\n'
    assert conn.get_xml(DOM) == live_before  # none of it touched the running guest
    config = conn.get_xml(DOM, inactive=True)
    for part in ("<hard_limit unit='KiB'>1048576</hard_limit>", "<shares>512</shares>",
                 "<bandwidth>\n        <inbound average='100' peak='200'/>\n      </bandwidth>",
                 "<blkiotune>\n    <weight>300</weight>\n    <device>\n      <path>/dev/vdz</path>\n"
                 "      <read_bytes_sec>4096</read_bytes_sec>\n    </device>\n  </blkiotune>",
                 "<memory mode='strict' nodeset='0'/>", "<on_crash>preserve</on_crash>",
                 '<app:app xmlns:app="http://example.org/app" v="1"/>'):
        assert part in config, part
    with pytest.raises(PyvirtError, match="per-CPU statistics need"):
        conn.cpu_stats(DOM, start=0, count=1)
    out = _cli(daemon, "cpu-stats", DOM, "--total")
    assert out.returncode == 0 and out.stdout.startswith("Total:\n\tcpu_time") and "user_time" in out.stdout


def test_block_threshold_event_when_the_guest_writes_past_it(daemon: DaemonHarness) -> None:
    conn = daemon.connect()
    wait_console(conn, DOM, READY_MARKER, timeout=120)
    with daemon.new_subscriptions(1):  # the watcher listens before the threshold is set
        watcher = subprocess.Popen([*PYVIRT, "event", DOM, "--event", "block-threshold", "--timeout", "90"],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=daemon.env())
    try:
        assert _cli(daemon, "domblkthreshold", DOM, "vdb", "512K").returncode == 0
        # the guest's only disk, so vda inside it (its root is an initramfs)
        guest_shell(conn, DOM, "dd if=/dev/urandom of=/dev/vda bs=64k count=16 conv=fsync 2>/dev/null", "WROTE")
        out, err = watcher.communicate(timeout=100)
    finally:
        watcher.kill()
    line = next((ln for ln in out.splitlines() if ln.startswith("event 'block-threshold'")), "")
    assert line.startswith(f"event 'block-threshold' for domain '{DOM}': dev: vdb(") and " 524288 " in line, out + err
