"""Firmware and TPM helpers prepared before QEMU starts: UEFI autoselection with a per-domain
NVRAM copied from its template, and one swtpm per emulated TPM.

Both happen at start, on the copy QEMU is built from: the persistent definition keeps
``<os firmware='efi'>`` (so an updated ``ovmf`` package is picked up), the live XML shows the
chosen loader and NVRAM.  swtpm is started with ``--terminate``: it ends when its QEMU does, so
it needs no tracking across a pyvirtd restart; if QEMU never starts, pyvirtd kills it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError
from pyvirt.qemu import process
from pyvirt.qemu.argv_disks import secret_file
from pyvirt.qemu.firmware import select
from pyvirt.xml.domain import Domain, Features, Loader, NVRam

SWTPM_WAIT = 10.0


def _unsupported(message: str) -> PyvirtError:
    return PyvirtError(f"unsupported configuration: {message}", ErrorCode.CONFIG_UNSUPPORTED, ErrorDomain.QEMU)


def prepare_firmware(dom: Domain, caps: Any, nvram_dir: Path) -> None:
    """Resolve ``<os firmware='efi'>`` to a loader and NVRAM (libvirt's qemuFirmwareFillDomain)
    and make sure a per-domain NVRAM exists, copied from its template."""
    os_ = dom.os
    if os_ is None:
        return
    if os_.firmware == "bios":
        os_.firmware = None  # SeaBIOS, QEMU's own default
    elif os_.firmware == "efi":
        wanted = {f.name: bool(f.enabled) for f in os_.firmware_features if f.name}
        machine = os_.machine or ""
        if caps is not None and hasattr(caps, "canonical_machine"):
            machine = caps.canonical_machine(machine)
        desc = select(os_.arch or "x86_64", machine, wanted)
        smm = "requires-smm" in desc.features
        os_.loader = Loader(readonly=True, secure=True if smm else None, type="pflash", path=desc.executable)
        path = os_.nvram.path if os_.nvram is not None and os_.nvram.path else None
        os_.nvram = NVRam(template=desc.nvram_template,
                          path=path or str(nvram_dir / f"{dom.name}_VARS.fd"))
        os_.firmware, os_.firmware_features = None, []
        if smm:
            dom.features = dom.features or Features()
            dom.features.smm = True
    nvram = os_.nvram
    if nvram is not None and nvram.path and not os.path.exists(nvram.path):
        if not nvram.template:
            raise _unsupported(f"NVRAM file '{nvram.path}' does not exist and no template to create it from")
        _copy_template(nvram.template, nvram.path)


def nvram_path(dom: Domain, nvram_dir: Path) -> str | None:
    """Where a domain's UEFI variable store is (or will be once it starts): its <nvram> path, or
    for <os firmware='efi'> the per-domain file prepare_firmware creates (qemuDomainNVRAMPathFormat)."""
    os_ = dom.os
    if os_ is None:
        return None
    if os_.nvram is not None and os_.nvram.path:
        return os_.nvram.path
    if os_.firmware == "efi":
        return str(nvram_dir / f"{dom.name}_VARS.fd")
    return None


def tpm_state_dir(dom: Domain, state_root: Path, *, force: bool = False) -> Path | None:
    """The emulated TPM's state directory (start_swtpms keeps it per domain UUID); None when
    there is none to remove, or the TPM asks for its state to outlive the domain
    (``persistent_state='yes'``) and *force* (undefine's ``--tpm``) does not override that, as
    libvirt's qemuTPMEmulatorCleanupHost decides."""
    emulators = [t for t in dom.devices.tpms if t.backend_type == "emulator"]
    if not emulators or not force and any(t.backend_persistent_state for t in emulators):
        return None
    return state_root / (dom.uuid or dom.name or "")


def _copy_template(template: str, path: str) -> None:
    """Copy under a temporary name, then rename: a crash never leaves half a variable store."""
    folder = os.path.dirname(path)
    os.makedirs(folder, mode=0o700, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".nvram.", dir=folder)
    try:
        with os.fdopen(fd, "wb") as out, open(template, "rb") as src:
            shutil.copyfileobj(src, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise PyvirtError(f"operation failed: cannot create NVRAM '{path}' from template '{template}': "
                          f"{exc.strerror}", ErrorCode.OPERATION_FAILED, ErrorDomain.QEMU) from None


def start_swtpms(dom: Domain, private_dir: Path, state_root: Path, log_dir: Path,
                 user: Any = None) -> list[process.ProcessIdentity]:
    """One swtpm per ``<tpm><backend type='emulator'>``, listening where the command line expects
    it (``<private dir>/<alias>-swtpm.sock``); state kept per domain UUID across restarts.  With
    `user` (daemon.qemuuser.QemuUser: QEMU's), swtpm runs as that user too, its state is that
    user's, and it logs through the descriptor the daemon opened (the log dir stays root's)."""
    started: list[process.ProcessIdentity] = []
    try:
        for tpm in dom.devices.tpms:
            if tpm.backend_type != "emulator":
                continue
            binary = shutil.which("swtpm")
            if binary is None:
                raise _unsupported("an emulated TPM needs swtpm, which is not installed (Debian packages "
                                   "'swtpm' and 'swtpm-tools')")
            version = tpm.backend_version or "2.0"
            state = state_root / (dom.uuid or dom.name or "") / ("tpm2" if version == "2.0" else "tpm1.2")
            state.mkdir(parents=True, exist_ok=True, mode=0o700)
            if user is not None:
                from pyvirt.daemon.qemuuser import give_tree, open_dirs

                open_dirs(user, [state_root])
                give_tree(user, state.parent)
            sock = private_dir / f"{tpm.alias or 'tpm0'}-swtpm.sock"
            log = log_dir / f"{dom.name}-swtpm.log"
            for p in (sock, state, log):
                if "," in str(p):
                    raise _unsupported(f"swtpm cannot use the path '{p}' (it contains a comma)")
            # the log: swtpm's stdout, which spawn_detached opens (as the daemon) onto the file
            argv = [binary, "socket", "--ctrl", f"type=unixio,path={sock},mode=0600",
                    "--tpmstate", f"dir={state},mode=0600", "--log", "fd=1", "--terminate"]
            if tpm.backend_encryption_secret:
                # the state encrypted with a key derived from the vtpm secret's value, which pyvirtd
                # wrote for it (daemon/disksecrets.py) and swtpm removes once read
                key = secret_file(str(private_dir), tpm.alias or "tpm0", "vtpm")  # beside the socket: no comma
                argv += ["--key", f"pwdfile={key},mode=aes-256-cbc,remove=true"]
            if version == "2.0":
                argv.append("--tpm2")
            ident = process.spawn_detached(argv, log, user=user)
            started.append(ident)
            deadline = time.monotonic() + SWTPM_WAIT
            while not sock.exists():
                if time.monotonic() > deadline or not process.identity_alive(ident):
                    raise PyvirtError(f"operation failed: swtpm did not start: {process.log_tail(log)}",
                                      ErrorCode.OPERATION_FAILED, ErrorDomain.QEMU)
                time.sleep(0.02)
    except BaseException:
        stop_helpers(started)
        raise
    return started


def stop_helpers(idents: list[process.ProcessIdentity]) -> None:
    for ident in idents:
        process.kill(ident)
