"""Commands pyvirt knows but does not implement yet: they fail as virsh does on a driver without the call.

virsh resolves the domain first (so a wrong name still reads "failed to get domain 'x'"), then calls
the libvirt API, which answers "this function is not supported by the connection driver: virXxx".
Where the object lookup before the call is itself missing here (networks, node devices), the entry
names the call virsh makes once the lookup succeeds.  Many commands print their own first line before the driver's message ("Failed to attach device
from f.xml"); `_CALLS` records, per command, the API virsh calls first and that line, with
``{option}`` standing for the option's value.  Binding a command to a real implementation
(its `module` in pyvirt.cli.tables) takes it out of here.
"""

from __future__ import annotations

from pyvirt.cli.context import CmdError, Ctl
from pyvirt.cli.grammar import Parsed

#: command -> "virApi" or "virApi|first line"
_CALLS: dict[str, str] = {
    # -- Domain Management
    "domsetlaunchsecstate": "virDomainSetLaunchSecurityState|Unable to set launch security state",
    "domxml-from-native": "virConnectDomainXMLFromNative",
    "lxc-enter-namespace": "virDomainLxcOpenNamespace",
    "qemu-attach": "virDomainQemuAttach|Failed to attach to pid {pid}",
    "dom-fd-associate": "virDomainFDAssociate",
    # -- Domain Monitoring
    # -- Host and Hypervisor
    "nodesevinfo": "virNodeGetSEVInfo|Unable to get host SEV information",
    # -- Storage Pool
}


#: options virsh reads as unsigned numbers before it makes its call (vshCommandOptUInt)
_UINTS: dict[str, tuple[str, ...]] = {"qemu-attach": ("pid",)}


def api_of(name: str) -> str | None:
    """The libvirt API an unimplemented command fails on (None: not one of them)."""
    spec = _CALLS.get(name)
    return spec.partition("|")[0] if spec else None


def _run(ctl: Ctl, p: Parsed) -> bool:
    from pyvirt.api import no_support, read_only_denied

    api, _, first = _CALLS[p.cmd.name].partition("|")
    if p.cmd.name == "domxml-from-native":  # virsh reads the file before it calls
        from pyvirt.cli.cmd_lifecycle import read_file

        read_file(p.str("config") or "")
    for name in _UINTS.get(p.cmd.name, ()):
        text = p.str(name) or ""
        if not text.isdigit() or int(text) > 0xFFFFFFFF:
            raise CmdError(f"Numeric value '{text}' for <{name}> option is malformed or out of range")
    if p.cmd.opt("domain") is not None and p.str("domain") is not None:
        ctl.domain(p.str("domain") or "")
    if p.cmd.name == "domsetlaunchsecstate":  # both read (an empty one refused), then checked
        header, secret = p.str("secrethdr"), p.str("secret")
        if not (header and secret):
            raise CmdError("Both secret and the secret header are required")
        from pyvirt.cli.cmd_lifecycle import read_file

        read_file(header)  # virsh reads both files (virFileReadAll) before it calls
        read_file(secret)
    if p.cmd.name == "dom-fd-associate":  # virsh reads the descriptors; libvirt.c refuses none first
        from pyvirt.cli.values import pass_fds

        if not pass_fds(p):
            raise CmdError("nfds in virDomainFDAssociate must not be zero")
    # each of these libvirt entry points refuses a read-only connection before it asks the driver
    message = (read_only_denied(api) if ctl.readonly else no_support(api)).message
    if first:
        raise CmdError(first.format_map(_Values(p.values)), message)
    raise CmdError(message)


class _Values(dict):
    """Option values for a first line; an option not given reads as virsh's "(null)"-free empty."""

    def __missing__(self, key: str) -> str:
        return ""


def __getattr__(attr: str):
    """``cmd_<name>`` for every command listed above: one handler serves them all."""
    if attr.startswith("cmd_") and attr[4:].replace("_", "-") in _CALLS:
        return _run
    raise AttributeError(attr)
