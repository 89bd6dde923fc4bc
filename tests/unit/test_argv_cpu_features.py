"""Hyper-V enlightenments, KVM features, the CPU cache and SMM TSEG on the command line, with
libvirt 9.0's rules (qemuBuildCpuCommandLine, qemuBuildAccelCommandLine,
qemuValidateDomainDefHypervFeatures, qemuValidateDomainDefCpu)."""

from __future__ import annotations

import pytest

from pyvirt.qemu.argv import build_argv
from pyvirt.xml import fill_defaults, parse_domain
from pyvirt.xml.errors import XMLError


def _argv(features: str = "", cpu: str = "", clock: str = "", machine: str = "q35", kind: str = "kvm"):
    xml = (f"<domain type='{kind}'><name>g</name><memory>65536</memory><os><type arch='x86_64' "
           f"machine='{machine}'>hvm</type></os><features><acpi/>{features}</features>{cpu}"
           f"<clock offset='utc'>{clock}</clock><devices/></domain>")
    return build_argv(fill_defaults(parse_domain(xml)))


def _opt(argv: list[str], name: str) -> list[str]:
    return [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == name]


def _cpu_props(argv: list[str]) -> list[str]:
    return _opt(argv, "-cpu")[0].split(",")[1:]


HV_CLOCK = "<timer name='hypervclock' present='yes'/>"


def test_hyperv_writes_only_what_is_on() -> None:
    props = _cpu_props(_argv("<hyperv mode='custom'><relaxed state='on'/><vapic state='off'/>"
                             "<spinlocks state='on' retries='8191'/><vpindex state='on'/><synic state='on'/>"
                             "<stimer state='on'><direct state='on'/></stimer>"
                             "<vendor_id state='on' value='pyvirt'/></hyperv>", clock=HV_CLOCK))
    assert {"hv-relaxed=on", "hv-spinlocks=0x1fff", "hv-vpindex=on", "hv-synic=on", "hv-stimer=on",
            "hv-stimer-direct=on", "hv-vendor-id=pyvirt", "hv-time=on"} <= set(props)
    assert not any(p.startswith("hv-vapic") for p in props)


@pytest.mark.parametrize("hyperv, clock, message", [
    ("<synic state='on'/>", "", "'synic' hyperv feature requires 'vpindex'"),
    ("<vpindex state='on'/><stimer state='on'/>", HV_CLOCK, "'stimer' hyperv feature requires 'synic'"),
    ("<evmcs state='on'/>", "", "'evmcs' hyperv feature requires 'vapic'"),
    ("<spinlocks state='on' retries='100'/>", "", "at least 4095"),
    ("<vendor_id state='on' value='thirteen-chrs'/>", "", "more than 12 characters"),
])
def test_hyperv_dependencies_and_values(hyperv: str, clock: str, message: str) -> None:
    with pytest.raises(XMLError, match=message):
        _argv(f"<hyperv mode='custom'>{hyperv}</hyperv>", clock=clock)


def test_hyperv_stimer_without_hypervclock_timer_is_accepted() -> None:
    """libvirt 9.0 builds stimer without a ``hypervclock`` timer (the check came in later
    releases; real virsh 9.0 domxml-to-native accepts it): no hv-time then."""
    props = _cpu_props(_argv("<hyperv mode='custom'><vpindex state='on'/><synic state='on'/>"
                             "<stimer state='on'/></hyperv>"))
    assert "hv-stimer=on" in props and "hv-time=on" not in props


def test_kvm_features_and_dirty_ring() -> None:
    argv = _argv("<kvm><hidden state='on'/><hint-dedicated state='off'/><poll-control state='on'/>"
                 "<pv-ipi state='off'/><dirty-ring state='on' size='8192'/></kvm>")
    props = _cpu_props(argv)
    assert {"kvm=off", "kvm-poll-control=on", "kvm-pv-ipi=off"} <= set(props)
    assert not any(p.startswith("kvm-hint-dedicated") for p in props)
    assert _opt(argv, "-accel") == ["kvm,dirty-ring-size=8192"]
    assert _opt(_argv("<kvm><dirty-ring state='on' size='8192'/></kvm>", kind="qemu"), "-accel") == ["tcg"]
    with pytest.raises(XMLError, match="power of 2"):
        _argv("<kvm><dirty-ring state='on' size='3000'/></kvm>")


