"""The type language of declared operations: annotation strings -> checks, JSON Schemas, decoding.

Operations are declared as methods of :class:`pyvirt.api.Connection`; their annotations (strings,
thanks to ``from __future__ import annotations``) are the one statement of what each argument and
result is.  This module reads them without ``typing`` (start-up time, see pyvirt.api):
``str``, ``int``, ``float``, ``bool``, ``Any``, ``None``, ``X | Y``, ``list[X]``, ``tuple[X, ...]``,
``dict[str, X]`` and the names of :class:`pyvirt.api.Record` classes.

Checking is strict on purpose: JSON that says ``{"name": ["a"]}`` is refused naming the field,
never coerced into ``"['a']"``; a bool is not an int, an int is not a string.
"""

from __future__ import annotations

from pyvirt import api

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

SCALARS = {"str": str, "int": int, "float": float, "bool": bool}


class Type:
    """One parsed annotation: kind is a scalar name, 'any', 'list', 'dict', 'record' or 'union'."""

    __slots__ = ("kind", "arg", "nullable")

    def __init__(self, kind: str, arg: Any = None, nullable: bool = False) -> None:
        self.kind = kind
        self.arg = arg          # list/dict: the item Type; record: the class; union: list of Types
        self.nullable = nullable

    def __repr__(self) -> str:
        return f"Type({self.describe()})"

    def describe(self) -> str:
        """Words for error messages: 'a string', 'a list of integers or null'."""
        words = {"str": "a string", "int": "an integer", "float": "a number", "bool": "a boolean",
                 "any": "any JSON value"}
        if self.kind in words:
            text = words[self.kind]
        elif self.kind == "list":
            text = f"a list of {self.arg.describe()}"
        elif self.kind == "dict":
            text = f"an object of {self.arg.describe()}"
        elif self.kind == "record":
            text = f"a {self.arg.__name__} object"
        else:
            text = " or ".join(t.describe() for t in self.arg)
        return text + (" or null" if self.nullable else "")


