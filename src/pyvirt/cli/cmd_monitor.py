"""qemu-monitor-command: a raw QMP (or HMP) command for a running guest, as virsh 9.0 sends it;
domdirtyrate-calc: start measuring a guest's memory dirty rate (read back by domstats --dirtyrate).

virsh wraps a bare command name into a QMP object ({"execute": NAME, "arguments": REST-as-JSON})
when the words are not a JSON object already, and prints QEMU's reply as it came, or reformatted
(--pretty) or only its "return" member (--return-value).
"""

from __future__ import annotations

from pyvirt.cli.context import CmdError, Ctl
from pyvirt.cli.grammar import Parsed


def _qmp_wrap(words: list[str]) -> str:
    """virsh's cmdQemuMonitorCommandQMPWrap: the words joined by blanks when that is a JSON object
    (as libvirt's parser judges it: pyvirt.cli.yajl), else the first word is the command and the
    others, joined by commas inside braces, its arguments -- refused with virsh's line and
    libvirt's parse error when they are no JSON object."""
    import json

    from pyvirt.cli.yajl import parse_error

    full = " ".join(words)
    if full.lstrip(" \t\n\v\f\r").startswith("{") and parse_error(full) is None:
        return full
    command: dict[str, object] = {"execute": words[0] if words else ""}
    if len(words) > 1:
        arguments = "{" + ",".join(words[1:]) + "}"
        error = parse_error(arguments)
        if error is not None:
            raise CmdError(f"failed to wrap arguments '{' '.join(words[1:])}' into a QMP command wrapper", error)
        command["arguments"] = json.loads(arguments)
    return json.dumps(command, separators=(",", ":"))


def cmd_qemu_monitor_command(ctl: Ctl, p: Parsed) -> bool:
    import json

    for other in ("pretty", "return-value"):
        if p.bool("hmp") and p.bool(other):
            raise CmdError(f"Options --hmp and --{other} are mutually exclusive")
    info = ctl.domain(p.str("domain") or "")
    hmp = p.bool("hmp")
    command = " ".join(p.argv("cmd")) if hmp else _qmp_wrap(p.argv("cmd"))
    from pyvirt.cli.values import pass_fds

    if pass_fds(p):  # no pyvirt driver passes descriptors to QEMU's monitor
        from pyvirt.api import no_support

        raise CmdError(no_support("virDomainQemuMonitorCommandWithFiles").message)
    result = ctl.conn.qemu_monitor_command(info.uuid or info.name, command, hmp=hmp)
    if not (p.bool("pretty") or p.bool("return-value")):
        ctl.print(result + "\n")
        return True
    try:
        reply = json.loads(result)
    except ValueError:
        if p.bool("return-value"):
            raise CmdError("Failed to parse JSON") from None
        ctl.print(result + "\n")
        return True
    if p.bool("return-value"):
        if not isinstance(reply, dict) or "return" not in reply:
            raise CmdError("'return' member missing")
        reply = reply["return"]
    from pyvirt.cli.fmt import pretty_json

    ctl.print(pretty_json(reply) if p.bool("pretty") else json.dumps(reply, separators=(",", ":")))
    return True


def cmd_domdirtyrate_calc(ctl: Ctl, p: Parsed) -> bool:
    """virsh's cmdDomDirtyRateCalc: the domain, --seconds (an int, 1 by default), --mode by name."""
    from pyvirt.cli.values import number, required

    info = ctl.domain(p.str("domain") or "")
    seconds = number(p.str("seconds"), "seconds", 1)
    if seconds is None or not -(1 << 31) <= seconds < 1 << 31:
        raise CmdError(f"Numeric value '{p.str('seconds')}' for <seconds> option is malformed or out of range")
    mode = required(p.str("mode"), "mode")
    if mode is not None and mode not in ("page-sampling", "dirty-bitmap", "dirty-ring"):
        raise CmdError(f"Unknown calculation mode '{mode}'")
    ctl.conn.start_dirty_rate_calc(info.uuid or info.name, seconds, mode or "page-sampling")
    ctl.extra("Start to calculate domain's memory dirty rate successfully.\n")
    return True
