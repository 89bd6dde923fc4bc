"""Reading a domain document: hardened parse, model mapping, then semantic checks."""

from __future__ import annotations

import contextlib
from typing import Any

from . import vcpus
from .domain import Domain
from .errors import XMLConfigError, XMLError, XMLInternalError, XMLValidationError
from .fields import keeping_unknown
from .generic_defaults import fill_iothread_ids
from .mapping import parse_model
from .safe import parse_root
from .validate import validate_domain


def parse_domain(xml: str | bytes, *, keep_unknown: bool = False, validate: bool = True,
                 define_rules: bool = True) -> Domain:
    """Parse libvirt domain XML into a :class:`Domain` (raises XMLError and subclasses).

    ``keep_unknown`` is for formatting only (the test driver): what the model does not
    declare is kept verbatim and written back instead of refused.  A domain read that way
    must never reach the QEMU driver.  ``validate=False`` (only with ``keep_unknown``)
    lets a document the QEMU driver's semantic checks refuse still be read for formatting.
    ``define_rules=False`` leaves out libvirt's define-time rules (xml/define_rules.py) for a
    definition already stored, as libvirt loads its configs (VIR_DOMAIN_DEF_PARSE_SKIP_VALIDATE):
    a rule added since that definition was written must not make it unloadable; a start checks
    them again (pyvirt.daemon.driver)."""
    root = parse_root(xml, "domain")
    merge_os(root)
    _one_of_each(root)
    if keep_unknown:
        with keeping_unknown(any_value=not validate):
            dom = parse_model(root, Domain, "domain")
    else:
        dom = parse_model(root, Domain, "domain")
    parse_order(dom)
    fill_iothread_ids(dom)  # virDomainDefPostParse: in memory always, written only beside given ids
    vcpus.post_parse(dom)  # the <vcpus> list made whole, <vcpu current> derived from it
    if keep_unknown and not validate:
        # formatting only: the QEMU driver's semantic checks (q35-only devices, …) are not
        # libvirt's generic parser's, so they do not stop a test-driver domain being formatted
        with contextlib.suppress(XMLError):
            validate_domain(dom)
        return dom
    validate_domain(dom, qemu=not keep_unknown, define_rules=define_rules)
    return dom


#: devices libvirt's generic parser (virDomainDefParseXML) keeps one of, with its refusal of a
#: second: the model holds one, so a second would otherwise be dropped without a word
_SINGLE_DEVICES = (("memballoon", "memory balloon", XMLInternalError),
                   ("nvram", "nvram", XMLInternalError),
                   ("iommu", "IOMMU", XMLValidationError),
                   ("vsock", "vsock", XMLValidationError))


#: <os> children libvirt reads as a node set under every <os> (``./os/boot``, ``./os/initarg``…)
_OS_LISTS = frozenset({"boot", "initarg", "initenv"})
#: <os> children whose own children libvirt reads as a node set (``./os/acpi/table``,
#: ``./os/firmware/feature``): a later copy's children join the first's
_OS_LIST_PARENTS = frozenset({"acpi", "firmware"})
#: <os> children libvirt reads attributes of as a string over every copy
#: (``string(./os/type[1]/@arch)``): a later copy gives an attribute the first lacks
_OS_STRING_READS = frozenset({"type"})


def merge_os(root: Any) -> None:
    """virDomainDefParseXML reads ``./os/…`` paths, which see every ``<os>`` of a domain at
    once: the first in document order wins where one is read (``<type>`` text, ``<loader>``,
    ``<bootmenu>``), every copy counts where a set is (``<boot>``, ACPI tables), and an
    attribute read as a string (``@firmware``, ``type/@arch``) comes from the first copy that
    has it.  Folding the later ``<os>`` elements into the first reads them the same way and
    writes the one ``<os>`` libvirt writes back."""
    copies = root.findall("os")
    if len(copies) < 2:
        return
    first = copies[0]
    for later in copies[1:]:
        _fill_attributes(first, later)
        for sub in list(later):
            if not isinstance(sub.tag, str):
                continue
            have = first.find(sub.tag)
            if have is None or sub.tag in _OS_LISTS:
                first.append(sub)
            elif sub.tag in _OS_LIST_PARENTS:
                for grand in list(sub):
                    have.append(grand)
            elif sub.tag in _OS_STRING_READS:
                _fill_attributes(have, sub)
            # any other repeated child: libvirt reads the first copy only
        root.remove(later)


