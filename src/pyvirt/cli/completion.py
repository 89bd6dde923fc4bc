"""virsh's completion: the hidden ``complete`` command (what bash completion runs) and the shell's TAB.

virsh 9.0 completes a partial command line in vsh.c's vshReadlineParse: the line is parsed as
vshCommandParse parses it with errors ignored (the options given so far, and which one the cursor
is in: its ``completeThis``), then either every command name (no command yet, or the word is a
whole command name), the command's options not given yet, or what the option's completer lists
(virsh-completer-*.c); the list is escaped (a backslash before each space) and kept when it
starts with the word under the cursor.  ``complete`` prints readline's rl_completion_matches of
that list: the only match, or every match (readline's common-prefix entry skipped), and fails
quietly when nothing matches.

Which option has which completer is virsh's per-command table (`COMPLETERS`, found by asking
the reference virsh's ``complete`` for every option: dev/virsh_completers.py); what a completer
lists is read from the connection, as virsh's do, or is libvirt's enum of accepted words.
"""

from __future__ import annotations

from pyvirt.cli import table
from pyvirt.cli.context import CmdError, Ctl
from pyvirt.cli.grammar import ARGV, BOOL, TK_ARG, TK_END, TK_ERROR, Cmd, Opt, Parsed, aliases, next_token

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable


# ---------------------------------------------------------------------------------------------
# the partial parse (vshCommandParse with `partial`, on grammar.next_token's words)

class Partial:
    """What vshCommandParse leaves of a partial line: the command (None: none yet, or unknown)
    and its options so far, as (option, text, under the cursor) in the order given."""

    def __init__(self, cmd: Cmd | None, opts: list[tuple[Opt, str, bool]], error: str | None = None) -> None:
        self.cmd = cmd
        self.opts = opts
        self.error = error  # the tokenizing error virsh's parse reports even here (vshError)

    def value(self, name: str) -> str | None:
        """The text given for option `name` (vshCommandOptStringQuiet on the partial command)."""
        return next((text for o, text, _ in self.opts if o.name == name and o.kind != BOOL), None)

    def given(self, name: str) -> bool:
        return any(o.name == name for o, _, _ in self.opts)

    def under_cursor(self) -> Opt | None:
        """vshReadlineCommandFindOpt: the option whose value the cursor is in."""
        return next((o for o, _, this in self.opts if this), None)


_HELP_OPT = Opt("help", BOOL, "print help for this function")


def _option(cmd: Cmd, word: str, seen: set[str]) -> tuple[Opt, str | None] | None:
    """vshCmddefGetOption for ``--word`` (aliases resolved); None where virsh's parse fails."""
    name, eq, inline = word.partition("=")
    value: str | None = inline if eq else None
    if name == "help":
        return _HELP_OPT, value
    alias = aliases(cmd).get(name)
    if alias is not None:
        name, preset, pvalue = alias.partition("=")
        if preset:
            if value is not None:
                return None
            value = pvalue
    opt = cmd.opt(name)
    if opt is None or (opt.name in seen and opt.kind != ARGV):
        return None
    return opt, value


def parse_partial(line: str, point: int | None = None) -> Partial:
    """The last command of `line` as far as it parses, the cursor at `point` (default: the end)."""
    point = len(line) if point is None else point
    pos = 0
    while True:
        cmd: Cmd | None = None
        opts: list[tuple[Opt, str, bool]] = []
        seen: set[str] = set()
        data_only = False
        kind = TK_ARG
        while True:
            kind, text, pos = next_token(line, pos)
            if kind == TK_ERROR:  # read with report: virsh says it, then keeps what it parsed
                return Partial(cmd, opts, text)
            if kind != TK_ARG:
                break
            if cmd is None:
                if text.startswith("#"):  # a comment command: its words are skipped, unreported
                    while kind == TK_ARG:
                        kind, text, pos = next_token(line, pos, report=False)
                    break
                cmd = table.lookup(text)
                if cmd is None:
                    return Partial(None, [])
                continue
            opt: Opt | None = None
            if not data_only and text[:2] == "--" and text[2:3].isascii() and text[2:3].isalnum():
                found = _option(cmd, text[2:], seen)
                if found is None:
                    if cmd.name == "help":
                        continue
                    return Partial(cmd, opts)
                opt, value = found
                seen.add(opt.name)
                if opt.kind != BOOL:
                    if value is None:  # read without report: an open double quote ends the value
                        kind, value, pos = next_token(line, pos, report=False)
                        if kind == TK_ERROR:
                            return Partial(cmd, opts)
                        if kind != TK_ARG:  # no value yet: the cursor may be where it goes
                            opts.append((opt, value, pos == point - 1))
                            return Partial(cmd, opts)
                elif value is not None:
                    return Partial(cmd, opts)
                else:
                    value = ""
                opts.append((opt, value, pos == point))
                continue
            if not data_only and text == "--":
                data_only = True
                continue
            slot = next((o for o in cmd.opts if o.pos and (o.name not in seen or o.kind == ARGV)), None)
            if slot is None:
                if cmd.name == "help":
                    continue
                return Partial(cmd, opts)
            seen.add(slot.name)
            opts.append((slot, text, pos == point))
        if cmd is not None and any(o is _HELP_OPT for o, _, _ in opts):  # --help: 'help CMD'
            helpcmd = table.lookup("help")
            assert helpcmd is not None
            cmd, opts = helpcmd, [(helpcmd.opts[0], cmd.name, False)]
        if kind == TK_END:
            return Partial(cmd, opts)


