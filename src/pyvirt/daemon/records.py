"""What pyvirtd knows of each domain: its record, and what exists only while its QEMU runs."""

from __future__ import annotations

import asyncio
import copy
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pyvirt.api import DomainState, ShutoffReason
from pyvirt.daemon.console import ConsoleRelay
from pyvirt.qemu import process

if TYPE_CHECKING:
    from qemu.qmp import EventListener, QMPClient

    from pyvirt.xml.domain import Domain


@dataclass
class Running:
    """What exists only while QEMU runs."""

    ident: process.ProcessIdentity
    qmp: QMPClient | None = None
    listener: EventListener | None = None   # registered at connect: no event is missed before reading
    monitor_listener: EventListener | None = None  # every event, for qemu-monitor-event (its own bound)
    console: ConsoleRelay | None = None
    supervisor: asyncio.Task[None] | None = None
    stop_reason: int | None = None          # set by whoever decided the guest must stop
    stop_detail: int | None = None
    fake_reboot: bool = False               # reboot via ACPI: reset instead of quit on SHUTDOWN
    guest_shutdown: bool = False            # QEMU reported a guest-initiated poweroff
    exited: asyncio.Event = field(default_factory=asyncio.Event)
    start_time: float = 0.0
    ports: list[int] = field(default_factory=list)   # display ports this guest holds
    auto_cpus: frozenset[int] | None = None  # <vcpu placement='auto'>: host CPUs of numad's nodes
    # device ids whose removal is awaited -> set by QEMU's DEVICE_DELETED for that id
    unplugged: dict[str, asyncio.Event] = field(default_factory=dict)
    # device ids unplug was asked for -> their backend, freed once QEMU deleted them (hotplug.Backend;
    # kept in the runtime record: a removal may complete after a daemon restart)
    unplugging: dict[str, dict[str, Any]] = field(default_factory=dict)
    # removals completed after the detach returned (a late DEVICE_DELETED), running in their own tasks
    removals: set[asyncio.Task[None]] = field(default_factory=set)
    # disk target -> its last block job (daemon/blockjobs.py: id, type, state, ...)
    block_jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    # block node name -> (disk target, source path) of a write threshold set (domblkthreshold)
    thresholds: dict[str, tuple[str, str]] = field(default_factory=dict)
    agent: Any = None                       # its guest agent client (daemon/agent.py), made on first use
    # libvirt's taint flags and deprecation messages of this run (daemon/taint.py; runtime record)
    taints: set[str] = field(default_factory=set)
    deprecations: list[str] = field(default_factory=list)


