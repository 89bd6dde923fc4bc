"""Device and monitoring views: domblklist, domiflist, domifaddr, dommemstat, domstats,
vncdisplay, domdisplay, ttyconsole, send-key, send-process-signal.

The device lists are read from the domain XML with the stdlib ElementTree, imported inside the
commands: the XML comes from our own driver or daemon (trusted, small, no DTDs or entities), and
the stdlib parser keeps lxml off the CLI's import path.
"""

from __future__ import annotations

import re

from pyvirt.cli.context import CmdError, Ctl, failing
from pyvirt.cli.fmt import table, typed_value
from pyvirt.cli.grammar import Parsed
from pyvirt.cli.values import number


def _root(ctl: Ctl, p: Parsed, *, inactive: bool = False):
    import xml.etree.ElementTree as ET

    info = ctl.domain(p.str("domain") or "")
    return info, ET.fromstring(ctl.conn.get_xml(info.uuid or info.name, inactive=inactive))


def _disk_source(disk) -> str:
    src = disk.find("source")
    if src is None:
        return "-"
    for attr in ("file", "dev", "dir", "name", "volume"):
        if src.get(attr):
            if attr == "volume" and src.get("pool"):
                return f"{src.get('pool')}/{src.get(attr)}"
            return src.get(attr) or "-"
    return "-"


def cmd_domblklist(ctl: Ctl, p: Parsed) -> bool:
    _, root = _root(ctl, p, inactive=p.bool("inactive"))
    details = p.bool("details")
    rows = []
    for disk in root.iterfind("devices/disk"):
        target = disk.find("target")
        row = [target.get("dev", "-") if target is not None else "-", _disk_source(disk)]
        if details:
            row = [disk.get("type", "-"), disk.get("device", "disk"), *row]
        rows.append(row)
    header = (["Type", "Device"] if details else []) + ["Target", "Source"]
    ctl.print(table(header, rows, show_header=not ctl.quiet))
    return True


def cmd_domiflist(ctl: Ctl, p: Parsed) -> bool:
    _, root = _root(ctl, p, inactive=p.bool("inactive"))
    rows = []
    for nic in root.iterfind("devices/interface"):
        target, src, model, mac = (nic.find(t) for t in ("target", "source", "model", "mac"))
        source = "-"
        if src is not None:
            source = next((src.get(a) for a in ("bridge", "network", "dev", "name") if src.get(a)), "-") or "-"
        rows.append([target.get("dev", "-") if target is not None else "-", nic.get("type", "-"), source,
                     model.get("type", "-") if model is not None else "-",
                     mac.get("address", "-") if mac is not None else "-"])
    ctl.print(table(["Interface", "Type", "Source", "Model", "MAC"], rows, show_header=not ctl.quiet))
    return True


def cmd_domifaddr(ctl: Ctl, p: Parsed) -> bool:
    info = ctl.domain(p.str("domain") or "")
    source = p.str("source") or "lease"
    if source not in ("lease", "agent", "arp"):
        raise CmdError(f"Unknown data source '{source}'")
    with failing("Failed to query for interfaces addresses"):
        ifaces = ctl.conn.interface_addresses(info.uuid or info.name, source)
    only = p.str("interface")
    out = [f" {'Name':<10} {'MAC address':<20} {'Protocol':<12} {'Address'}\n", "-" * 79 + "\n"]
    for iface in ifaces:
        if only and iface.get("name") != only:
            continue
        addrs = iface.get("addrs") or []
        name, mac = iface.get("name", "-"), iface.get("hwaddr") or "-"
        if not addrs:
            out.append(f" {name:<10} {mac:<20} {'N/A':<12} {'N/A'}\n")
        for n, a in enumerate(addrs):
            shown_name, shown_mac = (name, mac) if n == 0 or p.bool("full") else ("-", "-")
            out.append(f" {shown_name:<10} {shown_mac:<20} {a.get('type', ''):<12} "
                       f"{a.get('addr', '')}/{a.get('prefix', 0)}\n")
    ctl.print("".join(out))
    return True


