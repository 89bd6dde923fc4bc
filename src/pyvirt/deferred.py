"""Bases a class takes with the first of their names that is looked up.

Three classes use it: importing and creating what a command does not use is most of a short
command's cost above the interpreter's start (bench/cli.py --instructions), and what a daemon
never runs is memory it holds for nothing (bench/daemon_rss.py).

- :class:`~pyvirt.testdriver.connection.TestConnection` is its core (lookup, listing) on eight
  mixins (the domain operations, saves, checkpoints, snapshots, networks, pools/volumes/
  interfaces, host figures, tuning) and the declaration of every operation
  (:mod:`pyvirt.connection`): ~15M instructions that `pyvirt -c test:///default list --all`
  does not use.  Its names table is :mod:`pyvirt.testdriver.base_names` (``python -m
  pyvirt.deferred`` writes it; ``tests/unit/test_testdriver_deferred.py`` fails while it is stale).
- :class:`~pyvirt.daemon.driver.QemuDriver` (pyvirtd) takes its rarely used mixins (migration,
  core dumps, backups, checkpoints, snapshots, dirty rate, memory peeks: ``DEFERRED_BASES``)
  with the first of their names: a daemon that never runs them does not hold their modules
  (-0.4 MiB RSS).  Its names table is :mod:`pyvirt.daemon.driver_names`; pyvirtd's routes look
  the driver's methods up without running these placeholders (``rest._defines``).
- :class:`~pyvirt.client.remote.RemoteConnection` makes its operations' methods from the
  generated table :mod:`pyvirt.optable` and takes ``Connection`` (its helpers, its "not
  supported" defaults for the stream operations it does not write) only when one of those
  names is looked up: executing the declaration was ~5M instructions of every remote command.

Such a class starts on a placeholder base (:class:`BasesNotLoaded`), and each name its real bases
define (and neither it nor a base before the placeholder does) holds a :class:`Deferred` in the
class; the first lookup of any of them (on an instance or on the class) imports the bases, puts
them in the placeholder's place (the declared order: the same MRO as a class written with all of
them, so ``super()`` and overrides resolve as before), removes the placeholders and checks the
abstract methods again.  From then on the class is exactly the one with all its bases written
out.  Until then ``isinstance(conn, api.Connection)`` is False (nothing in pyvirt asks it).
"""

from __future__ import annotations

import abc
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

#: what a class's __dict__ holds besides its own definitions
BOOKKEEPING = frozenset(("__module__", "__qualname__", "__doc__", "__dict__", "__weakref__", "__annotations__",
                         "__abstractmethods__", "_abc_impl"))

INDEX = "pyvirt/testdriver/base_names.py"
DRIVER_INDEX = "pyvirt/daemon/driver_names.py"


class BasesNotLoaded(metaclass=abc.ABCMeta):  # noqa: B024  (no abstract methods: the ABCMeta is for its subclass)
    """Stands in the bases until they load: `load` puts them in its place.  (A class's bases
    can only be replaced by ones of the same object layout: a plain class's, as the mixins
    have.  ABCMeta, so that the class is an ABC from the start, as with ``Connection``.)"""


class Deferred(str):
    """A placeholder for a name a base defines (the name itself: a ``str`` is made without a
    Python-level ``__init__``, and there are ~280 of them per import): looking it up loads the
    bases, then answers as the real attribute does (a bound method on an instance, the function
    on the class)."""

    __slots__ = ()

    def __get__(self, obj: object, cls: type | None = None) -> Any:
        if cls is None:
            cls = type(obj)
        load(_owner(cls))
        return getattr(cls if obj is None else obj, self)


def _owner(cls: type) -> type:
    """The class that holds the placeholders: `cls` or the first of its bases that does."""
    for klass in cls.__mro__:
        if "_deferred_bases" in klass.__dict__:
            return klass
    raise TypeError(f"{cls.__name__} has no deferred bases")


