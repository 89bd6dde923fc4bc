"""--xml: raw XPath edits applied to the generated XML (virt-install's XMLManualAction).

``--xml ./devices/disk[2]/@foo=bar`` sets, ``--xml xpath.delete=./clock`` removes,
``--xml xpath.create=./features/hap`` adds an empty element.  Paths starting with ``.`` are
relative to ``<domain>``; they are applied to every XML document virt-install writes (the
install-time one and the final one).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from lxml import etree

from pyvirt.install.guest import Guest
from pyvirt.install.subopts import CheckError, SubOptError, split_tuples

XML_KEY = re.compile(r"^xpath([0-9]*)\.(delete|create|value|set)$")
_SEG = re.compile(r"^(?P<tag>[A-Za-z_][\w.:-]*)(?:\[(?P<pred>[^\]]+)\])?$")

Action = Callable[[etree._Element], None]


def _actions(optstr: str) -> list[tuple[str, str, str | None]]:
    """(kind, xpath, value) per xpathN group, in the order given."""
    if not optstr.startswith("xpath"):
        return [_set_action(optstr, None)]
    groups: dict[str, dict[str, str]] = {}
    for key, val in split_tuples(optstr):
        m = XML_KEY.match(key)
        if not m:
            raise SubOptError(f"Unknown --xml options: ['{key}']")
        groups.setdefault(m.group(1), {})[m.group(2)] = val or ""
    out = []
    for g in groups.values():
        if g.get("delete"):
            out.append(("delete", g["delete"], None))
        elif g.get("create"):
            out.append(("create", g["create"], None))
        elif g.get("set"):
            out.append(_set_action(g["set"], g.get("value")))
    return out


def _set_action(xpath: str, value: str | None) -> tuple[str, str, str | None]:
    if value is None:
        if "=" not in xpath:
            raise CheckError(f"{xpath}: Setting xpath must be in the form of XPATH=VALUE")
        xpath, value = xpath.rsplit("=", 1)
    return ("set", xpath, value)


def _segments(xpath: str) -> list[str]:
    """The steps below <domain> of an absolute /domain/... path."""
    if xpath.startswith("."):
        xpath = "/domain" + xpath[1:]
    if not (xpath == "/domain" or xpath.startswith("/domain/")):
        raise CheckError(f"{xpath} xmlXPathEval() failed")
    return [s for s in xpath[len("/domain"):].split("/") if s]


def _step(parent: etree._Element, seg: str, create: bool) -> etree._Element | None:
    m = _SEG.match(seg)
    if not m:
        raise CheckError(f"/{seg} xmlXPathEval() failed")
    tag, pred = m.group("tag"), m.group("pred")
    found = parent.findall(tag)
    index, attrs = None, {}
    if pred:
        if pred.isdigit():
            index = int(pred)
        else:
            pm = re.fullmatch(r"@([\w:-]+)=['\"]([^'\"]*)['\"]", pred)
            if not pm:
                raise CheckError(f"/{seg} xmlXPathEval() failed")
            attrs[pm.group(1)] = pm.group(2)
            found = [e for e in found if e.get(pm.group(1)) == pm.group(2)]
    if index is not None:
        if len(found) >= index:
            return found[index - 1]
        if not create:
            return None
        for _ in range(index - len(found)):
            el = etree.SubElement(parent, tag)
        return el
    if found:
        return found[0]
    if not create:
        return None
    return etree.SubElement(parent, tag, attrs)


def _perform(root: etree._Element, kind: str, xpath: str, value: str | None) -> None:
    segs = _segments(xpath)
    attr = segs.pop()[1:] if segs and segs[-1].startswith("@") else None
    create = kind != "delete" and (kind == "create" or value not in (None, ""))
    node: etree._Element | None = root
    for seg in segs:
        node = _step(node, seg, create)
        if node is None:
            return
    if kind == "delete" or (kind == "set" and value in (None, "")):
        if attr:
            node.attrib.pop(attr, None)
        elif node is not root and node.getparent() is not None:
            node.getparent().remove(node)
        return
    if kind == "create":
        return
    if attr:
        node.set(attr, value or "")
    else:
        node.text = value


def apply_xml(g: Guest, optstr: str) -> None:
    """Queue the edits; Installer.build_xml runs them on each document it writes."""
    acts = _actions(optstr)
    # Validate the paths now, so a bad one fails before anything is created.
    for _kind, xpath, _value in acts:
        _segments(xpath)
    queue: list[Action] = g.flags.extra.setdefault("xml_actions", [])
    for kind, xpath, value in acts:
        queue.append(lambda root, k=kind, x=xpath, v=value: _perform(root, k, x, v))


def apply_relative(target: etree._Element, xpaths: list[tuple[str, str | None]]) -> None:
    """Per-object ``xpathN.*`` sub-options (virtinst's _add_xpath_args): the same edits
    as --xml, with ``.`` meaning `target` rather than <domain>."""
    optstr = ",".join(f"{k}={v or ''}" for k, v in xpaths)
    # _perform's paths are relative to <domain>: run them on a stand-in root named so.
    holder = etree.Element("domain")
    parent = target.getparent()
    pos = parent.index(target) if parent is not None else 0
    holder.append(target)
    for kind_, xpath, value in _actions(optstr):
        _perform(target, kind_, "/domain" + xpath[1:] if xpath.startswith(".") else xpath,
                 value)
    if parent is not None:
        parent.insert(pos, target)

