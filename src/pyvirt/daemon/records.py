"""What pyvirtd knows of each domain: its record, and what exists only while its QEMU runs."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from qemu.qmp import EventListener, QMPClient

from pyvirt.api import DomainInfo, DomainState, ShutoffReason
from pyvirt.daemon.console import ConsoleRelay
from pyvirt.qemu import process
from pyvirt.xml import Domain


@dataclass
class Running:
    """What exists only while QEMU runs."""

    ident: process.ProcessIdentity
    qmp: QMPClient | None = None
    listener: EventListener | None = None   # registered at connect: no event is missed before reading
    console: ConsoleRelay | None = None
    supervisor: asyncio.Task[None] | None = None
    stop_reason: int | None = None          # set by whoever decided the guest must stop
    stop_detail: int | None = None
    fake_reboot: bool = False               # reboot via ACPI: reset instead of quit on SHUTDOWN
    guest_shutdown: bool = False            # QEMU reported a guest-initiated poweroff
    exited: asyncio.Event = field(default_factory=asyncio.Event)
    start_time: float = 0.0
    ports: list[int] = field(default_factory=list)   # display ports this guest holds
    # device ids whose removal is awaited -> set by QEMU's DEVICE_DELETED for that id
    unplugged: dict[str, asyncio.Event] = field(default_factory=dict)


@dataclass
class DomainRecord:
    name: str
    uuid: str
    config: Domain | None                   # persistent definition (None: transient)
    live: Domain | None = None
    id: int = -1
    state: int = DomainState.SHUTOFF
    reason: int = ShutoffReason.UNKNOWN
    autostart: bool = False
    run: Running | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    info_cache: DomainInfo | None = None
    load_error: str | None = None           # its stored config could not be loaded: shown, never dropped

    @property
    def persistent(self) -> bool:
        return self.config is not None

    @property
    def active(self) -> bool:
        return self.id != -1

    def current(self) -> Domain:
        dom = self.live if self.live is not None else self.config
        assert dom is not None
        return dom


def mem_kib(dom: Domain) -> tuple[int, int]:
    maximum = dom.memory or 0
    return maximum, dom.current_memory or maximum
