"""virsh 9.0's Secret commands: secret-define, secret-undefine, secret-dumpxml, secret-list,
secret-get-value, secret-set-value, secret-event.

Values cross the connection base64-encoded; this module decodes what the user gives the way
virsh does (glib's lenient base64 decoder) and never prints a value anywhere but the
secret-get-value output that asks for it.  Every message, and the order of the checks, is
virsh's: scripts grep for "Secret ... created".
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from pyvirt.cli.cmd_lifecycle import from_file
from pyvirt.cli.context import CmdError, Ctl, failing, xpath_option
from pyvirt.cli.fmt import table
from pyvirt.cli.grammar import Parsed
from pyvirt.cli.values import number
from pyvirt.secret import glib_b64decode

if TYPE_CHECKING:
    from pyvirt.api import SecretInfo

#: secret-event's names (``secret-event --list``) and virshSecretEventToString's words
EVENT_NAMES = ("lifecycle", "value-changed")
_EVENT_WORDS = ("Defined", "Undefined")
#: virFileReadAll's limit in secret-set-value --file
MAX_FILE = 1024


def get_secret(ctl: Ctl, ref: str) -> SecretInfo:
    """virshCommandOptSecret: a lookup by UUID only, the UUID checked on the client side as
    libvirt's virSecretLookupByUUIDString does; a miss prints "failed to get secret 'REF'" and
    the reason."""
    from pyvirt.api import PyvirtError
    from pyvirt.xml.uuids import parse_uuid

    uuid = parse_uuid(ref)
    if uuid is None:
        raise CmdError(f"failed to get secret '{ref}'",
                       "uuidstr in virSecretLookupByUUIDString must be a valid UUID")
    try:
        return ctl.conn.lookup_secret(uuid)
    except PyvirtError as exc:
        raise CmdError(f"failed to get secret '{ref}'", exc.message) from None


# ------------------------------------------------------------------------------------ attributes
def cmd_secret_define(ctl: Ctl, p: Parsed) -> bool:
    _, info = from_file(p, "set attributes", lambda xml: ctl.conn.define_secret(xml, p.bool("validate")))
    ctl.extra(f"Secret {info.uuid} created\n")
    return True


def cmd_secret_undefine(ctl: Ctl, p: Parsed) -> bool:
    ref = p.str("secret") or ""
    info = get_secret(ctl, ref)
    with failing(f"Failed to delete secret {ref}"):
        ctl.conn.undefine_secret(info.uuid)
    ctl.extra(f"Secret {ref} deleted\n")
    return True


def cmd_secret_dumpxml(ctl: Ctl, p: Parsed) -> bool:
    info = get_secret(ctl, p.str("secret") or "")
    xpath = xpath_option(p)
    ctl.print_xml(ctl.conn.get_secret_xml(info.uuid), xpath, wrap=p.bool("wrap"))
    return True


def _usage(info: SecretInfo) -> str:
    return f"{info.usage_type} {info.usage_id}" if info.usage_type != "none" else "Unused"


def cmd_secret_list(ctl: Ctl, p: Parsed) -> bool:
    from pyvirt.api import ErrorCode, PyvirtError, no_support

    filters = {k: p.bool(k) for k in ("ephemeral", "no-ephemeral", "private", "no-private")}
    try:
        secrets = ctl.conn.list_secrets()
    except PyvirtError as exc:
        if exc.code != ErrorCode.NO_SUPPORT:
            raise CmdError("Failed to list node secrets", exc.message) from None
        # virsh falls back to the pre-0.10.2 calls, which cannot filter
        if any(filters.values()):
            raise CmdError("Filtering is not supported by this libvirt") from None
        raise CmdError("Failed to count secrets", no_support("virConnectNumOfSecrets").message) from None

    def wanted(info: SecretInfo) -> bool:  # virSecretObjMatch: each pair filters when one side is given
        for flag, attr in (("ephemeral", info.ephemeral), ("private", info.private)):
            if (filters[flag] or filters[f"no-{flag}"]) and not (filters[flag] and attr
                                                                 or filters[f"no-{flag}"] and not attr):
                return False
        return True

    rows = [[s.uuid, _usage(s)] for s in sorted(secrets, key=lambda s: s.uuid) if wanted(s)]
    ctl.print(table(["UUID", "Usage"], rows, show_header=not ctl.quiet))
    return True


# ------------------------------------------------------------------------------------ values
def cmd_secret_get_value(ctl: Ctl, p: Parsed) -> bool:
    import base64

    info = get_secret(ctl, p.str("secret") or "")
    encoded = ctl.conn.get_secret_value(info.uuid)
    if not p.bool("plain"):  # no newline of its own: vshCommandRun's line ends it
        ctl.print(encoded)
        return True
    raw = base64.b64decode(encoded)
    ctl.out.flush()
    stream = getattr(ctl.out, "buffer", None)
    if stream is not None:
        stream.write(raw)
        stream.flush()
    else:  # a text-only stream (tests): the bytes as code points
        ctl.print(raw.decode("latin-1"))
    return True


def _exclusive(p: Parsed, *pairs: tuple[str, str]) -> None:
    for a, b in pairs:
        if p.has(a) and p.has(b):
            raise CmdError(f"Options --{a} and --{b} are mutually exclusive")


def _read_value_file(path: str) -> bytes:
    """virFileReadAll(path, 1024): its words when the file cannot be read or is larger."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_FILE + 1)
    except OSError as exc:
        raise CmdError(f"Failed to open file '{path}': {exc.strerror}") from None
    if len(data) > MAX_FILE:
        raise CmdError(f"Failed to read file '{path}': Value too large for defined data type")
    return data


