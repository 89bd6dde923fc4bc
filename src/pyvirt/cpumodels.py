"""Which CPU models a guest architecture has, by libvirt's CPU drivers (virCPUGetModels).

libvirt answers virConnectGetCPUModelNames from its own CPU map, per CPU driver: the x86 driver
(i686, x86_64) and the ppc64 driver (ppc64, ppc64le) list their models, the s390 and ARM drivers
accept any model (no list: virsh prints "all CPU models are accepted"), every other architecture
has no CPU driver.  The lists below are the model names of libvirt 9.0's cpu_map in its index
order (names only: pyvirt has no feature map).  pyvirtd lists the models QEMU itself reports
for the architectures it has probed instead (query-cpu-definitions), since those are what a
guest can be given there.
"""

from __future__ import annotations

from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError

#: virArch's names (virArchFromString knows these; "none" is not one)
ARCHES = ("alpha", "armv6l", "armv7l", "armv7b", "aarch64", "cris", "i686", "ia64", "lm32", "loongarch64",
          "m68k", "microblaze", "microblazeel", "mips", "mipsel", "mips64", "mips64el", "openrisc", "parisc",
          "parisc64", "ppc", "ppcle", "ppc64", "ppc64le", "ppcemb", "riscv32", "riscv64", "s390", "s390x",
          "sh4", "sh4eb", "sparc", "sparc64", "unicore32", "x86_64", "xtensa", "xtensaeb")

X86_ARCHES = ("i686", "x86_64")
PPC64_ARCHES = ("ppc64", "ppc64le")
ANY_MODEL_ARCHES = ("s390", "s390x", "armv6l", "armv7l", "armv7b", "aarch64")

X86_MODELS = (
    "486", "pentium", "pentium2", "pentium3", "pentiumpro", "coreduo", "n270", "core2duo", "qemu32", "kvm32",
    "cpu64-rhel5", "cpu64-rhel6", "qemu64", "kvm64", "Conroe", "Penryn", "Nehalem", "Nehalem-IBRS", "Westmere",
    "Westmere-IBRS", "SandyBridge", "SandyBridge-IBRS", "IvyBridge", "IvyBridge-IBRS", "Haswell-noTSX",
    "Haswell-noTSX-IBRS", "Haswell", "Haswell-IBRS", "Broadwell-noTSX", "Broadwell-noTSX-IBRS", "Broadwell",
    "Broadwell-IBRS", "Skylake-Client", "Skylake-Client-IBRS", "Skylake-Client-noTSX-IBRS", "Skylake-Server",
    "Skylake-Server-IBRS", "Skylake-Server-noTSX-IBRS", "Cascadelake-Server", "Cascadelake-Server-noTSX",
    "Icelake-Client", "Icelake-Client-noTSX", "Icelake-Server", "Icelake-Server-noTSX", "Cooperlake",
    "Snowridge", "athlon", "phenom", "Opteron_G1", "Opteron_G2", "Opteron_G3", "Opteron_G4", "Opteron_G5",
    "EPYC", "EPYC-IBPB", "EPYC-Rome", "EPYC-Milan", "Dhyana")
PPC64_MODELS = ("POWER6", "POWER7", "POWER8", "POWER9", "POWER10", "POWERPC_e5500", "POWERPC_e6500")


def model_names(arch: str, x86_models: tuple[str, ...] | list[str] = X86_MODELS) -> list[str]:
    """virCPUGetModels for `arch`: its models, [] where any is accepted, libvirt's errors for an
    unknown architecture or one without a CPU driver.  `x86_models` replaces the x86 list (pyvirtd
    passes QEMU's)."""
    if arch not in ARCHES:
        raise PyvirtError(f"invalid argument: cannot find architecture {arch}", ErrorCode.INVALID_ARG,
                          ErrorDomain.NONE)
    if arch in X86_ARCHES:
        return list(x86_models)
    if arch in PPC64_ARCHES:
        return list(PPC64_MODELS)
    if arch in ANY_MODEL_ARCHES:
        return []
    raise PyvirtError(f"this function is not supported by the connection driver: '{arch}' architecture is "
                      "not supported by CPU driver", ErrorCode.NO_SUPPORT, ErrorDomain.NONE)


_AMD_PREFIXES = ("EPYC", "Opteron", "phenom", "athlon")
_HYGON_PREFIXES = ("Dhyana",)
# libvirt's pentium models name no vendor (its domcapabilities say 'unknown')
_INTEL_PREFIXES = ("Broadwell", "Cascadelake", "Conroe", "Cooperlake", "Denverton", "GraniteRapids",
                   "Haswell", "Icelake", "IvyBridge", "KnightsMill", "Nehalem", "Penryn", "SandyBridge",
                   "SapphireRapids", "Skylake", "Snowridge", "Westmere", "core2duo", "coreduo", "n270")  # fmt: skip


def cpu_model_vendor(name: str) -> str:
    """The vendor libvirt gives a CPU model (generic ones like qemu64 are 'unknown').  QEMU's own
    vendor property is no guide: it gives qemu64 AMD's and kvm64 Intel's vendor string only so a
    guest sees some vendor, where libvirt's map names none."""
    for vendor, prefixes in (("AMD", _AMD_PREFIXES), ("Hygon", _HYGON_PREFIXES), ("Intel", _INTEL_PREFIXES)):
        if name.startswith(prefixes):
            return vendor
    return "unknown"
