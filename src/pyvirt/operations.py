"""The table of operations: every method of :class:`pyvirt.api.Connection` marked with ``@op``.

A declaration is the method itself: its name, its annotated parameters and result, its docstring,
and the ``@op(kind, "METHOD /path/{param}", "virLibvirtFunction")`` mark.  From this table come
pyvirtd's routes with their request/response checks (daemon/rest.py), the remote client's
methods (client/remote.py), the OpenAPI document (daemon/openapi.py), and :func:`table` for a
D-Bus or web face to map onto.  Drivers implement the declared methods under the same names.

Where arguments travel: ``{name}`` in the path; the rest in the query string for GET and DELETE,
in a JSON object body otherwise.  A Record argument in a query is spread into its fields.
Results are ``{"result": ...}``; errors ``{"error": {code, domain, message}}`` (libvirt numbers).

This module is on the CLI's hot path (the remote client builds its methods from it at import):
it reads code objects and strings only; the type language (pyvirt.optypes) loads on first use.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from typing import Any

    from pyvirt.optypes import ParamSpec, Type

#: the header of a request from a read-only connection (``-r``): pyvirtd refuses it every operation
#: not declared read-only (daemon/access.py), whatever the transport
READONLY_HEADER = "X-Pyvirt-Readonly"

#: libvirt-dbus's interface names, in its order; an object kind not listed here has no operation yet.
KINDS = ("Connect", "Domain", "DomainSnapshot", "Network", "NodeDevice", "Interface", "NWFilter", "Secret",
         "StoragePool", "StorageVol")


def _http_status() -> dict[int, int]:
    """``HTTP_STATUS``: libvirt error code -> HTTP status (everything else: 500); pyvirtd and the
    web face answer alike.  Made on first use: the remote client imports this module before its
    request leaves, and needs neither the table nor :mod:`pyvirt.api` for that."""
    from pyvirt import api

    return {api.ErrorCode.NO_DOMAIN: 404, api.ErrorCode.NO_STORAGE_POOL: 404, api.ErrorCode.NO_STORAGE_VOL: 404,
            api.ErrorCode.NO_DOMAIN_SNAPSHOT: 404, api.ErrorCode.NO_NWFILTER: 404, api.ErrorCode.NO_INTERFACE: 404,
            api.ErrorCode.NO_NETWORK: 404, api.ErrorCode.NO_NODE_DEVICE: 404,
            api.ErrorCode.NO_SECRET: 404, api.ErrorCode.NO_DOMAIN_CHECKPOINT: 404, api.ErrorCode.NO_DOMAIN_BACKUP: 404,
            api.ErrorCode.OPERATION_INVALID: 409, api.ErrorCode.DOM_EXIST: 409,
            api.ErrorCode.STORAGE_VOL_EXIST: 409, api.ErrorCode.XML_ERROR: 400, api.ErrorCode.XML_DETAIL: 400,
            api.ErrorCode.INVALID_ARG: 400, api.ErrorCode.CONFIG_UNSUPPORTED: 400,
            api.ErrorCode.OPERATION_DENIED: 403, api.ErrorCode.AUTH_FAILED: 403,
            api.ErrorCode.NO_SUPPORT: 501,
            api.ErrorCode.ARGUMENT_UNSUPPORTED: 400, api.ErrorCode.OPERATION_UNSUPPORTED: 501}


class Operation:
    """One declared operation.  ``stream`` ones (events, console, volume data) have hand-written
    transports on both sides; all others are generated.

    Made from the declared method (pyvirtd, the web face), or from its row in the generated
    :mod:`pyvirt.optable` (the remote client: see :func:`declared`), whose method is then looked
    up in the declaration only by what needs it (``params``, ``func``)."""

    __slots__ = ("name", "kind", "method", "path", "libvirt", "readonly", "stream", "session", "waits", "_func",
                 "args", "npos", "defaults", "kwdefaults", "returns", "notes", "_path_params", "_params", "_result")

    def __init__(self, func: Any, row: tuple[Any, ...] | None = None, name: str = "") -> None:
        if row is None:
            code = func.__code__
            args = code.co_varnames[1:code.co_argcount + code.co_kwonlyargcount]
            notes = func.__annotations__
            row = (*func._op, args, code.co_argcount - 1, func.__defaults__ or (), func.__kwdefaults__ or {},
                   notes.get("return", "None"), tuple(notes.get(a) for a in args))
            name = func.__name__
        (kind, route, libvirt, readonly, stream, session, waits,
         self.args, self.npos, self.defaults, self.kwdefaults, self.returns, self.notes) = row
        if kind not in KINDS:
            raise ValueError(f"{name}: unknown object kind {kind!r}")
        self.name: str = name
        self.kind: str = kind
        self.method, _, self.path = route.partition(" ")
        self.libvirt: str = libvirt
        self.readonly: bool = self.method == "GET" if readonly is None else readonly
        self.stream: bool = stream
        self.session: str | None = session  # the flag argument that needs the client's session
        self.waits: bool = waits  # the reply comes when the job it runs ends: no read timeout
        self._func = func
        self._path_params: tuple[str, ...] | None = None
        self._params: list[ParamSpec] | None = None
        self._result: Type | None = None

    @property
    def func(self) -> Any:
        """The declared method (the declaration is imported here when the operation came from
        the generated table)."""
        if self._func is None:
            from pyvirt import api

            self._func = getattr(api.Connection, self.name)
        return self._func

    def row(self) -> tuple[Any, ...]:
        """What :mod:`pyvirt.optable` holds of this operation (``python -m pyvirt.optable``)."""
        route = f"{self.method} {self.path}"
        readonly = self.func._op[3]
        return (self.kind, route, self.libvirt, readonly, self.stream, self.session, self.waits, self.args,
                self.npos, self.defaults, self.kwdefaults, self.returns, self.notes)

    @property
    def path_params(self) -> tuple[str, ...]:
        """The ``{name}`` segments of the path, in order (split on first use: a command uses one
        operation of the 240 the client declares at import)."""
        if self._path_params is None:
            self._path_params = tuple(seg[1:-1] for seg in self.path.split("/") if seg.startswith("{"))
        return self._path_params

    @property
    def in_query(self) -> bool:
        return self.method in ("GET", "DELETE")

    @property
    def params(self) -> list[ParamSpec]:
        """Declared parameters (without self), typed: from the row's names, defaults and annotation
        strings, so that checking a request never executes the declaration (pyvirtd's routes are
        made from the table: the ~240 methods of ``Connection`` are 0.6 MiB it never needs)."""
        if self._params is None:
            from pyvirt.optypes import parameters

            self._params = parameters(self.args, self.npos, self.defaults, self.kwdefaults, self.notes)
        return self._params

    @property
    def result(self) -> Type:
        if self._result is None:
            from pyvirt.optypes import Type, parse

            note = self.returns
            if note == "None" or (self.stream and note == "ConsoleStream"):  # bytes, not JSON
                self._result = Type("any", nullable=True)
            else:
                self._result = parse(note)
        return self._result

    @property
    def returns_none(self) -> bool:
        return self.returns == "None"

    async def arguments(self, match_info: Any, query: Any,
                        read_body: Callable[[], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
        """A request's checked arguments, whichever HTTP face received it (pyvirtd, the web UI):
        path segments, then the query string (GET/DELETE) or the JSON object ``read_body`` reads,
        each checked against the declaration (pyvirt.optypes).  Each face passes its own body
        reader because each bounds and reads its bodies its own way."""
        from pyvirt.optypes import check_fields, parse_query

        values: dict[str, Any] = {name: match_info[name] for name in self.path_params}
        rest = [p for p in self.params if p.name not in self.path_params]
        if self.in_query:
            values.update(parse_query(rest, query))
        else:
            values.update(check_fields(await read_body(), rest, ""))
        return values

    def bind(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        """Call arguments as {name: value}, defaults filled in (what a Python call would bind)."""
        names = self.args
        if len(args) > self.npos:
            raise TypeError(f"{self.name}() takes {self.npos} positional arguments "
                            f"but {len(args)} were given")
        bound = dict(zip(names, args, strict=False))
        for key, value in kwargs.items():
            if key not in names:
                raise TypeError(f"{self.name}() got an unexpected keyword argument '{key}'")
            if key in bound:
                raise TypeError(f"{self.name}() got multiple values for argument '{key}'")
            bound[key] = value
        defaults = self.defaults
        kwdefaults = self.kwdefaults
        first = self.npos + 1 - len(defaults)
        for i, name in enumerate(names, start=1):
            if name in bound:
                continue
            if i <= self.npos:
                if i >= first:
                    bound[name] = defaults[i - first]
                    continue
            elif name in kwdefaults:
                bound[name] = kwdefaults[name]
                continue
            raise TypeError(f"{self.name}() missing required argument: '{name}'")
        return bound


def _collect() -> dict[str, Operation]:
    from pyvirt import api

    out = {}
    for cls in reversed(api.Connection.__mro__):
        for name, value in vars(cls).items():
            if callable(value) and hasattr(value, "_op"):
                out[name] = Operation(value)
    return out


_DECLARED: dict[str, Operation] = {}


def declared(name: str) -> Operation:
    """One operation from the generated table (pyvirt.optable), without executing the
    declaration: the remote client's path (`pyvirt list` against pyvirtd makes one of 240)."""
    op = _DECLARED.get(name)
    if op is None:
        op = _DECLARED[name] = Operation(None, table_row(name), name)
    return op


