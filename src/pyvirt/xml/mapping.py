"""Generic reader/writer driven by the field declarations of :mod:`pyvirt.xml.fields`.

Reading walks each declared path, converts values, and then checks the element subtree the
class owns: any attribute, child element or text not declared is refused (an
``UnknownNode`` is raised; :func:`pyvirt.xml.parse_domain` turns it into XMLUnsupportedError or
XMLError depending on whether libvirt itself allows it).  Writing builds elements in field
order, which is libvirt's order, and prints them libvirt-style (2-space indent, single quotes);
given another output profile (:mod:`pyvirt.xml.profiles`: virt-install's), the same objects come
out in that tool's element order and quoting.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from dataclasses import dataclass, field
from typing import Any

from pyvirt.xml.lazy_etree import etree

from .errors import XMLConfigError, XMLError, XMLUnsupportedError
from .escape import escape_xml
from .fields import (
    BARE_STATE,
    NAMESPACES,
    ONOFF,
    Spec,
    Verbatim,
    VerbatimSize,
    convert,
    empty_attribute_absent,
    format_value,
    keep_unknown_active,
    keep_verbatim_active,
    model,
)
from .profiles import Profile
from .units import parse_size_bytes, parse_size_kib


class UnknownNode(XMLUnsupportedError):
    """An element/attribute/text the model does not declare (classified later)."""


@model
class Extra:
    """One undeclared piece kept verbatim: an attribute (``name``/``value``) or an element
    (``element``), found at ``steps`` below the object's element, after sibling ``prev``."""

    steps: tuple[str, ...]
    name: str | None = None
    value: str | None = None
    element: etree._Element | None = None
    prev: str | None = None


@model
class _Node:
    """What one element of a class's owned subtree may contain."""

    attrs: set[str] = field(default_factory=set)
    kids: dict[str, _Node | None] = field(default_factory=dict)  # None: delegated to a sub-model
    repeated: set[str] = field(default_factory=set)
    text: bool = False
    #: why a child element it does not declare is refused (a class's ``xml_unknown_why``)
    why: dict[str, str] = field(default_factory=dict)


@functools.cache
def _split(path: str) -> tuple[list[str], str | None]:
    """``a/b/@c`` -> (['a', 'b'], 'c'); ``a/b`` -> (['a', 'b'], None); ``.`` -> ([], None).
    A prefixed step (``fs:option``) becomes lxml's ``{uri}option``."""
    if path == ".":
        return [], None
    parts = [_clark(p) for p in path.split("/")]
    if parts[-1].startswith("@"):
        return parts[:-1], parts[-1][1:]
    return parts, None


def _clark(step: str) -> str:
    prefix, sep, local = step.partition(":")
    if not sep or step.startswith("@"):
        return step
    return f"{{{NAMESPACES[prefix]}}}{local}"


def specs(cls: Any) -> list[tuple[str, Spec]]:
    """(field name, Spec) pairs of a model class in declaration order."""
    return _specs(cls)


@functools.cache
def _specs(cls: Any) -> list[tuple[str, Spec]]:
    return [(f.name, f.metadata["xml"]) for f in dataclasses.fields(cls) if "xml" in f.metadata]


@functools.cache
def _output_specs(cls: Any) -> list[tuple[str, Spec]]:
    """The written fields in output order: ``cls.xml_order`` (field names) when the class gives
    one (an order that misses or invents a field is a model bug), else declaration order with
    ``late`` fields moved behind their element's other fields, ``tail`` fields last, and the
    groups of ``cls.xml_group_before`` (mixin class, field name) moved before that field."""
    written = [(n, s) for n, s in _specs(cls) if not s.parse_only]
    order = getattr(cls, "xml_order", None)
    if order is None:
        out = [(n, s) for n, s in written if not s.tail and not s.late]
        for n, s in written:
            if s.late:
                step = _split(s.path)[0][:1]
                at = max((i for i, (_, o) in enumerate(out) if _split(o.path)[0][:1] == step), default=len(out) - 1)
                out.insert(at + 1, (n, s))
        out += sorted(((n, s) for n, s in written if s.tail), key=lambda ns: ns[1].tail)
        for group, before in getattr(cls, "xml_group_before", ()):
            out = _move_group(out, {f.name for f in dataclasses.fields(group)}, before)
        return out
    by_name = dict(written)
    if sorted(order) != sorted(by_name):
        raise TypeError(f"{cls.__name__}.xml_order must name each written field once: "
                        f"{sorted(set(order) ^ set(by_name))}")
    return [(n, by_name[n]) for n in order]


