"""Domain tuning and pinning commands: memtune, blkiotune, blkdeviotune, schedinfo, numatune,
domiftune, perf, vcpuinfo, vcpupin, emulatorpin, iothreadadd/del/set/pin, cpu-stats, metadata,
set-lifecycle-action, setvcpu, domblkthreshold.

Each is virsh's command over one spine operation (pyvirt.api, "tuning and pinning"): the option
checks, the typed parameters it builds, its first error lines and its output layout are virsh
9.0's (``%-15s: %s`` for typed parameters), so scripts reading virsh's output read ours.
"""

from __future__ import annotations

from pyvirt.cli.context import CmdError, Ctl, failing
from pyvirt.cli.grammar import BOOL, Parsed
from pyvirt.cli.values import option_int as _int_opt

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

#: libvirt's VIR_DOMAIN_MEMORY_PARAM_UNLIMITED (KiB)
UNLIMITED = 9007199254740991
EXCLUSIVE = "Flags 'VIR_DOMAIN_AFFECT_LIVE' and 'VIR_DOMAIN_AFFECT_CONFIG' are mutually exclusive"
NUMA_MODES = ("strict", "preferred", "interleave", "restrictive")


def _key(info: Any) -> str:
    return info.uuid or info.name


def _scope(p: Parsed) -> tuple[bool, bool]:
    """virsh's VSH_EXCLUSIVE_OPTIONS_VAR(current, live/config): (live, config)."""
    for other in ("live", "config"):
        if p.bool("current") and p.bool(other):
            raise CmdError(f"Options --current and --{other} are mutually exclusive")
    return p.bool("live"), p.bool("config")


def _value(value: Any) -> str:
    """vshGetTypedParamValue."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:f}"
    return str(value)


def _params(ctl: Ctl, params: dict[str, Any]) -> None:
    ctl.print("".join(f"{name:<15}: {_value(value)}\n" for name, value in params.items()))


def _get(ctl: Ctl, count_error: str, get_error: str, live: bool, config: bool, call: Any, *,
         scope_before_count: bool = True) -> dict[str, Any]:
    """virsh's two calls (how many parameters, then their values): both scopes at once fail the
    first one, with its line, where the driver picks the definition before it counts
    (`scope_before_count`; libvirt's numa and interface getters count first, so the second call
    fails); anything else is the second's."""
    if live and config:
        from pyvirt.api import ErrorCode, PyvirtError

        error = PyvirtError(EXCLUSIVE, ErrorCode.INVALID_ARG).message
        raise CmdError(count_error if scope_before_count else get_error, error)
    with failing(get_error):
        return call()


# ------------------------------------------------------------------------------ memtune
def _memtune_size(p: Parsed, name: str) -> int | None:
    """virshMemtuneGetSize: virStrToLong_ll, a negative number is unlimited, else scaled
    (virScaleInteger, KiB by default, up to LLONG_MAX bytes) and rounded up to KiB."""
    from pyvirt.cli.values import c_integer, scale_integer

    raw = p.str(name)
    if raw is None:
        return None
    got = c_integer(raw, "llong")
    if got is None:
        raise CmdError(f"Unable to parse integer parameter {name}")
    value, end = got
    if value < 0:
        return UNLIMITED
    try:
        return (scale_integer(value, raw[end:], 1024, (1 << 63) - 1) + 1023) // 1024
    except ValueError as exc:
        raise CmdError(f"Unable to parse integer parameter {name}", str(exc)) from None


def cmd_memtune(ctl: Ctl, p: Parsed) -> bool:
    live, config = _scope(p)
    info = ctl.domain_arg(p)
    params: dict[str, int] = {}
    for opt in ("hard-limit", "soft-limit", "swap-hard-limit", "min-guarantee"):
        value = _memtune_size(p, opt)
        if value is not None:
            params[opt.replace("-", "_")] = value
    if not params:
        got = _get(ctl, "Unable to get number of memory parameters", "Unable to get memory parameters", live, config,
                   lambda: ctl.conn.memory_parameters(_key(info), live=live, config=config))
        ctl.print("".join(f"{name:<15}: {'unlimited' if value >= UNLIMITED else value}\n"
                          for name, value in got.items()))
        return True
    with failing("Unable to change memory parameters"):
        ctl.conn.set_memory_parameters(_key(info), params, live=live, config=config)
    return True


