"""pyvirt-dbus's /org/libvirt/QEMU backed by a real pyvirtd running the test guest under TCG.

One daemon, one service and one guest for the module: the guest is defined, started, read the
way Cockpit Machines reads it, suspended, resumed, shut down with the ACPI button and undefined,
all over D-Bus, while the signals Cockpit listens to are checked.
"""

from __future__ import annotations

import contextlib
import queue
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from dbus_fast import Message, Variant

from pyvirt.api import DefinedDetail, DomainState, EventType, StartedDetail, StoppedDetail
from pyvirt.client.remote import RemoteConnection
from pyvirt.testguest import READY_MARKER, TestGuest
from tests.daemon_harness import DaemonHarness, wait_console, wait_state
from tests.dbus.bus import (
    CONNECT,
    DOMAIN,
    QEMU,
    Client,
    DBusError,
    running_service,
    unwrap_params,
    wait_signal,
)

GUEST = "dbusguest"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, qemu_binary: str
          ) -> Iterator[tuple[DaemonHarness, Client]]:
    root = tmp_path_factory.mktemp("dbus-qemu")
    daemon = DaemonHarness(root / "state")
    (root / "state").mkdir()
    daemon.start()
    try:
        with running_service(root, daemon.root) as (_bus, service, client):
            client.service = service  # type: ignore[attr-defined]
            yield daemon, client
            assert service.alive(), service.log.read_text()[-3000:]
    finally:
        daemon.stop()
        daemon.kill_all_guests()