# ---------------------------------------------------------------------------------------------
# the generators


def command_names() -> list[str]:
    """vshReadlineCommandGenerator: every command 'help' lists, in its order."""
    return [c.name for c in table.COMMANDS if not c.hidden]


def option_names(part: Partial) -> list[str]:
    """vshReadlineOptionsGenerator: the command's options not given yet (argv ones always)."""
    assert part.cmd is not None
    given = {o.name for o, _, _ in part.opts if o.kind != ARGV}
    return [f"--{o.name}" for o in part.cmd.opts if o.name not in given]


def candidates(ctl: Ctl, line: str, text: str) -> list[str] | None:
    """vshReadlineParse's list for the word `text` that ends `line`: escaped and filtered."""
    part = parse_partial(line)
    if part.error is not None:
        ctl.error(part.error)
    cmd = part.cmd
    if cmd is not None and cmd.name == text:  # 'dump<TAB>': complete the command name itself
        cmd = None
    opt = part.under_cursor()
    found: list[str] | None
    if cmd is None:
        found = command_names()
    elif opt is None or opt.kind == BOOL:
        found = option_names(part)
    else:
        completer = completer_of(cmd.name, opt.name)
        found = completer(ctl, part) if completer is not None else None
    if found is None:
        return None
    return [w for w in (x.replace(" ", "\\ ") for x in found) if w.startswith(text)]


def matches(found: list[str] | None) -> list[str]:
    """What rl_completion_matches gives and ``complete`` prints: the one match, or every match
    (readline's common-prefix entry in front is skipped when there are several)."""
    return list(found or ())


def cmd_complete(ctl: Ctl, p: Parsed) -> bool:
    """virsh's hidden ``complete``: what to offer after the words given (bash completion's call)."""
    words = p.argv("string")
    if not words:
        return False
    ctl.conn  # noqa: B018 - cmdComplete connects first, whatever it completes
    try:
        found = matches(candidates(ctl, " ".join(words), words[-1]))
    except CmdError as exc:  # a completer's own failure ("failed to get domain"): said, no list
        for m in exc.messages:
            ctl.error(m)
        return False
    if not found:
        return False
    ctl.print("".join(f"{w}\n" for w in found))
    return True


# ---------------------------------------------------------------------------------------------
# the completers (virsh-completer-*.c): each gets the connection and the partial command

Completer = "Callable[[Ctl, Partial], list[str] | None]"


def _domain_ref(ctl: Ctl, part: Partial) -> str:
    """The partial command's domain as virshCommandOptDomain looks it up (its failure is said)."""
    return ctl.domain(part.value("domain") or "").name


def _domain_xml(ctl: Ctl, part: Partial, inactive: bool = False) -> object:
    from pyvirt.xml.safe import safe_parse

    return safe_parse(ctl.conn.get_xml(_domain_ref(ctl, part), inactive=inactive).encode())


