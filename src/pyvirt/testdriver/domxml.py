"""Checking and normalising domain XML the way libvirt's test driver does on define/create.

Validation is deliberately minimal (what libvirt checks before anything else, with its
wording); when pyvirt's own XML model is importable it is asked too, so that XML the real
driver would refuse as unsupported is refused here as well.  Loading <node> files skips the
model check: those files come from other projects and may use anything.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from lxml import etree

from pyvirt import ids
from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError
from pyvirt.testdriver.xmlutil import TEST_NS, parse_string, set_child_text, text
from pyvirt.xml.libxml_report import URLS


def _xml_error(message: str, code: int = ErrorCode.XML_ERROR) -> PyvirtError:
    return PyvirtError(message, code, ErrorDomain.DOMAIN)


@dataclass
class TestExtensions:
    """libvirt's test-driver-only elements (`<test:runstate>` …), removed from the definition."""

    runstate: int | None = None
    transient: bool = False
    has_managed_save: bool = False


def strip_test_extensions(root: etree._Element) -> TestExtensions:
    """Take out `test:` namespace children, returning what they said."""
    ext = TestExtensions()
    for child in list(root):
        if not isinstance(child.tag, str) or not child.tag.startswith(f"{{{TEST_NS}}}"):
            continue
        local = etree.QName(child).localname
        if local == "runstate":
            try:
                ext.runstate = int((child.text or "").strip())
            except ValueError:
                ext.runstate = None
        elif local == "transient":
            ext.transient = True
        elif local == "hasmanagedsave":
            ext.has_managed_save = True
        _remove_keeping_layout(child)
    etree.cleanup_namespaces(root)
    return ext


def _remove_keeping_layout(el: etree._Element) -> None:
    parent = el.getparent()
    if parent is None:
        return
    prev = el.getprevious()
    if prev is not None:
        prev.tail = el.tail if el.tail is not None else prev.tail
    else:
        parent.text = (parent.text or "") if el.tail is None else parent.text
    parent.remove(el)


def check_domain(root: etree._Element, *, strict: bool) -> None:
    """libvirt's first checks, in its order and wording."""
    if root.tag != "domain":
        raise _xml_error(f"XML error: expecting root element of 'domain', not '{root.tag}'")
    name = text(root, "name")
    if not name:  # before the type: libvirt refuses a nameless <domain/> for its name
        raise _xml_error("missing name information", ErrorCode.NO_NAME)
    if not root.get("type"):
        raise PyvirtError("internal error: missing domain type attribute",
                          ErrorCode.INTERNAL_ERROR, ErrorDomain.DOMAIN)
    if "/" in name:
        raise _xml_error(f"XML error: name {name} cannot contain '/'")
    if strict and root.find("memory") is None and root.find("cpu/numa") is None:
        raise _xml_error("XML error: Memory size must be specified via <memory> or in the <numa> configuration")
    if strict and not text(root, "os/type") and root.find("bootloader") is None:
        raise _xml_error("XML error: an os <type> must be specified")


def _model_text(root: etree._Element) -> str:
    """The document as pyvirt's model is asked about it: the model describes QEMU domains,
    so the test driver's own `type='test'` is read as `qemu` and the rest is judged as is."""
    probe = copy.deepcopy(root)
    if probe.get("type") == "test":
        probe.set("type", "qemu")
    return etree.tostring(probe, encoding="unicode")


