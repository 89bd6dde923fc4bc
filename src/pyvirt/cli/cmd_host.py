"""Connection and host commands: uri, hostname, version, nodeinfo, capabilities,
domcapabilities, sysinfo, and the host's cells, CPUs and memory (freecell, maxvcpus, nodecpumap,
nodecpustats, nodememstats)."""

from __future__ import annotations

from pyvirt.cli.context import CmdError, Ctl, failing
from pyvirt.cli.fmt import keyvalues
from pyvirt.cli.grammar import Parsed
from pyvirt.cli.values import number

TYPE_CHECKING = False
if TYPE_CHECKING:
    import xml.etree.ElementTree as ET


def cmd_uri(ctl: Ctl, p: Parsed) -> bool:
    ctl.print(ctl.conn.get_uri() + "\n")
    return True


def cmd_hostname(ctl: Ctl, p: Parsed) -> bool:
    ctl.print(ctl.conn.get_hostname() + "\n")
    return True


def _ver(v: object) -> str:
    if isinstance(v, (list, tuple)):
        return ".".join(str(x) for x in v)
    if isinstance(v, int):       # libvirt's packed major*1e6 + minor*1e3 + micro
        return f"{v // 1000000}.{v // 1000 % 1000}.{v % 1000}"
    return str(v)


def cmd_version(ctl: Ctl, p: Parsed) -> bool:
    from pyvirt import __version__

    v = ctl.conn.get_version()
    hv = str(v.get("hypervisor", "QEMU"))
    lines = [f"Compiled against library: pyvirt {__version__}", f"Using library: pyvirt {__version__}",
             f"Using API: {hv} {_ver(v.get('lib_version', __version__))}"]
    if v.get("hv_version") is not None:
        lines.append(f"Running hypervisor: {hv} {_ver(v['hv_version'])}")
    if p.bool("daemon") and v.get("daemon_version") is not None:
        lines.append(f"Running against daemon: {_ver(v['daemon_version'])}")
    ctl.print("".join(x + "\n" for x in lines))
    return True


def cmd_nodeinfo(ctl: Ctl, p: Parsed) -> bool:
    n = ctl.conn.node_info()
    ctl.print(keyvalues([("CPU model", n.model), ("CPU(s)", str(n.cpus)), ("CPU frequency", f"{n.mhz} MHz"),
                         ("CPU socket(s)", str(n.sockets)), ("Core(s) per socket", str(n.cores)),
                         ("Thread(s) per core", str(n.threads)), ("NUMA cell(s)", str(n.nodes)),
                         ("Memory size", f"{n.memory_kib} KiB")], width=20))
    return True


def cmd_capabilities(ctl: Ctl, p: Parsed) -> bool:
    with failing("failed to get capabilities"):
        ctl.print_xml(ctl.conn.get_capabilities())
    return True


def cmd_domcapabilities(ctl: Ctl, p: Parsed) -> bool:
    with failing("failed to get emulator capabilities"):
        ctl.print_xml(ctl.conn.get_domain_capabilities(p.str("emulatorbin"), p.str("arch"), p.str("machine"),
                                                       p.str("virttype")))
    return True


def cmd_sysinfo(ctl: Ctl, p: Parsed) -> bool:
    with failing("failed to get sysinfo"):
        ctl.print_xml(ctl.conn.get_sysinfo())
    return True


# -- NUMA cells, CPUs and memory of the host


def cmd_freecell(ctl: Ctl, p: Parsed) -> bool:
    """Free memory of the host, of one NUMA cell (--cellno), or of every cell (--all)."""
    cell = number(p.str("cellno"), "cellno")
    if cell is not None and p.bool("all"):
        raise CmdError("Options --all and --cellno are mutually exclusive")
    if p.bool("all"):
        import xml.etree.ElementTree as ET

        with failing("unable to get node capabilities"):
            caps = ET.fromstring(ctl.conn.get_capabilities())
        ids = [int(c.get("id", "0")) for c in caps.iterfind("host/topology/cells/cell")]
        total, lines = 0, []
        for cid in ids:
            free = ctl.conn.node_cells_free_memory(cid, 1)[0]
            total += free
            lines.append(f"{cid:5d}: {free // 1024:10d} KiB\n")
        ctl.print("".join(lines))
        ctl.extra("--------------------\n")
        ctl.extra(f"{'Total':>5}: {total // 1024:10d} KiB\n")
    elif cell is not None:
        if cell < 0:  # libvirt's library refuses it before any driver (virCheckNonNegativeArg)
            raise CmdError("startCell in virNodeGetCellsFreeMemory must be zero or greater")
        free = ctl.conn.node_cells_free_memory(cell, 1)[0]
        ctl.print(f"{cell}: {free // 1024} KiB\n")
    else:
        ctl.print(f"Total: {ctl.conn.node_free_memory() // 1024} KiB\n")
    return True