def _move_group(out: list[tuple[str, Spec]], names: set[str], before: str) -> list[tuple[str, Spec]]:
    """`out` with the fields in `names` (a mixin's, inherited first) moved, in their own order,
    right before field `before`: a group declared once is written where each user's XML has it."""
    moved = [ns for ns in out if ns[0] in names]
    rest = [ns for ns in out if ns[0] not in names]
    at = next(i for i, (n, _) in enumerate(rest) if n == before)
    return rest[:at] + moved + rest[at:]


@functools.cache
def _owned(cls: Any, strict: bool = False, hooks: bool = True) -> _Node:
    """The subtree `cls` declares; `strict` (read for a driver) leaves out the fields
    declared ``unsupported``, so that they are refused as undeclared; without `hooks` (read
    verbatim) the elements only a class's own hooks read every copy of are held once, the
    other copies kept as they are."""
    root = _Node()
    for _name, spec in _specs(cls):
        if strict and spec.unsupported:
            continue
        steps, att = _split(spec.path)
        node = root
        delegate = spec.kind in ("child", "children", "raw")
        for i, step in enumerate(steps):
            last = i == len(steps) - 1
            if last and delegate:
                node.kids[step] = None
                if spec.kind == "children":
                    node.repeated.add(step)
                break
            sub = node.kids.get(step)
            if sub is None:
                sub = node.kids[step] = _Node()
            if last and spec.kind == "values":
                node.repeated.add(step)
            node = sub
        else:
            if att is not None:
                node.attrs.add(att)
            elif spec.kind in ("value", "scaled", "values"):
                node.text = True
            if spec.kind == "scaled":
                node.attrs.add("unit")
            if spec.kind == "state":
                node.attrs.add("state")
    root.why.update(getattr(cls, "xml_unknown_why", {}))
    for path in getattr(cls, "xml_repeated", ()) if hooks else ():  # what a class's hooks read every copy of
        *parents, last = path.split("/")
        node = root
        for step in parents:
            node = node.kids[step] or _Node()
        node.repeated.add(last)
    return root


def _name(el: etree._Element) -> str:
    """``prefix:local`` for namespaced elements (as the user wrote them), else the tag."""
    qn = etree.QName(el)
    return f"{el.prefix}:{qn.localname}" if qn.namespace and el.prefix else qn.localname


def _describe(el: etree._Element) -> str:
    parent = el.getparent()
    return f"<{_name(parent)}/{_name(el)}>" if parent is not None else f"<{_name(el)}>"


def _local(tag: Any) -> str:
    return tag if isinstance(tag, str) else str(tag)


