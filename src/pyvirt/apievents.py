"""The event records of :mod:`pyvirt.api` (``Event``, one subclass per event kind, and
``EVENT_CLASSES``), imported on first use through ``pyvirt.api.__getattr__``.

Twenty-odd classes cost ~1 ms of CPU to create, and a command that does not watch events
(``pyvirt list``, ``pyvirt start``) never needs one: ``from pyvirt.api import DomainEvent``
still works anywhere, and loads this module then.
"""

from __future__ import annotations

from pyvirt.api import _EVENT_RECORDS, Record

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import Any

__all__ = sorted(_EVENT_RECORDS)  # the names pyvirt.api gives out for this module


class Event(Record):
    """A lifecycle event of any object kind: libvirt's (event, detail) numbering for that kind
    (EventType/…Detail for domains, StoragePoolEventType, NetworkEventType) plus the object's
    identity.  ``kind`` is the object kind's name in pyvirt.operations.KINDS ("Domain",
    "StoragePool", "Network", …); ``id`` is a running domain's id (-1 otherwise).  One stream
    carries every kind (:meth:`Connection.events`)."""

    _fields = ("name", "uuid", "event", "detail", "timestamp", "id", "kind")
    __slots__ = _fields
    KIND = ""  # the kind a subclass stands for

    def __init__(self, name: str, uuid: str, event: int, detail: int = 0, timestamp: float = 0.0,
                 id: int = -1, kind: str = "") -> None:  # noqa: A002
        self.name = name
        self.uuid = uuid
        self.event = event
        self.detail = detail
        self.timestamp = timestamp
        self.id = id
        self.kind = kind or self.KIND

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Event:
        """The subclass of the event's kind (a plain Event for a kind this client does not know)."""
        target = EVENT_CLASSES.get(str(data.get("kind", cls.KIND or "Domain")), Event) if cls is Event else cls
        return super(Event, target).from_dict(data)  # type: ignore[no-any-return]


class DomainEvent(Event):
    """A domain lifecycle event (virConnectDomainEventCallback's event and detail)."""

    __slots__ = ()
    KIND = "Domain"


class NetworkEvent(Event):
    """A network lifecycle event (virConnectNetworkEventLifecycleCallback's arguments)."""

    __slots__ = ()
    KIND = "Network"


class SecretEvent(Event):
    """A secret lifecycle event (virConnectSecretEventLifecycleCallback's arguments).  A secret
    has no name: ``name`` is its usage ID ("" for an unused one), ``uuid`` what names it."""

    __slots__ = ()
    KIND = "Secret"


class SecretValueEvent(Event):
    """A secret's value was set (libvirt's VIR_SECRET_EVENT_ID_VALUE_CHANGED, a generic callback:
    no event or detail numbers): its own event kind, asked for by that name."""

    __slots__ = ()
    KIND = "Secret.value-changed"


class NodeDeviceEvent(Event):
    """A node device lifecycle event (virConnectNodeDeviceEventLifecycleCallback's arguments)."""

    __slots__ = ()
    KIND = "NodeDevice"


class NodeDeviceUpdateEvent(Event):
    """A node device's definition changed (VIR_NODE_DEVICE_EVENT_ID_UPDATE, a generic callback)."""

    __slots__ = ()
    KIND = "NodeDevice.update"


class StoragePoolEvent(Event):
    """A storage pool lifecycle event (virConnectStoragePoolEventLifecycleCallback's arguments)."""

    __slots__ = ()
    KIND = "StoragePool"


class StoragePoolRefreshEvent(Event):
    """A storage pool was refreshed (libvirt's VIR_STORAGE_POOL_EVENT_ID_REFRESH, a generic callback:
    no event or detail numbers).  Its own event kind, ``StoragePool.refresh`` (an object kind, a dot,
    libvirt's event name), asked for by that name, so a lifecycle subscriber never mistakes it for
    lifecycle event 0."""

    __slots__ = ()
    KIND = "StoragePool.refresh"


class DomainDeviceEvent(Event):
    """A device of a running domain came or went (libvirt's device event IDs, whose callbacks
    carry the device's alias): `device`.  Each ID is its own event kind, ``Domain.<libvirt's
    event name>`` (HACKING: event kinds), so a lifecycle subscriber never reads one of these."""

    _fields = (*Event._fields, "device")
    __slots__ = ("device",)

    def __init__(self, name: str, uuid: str, event: int = 0, detail: int = 0, timestamp: float = 0.0,
                 id: int = -1, kind: str = "", device: str = "") -> None:  # noqa: A002
        super().__init__(name, uuid, event, detail, timestamp, id, kind)
        self.device = device