def _read_interactive(ctl: Ctl) -> bytes:
    """virGetPassword: a line from the terminal without echo (stdin when there is none)."""
    ctl.print("Enter new value for secret:")
    ctl.out.flush()
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass("").encode()
    line = sys.stdin.readline(MAX_FILE + 1)
    return line.rstrip("\n").encode()


def cmd_secret_set_value(ctl: Ctl, p: Parsed) -> bool:
    import base64

    _exclusive(p, ("file", "base64"), ("plain", "base64"), ("interactive", "base64"), ("interactive", "plain"),
               ("interactive", "file"))
    info = get_secret(ctl, p.str("secret") or "")
    text, path = p.str("base64"), p.str("file")
    from pyvirt.cli.values import required

    for name, value in (("base64", text), ("file", path)):
        required(value, name)
    interactive = p.bool("interactive")
    if text is None and path is None and not interactive:
        raise CmdError("Input secret value is missing")
    if text is not None:
        ctl.error("Passing secret value as command-line argument is insecure!")
    if interactive:
        value = _read_interactive(ctl)
    elif path is not None:
        data = _read_value_file(path)
        value = data if p.bool("plain") else glib_b64decode(data)
    else:
        value = glib_b64decode(text or "")
    with failing("Failed to set secret value"):
        ctl.conn.set_secret_value(info.uuid, base64.b64encode(value).decode("ascii"))
    ctl.extra("Secret value set\n")
    return True


# ------------------------------------------------------------------------------------ events
def cmd_secret_event(ctl: Ctl, p: Parsed) -> bool:
    from pyvirt.cli.cmd_event import chosen_event, event_loop, object_event_line

    kind = chosen_event(ctl, p, EVENT_NAMES)
    if kind is None:
        return True
    timeout = number(p.str("timeout"), "timeout")
    uuid = None
    missed: list[str] = []
    if p.has("secret"):
        try:
            uuid = get_secret(ctl, p.str("secret") or "").uuid
        except CmdError as exc:
            # virsh reports the miss, waits for every secret's events, and shows the lookup's
            # error (its last libvirt error) only if the command then fails
            ctl.error(exc.messages[0])
            missed = exc.messages[1:]
    line = object_event_line(kind, "secret", _EVENT_WORDS, ident="uuid")

    subscribe = lambda left: ctl.conn.secret_events(uuid, timeout=left,  # noqa: E731
                                                     value_changed=kind == "value-changed")
    if event_loop(ctl, p, subscribe, line, timeout) > 0:
        return True
    for message in missed:
        ctl.error(message)
    return False
