"""Rules of libvirt's domain configuration that every driver applies to tunables: the iotune
limits, which lifecycle actions each event allows, the <metadata> elements by namespace, and the
names and orders of the typed parameters (virDomainDefLifecycleActionAllowed,
virDomainDiskIoTuneValidate, virDomainDefGetMetadata / virDomainDefSetMetadata).  The test
driver (testdriver/tuning.py) and pyvirtd (daemon/tuning.py) both call these, so the two agree.
"""

from __future__ import annotations

from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from lxml import etree


def __getattr__(name: str) -> Any:
    """``PERF_EVENTS``: the domain model's virPerfEventType names (declared with ``<perf>``), named
    here too.  Looked up on first use: pyvirtd's tuning code imports this module at start, and the
    model (:mod:`pyvirt.xml.domain`) loads with the first definition, not with the daemon."""
    if name == "PERF_EVENTS":
        from .domain import PERF_EVENTS

        return PERF_EVENTS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _err(message: str, code: int) -> PyvirtError:
    return PyvirtError(message, code, ErrorDomain.DOMAIN)


#: libvirt's VIR_DOMAIN_MEMORY_PARAM_UNLIMITED (KiB)
UNLIMITED = 9007199254740991
#: <blkiotune><device> children (libvirt's output order) and their typed-parameter names
BLKIO_DEVICE_FIELDS = (("weight", "device_weight"), ("read_iops_sec", "device_read_iops_sec"),
                       ("write_iops_sec", "device_write_iops_sec"), ("read_bytes_sec", "device_read_bytes_sec"),
                       ("write_bytes_sec", "device_write_bytes_sec"))
#: the blkio parameters virsh prints, in the order libvirt returns them
BLKIO_PARAMS = ("weight", "device_weight", "device_read_iops_sec", "device_write_iops_sec",
                "device_read_bytes_sec", "device_write_bytes_sec")
#: <bandwidth> typed parameters (inbound./outbound.) in libvirt's order
BANDWIDTH_PARAMS = ("inbound.average", "inbound.peak", "inbound.burst", "inbound.floor", "outbound.average",
                    "outbound.peak", "outbound.burst")
#: virDomainNumatuneMemMode
NUMA_MODES = ("strict", "preferred", "interleave", "restrictive")
#: <iotune> fields in libvirt's typed-parameter order (group_name is the one string)
IOTUNE_PARAMS = ("total_bytes_sec", "read_bytes_sec", "write_bytes_sec", "total_iops_sec", "read_iops_sec",
                 "write_iops_sec", "total_bytes_sec_max", "read_bytes_sec_max", "write_bytes_sec_max",
                 "total_iops_sec_max", "read_iops_sec_max", "write_iops_sec_max", "size_iops_sec", "group_name",
                 "total_bytes_sec_max_length", "read_bytes_sec_max_length", "write_bytes_sec_max_length",
                 "total_iops_sec_max_length", "read_iops_sec_max_length", "write_iops_sec_max_length")
#: libvirt's order of a domain's children (virDomainDefFormatInternal)
DOMAIN_ORDER = ("name", "uuid", "genid", "title", "description", "metadata", "maxMemory", "memory",
                "currentMemory", "blkiotune", "memtune", "memoryBacking", "vcpu", "vcpus", "iothreads",
                "iothreadids", "defaultiothread", "cputune", "numatune", "resource", "sysinfo", "bootloader",
                "bootloader_args", "os", "idmap", "features", "cpu", "clock", "on_poweroff", "on_reboot",
                "on_crash", "on_lockfailure", "pm", "perf", "devices", "seclabel", "keywrap", "launchSecurity")
LIFECYCLE_EVENTS = ("poweroff", "reboot", "crash")
LIFECYCLE_ACTIONS = ("destroy", "restart", "rename-restart", "preserve", "coredump-destroy", "coredump-restart")


