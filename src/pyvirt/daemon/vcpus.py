"""vCPU counts of running guests: vcpucount (virDomainGetVcpusFlags) and the live half of
setvcpus, by CPU hot-plug (QMP query-hotpluggable-cpus, device_add / device_del of a vCPU).

As libvirt: vCPUs beyond <vcpu current> are the hot-pluggable slots QEMU starts with
(-smp N,maxcpus=M); a new one is plugged into the first free slot and named vcpuN (its index),
an unplug takes the highest plugged ones back and waits for the guest to eject them
(DEVICE_DELETED).  The vCPUs a guest booted with cannot be taken away.
"""

from __future__ import annotations

import copy
from typing import Any

from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError, operation_invalid
from pyvirt.daemon.records import DomainRecord


def _counts(dom: Any) -> tuple[int, int]:
    maximum = dom.vcpu or 1
    return maximum, dom.vcpu_current or maximum


class VcpuMixin:
    """vcpu_count and _set_live_vcpus (lookup, _running, _qmp, _unplug, _commit from QemuDriver)."""

    async def vcpu_count(self, dom: str, live: bool = False, config: bool = False, maximum: bool = False,
                         guest: bool = False) -> int:
        rec = self.lookup(dom)
        if guest:
            if config or maximum:
                raise PyvirtError("invalid argument: Flags 'VIR_DOMAIN_VCPU_GUEST' and "
                                  f"'{'VIR_DOMAIN_AFFECT_CONFIG' if config else 'VIR_DOMAIN_VCPU_MAXIMUM'}' "
                                  "are mutually exclusive", ErrorCode.INVALID_ARG, ErrorDomain.DOMAIN)
            return await self.guest_vcpu_count(dom)  # type: ignore[attr-defined, no-any-return]
        if live and config:
            raise PyvirtError("invalid argument: Flags 'VIR_DOMAIN_AFFECT_LIVE' and 'VIR_DOMAIN_AFFECT_CONFIG' "
                              "are mutually exclusive", ErrorCode.INVALID_ARG, ErrorDomain.DOMAIN)
        (target,) = self._targets(rec, live, config)
        most, current = _counts(target)
        return most if maximum else current

    async def _set_live_vcpus(self, rec: DomainRecord, count: int) -> None:
        """Plug or unplug vCPUs until the running guest has `count` (the caller holds the lock)."""
        run = self._running(rec)
        live = rec.live
        assert live is not None
        most, current = _counts(live)
        if count > most:
            raise PyvirtError(f"invalid argument: requested vcpus is greater than max allowable vcpus for the live "
                              f"domain: {count} > {most}", ErrorCode.INVALID_ARG, ErrorDomain.QEMU)
        slots = await self._qmp(run, "query-hotpluggable-cpus")
        # QEMU lists the slots from the highest index down; libvirt's vcpu order is the reverse
        slots = list(reversed(slots))
        plugged = [s for s in slots if s.get("qom-path")]
        changed = copy.deepcopy(live)
        if count > current:
            free = [(i, s) for i, s in enumerate(slots) if not s.get("qom-path")]
            for index, slot in free[:count - len(plugged)]:
                await self._qmp(run, "device_add", {"driver": slot["type"], "id": f"vcpu{index}", **slot["props"]})
        elif count < current:
            ours = [(i, s) for i, s in enumerate(slots)
                    if str(s.get("qom-path", "")).startswith("/machine/peripheral/vcpu")]
            if len(plugged) - len(ours) > count:
                raise operation_invalid(f"vcpus {count + 1}-{len(plugged)} can't be unplugged: the guest booted "
                                        f"with {len(plugged) - len(ours)}")
            for index, _slot in reversed(ours[count - (len(plugged) - len(ours)):]):
                try:
                    await self._unplug(run, f"vcpu{index}")
                except PyvirtError as exc:
                    if exc.code != ErrorCode.OPERATION_TIMEOUT:
                        raise
                    raise PyvirtError("Timed out during operation: vcpu unplug request timed out. Unplug result "
                                      "must be manually inspected in the domain", ErrorCode.OPERATION_TIMEOUT,
                                      ErrorDomain.QEMU) from None
                current -= 1
                changed.vcpu_current = None if current == most else current
                self._commit(rec, live=changed)  # each vCPU the guest let go counts, even if a later one fails
                changed = copy.deepcopy(changed)
        changed.vcpu_current = None if count == most else count
        self._commit(rec, live=changed)
