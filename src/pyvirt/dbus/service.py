"""The org.libvirt service on a bus: one generic dispatcher for every member of every object.

Objects are not registered one by one (a thousand domains would be a thousand exports): a
message handler sees each method call under /org/libvirt, decodes the path into the object it
names (pyvirt.dbus.paths), checks the interface, member and signature against the introspection
files (pyvirt.dbus.interfaces) and runs the member's row of pyvirt.dbus.members in the
connection's worker threads.  Errors from the spine become ``org.libvirt.Error`` with libvirt's
message; bad paths, members and signatures get the standard D-Bus errors.  Lifecycle events of
the spine's one event stream become the Connect object's signals.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING, Any

from dbus_fast import Message, Variant
from dbus_fast.introspection import Node

from pyvirt.api import ErrorCode, PyvirtError
from pyvirt.dbus import interfaces, members, paths
from pyvirt.dbus.backend import Backend
from pyvirt.dbus.claim import INTROSPECT_IFACE, PROPERTIES_IFACE, claims

if TYPE_CHECKING:
    from pyvirt.api import Event

log = logging.getLogger("pyvirt.dbus")

ERROR = "org.libvirt.Error"
UNKNOWN_OBJECT = "org.freedesktop.DBus.Error.UnknownObject"
UNKNOWN_INTERFACE = "org.freedesktop.DBus.Error.UnknownInterface"
UNKNOWN_METHOD = "org.freedesktop.DBus.Error.UnknownMethod"
UNKNOWN_PROPERTY = "org.freedesktop.DBus.Error.UnknownProperty"
INVALID_ARGS = "org.freedesktop.DBus.Error.InvalidArgs"
READ_ONLY = "org.freedesktop.DBus.Error.PropertyReadOnly"

#: spine event kind -> (Connect signal, whether it carries a detail)
SIGNALS = {"Domain": ("DomainEvent", True), "Network": ("NetworkEvent", False),
           "StoragePool": ("StoragePoolEvent", True), "Secret": ("SecretEvent", True),
           "NodeDevice": ("NodeDeviceEvent", True)}
#: spine event kind -> (object interface, signal, its arguments from the event); libvirt's numbers
#: for block jobs (virDomainBlockJobType, virConnectDomainEventBlockJobStatus)
_JOB_TYPES = {"Block Pull": 1, "Block Copy": 2, "Block Commit": 3, "Active Block Commit": 4}
_JOB_STATUS = {"completed": 0, "failed": 1, "canceled": 2, "ready": 3}
OBJECT_SIGNALS = {
    "Domain.device-added": ("Domain", "DeviceAdded", lambda e: [e.device]),
    "Domain.device-removed": ("Domain", "DeviceRemoved", lambda e: [e.device]),
    "Domain.block-job-2": ("Domain", "BlockJob", lambda e: [e.disk, _JOB_TYPES.get(e.job, 0),
                                                            _JOB_STATUS.get(e.status, 1)]),
    "StoragePool.refresh": ("StoragePool", "Refresh", lambda e: []),
    "Domain.tray-change": ("Domain", "TrayChange", lambda e: [e.device, e.reason]),
    "Domain.balloon-change": ("Domain", "BalloonChange", lambda e: [e.actual]),
    "Domain.reboot": ("Domain", "Reboot", lambda e: []),
    "Domain.agent-lifecycle": ("Domain", "AgentEvent", lambda e: [e.state, e.reason]),
    "Domain.metadata-change": ("Domain", "MetadataChange", lambda e: [e.type, e.nsuri]),
    "Domain.tunable": ("Domain", "Tunable", lambda e: [_tunable_params(e.params)]),
    "Domain.job-completed": ("Domain", "JobCompleted", lambda e: [_job_params(e.params)]),
}


def _tunable_params(params: dict[str, Any]) -> dict[str, Any]:
    """a{sv} of a tunable event: pins and disk names are strings, figures 64-bit as libvirt's."""
    from pyvirt.dbus.members import typed_params

    return typed_params(params)


def _job_params(params: dict[str, Any]) -> dict[str, Any]:
    """a{sv} of a job-completed event: the operation an int, as libvirt types it; the rest as
    every typed parameter (figures 64-bit, success a boolean, errmsg a string)."""
    from pyvirt.dbus.members import param_value

    typed = _tunable_params(params)
    if "operation" in params:
        typed["operation"] = param_value("i", int(params["operation"]))
    return typed


#: subtree element -> its object kind: libvirt-dbus registers one GDBus subtree per kind, whose
#: node and every element under it introspect with the kind's interface
_SUBTREES = {**paths.KIND_OF_SEGMENT, paths.SNAPSHOT_SEGMENT: "DomainSnapshot"}
#: subtree element -> the spine's listing of its objects (volumes and snapshots: see _child_elements)
_CHILD_LISTS = {"domain": "list_domain_names", "network": "list_networks", "storagepool": "list_pools",
                "nodedev": "list_node_devices", "interface": "list_interfaces", "secret": "list_secrets",
                "nwfilter": "list_nwfilters"}


