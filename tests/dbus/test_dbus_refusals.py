"""org.libvirt members' refusals in libvirt-dbus 1.4.1's words (over test:///default, checked with
the real service), through the member rows themselves: no bus needed."""

from __future__ import annotations

import pytest

from pyvirt.api import PyvirtError
from pyvirt.client import connect
from pyvirt.dbus import members, paths
from pyvirt.dbus.service import _run_row

TEST_UUID = "6695eb01-f6a4-8304-79aa-97f2502e193f"


@pytest.fixture(scope="module")
def conn():  # type: ignore[no-untyped-def]
    return connect("test:///default")  # nothing here changes it


@pytest.mark.parametrize(("kind", "member", "args", "words"), [
    ("Connect", "DomainLookupByID", (-1,), "id in virDomainLookupByID must be zero or greater"),
    ("Connect", "StorageVolLookupByKey", ("/nosuch",),
     "Storage volume not found: no storage vol with matching key '/nosuch'"),
    ("Domain", "InterfaceAddresses", (3, 0), "argument unsupported: Unknown IP address data source 3"),
    ("Domain", "GetMetadata", (3, "", 0), "invalid argument: unknown metadata type '3'"),
    ("Domain", "CoreDump", ("/nonexistent/core", 5, 0), "dumpformat '5' is not supported"),
    ("Domain", "SendKey", (10, 0, [1], 0), "Unsupported codeset '10'"),
    ("Domain", "SetMemoryStatsPeriod", (-1, 0), "period in virDomainSetMemoryStatsPeriod must be zero or greater"),
    ("Domain", "PinVcpu", (0, [], 0), "cpumap in virDomainPinVcpuFlags must not be NULL"),
    ("Connect", "NodeGetCPUStats", (-5, 0), "cpuNum in virNodeGetCPUStats only accepts -1 as a negative value"),
])
def test_refused_in_libvirt_dbus_words(conn, kind: str, member: str, args: tuple,  # type: ignore[no-untyped-def, type-arg]
                                       words: str) -> None:
    target = paths.Target("Test", kind, (TEST_UUID,) if kind == "Domain" else ())
    with pytest.raises(PyvirtError) as refused:
        _run_row(conn, members.METHODS[f"{kind}.{member}"], target, "virX", args)
    assert str(refused.value) == words
