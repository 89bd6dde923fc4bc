"""libvirt's individual vCPUs: the ``<vcpus><vcpu id= enabled= hotpluggable= order=/>`` list.

A domain either counts its vCPUs (``<vcpu current='N'>M</vcpu>``: the first N run, the rest
are hot-pluggable slots) or, once it has a ``<vcpus>`` list, says for each vCPU whether it
runs, whether it may be (un)plugged and in which order QEMU plugged it.  libvirt keeps that
list whole (one entry per vCPU up to the maximum) and derives ``current`` from it; the rules
here are libvirt 9.0's (virDomainVcpuParse, virDomainVcpuDefPostParse, the QEMU driver's
validation and its setvcpus/setvcpu config changes), checked against libvirtd 9.0.

Every function works on the model only; callers turn the refusal texts into their errors.
"""

from __future__ import annotations

from .domain import Domain, VcpuState
from .errors import XMLConfigError, XMLError, XMLUnsupportedError


def maximum(dom: Domain) -> int:
    return dom.vcpu or 1


def online(dom: Domain) -> list[int]:
    """The ids of the vCPUs that run (or would run at start)."""
    if dom.vcpu_states:
        return [v.id for v in dom.vcpu_states if v.enabled and v.id is not None]
    return list(range(dom.vcpu_current or maximum(dom)))


def sync_current(dom: Domain) -> None:
    """``<vcpu current=>`` from the list: written only when fewer than all run."""
    if dom.vcpu_states:
        count = sum(1 for v in dom.vcpu_states if v.enabled)
        dom.vcpu_current = None if count == maximum(dom) else count


def post_parse(dom: Domain) -> None:
    """virDomainVcpuParse + virDomainVcpuDefPostParse: ids in range (a later entry for an id
    wins), unlisted vCPUs offline, ``hotpluggable`` defaulting to "not if it runs", and an
    offline vCPU that cannot be plugged refused.  ``<vcpu current>`` is ignored beside a list."""
    if not dom.vcpu_states:
        return
    most = maximum(dom)
    by_id: dict[int, VcpuState] = {}
    for v in dom.vcpu_states:
        for name in ("id", "enabled"):
            if getattr(v, name) is None:
                raise XMLError(f"Missing required attribute '{name}' in element 'vcpu'", libvirt_words=True)
        assert v.id is not None
        if v.id >= most:
            raise XMLError(f"vcpu id '{v.id}' is out of range of maximum vcpu count", libvirt_words=True)
        by_id[v.id] = v
    states = [by_id.get(i) or VcpuState(id=i, enabled=False) for i in range(most)]
    for v in states:
        if v.order == 0:
            v.order = None
        if v.hotpluggable is None:
            v.hotpluggable = not v.enabled
        elif not v.hotpluggable and not v.enabled:
            raise XMLConfigError(f"vcpu '{v.id}' is both offline and not hotpluggable")
    dom.vcpu_states = states
    sync_current(dom)


def check_qemu(dom: Domain) -> None:
    """What libvirt's QEMU driver refuses at define (the test driver takes them)."""
    if not dom.vcpu_states:
        return
    first = dom.vcpu_states[0]
    if not first.enabled:
        raise XMLUnsupportedError("vcpu 0 can't be offline")
    if first.hotpluggable:
        raise XMLUnsupportedError("vcpu0 can't be hotpluggable")
    ordered = {v.order is not None for v in dom.vcpu_states if v.enabled}
    if len(ordered) > 1:
        raise XMLUnsupportedError("all vcpus must have either set or unset order")
    if first.order not in (None, 1):
        raise XMLUnsupportedError("vcpu0 must be enabled first")


def boot_count(dom: Domain) -> int:
    """The vCPUs QEMU creates itself (``-smp N``): the running ones that cannot be unplugged;
    the running hot-pluggable ones are plugged in before the guest starts (`startup_plugs`)."""
    if not dom.vcpu_states:
        return dom.vcpu_current or maximum(dom)
    return sum(1 for v in dom.vcpu_states if v.enabled and not v.hotpluggable)


