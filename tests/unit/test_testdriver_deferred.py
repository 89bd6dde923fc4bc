"""The test driver's mixins load with the first of their names (pyvirt.testdriver.deferred): the
names table is current, and once loaded the class is the one with all its bases written out."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from pyvirt.testdriver import deferred, mixin_names
from pyvirt.testdriver.connection import MIXINS


def test_names_table_is_current() -> None:
    """`python -m pyvirt.testdriver.deferred` rewrites it; a mixin method added without that
    would stay hidden behind Connection's 'not supported' default until some other name loads."""
    current = deferred.defined_names(deferred.mixin_classes(MIXINS))
    assert current == mixin_names.NAMES, "stale: run python -m pyvirt.testdriver.deferred"
    with open(mixin_names.__file__, encoding="utf-8") as fh:
        assert fh.read() == deferred.render(current)
    assert not [n for n in current if n.startswith("__") and n.endswith("__")]  # implicit lookups skip placeholders


def _fresh(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_first_lookup_loads_every_mixin_in_declared_order() -> None:
    out = _fresh("""
        import sys
        from pyvirt.testdriver import open_test_connection
        from pyvirt.testdriver.connection import MIXINS, TestConnection
        from pyvirt.testdriver.deferred import Deferred
        conn = open_test_connection("test:///default")
        print([d.name for d in conn.list_domains()])
        print(sorted(m for m, _ in MIXINS if f"pyvirt.testdriver.{m}" in sys.modules))
        print(type(TestConnection.__dict__["list_networks"]).__name__)
        print([n.name for n in conn.list_networks()])          # a mixin's method, through an instance
        print([c.__name__ for c in TestConnection.__mro__])
        print(sum(type(v) is Deferred for v in vars(TestConnection).values()))
        print(TestConnection.list_pools.__qualname__)          # on the class, after the load
    """).splitlines()
    assert out[0] == "['test']"
    assert out[1] == "[]"  # listing domains needs no mixin
    assert out[2] == "Deferred"
    assert out[3] == "['default']"
    assert out[4] == str(["TestConnection", *[c for _, c in MIXINS], "Connection", "ABC", "object"])
    assert out[5] == "0"
    assert out[6] == "ResourcesMixin.list_pools"


def test_class_lookup_loads_too_and_super_chains_hold() -> None:
    """A lookup on the class (not an instance) answers the mixin's function; a mixin method that
    calls super() (checkpoints' drop_snapshots -> snapshots') runs on the rebuilt MRO."""
    out = _fresh("""
        from pyvirt.testdriver import open_test_connection
        from pyvirt.testdriver.connection import TestConnection
        print(TestConnection.drop_snapshots.__qualname__)
        conn = open_test_connection("test:///default")
        conn.drop_snapshots(conn.lookup_domain("test").uuid)
        print("ok")
    """).splitlines()
    assert out == ["CheckpointsMixin.drop_snapshots", "ok"]