#: virConnectListAllDomains filters of virsh's domain completers, by command (others: every domain)
_DOMAIN_FILTERS: dict[str, tuple[str, ...]] = {
    "active": (
        "backup-begin", "backup-dumpxml", "blockcommit", "blockcopy", "blockjob", "blockpull", "blockresize",
        "checkpoint-create", "checkpoint-create-as", "console", "cpu-stats", "destroy", "domblkerror",
        "domblkstat", "domblkthreshold", "domcontrol", "domdisplay", "domfsfreeze", "domfsinfo", "domfsthaw",
        "domfstrim", "domhostname", "domid", "domifaddr", "domifstat", "domjobabort", "domjobinfo",
        "dommemstat", "domtime", "dump", "get-user-sshkeys", "guestinfo", "guestvcpus", "inject-nmi",
        "lxc-enter-namespace", "managedsave", "migrate-compcache", "migrate-getmaxdowntime", "migrate-getspeed",
        "migrate-postcopy", "migrate-setmaxdowntime", "migrate-setspeed", "qemu-agent-command",
        "qemu-monitor-command", "reboot", "reset", "save", "screenshot", "send-key", "send-process-signal",
        "set-user-password", "set-user-sshkeys", "shutdown", "ttyconsole", "vncdisplay"),
    "inactive": ("domrename", "start"),
    "persistent": ("autostart", "undefine"),
    "paused": ("resume",),
    "running": ("suspend", "dompmsuspend"),
    "other": ("dompmwakeup",),
    "managed_save": ("managedsave-remove", "managedsave-edit", "managedsave-dumpxml", "managedsave-define"),
    "snapshot": ("snapshot-current", "snapshot-delete", "snapshot-dumpxml", "snapshot-edit", "snapshot-info",
                 "snapshot-list", "snapshot-parent", "snapshot-revert"),
    "checkpoint": ("checkpoint-delete", "checkpoint-dumpxml", "checkpoint-edit", "checkpoint-info",
                   "checkpoint-list", "checkpoint-parent"),
}
_DOMAIN_FILTER_OF = {cmd: flt for flt, cmds in _DOMAIN_FILTERS.items() for cmd in cmds}


def _domain_matches(ctl: Ctl, flt: str | None, info: object) -> bool:
    from pyvirt.api import DomainState

    state = info.state  # type: ignore[attr-defined]
    active = state != DomainState.SHUTOFF
    if flt == "active":
        return active
    if flt == "inactive":
        return not active
    if flt == "persistent":
        return bool(info.persistent)  # type: ignore[attr-defined]
    if flt == "paused":
        return state == DomainState.PAUSED
    if flt == "running":
        return state == DomainState.RUNNING
    if flt == "other":
        return state not in (DomainState.RUNNING, DomainState.PAUSED, DomainState.SHUTOFF)
    if flt == "managed_save":
        return bool(info.managed_save)  # type: ignore[attr-defined]
    if flt == "snapshot":
        return bool(ctl.conn.list_snapshots(info.name))  # type: ignore[attr-defined]
    if flt == "checkpoint":
        return bool(ctl.conn.list_checkpoints(info.name))  # type: ignore[attr-defined]
    return True


def domain_names(ctl: Ctl, part: Partial) -> list[str]:
    """virshDomainNameCompleter with the command's list flags."""
    assert part.cmd is not None
    flt = _DOMAIN_FILTER_OF.get(part.cmd.name)
    return [d.name for d in ctl.conn.list_domains() if _domain_matches(ctl, flt, d)]


def domain_uuids(ctl: Ctl, part: Partial) -> list[str]:
    """virshDomainUUIDCompleter (domname)."""
    return [d.uuid for d in ctl.conn.list_domain_names()]


def disk_targets(ctl: Ctl, part: Partial) -> list[str]:
    """virshDomainDiskTargetCompleter: every disk's target of the live definition."""
    doc = _domain_xml(ctl, part)
    return [str(t) for t in doc.xpath("/domain/devices/disk/target/@dev")]  # type: ignore[attr-defined]


def _interfaces(ctl: Ctl, part: Partial, mac: bool) -> list[str]:
    doc = _domain_xml(ctl, part)
    out = []
    for nic in doc.xpath("/domain/devices/interface"):  # type: ignore[attr-defined]
        target = nic.xpath("string(target/@dev)")
        out.append(nic.xpath("string(mac/@address)") if mac or not target else target)
    return out


def domain_interfaces(ctl: Ctl, part: Partial) -> list[str]:
    """virshDomainInterfaceCompleter: each NIC's target device, or its MAC where it has none."""
    return _interfaces(ctl, part, mac=False)


def domain_interface_macs(ctl: Ctl, part: Partial) -> list[str]:
    """virshDomainInterfaceCompleter with VIRSH_DOMAIN_INTERFACE_COMPLETER_MAC (detach-interface --mac)."""
    return _interfaces(ctl, part, mac=True)