class DomainRecord:
    """One domain as pyvirtd holds it.

    An idle persistent definition is kept as the XML text it is stored as, plus the few values a
    listing shows (`summary`): the parsed model (~8 KiB for the smallest domain, far more for a
    real one) is built again from that text when an operation asks for `config`, and dropped
    when the domain is idle again (`compact`), so 1000 defined domains cost their text, not 1000
    object trees.  The text is exactly what was written to (or read from) disk, so parsing it
    gives what a daemon restart would.
    """

    __slots__ = ("name", "uuid", "_config", "_config_xml", "_summary", "live", "id", "state", "reason",
                 "autostart", "run", "lock", "load_error", "_disks")

    def __init__(self, name: str, uuid: str, config: Domain | None, live: Domain | None = None, id: int = -1,
                 state: int = DomainState.SHUTOFF, reason: int = ShutoffReason.UNKNOWN, autostart: bool = False,
                 run: Running | None = None, load_error: str | None = None) -> None:
        self.name = name
        self.uuid = uuid
        self._config = config                       # persistent definition (None: transient)
        self._config_xml: str | None = None         # its stored text, while that is still what it is
        self._summary: tuple[str, int, int, int, int] | None = None
        self._disks: tuple[DiskRef, ...] = ()
        self.live = live
        self.id = id
        self.state = state
        self.reason = reason
        self.autostart = autostart
        self.run = run
        self.lock = asyncio.Lock()
        self.load_error = load_error                # its stored config could not be loaded: shown, never dropped

    def __repr__(self) -> str:
        return f"DomainRecord(name={self.name!r}, uuid={self.uuid!r}, id={self.id}, state={self.state})"

    @property
    def config(self) -> Domain | None:
        if self._config is None and self._config_xml is not None:
            from pyvirt.daemon.model import parse_stored

            self._config = parse_stored(self._config_xml)
        return self._config

    def config_copy(self) -> Domain | None:
        """A model of the definition that the caller may change (a start completes it into the
        live model): parsed afresh from the stored text when no parsed config is held, which is
        a copy already, so the parse is not followed by a deep copy (~1 ms at each start)."""
        if self._config is None and self._config_xml is not None:
            from pyvirt.daemon.model import parse_stored

            return parse_stored(self._config_xml)
        return copy.deepcopy(self._config)

    @config.setter
    def config(self, value: Domain | None) -> None:
        self._config, self._config_xml, self._summary = value, None, None

    def stored_as(self, xml: str) -> None:
        """`xml` is the config's stored text: keep it, and the config only while it is in use."""
        if self._config is not None:
            self._config_xml, self._summary = xml, _summary(self._config)
            self._disks = tuple(DiskRef(d) for d in self._config.devices.disks)
            self.compact()

    @classmethod
    def indexed(cls, name: str, xml: str, entry: Any, autostart: bool) -> DomainRecord:
        """An idle persistent domain from its stored text and its load-index entry
        (daemon/loadindex.py): no parse; `config` parses the text when first asked."""
        _, uuid, summary, disks = entry
        rec = cls(name=name, uuid=uuid, config=None, autostart=autostart)
        rec._config_xml, rec._summary = xml, summary
        rec._disks = tuple(DiskRef.of_values(d) for d in disks)
        return rec

    def index_entry(self, sha: str) -> Any:
        """What the load index keeps of this domain's stored text *sha*; None unless the domain
        is held as stored text with its summary (what `indexed` rebuilds)."""
        if self._config_xml is None or self._summary is None:
            return None
        return (sha, self.uuid, self._summary,
                tuple(tuple(getattr(d, a) for a in DiskRef.__slots__) for d in self._disks))

    def stored_text(self) -> str | None:
        return self._config_xml

    def compact(self) -> None:
        """Drop the parsed config while its stored text is still what it is (parsed again from
        that text on use).  A running guest too: what runs is its live model, and the few
        operations that read its persistent definition meanwhile parse it once each; holding
        both trees cost a running guest ~12 KiB more for the smallest domain."""
        if self._config_xml is not None:
            self._config = None

    def disks(self) -> tuple[Any, ...]:
        """The current definition's disks (target, source) without parsing an idle config."""
        if self.live is None and self._config is None and self._config_xml is not None:
            return self._disks
        return tuple(self.current().devices.disks)

    @property
    def persistent(self) -> bool:
        return self._config is not None or self._config_xml is not None

    @property
    def active(self) -> bool:
        return self.id != -1

    def current(self) -> Domain:
        dom = self.live if self.live is not None else self.config
        assert dom is not None
        return dom

    def summary(self) -> tuple[str, int, int, int, int]:
        """(title, max KiB, current KiB, max vCPUs, current vCPUs) without parsing an idle config."""
        if self.live is not None:
            return _summary(self.live)
        if self._config is None and self._summary is not None:
            return self._summary
        return _summary(self.current())


def _summary(dom: Domain) -> tuple[str, int, int, int, int]:
    maximum, current = mem_kib(dom)
    vcpus = dom.vcpu or 1
    return dom.title or "", maximum, current, vcpus, dom.vcpu_current or vcpus


class DiskRef:
    """What domain stats need of an idle domain's disk (target and source), kept without its model."""

    __slots__ = ("target_dev", "source_file", "source_dev", "source_pool", "source_volume")

    def __init__(self, disk: Any) -> None:
        for attr in self.__slots__:
            setattr(self, attr, getattr(disk, attr, None))

    @classmethod
    def of_values(cls, values: tuple[str | None, ...]) -> DiskRef:
        ref = cls.__new__(cls)
        for attr, value in zip(cls.__slots__, values, strict=True):
            setattr(ref, attr, value)
        return ref


def mem_kib(dom: Domain) -> tuple[int, int]:
    maximum = dom.memory or 0
    return maximum, dom.current_memory or maximum
