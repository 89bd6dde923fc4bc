"""The Connection interface every pyvirt front end programs against, plus libvirt's numbering.

The CLI, the web UI and the D-Bus bridge only ever see a :class:`Connection`; the test driver
(in-process, ``test://`` URIs) and the remote client (pyvirtd over its unix socket, ``qemu://``
URIs) implement it, and the QEMU driver inside pyvirtd implements its async twin.  The
declaration itself lives in :mod:`pyvirt.connection` (``api.Connection`` and ``api.op`` are
its, imported on first use: see there why).  Numbers
(states, reasons, event types and details, error codes and domains) are libvirt's own, so that
virsh output and org.libvirt D-Bus values map one to one.

This module is on the CLI's hot path: it imports nothing but ``abc`` (already loaded by the
interpreter).  ``enum``, ``dataclasses`` and ``typing`` cost ~25 ms of CPU together on a busy
host, more than virsh's whole run, so the numberings are plain int constants in a class namespace
(:class:`Numbering`) and the records are hand-written ``__slots__`` classes (:class:`Record`).
Values stay plain ints: they compare, format and serialize to JSON exactly as the IntEnums did.
"""

from __future__ import annotations

import abc

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import Any

# --------------------------------------------------------------------------------------------
# libvirt's enums


class Numbering:
    """A libvirt enum as int constants: ``DomainState.RUNNING == 1``.

    ``DomainState(value)`` checks the value and returns it as an int (ValueError if unknown),
    ``__members__`` maps names to values, and :meth:`name_of` gives a value's name back.
    """

    __members__: dict[str, int] = {}

    def __init_subclass__(cls) -> None:
        cls.__members__ = {k: v for k, v in vars(cls).items()
                           if k.isupper() and type(v) is int}

    def __new__(cls, value: int) -> int:  # type: ignore[misc]
        if value not in cls.__members__.values():
            raise ValueError(f"{value!r} is not a valid {cls.__name__}")
        return int(value)

    @classmethod
    def name_of(cls, value: int) -> str:
        for name, number in cls.__members__.items():
            if number == value:
                return name
        raise ValueError(f"{value!r} is not a valid {cls.__name__}")


class DomainState(Numbering):
    """virDomainState."""

    NOSTATE = 0
    RUNNING = 1
    BLOCKED = 2
    PAUSED = 3
    SHUTDOWN = 4
    SHUTOFF = 5
    CRASHED = 6
    PMSUSPENDED = 7


class ErrorCode(Numbering):
    """virErrorNumber (the subset pyvirt raises)."""

    OK = 0
    INTERNAL_ERROR = 1
    NO_SUPPORT = 3
    NO_CONNECT = 5
    INVALID_CONN = 6
    INVALID_DOMAIN = 7
    INVALID_ARG = 8
    OPERATION_FAILED = 9
    NO_KERNEL = 17
    NO_SOURCE = 19
    NO_TARGET = 20
    NO_NAME = 21
    XML_ERROR = 27
    DOM_EXIST = 28
    OPERATION_DENIED = 29
    OPEN_FAILED = 30
    READ_FAILED = 31
    PARSE_FAILED = 32
    WRITE_FAILED = 34
    XML_DETAIL = 35
    INVALID_NETWORK = 36
    NETWORK_EXIST = 37
    SYSTEM_ERROR = 38
    RPC = 39
    NO_DOMAIN = 42
    NO_NETWORK = 43
    INVALID_MAC = 44
    AUTH_FAILED = 45
    INVALID_STORAGE_POOL = 46
    INVALID_STORAGE_VOL = 47
    NO_STORAGE_POOL = 49
    NO_STORAGE_VOL = 50
    NO_NODE_DEVICE = 51
    OPERATION_INVALID = 55
    NO_INTERFACE = 57
    INVALID_NWFILTER = 61
    NO_NWFILTER = 62
    INVALID_SECRET = 65
    NO_SECRET = 66
    CONFIG_UNSUPPORTED = 67
    INVALID_DOMAIN_SNAPSHOT = 71
    NO_DOMAIN_SNAPSHOT = 72
    OPERATION_TIMEOUT = 68
    OVERFLOW = 70
    INVALID_STREAM = 73
    ARGUMENT_UNSUPPORTED = 74
    STORAGE_POOL_BUILT = 76
    OPERATION_ABORTED = 78
    NO_DOMAIN_METADATA = 80
    OPERATION_UNSUPPORTED = 84
    AGENT_UNRESPONSIVE = 86
    RESOURCE_BUSY = 87
    ACCESS_DENIED = 88
    STORAGE_VOL_EXIST = 90
    CPU_INCOMPATIBLE = 91
    XML_INVALID_SCHEMA = 92
    NO_SERVER = 95
    DEVICE_MISSING = 99
    NO_NWFILTER_BINDING = 101
    INVALID_DOMAIN_CHECKPOINT = 102
    NO_DOMAIN_CHECKPOINT = 103
    NO_DOMAIN_BACKUP = 104
    CHECKPOINT_INCONSISTENT = 109