def child(parent: etree._Element, tag: str, order: tuple[str, ...]) -> etree._Element:
    """`parent`'s <tag>, created where `order` puts it (after the last earlier sibling)."""
    found = parent.find(tag)
    if found is not None:
        return found
    from lxml import etree

    el = etree.Element(tag)
    rank = order.index(tag)
    anchor = None
    for sibling in parent:
        if isinstance(sibling.tag, str) and sibling.tag in order and order.index(sibling.tag) < rank:
            anchor = sibling
    if anchor is not None:
        anchor.addnext(el)
    else:
        parent.insert(0, el)
    return el


def check_lifecycle(event: str, action: str) -> None:
    """virDomainDefLifecycleActionAllowed: core dumps only on crash."""
    if event != "crash" and action.startswith("coredump-"):
        raise _err(f"unsupported configuration: Lifecycle event '{event}' doesn't support '{action}' action",
                    ErrorCode.CONFIG_UNSUPPORTED)


def check_iotune(info: dict[str, Any], strict_max: bool) -> None:
    """libvirt's iotune rules: totals exclude read/write; a rate may not pass its burst maximum
    (`strict_max`: the test driver's check, which counts an unset maximum as 0)."""
    for suffix in ("bytes_sec", "iops_sec", "bytes_sec_max", "iops_sec_max"):
        if info[f"total_{suffix}"] and (info[f"read_{suffix}"] or info[f"write_{suffix}"]):
            raise _err(f"invalid argument: total and read/write of {suffix} cannot be set at the same time",
                       ErrorCode.INVALID_ARG)
    for kind in ("total", "read", "write"):
        for unit in ("bytes_sec", "iops_sec"):
            name = f"{kind}_{unit}"
            top = info[f"{name}_max"]
            if (strict_max or top) and info[name] > top:
                raise _err(f"invalid argument: {name} cannot be set higher than {name}_max ", ErrorCode.INVALID_ARG)


def read_metadata(tree: etree._Element, kind: str, uri: str | None) -> str:
    """virDomainDefGetMetadata: the title, the description, or the <metadata> child in `uri`'s
    namespace without its prefix (as libvirt hands it out)."""
    missing = _err("metadata not found: Requested metadata element is not present", ErrorCode.NO_DOMAIN_METADATA)
    if kind in ("title", "description"):
        found = tree.findtext(kind)
        if not found:
            raise missing
        return found
    if kind != "element":
        raise _err(f"invalid argument: unknown metadata type '{kind}'", ErrorCode.INVALID_ARG)
    for el in tree.iterfind("metadata/*"):
        if isinstance(el.tag, str) and el.tag.startswith(f"{{{uri}}}"):
            return metadata_text(el, uri or "")
    raise missing


def metadata_text(el: etree._Element, uri: str) -> str:
    """The element as virDomainGetMetadata hands it out: without the namespace, indented by two."""
    import copy

    from lxml import etree

    node = copy.deepcopy(el)
    node.tail = None
    for sub in node.iter():
        if isinstance(sub.tag, str) and sub.tag.startswith(f"{{{uri}}}"):
            sub.tag = sub.tag[len(uri) + 2:]
    etree.cleanup_namespaces(node)
    for sub in node.iter():
        if len(sub) and not (sub.text or "").strip():
            sub.text = None
        if not (sub.tail or "").strip():
            sub.tail = None
    return etree.tostring(node, encoding="unicode", pretty_print=True).rstrip("\n")