def _check(el: etree._Element, node: _Node, extras: list[Extra] | None = None,
           steps: tuple[str, ...] = ()) -> None:
    """Refuse what ``node`` does not declare, or (``extras`` given) collect it there."""
    for att in el.attrib:
        if att not in node.attrs:
            if extras is None:
                raise UnknownNode(f"unsupported attribute '{_local(att)}' of {_describe(el)}", el.sourceline)
            extras.append(Extra(steps, name=att, value=el.get(att)))
    if not node.text and el.text and el.text.strip():
        raise UnknownNode(f"unsupported text content in <{el.tag}>", el.sourceline)
    seen: set[str] = set()
    prev: str | None = None
    for sub in el:
        if not isinstance(sub.tag, str):
            continue
        if sub.tail and sub.tail.strip():
            raise UnknownNode(f"unsupported text content in <{el.tag}>", sub.sourceline)
        tag = sub.tag if sub.tag in node.kids or "*" not in node.kids else "*"  # ``*``: any child element
        unknown = tag not in node.kids or (tag in seen and tag not in node.repeated)
        if unknown and extras is None:
            if sub.tag not in node.kids:
                why = f": {node.why[sub.tag]}" if sub.tag in node.why else ""
                raise UnknownNode(f"unsupported element {_describe(sub)}{why}", sub.sourceline)
            raise UnknownNode(f"unsupported repeated element {_describe(sub)}", sub.sourceline)
        if unknown and sub.tag in node.kids and not keep_verbatim_active():
            pass  # a declared element repeated: libvirt reads the first and ignores the rest
        elif unknown:
            assert extras is not None
            extras.append(Extra(steps, element=sub, prev=prev))
        else:
            seen.add(tag)
            kid = node.kids[tag]
            if kid is not None:
                _check(sub, kid, extras, (*steps, sub.tag))
        prev = sub.tag


def _find(el: etree._Element, steps: list[str]) -> etree._Element | None:
    for step in steps:
        nxt = el.find(step)
        if nxt is None:
            return None
        el = nxt
    return el


def _find_all(el: etree._Element, steps: list[str]) -> list[etree._Element]:
    parent = _find(el, steps[:-1])
    return [] if parent is None else parent.findall(steps[-1])


def _where(el: etree._Element, att: str | None) -> str:
    return f"attribute '{att}' of <{el.tag}>" if att else f"<{el.tag}>"


_Item = tuple[int, str, Spec, list[str], "str | None"]


@functools.cache
def _plan(cls: Any) -> tuple[dict[str, list[_Item]], list[_Item], tuple[str, ...]]:
    """The parsed fields of ``cls`` grouped by the first element of their path (those without
    one apart), and the list-valued ones (empty unless found)."""
    by_first: dict[str, list[_Item]] = {}
    rootless: list[_Item] = []
    lists: list[str] = []
    for index, (name, spec) in enumerate(_specs(cls)):
        if spec.parse_only:
            continue
        steps, att = _split(spec.path)
        if spec.kind in ("children", "values"):
            lists.append(name)
        item = (index, name, spec, steps, att)
        if steps:
            by_first.setdefault(steps[0], []).append(item)
        else:
            rootless.append(item)
    return by_first, rootless, tuple(lists)


