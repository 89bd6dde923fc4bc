"""The operation table (pyvirt.operations) and what is made from it: routes with strict request and
result checks, the remote client's methods, the OpenAPI document."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from pyvirt import api
from pyvirt.client.remote import RemoteConnection
from pyvirt.daemon.http_api import make_app, openapi_document
from pyvirt.operations import KINDS, OPERATIONS, table
from pyvirt.optypes import parse
from pyvirt.testdriver.connection import TestConnection


def test_every_declaration_is_well_formed() -> None:
    routes = set()
    for op in OPERATIONS.values():
        assert op.kind in KINDS and op.libvirt.startswith("vir"), op.name
        assert op.method in ("GET", "POST", "PUT", "DELETE"), op.name
        names = [p.name for p in op.params]
        assert set(op.path_params) <= set(names), (op.name, op.path_params, names)
        assert (op.method, op.path) not in routes, f"two operations on {op.method} {op.path}"
        routes.add((op.method, op.path))
        op.result  # noqa: B018 - parses, or raises naming the annotation
    assert {"list_domains", "start", "list_pools", "create_volume", "events"} <= set(OPERATIONS)
    assert not OPERATIONS["start"].readonly and OPERATIONS["list_domains"].readonly


def test_type_language_is_strict() -> None:
    from pyvirt.optypes import check

    t = parse("int | str | None")
    assert check(3, t, "x") == 3 and check("10G", t, "x") == "10G" and check(None, t, "x") is None
    for bad, t_text in ((True, "int"), (1, "bool"), (["a"], "str"), ("1", "int"), ({"a": "1"}, "dict[str, int]")):
        with pytest.raises(api.PyvirtError) as err:
            check(bad, parse(t_text), "field")
        assert err.value.code == api.ErrorCode.INVALID_ARG and "field" in err.value.message
    flt = check({"active": True, "states": [1]}, parse("ListFilter | None"), "flt")
    assert flt == api.ListFilter(active=True, states=[1])
    with pytest.raises(api.PyvirtError, match="flt.bogus: unknown field"):
        check({"bogus": 1}, parse("ListFilter"), "flt")


def test_every_operation_is_a_method_of_both_connections() -> None:
    """No abstract method left, and the remote client has a method per operation."""
    assert not RemoteConnection.__abstractmethods__ and not TestConnection.__abstractmethods__
    for name in OPERATIONS:
        assert callable(getattr(RemoteConnection, name)), name
        assert callable(getattr(TestConnection, name)), name


def test_openapi_document_validates_and_has_schemas_everywhere() -> None:
    from openapi_spec_validator import validate

    doc = openapi_document()
    validate(doc)
    seen = set()
    for path, methods in doc["paths"].items():
        for method, entry in methods.items():
            op = OPERATIONS[entry["operationId"]]
            seen.add(op.name)
            assert (op.method, op.path) == (method.upper(), path)
            assert "schema" in entry["responses"]["200"]["content"].popitem()[1]
            assert entry["responses"]["default"]["content"]["application/json"]["schema"]["required"] == ["error"]
            if not op.in_query and not op.stream:
                assert "schema" in entry["requestBody"]["content"]["application/json"]
    assert seen == set(OPERATIONS)
    assert {"DomainInfo", "PoolInfo", "VolInfo", "NodeInfo", "ListFilter"} <= set(doc["components"]["schemas"])
    assert len(table()) == len(OPERATIONS)


# ------------------------------------------------------------------------------ the generated routes
class FakeDriver:
    """Implements a few operations, some of them wrongly, to see what the routes make of it."""

    events: Any = None

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    async def define_xml(self, xml: str, validate: bool = False) -> api.DomainInfo:
        self.calls.append(("define_xml", {"xml": xml, "validate": validate}))
        return api.DomainInfo("vm", "u-1")

    def list_domains(self, flt: api.ListFilter | None = None) -> list[api.DomainInfo]:
        self.calls.append(("list_domains", {"flt": flt}))
        return [api.DomainInfo("vm", "u-1", state=1)]

    def get_xml(self, dom: str, inactive: bool = False, security_info: bool = False) -> str:
        raise KeyError("a bug")

    def get_info(self, dom: str) -> Any:
        return {"name": dom}  # not a DomainInfo: breaks the declaration


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


async def _request(driver: FakeDriver, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
    async with TestClient(TestServer(make_app(driver, None))) as client:
        resp = await client.request(method, path, **kwargs)
        return resp.status, await resp.json()


def test_routes_check_types_and_name_the_field() -> None:
    drv = FakeDriver()
    status, body = _run(_request(drv, "POST", "/v1/domains", json={"xml": ["a"]}))
    assert status == 400 and body["error"]["code"] == api.ErrorCode.INVALID_ARG
    assert "xml" in body["error"]["message"] and "string" in body["error"]["message"]
    status, body = _run(_request(drv, "POST", "/v1/domains", json={"xml": "<domain/>", "validate": 1}))
    assert status == 400 and "validate" in body["error"]["message"]
    status, body = _run(_request(drv, "POST", "/v1/domains", json={"xml": "<domain/>", "extra": 1}))
    assert status == 400 and "extra: unknown field" in body["error"]["message"]
    status, body = _run(_request(drv, "POST", "/v1/domains", json={}))
    assert status == 400 and "xml: missing" in body["error"]["message"]
    status, body = _run(_request(drv, "POST", "/v1/domains", data=b"[1]", headers={"Content-Type": "application/json"}))
    assert status == 400 and "JSON object" in body["error"]["message"]
    assert drv.calls == []  # nothing reached the driver
    status, body = _run(_request(drv, "POST", "/v1/domains", json={"xml": "<domain/>", "validate": True}))
    assert status == 200 and body["result"]["name"] == "vm"
    assert drv.calls == [("define_xml", {"xml": "<domain/>", "validate": True})]


def test_query_parameters_are_typed_and_records_spread() -> None:
    drv = FakeDriver()
    status, body = _run(_request(drv, "GET", "/v1/domains?active=1&states=1,3"))
    assert status == 200 and body["result"]["fields"] == list(api.DomainInfo._fields)
    assert drv.calls[-1] == ("list_domains", {"flt": api.ListFilter(active=True, states=[1, 3])})
    for query, name in (("active=maybe", "active"), ("states=1,x", "states[1]"), ("bogus=1", "bogus")):
        status, body = _run(_request(drv, "GET", f"/v1/domains?{query}"))
        assert status == 400 and name in body["error"]["message"], body


def test_programming_errors_are_internal_errors_not_invalid_argument() -> None:
    drv = FakeDriver()
    status, body = _run(_request(drv, "GET", "/v1/domains/vm/xml"))
    assert status == 500 and body["error"]["code"] == api.ErrorCode.INTERNAL_ERROR
    assert "KeyError" in body["error"]["message"]
    status, body = _run(_request(drv, "GET", "/v1/domains/vm/info"))  # a result off its declaration
    assert status == 500 and body["error"]["code"] == api.ErrorCode.INTERNAL_ERROR


def test_unimplemented_operations_answer_not_supported() -> None:
    status, body = _run(_request(FakeDriver(), "POST", "/v1/domains/vm/reset", json={}))
    assert status == 501 and body["error"]["code"] == api.ErrorCode.NO_SUPPORT
    assert "virDomainReset" in body["error"]["message"]


def test_result_checks_and_wire_form_of_tables_and_plain_data() -> None:
    """A listing's table passes its column checks; a wrong cell (a bool is not an int) is named;
    record-free data is sent and decoded as it is (domain stats), records inside are converted."""
    from pyvirt.optypes import check_result, decode, encode, encode_result

    t = parse("list[DomainInfo]")
    table_ = encode_result([api.DomainInfo(name=f"d{i}", uuid=f"u{i}", state=5) for i in range(3)], t)
    check_result(table_, t)
    assert [d.name for d in decode(table_, t)] == ["d0", "d1", "d2"]
    bad = {"fields": table_["fields"], "rows": [list(r) for r in table_["rows"]]}
    bad["rows"][1][table_["fields"].index("state")] = True
    with pytest.raises(api.PyvirtError, match=r"result\[1\]\.state: must be an integer"):
        check_result(bad, t)
    stats = [{"name": "a", "stats": {"state.state": 1}}]
    assert encode(stats)[0]["stats"] is stats[0]["stats"]
    assert decode(stats, parse("list[dict[str, Any]]")) is stats
    assert encode({"k": (1, api.DomainInfo(name="x", uuid="y"))})["k"][1]["name"] == "x"
