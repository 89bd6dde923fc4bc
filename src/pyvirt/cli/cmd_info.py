"""Commands that show one domain's identity and state: dominfo, domstate, domid, domname, domuuid."""

from __future__ import annotations

from pyvirt.cli.context import CmdError, Ctl
from pyvirt.cli.fmt import keyvalues, reason_word, state_word
from pyvirt.cli.grammar import Parsed


def _ref(p: Parsed) -> str:
    return p.str("domain") or ""


def cmd_dominfo(ctl: Ctl, p: Parsed) -> bool:
    info = ctl.conn.get_info(ctl.domain(_ref(p)).uuid)  # virDomainGetInfo, as virsh asks
    pairs = [
        ("Id", str(info.id) if info.active else "-"),
        ("Name", info.name),
        ("UUID", info.uuid),
        ("OS Type", info.os_type),
        ("State", state_word(info.state)),
        ("CPU(s)", str(info.vcpus)),
    ]
    if info.cpu_time_ns:  # virsh's rule: shown whenever the driver reports any
        pairs.append(("CPU time", f"{info.cpu_time_ns / 1e9:.1f}s"))
    pairs.append(("Max memory", "no limit" if info.max_mem_kib >= 2**64 - 1 else f"{info.max_mem_kib} KiB"))
    pairs.append(("Used memory", f"{info.mem_kib} KiB"))
    if ctl.debugging(ctl.DEBUG):  # virsh logs the persistent flag as it asks for it
        ctl.print(keyvalues(pairs))
        ctl.debug_msg(ctl.DEBUG, f"Domain persistent flag value: {int(info.persistent)}\n")
        pairs = []
    pairs += [
        ("Persistent", "yes" if info.persistent else "no"),
        ("Autostart", "enable" if info.autostart else "disable"),
        ("Managed save", "yes" if info.managed_save else "no"),
    ]
    # virsh prints the Security lines only when the host has a security model
    sec = ctl.conn.get_security_label(info.uuid or info.name)
    if sec.get("model"):
        pairs += [("Security model", sec["model"]), ("Security DOI", sec.get("doi", ""))]
        if sec.get("label"):
            mode = "enforcing" if sec.get("enforcing", True) else "permissive"
            pairs.append(("Security label", f"{sec['label']} ({mode})"))
    messages = ctl.conn.get_messages(info.uuid or info.name)
    if messages:  # virsh: one "Messages:" line, the others under it at the value column
        pairs.append(("Messages", ("\n" + " " * 16).join(messages)))
    ctl.print(keyvalues(pairs))
    return True


def cmd_domstate(ctl: Ctl, p: Parsed) -> bool:
    info = ctl.domain(_ref(p))
    state, reason = ctl.conn.get_state(info.uuid or info.name)
    if p.bool("reason"):
        ctl.print(f"{state_word(state)} ({reason_word(state, reason)})\n")
    else:
        ctl.print(f"{state_word(state)}\n")
    return True


def cmd_domid(ctl: Ctl, p: Parsed) -> bool:
    ref = _ref(p)
    if ref.isdigit() and not any(d.name == ref for d in ctl.conn.list_domain_names()):
        raise CmdError(f"failed to get domain '{ref}'")  # virsh looks up by name or UUID only, never by ID
    info = ctl.domain(ref)
    ctl.print(f"{info.id}\n" if info.active else "-\n")
    return True


def cmd_domname(ctl: Ctl, p: Parsed) -> bool:
    from pyvirt.cli.values import is_uuid

    ref = _ref(p)
    if not ref.isdigit() and not is_uuid(ref):  # virsh looks up by ID or UUID only, never by name
        raise CmdError(f"failed to get domain '{ref}'")
    ctl.print(ctl.domain(ref).name + "\n")
    return True


def cmd_domuuid(ctl: Ctl, p: Parsed) -> bool:
    from pyvirt.cli.values import is_uuid

    ref = _ref(p)
    if is_uuid(ref) and not ref.isdigit():  # virsh looks up by ID or name only, never by UUID
        matches = [d for d in ctl.conn.list_domain_names() if d.name == ref]
        if not matches:
            raise CmdError(f"failed to get domain '{ref}'")
    ctl.print(ctl.domain(ref).uuid + "\n")
    return True