def parse_obj(el: etree._Element, cls: Any) -> Any:
    """Build a ``cls`` instance from element ``el`` (raising on anything undeclared, or keeping
    it on ``obj._xml_extra`` inside :func:`keeping_unknown`)."""
    extras: list[Extra] | None = [] if keep_unknown_active() else None
    verbatim = keep_verbatim_active()
    kind = getattr(cls, "xml_discriminator", None)  # its kind first: what only that kind has comes after
    if kind is not None:
        spec = dict(_specs(cls))[kind]
        att = _split(spec.path)[1]
        if att is not None and el.get(att) is not None:
            convert(spec.conv, el.get(att), _where(el, att), el.sourceline)
    _check(el, _owned(cls, extras is None, not verbatim), extras)
    by_first, rootless, lists = _plan(cls)
    kwargs: dict[str, Any] = {name: [] for name in lists}
    # most declared paths are absent: only the fields under child tags present are looked at,
    # in declaration order (so the first bad value reported does not depend on set order)
    todo = list(rootless)
    for tag in {sub.tag for sub in el}:
        todo += by_first.get(tag, ())
    todo.sort(key=lambda item: item[0])
    for _, name, spec, steps, att in todo:
        if spec.kind == "children":
            kwargs[name] = [_parse_child(sub, spec.cls) for sub in _find_all(el, steps)]
            continue
        if spec.kind == "values":
            out = []
            for sub in _find_all(el, steps):
                raw_value = sub.get(att) if att else (sub.text or "")  # an empty element: empty text
                if raw_value is None and spec.missing:
                    from .errors import XMLInternalError

                    raise XMLInternalError(spec.missing, sub.sourceline)
                if raw_value is None:  # virXMLPropEnum(..., VIR_XML_PROP_REQUIRED)'s words
                    raise XMLError(f"Missing required attribute '{att}' in element '{_name(sub)}'", sub.sourceline,
                                   libvirt_words=True)
                out.append(convert(spec.conv, raw_value, _where(sub, att), sub.sourceline))
            kwargs[name] = out
            continue
        target = _find(el, steps)
        if target is None:
            continue
        if spec.kind == "child":
            kwargs[name] = _parse_child(target, spec.cls)
        elif spec.kind == "flag":
            kwargs[name] = True
        elif spec.kind == "state":
            st = target.get("state")
            if st is None:
                kwargs[name] = BARE_STATE if verbatim else True
            else:
                kwargs[name] = convert(ONOFF, st, _where(target, "state"), target.sourceline)
        elif spec.kind == "scaled":
            if verbatim:  # virt-install keeps a size it did not set as written, unit and all
                kwargs[name] = VerbatimSize(target.text or "", target.get("unit"))
            elif not target.text:
                # virXPathString answers NULL for an empty string: libvirt reads an empty
                # size element (<maxMemory slots='2'/>) as no size, not as a bad number
                continue
            elif spec.unit == "bytes":
                kwargs[name] = parse_size_bytes(target.text or "", target.get("unit"), f"<{target.tag}>",
                                                target.sourceline, default_scale=1, xpath=spec.xpath)
            else:
                kwargs[name] = parse_size_kib(target.text or "", target.get("unit"), f"<{target.tag}>",
                                              target.sourceline, xpath=spec.xpath)
        elif spec.kind == "raw":
            subs = [sub for sub in target if isinstance(sub.tag, str)]
            if spec.namespaced:  # virXMLNodeSanitizeNamespaces
                uris = [etree.QName(sub).namespace for sub in subs]
                subs = [sub for i, sub in enumerate(subs) if uris[i] and uris[i] not in uris[:i]]
            kwargs[name] = [raw_string(sub) for sub in subs]
        else:
            if not att and not target.text and not verbatim and not spec.conv.keep_empty:
                # virXPathString answers NULL for an empty string: an element with no text is
                # read as absent (<kernel></kernel>, <description/>, <emulator/>), not as ""
                continue
            value = target.get(att) if att else (target.text or "")
            if att and value == "" and empty_attribute_absent() and not spec.conv.keep_empty:
                continue  # virXPathString("string(./@x)"): an empty attribute is none
            if value is not None:
                kwargs[name] = convert(spec.conv, value, _where(target, att), target.sourceline)
    obj = cls(**kwargs)
    if hasattr(obj, "line"):
        obj.line = el.sourceline
    after = getattr(cls, "xml_after_parse", None)  # a class's rule the declarations cannot say
    if verbatim:  # the document is kept as written: what the hooks would read stays as it is
        obj.__dict__["_xml_verbatim"] = True
    elif after is not None:
        after(obj, el)
    if extras:
        set_extras(obj, extras)
    return obj


#: the <features> children libvirt 9.0 knows (virDomainFeature); any other is "unexpected"
LIBVIRT_FEATURES = frozenset({
    "acpi", "apic", "pae", "hap", "viridian", "privnet", "hyperv", "kvm", "pvspinlock", "capabilities", "pmu",
    "vmport", "gic", "smm", "ioapic", "hpt", "vmcoreinfo", "htm", "nested-hv", "msrs", "ccf-assist", "xen",
    "cfpc", "sbbc", "ibs", "tcg"})


