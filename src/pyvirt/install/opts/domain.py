"""Domain-level options: --memory, --vcpus, --cpu, --boot, --features, --clock, --events,
--metadata, --sysinfo, --seclabel, --launchSecurity."""

from __future__ import annotations

import logging
import re
import shlex

from pyvirt.install import modelopt
from pyvirt.install.guest import Guest
from pyvirt.install.modelopt import set_value
from pyvirt.install.subopts import Spec, SubOptError, check_unknown, parse, split_tuples, yesno
from pyvirt.xml.domain import (
    CPU,
    OS,
    Clock,
    CPUFeature,
    DomainSeclabel,
    Features,
    LaunchSecurity,
    QemuArg,
    QemuEnv,
    Sysinfo,
    SysinfoEntry,
    SysinfoSection,
    Timer,
)
from pyvirt.xml.fields import BARE_STATE, NAMESPACES, Verbatim

log = logging.getLogger(__name__)

MEMORY = Spec("--memory", keys=["memory", "currentMemory", "maxmemory", "maxMemory",
                                "maxMemory.slots", "hotplugmemorymax", "hotplugmemoryslots", "hugepages"],
              positional=("memory",))
VCPUS = Spec("--vcpus", keys=["vcpu", "vcpus", "maxvcpus", "vcpu.current", "sockets", "dies",
                              "cores", "threads", "cpuset", "vcpu.cpuset", "placement",
                              "vcpu.placement"],
             positional=("vcpu",), comma=("cpuset", "vcpu.cpuset"))
CPU_SPEC = Spec("--cpu", keys=["model", "mode", "match", "check", "migratable", "secure",
                          r"(force|require|optional|disable|forbid)"],
           positional=("model",))
BOOT = Spec("--boot", keys=["menu", "bootmenu", "bootmenu.enable", "kernel", "initrd", "dtb",
                            "kernel_args", "extra_args", "cmdline", "loader", "loader_ro",
                            "loader.readonly", "loader_type", "loader.type", "loader_secure",
                            "loader.secure", "firmware", "uefi", "arch", "machine",
                            "smbios_mode", "smbios.mode", r"boot[0-9]*\.dev", "hd", "cdrom",
                            "fd", "network", "domain_type", "emulator", "bootloader", "bootloader_args",
                            "initargs"],
            comma=("kernel_args", "extra_args", "cmdline"),
            bare=("hd", "cdrom", "fd", "network", "uefi"))
FEATURES = Spec("--features")  # every name is an optmap row
# The timer shorthands virt-install knows; other NAME_tickpolicy keys are refused as unknown.
CLOCK = Spec("--clock", keys=["offset", r"timer[0-9]*\.(name|present|tickpolicy|track|frequency|mode)",
                              r"timer[0-9]*\.catchup\.(threshold|slew|limit)",
                              r"(pit|rtc)_tickpolicy",
                              r"(platform|pit|rtc|hpet|tsc|kvmclock|hypervclock)_present"],
             positional=("offset",))
_CLOCK_ORDER = ["offset", "pit_tickpolicy", "rtc_tickpolicy", "platform_present", "pit_present",
                "rtc_present", "hpet_present", "tsc_present", "kvmclock_present",
                "hypervclock_present"]
# Accepted and dropped: they never had any effect in libvirt (virt-install does the same).
_NOOP_TICKPOLICY = ("platform_tickpolicy", "hpet_tickpolicy", "tsc_tickpolicy",
                    "kvmclock_tickpolicy", "hypervclock_tickpolicy")
EVENTS = Spec("--events", keys=["on_poweroff", "on_reboot", "on_crash", "on_lockfailure"])
METADATA = Spec("--metadata", keys=["name", "uuid", "title", "description", "genid",
                                    "genid_enable", "os_name", "os_full_id"],
                comma=("name", "title", "description"))
SYSINFO = Spec("--sysinfo", keys=["type", "system.uuid", r"(bios|system|baseBoard|chassis)[._].*"],
               positional=("type",), comma=("type",))
SECLABEL = Spec("--seclabel", keys=["type", "model", "relabel", "label", "baselabel",
                                    "imagelabel"], comma=("label",))
