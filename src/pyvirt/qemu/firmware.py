"""Firmware autoselection from QEMU's firmware descriptors (docs/interop/firmware.json).

``<os firmware='efi'>`` (or ``'bios'``) names no file: the firmware is the first descriptor, in
QEMU's search order (/etc/qemu/firmware overrides /usr/share/qemu/firmware by file name, then by
name order), that offers that interface for the guest's architecture and machine type, has every
wished feature (``<firmware><feature enabled='yes' name='secure-boot'/>``) and none of the refused
ones (libvirt 9.0's qemuFirmwareMatchDomain).  SMM plays no part in the choice: a chosen build
that requires SMM under ``<smm state='off'/>`` is an error, as libvirt 9.0 refuses it (later
libvirt releases skip such builds).  Debian's ``ovmf`` package installs the descriptors.

:func:`fill_domain` is the one place that turns the choice into ``<loader>``/``<nvram>`` (and SMM),
as libvirt's qemuFirmwareFillDomain does at start: the command line builder calls it (with
libvirt's test-harness descriptors in test mode, :data:`TEST_DESCRIPTORS`) and so does pyvirtd
before it copies the NVRAM template.  Reads are bounded; a malformed descriptor is skipped.
"""

from __future__ import annotations

import fnmatch
import json
import os
from dataclasses import dataclass, field
from typing import Any

from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError
from pyvirt.xml.errors import XMLError, XMLUnsupportedError

SEARCH_DIRS = ("/usr/share/qemu/firmware", "/etc/qemu/firmware")  # later directories override
MAX_DESCRIPTOR = 64 << 10
PACKAGE_HINT = "install Debian's 'ovmf' package"


@dataclass
class Descriptor:
    path: str
    interfaces: list[str]
    device: str
    executable: str = ""
    nvram_template: str | None = None
    targets: list[tuple[str, list[str]]] = field(default_factory=list)
    features: set[str] = field(default_factory=set)

    def fits(self, arch: str, machine: str) -> bool:
        return any(a == arch and any(fnmatch.fnmatchcase(machine, g) for g in globs) for a, globs in self.targets)


def _read(path: str) -> Descriptor | None:
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_DESCRIPTOR + 1)
        if len(raw) > MAX_DESCRIPTOR:
            return None
        data = json.loads(raw)
        mapping = data["mapping"]
        return Descriptor(
            path=path, interfaces=list(data.get("interface-types", [])), device=mapping.get("device", ""),
            executable=(mapping.get("executable") or {}).get("filename", ""),
            nvram_template=(mapping.get("nvram-template") or {}).get("filename"),
            targets=[(t["architecture"], list(t.get("machines", []))) for t in data.get("targets", [])],
            features=set(data.get("features", [])))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def descriptors(dirs: tuple[str, ...] | None = None) -> list[Descriptor]:
    """Every readable descriptor in QEMU's priority order."""
    by_name: dict[str, str] = {}
    for folder in SEARCH_DIRS if dirs is None else dirs:
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for name in names:
            if name.endswith(".json"):
                by_name[name] = os.path.join(folder, name)
    found = (_read(by_name[n]) for n in sorted(by_name))
    return [d for d in found if d is not None]


#: libvirt 9.0's qemuxml2argvtest firmware descriptors (its tests/qemufirmwaredata, as the harness
#: mocks QEMU's search directories), used in test mode only.  Priority order; an /etc entry masks
#: the /usr/share one of the same name there, so only the effective ones are listed.
TEST_DESCRIPTORS: tuple[Descriptor, ...] = (
    Descriptor("40-bios.json", ["bios"], "memory", "/usr/share/seabios/bios-256k.bin", None,
               [("i686", ["pc-i440fx-*", "pc-q35-*"]), ("x86_64", ["pc-i440fx-*", "pc-q35-*"])],
               {"acpi-s3", "acpi-s4"}),
    Descriptor("40-ovmf-sb-keys.json", ["uefi"], "flash", "/usr/share/OVMF/OVMF_CODE.secboot.fd",
               "/usr/share/OVMF/OVMF_VARS.secboot.fd", [("x86_64", ["pc-q35-*"])],
               {"acpi-s3", "amd-sev", "enrolled-keys", "requires-smm", "secure-boot", "verbose-dynamic"}),
    Descriptor("61-ovmf.json", ["uefi"], "flash", "/usr/share/OVMF/OVMF_CODE.fd", "/usr/share/OVMF/OVMF_VARS.fd",
               [("x86_64", ["pc-i440fx-*", "pc-q35-*"])], {"acpi-s3", "amd-sev", "verbose-dynamic"}),
)

#: <os firmware=...> -> the descriptor interface and the mapping device pyvirt drives for it
_KINDS = {"efi": ("uefi", "flash"), "bios": ("bios", "memory")}


def choose(found: list[Descriptor] | tuple[Descriptor, ...], kind: str, arch: str, machine: str,
           wanted: dict[str, bool], *, check_files: bool = True) -> Descriptor | None:
    """The first descriptor for firmware *kind* ('efi'/'bios') that fits, or None."""
    interface, device = _KINDS[kind]
    for desc in found:
        if interface not in desc.interfaces or desc.device != device or not desc.fits(arch, machine):
            continue
        if not all((name in desc.features) == on for name, on in wanted.items()):
            continue
        if check_files and not os.path.exists(desc.executable):
            continue
        return desc
    return None


