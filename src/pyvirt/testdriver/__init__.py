"""The in-memory test driver for `test:///` URIs (libvirt's test driver, re-done in Python).

`test:///default` serves libvirt's default objects (domain `test`, network `default`, pool
`default-pool`, interface `eth1`); `test:///ABS/PATH.xml` loads a libvirt `<node>` file; the
VIRTCOMPAT_TEST_DRIVER_XML hook serves a given node file whatever the URI.  Each connection
gets fresh state.
"""

from __future__ import annotations

from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError
from pyvirt.lightos import dirname, getenv, join

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pyvirt.api import Connection  # the declaration loads with the first operation it defines

DATA_DIR = join(dirname(__file__), "data")  # __file__ is absolute (importlib makes it so)
#: the shipped fixture; found with os.path, not importlib.resources (which imports pathlib,
#: tempfile, inspect and zipfile: ~15 ms of start-up for one path).  pyvirt is installed as
#: plain files (no zipapp), so __file__ always names a real folder.
DEFAULT_FIXTURE = join(DATA_DIR, "default.xml")


def node_file_for(uri: str) -> str:
    """The <node> file a URI (or the VIRTCOMPAT_TEST_DRIVER_XML hook) names."""
    hook = getenv("VIRTCOMPAT_TEST_DRIVER_XML")
    if hook:
        return hook
    if not uri.startswith("test://"):
        raise PyvirtError(f"no connection driver available for {uri}", ErrorCode.NO_CONNECT)
    path = uri[len("test://"):].split("?", 1)[0]
    if path.startswith("localhost/"):
        path = path[len("localhost"):]
    if path in ("/default", "/default/"):
        return DEFAULT_FIXTURE
    if path in ("", "/"):
        raise PyvirtError("invalid argument: testOpen: supply a path or use test:///default",
                          ErrorCode.INVALID_ARG, ErrorDomain.TEST)
    if not path.startswith("/"):
        raise PyvirtError("testOpen: path on URI must be absolute", ErrorCode.INVALID_ARG, ErrorDomain.TEST)
    return path


def open_test_connection(uri: str, readonly: bool = False) -> Connection:
    """Open a fresh in-memory connection (libvirt's test driver gives each open its own state)."""
    from pyvirt.testdriver.connection import TestConnection

    path = node_file_for(uri)
    state = None
    if path == DEFAULT_FIXTURE:  # ours, trusted: the light reader (see fastload)
        from pyvirt.testdriver.fastload import load_fixture

        state = load_fixture(path)
    if state is None:
        from pyvirt.testdriver.loader import load_node_file

        state = load_node_file(path)
    return TestConnection(uri, state, readonly=readonly)


__all__ = ["DATA_DIR", "DEFAULT_FIXTURE", "node_file_for", "open_test_connection"]
