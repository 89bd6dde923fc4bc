"""Reading libvirt's `<node>` test-driver state files into test-connection objects.

Format (libvirt's test driver): `<node>` holds `<cpu>`, `<memory>`, then `<domain>`,
`<network>`, `<pool>` (with `<volume>` children), `<interface>` and `<device>` elements; any of
them may instead be `<domain file="rel.xml"/>`, read relative to the node file.  Domains run
unless `<test:runstate>` says otherwise; running ones get ids 1, 2, … in document order.

lxml, `copy` and the domain checks are imported where used: the default fixture's fast path
(fastload) calls into this module for node info and pending domains without needing them.
"""

from __future__ import annotations

from pyvirt.api import DomainState, ErrorCode, ErrorDomain, NodeInfo, PyvirtError
from pyvirt.testdriver.objects import DomainObj, InterfaceObj, NetworkObj, PoolObj, VolumeObj
from pyvirt.testdriver.xmlutil import parse_file, parse_string, scaled, set_child_text, text

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from lxml import etree

# libvirt's defaults when a node file has no <cpu>/<memory> (testOpenParse's defaults).
DEFAULT_NODE = NodeInfo(model="i686", memory_kib=3145728, cpus=16, mhz=1400, nodes=2,
                        sockets=2, cores=2, threads=2)


class NodeState:
    """Everything one test connection starts with.

    `pending`, when given, loads networks, pools, interfaces and devices on first access to
    any of them (the fixture fast path: `list` needs none of them)."""

    __slots__ = ("node", "domains", "_networks", "_pools", "_interfaces", "_devices", "_pending")

    def __init__(self, node: NodeInfo, domains: list[DomainObj] | None = None, *,
                 pending: Callable[[], NodeState] | None = None) -> None:
        self.node = node
        self.domains = domains if domains is not None else []
        self._networks: list[NetworkObj] = []
        self._pools: list[PoolObj] = []
        self._interfaces: list[InterfaceObj] = []
        self._devices: list[etree._Element] = []
        self._pending = pending

    def _load(self) -> NodeState:
        if self._pending is not None:
            build, self._pending = self._pending, None
            other = build()
            self._networks, self._pools = other._networks, other._pools
            self._interfaces, self._devices = other._interfaces, other._devices
        return self

    @property
    def networks(self) -> list[NetworkObj]:
        return self._load()._networks

    @property
    def pools(self) -> list[PoolObj]:
        return self._load()._pools

    @property
    def interfaces(self) -> list[InterfaceObj]:
        return self._load()._interfaces

    @property
    def devices(self) -> list[etree._Element]:
        return self._load()._devices


def _new_uuid() -> str:
    """pyvirt.ids.new_uuid, imported when a node file leaves a UUID out: `ids` brings
    `itertools`, which the listing of the default fixture never needs."""
    from pyvirt.ids import new_uuid

    return new_uuid()


def _resolve(el: etree._Element, base_dir: str) -> etree._Element:
    """Follow `file="…"` indirection (relative to the node file's folder)."""
    ref = el.get("file")
    if not ref:
        return el
    import os

    return parse_file(os.path.join(base_dir, ref))


def _int(el: Any, path: str, default: int) -> int:
    try:
        return int(text(el, path, str(default)))
    except ValueError:
        return default


def node_info(root: Any) -> NodeInfo:
    """<cpu>/<memory> of a <node> (an lxml tree or fastload's light one) over libvirt's defaults."""
    cpu = root.find("cpu")
    info = NodeInfo.from_dict(DEFAULT_NODE.to_dict())
    if cpu is not None:
        info.nodes = _int(cpu, "nodes", info.nodes)
        info.sockets = _int(cpu, "sockets", info.sockets)
        info.cores = _int(cpu, "cores", info.cores)
        info.threads = _int(cpu, "threads", info.threads)
        info.cpus = _int(cpu, "active", info.nodes * info.sockets * info.cores * info.threads)
        info.mhz = _int(cpu, "mhz", info.mhz)
        info.model = text(cpu, "model", info.model)
    if root.find("memory") is not None:
        info.memory_kib = scaled(root, "memory")
    return info


def _domain(el: etree._Element, next_id: int) -> DomainObj:
    import copy

    from pyvirt.testdriver.domxml import (
        check_domain,
        format_like_libvirt,
        generate_ifnames,
        normalise,
        strip_test_extensions,
    )

    root = copy.deepcopy(el)
    ext = strip_test_extensions(root)
    check_domain(root, strict=False)
    if not text(root, "uuid"):
        # libvirt gives node-file domains random UUIDs: the predictable hook is virtinst's
        # (for what clients create), and a loaded domain holding it would collide with them.
        import uuid

        set_child_text(root, "uuid", str(uuid.uuid4()), after=("name",))
    normalise(root)
    root = format_like_libvirt(root)
    from pyvirt.testdriver.taint import taint_messages

    messages = taint_messages(root)
    state = ext.runstate if ext.runstate is not None else DomainState.RUNNING
    if state == DomainState.SHUTOFF or state not in DomainState.__members__.values():
        obj = DomainObj(config=root, state=DomainState.SHUTOFF, managed_save=ext.has_managed_save)
    else:
        live = root
        generate_ifnames(live)  # before the copy: libvirt names them in the definition it loaded
        config = None if ext.transient else copy.deepcopy(root)
        obj = DomainObj(config=config, live=live, state=state, reason=0, id=next_id,
                        managed_save=ext.has_managed_save)
    obj.messages = messages
    return obj