class ErrorDomain(Numbering):
    """virErrorDomain (the subset pyvirt uses)."""

    NONE = 0
    XML = 5
    DOM = 6
    RPC = 7
    CONF = 9
    QEMU = 10
    TEST = 12
    REMOTE = 13
    STORAGE = 18
    NETWORK = 19
    DOMAIN = 20
    SECURITY = 24
    NODEDEV = 22
    CPU = 31
    INTERFACE = 26
    SECRET = 30
    NWFILTER = 33
    DOMAIN_SNAPSHOT = 35
    CAPABILITIES = 44
    URI = 45
    DEVICE = 49
    DOMAIN_CHECKPOINT = 69


class PyvirtError(Exception):
    """An error with libvirt's code and domain, so every front end can show it as virsh does.

    It crosses the HTTP API as ``{"code", "domain", "message"}`` and is rebuilt on the client side.
    """

    def __init__(self, message: str, code: int = ErrorCode.INTERNAL_ERROR,
                 domain: int = ErrorDomain.NONE) -> None:
        super().__init__(message)
        self.message = message
        self.code = int(code)
        self.domain = int(domain)

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "domain": self.domain, "message": self.message}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PyvirtError:
        return cls(str(data.get("message", "unknown error")),
                   int(data.get("code", ErrorCode.INTERNAL_ERROR)),
                   int(data.get("domain", ErrorDomain.NONE)))

    def __str__(self) -> str:
        return self.message


def no_domain(ref: str) -> PyvirtError:
    """libvirt's wording for a failed lookup, which virsh prints after ``error: ``."""
    return PyvirtError(f"Domain not found: no domain with matching name '{ref}'",
                       ErrorCode.NO_DOMAIN, ErrorDomain.QEMU)


#: virDomainCoreDumpFormat, by number (virsh's "elf" is "raw")
CORE_DUMP_FORMATS = ("raw", "kdump-zlib", "kdump-lzo", "kdump-snappy", "win-dmp")


def check_core_dump_flags(crash: bool, live: bool, reset: bool) -> None:
    """libvirt's virDomainCoreDumpWithFormat refuses these pairs before any driver sees them."""
    chosen = {"VIR_DUMP_CRASH": crash, "VIR_DUMP_LIVE": live, "VIR_DUMP_RESET": reset}
    for first, second in (("VIR_DUMP_CRASH", "VIR_DUMP_LIVE"), ("VIR_DUMP_CRASH", "VIR_DUMP_RESET"),
                          ("VIR_DUMP_LIVE", "VIR_DUMP_RESET")):
        if chosen[first] and chosen[second]:
            raise PyvirtError(f"Flags '{first}' and '{second}' are mutually exclusive", ErrorCode.INVALID_ARG,
                              ErrorDomain.DOMAIN)


#: virDomainStatsTypes: each virConnectGetAllDomainStats group's bit (VIR_DOMAIN_STATS_*)
STATS_GROUP_BITS = {"state": 1, "cpu-total": 2, "balloon": 4, "vcpu": 8, "interface": 16, "block": 32,
                    "perf": 64, "iothread": 128, "memory": 256, "dirtyrate": 512, "vm": 1024}


