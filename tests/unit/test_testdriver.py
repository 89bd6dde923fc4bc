"""The test driver against facts read from libvirt's test driver (virsh -c test:///default)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from pyvirt.api import (
    DomainState,
    ErrorCode,
    EventType,
    ListFilter,
    PyvirtError,
    RunningReason,
    StartedDetail,
)
from pyvirt.testdriver import open_test_connection
from tests.conformance_data import VIRT_MANAGER

NODE_DIR = VIRT_MANAGER / "tree" / "tests" / "data" / "testdriver"
TEST_UUID = "6695eb01-f6a4-8304-79aa-97f2502e193f"
MINIMAL = "<domain type='test'><name>{name}</name><memory>1024</memory><os><type>hvm</type></os></domain>"


@pytest.fixture
def conn():
    c = open_test_connection("test:///default")
    yield c
    c.close()


def _code(exc: pytest.ExceptionInfo[PyvirtError]) -> int:
    return exc.value.code


def test_default_objects(conn):
    [info] = conn.list_domains()
    assert (info.name, info.uuid, info.id, info.state) == ("test", TEST_UUID, 1, DomainState.RUNNING)
    assert (info.max_mem_kib, info.mem_kib, info.vcpus, info.os_type) == (8388608, 2097152, 2, "linux")
    assert conn.node_info().cpus == 16 and conn.node_info().memory_kib == 3145728
    assert [n.name for n in conn.list_networks()] == ["default"]
    assert conn.list_pools()[0].capacity == 107374182400
    assert conn.list_volumes("default-pool") == []
    assert "<domain type='test' id='1'>" in conn.get_xml("test")
    assert " id=" not in conn.get_xml("test", inactive=True).splitlines()[0]


def test_fresh_state_per_connection(conn):
    conn.destroy("test")
    with open_test_connection("test:///default") as other:
        assert other.lookup_domain("test").active


def test_lookup_order(conn):
    assert conn.lookup_domain("1").name == "test"
    assert conn.lookup_domain(TEST_UUID.upper()).name == "test"
    with pytest.raises(PyvirtError) as exc:
        conn.lookup_domain("nope")
    assert _code(exc) == ErrorCode.NO_DOMAIN


def test_lifecycle(conn):
    conn.suspend("test")
    assert conn.get_state("test") == (DomainState.PAUSED, 1)
    with pytest.raises(PyvirtError, match="internal error: domain 'test' not running"):
        conn.suspend("test")
    conn.resume("test")
    assert conn.get_state("test") == (DomainState.RUNNING, 5)
    with pytest.raises(PyvirtError, match="domain 'test' not paused"):
        conn.resume("test")
    conn.shutdown("test")
    assert conn.get_state("test") == (DomainState.SHUTOFF, 1)
    assert conn.start("test").id == 2
    conn.destroy("test")
    assert conn.get_state("test") == (DomainState.SHUTOFF, 2)
    with pytest.raises(PyvirtError, match="Requested operation is not valid: domain is not running") as exc:
        conn.destroy("test")
    assert _code(exc) == ErrorCode.OPERATION_INVALID
    assert conn.start("test").id == 3


def test_transient_and_undefine(conn):
    info = conn.create_xml(MINIMAL.format(name="tr"))
    assert (info.id, info.persistent) == (2, False)
    assert [d.name for d in conn.list_domains()] == ["test", "tr"]
    conn.destroy("tr")
    assert [d.name for d in conn.list_domains()] == ["test"]
    conn.undefine("test")
    assert not conn.lookup_domain("test").persistent
    conn.destroy("test")
    assert conn.list_domains() == []


def test_define_collisions_and_listing(conn):
    conn.define_xml(MINIMAL.format(name="b"))
    conn.define_xml(MINIMAL.format(name="a"))
    assert [d.name for d in conn.list_domains()] == ["test", "a", "b"]
    assert [d.name for d in conn.list_domains(ListFilter(active=False))] == ["a", "b"]
    for flt in (None, ListFilter(active=False), ListFilter(states=[1]), ListFilter(persistent=True, autostart=False)):
        assert [(n.name, n.uuid, n.id) for n in conn.list_domain_names(flt)] == [
            (d.name, d.uuid, d.id) for d in conn.list_domains(flt)]
    other = MINIMAL.format(name="test").replace("<memory>", "<uuid>11111111-f6a4-8304-79aa-97f2502e193f</uuid><memory>")
    with pytest.raises(PyvirtError, match=f"domain 'test' already exists with uuid {TEST_UUID}") as exc:
        conn.define_xml(other)
    assert _code(exc) == ErrorCode.OPERATION_FAILED
    with pytest.raises(PyvirtError, match="missing name information"):
        conn.define_xml("<domain type='test'><os><type>hvm</type></os></domain>")


def test_memory_vcpus_rename(conn):
    with pytest.raises(PyvirtError, match="cannot set memory higher than max memory"):
        conn.set_memory("test", 99999999)
    conn.set_memory("test", 1024)
    assert conn.get_info("test").mem_kib == 1024
    with pytest.raises(PyvirtError, match=r"requested cpu amount exceeds maximum \(5 > 2\)"):
        conn.set_vcpus("test", 5)
    conn.set_vcpus("test", 1)
    assert conn.get_info("test").vcpus == 1
    with pytest.raises(PyvirtError, match="cannot rename active domain"):
        conn.rename("test", "x")
    conn.destroy("test")
    conn.rename("test", "test2")
    assert conn.lookup_domain("test2").uuid == TEST_UUID
    conn.set_metadata("test2", "title", "hello")
    assert conn.lookup_domain("test2").title == "hello"


def test_events(conn):
    stream = conn.events(timeout=0.2)
    conn.suspend("test")
    conn.destroy("test")
    got = [(e.event, e.detail) for e in stream]
    assert got == [(EventType.SUSPENDED, 0), (EventType.STOPPED, 1)]


def test_start_after_managed_save_boots(conn):
    """libvirt's test driver has no image to resume: a start drops the managed save and boots
    (reason and STARTED detail BOOTED), where restore() is the one that says RESTORED."""
    conn.managed_save("test")
    assert conn.get_info("test").managed_save
    stream = conn.events(timeout=0.2)
    conn.start("test")
    assert [(e.event, e.detail) for e in stream] == [(EventType.STARTED, StartedDetail.BOOTED)]
    info = conn.get_info("test")
    assert (info.state, info.reason, info.managed_save) == (DomainState.RUNNING, RunningReason.BOOTED, False)


def test_readonly_and_console():
    with open_test_connection("test:///default", readonly=True) as ro:
        with pytest.raises(PyvirtError, match="read only access prevents virDomainSuspend") as exc:
            ro.suspend("test")
        assert _code(exc) == ErrorCode.OPERATION_DENIED
    with open_test_connection("test:///default") as c, pytest.raises(PyvirtError) as exc:
        c.open_console("test")
    assert _code(exc) == ErrorCode.NO_SUPPORT


@pytest.mark.skipif(not NODE_DIR.is_dir(), reason="conformance tree missing")
@pytest.mark.parametrize("name", sorted(p.name for p in NODE_DIR.glob("*.xml")) if NODE_DIR.is_dir() else [])
def test_node_files_load(name):
    with open_test_connection(f"test://{NODE_DIR / name}") as c:
        for info in c.list_domains():
            assert c.get_xml(info.name).startswith("<domain")


@pytest.mark.skipif(not NODE_DIR.is_dir(), reason="conformance tree missing")
def test_node_file_states():
    with open_test_connection(f"test://{NODE_DIR / 'testdriver.xml'}") as c:
        states = {d.name: (d.id, d.state, d.persistent, d.managed_save) for d in c.list_domains()}
        assert states["test-state-paused"][:2] == (5, DomainState.PAUSED)
        assert states["test-state-transient"][2] is False
        assert states["test-state-managedsave"] == (-1, DomainState.SHUTOFF, True, True)
        assert c.node_info().cpus == 4
        vols = {v.name: v for v in c.list_volumes("pool-dir")}
        assert vols["UPPER"].path == "/pool-dir/UPPER"


def test_hooks(monkeypatch, tmp_path):
    caps = tmp_path / "caps.xml"
    caps.write_text("<capabilities/>")
    monkeypatch.setenv("VIRTCOMPAT_FAKEURI", "qemu:///system")
    monkeypatch.setenv("VIRTCOMPAT_CAPS", str(caps))
    monkeypatch.setenv("VIRTCOMPAT_PREDICTABLE", "1")
    if NODE_DIR.is_dir():
        monkeypatch.setenv("VIRTCOMPAT_TEST_DRIVER_XML", str(NODE_DIR / "empty.xml"))
    with open_test_connection("qemu:///system") as c:
        assert c.get_uri() == "qemu:///system"
        assert c.get_capabilities() == "<capabilities/>"
        info = c.define_xml(MINIMAL.format(name="p"))
        assert info.uuid == "00000000-1111-2222-3333-444444444444"
    from pyvirt import ids

    ids.reset_predictable()
    assert [ids.new_mac(), ids.new_mac()] == ["00:11:22:33:44:55", "00:11:22:33:44:56"]


def _virsh(*cmd: str) -> str:
    return subprocess.run(["virsh", "-c", "test:///default", *cmd], capture_output=True, text=True,
                          timeout=30, check=True).stdout


@pytest.mark.skipif(shutil.which("virsh") is None, reason="libvirt's virsh (oracle) not installed")
def test_oracle_dominfo_and_xml(conn):
    fields = dict(line.split(":", 1) for line in _virsh("dominfo", "test").splitlines() if ":" in line)
    info = conn.get_info("test")
    assert fields["UUID"].strip() == info.uuid
    assert fields["Max memory"].split()[0] == str(info.max_mem_kib)
    assert fields["CPU(s)"].strip() == str(info.vcpus)
    assert _virsh("domstate", "--reason", "test").strip() == "running (unknown)"
    assert _virsh("dumpxml", "test") .strip() == conn.get_xml("test").strip()
    assert _virsh("net-dumpxml", "default").strip() == conn.get_network_xml("default").strip()
    assert _virsh("pool-dumpxml", "default-pool").strip() == conn.get_pool_xml("default-pool").strip()


def test_default_fast_path_matches_regular_loader() -> None:
    """The pyexpat fast path must answer exactly as the lxml loader does for the fixture."""
    from pyvirt.testdriver import DEFAULT_FIXTURE
    from pyvirt.testdriver.connection import TestConnection
    from pyvirt.testdriver.loader import load_node_file

    fast = open_test_connection("test:///default")
    slow = TestConnection("test:///default", load_node_file(DEFAULT_FIXTURE))
    assert fast.list_domains() == slow.list_domains()
    assert fast.node_info() == slow.node_info()
    assert fast.get_xml("test") == slow.get_xml("test")
    assert fast.get_xml("test", inactive=True) == slow.get_xml("test", inactive=True)
    assert fast.list_pools() == slow.list_pools() and fast.list_networks() == slow.list_networks()


def test_list_on_default_does_not_import_lxml() -> None:
    import sys

    code = ("import sys; from pyvirt.testdriver import open_test_connection as o; "
            "o('test:///default').list_domains(); print(sorted(m for m in ('lxml', 'socket', 'uuid', "
            "'dataclasses', 'importlib.resources') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_storage_write_ops_follow_libvirt() -> None:
    conn = open_test_connection("test:///default")
    vol = conn.create_volume("default-pool", "a", "1G", allocation=10 * 1024**2, format="qcow2")
    assert (vol.capacity, vol.allocation, vol.path) == (1024**3, 10 * 1024**2, "/default-pool/a")
    assert "<format type='qcow2'/>" in conn.get_volume_xml("default-pool", "a")
    pool = conn.lookup_pool("default-pool")
    assert pool.allocation == 10 * 1024**2 and pool.available == pool.capacity - 10 * 1024**2
    with pytest.raises(PyvirtError, match="storage vol already exists"):
        conn.create_volume("default-pool", "a", 1)
    with pytest.raises(PyvirtError, match="Not enough free space in pool for volume 'b'"):
        conn.create_volume("default-pool", "b", 200 * 1024**3)
    conn.delete_volume("default-pool", "a")
    assert conn.lookup_pool("default-pool").allocation == 0 and conn.list_volumes("default-pool") == []
    conn.destroy_pool("default-pool")
    with pytest.raises(PyvirtError, match="storage pool 'default-pool' is not active"):
        conn.destroy_pool("default-pool")
    with pytest.raises(PyvirtError, match="storage pool is not active"):
        conn.list_volumes("default-pool")
    conn.start_pool("default-pool")
    with pytest.raises(PyvirtError, match="storage pool 'default-pool' is active"):
        conn.start_pool("default-pool")
    ro = open_test_connection("test:///default", readonly=True)
    with pytest.raises(PyvirtError, match="virStoragePoolDestroy"):
        ro.destroy_pool("default-pool")


def test_memory_and_domain_stats() -> None:
    conn = open_test_connection("test:///default")
    stats = conn.memory_stats("test")
    assert list(stats)[:2] == ["actual", "swap_in"] and stats["actual"] == 2097152 and stats["rss"] == 1048576
    assert conn.domain_stats() == [{"name": "test", "stats": {"state.state": 1, "state.reason": 0}}]
    assert conn.domain_stats(["test"], ["balloon"]) == [{"name": "test", "stats": {}}]
    conn.destroy("test")
    with pytest.raises(PyvirtError, match="domain is not running"):
        conn.memory_stats("test")


def test_one_event_stream_for_every_kind() -> None:
    """Domain, pool and network events of the test driver through events(kinds=…); the default
    subscription is domains only, and a name or UUID filter works for every kind."""
    from pyvirt import api
    from pyvirt.client import connect

    conn = connect("test:///default")
    every = conn.events(timeout=0.2, kinds=["Domain", "StoragePool", "Network"])
    domains = conn.events(timeout=0.2)
    pool = conn.events("default-pool", timeout=0.2, kinds=["StoragePool"])
    nets = conn.network_events(timeout=0.2)
    conn.destroy_pool("default-pool")
    conn.start_pool("default-pool")
    conn.destroy_network("default")
    conn.destroy("test")
    kinds = [(type(ev).__name__, ev.name, ev.event) for ev in every]
    assert kinds == [("StoragePoolEvent", "default-pool", api.StoragePoolEventType.STOPPED),
                     ("StoragePoolEvent", "default-pool", api.StoragePoolEventType.STARTED),
                     ("NetworkEvent", "default", api.NetworkEventType.STOPPED),
                     ("DomainEvent", "test", api.EventType.STOPPED)]
    assert [ev.kind for ev in domains] == ["Domain"]
    assert [ev.event for ev in pool] == [api.StoragePoolEventType.STOPPED, api.StoragePoolEventType.STARTED]
    assert [ev.name for ev in nets] == ["default"]


def test_defined_xml_is_returned_formatted(conn):
    """libvirt's test driver returns its formatting of what it parsed, not the client's text."""
    conn.define_xml("<domain type='test'><os><type>hvm</type></os><memory unit='MiB'>1</memory>"
                    "<name>fmt</name><devices><interface type='network'><mac address='52:54:00:AB:CD:EF'/>"
                    "<source network='default'/></interface></devices></domain>")
    xml = conn.get_xml("fmt", inactive=True)
    assert xml.index("<name>fmt</name>") < xml.index("<memory unit='KiB'>1024</memory>") < xml.index("<os>")
    assert "52:54:00:ab:cd:ef" in xml and "<domain type='test'>" in xml
    # An empty <devices> is written open and closed, as libvirt does.
    conn.define_xml(MINIMAL.format(name="empty").replace("</domain>", "<devices/></domain>"))
    assert "  <devices>\n  </devices>\n" in conn.get_xml("empty", inactive=True)


def test_xml_the_model_does_not_declare_is_kept_in_libvirts_place(conn):
    """Elements pyvirt's model does not declare stay verbatim, where libvirt formats them."""
    conn.define_xml(MINIMAL.format(name="raw").replace("</domain>", "<blkiotune><weight>100</weight>"
                                                        "</blkiotune></domain>"))
    xml = conn.get_xml("raw", inactive=True)
    assert "<weight>100</weight>" in xml
    assert xml.index("<currentMemory unit='KiB'>") < xml.index("<blkiotune>") < xml.index("<os>")


