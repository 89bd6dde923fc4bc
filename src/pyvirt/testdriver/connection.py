"""TestConnection: libvirt's test driver semantics over the in-memory <node> state.

Every connection gets its own fresh copy of the state (libvirt's rule for test:///default),
so tests and demos never see each other's changes.  Lifecycle checks, their order and their
error wording follow libvirt 9.0's test driver as `virsh -c test:///default` shows it.

Start-up matters (see pyvirt.api): this module is the core `list` needs (lookup, listing and
the helpers the rest shares); the rest of the driver is its mixins (the domain operations in
pyvirt.testdriver.domains, then one per object kind) and the Connection declaration, loaded
with the first of their names (pyvirt.deferred).  lxml, `copy`, `socket`, the event
bus and the domain XML checks are imported by the methods that use them.
"""

from __future__ import annotations

import time

from pyvirt.api import DomainInfo, DomainName, ListFilter
from pyvirt.connection_names import NAMES as CONNECTION_NAMES
from pyvirt.deferred import BasesNotLoaded, attach
from pyvirt.lightos import getenv
from pyvirt.testdriver import errors as E
from pyvirt.testdriver.base_names import NAMES as _BASE_NAMES
from pyvirt.testdriver.objects import DomainObj

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from pyvirt.apievents import Event
    from pyvirt.testdriver.events import EventBus
    from pyvirt.testdriver.loader import NodeState


def _read_hook(var: str) -> str | None:
    path = getenv(var)
    if not path:
        return None
    with open(path, encoding="utf-8") as fh:
        return fh.read()


#: TestConnection's bases (module, class), in their order of precedence: its mixins (the domain
#: operations first: they were this class's own methods), then the declaration of every
#: operation; imported with the first of their names looked up (pyvirt.deferred):
#: `list` uses none of them.
BASES = (("pyvirt.testdriver.domains", "DomainsMixin"), ("pyvirt.testdriver.saves", "SavesMixin"),
         ("pyvirt.testdriver.checkpoints", "CheckpointsMixin"), ("pyvirt.testdriver.snapshots", "SnapshotsMixin"),
         ("pyvirt.testdriver.networks", "NetworksMixin"), ("pyvirt.testdriver.hostobjects", "ResourcesMixin"),
         ("pyvirt.testdriver.monitor", "MonitorMixin"), ("pyvirt.testdriver.tuning", "TuningMixin"),
         ("pyvirt.connection", "Connection"))