def interface_state(ctl: Ctl, part: Partial) -> list[str] | None:
    """virshDomainInterfaceStateCompleter: the link state the named NIC is not in."""
    iface = part.value("interface")
    if not iface:
        return None
    doc = _domain_xml(ctl, part)
    for nic in doc.xpath("/domain/devices/interface"):  # type: ignore[attr-defined]
        if iface in (nic.xpath("string(target/@dev)"), nic.xpath("string(mac/@address)")):
            return ["up" if nic.xpath("string(link/@state)") == "down" else "down"]
    return None


def device_aliases(ctl: Ctl, part: Partial) -> list[str]:
    """virshDomainDeviceAliasCompleter: every device alias (of the inactive definition with --config)."""
    doc = _domain_xml(ctl, part, inactive=part.given("config"))
    return [str(a) for a in doc.xpath("/domain/devices//alias/@name")]  # type: ignore[attr-defined]


def console_aliases(ctl: Ctl, part: Partial) -> list[str]:
    """virshDomainConsoleCompleter: the aliases of consoles, serial ports and channels."""
    doc = _domain_xml(ctl, part)
    return [str(a) for a in doc.xpath(  # type: ignore[attr-defined]
        "/domain/devices/console/alias/@name|/domain/devices/serial/alias/@name"
        "|/domain/devices/parallel/alias/@name|/domain/devices/channel/alias/@name")]


def iothread_ids(ctl: Ctl, part: Partial) -> list[str]:
    """virshDomainIOThreadIdCompleter."""
    return [str(t["id"]) for t in ctl.conn.iothread_info(_domain_ref(ctl, part))]


def domain_vcpus(ctl: Ctl, part: Partial) -> list[str]:
    """virshDomainVcpuCompleter / VcpulistCompleter: 0 .. the domain's vCPUs - 1."""
    info = ctl.conn.lookup_domain(_domain_ref(ctl, part))
    return [str(i) for i in range(info.vcpus)]


def guest_vcpus(ctl: Ctl, part: Partial) -> list[str]:
    """virshDomainVcpulistViaAgentCompleter: the vCPUs the guest agent reports."""
    return [str(i) for i in range(ctl.conn.vcpu_count(_domain_ref(ctl, part), guest=True))]


def host_cpus(ctl: Ctl, part: Partial) -> list[str]:
    """virshDomainCpulistCompleter: the host's CPUs (virNodeGetCPUMap's count, online or not)."""
    return [str(i) for i in range(len(ctl.conn.node_cpu_map()))]


def online_cpus(ctl: Ctl, part: Partial) -> list[str]:
    """virshNodeCpuCompleter: the host CPUs online (virNodeGetCPUMap)."""
    return [str(i) for i, up in enumerate(ctl.conn.node_cpu_map()) if up]


def _capabilities(ctl: Ctl) -> object:
    from pyvirt.xml.safe import safe_parse

    return safe_parse(ctl.conn.get_capabilities().encode())


def numa_cells(ctl: Ctl, part: Partial) -> list[str]:
    """virshCellnoCompleter: the host's NUMA cell ids from the capabilities."""
    return [str(c) for c in _capabilities(ctl).xpath(  # type: ignore[attr-defined]
        "/capabilities/host/topology/cells/cell/@id")]


def page_sizes(ctl: Ctl, part: Partial) -> list[str]:
    """virshAllocpagesPagesizeCompleter: the host CPU's page sizes, as vshPrettyCapacity words them."""
    from pyvirt.xml.units import unit_scale

    out = []
    for page in _capabilities(ctl).xpath("/capabilities/host/cpu/pages"):  # type: ignore[attr-defined]
        size = int(page.get("size")) * unit_scale(page.get("unit") or "KiB")
        unit = "B"
        for word in ("KiB", "MiB", "GiB", "TiB", "PiB", "EiB"):
            if size < 1024:
                break
            size, unit = size / 1024, word
        out.append(f"{size:.0f}{unit}")
    return out


def cpu_models(ctl: Ctl, part: Partial) -> list[str]:
    """virshCPUModelCompleter: the custom-mode CPU models of the domain capabilities."""
    from pyvirt.xml.safe import safe_parse

    caps = safe_parse(ctl.conn.get_domain_capabilities(arch=part.value("arch"),
                                                       virttype=part.value("virttype")).encode())
    return [str(m) for m in caps.xpath("/domainCapabilities/cpu/mode[@name='custom']/model/text()")]