LAUNCHSEC = Spec("--launchSecurity", keys=["type", "policy"], positional=("type",))


def _int(value: str | None, what: str) -> int:
    """An integer as virt-install's --memory/--vcpus callbacks convert it (Python's int(),
    base 10), refused with Python's words as virt-install shows them (`what` only names
    the caller's field)."""
    del what
    text = value or ""
    try:
        return int(text)
    except ValueError as exc:
        raise SubOptError(f"invalid literal for int() with base 10: '{text}'") from exc


def apply_memory(g: Guest, optstr: str) -> None:
    o = parse(MEMORY, optstr)
    check_unknown(MEMORY, o)
    mem = o.get("memory") or o.get("currentMemory")
    with modelopt.domain_part(g, "memory", "currentMemory", "maxMemory") as dom:
        if "memory" in o and "currentMemory" in o:
            set_value(dom, "memory", _int(o["memory"], "memory") * 1024)
            set_value(dom, "currentMemory", _int(o["currentMemory"], "currentMemory") * 1024)
        elif mem is not None:
            set_value(dom, "currentMemory", _int(mem, "--memory") * 1024)
            g.flags.extra["memory_only_current"] = True
        if o.get("maxmemory"):
            set_value(dom, "memory", _int(o["maxmemory"], "maxmemory") * 1024)
        mm = o.get("maxMemory") or o.get("hotplugmemorymax")
        if mm:
            set_value(dom, "maxMemory", _int(mm, "maxMemory") * 1024)
        slots = o.get("maxMemory.slots") or o.get("hotplugmemoryslots")
        if slots:  # its own property in virtinst: written with or without a size
            set_value(dom, "maxMemory/@slots", slots)
    if "hugepages" in o:  # virt-install's alias of --memorybacking hugepages=
        modelopt.apply_rows("--memorybacking", g, {"hugepages": o["hugepages"] or "on"})


def apply_vcpus(g: Guest, optstr: str) -> None:
    o = parse(VCPUS, optstr)
    check_unknown(VCPUS, o)
    if "vcpus" in o:  # ParserVCPU's advertised alias, turned into vcpu before anything else
        o["vcpu"] = o.pop("vcpus")
    count = o.get("maxvcpus") or o.get("vcpu")
    topo = {k: o[k] for k in ("sockets", "dies", "cores", "threads") if o.get(k)}
    with modelopt.domain_part(g, "vcpu", *(("cpu",) if topo else ())) as dom:
        if count:
            set_value(dom, "vcpu", _int(count, "--vcpus"))
            cur = o.get("vcpu.current") or (o.get("vcpu") if o.get("maxvcpus") else None)
            if cur and cur != count:
                set_value(dom, "vcpu/@current", cur)
        cpuset = o.get("cpuset") or o.get("vcpu.cpuset")
        placement = o.get("placement") or o.get("vcpu.placement")
        if cpuset == "auto":
            if dom.vcpu is None:
                set_value(dom, "vcpu", 1)
            set_value(dom, "vcpu/@placement", "auto")
        elif cpuset or placement:
            if dom.vcpu is None:  # a count the install defaults fill in
                set_value(dom, "vcpu", 0)
                g.flags.extra["vcpu_placeholder"] = True
            if cpuset:
                set_value(dom, "vcpu/@cpuset", cpuset)
        if placement:
            set_value(dom, "vcpu/@placement", placement)
        if topo:
            dom.cpu = dom.cpu or CPU()
            for k, v in topo.items():
                set_value(dom.cpu, f"topology/@{k}", _int(v, k))