def test_pool_refresh_event_is_its_own_kind() -> None:
    """pool-refresh publishes libvirt's refresh event (VIR_STORAGE_POOL_EVENT_ID_REFRESH) as the
    kind "StoragePool.refresh": lifecycle subscribers do not see it; an inactive pool refuses."""
    from pyvirt import api
    from pyvirt.client import connect

    conn = connect("test:///default")
    refresh = conn.events(timeout=0.2, kinds=["StoragePool.refresh"])
    lifecycle = conn.events(timeout=0.2, kinds=["StoragePool"])
    conn.refresh_pool("default-pool")
    conn.destroy_pool("default-pool")
    with pytest.raises(api.PyvirtError, match="not active"):
        conn.refresh_pool("default-pool")
    got = list(refresh)
    assert [(type(ev).__name__, ev.kind, ev.name) for ev in got] == [
        ("StoragePoolRefreshEvent", "StoragePool.refresh", "default-pool")]
    assert [ev.event for ev in lifecycle] == [api.StoragePoolEventType.STOPPED]


def test_read_only_test_connections_are_refused_what_libvirt_refuses_them() -> None:
    """virCheckReadOnlyGoto's functions, on the test driver in-process: a read-only connection
    got screenshots, agent answers, domain capabilities, pool source discovery, set-time."""
    from pyvirt.client import connect

    ro = connect("test:///default", readonly=True)
    calls = {"virDomainScreenshot": lambda: ro.screenshot("test"),
             "virDomainGetTime": lambda: ro.get_time("test"),
             "virDomainSetTime": lambda: ro.set_time("test", 0),
             "virDomainGetHostname": lambda: ro.domain_hostname("test"),
             "virDomainGetFSInfo": lambda: ro.fs_info("test"),
             "virDomainInterfaceAddresses": lambda: ro.interface_addresses("test", "agent"),
             "virConnectGetDomainCapabilities": lambda: ro.get_domain_capabilities(),
             "virConnectFindStoragePoolSources": lambda: ro.find_pool_sources("logical"),
             "virDomainSendKey": lambda: ro.send_key("test", "linux", 0, [30])}
    for function, call in calls.items():
        with pytest.raises(PyvirtError, match=f"read only access prevents {function}$"):
            call()
    assert ro.interface_addresses("test", "lease")  # not the agent's: read-only may ask
    with pytest.raises(PyvirtError, match="^operation forbidden: virDomainGetXMLDesc with secure flag$"):
        ro.get_xml("test", security_info=True)
    assert "<domain" in ro.get_xml("test")
