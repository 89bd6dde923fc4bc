"""The rest of :mod:`pyvirt.api`'s numberings and records: state reasons, event types and details,
and the records of snapshots, checkpoints, pools, volumes, networks, filters, secrets,
interfaces, node devices, migration and jobs.

Imported on first use through ``pyvirt.api.__getattr__`` (``from pyvirt.api import PoolInfo``
works anywhere, and loads this module then): creating a class costs CPython ~100K instructions
(each of its ~90 special-method slots is looked up along the MRO), and these 32 classes were a
third of what `pyvirt -c test:///default list --all` spent above the interpreter's start-up,
for nothing: a listing of domains needs DomainInfo, DomainState, ListFilter and the errors,
which stay in pyvirt.api.
"""

from __future__ import annotations

from pyvirt.api import _MORE_RECORDS, DomainState, Numbering, Record

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import Any

__all__ = sorted(_MORE_RECORDS)  # the names pyvirt.api gives out for this module


class RunningReason(Numbering):
    UNKNOWN = 0
    BOOTED = 1
    MIGRATED = 2
    RESTORED = 3
    FROM_SNAPSHOT = 4
    UNPAUSED = 5
    MIGRATION_CANCELED = 6
    SAVE_CANCELED = 7
    WAKEUP = 8
    CRASHED = 9
    POSTCOPY = 10


class PausedReason(Numbering):
    UNKNOWN = 0
    USER = 1
    MIGRATION = 2
    SAVE = 3
    DUMP = 4
    IOERROR = 5
    WATCHDOG = 6
    FROM_SNAPSHOT = 7
    SHUTTING_DOWN = 8
    SNAPSHOT = 9
    CRASHED = 10
    STARTING_UP = 11
    POSTCOPY = 12
    POSTCOPY_FAILED = 13


class ShutdownReason(Numbering):
    UNKNOWN = 0
    USER = 1


class ShutoffReason(Numbering):
    UNKNOWN = 0
    SHUTDOWN = 1
    DESTROYED = 2
    CRASHED = 3
    MIGRATED = 4
    SAVED = 5
    FAILED = 6
    FROM_SNAPSHOT = 7
    DAEMON = 8


class CrashedReason(Numbering):
    UNKNOWN = 0
    PANICKED = 1


class EventType(Numbering):
    """virDomainEventType."""

    DEFINED = 0
    UNDEFINED = 1
    STARTED = 2
    SUSPENDED = 3
    RESUMED = 4
    STOPPED = 5
    SHUTDOWN = 6
    PMSUSPENDED = 7
    CRASHED = 8


class DefinedDetail(Numbering):
    ADDED = 0
    UPDATED = 1
    RENAMED = 2
    FROM_SNAPSHOT = 3


class UndefinedDetail(Numbering):
    REMOVED = 0
    RENAMED = 1


class StartedDetail(Numbering):
    BOOTED = 0
    MIGRATED = 1
    RESTORED = 2
    FROM_SNAPSHOT = 3
    WAKEUP = 4


class SuspendedDetail(Numbering):
    PAUSED = 0
    MIGRATED = 1
    IOERROR = 2
    WATCHDOG = 3
    RESTORED = 4
    FROM_SNAPSHOT = 5
    API_ERROR = 6
    POSTCOPY = 7
    POSTCOPY_FAILED = 8


class ResumedDetail(Numbering):
    UNPAUSED = 0
    MIGRATED = 1
    FROM_SNAPSHOT = 2
    POSTCOPY = 3


class StoppedDetail(Numbering):
    SHUTDOWN = 0
    DESTROYED = 1
    CRASHED = 2
    MIGRATED = 3
    SAVED = 4
    FAILED = 5
    FROM_SNAPSHOT = 6


class ShutdownDetail(Numbering):
    FINISHED = 0
    GUEST = 1
    HOST = 2


class PMSuspendedDetail(Numbering):
    MEMORY = 0
    DISK = 1


class CrashedDetail(Numbering):
    PANICKED = 0
    CRASHLOADED = 1