def test_guest_lifecycle_as_cockpit_drives_it(stack: tuple[DaemonHarness, Client], test_guest: TestGuest) -> None:
    daemon, client = stack
    conn = daemon.connect()
    with client.signals() as q:
        iso = daemon.root / "media.iso"
        iso.write_bytes(b"\0" * (1 << 20))
        cdrom = (f"<disk type='file' device='cdrom'><driver name='qemu' type='raw'/><source file='{iso}'/>"
                 "<target dev='hdc' bus='ide'/><readonly/></disk>")
        agent = "<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>"
        # a VNC display that listens nowhere (no port to race for): OpenGraphicsFD's clients only
        vnc = "<graphics type='vnc'><listen type='none'/></graphics><video><model type='vga'/></video>"
        xml = test_guest.domain_xml(GUEST, memory_mib=192, extra_devices=cdrom + agent + vnc)
        dom = client.one(QEMU, CONNECT, "DomainDefineXML", "s", xml.replace("<video><model type='none'/></video>", ""))
        wait_signal(q, "DomainEvent", lambda b: b == [dom, EventType.DEFINED, DefinedDetail.ADDED])
        assert conn.lookup_domain(GUEST).uuid == client.get(dom, DOMAIN, "UUID")  # pyvirtd has it
        assert dom in client.one(QEMU, CONNECT, "ListDomains", "u", 0)
        assert client.one(QEMU, CONNECT, "DomainLookupByName", "s", GUEST) == dom

        client.call(dom, DOMAIN, "Create", "u", 0)
        wait_signal(q, "DomainEvent", lambda b: b == [dom, EventType.STARTED, StartedDetail.BOOTED])
        props = client.get_all(dom, DOMAIN)
        assert props["Active"] is True and 0 < props["Id"] < 0xFFFFFFFF and props["Name"] == GUEST
        assert list(client.one(dom, DOMAIN, "GetState", "u", 0)) == [1, 1]  # running, booted
        assert f"<name>{GUEST}</name>" in client.one(dom, DOMAIN, "GetXMLDesc", "u", 0)
        stats = unwrap_params(client.one(dom, DOMAIN, "GetStats", "uu", 1 | 4 | 8 | 32, 0))  # Cockpit's groups
        assert stats["state.state"].value == 1 and stats["state.state"].signature == "i"
        assert stats["balloon.rss"].signature == "t" and stats["balloon.rss"].value > 1024  # Cockpit's Usage
        mem = client.one(QEMU, CONNECT, "NodeGetMemoryStats", "iu", -1, 0)
        assert mem["total"] > 0
        assert client.get(QEMU, CONNECT, "LibVersion") > 0
        assert "<domainCapabilities" in client.one(QEMU, CONNECT, "GetDomainCapabilities", "ssssu", "", "", "", "",
                                                   0)
        wait_console(conn, GUEST, READY_MARKER, timeout=120)
        stats = unwrap_params(client.one(dom, DOMAIN, "GetStats", "uu", 8, 0))  # the booted guest's vCPU has run
        assert stats["vcpu.0.time"].signature == "t" and stats["vcpu.0.time"].value > 0
        _guest_agent_over_dbus(client, q, dom)

        # hot-plug and unplug a disk: the Domain object's DeviceAdded / DeviceRemoved (Cockpit's
        # disk list follows them)
        image = daemon.root / "hotplug.raw"
        image.write_bytes(b"\0" * (1 << 20))
        disk = (f"<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='{image}'/>"
                "<target dev='vdb' bus='virtio'/></disk>")
        client.call(dom, DOMAIN, "AttachDevice", "su", disk, 1)  # VIR_DOMAIN_AFFECT_LIVE
        added = wait_signal(q, "DeviceAdded", lambda b: len(b) == 1 and b[0] != "", timeout=60)
        assert (added.path, added.interface) == (dom, DOMAIN)
        # block members: libvirt's KiB (bytes with VIR_DOMAIN_BLOCK_RESIZE_BYTES); no job to abort
        client.call(dom, DOMAIN, "BlockResize", "stu", "vdb", 2048, 0)
        assert image.stat().st_size == 2 << 20
        client.call(dom, DOMAIN, "BlockResize", "stu", "vdb", 3 << 20, 1)
        assert image.stat().st_size == 3 << 20
        _bytes_and_display_over_dbus(client, dom, image)
        for member, signature, args in (("BlockJobAbort", "su", ("vdb", 0)), ("AbortJob", "", ())):
            with pytest.raises(DBusError) as err:
                client.call(dom, DOMAIN, member, signature, *args)
            assert err.value.name == "org.libvirt.Error", (member, err.value)
        _block_jobs_over_dbus(client, q, dom, daemon.root)
        _tuning_over_dbus(client, dom)
        client.call(dom, DOMAIN, "DetachDevice", "su", disk, 1)
        removed = wait_signal(q, "DeviceRemoved", lambda b: b == added.body, timeout=60)
        assert removed.path == dom
        # eject the cdrom as Cockpit does (UpdateDevice without a source): TrayChange, opened (0)
        alias = re.search(r"<target dev='hdc'[^>]*/>.*?<alias name='([^']+)'/>",
                          client.one(dom, DOMAIN, "GetXMLDesc", "u", 0), re.S)
        assert alias, "the live cdrom has an alias"
        client.call(dom, DOMAIN, "UpdateDevice", "su", cdrom.replace(f"<source file='{iso}'/>", ""), 1)
        tray = wait_signal(q, "TrayChange", lambda b: b == [alias.group(1), 0], timeout=60)
        assert (tray.path, tray.interface) == (dom, DOMAIN)
        # migration tuning of the running guest, in libvirt's units (MiB/s, bytes, ms)
        client.call(dom, DOMAIN, "MigrateSetMaxSpeed", "tu", 64, 0)
        assert client.one(dom, DOMAIN, "MigrateGetMaxSpeed", "u", 0) == 64
        client.call(dom, DOMAIN, "MigrateSetCompressionCache", "tu", 32 << 20, 0)
        assert client.one(dom, DOMAIN, "MigrateGetCompressionCache", "u", 0) == 32 << 20
        client.call(dom, DOMAIN, "MigrateSetMaxDowntime", "tu", 400, 0)
        client.call(dom, DOMAIN, "SetMemoryStatsPeriod", "iu", 5, 1)  # VIR_DOMAIN_AFFECT_LIVE
        with pytest.raises(DBusError, match="unsupported flags"):
            client.call(dom, DOMAIN, "MigrateSetMaxDowntime", "tu", 400, 1)
        # MigrateToURI3: flags and a{sv} parameters reach pyvirtd's peer-to-peer migration, whose
        # checks answer (no destination needed); the guest stays here, running
        for params, flags, message in (
                ({}, 1, "not supported by the connection driver: virDomainMigrateToURI3"),  # no PEER2PEER
                ({}, 2 | 1 | 1024 | 8, "--offline and --live"),  # LIVE | OFFLINE | PERSIST_DEST
                ({}, 2 | 1024, "offline migration requires persistent flag"),
                ({"tls.destination": Variant("s", "host")}, 2 | 1, "--tls-destination needs --tls"),
                ({"bandwidth": Variant("i", 1)}, 2, "invalid type 'int' for parameter 'bandwidth'"),
                ({"graphics_uri": Variant("s", "spice://x")}, 2, "does not take parameter 'graphics_uri'"),
                ({}, 2 | 32, r"unsupported flags \(0x20\)"),  # PAUSED
                ({"migrate_uri": Variant("s", "tcp://127.0.0.1:1")}, 2 | 1, "cannot connect to the destination")):
            with pytest.raises(DBusError, match=message):
                client.call(dom, DOMAIN, "MigrateToURI3", "sa{sv}u", "qemu+tcp://127.0.0.1:1/system", params, flags)
        assert list(client.one(dom, DOMAIN, "GetState", "u", 0)) == [1, 1]
        client.call(dom, DOMAIN, "InjectNMI", "u", 0)  # the test guest's kernel logs it and runs on
        with pytest.raises(DBusError, match="not in suspended state"):  # QEMU's system_wakeup answers
            client.call(dom, DOMAIN, "PMWakeup", "u", 0)
        assert client.get(dom, DOMAIN, "Active") is True
        client.call(dom, DOMAIN, "Suspend")
        wait_signal(q, "DomainEvent", lambda b: b[:2] == [dom, EventType.SUSPENDED])
        assert client.one(dom, DOMAIN, "GetState", "u", 0)[0] == 3
        client.call(dom, DOMAIN, "Resume")
        wait_signal(q, "DomainEvent", lambda b: b[:2] == [dom, EventType.RESUMED])

        client.call(dom, DOMAIN, "Shutdown", "u", 0)  # the agent is connected: guest-shutdown, as libvirt
        _wait_powered_off(daemon, conn, q, dom)
        wait_state(conn, GUEST, 5)
        assert client.get(dom, DOMAIN, "Active") is False

        client.call(dom, DOMAIN, "Undefine", "u", 0)
        wait_signal(q, "DomainEvent", lambda b: b[:2] == [dom, EventType.UNDEFINED])
    with pytest.raises(DBusError) as err:
        client.call(dom, DOMAIN, "GetState", "u", 0)
    assert err.value.name == "org.libvirt.Error" and "no domain with matching uuid" in err.value.text


