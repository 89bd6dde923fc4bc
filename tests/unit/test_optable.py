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
        row = Operation(None, operations.table_row(name), name)
        assert [getattr(row, f) for f in fields] == [getattr(op, f) for f in fields], name
        assert row.func is op.func  # the declared method, looked up on demand
    op = Operation(None, operations.table_row("list_domains"), "list_domains")
    assert op.bind((), {}) == {"flt": None}
    start = Operation(None, operations.table_row("start"), "start")
    assert start.bind(("d",), {"paused": True})["paused"] is True
    for args, kwargs, message in ((("a", "b"), {}, "takes 1 positional"), ((), {"bogus": 1}, "unexpected keyword"),
                                  (("d",), {"dom": "d"}, "multiple values"), ((), {}, "missing required")):
        try:
            start.bind(args, kwargs)
        except TypeError as exc:
            assert message in str(exc)
        else:
            raise AssertionError(f"bound {args} {kwargs}")


def test_table_parameters_are_the_declarations() -> None:
    """An operation's typed parameters come from its row (pyvirtd checks requests without
    executing the declaration) and say what the declared method's signature says."""
    from pyvirt.optypes import signature

    def spec(p):  # noqa: ANN001, ANN202
        return (p.name, repr(p.type), p.required, p.default)

    for name, op in OPERATIONS.items():
        row = Operation(None, operations.table_row(name), name)
        assert [spec(p) for p in row.params] == [spec(p) for p in signature(op.func)[1:]], name
        assert row._func is None, name  # the declared method was not looked up for it


def test_remote_client_loads_the_declaration_only_when_asked() -> None:
    """A table operation's method is made on its first lookup and then is a plain function in the
    class; the declaration loads with the first name only it defines."""
    out = subprocess.run([sys.executable, "-c", textwrap.dedent("""
        import sys
        from pyvirt.client.remote import RemoteConnection
        held = "get_info" in RemoteConnection.__dict__
        method = RemoteConnection.get_info
        print(held, method.__name__, RemoteConnection.__dict__["get_info"] is method,
              "get_xml" in RemoteConnection.__dict__)
        conn = object.__new__(RemoteConnection)
        print(conn.get_xml.__func__ is RemoteConnection.__dict__["get_xml"], hasattr(conn, "no_such_operation"),
              hasattr(RemoteConnection, "events"), hasattr(conn, "open_graphics"))
        print("pyvirt.connection" in sys.modules, callable(RemoteConnection.list_domains))
        print(RemoteConnection.secret_events.__qualname__, "pyvirt.connection" in sys.modules)
        from pyvirt import api
        print(issubclass(RemoteConnection, api.Connection), sorted(RemoteConnection.__abstractmethods__))
        # every table operation not looked up before is the table's method now, not the declaration's
        print(RemoteConnection.__dict__["reboot"].__qualname__, RemoteConnection.get_info is method)
        print(RemoteConnection.upload_volume.__qualname__)  # the mixin's, not the declaration's default
    """)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["False get_info True False", "True False True True", "False True", "Connection.secret_events True", "True []",
                                       "reboot True", "StorageClientMixin.upload_volume"]