class SnapshotInfo(Record):
    """One snapshot as the snapshot-* commands need it: listing a domain's snapshots is one call.

    ``location`` is where its state lives: "internal", "external", "both" or "none"
    (virsh snapshot-info's Location line); ``state`` is the snapshot state word ("running",
    "shutoff", "disk-snapshot", …); ``parent`` is "" for a root.
    """

    _fields = ("name", "parent", "creation_time", "state", "current", "location", "metadata")
    __slots__ = _fields

    def __init__(self, name: str, parent: str = "", creation_time: int = 0, state: str = "shutoff",
                 current: bool = False, location: str = "internal", metadata: bool = True) -> None:
        self.name = name
        self.parent = parent
        self.creation_time = creation_time
        self.state = state
        self.current = current
        self.location = location
        self.metadata = metadata

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SnapshotInfo:
        return super().from_dict(data)  # type: ignore[no-any-return]


class CheckpointInfo(Record):
    """One checkpoint as the checkpoint-* commands need it (listing them is one call);
    ``parent`` is "" for a root."""

    _fields = ("name", "parent", "creation_time")
    __slots__ = _fields

    def __init__(self, name: str, parent: str = "", creation_time: int = 0) -> None:
        self.name = name
        self.parent = parent
        self.creation_time = creation_time

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckpointInfo:
        return super().from_dict(data)  # type: ignore[no-any-return]


class NetworkEventType(Numbering):
    """virNetworkEventLifecycleType (virsh net-event prints the names capitalised)."""

    DEFINED = 0
    UNDEFINED = 1
    STARTED = 2
    STOPPED = 3


class SecretEventType(Numbering):
    """virSecretEventLifecycleType (virsh secret-event prints the names capitalised)."""

    DEFINED = 0
    UNDEFINED = 1


class StoragePoolEventType(Numbering):
    """virStoragePoolEventLifecycleType (virsh pool-event prints the names capitalised)."""

    DEFINED = 0
    UNDEFINED = 1
    STARTED = 2
    STOPPED = 3
    CREATED = 4
    DELETED = 5


class PoolInfo(Record):
    """A storage pool as list/lookup return it (virStoragePoolGetInfo plus identity and flags)."""

    _fields = ("name", "uuid", "type", "path", "active", "persistent", "autostart", "capacity",
               "allocation", "available")
    __slots__ = _fields

    def __init__(self, name: str, uuid: str, type: str = "dir", path: str = "",  # noqa: A002
                 active: bool = False, persistent: bool = True, autostart: bool = False,
                 capacity: int = 0, allocation: int = 0, available: int = 0) -> None:
        self.name = name
        self.uuid = uuid
        self.type = type
        self.path = path              # the target path (directory, VG device dir, mount point)
        self.active = active
        self.persistent = persistent
        self.autostart = autostart
        self.capacity = capacity      # bytes
        self.allocation = allocation
        self.available = available

    @property
    def state(self) -> str:
        return "running" if self.active else "inactive"


class NetworkInfo(Record):
    """A virtual network as list/lookup/define return it."""

    _fields = ("name", "uuid", "active", "persistent", "autostart", "bridge")
    __slots__ = _fields

    def __init__(self, name: str, uuid: str, active: bool = False, persistent: bool = True,
                 autostart: bool = False, bridge: str = "") -> None:
        self.name = name
        self.uuid = uuid
        self.active = active
        self.persistent = persistent
        self.autostart = autostart
        self.bridge = bridge          # the bridge device's name ("" when it has none)


class NWFilterInfo(Record):
    """A network filter (virConnectListAllNWFilters): its name and UUID."""

    _fields = ("name", "uuid")
    __slots__ = _fields

    def __init__(self, name: str, uuid: str) -> None:
        self.name = name
        self.uuid = uuid


class NWFilterBindingInfo(Record):
    """A network filter applied to a guest port (virConnectListAllNWFilterBindings): the port's
    host device and the filter's name."""

    _fields = ("portdev", "filter")
    __slots__ = _fields

    def __init__(self, portdev: str, filter: str) -> None:  # noqa: A002
        self.portdev = portdev
        self.filter = filter


class SecretInfo(Record):
    """A secret as list/lookup/define return it: its identity and flags, never its value.
    `usage_type` is libvirt's word ("none", "volume", "ceph", "iscsi", "tls", "vtpm"),
    `usage_id` what the usage names ("" for none)."""

    _fields = ("uuid", "usage_type", "usage_id", "ephemeral", "private")
    __slots__ = _fields

    def __init__(self, uuid: str, usage_type: str = "none", usage_id: str = "", ephemeral: bool = False,
                 private: bool = False) -> None:
        self.uuid = uuid
        self.usage_type = usage_type
        self.usage_id = usage_id
        self.ephemeral = ephemeral
        self.private = private