def write_metadata(tree: etree._Element, value: str | None, key: str | None, uri: str) -> None:
    """virDomainDefSetMetadata for an element: replace (or, None, remove) the child in `uri`'s
    namespace; the new element and its descendants that have no namespace of their own are put
    in `uri`'s, under prefix `key` (an element with its own namespace keeps it, as libvirt)."""
    from lxml import etree

    if value is None and tree.find("metadata") is None:
        return
    if value is not None:
        try:
            etree.Element("probe", nsmap={key: uri})
        except ValueError as exc:
            if "prefix" in str(exc):
                raise _err("internal error: failed to validate prefix for a new XML namespace",
                           ErrorCode.INTERNAL_ERROR) from None
            raise _err(f"invalid argument: namespace URI '{uri}' is not a valid XML namespace name",
                       ErrorCode.INVALID_ARG) from None
    holder = child(tree, "metadata", DOMAIN_ORDER)
    for el in list(holder):
        if isinstance(el.tag, str) and el.tag.startswith(f"{{{uri}}}"):
            holder.remove(el)
    if value is None:
        return
    from pyvirt.xml.safe import safe_parse

    try:
        parsed = safe_parse(value)
    except Exception as exc:  # noqa: BLE001 - any parse failure is the caller's XML error
        raise _err(f"XML error: {exc}", ErrorCode.XML_ERROR) from None

    def moved(el: etree._Element) -> str:
        qname = etree.QName(el)
        return el.tag if qname.namespace else f"{{{uri}}}{qname.localname}"

    node = etree.SubElement(holder, moved(parsed), nsmap={**(parsed.nsmap or {}), key: uri})
    node.attrib.update(parsed.attrib)
    node.text = parsed.text

    def copy_into(src: etree._Element, dst: etree._Element) -> None:
        for sub in src:
            if not isinstance(sub.tag, str):
                continue
            made = etree.SubElement(dst, moved(sub))
            made.attrib.update(sub.attrib)
            made.text, made.tail = sub.text, sub.tail
            copy_into(sub, made)

    copy_into(parsed, node)


def parse_blkio_devices(param: str, value: str) -> list[tuple[str, int]]:
    """virDomainDriverParseBlkioDeviceStr: "path,value[,path,value...]" (empty: none)."""
    if not value:
        return []
    parts = value.split(",")
    out = []
    if len(parts) % 2 or any(not p for p in parts[::2]):
        raise _err(f"invalid argument: unable to parse blkio device '{param}' '{value}'", ErrorCode.INVALID_ARG)
    for path, number in zip(parts[::2], parts[1::2], strict=True):
        if not number.isdigit() and param == "device_weight":  # the weight's own wording
            raise _err(f"invalid argument: invalid value '{number}' for parameter '{param}' of device '{path}'",
                       ErrorCode.INVALID_ARG)
        if not number.isdigit():
            raise _err(f"invalid argument: unable to parse blkio device '{param}' '{value}'", ErrorCode.INVALID_ARG)
    for path, number in zip(parts[::2], parts[1::2], strict=True):
        out.append((path, int(number)))
    return out


def bandwidth_params(bandwidth: Any) -> dict[str, int]:
    """A NIC's <bandwidth> (model) as virDomainGetInterfaceParameters' typed parameters (0: unset)."""
    out = {}
    for name in BANDWIDTH_PARAMS:
        direction, _, field = name.partition(".")
        limit = getattr(bandwidth, direction, None) if bandwidth is not None else None
        out[name] = int(getattr(limit, field, None) or 0) if limit is not None else 0
    return out


def set_bandwidth(nic: Any, params: dict[str, int]) -> None:
    """virDomainSetInterfaceParameters on a NIC (model): a direction whose average (or inbound
    floor) is given is replaced by what is given (all zero: removed), one not named is kept; a NIC
    without <bandwidth> gets one even if it stays empty (libvirt writes it so)."""
    from pyvirt.xml.domain import Bandwidth, BandwidthLimit

    fresh = nic.bandwidth is None
    if fresh:
        nic.bandwidth = Bandwidth()
    for direction in ("inbound", "outbound"):
        given = {k.partition(".")[2]: v for k, v in params.items() if k.startswith(direction + ".")}
        keys = ("average", "floor") if direction == "inbound" else ("average",)
        new = None
        if any(given.get(k) for k in keys):
            new = BandwidthLimit(**{f: given[f] for f in ("average", "peak", "floor", "burst") if given.get(f)})
        if new is None and not fresh and not any(k in given for k in keys):
            continue
        setattr(nic.bandwidth, direction, new)