def enforce_stats_groups(groups: list[str] | None, supported: tuple[str, ...]) -> None:
    """VIR_CONNECT_GET_ALL_DOMAINS_STATS_ENFORCE_STATS: a group the driver cannot answer is
    refused (without the flag libvirt leaves it out quietly, as the drivers do)."""
    bits = sum(STATS_GROUP_BITS[g] for g in set(groups or ()) - set(supported) if g in STATS_GROUP_BITS)
    if bits:
        raise PyvirtError(f"argument unsupported: Stats types bits 0x{bits:x} are not supported by this daemon",
                          ErrorCode.ARGUMENT_UNSUPPORTED)


def no_support(function: str) -> PyvirtError:
    """libvirt's answer for an API the connection's driver does not implement."""
    return PyvirtError(f"this function is not supported by the connection driver: {function}",
                       ErrorCode.NO_SUPPORT, ErrorDomain.NONE)


#: the most bytes one block or memory peek returns: libvirt's remote protocol limit
#: (REMOTE_DOMAIN_BLOCK_PEEK_BUFFER_MAX, _MEMORY_PEEK_BUFFER_MAX), which its daemon's callers see
PEEK_MAX = 4 << 20


def check_peek_size(what: str, size: int) -> None:
    """libvirt's remote driver's refusal of a larger peek (`what`: "block" or "memory")."""
    if size > PEEK_MAX:
        raise PyvirtError(f"{what} peek request too large for remote protocol, {size} > {PEEK_MAX}",
                          ErrorCode.RPC, ErrorDomain.RPC)


def read_only_denied(function: str = "this operation") -> PyvirtError:
    """libvirt's answer on a read-only connection to an operation that changes something (or
    reads what read-only connections may not: a guest's screen, its agent, secrets), naming the
    libvirt function as virCheckReadOnlyGoto does."""
    return PyvirtError(f"operation forbidden: read only access prevents {function}",
                       ErrorCode.OPERATION_DENIED, ErrorDomain.NONE)


def system_error(what: str, exc: OSError, domain: int = ErrorDomain.CONF) -> PyvirtError:
    """An OS failure as libvirt reports it (virReportSystemError): what failed, then the OS's own
    words for its errno -- "No space left on device" is the user's problem to fix, not an
    "internal error"."""
    reason = exc.strerror or str(exc)
    err = PyvirtError(f"{what}: {reason}", ErrorCode.SYSTEM_ERROR, domain)
    err.errno = exc.errno  # type: ignore[attr-defined]
    return err


def operation_invalid(message: str) -> PyvirtError:
    return PyvirtError(f"Requested operation is not valid: {message}",
                       ErrorCode.OPERATION_INVALID, ErrorDomain.QEMU)


def agent_unresponsive(why: str = "QEMU guest agent is not connected") -> PyvirtError:
    """libvirt's answer for a call that needs the QEMU guest agent when none answers: not
    connected to its channel (the default), or `why` (e.g. no answer within the timeout)."""
    return PyvirtError(f"Guest agent is not responding: {why}", ErrorCode.AGENT_UNRESPONSIVE, ErrorDomain.QEMU)


def agent_not_configured() -> PyvirtError:
    """libvirt's answer for an agent call on a domain without the org.qemu.guest_agent.0 channel."""
    return PyvirtError("argument unsupported: QEMU guest agent is not configured", ErrorCode.ARGUMENT_UNSUPPORTED,
                       ErrorDomain.QEMU)


#: pyvirt.xml error classes -> (libvirt code, message prefix); by class name so that this module
#: stays free of the XML package (the CLI's hot path imports it).
_XML_ERRORS = {
    "UpdateInvalid": (ErrorCode.OPERATION_INVALID, "Requested operation is not valid: "),
    "UpdateUnsupported": (ErrorCode.OPERATION_UNSUPPORTED, "Operation not supported: "),
    "XMLUnsupportedError": (ErrorCode.CONFIG_UNSUPPORTED, "unsupported configuration: "),
    "XMLConfigError": (ErrorCode.CONFIG_UNSUPPORTED, "unsupported configuration: "),
    "XMLInternalError": (ErrorCode.INTERNAL_ERROR, "internal error: "),
    # virterror.c: VIR_ERR_XML_ERROR prints "XML error: %s", VIR_ERR_XML_DETAIL a bare "%s"
    "XMLDetailError": (ErrorCode.XML_DETAIL, ""),
    "XMLValidationError": (ErrorCode.XML_ERROR, "XML error: "),
    "XMLNoTargetError": (ErrorCode.NO_TARGET, ""),
    "XMLNoSourceError": (ErrorCode.NO_SOURCE, ""),
    "XMLInvalidArgError": (ErrorCode.INVALID_ARG, "invalid argument: "),
}


