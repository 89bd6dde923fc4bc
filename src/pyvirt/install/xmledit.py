"""Applying a virt-install option string to an element that already exists (virt-xml --edit).

virt-install's option parsers (pyvirt.install.opts) build new XML.  virt-xml's ``--edit``
needs the same sub-options to *change* an existing element: set what the user named, clear
what they gave an empty value (``mac=``), and leave everything else alone.  Rather than a
second table of what each sub-option writes, this module asks the parsers themselves: it
builds the option on a scratch guest, then again with one sub-option's value varied, and the
XML paths that change are the ones that sub-option controls.  Those paths are then copied
from the scratch result onto the existing element (new nodes go last, as virt-xml appends
them), or removed when the user's build does not have them.

Paths are tuples of steps: ``("e", tag, key)`` for an element (key = its ``name`` attribute,
else its index among same-tag siblings), then ``("@", attr)``, ``("#",)`` (text) or
``("*",)`` (the element exists).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from lxml import etree

from pyvirt.install.subopts import SubOptError
from pyvirt.xml.profiles import VIRTINST

Path = tuple[tuple[str, ...], ...]
Flat = dict[Path, str | None]
Builder = Callable[[dict[str, str | None]], "etree._Element | None"]

# Values tried when a sub-option's own value does not tell which XML it writes (an empty
# value, or to find the nodes a value switches off); the first the parser accepts is used.
PROBES = ("on", "off", "1", "2", "probe", "/probe/path", "52:54:00:00:00:99", "0x1")
XPATH_KEY = re.compile(r"^xpath([0-9]*)\.(delete|create|value|set)$")


# Devices whose <source> attributes are chosen by their type (a NIC's network= or bridge=,
# a disk's file= or dev=): virtinst replaces the source when the type changes.  Others
# (a redirdev's host/service/mode) keep what the new type still reads.
SOURCE_BY_TYPE = ("interface", "disk")
# Repeated elements told apart by their name attribute (<timer name>, <feature name>...);
# elsewhere a name attribute is just a value (a console <target name>).
NAME_KEYED = ("timer", "feature", "entry", "initenv", "env", "iothread", "channel")


def _key(el: etree._Element) -> str:
    name = el.get("name") if etree.QName(el).localname in NAME_KEYED else None
    if name is not None:
        return "name=" + name
    parent = el.getparent()
    if parent is None:
        return "0"
    same = [c for c in parent if c.tag == el.tag]
    return str(same.index(el))


def flatten(el: etree._Element | None) -> Flat:
    """Every attribute, text and element of `el`'s subtree, keyed by its path."""
    out: Flat = {}
    if el is None:
        return out

    def walk(node: etree._Element, path: Path) -> None:
        out[path + (("*",),)] = None
        for k, v in node.attrib.items():
            out[path + (("@", k),)] = v
        if node.text and node.text.strip():
            out[path + (("#",),)] = node.text
        for ch in node:
            if isinstance(ch.tag, str):
                walk(ch, path + (("e", ch.tag, _key(ch)),))

    walk(el, ())
    return out


def changed(a: Flat, b: Flat) -> set[Path]:
    """Paths whose presence or value differs between two flattened trees."""
    return {p for p in set(a) | set(b) if a.get(p, "\0") != b.get(p, "\0")}


def _find(root: etree._Element, step: tuple[str, ...]) -> etree._Element | None:
    _, tag, key = step
    kids = [c for c in root if c.tag == tag]
    if key.startswith("name="):
        return next((c for c in kids if c.get("name") == key[5:]), None)
    idx = int(key)
    return kids[idx] if idx < len(kids) else None


def _nsmap_for(tag: str) -> dict[str, str] | None:
    uri = etree.QName(tag).namespace
    prefix = VIRTINST.prefixes.get(uri or "")
    return {prefix: uri} if prefix else None


def _walk(root: etree._Element, steps: Path, create: bool) -> etree._Element | None:
    node = root
    for step in steps:
        found = _find(node, step)
        if found is None:
            if not create:
                return None
            _, tag, key = step
            found = etree.SubElement(node, tag, nsmap=_nsmap_for(tag))
            if key.startswith("name="):
                found.set("name", key[5:])
            _drop_blank_text(node)
        node = found
    return node