def mountpoints(ctl: Ctl, part: Partial) -> list[str]:
    """virshDomainFSMountpointsCompleter (virDomainGetFSInfo)."""
    return [fs["mountpoint"] for fs in ctl.conn.fs_info(_domain_ref(ctl, part))]


def snapshot_names(ctl: Ctl, part: Partial) -> list[str]:
    """virshSnapshotNameCompleter."""
    return [s.name for s in ctl.conn.list_snapshots(_domain_ref(ctl, part))]


def checkpoint_names(ctl: Ctl, part: Partial) -> list[str]:
    """virshCheckpointNameCompleter."""
    return [c.name for c in ctl.conn.list_checkpoints(_domain_ref(ctl, part))]


def _by_state(items: list, flt: str | None) -> list:
    if flt == "active":
        return [i for i in items if i.active]
    if flt == "inactive":
        return [i for i in items if not i.active]
    if flt == "persistent":
        return [i for i in items if i.persistent]
    return items


#: list flags of the network, pool and host interface name completers, by command
_OBJECT_FILTERS: dict[str, str] = {
    "net-destroy": "active", "net-dhcp-leases": "active", "net-port-list": "active", "net-port-create": "active",
    "net-port-dumpxml": "active", "net-port-delete": "active", "net-start": "inactive",
    "net-autostart": "persistent", "net-undefine": "persistent",
    "pool-destroy": "active", "pool-refresh": "active", "pool-start": "inactive", "pool-delete": "inactive",
    "pool-autostart": "persistent", "pool-undefine": "persistent",
    "vol-clone": "active", "vol-create-as": "active", "vol-create": "active", "vol-create-from": "active",
    "vol-delete": "active", "vol-download": "active", "vol-dumpxml": "active", "vol-info": "active",
    "vol-key": "active", "vol-list": "active", "vol-path": "active", "vol-resize": "active",
    "vol-upload": "active", "vol-wipe": "active",
    "iface-destroy": "active", "iface-start": "inactive",
}


def network_names(ctl: Ctl, part: Partial) -> list[str]:
    """virshNetworkNameCompleter with the command's list flags."""
    assert part.cmd is not None
    return [n.name for n in _by_state(ctl.conn.list_networks(), _OBJECT_FILTERS.get(part.cmd.name))]


def network_uuids(ctl: Ctl, part: Partial) -> list[str]:
    """virshNetworkUUIDCompleter (net-name)."""
    return [n.uuid for n in ctl.conn.list_networks()]


def network_ports(ctl: Ctl, part: Partial) -> list[str]:
    """virshNetworkPortUUIDCompleter: the ports of the network given."""
    return [str(p.get("uuid")) for p in ctl.conn.list_network_ports(part.value("network") or "")]


def dhcp_macs(ctl: Ctl, part: Partial) -> list[str]:
    """virshNetworkDhcpMacCompleter: the MACs of the network's DHCP leases."""
    leases = ctl.conn.network_dhcp_leases(part.value("network") or "")  # type: ignore[attr-defined]
    return [str(lease.get("mac")) for lease in leases]


def pool_names(ctl: Ctl, part: Partial, option: str = "pool") -> list[str]:
    """virshStoragePoolNameCompleter with the command's list flags."""
    assert part.cmd is not None
    flt = _OBJECT_FILTERS.get(part.cmd.name) if option == "pool" else None
    return [p.name for p in _by_state(ctl.conn.list_pools(), flt)]


def volume_names(ctl: Ctl, part: Partial) -> list[str] | None:
    """virshStorageVolNameCompleter: the volumes of the pool given."""
    pool = part.value("pool")
    if pool is None:
        return None
    return [v.name for v in ctl.conn.list_volumes(ctl.conn.lookup_pool(pool).name)]


def volume_keys(ctl: Ctl, part: Partial) -> list[str]:
    """virshStorageVolKeyCompleter: every volume's key, pool by pool."""
    return [v.key for p in ctl.conn.list_pools() if p.active for v in ctl.conn.list_volumes(p.name)]


def interface_names(ctl: Ctl, part: Partial) -> list[str]:
    """virshInterfaceNameCompleter with the command's list flags."""
    assert part.cmd is not None
    return [i.name for i in _by_state(ctl.conn.list_interfaces(), _OBJECT_FILTERS.get(part.cmd.name))]


def interface_macs(ctl: Ctl, part: Partial) -> list[str]:
    """virshInterfaceMacCompleter (iface-name)."""
    return [i.mac for i in ctl.conn.list_interfaces()]