# ----------------------------------------------------------------------------- blkiotune
_BLKIO_OPTS = (("device-weights", "device_weight"), ("device-read-iops-sec", "device_read_iops_sec"),
               ("device-write-iops-sec", "device_write_iops_sec"),
               ("device-read-bytes-sec", "device_read_bytes_sec"),
               ("device-write-bytes-sec", "device_write_bytes_sec"))


def cmd_blkiotune(ctl: Ctl, p: Parsed) -> bool:
    live, config = _scope(p)
    info = ctl.domain_arg(p)
    params: dict[str, int | str] = {}
    weight = _int_opt(p, "weight")
    if weight is not None:
        if weight <= 0:
            raise CmdError(f"Invalid value of {weight} for I/O weight")
        params["weight"] = weight
    for opt, name in _BLKIO_OPTS:
        if p.str(opt) == "":
            raise CmdError("Unable to parse string parameter")
        if p.str(opt) is not None:
            params[name] = p.str(opt) or ""
    if not params:
        got = _get(ctl, "Unable to get number of blkio parameters", "Unable to get blkio parameters", live, config,
                   lambda: ctl.conn.blkio_parameters(_key(info), live=live, config=config))
        _params(ctl, got)
        return True
    with failing("Unable to change blkio parameters"):
        ctl.conn.set_blkio_parameters(_key(info), params, live=live, config=config)
    return True


# --------------------------------------------------------------------------- blkdeviotune
def cmd_blkdeviotune(ctl: Ctl, p: Parsed) -> bool:
    from pyvirt.cli.values import scaled_bytes

    live, config = _scope(p)
    info = ctl.domain_arg(p)
    disk = p.str("device") or ""
    params: dict[str, int | str] = {}
    # the throttle settings are the command's valued options after <device>, read in table order
    for opt in [o.name for o in p.cmd.opts if o.kind != BOOL and o.name not in ("domain", "device")]:
        if opt == "group-name" and p.values.get(opt) == "":  # virsh adds its own line to the empty-value one
            raise CmdError("Failed to get option 'group-name': Option argument is empty",
                           "Unable to parse group-name parameter")
        name = opt.replace("-", "_")
        try:  # reading the option is part of parsing it: a number past its C type fails here
            raw = p.str(opt)
            if raw is None:
                continue
            if opt == "group-name":
                params[name] = raw
            elif "bytes-sec" in opt and not opt.endswith("length"):
                params[name] = scaled_bytes(raw, opt, 1)
            else:
                params[name] = _int_opt(p, opt, unsigned=True) or 0
        except CmdError as exc:
            raise exc.then("Unable to parse integer parameter") from None
    if not params:
        got = _get(ctl, "Unable to get number of block I/O throttle parameters",
                   "Unable to get block I/O throttle parameters", live, config,
                   lambda: ctl.conn.block_iotune(_key(info), disk, live=live, config=config))
        _params(ctl, got)
        return True
    with failing("Unable to change block I/O throttle"):
        ctl.conn.set_block_iotune(_key(info), disk, params, live=live, config=config)
    return True


# ------------------------------------------------------------------------------ schedinfo
def _sched_updates(p: Parsed, current: dict[str, int]) -> dict[str, int]:
    """cmdSchedInfoUpdate: each --set name=value (and the legacy --weight/--cap) for a parameter
    the driver reported, converted to its type."""
    from pyvirt.cli.values import required

    wanted: list[tuple[str, str]] = []
    for item in p.argv("set"):
        name, sep, value = item.partition("=")
        if not sep:
            raise CmdError("Invalid syntax for --set, expecting name=value")
        wanted.append((name, value))
    for legacy in ("weight", "cap"):  # numbers, but read as strings (vshCommandOptStringReq)
        if p.str(legacy) is not None:
            wanted.append((legacy, required(p.str(legacy), legacy) or ""))
    out: dict[str, int] = {}
    for name, value in wanted:
        if name not in current:
            raise CmdError(f"invalid scheduler option: {name}")
        out[name] = _typed_param(name, value)
    return out