def apply_cpu(g: Guest, optstr: str) -> None:
    o = parse(CPU_SPEC, optstr)
    # virtinst's _convert_old_feature_options: every POLICY=NAME given counts (forbid=a,
    # forbid=b forbids both), each by its own word; +feat forces a feature, -feat disables it
    policies = ("force", "require", "optional", "disable", "forbid")
    features: dict[str, list[str]] = {}
    for key, val in split_tuples(optstr):
        if key in policies:
            features.setdefault(key, []).append(val or "")
    for key in [k for k in o if k[:1] in "+-" and len(k) > 1 and o[k] is None]:
        del o[key]
        features.setdefault("force" if key[0] == "+" else "disable", []).append(key[1:])
    for pol in policies:
        if pol in features:
            o[pol] = ",".join(features[pol])
    check_unknown(CPU_SPEC, o)
    model = o.get("model")
    if model == "none":
        g.flags.cpu_default = "none"
        return
    with modelopt.domain_part(g, "cpu") as dom:
        cpu = dom.cpu = dom.cpu or CPU()
        secure = yesno(o["secure"], "secure") if o.get("secure") else True
        if model in ("host-passthrough", "host-model", "maximum", "host"):
            set_value(cpu, "@mode", "host-model" if model == "host" else model)
        elif model in ("host-copy", "host-model-only"):
            if model == "host-copy":
                log.warning("CPU mode=host-copy no longer supported, using mode=host-model-only")
            # virt-install copies the host's CPU model name out of the capabilities (and
            # leaves the CPU alone when the host reports none).
            if g.ci.caps.host_cpu_model:
                _set_cpu_model(g, cpu, g.ci.caps.host_cpu_model, secure)
        elif model:
            _set_cpu_model(g, cpu, model, secure)
        for k in ("mode", "match", "check"):
            if o.get(k):
                set_value(cpu, "@" + k, o[k])
        if o.get("migratable"):
            set_value(cpu, "@migratable", "on" if yesno(o["migratable"], "migratable") else "off")
        for pol in policies:
            cpu.features.extend(CPUFeature(policy=pol, name=Verbatim(name))
                                for name in (o.get(pol) or "").split(",") if name)


def _set_cpu_model(g: Guest, cpu: CPU, model: str, secure: bool) -> None:
    """A named CPU model, as virt-install's DomainCpu.set_model writes it.

    Unless secure=off, virt-install adds the host-model CPU's speculative-execution
    mitigations (from domcaps) as required features, so a guest with a fixed model is not
    left without flags the host offers; secure=off adds none.
    """
    set_value(cpu, "@mode", "custom")
    if not cpu.match:
        set_value(cpu, "@match", "exact")
    set_value(cpu, "model", model)
    if not secure:
        return
    have = {f.name for f in cpu.features}
    cpu.features.extend(CPUFeature(policy="require", name=name)
                        for name in g.ci.domcaps.cpu_security_features if name not in have)


def apply_boot(g: Guest, optstr: str) -> None:
    o = parse(BOOT, optstr)
    check_unknown(BOOT, o)
    devs = [k for k, v in o.items() if v is None and k in ("hd", "cdrom", "fd", "network")]
    if devs:
        g.add_boot(devs)
    # bootN.dev by N (an unnumbered boot.dev is boot0), not by where they were written
    numbered = [(int(m.group(1) or 0), v) for k, v in o.items()
                if v and (m := re.fullmatch(r"boot(\d*)\.dev", k))]
    # guest-level settings virt-install takes through --boot (set_*_cb of its ParserBoot)
    if o.get("domain_type"):
        g.set_type(o["domain_type"])
    if o.get("emulator"):
        g.set_emulator(o["emulator"])
    for key in ("bootloader", "bootloader_args"):
        if o.get(key):
            g.set_text(key, o[key])
    if "uefi" in o:
        if g.flags.editing:  # virtinst's set_uefi_cb: an edit enables it right away
            from pyvirt.install.defaults import enable_uefi
            try:
                enable_uefi(g)
            except RuntimeError as exc:
                raise SubOptError(str(exc)) from exc
        else:
            g.flags.uefi_requested = True
    with modelopt.domain_part(g, "os") as dom:
        dom.os = dom.os or OS()
        dom.os.boot_devs.extend(Verbatim(v) for _n, v in sorted(numbered, key=lambda item: item[0]))
        _boot_os(dom.os, o)
    if o.get("arch"):
        g.set_os_type(arch=o["arch"])
    if o.get("machine"):
        g.set_os_type(machine=o["machine"])


#: --boot's keys for <loader>'s attributes (virt-install's old names and its new ones)
_LOADER_ATTRS = {"loader_ro": "readonly", "loader.readonly": "readonly", "loader_type": "type",
                 "loader.type": "type", "loader_secure": "secure", "loader.secure": "secure"}


