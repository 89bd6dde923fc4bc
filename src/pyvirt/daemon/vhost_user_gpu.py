"""vhost-user GPUs (``<video><driver name='vhostuser'>``): one vhost-user-gpu process per such
video, started before QEMU and connected to it by a socket pair, as libvirt's
qemuVhostUserGPUStart does.  The helper binary comes from QEMU's vhost-user descriptors
(``/usr/share/qemu/vhost-user/*.json``, ``"type": "gpu"``); it ends when QEMU closes its socket.
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from typing import Any

from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError
from pyvirt.qemu import process

DESCRIPTOR_DIRS = (Path("/etc/qemu/vhost-user"), Path("/usr/share/qemu/vhost-user"))
MAX_DESCRIPTOR = 65536


def gpu_binary(dirs: tuple[Path, ...] = DESCRIPTOR_DIRS) -> str | None:
    """The first vhost-user descriptor of type 'gpu' (by file name, /etc before /usr), its binary."""
    return vhost_user_binary("gpu", dirs)


def vhost_user_binary(kind: str, dirs: tuple[Path, ...] = DESCRIPTOR_DIRS) -> str | None:
    """The first vhost-user descriptor of type `kind` ('gpu', 'fs'; by file name, /etc before
    /usr), its binary (libvirt's qemuVhostUserFillDomainGPU/FS)."""
    names: dict[str, Path] = {}
    for folder in reversed(dirs):  # a file in /etc overrides one of the same name in /usr
        try:
            for name in os.listdir(folder):
                if name.endswith(".json"):
                    names[name] = folder / name
        except OSError:
            continue
    for name in sorted(names):
        try:
            with open(names[name], "rb") as fh:
                desc = json.loads(fh.read(MAX_DESCRIPTOR))
        except (OSError, ValueError):
            continue
        if isinstance(desc, dict) and desc.get("type") == kind and isinstance(desc.get("binary"), str):
            return desc["binary"]
    return None


def start(dom: Any, log: Path, render_node: str | None,
          user: Any = None) -> tuple[list[process.ProcessIdentity], dict[str, int]]:
    """(helper processes, ``{video alias: QEMU's socket end}``); the caller passes those fds to QEMU
    and closes them after.  On failure nothing is left running or open.  `user`: QEMU's
    (daemon.qemuuser.QemuUser), whom the helper runs as too, as libvirt runs it."""
    videos = [v for v in dom.devices.videos if v.driver_name == "vhostuser"]
    helpers: list[process.ProcessIdentity] = []
    fds: dict[str, int] = {}
    if not videos:
        return helpers, fds
    binary = gpu_binary()
    if binary is None:
        raise PyvirtError("operation failed: no vhost-user GPU backend found (QEMU's vhost-user descriptors of "
                          "type 'gpu'; Debian package 'qemu-system-gui')", ErrorCode.OPERATION_FAILED,
                          ErrorDomain.QEMU)
    try:
        for v in videos:
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                argv = [binary, f"--fd={theirs.fileno()}"]
                if v.model_accel3d:
                    node = v.model_rendernode or render_node
                    if node is None:
                        raise PyvirtError("unsupported configuration: 3D acceleration of a vhost-user GPU needs a "
                                          "DRM render node, and this host has none", ErrorCode.CONFIG_UNSUPPORTED,
                                          ErrorDomain.QEMU)
                    argv += ["--virgl", f"--render-node={node}"]
                helpers.append(process.spawn_detached(argv, log, pass_fds=(theirs.fileno(),), user=user))
            except BaseException:
                ours.close()
                raise
            finally:
                theirs.close()
            fds[v.alias or ""] = ours.detach()
    except BaseException:
        for fd in fds.values():
            os.close(fd)
        for ident in helpers:
            process.kill(ident)
        raise
    return helpers, fds
