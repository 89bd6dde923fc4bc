"""A guest port's network filter as the flat, ordered list of concrete rules libvirt applies.

libvirt (nwfilter_gentech_driver.c, nwfilter_params.c) walks the filter a ``<filterref>`` names
depth first: each rule becomes a *rule instance* carrying the chain and chain priority of the
filter it came from; each referenced filter is walked with the variables of the reference
overlaid by the caller's (the caller's win).  Every variable a rule uses must then have a value,
else the filter cannot be instantiated.  A rule whose attributes use variables is instantiated
once per combination of their values: variables read through the same iterator (``$X`` is
``$X[@0]``) advance together and must have as many values, different iterators give every
combination, ``$X[2]`` names one element, and a combination seen before is skipped.

This module knows nothing of nftables: :mod:`pyvirt.nwfilter.nft` turns the result into rules.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError
from pyvirt.xml.nwfilter import FilterDef, FilterRef, Rule, Value

_VAR = re.compile(r"\$([a-zA-Z0-9_]+)(?:\[(@?)([0-9]+)\])?")

#: variables: name -> its values (a list of one for a plain value)
Variables = dict[str, list[str]]


@dataclass(frozen=True)
class RuleInstance:
    """One rule with every variable replaced: what goes into one chain of one port."""

    rule: Rule
    chain: str
    chain_priority: int
    values: tuple[Value, ...]


def error(message: str) -> PyvirtError:
    return PyvirtError(message, ErrorCode.INTERNAL_ERROR, ErrorDomain.NWFILTER)


def variables(params: list[tuple[str, str]]) -> Variables:
    """A reference's ``<parameter>``s as variables (a name given twice holds a list)."""
    out: Variables = {}
    for name, value in params:
        out.setdefault(name, []).append(value)
    return out


def instantiate(name: str, top: Variables, lookup: Callable[[str], FilterDef | None]) -> list[RuleInstance]:
    """The rule instances of filter `name` with variables `top` (libvirt's virNWFilterDefToInst,
    then its variable checks and combination iterator); PyvirtError with libvirt's words for a
    missing filter or an unresolvable variable."""
    collected: list[tuple[Rule, str, int, Variables]] = []
    _walk(name, top, lookup, collected, depth=0)
    missing = _missing(collected)
    if missing:
        raise error("Cannot instantiate filter due to unresolvable variables or unavailable list elements: "
                    + ", ".join(missing))
    out: list[RuleInstance] = []
    for rule, chain, priority, vars_ in collected:
        out += [RuleInstance(rule, chain, priority, values) for values in _combinations(rule, vars_)]
    return out


def missing(name: str, top: Variables, lookup: Callable[[str], FilterDef | None]) -> list[str]:
    """The variables (or list elements) filter `name` uses that `top` leaves without a value."""
    collected: list[tuple[Rule, str, int, Variables]] = []
    _walk(name, top, lookup, collected, depth=0)
    return _missing(collected)


def _missing(collected: list[tuple[Rule, str, int, Variables]]) -> list[str]:
    return sorted({v for rule, _, _, vars_ in collected for v in _needs(rule, vars_)})


def _walk(name: str, vars_: Variables, lookup: Callable[[str], FilterDef | None],
          out: list[tuple[Rule, str, int, Variables]], depth: int) -> None:
    filt = lookup(name)
    if filt is None:
        raise error(f"referenced filter '{name}' is missing")
    if depth > 64:  # a loop (refused at define, but files on disk may hold one)
        raise error("filter would introduce a loop")
    for entry in filt.entries:
        if isinstance(entry, FilterRef):
            inner = variables(entry.parameters)
            inner.update(vars_)  # the caller's variables win (virNWFilterCreateVarsFrom)
            _walk(entry.filter, inner, lookup, out, depth + 1)
        else:
            out.append((entry, filt.chain, filt.priority, vars_))


def _accesses(rule: Rule) -> Iterator[tuple[str, str, bool, int]]:
    """(attribute, variable, is-iterator, iterator id or element index) for each variable use."""
    for value in rule.values:
        match = _VAR.fullmatch(value.text)
        if match is not None:
            name, at, number = match.groups()
            yield value.name, name, number is None or at == "@", int(number or 0)


def _needs(rule: Rule, vars_: Variables) -> list[str]:
    """The variables (or list elements, NAME[N]) of `rule` that have no value."""
    out = []
    for _, name, iterator, index in _accesses(rule):
        if name not in vars_:
            out.append(name)
        elif not iterator and index >= len(vars_[name]):
            out.append(f"{name}[{index}]")
    return out


def _combinations(rule: Rule, vars_: Variables) -> Iterator[tuple[Value, ...]]:
    """The rule's attribute values once per distinct combination of its variables' values."""
    uses = list(_accesses(rule))
    if not uses:
        yield tuple(rule.values)
        return
    groups: dict[object, list[str]] = {}
    for _, name, iterator, index in uses:
        key: object = index if iterator else ("element", name, index)
        members = groups.setdefault(key, [])
        if name not in members:
            if iterator and members and len(vars_[members[0]]) != len(vars_[name]):
                raise error("Cardinality of list items must be the same for processing them in parallel")
            members.append(name)
    ranges = []
    for key, members in groups.items():
        if isinstance(key, tuple):  # one element: a fixed position
            ranges.append([(members, key[2])])
        else:
            seen: set[tuple[str, ...]] = set()
            steps = []
            for i in range(len(vars_[members[0]])):
                picked = tuple(vars_[m][i] for m in members)
                if picked not in seen:  # virNWFilterVarCombIterEntryAreUniqueEntries
                    seen.add(picked)
                    steps.append((members, i))
            ranges.append(steps)
    for combo in itertools.product(*ranges):
        chosen: dict[tuple[str, object], str] = {}
        for (members, i), key in zip(combo, groups, strict=True):
            for m in members:
                chosen[(m, key)] = vars_[m][i]
        yield tuple(_substitute(v, chosen) for v in rule.values)


def _substitute(value: Value, chosen: dict[tuple[str, object], str]) -> Value:
    match = _VAR.fullmatch(value.text)
    if match is None:
        return value
    name, at, number = match.groups()
    iterator = number is None or at == "@"
    key: object = int(number or 0) if iterator else ("element", name, int(number))
    return Value(value.name, chosen[(name, key)])