def _boot_os(os_: OS, o: dict[str, str | None]) -> None:
    """--boot's <os> settings (but the boot order and the guest's type) set on `os_`."""
    menu_key = next((k for k in ("menu", "bootmenu", "bootmenu.enable") if o.get(k)), None)
    if menu_key:
        set_value(os_, "bootmenu/@enable", "yes" if yesno(o[menu_key], menu_key) else "no")
    for key in ("kernel", "initrd", "dtb"):
        if o.get(key):
            set_value(os_, key, o[key])
    # kernel_args, extra_args and cmdline are one property in virt-install: the last wins
    args = next((v for k, v in reversed(o.items()) if k in ("kernel_args", "extra_args", "cmdline")),
                None)
    if args:
        set_value(os_, "cmdline", args)
    if o.get("loader"):
        set_value(os_, "loader", o["loader"])
    for key, attr in _LOADER_ATTRS.items():
        if o.get(key):
            val = o[key] or ""
            if attr in ("readonly", "secure"):
                val = "yes" if yesno(val, key) else "no"
            set_value(os_, "loader/@" + attr, val)
    if o.get("initargs"):
        # virtinst's set_initargs_string: one <initarg> per shell word, replacing any
        os_.init_args[:] = [Verbatim(word) for word in shlex.split(o["initargs"])]
    if o.get("firmware"):
        set_value(os_, "@firmware", o["firmware"])
    smb = o.get("smbios_mode") or o.get("smbios.mode")
    if smb:
        set_value(os_, "smbios/@mode", smb)


def apply_features(g: Guest, optstr: str) -> None:
    """``acpi=off``/``apic=off``/``pae=off`` also stop the defaults from adding them back;
    everything else is a plain location (optmap, written by opts.generic)."""
    o = parse(FEATURES, optstr)
    check_unknown(FEATURES, o)
    with modelopt.domain_part(g, "features") as dom:
        dom.features = dom.features or Features()
    off = g.flags.extra.setdefault("features_off", set())
    for k in ("acpi", "apic", "pae"):
        if k in o and o[k] is not None and not yesno(o[k], k):
            off.add(k)


_TIMER_ATTRS = ["name", "present", "tickpolicy", "track", "mode", "frequency",
                "catchup.threshold", "catchup.slew", "catchup.limit"]


def _clock_rank(key: str) -> tuple[int, int]:
    """virtinst's registration order: the NAME_attr shorthands, offset, then timerN.*
    attribute by attribute (keys of one attribute keep the command line's order)."""
    if key in _CLOCK_ORDER:
        return (0, _CLOCK_ORDER.index(key))
    if key.startswith("timer") and "." in key:
        attr = key.split(".", 1)[1]
        return (1, _TIMER_ATTRS.index(attr) if attr in _TIMER_ATTRS else len(_TIMER_ATTRS))
    return (2, 0)


def apply_clock(g: Guest, optstr: str) -> None:
    """--clock: one list of timers, as virtinst's clock.timers: a NAME_attr shorthand sets
    the first timer of that name (appending one when there is none), ``timerN.attr`` the
    Nth timer of the list (appending empty ones up to it, which stay unwritten unless
    something is set on them), whichever made it."""
    o = parse(CLOCK, optstr)
    set_clock(g, o)


def set_clock(g: Guest, o: dict[str, str | None]) -> None:
    """Set parsed --clock sub-options on `g`'s <clock>, finding the timers it already has
    (virt-xml --edit: ``timer0.*`` is the domain's first timer, changed in place)."""
    for key in _NOOP_TICKPOLICY:
        o.pop(key, None)
    check_unknown(CLOCK, o)
    with modelopt.domain_part(g, "clock") as dom:
        clock = dom.clock = dom.clock or Clock()
        if o.get("offset"):
            set_value(clock, "@offset", o["offset"])
        timers = clock.timers
        for k, v in sorted(o.items(), key=lambda kv: _clock_rank(kv[0])):
            if k.startswith("timer") and "." in k:
                idx, attr = k[5:].split(".", 1)
                while len(timers) <= int(idx or 0):
                    timers.append(Timer())
                t = timers[int(idx or 0)]
            elif "_" in k:
                name, attr = k.rsplit("_", 1)
                t = next((x for x in timers if x.name == name), None)
                if t is None:
                    t = Timer(name=Verbatim(name))
                    timers.append(t)
            else:
                continue
            val = v or ""
            if attr == "present":
                val = "yes" if yesno(val, attr) else "no"
            set_value(t, attr.replace("catchup.", "catchup/@") if "." in attr else "@" + attr, val)
        # the list's placeholders up to a timerN nothing was set on: virtinst writes none
        timers[:] = [t for t in timers if t != Timer()]


