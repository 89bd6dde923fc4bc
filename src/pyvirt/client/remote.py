"""The remote Connection: pyvirtd's HTTP API over its unix socket, standard library only.

For qemu:///session a missing daemon is started on demand (as libvirt's virsh does), with a
lock so that two clients starting at once start one daemon.

Every ``pyvirt`` command imports this module, so it imports only what one request needs:
``subprocess``/``fcntl`` (spawning), ``select`` (console reads), ``socket`` (streams) and
``pyvirt.paths`` (pathlib, dataclasses, tempfile) load when those paths run;
the socket's place comes from :mod:`pyvirt.rundir`, which :mod:`pyvirt.paths` uses too.
:mod:`pyvirt.api` (errors, records) is imported where an error is raised: a request that works
leaves before it loads, and its reply loads it (issue 18: `pyvirt start` -> first guest output).
"""

from __future__ import annotations

import sys
from abc import ABCMeta

from pyvirt.client import wire
from pyvirt.client.remote_storage import StorageClientMixin
from pyvirt.connection_names import NAMES as CONNECTION_NAMES
from pyvirt.deferred import BasesNotLoaded, attach
from pyvirt.operations import READONLY_HEADER, Operation, declared, query_items
from pyvirt.optable import ROWS, STREAMS
from pyvirt.rundir import ensure_private_dir

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

    from pyvirt.api import PyvirtError
    from pyvirt.apievents import Event
    from pyvirt.client.streams import EventStream, RemoteConsole
    from pyvirt.paths import StatePaths

SPAWN_TIMEOUT = 20.0

_q = wire.quote
#: values a request carries as they are (optypes.encode leaves them alone): the type language is
#: imported for a request only when it carries a record or a list, so `start` sends without it
_JSON_SCALARS = frozenset((str, int, float, bool, type(None)))



#: the stream classes, in pyvirt.client.streams: a command that opens no stream never creates them
_STREAMS = frozenset(("stream_error", "RemoteConsole", "EventStreamClosed", "EventStream", "MAX_EVENT"))


def __getattr__(name: str) -> Any:
    """The stream classes under their old names here (``from pyvirt.client.remote import
    EventStreamClosed``), loaded on first use (PEP 562)."""
    if name not in _STREAMS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from pyvirt.client import streams

    return getattr(streams, name)


class _TableOperations(ABCMeta):
    """RemoteConnection's metaclass: a table operation looked up on the class before its method
    is made (``RemoteConnection.start``) is made then, as on an instance."""

    def __getattr__(cls, name: str) -> Any:
        return _table_method(name)


