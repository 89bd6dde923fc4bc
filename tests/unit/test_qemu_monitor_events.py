"""QEMU monitor events as libvirt relays them, and libvirt's pretty JSON (json-c's layout)."""

from __future__ import annotations

import json

from pyvirt.api import Event, QemuMonitorEvent
from pyvirt.cli.fmt import pretty_json
from pyvirt.daemon.events import monitor_event


def test_monitor_event_keeps_name_time_and_compact_data() -> None:
    qmp = {"event": "DEVICE_DELETED", "timestamp": {"seconds": 1700000000, "microseconds": 42},
           "data": {"device": "ua-x", "path": "/machine/peripheral/ua-x"}}
    ev = monitor_event(qmp, "vm", "u-1", 3)
    assert (ev.kind, ev.qmp_event, ev.seconds, ev.micros, ev.id) == ("Domain.qemu-monitor", "DEVICE_DELETED",
                                                                       1700000000, 42, 3)
    assert ev.details == '{"device":"ua-x","path":"/machine/peripheral/ua-x"}'  # slashes as they are
    assert monitor_event({"event": "STOP", "timestamp": {}}, "vm", "u", 1).details is None  # virsh: <null>
    back = Event.from_dict(json.loads(json.dumps(ev.to_dict())))  # what the remote client rebuilds
    assert isinstance(back, QemuMonitorEvent) and back.details == ev.details


def test_pretty_json_is_json_c_layout() -> None:
    assert pretty_json({"return": {}, "id": "x"}) == '{\n  "return": {\n\n  },\n  "id": "x"\n}'
    assert pretty_json({"a": [1, {"b": "/é"}], "c": []}) == \
        '{\n  "a": [\n    1,\n    {\n      "b": "/é"\n    }\n  ],\n  "c": [\n\n  ]\n}'
    assert pretty_json({}) == "{\n\n}" and pretty_json(None) == "null"