def cmd_dommemstat(ctl: Ctl, p: Parsed) -> bool:
    """virsh's cmdDomMemStat: with --period it only sets the collection period (and prints nothing)."""
    from pyvirt.cli.cmd_hotplug import check_scope

    check_scope(p)
    info = ctl.domain(p.str("domain") or "")
    period = number(p.str("period"), "period")
    if period is not None:
        if period < 0:
            raise CmdError(f"Invalid collection period value '{period}'")
        live, config = p.bool("live"), p.bool("config")
        if not (live or config or p.bool("current")) and info.active:
            live = True
        with failing("Unable to change balloon collection period."):
            ctl.conn.set_memory_stats_period(info.uuid or info.name, period, live=live, config=config)
        return True
    with failing(f"Failed to get memory statistics for domain {p.str('domain')}"):  # the name as given
        stats = ctl.conn.memory_stats(info.uuid or info.name)
    ctl.print("".join(f"{k} {v}\n" for k, v in stats.items()))
    return True


def _stats_filter(p: Parsed):
    """domstats' --list-* flags (VIR_CONNECT_GET_ALL_DOMAINS_STATS_*: active/inactive,
    persistent/transient, states; each pair given both means no filter), None when none is given."""
    from pyvirt.api import ListFilter
    from pyvirt.cli.cmd_list import STATE_FLAGS

    flt = ListFilter()
    if p.bool("list-active") != p.bool("list-inactive"):
        flt.active = p.bool("list-active")
    if p.bool("list-persistent") != p.bool("list-transient"):
        flt.persistent = p.bool("list-persistent")
    flt.states = [s for flag, ss in STATE_FLAGS.items() if p.bool("list-" + flag.removeprefix("state-")) for s in ss]
    return None if flt.active is None and flt.persistent is None and not flt.states else flt


def cmd_domstats(ctl: Ctl, p: Parsed) -> bool:
    groups = [g for g in ("state", "cpu-total", "balloon", "vcpu", "interface", "block", "perf", "iothread", "memory",
                          "dirtyrate", "vm") if p.bool(g)]
    refs = p.argv("domain")
    infos = [ctl.domain(r) for r in refs]
    flt = _stats_filter(p)
    if flt is not None:  # the list flags filter the domains named too (virDomainListGetStats)
        from pyvirt.api import ListFilter

        infos = [i for i in (infos or ctl.conn.list_domains(ListFilter())) if flt.matches(i)]
        if not infos:
            return True
    records = ctl.conn.domain_stats([i.uuid or i.name for i in infos] or None, groups or None,
                                    enforce=p.bool("enforce"), backing=p.bool("backing"))
    blocks = ["".join([f"Domain: '{rec['name']}'\n", *(f"  {k}={typed_value(v)}\n" for k, v in rec.get("stats", {}).items())])
              for rec in records]
    ctl.print("\n".join(blocks))  # a blank line between records; the runner's ends the last
    return True


def _graphics(root, kind: str):
    return next(iter(root.iterfind(f"devices/graphics[@type='{kind}']")), None)


def cmd_vncdisplay(ctl: Ctl, p: Parsed) -> bool:
    info, root = _root(ctl, p)
    g = _graphics(root, "vnc")
    port = int(g.get("port", "-1")) if g is not None else -1
    if not info.active:
        raise CmdError("Domain is not running")
    if g is None or port <= 0:
        raise CmdError("Failed to get VNC port. Is this domain using VNC?")
    listen = g.get("listen") or ""
    if listen in ("", "0.0.0.0", "::"):
        listen = ""
    ctl.print(f"{listen}:{port - 5900}\n")
    return True


def cmd_domdisplay(ctl: Ctl, p: Parsed) -> bool:
    from pyvirt.api import ErrorCode, PyvirtError

    info = ctl.domain(p.str("domain") or "")
    if not info.active:  # virsh asks virDomainIsActive before it reads any option
        raise CmdError("Domain is not running")
    try:
        uri = ctl.conn.display_uri(info.uuid or info.name, p.str("type"))
    except PyvirtError as exc:
        if exc.code != ErrorCode.NO_SUPPORT:
            raise
        uri = _display_from_xml(ctl, info, p.str("type"))
    if not uri:
        kind = p.str("type")
        raise CmdError(f"No graphical display with type '{kind}' found" if kind else "No graphical display found")
    ctl.print(uri + "\n")
    return True