def xml_error_kind(exc: Exception) -> tuple[int, str]:
    """(libvirt code, message prefix) for a pyvirt.xml error, by its class: the one table every
    driver reports XML refusals through."""
    for cls in type(exc).__mro__:
        if cls.__name__ in _XML_ERRORS:
            return _XML_ERRORS[cls.__name__]
    return ErrorCode.XML_ERROR, "XML error: "


def from_xml_error(exc: Exception, domain: int) -> PyvirtError:
    """A pyvirt.xml error as libvirt reports it (code and message prefix, no line number), from
    `domain`."""
    report = getattr(exc, "report", None)
    if report:  # malformed: libvirt's whole catchXMLError text, with no prefix
        return PyvirtError(report, ErrorCode.XML_DETAIL, domain)
    code, prefix = xml_error_kind(exc)
    return PyvirtError(f"{prefix}{getattr(exc, 'message', None) or exc}", code, domain)


def check_schema(xml: str, kind: str, domain: int) -> None:
    """libvirt's VALIDATE flags: the document against libvirt's schema KIND.rng where one is
    installed (XML_INVALID_SCHEMA naming the first violation; malformed XML: libvirt's XML error)."""
    from pyvirt.xml import safe_parse
    from pyvirt.xml.errors import XMLError
    from pyvirt.xml.libxml_report import SCHEMA_URLS
    from pyvirt.xml.schema import schema_report

    try:
        bad = schema_report(safe_parse(xml, SCHEMA_URLS.get(kind)), kind)
    except XMLError as exc:
        raise from_xml_error(exc, domain) from None
    if bad is not None:
        raise PyvirtError(f"XML document failed to validate against schema: {bad}", ErrorCode.XML_INVALID_SCHEMA,
                          domain)


def no_checkpoint(name: str) -> PyvirtError:
    """libvirt's wording for a checkpoint lookup that found nothing."""
    return PyvirtError(f"Domain checkpoint not found: no domain checkpoint with matching name '{name}'",
                       ErrorCode.NO_DOMAIN_CHECKPOINT, ErrorDomain.DOMAIN_CHECKPOINT)


def no_nwfilter(value: str, by: str = "name") -> PyvirtError:
    """libvirt's wording for a network filter lookup that found nothing (by "name" or "uuid")."""
    return PyvirtError(f"Network filter not found: no nwfilter with matching {by} '{value}'",
                       ErrorCode.NO_NWFILTER, ErrorDomain.NWFILTER)


def no_secret(value: str, by: str = "uuid") -> PyvirtError:
    """libvirt's wording for a secret lookup that found nothing (by "uuid" or "usage")."""
    return PyvirtError(f"Secret not found: no secret with matching {by} '{value}'", ErrorCode.NO_SECRET,
                       ErrorDomain.SECRET)


def no_snapshot(name: str) -> PyvirtError:
    """libvirt's wording for a snapshot lookup that found nothing."""
    return PyvirtError(f"Domain snapshot not found: no domain snapshot with matching name '{name}'",
                       ErrorCode.NO_DOMAIN_SNAPSHOT, ErrorDomain.DOMAIN_SNAPSHOT)


# --------------------------------------------------------------------------------------------
# Records that cross the API (plain data, JSON-friendly)