class InterfaceInfo(Record):
    """A host network interface (virConnectListAllInterfaces: name, MAC, whether it is up)."""

    _fields = ("name", "mac", "active")
    __slots__ = _fields

    def __init__(self, name: str, mac: str = "", active: bool = False) -> None:
        self.name = name
        self.mac = mac
        self.active = active


class NodeDeviceInfo(Record):
    """A host device (virConnectListAllNodeDevices): its libvirt name ("pci_0000_00_01_0",
    "net_eth0_02_fc_00_00_00_01", "computer"), its parent's, its capability types, and the
    facts nodedev-info shows (`autostart` None: the driver keeps no autostart for devices)."""

    _fields = ("name", "parent", "caps", "active", "persistent", "autostart")
    __slots__ = _fields

    def __init__(self, name: str, parent: str = "", caps: list[str] | None = None, active: bool = True,
                 persistent: bool = False, autostart: bool | None = None) -> None:
        self.name = name
        self.parent = parent
        self.caps: list[str] = [] if caps is None else caps
        self.active = active
        self.persistent = persistent
        self.autostart = autostart


class VolInfo(Record):
    """A storage volume as list/lookup return it (virStorageVolGetInfo plus identity)."""

    _fields = ("pool", "name", "path", "key", "type", "format", "capacity", "allocation", "backing",
               "backing_format")
    __slots__ = _fields

    def __init__(self, pool: str, name: str, path: str = "", key: str = "", type: str = "file",  # noqa: A002
                 format: str = "raw", capacity: int = 0, allocation: int = 0,  # noqa: A002
                 backing: str | None = None, backing_format: str | None = None) -> None:
        self.pool = pool
        self.name = name
        self.path = path
        self.key = key
        self.type = type              # file, block, dir …
        self.format = format
        self.capacity = capacity      # bytes
        self.allocation = allocation
        self.backing = backing
        self.backing_format = backing_format


class MigrationDisk(Record):
    """A disk a migration copies (--copy-storage-*): what the destination must create first."""

    _fields = ("target", "path", "format", "capacity", "backing", "backing_format")
    __slots__ = _fields

    def __init__(self, target: str, path: str, format: str = "raw", capacity: int = 0,  # noqa: A002
                 backing: str | None = None, backing_format: str | None = None) -> None:
        self.target = target
        self.path = path
        self.format = format
        self.capacity = capacity  # bytes
        self.backing = backing
        self.backing_format = backing_format


class MigrationSource(Record):
    """What the source tells the destination before a migration (libvirt's Begin phase): the
    domain's XML (secrets included: the destination needs them) and the disks to copy."""

    _fields = ("xml", "disks")
    __slots__ = _fields

    def __init__(self, xml: str, disks: list[MigrationDisk] | None = None) -> None:
        self.xml = xml
        self.disks = list(disks or [])


class MigrationTarget(Record):
    """Where the source sends the guest (libvirt's Prepare phase answer): QEMU's migration URI
    on the destination and, when storage is copied, its NBD server (host:port)."""

    _fields = ("name", "uri", "nbd")
    __slots__ = _fields

    def __init__(self, name: str, uri: str, nbd: str | None = None) -> None:
        self.name = name
        self.uri = uri
        self.nbd = nbd


class JobInfo(Record):
    """virDomainGetJobStats for a domain's job (migration, backup): libvirt's job type numbers
    (0 none, 1 bounded, 2 unbounded, 3 completed, 4 failed, 5 cancelled), sizes in bytes,
    times in milliseconds.  `data_*` is memory plus disks, what virsh's --verbose counts;
    `temp_*` a pull backup's scratch space (VIR_DOMAIN_JOB_DISK_TEMP_USED/TOTAL)."""

    _fields = ("type", "operation", "time_elapsed", "data_total", "data_processed", "data_remaining",
               "mem_total", "mem_processed", "mem_remaining", "mem_bps", "disk_total", "disk_processed",
               "disk_remaining", "downtime", "setup_time", "iteration", "error", "temp_used", "temp_total")
    __slots__ = _fields

    def __init__(self, type: int = 0, operation: int = 0, time_elapsed: int = 0, data_total: int = 0,  # noqa: A002
                 data_processed: int = 0, data_remaining: int = 0, mem_total: int = 0, mem_processed: int = 0,
                 mem_remaining: int = 0, mem_bps: int = 0, disk_total: int = 0, disk_processed: int = 0,
                 disk_remaining: int = 0, downtime: int = 0, setup_time: int = 0, iteration: int = 0,
                 error: str | None = None, temp_used: int = 0, temp_total: int = 0) -> None:
        self.type = type
        self.operation = operation
        self.time_elapsed = time_elapsed
        self.data_total = data_total
        self.data_processed = data_processed
        self.data_remaining = data_remaining
        self.mem_total = mem_total
        self.mem_processed = mem_processed
        self.mem_remaining = mem_remaining
        self.mem_bps = mem_bps
        self.disk_total = disk_total
        self.disk_processed = disk_processed
        self.disk_remaining = disk_remaining
        self.downtime = downtime
        self.setup_time = setup_time
        self.iteration = iteration
        self.error = error
        self.temp_used = temp_used
        self.temp_total = temp_total


