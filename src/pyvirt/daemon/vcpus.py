"""vCPUs of running guests: vcpucount (virDomainGetVcpusFlags), the live half of setvcpus
and setvcpu (virDomainSetVcpu), and the vCPUs plugged in at start, all by CPU hot-plug (QMP
query-hotpluggable-cpus, device_add / device_del of a vCPU), as libvirt 9.0's QEMU driver does.

libvirt numbers vCPUs along QEMU's hot-plug slots sorted by socket, die, core and thread; a
plugged vCPU is the device ``vcpuN`` (its number), the vCPUs QEMU created itself (``-smp``)
cannot be unplugged, and an unplug waits for the guest to eject the CPU (DEVICE_DELETED).
Once a vCPU is plugged the live XML lists every vCPU (``<vcpus>``, pyvirt.xml.vcpus) with the
order QEMU created them in (query-cpus-fast), as libvirt's live XML does.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError
from pyvirt.daemon.records import DomainRecord, Running

# pyvirt.xml.vcpus (with the domain model) is imported by the methods that use it: a fresh daemon
# loads no model

#: QEMU_GUEST_VCPU_MAX_ID: the bitmap setvcpu parses has this many bits
_MAX_IDS = 4096


def _invalid(message: str) -> PyvirtError:
    return PyvirtError(f"invalid argument: {message}", ErrorCode.INVALID_ARG, ErrorDomain.QEMU)


def _counts(dom: Any) -> tuple[int, int]:
    maximum = dom.vcpu or 1
    return maximum, dom.vcpu_current or maximum


@dataclass
class _Slot:
    """One of QEMU's hot-plug slots as libvirt sees it: its first vCPU number, how many vCPUs
    it holds, the device to plug, the alias of what is plugged (None: nothing, or a vCPU QEMU
    created itself) and the order QEMU created it in (0: not plugged)."""

    first: int
    count: int
    driver: str
    props: dict[str, Any]
    plugged: bool
    alias: str | None
    order: int


def _slot_key(slot: dict[str, Any]) -> tuple[int, ...]:
    props = slot.get("props", {})
    return tuple(props.get(k, -1) for k in ("socket-id", "die-id", "core-id", "thread-id"))


def slots_of(hotpluggable: list[dict[str, Any]], cpus: list[dict[str, Any]]) -> dict[int, _Slot]:
    """vCPU number -> its slot (every vCPU of a slot maps to the same one), from
    query-hotpluggable-cpus and query-cpus-fast (qemuMonitorGetCPUInfoHotplug)."""
    created = {}
    for cpu in cpus:  # query-cpus-fast lists the CPUs in the order QEMU created them
        created.setdefault(cpu.get("qom-path"), len(created) + 1)
    out: dict[int, _Slot] = {}
    first = 0
    for raw in sorted(hotpluggable, key=_slot_key):
        path = raw.get("qom-path")
        alias = path.rsplit("/", 1)[1] if path and path.startswith("/machine/peripheral/") else None
        slot = _Slot(first, int(raw.get("vcpus-count", 1)), raw.get("type", ""), dict(raw.get("props", {})),
                     bool(path), alias, created.get(path, 0) if path else 0)
        for n in range(first, first + slot.count):
            out[n] = slot
        first += slot.count
    return out


def persist_order(dom: Any, slots: dict[int, _Slot]) -> None:
    """qemuDomainVcpuPersistOrder: running vCPUs carry their slot's creation order, the others none."""
    for v in dom.vcpu_states:
        slot = slots.get(v.id)
        v.order = (slot.order or None) if v.enabled and slot is not None else None