class TestConnection(BasesNotLoaded):
    """An in-process, in-memory hypervisor with libvirt's test-driver behaviour.  Its bases are
    :data:`BASES` (its mixins, then ``Connection``) once any of their names is looked up."""

    __test__ = False  # not a pytest test class despite its name

    def __init__(self, uri: str, state: NodeState, *, readonly: bool = False) -> None:
        self.uri = uri
        self._state = state
        self._readonly = readonly
        self._domains: list[DomainObj] = list(state.domains)
        self._next_id = max([d.id for d in self._domains] + [0]) + 1
        self._bus: EventBus | None = None  # made by the first events() call: none listen before
        self._closed = False
        self._snapsets = {}
        self._chksets = {}
        # libvirt's test driver accepts any valid domain (Xen PV, vz, aarch64, USB2
        # companion controllers …): only the model's XML errors count here, not what
        # pyvirt's QEMU driver leaves unsupported.
        self._unsupported_ok = True

    # -- helpers
    def _write(self, function: str) -> None:
        if self._readonly:
            raise E.denied(function)

    def _secure(self, security_info: bool, function: str) -> None:
        """libvirt's public API refuses a secure XML (secrets included) to read-only connections."""
        if security_info and self._readonly:
            raise E.err(f"operation forbidden: {function} with secure flag", E.ErrorCode.OPERATION_DENIED)

    def _find(self, ref: str) -> DomainObj | None:
        low = ref.lower()
        for dom in self._domains:
            if dom.uuid == low or dom.name == ref:
                return dom
        return None

    def _get(self, ref: str) -> DomainObj:
        dom = self._find(ref)
        if dom is None:
            raise E.no_domain(ref)
        return dom

    def _publish(self, event: Event) -> None:
        """Every kind's events go through here (domains, pools, networks)."""
        if self._bus is not None:
            self._bus.emit(event)

    # -- connection / host
    def close(self) -> None:
        self._closed = True
        if self._bus is not None:
            self._bus.close()

    def _faked(self) -> bool:
        """Whether the VIRTCOMPAT_FAKEURI/CAPS/DOMCAPS hooks describe this connection: they
        are the magic URI's claims about the connection opened on its fake URI, so a
        connection opened on another URI (a later ``--connect test:///default``) is the
        plain test driver."""
        fake = getenv("VIRTCOMPAT_FAKEURI")
        return not fake or fake == self.uri

    def _hook(self, var: str) -> str | None:
        return _read_hook(var) if self._faked() else None

    def get_uri(self) -> str:
        return (getenv("VIRTCOMPAT_FAKEURI") if self._faked() else None) or self.uri

    # -- lookup and listing
    def list_domains(self, flt: ListFilter | None = None) -> list[DomainInfo]:
        infos = [d.info() for d in self._domains]
        if flt is not None:
            infos = [i for i in infos if flt.matches(i)]
        active = sorted((i for i in infos if i.active), key=lambda i: i.id)
        inactive = sorted((i for i in infos if not i.active), key=lambda i: i.name)
        return active + inactive

    def list_domain_names(self, flt: ListFilter | None = None) -> list[DomainName]:
        """`list_domains`'s domains, in its order, as names, UUIDs and ids (no record built)."""
        objs = [d for d in self._domains if flt is None or flt.matches(d)]  # type: ignore[arg-type]  # same fields
        objs.sort(key=lambda d: (0, d.id, "") if d.active else (1, 0, d.name))
        return [DomainName(d.name, d.uuid, d.id) for d in objs]

    def lookup_domain(self, ref: str) -> DomainInfo:
        if ref.isdigit():
            for dom in self._domains:
                if dom.id == int(ref):
                    return dom.info()
        dom = self._find(ref)
        if dom is None:  # testDomainLookupBy*: VIR_ERR_NO_DOMAIN with no detail
            raise E.lookup_failed()
        return dom.info()

    def get_info(self, dom: str) -> DomainInfo:
        info = self._get(dom).info()
        info.cpu_time_ns = time.time_ns()  # libvirt's test driver reports the wall clock
        return info


def _read_only_first() -> None:
    """libvirt's public API refuses a read-only connection (virCheckReadOnlyGoto) before it asks
    the driver for the call: an operation that changes something (its declaration is not
    read-only) which the test driver leaves to Connection's "not supported" default is refused
    on a read-only connection, naming the function the default names; a document asked for with
    its secrets (``security_info``) is refused "with secure flag" as libvirt's GetXMLDesc family
    refuses it there.  Runs once the bases load."""
    from pyvirt.api import ErrorCode, PyvirtError
    from pyvirt.connection import Connection

    def guard(default, libvirt: str, mutating: bool):  # noqa: ANN001, ANN202
        def guarded(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
            if kwargs.get("security_info"):
                self._secure(True, libvirt)
            if not mutating:
                return default(self, *args, **kwargs)
            try:
                return default(self, *args, **kwargs)
            except PyvirtError as exc:
                # the call's own function (a lookup made on the way is never refused so)
                function = exc.message.rpartition(": ")[2]
                if self._readonly and exc.code == ErrorCode.NO_SUPPORT and "Lookup" not in function:
                    raise E.denied(function) from None
                raise

        guarded.__name__, guarded.__doc__, guarded._op = default.__name__, default.__doc__, default._op
        return guarded

    for name, default in vars(Connection).items():
        spec = getattr(default, "_op", None)
        if spec is None or getattr(TestConnection, name) is not default:
            continue
        readonly = spec[3] if spec[3] is not None else spec[1].startswith("GET ")
        if not readonly or "security_info" in default.__code__.co_varnames:
            setattr(TestConnection, name, guard(default, spec[2], not readonly))


attach(TestConnection, BASES, _BASE_NAMES + CONNECTION_NAMES, loaded=_read_only_first)