def _drop_blank_text(el: etree._Element) -> None:
    if el.text is not None and not el.text.strip():
        el.text = None


def set_path(root: etree._Element, path: Path, value: str | None) -> None:
    """Create `path` under `root` (missing elements appended last) and set its value."""
    *steps, last = path
    node = _walk(root, tuple(steps), create=True)
    assert node is not None
    if last[0] == "@":
        node.set(last[1], value or "")
    elif last[0] == "#":
        node.text = value


def remove_path(root: etree._Element, path: Path) -> None:
    """Remove what `path` names; an element left with nothing in it goes too (virtinst
    drops a node once its last attribute is cleared)."""
    *steps, last = path
    node = _walk(root, tuple(steps), create=False)
    if node is None:
        return
    if last[0] == "*":
        if node is not root:
            remove_element(node)
        return
    if last[0] == "@":
        node.attrib.pop(last[1], None)
    elif last[0] == "#":
        node.text = None
    if node is not root and not len(node) and not node.attrib and not (node.text or "").strip():
        remove_element(node)


def remove_element(el: etree._Element) -> None:
    """Detach `el`, keeping the sibling layout; a parent left empty prints as ``<tag/>``."""
    parent = el.getparent()
    if parent is None:
        return
    parent.remove(el)
    if not len(parent):
        _drop_blank_text(parent)


def _optstr(opts: dict[str, str | None]) -> str:
    parts = []
    for k, v in opts.items():
        if v is None:
            parts.append(k)
            continue
        if any(c in v for c in ",\"' ") or v == "":
            v = '"' + v.replace('"', '\\"') + '"'
        parts.append(f"{k}={v}")
    return ",".join(parts)


class Probe:
    """Builds an option on scratch guests and works out which paths each sub-option writes.

    `build(optstr)` returns the element the option made (or None); identifier generators
    are reset before every build so MACs/UUIDs do not show up as differences.
    """

    def __init__(self, build: Callable[[str], etree._Element | None],
                 filler: dict[str, str] | None = None) -> None:
        self._build = build
        self._cache: dict[str, Flat | None] = {}
        # options a build may need to succeed at all (a disk needs a path): added, when
        # the user's own options fail alone, to every build, so they never show as changes
        self._filler = filler or {}

    def flat(self, opts: dict[str, str | None]) -> Flat | None:
        got = self._flat(opts)
        if got is None and self._filler and not set(self._filler) & set(opts):
            got = self._flat({**self._filler, **opts})
        return got

    def _flat(self, opts: dict[str, str | None]) -> Flat | None:
        s = _optstr(opts)
        if s not in self._cache:
            from pyvirt import ids
            state = ids.save_state()
            try:
                self._cache[s] = flatten(self._build(s))
            except (SubOptError, ValueError):
                self._cache[s] = None
            finally:
                ids.restore_state(state)
        return self._cache[s]

    def controlled(self, opts: dict[str, str | None], key: str, full: Flat) -> set[Path]:
        """Paths sub-option `key` writes, given the other options in `opts`."""
        paths: set[Path] = set()
        without = {k: v for k, v in opts.items() if k != key}
        alt = self.flat(without)
        if alt is not None:
            paths |= changed(full, alt)
        value = opts.get(key)
        own = [p for p, v in full.items() if v == value] if value else []
        for probe in PROBES:
            if probe == value:
                continue
            alt = self.flat({**without, key: probe})
            if alt is None or _reinterpreted(alt, own, probe):
                continue
            paths |= changed(full, alt)
        return paths


def _reinterpreted(alt: Flat, own: list[Path], probe: str) -> bool:
    """Whether the parser read `probe` as another form of the option (virtinst's ``--panic
    0xIOBASE`` is an ISA model at that I/O base): the key's own path, which holds the user's
    value verbatim, holds a third value.  What such a build writes elsewhere says nothing
    about what the user's value controls, so it must not count as a change to undo."""
    if probe in ("on", "off") or len(own) != 1:
        return False
    got = alt.get(own[0])
    return got is not None and got != probe


