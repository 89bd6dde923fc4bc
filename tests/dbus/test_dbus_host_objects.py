"""org.libvirt's host members (CPU models, KSM tunables) and host objects (network filters, host
interfaces, node devices) over a private session bus: /org/libvirt/Test (libvirt's test driver
answers) and /org/libvirt/QEMU backed by a real pyvirtd without guests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from dbus_fast import Variant

from tests.daemon_harness import DaemonHarness
from tests.dbus.bus import CONNECT, QEMU, TEST, Client, DBusError, running_service


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    root = tmp_path_factory.mktemp("dbus-hostobj")
    daemon = DaemonHarness(root / "state")
    (root / "state").mkdir()
    daemon.start()
    try:
        with running_service(root, daemon.root) as (_bus, service, bus_client):
            yield bus_client
            assert service.alive(), service.log.read_text()[-3000:]
    finally:
        daemon.stop()


def test_cpu_model_names(client: Client) -> None:
    test_models = client.one(TEST, CONNECT, "GetCPUModelNames", "su", "x86_64", 0)
    assert "Haswell" in test_models and "qemu64" in test_models
    assert client.one(TEST, CONNECT, "GetCPUModelNames", "su", "s390x", 0) == []
    assert "qemu64" in client.one(QEMU, CONNECT, "GetCPUModelNames", "su", "x86_64", 0)
    with pytest.raises(DBusError, match="cannot find architecture nope"):
        client.call(QEMU, CONNECT, "GetCPUModelNames", "su", "nope", 0)
    with pytest.raises(DBusError, match=r"unsupported flags \(0x1\)"):
        client.call(QEMU, CONNECT, "GetCPUModelNames", "su", "x86_64", 1)


def test_node_memory_parameters(client: Client) -> None:
    with pytest.raises(DBusError, match="not supported by the connection driver: virNodeGetMemoryParameters"):
        client.call(TEST, CONNECT, "NodeGetMemoryParameters", "u", 0)
    scan = Path("/sys/kernel/mm/ksm/pages_to_scan")
    if not scan.exists():
        pytest.skip("kernel without KSM")
    params = client.one(QEMU, CONNECT, "NodeGetMemoryParameters", "u", 0)
    current = int(scan.read_text())
    assert params["shm_pages_to_scan"] == Variant("u", current)
    assert params["shm_full_scans"].signature == "t"
    with pytest.raises(DBusError, match="invalid type 'string' for parameter 'shm_pages_to_scan'"):
        client.call(QEMU, CONNECT, "NodeSetMemoryParameters", "a{sv}u", {"shm_pages_to_scan": Variant("s", "1")}, 0)
    with pytest.raises(DBusError, match="parameter 'shm_full_scans' not supported"):
        client.call(QEMU, CONNECT, "NodeSetMemoryParameters", "a{sv}u", {"shm_full_scans": Variant("u", 1)}, 0)
    try:  # the host's own value written back: nothing changes
        client.call(QEMU, CONNECT, "NodeSetMemoryParameters", "a{sv}u",
                    {"shm_pages_to_scan": Variant("u", current)}, 0)
    except DBusError as exc:
        assert "failed to set shm_pages_to_scan" in exc.text
    assert int(scan.read_text()) == current