def _bytes_and_display_over_dbus(client: Client, dom: str, image: Path) -> None:
    """BlockPeek reads the raw disk's host file (by target or path, within its size), MemoryPeek
    guest-physical memory, OpenGraphicsFD a socket QEMU's VNC server took as a client (a real
    RFB handshake on it); the LXC-only members answer libvirt's QEMU driver's "not supported"."""
    import os
    import socket
    import struct

    with open(image, "r+b") as handle:
        os.pwrite(handle.fileno(), b"pyvirt-peek", 4096)
    assert client.one(dom, DOMAIN, "BlockPeek", "sttu", "vdb", 4096, 11, 0) == b"pyvirt-peek"
    assert client.one(dom, DOMAIN, "BlockPeek", "sttu", str(image), 4090, 8, 0) == b"\0" * 6 + b"py"
    for args, message in ((("vdb", (3 << 20) - 4, 8, 0), f"'vdb' starting from {(3 << 20) - 4} has only 4 bytes"),
                          (("vdz", 0, 1, 0), "disk 'vdz' not found in domain"),
                          (("vdb", 0, (4 << 20) + 1, 0), "block peek request too large for remote protocol"),
                          (("vdb", 0, 1, 1), r"unsupported flags \(0x1\)")):
        with pytest.raises(DBusError, match=message):
            client.call(dom, DOMAIN, "BlockPeek", "sttu", *args)
    assert len(client.one(dom, DOMAIN, "MemoryPeek", "ttu", 0x100000, 4096, 2)) == 4096  # VIR_MEMORY_PHYSICAL

    body, fds = client.call_fds(dom, DOMAIN, "OpenGraphicsFD", "uu", 0, 0)
    assert body == [0] and len(fds) == 1
    with socket.socket(fileno=fds[0]) as vnc:
        vnc.settimeout(60)

        def read(count: int) -> bytes:
            data = b""
            while len(data) < count:
                piece = vnc.recv(count - len(data))
                assert piece, f"VNC server closed after {data!r}"
                data += piece
            return data

        assert read(12) == b"RFB 003.008\n"
        vnc.sendall(b"RFB 003.008\n")
        types = read(read(1)[0])
        assert 1 in types, types  # security type None: the display has no password
        vnc.sendall(b"\x01")
        assert read(4) == b"\0\0\0\0"  # SecurityResult OK
        vnc.sendall(b"\x01")  # ClientInit, shared
        width, height = struct.unpack(">HH", read(4))
        assert width > 0 and height > 0
    for args, message in (((1, 0), "No graphics backend with index 1"), ((0, 2), r"unsupported flags \(0x2\)")):
        with pytest.raises(DBusError, match=message):
            client.call(dom, DOMAIN, "OpenGraphicsFD", "uu", *args)
    for path, member, sig, args in ((dom, "SendProcessSignal", "xuu", (1, 0, 0)),
                                    (dom, "CreateWithFiles", "ahu", ([], 0)),
                                    (QEMU, "DomainCreateXMLWithFiles", "sahu", ("<domain/>", [], 0))):
        function = "virDomainCreateXMLWithFiles" if path == QEMU else f"virDomain{member}"
        with pytest.raises(DBusError, match=f"not supported by the connection driver: {function}$"):
            client.call(path, CONNECT if path == QEMU else DOMAIN, member, sig, *args)