#: the C type of each scheduler parameter (libvirt's VIR_DOMAIN_SCHEDULER_*: the credit
#: scheduler's weight and cap are unsigned ints; the CFS shares and periods unsigned long longs,
#: the quotas long longs), and the words virTypedParamsAddFromString says it expected
_SCHED_TYPES = {"weight": "uint", "cap": "uint", "cpu_shares": "ullong", "quota": "llong", "period": "ullong"}
_TYPE_WORDS = {"int": "int", "uint": "unsigned int", "llong": "long long", "ullong": "unsigned long long"}


def _typed_param(name: str, value: str) -> int:
    """virTypedParamsAddFromString: the whole text as the parameter's C type (virStrToLong_i/ui/
    ll/ull: the unsigned ones wrap a minus sign, as strtoul does)."""
    from pyvirt.cli.values import c_integer

    ctype = _SCHED_TYPES.get(name) or _SCHED_TYPES.get(name.rpartition("_")[2], "ullong")
    got = c_integer(value, ctype + "wrap" if ctype.startswith("u") else ctype)
    if got is None or got[1] != len(value):
        from pyvirt.api import ErrorCode, PyvirtError

        raise CmdError(PyvirtError(f"invalid argument: Invalid value for field '{name}': expected "
                                   f"{_TYPE_WORDS[ctype]}", ErrorCode.INVALID_ARG).message)
    return got[0]


def cmd_schedinfo(ctl: Ctl, p: Parsed) -> bool:
    from pyvirt.api import PyvirtError

    live, config = _scope(p)
    info = ctl.domain_arg(p)
    current = p.bool("current")
    try:
        scheduler, count = ctl.conn.scheduler_type(_key(info))
    except PyvirtError as exc:
        raise CmdError("Failed to get scheduler type", exc.message) from None
    ctl.print(f"{'Scheduler':<15}: {scheduler}\n")
    if not count:
        return True
    both = live and config

    def fetch() -> dict[str, int]:
        try:
            return ctl.conn.scheduler_parameters(_key(info), live=live and not both, config=config and not both,
                                                 current=current or both)
        except PyvirtError as exc:
            raise CmdError(exc.message) from None

    params = fetch()
    updates = _sched_updates(p, params)
    if updates:
        try:
            ctl.conn.set_scheduler_parameters(_key(info), updates, live=live, config=config)
        except PyvirtError as exc:
            raise CmdError(exc.message) from None
        params = fetch()
    elif both:
        raise CmdError("cannot query both live and config at once")
    _params(ctl, params)
    return True


# ------------------------------------------------------------------------------- numatune
def cmd_numatune(ctl: Ctl, p: Parsed) -> bool:
    live, config = _scope(p)
    info = ctl.domain_arg(p)
    params: dict[str, int | str] = {}
    mode = p.str("mode")
    if mode is not None:
        if mode in NUMA_MODES:
            params["numa_mode"] = NUMA_MODES.index(mode)
        else:
            try:
                params["numa_mode"] = int(mode, 0)
            except ValueError:
                raise CmdError(f"Invalid mode: {mode}") from None
    from pyvirt.cli.values import required

    if required(p.str("nodeset"), "nodeset") is not None:
        params["numa_nodeset"] = p.str("nodeset") or ""
    if not params:
        got = _get(ctl, "Unable to get number of memory parameters", "Unable to get numa parameters", live, config,
                   lambda: ctl.conn.numa_parameters(_key(info), live=live, config=config), scope_before_count=False)
        for name, value in got.items():
            if name == "numa_mode" and isinstance(value, int) and 0 <= value < len(NUMA_MODES):
                value = NUMA_MODES[value]
            ctl.print(f"{name:<15}: {_value(value)}\n")
        return True
    with failing("Unable to change numa parameters"):
        ctl.conn.set_numa_parameters(_key(info), params, live=live, config=config)
    return True