def check_with_model(root: etree._Element, *, unsupported_ok: bool = False) -> None:
    """Refuse what pyvirt's XML model refuses, when that model is available.

    The model describes QEMU domains; the test driver's own `type='test'` is checked as
    `qemu` so that only the rest of the document is judged."""
    try:
        from pyvirt.xml import parse_domain  # type: ignore[attr-defined]
        from pyvirt.xml.errors import XMLError, XMLUnsupportedError  # type: ignore[attr-defined]
        from pyvirt.xml.generic_defaults import check_kept_elements
    except ImportError:
        return
    text = _model_text(root)
    try:
        parse_domain(text)
        return
    except XMLError as exc:
        refusal = exc
    if unsupported_ok:
        # Something the model does not declare or pyvirt's QEMU driver does not run, in a
        # document libvirt's schema may refuse.  libvirt's parser skips what it does not
        # read and its define does not validate against the schema: only the generic
        # parser's own checks (which the keep-unknown read still applies) refuse it.
        try:
            parse_domain(text, keep_unknown=True)
            check_kept_elements(root)
            return
        except XMLUnsupportedError:
            return
        except XMLError as exc:
            refusal = exc
    if getattr(refusal, "libvirt_prefix", False):  # libvirt's own words: its prefix and code
        from pyvirt.api import from_xml_error

        raise from_xml_error(refusal, ErrorDomain.DOMAIN) from refusal
    enum_words = getattr(refusal, "libvirt_prop_message", None)
    if enum_words:  # an attribute's bad value, as libvirt's virXMLPropEnum/virXMLPropUInt say it
        raise PyvirtError(f"XML error: {enum_words}", ErrorCode.XML_ERROR, ErrorDomain.DOMAIN) from refusal
    code = ErrorCode.CONFIG_UNSUPPORTED if isinstance(refusal, XMLUnsupportedError) else ErrorCode.XML_ERROR
    raise PyvirtError(str(refusal), code, ErrorDomain.DOMAIN) from refusal


def _check_redirdev_usb(root: etree._Element) -> None:
    """virDomainRedirdevDefValidate: a redirected USB device needs a USB bus.  The QEMU
    driver adds a default USB controller before it checks; the test driver adds none, so a
    domain without a USB controller (or with model 'none') is refused."""
    if root.find("devices/redirdev") is None:
        return
    if any(c.get("model") != "none" for c in root.findall("devices/controller[@type='usb']")):
        return
    raise PyvirtError("unsupported configuration: cannot add redirected USB device: USB is disabled for this domain",
                      ErrorCode.CONFIG_UNSUPPORTED, ErrorDomain.DOMAIN)


def _numa_memory_kib(root: etree._Element) -> int:
    """Total RAM of the guest NUMA cells (0 without cells); libvirt makes it the domain's."""
    from pyvirt.xml.units import parse_size_kib

    total = 0
    for cell in root.findall("cpu/numa/cell"):
        if cell.get("memory"):
            try:
                total += parse_size_kib(cell.get("memory", ""), cell.get("unit"), "<cell memory>", cell.sourceline)
            except ValueError:
                return 0
    return total


def normalise(root: etree._Element) -> None:
    """Fill what libvirt always reports: a UUID, memory (from NUMA cells when the document gives
    none, as virDomainDefPostParseMemory without the QEMU driver's ABI update: a given
    ``<memory>`` is kept), currentMemory and vcpu."""
    if not text(root, "uuid"):
        set_child_text(root, "uuid", ids.new_uuid(), after=("name",))
    else:
        root.find("uuid").text = text(root, "uuid").lower()  # type: ignore[union-attr]
    numa_kib = _numa_memory_kib(root) if root.find("memory") is None else 0
    if numa_kib:
        total = set_child_text(root, "memory", str(numa_kib),
                               after=("name", "uuid", "genid", "title", "description", "metadata", "maxMemory"))
        total.attrib.pop("unit", None)
    mem = root.find("memory")
    if mem is not None and root.find("currentMemory") is None:
        cur = set_child_text(root, "currentMemory", (mem.text or "0").strip(), after=("memory",))
        if mem.get("unit"):
            cur.set("unit", mem.get("unit", "KiB"))
    if root.find("vcpu") is None:
        set_child_text(root, "vcpu", "1", after=("memory", "currentMemory", "maxMemory"))


