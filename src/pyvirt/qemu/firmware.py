"""Firmware autoselection from QEMU's firmware descriptors (docs/interop/firmware.json).

``<os firmware='efi'>`` names no file: the firmware is the first descriptor, in QEMU's search
order (/etc/qemu/firmware overrides /usr/share/qemu/firmware by file name, then by name order),
that offers UEFI for the guest's architecture and machine type and has every wished feature
(``<firmware><feature enabled='yes' name='secure-boot'/>``) and none of the refused ones.
Debian's ``ovmf`` package installs the descriptors.  Only flash-mapped firmware is chosen (the
kind pyvirt's command line drives).  Reads are bounded; a malformed descriptor is skipped.
"""

from __future__ import annotations

import fnmatch
import json
import os
from dataclasses import dataclass, field

from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError

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


def select(arch: str, machine: str, wanted: dict[str, bool],
           dirs: tuple[str, ...] | None = None) -> Descriptor:
    """The UEFI firmware for this guest, or an error that says what to install or change."""
    found = descriptors(dirs)
    if not found:
        where = " or ".join(SEARCH_DIRS if dirs is None else dirs)
        raise PyvirtError(f"operation failed: no firmware descriptors in {where}: {PACKAGE_HINT}",
                          ErrorCode.OPERATION_FAILED, ErrorDomain.QEMU)
    for desc in found:
        if "uefi" not in desc.interfaces or desc.device != "flash" or not desc.fits(arch, machine):
            continue
        if all((name in desc.features) == on for name, on in wanted.items()) and os.path.exists(desc.executable):
            return desc
    wishes = ", ".join(f"{k}={'yes' if v else 'no'}" for k, v in wanted.items())
    raise PyvirtError("operation failed: Unable to find any firmware to satisfy 'efi'"
                      + (f" with {wishes}" if wishes else "") + f" for machine '{machine}'",
                      ErrorCode.OPERATION_FAILED, ErrorDomain.QEMU)