def _display_from_xml(ctl: Ctl, info, kind: str | None) -> str:
    import xml.etree.ElementTree as ET

    if not info.active:
        return ""
    root = ET.fromstring(ctl.conn.get_xml(info.uuid or info.name))
    for g in root.iterfind("devices/graphics"):
        t = g.get("type", "")
        if kind and t != kind:
            continue
        port = int(g.get("port", "-1") or -1)
        if t in ("vnc", "spice") and port > 0:
            host = g.get("listen") or "localhost"
            if host in ("0.0.0.0", "::"):
                host = "localhost"
            return f"{t}://{host}:{port - 5900 if t == 'vnc' else port}"
    return ""


def cmd_ttyconsole(ctl: Ctl, p: Parsed) -> bool:
    _, root = _root(ctl, p)
    for path in ("devices/console", "devices/serial"):
        el = root.find(path)
        if el is not None and el.get("tty"):
            ctl.print(el.get("tty", "") + "\n")
            return True
    return False


def cmd_send_key(ctl: Ctl, p: Parsed) -> bool:
    from pyvirt.cli.keycodes import CODESETS, keycode
    from pyvirt.cli.values import option_int

    info = ctl.domain(p.str("domain") or "")
    codeset = p.str("codeset") or "linux"
    if codeset not in CODESETS:  # virsh checks the codeset before the keys
        raise CmdError(f"unknown codeset: '{codeset}'")
    holdtime = option_int(p, "holdtime", unsigned=True) or 0
    codes = []
    for k in p.argv("keycode"):
        if len(codes) == 16:  # VIR_DOMAIN_SEND_KEY_MAX_KEYS, checked by virsh as it reads them
            raise CmdError("too many keycodes")
        code = keycode(codeset, k)
        if code is None:
            raise CmdError(f"invalid keycode: '{k}'")
        codes.append(code)
    ctl.conn.send_key(info.uuid or info.name, codeset, holdtime, codes)
    return True


#: virStrToLong's base-10 form (leading blanks, a sign, digits: no hex, nothing after)
_DECIMAL = re.compile(r"\s*[+-]?[0-9]+")
#: virDomainProcessSignal's names in number order (0 "nop" … 31 "sys", then rt0 … rt32 = 32 … 64)
_SIGNALS = ["nop", "hup", "int", "quit", "ill", "trap", "abrt", "bus", "fpe", "kill", "usr1", "segv", "usr2",
            "pipe", "alrm", "term", "stkflt", "chld", "cont", "stop", "tstp", "ttin", "ttou", "urg", "xcpu",
            "xfsz", "vtalrm", "prof", "winch", "poll", "pwr", "sys"] + [f"rt{n}" for n in range(33)]


def _signal_number(name: str) -> int:
    """virsh's getSignalNumber: a decimal number, or a name in any case with an optional "sig" or
    "sig_" prefix; a negative number or an unknown name is malformed (the range is the driver's)."""
    word = name.lower()
    if _DECIMAL.fullmatch(word):
        if int(word) >= 0:
            return int(word)
    else:
        word = word[4:] if word.startswith("sig_") else word[3:] if word.startswith("sig") else word
        if word in _SIGNALS:
            return _SIGNALS.index(word)
    raise CmdError(f"malformed signal name: {name}")


def cmd_send_process_signal(ctl: Ctl, p: Parsed) -> bool:
    info = ctl.domain(p.str("domain") or "")
    pid_text = p.str("pid") or ""
    if not _DECIMAL.fullmatch(pid_text):
        raise CmdError(f"Numeric value '{pid_text}' for <pid> option is malformed or out of range")
    signum = _signal_number(p.str("signame") or "")
    ctl.conn.send_process_signal(info.uuid or info.name, int(pid_text), signum)
    return True


def cmd_domhostname(ctl: Ctl, p: Parsed) -> bool:
    info = ctl.domain(p.str("domain") or "")
    source = p.str("source")
    if source is not None and source not in ("lease", "agent"):
        raise CmdError(f"Unknown data source '{source}'")
    with failing("failed to get hostname"):
        name = ctl.conn.domain_hostname(info.uuid or info.name, source)
    ctl.print(name + "\n")
    return True