def parse_domain_xml(xml: str, *, use_model: bool = True,
                     unsupported_ok: bool = False) -> tuple[etree._Element, TestExtensions]:
    """Parse, check and normalise API-supplied domain XML.

    `unsupported_ok` keeps the model's XML errors (bad values, as libvirt's generic parser
    refuses them) but lets through what only pyvirt's QEMU driver would not run."""
    root = parse_string(xml, URLS["domain"])
    if not isinstance(root.tag, str):
        raise _xml_error("XML error: expecting root element of 'domain'")
    ext = strip_test_extensions(root)
    check_domain(root, strict=True)
    if use_model:
        check_with_model(root, unsupported_ok=unsupported_ok)
    _check_redirdev_usb(root)
    normalise(root)
    return format_like_libvirt(root), ext


#: the first guest architecture of libvirt's test driver capabilities (testBuildCapabilities),
#: which its parser gives a domain that names none
TEST_GUEST_ARCH = "i686"


def _interface_names(dom: object) -> None:
    """libvirt's test driver names every interface without a target ``testnetN`` (the lowest N
    unused), as its testDomainGenerateIfnames does on define and load."""
    nics = dom.devices.interfaces  # type: ignore[attr-defined]
    used = {n.target_dev for n in nics if n.target_dev}
    n = 0
    for nic in nics:
        if nic.target_dev:
            continue
        while f"testnet{n}" in used:
            n += 1
        nic.target_dev = f"testnet{n}"
        used.add(nic.target_dev)


def format_like_libvirt(root: etree._Element) -> etree._Element:
    """The definition as libvirt's test driver returns it: parsed, then formatted.

    libvirt never hands back the text a client defined; it formats its parsed definition
    (children in its order, `unit='KiB'`, lower-case MACs, canonical values, what its
    driver-independent post-parse adds: implicit controllers, drive addresses), and clients
    such as virt-xml diff against that.  pyvirt's model does the same round trip, keeping
    what it does not declare verbatim in libvirt's place (not the QEMU driver's define-time
    defaults: no PCI addresses or machine types).  Documents the model cannot read at all
    (malformed values) are kept exactly as written: the explicit fallback.
    """
    try:
        from pyvirt.xml import XMLError, parse_domain
        from pyvirt.xml.generic_defaults import fill_generic_defaults, format_kept_elements
    except ImportError:  # the model is optional for the test driver
        return root
    dom_type = root.get("type")
    try:
        dom = parse_domain(_model_text(root), keep_unknown=True, validate=False)
        fill_generic_defaults(dom)
        _interface_names(dom)
        if dom.os is not None and dom.os.arch is None:
            dom.os.arch = TEST_GUEST_ARCH
        formatted = parse_string(dom.to_xml(inactive=True))
    except (XMLError, PyvirtError):
        return root
    format_kept_elements(formatted)
    if dom_type is not None:
        formatted.set("type", dom_type)
    devices = formatted.find("devices")
    if devices is not None and len(devices) == 0:
        devices.text = "\n"  # libvirt writes an empty <devices> open and closed (see to_string)
    return formatted


#: <interface> children libvirt writes after <target> (a generated target goes before the first)
_AFTER_TARGET = frozenset(("guest", "model", "driver", "backend", "filterref", "tune", "teaming", "link", "mtu",
                           "coalesce", "rom", "bandwidth", "vlan", "boot", "acpi", "alias", "address"))


def generate_ifnames(root: etree._Element) -> None:
    """testDomainGenerateIfnames: at start, each NIC without a <target dev> gets the first
    'testnetN' no NIC of this domain has (the live XML shows it)."""
    nics = list(root.iterfind("devices/interface"))
    taken = {t.get("dev") for nic in nics if (t := nic.find("target")) is not None}
    for nic in nics:
        target = nic.find("target")
        if target is not None and target.get("dev"):
            continue
        name = next(f"testnet{n}" for n in range(len(nics) + len(taken) + 1) if f"testnet{n}" not in taken)
        taken.add(name)
        if target is None:
            target = etree.Element("target")
            after = next((i for i, child in enumerate(nic) if child.tag in _AFTER_TARGET), len(nic))
            nic.insert(after, target)
        target.set("dev", name)
