"""Real QEMU accepts the command lines pyvirt builds.

A sample of conformance cases that match libvirt (``same``) is rewritten to run here: TCG,
every host path replaced by a temp file, the monitor a listening socket passed by fd.  QEMU is
started with ``-S``; ``query-status`` must answer, then ``quit``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from tests.conformance_data import LIBVIRT, load_tool

QEMU = shutil.which("qemu-system-x86_64")

pytestmark = [pytest.mark.qemu,
              pytest.mark.skipif(QEMU is None, reason="qemu-system-x86_64 not installed"),
              pytest.mark.skipif(not (LIBVIRT / "index.json").exists(), reason="conformance data missing")]

SAMPLE = 15


def _candidates() -> list[str]:
    """Conformance cases pyvirt builds like libvirt, minus those needing host resources."""

    from pyvirt.qemu.argv import build_argv
    from pyvirt.qemu.argv_format import format_args
    from pyvirt.xml import fill_defaults, parse_domain
    from pyvirt.xml.errors import XMLError

    if not (LIBVIRT / "index.json").exists():
        return []
    argv_compare = load_tool("argv_compare")
    out = []
    for case in json.loads((LIBVIRT / "index.json").read_text())["qemuxml2argv_x86_64_latest"]:
        if case["kind"] != "argv":
            continue
        try:
            dom = fill_defaults(parse_domain((LIBVIRT / "qemuxml2argv" / case["input"]).read_text()))
            mine = format_args(build_argv(dom))
        except XMLError:
            continue
        expected = (LIBVIRT / "qemuxml2argv" / case["expected"]).read_text()
        if argv_compare.diff(argv_compare.signature(mine), argv_compare.signature(expected)):
            continue  # only the 'same' set: command lines libvirt would build too
        d = dom.devices
        if d.tpms or d.hostdevs or any(f.driver_type == "virtiofs" for f in d.filesystems):
            continue
        if dom.os.loader is not None or dom.os.firmware or dom.os.kernel or (dom.cpu and dom.cpu.mode == "host-passthrough"):
            continue
        if any(g.type == "spice" for g in d.graphics):
            continue
        if dom.memory_backing is not None and (dom.memory_backing.hugepages or dom.memory_backing.pages):
            continue  # huge pages need a hugetlbfs mount on the host
        addrs = [a for x in dom.all_devices() if (a := getattr(x, "address", None)) is not None and a.type == "pci"]
        if any(a.multifunction is False and any(b.slot == a.slot and b.bus == a.bus and b.function for b in addrs)
               for a in addrs):
            continue  # libvirt's data may say multifunction='off' beside other functions; QEMU refuses that
        if any(k.target_bus == "ide" and k.address is not None and (k.address.unit or 0) > 1 for k in d.disks):
            continue  # libvirt's data puts IDE disks at unit 2; QEMU's IDE buses have 2 units
        if d.iommu is not None and d.iommu.driver_eim:
            continue  # extended interrupt mode needs KVM's in-kernel irqchip (TCG here)
        if "q35" not in (dom.os.machine or "") and any(getattr(x, "driver_iommu", None) for x in dom.all_devices()):
            continue  # iommu_platform on a conventional-bus (transitional) virtio device: QEMU 7.2 refuses libvirt's line too
        if any(k.disk_encryption is not None for k in d.disks):
            continue  # the secret files QEMU reads are written by pyvirtd at start, not by build_argv
        if any(k.device == "lun" for k in d.disks):
            continue  # scsi-block needs a host SCSI device
        if any(k.type == "vhostuser" for k in d.disks) or any(n.type == "vhostuser" for n in d.interfaces):
            continue  # a vhost-user backend must serve the socket (or connect to QEMU's)
        if any(m.source_path for m in d.memories) or d.shmems:
            continue  # NVDIMM / virtio-pmem / ivshmem files on the host
        if any(k.type == "network" for k in d.disks):
            continue  # no nbd/iscsi/rbd/... servers here (and QEMU may lack their block drivers)
        if any(i.type == "passthrough" for i in d.inputs):
            continue  # host evdev devices do not exist here
        chardevs = [*d.serials, *d.parallels, *d.consoles, *d.channels, *d.redirdevs]
        if any(c.source_mode == "connect" or c.type == "dev" for c in chardevs):
            continue  # a client socket needs its server; host tty/parport devices do not exist here
        if any(a.type not in ("none", "file") for a in d.audios):
            continue  # sound servers (pulseaudio, jack, alsa devices…) do not exist on a headless host
        if not _builds_for_this_host(case["input"]):
            continue
        out.append(case["name"])
    step = max(1, len(out) // SAMPLE)
    return out[::step][:SAMPLE]


def _builds_for_this_host(xml_file: str) -> bool:
    """Whether the argv builds outside libvirt's test mode, as the test builds it: some features
    are refused there for lack of what this host has or what pyvirtd prepares at start (a
    hugetlbfs mount for a page size, a vsock CID claimed from /dev/vhost-vsock, ...)."""
    import tempfile

    from pyvirt.qemu.argv import build_argv
    from pyvirt.qemu.argv_common import RuntimePaths
    from pyvirt.xml import fill_defaults, parse_domain
    from pyvirt.xml.errors import XMLError

    with tempfile.TemporaryDirectory() as tmp:
        dom = fill_defaults(parse_domain((LIBVIRT / "qemuxml2argv" / xml_file).read_text()))
        _localize(dom, Path(tmp))
        rt = RuntimePaths(monitor_fd=3, pidfile=f"{tmp}/pid", domain_dir=tmp, channel_dir=tmp)
        try:
            build_argv(dom, runtime=rt)
        except XMLError:
            return False
    return True


def _localize(dom, tmp: Path) -> None:
    """Point every host path at a temp file so QEMU can open it here, and run under TCG."""
    dom.type = "qemu"
    if dom.cpu is not None and dom.cpu.mode == "host-model":
        dom.cpu = None
    for n, disk in enumerate(dom.devices.disks):
        if disk.source_file or disk.source_dev:
            img = tmp / f"disk{n}.img"
            with open(img, "wb") as fh:
                fh.truncate(1 << 20)
            disk.type, disk.source_file, disk.source_dev = "file", str(img), None
            disk.driver_type = "raw"
            disk.driver_io = None if disk.driver_io == "native" else disk.driver_io
    for chr_ in [*dom.devices.serials, *dom.devices.parallels, *dom.devices.channels, *dom.devices.consoles]:
        if chr_.source_path:
            chr_.source_path = str(tmp / f"chr-{id(chr_)}")
        if chr_.type == "tcp":  # nothing listens here: let QEMU listen on a free port instead
            chr_.source_mode, chr_.source_host, chr_.source_service = "bind", "127.0.0.1", str(_free_port())
        if chr_.log_file:
            chr_.log_file = str(tmp / f"log-{id(chr_)}")
    for g in dom.devices.graphics:
        if g.socket:
            g.socket = str(tmp / "vnc.sock")
        for lis in g.listens:
            if lis.socket:
                lis.socket = str(tmp / "vnc.sock")
    for fs in dom.devices.filesystems:
        fs.source_dir = str(tmp)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _qmp_roundtrip(path: str) -> str:
    from qemu.qmp import QMPClient

    client = QMPClient("argv-test")
    await client.connect(path)
    try:
        status = await client.execute("query-status")
        # QEMU may close the socket before its reply to `quit` is read: that race is not a refusal
        # (the exit status, asserted by the caller, says whether it quit cleanly)
        with contextlib.suppress(Exception):
            await client.execute("quit")
    finally:
        with contextlib.suppress(Exception):
            await client.disconnect()
    return status["status"]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", _candidates())
def test_qemu_accepts(name: str, tmp_path: Path) -> None:
    from pyvirt.qemu.argv import build_argv
    from pyvirt.qemu.argv_common import RuntimePaths
    from pyvirt.xml import fill_defaults, parse_domain

    dom = fill_defaults(parse_domain((LIBVIRT / "qemuxml2argv" / f"{name}.xml").read_text()))
    _localize(dom, tmp_path)
    mon_path = str(tmp_path / "qmp.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(mon_path)
    listener.listen(1)
    rt = RuntimePaths(monitor_fd=listener.fileno(), pidfile=str(tmp_path / "pid"),
                      domain_dir=str(tmp_path), channel_dir=str(tmp_path))
    argv = build_argv(dom, runtime=rt)
    argv[0] = QEMU
    proc = subprocess.Popen(argv, pass_fds=[listener.fileno()], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, cwd=tmp_path, env={**os.environ, "HOME": str(tmp_path)})
    listener.close()
    try:
        status = asyncio.run(asyncio.wait_for(_qmp_roundtrip(mon_path), 30))
        assert status == "prelaunch"
        assert proc.wait(timeout=30) == 0
    except BaseException:
        proc.kill()
        out = proc.communicate(timeout=10)[0].decode(errors="replace")
        raise AssertionError(f"QEMU refused {name}: {out[-2000:]}\n{argv}") from None
