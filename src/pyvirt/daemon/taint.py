"""Domain taints as libvirt 9.0's QEMU driver sets them (qemu_domain.c): qemuDomainObjCheckTaint
when a guest starts, and the calls that hand QEMU or its guest agent commands libvirt did not
write (qemu-monitor-command: custom-monitor, qemu-agent-command: custom-ga-command).

A taint is set once per run (a deprecation message each time it is given), logged as libvirt's
VIR_WARN and appended to the guest's log (the QEMU log, ``NAME.log``) in libvirt's words,
``TIMESTAMP: Domain id=N is tainted: WORD[ (MESSAGE)]``; virDomainGetMessages lists them
(pyvirt.taints).  They live as long as the run: a stopped guest has none, a started one is checked
again.  Compared with a session libvirtd 9.0 (custom-argv at start, custom-monitor once however
many monitor commands, none after destroy, checked again at the next start).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import time
from pathlib import Path
from typing import Any

log = logging.getLogger("pyvirt.daemon")

#: linux/cdrom.h: answered only by a CD-ROM drive (virFileIsCDROM)
_CDROM_GET_CAPABILITY = 0x5331


def timestamp(now: float | None = None) -> str:
    """virTimeStringNow: UTC with milliseconds, ``2023-01-10 12:00:00.123+0000``."""
    now = time.time() if now is None else now
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}+0000"


def is_cdrom(path: str) -> bool:
    """virFileIsCDROM: whether `path` is a CD-ROM drive (a block device answering its ioctl)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        return fcntl.ioctl(fd, _CDROM_GET_CAPABILITY) >= 0
    except OSError:
        return False
    finally:
        os.close(fd)


def at_start(dom: Any, *, privileged: bool, qemu_user: Any, caps: Any, incoming: bool) -> list[tuple[str, str | None]]:
    """qemuDomainObjCheckTaint's findings for `dom` about to start, in its order:
    [(taint word, deprecation message or None)]."""
    found: list[tuple[str, str | None]] = []

    def taint(word: str, extra: str | None = None) -> None:
        if extra is not None or all(w != word for w, _ in found):
            found.append((word, extra))

    if privileged and (qemu_user is None or qemu_user.uid == 0 or qemu_user.gid == 0):
        taint("high-privileges")  # QEMU runs as root (qemu.conf's user or group 0)
    if getattr(dom, "qemu_args", None) or getattr(dom, "qemu_envs", None):
        taint("custom-argv")
    if getattr(dom, "qemu_overrides", None):
        taint("custom-device")
    if getattr(dom, "qemu_caps_add", None) or getattr(dom, "qemu_caps_del", None):
        taint("custom-hypervisor-feature")
    devices = dom.devices
    for disk in devices.disks:  # qemuDomainObjCheckDiskTaint
        if disk.rawio:
            taint("high-privileges")
        if disk.device == "cdrom" and disk.type == "block" and disk.source_dev and is_cdrom(disk.source_dev):
            taint("cdrom-passthrough")
    for hostdev in devices.hostdevs:  # qemuDomainObjCheckHostdevTaint: SCSI ones with rawio
        if hostdev.type == "scsi" and hostdev.rawio:
            taint("high-privileges")
    for nic in devices.interfaces:  # qemuDomainObjCheckNetTaint: any script is user sauce
        if nic.script_path is not None:
            taint("shell-scripts")
    if dom.os is not None and dom.os.dtb:
        taint("custom-dtb")
    machine = caps.machine(dom.os.machine) if dom.os is not None and dom.os.machine else None
    if machine is not None and machine.deprecated:  # qemuDomainObjCheckMachineTaint
        taint("deprecated-config", f"machine type '{dom.os.machine}'")
    cpu = dom.cpu
    if cpu is not None:  # qemuDomainObjCheckCPUTaint
        if cpu.mode in ("host-passthrough", "maximum") and incoming:
            taint("host-cpu")
        elif (cpu.mode or "custom") == "custom" and cpu.model and any(
                m.name == cpu.model and m.deprecated for m in caps.cpu_models):
            taint("deprecated-config", f"CPU model '{cpu.model}'")
    return found


def record(taints: set[str], deprecations: list[str], dom_id: int, name: str, uuid: str, log_path: Path,
           word: str, extra: str | None = None) -> bool:
    """qemuDomainObjTaintMsg: note `word` in the run's `taints` (`extra`: a deprecation's message,
    kept in `deprecations` and logged each time), warn and append libvirt's line to the guest's
    log.  False: already noted."""
    if word in taints and extra is None:
        return False
    taints.add(word)
    if word == "deprecated-config" and extra:
        deprecations.append(extra)  # virDomainObjDeprecation
    suffix = f" ({extra})" if extra else ""
    log.warning("Domain id=%d name='%s' uuid=%s is tainted: %s%s", dom_id, name, uuid, word, suffix)
    with contextlib.suppress(OSError), open(log_path, "a", encoding="utf-8") as out:
        out.write(f"{timestamp()}: Domain id={dom_id} is tainted: {word}{suffix}\n")
    return True