class DeviceAddedEvent(DomainDeviceEvent):
    """VIR_DOMAIN_EVENT_ID_DEVICE_ADDED: a hot-plug completed."""

    __slots__ = ()
    KIND = "Domain.device-added"


class DeviceRemovedEvent(DomainDeviceEvent):
    """VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED: the guest let a device go (QEMU's DEVICE_DELETED)."""

    __slots__ = ()
    KIND = "Domain.device-removed"


class BlockJobEvent(Event):
    """A block job changed state (libvirt's block-job event, with the disk's path, and block-job-2,
    with its target; `kind` says which): `disk`, `job` (virsh's words: "Block Pull", "Block Copy",
    "Block Commit", "Active Block Commit"), `status` ("completed", "failed", "canceled", "ready")."""

    _fields = (*Event._fields, "disk", "job", "status")
    __slots__ = ("disk", "job", "status")
    KIND = "Domain.block-job"

    def __init__(self, name: str, uuid: str, event: int = 0, detail: int = 0, timestamp: float = 0.0,
                 id: int = -1, kind: str = "", disk: str = "", job: str = "", status: str = "") -> None:  # noqa: A002
        super().__init__(name, uuid, event, detail, timestamp, id, kind)
        self.disk, self.job, self.status = disk, job, status


class TrayChangeEvent(DomainDeviceEvent):
    """VIR_DOMAIN_EVENT_ID_TRAY_CHANGE: a removable disk's tray opened or closed (QEMU's
    DEVICE_TRAY_MOVED, on eject and on a medium change): `device` the disk's alias, `reason`
    libvirt's virDomainEventTrayChangeReason (0 opened, 1 closed)."""

    _fields = (*DomainDeviceEvent._fields, "reason")
    __slots__ = ("reason",)
    KIND = "Domain.tray-change"
    OPEN, CLOSE = 0, 1

    def __init__(self, name: str, uuid: str, event: int = 0, detail: int = 0, timestamp: float = 0.0,
                 id: int = -1, kind: str = "", device: str = "", reason: int = 0) -> None:  # noqa: A002
        super().__init__(name, uuid, event, detail, timestamp, id, kind, device)
        self.reason = reason


class BalloonChangeEvent(Event):
    """VIR_DOMAIN_EVENT_ID_BALLOON_CHANGE: the guest's balloon settled at `actual` KiB (QEMU's
    BALLOON_CHANGE, which counts bytes)."""

    _fields = (*Event._fields, "actual")
    __slots__ = ("actual",)
    KIND = "Domain.balloon-change"

    def __init__(self, name: str, uuid: str, event: int = 0, detail: int = 0, timestamp: float = 0.0,
                 id: int = -1, kind: str = "", actual: int = 0) -> None:  # noqa: A002
        super().__init__(name, uuid, event, detail, timestamp, id, kind)
        self.actual = actual


class RebootEvent(Event):
    """VIR_DOMAIN_EVENT_ID_REBOOT: the guest was reset (QEMU's RESET: a guest reboot, or a
    reset asked for); the guest keeps running, so no lifecycle event says so."""

    __slots__ = ()
    KIND = "Domain.reboot"


class BlockThresholdEvent(Event):
    """VIR_DOMAIN_EVENT_ID_BLOCK_THRESHOLD: the guest wrote past a disk's threshold (QEMU's
    BLOCK_WRITE_THRESHOLD, once per threshold set): `dev` the disk's target, `path` its source,
    `threshold` and `excess` in bytes."""

    _fields = (*Event._fields, "dev", "path", "threshold", "excess")
    __slots__ = ("dev", "path", "threshold", "excess")
    KIND = "Domain.block-threshold"

    def __init__(self, name: str, uuid: str, event: int = 0, detail: int = 0, timestamp: float = 0.0,
                 id: int = -1, kind: str = "", dev: str = "", path: str = "", threshold: int = 0,  # noqa: A002
                 excess: int = 0) -> None:
        super().__init__(name, uuid, event, detail, timestamp, id, kind)
        self.dev, self.path, self.threshold, self.excess = dev, path, threshold, excess


