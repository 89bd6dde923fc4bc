"""The test driver's bases (its mixins and the Connection declaration) load with the first of
their names (pyvirt.deferred): the names table is current, and once loaded the class is
the one with all its bases written out."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from pyvirt import deferred
from pyvirt.testdriver import base_names
from pyvirt.testdriver.connection import BASES


def test_names_table_is_current() -> None:
    """`python -m pyvirt.deferred` rewrites it; a method added to a base without that
    would not be found until some other name loads the bases."""
    current = deferred.testdriver_names()
    assert current == base_names.NAMES, "stale: run python -m pyvirt.deferred"
    with open(base_names.__file__, encoding="utf-8") as fh:
        assert fh.read() == deferred.render(current)


def _fresh(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_first_lookup_loads_every_mixin_in_declared_order() -> None:
    out = _fresh("""
        import sys
        from pyvirt.testdriver import open_test_connection
        from pyvirt import api
        from pyvirt.testdriver.connection import BASES, TestConnection
        from pyvirt.deferred import Deferred
        conn = open_test_connection("test:///default")
        print([d.name for d in conn.list_domains()])
        print(sorted(m for m, _ in BASES if m in sys.modules))
        print(type(TestConnection.__dict__["list_networks"]).__name__)
        print([n.name for n in conn.list_networks()])          # a mixin's method, through an instance
        print([c.__name__ for c in TestConnection.__mro__])
        print(sum(type(v) is Deferred for v in vars(TestConnection).values()))
        print(TestConnection.list_pools.__qualname__)          # on the class, after the load
        print(isinstance(conn, api.Connection), sorted(TestConnection.__abstractmethods__))
    """).splitlines()
    assert out[0] == "['test']"
    assert out[1] == "[]"  # listing domains needs no base: neither a mixin nor the declaration
    assert out[2] == "Deferred"
    assert out[3] == "['default']"
    assert out[4] == str(["TestConnection", *[c for _, c in BASES], "ABC", "object"])
    assert out[5] == "0"
    assert out[6] == "ResourcesMixin.list_pools"
    assert out[7] == "True []"  # an api.Connection, every abstract method implemented


def test_declaration_only_names_and_context_manager() -> None:
    """A name only Connection defines (a default that says 'not supported', a helper) and the
    `with` protocol it implements work on a fresh connection as on a loaded one."""
    out = _fresh("""
        from pyvirt import api
        from pyvirt.testdriver import open_test_connection
        with open_test_connection("test:///default") as conn:
            try:
                conn.kvm_reason()
            except api.PyvirtError as exc:
                print(exc.code == api.ErrorCode.NO_SUPPORT)
        print(conn._closed)
    """).splitlines()
    assert out == ["True", "True"]


def test_class_lookup_loads_too_and_super_chains_hold() -> None:
    """A lookup on the class (not an instance) answers the base's function; a mixin method that
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


def test_qemu_driver_names_table_is_current() -> None:
    """pyvirt.daemon.driver_names lists every name of the QEMU driver's deferred mixins."""
    from pyvirt.daemon import driver_names

    current = deferred.driver_names()
    assert current == driver_names.NAMES, "stale: run python -m pyvirt.deferred"
    with open(driver_names.__file__, encoding="utf-8") as fh:
        assert fh.read() == deferred.render_driver(current)


def test_qemu_driver_loads_its_rare_mixins_with_their_first_name() -> None:
    """A fresh pyvirtd's driver holds placeholders for the migration, snapshot, backup, … mixins;
    the first lookup of one of their names (as the routes' first call does) puts them among the
    bases; no name of another base or of the class itself is shadowed by one of theirs."""
    out = subprocess.run([sys.executable, "-c", textwrap.dedent("""
        import sys
        from pyvirt.daemon.driver import DEFERRED_BASES, QemuDriver
        from pyvirt.deferred import BasesNotLoaded, Deferred
        modules = [m for m, _ in DEFERRED_BASES]
        print(any(m in sys.modules for m in modules), BasesNotLoaded in QemuDriver.__bases__)
        eager = {n for k in QemuDriver.__mro__[:QemuDriver.__mro__.index(BasesNotLoaded)]
                 for n, v in vars(k).items() if type(v) is not Deferred}
        fn = QemuDriver.snapshot_create
        print(fn.__qualname__, all(m in sys.modules for m in modules), BasesNotLoaded in QemuDriver.__bases__)
        late = {n for m, c in DEFERRED_BASES for n in vars(getattr(sys.modules[m], c))
                if not n.startswith("__")}
        print(sorted(late & eager))
    """)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["False True", "SnapshotsMixin.snapshot_create True False", "[]"]
