"""``lxml.etree``, imported the first time a name of it is used.

Why: lxml is ~5 MiB of a process's resident memory (its extension module and libxml2), and
pyvirtd needs it only once it parses or writes XML.  A fresh daemon, or one whose stored
definitions all come from its load index (``daemon/loadindex.py``), serves without parsing
anything, so the modules it imports at start refer to lxml through this object instead of
importing it.  The first attribute looked up imports lxml, copies its names here and drops the
lookup hook (the object becomes a plain namespace), so every later lookup is a plain instance
attribute, as fast as the module's own (a class with ``__getattr__`` is ~2.4x slower to read
from, and the XML mapper reads ``etree`` for every element it parses).
"""

from __future__ import annotations

from typing import Any


class _Loaded:
    """What the stand-in becomes once lxml is loaded: lxml.etree's names, nothing else."""


class _LazyEtree:
    """Stands for ``lxml.etree``; becomes a copy of its namespace on first use."""

    def __getattr__(self, name: str) -> Any:
        from lxml import etree as real

        self.__dict__.update(real.__dict__)
        self.__class__ = _Loaded  # no hook any more: later lookups take the plain, specialized path
        return getattr(real, name)


#: use as ``from pyvirt.xml.lazy_etree import etree``, then ``etree.fromstring(...)`` etc.
etree: Any = _LazyEtree()
