"""Output profiles: how a document is laid out for the tool whose output pyvirt reproduces.

One model, two writers to imitate.  libvirt writes a domain in its formatter's order with
single-quoted attributes (the model's declaration order, :mod:`pyvirt.xml.mapping`);
virt-install writes the same elements in virtinst's own order (its ``_XML_PROP_ORDER`` per
class and the order its option parsers set properties), with libxml2's double quotes.  A
profile names both things: where each child goes under a parent, and how the text is
written.  ``pyvirt install``/``xml``/``clone`` place every element they create through
:data:`VIRTINST` (one ordering table for all of them); the model's writer takes a profile
too (:func:`pyvirt.xml.mapping.build`), so an object built through the model comes out in
the order of the tool being imitated.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache

from pyvirt.xml.lazy_etree import etree

from .fields import NAMESPACES

QEMU_NS = NAMESPACES["qemu"]
LIBOSINFO_NS = "http://libosinfo.org/xmlns/libvirt/domain/1.0"
#: marks an element virt-xml created only to look into (written only if something was set in it)
SCRATCH_MARK = "{urn:pyvirt}new"

# virtinst's element order: the path of an element from <domain> -> its children in the order
# virt-install 4.1 writes them (its classes' _XML_PROP_ORDER, and for children no property
# orders, the order its option parsers set them).  A child not listed goes after the listed
# ones, in the order it was added.  A key ending in ``@`` orders the element's attributes,
# where virtinst's property order differs from the model's declaration order.
_VIRTINST_ORDER = """
domain: name uuid genid title description metadata iothreads iothreadids defaultiothread maxMemory memory currentMemory blkiotune memtune memoryBacking vcpu vcpus numatune resource sysinfo bootloader bootloader_args os idmap features cpu clock on_poweroff on_reboot on_crash pm devices launchSecurity seclabel keywrap on_lockfailure cputune qemu:commandline
domain/blkiotune: weight device
domain/blkiotune/device: path weight read_bytes_sec write_bytes_sec read_iops_sec write_iops_sec
domain/memtune: hard_limit soft_limit swap_hard_limit min_guarantee
domain/memoryBacking: hugepages nosharepages locked hugepages+ access source discard allocation
domain/numatune: memory memnode
domain/resource: partition fibrechannel
domain/sysinfo: bios system baseBoard chassis oemStrings entry
domain/os: type firmware loader nvram init initarg initenv initdir inituser initgroup kernel initrd cmdline dtb acpi boot bootmenu bios smbios
domain/idmap: uid gid
domain/features: acpi apic pae gic privnet hap viridian pmu hyperv vmport kvm pvspinlock smm vmcoreinfo ioapic
domain/features/kvm: hidden hint-dedicated poll-control
domain/cpu: model vendor topology cache feature numa
domain/cpu/numa: cell interconnects
domain/cpu/numa/cell: distances cache
domain/cpu/numa/cell/cache: size line
domain/cpu/numa/interconnects: latency bandwidth
domain/devices: emulator disk controller filesystem interface smartcard serial parallel console channel input tpm graphics sound audio video hostdev redirdev watchdog memballoon rng panic shmem memory vsock iommu
domain/devices/disk: driver auth source target alias address serial wwn readonly shareable transient iotune blockio geometry boot
domain/devices/disk/source: host address reservations seclabel
domain/devices/disk/iotune: read_bytes_sec write_bytes_sec total_bytes_sec read_iops_sec write_iops_sec total_iops_sec
domain/devices/controller: master driver alias address target boot
domain/devices/filesystem: readonly space_hard_limit space_soft_limit source target binary driver alias address boot
domain/devices/filesystem/binary: cache lock sandbox
domain/devices/interface: source mac target model virtualport filterref rom mtu alias address link driver boot
domain/devices/interface~virtio-driver: source mac target model virtualport filterref rom mtu driver alias address link boot
domain/devices/smartcard: database alias address boot certificate source driver
domain/devices/input: driver alias address source boot
domain/devices/tpm: alias address backend boot driver
domain/devices/tpm/backend: device encryption
domain/devices/tpm/active_pcr_banks: sha1 sha256 sha384 sha512
domain/devices/graphics: gl image streaming clipboard mouse filetransfer zlib alias address boot listen driver
domain/devices/sound: alias address audio boot codec driver
domain/devices/audio: alias address boot driver
domain/devices/video: model driver alias address boot
domain/devices/hostdev: source alias address driver rom boot
domain/devices/hostdev~late-source: alias address source driver rom boot
domain/devices/hostdev/source: vendor product adapter address interface char block
domain/devices/redirdev: source alias address boot driver
domain/devices/watchdog: alias address boot driver
domain/devices/memballoon: driver alias address stats boot
domain/devices/rng: driver alias address backend rate boot
domain/devices/panic: alias address boot driver
domain/devices/shmem: model size server msi alias address boot driver
domain/devices/memory: alias uuid address boot source target driver
domain/devices/memory/source: pagesize path nodemask pmem alignsize
domain/devices/memory/target: size node label block current requested readonly
domain/devices/vsock: driver alias address cid boot
domain/devices/iommu: driver alias address boot
domain/devices/iommu/driver@: aw_bits intremap caching_mode eim iotlb
domain/vcpu@: current cpuset placement
domain/devices/controller@: type index model maxGrantFrames vectors ports
domain/devices/disk@: type device snapshot sgio rawio
domain/devices/disk/source@: file dev dir volume pool protocol name type managed namespace query
domain/devices/disk/driver@: name type cache discard detect_zeroes io iothread queues error_policy ats iommu packed page_per_vq
domain/devices/interface/source@: bridge network dev type path mode portgroup
domain/devices/controller/driver@: queues ats iommu packed page_per_vq iothread
domain/devices/graphics@: type port tlsPort autoport websocket keymap listen passwd passwdValidTo connected defaultMode display xauth
domain/devices/filesystem/driver@: ats iommu packed page_per_vq format name queue type wrpolicy
domain/devices/controller/target@: chassisNr chassis port hotplug busNr index
domain/clock/timer@: name present tickpolicy track mode frequency
domain/devices/audio@: type id
domain/launchSecurity: cbitpos reducedPhysBits policy session dhCert
domain/seclabel: label baselabel
domain/cputune: shares period quota global_period global_quota emulator_period emulator_quota iothread_period iothread_quota vcpupin emulatorpin iothreadpin emulatorsched vcpusched iothreadsched cachetune memorytune
domain/cputune/cachetune: cache monitor
domain/qemu:commandline: qemu:arg qemu:env
"""


#: elements whose children virtinst writes in the order they were set (their class has no
#: _XML_PROP_ORDER for them, XMLBuilder appends a new node last): an option's sub-options set
#: them in its parser's registration order (optmap's row order), defaults come after, and
#: virt-xml appends to what a domain already has.  DomainFeatures' hyperv_* properties:
#: ``hyperv.relaxed.state=on,hyperv.vapic.state=on`` writes <vapic> first, as the parser
#: registers vapic before relaxed; the Windows defaults add relaxed, vapic, spinlocks.
SET_ORDER = frozenset({"domain/features/hyperv"})

#: devices with a character device source (virtinst's _add_char_source_args), and their order
_CHAR_SOURCES = ("serial", "parallel", "console", "channel", "smartcard", "redirdev", "rng/backend")
_CHAR_SOURCE_ORDER = ("clipboard", "mouse", "seclabel")
_CHAR_ORDER = ("source", "protocol", "log", "target", "alias", "address", "boot", "driver")
#: a <target> made only by properties outside _DeviceChar's _XML_PROP_ORDER (port, address)
_CHAR_LATE_TARGET = ("source", "protocol", "log", "alias", "address", "target", "boot", "driver")
_CHAR_TARGET_ORDERED = ("type", "name", "state")
# Attribute orders shared by many elements: virtinst writes an object's properties in its
# class's _XML_PROP_ORDER, then the others in their declaration order (DeviceAddress,
# _DeviceChar's target, DeviceVirtioDriver).  A character source's attributes follow the
# model's order (which property virtinst set an attribute through decides its place there).
_ADDRESS_ATTRS = ("type domain controller bus slot function target unit multifunction port reg cssid "
                  "ssid devno iobase irq base")
_CHAR_TARGET_ATTRS = "type name state address port"
_VIRTIO_DRIVER_ATTRS = "ats iommu packed page_per_vq"


def _table(text: str) -> dict[str, tuple[str, ...]]:
    table = {key.strip(): tuple(val.split()) for key, _, val in
             (line.partition(":") for line in text.strip().splitlines())}
    for dev in _CHAR_SOURCES:
        table[f"domain/devices/{dev}/source"] = _CHAR_SOURCE_ORDER
    for dev in _CHAR_SOURCES[:4]:
        table[f"domain/devices/{dev}"] = _CHAR_ORDER
        table[f"domain/devices/{dev}~late-target"] = _CHAR_LATE_TARGET
        table.setdefault(f"domain/devices/{dev}/target@", tuple(_CHAR_TARGET_ATTRS.split()))
    for dev in table["domain/devices"]:
        table.setdefault(f"domain/devices/{dev}/address@", tuple(_ADDRESS_ATTRS.split()))
        table.setdefault(f"domain/devices/{dev}/driver@", tuple(_VIRTIO_DRIVER_ATTRS.split()))
    return table


def _variant(el: etree._Element, new: etree._Element | None = None) -> str:
    """Which of an element's orders applies, where virtinst's depends on the element
    (`new`: a child about to be added, counted as one of them).
    virtinst writes a new object's children in its class's _XML_PROP_ORDER first, the other
    properties after them in the order they were set (XMLBuilder._do_add_parse_bits): a
    hostdev's <source> is made by ordered properties (vendor/product, the PCI address) only
    for usb and pci devices; scsi, mdev and capabilities-mode sources follow alias/address.
    Every Device appends virtio_driver, alias and address to its order, so a <driver> made
    by virtio options (ats, iommu, packed, page_per_vq) comes before alias; an interface's
    <driver> made only by its own name/queues properties comes where they were set.  A
    character device's <target> is ordered by its type/name/state properties; one made by
    port or address alone comes after alias and address."""
    if el.tag == "hostdev" and (el.get("type") not in ("usb", "pci")
                                or el.get("mode", "subsystem") != "subsystem"):
        return "~late-source"
    if el.tag in _CHAR_SOURCES[:4]:
        targets = [*el.findall("target"), *([new] if new is not None and new.tag == "target" else [])]
        if targets and not any(t.get(a) is not None for t in targets for a in _CHAR_TARGET_ORDERED):
            return "~late-target"
    if el.tag == "interface":
        kids = [*el.findall("driver"), *([new] if new is not None and new.tag == "driver" else [])]
        if any(k.get(a) is not None for k in kids for a in _VIRTIO_DRIVER_ATTRS.split()):
            return "~virtio-driver"
    return ""


def _rank(order: tuple[str, ...], el: etree._Element) -> int:
    """`el`'s place in `order` (``len(order)`` when it has none).  ``TAG+`` places an
    element that has children apart from an empty one: virtinst writes a boolean property
    (``<hugepages/>``) at its property's place, the same element made by child objects
    (``<hugepages><page/></hugepages>``) at the child property's place."""
    if len(el) and f"{el.tag}+" in order:
        return order.index(f"{el.tag}+")
    return order.index(el.tag) if el.tag in order else len(order)