def nodedev_names(ctl: Ctl, part: Partial) -> list[str]:
    """virshNodeDeviceNameCompleter."""
    return [d.name for d in ctl.conn.list_node_devices()]


def secret_uuids(ctl: Ctl, part: Partial) -> list[str]:
    """virshSecretUUIDCompleter."""
    return [s.uuid for s in ctl.conn.list_secrets()]


def nwfilter_names(ctl: Ctl, part: Partial) -> list[str]:
    """virshNWFilterNameCompleter."""
    return [f.name for f in ctl.conn.list_nwfilters()]


def nwfilter_bindings(ctl: Ctl, part: Partial) -> list[str]:
    """virshNWFilterBindingNameCompleter: the bindings' port devices."""
    return [b.portdev for b in ctl.conn.list_nwfilter_bindings()]


def help_commands(ctl: Ctl, part: Partial) -> list[str]:
    """vshCompleteHelpCommand."""
    return command_names()


def keycodes(ctl: Ctl, part: Partial) -> list[str]:
    """virshKeycodeNameCompleter: the --codeset's key names (linux by default) in libvirt's order."""
    from pyvirt.cli.keycodes import names

    return names(part.value("codeset") or "linux")


def _enum(words: Callable[[], tuple[str, ...] | list[str]]) -> Callable[[Ctl, Partial], list[str]]:
    def complete(ctl: Ctl, part: Partial) -> list[str]:
        return list(words())
    return complete


def _arches() -> tuple[str, ...]:
    from pyvirt.cpumodels import ARCHES

    # virArch's names from its "none" (libvirt 9.0 has no loongarch64, added in 9.1)
    return ("none", *(a for a in ARCHES if a != "loongarch64"))


def _attr(module: str, name: str) -> Callable[[], tuple[str, ...]]:
    return lambda: getattr(table.load(module), name)


#: libvirt enums virsh's completers list (virDomainVirtType, virStorageFileFormat, ...): the
#: words the commands take, in libvirt's order
_ENUMS: dict[str, Callable[[], tuple[str, ...] | list[str]]] = {
    "arch": _arches,
    "virttype": lambda: ("none", "qemu", "kqemu", "kvm", "xen", "lxc", "uml", "openvz", "test", "vmware",
                         "hyperv", "vbox", "phyp", "parallels", "bhyve", "vz", "hvf"),
    "pooltype": _attr("pyvirt.xml.pool", "KNOWN_TYPES"),
    "suspendtarget": lambda: ("mem", "disk", "hybrid"),
    "perf": _attr("pyvirt.xml.domain", "PERF_EVENTS"),
    "shutdownmode": lambda: ("acpi", "agent", "initctl", "signal", "paravirt"),
    "fileformat": _attr("pyvirt.xml.volume", "FILE_FORMATS"),
    "dumpformat": lambda: ("elf", "kdump-zlib", "kdump-lzo", "kdump-snappy", "win-dmp"),
    "codeset": lambda: ("linux", "xt", "atset1", "atset2", "atset3", "os_x", "xt_kbd", "usb", "win32", "qnum"),
    "signal": _attr("pyvirt.cli.cmd_devices", "_SIGNALS"),
    "compmethod": lambda: ("xbzrle", "mt"),
    "numamode": _attr("pyvirt.xml.tunables", "NUMA_MODES"),
    "lifecycletype": _attr("pyvirt.xml.tunables", "LIFECYCLE_EVENTS"),
    "lifecycleaction": _attr("pyvirt.xml.tunables", "LIFECYCLE_ACTIONS"),
    "dirtyratemode": _attr("pyvirt.daemon.dirtyrate", "MODES"),
    "addrsource": lambda: ("lease", "agent", "arp"),
    "hostnamesource": lambda: ("agent", "lease"),
    "sourcemode": lambda: ("server", "client"),
    "netupdatecommand": lambda: ("add", "modify", "delete", "add-last", "add-first"),
    "netupdatesection": _attr("pyvirt.xml.network_update", "SECTIONS"),
    "nodedevcap": _attr("pyvirt.api", "NODEDEV_CAPS"),
    "nodedevdriver": lambda: ("default", "kvm", "vfio", "xen"),
    "wipealgorithm": lambda: ("zero", "nnsa", "dod", "bsi", "gutmann", "schneier", "pfitzner7", "pfitzner33",
                              "random", "trim"),
    "domainevent": _attr("pyvirt.cli.cmd_event", "EVENT_NAMES"),
    "networkevent": lambda: ("lifecycle",),
    "poolevent": lambda: ("lifecycle", "refresh"),
    "nodedevevent": lambda: ("lifecycle", "update"),
    "secretevent": lambda: ("lifecycle", "value-changed"),
}

