"""Which host files a system daemon lets a definition hand to QEMU.

On qemu:///system QEMU runs as pyvirt-qemu (daemon/qemuuser.py; root where qemu.conf says so),
but the DAC relabelling hands it whatever a definition names, so whoever may define a domain
could otherwise read or write any file of the host through it: ``<disk><source file='/etc/shadow'/>`` read from
inside the guest, a serial ``<source path=>`` or ``<log file=>`` appending to a file under
/etc, a qcow2 image whose backing file is the daemon's own state.  So every
path a definition makes QEMU open — disk sources and their backing chains, kernel, initrd, dtb,
firmware and NVRAM, character device files and logs, shared directories — is checked at start
(and at hot-plug), by its real path (no symlink or ``..`` gets around it), against:

* the host's configuration and kernel interfaces: /etc, /proc, /sys, /boot/efi;
* the daemon's own configuration, runtime and log directories;
* device nodes: a disk may be a block device, a character device file only a ``type='dev'``
  serial/console/channel (the host serial port passed through, an admin's choice).

A session daemon runs QEMU as its user, who may open those files anyway: no check there.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError

#: host trees no guest file may live in (real paths)
PROTECTED = ("/etc", "/proc", "/sys", "/boot/efi")
#: disk formats whose images name a backing file that QEMU opens by itself
BACKED_FORMATS = ("qcow2", "qcow", "qed", "vmdk", "vpc", "vhdx")


def _refuse(what: str, path: str, why: str) -> PyvirtError:
    return PyvirtError(f"unsupported configuration: {what} '{path}' {why}; a system daemon does not hand "
                       "it to QEMU (docs/SECURITY.md)", ErrorCode.CONFIG_UNSUPPORTED,
                       ErrorDomain.QEMU)


def guest_paths(dom: Any) -> Iterator[tuple[str, str, str]]:
    """(what, path, kind) for every host path the definition makes QEMU open; kind is 'disk',
    'chardev' (a character device node is allowed) or 'file'."""
    os_ = dom.os
    if os_ is not None:
        for what, path in (("kernel", os_.kernel), ("initrd", os_.initrd), ("dtb", os_.dtb),
                           ("loader", os_.loader.path if os_.loader else None),
                           ("nvram", os_.nvram.local_path() if os_.nvram else None)):
            if path:
                yield what, path, "file"
    devs = dom.devices
    for disk in devs.disks:
        path = disk.source_file or disk.source_dev
        if path:
            yield f"storage file of disk '{disk.target_dev}'", path, "disk"
    for ch in [*devs.serials, *devs.parallels, *devs.consoles, *devs.channels]:
        if ch.source_path and ch.type in ("file", "dev", "pipe"):
            yield f"{ch.kind} source", ch.source_path, "chardev" if ch.type == "dev" else "file"
        if ch.log_file:
            yield f"{ch.kind} log", ch.log_file, "file"
    for fs in devs.filesystems:
        if fs.source_dir:
            yield "filesystem source", fs.source_dir, "file"


def check_path(what: str, path: str, kind: str, own_dirs: tuple[str, ...]) -> None:
    """Refuse `path` if its real path lies in a protected tree or one of `own_dirs`, or is a
    device node the use does not allow."""
    real = os.path.realpath(path)
    for top in (*PROTECTED, *(os.path.realpath(d) for d in own_dirs)):
        if real == top or real.startswith(top.rstrip("/") + "/"):
            where = "the daemon's own state" if top not in PROTECTED else top
            raise _refuse(what, path, f"is in {where}" + (f" (it is {real})" if real != path else ""))
    try:
        mode = os.stat(real).st_mode
    except OSError:
        return  # not there (yet): QEMU creates files; a missing disk is reported by its own check
    if stat.S_ISCHR(mode) and kind != "chardev":
        raise _refuse(what, path, "is a character device")
    if stat.S_ISBLK(mode) and kind != "disk":
        raise _refuse(what, path, "is a block device")


def backing_chain(path: str, fmt: str, depth: int = 16) -> list[str]:
    """The files QEMU opens behind an image of format `fmt` (its backing chain, nearest first),
    read a layer at a time so that a chain qemu-img cannot follow to its end is still checked
    as far as it goes."""
    out: list[str] = []
    for _ in range(depth):
        try:
            proc = subprocess.run(["qemu-img", "info", "-U", "--output=json", "-f", fmt, path],
                                  capture_output=True, text=True, timeout=30, check=False)
            info = json.loads(proc.stdout) if proc.returncode == 0 else {}
        except (OSError, subprocess.TimeoutExpired, ValueError):
            info = {}
        back = info.get("full-backing-filename") if isinstance(info, dict) else None
        if not back:
            return out
        out.append(str(back))
        path, fmt = str(back), str(info.get("backing-filename-format") or "raw")
    return out


def check_guest_paths(dom: Any, own_dirs: tuple[str, ...]) -> None:
    """Every path of `dom` QEMU would open, checked (fast: no image is read)."""
    for what, path, kind in guest_paths(dom):
        check_path(what, path, kind, own_dirs)


def check_backing_chains(dom: Any, own_dirs: tuple[str, ...]) -> None:
    """Every backing file behind `dom`'s disks, checked (reads the images: run it off the loop)."""
    for disk in dom.devices.disks:
        path = disk.source_file or disk.source_dev
        if path and (disk.driver_type or "raw") in BACKED_FORMATS:
            for back in backing_chain(path, disk.driver_type):
                check_path(f"backing file of disk '{disk.target_dev}'", back, "disk", own_dirs)


def own_dirs(paths: Any) -> tuple[str, ...]:
    """The daemon's configuration, runtime and log directories (its data dir holds images)."""
    return tuple(str(Path(p)) for p in (paths.config, paths.runtime, paths.log))