def edit_element(target: etree._Element, opts: dict[str, str | None], probe: Probe,
                 clear: bool = False) -> etree._Element:
    """Apply parsed sub-options `opts` to `target` (in place; with `clear`, to an empty
    copy of it that replaces it, as virt-xml's clearxml=yes).  Empty values clear."""
    given = {k: v for k, v in opts.items() if v != ""}
    full = probe.flat(given)
    if full is None:
        # Let the parser report its own error for these options.
        probe._build(_optstr(given))
        raise SubOptError("invalid option string")
    if clear:
        fresh = etree.Element(target.tag)
        fresh.tail = target.tail
        parent = target.getparent()
        if parent is not None:
            parent.replace(target, fresh)
        target = fresh
    to_set: dict[Path, str | None] = {}
    to_remove: set[Path] = set()
    for key in opts:
        for path in probe.controlled(given, key, full):
            if not path:
                continue
            if path in full:
                to_set[path] = full[path]
            else:
                to_remove.add(path)
    root_type = full.get((("@", "type"),))
    if (("@", "type"),) in to_set and target.get("type") != root_type \
            and target.tag in SOURCE_BY_TYPE:
        # A new type means a new kind of source: virtinst resets the source with it.
        src = target.find("source")
        if src is not None and any(p[0][:2] == ("e", "source") for p in to_set):
            src.attrib.clear()
    for path in sorted(to_remove, key=len, reverse=True):
        if path[-1] == ("*",) and any(p[:len(path) - 1] == path[:-1] and p in to_set
                                      for p in to_set):
            continue
        remove_path(target, path)
    order = list(full)
    existed = {path[:-1] for path in full
               if path[-1] == ("*",) and path[:-1] and _walk(target, path[:-1], create=False) is not None}
    for path in sorted(to_set, key=order.index):
        if path[-1] == ("*",):
            _walk(target, path[:-1], create=True)
        else:
            set_path(target, path, to_set[path])
    _attr_order(target, full, existed)
    return target


def _attr_order(target: etree._Element, full: Flat, existed: set[Path]) -> None:
    """Elements this edit created get their attributes in the order the parser wrote them
    (the ``name`` key is set first only to find the element again); elements that were
    there keep theirs, new attributes last (libxml2's, so virt-xml's)."""
    for path in full:
        if path[-1] != ("*",) or not path[:-1] or path[:-1] in existed:
            continue
        el = _walk(target, path[:-1], create=False)
        if el is None:
            continue
        want = [p[-1][1] for p in full if p[:-1] == path[:-1] and p[-1][0] == "@"]
        have = list(el.attrib)
        if have != want and set(want) == set(have):
            vals = dict(el.attrib)
            el.attrib.clear()
            for k in want:
                el.set(k, vals[k])


def matches(target: etree._Element, opts: dict[str, str | None], probe: Probe,
            equivalent: Callable[[etree._Element, str, str | None], bool | None] | None = None
            ) -> bool:
    """Whether `target` already has what `opts` would write (virt-xml's ``--edit
    target=hda`` / ``--remove-device --disk /path`` selection)."""
    rest = dict(opts)
    if equivalent is not None:  # sub-options judged on the target alone (a disk's path)
        for key, value in opts.items():
            verdict = equivalent(target, key, value)
            if verdict is not None:
                if not verdict:
                    return False
                del rest[key]
    if not rest:
        return True  # no build needed: /dev/null names a disk even where it cannot make one
    full = probe.flat(opts)
    if full is None:
        return False
    have = flatten(target)
    for key in rest:
        for path in probe.controlled(opts, key, full):
            if path[-1] == ("*",):
                continue
            if path in full and have.get(path) != full[path]:
                return False
    return True


def pop_xpath_opts(opts: dict[str, Any]) -> list[tuple[str, str | None]]:
    """Take virt-xml's per-object ``xpathN.set/value/create/delete`` sub-options out of
    `opts`, in the order given (they are applied relative to the edited element)."""
    out = []
    for k in list(opts):
        if XPATH_KEY.match(k):
            out.append((k, opts.pop(k)))
    return out
