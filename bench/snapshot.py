"""Guest-state figures for a running 256 MiB test guest: internal snapshot create/revert/delete,
external (memory file + disk overlays) snapshot create/revert/delete, and save/restore, through
pyvirtd, next to libvirt doing the same on the same machine (--libvirt).  libvirt 9.0 refuses to
revert to an external snapshot: its column says so ("refused") and its external delete then
merges a snapshot the guest still runs on.

Both sides run the same guest (initramfs shell plus a qcow2 overlay disk, so internal snapshots
are possible) and are timed from the client's call to its return: pyvirt through its Connection,
libvirt through `virsh -c qemu:///system` (virsh's own start-up, ~20 ms, is included there and
printed separately).  Medians of --runs runs.  The save image size is printed for both.

libvirtd/virtlogd are started only if not running and stopped again if the bench started them
(bench/_common.libvirt_daemons); only a guest named pyvirt-bench-snap is created there.
Everything is torn down on exit.

Usage: python bench/snapshot.py [--runs N] [--libvirt]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import READY_MARKER, PrivateDaemon, libvirt_daemons, median, ms  # noqa: E402

from pyvirt.client.expect import wait_for_output  # noqa: E402
from pyvirt.testguest import find_test_guest  # noqa: E402

NAME = "pyvirt-bench-snap"
FIGURES = {"create": "snapshot create (RAM + disk) ms", "revert": "snapshot revert ms",
           "delete": "snapshot delete ms", "ext-create": "external snapshot create (memory file) ms",
           "ext-revert": "external snapshot revert ms", "ext-delete": "external snapshot delete (merge) ms",
           "save": "save ms", "restore": "restore ms"}


def _timed(call: Callable[[], object]) -> float:
    t = time.perf_counter()
    call()
    return time.perf_counter() - t


def _overlay(template: Path, path: Path) -> None:
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", str(template), str(path)],
                   check=True)


def bench_pyvirt(runs: int, top: Path) -> dict[str, float]:
    guest = find_test_guest()
    disk = top / "pyvirt.qcow2"
    _overlay(guest.disk, disk)
    daemon = PrivateDaemon(top / "pyvirtd")
    daemon.start()
    try:
        conn = daemon.connect()
        conn.define_xml(guest.domain_xml(NAME, disk=disk))
        conn.start(NAME)
        wait_for_output(conn, NAME, READY_MARKER, 300)
        out: dict[str, list[float]] = {k: [] for k in FIGURES}
        image = top / "pyvirt.save"
        for i in range(runs):
            snap = f"<domainsnapshot><name>b{i}</name></domainsnapshot>"
            out["create"].append(_timed(lambda s=snap: conn.snapshot_create(NAME, s)))
            out["revert"].append(_timed(lambda i=i: conn.snapshot_revert(NAME, f"b{i}")))
            out["delete"].append(_timed(lambda i=i: conn.snapshot_delete(NAME, f"b{i}")))
            ext = f"<domainsnapshot><name>e{i}</name><memory snapshot='external' file='{top}/pe{i}.mem'/>" \
                  "</domainsnapshot>"
            out["ext-create"].append(_timed(lambda s=ext: conn.snapshot_create(NAME, s)))
            out["ext-revert"].append(_timed(lambda i=i: conn.snapshot_revert(NAME, f"e{i}")))
            out["ext-delete"].append(_timed(lambda i=i: conn.snapshot_delete(NAME, f"e{i}")))
            out["save"].append(_timed(lambda: conn.save(NAME, str(image))))
            size = image.stat().st_size
            out["restore"].append(_timed(lambda: conn.restore(str(image))))
        conn.destroy(NAME)
        return {**{k: median(v) for k, v in out.items()}, "size": float(size)}
    finally:
        daemon.stop()


def _virsh(*args: str) -> None:
    proc = subprocess.run(["virsh", "-q", "-c", "qemu:///system", *args], capture_output=True, text=True,
                          timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"virsh {' '.join(args)}: {proc.stderr.strip()}")


def _libvirt_ready(deadline: float) -> None:
    tty = subprocess.run(["virsh", "-c", "qemu:///system", "ttyconsole", NAME], capture_output=True,
                         text=True, check=True).stdout.strip()
    fd = os.open(tty, os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK)
    seen = b""
    try:
        while READY_MARKER.encode() not in seen:
            if time.monotonic() > deadline:
                raise TimeoutError("libvirt guest did not boot")
            with contextlib.suppress(BlockingIOError):
                seen += os.read(fd, 65536)
            time.sleep(0.05)
    finally:
        os.close(fd)


def bench_libvirt(runs: int, top: Path) -> dict[str, float]:
    from pyvirt.testguest import TestGuest

    found = find_test_guest()
    # QEMU runs as libvirt-qemu under libvirtd: it gets copies it can read (the cache is under /root)
    lvdir = top / "libvirt"
    lvdir.mkdir(mode=0o755)
    for src in (found.kernel, found.initrd, found.disk):
        shutil.copyfile(src, lvdir / src.name)
    guest = TestGuest(directory=lvdir, kernel=lvdir / found.kernel.name, initrd=lvdir / found.initrd.name,
                      disk=lvdir / found.disk.name, cmdline=found.cmdline)
    disk = top / "libvirt.qcow2"
    _overlay(guest.disk, disk)
    xml = top / "libvirt.xml"
    xml.write_text(guest.domain_xml(NAME, disk=disk))
    with libvirt_daemons():
        try:
            _virsh("define", str(xml))
            _virsh("start", NAME)
            _libvirt_ready(time.monotonic() + 300)
            out: dict[str, list[float]] = {k: [] for k in FIGURES}
            image = top / "libvirt.save"
            for i in range(runs):
                out["create"].append(_timed(lambda i=i: _virsh("snapshot-create-as", NAME, f"b{i}")))
                out["revert"].append(_timed(lambda i=i: _virsh("snapshot-revert", NAME, f"b{i}")))
                out["delete"].append(_timed(lambda i=i: _virsh("snapshot-delete", NAME, f"b{i}")))
                out["ext-create"].append(_timed(lambda i=i: _virsh("snapshot-create-as", NAME, f"e{i}", "--memspec",
                                                                   f"file={top}/le{i}.mem,snapshot=external")))
                with contextlib.suppress(RuntimeError):  # libvirt 9.0: "revert to external snapshot not supported yet"
                    out["ext-revert"].append(_timed(lambda i=i: _virsh("snapshot-revert", NAME, f"e{i}")))
                out["ext-delete"].append(_timed(lambda i=i: _virsh("snapshot-delete", NAME, f"e{i}")))
                out["save"].append(_timed(lambda: _virsh("save", NAME, str(image))))
                size = image.stat().st_size
                out["restore"].append(_timed(lambda: _virsh("restore", str(image))))
            virsh = median(_timed(lambda: _virsh("uri")) for _ in range(5))
            return {**{k: median(v) for k, v in out.items() if v}, "size": float(size), "virsh": virsh}
        finally:
            with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                _virsh("destroy", NAME)
            with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                _virsh("undefine", NAME, "--snapshots-metadata")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3, help="runs per figure (median printed)")
    ap.add_argument("--libvirt", action="store_true", help="also measure libvirtd (qemu:///system)")
    args = ap.parse_args(argv)
    top = Path(tempfile.mkdtemp(prefix="pyvirt-bench-snap-"))
    os.chmod(top, 0o755)  # libvirt's qemu user reads the overlay
    try:
        ours = bench_pyvirt(args.runs, top)
        theirs = bench_libvirt(args.runs, top) if args.libvirt and shutil.which("virsh") else None
    finally:
        shutil.rmtree(top, ignore_errors=True)
    print(f"{'running 256 MiB guest (median of ' + str(args.runs) + ')':<44}{'pyvirt':>12}{'libvirt':>12}")
    for key, label in FIGURES.items():
        other = (f"{ms(theirs[key]):12.0f}" if key in theirs else f"{'refused':>12}") if theirs else f"{'-':>12}"
        print(f"{label:<44}{ms(ours[key]):12.0f}{other}")
    other = f"{theirs['size'] / 2**20:12.1f}" if theirs else f"{'-':>12}"
    print(f"{'save image MiB':<44}{ours['size'] / 2**20:12.1f}{other}")
    if theirs:
        print(f"(libvirt figures include virsh's start-up: {ms(theirs['virsh']):.0f} ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
