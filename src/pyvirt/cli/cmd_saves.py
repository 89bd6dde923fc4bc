"""save, restore, managedsave(-remove/-dumpxml/-define/-edit), save-image-dumpxml/-define/-edit.

File names are made absolute here: the driver (pyvirtd) runs in another working directory.
Messages keep the name as the user typed it, as virsh does.
"""

from __future__ import annotations

import os

from pyvirt.cli.cmd_lifecycle import read_file
from pyvirt.cli.context import CmdError, Ctl, failing, xpath_option
from pyvirt.cli.grammar import Parsed


def _abs(path: str) -> str:
    return os.path.abspath(path) if path else path


def _state(p: Parsed) -> dict[str, bool]:
    return {"running": p.bool("running"), "paused": p.bool("paused")}


def _xml_option(p: Parsed) -> str | None:
    path = p.str("xml")
    return read_file(path) if path else None


def _finished(ctl: Ctl, p: Parsed, label: str) -> None:
    """--verbose: virshWatchJob's last progress line (the call returns once the job is complete,
    so the watch sees it at 100 %)."""
    if p.bool("verbose"):
        from pyvirt.cli.cmd_migrate import _progress

        _progress(ctl, 0, 1, label)


def cmd_save(ctl: Ctl, p: Parsed) -> bool:
    info = ctl.domain(p.str("domain") or "")
    ref = p.str("domain") or ""  # virsh names the domain as given
    path = p.str("file") or ""
    xml = _xml_option(p)
    with failing(f"Failed to save domain '{ref}' to {path}"):
        ctl.conn.save(info.uuid or info.name, _abs(path), xml=xml, bypass_cache=p.bool("bypass-cache"),
                      **_state(p))
    _finished(ctl, p, "Save")
    ctl.extra(f"\nDomain '{ref}' saved to {path}\n")
    return True


#: virsh dump --format -> the API's format word
_DUMP_FORMATS = {"kdump-zlib": "kdump-zlib", "kdump-lzo": "kdump-lzo", "kdump-snappy": "kdump-snappy",
                 "win-dmp": "win-dmp", "elf": "raw"}


def cmd_dump(ctl: Ctl, p: Parsed) -> bool:
    """virsh's doDump: --format checked here (only with --memory-only), then one driver call."""
    info = ctl.domain(p.str("domain") or "")
    ref = p.str("domain") or ""  # virsh names the domain as given
    path = p.str("file") or ""
    fmt = p.str("format")
    if fmt is not None:
        if not p.bool("memory-only"):
            raise CmdError("--format only works with --memory-only")
        if fmt not in _DUMP_FORMATS:
            raise CmdError(f"format '{fmt}' is not supported, expecting 'kdump-zlib', 'kdump-lzo', "
                           "'kdump-snappy', 'win-dmp' or 'elf'")
    with failing(f"Failed to core dump domain '{ref}' to {path}"):
        ctl.conn.core_dump(info.uuid or info.name, _abs(path), dump_format=_DUMP_FORMATS.get(fmt or "elf", "raw"),
                           live=p.bool("live"), crash=p.bool("crash"), bypass_cache=p.bool("bypass-cache"),
                           reset=p.bool("reset"), memory_only=p.bool("memory-only"))
    _finished(ctl, p, "Dump")
    ctl.extra(f"\nDomain '{ref}' dumped to {path}\n")
    return True


def cmd_restore(ctl: Ctl, p: Parsed) -> bool:
    path = p.str("file") or ""
    xml = _xml_option(p)
    with failing(f"Failed to restore domain from {path}"):
        ctl.conn.restore(_abs(path), xml=xml, bypass_cache=p.bool("bypass-cache"),
                         reset_nvram=p.bool("reset-nvram"), **_state(p))
    ctl.extra(f"Domain restored from {path}\n")
    return True