def attach(owner: type, bases: tuple[tuple[str, str], ...], names: tuple[str, ...],
           loaded: Callable[[], None] | None = None) -> None:
    """Give `owner` (whose bases hold :class:`BasesNotLoaded` where `bases` belong) a
    placeholder for each of `names` that neither it nor a base before the placeholder defines
    (those win over the deferred bases', as before).  `loaded` runs once the bases are in place,
    before the abstract methods are counted again: what the class makes on demand (the remote
    client's table methods) must then be made, or the bases' definitions would answer."""
    mro = owner.__mro__
    taken = set(owner.__dict__).union(*[klass.__dict__ for klass in mro[1:mro.index(BasesNotLoaded)]])
    for name in names:
        if name not in taken:
            setattr(owner, name, Deferred(name))
    owner._deferred_bases = bases  # type: ignore[attr-defined]
    owner._deferred_loaded = loaded  # type: ignore[attr-defined]


def base_classes(bases: tuple[tuple[str, str], ...]) -> tuple[type, ...]:
    """The classes named ``(module, class)``, imported."""
    out = []
    for module, name in bases:
        __import__(module)
        out.append(getattr(sys.modules[module], name))
    return tuple(out)


def load(owner: type) -> None:
    """Import `owner`'s bases and put them in the placeholder's place (idempotent: a second
    caller, or a second thread, finds the same bases and no placeholders left)."""
    classes = base_classes(owner.__dict__["_deferred_bases"])
    bases = owner.__bases__
    if BasesNotLoaded in bases:  # not yet, or another thread is here too: either way the same result
        at = bases.index(BasesNotLoaded)
        owner.__bases__ = bases[:at] + classes + bases[at + 1:]
    from contextlib import suppress

    for name, value in list(owner.__dict__.items()):
        if type(value) is Deferred:
            with suppress(AttributeError):  # another thread removed it first
                delattr(owner, name)
    loaded = owner.__dict__.get("_deferred_loaded")
    if loaded is not None:
        loaded()
    abc.update_abstractmethods(owner)


def defined_names(classes: tuple[type, ...]) -> tuple[str, ...]:
    """Every name the classes define (methods and class attributes), sorted."""
    return tuple(sorted({n for cls in classes for n in vars(cls) if n not in BOOKKEEPING}))


def testdriver_names() -> tuple[str, ...]:
    """Every name the test driver's bases define that :mod:`pyvirt.connection_names` does not
    already list (the test driver takes both tables)."""
    from pyvirt.connection_names import NAMES
    from pyvirt.testdriver.connection import BASES

    listed = set(NAMES)
    return tuple(n for n in defined_names(base_classes(BASES)) if n not in listed)


def driver_names() -> tuple[str, ...]:
    """Every name the QEMU driver's deferred mixins define (pyvirt.daemon.driver.DEFERRED_BASES)."""
    from pyvirt.daemon.driver import DEFERRED_BASES

    return defined_names(base_classes(DEFERRED_BASES))


def render_driver(names: tuple[str, ...]) -> str:
    """The text of :mod:`pyvirt.daemon.driver_names`."""
    lines = ['"""Generated by `python -m pyvirt.deferred` from the QEMU driver\'s deferred mixins',
             "(pyvirt.daemon.driver.DEFERRED_BASES): every name they define (see pyvirt.deferred).",
             'Do not edit; a unit test checks it is current."""', "", "NAMES = ("]
    lines += [f"    {name!r}," for name in names]
    lines += [")", ""]
    return "\n".join(lines)


def render(names: tuple[str, ...]) -> str:
    """The text of :mod:`pyvirt.testdriver.base_names`."""
    lines = ['"""Generated by `python -m pyvirt.deferred` from the test driver\'s bases (its',
             "mixins and pyvirt.connection.Connection): every name they define that",
             "pyvirt.connection_names does not list (see pyvirt.deferred).  Do not edit; a unit test",
             'checks it is current."""', "", "NAMES = ("]
    lines += [f"    {name!r}," for name in names]
    lines += [")", ""]
    return "\n".join(lines)


def main() -> int:
    """Rewrite the names table from the bases TestConnection declares."""
    from pyvirt.atomicio import write_atomic
    from pyvirt.lightos import dirname, join

    path = join(dirname(dirname(__file__)), INDEX)
    write_atomic(path, render(testdriver_names()), mode=0o644)
    print(path)
    path = join(dirname(dirname(__file__)), DRIVER_INDEX)
    write_atomic(path, render_driver(driver_names()), mode=0o644)
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
