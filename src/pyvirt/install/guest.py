"""The domain being built, and virt-install's defaults for what the options left open.

`Guest` keeps the XML tree (in virt-install's element order, see `xmltree`) plus the
facts the defaults depend on: connection kind, capabilities, domain capabilities, osinfo.
Its own facts (hypervisor, OS type, arch, machine, name, emulator, boot order, osinfo
metadata) are read and set as fields of the pyvirt.xml model (:meth:`Guest.view`,
:meth:`Guest.edit`), not by paths into the tree.
`set_defaults()` follows virtinst's Guest.set_defaults step by step, so an option that is
given always wins and everything else comes out as virt-install would write it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from pyvirt import ids
from pyvirt.install import modelopt
from pyvirt.install import osinfo as osdb
from pyvirt.install.caps import Capabilities, CapsInfo, DomCaps
from pyvirt.install.xmltree import LIBOSINFO_NS, Element, child, insert, new_element, set_text
from pyvirt.xml.domain import OS, Devices, Domain
from pyvirt.xml.fields import Verbatim
from pyvirt.xml.mapping import raw_string
from pyvirt.xml.safe import safe_parse

log = logging.getLogger("pyvirt.install")


@dataclass
class ConnInfo:
    """What virt-install asks of its connection: URI kind, caps, and lookups."""

    conn: Any
    uri: str
    caps: Capabilities
    domcaps: DomCaps

    @property
    def driver(self) -> str:
        return self.uri.split(":", 1)[0].split("+", 1)[0]

    def is_qemu(self) -> bool:
        return self.driver == "qemu"

    def is_test(self) -> bool:
        return self.driver == "test"

    def is_xen(self) -> bool:
        return self.driver in ("xen", "libxl")

    def is_remote(self) -> bool:
        rest = self.uri.split("://", 1)[-1]
        return "+" in self.uri.split(":", 1)[0] or not rest.startswith("/")

    def is_session(self) -> bool:
        return self.uri.endswith("/session")


@dataclass
class Flags:
    skip_console: bool = False
    skip_channel: bool = False
    skip_sound: bool = False
    skip_usbredir: bool = False
    skip_graphics: bool = False
    skip_rng: bool = False
    skip_tpm: bool = False
    uefi_requested: bool = False
    # Options applied to an existing domain (virt-xml), not one being installed: virtinst's
    # parsers act at once there instead of leaving it to the install defaults.
    editing: bool = False
    num_pcie_root_ports: int = 14
    cpu_default: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Guest:
    """A domain under construction."""

    def __init__(self, ci: ConnInfo) -> None:
        self.ci = ci
        self.root = new_element("domain")
        self.flags = Flags()
        self.osinfo: osdb.OsVariant = osdb.GENERIC
        self.os_set = False
        self._capsinfo: CapsInfo | None = None

    # -- the domain's own facts, as model fields
    def view(self, *tags: str) -> Domain:
        """<domain>'s children of these tags and its type, as a model object to read."""
        return modelopt.read_part(self.root, set(tags), ("type",))

    @contextmanager
    def edit(self, *tags: str) -> Iterator[Domain]:
        """<domain>'s children of these tags and its type as a model object to change;
        written back, each element in its place and with its attributes in the order they
        were set (as virtinst's Guest properties write its document), when the block ends."""
        with modelopt.part(self.root, *tags, attrs=("type",), set_order=True) as dom:
            yield dom

    def _os_value(self, path: str) -> str | None:
        """A value under <os>; an empty one (``<type machine=.../>``) is no value."""
        return modelopt.get_value(self.view("os"), path) or None

    # -- simple accessors
    @property
    def os(self) -> Element:
        return child(self.root, "os")

    @property
    def devices(self) -> Element:
        return child(self.root, "devices")

    def devs(self, tag: str) -> list[Element]:
        d = self.root.find("devices")
        return [] if d is None else d.findall(tag)

    def add_device(self, el: Element) -> Element:
        return insert(self.devices, el)

    def add(self, tag: str, obj: Any) -> Element:
        """A device model object (a default's <rng>, <console>...) written once, in
        virt-install's profile, and put where virt-install puts it."""
        return self.add_device(modelopt.element(obj, tag))

    @property
    def type(self) -> str | None:
        return self.view().type

    @property
    def arch(self) -> str | None:
        return self._os_value("os/type/@arch")

    @property
    def machine(self) -> str | None:
        return self._os_value("os/type/@machine")

    @property
    def os_type(self) -> str | None:
        return self._os_value("os/type")

    def set_type(self, hypervisor: str) -> None:
        """<domain type=>: the hypervisor (--virt-type, --boot domain_type=)."""
        with self.edit() as dom:
            modelopt.set_value(dom, "@type", hypervisor)

    def set_emulator(self, path: str) -> None:
        """<devices><emulator>: the emulator binary (capabilities' default, --boot emulator=);
        only that child of <devices> is read and written."""
        with modelopt.part(self.devices, "emulator", cls=Devices) as devs:
            modelopt.set_value(devs, "emulator", path)

    def set_text(self, tag: str, value: str | None) -> None:
        """A text child of <domain> the model does not hold (<bootloader>: Xen's, kept as
        virt-install writes it), set in virt-install's place, or removed with None."""
        set_text(self.root, tag, value)

    def set_os_type(self, *, os_type: str | None = None, arch: str | None = None,
                    machine: str | None = None) -> None:
        with self.edit("os") as dom:
            for path, value in (("os/type", os_type), ("os/type/@arch", arch),
                                ("os/type/@machine", machine)):
                if value:
                    modelopt.set_value(dom, path, value)

    # -- os predicates (virtinst DomainOs)
    def is_x86(self) -> bool:
        return (self.arch or "") in ("x86_64", "i686", "i386")

    def is_hvm(self) -> bool:
        return self.os_type == "hvm"

    def is_xenpv(self) -> bool:
        return self.os_type in ("xen", "linux")

    def is_container(self) -> bool:
        return self.os_type == "exe"

    def is_q35(self) -> bool:
        m = self.machine or ""
        return m == "q35" or "q35" in m

    def is_arm(self) -> bool:
        return (self.arch or "") in ("armv6l", "armv7l", "aarch64")

    def is_arm_machvirt(self) -> bool:
        return self.is_arm() and (self.machine or "").startswith("virt")

    def is_riscv_virt(self) -> bool:
        return (self.arch or "").startswith("riscv") and (self.machine or "").startswith("virt")

    def is_pseries(self) -> bool:
        return (self.arch or "").startswith("ppc64") and (self.machine or "").startswith("pseries")

    def is_s390x(self) -> bool:
        return self.arch == "s390x"

    # -- osinfo
    def set_os_name(self, name: str) -> None:
        found = osdb.lookup(name)
        if found is None:
            raise ValueError(f"Unknown OS name '{name}'. See `--osinfo list` for valid values.")
        self.osinfo = found
        self.os_set = True

    def supports_virtiodisk(self) -> bool:
        return self._virtio_ok(self.osinfo.supports_virtiodisk())

    def supports_virtionet(self) -> bool:
        return self._virtio_ok(self.osinfo.supports_virtionet())

    def supports_virtioscsi(self) -> bool:
        return self._virtio_ok(self.osinfo.supports_virtioscsi())

    def _virtio_ok(self, os_support: bool) -> bool:
        # virt-install only picks virtio on QEMU connections (not the test driver), and on
        # x86 only when the OS supports it; these machine types have nothing else.
        if not self.ci.is_qemu():
            return False
        if self.is_arm_machvirt() or self.is_riscv_virt() or self.is_s390x() or self.is_pseries():
            return True
        return os_support and self.is_x86()

    # -- capabilities
    def lookup_capsinfo(self) -> CapsInfo:
        info = self._capsinfo
        if (info is None or (self.type and self.type != info.hypervisor_type)
                or (self.os_type and self.os_type != info.os_type)
                or (self.arch and self.arch != info.arch)
                or (self.machine and self.machine not in info.machines)):
            info = self.ci.caps.lookup(os_type=self.os_type, arch=self.arch, typ=self.type,
                                       machine=self.machine)
            self._capsinfo = info
        return info

    def refresh_machine_type(self) -> None:
        """virtinst's Guest.refresh_machine_type: the machine becomes the stable alias QEMU
        lists (a capabilities machine with a canonical name) whose versioned names it
        starts with (pc: pc-i440fx-*, q35: pc-q35-*, others ALIAS-*); the machine is
        unset first, so the lookup works when QEMU no longer has the old one."""
        original = self.machine or ""
        with self.edit("os") as dom:
            modelopt.set_value(dom, "os/type/@machine", None)
        info = self.lookup_capsinfo()
        mobjs = (info.domain and info.domain.machines) or info.guest.machines
        for alias in [m.name for m in mobjs if m.canonical]:
            prefix = {"pc": "pc-i440fx-", "q35": "pc-q35-"}.get(alias, alias + "-")
            if original.startswith(prefix):
                self.set_os_type(machine=alias)
                return
        raise ValueError(f"Don't know how to refresh machine type '{original}'")

    def set_capabilities_defaults(self) -> None:
        info = self.lookup_capsinfo()
        wants_default = not self.type and not self.os_type
        self.set_type(info.hypervisor_type)
        self.set_os_type(os_type=info.os_type, arch=info.arch)
        if info.guest.loader:
            with self.edit("os") as dom:
                if modelopt.get_value(dom, "os/loader") is None:
                    modelopt.set_value(dom, "os/loader", info.guest.loader)
        emu = self.root.find("devices/emulator")
        if emu is None and not self.is_xenpv() and self.type != "vz" and info.emulator:
            self.set_emulator(info.emulator)
        if not self.machine:
            rec = self._recommended_machine(info)
            if rec:
                self.set_os_type(machine=rec)
        if wants_default and self.ci.is_qemu() and self.is_x86() and self.type != "kvm":
            log.warning("KVM acceleration not available, using '%s'", self.type)

    def _recommended_machine(self, info: CapsInfo) -> str | None:
        if not (self.ci.is_qemu() or self.ci.is_test()):
            return None
        machines = info.machines
        if info.arch in ("ppc64", "ppc64le") and "pseries" in machines:
            return "pseries"
        if info.arch in ("armv7l", "aarch64"):
            for m in ("virt", "vexpress-a15"):
                if m in machines:
                    return m
        if info.arch == "s390x" and "s390-ccw-virtio" in machines:
            return "s390-ccw-virtio"
        if info.arch in ("riscv64", "riscv32") and "virt" in machines:
            return "virt"
        return None

    # -- name/uuid
    def generate_name(self) -> str:
        base = self.osinfo.name
        if base.endswith("-unknown"):
            base = base.rsplit("-", 1)[0]
        force_num = False
        if self.osinfo.is_generic():
            force_num = True
            base = "container" if self.is_container() else "vm"
        if self.arch != self.ci.caps.host_arch:
            base += "-" + ("arm" if self.arch == "armv7l" else str(self.arch))
            force_num = False
        sep = "" if force_num else "-"
        start = 1 if force_num else 2

        def taken(name: str) -> bool:
            try:
                self.ci.conn.lookup_domain(name)
                return True
            except Exception:
                return False

        if not force_num and not taken(base):
            return base
        for i in range(start, 100000):
            cand = f"{base}{sep}{i}"
            if not taken(cand):
                return cand
        raise RuntimeError("Failed to generate a name")

    @property
    def name(self) -> str | None:
        return self.view("name").name

    def set_metadata_osinfo(self) -> None:
        """<metadata>'s libosinfo entry names the OS (virtinst's set_os_name): its <os>
        children replaced by the one chosen, the entry's other content kept, a new entry
        after the other metadata."""
        if self.osinfo.is_generic() or not self.osinfo.full_id:
            return
        entry = new_element(f"{{{LIBOSINFO_NS}}}libosinfo", nsmap={"libosinfo": LIBOSINFO_NS})
        with self.edit("metadata") as dom:
            items = list(dom.metadata or [])
            found = next((i for i, x in enumerate(items)
                          if safe_parse(x.encode()).tag == entry.tag), None)
            if found is not None:
                entry = safe_parse(items[found].encode())
                for old in entry.findall(f"{{{LIBOSINFO_NS}}}os"):
                    entry.remove(old)
            new_element(f"{{{LIBOSINFO_NS}}}os", parent=entry, id=self.osinfo.full_id)
            text = raw_string(entry)
            if found is None:
                items.append(text)
            else:
                items[found] = text
            dom.metadata = items

    def new_uuid(self) -> str:
        return ids.new_uuid()

    def new_mac(self) -> str:
        return ids.new_mac()

    def add_boot(self, devs: list[str], at_end: bool = False) -> None:
        """Replace the <boot> order.  at_end appends them after every other <os> child,
        as virt-install does when it rewrites the boot order of the install XML (a copy
        parsed from the final XML, where new children go last rather than in order)."""
        with self.edit("os") as dom:
            dom.os = dom.os or OS()
            dom.os.boot_devs = [Verbatim(d) for d in devs]
        if at_end:
            os_el = self.os
            for b in os_el.findall("boot"):
                os_el.append(b)  # moved after every other child
