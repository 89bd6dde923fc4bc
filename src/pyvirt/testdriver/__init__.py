"""The in-memory test driver for `test:///` URIs (libvirt's test driver, re-done in Python).

`test:///default` serves libvirt's default objects (domain `test`, network `default`, pool
`default-pool`, interface `eth1`); `test:///ABS/PATH.xml` loads a libvirt `<node>` file; the
VIRTCOMPAT_TEST_DRIVER_XML hook serves a given node file whatever the URI.  Each connection
gets fresh state.
"""

from __future__ import annotations

import os
from importlib import resources as _resources

from pyvirt.api import Connection, ErrorCode, ErrorDomain, PyvirtError


def node_file_for(uri: str) -> str:
    """The <node> file a URI (or the VIRTCOMPAT_TEST_DRIVER_XML hook) names."""
    hook = os.environ.get("VIRTCOMPAT_TEST_DRIVER_XML")
    if hook:
        return hook
    if not uri.startswith("test://"):
        raise PyvirtError(f"no connection driver available for {uri}", ErrorCode.NO_CONNECT)
    path = uri[len("test://"):].split("?", 1)[0]
    if path.startswith("localhost/"):
        path = path[len("localhost"):]
    if path in ("/default", "/default/"):
        return str(_resources.files("pyvirt.testdriver").joinpath("data", "default.xml"))
    if not path.startswith("/"):
        raise PyvirtError("testOpen: path on URI must be absolute", ErrorCode.INVALID_ARG, ErrorDomain.TEST)
    return path


def open_test_connection(uri: str, readonly: bool = False) -> Connection:
    """Open a fresh in-memory connection (libvirt's test driver gives each open its own state)."""
    from pyvirt.testdriver.connection import TestConnection
    from pyvirt.testdriver.loader import load_node_file

    return TestConnection(uri, load_node_file(node_file_for(uri)), readonly=readonly)


__all__ = ["node_file_for", "open_test_connection"]
