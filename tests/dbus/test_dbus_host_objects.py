"""org.libvirt's host members (CPU models, KSM tunables) and host objects (network filters, host
interfaces, node devices) over a private bus: /org/libvirt/Test (libvirt's test driver answers)
and /org/libvirt/QEMU backed by a real system pyvirtd without guests (network filters exist only
on system daemons), in a network namespace of its own with no default network."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from dbus_fast import Variant

from tests.daemon_harness import system_daemon
from tests.dbus.bus import CONNECT, PROPS, QEMU, TEST, Client, DBusError, running_service, unwrap_params

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="a system pyvirtd needs root")
NWFILTER = "org.libvirt.NWFilter"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    root = tmp_path_factory.mktemp("dbus-hostobj")
    daemon = system_daemon(root / "state")
    (root / "state").mkdir()
    daemon.start()
    try:
        with running_service(root, daemon.root, system=True) as (_bus, service, bus_client):
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


def test_security_model(client: Client) -> None:
    assert list(client.one(TEST, CONNECT, "NodeGetSecurityModel")) == ["testSecurity", ""]
    assert list(client.one(QEMU, CONNECT, "NodeGetSecurityModel")) == ["none", "0"]


def test_node_memory_parameters(client: Client) -> None:
    with pytest.raises(DBusError, match="not supported by the connection driver: virNodeGetMemoryParameters"):
        client.call(TEST, CONNECT, "NodeGetMemoryParameters", "u", 0)
    scan = Path("/sys/kernel/mm/ksm/pages_to_scan")
    if not scan.exists():
        pytest.skip("kernel without KSM")
    params = unwrap_params(client.one(QEMU, CONNECT, "NodeGetMemoryParameters", "u", 0))
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


def test_nwfilters(client: Client) -> None:
    with pytest.raises(DBusError, match="virConnectListAllNWFilters"):
        client.call(TEST, CONNECT, "ListNWFilters", "u", 0)  # libvirt's test driver has no filters
    assert client.one(QEMU, CONNECT, "ListNWFilters", "u", 0) == []
    path = client.one(QEMU, CONNECT, "NWFilterDefineXML", "s",
                      "<filter name='dbus-f' chain='arp'><rule action='drop' direction='in'><arp/></rule></filter>")
    props = unwrap_params(client.one(path, PROPS, "GetAll", "s", NWFILTER))
    assert props["Name"].value == "dbus-f" and path.endswith(props["UUID"].value.replace("-", "_"))
    assert client.one(QEMU, CONNECT, "ListNWFilters", "u", 0) == [path]
    assert client.one(QEMU, CONNECT, "NWFilterLookupByName", "s", "dbus-f") == path
    assert client.one(QEMU, CONNECT, "NWFilterLookupByUUID", "s", props["UUID"].value) == path
    xml = client.one(path, NWFILTER, "GetXMLDesc", "u", 0)
    assert xml.startswith("<filter name='dbus-f' chain='arp' priority='-500'>")
    with pytest.raises(DBusError, match="unknown attribute 'bogus' of <arp>"):
        client.call(QEMU, CONNECT, "NWFilterDefineXML", "s",
                    "<filter name='dbus-f'><rule action='drop' direction='in'><arp bogus='1'/></rule></filter>")
    assert client.one(path, NWFILTER, "GetXMLDesc", "u", 0) == xml  # unchanged
    with pytest.raises(DBusError, match="no nwfilter with matching name 'nope'"):
        client.call(QEMU, CONNECT, "NWFilterLookupByName", "s", "nope")
    client.call(path, NWFILTER, "Undefine")
    assert client.one(QEMU, CONNECT, "ListNWFilters", "u", 0) == []
    with pytest.raises(DBusError, match="Network filter not found"):
        client.call(path, NWFILTER, "GetXMLDesc", "u", 0)


def test_interfaces(client: Client) -> None:
    """The Test object defines, starts, stops and undefines host interfaces and runs the change
    transaction as libvirt's test driver; the QEMU object (libvirt without netcf) changes none."""
    iface = "org.libvirt.Interface"
    xml = "<interface type='ethernet' name='dbus0'><mac address='52:54:00:00:00:aa'/></interface>"
    client.call(TEST, CONNECT, "InterfaceChangeBegin", "u", 0)
    path = client.one(TEST, CONNECT, "InterfaceDefineXML", "su", xml, 0)
    assert unwrap_params(client.one(path, PROPS, "GetAll", "s", iface))["Active"].value is False
    client.call(path, iface, "Create", "u", 0)
    assert client.get(path, iface, "Active") is True
    with pytest.raises(DBusError, match="Requested operation is not valid"):
        client.call(path, iface, "Create", "u", 0)
    client.call(path, iface, "Destroy", "u", 0)
    assert path in client.one(TEST, CONNECT, "ListInterfaces", "u", 0)
    client.call(TEST, CONNECT, "InterfaceChangeRollback", "u", 0)
    assert path not in client.one(TEST, CONNECT, "ListInterfaces", "u", 0)
    with pytest.raises(DBusError, match="no transaction running, nothing to be committed"):
        client.call(TEST, CONNECT, "InterfaceChangeCommit", "u", 0)
    path = client.one(TEST, CONNECT, "InterfaceDefineXML", "su", xml, 0)
    client.call(path, iface, "Undefine")
    assert path not in client.one(TEST, CONNECT, "ListInterfaces", "u", 0)
    with pytest.raises(DBusError, match="XML error: interface has no name"):
        client.call(TEST, CONNECT, "InterfaceDefineXML", "su", "<interface type='ethernet'/>", 0)
    with pytest.raises(DBusError, match="not supported by the connection driver: virInterfaceDefineXML"):
        client.call(QEMU, CONNECT, "InterfaceDefineXML", "su", xml, 0)
    with pytest.raises(DBusError, match="not supported by the connection driver: virInterfaceChangeBegin"):
        client.call(QEMU, CONNECT, "InterfaceChangeBegin", "u", 0)