def element_path(el: etree._Element) -> str:
    """`el`'s tags from the document root down, joined by slashes (``domain/features/hyperv``)."""
    tags = []
    node: etree._Element | None = el
    while node is not None:
        tags.append(node.tag)
        node = node.getparent()
    return "/".join(reversed(tags))


@dataclass(frozen=True, eq=False)
class Profile:
    """How one tool lays a document out: child order per element path (empty: the model's
    declaration order, i.e. libvirt's) and the attribute quote character."""

    name: str
    quote: str
    orders: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: prefixes the tool writes for the namespaces it uses (else lxml invents ``ns0``)
    prefixes: Mapping[str, str] = field(default_factory=dict)

    def order_for(self, parent: etree._Element) -> tuple[str, ...]:
        """The child order under `parent`, found by its path under <domain>; an element not
        (yet) in a domain is looked up as a device, then as a child of <domain>."""
        return self._order(element_path(parent) + _variant(parent))

    @cache  # noqa: B019 - the profiles are module constants, alive as long as the process
    def _order(self, chain: str) -> tuple[str, ...]:
        for key in (chain, f"domain/devices/{chain}", f"domain/{chain}"):
            if key in self.orders:
                return self.orders[key]
        return ()

    def insert(self, parent: etree._Element, el: etree._Element) -> etree._Element:
        """Put `el` under `parent` where the profile's order puts it: before the first
        sibling that comes later, else last (also when its tag has no place)."""
        order = self._order(element_path(parent) + _variant(parent, el))
        rank = _rank(order, el)
        if rank < len(order):
            for idx, sib in enumerate(parent):
                if _rank(order, sib) > rank and _rank(order, sib) < len(order):
                    parent.insert(idx, el)
                    return el
        parent.append(el)
        return el

    def arrange(self, el: etree._Element) -> etree._Element:
        """Reorder a freshly built subtree's children (and attributes, where the profile
        orders them) into the profile's order: a stable sort, what has no place keeps its
        own after what has one."""
        if self.orders:
            for node in el.iter():
                order = self.order_for(node)
                if order and len(node):
                    kids = list(node)
                    ranked = sorted(kids, key=lambda k, o=order: _rank(o, k))
                    if ranked != kids:
                        node[:] = ranked
                attrs = self._order(element_path(node) + "@") if isinstance(node.tag, str) else ()
                if attrs and len(node.attrib) > 1:
                    items = sorted(node.attrib.items(),
                                   key=lambda kv: attrs.index(kv[0]) if kv[0] in attrs else len(attrs))
                    node.attrib.clear()
                    node.attrib.update(items)
        return el

    def to_text(self, root: etree._Element) -> str:
        """The document as the tool prints it: two-space indent, trailing newline; for
        virt-install libxml2's own layout (double quotes), scratch elements virt-xml made
        but left empty dropped, blank text of elements with children removed, and a
        childless element's whitespace kept (``<devices>\\n  </devices>``)."""
        if self.quote == "'":
            from .mapping import to_text
            return to_text(root)
        root = copy.deepcopy(root)
        for el in list(root.iter()):
            if el.get(SCRATCH_MARK) is not None:
                del el.attrib[SCRATCH_MARK]
                if not len(el) and not el.attrib and not (el.text or "").strip():
                    el.getparent().remove(el)
        for el in root.iter():
            if len(el) and el.text is not None and not el.text.strip():
                el.text = None
            if el.tail is not None and not el.tail.strip():
                el.tail = None
        etree.cleanup_namespaces(root)
        etree.indent(root, space="  ")
        return etree.tostring(root, encoding="unicode") + "\n"


#: libvirt: the model's order, single quotes (virBuffer's formatter)
LIBVIRT = Profile("libvirt", "'")
#: virt-install / virt-xml / virt-clone 4.1: virtinst's order, libxml2's double quotes
VIRTINST = Profile("virtinst", '"', _table(_VIRTINST_ORDER),
                   {QEMU_NS: "qemu", LIBOSINFO_NS: "libosinfo"})