# ------------------------------------------------------------------------------ domiftune
def _rate(text: str, direction: str) -> list[int]:
    """virshParseRateStr: average,peak,burst,floor (empty fields are 0), each an unsigned long
    long, then no more than an unsigned int."""
    from pyvirt.cli.values import c_integer

    fields = text.split(",")
    if len(fields) > 4:
        raise CmdError(f"Rate string '{text}' has too many fields")
    out = []
    for name, field in zip(("average", "peak", "burst", "floor"), fields, strict=False):
        if not field:
            out.append(0)
            continue
        got = c_integer(field, "ullong")  # virStrToLong_ullp, the whole field
        if got is None or got[1] != len(field):
            raise CmdError(f"field '{name}' is malformed")
        out.append(got[0])
    if any(v > 0xFFFFFFFF for v in out):
        raise CmdError(f"{direction} rate larger than maximum 4294967295")
    return out + [0] * (4 - len(out))


def cmd_domiftune(ctl: Ctl, p: Parsed) -> bool:
    live, config = _scope(p)
    info = ctl.domain_arg(p)
    device = p.str("interface") or ""
    params: dict[str, int] = {}
    inbound, outbound = p.str("inbound"), p.str("outbound")
    if inbound is not None:
        average, peak, burst, floor = _rate(inbound, "inbound")
        if not average and not floor and (peak or burst):
            raise CmdError("either inbound average or floor is mandatory")
        params["inbound.average"] = average
        for name, value in (("peak", peak), ("burst", burst), ("floor", floor)):
            if value:
                params[f"inbound.{name}"] = value
    if outbound is not None:
        average, peak, burst, floor = _rate(outbound, "outbound")
        if floor:
            raise CmdError("outbound floor is unsupported yet")
        if not average and (peak or burst):
            raise CmdError("outbound average is mandatory")
        params["outbound.average"] = average
        for name, value in (("peak", peak), ("burst", burst)):
            if value:
                params[f"outbound.{name}"] = value
    if not params:
        got = _get(ctl, "Unable to get number of interface parameters", "Unable to get interface parameters", live,
                   config, lambda: ctl.conn.interface_parameters(_key(info), device, live=live, config=config),
                   scope_before_count=False)
        _params(ctl, got)
        return True
    with failing("Unable to set interface parameters"):
        ctl.conn.set_interface_parameters(_key(info), device, params, live=live, config=config)
    return True


# ----------------------------------------------------------------------------------- perf
def cmd_perf(ctl: Ctl, p: Parsed) -> bool:
    live, config = _scope(p)
    info = ctl.domain_arg(p)
    from pyvirt.cli.values import required

    order: list[tuple[str, bool]] = []
    for opt, on in (("enable", True), ("disable", False)):
        required(p.str(opt), opt)
        for name in (p.str(opt) or "").split(",") if p.str(opt) else ():
            order.append((name, on))
    if not order:
        with failing("Unable to get perf events"):
            events = ctl.conn.perf_events(_key(info), live=live, config=config)
        _perf_status(ctl, events)
        return True
    params: dict[str, bool] = {}
    for name, on in order:
        if name in params:
            from pyvirt.api import ErrorCode, PyvirtError

            raise CmdError("Unable to enable/disable perf events",
                           PyvirtError(f"invalid argument: parameter '{name}' occurs multiple times",
                                       ErrorCode.INVALID_ARG).message)
        params[name] = on
    with failing("Unable to enable/disable perf events"):
        ctl.conn.set_perf_events(_key(info), params, live=live, config=config)
    _perf_status(ctl, params)
    return True


def _perf_status(ctl: Ctl, events: dict[str, bool]) -> None:
    ctl.print("".join(f"{name:<15}: {'enabled' if on else 'disabled'}\n" for name, on in events.items()))


# ---------------------------------------------------------------------- vCPUs and pinning
def _host_cpus(ctl: Ctl) -> int:
    """virshNodeGetCPUCount: the host's CPUs as virNodeGetCPUMap counts them."""
    return len(ctl.conn.node_cpu_map())