_DYNAMIC: dict[str, Callable[[Ctl, Partial], list[str] | None]] = {
    "domain": domain_names, "domainuuid": domain_uuids, "disk": disk_targets, "iface": domain_interfaces,
    "ifacemac": domain_interface_macs, "ifacestate": interface_state, "alias": device_aliases,
    "console": console_aliases, "iothread": iothread_ids, "vcpu": domain_vcpus, "guestvcpu": guest_vcpus,
    "cpulist": host_cpus, "nodecpu": online_cpus, "cell": numa_cells, "pagesize": page_sizes,
    "mountpoint": mountpoints, "cpumodel": cpu_models, "snapshot": snapshot_names, "checkpoint": checkpoint_names,
    "network": network_names, "networkuuid": network_uuids, "port": network_ports, "dhcpmac": dhcp_macs,
    "pool": pool_names, "inputpool": lambda ctl, part: pool_names(ctl, part, "inputpool"),
    "vol": volume_names, "volkey": volume_keys, "hostiface": interface_names, "hostifacemac": interface_macs,
    "nodedev": nodedev_names, "secret": secret_uuids, "nwfilter": nwfilter_names,
    "binding": nwfilter_bindings, "command": help_commands, "keycode": keycodes,
}

#: virsh 9.0's completer of each option that has one: "--opt" for every command's option of that
#: name, "cmd --opt" for one command's (it wins); no entry: no completer, nothing is offered
COMPLETERS: dict[str, str] = {
    "--domain": "domain", "domname --domain": "domainuuid",
    "dompmwakeup --domain": "domain",
    # a domain's devices
    "blkdeviotune --device": "disk", "blockcommit --path": "disk", "blockcommit --base": "disk",
    "blockcommit --top": "disk", "blockcopy --path": "disk", "blockjob --path": "disk", "blockpull --path": "disk",
    "blockpull --base": "disk", "blockresize --path": "disk", "change-media --path": "disk",
    "detach-disk --target": "disk", "migrate --migrate-disks": "disk", "undefine --storage": "disk",
    "domblkthreshold --dev": "disk", "domblkinfo --device": "disk", "domblkstat --device": "disk",
    "domif-setlink --interface": "iface", "domiftune --interface": "iface", "domif-getlink --interface": "iface",
    "domifaddr --interface": "iface", "domifstat --interface": "iface", "detach-interface --mac": "ifacemac",
    "domif-setlink --state": "ifacestate",
    "detach-device-alias --alias": "alias", "update-memory-device --alias": "alias", "console --devname": "console",
    "iothreadpin --iothread": "iothread", "iothreadset --id": "iothread", "iothreaddel --id": "iothread",
    "attach-disk --iothread": "iothread",
    "vcpupin --vcpu": "vcpu", "setvcpu --vcpulist": "vcpu", "guestvcpus --cpulist": "guestvcpu",
    "iothreadpin --cpulist": "cpulist", "vcpupin --cpulist": "cpulist", "emulatorpin --cpulist": "cpulist",
    "domfsfreeze --mountpoint": "mountpoint", "domfsthaw --mountpoint": "mountpoint",
    "domfstrim --mountpoint": "mountpoint",
    "--snapshotname": "snapshot", "snapshot-list --from": "snapshot",
    "--checkpointname": "checkpoint", "checkpoint-list --from": "checkpoint",
    # host
    "nodecpustats --cpu": "nodecpu", "allocpages --cellno": "cell", "freecell --cellno": "cell",
    "freepages --cellno": "cell", "allocpages --pagesize": "pagesize", "freepages --pagesize": "pagesize",
    "cpu-models --arch": "arch", "domcapabilities --arch": "arch", "hypervisor-cpu-baseline --arch": "arch",
    "hypervisor-cpu-compare --arch": "arch", "domcapabilities --virttype": "virttype",
    "hypervisor-cpu-baseline --virttype": "virttype", "hypervisor-cpu-compare --virttype": "virttype",
    "maxvcpus --type": "virttype", "hypervisor-cpu-baseline --model": "cpumodel", "dompmsuspend --target": "suspendtarget", "nodesuspend --target": "suspendtarget",
    # other objects
    "--network": "network", "net-name --network": "networkuuid", "--port": "port", "find-storage-pool-sources-as --port": "empty", "net-dhcp-leases --mac": "dhcpmac",
    "--pool": "pool", "vol-create-from --inputpool": "inputpool", "--vol": "vol", "vol-name --vol": "volkey",
    "vol-pool --vol": "volkey", "--interface": "hostiface", "iface-name --interface": "hostifacemac",
    "iface-unbridge --bridge": "", "--device": "nodedev", "--secret": "secret", "domsetlaunchsecstate --secret": "", "--nwfilter": "nwfilter",
    "--binding": "binding", "help --command": "command",
    # enums
    "pool-create-as --type": "pooltype", "pool-define-as --type": "pooltype", "pool-list --type": "pooltype",
    "perf --enable": "perf", "perf --disable": "perf", "reboot --mode": "shutdownmode",
    "shutdown --mode": "shutdownmode", "blockcopy --format": "fileformat", "dump --format": "dumpformat",
    "send-key --codeset": "codeset", "send-key --keycode": "keycode", "send-process-signal --signame": "signal",
    "migrate --comp-methods": "compmethod", "numatune --mode": "numamode", "set-lifecycle-action --type":
    "lifecycletype", "set-lifecycle-action --action": "lifecycleaction", "domdirtyrate-calc --mode":
    "dirtyratemode", "domifaddr --source": "addrsource", "domhostname --source": "hostnamesource",
    "attach-interface --source-mode": "sourcemode", "net-update --command": "netupdatecommand",
    "net-update --section": "netupdatesection", "nodedev-list --cap": "nodedevcap",
    "nodedev-detach --driver": "nodedevdriver", "vol-wipe --algorithm": "wipealgorithm",
    "event --event": "domainevent", "net-event --event": "networkevent", "pool-event --event": "poolevent",
    "nodedev-event --event": "nodedevevent", "secret-event --event": "secretevent",
}


