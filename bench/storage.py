"""Storage driver figures next to the same qemu-img operation run directly, in the same run.

Prints medians (ms) and the ratio pyvirt/qemu-img for:
- vol-create of a 10 GiB qcow2 (driver: validation, temp name, fsync, rename, format record);
- listing a pool of 1000 volumes (driver: stat + qcow2 header read; direct: `qemu-img info`
  on every file, which is what a naive listing would spawn);
- clone of a 1 GiB image holding 256 MiB of data (driver: qemu-img convert to a temp name).

Usage: python bench/storage.py [--runs N] [--dir DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable

from pyvirt.storage import StorageDriver


def median_ms(fn: Callable[[int], object], runs: int, reset: Callable[[int], object] | None = None) -> float:
    times = []
    for i in range(runs):
        if reset:
            reset(i)
        t = time.perf_counter()
        fn(i)
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def qimg(*args: str) -> None:
    subprocess.run(["qemu-img", *args], check=True, capture_output=True)


def row(label: str, ours: float, raw: float) -> None:
    print(f"{label:<34} pyvirt {ours:9.1f} ms   qemu-img {raw:9.1f} ms   ratio {ours / raw:6.3f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--dir", default=None)
    ap.add_argument("--list-size", type=int, default=1000)
    args = ap.parse_args()
    top = tempfile.mkdtemp(prefix="pyvirt-bench-", dir=args.dir)
    try:
        drv = StorageDriver(f"{top}/etc", f"{top}/run", f"{top}/pool")
        drv.ensure_default_pool()
        raw_dir = f"{top}/raw"
        os.makedirs(raw_dir)

        ours = median_ms(lambda i: drv.create_volume("default", f"c{i}.qcow2", "10G", "qcow2"), args.runs)
        direct = median_ms(lambda i: qimg("create", "-q", "-f", "qcow2", f"{raw_dir}/c{i}.qcow2", "10G"),
                           args.runs)
        row("vol-create 10 GiB qcow2", ours, direct)

        lp = f"{top}/list"
        drv.define_pool(f"<pool type='dir'><name>list</name><target><path>{lp}</path></target></pool>")
        drv.start_pool("list", build=True)
        for i in range(args.list_size):
            drv.create_volume("list", f"v{i:04}", "1G", "qcow2")
        ours = median_ms(lambda i: drv.list_volumes("list"), args.runs)
        files = sorted(os.listdir(lp))
        direct = median_ms(lambda i: [qimg("info", "--output=json", "-f", "qcow2", f"{lp}/{f}")
                                      for f in files], 1)
        row(f"list pool of {args.list_size} volumes", ours, direct)

        src = drv.create_volume("default", "src.qcow2", "1G", "qcow2")
        subprocess.run(["qemu-io", "-f", "qcow2", "-c", "write -P 0x5a 0 256M", src.path],
                       check=True, capture_output=True)
        runs = max(3, args.runs // 2)
        ours = median_ms(lambda i: drv.clone_volume("default", "src.qcow2", f"cl{i}.qcow2"), runs,
                         reset=lambda i: None)
        direct = median_ms(lambda i: qimg("convert", "-f", "qcow2", "-O", "qcow2", src.path,
                                          f"{raw_dir}/cl{i}.qcow2"), runs)
        row("clone 1 GiB qcow2 (256 MiB data)", ours, direct)
    finally:
        shutil.rmtree(top, ignore_errors=True)


if __name__ == "__main__":
    main()