def _cpumap_text(cpumap: list[bool], maxcpu: int) -> str:
    """virBitmapDataFormat over VIR_CPU_MAPLEN(maxcpu) bytes of the map."""
    from pyvirt.xml.generic_defaults import format_cpuset

    width = (maxcpu + 7) // 8 * 8
    return format_cpuset({n for n, on in enumerate(cpumap[:width]) if on})


#: the bits of the map virsh 9.0 parses a cpulist into (virshParseCPUList: 1023 is read, 1024 is not)
_CPUMASK_LEN = 1024


def _cpulist(text: str, maxcpu: int) -> list[bool]:
    """virshParseCPUList: "r" is every CPU; else libvirt's cpuset syntax within the host."""
    if text.startswith("r"):
        return [True] * maxcpu
    from pyvirt.xml.errors import XMLError
    from pyvirt.xml.validate import parse_cpuset

    try:  # virBitmapParse into _CPUMASK_LEN bits
        cpus = parse_cpuset(text, empty_ok=True, size=_CPUMASK_LEN)
    except XMLError as exc:
        from pyvirt.api import ErrorCode, PyvirtError

        raise CmdError(f"Invalid cpulist '{text}'",
                       PyvirtError(f"invalid argument: {exc.message}", ErrorCode.INVALID_ARG).message) from None
    if not cpus:  # virsh's own check of an empty map
        raise CmdError(f"Invalid cpulist '{text}'")
    last = max(cpus)
    if last >= maxcpu:
        raise CmdError(f"CPU {last} in cpulist '{text}' exceed the maxcpu {maxcpu}")
    return [n in cpus for n in range(maxcpu)]


def _affinity(cpumap: list[bool], maxcpu: int, pretty: bool) -> str:
    if pretty:
        return f"{_cpumap_text(cpumap, maxcpu)} (out of {maxcpu})"
    return "".join("y" if n < len(cpumap) and cpumap[n] else "-" for n in range(maxcpu))


def cmd_vcpuinfo(ctl: Ctl, p: Parsed) -> bool:
    from pyvirt.api import DomainState, PyvirtError

    info = ctl.domain_arg(p)
    dom_info = ctl.conn.get_info(_key(info))
    maxcpu = _host_cpus(ctl)
    pretty = p.bool("pretty")
    try:
        vcpus: list[dict[str, Any]] | None = ctl.conn.vcpu_info(_key(info))[:dom_info.vcpus]  # nrVirtCpu
        numbers = [v.get("number", n) for n, v in enumerate(vcpus or [])]
        maps = [v["affinity"] for v in vcpus or []]
    except PyvirtError as exc:
        if dom_info.state != DomainState.SHUTOFF:
            raise CmdError(exc.message) from None
        vcpus = None
        numbers = _enabled_vcpus(ctl.conn.get_xml(_key(info), inactive=True))
        pins = ctl.conn.vcpu_pin_info(_key(info), config=True)
        maps = [pins[n] for n in numbers]
    blocks = []
    for n, (number, cpumap) in enumerate(zip(numbers, maps, strict=True)):
        lines = [f"{'VCPU:':<15} {number}\n"]
        if vcpus is not None:
            v = vcpus[n]
            lines.append(f"{'CPU:':<15} {v['cpu']}\n")
            lines.append(f"{'State:':<15} {_VCPU_STATES[v['state']] if 0 <= v['state'] < 3 else 'no state'}\n")
            if v["cpu_time"]:
                lines.append(f"{'CPU time:':<15} {v['cpu_time'] / 1e9:.1f}s\n")
        else:
            lines += [f"{'CPU:':<15} N/A\n", f"{'State:':<15} N/A\n", f"{'CPU time':<15} N/A\n"]
        lines.append(f"{'CPU Affinity:':<15} {_affinity(cpumap, maxcpu, pretty)}\n")
        blocks.append("".join(lines))
    ctl.print("\n".join(blocks))
    return True


_VCPU_STATES = ("offline", "running", "blocked")


