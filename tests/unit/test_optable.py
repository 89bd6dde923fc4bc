"""The generated operation table (pyvirt.optable) the remote client reads instead of executing the
Connection declaration: current, equal to the declaration operation by operation, and a client
that never executes the declaration until a name only it defines is looked up."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from pyvirt import connection_names, operations, optable
from pyvirt.operations import OPERATIONS, Operation


def test_optable_is_current() -> None:
    """`python -m pyvirt.operations` rewrites it; an operation added, removed or changed in the
    declaration without that would reach pyvirtd with the old signature or route."""
    with open(optable.__file__, encoding="utf-8") as fh:
        assert fh.read() == operations.render_optable(), "stale: run python -m pyvirt.operations"
    with open(connection_names.__file__, encoding="utf-8") as fh:
        assert fh.read() == operations.render_connection_names(), "stale: run python -m pyvirt.operations"
    assert list(optable.ROWS) == list(OPERATIONS)


def test_table_operations_bind_and_route_as_declared() -> None:
    fields = ("name", "kind", "method", "path", "libvirt", "readonly", "stream", "session", "waits", "args", "npos",
              "defaults", "kwdefaults", "returns", "path_params", "in_query", "returns_none")
    for name, op in OPERATIONS.items():
        row = Operation(None, optable.ROWS[name], name)
        assert [getattr(row, f) for f in fields] == [getattr(op, f) for f in fields], name
        assert row.func is op.func  # the declared method, looked up on demand
    op = Operation(None, optable.ROWS["list_domains"], "list_domains")
    assert op.bind((), {}) == {"flt": None}
    start = Operation(None, optable.ROWS["start"], "start")
    assert start.bind(("d",), {"paused": True})["paused"] is True
    for args, kwargs, message in ((("a", "b"), {}, "takes 1 positional"), ((), {"bogus": 1}, "unexpected keyword"),
                                  (("d",), {"dom": "d"}, "multiple values"), ((), {}, "missing required")):
        try:
            start.bind(args, kwargs)
        except TypeError as exc:
            assert message in str(exc)
        else:
            raise AssertionError(f"bound {args} {kwargs}")


def test_remote_client_loads_the_declaration_only_when_asked() -> None:
    out = subprocess.run([sys.executable, "-c", textwrap.dedent("""
        import sys
        from pyvirt.client.remote import RemoteConnection
        print("pyvirt.connection" in sys.modules, callable(RemoteConnection.list_domains))
        print(RemoteConnection.secret_events.__qualname__, "pyvirt.connection" in sys.modules)
        from pyvirt import api
        print(issubclass(RemoteConnection, api.Connection), sorted(RemoteConnection.__abstractmethods__))
        print(RemoteConnection.upload_volume.__qualname__)  # the mixin's, not the declaration's default
    """)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["False True", "Connection.secret_events True", "True []",
                                       "StorageClientMixin.upload_volume"]