class Record:
    """Plain-data base: keyword/positional construction in field order, ==, repr, to/from dict.

    Why not dataclasses: importing them costs ~14 ms of CPU on the CLI's hot path.
    """

    __slots__ = ()
    _fields: tuple[str, ...] = ()
    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value (as a dataclass)

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self._fields}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Any:
        """Unknown keys are ignored, so a newer daemon's extra fields do not break an older client.
        The common case (exactly our fields) is one call: `list` builds a thousand of these."""
        try:
            return cls(**data)
        except TypeError:
            fields = cls._fields
            return cls(**{k: v for k, v in data.items() if k in fields})

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return all(getattr(self, k) == getattr(other, k) for k in self._fields)

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={getattr(self, k)!r}" for k in self._fields)
        return f"{self.__class__.__name__}({inner})"


class DomainInfo(Record):
    """One domain as list/lookup/info return it: everything `list`, `dominfo` and
    `domstate --reason` show, so a listing of N domains is one call, not N."""

    _fields = ("name", "uuid", "id", "state", "reason", "persistent", "autostart", "title", "os_type",
               "max_mem_kib", "mem_kib", "vcpus", "max_vcpus", "cpu_time_ns", "managed_save",
               "has_current_snapshot")
    __slots__ = _fields

    def __init__(self, name: str, uuid: str, id: int = -1, state: int = DomainState.SHUTOFF,  # noqa: A002
                 reason: int = 0, persistent: bool = True, autostart: bool = False, title: str = "",
                 os_type: str = "hvm", max_mem_kib: int = 0, mem_kib: int = 0, vcpus: int = 1,
                 max_vcpus: int = 1, cpu_time_ns: int = 0, managed_save: bool = False,
                 has_current_snapshot: bool = False) -> None:
        self.name = name
        self.uuid = uuid
        self.id = id                 # -1 when inactive, as libvirt
        self.state = state
        self.reason = reason
        self.persistent = persistent
        self.autostart = autostart
        self.title = title
        self.os_type = os_type
        self.max_mem_kib = max_mem_kib
        self.mem_kib = mem_kib
        self.vcpus = vcpus
        self.max_vcpus = max_vcpus
        self.cpu_time_ns = cpu_time_ns
        self.managed_save = managed_save
        self.has_current_snapshot = has_current_snapshot

    @property
    def active(self) -> bool:
        return self.id != -1

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DomainInfo:
        return super().from_dict(data)  # type: ignore[no-any-return]


class DomainName(Record):
    """A domain's identity alone (`list_domain_names`): its name, UUID and id (-1 when
    inactive), for a caller that needs no more than these (object paths, `list --name`)."""

    _fields = ("name", "uuid", "id")
    __slots__ = _fields

    def __init__(self, name: str, uuid: str, id: int = -1) -> None:  # noqa: A002
        self.name = name
        self.uuid = uuid
        self.id = id

    @property
    def active(self) -> bool:
        return self.id != -1


class NodeInfo(Record):
    """virNodeInfo, as `nodeinfo` prints it."""

    _fields = ("model", "memory_kib", "cpus", "mhz", "nodes", "sockets", "cores", "threads")
    __slots__ = _fields

    def __init__(self, model: str, memory_kib: int, cpus: int, mhz: int, nodes: int, sockets: int,
                 cores: int, threads: int) -> None:
        self.model = model
        self.memory_kib = memory_kib
        self.cpus = cpus
        self.mhz = mhz
        self.nodes = nodes
        self.sockets = sockets
        self.cores = cores
        self.threads = threads


METADATA_TYPES = ("description", "title", "element")  # virDomainMetadataType