class VcpuMixin:
    """vcpu_count, set_vcpu and the hot-plug behind them (lookup, _running, _qmp, _unplug,
    _commit, _targets from QemuDriver)."""

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

    async def _vcpu_slots(self, run: Running) -> dict[int, _Slot]:
        hotpluggable = await self._qmp(run, "query-hotpluggable-cpus")
        return slots_of(hotpluggable, await self._qmp(run, "query-cpus-fast"))

    async def plug_startup_vcpus(self, rec: DomainRecord) -> None:
        """qemuProcessSetupHotpluggableVcpus: the running hot-pluggable vCPUs of a ``<vcpus>``
        list, plugged by their order before the guest first runs; then every running vCPU's
        order as QEMU created them."""
        from pyvirt.xml import vcpus as V

        run, dom = rec.run, rec.live
        assert run is not None and dom is not None
        if not dom.vcpu_states:
            return
        plugs = V.startup_plugs(dom)  # checked before QEMU started: no refusal left here
        slots = await self._vcpu_slots(run)
        for n in plugs:
            slot = slots[n]
            if slot.first == n:
                await self._qmp(run, "device_add", {"driver": slot.driver, "id": f"vcpu{n}", **slot.props})
        persist_order(dom, await self._vcpu_slots(run) if plugs else slots)

    async def _set_live_vcpus(self, rec: DomainRecord, count: int) -> None:
        """setvcpus --live (qemuDomainSelectHotplugVcpuEntities): plug the lowest free vCPUs or
        unplug the highest plugged ones until `count` run (the caller holds the lock)."""
        from pyvirt.xml import vcpus as V

        run = self._running(rec)
        live = rec.live
        assert live is not None
        most, current = _counts(live)
        if count > most:
            raise _invalid(f"requested vcpus is greater than max allowable vcpus for the live domain: "
                           f"{count} > {most}")
        slots = await self._vcpu_slots(run)
        growing = count > current
        chosen: list[int] = []
        states = V.entries(live)
        for v in (states if growing else reversed(states)):
            slot = slots.get(v.id or 0)
            if current == count:
                break
            if slot is None or slot.first != v.id:  # a slot's other vCPUs go with its first
                continue
            if growing and not v.enabled:
                current += slot.count
            elif not growing and v.enabled and slot.alias is not None:
                current -= slot.count
            else:
                continue
            if (current > count) if growing else (current < count):
                raise _invalid("target vm vcpu granularity does not allow the desired vcpu count")
            chosen.append(slot.first)
        if current != count:
            raise _invalid("failed to find appropriate hotpluggable vcpus to reach the desired target vcpu count")
        await self._plug_vcpus(rec, sorted(chosen), growing, slots)

    async def _plug_vcpus(self, rec: DomainRecord, firsts: list[int], enable: bool,
                          slots: dict[int, _Slot]) -> None:
        """qemuDomainSetVcpusLive: plug each chosen slot (lowest first) or unplug them (highest
        first); every vCPU the guest took or let go is committed to the live XML at once, even
        if a later one fails."""
        from pyvirt.xml import vcpus as V

        run = self._running(rec)
        for first in (firsts if enable else reversed(firsts)):
            slot = slots[first]
            if enable:
                await self._qmp(run, "device_add", {"driver": slot.driver, "id": f"vcpu{first}", **slot.props})
            elif slot.alias is None:
                raise PyvirtError(f"Operation not supported: vcpu '{first}' can't be unplugged",
                                  ErrorCode.OPERATION_UNSUPPORTED, ErrorDomain.QEMU)
            else:
                try:
                    await self._unplug(run, slot.alias)
                except PyvirtError as exc:
                    if exc.code != ErrorCode.OPERATION_TIMEOUT:
                        raise
                    raise PyvirtError("Timed out during operation: vcpu unplug request timed out. Unplug result "
                                      "must be manually inspected in the domain", ErrorCode.OPERATION_TIMEOUT,
                                      ErrorDomain.QEMU) from None
            assert rec.live is not None
            changed = copy.deepcopy(rec.live)
            for v in V.make_individual(changed)[first:first + slot.count]:
                v.enabled = enable
            V.sync_current(changed)
            slots = await self._vcpu_slots(run)
            persist_order(changed, slots)
            self._commit(rec, live=changed)

    async def set_vcpu(self, dom: str, vcpus: str, enable: bool, live: bool = False, config: bool = False) -> None:
        """virDomainSetVcpu (qemuDomainSetVcpu): enable or disable the vCPUs of the cpuset text
        `vcpus`; live, one hot-plug slot at a time."""
        from pyvirt.xml import vcpus as V
        from pyvirt.xml.errors import XMLError
        from pyvirt.xml.validate import parse_cpuset

        try:
            ids = set(parse_cpuset(vcpus, empty_ok=True))
        except XMLError:
            ids = {-1}
        if any(not 0 <= n < _MAX_IDS for n in ids):
            raise PyvirtError(f"invalid argument: Failed to parse bitmap '{vcpus}'", ErrorCode.INVALID_ARG,
                              ErrorDomain.NONE)
        if not ids:
            raise _invalid("no vcpus selected for modification")
        last = max(ids)
        rec = self.lookup(dom)
        async with rec.lock:
            targets = self._targets(rec, live, config)
            on_live = rec.live is not None and any(t is rec.live for t in targets)
            persistent = next((t for t in targets if t is not rec.live), None)
            if persistent is not None and last >= (persistent.vcpu or 1):
                raise _invalid(f"vcpu {last} is not present in persistent config")
            if on_live and last >= (rec.live.vcpu or 1):  # type: ignore[union-attr]
                raise _invalid(f"vcpu {last} is not present in live config")
            firsts: list[int] = []
            slots: dict[int, _Slot] = {}
            if on_live:
                assert rec.live is not None
                slots = await self._vcpu_slots(self._running(rec))
                firsts = _filter_slots(V.entries(rec.live), ids, enable, slots)
                if len(firsts) != 1:
                    raise PyvirtError("Operation not supported: only one hotpluggable entity can be selected",
                                      ErrorCode.OPERATION_UNSUPPORTED, ErrorDomain.QEMU)
            if persistent is not None:
                refusal = V.config_refusal(persistent, ids)
                if refusal:
                    raise _invalid(refusal)
            if on_live:
                await self._plug_vcpus(rec, firsts, enable, slots)
            if persistent is not None:
                self._change(rec, [persistent], lambda d: V.set_states(d, ids, enable))


def _filter_slots(states: list[Any], ids: set[int], enable: bool, slots: dict[int, _Slot]) -> list[int]:
    """qemuDomainFilterHotplugVcpuEntities: every chosen vCPU must change state, and a slot's
    vCPUs are chosen together; the slots' first vCPUs."""
    for n in sorted(ids):
        if n < len(states) and bool(states[n].enabled) == enable:
            raise _invalid(f"vcpu '{n}' is already in requested state")
    firsts: list[int] = []
    for n in sorted(ids):
        slot = slots.get(n)
        if slot is None:
            continue
        if slot.first != n:
            if slot.first in ids:
                continue
            raise _invalid(f"vcpu '{n}' belongs to a larger hotpluggable entity, but siblings were not selected")
        missing = [m for m in range(n + 1, n + slot.count) if m not in ids]
        if missing:
            raise _invalid(f"vcpu '{missing[0]}' belongs to a larger hotpluggable entity, "
                           "but siblings were not selected")
        firsts.append(n)
    return firsts