def _fill_attributes(into: Any, source: Any) -> None:
    for name, value in source.attrib.items():
        if into.get(name) is None:
            into.set(name, value)


def _one_of_each(root: object) -> None:
    for tag, what, cls in _SINGLE_DEVICES:
        found = root.findall(f"devices/{tag}")  # type: ignore[attr-defined]
        if len(found) > 1:
            raise cls(f"only a single {what} device is supported", found[1].sourceline, libvirt_words=True)
    _features_and_perf(root)
    for boot in root.iterfind("devices/*/boot"):  # type: ignore[attr-defined]
        if boot.get("order") is None:  # virDomainDeviceBootParseXML (pyvirt's model reads only the attribute)
            raise XMLError("Missing required attribute 'order' in element 'boot'", boot.sourceline,
                           libvirt_words=True)


#: the Hyper-V enlightenments and KVM features libvirt 9.0 knows (virDomainHyperv, virDomainKVM)
_HYPERV = ("relaxed", "vapic", "spinlocks", "vpindex", "runtime", "synic", "stimer", "reset", "vendor_id",
           "frequencies", "reenlightenment", "tlbflush", "ipi", "evmcs", "avic")
_KVM = ("hidden", "hint-dedicated", "poll-control", "pv-ipi", "dirty-ring")


def _features_and_perf(root: object) -> None:
    """virDomainFeaturesHyperVDefParse / ...KVMDefParse and virPerfEventParse: each child needs
    its state (its name for a perf event), an unknown one is refused in libvirt's words."""
    for path, known, what in (("features/hyperv", _HYPERV, "HyperV Enlightenment"), ("features/kvm", _KVM, "KVM")):
        for parent in root.iterfind(path):  # type: ignore[attr-defined]
            if parent.get("mode") == "passthrough":
                continue
            for el in parent:
                if not isinstance(el.tag, str):
                    continue
                if el.tag not in known:
                    raise XMLConfigError(f"unsupported {what} feature: {el.tag}", el.sourceline)
                if el.get("state") is None:
                    raise XMLError(f"Missing required attribute 'state' in element '{el.tag}'", el.sourceline,
                                   libvirt_words=True)
                if el.tag == "spinlocks" and el.get("state") == "on" and el.get("retries") is None:
                    raise XMLError("Missing required attribute 'retries' in element 'spinlocks'", el.sourceline,
                                   libvirt_words=True)
    for event in root.iterfind("perf/event"):  # type: ignore[attr-defined]
        if event.get("name") is None:
            raise XMLError("Missing required attribute 'name' in element 'event'", event.sourceline,
                           libvirt_words=True)


def parse_order(dom: Domain) -> None:
    """libvirt's parser inserts each controller where virDomainControllerInsertPreAlloced puts
    it (grouped by type, by index, USB2 masters before their companions), so a document reads
    back in that order whatever order it was written in.  A video with ``primary='yes'`` is
    inserted first (virDomainDefParseXML), so it is the VGA-compatible one wherever it was
    written."""
    from .pciaddr import insert_controller

    ordered: list = []
    for c in dom.devices.controllers:
        insert_controller(ordered, c)
    dom.devices.controllers = ordered
    videos = dom.devices.videos
    primary = [v for v in videos if v.model_primary]
    if len(primary) == 1 and videos[0] is not primary[0]:  # two primaries: refused by validation
        dom.devices.videos = [primary[0], *(v for v in videos if v is not primary[0])]