def select(arch: str, machine: str, wanted: dict[str, bool],
           dirs: tuple[str, ...] | None = None) -> Descriptor:
    """The UEFI firmware for this guest, or an error that says what to install or change."""
    found = descriptors(dirs)
    if not found:
        where = " or ".join(SEARCH_DIRS if dirs is None else dirs)
        raise PyvirtError(f"operation failed: no firmware descriptors in {where}: {PACKAGE_HINT}",
                          ErrorCode.OPERATION_FAILED, ErrorDomain.QEMU)
    desc = choose(found, "efi", arch, machine, wanted)
    if desc is not None:
        return desc
    raise _no_fit("efi", machine, wanted)


def _no_fit(kind: str, machine: str, wanted: dict[str, bool]) -> PyvirtError:
    wishes = ", ".join(f"{k}={'yes' if v else 'no'}" for k, v in wanted.items())
    return PyvirtError(f"operation failed: Unable to find any firmware to satisfy '{kind}'"
                       + (f" with {wishes}" if wishes else "") + f" for machine '{machine}'",
                       ErrorCode.OPERATION_FAILED, ErrorDomain.QEMU)


def needs_fill(dom: Any) -> bool:
    """Whether :func:`fill_domain` would change *dom*: autoselection, or a read-only UEFI loader
    whose NVRAM path is not written (libvirt's qemuDomainNVRAMPathGenerate)."""
    os_ = dom.os
    if os_ is None:
        return False
    if os_.firmware is not None:
        return True
    loader = os_.loader
    return (loader is not None and loader.type == "pflash" and bool(loader.readonly) and not loader.stateless
            and (os_.nvram is None or not (os_.nvram.local_path() or os_.nvram.type == "network")))


def check_nvram_permitted(os_: Any) -> None:
    """libvirt 9.0's qemuFirmwareFillDomain refuses ``<loader stateless='no'>`` (a wish for NVRAM)
    where no NVRAM can exist: with autoselection of anything but 'efi', or with a manual loader
    that is not pflash.  Checked before autoselection replaces the loader, so the message names
    what the user wrote."""
    loader = os_.loader if os_ is not None else None
    if loader is None or loader.stateless is not False:
        return
    if os_.firmware is not None:
        if os_.firmware != "efi":
            raise XMLError("Only EFI firmware permits NVRAM", loader.line)
    elif loader.type != "pflash":
        raise XMLError("Only pflash loader type permits NVRAM", loader.line)


def fill_domain(dom: Any, found: list[Descriptor] | tuple[Descriptor, ...], nvram_dir: str, *,
                check_files: bool = True, machine: str | None = None) -> None:
    """Resolve *dom*'s firmware in place (call it on the copy that is started): libvirt's
    qemuFirmwareFillDomain for ``<os firmware>``, then the default NVRAM file of a read-only UEFI
    loader, ``NVRAM_DIR/<name>_VARS.fd``.  ``firmware='bios'`` with no fitting descriptor keeps
    QEMU's own SeaBIOS (pyvirt's host default); ``'efi'`` with none is an error naming the wishes."""
    from pyvirt.xml.domain import Features, Loader, NVRam

    os_ = dom.os
    if os_ is None:
        return
    check_nvram_permitted(os_)
    kind = os_.firmware
    if kind is not None:
        loader = os_.loader
        if loader is not None and loader.stateless and kind == "efi":
            raise XMLUnsupportedError("unsupported by pyvirt's QEMU driver: <loader stateless='yes'> with "
                                      "firmware autoselection of 'efi' (stateless UEFI builds are not chosen)",
                                      loader.line)
        if kind == "bios" and os_.nvram is not None:
            raise XMLUnsupportedError("unsupported by pyvirt's QEMU driver: <nvram> with firmware='bios'",
                                      os_.nvram.line)
        wanted = {f.name: bool(f.enabled) for f in os_.firmware_features if f.name}
        if loader is not None and loader.secure:  # qemuFirmwareMatchDomain: secure boot, which needs SMM
            wanted.update({"secure-boot": True, "requires-smm": True})
        smm_off = dom.features is not None and dom.features.smm is False
        machine = machine or os_.machine or ""
        desc = choose(found, kind, os_.arch or "x86_64", machine, wanted, check_files=check_files)
        if desc is None:
            if kind == "efi" and not found:
                raise PyvirtError(f"operation failed: no firmware descriptors in {' or '.join(SEARCH_DIRS)}: "
                                  f"{PACKAGE_HINT}", ErrorCode.OPERATION_FAILED, ErrorDomain.QEMU)
            if kind == "efi" or wanted:
                raise _no_fit(kind, machine, wanted)
        elif smm_off and "requires-smm" in desc.features:
            raise PyvirtError("Requested operation is not valid: domain has SMM turned off but chosen firmware "
                              "requires it", ErrorCode.OPERATION_INVALID, ErrorDomain.QEMU)
        elif desc.device == "memory":
            os_.loader = Loader(type="rom", path=desc.executable, stateless=loader.stateless if loader else None)
        else:
            smm = "requires-smm" in desc.features
            os_.loader = Loader(readonly=True, secure=True if smm else None, type="pflash", path=desc.executable)
            path = os_.nvram.local_path() if os_.nvram is not None else None
            os_.nvram = NVRam(template=desc.nvram_template, path=path or f"{nvram_dir}/{dom.name}_VARS.fd")
            if smm:
                dom.features = dom.features or Features()
                dom.features.smm = True
        os_.firmware, os_.firmware_features = None, []
    if needs_fill(dom):
        os_.nvram = NVRam(template=os_.nvram.template if os_.nvram else None,
                          path=f"{nvram_dir}/{dom.name}_VARS.fd")
    loader, nvram = os_.loader, os_.nvram
    if loader is not None and loader.path and nvram is not None and nvram.local_path() and not nvram.template:
        # a manual loader: the template of the descriptor that ships it, for a first start
        nvram.template = next((d.nvram_template for d in found
                               if d.device == "flash" and d.executable == loader.path and d.nvram_template), None)
