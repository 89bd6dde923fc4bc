"""org.libvirt.Domain's tuning and pinning members, rows of the one member table (members.METHODS).

Each is one spine operation (pyvirt.api, "tuning and pinning").  libvirt's typed parameters
travel as a{sv} with each parameter's own declared type (`TYPES`, libvirt's
VIR_DOMAIN_MEMORY_* / VIR_DOMAIN_BLKIO_* / VIR_DOMAIN_BLOCK_IOTUNE_* / VIR_DOMAIN_SCHEDULER_* /
VIR_DOMAIN_NUMA_* / VIR_DOMAIN_BANDWIDTH_* / VIR_PERF_PARAM_* field types); a Set member checks
the names and types it gets as virTypedParamsValidate does (members.typed_args).  cpumaps are
one boolean per host CPU, as many as virNodeGetCPUMap counts (libvirt-dbus's length).
"""

from __future__ import annotations

from typing import Any

from pyvirt.dbus.members import AFFECT, Ctx, Row, _typed, call, custom, typed_args

_IOTUNE_INTS = ("total_bytes_sec", "read_bytes_sec", "write_bytes_sec", "total_iops_sec", "read_iops_sec",
                "write_iops_sec", "total_bytes_sec_max", "read_bytes_sec_max", "write_bytes_sec_max",
                "total_iops_sec_max", "read_iops_sec_max", "write_iops_sec_max", "size_iops_sec",
                "total_bytes_sec_max_length", "read_bytes_sec_max_length", "write_bytes_sec_max_length",
                "total_iops_sec_max_length", "read_iops_sec_max_length", "write_iops_sec_max_length")
_PERF = ("cmt", "mbmt", "mbml", "cpu_cycles", "instructions", "cache_references", "cache_misses",
         "branch_instructions", "branch_misses", "bus_cycles", "stalled_cycles_frontend", "stalled_cycles_backend",
         "ref_cpu_cycles", "cpu_clock", "task_clock", "page_faults", "context_switches", "cpu_migrations",
         "page_faults_min", "page_faults_maj", "alignment_faults", "emulation_faults")

MEMORY = {"hard_limit": "t", "soft_limit": "t", "swap_hard_limit": "t"}
BLKIO = {"weight": "u", "device_weight": "s", "device_read_iops_sec": "s", "device_write_iops_sec": "s",
         "device_read_bytes_sec": "s", "device_write_bytes_sec": "s"}
IOTUNE = {**dict.fromkeys(_IOTUNE_INTS, "t"), "group_name": "s"}
SCHEDULER = {"weight": "u", "cap": "u", "cpu_shares": "t", "global_period": "t", "global_quota": "x",
             "vcpu_period": "t", "vcpu_quota": "x", "emulator_period": "t", "emulator_quota": "x",
             "iothread_period": "t", "iothread_quota": "x"}
NUMA = {"numa_mode": "i", "numa_nodeset": "s"}
BANDWIDTH = dict.fromkeys(("inbound.average", "inbound.peak", "inbound.burst", "inbound.floor", "outbound.average",
                           "outbound.peak", "outbound.burst"), "u")
PERF = dict.fromkeys(_PERF, "b")
IOTHREAD = {"poll_max_ns": "t", "poll_grow": "u", "poll_shrink": "u", "thread_pool_min": "i",
            "thread_pool_max": "i"}


def _out(types: dict[str, str]) -> Any:
    """A typed-parameter result as a{sv}, each with its declared type."""
    return lambda ctx, params: _typed([(k, types.get(k, "s" if isinstance(v, str) else "t"), v)
                                       for k, v in params.items()])


def _in(types: dict[str, str]) -> tuple[str, Any]:
    return ("params", lambda params: typed_args(params, types))


def _width(ctx: Ctx) -> int:
    return len(ctx.conn.node_cpu_map())


def _fit(cpumap: list[bool], width: int) -> list[bool]:
    return [bool(b) for b in cpumap[:width]] + [False] * (width - len(cpumap))