# --------------------------------------------------------------------------------------------
# The interface

    def params(self) -> dict[str, Any]:
        """virDomainGetJobStats's typed parameters for this job: none when there is no job, else
        a backup's fields or a migration's by its operation (9: VIR_DOMAIN_JOB_OPERATION_BACKUP)."""
        if self.type == 0:
            return {}
        return self.backup_params() if self.operation == 9 else self.migration_params()

    def migration_params(self) -> dict[str, Any]:
        """A migration job's statistics as libvirt's typed parameters, in the order of
        qemuDomainMigrationJobDataToParams (what virDomainGetJobStats and the job-completed event
        carry): data = memory + disks; downtime, setup time and iteration when known."""
        params: dict[str, Any] = {"operation": self.operation, "time_elapsed": self.time_elapsed}
        if self.downtime:
            params["downtime"] = self.downtime
        if self.setup_time:
            params["setup_time"] = self.setup_time
        params.update(data_total=self.data_total, data_processed=self.data_processed,
                      data_remaining=self.data_remaining, memory_total=self.mem_total,
                      memory_processed=self.mem_processed, memory_remaining=self.mem_remaining,
                      memory_bps=self.mem_bps)
        if self.iteration:
            params["memory_iteration"] = self.iteration
        params.update(disk_total=self.disk_total, disk_processed=self.disk_processed,
                      disk_remaining=self.disk_remaining)
        if self.error and self.type in (4, 5):  # failed, cancelled
            params["errmsg"] = self.error
        return params

    def backup_params(self) -> dict[str, Any]:
        """A backup job's statistics as libvirt's typed parameters (qemuDomainBackupJobDataToParams,
        what virDomainGetJobStats and the job-completed event carry): copied bytes for a push
        job, scratch space for a pull job, whether a finished one succeeded, its error."""
        params: dict[str, Any] = {"operation": self.operation, "time_elapsed": self.time_elapsed}
        if self.disk_total or self.disk_processed:
            params.update(disk_total=self.disk_total, disk_processed=self.disk_processed,
                          disk_remaining=self.disk_remaining)
        if self.temp_used or self.temp_total:
            params.update(disk_temp_used=self.temp_used, disk_temp_total=self.temp_total)
        if self.type != 2:  # not VIR_DOMAIN_JOB_UNBOUNDED: finished
            params["success"] = self.type == 3  # VIR_DOMAIN_JOB_COMPLETED
        if self.error:
            params["errmsg"] = self.error
        return params


STATE_REASONS: dict[int, type[Numbering]] = {
    DomainState.RUNNING: RunningReason,
    DomainState.PAUSED: PausedReason,
    DomainState.SHUTDOWN: ShutdownReason,
    DomainState.SHUTOFF: ShutoffReason,
    DomainState.CRASHED: CrashedReason,
}

EVENT_DETAILS: dict[int, type[Numbering]] = {
    EventType.DEFINED: DefinedDetail,
    EventType.UNDEFINED: UndefinedDetail,
    EventType.STARTED: StartedDetail,
    EventType.SUSPENDED: SuspendedDetail,
    EventType.RESUMED: ResumedDetail,
    EventType.STOPPED: StoppedDetail,
    EventType.SHUTDOWN: ShutdownDetail,
    EventType.PMSUSPENDED: PMSuspendedDetail,
    EventType.CRASHED: CrashedDetail,
}