def table_row(name: str) -> tuple[Any, ...]:
    """An operation's row in the generated table (KeyError: no such operation).  Each row is
    kept there as its marshalled bytes, decoded here on first use: one bytes object per row is
    all that importing the table creates (as tuples and dicts the 241 rows cost ~2M instructions
    of every remote command, which uses one or two of them)."""
    from marshal import loads

    from pyvirt.optable import ROWS

    return loads(ROWS[name])


def __getattr__(name: str) -> Any:
    """``OPERATIONS`` (name -> Operation, in declaration order), made from the declaration on
    first use: importing this module does not execute it (the remote client reads
    :func:`declared` instead)."""
    if name == "HTTP_STATUS":
        status = globals()["HTTP_STATUS"] = _http_status()
        return status
    if name != "OPERATIONS":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    ops = globals()["OPERATIONS"] = _collect()
    return ops


# ------------------------------------------------------------------------------ query strings
def query_value(value: Any) -> str | None:
    """One argument as a query-string value (None: leave it out)."""
    if value is None:
        return None
    if value is True or value is False:
        return "1" if value else "0"
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)


def query_items(op: Operation, bound: dict[str, Any]) -> dict[str, str]:
    """The non-path arguments of a GET/DELETE as query parameters; Records spread into fields."""
    out: dict[str, str] = {}
    api = sys.modules.get("pyvirt.api")  # not loaded yet: no argument can be one of its Records
    for name, value in bound.items():
        if name in op.path_params:
            continue
        if api is not None and isinstance(value, api.Record):
            for key in value._fields:
                text = query_value(getattr(value, key))
                if text is not None and text != "":
                    out[key] = text
            continue
        text = query_value(value)
        if text is not None:
            out[name] = text
    return out