def cmd_managedsave(ctl: Ctl, p: Parsed) -> bool:
    info = ctl.domain(p.str("domain") or "")
    ref = p.str("domain") or ""  # virsh names the domain as given
    with failing(f"Failed to save domain '{ref}' state"):
        ctl.conn.managed_save(info.uuid or info.name, bypass_cache=p.bool("bypass-cache"), **_state(p))
    _finished(ctl, p, "Managedsave")
    ctl.extra(f"\nDomain '{ref}' state saved by libvirt\n")
    return True


def cmd_managedsave_remove(ctl: Ctl, p: Parsed) -> bool:
    info = ctl.domain(p.str("domain") or "")
    ref = p.str("domain") or ""  # virsh names the domain as given
    if not ctl.conn.get_info(info.uuid or info.name).managed_save:
        ctl.extra(f"Domain '{ref}' has no manage save image; removal skipped")
        return True
    with failing(f"Failed to remove managed save image for domain '{ref}'"):
        ctl.conn.managed_save_remove(info.uuid or info.name)
    ctl.extra(f"Removed managedsave image for domain '{ref}'")
    return True


def cmd_managedsave_dumpxml(ctl: Ctl, p: Parsed) -> bool:
    info = ctl.domain(p.str("domain") or "")
    xpath = xpath_option(p)
    xml = ctl.conn.managed_save_xml(info.uuid or info.name, security_info=p.bool("security-info"))
    ctl.print_xml(xml, xpath, wrap=p.bool("wrap"))
    return True


def cmd_managedsave_define(ctl: Ctl, p: Parsed) -> bool:
    xml = read_file(p.str("xml") or "")  # virsh reads the file before it looks the domain up
    info = ctl.domain(p.str("domain") or "")
    with failing(f"Failed to update {info.name} XML configuration"):
        ctl.conn.managed_save_define(info.uuid or info.name, xml, **_state(p))
    ctl.extra(f"Managed save state file of domain '{info.name}' updated.\n")
    return True


def cmd_managedsave_edit(ctl: Ctl, p: Parsed) -> bool:
    from pyvirt.cli.cmd_edit import edit_loop

    info = ctl.domain(p.str("domain") or "")
    dom = info.uuid or info.name
    original = ctl.conn.managed_save_xml(dom, security_info=True)

    def define(xml: str, validate: bool) -> str:
        ctl.conn.managed_save_define(dom, xml, **_state(p))
        return info.name

    return edit_loop(ctl, original, info.name, "Managed save image of domain '{}'", define,
                     tmp_prefix=f"pyvirt-{info.name}-save-",
                     done_message=lambda name: f"Managed save image of Domain '{name}' XML configuration edited.\n")


def cmd_save_image_dumpxml(ctl: Ctl, p: Parsed) -> bool:
    path = p.str("file") or ""
    xpath = xpath_option(p)
    xml = ctl.conn.save_image_xml(_abs(path), security_info=p.bool("security-info"))
    ctl.print_xml(xml, xpath, wrap=p.bool("wrap"))
    return True


def cmd_save_image_define(ctl: Ctl, p: Parsed) -> bool:
    path = p.str("file") or ""
    xml = read_file(p.str("xml") or "")
    with failing(f"Failed to update {path}"):
        ctl.conn.save_image_define(_abs(path), xml, **_state(p))
    ctl.extra(f"State file {path} updated.\n")
    return True


def cmd_save_image_edit(ctl: Ctl, p: Parsed) -> bool:
    from pyvirt.cli.cmd_edit import edit_loop

    path = p.str("file") or ""
    if p.bool("running") and p.bool("paused"):
        raise CmdError("Options --running and --paused are mutually exclusive")
    original = ctl.conn.save_image_xml(_abs(path), security_info=True)

    def define(xml: str, validate: bool) -> str:
        ctl.conn.save_image_define(_abs(path), xml, **_state(p))
        return path

    return edit_loop(ctl, original, path, "State file {}", define, tmp_prefix="pyvirt-save-image-",
                     done_message=lambda name: f"State file {name} edited.\n",
                     unchanged_message=f"Saved image {path} XML configuration not changed.\n")