def _enabled_vcpus(xml: str) -> list[int]:
    """virshDomainGetVcpuBitmap: the vCPUs a definition runs, from its ``<vcpus>`` list, else
    the first ``<vcpu current>`` ones."""
    import xml.etree.ElementTree as ET

    root = ET.fromstring(xml)
    listed = [v for v in root.findall("vcpus/vcpu") if v.get("id", "").isdigit() and v.get("enabled")]
    if listed:
        return sorted(int(v.get("id", "0")) for v in listed if v.get("enabled") == "yes")
    vcpu = root.find("vcpu")
    most = int((vcpu.text or "1").strip()) if vcpu is not None else 1
    return list(range(int(vcpu.get("current", most)) if vcpu is not None else most))


def cmd_vcpupin(ctl: Ctl, p: Parsed) -> bool:
    from pyvirt.cli.fmt import table

    live, config = _scope(p)
    info = ctl.domain_arg(p)
    vcpu = _int_opt(p, "vcpu", unsigned=True)
    maxcpu = _host_cpus(ctl)
    cpulist = p.str("cpulist")
    if cpulist is None:
        if live and config:
            raise CmdError("Options --live and --config are mutually exclusive")
        count_live = live or (not config and info.active)
        ncpus = ctl.conn.vcpu_count(_key(info), live=count_live, config=not count_live, maximum=True)
        if vcpu is not None and vcpu >= ncpus:
            which = "live" if count_live else "persistent"
            from pyvirt.cint import as_c_int

            raise CmdError(f"vcpu {as_c_int(vcpu)} is out of range of {which} cpu count {ncpus}")
        maps = ctl.conn.vcpu_pin_info(_key(info), live=live, config=config)
        rows = [[str(n), _cpumap_text(m, maxcpu)] for n, m in enumerate(maps[:ncpus]) if vcpu is None or n == vcpu]
        ctl.print(table(["VCPU", "CPU Affinity"], rows))
        return True
    if vcpu is None:
        raise CmdError("vcpupin: Missing vCPU number in pin mode.")
    cpumap = _cpulist(cpulist, maxcpu)
    ctl.conn.pin_vcpu(_key(info), vcpu, cpumap, live=live, config=config)
    return True


def cmd_emulatorpin(ctl: Ctl, p: Parsed) -> bool:
    live, config = _scope(p)
    info = ctl.domain_arg(p)
    maxcpu = _host_cpus(ctl)
    cpulist = p.str("cpulist")
    if cpulist is None:
        cpumap = ctl.conn.emulator_pin_info(_key(info), live=live, config=config)
        ctl.extra("emulator: CPU Affinity\n----------------------------------\n       *: ")
        ctl.print(_cpumap_text(cpumap, maxcpu) + "\n")
        return True
    cpumap = _cpulist(cpulist, maxcpu)
    if not (live or config or p.bool("current")):
        live = True  # virsh pins the running guest's emulator unless a scope is named
    ctl.conn.pin_emulator(_key(info), cpumap, live=live, config=config)
    return True


# ------------------------------------------------------------------------------- IOThreads
def _iothread_id(p: Parsed) -> int:
    value = _int_opt(p, "id")
    if value is None or value <= 0:
        raise CmdError(f"Invalid IOThread id value: '{value}'")
    return value


def cmd_iothreadadd(ctl: Ctl, p: Parsed) -> bool:
    live, config = _scope(p)
    info = ctl.domain_arg(p)
    ctl.conn.add_iothread(_key(info), _iothread_id(p), live=live, config=config)
    return True


def cmd_iothreaddel(ctl: Ctl, p: Parsed) -> bool:
    live, config = _scope(p)
    info = ctl.domain_arg(p)
    ctl.conn.del_iothread(_key(info), _iothread_id(p), live=live, config=config)
    return True


def cmd_iothreadpin(ctl: Ctl, p: Parsed) -> bool:
    live, config = _scope(p)
    info = ctl.domain_arg(p)
    iothread = _int_opt(p, "iothread", unsigned=True) or 0
    cpumap = _cpulist(p.str("cpulist") or "", _host_cpus(ctl))
    ctl.conn.pin_iothread(_key(info), iothread, cpumap, live=live, config=config)
    return True