def cmd_maxvcpus(ctl: Ctl, p: Parsed) -> bool:
    """The domain capabilities' vcpu maximum when the driver has them, else virConnectGetMaxVcpus."""
    from pyvirt.api import PyvirtError

    kind = p.str("type")
    vcpus = None
    try:
        import xml.etree.ElementTree as ET

        vcpu = ET.fromstring(ctl.conn.get_domain_capabilities(None, None, None, kind)).find("vcpu")
        if vcpu is not None and vcpu.get("max", "").isdigit():
            vcpus = int(vcpu.get("max", "0"))
    except PyvirtError:
        pass
    if vcpus is None:
        vcpus = ctl.conn.max_vcpus(kind)
    ctl.print(f"{vcpus}\n")
    return True


def _ranges(cpus: list[int]) -> str:
    """virBitmapFormat: 0-3,5,7-9."""
    parts: list[str] = []
    i = 0
    while i < len(cpus):
        j = i
        while j + 1 < len(cpus) and cpus[j + 1] == cpus[j] + 1:
            j += 1
        parts.append(str(cpus[i]) if i == j else f"{cpus[i]}-{cpus[j]}")
        i = j + 1
    return ",".join(parts)


def cmd_nodecpumap(ctl: Ctl, p: Parsed) -> bool:
    with failing("Unable to get cpu map"):
        cpumap = ctl.conn.node_cpu_map()
    online = [i for i, up in enumerate(cpumap) if up]
    shown = _ranges(online) if p.bool("pretty") else "".join("y" if up else "-" for up in cpumap)
    ctl.print(f"{'CPUs present:':<15} {len(cpumap)}\n{'CPUs online:':<15} {len(online)}\n"
              f"{'CPU map:':<15} {shown}\n")
    return True


_CPU_FIELDS = (("user", "user:"), ("system", "system:"), ("idle", "idle:"), ("iowait", "iowait:"))


def cmd_nodecpustats(ctl: Ctl, p: Parsed) -> bool:
    cpu = number(p.str("cpu"), "cpu", -1)
    with failing("Unable to get number of cpu stats"):
        first = ctl.conn.node_cpu_stats(cpu)
    if not p.bool("percent"):
        ctl.print("".join(f"{label:<15} {first[k]:20d}\n" for k, label in _CPU_FIELDS if k in first))
        return True
    import time

    time.sleep(1)
    with failing("Unable to get node cpu stats"):
        second = ctl.conn.node_cpu_stats(cpu)
    delta = {k: second.get(k, 0) - first.get(k, 0) for k, _ in _CPU_FIELDS}
    total = sum(delta.values())

    def pct(v: float) -> str:  # C's printf("%5.1lf%%") of 0.0/0.0 on glibc reads -nan
        return f"{v * 100 / total:5.1f}%" if total else " -nan%"

    rows = [("usage:", delta["user"] + delta["system"])] + [(label, delta[k]) for k, label in _CPU_FIELDS]
    ctl.print("".join(f"{label:<15} {pct(v)}\n" for label, v in rows))
    return True


def cmd_nodememstats(ctl: Ctl, p: Parsed) -> bool:
    cell = number(p.str("cell"), "cell", -1)
    with failing("Unable to get number of memory stats"):
        stats = ctl.conn.node_memory_stats(cell)
    ctl.print("".join(f"{k:<7}: {v:20d} KiB\n" for k, v in stats.items()))
    return True


# -- CPU models, huge pages, KSM and suspend


def cmd_cpu_models(ctl: Ctl, p: Parsed) -> bool:
    with failing("failed to get CPU model names"):
        models = ctl.conn.get_cpu_model_names(p.str("arch") or "")
    if models:
        ctl.print("".join(m + "\n" for m in models))
    else:
        ctl.extra("all CPU models are accepted\n")
    return True


def _exclusive(p: Parsed, first: str, second: str) -> None:
    """VSH_EXCLUSIVE_OPTIONS_VAR(first, second)."""
    if p.has(first) and p.has(second):
        raise CmdError(f"Options --{first} and --{second} are mutually exclusive")