#: the options virsh gives a completer that offers nothing (virshCompleteEmpty: bash then offers
#: file names): no words, as without one, but `self-test --completers-missing` does not list them
_EMPTY = (
    *(f"--{name}" for name in (
        "address", "alias", "allocation", "auth-username", "backupxml", "base64", "capacity", "checkpointxml",
        "config", "description", "desturi", "device-read-bytes-sec", "device-read-iops-sec", "device-weights",
        "device-write-bytes-sec", "device-write-iops-sec", "disks-uri", "dname", "graphicsuri", "group-name",
        "host", "inbound", "initiator", "listen-address", "mac", "migrateuri", "name", "new-name", "newname",
        "outbound", "pass-fds", "password", "persistent-xml", "pid", "serial", "set", "source-host",
        "source-host-name", "source-initiator", "srcSpec", "tls-destination", "wwn", "xml", "xmlfile", "xpath")),
    *(f"{cmd} --file" for cmd in (
        "attach-device", "cpu-baseline", "cpu-compare", "create", "define", "detach-device",
        "hypervisor-cpu-baseline", "hypervisor-cpu-compare", "iface-define", "net-create", "net-define",
        "net-port-create", "nodedev-create", "nodedev-define", "nwfilter-binding-create", "nwfilter-define",
        "pool-create", "pool-define", "screenshot", "secret-define", "secret-set-value", "set-user-sshkeys",
        "update-device", "vol-create", "vol-create-from", "vol-download", "vol-upload")),
    "attach-disk --target", "attach-interface --target")
for _key in _EMPTY:  # an option's own entry above wins
    COMPLETERS.setdefault(_key, "empty")


def missing_completers(cmd: Cmd) -> list[str]:
    """The string and data options of `cmd` without a completer (virsh's self-test
    --completers-missing lists them)."""
    from pyvirt.cli.grammar import DATA, STRING

    return [o.name for o in cmd.opts if o.kind in (STRING, DATA)
            and not COMPLETERS.get(f"{cmd.name} --{o.name}", COMPLETERS.get(f"--{o.name}"))]


def completer_of(cmd: str, opt: str) -> Callable[[Ctl, Partial], list[str] | None] | None:
    """The completer virsh gives option `opt` of command `cmd` (None: it has none)."""
    kind = COMPLETERS.get(f"{cmd} --{opt}", COMPLETERS.get(f"--{opt}"))
    if not kind:
        return None
    if kind == "empty":
        return lambda ctl, part: []
    if kind in _ENUMS:
        return _enum(_ENUMS[kind])
    return _DYNAMIC[kind]
