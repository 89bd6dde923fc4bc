"""``pyvirt.xml.fields.model``: model classes keep what ``@dataclass`` gives them (fields,
replace, equality, repr, defaults, unhashability) while being cheaper to create."""

from __future__ import annotations

import dataclasses

import pytest

from pyvirt.xml.fields import attr, children, line_field, model


@model
class Leaf:
    """A small model: one attribute, one list, a source line not compared nor shown."""

    name: str | None = attr("@name")
    items: list[Leaf] = children("item", object)
    line: int | None = line_field()


@model
class Sub(Leaf):
    """A subclass adds a field; equality and repr cover it."""

    extra: int = 3


@model
class OwnEq:
    """A class with its own ``__eq__`` keeps it."""

    a: int = 0

    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = None  # type: ignore[assignment]


def test_equality_compares_fields_in_order_and_skips_line() -> None:
    assert Leaf("a", line=1) == Leaf("a", line=2)
    assert Leaf("a") != Leaf("b")
    assert Leaf("a", [Leaf("x")]) == Leaf("a", [Leaf("x")])
    assert Leaf("a") != Sub("a")  # a different class is never equal, as with dataclass
    assert Sub("a", extra=1) != Sub("a", extra=2)
    assert Leaf("a").__eq__(object()) is NotImplemented


def test_repr_matches_dataclass_and_survives_cycles() -> None:
    assert repr(Sub("a", extra=4)) == "Sub(name='a', items=[], extra=4)"
    node = Leaf("n")
    node.items.append(node)
    assert repr(node) == "Leaf(name='n', items=[...])"


def test_unhashable_defaults_fields_and_replace() -> None:
    with pytest.raises(TypeError):
        hash(Leaf())
    a, b = Leaf(), Leaf()
    assert a.items is not b.items  # default factory runs per object
    assert [f.name for f in dataclasses.fields(Sub)] == ["name", "items", "line", "extra"]
    assert dataclasses.replace(Sub("a"), extra=9) == Sub("a", extra=9)


def test_own_eq_is_kept() -> None:
    assert OwnEq(1) == OwnEq(2)