def test_node_devices(client: Client) -> None:
    """The Test object makes and destroys a vHBA as libvirt's test driver mocks it; the QEMU
    object refuses what its host cannot do, with libvirt's words."""
    nodedev = "org.libvirt.NodeDevice"
    vhba = ("<device><parent>scsi_host1</parent><capability type='scsi_host'><capability type='fc_host'>"
            "<wwnn>2001001b32a9da4e</wwnn><wwpn>2101001b32a9da4e</wwpn></capability></capability></device>")
    path = client.one(TEST, CONNECT, "NodeDeviceCreateXML", "su", vhba, 0)
    assert client.get(path, nodedev, "Name") == "scsi_host12"
    assert "<wwnn>2001001b32a9da4e</wwnn>" in client.one(path, nodedev, "GetXMLDesc", "u", 0)
    client.call(path, nodedev, "Destroy")
    assert path not in client.one(TEST, CONNECT, "ListNodeDevices", "u", 0)
    with pytest.raises(DBusError, match="not supported by the connection driver: virNodeDeviceDetachFlags"):
        client.call(client.one(TEST, CONNECT, "NodeDeviceLookupByName", "s", "scsi_host1"), nodedev, "Detach",
                    "su", "vfio", 0)
    computer = client.one(QEMU, CONNECT, "NodeDeviceLookupByName", "s", "computer")
    with pytest.raises(DBusError, match="Unsupported device type"):
        client.call(computer, nodedev, "Destroy")
    with pytest.raises(DBusError, match="not a PCI device|VFIO device assignment is currently not supported"):
        client.call(computer, nodedev, "Detach", "su", "", 0)
    with pytest.raises(DBusError, match="device computer is not a PCI device"):
        client.call(computer, nodedev, "Reset")
    with pytest.raises(DBusError, match="Parent device computer is not capable of vport operations"):
        client.call(QEMU, CONNECT, "NodeDeviceCreateXML", "su", vhba.replace("scsi_host1", "computer"), 0)