#: virshDomainControlState / virshDomainControlErrorReason words
_CONTROL_STATES = ("ok", "background job", "occupied", "error")
_CONTROL_ERRORS = ("", "unknown", "monitor failure", "internal (locking) error")


def cmd_domlaunchsecinfo(ctl: Ctl, p: Parsed) -> bool:
    """virsh's cmdDomLaunchSecInfo: each parameter as '%-15s: %s' (a guest without launch
    security has none, and prints nothing)."""
    from pyvirt.cli.fmt import typed_value

    info = ctl.domain(p.str("domain") or "")
    with failing("Unable to get launch security parameters"):
        params = ctl.conn.launch_security_info(info.uuid or info.name)
    ctl.print("".join(f"{k:<15}: {typed_value(v)}\n" for k, v in params.items()))
    return True


def cmd_domcontrol(ctl: Ctl, p: Parsed) -> bool:
    info = ctl.domain(p.str("domain") or "")
    ctrl = ctl.conn.control_info(info.uuid or info.name)
    state = int(ctrl.get("state", 0))
    word = _CONTROL_STATES[state] if 0 <= state < len(_CONTROL_STATES) else "unknown"
    details = int(ctrl.get("details", 0))
    if state not in (0, 3):
        ctl.print(f"{word} ({int(ctrl.get('state_time', 0)) / 1000.0:0.3f}s)\n")
    elif state == 3 and details > 0:
        reason = _CONTROL_ERRORS[details] if details < len(_CONTROL_ERRORS) else "unknown"
        ctl.print(f"{word}: {reason}\n")
    else:
        ctl.print(word + "\n")
    return True


def cmd_domtime(ctl: Ctl, p: Parsed) -> bool:
    for a, b in (("time", "now"), ("time", "sync"), ("now", "sync")):
        if p.has(a) and p.has(b):
            raise CmdError(f"Options --{a} and --{b} are mutually exclusive")
    info = ctl.domain(p.str("domain") or "")
    seconds = number(p.str("time"), "time")
    if seconds is not None and not -(1 << 63) <= seconds < 1 << 63:  # vshCommandOptLongLong
        raise CmdError(f"Numeric value '{p.str('time')}' for <time> option is malformed or out of range")
    now, sync = p.bool("now"), p.bool("sync")
    if seconds is not None or now or sync:
        if now:
            import time

            seconds = int(time.time())
        ctl.conn.set_time(info.uuid or info.name, seconds or 0, 0, sync=sync)
        return True
    clock = ctl.conn.get_time(info.uuid or info.name)
    if p.bool("pretty"):
        import time

        ctl.print("Time: " + time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(clock["seconds"])))
    else:
        ctl.print(f"Time: {clock['seconds']}")
    return True


#: virshDomainIOErrorToString
_IO_ERRORS = ("no error", "unspecified error", "no space")


def cmd_domblkerror(ctl: Ctl, p: Parsed) -> bool:
    info = ctl.domain(p.str("domain") or "")
    errors = ctl.conn.disk_errors(info.uuid or info.name)
    if not errors:
        ctl.print("No errors found\n")
    for e in errors:
        code = int(e.get("error", 0))
        ctl.print(f"{e.get('disk', '')}: {_IO_ERRORS[code] if 0 <= code < len(_IO_ERRORS) else 'unknown error'}\n")
    return True


def cmd_iothreadinfo(ctl: Ctl, p: Parsed) -> bool:
    for other in ("live", "config"):
        if p.bool("current") and p.bool(other):
            raise CmdError(f"Options --current and --{other} are mutually exclusive")
    info = ctl.domain(p.str("domain") or "")
    with failing("Unable to get domain IOThreads information"):
        threads = ctl.conn.iothread_info(info.uuid or info.name, live=p.bool("live"), config=p.bool("config"))
    if not threads:
        ctl.print("No IOThreads found for the domain")
        return True
    ctl.print(table(["IOThread ID", "CPU Affinity"], [[str(t["id"]), str(t["cpus"])] for t in threads]))
    return True
