"""The OpenAPI 3.1 document of pyvirtd's API, made from the declared operations.

Every operation has its parameters and request body as JSON Schemas, its `{"result": ...}` reply
and libvirt's error object; records are components.  ``x-libvirt`` names the libvirt function,
``x-kind`` the libvirt-dbus interface and ``x-readonly`` whether a read-only connection may call it:
what a D-Bus or web face needs to map its members onto these operations.
"""

from __future__ import annotations

from typing import Any

from pyvirt import __version__
from pyvirt.api import Record
from pyvirt.operations import OPERATIONS, Operation
from pyvirt.optypes import record_fields, record_schema, records_used, result_schema, schema

ERROR_SCHEMA = {"type": "object", "required": ["error"], "additionalProperties": False,
                "properties": {"error": {"type": "object", "required": ["code", "domain", "message"],
                                         "additionalProperties": False,
                                         "properties": {"code": {"type": "integer"}, "domain": {"type": "integer"},
                                                        "message": {"type": "string"}}}}}

#: what the stream operations carry instead of JSON
STREAM_CONTENT = {
    "events": ("text/event-stream", "Server-Sent Events: one `data:` line of DomainEvent JSON per event"),
    "open_console": ("application/octet-stream", "WebSocket upgrade (101); binary frames both ways"),
    "upload_volume": ("application/json", "`{\"result\": {\"bytes\": n}}` after the streamed request body"),
    "download_volume": ("application/octet-stream", "the volume's bytes (Content-Length known up front)"),
}


def _parameters(op: Operation) -> list[dict[str, Any]]:
    out = []
    for p in op.params:
        if p.name in op.path_params:
            out.append({"name": p.name, "in": "path", "required": True, "schema": schema(p.type)})
        elif op.in_query or op.stream:
            if p.type.kind == "any":  # Python-side stream objects (files, callbacks)
                continue
            if p.type.kind == "record":
                out += [{"name": f.name, "in": "query", "required": False,
                         "schema": _query_schema(f.type)} for f in record_fields(p.type.arg)]
                continue
            out.append({"name": p.name, "in": "query", "required": p.required, "schema": _query_schema(p.type)})
    return out


def _query_schema(t: Any) -> dict[str, Any]:
    """In a query string: booleans as 1/0, lists comma-separated."""
    if t.kind == "list":
        return {"type": "string", "description": f"comma-separated: {t.describe()}"}
    if t.kind == "bool":
        return {"type": "string", "enum": ["0", "1", "true", "false", "yes", "no"]}
    return schema(t)


def _body(op: Operation) -> dict[str, Any] | None:
    params = [p for p in op.params if p.name not in op.path_params]
    if op.in_query or op.stream:
        return None
    body = {"type": "object", "additionalProperties": False,
            "properties": {p.name: schema(p.type) for p in params},
            "required": [p.name for p in params if p.required]}
    return {"required": bool(body["required"]), "content": {"application/json": {"schema": body}}}


def _responses(op: Operation) -> dict[str, Any]:
    error = {"description": "libvirt's error: code, domain, message",
             "content": {"application/json": {"schema": ERROR_SCHEMA}}}
    if op.stream:
        ctype, words = STREAM_CONTENT.get(op.name, ("application/octet-stream", "a stream"))
        return {"200": {"description": words, "content": {ctype: {"schema": {}}}}, "default": error}
    result = {"type": "null"} if op.returns_none else result_schema(op.result)
    ok = {"type": "object", "required": ["result"], "additionalProperties": False,
          "properties": {"result": result}}
    return {"200": {"description": (op.func.__doc__ or op.name).strip().splitlines()[0],
                    "content": {"application/json": {"schema": ok}}},
            "default": error}


def document() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    records: set[type[Record]] = set()
    for op in OPERATIONS.values():
        for p in op.params:
            records_used(p.type, records)
        if not op.returns_none:
            records_used(op.result, records)
        entry: dict[str, Any] = {"operationId": op.name, "summary": op.libvirt, "tags": [op.kind],
                                 "x-libvirt": op.libvirt, "x-kind": op.kind, "x-readonly": op.readonly,
                                 "responses": _responses(op)}
        if op.func.__doc__:
            entry["description"] = op.func.__doc__.strip()
        params = _parameters(op)
        if params:
            entry["parameters"] = params
        body = _body(op)
        if body is not None:
            entry["requestBody"] = body
        paths.setdefault(op.path, {})[op.method.lower()] = entry
    return {"openapi": "3.1.0",
            "info": {"title": "pyvirtd", "version": __version__,
                     "description": "pyvirt's API: libvirt's operations over HTTP on a unix socket"},
            "paths": paths,
            "components": {"schemas": {cls.__name__: record_schema(cls)
                                       for cls in sorted(records, key=lambda c: c.__name__)}}}
