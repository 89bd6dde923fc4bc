"""Commands answered by the guest's QEMU guest agent: domfsinfo, domfsfreeze, domfsthaw,
domfstrim, guestinfo, guestvcpus, get-user-sshkeys, set-user-sshkeys, set-user-password,
qemu-agent-command, guest-agent-timeout, dompmsuspend, dompmwakeup — with virsh's output
and option checks (virsh-domain.c); the driver does the rest (pyvirtd: daemon/agent_ops.py).
"""

from __future__ import annotations

from pyvirt.cli.context import CmdError, Ctl, failing
from pyvirt.cli.fmt import table, typed_value
from pyvirt.cli.grammar import Parsed
from pyvirt.cli.values import number

#: guestinfo's options -> virDomainGuestInfoTypes words the driver takes
_GUEST_INFO = (("user", "users"), ("os", "os"), ("timezone", "timezone"), ("hostname", "hostname"),
               ("filesystem", "filesystem"), ("disk", "disks"), ("interface", "interfaces"))


def _dom(ctl: Ctl, p: Parsed) -> tuple[str, str]:
    info = ctl.domain(p.str("domain") or "")
    return info.uuid or info.name, info.name


def _exclusive(p: Parsed, *pairs: tuple[str, str]) -> None:
    for a, b in pairs:
        if p.has(a) and p.has(b):
            raise CmdError(f"Options --{a} and --{b} are mutually exclusive")


def cmd_domfsinfo(ctl: Ctl, p: Parsed) -> bool:
    key, _ = _dom(ctl, p)
    with failing("Unable to get filesystem information"):
        filesystems = ctl.conn.fs_info(key)
    if not filesystems:
        ctl.print("No filesystems are mounted in the domain")
        return True
    rows = [[fs["mountpoint"], fs["name"], fs["fstype"], ",".join(fs.get("devices") or [])] for fs in filesystems]
    ctl.print(table(["Mountpoint", "Name", "Type", "Target"], rows))
    return True


def _freeze_or_thaw(ctl: Ctl, p: Parsed, freeze: bool) -> bool:
    key, _ = _dom(ctl, p)
    call, verb, done = (ctl.conn.fs_freeze, "freeze", "Froze") if freeze else (ctl.conn.fs_thaw, "thaw", "Thawed")
    with failing(f"Unable to {verb} filesystems"):
        count = call(key, p.argv("mountpoint") or None)
    ctl.print(f"{done} {count} filesystem(s)\n")
    return True


def cmd_domfsfreeze(ctl: Ctl, p: Parsed) -> bool:
    return _freeze_or_thaw(ctl, p, True)


def cmd_domfsthaw(ctl: Ctl, p: Parsed) -> bool:
    return _freeze_or_thaw(ctl, p, False)


def cmd_domfstrim(ctl: Ctl, p: Parsed) -> bool:
    key, _ = _dom(ctl, p)
    minimum = number(p.str("minimum"), "minimum", 0) or 0
    if minimum < 0:
        raise CmdError(f"Numeric value '{p.str('minimum')}' for <minimum> option is malformed or out of range")
    with failing("Unable to invoke fstrim"):
        ctl.conn.fs_trim(key, p.str("mountpoint"), minimum)
    return True


def cmd_guestinfo(ctl: Ctl, p: Parsed) -> bool:
    key, _ = _dom(ctl, p)
    types = [word for option, word in _GUEST_INFO if p.bool(option)]
    params = ctl.conn.guest_info(key, types or None)
    ctl.print("".join(f"{name:<20}: {typed_value(value)}\n" for name, value in params.items()))
    return True


def cmd_guestvcpus(ctl: Ctl, p: Parsed) -> bool:
    _exclusive(p, ("enable", "disable"))
    for flag in ("enable", "disable"):
        if p.bool(flag) and not p.has("cpulist"):
            raise CmdError(f"Option --cpulist is required by option --{flag}")
    cpulist = p.str("cpulist")  # read and checked before the domain is looked up, as virsh does
    if cpulist is not None and not (p.bool("enable") or p.bool("disable")):
        raise CmdError("One of options --enable or --disable is required by option --cpulist")
    key, _ = _dom(ctl, p)
    if cpulist is not None:
        ctl.conn.set_guest_vcpus(key, cpulist, p.bool("enable"))
        return True
    params = ctl.conn.guest_vcpus(key)
    ctl.print("".join(f"{name:<15}: {typed_value(value)}\n" for name, value in params.items()))
    return True