def _page_kib(p: Parsed, limit: int) -> int:
    """vshCommandOptScaledInt(pagesize, scale 1024, `limit` bytes), rounded up to KiB."""
    from pyvirt.cli.values import scaled_bytes

    text = p.str("pagesize")
    size = scaled_bytes(text, "pagesize", limit=limit) if text is not None else 0
    return (size + 1023) // 1024


def _caps_root(ctl: Ctl) -> ET.Element:
    """The capabilities document (virsh's --all loops over its NUMA cells)."""
    import xml.etree.ElementTree as ET

    with failing("unable to get node capabilities"):
        caps = ctl.conn.get_capabilities()
    try:
        return ET.fromstring(caps)
    except ET.ParseError:
        raise CmdError("unable to parse node capabilities") from None


def _cell_ids(caps: ET.Element) -> list[int]:
    return [int(c.get("id", "0")) for c in caps.iterfind("host/topology/cells/cell")]


def cmd_freepages(ctl: Ctl, p: Parsed) -> bool:
    _exclusive(p, "all", "cellno")
    kib = _page_kib(p, 0xFFFFFFFF)  # cmdFreepages: UINT_MAX bytes
    if p.bool("all"):
        caps = _caps_root(ctl)
        if p.has("pagesize"):
            sizes = [kib]
        else:
            sizes = []
            for page in caps.iterfind("host/cpu/pages"):
                size = page.get("size", "")
                if not size.isdigit():
                    raise CmdError(f"unable to parse page size: {size}")
                sizes.append(int(size))
            if not sizes:
                raise CmdError("could not get information about supported page sizes")
        for cell in _cell_ids(caps):
            counts = ctl.conn.node_free_pages(sizes, cell, 1)
            ctl.print(f"Node {cell}:\n" + "".join(f"{s}KiB: {c}\n" for s, c in zip(sizes, counts, strict=True))
                      + "\n")
        return True
    if not p.has("cellno"):
        raise CmdError("missing cellno argument")
    cell = number(p.str("cellno"), "cellno", -1)
    if cell is not None and cell < -1:
        raise CmdError("cell number must be non-negative integer or -1")
    if not p.has("pagesize"):
        raise CmdError("missing pagesize argument")
    count = ctl.conn.node_free_pages([kib], cell if cell is not None else -1, 1)[0]
    ctl.print(f"{kib}KiB: {count}\n")
    return True


def cmd_allocpages(ctl: Ctl, p: Parsed) -> bool:
    _exclusive(p, "all", "cellno")
    cell = number(p.str("cellno"), "cellno", -1) if p.has("cellno") else -1
    kib = _page_kib(p, 0xFFFFFFFF * 1024)  # cmdAllocpages: UINT_MAX KiB
    pages = number(p.str("pagecount"), "pagecount", 0) or 0
    if pages < 0:
        raise CmdError(f"Numeric value '{p.str('pagecount')}' for <pagecount> option is malformed or out of range")
    add = p.bool("add")
    if p.bool("all"):
        for cell_id in _cell_ids(_caps_root(ctl)):
            ctl.conn.node_alloc_pages([kib], [pages], cell_id, 1, add=add)
        return True
    ctl.conn.node_alloc_pages([kib], [pages], cell if cell is not None else -1, 1, add=add)
    return True


_KSM_OPTIONS = (("shm-pages-to-scan", "shm_pages_to_scan"), ("shm-sleep-millisecs", "shm_sleep_millisecs"),
                ("shm-merge-across-nodes", "shm_merge_across_nodes"))


def cmd_node_memory_tune(ctl: Ctl, p: Parsed) -> bool:
    params = {}
    for option, field in _KSM_OPTIONS:
        value = number(p.str(option), option)
        if value is not None:
            if not 0 <= value <= 0xFFFFFFFF:
                raise CmdError(f"Numeric value '{p.str(option)}' for <{option}> option is malformed or out of range")
            params[field] = value
    if params:
        with failing("Unable to change memory parameters"):
            ctl.conn.set_node_memory_parameters(params)
        return True
    with failing("Unable to get number of memory parameters"):
        current = ctl.conn.node_memory_parameters()
    if current:
        ctl.print("Shared memory:\n" + "".join(f"\t{k:<15} {v}\n" for k, v in current.items()))
    return True


def cmd_nodesuspend(ctl: Ctl, p: Parsed) -> bool:
    target = p.str("target") or ""
    duration = number(p.str("duration"), "duration", 0) or 0
    if target not in ("mem", "disk", "hybrid"):
        raise CmdError("Invalid target")
    if duration < 0:
        raise CmdError("Invalid duration")
    with failing("The host was not suspended"):
        ctl.conn.node_suspend(target, duration)
    return True
