"""What a CLI command imports at start-up: only its own group of the command table, only the
modules its path needs.  Start-up time is measured by bench/cli.py; these tests keep the import
set from growing unnoticed (no timing in tests: the set of modules is what can be asserted)."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import textwrap

from pyvirt.cli import table
from pyvirt.cli.tables import INDEX, ORDER, group_of
from pyvirt.testdriver.connection import BASES


def test_index_names_every_command_of_every_group_once() -> None:
    declared = {}
    for keyword in ORDER:
        for cmd in importlib.import_module(f"pyvirt.cli.tables.{keyword}").COMMANDS:
            assert cmd.name not in declared, f"{cmd.name} in {declared.get(cmd.name)} and {keyword}"
            declared[cmd.name] = keyword
    assert declared == INDEX  # dev/virsh_table.py writes both; a hand edit must keep them in step
    assert [c.name for c in table.COMMANDS] == list(INDEX)
    assert table.lookup("list") is table.lookup("list") and table.lookup("lis") is None
    # the index is a text read by group_of: every command, and nothing that only spans its items
    assert all(group_of(name) == keyword for name, keyword in declared.items())
    for odd in ("lis", "ist", "", " ", "list:monitor", "domain attach-disk", "attach-disk:domain attach-device"):
        assert group_of(odd) is None and table.lookup(odd) is None, odd


def _loaded_after(argv: list[str], env_root: str | None = None) -> set[str]:
    """The modules loaded after `argv` ran, in an interpreter started as pyvirt's launcher starts
    it (``-S``: no site.py, which would import ``os`` before pyvirt runs), with this sys.path."""
    code = textwrap.dedent(f"""
        import sys
        sys.path[:] = {sys.path!r}
        from pyvirt.cli.main import main
        try:
            main({argv!r})
        except SystemExit:
            pass
        print(" ".join(sorted(sys.modules)))
    """)
    env = {**os.environ, "PYVIRT_STATE_ROOT": env_root} if env_root else None
    out = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, timeout=60,
                         env=env).stdout
    return set(out.split()[-1000:]) if out else set()


# the modules that once crept onto the hot path, each costing ms of CPU per command
HEAVY = {"argparse", "lxml", "aiohttp", "http.client", "json", "enum", "typing", "dataclasses", "re",
         "pathlib", "subprocess", "tempfile", "urllib.parse", "asyncio", "ssl", "uuid", "inspect", "importlib",
         "copy", "struct",
         # os imports _collections_abc (~2 ms): the hot path takes what it needs from pyvirt.lightos
         "os", "_collections_abc"}


def test_version_loads_no_command_table() -> None:
    loaded = _loaded_after(["--version"])
    assert "pyvirt.cli.main" in loaded
    assert not {m for m in loaded if m.startswith("pyvirt.cli.tables.")}
    assert not loaded & HEAVY


def test_list_loads_one_table_group_and_nothing_heavy() -> None:
    loaded = _loaded_after(["-c", "test:///default", "list", "--all"])
    assert "pyvirt.cli.cmd_list" in loaded
    assert {m for m in loaded if m.startswith("pyvirt.cli.tables.")} == {f"pyvirt.cli.tables.{INDEX['list']}"}
    assert not loaded & (HEAVY | {"pyvirt.daemon", "pyvirt.qemu", "pyvirt.xml.domain", "pyvirt.apievents"})
    # the test driver's bases (its mixins, the Connection declaration) load with the first of their
    # names (pyvirt.deferred)
    assert not {m for m, _ in BASES} & loaded
    # nor the records and numberings a listing of domains does not use (pyvirt.api.__getattr__),
    # nor what the fixture's reading needs only for a node file without UUIDs or with bad sizes
    assert not {"pyvirt.apirecords", "pyvirt.ids", "itertools", "pyvirt.xml.errors"} & loaded
    # `list --name` asks for names only (list_domain_names): still the driver's core alone
    by_name = _loaded_after(["-c", "test:///default", "list", "--all", "--name"])
    assert not ({m for m, _ in BASES} | {"pyvirt.apirecords"}) & by_name


def test_remote_path_loads_only_the_client(tmp_path) -> None:
    """qemu:///system never autostarts a daemon: the command fails to connect, after importing
    everything a remote command imports before its request."""
    loaded = _loaded_after(["-c", "qemu:///system", "list", "--all"], str(tmp_path))
    assert "pyvirt.client.remote" in loaded
    ours = {m for m in loaded if m.startswith("pyvirt")}
    allowed = {"pyvirt", "pyvirt.api", "pyvirt.cli", "pyvirt.cli.main", "pyvirt.cli.context", "pyvirt.cli.grammar",
               "pyvirt.cli.table", "pyvirt.cli.tables", f"pyvirt.cli.tables.{INDEX['list']}", "pyvirt.cli.run",
               "pyvirt.client", "pyvirt.client.remote", "pyvirt.client.remote_storage", "pyvirt.client.wire",
               "pyvirt.client.transport", "pyvirt.operations", "pyvirt.optable", "pyvirt.connection_names",
               "pyvirt.deferred", "pyvirt.rundir", "pyvirt.lightos"}
    assert ours <= allowed, f"new on the remote hot path: {sorted(ours - allowed)}"
    assert not loaded & HEAVY


def test_event_records_load_on_first_use_under_their_api_names() -> None:
    """pyvirt.api names every record pyvirt.apievents defines, and gives the same objects."""
    from pyvirt import api, apievents

    defined = {n for n, v in vars(apievents).items() if isinstance(v, type) and issubclass(v, apievents.Event)}
    assert defined | {"EVENT_CLASSES"} == api._EVENT_RECORDS
    for name in apievents.__all__:
        assert getattr(api, name) is getattr(apievents, name)
    assert api.Event.from_dict({"name": "d", "uuid": "u", "event": 2, "kind": "Network"}).__class__ is api.NetworkEvent


def test_option_tables_are_built_on_first_use_once() -> None:
    from pyvirt.cli.grammar import STRING, Cmd, Opt

    calls = []
    cmd = Cmd("probe", "g", "cmd_probe", "summary", "desc", lambda: calls.append(1) or (Opt("dom", STRING),))
    assert calls == []
    assert [o.name for o in cmd.opts] == ["dom"] and cmd.opts is cmd.opts and calls == [1]
    assert Cmd("plain", "g", "m", "s", "d", [Opt("flag")]).opts[0].name == "flag"  # a sequence still works
    domstate = table.lookup("domstate")
    assert domstate is not None and domstate.opt("reason") is not None and domstate.opt("nope") is None


def test_start_sends_its_request_before_loading_what_only_the_reply_needs(tmp_path) -> None:
    """`pyvirt start`'s request is what the guest waits for: the modules loaded when it leaves
    are the client's and the command's, not the type language (pyvirt.optypes, needed to read
    the reply), the _json extension (a flat request body is written by pyvirt.client.wire) nor
    pyvirt.api (its errors and records: a reply or a failure loads it)."""
    import socket
    import threading

    run_dir = tmp_path / "run"
    run_dir.mkdir()
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(run_dir / "pyvirtd.sock"))
    server.listen(4)
    requests: list[bytes] = []

    def serve() -> None:  # a stand-in pyvirtd: any request gets "no such domain"
        body = b'{"error": {"code": 42, "domain": 10, "message": "Domain not found"}}'
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                requests.append(conn.recv(65536))
                conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: "
                             + str(len(body)).encode() + b"\r\n\r\n" + body)

    threading.Thread(target=serve, daemon=True).start()
    code = textwrap.dedent(f"""
        import sys
        sys.path[:] = {sys.path!r}
        import _socket
        at_send = []

        class Spy(_socket.socket):
            def sendall(self, data, *args):
                if not at_send:
                    at_send.extend(sys.modules)
                return super().sendall(data, *args)

        _socket.socket = Spy
        from pyvirt.cli.main import main
        main(["-c", "qemu:///session", "start", "g"])
        print(" ".join(sorted(at_send)))
    """)
    out = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "PYVIRT_STATE_ROOT": str(tmp_path)})
    server.close()
    assert requests and requests[0].startswith(b"POST /v1/domains/g/start "), (requests, out.stderr)
    at_send = set(out.stdout.split())
    assert "pyvirt.cli.cmd_lifecycle" in at_send and "pyvirt.client.remote" in at_send
    assert not at_send & {"pyvirt.optypes", "_json", "json", "stat", "pyvirt.api", "pyvirt.connection",
                          "pyvirt.apirecords", "pyvirt.cli.values", "pyvirt.xml.units"}  # those two: only with --pass-fds
    assert not at_send & HEAVY
