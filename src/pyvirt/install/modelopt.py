"""Options built through the pyvirt.xml model, as virtinst builds its Guest's objects.

An option's element is a model object when the pyvirt.xml model declares every one of its
table rows (:func:`model`: the class found at optmap's location for the option in
:class:`pyvirt.xml.domain.Domain`, e.g. :class:`pyvirt.xml.domain.NumaTune`, a
:class:`pyvirt.xml.domain.Disk`): each sub-option names a field of it through
optmap's row (the row's XML path is the field's own declaration), the value is read with
the field's type, and the element is written by the model's writer in virt-install's profile
(:data:`pyvirt.xml.profiles.VIRTINST`: its child order, attributes in the model's order as
virtinst's property order).  An element that is already there (an earlier option, or the
domain virt-xml edits) is read into the object first, with whatever the model does not
declare kept as it was.  Values the model's types refuse are written as given, as
virt-install does: libvirt judges them when the domain is defined.

Every option with table rows is built this way; --qemu-commandline, which has none, adds
its objects to the Domain's own element in its handler (:func:`read_part`).  So that no sub-option is accepted and dropped, every
row names a model field (:func:`resolve` raises for one that does not; :func:`unresolved`
lists an option's rows the model lacks, and a unit test keeps every option built through
the model), except the ``~`` rows: elements virt-install 4.1 writes where libvirt's XML has
none (a <graphics> address), which the libvirt model rightly lacks; they are written as
plain paths (pathset.set_path) on the element the model wrote.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING, Any

from lxml import etree

from pyvirt.install import pathset
from pyvirt.install.subopts import Spec, check_unknown, parse
from pyvirt.install.xmltree import child, insert
from pyvirt.xml.domain import Domain
from pyvirt.xml.fields import BARE_STATE, Verbatim, VerbatimSize, keeping_unknown
from pyvirt.xml.fields import Spec as FieldSpec
from pyvirt.xml.mapping import FormatOptions, build_for, parse_obj, specs
from pyvirt.xml.profiles import SET_ORDER, VIRTINST, element_path

if TYPE_CHECKING:  # the Guest reads and writes its own facts through this module
    from pyvirt.install.guest import Guest

#: elements that are a boolean property and a container of child objects at once: virtinst
#: writes one set as a boolean at that property's place (first), else where the children go
#: (the profile's ``TAG+`` place)
BOOL_CONTAINERS: dict[str, tuple[str, ...]] = {"--memorybacking": ("hugepages",)}

#: one step to a field: (field name, its spec, whether the row indexes a list there, the tag
#: a ``*`` list's items are picked by: <latency> or <bandwidth> among <interconnects>' children)
Step = tuple[str, FieldSpec, bool, str | None]


def _prefix(spec_path: str, path: str) -> tuple[list[str], str] | None:
    """`path`'s steps through `spec_path` (a ``*`` step matching any tag) and what is left,
    or None when `path` does not go through it."""
    want = spec_path.split("/")
    parts = path.split("/")
    if len(parts) <= len(want) - 1:
        return None
    head = parts[:len(want)]
    for w, p in zip(want, head, strict=True):
        if w != "*" and w != p.removesuffix("[]"):
            return None
    return head, "/".join(parts[len(want):])


@cache
def resolve(cls: type, path: str) -> tuple[Step, ...]:
    """The fields a row path (``memnode[]/@cellid``) goes through in `cls`, the value's
    field last; a ``[]`` step must be a list of objects in the model."""
    plain = path.replace("[]", "") or "."
    for name, spec in specs(cls):
        if spec.path == plain and spec.kind in ("value", "flag", "state", "scaled") \
                or spec.kind == "state" and plain == spec.path + "/@state":
            return ((name, spec, False, None),)
        if spec.kind == "values" and (path in (spec.path + "[]", spec.path + "[]/.")
                                      or plain == spec.path and path.count("[]") == 1):
            # one of a list of texts (<certificate>) or of one attribute (<boot dev>)
            return ((name, spec, True, None),)
    for name, spec in specs(cls):
        found = _prefix(spec.path, path) if spec.kind in ("child", "children") else None
        if found is None:
            continue
        head, rest = found
        indexed = head[-1].endswith("[]")
        if indexed != (spec.kind == "children"):
            continue
        tag = head[-1].removesuffix("[]") if spec.path.endswith("/*") else None
        return ((name, spec, indexed, tag), *resolve(spec.cls, rest))
    raise LookupError(f"{cls.__name__} declares no field at {path!r}")


@cache
def element_class(where: str) -> type | None:
    """The model class of the element at `where` (optmap's ``devices/disk``) below
    <domain>, or None when the model declares no element there."""
    cls: type = Domain
    rest = where
    while rest:
        for _name, spec in specs(cls):
            if spec.kind in ("child", "children") and (rest + "/").startswith(spec.path + "/"):
                cls, rest = spec.cls, rest[len(spec.path) + 1:]
                break
        else:
            return None
    return cls


@cache
def model(flag: str) -> type | None:
    """The model class `flag`'s element is built through: the class at its optmap location,
    when that class declares every row of the option (else None: the option's rows are
    missing, see :func:`unresolved`)."""
    loc = pathset.where(flag)
    # an option writing <domain>'s own children (--iothreads) is built through Domain, only
    # its own elements read and written (:func:`_apply_to_domain`), never the whole document
    cls = element_class(loc[0]) if loc else None
    if cls is None or _missing(flag, cls):
        return None
    return cls


def _missing(flag: str, cls: type) -> list[str]:
    bad = []
    for name, (path, kind) in pathset.rows(flag).items():
        if kind.endswith(("!", "~")):
            continue
        try:
            steps = resolve(cls, path)
        except LookupError:
            bad.append(name)
            continue
        if kind == "b" and steps[-1][1].kind not in ("flag", "state"):
            bad.append(name)  # a bare element the model cannot write bare
    return bad


def _descend(obj: Any, step: Step, index: int, create: bool) -> Any:
    name, spec, indexed, tag = step
    if indexed:
        every = getattr(obj, name)
        items = [i for i in every if i.kind == tag] if tag else every
        while create and len(items) <= index:
            new = spec.cls()
            if tag:
                new.kind = tag
                items.append(new)
            every.append(new)
        return items[index] if index < len(items) else None
    sub = getattr(obj, name)
    if sub is None and create:
        sub = spec.cls()
        setattr(obj, name, sub)
    return sub


def set_field(obj: Any, path: str, value: str | bool, indexes: list[int]) -> None:
    """Write one row's converted value (pathset.convert: text, or True/False for an
    element's presence, False also for an emptied value) into the model object."""
    steps = resolve(type(obj), path)
    idx = list(indexes)
    node = obj
    for step in steps[:-1]:
        node = _descend(node, step, idx.pop(0) if step[2] and idx else 0, value is not False)
        if node is None:  # unsetting something that is not there
            return
    name, spec, _, _tag = steps[-1]
    if spec.kind == "values":
        items = getattr(node, name)
        index = idx.pop(0) if idx else 0
        if value is False:
            if index < len(items):
                del items[index]
            return
        if value is not True:
            while len(items) <= index:
                items.append("")
            items[index] = Verbatim(value)
        return
    if spec.kind == "flag" or spec.kind == "state" and isinstance(value, bool):
        # a present/absent row; on a tristate, virtinst's boolean property writes it bare
        setattr(node, name, (value is not False) if spec.kind == "flag" else BARE_STATE if value else None)
        if value is False:  # an element removed takes what lies inside it (virtinst's XML API)
            for other, ospec in specs(type(node)):
                if ospec.path.startswith(spec.path + "/"):
                    setattr(node, other, [] if ospec.kind in ("children", "values") else None)
        return
    if value is False:
        setattr(node, name, None)
    elif spec.kind == "scaled":  # virtinst sets a size's text; the unit it had stays
        setattr(node, name, VerbatimSize(value, getattr(getattr(node, name), "unit", None)))
    elif value is not True:
        # the text virt-install writes (its XMLProperty's conversion, done by pathset.convert:
        # decimal integers, yes/no), not the model's own layout (PCI numbers in hex)
        setattr(node, name, Verbatim(value))


def read(el: etree._Element | None, cls: type) -> Any:
    """The model object of an element (an empty one for None), keeping what the model
    does not declare and values its types refuse."""
    if el is None:
        return cls()
    with keeping_unknown(verbatim=True):
        return parse_obj(el, cls)


def element(obj: Any, tag: str) -> etree._Element:
    """`obj` written as element `tag` in virt-install's profile (:func:`_build`)."""
    return _build(obj, tag)


def _build(obj: Any, tag: str) -> etree._Element:
    """`obj` as virt-install writes it: its profile, secrets included (a --graphics password
    is the user's own value, printed as given)."""
    return build_for(obj, tag, VIRTINST, FormatOptions(security_info=True))


def write(el: etree._Element, obj: Any) -> etree._Element:
    """Replace `el`'s content by `obj` written in virt-install's profile; `el` keeps its
    place (and identity) in the document."""
    new = _build(obj, el.tag)
    el.attrib.clear()
    el.attrib.update(new.attrib)
    el.text = new.text
    el[:] = list(new)
    return el


def add(g: Guest, flag: str, obj: Any) -> etree._Element:
    """A new element for `obj` where `flag`'s objects live, after the others of its kind
    (a handler's object: a seclabel, an SMBIOS table)."""
    where, tag = pathset.where(flag) or ("", "")
    parent = g.root
    for part in filter(None, where.split("/")[:-1]):
        parent = child(parent, part)
    return built(g, flag, insert(parent, _build(obj, tag)))


def built(g: Guest, flag: str, el: etree._Element) -> etree._Element:
    """Note `el` as the element `flag`'s handler just made or changed: the option's table
    rows go there (the second of two ``--sysinfo``, not the first)."""
    g.flags.extra.setdefault("built", {})[flag] = el
    return el


def last_built(g: Guest, flag: str) -> etree._Element | None:
    """The element `flag`'s handler made or changed in this run of the option, if any."""
    el = g.flags.extra.get("built", {}).pop(flag, None)
    return el if el is not None and el.getparent() is not None else None


def apply_to(flag: str, el: etree._Element, opts: dict[str, str | None],
             skip: set[str] | None = None) -> None:
    """Set the table rows named in `opts` (but those in `skip`, and the ``!`` rows a
    handler owns) on element `el` of `flag`, through its model."""
    if el.getparent() is None and el.tag == "domain" and (pathset.where(flag) or ("?",))[0] == "":
        return _apply_to_domain(flag, el, opts, skip)
    fresh = not len(el)
    cls = model(flag)
    assert cls is not None, flag
    obj = read(el if len(el) or el.attrib else None, cls)
    had = _set_order_children(el)
    _set_rows(flag, obj, opts, skip)
    write(el, obj)
    _restore_set_order(flag, el, had, opts)
    _set_rows(flag, obj, opts, skip, el)
    for tag in BOOL_CONTAINERS.get(flag, ()):
        found = el.find(tag)
        if fresh and found is not None and tag in opts \
                and pathset.convert("b", opts[tag], flag, tag) is True:
            el.remove(found)  # set as a boolean: at the boolean property's place, first
            el.insert(0, found)


def _set_order_children(el: etree._Element) -> dict[str, list[str]]:
    """The children (tags, in order) of each element under `el` that virtinst writes in
    set order (:data:`pyvirt.xml.profiles.SET_ORDER`), by path relative to `el`."""
    base = element_path(el)
    return {element_path(node)[len(base) + 1:]: [k.tag for k in node]
            for node in el.iter() if isinstance(node.tag, str) and element_path(node) in SET_ORDER}


def _restore_set_order(flag: str, el: etree._Element, had: dict[str, list[str]],
                       opts: dict[str, str | None]) -> None:
    """The model writes children in its declaration order; where virtinst writes them in
    the order they were set, put back those `el` had first (as they were), then the new
    ones in the order the option's parser sets them: its registration order, which is the
    table's row order, not the order the names were typed."""
    first_row: dict[str, int] = {}
    for i, (path, _kind) in enumerate(pathset.rows(flag).values()):
        first_row.setdefault(path, i)
    used = [(first_row.get(row[0], len(first_row)), row[0]) for key in opts
            if (row := pathset.lookup(flag, key)) is not None]
    base = element_path(el)
    for node in list(el.iter()):
        if not isinstance(node.tag, str) or element_path(node) not in SET_ORDER or len(node) < 2:
            continue
        rel = element_path(node)[len(base) + 1:]
        old = had.get(rel, [])

        def rank(kid: etree._Element, rel: str = rel, old: list[str] = old) -> tuple[int, int]:
            if kid.tag in old:
                return (0, old.index(kid.tag))
            prefix = f"{rel}/{kid.tag}/" if rel else f"{kid.tag}/"
            return (1, min((i for i, path in used if f"{path}/".startswith(prefix)), default=len(first_row)))

        node[:] = sorted(node, key=rank)


def _set_rows(flag: str, obj: Any, opts: dict[str, str | None], skip: set[str] | None,
              el: etree._Element | None = None) -> None:
    """Set the rows named in `opts` on the model object `obj`; with `el` (the object
    written there), the ``~`` rows instead: virt-install's elements libvirt's XML does not
    have, written as plain paths."""
    plain = False
    for key, value in opts.items():
        row = pathset.lookup(flag, key)
        if row is None or (skip and key in skip) or row[1].endswith("!"):
            continue
        path, kind, indexes = row
        if kind.endswith("~") != (el is not None):
            continue
        converted = pathset.convert(kind, value, flag, key)
        if el is None:
            set_field(obj, path, converted, indexes)
        else:
            pathset.set_path(el, path, converted, indexes)
            plain = True
    if plain and el is not None:
        VIRTINST.arrange(el)  # what the plain paths added, in virt-install's order too


def _apply_to_domain(flag: str, root: etree._Element, opts: dict[str, str | None],
                     skip: set[str] | None) -> None:
    """`flag`'s rows on <domain>'s own children (``<iothreads>``, ``<iothreadids>``...):
    only the elements its rows name are read into a Domain, set and written back."""
    tags = {path.split("/")[0].removesuffix("[]") for path, _k in pathset.rows(flag).values()}
    obj = read_part(root, tags)
    _set_rows(flag, obj, opts, skip)
    write_part(root, obj, tags)


def read_part(root: etree._Element, tags: set[str], attrs: tuple[str, ...] = (),
              cls: type = Domain) -> Any:
    """A model object of `root`'s class (`cls`, a Domain for <domain>) holding only its
    children of these tags (an option's own elements: ``<iothreads>``,
    ``<qemu:commandline>``; <devices>' ``<emulator>``) and its attributes named in `attrs`
    (<domain type>), read as virt-install keeps them."""
    part = etree.Element(root.tag)
    for name in attrs:
        if root.get(name) is not None:
            part.set(name, root.get(name))
    for el in root:
        if el.tag in tags:
            part.append(copy.deepcopy(el))
    return read(part, cls)


def write_part(root: etree._Element, obj: Any, tags: set[str], attrs: tuple[str, ...] = (),
               set_order: bool = False) -> None:
    """Write back the elements of these tags and these attributes of `root` from `obj`
    (see :func:`read_part`), each in its place (a new one where virt-install puts it); the
    rest of the document is not touched.  With `set_order`, an element that was there keeps
    its attributes' order, new ones after them (virtinst's property set on its document:
    ``--machine q35`` before the capabilities' arch writes ``<type machine= arch=>``)."""
    new = _build(obj, root.tag)
    for name in attrs:
        if new.get(name) is None:
            root.attrib.pop(name, None)
        else:
            root.set(name, new.get(name))
    for tag in sorted(tags):
        old = root.findall(tag)
        made = new.findall(tag)
        for el in old[len(made):]:
            root.remove(el)
        for i, el in enumerate(made):
            if i < len(old):
                if set_order:
                    _keep_attr_order(old[i], el)
                root.replace(old[i], el)
            else:
                insert(root, el)


def _keep_attr_order(old: etree._Element, new: etree._Element) -> None:
    """`new`'s attributes in `old`'s order where `old` had them, the others after, and so
    for each child matched by tag and position among its like."""
    if len(new.attrib) > 1 and old.attrib:
        have = list(old.attrib)
        items = sorted(new.attrib.items(), key=lambda kv: have.index(kv[0]) if kv[0] in have else len(have))
        if [k for k, _v in items] != list(new.attrib):
            new.attrib.clear()
            new.attrib.update(items)
    seen: dict[str, int] = {}
    for kid in new:
        if not isinstance(kid.tag, str):
            continue
        n = seen[kid.tag] = seen.get(kid.tag, -1) + 1
        like = old.findall(kid.tag)
        if n < len(like):
            _keep_attr_order(like[n], kid)


@contextmanager
def part(root: etree._Element, *tags: str, attrs: tuple[str, ...] = (), cls: type = Domain,
         set_order: bool = False) -> Iterator[Any]:
    """:func:`read_part` for a block that changes the object; what it holds is written back
    when the block ends (`set_order`: see :func:`write_part`)."""
    wanted = set(tags)
    obj = read_part(root, wanted, attrs, cls)
    yield obj
    write_part(root, obj, wanted, attrs, set_order)


@contextmanager
def domain_part(g: Guest, *tags: str, attrs: tuple[str, ...] = ()) -> Iterator[Domain]:
    """The Domain object of <domain>'s children of these tags and its own attributes named
    in `attrs` (see :func:`read_part`), for a handler to change; what it holds is written
    back when the block ends (domain-level options: ``--memory`` edits
    ``<memory>``/``<currentMemory>``, ``--boot`` edits ``<os>``)."""
    with part(g.root, *tags, attrs=attrs) as dom:
        yield dom


def set_domain_value(g: Guest, path: str, value: str | int | None) -> None:
    """One field of <domain>'s own children (``name``, ``vcpu``, ``vcpu/@placement``) set as
    :func:`set_value` sets it, through the element's model object."""
    with domain_part(g, path.split("/")[0]) as dom:
        set_value(dom, path, value)


def get_value(obj: Any, path: str) -> Any:
    """The value of the field at XML path `path` of model object `obj` (None when an
    element on the way is absent); the reading half of :func:`set_value`."""
    steps = resolve(type(obj), path)
    node = obj
    for step in steps[:-1]:
        node = _descend(node, step, 0, False)
        if node is None:
            return None
    return getattr(node, steps[-1][0])


def set_value(obj: Any, path: str, value: str | int | None) -> None:
    """Field at XML path `path` of model object `obj` set to `value` as virt-install writes
    it (the text as given; None removes it), the way a table row is set (:func:`set_field`)."""
    set_field(obj, path, False if value is None else str(value), [])


def apply_rows(flag: str, g: Guest, opts: dict[str, str | None]) -> None:
    """Set the table rows named in `opts` on `flag`'s element of guest `g` (a device option:
    on a new device), through its model."""
    where, tag = pathset.where(flag) or ("", "")
    if where.startswith("devices/"):
        node = g.add_device(etree.Element(tag))
    else:
        node = g.root
        for part in filter(None, where.split("/")):
            node = child(node, part)
    apply_to(flag, node, opts)


def table_model(flag: str, spec: Spec) -> Callable[[Guest, str], None]:
    """The parser of an option every sub-option of which is a model field."""
    def apply(g: Guest, optstr: str) -> None:
        if optstr == "none":
            return
        opts = parse(spec, optstr)
        check_unknown(spec, opts)
        apply_rows(flag, g, opts)
    return apply


def unresolved(flag: str) -> list[str]:
    """optmap's rows of `flag` that name no field of the model class at its location (all
    of them when the model has no class there; the ``!`` rows are the handler's, which
    builds their part of the object itself, the ``~`` rows are not libvirt's and written as
    plain paths)."""
    loc = pathset.where(flag)
    cls = element_class(loc[0]) if loc else None
    if cls is None:
        return [n for n, (_p, k) in pathset.rows(flag).items() if not k.endswith(("!", "~"))]
    return _missing(flag, cls)

