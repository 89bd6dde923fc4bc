"""Configuration commands: define, undefine, dumpxml, autostart, desc, domrename, setmem,
setmaxmem, setvcpus, domxml-to-native."""

from __future__ import annotations

from pyvirt.cli.cmd_lifecycle import from_file, read_file
from pyvirt.cli.context import CmdError, Ctl, failing, xpath_option
from pyvirt.cli.grammar import Parsed
from pyvirt.cli.values import number, scaled_kib


def _key(info) -> str:
    return info.uuid or info.name


def cmd_define(ctl: Ctl, p: Parsed) -> bool:
    path, info = from_file(p, "define domain", lambda xml: ctl.conn.define_xml(xml, validate=p.bool("validate")))
    ctl.extra(f"Domain '{info.name}' defined from {path}\n")
    return True


def cmd_undefine(ctl: Ctl, p: Parsed) -> bool:
    for keep in ("nvram", "tpm"):
        if p.bool(keep) and p.bool(f"keep-{keep}"):
            raise CmdError(f"Options --{keep} and --keep-{keep} are mutually exclusive")
    info = ctl.domain(p.str("domain") or "")
    remove_storage = None
    if p.str("storage") or p.bool("remove-all-storage") or p.bool("delete-storage-volume-snapshots") \
            or p.bool("wipe-storage"):
        from pyvirt.cli.cmd_vol import undefine_storage

        # volumes are resolved before the domain goes: a bad --storage changes nothing
        remove_storage = undefine_storage(ctl, _key(info), p)
    ref = p.str("domain") or ""  # virsh names it as given (an ID or UUID stays one)
    with failing(f"Failed to undefine domain '{ref}'"):
        ctl.conn.undefine(_key(info), managed_save=p.bool("managed-save"), nvram=p.bool("nvram"),
                          keep_nvram=p.bool("keep-nvram"), tpm=p.bool("tpm"), keep_tpm=p.bool("keep-tpm"),
                          snapshots_metadata=p.bool("snapshots-metadata"),
                          checkpoints_metadata=p.bool("checkpoints-metadata"))
    ctl.extra(f"Domain '{ref}' has been undefined\n")
    return remove_storage() if remove_storage is not None else True


def cmd_dumpxml(ctl: Ctl, p: Parsed) -> bool:
    info = ctl.domain(p.str("domain") or "")
    xpath = xpath_option(p)
    xml = ctl.conn.get_xml(_key(info), inactive=p.bool("inactive"), security_info=p.bool("security-info"),
                           update_cpu=p.bool("update-cpu"), migratable=p.bool("migratable"))
    ctl.print_xml(xml, xpath, wrap=p.bool("wrap"))
    return True


def cmd_autostart(ctl: Ctl, p: Parsed) -> bool:
    info = ctl.domain(p.str("domain") or "")
    enable = not p.bool("disable")
    ref = p.str("domain") or ""
    with failing(f"Failed to {'mark' if enable else 'unmark'} domain '{ref}' as autostarted"):
        ctl.conn.set_autostart(_key(info), enable)
    ctl.extra(f"Domain '{ref}' {'marked' if enable else 'unmarked'} as autostarted\n")
    return True


def _metadata_text(xml: str, tag: str) -> str:
    """<title>/<description> of our own driver's XML (stdlib parser: trusted, local data)."""
    import xml.etree.ElementTree as ET

    el = ET.fromstring(xml).find(tag)
    return el.text or "" if el is not None else ""


def cmd_desc(ctl: Ctl, p: Parsed) -> bool:
    """virsh's cmdDesc: show, set, or (--edit) edit the text in $EDITOR starting from the words
    given or the current text; an edit that leaves the domain's text as it was sets nothing."""
    live, config = _scope(p)
    info = ctl.domain(p.str("domain") or "")
    title = p.bool("title")
    kind = "title" if title else "description"
    words = p.argv("new-desc")
    if p.bool("edit"):
        from pyvirt.cli.cmd_edit import edit_text

        current = _metadata_text(ctl.conn.get_xml(_key(info), inactive=config), kind)
        edited = edit_text(" ".join(words) if words else current)
        if edited == current:  # compared with the domain's text, not with the words given
            ctl.extra(f"Domain {kind} not changed\n")
            return True
        words = [edited]
    if not words:
        xml = ctl.conn.get_xml(_key(info), inactive=config)
        text = _metadata_text(xml, kind)
        if text:
            ctl.print(text)  # virsh ends it with its after-command line
        else:
            ctl.extra(f"No {kind} for domain: {info.name}")
        return True
    with failing(f"Failed to set new domain {kind}"):
        ctl.conn.set_metadata(_key(info), kind, " ".join(words), live=live, config=config)
    ctl.extra(f"Domain {kind} updated successfully")
    return True