def parse_model(root: etree._Element, cls: Any, schema_kind: str,
                body: etree._Element | None = None) -> Any:
    """:func:`parse_obj` of a whole document (``body``: a trimmed copy of ``root`` to map).

    What the model does not declare is refused either way; libvirt's RelaxNG schema (``KIND.rng``)
    tells which error it is: valid libvirt that pyvirt does not implement (XMLUnsupportedError)
    or something libvirt refuses too (XMLError, with the schema's words)."""
    try:
        return parse_obj(root if body is None else body, cls)
    except UnknownNode as e:
        from .schema import schema_error

        feature = re.fullmatch(r"unsupported element <features/([^>]+)>.*", e.message, re.S)
        if schema_kind == "domain" and feature and feature[1] not in LIBVIRT_FEATURES:
            # virDomainFeaturesDefParse: a name libvirt 9.0 has no feature for, whatever the schema
            raise XMLConfigError(f"unexpected feature '{feature[1]}'", e.line) from None

        bad = schema_error(root, schema_kind)
        if bad is not None:
            raise XMLError(f"{e.message} (libvirt's schema: {bad[0]})", e.line or bad[1]) from None
        raise XMLUnsupportedError(e.message, e.line) from None


def set_extras(obj: Any, extras: list[Extra]) -> None:
    """Attach kept undeclared pieces to a model object (not a field: never compared)."""
    obj.__dict__["_xml_extra"] = extras


def get_extras(obj: Any) -> list[Extra]:
    """The undeclared pieces kept on ``obj`` (empty unless read inside keeping_unknown)."""
    return getattr(obj, "__dict__", {}).get("_xml_extra", [])


def _parse_child(sub: etree._Element, cls: Any) -> Any:
    obj = parse_obj(sub, cls)
    if _has_kind(cls):
        obj.kind = sub.tag
    return obj


@functools.cache
def _has_kind(cls: Any) -> bool:
    return "kind" in {f.name for f in dataclasses.fields(cls)}


def _strip_ws(el: etree._Element) -> None:
    for sub in el.iter():
        if sub.text is not None and not sub.text.strip():
            sub.text = None
        if sub.tail is not None and not sub.tail.strip():
            sub.tail = None


def raw_string(el: etree._Element) -> str:
    """An element as a ``raw`` field holds it: serialized, blank text removed."""
    copy = etree.fromstring(etree.tostring(el))
    _strip_ws(copy)
    copy.tail = None
    return etree.tostring(copy, encoding="unicode")


# ------------------------------------------------------------------ writing


@dataclass(frozen=True)
class FormatOptions:
    inactive: bool = False
    security_info: bool = False
    #: sizes as bare byte counts, no ``unit`` (the documents virsh's own builders write)
    bare_sizes: bool = False


def _nsmap(tag: str) -> dict[str, str] | None:
    """The model's own prefix for a namespaced tag (``{uri}commandline`` -> ``qemu``), so a
    tree written by lxml (virt-install's profile) says ``qemu:``, not an invented ``ns0:``."""
    if not tag.startswith("{"):
        return None
    uri = tag[1:].partition("}")[0]
    return {_PREFIXES[uri]: uri} if uri in _PREFIXES else None


def _get_or_make(el: etree._Element, steps: list[str]) -> etree._Element:
    for step in steps:
        nxt = el.find(step)
        if nxt is None:
            nxt = etree.SubElement(el, step, nsmap=_nsmap(step))
        el = nxt
    return el


def _fmt_value(obj: Any, name: str, spec: Spec, value: Any) -> str:
    hook = getattr(obj, "xml_format_value", None)
    if hook is not None:
        s = hook(name, value)
        if s is not None:
            return s
    return format_value(spec.conv, value)


#: Text marking an element written as an open/close pair even when empty (libvirt 9.0 writes
#: ``<ip ...>`` / ``</ip>`` for a network address without DHCP); a model class asks for it
#: with ``xml_keep_open = True``.  Whitespace-only text never survives parsing, so it is free.
_KEEP_OPEN = "\n"