def _split_top(text: str, sep: str) -> list[str]:
    """Split on `sep` outside brackets."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return parts


_cache: dict[str, Type] = {}


def parse(text: str) -> Type:
    """An annotation string as a Type; ValueError for what the language does not have."""
    found = _cache.get(text)
    if found is not None:
        return found
    parts = _split_top(text, "|")
    nullable = "None" in parts
    kinds = [_parse_one(p) for p in parts if p != "None"]
    if not kinds:
        raise ValueError(f"annotation {text!r}: None alone is not a value type")
    out = Type(kinds[0].kind, kinds[0].arg, nullable) if len(kinds) == 1 else Type("union", kinds, nullable)
    _cache[text] = out
    return out


def _parse_one(text: str) -> Type:
    if text in SCALARS:
        return Type(text)
    if text in ("Any", "object"):
        return Type("any")
    head, bracket, inner = text.partition("[")
    if bracket:
        args = _split_top(inner[:-1], ",")
        if head in ("list", "Iterator") and len(args) == 1:  # an Iterator: a stream of items
            return Type("list", parse(args[0]))
        if head == "tuple" and args:
            return Type("list", parse(args[0]))  # tuples cross JSON as arrays
        if head == "dict" and len(args) == 2 and args[0] == "str":
            return Type("dict", parse(args[1]))
        raise ValueError(f"annotation {text!r} is not in the operation type language")
    cls = getattr(api, text, None)
    if isinstance(cls, type) and issubclass(cls, api.Record):
        return Type("record", cls)
    raise ValueError(f"annotation {text!r} is not in the operation type language")


# ------------------------------------------------------------------------------ records and parameters
_MISSING = object()


class ParamSpec:
    """One parameter of a declared function (or field of a Record): name, Type, required, default."""

    __slots__ = ("name", "type", "required", "default")

    def __init__(self, name: str, type_: Type, required: bool, default: Any) -> None:
        self.name = name
        self.type = type_
        self.required = required
        self.default = default


def signature(func: Any) -> list[ParamSpec]:
    """The parameters of `func` from its code object and annotations (``inspect`` costs ~10 ms)."""
    code = func.__code__
    count = code.co_argcount + code.co_kwonlyargcount
    names = code.co_varnames[:count]
    positional = func.__defaults__ or ()
    keyword = func.__kwdefaults__ or {}
    first_default = code.co_argcount - len(positional)
    notes = func.__annotations__
    out = []
    for i, name in enumerate(names):
        if i < code.co_argcount:
            default = positional[i - first_default] if i >= first_default else _MISSING
        else:
            default = keyword.get(name, _MISSING)
        note = notes.get(name)
        type_ = parse(note) if note else Type("any")
        out.append(ParamSpec(name, type_, default is _MISSING, None if default is _MISSING else default))
    return out


def parameters(names: tuple[str, ...], npos: int, defaults: tuple[Any, ...], kwdefaults: dict[str, Any],
               notes: tuple[str | None, ...]) -> list[ParamSpec]:
    """What :func:`signature` says of a method's parameters after ``self``, from what the
    operation table holds of it (names, the count of positional ones, defaults, annotations)."""
    first_default = npos - len(defaults)
    out = []
    for i, (name, note) in enumerate(zip(names, notes, strict=True)):
        if i < npos:
            default = defaults[i - first_default] if i >= first_default else _MISSING
        else:
            default = kwdefaults.get(name, _MISSING)
        type_ = parse(note) if note else Type("any")
        out.append(ParamSpec(name, type_, default is _MISSING, None if default is _MISSING else default))
    return out


_record_fields: dict[type, list[ParamSpec]] = {}


def record_fields(cls: type) -> list[ParamSpec]:
    """A Record's fields with their types, read off its __init__'s signature."""
    found = _record_fields.get(cls)
    if found is None:
        found = signature(cls.__init__)[1:]
        _record_fields[cls] = found
    return found


# ------------------------------------------------------------------------------ checking
_JSON_WORDS = ((bool, "a boolean"), (int, "an integer"), (float, "a number"), (str, "a string"),
               (list, "a list"), (dict, "an object"))  # bool before int: a bool is an int in Python


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    for cls, word in _JSON_WORDS:
        if isinstance(value, cls):
            return word
    return type(value).__name__


def invalid(where: str, message: str) -> api.PyvirtError:
    return api.PyvirtError(f"invalid argument: {where}: {message}", api.ErrorCode.INVALID_ARG)


def check(value: Any, t: Type, where: str) -> Any:
    """`value` (decoded JSON) if it is a `t`, with records built; else PyvirtError naming `where`."""
    if value is None:
        if t.nullable or t.kind == "any":
            return None
        raise invalid(where, f"must be {t.describe()}, not null")
    kind = t.kind
    if kind in SCALARS:
        ok = (type(value) is bool) if kind == "bool" else (
            type(value) is int if kind == "int" else
            (type(value) in (int, float)) if kind == "float" else isinstance(value, str))
        if ok:
            return value
    elif kind == "any":
        return value
    elif kind == "list":
        if isinstance(value, list):
            if t.arg.kind == "any":
                return value
            if t.arg.kind == "dict" and t.arg.arg.kind == "any" and all(type(v) is dict for v in value):
                return value  # domain stats: a record per domain, nothing to check in each
            return [check(v, t.arg, f"{where}[{i}]") for i, v in enumerate(value)]
    elif kind == "dict":
        if isinstance(value, dict):
            if t.arg.kind == "any":  # nothing to check per value (domain stats: 1000s of them)
                return value
            return {k: check(v, t.arg, f"{where}.{k}") for k, v in value.items()}
    elif kind == "record":
        if isinstance(value, t.arg):
            return value
        if isinstance(value, dict):
            return t.arg(**check_fields(value, record_fields(t.arg), where))
    else:  # union: the first branch that takes it
        for branch in t.arg:
            try:
                return check(value, branch, where)
            except api.PyvirtError:
                continue
    raise invalid(where, f"must be {t.describe()}, not {_json_kind(value)}")


def check_fields(data: dict[str, Any], fields: list[ParamSpec], where: str) -> dict[str, Any]:
    """An object's members against named fields: unknown names and missing required ones refused."""
    known = {f.name: f for f in fields}
    for key in data:
        if key not in known:
            raise invalid(f"{where}.{key}" if where else key, "unknown field")
    out = {}
    for f in fields:
        name = f"{where}.{f.name}" if where else f.name
        if f.name in data:
            out[f.name] = check(data[f.name], f.type, name)
        elif f.required:
            raise invalid(name, "missing required field")
    return out


# ------------------------------------------------------------------------------ query strings
_TRUE, _FALSE = ("1", "true", "yes"), ("0", "false", "no", "")