def apply_events(g: Guest, optstr: str) -> None:
    o = parse(EVENTS, optstr)
    check_unknown(EVENTS, o)
    with modelopt.domain_part(g, *o) as dom:
        for k, v in o.items():
            set_value(dom, k, v)


def apply_metadata(g: Guest, optstr: str) -> None:
    """--metadata: name, uuid, title, description, genid (``genid_enable=yes`` asks libvirt
    to generate one) and the libosinfo OS (os_name / os_full_id)."""
    o = parse(METADATA, optstr)
    check_unknown(METADATA, o)
    with modelopt.domain_part(g, "name", "uuid", "genid", "title", "description") as dom:
        for k in ("name", "uuid", "genid", "title", "description"):
            if o.get(k):
                set_value(dom, k, o[k])
        if o.get("genid_enable") is not None:
            if yesno(o["genid_enable"], "genid_enable"):
                dom.genid = dom.genid or BARE_STATE  # an empty <genid/>: libvirt makes one up
            elif not dom.genid:
                dom.genid = None
    if o.get("os_name"):
        g.set_os_name(o["os_name"])
    if o.get("os_full_id"):
        from pyvirt.install import osinfo as osdb
        found = osdb.lookup_id(o["os_full_id"])
        if found is None:
            raise SubOptError(f"Unknown libosinfo ID '{o['os_full_id']}'")
        g.set_os_name(found.name)
    if o.get("os_name") or o.get("os_full_id"):
        # virtinst's Guest.set_os_name writes <libosinfo:os id=> at once (virt-xml's edit
        # of an existing guest has no install step that would write it later).
        g.set_metadata_osinfo()


_SYSINFO_FIELDS = {
    "bios": ("vendor", "version", "date", "release"),
    "system": ("manufacturer", "product", "version", "serial", "uuid", "sku", "family"),
    "baseBoard": ("manufacturer", "product", "version", "serial", "asset", "location"),
    "chassis": ("manufacturer", "version", "serial", "asset", "sku")}


def apply_sysinfo(g: Guest, optstr: str) -> None:
    """--sysinfo host|emulate sets <os><smbios mode>; anything else is an SMBIOS table
    (type smbios by default, also <smbios mode="sysinfo">) merged into an earlier
    --sysinfo of the same type; ``system.uuid`` also becomes the guest's UUID."""
    o = parse(SYSINFO, optstr)
    check_unknown(SYSINFO, o)
    typ = o.get("type") or "smbios"
    if typ in ("host", "emulate", "smbios"):
        with modelopt.domain_part(g, "os") as dom:
            dom.os = dom.os or OS()
            set_value(dom.os, "smbios/@mode", "sysinfo" if typ == "smbios" else typ)
        if typ != "smbios":
            return
    el = next((e for e in g.root.findall("sysinfo") if e.get("type") == typ), None)
    si = modelopt.read(el, Sysinfo) if el is not None else Sysinfo(type=typ)
    for section, fields in _SYSINFO_FIELDS.items():
        for field in fields:
            val = o.get(f"{section}.{field}") or o.get(f"{section}_{field}")
            if val is None:
                continue
            set_smbios_entry(si, section, field, val)
            if section == "system" and field == "uuid":
                modelopt.set_domain_value(g, "uuid", val)
    if el is None:
        modelopt.add(g, "--sysinfo", si)
    else:
        modelopt.built(g, "--sysinfo", modelopt.write(el, si))