class DBusFailure(Exception):
    """A reply error other than libvirt's: (D-Bus error name, text)."""

    def __init__(self, name: str, text: str) -> None:
        super().__init__(text)
        self.name = name
        self.text = text


def connection_uris(system: bool) -> dict[str, str]:
    """The exported connection objects: QEMU for the bus's own URI, and a fresh test driver."""
    return {"QEMU": "qemu:///system" if system else "qemu:///session", "Test": "test:///default"}


class Service:
    def __init__(self, bus: Any, uris: dict[str, str], threads: int = 4) -> None:
        self.bus = bus
        loop = asyncio.get_running_loop()
        self.backends = {name: Backend(name, uri, threads, self._emit, loop) for name, uri in uris.items()}
        self.names = tuple(self.backends)
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        self.bus.add_message_handler(self.handle_message)

    def close(self) -> None:
        for backend in self.backends.values():
            backend.close()

    # ------------------------------------------------------------------ dispatch
    def handle_message(self, msg: Message) -> bool | None:
        if not claims(msg):
            return None  # Peer, other paths and the like: the library's own answers
        task = asyncio.ensure_future(self._handle(msg))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    async def _handle(self, msg: Message) -> None:
        descriptors: list[int] = []
        try:
            signature, body = await self._dispatch(msg)
            descriptors = [value for value in body if isinstance(value, members.Descriptor)]
            if descriptors:  # an `h` value is an index into the descriptors sent with the reply
                body = [descriptors.index(v) if isinstance(v, members.Descriptor) else v for v in body]
            reply = Message.new_method_return(msg, signature, body, unix_fds=[int(d) for d in descriptors])
        except DBusFailure as exc:
            reply = Message.new_error(msg, exc.name, exc.text)
        except PyvirtError as exc:
            reply = Message.new_error(msg, ERROR, exc.message)
        except Exception as exc:  # noqa: BLE001 - a bug must not end the service or leak a trace
            log.exception("%s.%s on %s", msg.interface, msg.member, msg.path)
            reply = Message.new_error(msg, ERROR, f"internal error: {type(exc).__name__}")
        finally:
            for fd in msg.unix_fds or ():  # descriptors a caller sent: no member keeps them
                with contextlib.suppress(OSError):
                    os.close(fd)
        try:
            if not int(msg.flags) & 1:  # NO_REPLY_EXPECTED
                await self._send(msg, reply)
        finally:
            for fd in descriptors:  # sent (or not wanted): this process's copies go
                with contextlib.suppress(OSError):
                    os.close(fd)

    async def _send(self, msg: Message, reply: Message) -> None:
        try:
            await self.bus.send(reply)
        except Exception as exc:  # noqa: BLE001 - e.g. a value the signature cannot carry
            log.exception("reply to %s.%s", msg.interface, msg.member)
            self.bus.send(Message.new_error(msg, ERROR, f"internal error: {type(exc).__name__}"))

    async def _dispatch(self, msg: Message) -> tuple[str, list[Any]]:
        path, member = msg.path, msg.member
        if msg.interface == INTROSPECT_IFACE or (msg.interface is None and member == "Introspect"):
            _expect(msg, "")
            return "s", [await self._introspect(path)]
        target = self._target(path)
        if msg.interface == PROPERTIES_IFACE or (msg.interface is None and member in ("Get", "GetAll", "Set")):
            return await self._properties(msg, target)
        iface = interfaces.PREFIX + target.kind
        if msg.interface not in (None, iface):
            raise DBusFailure(UNKNOWN_INTERFACE, f"No such interface '{msg.interface}' on object at path {path}")
        method = interfaces.methods(target.kind).get(member)
        if method is None:
            raise DBusFailure(UNKNOWN_METHOD, f"No such method '{member}'")
        _expect(msg, method.in_signature)
        function = method.function
        row = members.METHODS.get(f"{target.kind}.{member}")
        if row is None:
            raise PyvirtError(f"this function is not supported by the connection driver: {function}", 3)
        backend = self.backends[target.conn]
        result = await backend.run(_run_row, row, target, function, tuple(msg.body))
        if not method.n_out:
            return "", []
        return method.out_signature, [result] if method.n_out == 1 else list(result)

    def _target(self, path: str) -> paths.Target:
        try:
            return paths.parse(path, self.names)
        except paths.BadUUID as exc:  # as libvirt-dbus: handed to the lookup, which refuses it
            raise PyvirtError(f"uuidstr in {exc.function} must be a valid UUID", ErrorCode.INVALID_ARG) from None
        except paths.BadPath:
            raise DBusFailure(UNKNOWN_OBJECT, f"Unknown object '{path}'.") from None

    # ------------------------------------------------------------------ properties
    async def _properties(self, msg: Message, target: paths.Target) -> tuple[str, list[Any]]:
        member = msg.member
        iface_name = interfaces.PREFIX + target.kind
        declared = interfaces.properties(target.kind)
        table = members.PROPERTIES.get(target.kind)
        backend = self.backends[target.conn]
        if member == "GetAll":
            _expect(msg, "s")
            if msg.body[0] not in ("", iface_name):
                return "a{sv}", [{}]  # GDBus: no properties on an interface the object lacks
            if table is None:
                return "a{sv}", [{}]
            values = await backend.run(_read_all, table, target, declared)
            # each value a variant of the property's variant, as libvirt-dbus 1.4.1's GetAll
            # answers and Cockpit Machines reads it (`props.Active.v.v`); Get answers one variant
            return "a{sv}", [{name: Variant("v", Variant(declared[name].signature, value))
                              for name, value in values.items()}]
        if member == "Get":
            _expect(msg, "ss")
            name = _property_name(msg.body, iface_name, declared)
            getter = table.getters.get(name) if table else None
            if getter is None:
                raise PyvirtError("this function is not supported by the connection driver: "
                                  f"{declared[name].function}", 3)
            value = await backend.run(_read_one, table, target, getter)
            return "v", [Variant(declared[name].signature, value)]
        if member == "Set":
            _expect(msg, "ssv")
            name = _property_name(msg.body, iface_name, declared)
            if not declared[name].writable:
                raise DBusFailure(READ_ONLY, f"Property '{name}' is not writable")
            value = msg.body[2]
            if value.signature != declared[name].signature:
                raise DBusFailure(INVALID_ARGS, f"Error setting property '{name}': Expected type "
                                  f"'{declared[name].signature}' but got '{value.signature}'")
            setter = table.setters[name]  # type: ignore[union-attr]
            await backend.run(_write_one, setter, target, value.value)
            return "", []
        raise DBusFailure(UNKNOWN_METHOD, f"No such method '{member}'")

    # ------------------------------------------------------------------ introspection
    async def _introspect(self, path: str) -> str:
        """The interface of the object at `path` (from the files) plus the standard ones, and its
        child nodes, so busctl tree and d-feet can walk the objects."""
        node = Node.default()
        node.interfaces = [i for i in node.interfaces if i.name != "org.freedesktop.DBus.ObjectManager"]
        children: list[str] = []
        parts = path[len(paths.ROOT) + 1:].split("/") if path.startswith(paths.ROOT + "/") else []
        if path in ("/", "/org", paths.ROOT):
            children = {"/": ["org"], "/org": ["libvirt"], paths.ROOT: list(self.names)}[path]
        elif parts and parts[0] in self.names:
            if len(parts) == 1:  # every kind's subtree, as libvirt-dbus registers them
                node.interfaces.append(interfaces.interface("Connect"))
                children = list(_SUBTREES)
            elif len(parts) <= 3 and parts[1] in _SUBTREES:
                node.interfaces.append(interfaces.interface(_SUBTREES[parts[1]]))
                if len(parts) == 2:
                    children = await self.backends[parts[0]].run(_child_elements, f"{paths.ROOT}/{parts[0]}",
                                                                 parts[1])
        element = node.to_xml()
        for child in children:
            ET.SubElement(element, "node", name=child)
        header = Node().tostring().split("<node")[0]
        return header + ET.tostring(element, encoding="unicode")

    # ------------------------------------------------------------------ signals
    def _emit(self, conn: str, event: Event) -> None:
        conn_path = f"{paths.ROOT}/{conn}"
        if event.kind in SIGNALS:  # lifecycle: on the connection object, naming the object
            member, with_detail = SIGNALS[event.kind]
            ident = _event_ident(event.kind, event)
            if not ident:
                return
            kind, path = "Connect", conn_path
            body = [paths.object_path(conn_path, event.kind, ident), event.event]
            if with_detail:
                body.append(event.detail)
        elif event.kind in OBJECT_SIGNALS:  # the object's own signal
            kind, member, arguments = OBJECT_SIGNALS[event.kind]
            ident = _event_ident(kind, event)
            if not ident:
                return
            path = paths.object_path(conn_path, kind, ident)
            body = arguments(event)
        else:
            return
        signature = interfaces.signals(kind)[member].signature
        try:
            self.bus.send(Message.new_signal(path, interfaces.PREFIX + kind, member, signature, body))
        except Exception:  # noqa: BLE001
            log.exception("signal %s for %s", member, event)