def table() -> list[dict[str, Any]]:
    """Every operation as plain data: what a D-Bus or web face maps its members onto."""
    from pyvirt.optypes import schema

    rows = []
    for op in __getattr__("OPERATIONS").values():
        rows.append({"kind": op.kind, "name": op.name, "libvirt": op.libvirt, "readonly": op.readonly,
                     "stream": op.stream, "http": f"{op.method} {op.path}",
                     "params": [{"name": p.name, "schema": schema(p.type), "required": p.required}
                                for p in op.params],
                     "result": None if op.returns_none else schema(op.result),
                     "doc": (op.func.__doc__ or "").strip()})
    return rows


# ------------------------------------------------------------------------------ the generated table
OPTABLE = "pyvirt/optable.py"
CONNECTION_NAMES = "pyvirt/connection_names.py"


def render_optable() -> str:
    """The text of :mod:`pyvirt.optable`: each operation's row (what :class:`Operation` reads of
    its declaration), marshalled (:func:`table_row` decodes it), and the names of the stream
    operations (the client writes those itself).  Marshal format 0: no references and no
    interning flags, so the bytes depend on the row's values only, not on what else the
    generating process holds."""
    from marshal import dumps

    ops = __getattr__("OPERATIONS").values()
    lines = ['"""Generated by `python -m pyvirt.operations` from the Connection declaration (pyvirt.connection):',
             "each operation's row, as pyvirt.operations.Operation reads it (marshalled: decoded by",
             "pyvirt.operations.table_row).  The remote client reads this instead of executing the",
             'declaration (~5M instructions per command).  Do not edit; a unit test checks it is current."""',
             "", "ROWS = {"]
    lines += [f"    {op.name!r}: {dumps(op.row(), 0)!r}," for op in ops]
    lines += ["}", "", "#: the operations whose transport is written by hand on both sides", "STREAMS = ("]
    lines += [f"    {op.name!r}," for op in ops if op.stream]
    lines += [")", ""]
    return "\n".join(lines)


def render_connection_names() -> str:
    """The text of :mod:`pyvirt.connection_names`: the names ``Connection`` defines, for the
    classes that take it as a deferred base (pyvirt.deferred: the remote client, the test driver)."""
    from pyvirt import api
    from pyvirt.deferred import defined_names

    lines = ['"""Generated by `python -m pyvirt.operations` from the Connection declaration (pyvirt.connection):',
             "every name Connection defines, for the classes that take it as a deferred base",
             '(pyvirt.deferred).  Do not edit; a unit test checks it is current."""', "", "NAMES = ("]
    lines += [f"    {name!r}," for name in defined_names((api.Connection,))]
    lines += [")", ""]
    return "\n".join(lines)


def main() -> int:
    """Rewrite pyvirt/optable.py and pyvirt/connection_names.py from the declaration."""
    from pyvirt.atomicio import write_atomic
    from pyvirt.lightos import dirname, join

    for leaf, text in ((OPTABLE, render_optable()), (CONNECTION_NAMES, render_connection_names())):
        path = join(dirname(dirname(__file__)), leaf)
        write_atomic(path, text, mode=0o644)
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