def set_smbios_entry(si: Sysinfo, section: str, name: str, value: str) -> None:
    """Entry `name` of an SMBIOS table's `section` set to `value` (added after the section's
    others when it has none)."""
    if section == "baseBoard":
        if not si.base_boards:
            si.base_boards.append(SysinfoSection())
        sec = si.base_boards[0]
    else:
        attr = {"bios": "bios", "system": "system", "chassis": "chassis"}[section]
        sec = getattr(si, attr) or SysinfoSection()
        setattr(si, attr, sec)
    entry = next((e for e in sec.entries if e.name == name), None)
    if entry is None:
        entry = SysinfoEntry(name=name)
        sec.entries.append(entry)
    entry.value = value


def _guess_secmodel(secmodels: list[str], label: str | None) -> str | None:
    """The security driver a --seclabel without model= means: the host's first one, or
    for a label the driver its syntax belongs to (user:role:type[:level] is SELinux,
    uid:gid is DAC); the test driver's model wins whenever the host offers it."""
    if "testSecurity" in secmodels:
        return "testSecurity"
    if not label:
        return secmodels[0] if secmodels else None
    parts = min(3, len(label.split(":")))
    return {3: "selinux", 2: "dac"}.get(parts)


def apply_seclabel(g: Guest, optstr: str) -> None:
    o = parse(SECLABEL, optstr)
    check_unknown(SECLABEL, o)
    typ, model = o.get("type"), o.get("model")
    if typ or model:
        # virt-install's SecLabel.set_defaults: once either is given it fills in the other
        # (an empty pair is left for libvirt to choose).
        typ = typ or "dynamic"
        model = model or _guess_secmodel(g.ci.caps.secmodels, o.get("label"))
    relabel = yesno(o["relabel"], "relabel") if o.get("relabel") else None
    modelopt.add(g, "--seclabel", DomainSeclabel(
        type=typ, model=model, relabel=relabel, label=o.get("label") or None,
        imagelabel=o.get("imagelabel") or None, baselabel=o.get("baselabel") or None))


def apply_launchsec(g: Guest, optstr: str) -> None:
    o = parse(LAUNCHSEC, optstr)
    check_unknown(LAUNCHSEC, o)
    with modelopt.domain_part(g, "launchSecurity") as dom:
        ls = dom.launch_security = dom.launch_security or LaunchSecurity()
        ls.type = o.get("type") or ls.type
        # virtinst's default: 0x03 (SEV), 0x07 where the host can run SEV-ES guests
        ls.policy = o.get("policy") or ("0x07" if g.ci.domcaps.sev_es else "0x03")


QEMUCLI = Spec("--qemu-commandline", keys=["args", "env"], comma=("args", "env"))


def apply_qemu_commandline(g: Guest, optstr: str) -> None:
    """--qemu-commandline ARGS | args=ARGS | env=NAME=VALUE: <qemu:commandline> entries
    (ARGS split as a shell would)."""
    if optstr.startswith("env="):
        kind, value = "env", optstr.split("=", 1)[1]
    else:
        kind, value = "args", optstr.split("=", 1)[1] if optstr.startswith("args=") else optstr
    tags = {f"{{{NAMESPACES['qemu']}}}commandline"}
    dom = modelopt.read_part(g.root, tags)
    if kind == "args":
        try:
            words = shlex.split(value)
        except ValueError as exc:
            raise SubOptError(str(exc)) from exc
        # the model writes the args before the envs, as virtinst's DomainXMLNamespace keeps them
        dom.qemu_args.extend(QemuArg(value=word) for word in words)
    else:
        name, sep, val = value.partition("=")
        if not sep:
            raise SubOptError("not enough values to unpack (expected 2, got 1)")
        dom.qemu_envs.append(QemuEnv(name=name, value=val))
    modelopt.write_part(g.root, dom, tags)


SPECS = {s.flag: s for s in (QEMUCLI, MEMORY, VCPUS, CPU_SPEC, BOOT, FEATURES, CLOCK, EVENTS, METADATA,
                             SYSINFO, SECLABEL, LAUNCHSEC)}
APPLY = {"--memory": apply_memory, "--vcpus": apply_vcpus, "--cpu": apply_cpu,
         "--boot": apply_boot, "--features": apply_features, "--clock": apply_clock,
         "--events": apply_events, "--metadata": apply_metadata, "--sysinfo": apply_sysinfo,
         "--seclabel": apply_seclabel, "--launchSecurity": apply_launchsec,
         "--qemu-commandline": apply_qemu_commandline}