def json_object(raw: bytes) -> dict[str, Any]:
    """A request body as the JSON object every non-query operation takes ({} when empty is for
    the caller to decide); the client's error, named, when it is not one."""
    import json

    try:
        data = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
        raise api.PyvirtError(f"invalid argument: request body is not JSON: {exc}", api.ErrorCode.INVALID_ARG) from None
    except RecursionError:  # "[[[[…" deeper than the parser's stack: the client's error, not ours
        raise api.PyvirtError("invalid argument: request body nests too deeply", api.ErrorCode.INVALID_ARG) from None
    if not isinstance(data, dict):
        raise api.PyvirtError("invalid argument: request body must be a JSON object", api.ErrorCode.INVALID_ARG)
    return data


def from_text(text: str, t: Type, where: str) -> Any:
    """A query-string value as a `t` (the query's only types are the scalars and their lists)."""
    for k in (t.arg if t.kind == "union" else [t]):
        if k.kind == "bool" and text in _TRUE + _FALSE:
            return text in _TRUE
        if k.kind == "int" and text.lstrip("-").isdigit() and text.count("-") <= 1 and not text.endswith("-"):
            return int(text)
        if k.kind == "float":
            try:
                return float(text)
            except ValueError:
                continue
        if k.kind in ("str", "any"):
            return text
        if k.kind == "list":
            return [from_text(part, k.arg, f"{where}[{i}]") for i, part in enumerate(text.split(",")) if part]
    raise invalid(where, f"must be {t.describe()}, not {text!r}")


def parse_query(params: list[ParamSpec], query: Any) -> dict[str, Any]:
    """Query parameters by declaration; a Record parameter is read from its fields' names."""
    known: set[str] = set()
    out: dict[str, Any] = {}
    for p in params:
        if p.type.kind == "record":
            fields = record_fields(p.type.arg)
            known.update(f.name for f in fields)
            present = {f.name: from_text(query[f.name], f.type, f.name) for f in fields if f.name in query}
            if present or p.required:
                out[p.name] = p.type.arg(**present)
            continue
        known.add(p.name)
        if p.name in query:
            out[p.name] = from_text(query[p.name], p.type, p.name)
        elif p.required:
            raise invalid(p.name, "missing required parameter")
    for key in query:
        if key not in known:
            raise invalid(key, "unknown parameter")
    return out


# ------------------------------------------------------------------------------ the wire form
_PLAIN = frozenset((str, int, float, bool, type(None)))


def encode(value: Any) -> Any:
    """A result as JSON data: records as objects, tuples as arrays.  Plain values are passed
    through without a call each (a stats result holds tens of thousands of them), and a dict or
    list with nothing to convert is sent as it is, not copied (one C-level pass over its values)."""
    cls = type(value)
    if cls is dict:
        if _PLAIN.issuperset(map(type, value.values())):
            return value
        out = value  # copied only if a value changes (a stats record: its name and its plain stats)
        for k, v in value.items():
            if type(v) not in _PLAIN and (e := encode(v)) is not v:
                if out is value:
                    out = dict(value)
                out[k] = e
        return out
    if cls is list and _PLAIN.issuperset(map(type, value)):
        return value
    if isinstance(value, api.Record):
        return {k: encode(getattr(value, k)) for k in value._fields}
    if isinstance(value, (list, tuple)):
        return [v if type(v) in _PLAIN else encode(v) for v in value]
    if isinstance(value, dict):
        return {k: v if type(v) in _PLAIN else encode(v) for k, v in value.items()}
    return value


def encode_result(value: Any, t: Type) -> Any:
    """Lists of records go as one table ({fields, rows}): half the bytes for 1000s of domains."""
    if t.kind == "list" and t.arg.kind == "record" and isinstance(value, list):
        fields = t.arg.arg._fields
        if not _nested(t.arg.arg):  # plain values: one C-level getter per row
            from operator import attrgetter

            get = attrgetter(*fields)
            return {"fields": list(fields), "rows": [get(r) for r in value] if len(fields) > 1
                    else [(get(r),) for r in value]}
        return {"fields": list(fields), "rows": [[encode(getattr(r, k)) for k in fields] for r in value]}
    return encode(value)


def decode(value: Any, t: Type) -> Any:
    """The client's half: JSON data as the declared Python value (records rebuilt)."""
    if value is None:
        return None
    if t.kind in ("list", "dict") and not _holds_records(t):
        return value  # JSON data is the value already (domain stats: no copy of 1000s of dicts)
    if t.kind == "record" and isinstance(value, dict):
        return t.arg.from_dict({k: _decode_field(t.arg, k, v) for k, v in value.items()})
    if t.kind == "list":
        item = t.arg
        if isinstance(value, dict) and "rows" in value:  # the table form of a list of records
            cls, fields = item.arg, tuple(value["fields"])
            if fields == cls._fields and not _nested(cls):
                return [cls(*row) for row in value["rows"]]
            return [decode(dict(zip(fields, row, strict=True)), item) for row in value["rows"]]
        return [decode(v, item) for v in value]
    if t.kind == "dict":
        return {k: decode(v, t.arg) for k, v in value.items()}
    return value


