"""Connection and host commands: uri, hostname, version, nodeinfo, capabilities,
domcapabilities, sysinfo, and the host's cells, CPUs and memory (freecell, maxvcpus, nodecpumap,
nodecpustats, nodememstats)."""

from __future__ import annotations

from pyvirt.cli.context import CmdError, Ctl, failing
from pyvirt.cli.fmt import keyvalues
from pyvirt.cli.grammar import Parsed
from pyvirt.cli.values import number


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
