"""pyvirt.api gives out names defined in the modules it loads on first use (pyvirt.connection,
pyvirt.apirecords, pyvirt.apievents): each table names exactly what its module defines, and a
fresh interpreter gets each name from pyvirt.api as before."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from pyvirt import api, apievents, apirecords, connection


def _public(module: object) -> set[str]:
    return {n for n, v in vars(module).items()
            if not n.startswith("_") and getattr(v, "__module__", module.__name__) == module.__name__
            and (isinstance(v, type) or n.isupper()) and n != "TYPE_CHECKING"}


def test_each_table_names_what_its_module_defines() -> None:
    assert _public(apirecords) == set(api._MORE_RECORDS) == set(apirecords.__all__)
    assert {n for n in _public(apievents) if n != "KINDS"} <= set(api._EVENT_RECORDS)
    assert set(api._DECLARATION) == {"Connection", "op"} and callable(connection.op)
    # no name is given out twice, nor hidden behind one api defines itself
    tables = [api._MORE_RECORDS, api._EVENT_RECORDS, api._DECLARATION]
    assert sum(len(t) for t in tables) == len(frozenset().union(*tables))
    assert not frozenset().union(*tables) & {n for n in vars(api) if n not in frozenset().union(*tables)}


def test_fresh_interpreter_gets_every_name_from_api() -> None:
    code = textwrap.dedent("""
        import sys
        from pyvirt import api
        from pyvirt.api import PoolInfo, RunningReason, ConsoleStream  # from-imports go through __getattr__
        print(sorted(m for m in ("pyvirt.apirecords", "pyvirt.connection") if m in sys.modules))
        print(api.STATE_REASONS[api.DomainState.RUNNING] is RunningReason, RunningReason.BOOTED,
              PoolInfo(name="p", uuid="u").to_dict()["name"], issubclass(ConsoleStream, object))
        print(api.Connection.__module__, "pyvirt.connection" in sys.modules)
        try:
            api.NoSuchName
        except AttributeError as exc:
            print("AttributeError", "NoSuchName" in str(exc))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["['pyvirt.apirecords']", "True 1 p True", "pyvirt.connection True",
                                       "AttributeError True"]