def cmd_get_user_sshkeys(ctl: Ctl, p: Parsed) -> bool:
    key, _ = _dom(ctl, p)
    keys = ctl.conn.authorized_ssh_keys(key, p.str("user") or "")
    ctl.print("".join(f"{k}\n" for k in keys))
    return True


def cmd_set_user_sshkeys(ctl: Ctl, p: Parsed) -> bool:
    """virsh's cmdSetUserSSHKeys: --remove removes the file's keys, --reset replaces all keys
    with the file's (none: clears them), otherwise the file's keys are appended."""
    from pyvirt.cli.cmd_lifecycle import read_file

    path = p.str("file")
    remove, reset = p.bool("remove"), p.bool("reset")
    if remove and path is None:
        raise CmdError("Option --file is required by option --remove")
    key, _ = _dom(ctl, p)
    append = not remove and not reset
    if append and path is None:
        raise CmdError("Option --file is required")
    keys: list[str] = []
    if path is not None:
        keys = [line for line in read_file(path).split("\n") if line.strip()]
        if not keys:
            raise CmdError(f"File {path} contains no keys")
    ctl.conn.set_authorized_ssh_keys(key, p.str("user") or "", keys, append=append, remove=remove)
    return True


def cmd_set_user_password(ctl: Ctl, p: Parsed) -> bool:
    key, _ = _dom(ctl, p)
    user = p.str("user") or ""
    ctl.conn.set_user_password(key, user, p.str("password") or "", encrypted=p.bool("encrypted"))
    ctl.print(f"Password set successfully for {user} in {p.str('domain')}")  # named as given
    return True


def cmd_qemu_agent_command(ctl: Ctl, p: Parsed) -> bool:
    key, _ = _dom(ctl, p)
    command = " ".join(p.argv("cmd"))
    timeout, chosen = -1, 0  # VIR_DOMAIN_QEMU_AGENT_COMMAND_DEFAULT
    if p.has("timeout"):
        timeout = number(p.str("timeout"), "timeout") or 0
        if timeout < 1:
            raise CmdError("timeout must be positive")
        chosen += 1
    if p.bool("async"):
        timeout, chosen = 0, chosen + 1
    if p.bool("block"):
        timeout, chosen = -2, chosen + 1
    if chosen > 1:
        raise CmdError("timeout, async and block options are exclusive")
    result = ctl.conn.qemu_agent_command(key, command, timeout)
    if p.bool("pretty") and result:
        import json

        from pyvirt.cli.fmt import pretty_json

        result = pretty_json(json.loads(result))
    ctl.print(f"{result}\n")
    return True


def cmd_guest_agent_timeout(ctl: Ctl, p: Parsed) -> bool:
    key, _ = _dom(ctl, p)
    timeout = number(p.str("timeout"), "timeout", -2)
    ctl.conn.agent_set_timeout(key, -2 if timeout is None else timeout)
    return True


def cmd_dompmsuspend(ctl: Ctl, p: Parsed) -> bool:
    key, name = _dom(ctl, p)
    duration = number(p.str("duration"), "duration", 0) or 0
    if duration < 0:
        raise CmdError(f"Numeric value '{p.str('duration')}' for <duration> option is malformed or out of range")
    target = p.str("target") or ""
    if target not in ("mem", "disk", "hybrid"):
        raise CmdError("Invalid target")
    with failing(f"Domain '{name}' could not be suspended"):
        ctl.conn.pm_suspend(key, target, duration)
    ctl.print(f"Domain '{name}' successfully suspended\n")
    return True


def cmd_dompmwakeup(ctl: Ctl, p: Parsed) -> bool:
    key, name = _dom(ctl, p)
    with failing(f"Domain '{name}' could not be woken up"):
        ctl.conn.pm_wakeup(key)
    ctl.print(f"Domain '{name}' successfully woken up\n")
    return True
