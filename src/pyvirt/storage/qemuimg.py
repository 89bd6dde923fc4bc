"""A thin wrapper over ``qemu-img``: argv lists in, parsed JSON out, failures as PyvirtError.

The format is always passed explicitly (``-f``): pyvirt never lets qemu-img guess a format
from file content (libvirt's anti-probing rule: a raw guest disk that starts with a qcow2
header must not be opened as qcow2 pointing at, say, /etc/shadow).
"""

from __future__ import annotations

import errno
import json
import shutil
import subprocess
from typing import Any

from pyvirt.api import ErrorCode
from pyvirt.storage.errors import storage_error, unsupported

FORMATS = ("raw", "qcow2")


def binary() -> str:
    path = shutil.which("qemu-img")
    if not path:
        raise unsupported("qemu-img is not installed (Debian package qemu-utils)")
    return path


def run(args: list[str], what: str) -> str:
    """Run qemu-img; a failure raises with its stderr (ENOSPC reported as such)."""
    proc = subprocess.run([binary(), *args], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        msg = proc.stderr.strip() or proc.stdout.strip() or f"exit status {proc.returncode}"
        if "No space left" in msg:
            raise storage_error(f"{what} failed: no space left on device ({msg})",
                                ErrorCode.OPERATION_FAILED)
        raise storage_error(f"{what} failed: {msg}", ErrorCode.OPERATION_FAILED)
    return proc.stdout


def info(path: str, fmt: str) -> dict[str, Any]:
    """``qemu-img info --output=json`` with the recorded format; -U so in-use images work."""
    out = run(["info", "-U", "--output=json", "-f", fmt, path], f"inspecting '{path}'")
    return json.loads(out)


def chain(path: str, fmt: str) -> list[tuple[str, str]]:
    """(file name, format) of an image and each image beneath it, top first."""
    out = json.loads(run(["info", "-U", "--output=json", "--backing-chain", "-f", fmt, path],
                         f"inspecting '{path}'"))
    return [(str(i.get("filename", "")), str(i.get("format", ""))) for i in out]


def create(path: str, fmt: str, size: int | None, *, backing: str | None = None,
           backing_fmt: str | None = None, options: dict[str, str] | None = None) -> None:
    args = ["create", "-q", "-f", fmt]
    opts = dict(options or {})
    if backing:
        args += ["-b", backing, "-F", backing_fmt or "raw"]
    if opts:
        args += ["-o", ",".join(f"{k}={v}" for k, v in opts.items())]
    args.append(path)
    if size is not None:
        args.append(str(size))
    run(args, f"creating '{path}'")


def convert(src: str, src_fmt: str, dst: str, dst_fmt: str,
            options: dict[str, str] | None = None) -> None:
    args = ["convert", "-q", "-f", src_fmt, "-O", dst_fmt]
    if options:
        args += ["-o", ",".join(f"{k}={v}" for k, v in options.items())]
    run([*args, src, dst], f"copying '{src}'")


def resize(path: str, fmt: str, size: int, shrink: bool = False,
           preallocation: str | None = None) -> None:
    args = ["resize", "-q", "-f", fmt]
    if shrink:
        args.append("--shrink")
    if preallocation:
        args.append(f"--preallocation={preallocation}")
    run([*args, path, str(size)], f"resizing '{path}'")


def is_enospc(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)
