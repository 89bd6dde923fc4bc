"""Lifecycle commands: start, create, destroy, shutdown, reboot, reset, suspend, resume.

Each one resolves the domain first (so a bad name reads "failed to get domain"), calls the
connection once, and wraps a failure as virsh does: "Failed to <verb> domain 'x'" followed by
the driver's own message.
"""

from __future__ import annotations

from pyvirt.cli.context import CmdError, Ctl, failing, pyvirt_error
from pyvirt.cli.grammar import Parsed

TYPE_CHECKING = False  # no typing import at start-up (see context.py)

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TypeVar

    T = TypeVar("T")


#: virsh's VSH_MAX_XML_FILE: the most an XML file argument may hold
MAX_XML_FILE = 10 << 20


def read_file(path: str) -> str:
    """virFileReadAll(path, VSH_MAX_XML_FILE)'s wording, which virsh shows when FILE cannot be
    opened ("Failed to open"), read ("Failed to read": a directory) or is over 10 MiB (read no
    further: /dev/zero must not take this process's memory).  virsh hands what it read on as a
    C string: it ends at the first NUL byte.  Bytes that are not UTF-8 travel as they are
    (decoded with surrogateescape; safe_parse gives them back to libxml2), so the XML parser
    reports them where libvirt's does, instead of this reader failing on them."""
    try:
        fh = open(path, "rb")  # noqa: SIM115 - open and read fail with different words
    except IsADirectoryError as exc:  # C's open() takes a directory, its read() fails
        raise CmdError(f"Failed to read file '{path}': {exc.strerror}") from None
    except OSError as exc:
        raise CmdError(f"Failed to open file '{path}': {exc.strerror}") from None
    with fh:
        try:
            data = fh.read(MAX_XML_FILE + 1)
        except OSError as exc:
            raise CmdError(f"Failed to read file '{path}': {exc.strerror}") from None
    if len(data) > MAX_XML_FILE:
        raise CmdError(f"Failed to read file '{path}': Value too large for defined data type")
    return data.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def from_file(p: Parsed, what: str, call: Callable[[str], T]) -> tuple[str, T]:
    """Read --file and hand its XML to `call`: the define/create commands of domains, pools and
    volumes.  A driver error reads "Failed to <what> from FILE"; returns (FILE, call's result)."""
    path = p.str("file") or ""
    xml = read_file(path)
    with failing(f"Failed to {what} from {path}"):
        return path, call(xml)


def _act(ctl: Ctl, p: Parsed, verb: str, done: str, call) -> bool:
    """virsh's messages name the domain as the command line did (virshCommandOptDomain's name:
    an ID or UUID stays one), not by its name."""
    ref = p.str("domain") or ""
    info = ctl.domain(ref)
    with failing(f"Failed to {verb} domain '{ref}'"):
        call(info.uuid or info.name)
    ctl.extra(f"Domain '{ref}' {done}\n")
    return True


def _console(ctl: Ctl, p: Parsed, name: str) -> bool:
    """start/create --console: attach once the domain runs."""
    if not p.bool("console"):
        return True
    from pyvirt.cli.cmd_console import run_console

    return run_console(ctl, name)


def _startable(ctl: Ctl, ref: str):  # noqa: ANN202 (DomainInfo: typing-only import)
    """virsh's start: the domain by name or UUID, never by id, and not running."""
    found = ctl.domain(ref)  # "failed to get domain" when there is none
    if ref not in (found.name, found.uuid) and ref.lower() != found.uuid:
        raise CmdError(f"failed to get domain '{ref}'")
    if found.active:
        raise CmdError("Domain is already active")
    return found


