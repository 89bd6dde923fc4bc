"""Firmware and TPM helpers prepared before QEMU starts: UEFI autoselection with a per-domain
NVRAM copied from its template, and one swtpm per emulated TPM.

Both happen at start, on the copy QEMU is built from: the persistent definition keeps
``<os firmware='efi'>`` (so an updated ``ovmf`` package is picked up), the live XML shows the
chosen loader and NVRAM.  swtpm is started with ``--terminate``: it ends when its QEMU does, so
it needs no tracking across a pyvirtd restart; if QEMU never starts, pyvirtd kills it.  A TPM
without state yet is manufactured first by ``swtpm_setup`` (EK and its certificate, platform
certificate, NVRAM locked), as libvirt does, with certificates from a local CA pyvirtd keeps
under the TPM state root.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError
from pyvirt.qemu import process
from pyvirt.qemu.firmware import descriptors, fill_domain, needs_fill

if TYPE_CHECKING:
    from pyvirt.xml.domain import Domain

SWTPM_WAIT = 10.0
SETUP_TIMEOUT = 120.0  # creating the local CA and an RSA EK takes seconds, more under load


def _unsupported(message: str) -> PyvirtError:
    return PyvirtError(f"unsupported configuration: {message}", ErrorCode.CONFIG_UNSUPPORTED, ErrorDomain.QEMU)


def prepare_firmware(dom: Domain, caps: Any, nvram_dir: Path) -> None:
    """Resolve ``<os firmware>`` to a loader and NVRAM from the host's firmware descriptors
    (:func:`pyvirt.qemu.firmware.fill_domain`, the rule the command line builder shares) and
    make sure a per-domain NVRAM exists, copied from its template."""
    os_ = dom.os
    if os_ is None:
        return
    if needs_fill(dom):
        machine = os_.machine or ""
        if caps is not None and hasattr(caps, "canonical_machine"):
            machine = caps.canonical_machine(machine)
        fill_domain(dom, descriptors(), str(nvram_dir), machine=machine)
    nvram = os_.nvram
    path = nvram.local_path() if nvram is not None else None
    if nvram is not None and path and nvram.type != "block" and not os.path.exists(path):
        if not nvram.template:
            raise _unsupported(f"NVRAM file '{path}' does not exist and no template to create it from")
        _copy_template(nvram.template, path)


def nvram_path(dom: Domain, nvram_dir: Path) -> str | None:
    """Where a domain's UEFI variable store is (or will be once it starts): its <nvram> path, or
    for <os firmware='efi'> or a read-only UEFI loader the per-domain file prepare_firmware creates
    (qemuDomainNVRAMPathFormat)."""
    os_ = dom.os
    if os_ is None:
        return None
    if os_.nvram is not None and (os_.nvram.local_path() or os_.nvram.type == "network"):
        return os_.nvram.local_path() if os_.nvram.type in (None, "file") else None
    if os_.firmware == "efi" or (os_.firmware is None and needs_fill(dom)):
        return str(nvram_dir / f"{dom.name}_VARS.fd")
    return None


def reset_nvram(dom: Domain, nvram_dir: Path) -> None:
    """``--reset-nvram`` (start, restore, snapshot-revert): the variable store goes, so the start
    copies it afresh from its template."""
    path = nvram_to_reset(dom, nvram_dir)
    if path is not None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def nvram_to_reset(dom: Domain, nvram_dir: Path) -> str | None:
    """The variable store ``--reset-nvram`` removes (None: the domain has none); refused
    without a template to copy afresh (libvirt's check), so a caller can check before it
    changes anything."""
    path = nvram_path(dom, nvram_dir)
    if path is None:
        return None
    os_ = dom.os
    if os_ is not None and os_.firmware != "efi" and not (os_.nvram is not None and os_.nvram.template):
        loader = os_.loader.path if os_.loader is not None else path
        raise PyvirtError(f"operation failed: unable to find any master var store for loader: {loader}",
                          ErrorCode.OPERATION_FAILED, ErrorDomain.QEMU)
    return path


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
    copy_file(template, path, f"cannot create NVRAM '{path}' from template '{template}'")


def copy_file(src: str, path: str, what: str) -> None:
    """Copy under a temporary name, then rename: a crash never leaves half a variable store.
    `what` begins the error's message."""
    folder = os.path.dirname(path)
    os.makedirs(folder, mode=0o700, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".nvram.", dir=folder)
    try:
        with os.fdopen(fd, "wb") as out, open(src, "rb") as source:
            shutil.copyfileobj(source, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise PyvirtError(f"operation failed: {what}: {exc.strerror}", ErrorCode.OPERATION_FAILED,
                          ErrorDomain.QEMU) from None


def start_swtpms(dom: Domain, private_dir: Path, state_root: Path, log_dir: Path,
                 user: Any = None) -> list[process.ProcessIdentity]:
    """One swtpm per ``<tpm><backend type='emulator'>``, listening where the command line expects
    it (``<private dir>/<alias>-swtpm.sock``); state kept per domain UUID across restarts.  With
    `user` (daemon.qemuuser.QemuUser: QEMU's), swtpm runs as that user too, its state is that
    user's, and it logs through the descriptor the daemon opened (the log dir stays root's)."""
    from pyvirt.qemu.argv_disks import secret_file  # the command line's module: loaded by a start

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
            # the state encrypted with a key derived from the vtpm secret's value, which pyvirtd
            # wrote for it (daemon/disksecrets.py) and swtpm removes once read
            key = secret_file(str(private_dir), tpm.alias or "tpm0", "vtpm") \
                if tpm.backend_encryption_secret else None  # beside the socket: no comma
            setup_tpm_state(dom, state, version, state_root, log, user, key)
            # the log: swtpm's stdout, which spawn_detached opens (as the daemon) onto the file
            argv = [binary, "socket", "--ctrl", f"type=unixio,path={sock},mode=0600",
                    "--tpmstate", f"dir={state},mode=0600", "--log", "fd=1", "--terminate"]
            if key is not None:
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


def setup_tpm_state(dom: Domain, state: Path, version: str, state_root: Path, log: Path, user: Any,
                    key: str | None) -> None:
    """libvirt's qemuTPMEmulatorRunSetup: a TPM with no state yet is manufactured by
    ``swtpm_setup`` (an EK with its certificate and a platform certificate, the NVRAM locked,
    never overwriting), as QEMU's user; its output goes to the swtpm log.  A guest then sees a
    provisioned TPM, as on libvirt, instead of an empty one."""
    import subprocess

    tpm = next((t for t in dom.devices.tpms if t.backend_type == "emulator"), None)
    banks = ",".join(tpm.active_pcr_banks()) if tpm is not None and version == "2.0" else ""
    binary = shutil.which("swtpm_setup")
    exists = (state / ("tpm2-00.permall" if version == "2.0" else "tpm-00.permall")).exists()
    if exists and not banks:
        return
    if binary is None:
        raise _unsupported("creating an emulated TPM's state needs swtpm_setup, which is not installed "
                           "(Debian package 'swtpm-tools')")
    if exists:  # qemuTPMEmulatorReconfigure: the existing state gets the XML's active PCR banks
        argv = [binary, "--tpm2", "--tpm-state", str(state), "--reconfigure", "--pcr-banks", banks]
    else:
        config = _localca_config(state_root, user)
        argv = [binary, "--tpm-state", str(state), "--vmid", f"{dom.name}:{dom.uuid}", "--createek",
                "--create-ek-cert", "--create-platform-cert", "--lock-nvram", "--not-overwrite", "--config", config]
        if version == "2.0":
            argv.append("--tpm2")
        if banks:  # qemuTPMEmulatorRunSetup
            argv += ["--pcr-banks", banks]
    if key is not None:
        argv += ["--pwdfile", key, "--cipher", "aes-256-cbc"]
    ids: dict[str, Any] = {}
    if user is not None:
        ids = {"user": user.uid, "group": user.gid, "extra_groups": list(user.groups)}
    try:
        done = subprocess.run(argv, capture_output=True, timeout=SETUP_TIMEOUT, check=False, cwd="/",
                              env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(state_root)}, **ids)
    except subprocess.TimeoutExpired:
        raise PyvirtError(f"operation failed: swtpm_setup did not finish within {SETUP_TIMEOUT:.0f} s",
                          ErrorCode.OPERATION_FAILED, ErrorDomain.QEMU) from None
    output = (done.stdout + done.stderr)[-64 << 10:]
    with open(log, "ab") as fh:
        fh.write(output)
    if done.returncode != 0:
        tail = output.decode(errors="replace").strip().splitlines()[-3:]
        raise PyvirtError(f"operation failed: swtpm_setup could not create the TPM state in '{state}': "
                          f"{' '.join(tail)}", ErrorCode.OPERATION_FAILED, ErrorDomain.QEMU)


def _localca_config(state_root: Path, user: Any) -> str:
    """swtpm_setup's configuration naming pyvirt's own local CA (Debian's /var/lib/swtpm-localca
    belongs to tss), written once; the CA directory is QEMU's user's, who runs swtpm_setup."""
    from pyvirt.atomicio import write_atomic

    ca = state_root / "localca"
    ca.mkdir(parents=True, exist_ok=True, mode=0o700)
    files = {
        "swtpm_setup.conf": f"create_certs_tool = {shutil.which('swtpm_localca') or '/usr/bin/swtpm_localca'}\n"
                            f"create_certs_tool_config = {ca}/swtpm-localca.conf\n"
                            f"create_certs_tool_options = {ca}/swtpm-localca.options\n"
                            "active_pcr_banks = sha256\n",
        "swtpm-localca.conf": f"statedir = {ca}\nsigningkey = {ca}/signkey.pem\n"
                              f"issuercert = {ca}/issuercert.pem\ncertserial = {ca}/certserial\n",
        "swtpm-localca.options": "--platform-manufacturer pyvirt\n--platform-version 2.1\n--platform-model QEMU\n",
    }
    for name, text in files.items():
        path = ca / name
        if not path.exists() or path.read_text() != text:
            write_atomic(path, text)
    if user is not None:
        from pyvirt.daemon.qemuuser import give_tree

        give_tree(user, ca)
    return str(ca / "swtpm_setup.conf")


def stop_helpers(idents: list[process.ProcessIdentity]) -> None:
    for ident in idents:
        process.kill(ident)