def _tuning_over_dbus(client: Client, dom: str) -> None:
    """The tuning and pinning members on the running guest: a vCPU pin (live) reads back as a
    cpumap as wide as NodeGetCPUMap, an IOThread comes and goes, typed parameters carry libvirt's
    types, a --config memory limit lands in the inactive definition only (and is taken back: a
    session daemon has no cgroups to start a guest with it)."""
    width = len(client.one(QEMU, CONNECT, "NodeGetCPUMap", "u", 0))
    assert [len(m) for m in client.one(dom, DOMAIN, "GetVcpuPinInfo", "u", 1)] == [width]
    first = [n == 0 for n in range(width)]
    with client.signals() as q:
        client.call(dom, DOMAIN, "PinVcpu", "uabu", 0, first, 1)  # VIR_DOMAIN_AFFECT_LIVE
        msg = wait_signal(q, "Tunable", lambda b: b == [{"cputune.vcpupin0": Variant("v", Variant("s", "0"))}])
        assert (msg.path, msg.signature) == (dom, "a{sv}")
    assert client.one(dom, DOMAIN, "GetVcpuPinInfo", "u", 1) == [first]
    assert "<vcpupin vcpu='0' cpuset='0'/>" in client.one(dom, DOMAIN, "GetXMLDesc", "u", 0)
    client.call(dom, DOMAIN, "AddIOThread", "uu", 2, 1)
    assert [t[0] for t in client.one(dom, DOMAIN, "GetIOThreadInfo", "u", 1)] == [2]
    client.call(dom, DOMAIN, "DelIOThread", "uu", 2, 1)
    assert client.one(dom, DOMAIN, "GetIOThreadInfo", "u", 1) == []
    client.call(dom, DOMAIN, "SetMemoryParameters", "a{sv}u", {"hard_limit": Variant("t", 1 << 20)}, 2)
    assert unwrap_params(client.one(dom, DOMAIN, "GetMemoryParameters", "u", 2))["hard_limit"] == Variant("t", 1 << 20)
    assert unwrap_params(client.one(dom, DOMAIN, "GetMemoryParameters", "u", 1))["hard_limit"] == Variant("t", 9007199254740991)
    client.call(dom, DOMAIN, "SetMemoryParameters", "a{sv}u", {"hard_limit": Variant("t", 9007199254740991)}, 2)
    assert "memtune" not in client.one(dom, DOMAIN, "GetXMLDesc", "u", 2)
    assert list(client.get(dom, DOMAIN, "SchedulerType")) == ["posix", 3]
    assert unwrap_params(client.one(dom, DOMAIN, "GetSchedulerParameters", "u", 0))["cpu_shares"].signature == "t"
    assert unwrap_params(client.one(dom, DOMAIN, "GetPerfEvents", "u", 0))["cmt"] == Variant("b", False)
    with pytest.raises(DBusError, match="blkio cgroup isn't mounted"):  # a session guest has no blkio cgroup
        client.call(dom, DOMAIN, "GetBlockIOParameters", "u", 0)
    assert unwrap_params(client.one(dom, DOMAIN, "GetBlockIOParameters", "u", 2))["weight"] == Variant("u", 0)


def _guest_agent_over_dbus(client: Client, q: queue.SimpleQueue[Message], dom: str) -> None:
    """qemu-ga in the guest: the Domain object's AgentEvent (connected, channel event), then the
    agent's members with libvirt's shapes."""
    event = wait_signal(q, "AgentEvent", lambda b: b == [1, 2], timeout=120)
    assert (event.path, event.interface) == (dom, DOMAIN)
    assert client.one(dom, DOMAIN, "GetHostname", "u", 0) == "pyvirt-guest"
    assert client.one(dom, DOMAIN, "GetHostname", "u", 2) == "pyvirt-guest"  # VIR_DOMAIN_GET_HOSTNAME_AGENT
    vcpus = unwrap_params(client.one(dom, DOMAIN, "GetGuestVcpus", "u", 0))
    assert {k: v.value for k, v in vcpus.items()} == {"vcpus": "0", "online": "0", "offlinable": ""}
    assert client.one(dom, DOMAIN, "GetVcpus", "u", 8) == 1  # VIR_DOMAIN_VCPU_GUEST
    seconds, _ns = client.one(dom, DOMAIN, "GetTime", "u", 0)
    assert abs(seconds - time.time()) < 300
    assert isinstance(client.one(dom, DOMAIN, "GetFSInfo", "u", 0), list)  # the initramfs: no block filesystems
    names = [i[0] for i in client.one(dom, DOMAIN, "InterfaceAddresses", "uu", 1, 0)]  # source: agent
    assert "lo" in names
    client.call(dom, DOMAIN, "SetUserPassword", "ssu", "root", "pw", 0)


def _wait_powered_off(daemon: DaemonHarness, conn: RemoteConnection, q: queue.SimpleQueue[Message],
                      dom: str) -> None:
    """STOPPED/SHUTDOWN after Shutdown; when it does not come, the failure carries the guest's
    state and console tail, which tell a request the guest never acted on from a poweroff
    pyvirtd did not report, and pyvirtd's log lines about the guest (the agent's answer or its
    fallback to the ACPI button)."""
    try:
        wait_signal(q, "DomainEvent", lambda b: b == [dom, EventType.STOPPED, StoppedDetail.SHUTDOWN],
                    timeout=120)
    except AssertionError as exc:
        state = conn.get_state(GUEST)
        console = b""
        if state[0] != DomainState.SHUTOFF:
            with contextlib.suppress(Exception), conn.open_console(GUEST, history=True) as stream:
                console = stream.read(65536, timeout=5)
        log = [line for line in daemon.log_text().splitlines() if GUEST in line or "agent" in line][-15:]
        raise AssertionError(f"{exc}; state {state}; console tail {console[-1500:]!r}; pyvirtd log {log}") from exc