def cmd_start(ctl: Ctl, p: Parsed) -> bool:
    """One request when it works (start resolves the name or UUID itself and returns the domain);
    only a failure looks the domain up, to word the error as virsh does.  virsh's start finds its
    domain by name or UUID, never by id: a number that is only some running domain's id is
    "failed to get domain"."""
    ref = p.str("domain") or ""
    flags = {"paused": p.bool("paused"), "autodestroy": p.bool("autodestroy"), "force_boot": p.bool("force-boot"),
             **({"bypass_cache": True} if p.bool("bypass-cache") else {}),
             **({"reset_nvram": True} if p.bool("reset-nvram") else {})}
    fds: list[int] = []
    if p.has("pass-fds"):  # virsh checks the domain before it reads the descriptors
        from pyvirt.cli.values import pass_fds  # not before the request otherwise (pyvirt.xml.units)

        _startable(ctl, ref)
        fds = pass_fds(p)
    try:
        # with descriptors virDomainCreateWithFiles, the same flags (no transport of pyvirt's carries the files)
        info = ctl.conn.start_with_files(ref, **flags) if fds else ctl.conn.start(ref, **flags)
    except pyvirt_error() as exc:  # pyvirt.api loads with the reply, after the request left
        found = _startable(ctl, ref)
        raise CmdError(f"Failed to start domain '{found.name}'", exc.message) from None  # type: ignore[attr-defined]
    ctl.extra(f"Domain '{info.name}' started\n")
    return _console(ctl, p, info.name)


def cmd_create(ctl: Ctl, p: Parsed) -> bool:
    """virsh's cmdCreate: the file read, then --pass-fds, then virDomainCreateXML(WithFiles)."""
    from pyvirt.cli.values import pass_fds

    path = p.str("file") or ""
    xml = read_file(path)
    flags = {"paused": p.bool("paused"), "autodestroy": p.bool("autodestroy"), "validate": p.bool("validate")}
    create = ctl.conn.create_xml_with_files if pass_fds(p) else ctl.conn.create_xml
    with failing(f"Failed to create domain from {path}"):
        info = create(xml, **flags)
    ctl.extra(f"Domain '{info.name}' created from {path}\n")
    return _console(ctl, p, info.name)


def cmd_destroy(ctl: Ctl, p: Parsed) -> bool:
    graceful, remove_logs = p.bool("graceful"), p.bool("remove-logs")
    return _act(ctl, p, "destroy", "destroyed", lambda d: ctl.conn.destroy(d, graceful=graceful, remove_logs=remove_logs))


_MODES = ("acpi", "agent", "initctl", "signal", "paravirt")


def _mode(p: Parsed, comma: str) -> str | None:
    """virsh's check of --mode, before the domain is looked up: each comma-separated word a
    known mode (shutdown's message has a serial comma, reboot's none)."""
    mode = p.str("mode")
    for word in (mode or "").split(","):
        if mode is not None and word not in _MODES:
            raise CmdError(f"Unknown mode {word} value, expecting 'acpi', 'agent', 'initctl', 'signal'{comma} or "
                           "'paravirt'")
    return mode


def cmd_shutdown(ctl: Ctl, p: Parsed) -> bool:
    mode = _mode(p, ",")
    return _act(ctl, p, "shutdown", "is being shutdown", lambda d: ctl.conn.shutdown(d, mode))


def cmd_reboot(ctl: Ctl, p: Parsed) -> bool:
    mode = _mode(p, "")
    return _act(ctl, p, "reboot", "is being rebooted", lambda d: ctl.conn.reboot(d, mode))


def cmd_inject_nmi(ctl: Ctl, p: Parsed) -> bool:
    """virsh inject-nmi: silent on success."""
    info = ctl.domain(p.str("domain") or "")
    ctl.conn.inject_nmi(info.uuid or info.name)
    return True


def cmd_reset(ctl: Ctl, p: Parsed) -> bool:
    return _act(ctl, p, "reset", "was reset", ctl.conn.reset)


def cmd_suspend(ctl: Ctl, p: Parsed) -> bool:
    return _act(ctl, p, "suspend", "suspended", ctl.conn.suspend)


def cmd_resume(ctl: Ctl, p: Parsed) -> bool:
    return _act(ctl, p, "resume", "resumed", ctl.conn.resume)