def _event_ident(kind: str, event: Event) -> str:
    """What names the event's object in its path: the UUID of a kind named by UUID, else its
    name (a node device has no UUID; libvirt-dbus names it by name, as its lookups do)."""
    return event.uuid if kind in paths.BY_UUID else event.name


# ---------------------------------------------------------------------- worker-thread bodies
#: for each kind named in its path: the spine's not-found code for it, and what the path names it
#: by (the spine looks a name or UUID up as one and says "name"; libvirt-dbus looks the path's
#: UUID or key up, and libvirt's lookup says which: "no network with matching uuid '...'")
_NAMED_BY = {"Domain": (ErrorCode.NO_DOMAIN, "Domain", "uuid"),
             "DomainSnapshot": (ErrorCode.NO_DOMAIN, "Domain", "uuid"),
             "Network": (ErrorCode.NO_NETWORK, "Network", "uuid"),
             "StoragePool": (ErrorCode.NO_STORAGE_POOL, "StoragePool", "uuid"),
             "NWFilter": (ErrorCode.NO_NWFILTER, "NWFilter", "uuid"),
             "StorageVol": (ErrorCode.NO_STORAGE_VOL, "StorageVol", "key")}


@contextlib.contextmanager
def _named_by_path(target: paths.Target) -> Any:
    """A not-found error of the path's own object said as a lookup by what the path holds."""
    try:
        yield
    except PyvirtError as exc:
        named = _NAMED_BY.get(target.kind)
        if named is not None and exc.code == named[0] and target.ident:
            raise members.not_found(named[1], named[2], target.ident[0]) from None
        raise