def cmd_iothreadset(ctl: Ctl, p: Parsed) -> bool:
    live, config = _scope(p)
    info = ctl.domain_arg(p)
    iothread = _iothread_id(p)
    params: dict[str, int] = {}
    for opt, unsigned in (("poll-max-ns", True), ("poll-grow", True), ("poll-shrink", True),
                          ("thread-pool-min", False), ("thread-pool-max", False)):
        value = _int_opt(p, opt, unsigned=unsigned)
        if value is not None:
            params[opt.replace("-", "_")] = value
    if not params:
        raise CmdError("Not enough arguments passed, nothing to set")
    ctl.conn.set_iothread_params(_key(info), iothread, params, live=live, config=config)
    return True


# ------------------------------------------------------------------------------- cpu-stats
def cmd_cpu_stats(ctl: Ctl, p: Parsed) -> bool:
    from pyvirt.api import PyvirtError

    info = ctl.domain_arg(p)
    show_total, show_per_cpu = p.bool("total"), False
    start = _int_opt(p, "start")
    if start is not None:
        if start < 0:
            raise CmdError("Invalid value for start CPU")
        show_per_cpu = True
    count = _int_opt(p, "count")
    if count is not None:
        if count < 0:
            raise CmdError("Invalid value for number of CPUs to show")
        show_per_cpu = True
    if not show_total and not show_per_cpu:
        show_total = show_per_cpu = True
    failed = f"Failed to retrieve CPU statistics for domain '{info.name}'"
    try:
        if show_per_cpu:
            every = ctl.conn.cpu_stats(_key(info), start=0, count=1 << 16)
            first = start or 0
            if first >= len(every):
                raise CmdError(f"Start CPU {first} is out of range (min: 0, max: {len(every) - 1})")
            if count is not None and count > len(every) - first:
                ctl.print(f"Only {len(every) - first} CPUs available to show\n")
            shown = every[first:first + (len(every) if count is None else count)]
            for n, stats in enumerate(shown, start=first):
                ctl.print(f"CPU{n}:\n" + "".join(_seconds(k, v) for k, v in stats.items()))
        if show_total:
            (total,) = ctl.conn.cpu_stats(_key(info), start=-1, count=1)
            ctl.print("Total:\n" + "".join(_seconds(k, v) for k, v in total.items()))
    except PyvirtError as exc:
        raise CmdError(failed, exc.message) from None
    return True


def _seconds(name: str, ns: int) -> str:
    return f"\t{name:<12} {ns // 1000000000:9d}.{ns % 1000000000:09d} seconds\n"


# ------------------------------------------------------------------- metadata, lifecycle
def cmd_metadata(ctl: Ctl, p: Parsed) -> bool:
    for a, b in (("edit", "set"), ("remove", "set"), ("remove", "edit")):
        if p.has(a) and p.has(b):
            raise CmdError(f"Options --{a} and --{b} are mutually exclusive")
    live, config = _scope(p)
    info = ctl.domain_arg(p)
    from pyvirt.cli.values import required

    uri, key, value = p.str("uri") or "", p.str("key"), required(p.str("set"), "set")
    if (value is not None or p.bool("edit")) and not key:
        raise CmdError("namespace key is required when modifying metadata")
    if p.bool("edit"):
        return _edit_metadata(ctl, _key(info), uri, key or "", live, config)
    if value is not None or p.bool("remove"):
        ctl.conn.set_metadata(_key(info), "element", value, live=live, config=config, key=key, uri=uri)
        ctl.extra("Metadata removed\n" if p.bool("remove") else "Metadata modified\n")
        return True
    ctl.print(ctl.conn.get_metadata(_key(info), "element", uri, live=live, config=config) + "\n")
    return True


