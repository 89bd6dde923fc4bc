"""Machine-level options: -machine, -accel, -cpu, -m/memory backend, -smp, -rtc, -boot, firmware.

Each function appends to an :class:`~pyvirt.qemu.argv_common.Argv` in libvirt 9.0's order and
refuses (``XMLUnsupportedError``) what it cannot express, rather than dropping it.
"""

from __future__ import annotations

import datetime as _dt
import time as _time
from typing import Any

from pyvirt.cpufeatures_x86 import X86_FEATURES, X86_MODEL_REMOVED
from pyvirt.cpumap import qemu_name, qemu_switch
from pyvirt.cpumodels import X86_ARCHES, X86_MODELS
from pyvirt.xml import hmat
from pyvirt.xml.errors import XMLConfigError, XMLError, XMLInternalError

from . import argv_cpufeatures
from .argv_common import Argv, Ctx, unsupported
from .escape import FLAG

_ROM_BIOS_TYPES = (None, "rom")


def machine_hpet(ctx: Ctx) -> bool:
    """Whether ``<timer name='hpet' present=...>`` is the machine's ``hpet`` property: libvirt 9.0
    uses it where QEMU reports the property (its test harness's capabilities do), and otherwise
    writes ``-no-hpet`` for ``present='no'`` and nothing for ``'yes'``, as it does with the QEMU
    7.2 it runs on a host (the same machine either way)."""
    return ctx.runtime.test_mode or ctx.version >= (8, 0, 0)