class AgentLifecycleEvent(Event):
    """VIR_DOMAIN_EVENT_ID_AGENT_LIFECYCLE: the guest agent connected to or left its channel
    (QEMU's VSERPORT_CHANGE for the org.qemu.guest_agent.0 port): libvirt's `state`
    (virConnectDomainEventAgentLifecycleState) and `reason` (…LifecycleReason)."""

    _fields = (*Event._fields, "state", "reason")
    __slots__ = ("state", "reason")
    KIND = "Domain.agent-lifecycle"
    CONNECTED, DISCONNECTED = 1, 2            # states
    UNKNOWN, DOMAIN_STARTED, CHANNEL = 0, 1, 2  # reasons

    def __init__(self, name: str, uuid: str, event: int = 0, detail: int = 0, timestamp: float = 0.0,
                 id: int = -1, kind: str = "", state: int = 0, reason: int = 0) -> None:  # noqa: A002
        super().__init__(name, uuid, event, detail, timestamp, id, kind)
        self.state, self.reason = state, reason


class MetadataChangeEvent(Event):
    """VIR_DOMAIN_EVENT_ID_METADATA_CHANGE: `type` virDomainMetadataType (0 description, 1 title,
    2 element) changed, `nsuri` the element's namespace ("" for the other two)."""

    _fields = (*Event._fields, "type", "nsuri")
    __slots__ = ("type", "nsuri")
    KIND = "Domain.metadata-change"

    def __init__(self, name: str, uuid: str, event: int = 0, detail: int = 0, timestamp: float = 0.0,
                 id: int = -1, kind: str = "", type: int = 0, nsuri: str = "") -> None:  # noqa: A002
        super().__init__(name, uuid, event, detail, timestamp, id, kind)
        self.type, self.nsuri = type, nsuri


class ParamsEvent(Event):
    """A domain event whose payload is libvirt's typed parameters, in libvirt's order."""

    _fields = (*Event._fields, "params")
    __slots__ = ("params",)

    def __init__(self, name: str, uuid: str, event: int = 0, detail: int = 0, timestamp: float = 0.0,
                 id: int = -1, kind: str = "", params: dict[str, Any] | None = None) -> None:  # noqa: A002
        super().__init__(name, uuid, event, detail, timestamp, id, kind)
        self.params = dict(params or {})


class TunableEvent(ParamsEvent):
    """VIR_DOMAIN_EVENT_ID_TUNABLE: tunables of a running guest changed, as libvirt's typed
    parameters (``cputune.vcpupin0``: "1", ``cputune.cpu_shares``: 512, ``blkdeviotune.disk``…)."""

    __slots__ = ()
    KIND = "Domain.tunable"


class JobCompletedEvent(ParamsEvent):
    """VIR_DOMAIN_EVENT_ID_JOB_COMPLETED: a domain's job (a backup, an outgoing migration) ended;
    `params` are its statistics as libvirt sends them (JobInfo.backup_params or
    JobInfo.migration_params)."""

    __slots__ = ()
    KIND = "Domain.job-completed"


class QemuMonitorEvent(Event):
    """Any event QEMU's monitor sent (virConnectDomainQemuMonitorEventRegister's callback):
    `qmp_event` its name ("STOP"), `seconds`/`micros` QEMU's timestamp, `details` the JSON text
    of its "data" member (None when it has none)."""

    _fields = (*Event._fields, "qmp_event", "seconds", "micros", "details")
    __slots__ = ("qmp_event", "seconds", "micros", "details")
    KIND = "Domain.qemu-monitor"

    def __init__(self, name: str, uuid: str, event: int = 0, detail: int = 0, timestamp: float = 0.0,
                 id: int = -1, kind: str = "", qmp_event: str = "", seconds: int = 0, micros: int = 0,  # noqa: A002
                 details: str | None = None) -> None:
        super().__init__(name, uuid, event, detail, timestamp, id, kind)
        self.qmp_event, self.seconds, self.micros, self.details = qmp_event, seconds, micros, details


EVENT_CLASSES: dict[str, type[Event]] = {c.KIND: c for c in (DomainEvent, NetworkEvent, StoragePoolEvent,
                                                             StoragePoolRefreshEvent, DeviceAddedEvent,
                                                             DeviceRemovedEvent, BlockJobEvent, SecretEvent,
                                                             SecretValueEvent, NodeDeviceEvent,
                                                             NodeDeviceUpdateEvent, TrayChangeEvent,
                                                             BalloonChangeEvent, RebootEvent,
                                                             BlockThresholdEvent, AgentLifecycleEvent,
                                                             MetadataChangeEvent, TunableEvent,
                                                             JobCompletedEvent, QemuMonitorEvent)}
EVENT_CLASSES["Domain.block-job-2"] = BlockJobEvent  # the same callback, the disk named by target
