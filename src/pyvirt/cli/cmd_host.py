"""Connection and host commands: uri, hostname, version, nodeinfo, capabilities,
domcapabilities, sysinfo."""

from __future__ import annotations

from pyvirt.cli.context import Ctl, failing
from pyvirt.cli.fmt import keyvalues
from pyvirt.cli.grammar import Parsed


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