def startup_plugs(dom: Domain) -> list[int]:
    """qemuProcessValidateHotpluggableVcpus + qemuProcessSetupHotpluggableVcpus: the ids of
    the running hot-pluggable vCPUs in the order to plug them (by ``order``, then id), after
    libvirt's start-time checks (raises XMLUnsupportedError)."""
    plugs = [v for v in dom.vcpu_states if v.enabled and v.hotpluggable]
    if not plugs:
        return []
    seen_hotpluggable = False
    for v in dom.vcpu_states:
        if v.enabled and v.hotpluggable:
            seen_hotpluggable = True
        elif v.enabled and seen_hotpluggable:
            raise XMLUnsupportedError("online non-hotpluggable vcpus need to be ordered prior to hotplugable vcpus")
    orders: set[int] = set()
    for v in dom.vcpu_states:
        if v.order is None:
            continue
        if v.order in orders:
            raise XMLUnsupportedError(f"duplicate vcpu order '{v.order}'")
        if v.order > maximum(dom):
            raise XMLUnsupportedError(f"vcpu order '{v.order}' exceeds vcpu count")
        orders.add(v.order)
    return [v.id for v in sorted(plugs, key=lambda v: v.order or 0) if v.id is not None]


def entries(dom: Domain) -> list[VcpuState]:
    """The list, or what libvirt holds in memory for a domain without one: the first
    `current` run and cannot be unplugged, the rest are hot-pluggable slots (not kept)."""
    if dom.vcpu_states:
        return dom.vcpu_states
    running = dom.vcpu_current or maximum(dom)
    return [VcpuState(id=i, enabled=i < running, hotpluggable=i >= running) for i in range(maximum(dom))]


def make_individual(dom: Domain) -> list[VcpuState]:
    """The list kept from now on (libvirt starts writing it once a vCPU is hot-plugged, set
    one by one or made hot-pluggable)."""
    dom.vcpu_states = entries(dom)
    return dom.vcpu_states


def set_count(dom: Domain, count: int, hotpluggable: bool) -> None:
    """qemuDomainSetVcpusConfig (setvcpus --config): enable from the lowest free id or disable
    from the highest; orders are cleared.  A vCPU enabled after a running hot-pluggable one
    must be hot-pluggable too (non-hotpluggable ones stay first)."""
    if not dom.vcpu_states and not hotpluggable:  # no list: only the count changes
        dom.vcpu_current = None if count == maximum(dom) else count
        return
    for v in make_individual(dom):
        v.order = None
    running = sum(1 for v in dom.vcpu_states if v.enabled)
    if running < count:
        for v in dom.vcpu_states:
            if v.enabled:
                hotpluggable = hotpluggable or bool(v.hotpluggable)
                continue
            v.enabled, v.hotpluggable = True, hotpluggable
            running += 1
            if running == count:
                break
    else:
        for v in reversed(dom.vcpu_states):
            if running == count:
                break
            if v.enabled:
                v.enabled, v.hotpluggable = False, True
                running -= 1
    sync_current(dom)


def set_first_online(dom: Domain, count: int) -> None:
    """virDomainDefSetVcpus (libvirt's test driver's setvcpus): the first `count` run, the
    rest do not; whether each may be plugged is left as it is."""
    if not dom.vcpu_states:
        dom.vcpu_current = None if count == maximum(dom) else count
        return
    for v in dom.vcpu_states:
        v.enabled = (v.id or 0) < count
    sync_current(dom)


def set_maximum(dom: Domain, count: int) -> None:
    """virDomainDefSetVcpusMax: a list grows by offline entries or loses its last ones.  libvirt
    writes new entries without ``hotpluggable`` until it parses the definition again (its
    next start), then as hot-pluggable; a definition pyvirtd changes is parsed again at once."""
    dom.vcpu = count
    if dom.vcpu_states:
        del dom.vcpu_states[count:]
        dom.vcpu_states.extend(VcpuState(id=i, enabled=False) for i in range(len(dom.vcpu_states), count))
        sync_current(dom)
    elif dom.vcpu_current and dom.vcpu_current >= count:
        dom.vcpu_current = None


def config_refusal(dom: Domain, ids: set[int]) -> str | None:
    """qemuDomainVcpuValidateConfig (setvcpu --config): vCPU 0 stays, and the vCPUs that
    cannot be plugged must stay ahead of the changed ones."""
    if 0 in ids:
        return "vCPU '0' can't be modified"
    first = min(ids)
    for v in entries(dom)[first + 1:]:
        if v.id not in ids and v.enabled and not v.hotpluggable:
            return f"vcpu '{first}' can't be modified as it is followed by non-hotpluggable online vcpus"
    return None


def set_states(dom: Domain, ids: set[int], enabled: bool) -> None:
    """qemuDomainSetVcpuConfig: the chosen vCPUs enabled or disabled, hot-pluggable from now
    on; orders are cleared."""
    for v in make_individual(dom):
        v.order = None
        if v.id in ids:
            v.enabled, v.hotpluggable = enabled, True
    sync_current(dom)