#: the Connection declaration (pyvirt.connection), the records and numberings a listing of domains
#: does not need (pyvirt.apirecords) and the event records (pyvirt.apievents): loaded by
#: __getattr__ (below) on first use
_DECLARATION = frozenset(("Connection", "op"))
_MORE_RECORDS = frozenset((
    "RunningReason",
    "PausedReason",
    "ShutdownReason",
    "ShutoffReason",
    "CrashedReason",
    "EventType",
    "DefinedDetail",
    "UndefinedDetail",
    "StartedDetail",
    "SuspendedDetail",
    "ResumedDetail",
    "StoppedDetail",
    "ShutdownDetail",
    "PMSuspendedDetail",
    "CrashedDetail",
    "SnapshotInfo",
    "CheckpointInfo",
    "NetworkEventType",
    "SecretEventType",
    "StoragePoolEventType",
    "PoolInfo",
    "NetworkInfo",
    "NWFilterInfo",
    "NWFilterBindingInfo",
    "SecretInfo",
    "InterfaceInfo",
    "NodeDeviceInfo",
    "VolInfo",
    "MigrationDisk",
    "MigrationSource",
    "MigrationTarget",
    "JobInfo",
    "STATE_REASONS",
    "EVENT_DETAILS",
))
_EVENT_RECORDS = frozenset((
    "Event",
    "DomainEvent",
    "NetworkEvent",
    "SecretEvent",
    "SecretValueEvent",
    "NodeDeviceEvent",
    "NodeDeviceUpdateEvent",
    "StoragePoolEvent",
    "StoragePoolRefreshEvent",
    "DomainDeviceEvent",
    "DeviceAddedEvent",
    "DeviceRemovedEvent",
    "BlockJobEvent",
    "TrayChangeEvent",
    "BalloonChangeEvent",
    "RebootEvent",
    "BlockThresholdEvent",
    "AgentLifecycleEvent",
    "MetadataChangeEvent",
    "ParamsEvent",
    "TunableEvent",
    "JobCompletedEvent",
    "QemuMonitorEvent",
    "EVENT_CLASSES",
))


class ListFilter(Record):
    """virConnectListAllDomains flags as booleans; None means 'do not filter on this'."""

    _fields = ("active", "persistent", "autostart", "states")
    __slots__ = _fields

    def __init__(self, active: bool | None = None, persistent: bool | None = None,
                 autostart: bool | None = None, states: list[int] | None = None) -> None:
        self.active = active
        self.persistent = persistent
        self.autostart = autostart
        self.states: list[int] = [] if states is None else states  # DomainState values; empty = any

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "states": list(self.states)}  # a copy, as dataclasses.asdict

    def matches(self, info: DomainInfo) -> bool:
        if self.active is not None and info.active != self.active:
            return False
        if self.persistent is not None and info.persistent != self.persistent:
            return False
        if self.autostart is not None and info.autostart != self.autostart:
            return False
        return not self.states or info.state in self.states


#: virNodeDevCapType's names, in libvirt's order (bit i of virConnectListAllNodeDeviceFlags is
#: capability i; virsh nodedev-list --cap takes these words)
NODEDEV_CAPS = ("system", "pci", "usb_device", "usb", "net", "scsi_host", "scsi_target", "scsi", "storage",
                "fc_host", "vports", "scsi_generic", "drm", "mdev_types", "mdev", "ccw", "css", "vdpa",
                "ap_card", "ap_queue", "ap_matrix", "vpd")


class ConsoleStream(abc.ABC):
    """A guest serial console: bytes both ways until closed."""

    @abc.abstractmethod
    def read(self, size: int = 4096, timeout: float | None = None) -> bytes:
        """Bytes from the guest; b'' at end of stream; raises TimeoutError after `timeout`."""

    @abc.abstractmethod
    def write(self, data: bytes) -> None: ...

    @abc.abstractmethod
    def close(self) -> None: ...

    def fileno(self) -> int:
        """A selectable descriptor, where the transport has one (-1 if not)."""
        return -1

    def has_buffered(self) -> bool:
        """Whether bytes already read from the descriptor wait in the stream: select() on
        fileno() no longer reports them, so a select loop must drain these first."""
        return False

    def __enter__(self) -> ConsoleStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def __getattr__(name: str) -> Any:
    """The Connection declaration (pyvirt.connection), the other records (pyvirt.apirecords) and
    the event records (pyvirt.apievents), imported when first asked for: `list` on the test
    driver never executes the declaration of 240 operations nor creates 32 classes it does not
    use, and commands that do not watch events never create the event classes."""
    if name in _DECLARATION:
        from pyvirt import connection as module
    elif name in _MORE_RECORDS:
        from pyvirt import apirecords as module
    elif name in _EVENT_RECORDS:
        from pyvirt import apievents as module
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(module, name)
    globals()[name] = value
    return value
