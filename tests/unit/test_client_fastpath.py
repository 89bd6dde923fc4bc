"""The client's start-up shortcuts must agree with the slow, obvious code they replace.

rundir.socket_path() mirrors pyvirt.paths.state_paths(), wire.loads/dumps stand in for json,
wire.quote/urlencode for urllib.parse, and api's Numbering/Record classes for IntEnum and
dataclasses.  Each shortcut exists only for start-up time; these tests keep it honest.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.parse

import pytest

from pyvirt import api, rundir
from pyvirt.client import wire
from pyvirt.paths import state_paths


@pytest.mark.parametrize("uri", ["qemu:///session", "qemu:///system", "qemu:///session/"])
@pytest.mark.parametrize("env", [{}, {"PYVIRT_STATE_ROOT": "/tmp/x/"}, {"XDG_RUNTIME_DIR": "TMP"},
                                 {"XDG_RUNTIME_DIR": "/nonexistent-dir"}])
def test_socket_path_matches_state_paths(monkeypatch, tmp_path, uri: str, env: dict[str, str]) -> None:
    monkeypatch.delenv("PYVIRT_STATE_ROOT", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, str(tmp_path) if value == "TMP" else value)
    assert rundir.socket_path(uri) == str(state_paths(uri).socket)


@pytest.mark.parametrize("value", [{"a": [1, 2.5, None, True, False, "é\"\\\n"], "b": {}}, [], "x", -3, 1e300,
                                   {"nested": [{"k": "v"}] * 3}])
def test_wire_json_matches_json(value: object) -> None:
    assert wire.dumps(value) == json.dumps(value)
    assert wire.loads(json.dumps(value).encode()) == value
    assert wire.loads(" \n" + json.dumps(value) + "\n") == value


@pytest.mark.parametrize("value", [{}, {"paused": False, "n": -3, "name": "a b/c~", "none": None, "big": 10**20},
                                   {"q": 'a"b'}, {"s": "a\\b"}, {"c": "\x7f"}, {"u": "\u00e9"}, {"t": "x\ty"},
                                   {1: "an int key"}, {"f": 1.0}, {"l": [1]}, {"d": {}}, {"k\u00e9y": 1}])
def test_wire_flat_objects_match_json(value: dict) -> None:
    """A flat object of plain values is written by wire itself (no _json before a request leaves),
    anything else by the encoder: either way, what json.dumps writes."""
    assert wire.dumps(value) == json.dumps(value)


def test_flat_plain_objects_are_written_by_wire_and_the_rest_by_the_encoder() -> None:
    assert wire._flat_object({"paused": False, "name": "x"}) == '{"paused": false, "name": "x"}'
    for other in ({"name": "\u00e9"}, {"n": 1.5}, {"name": 'a"b'}, {"l": []}, {True: 1}):
        assert wire._flat_object(other) is None


@pytest.mark.parametrize("bad", [b"", b"{", b"1 2", b'{"a":}', b"nul"])
def test_wire_json_rejects_what_json_rejects(bad: bytes) -> None:
    with pytest.raises(ValueError):
        json.loads(bad)
    with pytest.raises(ValueError):
        wire.loads(bad)


@pytest.mark.parametrize("text", ["plain", "a b/c", "é,ü?&=#%", "vm-1_x.y~z"])
def test_quote_matches_urllib(text: str) -> None:
    assert wire.quote(text) == urllib.parse.quote(text, safe="")
    assert urllib.parse.parse_qs(wire.urlencode({"k": text, "n": 1})) == {"k": [text], "n": ["1"]}


def test_numbering_behaves_like_the_intenum_it_replaced() -> None:
    assert api.DomainState.RUNNING == 1 and api.DomainState(5) == api.DomainState.SHUTOFF
    assert f"{api.ErrorCode.NO_DOMAIN}" == "42" and json.dumps(api.EventType.STOPPED) == "5"
    assert api.DomainState.name_of(3) == "PAUSED"
    assert 7 in api.DomainState.__members__.values()
    with pytest.raises(ValueError):
        api.DomainState(99)
    assert api.STATE_REASONS[api.DomainState.SHUTOFF].DESTROYED == 2


def test_records_behave_like_the_dataclasses_they_replaced() -> None:
    info = api.DomainInfo("vm", "u-1", 3, api.DomainState.RUNNING, title="t")
    again = api.DomainInfo.from_dict({**info.to_dict(), "field_from_a_newer_daemon": 1})
    assert again == info and again is not info and info.active
    assert info != api.DomainInfo("vm", "u-1")
    assert repr(api.DomainEvent("vm", "u", 2, 0)) == "DomainEvent(name='vm', uuid='u', event=2, detail=0, " \
                                                    "timestamp=0.0, id=-1, kind='Domain')"
    flt = api.ListFilter(states=[1])
    assert flt.to_dict()["states"] is not flt.states and api.ListFilter().states == []
    with pytest.raises(TypeError):
        hash(info)


def test_remote_client_import_loads_nothing_slow() -> None:
    code = ("import sys; import pyvirt.client.remote; "
            "print(sorted(m for m in ('enum', 're', 'json', 'socket', 'typing', 'dataclasses', 'pathlib', "
            "'subprocess', 'urllib.parse', 'collections', 'tempfile') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
