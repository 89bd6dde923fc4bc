"""connect(uri) -> Connection: the one entry point front ends use.

`test://` URIs get the in-process test driver (imported lazily); `qemu://` URIs get the remote
client that talks to pyvirtd over its unix socket.  Stdlib only: this is the CLI's hot path.
"""

from __future__ import annotations

from pyvirt.lightos import getenv, geteuid

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pyvirt.api import Connection  # not at run time: a test:/// command never loads the declaration


def default_uri() -> str:
    """-c is handled by callers; then PYVIRT_DEFAULT_URI, LIBVIRT_DEFAULT_URI, then system for
    root and session for everybody else (libvirt's rule)."""
    for var in ("PYVIRT_DEFAULT_URI", "LIBVIRT_DEFAULT_URI"):
        value = getenv(var)
        if value:
            return value
    return "qemu:///system" if geteuid() == 0 else "qemu:///session"


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