@pytest.mark.parametrize("cpu, wanted, absent", [
    ("<cpu mode='host-passthrough'><cache mode='passthrough'/></cpu>", {"host-cache-info=on", "l3-cache=off"}, set()),
    ("<cpu mode='host-passthrough'><cache mode='disable'/></cpu>", {"host-cache-info=off", "l3-cache=off"}, set()),
    ("<cpu mode='custom'><model>qemu64</model><cache mode='disable'/></cpu>", {"l3-cache=off"},
     {"host-cache-info=off"}),
    ("<cpu mode='host-passthrough'><cache level='3' mode='emulate'/></cpu>", {"l3-cache=on", "host-cache-info=off"},
     set()),
])
def test_cpu_cache(cpu: str, wanted: set[str], absent: set[str]) -> None:
    props = set(_cpu_props(_argv(cpu=cpu)))
    assert wanted <= props and not absent & props


@pytest.mark.parametrize("cpu, message", [
    ("<cpu mode='host-passthrough'><cache level='2' mode='emulate'/></cpu>", "only be used with level='3'"),
    ("<cpu mode='custom'><model>qemu64</model><cache mode='passthrough'/></cpu>", "'host-passthrough'"),
    ("<cpu mode='host-passthrough'><cache level='3' mode='disable'/></cpu>", "unsupported CPU cache level"),
])
def test_cpu_cache_rules(cpu: str, message: str) -> None:
    with pytest.raises(XMLError, match=message):
        _argv(cpu=cpu)


def test_smm_tseg() -> None:
    assert "mch.extended-tseg-mbytes=48" in _opt(_argv("<smm state='on'><tseg unit='MiB'>48</tseg></smm>"), "-global")
    assert "mch.extended-tseg-mbytes=2" in _opt(_argv("<smm state='on'><tseg unit='KiB'>2048</tseg></smm>"),
                                                "-global")
    with pytest.raises(XMLError, match="divisible by 1 MiB"):
        _argv("<smm state='on'><tseg unit='KiB'>1000</tseg></smm>")
    with pytest.raises(XMLError, match="only supported with q35"):
        _argv("<smm state='on'><tseg>48</tseg></smm>", machine="pc")


@pytest.mark.parametrize("addr, prop", [
    ("<maxphysaddr mode='passthrough'/>", "host-phys-bits=on"), ("<maxphysaddr mode='emulate' bits='42'/>",
                                                                 "phys-bits=42"),
])
def test_cpu_maxphysaddr(addr: str, prop: str) -> None:
    xml = (f"<domain type='qemu'><name>g</name><memory unit='MiB'>256</memory><os><type arch='x86_64' "
           f"machine='pc'>hvm</type></os><cpu mode='custom'><model>qemu64</model>{addr}</cpu><devices/></domain>")
    dom = fill_defaults(parse_domain(xml))
    argv = build_argv(dom)
    assert prop in _opt(argv, "-cpu")[0].split(",")
    assert "<maxphysaddr mode=" in dom.to_xml(inactive=True)


@pytest.mark.parametrize("addr, message", [
    ("<maxphysaddr mode='emulate'/>", "mode='emulate', bits= must be specified"),
    ("<maxphysaddr mode='passthrough' bits='40'/>", "cannot be used with mode='passthrough'"),
])
def test_cpu_maxphysaddr_rules(addr: str, message: str) -> None:
    xml = (f"<domain type='qemu'><name>g</name><memory unit='MiB'>256</memory><os><type arch='x86_64' "
           f"machine='pc'>hvm</type></os><cpu mode='custom'><model>qemu64</model>{addr}</cpu><devices/></domain>")
    with pytest.raises(XMLError, match=message):
        build_argv(fill_defaults(parse_domain(xml)))