def _holds_records(t: Type) -> bool:
    """Whether decoding `t` rebuilds records (a list or dict of them, at any depth)."""
    while t.kind in ("list", "dict"):
        t = t.arg
    return t.kind == "record"


def _nested(cls: type) -> bool:
    return any(f.type.kind in ("record", "list", "dict") for f in record_fields(cls))


def _decode_field(cls: type, name: str, value: Any) -> Any:
    for f in record_fields(cls):
        if f.name == name:
            return decode(value, f.type) if f.type.kind in ("record", "list", "dict") else value
    return value


def _python_types(t: Type) -> tuple[type, ...] | None:
    """The exact Python types a scalar Type allows (None: not a plain scalar)."""
    kinds = t.arg if t.kind == "union" else [t]
    out: list[type] = [type(None)] if t.nullable else []
    for k in kinds:
        if k.kind not in SCALARS:
            return None
        out += [int, float] if k.kind == "float" else [SCALARS[k.kind]]
    return tuple(out)


def check_result(value: Any, t: Type, where: str = "result") -> None:
    """The daemon's own results against their declaration (an internal error if they differ)."""
    if t.kind == "list" and t.arg.kind == "record" and isinstance(value, dict) and "rows" in value:
        fields = record_fields(t.arg.arg)
        allowed = [_python_types(f.type) for f in fields]
        rows = value["rows"]
        # a column at a time, by exact type (bool is not int), each in one C-level pass: a listing
        # of 1000s stays cheap
        if (all(a is not None for a in allowed) and {len(fields)}.issuperset(map(len, rows))
                and all(frozenset(a).issuperset(map(type, col))  # type: ignore[arg-type]
                        for col, a in zip(zip(*rows, strict=True), allowed, strict=False))):
            return
        for i, row in enumerate(rows):
            for f, cell in zip(fields, row, strict=True):
                check(cell, f.type, f"{where}[{i}].{f.name}")
        return
    if t.kind == "record" and isinstance(value, dict):
        check_fields(value, record_fields(t.arg), where)
        return
    check(value, t, where)


# ------------------------------------------------------------------------------ JSON Schema
def schema(t: Type) -> dict[str, Any]:
    """JSON Schema (2020-12, as OpenAPI 3.1 uses) of `t`; records by $ref to components."""
    kind = t.kind
    if kind in SCALARS:
        out: dict[str, Any] = {"type": {"str": "string", "int": "integer", "float": "number",
                                        "bool": "boolean"}[kind]}
    elif kind == "any":
        return {}
    elif kind == "list":
        out = {"type": "array", "items": schema(t.arg)}
    elif kind == "dict":
        out = {"type": "object", "additionalProperties": schema(t.arg)}
    elif kind == "record":
        out = {"$ref": f"#/components/schemas/{t.arg.__name__}"}
    else:
        out = {"anyOf": [schema(b) for b in t.arg]}
    if t.nullable:
        return {"anyOf": [out, {"type": "null"}]}
    return out


def result_schema(t: Type) -> dict[str, Any]:
    """A result as it crosses the wire (lists of records as tables)."""
    if t.kind == "list" and t.arg.kind == "record":
        fields = record_fields(t.arg.arg)
        return {"type": "object", "required": ["fields", "rows"], "additionalProperties": False,
                "properties": {"fields": {"type": "array", "items": {"type": "string"}},
                               "rows": {"type": "array", "items": {
                                   "type": "array", "prefixItems": [schema(f.type) for f in fields],
                                   "items": False}}}}
    return schema(t)


def record_schema(cls: type) -> dict[str, Any]:
    fields = record_fields(cls)
    return {"type": "object", "title": cls.__name__, "description": (cls.__doc__ or "").strip(),
            "properties": {f.name: schema(f.type) for f in fields},
            "required": [f.name for f in fields if f.required], "additionalProperties": False}


def records_used(t: Type, into: set[type]) -> None:
    """Every Record class `t` mentions, nested ones included."""
    if t.kind == "record" and t.arg not in into:
        into.add(t.arg)
        for f in record_fields(t.arg):
            records_used(f.type, into)
    elif t.kind in ("list", "dict"):
        records_used(t.arg, into)
    elif t.kind == "union":
        for b in t.arg:
            records_used(b, into)
