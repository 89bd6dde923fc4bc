"""Is KVM usable for standard (unmodified) guests on this host? Answered by running one.

``/dev/kvm`` existing is not enough: paravirtual backends such as ``kvm_pvm`` accept
``-accel kvm`` and run real-mode code, even long-mode code, yet cannot deliver exceptions
through a guest's IDT, so a distribution kernel hangs early in boot. The only reliable
answer is to run what a standard guest does. ``kvm_usable`` boots the tiny image from
:mod:`.image` (real -> protected -> long mode with paging, then an ``int3`` through a
64-bit IDT) under ``-accel kvm`` and watches its progress markers on the debug console.
A real KVM host finishes in about as long as QEMU takes to start (~0.1 s); a broken one
is given a short grace period after the guest starts running, then declared unusable.

The loaded ``kvm_pvm`` module is named in the reason but does not decide by itself: the
probe decides, because a host might load it beside kvm_intel/kvm_amd and still run
standard guests. Verdicts are cached per boot (boot id, kernel release, QEMU binary,
probe image), so only the first call of a boot pays for the probe.
"""

from __future__ import annotations

import hashlib
import os
import platform
import select
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from pyvirt.qemu.capscache import default_cache_dir, read_json, write_json_atomic
from pyvirt.qemu.kvmprobe.image import FAILURE_EXIT, SUCCESS_EXIT, build_image

DEFAULT_BINARY = "/usr/bin/qemu-system-x86_64"
STARTUP_TIMEOUT_S = 3.0  # QEMU itself must start executing the guest within this
GUEST_GRACE_S = 0.25  # after the first marker: real KVM needs microseconds for the rest
PVM_MODULE = Path("/sys/module/kvm_pvm")

_STAGE_TEXT = {
    "": "the guest never started executing under KVM",
    "R": "the guest ran in real mode but did not reach protected mode",
    "RP": "the guest reached protected mode but not long mode with paging",
    "RPL": "the guest reached long mode but an exception through its IDT (int3) never returned",
    "RPLI": "the guest completed the probe",
}


@dataclass(frozen=True)
class KvmVerdict:
    """Whether guests can use ``-accel kvm``; ``reason`` is meant for users and logs."""

    usable: bool
    reason: str
    elapsed_s: float
    cached: bool = False
    stage: str = ""  # progress markers the probe guest printed (R, P, L, I)


def _pvm_note() -> str:
    if PVM_MODULE.exists():
        return " (KVM here is provided by kvm_pvm, a paravirtual KVM that only runs PVM-aware guest kernels)"
    return ""


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return "unknown-boot"


def cache_key(binary: str, dev: str = "/dev/kvm") -> str:
    """Key of a verdict: same boot, kernel, QEMU binary and probe image give the same answer."""
    try:
        st = os.stat(binary)
        binid = f"{os.path.realpath(binary)}:{st.st_mtime_ns}:{st.st_size}"
    except OSError:
        binid = f"{binary}:missing"
    image_hash = hashlib.sha256(build_image()).hexdigest()[:16]
    raw = "|".join([_boot_id(), platform.release(), binid, dev, image_hash])
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def _precheck(dev: str) -> str | None:
    """A reason KVM cannot be used without even starting QEMU, or None."""
    if not os.path.exists(dev):
        return f"{dev} does not exist (no KVM module loaded, or no hardware virtualization)"
    if not os.access(dev, os.R_OK | os.W_OK):
        return f"no read/write access to {dev} (join the 'kvm' group)"
    return None


def run_probe(binary: str = DEFAULT_BINARY, accel: str = "kvm") -> tuple[int | None, str, str]:
    """Boot the probe image under ``accel``; return (exit status or None if killed, markers, stderr tail).

    Exposed separately so tests can run the same image under TCG to prove the image is right.
    """
    with tempfile.TemporaryDirectory(prefix="pyvirt-kvmprobe-") as tmp:
        image = Path(tmp) / "probe.bin"
        image.write_bytes(build_image())
        argv = [
            binary, "-accel", accel, "-machine", "pc", "-m", "16", "-nodefaults", "-display", "none",
            "-no-reboot", "-bios", str(image), "-debugcon", "stdio",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
        ]  # fmt: skip
        proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        assert proc.stdout is not None and proc.stderr is not None
        markers = b""
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        fd = proc.stdout.fileno()
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                break
            chunk = os.read(fd, 64)
            if not chunk:  # QEMU exited
                break
            if not markers:
                deadline = time.monotonic() + GUEST_GRACE_S
            markers += chunk
        if proc.poll() is None:
            proc.kill()
        rc = proc.wait()
        err = proc.stderr.read().decode(errors="replace").strip()
        killed = rc < 0
        return (None if killed else rc), markers.decode("ascii", errors="replace"), err[-400:]


def _probe(binary: str, dev: str) -> KvmVerdict:
    start = time.monotonic()
    reason = _precheck(dev)
    if reason:
        return KvmVerdict(False, reason, time.monotonic() - start)
    if not os.access(binary, os.X_OK):
        return KvmVerdict(False, f"QEMU binary {binary} is not executable", time.monotonic() - start)
    rc, stage, err = run_probe(binary, "kvm")
    elapsed = time.monotonic() - start
    if rc == SUCCESS_EXIT and stage == "RPLI":
        return KvmVerdict(True, "KVM runs protected/long-mode guests with IDT exceptions" + _pvm_note(),
                          elapsed, stage=stage)  # fmt: skip
    if rc == FAILURE_EXIT:
        text = "the guest reached 64-bit code but EFER.LMA was clear"
    elif rc is not None and not stage:
        text = f"QEMU failed to start with -accel kvm (exit {rc}): {err or 'no message'}"
    else:
        text = _STAGE_TEXT.get(stage, f"unexpected probe output {stage!r}")
        if rc is None:
            text += " (probe killed after timeout)"
    return KvmVerdict(False, text + _pvm_note(), elapsed, stage=stage)


def kvm_usable(
    dev: str = "/dev/kvm", binary: str = DEFAULT_BINARY, cache_dir: Path | None = None, use_cache: bool = True
) -> KvmVerdict:
    """Probe (or recall) whether ``-accel kvm`` can run standard guests on this boot of this host."""
    start = time.monotonic()
    path = (cache_dir or default_cache_dir()) / f"kvm-{cache_key(binary, dev)}.json"
    if use_cache:
        data = read_json(path)
        if isinstance(data, dict) and {"usable", "reason", "stage"} <= data.keys():
            return KvmVerdict(bool(data["usable"]), str(data["reason"]), time.monotonic() - start,
                              cached=True, stage=str(data["stage"]))  # fmt: skip
    verdict = _probe(binary, dev)
    # A QEMU that never started the guest (e.g. an overloaded host) is not a fact about this boot.
    if use_cache and (verdict.stage or verdict.usable or not os.path.exists(dev)):
        record = asdict(verdict)
        record.pop("cached")
        write_json_atomic(path, record)
    return verdict
