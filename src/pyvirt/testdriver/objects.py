"""The in-memory objects of a test connection: domains, networks, pools/volumes, interfaces.

Each keeps its XML as an lxml tree and reads the handful of reported fields with XPath.  A
domain has libvirt's two definitions: `config` (the persistent one, None when transient) and
`live` (present while active), so config-only changes on a running guest show up after the
next start, exactly as `setmem --config` behaves on libvirt's test driver.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from lxml import etree

from pyvirt.api import DomainInfo, DomainState
from pyvirt.testdriver.xmlutil import scaled, text, to_string


@dataclass
class DomainObj:
    """One domain: its definitions, run state and the flags `dominfo` shows."""

    config: etree._Element | None
    live: etree._Element | None = None
    state: int = DomainState.SHUTOFF
    reason: int = 0
    id: int = -1
    autostart: bool = False
    managed_save: bool = False

    @property
    def current(self) -> etree._Element:
        """The definition that describes the domain now: live while active, else config."""
        tree = self.live if self.live is not None else self.config
        assert tree is not None, "a domain always has at least one definition"
        return tree

    @property
    def name(self) -> str:
        return text(self.current, "name")

    @property
    def uuid(self) -> str:
        return text(self.current, "uuid").lower()

    @property
    def active(self) -> bool:
        return self.id != -1

    @property
    def persistent(self) -> bool:
        return self.config is not None

    def info(self) -> DomainInfo:
        """The DomainInfo record, read from the current definition."""
        tree = self.current
        max_mem = scaled(tree, "memory")
        vcpu = tree.find("vcpu")
        max_vcpus = int((vcpu.text or "1").strip()) if vcpu is not None else 1
        vcpus = int(vcpu.get("current", max_vcpus)) if vcpu is not None else 1
        return DomainInfo(
            name=self.name, uuid=self.uuid, id=self.id, state=int(self.state), reason=int(self.reason),
            persistent=self.persistent, autostart=self.autostart, title=text(tree, "title"),
            os_type="linux",  # what libvirt's test driver answers to virDomainGetOSType
            max_mem_kib=max_mem, mem_kib=scaled(tree, "currentMemory", default=max_mem),
            vcpus=vcpus, max_vcpus=max_vcpus, managed_save=self.managed_save,
        )

    def xml(self, inactive: bool) -> str:
        """Inactive XML is the persistent definition; live XML carries the `id` attribute."""
        if inactive and self.config is not None:
            return to_string(self.config)
        tree = copy.deepcopy(self.current)
        if self.active and not inactive:
            attrs = dict(tree.attrib)
            tree.attrib.clear()
            tree.set("type", attrs.pop("type", "test"))
            tree.set("id", str(self.id))
            for key, value in attrs.items():
                tree.set(key, value)
        return to_string(tree)


@dataclass
class VolumeObj:
    """A storage volume; path and key default to `<pool target>/<name>` as libvirt's test driver."""

    xml: etree._Element

    @property
    def name(self) -> str:
        return text(self.xml, "name")

    @property
    def path(self) -> str:
        return text(self.xml, "target/path")

    def record(self) -> dict[str, object]:
        return {"name": self.name, "path": self.path, "type": self.xml.get("type", "file"),
                "capacity": scaled(self.xml, "capacity", "bytes", "bytes"),
                "allocation": scaled(self.xml, "allocation", "bytes", "bytes")}


@dataclass
class PoolObj:
    """A storage pool and its volumes (in load order)."""

    xml: etree._Element
    volumes: list[VolumeObj] = field(default_factory=list)
    active: bool = True
    autostart: bool = False
    persistent: bool = True

    @property
    def name(self) -> str:
        return text(self.xml, "name")

    @property
    def uuid(self) -> str:
        return text(self.xml, "uuid").lower()

    def record(self) -> dict[str, object]:
        return {"name": self.name, "uuid": self.uuid, "active": self.active, "autostart": self.autostart,
                "persistent": self.persistent, "type": self.xml.get("type", ""),
                "capacity": scaled(self.xml, "capacity", "bytes", "bytes"),
                "allocation": scaled(self.xml, "allocation", "bytes", "bytes"),
                "available": scaled(self.xml, "available", "bytes", "bytes"),
                "path": text(self.xml, "target/path")}


@dataclass
class NetworkObj:
    """A virtual network; loaded ones are active and persistent, as libvirt's test driver has them."""

    xml: etree._Element
    active: bool = True
    autostart: bool = False
    persistent: bool = True

    @property
    def name(self) -> str:
        return text(self.xml, "name")

    @property
    def uuid(self) -> str:
        return text(self.xml, "uuid").lower()

    def record(self) -> dict[str, object]:
        bridge = self.xml.find("bridge")
        return {"name": self.name, "uuid": self.uuid, "active": self.active, "autostart": self.autostart,
                "persistent": self.persistent, "bridge": bridge.get("name", "") if bridge is not None else ""}


@dataclass
class InterfaceObj:
    """A host interface (`iface-list`)."""

    xml: etree._Element
    active: bool = True

    @property
    def name(self) -> str:
        return self.xml.get("name", "")

    def record(self) -> dict[str, object]:
        mac = self.xml.find("mac")
        return {"name": self.name, "active": self.active, "type": self.xml.get("type", ""),
                "mac": mac.get("address", "") if mac is not None else ""}
