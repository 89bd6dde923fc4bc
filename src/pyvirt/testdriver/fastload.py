"""Fast path for the shipped default fixture: read `data/default.xml` without lxml.

`pyvirt -c test:///default list` is what demos and scripts run most, and lxml's import alone
(~9 ms of CPU, it pulls in `inspect`) costs more than virsh's whole run.  This module reads the
fixture with pyexpat (a C extension already in the standard library, ~0.4 ms to import) into
light element-like trees, enough for node info and for each domain's reported fields; every
domain stays *pending* and is built into lxml trees by the regular loader on first real use,
and networks, pools, interfaces and devices are loaded by the regular loader on first access.

Trust argument: only the fixture shipped inside the package comes here (never a user's
`test:///PATH` node file, never API-supplied XML; those go through the secure lxml parser in
xmlutil).  Anything this scanner does not expect in it (namespaces, test-driver extensions,
`file=` indirection, a domain without type/name/uuid) makes it answer None, and the caller then
uses the regular loader, so a change to the fixture can cost speed but never behaviour.
"""

from __future__ import annotations

from pyvirt.testdriver.xmlutil import text

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from pyvirt.testdriver.loader import NodeState


class Light:
    """The read-only slice of lxml's element interface that `xmlutil.text/scaled` use."""

    __slots__ = ("tag", "attrib", "text", "children", "span")

    def __init__(self, tag: str, attrib: dict[str, str], start: int) -> None:
        self.tag = tag
        self.attrib = attrib
        self.text: str | None = None
        self.children: list[Light] = []
        self.span = (start, start)  # byte offsets of the element in the file

    def get(self, key: str, default: str | None = None) -> str | None:
        return self.attrib.get(key, default)

    def find(self, path: str) -> Light | None:
        """First element matching a plain `a/b` child path (lxml's semantics for such paths)."""
        level = [self]
        for step in path.split("/"):
            level = [c for el in level for c in el.children if c.tag == step]
        return level[0] if level else None

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.children)


def _scan(data: bytes) -> Light | None:
    """Light tree of the whole document, or None when it uses namespaces (not ours to judge)."""
    import pyexpat

    parser = pyexpat.ParserCreate()
    stack: list[Light] = []
    root: list[Light] = []
    odd: list[str] = []

    def start(tag: str, attrs: dict[str, str]) -> None:
        if ":" in tag or any(k.startswith("xmlns") or ":" in k for k in attrs):
            odd.append(tag)
        el = Light(tag, attrs, parser.CurrentByteIndex)
        (stack[-1].children if stack else root).append(el)
        stack.append(el)

    def end(tag: str) -> None:
        el = stack.pop()
        el.span = (el.span[0], data.index(b">", parser.CurrentByteIndex) + 1)

    def chars(text: str) -> None:
        el = stack[-1]
        if not el.children:
            el.text = (el.text or "") + text

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    parser.Parse(data, True)
    return None if odd or not root else root[0]


def _usable_domain(el: Light) -> bool:
    """What the pending path can answer for exactly as the regular loader would."""
    name = text(el, "name")
    return el.get("file") is None and bool(el.get("type")) and bool(name) and "/" not in name \
        and bool(text(el, "uuid"))


def load_fixture(path: str) -> NodeState | None:
    """NodeState of the shipped fixture with pending domains and lazily loaded resources."""
    from pyvirt.testdriver.loader import NodeState, load_node_file, node_info, pending_domain

    with open(path, "rb") as fh:
        data = fh.read()
    root = _scan(data)
    if root is None or root.tag != "node" or root.attrib:
        return None
    domains = [el for el in root.children if el.tag == "domain"]
    if not all(_usable_domain(el) for el in domains):
        return None
    state = NodeState(node=node_info(root), pending=lambda: load_node_file(path, skip_domains=True))
    for next_id, el in enumerate(domains, start=1):  # no <test:runstate> here: all run
        state.domains.append(pending_domain(data[el.span[0]:el.span[1]], el, next_id))
    return state


__all__ = ["Light", "load_fixture"]