def cmd_domrename(ctl: Ctl, p: Parsed) -> bool:
    info = ctl.domain(p.str("domain") or "")
    ctl.conn.rename(_key(info), p.str("new-name") or "")
    ctl.extra("Domain successfully renamed\n")
    return True


def _scope(p: Parsed) -> tuple[bool, bool]:
    if p.bool("current") and (p.bool("live") or p.bool("config")):
        other = "live" if p.bool("live") else "config"
        raise CmdError(f"Options --current and --{other} are mutually exclusive")
    return p.bool("live"), p.bool("config")


def _legacy_live(p: Parsed, live: bool, config: bool) -> bool:
    """virsh calls the API without flags (virDomainSetMemory, virDomainSetVcpus) when no scope
    is given, and every driver implements that one as the live change (VIR_DOMAIN_AFFECT_LIVE:
    a shut-off domain is refused), not as --current."""
    return live or not (config or p.bool("current"))


def cmd_setmem(ctl: Ctl, p: Parsed) -> bool:
    live, config = _scope(p)
    live = _legacy_live(p, live, config)
    info = ctl.domain(p.str("domain") or "")
    kib = scaled_kib(p.str("size") or "", "size")
    ctl.conn.set_memory(_key(info), kib, live=live, config=config)
    return True


def cmd_setmaxmem(ctl: Ctl, p: Parsed) -> bool:
    live, config = _scope(p)
    info = ctl.domain(p.str("domain") or "")
    kib = scaled_kib(p.str("size") or "", "size")
    with failing("Unable to change MaxMemorySize"):
        ctl.conn.set_memory(_key(info), kib, live=live, config=config, maximum=True)
    return True


def cmd_setvcpus(ctl: Ctl, p: Parsed) -> bool:
    live, config = _scope(p)
    if p.bool("guest") and config:
        raise CmdError("Options --guest and --config are mutually exclusive")
    if p.bool("maximum") and not config:
        raise CmdError("Option --config is required by option --maximum")
    info = ctl.domain(p.str("domain") or "")
    count = number(p.str("count"), "count")  # an unsigned int (the table's type)
    if not count:
        raise CmdError("Can't set 0 processors for a VM")
    extra = {k: True for k in ("guest", "hotpluggable") if p.bool(k)}
    if not extra and not p.bool("maximum"):
        live = _legacy_live(p, live, config)
    if extra:
        ctl.conn.set_vcpus(_key(info), count, live=live, config=config, maximum=p.bool("maximum"), **extra)
    else:  # a driver that predates `guest` and `hotpluggable` keeps working
        ctl.conn.set_vcpus(_key(info), count, live=live, config=config, maximum=p.bool("maximum"))
    return True


def cmd_vcpucount(ctl: Ctl, p: Parsed) -> bool:
    """virsh's cmdVcpucount: one count, or with no option the four rows it can get (a shut-off
    domain has no live ones)."""
    flags = {n: p.bool(n) for n in ("maximum", "active", "live", "config", "current", "guest")}
    for a, b in (("live", "config"), ("active", "maximum"), ("guest", "config")):  # --current goes with either
        if flags[a] and flags[b]:
            raise CmdError(f"Options --{a} and --{b} are mutually exclusive")
    info = ctl.domain(p.str("domain") or "")
    key = _key(info)
    if not any(flags.values()):
        rows = [("maximum", "config", {"config": True, "maximum": True}),
                ("maximum", "live", {"live": True, "maximum": True}),
                ("current", "config", {"config": True}), ("current", "live", {"live": True})]
        ctl.print("".join(f"{which:<12} {state:<12} {ctl.conn.vcpu_count(key, **kw):3d}\n"
                          for which, state, kw in rows if state == "config" or info.active))
        return True
    call = {"live": flags["live"], "config": flags["config"], "maximum": flags["maximum"], "guest": flags["guest"]}
    if flags["guest"]:
        with failing("Failed to retrieve vCPU count from the guest"):
            count = ctl.conn.vcpu_count(key, **call)
    else:
        count = ctl.conn.vcpu_count(key, **call)
    ctl.print(f"{count}\n")
    return True


def cmd_domxml_to_native(ctl: Ctl, p: Parsed) -> bool:
    """Through the connection, as libvirt does: pyvirtd builds the command line (the CLI never
    imports the QEMU driver); the test driver answers "not supported" like libvirt's."""
    fmt = p.str("format") or ""
    if p.str("domain") and p.str("xml"):
        raise CmdError("Options --domain and --xml are mutually exclusive")
    if p.str("domain"):
        info = ctl.domain(p.str("domain") or "")
        xml = ctl.conn.get_xml(_key(info))
    elif p.str("xml"):
        xml = read_file(p.str("xml") or "")
    else:
        raise CmdError("need either domain or domain XML")
    out = ctl.conn.domain_xml_to_native(fmt, xml)
    ctl.print(out if out.endswith("\n") else out + "\n")
    return True