def machine_opts(a: Argv, ctx: Ctx) -> None:
    """-machine TYPE,usb=off,... and -accel."""
    dom = ctx.domain
    feats = dom.features
    pairs: list[tuple[str, Any]] = [("usb", False)]
    if feats is not None and feats.vmport is not None:
        pairs.append(("vmport", feats.vmport))
    if feats is not None and feats.smm is not None:
        pairs.append(("smm", feats.smm))
    if feats is not None and feats.ioapic_driver is not None:
        pairs.append(("kernel_irqchip", "split" if feats.ioapic_driver == "qemu" else "on"))
    pairs.append(("dump-guest-core", bool(dom.memory_dump_core)))
    if dom.memory_backing is not None and dom.memory_backing.nosharepages:
        pairs.append(("mem-merge", False))
    if not _needs_no_backend(dom):
        pairs.append(("memory-backend", "pc.ram"))
    if dom.os is not None and dom.os.bios_useserial:
        # <bios useserial='yes'>: SeaBIOS writes to the first serial port when told the machine
        # has no graphics (libvirt 9.0 replaced the old sga device by this)
        pairs.append(("graphics", False))
    if any(m.model == "nvdimm" for m in dom.devices.memories):
        pairs.append(("nvdimm", True))
    if dom.cpu is not None and hmat.has_hmat(dom.cpu.numa_cells, dom.cpu.numa_interconnects):
        pairs.append(("hmat", True))
    if _uses_pflash(dom):
        pairs.append(("pflash0", "libvirt-pflash0-format"))
        if dom.os.nvram is not None or (dom.os.loader.readonly and not dom.os.loader.stateless):
            pairs.append(("pflash1", "libvirt-pflash1-format"))
    if machine_hpet(ctx):
        for timer in (dom.clock.timers if dom.clock else []):
            if timer.name == "hpet" and timer.present is not None:
                pairs.append(("hpet", timer.present))
    if any(s.model == "pcspk" for s in dom.devices.sounds):
        pairs.append(("pcspk-audiodev", ctx.audio_id()))
    a.kv("-machine", dom.os.machine, pairs)
    tb = dom.features.tcg_tb_cache if dom.features is not None else None
    if tb is not None and dom.type != "qemu":
        raise XMLError(f"TCG features are incompatible with domain type '{dom.type}'", dom.features.line)
    ring = argv_cpufeatures.dirty_ring_size(dom)
    a.kv("-accel", "kvm" if dom.type == "kvm" else "tcg",
         [("tb-size", tb // 1024 if tb is not None else None), ("dirty-ring-size", ring)])
    tseg = argv_cpufeatures.tseg_mbytes(ctx)
    if tseg is not None:
        a.opt("-global", f"mch.extended-tseg-mbytes={tseg}")


def _needs_no_backend(dom: Any) -> bool:
    """With guest NUMA cells each node has its own backend (no single pc.ram)."""
    return bool(dom.cpu is not None and dom.cpu.numa_cells)


def _uses_pflash(dom: Any) -> bool:
    loader = dom.os.loader if dom.os else None
    return loader is not None and loader.type == "pflash"


# libvirt's cpu_map spells these features the old way; QEMU 7.2 wants its own names
# (virQEMUCapsCPUFeaturesX86 in libvirt).
def _host_arch() -> str:
    """The host's architecture in libvirt's names (virArchFromHost)."""
    import platform

    machine = platform.machine()
    return {"amd64": "x86_64", "i386": "i686", "arm64": "aarch64"}.get(machine.lower(), machine)


def cpu_opts(a: Argv, ctx: Ctx) -> None:
    """-cpu: host-passthrough -> host, maximum -> max, custom model + features, qemu64 default."""
    dom = ctx.domain
    cpu = dom.cpu
    arch = dom.os.arch or "x86_64"
    default = "qemu64" if arch == "x86_64" else "qemu32"
    feats: list[tuple[str, Any]] = []
    if cpu is None or (cpu.mode in (None, "custom") and not cpu.model):
        model = default
    elif cpu.mode == "host-passthrough":
        if dom.type != "kvm":  # virQEMUCapsIsCPUModeSupported: QEMU's 'host' CPU needs KVM
            raise XMLConfigError(f"CPU mode 'host-passthrough' for {arch} {dom.type} domain on "
                                 f"{_host_arch()} host is not supported by hypervisor", cpu.line)
        model = "host"
        if cpu.migratable is not None:
            feats.append(("migratable", cpu.migratable))
    elif cpu.mode == "maximum":
        model = "max"
        if cpu.migratable is not None:
            feats.append(("migratable", cpu.migratable))
    elif cpu.mode == "host-model" or cpu.match == "minimum":
        # libvirt expands host-model to a named model from the host's CPU (virCPUUpdate).  A custom
        # CPU matched 'minimum' is the host's CPU too: its model is not looked at, its features
        # are.  Under TCG that is the CPU domcapabilities offers (RuntimePaths.host_model: QEMU's
        # max named by the closest model); unknown there, or under KVM, QEMU expands it itself
        hm = ctx.runtime.host_model if dom.type != "kvm" else None
        if hm is None:
            model = "host" if dom.type == "kvm" else "max"
        else:
            model = hm.model
            for name, policy in hm.features:
                switch = qemu_switch(name, policy == "require")
                if switch is not None:
                    feats.append(switch)
    else:
        # <vendor> only matters to libvirt's comparison with the host's CPU: its command line
        # has no vendor switch for a custom model, nor has pyvirt's
        model = cpu.model
        if model not in X86_MODELS:  # libvirt's x86 CPU driver knows only its cpu_map's models
            raise XMLInternalError(f"Unknown CPU model {model}", cpu.line)
        qemu_models = {m.name for m in getattr(ctx.caps, "cpu_models", None) or ()}
        if qemu_models and model not in qemu_models:  # a model of libvirt's map this QEMU dropped
            why = ("" if cpu.model_fallback == "forbid" else " (libvirt 9.0, with fallback='allow', would "
                   "give the closest model QEMU has plus features; pyvirt does not substitute one)")
            raise XMLConfigError(f"CPU model {model} is not supported by hypervisor{why}", cpu.line)
    if cpu is not None and cpu.model_vendor_id and cpu.mode in (None, "custom", "host-model"):
        feats.append(("vendor", cpu.model_vendor_id))  # right after the model, as libvirt writes it
    if cpu is not None:
        feats = _merged(feats, _feature_switches(cpu, arch, ctx.runtime.host_cpu_features))
    if cpu is not None and cpu.mode in (None, "custom") and cpu.match != "minimum" and arch in X86_ARCHES:
        # features libvirt's definition of the model removed (QEMU's has them) go off, after the
        # CPU's own, unless it names them itself
        named = {f.name for f in cpu.features}
        feats += [(qemu_name(f), False) for f in X86_MODEL_REMOVED.get(model, ()) if f not in named]
    for timer in (dom.clock.timers if dom.clock else []):
        if timer.name == "kvmclock" and timer.present is not None:
            feats.append(("kvmclock", timer.present))
        elif timer.name == "hypervclock" and timer.present:
            feats.append(("hv-time", True))
        elif timer.name == "tsc" and timer.frequency:  # qemuBuildCpuCommandLine, in timer order
            feats.append(("tsc-frequency", timer.frequency))
    if dom.features is not None and dom.features.apic_eoi is not None:
        feats.append(("kvm-pv-eoi", dom.features.apic_eoi))
    if dom.features is not None and dom.features.pvspinlock is not None:
        feats.append(("kvm-pv-unhalt", dom.features.pvspinlock))
    if dom.features is not None and dom.features.hyperv_mode == "passthrough":
        feats.append(("hv-passthrough", True))
    elif dom.features is not None and dom.features.hyperv_mode is not None:
        feats += argv_cpufeatures.hyperv_props(dom)
    if dom.features is not None:
        feats += argv_cpufeatures.kvm_props(dom)
    if dom.features is not None and dom.features.pmu is not None:
        feats.append(("pmu", dom.features.pmu))
    if any(p.model == "hyperv" for p in dom.devices.panics):
        feats.append(("hv-crash", FLAG))
    feats += argv_cpufeatures.cache_props(dom)
    feats += argv_cpufeatures.phys_bits_props(dom)
    a.kv("-cpu", model, feats)


def needs_host_cpu(dom: Any) -> bool:
    """Whether building ``-cpu`` needs the host CPU's features (RuntimePaths.host_cpu_features):
    a TCG guest's custom CPU with an 'optional' feature."""
    cpu = dom.cpu
    return dom.type == "qemu" and cpu is not None and any(f.policy == "optional" for f in cpu.features)


def needs_host_model(dom: Any) -> bool:
    """Whether building ``-cpu`` needs the CPU a host-model guest gets under TCG
    (RuntimePaths.host_model): a TCG guest's host-model CPU or custom CPU matched 'minimum'."""
    cpu = dom.cpu
    return dom.type == "qemu" and cpu is not None and (cpu.mode == "host-model" or cpu.match == "minimum")


def _merged(base: list[tuple[str, Any]], over: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """`over`'s switches set over `base`'s: a name both have keeps its place with `over`'s value
    (the guest's own <feature> on an expanded host model, as virCPUDefUpdateFeature does)."""
    out = dict(base)
    out.update(over)
    return list(out.items())


def _feature_switches(cpu: Any, arch: str, host: frozenset[str] | None) -> list[tuple[str, Any]]:
    """The guest CPU's ``<feature>``s as ``-cpu`` switches.  On x86 each name must be one of
    libvirt's CPU map (libvirt refuses any other when it builds the line, whatever its policy)
    and is written in QEMU's spelling; a feature without policy is required
    (qemuBuildCpuModelArgStr).  'optional' is resolved at start against what the accelerator
    gives (`host`), as libvirt's virCPUUpdate does: on where it has the feature, off where not;
    left off the line where `host` is unknown."""
    x86 = arch in X86_ARCHES
    out: list[tuple[str, Any]] = []
    for f in cpu.features:
        name = f.name or ""
        if x86 and name not in X86_FEATURES:
            raise XMLConfigError(f"unknown CPU feature: {name}", f.line)
        if f.policy == "optional":
            if host is None:
                continue
            on = name in host
        elif f.policy in ("require", "force", None, "disable", "forbid"):
            on = f.policy in ("require", "force", None)
        else:
            continue
        switch = qemu_switch(name, on) if x86 else (name, on)
        if switch is not None:
            out.append(switch)
    return out


def smp_opts(a: Argv, ctx: Ctx) -> None:
    """-smp N[,maxcpus=M],sockets=,[dies=,]cores=,threads=.  N counts the vCPUs QEMU creates
    itself: running hot-pluggable ones of a ``<vcpus>`` list are plugged in before the guest
    starts, as libvirt does (qemuBuildSmpCommandLine)."""
    from pyvirt.xml.vcpus import boot_count

    dom = ctx.domain
    maxv = dom.vcpu or 1
    cur = boot_count(dom)
    pairs: list[tuple[str, Any]] = []
    if cur != maxv:
        pairs.append(("maxcpus", maxv))
    cpu = dom.cpu
    if cpu is not None and cpu.sockets:
        sockets, dies, cores, threads = cpu.sockets, cpu.dies or 1, cpu.cores or 1, cpu.threads or 1
        if sockets * dies * cores * threads != maxv:
            raise unsupported("CPU topology that does not match the vcpu count", cpu.line)
        pairs += [("sockets", sockets), ("dies", dies), ("cores", cores), ("threads", threads)]
    else:
        pairs += [("sockets", maxv), ("cores", 1), ("threads", 1)]
    a.kv("-smp", cur, pairs)


def rtc_opts(a: Argv, ctx: Ctx, env: dict[str, str]) -> None:
    """-rtc from <clock offset=> and the rtc timer; the pit timer's tick policy as a -global."""
    from pyvirt.xml.define_rules_more import check_timers

    check_timers(ctx.domain)
    clock = ctx.domain.clock
    offset = clock.offset if clock else "utc"
    pairs: list[tuple[str, Any]] = []
    if offset in (None, "utc"):
        base = "utc"
        if clock is not None and clock.adjustment not in (None, "0", "reset"):
            base = _rtc_base(int(clock.adjustment))
    elif offset == "localtime":
        base = "localtime"
    elif offset == "timezone":
        base = "localtime"
        env["TZ"] = clock.timezone or ""
    elif offset == "variable":
        # qemuBuildClockArgStr: always the guest's start time (even with no adjustment); a
        # localtime basis counts from the host's local time, so its offset from UTC is added
        adj = int(clock.adjustment or 0)
        if clock.basis == "localtime":
            adj += _time.localtime().tm_gmtoff
        base = _rtc_base(adj)
    elif offset == "absolute":
        base = _dt.datetime.fromtimestamp(clock.start or 0, _dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    else:
        raise unsupported(f"clock offset {offset!r}")
    for timer in (clock.timers if clock else []):
        if timer.name == "rtc":
            if timer.track in ("guest",):
                pairs.append(("clock", "vm"))
            elif timer.track in ("wall", "realtime"):
                pairs.append(("clock", "host" if timer.track == "wall" else "rt"))
            if timer.tickpolicy == "catchup":
                pairs.append(("driftfix", "slew"))
    a.kv("-rtc", None, [("base", base)] + pairs)
    for timer in (clock.timers if clock else []):
        if timer.name == "hpet" and timer.present is False and not machine_hpet(ctx):
            a.opt("-no-hpet")
        elif timer.name == "pit" and timer.tickpolicy in (None, "delay", "discard"):
            # libvirt writes delay for a <timer name='pit'> without tickpolicy too, whether
            # present or not (QEMU's in-kernel PIT would catch up otherwise)
            a.kv("-global", None, [("kvm-pit.lost_tick_policy", timer.tickpolicy or "delay")])
        elif timer.name in ("platform", "tsc") and timer.present is not None:
            raise unsupported(f"<timer name='{timer.name}'>", timer.line)


def _rtc_base(adjust_s: int) -> str:
    now = _dt.datetime.now(_dt.UTC) + _dt.timedelta(seconds=adjust_s)
    return now.strftime("%Y-%m-%dT%H:%M:%S")


def pm_opts(a: Argv, ctx: Ctx) -> None:
    """-no-reboot, -no-acpi and the S3/S4 globals."""
    dom = ctx.domain
    # on_reboot=destroy: libvirt 9.0 no longer passes -no-reboot; the daemon reacts to the
    # RESET event (or sets QMP set-action reboot=shutdown) instead.
    feats = dom.features
    if feats is None or not feats.acpi:
        if ctx.version >= (8, 0, 0):
            return  # acpi=off was already put on -machine (see build_argv)
        a.opt("-no-acpi")
    pm_dev = "ICH9-LPC" if ctx.q35 else "PIIX4_PM"
    for c in dom.devices.controllers:
        if c.type == "pci" and c.model == "pci-root" and c.target_hotplug is not None:
            a.opt("-global", f"PIIX4_PM.acpi-root-pci-hotplug={'on' if c.target_hotplug else 'off'}")
        elif c.type == "pci" and c.model == "pcie-root" and c.target_hotplug is not None:
            raise unsupported("<target hotplug> on pcie-root", c.line)
    pm = dom.pm
    for flag, state in (("disable_s3", pm and pm.suspend_to_mem), ("disable_s4", pm and pm.suspend_to_disk)):
        if state is not None:
            a.opt("-global", f"{pm_dev}.{flag}={0 if state else 1}")


def boot_opts(a: Argv, ctx: Ctx) -> None:
    """-boot menu/splash-time/strict, then -kernel/-initrd/-append/-dtb."""
    os_ = ctx.domain.os
    pairs: list[tuple[str, Any]] = []
    if os_.bootmenu_enable is not None:
        pairs.append(("menu", os_.bootmenu_enable))
        if os_.bootmenu_enable and os_.bootmenu_timeout is not None:
            pairs.append(("splash-time", os_.bootmenu_timeout))
    if os_.bios_reboot_timeout is not None:
        pairs.append(("reboot-timeout", os_.bios_reboot_timeout))
    pairs.append(("strict", True))
    a.kv("-boot", None, pairs)
    if os_.kernel:
        a.opt("-kernel", os_.kernel)
    if os_.initrd:
        a.opt("-initrd", os_.initrd)
    if os_.cmdline:
        a.opt("-append", os_.cmdline)
    if os_.dtb:
        a.opt("-dtb", os_.dtb)
    if os_.acpi_table is not None:  # qemuBuildBootCommandLine: the SLIC table
        a.kv("-acpitable", None, [("sig", "SLIC"), ("file", os_.acpi_table)])


def firmware_opts(a: Argv, ctx: Ctx) -> None:
    """-bios for a ROM loader; pflash blockdevs for UEFI code and NVRAM."""
    os_ = ctx.domain.os
    loader = os_.loader  # <os firmware> was resolved to a loader by argv._with_firmware
    if loader is None or not loader.path:
        return
    if loader.type in _ROM_BIOS_TYPES:
        if os_.nvram is not None:
            raise unsupported("<nvram> with a ROM loader", os_.line)
        a.opt("-bios", loader.path)
        return
    if loader.secure:
        a.opt("-global", "driver=cfi.pflash01,property=secure,value=on")
    _pflash(a, 0, loader.path, read_only=bool(loader.readonly))
    nvram = os_.nvram
    if nvram is not None:
        if nvram.type == "network":
            _pflash(a, 1, None, read_only=False, nvram=nvram, ctx=ctx)
            return
        path = nvram.local_path() or f"{ctx.runtime.nvram_dir}/{ctx.domain.name}_VARS.fd"
        _pflash(a, 1, path, read_only=False, block=nvram.type == "block")


def _pflash(a: Argv, unit: int, path: str | None, *, read_only: bool, block: bool = False, nvram: Any = None,
            ctx: Ctx | None = None) -> None:
    """A flash's protocol + format nodes: a file, a block device, or (an <nvram type='network'>) a
    network image with its credentials, as a disk's (argv_netdisk, argv_disks)."""
    node = f"libvirt-pflash{unit}"
    if nvram is not None and ctx is not None:
        from .argv_disks import auth_secret
        from .argv_netdisk import net_storage

        if nvram.template:
            raise XMLError("NVRAM template is not supported for network-backed NVRAM", nvram.line)
        proto: dict[str, Any] = net_storage(nvram)
        if nvram.source_auth is not None:
            auth_secret(a, ctx, nvram, node, proto)
    else:
        proto = {"driver": "host_device" if block else "file", "filename": path}
    proto.update({"node-name": f"{node}-storage", "auto-read-only": True, "discard": "unmap"})
    a.json("-blockdev", proto)
    a.json("-blockdev", {"node-name": f"{node}-format", "read-only": read_only, "driver": "raw",
                         "file": f"{node}-storage"})


def _smbios_source(ctx: Ctx) -> Any:
    """The ``<sysinfo type='smbios'>`` that ``<smbios mode='sysinfo'>`` points at, or None when the
    guest keeps QEMU's own tables (no <smbios>, or mode='emulate')."""
    os_ = ctx.domain.os
    if os_ is None or os_.smbios_mode in (None, "emulate"):
        return None
    # mode='host' was refused in argv._check_domain: it needs the host's DMI tables.
    for info in ctx.domain.sysinfos:
        if info.type == "smbios":
            return info
    raise XMLError(f"Domain '{ctx.domain.name}' sysinfo are not available")


def smbios_opts(a: Argv, ctx: Ctx) -> None:
    """``-smbios type=0/1/2/3/11`` from <sysinfo> (libvirt's qemuBuildSmbiosCommandLine).

    Field order and the always-written (possibly empty) manufacturer of types 2 and 3 follow
    libvirt; every value goes through :func:`pyvirt.qemu.escape.kv_option`.
    """
    src = _smbios_source(ctx)
    if src is None:
        return
    if src.bios is not None:
        a.kv("-smbios", "type=0", [(n, src.bios.get(n)) for n in ("vendor", "version", "date", "release")])
    system = src.system
    names = ("manufacturer", "product", "version", "serial", "uuid", "sku", "family")
    if system is not None:
        vals = {n: system.get(n) for n in names}
        # libvirt 9.0 skips type=1 when only sku is set (its emptiness test reads "def->sku &&");
        # reproduced so the same XML gives the same tables.
        only_sku = vals["sku"] is not None and all(vals[n] is None for n in names if n != "sku")
        if not only_sku:
            a.kv("-smbios", "type=1", [(n, vals[n]) for n in names])
    if len(src.base_boards) > 1:
        raise XMLConfigError("qemu does not support more than one entry to Type 2 in SMBIOS table", src.line)
    for board in src.base_boards:
        a.kv("-smbios", "type=2", [("manufacturer", board.get("manufacturer") or "")]
             + [(n, board.get(n)) for n in ("product", "version", "serial", "asset", "location")])
    if src.chassis is not None:
        a.kv("-smbios", "type=3", [("manufacturer", src.chassis.get("manufacturer") or "")]
             + [(n, src.chassis.get(n)) for n in ("version", "serial", "asset", "sku")])
    if src.oem_strings is not None:
        a.kv("-smbios", "type=11", [("value", e.value or "") for e in src.oem_strings.entries])


def fw_cfg_opts(a: Argv, ctx: Ctx) -> None:
    """``-fw_cfg name=...,string=|file=`` per ``<sysinfo type='fwcfg'>`` entry
    (qemuBuildSysinfoCommandLine; virSysinfoParseFWCfgDef's and qemu_validate's rules)."""
    for info in ctx.domain.sysinfos:
        if info.type != "fwcfg":
            if info.fw_cfgs:
                raise XMLError(f"<entry> directly in <sysinfo type='{info.type}'> (only 'fwcfg' has them)", info.line)
            continue
        if any((info.bios, info.system, info.base_boards, info.chassis, info.oem_strings)):
            raise XMLError("SMBIOS sections in <sysinfo type='fwcfg'>", info.line)
        for e in info.fw_cfgs:
            if not e.name:
                raise XMLError("Firmware entry is missing 'name' attribute", e.line)
            if not e.name.startswith("opt/"):
                raise XMLError(f"Invalid firmware name '{e.name}' (it must begin with 'opt/')", e.line)
            if e.file and e.value:
                raise XMLError("Firmware entry can't have both value and 'file' attribute", e.line)
            if not e.file and not e.value:
                raise XMLError("Firmware entry must have either value or 'file' attribute", e.line)
            a.kv("-fw_cfg", None, [("name", e.name), ("file", e.file) if e.file else ("string", e.value)])


def genid_opts(a: Argv, ctx: Ctx) -> None:
    """``<genid>`` as QEMU's vmgenid device (qemuBuildVMGenIDCommandLine)."""
    dom = ctx.domain
    if dom.genid is None:
        return
    if not dom.genid.strip():  # fill_defaults gives an empty <genid/> its value, as libvirt's define
        raise XMLError("<genid/> without a value: the definition was not completed (fill_defaults)", dom.line)
    a.device({"driver": "vmgenid", "guid": dom.genid, "id": "vmgenid0"})


def pcihole64_opts(a: Argv, ctx: Ctx) -> None:
    """``-global {i440FX,q35}-pcihost.pci-hole64-size=NK`` (qemuBuildGlobalControllerCommandLine)."""
    for c in ctx.domain.devices.controllers:
        if c.type != "pci" or c.pcihole64 is None:
            continue
        host = {"pci-root": "i440FX-pcihost", "pcie-root": "q35-pcihost"}.get(c.model or "")
        if host is None:
            raise XMLError("64-bit PCI hole setting is only for root PCI controllers", c.line)
        a.opt("-global", f"{host}.pci-hole64-size={c.pcihole64}K")


def iothread_opts(a: Argv, ctx: Ctx) -> None:
    """One ``iothread`` object per <iothreadids> entry (libvirt's qemuBuildIOThreadCommandLine)."""
    for t in ctx.domain.iothread_ids:
        props: dict[str, Any] = {"qom-type": "iothread", "id": f"iothread{t.id}"}
        if t.thread_pool_min is not None:
            props["thread-pool-min"] = t.thread_pool_min
        if t.thread_pool_max is not None:
            props["thread-pool-max"] = t.thread_pool_max
        a.json("-object", props)
    dom = ctx.domain
    if dom.default_iothread_pool_min is not None or dom.default_iothread_pool_max is not None:
        main: dict[str, Any] = {"qom-type": "main-loop", "id": "main-loop"}
        if dom.default_iothread_pool_min is not None:
            main["thread-pool-min"] = dom.default_iothread_pool_min
        if dom.default_iothread_pool_max is not None:
            main["thread-pool-max"] = dom.default_iothread_pool_max
        a.json("-object", main)
