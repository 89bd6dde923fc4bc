"""The in-memory objects of a test connection: domains, networks, pools/volumes, interfaces.

Each keeps its XML as an lxml tree and reads the handful of reported fields with XPath.  A
domain has libvirt's two definitions: `config` (the persistent one, None when transient) and
`live` (present while active), so config-only changes on a running guest show up after the
next start, exactly as `setmem --config` behaves on libvirt's test driver.

Plain `__slots__` classes rather than dataclasses: importing `dataclasses` costs more CPU
than the whole `list` command should (see pyvirt.api's note).  A domain loaded from the
shipped default fixture starts as a *pending* object (a light tree for the reported fields
plus a callable that builds the lxml definitions), so listing it never imports lxml.
"""

from __future__ import annotations

from pyvirt.api import DomainInfo, DomainState
from pyvirt.testdriver.xmlutil import scaled, set_child_text, text, to_string

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from lxml import etree

    Trees = tuple[etree._Element | None, etree._Element | None]


class DomainObj:
    """One domain: its definitions, run state and the flags `dominfo` shows."""

    __slots__ = ("_config", "_live", "_pending", "_summary", "state", "reason", "id", "autostart",
                 "managed_save", "frozen", "messages")

    def __init__(self, config: etree._Element | None = None, live: etree._Element | None = None,
                 state: int = DomainState.SHUTOFF, reason: int = 0, id: int = -1,  # noqa: A002
                 autostart: bool = False, managed_save: bool = False, *,
                 pending: Callable[[], Trees] | None = None, summary: Any = None) -> None:
        self._config = config
        self._live = live
        # `pending` builds (config, live) on first use; until then `summary` (an element-like
        # light tree of the current definition) answers name, uuid and info().
        self._pending = pending
        self._summary = summary
        self.state = state
        self.reason = reason
        self.id = id
        self.autostart = autostart
        self.managed_save = managed_save
        self.frozen: set[str] = set()  # the test driver's pretend filesystems frozen ("/", "/boot")
        self.messages: tuple[str, ...] = ()  # virDomainGetMessages (pyvirt.testdriver.taint)

    def _materialise(self) -> None:
        if self._pending is not None:
            build, self._pending, self._summary = self._pending, None, None
            self._config, self._live = build()

    @property
    def config(self) -> etree._Element | None:
        self._materialise()
        return self._config

    @config.setter
    def config(self, tree: etree._Element | None) -> None:
        self._materialise()
        self._config = tree

    @property
    def live(self) -> etree._Element | None:
        self._materialise()
        return self._live

    @live.setter
    def live(self, tree: etree._Element | None) -> None:
        self._materialise()
        self._live = tree

    @property
    def current(self) -> etree._Element:
        """The definition that describes the domain now: live while active, else config."""
        tree = self.live if self.live is not None else self.config
        assert tree is not None, "a domain always has at least one definition"
        return tree

    def _reading(self) -> Any:
        """The tree the reported fields are read from (the light summary while pending)."""
        return self._summary if self._pending is not None else self.current

    @property
    def name(self) -> str:
        return text(self._reading(), "name")

    @property
    def uuid(self) -> str:
        return text(self._reading(), "uuid").lower()

    @property
    def active(self) -> bool:
        return self.id != -1

    @property
    def persistent(self) -> bool:
        if self._pending is not None:
            return True  # pending domains come only from the fixture, which has no <test:transient>
        return self._config is not None

    def info(self) -> DomainInfo:
        """The DomainInfo record, read from the current definition."""
        tree = self._reading()
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
        import copy

        tree = copy.deepcopy(self.current)
        if self.active and not inactive:
            attrs = dict(tree.attrib)
            tree.attrib.clear()
            tree.set("type", attrs.pop("type", "test"))
            tree.set("id", str(self.id))
            for key, value in attrs.items():
                tree.set(key, value)
        return to_string(tree)


class _XMLObj:
    """What every non-domain object shares: its XML tree, and name/uuid read from it."""

    __slots__ = ("xml",)

    def __init__(self, xml: etree._Element) -> None:
        self.xml = xml

    @property
    def name(self) -> str:
        return text(self.xml, "name")

    @property
    def uuid(self) -> str:
        return text(self.xml, "uuid").lower()


