"""The remote client's generated methods carry the declaration's docstrings for ``help()``,
read only when asked: importing the client must not load the declaration (pyvirt.connection)."""

from __future__ import annotations

import inspect
import pydoc
import subprocess
import sys

from pyvirt.client.remote import RemoteConnection
from pyvirt.optable import ROWS


def _generated() -> list[str]:
    return [n for n, row in ROWS.items()
            if not row[4] and getattr(RemoteConnection.__dict__.get(n), "__qualname__", "") == f"RemoteConnection.{n}"]


def test_every_generated_method_has_a_docstring() -> None:
    from pyvirt.connection import Connection

    names = _generated()
    assert len(names) > 100
    for name in names:
        doc = inspect.getdoc(getattr(RemoteConnection, name))
        assert doc, name
        declared = inspect.getdoc(getattr(Connection, name))
        if declared:
            assert doc == declared, name
        else:  # no docstring declared: the libvirt call and the route, from the operation's row
            assert ROWS[name][2] in doc and ROWS[name][1] in doc, name


def test_help_on_a_bound_method_shows_the_docstring() -> None:
    conn = RemoteConnection.__new__(RemoteConnection)  # no daemon needed to read docs
    text = pydoc.render_doc(conn.start, renderer=pydoc.plaintext)
    assert "managed save" in text


def test_the_docs_class_answers_only_for_operations() -> None:
    assert not hasattr(RemoteConnection, "no_such_operation")
    assert not hasattr(RemoteConnection, "__no_such_dunder__")


def test_importing_the_client_does_not_load_the_declaration() -> None:
    code = ("import sys, pyvirt.client.remote as r; c = r.RemoteConnection.__new__(r.RemoteConnection); "
            "c.list_domains; assert 'pyvirt.connection' not in sys.modules, 'declaration loaded'")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
