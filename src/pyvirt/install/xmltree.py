"""Building domain XML in virt-install's element order.

virtinst writes every element in a fixed order per parent; the order is the model's
virt-install output profile (:data:`pyvirt.xml.profiles.VIRTINST`, one table for install,
virt-xml and virt-clone).  `child()` and `append()` create elements in their place there;
children the profile does not place go last, in insertion order.
"""

from __future__ import annotations

from lxml import etree

from pyvirt.xml.profiles import LIBOSINFO_NS, QEMU_NS, VIRTINST

__all__ = ["LIBOSINFO_NS", "QEMU_NS", "Element", "append", "child", "insert", "new_element", "remove_all",
           "set_attrs", "set_text", "to_string"]

Element = etree._Element


def new_element(tag: str, parent: Element | None = None, nsmap: dict[str, str] | None = None,
                **attrs: str | None) -> Element:
    """A new element (the last child of `parent` when given), attributes as :func:`set_attrs`."""
    el = etree.Element(tag, nsmap=nsmap) if parent is None else etree.SubElement(parent, tag, nsmap=nsmap)
    set_attrs(el, **attrs)
    return el


def insert(parent: Element, el: Element) -> Element:
    """`el` put under `parent` where virt-install writes it."""
    return VIRTINST.insert(parent, el)


def child(parent: Element, tag: str, **attrs: str | None) -> Element:
    """The first `tag` child of `parent`, created in its ordered place when missing."""
    el = parent.find(tag)
    if el is None:
        el = insert(parent, etree.Element(tag))
    set_attrs(el, **attrs)
    return el


def append(parent: Element, tag: str, text: str | None = None, **attrs: str | None) -> Element:
    """A new `tag` child after any existing ones of its kind (repeated elements)."""
    el = etree.Element(tag)
    if text is not None:
        el.text = text
    set_attrs(el, **attrs)
    return insert(parent, el)


def set_attrs(el: Element, **attrs: str | None) -> None:
    """Set attributes, skipping None; a trailing underscore escapes Python keywords."""
    for key, val in attrs.items():
        if val is None:
            continue
        el.set(key.rstrip("_").replace("__", "-"), str(val))


def set_text(parent: Element, tag: str, value: str | int | None) -> Element | None:
    """Set (or with None remove) the text of a single child element."""
    el = parent.find(tag)
    if value is None:
        if el is not None:
            parent.remove(el)
        return None
    el = child(parent, tag)
    el.text = str(value)
    return el


def remove_all(parent: Element, tag: str) -> None:
    for el in parent.findall(tag):
        parent.remove(el)


def to_string(root: Element) -> str:
    """virt-install's layout: two-space indent, double quotes, trailing newline."""
    return VIRTINST.to_text(root)