def _run_row(conn: Any, row: members.Row, target: paths.Target, function: str, args: tuple[Any, ...]) -> Any:
    with _named_by_path(target):
        return row.handler(members.Ctx(conn, target, function), *args)


def _child_elements(conn: Any, conn_path: str, segment: str) -> list[str]:
    """The child nodes of one subtree, as libvirt-dbus's enumerators list them: every object of
    the kind, storage volumes of every pool that lists them, snapshots of every domain; none where
    the driver cannot list the kind (libvirt-dbus's enumerator then returns an empty list)."""
    ctx = members.Ctx(conn, paths.Target(conn_path.rsplit("/", 1)[1], "Connect"), "Introspect")
    try:
        if segment == paths.SNAPSHOT_SEGMENT:
            found = [paths.snapshot_path(conn_path, dom.uuid, snap.name)
                     for dom in conn.list_domain_names() for snap in _or_none(conn.list_snapshots, dom.uuid)]
        elif segment == "storagevol":
            found = [ctx.path_of(vol) for pool in conn.list_pools() for vol in _or_none(conn.list_volumes, pool.name)]
        else:
            found = [ctx.path_of(record) for record in getattr(conn, _CHILD_LISTS[segment])()]
    except PyvirtError as exc:
        log.debug("Introspect %s/%s: %s", conn_path, segment, exc)
        return []
    return [path.rsplit("/", 1)[1] for path in found]


def _or_none(listing: Any, name: str) -> list[Any]:
    """One object's listing, or none where it fails (an inactive pool, a domain gone meanwhile)."""
    try:
        return list(listing(name))
    except PyvirtError:
        return []


def _read_all(conn: Any, table: members.Properties, target: paths.Target, declared: dict[str, Any]
              ) -> dict[str, Any]:
    """Every property the object has; one that pyvirt cannot read is left out (GetAll still
    answers), as libvirt-dbus leaves out a property whose libvirt call fails."""
    with _named_by_path(target):
        record = table.fetch(members.Ctx(conn, target, "GetAll"))
    out = {}
    for name in declared:
        getter = table.getters.get(name)
        if getter is None:
            continue
        try:
            out[name] = getter(record)
        except PyvirtError as exc:
            log.debug("GetAll %s: %s", name, exc)
    return out


def _read_one(conn: Any, table: members.Properties, target: paths.Target, getter: Any) -> Any:
    with _named_by_path(target):
        return getter(table.fetch(members.Ctx(conn, target, "Get")))


def _write_one(conn: Any, setter: Any, target: paths.Target, value: Any) -> None:
    with _named_by_path(target):
        setter(members.Ctx(conn, target, "Set"), value)


def _property_name(body: list[Any], iface_name: str, declared: dict[str, Any]) -> str:
    iface, name = body[0], body[1]
    if iface != iface_name:
        raise DBusFailure(INVALID_ARGS, f"No such interface '{iface}'")
    if name not in declared:
        raise DBusFailure(INVALID_ARGS, f"No such property '{name}'")
    return str(name)


def _expect(msg: Message, signature: str) -> None:
    if (msg.signature or "") != signature:
        raise DBusFailure(INVALID_ARGS, f"Type of message, '({msg.signature or ''})', does not match "
                          f"expected type '({signature})'")
