"""connect(uri) -> Connection: the one entry point front ends use.

`test://` URIs get the in-process test driver (imported lazily); `qemu://` URIs get the remote
client that talks to pyvirtd over its unix socket.  Stdlib only: this is the CLI's hot path.
"""

from __future__ import annotations

from pyvirt.lightos import getenv, geteuid

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pyvirt.api import Connection  # not at run time: a test:/// command never loads the declaration


def _config_uri_default() -> str | None:
    """``uri_default`` of libvirt's client config (virConnectGetDefaultURI): /etc/libvirt/libvirt.conf
    for root, $XDG_CONFIG_HOME/libvirt/libvirt.conf (~/.config) for everybody else; a missing or
    unreadable file is no setting."""
    if geteuid() == 0:
        path = "/etc/libvirt/libvirt.conf"
    else:
        base = getenv("XDG_CONFIG_HOME") or f"{getenv('HOME') or ''}/.config"
        path = f"{base}/libvirt/libvirt.conf"
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError):
        return None
    for line in text.splitlines():  # virConf's `name = "value"` (or 'value'), '#' comments
        name, eq, value = line.partition("=")
        value = value.strip()
        if eq and name.strip() == "uri_default" and len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            return value[1:-1]
    return None


def default_uri() -> str:
    """-c is handled by callers; then PYVIRT_DEFAULT_URI, LIBVIRT_DEFAULT_URI, libvirt's client
    config's uri_default, then system for root and session for everybody else (libvirt's rule)."""
    for var in ("PYVIRT_DEFAULT_URI", "LIBVIRT_DEFAULT_URI"):
        value = getenv(var)
        if value:
            return value
    return _config_uri_default() or ("qemu:///system" if geteuid() == 0 else "qemu:///session")


def connect(uri: str | None = None, *, readonly: bool = False) -> Connection:
    uri = uri or default_uri()
    if getenv("VIRTCOMPAT_TEST_DRIVER_XML"):
        from pyvirt.testdriver import open_test_connection

        return open_test_connection(uri, readonly=readonly)
    if uri.startswith("test://"):
        from pyvirt.testdriver import open_test_connection

        return open_test_connection(uri, readonly=readonly)
    if uri.startswith("qemu:") or uri.startswith("qemu+"):  # any transport (pyvirt.client.transport)
        from pyvirt.client.remote import RemoteConnection

        return RemoteConnection(uri, readonly=readonly)
    scheme, colon, _ = uri.partition(":")
    if not (colon and scheme[:1].isascii() and scheme[:1].isalpha()
            and all(c.isascii() and (c.isalnum() or c in "+-.") for c in scheme)):
        # virConnectOpenInternal: a URI without a scheme names no driver
        uri = f"URI '{uri}' does not include a driver name"
    from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError

    raise PyvirtError(f"no connection driver available for {uri}", ErrorCode.NO_CONNECT, ErrorDomain.NONE)