def pending_domain(source: bytes, summary: Any, next_id: int) -> DomainObj:
    """A running domain of the fixture, built by `_domain` from its XML text on first real use;
    `summary` (fastload's light tree of the same text) answers name, uuid and info() till then."""

    def build() -> tuple[etree._Element | None, etree._Element | None]:
        dom = _domain(parse_string(source), next_id)
        obj.messages = dom.messages
        return dom.config, dom.live

    obj = DomainObj(state=DomainState.RUNNING, reason=0, id=next_id, pending=build, summary=summary)
    return obj


#: testStoragePoolObjSetDefaults: every pool of a node file reports 100 GiB, whatever it says
POOL_CAPACITY = 100 * 1024**3


def _pool(el: etree._Element, base_dir: str) -> PoolObj:
    import copy

    root = copy.deepcopy(el)
    if not text(root, "uuid"):
        set_child_text(root, "uuid", _new_uuid(), after=("name",))
    if root.find("source") is None:  # libvirt formats an empty <source> for every pool
        set_child_text(root, "source", "\n", after=("name", "uuid", "capacity", "allocation", "available"))
    set_child_text(root, "capacity", str(POOL_CAPACITY), after=("name", "uuid")).set("unit", "bytes")
    pool = PoolObj(root)
    for vol_el in root.findall("volume"):
        vol = copy.deepcopy(_resolve(vol_el, base_dir))
        root.remove(vol_el)
        pool.volumes.append(fill_volume(vol, pool))
    pool.set_allocation(sum(v.allocation for v in pool.volumes))
    _tidy_tail(root)
    return pool


def _tidy_tail(root: etree._Element) -> None:
    """Removing volumes leaves their whitespace behind; trim the last child's tail."""
    children = list(root)
    if children:
        children[-1].tail = "\n"


def fill_volume(vol: etree._Element, pool: PoolObj) -> VolumeObj:
    """What libvirt's test driver reports for a volume of `pool`: `<pool path>/<name>` as path
    and key, sizes in bytes (allocation defaulting to the capacity), the pool type's default
    format when none is given (raw in file pools, none in disk pools)."""
    from lxml import etree

    from pyvirt.xml.volume import VOLUME_FORMATS

    name = text(vol, "name")
    if vol.get("type") is None:  # virStorageVolDefFormat always writes the type, file by default
        vol.set("type", "file")
    # read both sizes before rewriting either: the unit attribute changes under them
    capacity = scaled(vol, "capacity", "bytes", "bytes")
    allocation = scaled(vol, "allocation", "bytes", "bytes", capacity)
    set_child_text(vol, "capacity", str(capacity), after=("name", "key")).set("unit", "bytes")
    set_child_text(vol, "allocation", str(allocation), after=("name", "key", "capacity")).set("unit", "bytes")
    target = vol.find("target")
    if target is None:
        target = etree.SubElement(vol, "target")
    path = text(target, "path")
    if not path:
        path = f"{text(pool.xml, 'target/path')}/{name}"
        path_el = etree.Element("path")
        path_el.text = path
        path_el.tail = target.text
        target.insert(0, path_el)
    formats = VOLUME_FORMATS.get(pool.xml.get("type") or "")
    if formats is not None and target.find("format") is None:  # the pool type's default format
        etree.SubElement(target, "format").set("type", formats[1])
    if not text(vol, "key"):
        set_child_text(vol, "key", path, after=("name",))
    return VolumeObj(vol)


def load_node_file(path: str, *, skip_domains: bool = False) -> NodeState:
    """Load a `<node>` file; errors use libvirt's wording for a bad test driver file."""
    import os

    root = parse_file(path)
    return load_node(root, os.path.dirname(os.path.abspath(path)), skip_domains=skip_domains)


def load_node(root: etree._Element, base_dir: str, *, skip_domains: bool = False) -> NodeState:
    """Build the state; `skip_domains` serves the fixture fast path, which has its own."""
    import copy

    if root.tag != "node":
        raise PyvirtError(f"XML error: expecting root element of 'node', not '{root.tag}'",
                          ErrorCode.XML_ERROR, ErrorDomain.TEST)
    state = NodeState(node=node_info(root))
    next_id = 1
    for child in root:
        if not isinstance(child.tag, str):
            continue
        if child.tag == "domain":
            if skip_domains:
                continue
            dom = _domain(_resolve(child, base_dir), next_id)
            if dom.active:
                next_id += 1
            state.domains.append(dom)
        elif child.tag == "network":
            net = copy.deepcopy(_resolve(child, base_dir))
            if not text(net, "uuid"):
                set_child_text(net, "uuid", _new_uuid(), after=("name",))
            state._networks.append(NetworkObj(net))
        elif child.tag == "pool":
            state._pools.append(_pool(_resolve(child, base_dir), base_dir))
        elif child.tag == "interface":
            state._interfaces.append(InterfaceObj(copy.deepcopy(_resolve(child, base_dir))))
        elif child.tag == "device":
            state._devices.append(copy.deepcopy(_resolve(child, base_dir)))
    return state