class _Switchable(_XMLObj):
    """Networks and pools: loaded ones are active and persistent, as libvirt's test driver has them."""

    __slots__ = ("active", "autostart", "persistent")

    def __init__(self, xml: etree._Element, active: bool = True, autostart: bool = False,
                 persistent: bool = True) -> None:
        super().__init__(xml)
        self.active = active
        self.autostart = autostart
        self.persistent = persistent

    def _flags(self) -> dict[str, object]:
        return {"name": self.name, "uuid": self.uuid, "active": self.active, "autostart": self.autostart,
                "persistent": self.persistent}


class VolumeObj(_XMLObj):
    """A storage volume; path and key default to `<pool target>/<name>` as libvirt's test driver."""

    __slots__ = ()

    @property
    def path(self) -> str:
        return text(self.xml, "target/path")

    @property
    def capacity(self) -> int:
        return scaled(self.xml, "capacity", "bytes", "bytes")

    @property
    def allocation(self) -> int:
        return scaled(self.xml, "allocation", "bytes", "bytes")

    def record(self) -> dict[str, object]:
        fmt = self.xml.find("target/format")
        return {"name": self.name, "path": self.path, "key": self.path, "type": self.xml.get("type", "file"),
                "format": fmt.get("type", "raw") if fmt is not None else "raw",
                "capacity": self.capacity, "allocation": self.allocation}


class PoolObj(_Switchable):
    """A storage pool and its volumes (in load order)."""

    __slots__ = ("volumes",)

    def __init__(self, xml: etree._Element, volumes: list[VolumeObj] | None = None, active: bool = True,
                 autostart: bool = False, persistent: bool = True) -> None:
        super().__init__(xml, active, autostart, persistent)
        self.volumes = volumes if volumes is not None else []

    def record(self) -> dict[str, object]:
        return {**self._flags(), "type": self.xml.get("type", ""),
                "capacity": scaled(self.xml, "capacity", "bytes", "bytes"),
                "allocation": scaled(self.xml, "allocation", "bytes", "bytes"),
                "available": scaled(self.xml, "available", "bytes", "bytes"),
                "path": text(self.xml, "target/path")}

    def set_allocation(self, allocation: int) -> None:
        """Pool sizes follow the volumes (testStorageVolCreateXML/Delete): available = capacity - allocation."""
        capacity = scaled(self.xml, "capacity", "bytes", "bytes")
        for tag, value, after in (("allocation", allocation, ("name", "uuid", "capacity")),
                                  ("available", capacity - allocation, ("name", "uuid", "capacity", "allocation"))):
            set_child_text(self.xml, tag, str(value), after=after).set("unit", "bytes")


class NetworkObj(_Switchable):
    """A virtual network: libvirt's ``def`` (what runs) and ``newDef`` (the persistent config
    that takes over at the next start, set by a define or a ``--config`` update while active).

    Loaded networks keep the tree they came with until something changes them; a network
    libvirt would accept but pyvirt's model refuses (a typo'd attribute libvirt ignores) is
    still listed and dumped as loaded.
    """

    __slots__ = ("_model", "new_def")

    def __init__(self, xml: etree._Element, model: Any = None, active: bool = True, autostart: bool = False,
                 persistent: bool = True) -> None:
        super().__init__(xml, active, autostart, persistent)
        self._model = model
        self.new_def: Any = None

    @property
    def model(self) -> Any:
        """The :class:`pyvirt.xml.network.Network` of the running definition (None if unreadable)."""
        if self._model is None:
            from pyvirt.xml.errors import XMLError
            from pyvirt.xml.network import Network

            try:
                self._model = Network.from_xml(to_string(self.xml))
            except XMLError:
                return None
        return self._model

    def set_model(self, model: Any) -> None:
        from pyvirt.testdriver.xmlutil import parse_string

        self._model = model
        self.xml = parse_string(model.to_xml())

    def xml_text(self, inactive: bool = False) -> str:
        model = self.new_def if inactive and self.new_def is not None else self.model
        return model.to_xml() if model is not None else to_string(self.xml)

    def record(self) -> dict[str, object]:
        bridge = self.xml.find("bridge")
        return {**self._flags(), "bridge": bridge.get("name", "") if bridge is not None else ""}


class InterfaceObj(_XMLObj):
    """A host interface (`iface-list`)."""

    __slots__ = ("active",)

    def __init__(self, xml: etree._Element, active: bool = True) -> None:
        super().__init__(xml)
        self.active = active

    @property
    def name(self) -> str:
        return self.xml.get("name", "")

    def record(self) -> dict[str, object]:
        mac = self.xml.find("mac")
        return {"name": self.name, "active": self.active, "type": self.xml.get("type", ""),
                "mac": mac.get("address", "") if mac is not None else ""}