def _block_jobs_over_dbus(client: Client, q: queue.SimpleQueue[Message], dom: str, folder: Path) -> None:
    """BlockCommit (active, pivoted), BlockCopy (a{sv} bandwidth in bytes/s, pivoted) and
    GetBlockJobInfo (MiB/s or bytes/s by flag) on a qcow2 overlay hot-plugged as vdc; the job
    members' typed-parameter checks; GetJobStats/GetJobInfo of a guest with no job."""
    from pyvirt.storage import qemuimg

    base, top, copy_to = folder / "jobs-base.raw", folder / "jobs-top.qcow2", folder / "jobs-copy.qcow2"
    mid = folder / "jobs-mid.qcow2"
    base.write_bytes(b"\0" * (4 << 20))
    qemuimg.create(str(mid), "qcow2", None, backing=str(base), backing_fmt="raw")
    qemuimg.create(str(top), "qcow2", None, backing=str(mid), backing_fmt="qcow2")
    disk = (f"<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='{top}'/>"
            "<target dev='vdc' bus='virtio'/></disk>")
    client.call(dom, DOMAIN, "AttachDevice", "su", disk, 1)
    added = wait_signal(q, "DeviceAdded", lambda b: len(b) == 1 and b[0] != "", timeout=60)
    assert list(client.one(dom, DOMAIN, "GetBlockJobInfo", "su", "vdc", 0)) == [0, 0, 0, 0]  # no job
    assert list(client.one(dom, DOMAIN, "GetJobStats", "u", 0)) == [0, {}]  # VIR_DOMAIN_JOB_NONE
    assert list(client.one(dom, DOMAIN, "GetJobInfo")) == [0] * 12
    assert client.one(dom, DOMAIN, "GetIOThreadInfo", "u", 0) == []  # the test guest has no IOThreads
    for args, message in (((top.name, "", 0, 4), "base"), (("", "", 0, 1), r"unsupported flags \(0x1\)")):
        with pytest.raises(DBusError, match=message):
            client.call(dom, DOMAIN, "BlockCommit", "ssstu", "vdc", *args)
    # BlockRebase without COPY: a partial pull down to mid (top keeps mid as its backing file)
    client.call(dom, DOMAIN, "BlockRebase", "sstu", "vdc", str(mid), 0, 0)
    wait_signal(q, "BlockJob", lambda b: b == ["vdc", 1, 0], timeout=120)  # pull completed
    assert qemuimg.info(str(top), "qcow2")["backing-filename"] == str(mid)
    # COPY | SHALLOW: only the top image is copied, into a qcow2 that shares the disk's chain (mid)
    shallow_to = folder / "jobs-shallow.qcow2"
    with pytest.raises(DBusError, match="the destination format must be qcow2, not raw"):
        client.call(dom, DOMAIN, "BlockRebase", "sstu", "vdc", str(shallow_to), 0, 8 | 4 | 1)  # COPY_RAW too
    assert not shallow_to.exists()
    client.call(dom, DOMAIN, "BlockRebase", "sstu", "vdc", str(shallow_to), 0, 8 | 1)
    wait_signal(q, "BlockJob", lambda b: b == ["vdc", 2, 3], timeout=120)  # copy ready
    assert qemuimg.info(str(shallow_to), "qcow2")["backing-filename"] == str(mid)
    client.call(dom, DOMAIN, "BlockJobAbort", "su", "vdc", 0)  # cancelled: the disk stays on top
    assert f"<source file='{top}'" in client.one(dom, DOMAIN, "GetXMLDesc", "u", 0)

    # active commit (flag 4), 1 MiB/s (MiB/s: no BANDWIDTH_BYTES flag), ready, re-limited, pivoted
    client.call(dom, DOMAIN, "BlockCommit", "ssstu", "vdc", "", "", 1, 4)
    wait_signal(q, "BlockJob", lambda b: b == ["vdc", 4, 3], timeout=120)  # active commit ready
    kind, mib, cur, end = client.one(dom, DOMAIN, "GetBlockJobInfo", "su", "vdc", 0)
    assert (kind, mib) == (4, 1) and cur == end  # in sync (the overlay holds no data: 0 of 0)
    client.call(dom, DOMAIN, "BlockJobSetSpeed", "stu", "vdc", 3 << 20, 1)  # bytes/s
    assert client.one(dom, DOMAIN, "GetBlockJobInfo", "su", "vdc", 1)[1] == 3 << 20
    assert client.one(dom, DOMAIN, "GetBlockJobInfo", "su", "vdc", 0)[1] == 3
    client.call(dom, DOMAIN, "BlockJobAbort", "su", "vdc", 2)  # VIR_DOMAIN_BLOCK_JOB_ABORT_PIVOT
    assert f"<source file='{base}'" in client.one(dom, DOMAIN, "GetXMLDesc", "u", 0)

    # copy into a new qcow2: bandwidth is bytes/s in virDomainBlockCopy's typed parameters
    dest = f"<disk type='file'><source file='{copy_to}'/><driver type='qcow2'/></disk>"
    for params, xml, message in (({"bandwidth": Variant("u", 1)}, dest, "invalid type 'uint' for parameter"),
                                 ({"speed": Variant("t", 1)}, dest, "parameter 'speed' not supported"),
                                 ({}, dest.replace("'file'", "'block'", 1), "destination disk type 'block'"),
                                 # libxml2's words, as virxml.c reports malformed XML since 28bd664
                                 ({}, "<disk", "Couldn't find end of Start Tag disk line 1")):
        with pytest.raises(DBusError, match=message):
            client.call(dom, DOMAIN, "BlockCopy", "ssa{sv}u", "vdc", xml, params, 0)
        assert not copy_to.exists()
    client.call(dom, DOMAIN, "BlockCopy", "ssa{sv}u", "vdc", dest, {"bandwidth": Variant("t", 64 << 20)}, 0)
    wait_signal(q, "BlockJob", lambda b: b == ["vdc", 2, 3], timeout=120)  # copy ready
    assert list(client.one(dom, DOMAIN, "GetBlockJobInfo", "su", "vdc", 1))[:2] == [2, 64 << 20]
    client.call(dom, DOMAIN, "BlockJobAbort", "su", "vdc", 2)
    assert f"<source file='{copy_to}'" in client.one(dom, DOMAIN, "GetXMLDesc", "u", 0)
    assert qemuimg.info(str(copy_to), "qcow2")["virtual-size"] == 4 << 20  # a qcow2 of the disk's size
    assert list(client.one(dom, DOMAIN, "GetBlockJobInfo", "su", "vdc", 0)) == [0, 0, 0, 0]  # ended

    # BlockRebase: COPY (+COPY_RAW) is a block copy into the file named as base, cancelled here;
    # without COPY a pull of the whole chain; what pyvirt cannot do is refused by name
    rebase_to = folder / "jobs-rebase.raw"
    for args, message in ((("", 0, 8 | 16), "Relative backing during copy not supported yet"),
                          ((str(base), 0, 0), "could not find image '.*jobs-base.raw' beneath"),
                          ((str(base), 0, 16), "relative backing name"),
                          (("", 0, 16), "RELATIVE is valid only with non-null base")):
        with pytest.raises(DBusError, match=message):
            client.call(dom, DOMAIN, "BlockRebase", "sstu", "vdc", *args)
    client.call(dom, DOMAIN, "BlockRebase", "sstu", "vdc", str(rebase_to), 1, 8 | 4)  # COPY | COPY_RAW, 1 MiB/s
    wait_signal(q, "BlockJob", lambda b: b == ["vdc", 2, 3], timeout=120)
    assert list(client.one(dom, DOMAIN, "GetBlockJobInfo", "su", "vdc", 0))[:2] == [2, 1]
    assert rebase_to.stat().st_size == 4 << 20  # a raw file of the disk's size
    client.call(dom, DOMAIN, "BlockJobAbort", "su", "vdc", 0)  # cancel: the disk stays on its copy
    assert f"<source file='{copy_to}'" in client.one(dom, DOMAIN, "GetXMLDesc", "u", 0)
    client.call(dom, DOMAIN, "BlockRebase", "sstu", "vdc", "", 64 << 20, 64)  # a pull, BANDWIDTH_BYTES
    wait_signal(q, "BlockJob", lambda b: b == ["vdc", 1, 0], timeout=120)  # pull completed
    client.call(dom, DOMAIN, "DetachDevice", "su", disk.replace(str(top), str(copy_to)), 1)
    wait_signal(q, "DeviceRemoved", lambda b: b == added.body, timeout=60)