class RemoteConnection(StorageClientMixin, BasesNotLoaded, metaclass=_TableOperations):
    """pyvirtd's Connection.  Its operations' methods come from the generated table
    (pyvirt.optable), each made on its first lookup, not from the declaration: ``Connection``
    (pyvirt.connection) takes the placeholder's place with the first name only it defines
    (pyvirt.deferred)."""

    def __getattr__(self, name: str) -> Any:
        """Only for a name the class does not hold: a table operation's method, made now."""
        try:
            return _table_method(name).__get__(self, type(self))
        except AttributeError:
            raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'") from None

    def __init__(self, uri: str, readonly: bool = False, autostart: bool | None = None) -> None:
        """`autostart`: start a daemon when none answers; by default only for session URIs."""
        from pyvirt.client.transport import open_target

        self.uri = uri
        self.readonly = readonly
        self._paths: StatePaths | None = None
        parsed, self.transport = open_target(uri)
        self.local_uri = parsed.local_uri  # what the serving pyvirtd calls itself
        #: what every stream dials: the socket's path (local), else the transport (ssh, tls)
        self.endpoint: Any = self.transport.path if self.transport.local else self.transport  # type: ignore[attr-defined]
        self.sock_path = str(self.endpoint)
        self._http: wire.HTTPConnection | None = None
        self._session: tuple[wire.WebSocket, str] | None = None
        if not self.transport.local:
            return  # the remote side starts its session daemon itself (pyvirt-ssh-helper)
        if autostart is None:
            autostart = parsed.kind == "session" and "socket" not in parsed.params
        self._ensure_daemon(autostart)

    @property
    def paths(self) -> StatePaths:
        """The daemon's state paths (loaded on first use: only spawning needs them)."""
        if self._paths is None:
            from pyvirt.paths import state_paths

            self._paths = state_paths(self.local_uri)
        return self._paths

    # ------------------------------------------------------------------ transport
    def _daemon_answers(self) -> bool:
        """Whether pyvirtd answers; the connection that proved it carries the first call."""
        try:
            sock = wire.open_unix_fast(self.sock_path, 2.0)
        except wire.PeerNotTrusted as exc:
            from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError

            raise PyvirtError(f"Failed to connect socket to '{self.sock_path}': {exc}", ErrorCode.NO_CONNECT,
                              ErrorDomain.RPC) from None
        except OSError:
            return False
        if self._http is None:
            self._http = wire.HTTPConnection(self.endpoint)
        self._http.adopt(sock)
        return True

    def _ensure_daemon(self, autostart: bool) -> None:
        if self._daemon_answers():
            return
        if not autostart:
            from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError

            raise PyvirtError(f"Failed to connect socket to '{self.sock_path}': no pyvirtd is running for "
                              f"{self.uri}; start it with: pyvirtd --uri {self.local_uri}",
                              ErrorCode.NO_CONNECT, ErrorDomain.RPC)
        self._spawn_daemon()

    def _spawn_daemon(self) -> None:
        import fcntl
        import os
        import select
        import subprocess
        import sys

        from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError

        try:
            ensure_private_dir(self.paths.runtime)
            lock_fd = os.open(self.paths.runtime / "pyvirtd-spawn.lock",
                              os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise PyvirtError(f"Failed to start pyvirtd for {self.uri}: {exc}", ErrorCode.NO_CONNECT,
                              ErrorDomain.RPC) from None
        with open(lock_fd, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if self._daemon_answers():
                return
            self.paths.log.mkdir(parents=True, exist_ok=True, mode=0o700)
            log_path = self.paths.log / "pyvirtd.log"
            read_fd, write_fd = os.pipe()
            cmd = [sys.executable, "-m", "pyvirt.daemon.main", "--uri", self.local_uri, "--ready-fd", str(write_fd),
                   "--log-file", str(log_path)]
            with open(os.devnull, "rb") as devnull:
                subprocess.Popen(cmd, stdin=devnull, stdout=devnull, stderr=devnull, start_new_session=True,
                                 pass_fds=(write_fd,), close_fds=True)
            os.close(write_fd)
            select.select([read_fd], [], [], SPAWN_TIMEOUT)  # "ready": guests re-attached
            os.close(read_fd)
            if not self._daemon_answers():  # a guest slow to re-attach does not make this a failure
                raise PyvirtError(f"Failed to start pyvirtd for {self.uri} (see {log_path})",
                                  ErrorCode.NO_CONNECT, ErrorDomain.RPC)

    def _call(self, method: str, target: str, payload: Any = None, mutating: bool | str = False,
              headers: dict[str, str] | None = None, waits: bool = False) -> Any:
        """`mutating`: True, or the libvirt function's name, for what a read-only connection may
        not call (refused here before anything is sent; pyvirtd refuses it too)."""
        if self.readonly:
            if mutating:
                from pyvirt.api import read_only_denied

                raise read_only_denied(mutating if isinstance(mutating, str) else "this operation")
            headers = {READONLY_HEADER: "1", **(headers or {})}  # pyvirtd enforces it too
        if self._http is None:
            self._http = wire.HTTPConnection(self.endpoint)
        try:
            status, body = self._http.request(method, target, payload, headers, waits=waits)
        except (OSError, ValueError) as exc:
            raise self._unreachable(exc) from exc
        if isinstance(body, dict) and "error" in body:
            from pyvirt.api import PyvirtError

            raise PyvirtError.from_dict(body["error"])
        if status >= 400 or not isinstance(body, dict):
            from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError

            raise PyvirtError(f"internal error: unexpected reply {status} from pyvirtd", ErrorCode.RPC,
                              ErrorDomain.RPC)
        return body.get("result")

    def _unreachable(self, exc: BaseException) -> PyvirtError:
        """A transport failure, with what the transport's helper said (ssh's own complaint)."""
        from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError

        said = self.transport.diagnostics()
        return PyvirtError(f"Cannot talk to pyvirtd at '{self.sock_path}': {exc}" + (f" ({said})" if said else ""),
                           ErrorCode.NO_CONNECT, ErrorDomain.RPC)

    def _target(self, op: Operation, bound: dict[str, Any]) -> str:
        path = op.path
        for name in op.path_params:
            path = path.replace("{" + name + "}", _q(str(bound[name])))
        return path

    def _invoke(self, op: Operation, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """One declared operation as one request (see pyvirt.operations for where arguments go)."""
        bound = op.bind(args, kwargs)
        target = self._target(op, bound)
        payload = None
        if op.in_query:
            items = query_items(op, bound)
            if items:
                target += "?" + wire.urlencode(items)
        else:
            payload = {k: v for k, v in bound.items() if k not in op.path_params}
            if not all(type(v) in _JSON_SCALARS for v in payload.values()):
                from pyvirt.optypes import encode  # records and lists; scalars go as they are

                payload = encode(payload)
        headers = None
        if op.session and (op.session == "*" or bound.get(op.session)):
            headers = {"X-Pyvirt-Session": self._session_id()}
        result = self._call(op.method, target, payload, mutating=not op.readonly and op.libvirt, headers=headers, waits=op.waits)
        if op.returns_none:
            return None
        from pyvirt.optypes import decode

        return decode(result, op.result)

    def _session_id(self) -> str:
        """This client's session (opened on first need): what lives only as long as this
        connection, such as autodestroy guests, ends when it is closed or this process dies."""
        if self._session is None:
            try:
                ws = wire.WebSocket.connect(self.endpoint, "/v1/session")
                sid = ws.recv()
            except wire.WireError as exc:
                from pyvirt.client.streams import stream_error

                raise stream_error(exc, "cannot open a client session") from None
            except OSError as exc:
                raise self._unreachable(exc) from exc
            if not sid:
                from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError

                ws.close()
                raise PyvirtError("internal error: pyvirtd opened no client session", ErrorCode.RPC,
                                  ErrorDomain.RPC)
            ws.sock.settimeout(None)
            self._session = (ws, sid.decode())
        return self._session[1]

    # ------------------------------------------------------------------ connection
    def close(self) -> None:
        """Ends the session (the daemon then destroys this client's autodestroy guests)."""
        if self._http is not None:
            self._http.close()
            self._http = None
        if self._session is not None:
            self._session[0].close()
            self._session = None
        self.transport.close()

    def get_uri(self) -> str:
        return self.uri

    # ------------------------------------------------------------------ streams
    def events(self, dom: str | None = None, timeout: float | None = None, *,
               kinds: list[str] | None = None) -> Iterator[Event]:
        return iter(self.subscribe(dom, timeout, kinds=kinds))

    def subscribe(self, dom: str | None = None, timeout: float | None = None, *,
                  kinds: list[str] | None = None) -> EventStream:
        """Like events(), but the subscription is live as soon as this returns."""
        from pyvirt.client.streams import EventStream

        return EventStream(self.endpoint, dom, timeout, kinds)

    def open_console(self, dom: str, *, force: bool = False, safe: bool = False,
                     history: bool = False) -> RemoteConsole:
        from pyvirt.client.streams import _SO_KEEPALIVE, _SOL_SOCKET, RemoteConsole, stream_error

        if self.readonly:  # libvirt's rule: a console is not for read-only connections
            from pyvirt.api import read_only_denied

            raise read_only_denied()
        query = wire.urlencode({"force": int(force), "history": int(history)})
        target = self._target(declared("open_console"), {"dom": dom})
        try:
            ws = wire.WebSocket.connect(self.endpoint, f"{target}?{query}")
        except wire.WireError as exc:
            raise stream_error(exc, "cannot open console") from None
        try:  # noqa: SIM105 - contextlib is not loaded on this path
            ws.sock.setsockopt(_SOL_SOCKET, _SO_KEEPALIVE, 1)
        except OSError:
            pass
        return RemoteConsole(ws)


    def open_graphics(self, dom: str, idx: int = 0, *, skipauth: bool = False) -> RemoteConsole:
        """The display protocol's bytes (VNC or SPICE) of a new client connection; no read timeout."""
        query = wire.urlencode({"idx": idx, "skipauth": int(skipauth)})
        return self._byte_stream("open_graphics", {"dom": dom}, query, "cannot open graphics")

    def migrate_tunnel(self, name: str) -> RemoteConsole:
        """The destination's end of a tunnelled migration (a byte stream with no read timeout)."""
        return self._byte_stream("migrate_tunnel", {"name": name}, "", "cannot open the migration tunnel")

    def _byte_stream(self, op: str, params: dict[str, str], query: str, what: str) -> RemoteConsole:
        """A stream operation's WebSocket of raw bytes, with no read timeout; refused to read-only
        connections (libvirt's rule for these calls)."""
        from pyvirt.client.streams import RemoteConsole, stream_error

        if self.readonly:
            from pyvirt.api import read_only_denied

            raise read_only_denied()
        target = self._target(declared(op), params)
        try:
            ws = wire.WebSocket.connect(self.endpoint, f"{target}?{query}" if query else target)
        except wire.WireError as exc:
            raise stream_error(exc, what) from None
        except OSError as exc:
            raise self._unreachable(exc) from exc
        ws.sock.settimeout(None)
        return RemoteConsole(ws)


def _method(name: str) -> Any:
    def method(self: RemoteConnection, *args: Any, **kwargs: Any) -> Any:
        return self._invoke(declared(name), args, kwargs)

    method.__name__ = method.__qualname__ = name
    return method


def _table_method(name: str) -> Any:
    """The method of table operation `name`, made now and put in RemoteConnection's dict, so
    later lookups find a plain function there (AttributeError: not a table operation).  Made on
    first lookup instead of at import: a command uses one or two of the 235, and putting them
    all in the class was ~1.1M instructions of every remote command (bench/cli.py)."""
    if name not in ROWS or name in STREAMS:
        raise AttributeError(f"type object 'RemoteConnection' has no attribute '{name}'")
    method = _method(name)
    setattr(RemoteConnection, name, method)
    return method


def _bind_remaining() -> None:
    """Once ``Connection`` is a base (pyvirt.deferred), its declared methods would answer every
    table name not looked up yet: each becomes its method now, unless a class before
    ``Connection`` defines it (as :func:`_table_method` leaves those alone)."""
    mro = RemoteConnection.__mro__
    defined = set().union(*[vars(klass) for klass in mro[:mro.index(sys.modules["pyvirt.connection"].Connection)]])
    for name in ROWS:
        if name not in defined and name not in STREAMS:
            _table_method(name)


def _bind_operations() -> None:
    """Every declared, non-stream operation is a method (unless a class before the declaration
    writes its own), from its row in the generated table, made on its first lookup
    (``__getattr__``); the rest of Connection's names wait for the declaration."""
    names = tuple(name for name in CONNECTION_NAMES if name not in ROWS or name in STREAMS)
    attach(RemoteConnection, (("pyvirt.connection", "Connection"),), names, loaded=_bind_remaining)


_bind_operations()