def build(obj: Any, tag: str, opts: FormatOptions) -> etree._Element:
    """The element tree for ``obj`` under ``tag`` (lxml, unindented)."""
    el = etree.Element(tag, nsmap=_nsmap(tag))
    if getattr(obj, "xml_keep_open", False):
        el.text = _KEEP_OPEN
    omit = getattr(obj, "xml_omit", None)  # a class's own rule for leaving a field unwritten
    for name, spec in _output_specs(type(obj)):
        value = getattr(obj, name)
        # an empty list writes nothing, but for kept children (raw): an empty <metadata/> read
        # is written back, as libvirt keeps the node it copied
        if value is None or value is False and spec.kind == "flag" or value == [] and spec.kind != "raw":
            continue
        if omit is not None and omit(name, value):
            continue
        if spec.live_only and opts.inactive and not (spec.inactive_if and spec.inactive_if(value)) \
                or spec.secret and not opts.security_info:
            continue
        steps, att = _split(spec.path)
        if spec.kind == "children":
            parent = _get_or_make(el, steps[:-1])
            for item in value:  # a ``*`` path: each item is written under the tag it was read from
                parent.append(build(item, item.kind if steps[-1] == "*" else steps[-1], opts))
        elif spec.kind == "values":
            parent = _get_or_make(el, steps[:-1])
            for item in value:
                sub = etree.SubElement(parent, steps[-1])
                if att:
                    sub.set(att, format_value(spec.conv, item))
                else:
                    sub.text = format_value(spec.conv, item) or None  # "": an empty element
        elif spec.kind == "child":
            parent = _get_or_make(el, steps[:-1])
            parent.append(build(value, steps[-1], opts))
        elif spec.kind == "flag":
            _get_or_make(el, steps)
        elif spec.kind == "state":
            target = _get_or_make(el, steps)
            if value is not BARE_STATE:
                target.set("state", format_value(ONOFF, value))
        elif spec.kind == "scaled":
            target = _get_or_make(el, steps)
            unit = getattr(value, "unit", None) if isinstance(value, Verbatim) \
                else None if opts.bare_sizes else spec.unit_label or spec.unit
            if unit is not None:
                target.set("unit", unit)
            target.text = str(value)
        elif spec.kind == "raw":
            target = _get_or_make(el, steps)
            for s in value:
                target.append(etree.fromstring(s))
        else:
            target = _get_or_make(el, steps)
            if att:
                target.set(att, _fmt_value(obj, name, spec, value))
            elif value != "" or not isinstance(value, Verbatim):
                target.text = _fmt_value(obj, name, spec, value)
            # else: an empty element read verbatim stays without text, as it was
    _apply_extras(obj, el)
    after = getattr(obj, "xml_after_build", None)
    if after is not None and not getattr(obj, "__dict__", {}).get("_xml_verbatim"):
        after(el)
    return el


def _get_or_make_ordered(el: etree._Element, steps: list[str], node: _Node | None) -> etree._Element:
    """As :func:`_get_or_make`, but a missing element is created where the model declares it
    among its siblings (an element holding only kept attributes still sits in libvirt's place)."""
    for step in steps:
        nxt = el.find(step)
        if nxt is None:
            nxt = etree.Element(step)
            declared = list(node.kids) if node is not None else []
            pos = len(el)
            if step in declared:
                later = set(declared[declared.index(step) + 1:])
                pos = next((i for i, kid in enumerate(el) if kid.tag in later), len(el))
            el.insert(pos, nxt)
        node = node.kids.get(step) if node is not None else None
        el = nxt
    return el


def _apply_extras(obj: Any, el: etree._Element) -> None:
    """Put kept undeclared pieces back: attributes after the declared ones, elements where
    libvirt's order (``xml_child_order`` of the class) puts them, else after the sibling they
    followed in the source."""
    order: tuple[str, ...] = getattr(obj, "xml_child_order", ())
    for extra in get_extras(obj):
        parent = _get_or_make_ordered(el, list(extra.steps), _owned(type(obj)))
        if extra.element is None:
            assert extra.name is not None and extra.value is not None
            parent.set(extra.name, extra.value)
            continue
        sub = etree.fromstring(etree.tostring(extra.element))
        _strip_ws(sub)
        sub.tail = None
        if not extra.steps and sub.tag in order:
            rank = order.index(sub.tag)
            pos = len(parent)
            for i, kid in enumerate(parent):
                if isinstance(kid.tag, str) and kid.tag in order and order.index(kid.tag) > rank:
                    pos = i
                    break
            parent.insert(pos, sub)
        elif extra.prev is None:
            parent.insert(0, sub)
        else:
            same = [i for i, kid in enumerate(parent) if kid.tag == extra.prev]
            parent.insert(same[-1] + 1 if same else len(parent), sub)


