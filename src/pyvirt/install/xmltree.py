"""Building domain XML in virt-install's element order.

virtinst writes every element in a fixed order per parent (its ``_XML_PROP_ORDER``); the
compare tests and human diffs rely on it.  Rather than one class per element, one table
here says, per parent tag, where each child goes; `child()` and `append()` insert there.
Children not in a table go last, in insertion order.
"""

from __future__ import annotations

from lxml import etree

QEMU_NS = "http://libvirt.org/schemas/domain/qemu/1.0"
LIBOSINFO_NS = "http://libosinfo.org/xmlns/libvirt/domain/1.0"
#: prefixes virt-install writes for the namespaces its options use (else lxml invents ns0)
NAMESPACE_PREFIXES = {QEMU_NS: "qemu", LIBOSINFO_NS: "libosinfo"}

Element = etree._Element

ORDER: dict[str, list[str]] = {
    "domain": ["name", "uuid", "genid", "title", "description", "metadata", "iothreads",
               "iothreadids", "defaultiothread", "maxMemory", "memory", "currentMemory",
               "blkiotune", "memtune", "memoryBacking", "vcpu", "vcpus", "numatune",
               "resource", "sysinfo", "bootloader", "bootloader_args", "os", "idmap",
               "features", "cpu", "clock", "pm", "devices", "launchSecurity", "seclabel",
               "keywrap", "on_poweroff", "on_reboot", "on_crash"],
    "os": ["type", "firmware", "loader", "nvram", "init", "initarg", "initenv", "initdir",
           "inituser", "initgroup", "kernel", "initrd", "cmdline", "dtb", "acpi", "boot",
           "bootmenu", "bios", "smbios"],
    "devices": ["emulator", "disk", "controller", "filesystem", "interface", "smartcard",
                "serial", "parallel", "console", "channel", "input", "tpm", "graphics",
                "sound", "audio", "video", "hostdev", "redirdev", "watchdog", "memballoon",
                "rng", "panic", "shmem", "memory", "vsock", "iommu"],
    "disk": ["driver", "auth", "source", "backingStore", "target", "iotune", "readonly",
             "shareable", "serial", "wwn", "boot", "address"],
    "interface": ["source", "mac", "target", "model", "virtualport", "filterref", "rom",
                  "mtu", "link", "boot", "address"],
    "features": ["acpi", "apic", "pae", "hap", "viridian", "privnet", "hyperv", "kvm", "pvspinlock",
                 "pmu", "vmport", "gic", "smm", "vmcoreinfo", "ioapic"],
    "hyperv": ["relaxed", "vapic", "spinlocks", "vpindex", "runtime", "synic", "stimer",
               "reset", "vendor_id", "frequencies", "reenlightenment", "tlbflush", "ipi", "evmcs"],
    "cpu": ["model", "vendor", "topology", "cache", "feature", "numa"],
    "char": ["source", "protocol", "log", "target", "address"],
    "graphics": ["image", "listen", "gl", "streaming", "clipboard", "mouse", "filetransfer",
                 "zlib", "jpeg", "playback", "address"],
}
_CHAR = ("serial", "parallel", "console", "channel")


def _chain(el: Element) -> str:
    tags = []
    node: Element | None = el
    while node is not None:
        tags.append(node.tag)
        node = node.getparent()
    return "/".join(reversed(tags))


def _order_for(parent: Element) -> list[str]:
    """virt-install's child order for `parent`: optmap's table keyed by the element's path
    under <domain> (a device still being built is looked up under <devices>), else the
    per-tag table above."""
    from pyvirt.install.optmap import ORDER as BY_PATH
    chain = _chain(parent)
    if chain.endswith("hyperv"):
        # <hyperv>: children come in the order virt-install's defaults set them
        return ORDER[parent.tag]
    for key in (chain, f"domain/devices/{chain}", f"domain/{chain}"):
        if key in BY_PATH:
            return BY_PATH[key]
    tag = "char" if parent.tag in _CHAR else parent.tag
    return ORDER.get(tag, [])


def _insert(parent: Element, el: Element) -> Element:
    order = _order_for(parent)
    if el.tag not in order:
        parent.append(el)
        return el
    rank = order.index(el.tag)
    for idx, sib in enumerate(parent):
        if sib.tag in order and order.index(sib.tag) > rank:
            parent.insert(idx, el)
            return el
        if sib.tag not in order and not isinstance(sib.tag, str):
            continue
    parent.append(el)
    return el


def child(parent: Element, tag: str, **attrs: str | None) -> Element:
    """The first `tag` child of `parent`, created in its ordered place when missing."""
    el = parent.find(tag)
    if el is None:
        el = _insert(parent, etree.Element(tag))
    set_attrs(el, **attrs)
    return el


def append(parent: Element, tag: str, text: str | None = None, **attrs: str | None) -> Element:
    """A new `tag` child after any existing ones of its kind (repeated elements)."""
    el = etree.Element(tag)
    if text is not None:
        el.text = text
    set_attrs(el, **attrs)
    return _insert(parent, el)


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
    for el in root.iter():
        if len(el) and el.text is not None and not el.text.strip():
            el.text = None
        if el.tail is not None and not el.tail.strip():
            el.tail = None
    etree.indent(root, space="  ")
    return etree.tostring(root, encoding="unicode") + "\n"
