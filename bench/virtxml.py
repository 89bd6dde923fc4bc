"""pyvirt xml / pyvirt clone figures, each next to its reference measured in the same run.

1. Invocation time: ``pyvirt-xml test --edit --vcpus 2 --print-xml`` and ``pyvirt-clone
   --original-xml F --auto-clone --print-xml`` against test:///default, next to the installed
   ``virt-xml`` / ``virt-clone`` (the oracles) doing the same; medians of --runs alternating
   runs.
2. Cloning a guest whose disk is a 1 GiB qcow2 holding 256 MiB of data: ``pyvirt-clone
   --original G --auto-clone`` against a private pyvirtd, next to ``virt-clone`` against
   libvirtd (qemu:///system) on the same image (skipped where libvirtd is missing).

Usage: python bench/virtxml.py [--runs N] [--no-clone]
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import PrivateDaemon, libvirt_daemons, median, ms  # noqa: E402

PYVIRT_XML = [sys.executable, "-m", "pyvirt.cli.xml"]
PYVIRT_CLONE = [sys.executable, "-m", "pyvirt.cli.clone"]
SMALL = """<domain type='test'><name>bench-src</name><memory>65536</memory>
<os><type arch='x86_64'>hvm</type></os><devices/></domain>"""


def _timed(cmd: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, stdin=subprocess.DEVNULL, timeout=300)
    return time.perf_counter() - t


def _row(label: str, ours: list[float], theirs: list[float]) -> None:
    ref = median(theirs) if theirs else float("nan")
    ratio = median(ours) / ref if theirs else float("nan")
    print(f"{label:44} {median(ours):10.1f} {ref:12.1f} {ratio:7.2f}")


def bench_invocation(runs: int) -> None:
    top = Path(tempfile.mkdtemp(prefix="pyvirt-bench-vx-"))
    try:
        src = top / "src.xml"
        src.write_text(SMALL)
        xml_args = ["--connect", "test:///default", "test", "--edit", "--vcpus", "2", "--print-xml"]
        clone_args = ["--connect", "test:///default", "--original-xml", str(src), "--auto-clone",
                      "--print-xml"]
        print(f"{'invocation (--print-xml, test:///default)':44} {'pyvirt ms':>10} {'oracle ms':>12} "
              f"{'ratio':>7}")
        for label, ours_cmd, oracle in (("  xml --edit --vcpus 2", PYVIRT_XML + xml_args, "virt-xml"),
                                        ("  clone --auto-clone", PYVIRT_CLONE + clone_args,
                                         "virt-clone")):
            exe = shutil.which(oracle)
            ours, theirs = [], []
            for _ in range(runs):
                ours.append(ms(_timed(ours_cmd)))
                if exe:
                    theirs.append(ms(_timed([exe, *ours_cmd[3:]])))
            _row(label, ours, theirs)
    finally:
        shutil.rmtree(top, ignore_errors=True)


def _image(path: Path) -> None:
    """A 1 GiB qcow2 with 256 MiB written (a non-zero pattern, so nothing is sparse)."""
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(path), "1G"], check=True)
    subprocess.run(["qemu-io", "-f", "qcow2", "-c", "write -P 0x5a 0 256M", str(path)],
                   check=True, capture_output=True)


def _domain(name: str, disk: Path) -> str:
    return f"""<domain type='qemu'><name>{name}</name><memory unit='MiB'>128</memory>
<os><type arch='x86_64' machine='pc'>hvm</type></os>
<devices><disk type='file' device='disk'><driver name='qemu' type='qcow2'/>
<source file='{disk}'/><target dev='vda' bus='virtio'/></disk>
<interface type='user'><model type='virtio'/></interface></devices></domain>"""


def bench_clone() -> None:
    top = Path(tempfile.mkdtemp(prefix="pyvirt-bench-clone-", dir="/var/tmp"))
    top.chmod(0o755)
    print(f"{'clone, 1 GiB qcow2 with 256 MiB data':44} {'pyvirt s':>10} {'libvirt s':>12} {'ratio':>7}")
    try:
        ours = top / "ours"
        ours.mkdir()
        _image(ours / "bench-vm.qcow2")
        daemon = PrivateDaemon(top / "pyvirtd")
        daemon.start()
        try:
            daemon.connect().define_xml(_domain("bench-vm", ours / "bench-vm.qcow2"))
            env_cmd = ["env", f"PYVIRT_STATE_ROOT={daemon.root}", *PYVIRT_CLONE,
                       "--connect", "qemu:///session", "--original", "bench-vm", "--auto-clone"]
            t_ours = _timed(env_cmd)
            copy = ours / "bench-vm-clone.qcow2"
            assert copy.is_file(), "pyvirt-clone made no copy"
        finally:
            daemon.stop()
        t_ref = float("nan")
        if shutil.which("virt-clone") and shutil.which("libvirtd"):
            ref = top / "ref"
            ref.mkdir()
            ref.chmod(0o755)
            _image(ref / "bench-ref.qcow2")
            with libvirt_daemons():
                deadline = time.monotonic() + 120  # libvirtd probes QEMU before it listens
                while not Path("/run/libvirt/libvirt-sock").exists() and time.monotonic() < deadline:
                    time.sleep(0.5)
                define = ref / "dom.xml"
                define.write_text(_domain("pyvirt-bench-ref", ref / "bench-ref.qcow2"))
                subprocess.run(["virsh", "-q", "-c", "qemu:///system", "define", str(define)],
                               check=True, capture_output=True)
                try:
                    t_ref = _timed(["virt-clone", "--connect", "qemu:///system", "--original",
                                    "pyvirt-bench-ref", "--auto-clone"])
                finally:
                    for dom in ("pyvirt-bench-ref", "pyvirt-bench-ref-clone"):
                        subprocess.run(["virsh", "-q", "-c", "qemu:///system", "undefine", dom],
                                       capture_output=True)
                    with contextlib.suppress(Exception):
                        subprocess.run(["virsh", "-q", "-c", "qemu:///system", "pool-list",
                                        "--all"], capture_output=True)
        print(f"{'  --original G --auto-clone':44} {t_ours:10.2f} {t_ref:12.2f} "
              f"{t_ours / t_ref:7.2f}")
    finally:
        shutil.rmtree(top, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--no-clone", action="store_true")
    a = ap.parse_args()
    bench_invocation(a.runs)
    if not a.no_clone:
        bench_clone()


if __name__ == "__main__":
    main()
