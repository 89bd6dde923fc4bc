"""Hypervisor features that reach ``-cpu``, ``-accel`` and ``-global``: Hyper-V enlightenments,
KVM paravirtual features, the CPU cache description and q35's extended SMM TSEG.

libvirt 9.0's qemuBuildCpuCommandLine writes only what is switched on (``hv-NAME=on``;
``kvm=off`` for a hidden KVM signature; ``kvm-pv-ipi=off`` for the one feature written when off),
after checking the values qemuValidateDomainDefHypervFeatures and qemuValidateDomainDefCpu
state; a libvirt refusal is an :class:`XMLError` here too.  Hyper-V dependencies (synic needs
vpindex...) are refused for a KVM guest only, whose start QEMU would refuse.
"""

from __future__ import annotations

from typing import Any

from pyvirt.xml.define_rules import check_cpu_cache
from pyvirt.xml.errors import XMLError
from pyvirt.xml.units import parse_size_bytes

#: <hyperv> enlightenments written as ``hv-NAME=on`` (spinlocks and vendor_id carry a value)
_HV_SWITCHES = ("relaxed", "vapic", "vpindex", "runtime", "synic", "stimer", "reset", "frequencies",
                "reenlightenment", "tlbflush", "ipi", "evmcs", "avic")
#: feature -> the feature it needs (QEMU's KVM accelerator refuses to start without it; real
#: libvirt 9.0 builds either line and leaves that to QEMU: TCG ignores the enlightenments)
_HV_NEEDS = (("synic", "vpindex"), ("stimer", "synic"), ("tlbflush", "vpindex"), ("ipi", "vpindex"),
             ("evmcs", "vapic"))


def _on(feats: Any, name: str) -> bool:
    return getattr(feats, f"hv_{name}") is True


def hyperv_props(dom: Any) -> list[tuple[str, Any]]:
    """``hv-*`` properties of ``<hyperv mode='custom'>``."""
    f = dom.features
    for feat, needs in _HV_NEEDS if dom.type == "kvm" else ():
        if _on(f, feat) and not _on(f, needs):
            raise XMLError(f"'{feat}' hyperv feature requires '{needs}' feature", f.line)
    out: list[tuple[str, Any]] = []
    for name in _HV_SWITCHES:
        if _on(f, name):
            out.append((f"hv-{name}", True))
            if name == "stimer" and f.hv_stimer_direct:
                out.append(("hv-stimer-direct", True))
        if name == "vapic" and f.hv_spinlocks:  # libvirt's order: spinlocks after vapic
            if f.hv_spinlocks_retries is None:
                raise XMLError("missing HyperV spinlock retry count", f.line)
            if f.hv_spinlocks_retries < 4095:
                raise XMLError("HyperV spinlock retry count must be at least 4095", f.line)
            out.append(("hv-spinlocks", f"0x{f.hv_spinlocks_retries:x}"))
        if name == "reset" and f.hv_vendor_id:
            value = f.hv_vendor_id_value
            if not value:
                raise XMLError("missing 'value' attribute for HyperV feature 'vendor_id'", f.line)
            if len(value) > 12:
                raise XMLError("HyperV vendor_id value must not be more than 12 characters", f.line)
            out.append(("hv-vendor-id", value))
    return out


def kvm_props(dom: Any) -> list[tuple[str, Any]]:
    """``<kvm>``: hidden -> ``kvm=off``, hint-dedicated, poll-control, pv-ipi off."""
    f = dom.features
    out: list[tuple[str, Any]] = []
    if f.kvm_hidden:
        out.append(("kvm", False))
    if f.kvm_hint_dedicated:
        out.append(("kvm-hint-dedicated", True))
    if f.kvm_poll_control:
        out.append(("kvm-poll-control", True))
    if f.kvm_pv_ipi is False:
        out.append(("kvm-pv-ipi", False))
    return out


def dirty_ring_size(dom: Any) -> int | None:
    """``-accel kvm,dirty-ring-size=N`` for ``<kvm><dirty-ring state='on' size=N>`` (KVM only)."""
    f = dom.features
    if f is None or not f.kvm_dirty_ring:
        return None
    size = f.kvm_dirty_ring_size
    if size is None or size < 1024 or size > 65536 or size & (size - 1):
        raise XMLError("dirty ring must be power of 2 and ranges [1024, 65536]", f.line)
    return size if dom.type == "kvm" else None


def cache_props(dom: Any) -> list[tuple[str, Any]]:
    """``<cpu><cache>`` as QEMU's l3-cache / host-cache-info switches."""
    cpu = dom.cpu
    if cpu is None or cpu.cache_mode is None:
        return []
    check_cpu_cache(dom)  # the define-time rules, for a document that reaches here without a define
    mode = cpu.cache_mode
    host_like = cpu.mode in ("host-passthrough", "maximum")
    out: list[tuple[str, Any]] = []
    if mode == "emulate":
        out.append(("l3-cache", True))
    elif mode == "passthrough":
        out.append(("host-cache-info", True))
    if mode in ("emulate", "disable") and host_like:
        out.append(("host-cache-info", False))
    if mode in ("passthrough", "disable"):
        out.append(("l3-cache", False))
    return out


def phys_bits_props(dom: Any) -> list[tuple[str, Any]]:
    """``<cpu><maxphysaddr>`` (libvirt 9.0): the host's address bits, or a given number."""
    cpu = dom.cpu
    if cpu is None or cpu.maxphysaddr_mode is None:
        return []
    if cpu.maxphysaddr_mode == "passthrough":
        if cpu.maxphysaddr_bits is not None:
            raise XMLError("CPU maximum physical address bits number specification cannot be used with "
                           "mode='passthrough'", cpu.line)
        return [("host-phys-bits", True)]
    if cpu.maxphysaddr_bits is None:
        raise XMLError("if using CPU maximum physical address mode='emulate', bits= must be specified too",
                       cpu.line)
    return [("phys-bits", cpu.maxphysaddr_bits)]


def tseg_mbytes(ctx: Any) -> int | None:
    """q35's extended TSEG in MiB (``<smm state='on'><tseg>``; the unit defaults to MiB)."""
    f = ctx.domain.features
    if f is None or f.smm_tseg is None:
        return None
    if not f.smm:  # not read without SMM on (validate drops it)
        return None
    size = parse_size_bytes(str(f.smm_tseg), f.smm_tseg_unit or "MiB", "<tseg>", f.line, default_scale=1)
    if size % (1 << 20):
        raise XMLError("SMM TSEG size must be divisible by 1 MiB", f.line)
    return size >> 20