_PREFIXES = {uri: prefix for prefix, uri in NAMESPACES.items()}


def _tag(el: etree._Element) -> str | None:
    """The written name of a modelled element (``fs:option`` for a known namespace), or None
    for a foreign one (metadata), which is copied verbatim."""
    if not el.tag.startswith("{"):
        return el.tag
    qn = etree.QName(el)
    prefix = _PREFIXES.get(qn.namespace or "")
    return None if prefix is None else f"{prefix}:{qn.localname}"


def _write(el: etree._Element, indent: int, out: list[str]) -> None:
    pad = "  " * indent
    tag = _tag(el)
    if tag is None:  # verbatim foreign subtree (metadata)
        text = etree.tostring(el, encoding="unicode", pretty_print=True).rstrip("\n")
        out.extend(pad + ln for ln in text.split("\n"))
        return
    attrs = "".join(f" {k}='{escape_xml(v)}'" for k, v in el.attrib.items())
    if indent == 0:  # the root declares the known namespaces its modelled elements use
        used = {etree.QName(sub).namespace for sub in el.iter() if isinstance(sub.tag, str)}
        attrs += "".join(f" xmlns:{p}='{escape_xml(u)}'" for p, u in NAMESPACES.items() if u in used)
    kids = list(el)
    if not kids and el.text == _KEEP_OPEN:
        out.append(f"{pad}<{tag}{attrs}>")
        out.append(f"{pad}</{tag}>")
        return
    if not kids:
        if el.text is None:
            out.append(f"{pad}<{tag}{attrs}/>")
        else:
            out.append(f"{pad}<{tag}{attrs}>{escape_xml(el.text)}</{tag}>")
        return
    out.append(f"{pad}<{tag}{attrs}>")
    for sub in kids:
        _write(sub, indent + 1, out)
    out.append(f"{pad}</{tag}>")


def ensure_open_child(el: etree._Element, tag: str, cls: Any) -> None:
    """Give `el` (built from a ``cls`` object) its child `tag` even when no field put anything
    in it, at that child's place in ``cls``'s output order and written open/closed when empty,
    for an element libvirt always writes (a volume's ``<target>``)."""
    if el.find(tag) is None:
        tags = list(dict.fromkeys(steps[0] for steps, _ in (_split(s.path) for _, s in _output_specs(cls)) if steps))
        later = set(tags[tags.index(tag) + 1:]) if tag in tags else set()
        sub = etree.Element(tag)
        following = next((c for c in el if c.tag in later), None)
        if following is not None:
            following.addprevious(sub)
        else:
            el.append(sub)
    child = el.find(tag)
    if child is not None and len(child) == 0 and not child.text:
        child.text = _KEEP_OPEN


def to_text(el: etree._Element) -> str:
    """libvirt-style text of an element tree, ending with a newline."""
    out: list[str] = []
    _write(el, 0, out)
    return "\n".join(out) + "\n"


def build_for(obj: Any, tag: str, profile: Profile, opts: FormatOptions | None = None) -> etree._Element:
    """:func:`build`, with the children in `profile`'s order (libvirt's: the model's own)."""
    return profile.arrange(build(obj, tag, opts or FormatOptions()))


def format_document(obj: Any, tag: str, *, inactive: bool = False, security_info: bool = False,
                    bare_sizes: bool = False, profile: Profile | None = None) -> str:
    """Serialize a model object as a complete document (libvirt's layout unless `profile`
    names another tool's)."""
    el = build(obj, tag, FormatOptions(inactive, security_info, bare_sizes))
    return to_text(el) if profile is None else profile.to_text(profile.arrange(el))