def test_storage_as_cockpit_reads_it(stack: tuple[DaemonHarness, Client], tmp_path: Path) -> None:
    _daemon, client = stack
    pool_dir = tmp_path / "pool"
    pool_dir.mkdir()
    with client.signals() as q:
        pool = client.one(QEMU, CONNECT, "StoragePoolDefineXML", "su",
                          f"<pool type='dir'><name>dbuspool</name><target><path>{pool_dir}</path></target></pool>", 0)
        wait_signal(q, "StoragePoolEvent", lambda b: b[:2] == [pool, 0])
        client.call(pool, "org.libvirt.StoragePool", "Create", "u", 0)
        wait_signal(q, "StoragePoolEvent", lambda b: b[:2] == [pool, 2])
    assert pool in client.one(QEMU, CONNECT, "ListStoragePools", "u", 0)
    props = client.get_all(pool, "org.libvirt.StoragePool")
    assert props["Name"] == "dbuspool" and props["Active"] is True
    with client.signals() as q:
        client.call(pool, "org.libvirt.StoragePool", "Refresh", "u", 0)
        assert wait_signal(q, "Refresh", lambda b: b == []).path == pool
    vol = client.one(pool, "org.libvirt.StoragePool", "StorageVolCreateXML", "su",
                     "<volume><name>v1.qcow2</name><capacity unit='M'>8</capacity>"
                     "<target><format type='qcow2'/></target></volume>", 0)
    assert client.one(pool, "org.libvirt.StoragePool", "ListStorageVolumes", "u", 0) == [vol]
    path = client.get(vol, "org.libvirt.StorageVol", "Path")
    assert path == str(pool_dir / "v1.qcow2") and (pool_dir / "v1.qcow2").exists()
    assert client.one(QEMU, CONNECT, "StorageVolLookupByPath", "s", path) == vol
    assert "<format type='qcow2'/>" in client.one(vol, "org.libvirt.StorageVol", "GetXMLDesc", "u", 0)
    client.call(vol, "org.libvirt.StorageVol", "Delete", "u", 0)
    assert not (pool_dir / "v1.qcow2").exists()
    client.call(pool, "org.libvirt.StoragePool", "Destroy")
    client.call(pool, "org.libvirt.StoragePool", "Undefine")
    assert pool not in client.one(QEMU, CONNECT, "ListStoragePools", "u", 0)
    assert isinstance(client.one(QEMU, CONNECT, "ListNetworks", "u", 0), list)