def _edit_metadata(ctl: Ctl, dom: str, uri: str, key: str, live: bool, config: bool) -> bool:
    """virsh's metadata --edit: the element (or an empty line where there is none,
    virshDomainGetEditMetadata) in $EDITOR, set back with the key given when changed."""
    from pyvirt.api import PyvirtError
    from pyvirt.cli.cmd_edit import edit_loop

    try:
        current = ctl.conn.get_metadata(dom, "element", uri, live=live, config=config)
    except PyvirtError:
        current = "\n"

    def define(xml: str, _validate: bool) -> str:
        ctl.conn.set_metadata(dom, "element", xml, live=live, config=config, key=key, uri=uri)
        return dom

    return edit_loop(ctl, current, dom, "", define, tmp_prefix="virsh", unchanged_message="Metadata not changed",
                     done_message=lambda _: "Metadata modified\n")


_LIFECYCLE_TYPES = ("poweroff", "reboot", "crash")
_LIFECYCLE_ACTIONS = ("destroy", "restart", "rename-restart", "preserve", "coredump-destroy", "coredump-restart")


def cmd_set_lifecycle_action(ctl: Ctl, p: Parsed) -> bool:
    live, config = _scope(p)
    info = ctl.domain_arg(p)
    kind, action = p.str("type") or "", p.str("action") or ""
    if kind not in _LIFECYCLE_TYPES:
        raise CmdError(f"Invalid lifecycle type '{kind}'.")
    if action not in _LIFECYCLE_ACTIONS:
        raise CmdError(f"Invalid lifecycle action '{action}'.")
    with failing("Unable to change lifecycle action."):
        ctl.conn.set_lifecycle_action(_key(info), kind, action, live=live, config=config)
    return True


# ------------------------------------------------------------------- setvcpu, thresholds
def cmd_setvcpu(ctl: Ctl, p: Parsed) -> bool:
    """virsh checks its options and reads the list before it looks the domain up."""
    enable, disable = p.bool("enable"), p.bool("disable")
    if enable and disable:
        raise CmdError("Options --enable and --disable are mutually exclusive")
    live, config = _scope(p)
    if not enable and not disable:
        raise CmdError("one of --enable, --disable is required")
    vcpulist = p.str("vcpulist") or ""
    info = ctl.domain_arg(p)
    ctl.conn.set_vcpu(_key(info), vcpulist, enable, live=live, config=config)
    return True


def cmd_domblkthreshold(ctl: Ctl, p: Parsed) -> bool:
    from pyvirt.cli.values import scaled_bytes

    info = ctl.domain_arg(p)
    threshold = scaled_bytes(p.str("threshold") or "", "threshold", 1)
    ctl.conn.set_block_threshold(_key(info), p.str("dev") or "", threshold)
    return True


def cmd_update_memory_device(ctl: Ctl, p: Parsed) -> bool:
    """virsh's own selection of a <memory> device in the domain XML (by --alias or --node, else
    the only one), its <requested> size set, then virDomainUpdateDeviceFlags with that device."""
    from lxml import etree

    from pyvirt.cli.values import required, scaled_bytes
    from pyvirt.xml.safe import safe_parse

    live, config = _scope(p)
    info = ctl.domain_arg(p)
    alias = required(p.str("alias"), "alias")
    node = _int_opt(p, "node", unsigned=True)  # vshCommandOptUInt
    size = p.str("requested-size")
    root = safe_parse(ctl.conn.get_xml(_key(info), inactive=config))
    mems = root.findall("devices/memory")
    if alias is not None:
        mems = [m for m in mems if m.find("alias") is not None and m.find("alias").get("name") == alias]
    elif node is not None:
        mems = [m for m in mems if (m.findtext("target/node") or "").strip() == str(node)]
    if not mems:
        raise CmdError("no memory device found")
    if len(mems) > 1:
        raise CmdError("multiple memory devices found, use --alias or --node to select one")
    mem = mems[0]
    if size is not None:  # read once the device is chosen, as virsh reads it
        kib = scaled_bytes(size, "requested-size") // 1024
        requested = mem.find("target/requested")
        if requested is None:
            raise CmdError("virtio-mem device is missing <requested/>")
        requested.text = str(kib)
        requested.set("unit", "KiB")
    mem.tail = None
    xml = etree.tostring(mem, encoding="unicode")
    if p.bool("print-xml"):
        ctl.print(xml)  # virsh's line end after the command ends it
        return True
    ctl.conn.update_device(_key(info), xml, live=live, config=config)
    return True