@custom(1 | 2)
def vcpu_pin_info(ctx: Ctx) -> list[list[bool]]:
    width = _width(ctx)
    maps = ctx.conn.vcpu_pin_info(ctx.target.ident[0], live=bool(ctx.flags & 1), config=bool(ctx.flags & 2))
    return [_fit(m, width) for m in maps]


@custom(1 | 2)
def emulator_pin_info(ctx: Ctx) -> list[bool]:
    cpumap = ctx.conn.emulator_pin_info(ctx.target.ident[0], live=bool(ctx.flags & 1), config=bool(ctx.flags & 2))
    return _fit(cpumap, _width(ctx))


@custom(1 | 2)
def scheduler_parameters(ctx: Ctx) -> dict[str, Any]:
    """virDomainGetSchedulerParametersFlags (libvirt-dbus calls the Flags form, whatever the flags)."""
    live, config = bool(ctx.flags & 1), bool(ctx.flags & 2)
    params = ctx.conn.scheduler_parameters(ctx.target.ident[0], live=live, config=config,
                                           current=not (live or config))
    return _out(SCHEDULER)(ctx, params)


@custom(1 | 2)
def get_metadata(ctx: Ctx, kind: int, uri: str) -> str:
    """virDomainMetadataType: 0 description, 1 title, 2 an element in namespace `uri`."""
    from pyvirt.dbus.members import _index

    word = _index(("description", "title", "element"), "metadata type")(kind)
    return ctx.conn.get_metadata(ctx.target.ident[0], word, uri or None, live=bool(ctx.flags & 1),
                                 config=bool(ctx.flags & 2))


METHODS: dict[str, Row] = {
    "Domain.GetMemoryParameters": call("memory_parameters", flags=AFFECT, out=_out(MEMORY)),
    "Domain.SetMemoryParameters": call("set_memory_parameters", _in(MEMORY), flags=AFFECT),
    "Domain.GetBlockIOParameters": call("blkio_parameters", flags=AFFECT, out=_out(BLKIO)),
    "Domain.SetBlockIOParameters": call("set_blkio_parameters", _in(BLKIO), flags=AFFECT),
    "Domain.GetBlockIOTune": call("block_iotune", "disk", flags=AFFECT, out=_out(IOTUNE)),
    "Domain.SetBlockIOTune": call("set_block_iotune", "disk", _in(IOTUNE), flags=AFFECT),
    "Domain.GetSchedulerParameters": scheduler_parameters,
    "Domain.SetSchedulerParameters": call("set_scheduler_parameters", _in(SCHEDULER), flags=AFFECT),
    "Domain.GetNumaParameters": call("numa_parameters", flags=AFFECT, out=_out(NUMA)),
    "Domain.SetNumaParameters": call("set_numa_parameters", _in(NUMA), flags=AFFECT),
    "Domain.GetInterfaceParameters": call("interface_parameters", "device", flags=AFFECT, out=_out(BANDWIDTH)),
    "Domain.SetInterfaceParameters": call("set_interface_parameters", "device", _in(BANDWIDTH), flags=AFFECT),
    "Domain.GetPerfEvents": call("perf_events", flags=AFFECT, out=_out(PERF)),
    "Domain.SetPerfEvents": call("set_perf_events", _in(PERF), flags=AFFECT),
    "Domain.GetVcpuPinInfo": vcpu_pin_info,
    "Domain.PinVcpu": call("pin_vcpu", "vcpu", "cpumap", flags=AFFECT),
    "Domain.GetEmulatorPinInfo": emulator_pin_info,
    "Domain.PinEmulator": call("pin_emulator", "cpumap", flags=AFFECT),
    "Domain.AddIOThread": call("add_iothread", "iothread", flags=AFFECT),
    "Domain.DelIOThread": call("del_iothread", "iothread", flags=AFFECT),
    "Domain.PinIOThread": call("pin_iothread", "iothread", "cpumap", flags=AFFECT),
    "Domain.GetMetadata": get_metadata,
}