SECRET = "org.libvirt.Secret"


def test_secrets_over_dbus(stack: tuple[DaemonHarness, Client]) -> None:
    """The Secret interface and Connect's secret members on pyvirtd: define, properties, values
    (bytes both ways, private refused), list filters, lookups, SecretEvent, undefine."""
    daemon, client = stack
    uuid = "5ec7e700-0000-4000-8000-00000000d805"
    with client.signals() as q:
        sec = client.one(QEMU, CONNECT, "SecretDefineXML", "su",
                         f"<secret ephemeral='yes'><uuid>{uuid}</uuid><usage type='iscsi'><target>iqn.x</target>"
                         "</usage></secret>", 0)
        wait_signal(q, "SecretEvent", lambda b: b == [sec, 0, 0])  # VIR_SECRET_EVENT_DEFINED
    assert sec == f"{QEMU}/secret/_{uuid.replace('-', '_')}"
    assert client.get_all(sec, SECRET) == {"UUID": uuid, "UsageID": "iqn.x", "UsageType": 3}  # ISCSI
    assert client.one(QEMU, CONNECT, "SecretLookupByUUID", "s", uuid.upper()) == sec
    assert client.one(QEMU, CONNECT, "SecretLookupByUsage", "is", 3, "iqn.x") == sec
    with pytest.raises(DBusError, match="no secret with matching usage 'iqn.x'"):
        client.call(QEMU, CONNECT, "SecretLookupByUsage", "is", 2, "iqn.x")
    client.call(sec, SECRET, "SetValue", "ayu", b"\x00pass\xff", 0)
    assert client.one(sec, SECRET, "GetValue", "u", 0) == b"\x00pass\xff"
    assert f"<uuid>{uuid}</uuid>" in client.one(sec, SECRET, "GetXMLDesc", "u", 0)
    assert sec in client.one(QEMU, CONNECT, "ListSecrets", "u", 1)        # EPHEMERAL
    assert sec not in client.one(QEMU, CONNECT, "ListSecrets", "u", 2)    # NO_EPHEMERAL
    assert sec in client.one(QEMU, CONNECT, "ListSecrets", "u", 8)        # NO_PRIVATE
    with pytest.raises(DBusError, match="unsupported flags"):
        client.call(QEMU, CONNECT, "ListSecrets", "u", 16)
    client.one(QEMU, CONNECT, "SecretDefineXML", "su",
               f"<secret ephemeral='yes' private='yes'><uuid>{uuid}</uuid><usage type='iscsi'><target>iqn.x</target>"
               "</usage></secret>", 0)
    with pytest.raises(DBusError, match="secret is private"):
        client.call(sec, SECRET, "GetValue", "u", 0)
    assert not list((daemon.root / "config" / "secrets").iterdir())  # ephemeral: never on disk
    with client.signals() as q:
        client.call(sec, SECRET, "Undefine")
        wait_signal(q, "SecretEvent", lambda b: b == [sec, 1, 0])  # VIR_SECRET_EVENT_UNDEFINED
    assert client.one(QEMU, CONNECT, "ListSecrets", "u", 0) == []
    with pytest.raises(DBusError, match="no secret with matching uuid"):
        client.get(sec, SECRET, "UsageID")


def test_cpu_baseline_and_compare_over_dbus(stack: tuple[DaemonHarness, Client]) -> None:
    """BaselineCPU and CompareCPU on pyvirtd: virCPUCompareResult numbers (INCOMPATIBLE 0,
    SUPERSET 2), FAIL_INCOMPATIBLE (1) as libvirt's error naming what is missing."""
    _, client = stack
    cpus = ["<cpu><arch>x86_64</arch><model>Penryn</model></cpu>", "<cpu><arch>x86_64</arch><model>Nehalem</model></cpu>"]
    assert "<model fallback='allow'>Penryn</model>" in client.one(QEMU, CONNECT, "BaselineCPU", "asu", cpus, 0)
    # no model: whatever the host's CPU, it has more than nothing
    assert client.one(QEMU, CONNECT, "CompareCPU", "su", "<cpu mode='host-model'/>", 0) == 2
    impossible = "<cpu><model>qemu64</model><feature name='nosuchfeature'/></cpu>"
    with pytest.raises(DBusError, match="Unknown CPU feature nosuchfeature"):
        client.call(QEMU, CONNECT, "CompareCPU", "su", impossible, 0)
    forbid = "<cpu><model>qemu64</model><feature policy='forbid' name='sse2'/></cpu>"
    assert client.one(QEMU, CONNECT, "CompareCPU", "su", forbid, 0) == 0
    with pytest.raises(DBusError, match="Host CPU provides forbidden features: sse2"):
        client.call(QEMU, CONNECT, "CompareCPU", "su", forbid, 1)


def _files(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in root.rglob("*")
            if p.is_file() and p.suffix == ".xml"}


def test_bad_input_leaves_pyvirtd_state_alone(stack: tuple[DaemonHarness, Client]) -> None:
    daemon, client = stack
    before_files = _files(daemon.root)
    before = client.one(QEMU, CONNECT, "ListDomains", "u", 0)
    for xml in ("<domain type='qemu'><name>bad", "<domain type='qemu'><name>x</name></domain>",
                "<domain type='qemu'><name>../../etc</name><memory>1</memory></domain>",
                "<domain type='qemu'><name>" + "z" * (4 << 20) + "</name></domain>"):
        with pytest.raises(DBusError) as err:
            client.call(QEMU, CONNECT, "DomainDefineXML", "s", xml)
        assert err.value.name == "org.libvirt.Error"
    with pytest.raises(DBusError) as err:
        client.call(QEMU, CONNECT, "DomainCreateXML", "su", "<domain/>", 0x8000)
    assert "unsupported flags (0x8000)" in err.value.text
    assert client.one(QEMU, CONNECT, "ListDomains", "u", 0) == before
    assert _files(daemon.root) == before_files
    assert client.service.alive()  # type: ignore[attr-defined]


def test_signals_resume_after_pyvirtd_restarts(stack: tuple[DaemonHarness, Client], test_guest: TestGuest) -> None:
    """pyvirtd going away ends the service's event stream; it subscribes again, and calls and
    signals work against the new daemon."""
    daemon, client = stack
    client.one(QEMU, CONNECT, "ListDomains", "u", 0)  # connected: the service's event stream is open
    with daemon.new_subscriptions(1):  # and opened again on the new daemon
        daemon.stop()
        daemon.start()
    with client.signals() as q:
        deadline = time.monotonic() + 30
        while True:  # the first call after the restart may still meet the old connection
            try:
                dom = client.one(QEMU, CONNECT, "DomainDefineXML", "s", test_guest.domain_xml("again"))
                break
            except DBusError:
                assert time.monotonic() < deadline
                time.sleep(0.5)
        client.call(dom, DOMAIN, "Undefine", "u", 0)  # seen: the subscription was renewed above
        wait_signal(q, "DomainEvent", lambda b: b[:2] == [dom, EventType.UNDEFINED])


def test_host_interfaces_and_node_devices(stack: tuple[DaemonHarness, Client]) -> None:
    """What Cockpit's host device and direct-attachment pickers read: the host's own."""
    _daemon, client = stack
    ifaces = client.one(QEMU, CONNECT, "ListInterfaces", "u", 0)
    names = {client.get(p, "org.libvirt.Interface", "Name"): p for p in ifaces}
    assert set(names) == {p.name for p in Path("/sys/class/net").iterdir()}
    lo = names["lo"]
    assert lo == client.one(QEMU, CONNECT, "InterfaceLookupByName", "s", "lo")
    props = client.get_all(lo, "org.libvirt.Interface")
    assert props["MAC"] == (Path("/sys/class/net/lo/address").read_text().strip())
    assert "name='lo'" in client.one(lo, "org.libvirt.Interface", "GetXMLDesc", "u", 0)
    devs = client.one(QEMU, CONNECT, "ListNodeDevices", "u", 0)
    assert f"{QEMU}/nodedev/computer" in devs
    hbas = [d for d in devs if "fc_host" in client.one(d, "org.libvirt.NodeDevice", "ListCaps")]
    if not hbas:  # no FC HBA on this host (the lookup itself: tests/unit/test_hostdevs_scsi_host.py)
        with pytest.raises(DBusError, match="no node device with matching wwnn '2000000012341234' and wwpn"):
            client.call(QEMU, CONNECT, "NodeDeviceLookupSCSIHostByWWN", "ssu", "2000000012341234", "1000000012341234", 0)
    pci = client.one(QEMU, CONNECT, "ListNodeDevices", "u", 2)  # VIR_CONNECT_LIST_NODE_DEVICES_CAP_PCI_DEV
    assert len(pci) == len(list(Path("/sys/bus/pci/devices").iterdir()))
    if pci:
        assert client.one(pci[0], "org.libvirt.NodeDevice", "ListCaps") == ["pci"]
        assert "<capability type='pci'>" in client.one(pci[0], "org.libvirt.NodeDevice", "GetXMLDesc", "u", 0)
        assert client.get(pci[0], "org.libvirt.NodeDevice", "Parent")
