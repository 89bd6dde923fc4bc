"""Storage through pyvirtd end to end: pools and volumes over the HTTP API and through the CLI,
streamed upload/download of a 1 GiB sparse volume with flat memory on both sides, the test guest
booting from a pool volume, in-use refusals, undefine --remove-all-storage, missing disks."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pyvirt.api import DomainState, ErrorCode, PyvirtError
from pyvirt.testguest import ROOT_MARKER, TestGuest
from tests.daemon_harness import URI, DaemonHarness, guest_xml, wait_console

pytestmark = pytest.mark.timeout(300)
GiB = 1 << 30



def cli(daemon: DaemonHarness, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pyvirt.cli.main", "-c", URI, *args], capture_output=True,
                          text=True, env=daemon.env(), timeout=120)


def dir_pool_xml(name: str, path: Path) -> str:
    return f"<pool type='dir'><name>{name}</name><target><path>{path}</path></target></pool>"


def _status(pid: int | str, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


def _reset_peak(pid: int | str) -> None:
    """Reset VmHWM to the current RSS (Linux clear_refs 5), so the peak measures only what follows."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def test_pools_and_volumes_api(daemon: DaemonHarness, tmp_path: Path) -> None:
    conn = daemon.connect()
    pools = {p.name: p for p in conn.list_pools()}
    assert pools["default"].active and pools["default"].autostart  # created on first use
    assert pools["default"].path == str(daemon.root / "data" / "images")

    conn.define_pool(dir_pool_xml("p1", tmp_path / "p1"))
    assert not conn.lookup_pool("p1").active
    conn.build_pool("p1")
    info = conn.start_pool("p1")
    assert info.active and (tmp_path / "p1").is_dir()
    assert conn.lookup_pool(info.uuid).name == "p1"

    q = conn.create_volume("p1", "a.qcow2", "1G", format="qcow2")
    r = conn.create_volume("p1", "b.raw", 64 << 20)
    assert (q.format, q.capacity) == ("qcow2", GiB)
    assert (r.format, r.capacity) == ("raw", 64 << 20)
    assert [v.name for v in conn.list_volumes("p1")] == ["a.qcow2", "b.raw"]
    assert conn.lookup_volume_by_path(str(tmp_path / "p1" / "b.raw")).name == "b.raw"
    assert "<format type='qcow2'/>" in conn.get_volume_xml("p1", "a.qcow2")

    over = conn.clone_volume("p1", "a.qcow2", "c.qcow2", overlay=True)
    assert over.backing == str(tmp_path / "p1" / "a.qcow2")
    assert conn.resize_volume("p1", "b.raw", 128 << 20).capacity == 128 << 20
    with pytest.raises(PyvirtError):
        conn.resize_volume("p1", "b.raw", 1 << 20)  # shrinking needs shrink=True
    conn.delete_volume("p1", "c.qcow2")

    with pytest.raises(PyvirtError) as err:
        conn.undefine_pool("p1")
    assert err.value.code == ErrorCode.OPERATION_INVALID
    with pytest.raises(PyvirtError) as err:
        conn.lookup_pool("nope")
    assert err.value.code == ErrorCode.NO_STORAGE_POOL
    with pytest.raises(PyvirtError) as err:
        conn.lookup_volume("p1", "nope")
    assert err.value.code == ErrorCode.NO_STORAGE_VOL

    # transient pool: gone once destroyed
    conn.create_pool(dir_pool_xml("tp", tmp_path / "tp"), build=True)
    assert conn.lookup_pool("tp").persistent is False
    conn.destroy_pool("tp")
    assert "tp" not in {p.name for p in conn.list_pools()}

    # autostart survives a daemon restart; the pool comes back active.  A transient pool
    # survives it too, still transient (it lives in the runtime dir)
    conn.create_pool(dir_pool_xml("tp2", tmp_path / "tp2"), build=True)
    conn.set_pool_autostart("p1", True)
    conn.destroy_pool("p1")
    daemon.stop()
    daemon.start()
    conn = daemon.connect()
    assert conn.lookup_pool("p1").active
    tp2 = conn.lookup_pool("tp2")
    assert tp2.active and tp2.persistent is False
    with pytest.raises(PyvirtError, match="^internal error: pool has no config file$"):
        conn.set_pool_autostart("tp2", True)
    conn.destroy_pool("tp2")
    assert "tp2" not in {p.name for p in conn.list_pools()}
    assert [v.name for v in conn.list_volumes("p1")] == ["a.qcow2", "b.raw"]


def test_upload_download_1gib_flat_memory(daemon: DaemonHarness, tmp_path: Path) -> None:
    conn = daemon.connect()
    conn.create_volume("default", "big.img", GiB)
    src = tmp_path / "src.img"
    with open(src, "wb") as fh:  # sparse, with data at the start, the middle and the end
        fh.truncate(GiB)
        for at in (0, GiB // 2 + 12345, GiB - 4096):
            fh.seek(at)
            fh.write(os.urandom(4096))
    dpid = daemon.proc.pid  # type: ignore[union-attr]
    figures = {}
    for what in ("upload", "download"):
        _reset_peak("self")
        _reset_peak(dpid)
        client0, daemon0 = _status("self", "VmRSS"), _status(dpid, "VmRSS")
        started = time.monotonic()
        if what == "upload":
            with open(src, "rb") as fh:
                assert conn.upload_volume("default", "big.img", fh) == GiB
        else:
            with open(tmp_path / "back.img", "wb") as fh:
                assert conn.download_volume("default", "big.img", fh) == GiB
        seconds = time.monotonic() - started
        client_peak = _status("self", "VmHWM") - client0
        daemon_peak = _status(dpid, "VmHWM") - daemon0
        figures[what] = (seconds, client_peak, daemon_peak)
        print(f"{what} 1 GiB: {seconds:.2f}s, client peak +{client_peak} KiB, daemon peak +{daemon_peak} KiB")
        assert client_peak < 64 << 10, figures
        assert daemon_peak < 64 << 10, figures
    vol = conn.lookup_volume("default", "big.img")
    assert os.stat(vol.path).st_blocks * 512 < 64 << 20  # holes stayed holes
    assert os.stat(tmp_path / "back.img").st_blocks * 512 < 64 << 20
    assert _digest(tmp_path / "back.img") == _digest(src)


def test_sparse_upload_sends_holes_as_lengths(daemon: DaemonHarness, tmp_path: Path) -> None:
    """A sparse source goes as data frames + hole lengths; holes read back as zeros, also when
    patching over old data at an offset (where skipping them would let the old bytes show)."""
    conn = daemon.connect()
    conn.create_volume("default", "sp.raw", 4 << 20)
    full = tmp_path / "full.img"
    full.write_bytes(b"\xff" * (4 << 20))
    with open(full, "rb") as fh:
        conn.upload_volume("default", "sp.raw", fh)
    src = tmp_path / "sparse.img"
    with open(src, "wb") as fh:
        fh.truncate(2 << 20)
        fh.seek(1 << 20)
        fh.write(b"\xab" * 4096)
    with open(src, "rb") as fh:
        assert conn.upload_volume("default", "sp.raw", fh, offset=1 << 20, length=2 << 20) == 2 << 20
    path = conn.lookup_volume("default", "sp.raw").path
    data = Path(path).read_bytes()
    assert data[: 1 << 20] == b"\xff" * (1 << 20)  # before the patch: untouched
    assert data[1 << 20:2 << 20] == bytes(1 << 20)  # the patch's leading hole: zeros now
    assert data[2 << 20:(2 << 20) + 4096] == b"\xab" * 4096
    assert data[(2 << 20) + 4096:3 << 20] == bytes((1 << 20) - 4096)
    assert data[3 << 20:] == b"\xff" * (1 << 20)
    with open(src, "rb") as fh:  # whole-volume replace: sized to the source, holes stay holes
        conn.upload_volume("default", "sp.raw", fh)
    assert os.path.getsize(path) == 2 << 20 and os.stat(path).st_blocks * 512 <= 64 << 10
    assert Path(path).read_bytes() == src.read_bytes()


def _volume_guest_xml(guest: TestGuest, name: str, pool: str, vol: str) -> str:
    disk = (f"<disk type='volume' device='disk'><driver name='qemu' type='qcow2'/>"
            f"<source pool='{pool}' volume='{vol}'/><target dev='vda' bus='virtio'/></disk>")
    xml = guest_xml(guest, name, extra_devices=disk)
    return xml.replace(f"<cmdline>{guest.cmdline}</cmdline>", f"<cmdline>{guest.disk_cmdline}</cmdline>")


def test_guest_boots_from_pool_volume(daemon: DaemonHarness, test_guest: TestGuest, tmp_path: Path) -> None:
    conn = daemon.connect()
    conn.create_volume("default", "root.qcow2", 1 << 20, format="qcow2")
    with open(test_guest.disk, "rb") as fh:
        conn.upload_volume("default", "root.qcow2", fh)
    vol = conn.lookup_volume("default", "root.qcow2")
    conn.define_xml(_volume_guest_xml(test_guest, "vg", "default", "root.qcow2"))
    assert "pool='default'" in conn.get_xml("vg", inactive=True)

    conn.start("vg")
    wait_console(conn, "vg", ROOT_MARKER + "disk", timeout=120)
    live = conn.get_xml("vg")  # the live XML keeps naming the volume (libvirt's does); argv has the path
    assert "<disk type='volume' device='disk'>" in live and "volume='root.qcow2'" in live, live
    assert "file=" not in live.split("<disk", 1)[1].split("</disk>")[0]
    assert vol.path in Path(f"/proc/{daemon.qemu_pids()[0]}/cmdline").read_text()

    with pytest.raises(PyvirtError) as err:
        conn.delete_volume("default", "root.qcow2")
    assert err.value.code == ErrorCode.OPERATION_INVALID and "'vg'" in err.value.message
    out = cli(daemon, "vol-delete", "--pool", "default", "root.qcow2")
    assert out.returncode == 1 and "error: Failed to delete vol root.qcow2" in out.stderr
    assert Path(vol.path).exists()

    conn.destroy("vg")
    out = cli(daemon, "undefine", "vg", "--remove-all-storage")
    assert out.returncode == 0, out.stderr
    assert out.stdout == (f"Domain 'vg' has been undefined\nVolume 'vda'({vol.path}) removed.\n\n")
    assert not Path(vol.path).exists()
    assert "root.qcow2" not in {v.name for v in conn.list_volumes("default")}


def test_missing_disk_fails_naming_disk_and_path(daemon: DaemonHarness, test_guest: TestGuest,
                                                 tmp_path: Path) -> None:
    conn = daemon.connect()
    missing = tmp_path / "gone.qcow2"
    conn.define_xml(guest_xml(test_guest, "m1", disk=missing))
    with pytest.raises(PyvirtError) as err:
        conn.start("m1")
    assert str(missing) in err.value.message and "'vda'" in err.value.message
    assert conn.get_info("m1").state == DomainState.SHUTOFF

    conn.define_xml(_volume_guest_xml(test_guest, "m2", "default", "nosuch.qcow2"))
    out = cli(daemon, "start", "m2")
    assert out.returncode == 1
    assert "error: Failed to start domain 'm2'" in out.stderr
    assert "nosuch.qcow2" in out.stderr and "'vda'" in out.stderr
    assert conn.get_info("m2").state == DomainState.SHUTOFF
    assert not daemon.qemu_pids()


def test_cli_pool_and_volume_commands(daemon: DaemonHarness, tmp_path: Path) -> None:
    target = tmp_path / "cp"

    def ok(*args: str) -> str:
        out = cli(daemon, *args)
        assert out.returncode == 0, (args, out.stdout, out.stderr)
        return out.stdout

    assert ok("pool-define-as", "cp", "dir", "--target", str(target)) == "Pool cp defined\n\n"
    assert ok("pool-build", "cp") == "Pool cp built\n\n"
    assert ok("pool-start", "cp") == "Pool cp started\n\n"
    assert ok("pool-autostart", "cp") == "Pool cp marked as autostarted\n\n"
    listing = ok("pool-list", "--all")
    assert listing.splitlines()[0].split() == ["Name", "State", "Autostart"]
    assert ["cp", "active", "yes"] in [line.split() for line in listing.splitlines()]
    details = ok("pool-list", "--all", "--details").splitlines()
    assert details[0].split()[:4] == ["Name", "State", "Autostart", "Persistent"]
    info = ok("pool-info", "cp").splitlines()
    assert info[0] == "Name:           cp" and info[2] == "State:          running"

    assert ok("vol-create-as", "cp", "d1.qcow2", "2G", "--format", "qcow2") == "Vol d1.qcow2 created\n\n"
    assert ok("vol-create-as", "cp", "r1", "10M", "--allocation", "10M") == "Vol r1 created\n\n"
    assert ok("vol-create-as", "cp", "ov.qcow2", "2G", "--format", "qcow2", "--backing-vol", "d1.qcow2",
              "--backing-vol-format", "qcow2") == "Vol ov.qcow2 created\n\n"
    vols = ok("vol-list", "cp", "--details").splitlines()
    assert vols[0].split() == ["Name", "Path", "Type", "Capacity", "Allocation"]
    rows = {line.split()[0]: line.split() for line in vols[2:] if line.strip()}
    assert rows["d1.qcow2"][1:5] == [str(target / "d1.qcow2"), "file", "2.00", "GiB"]
    assert rows["r1"][3:] == ["10.00", "MiB", "10.00", "MiB"]
    assert ok("vol-info", "--pool", "cp", "r1") == ("Name:           r1\nType:           file\n"
                                                     "Capacity:       10.00 MiB\nAllocation:     10.00 MiB\n\n")
    assert ok("vol-path", "--pool", "cp", "r1") == f"{target / 'r1'}\n\n"
    assert ok("vol-name", str(target / "r1")) == "r1\n\n"
    assert ok("vol-pool", str(target / "r1")) == "cp\n\n"
    assert "<backingStore>" in ok("vol-dumpxml", "--pool", "cp", "ov.qcow2")
    assert ok("vol-clone", "--pool", "cp", "r1", "r2") == "Vol r2 cloned from r1\n\n"
    assert ok("vol-resize", "--pool", "cp", "r2", "20M") == "Size of volume 'r2' successfully changed to 20M\n\n"
    assert ok("vol-resize", "--pool", "cp", "r2", "--delta", "1M") == \
        "Size of volume 'r2' successfully changed by 1M\n\n"
    assert os.path.getsize(target / "r2") == 21 << 20
    assert ok("vol-wipe", "--pool", "cp", "r2") == "Vol r2 wiped\n\n"

    payload = tmp_path / "payload.bin"
    payload.write_bytes(os.urandom(3 << 20))
    assert ok("vol-upload", "--pool", "cp", "r2", str(payload)) == "\n"
    assert ok("vol-download", "--pool", "cp", "r2", str(tmp_path / "out.bin")) == "\n"
    assert (tmp_path / "out.bin").read_bytes() == payload.read_bytes()
    assert ok("vol-download", "--pool", "cp", "r2", str(tmp_path / "part.bin"), "--offset", "1024",
              "--length", "4096") == "\n"
    assert (tmp_path / "part.bin").read_bytes() == payload.read_bytes()[1024:1024 + 4096]

    assert ok("vol-delete", "--pool", "cp", "r2") == "Vol r2 deleted\n\n"
    for vol in ("ov.qcow2", "d1.qcow2", "r1"):
        ok("vol-delete", "--pool", "cp", vol)
    assert ok("pool-destroy", "cp") == "Pool cp destroyed\n\n"
    assert ok("pool-delete", "cp") == "Pool cp deleted\n\n"
    assert not target.exists()
    assert ok("pool-undefine", "cp") == "Pool cp has been undefined\n\n"

    assert ok("pool-create-as", "tp", "dir", "--target", str(tmp_path / "tp"), "--build") == "Pool tp created\n\n"
    tp = [line.split() for line in ok("pool-list", "--details").splitlines() if line.startswith(" tp ")]
    assert tp[0][1:4] == ["running", "no", "no"]


@pytest.mark.parametrize(("args", "errors"), [
    (("vol-create-as", "default", "../x", "1G"), ["error: Failed to create vol ../x"]),
    (("vol-create-as", "default", ".hidden", "1G"), ["error: Failed to create vol .hidden"]),
    (("vol-create-as", "default", "x", "1Q"), ["error: Malformed size 1Q", "error: invalid argument: unknown suffix 'Q'"]),
    (("vol-create-as", "default", "x", "-5"), ["error: Malformed size -5"]),
    (("vol-create-as", "default", "x", "1G", "--format", "bogus"), ["error: Failed to create vol x"]),
    (("vol-create-as", "nopool", "x", "1G"), ["error: failed to get pool 'nopool'",
                                              "error: Storage pool not found: no storage pool with matching name "
                                              "'nopool'"]),
    (("vol-info", "--pool", "default", "nosuch"), ["error: failed to get vol 'nosuch'"]),
    (("vol-resize", "--pool", "default", "keep", "-1M"), ["error: negative size requires --delta and --shrink"]),
    (("pool-define-as", "bad/name", "dir", "--target", "/tmp/x"), ["error: Failed to define pool bad/name"]),
    (("pool-define-as", "p4", "dir"), ["error: Failed to define pool p4"]),
    (("pool-undefine", "default"), ["error: Failed to undefine pool default"]),
    (("undefine", "nodom", "--remove-all-storage"), ["error: failed to get domain 'nodom'"]),
])
def test_cli_bad_input_leaves_state_unchanged(daemon: DaemonHarness, args: tuple[str, ...],
                                              errors: list[str]) -> None:
    conn = daemon.connect()
    conn.create_volume("default", "keep", 1 << 20)
    before = (conn.list_pools(), conn.list_volumes("default"))
    out = cli(daemon, *args)
    assert out.returncode == 1, out
    lines = out.stderr.splitlines()
    assert lines[:len(errors)] == errors, out.stderr
    after = (conn.list_pools(), conn.list_volumes("default"))
    strip = [{k: v for k, v in p.to_dict().items() if k not in ("allocation", "available")} for p in before[0]]
    assert strip == [{k: v for k, v in p.to_dict().items() if k not in ("allocation", "available")}
                     for p in after[0]]
    assert before[1] == after[1]


def test_pool_lifecycle_events_share_the_event_stream(daemon: DaemonHarness, tmp_path: Path) -> None:
    """virsh pool-event's numbers on the one event stream, filtered by kind and by pool; the
    domain-only default subscription sees none of them."""
    from pyvirt.api import StoragePoolEvent, StoragePoolEventType

    conn = daemon.connect()
    conn.list_pools()  # the default pool is made (and announced) before we listen
    pools = conn.subscribe(timeout=60, kinds=["StoragePool"])
    only_p2 = conn.subscribe("p2", timeout=60, kinds=["StoragePool"])
    domains = conn.subscribe(timeout=2)
    conn.define_pool(dir_pool_xml("p1", tmp_path / "p1"))
    conn.build_pool("p1")
    conn.start_pool("p1")
    conn.destroy_pool("p1")
    conn.delete_pool("p1")
    conn.undefine_pool("p1")
    conn.create_pool(dir_pool_xml("p2", tmp_path / "p2"), build=True)
    got = [(ev.name, ev.event) for _, ev in zip(range(7), pools, strict=False)]
    E = StoragePoolEventType
    assert got == [("p1", E.DEFINED), ("p1", E.CREATED), ("p1", E.STARTED), ("p1", E.STOPPED),
                   ("p1", E.DELETED), ("p1", E.UNDEFINED), ("p2", E.STARTED)]
    first = next(iter(only_p2))
    assert isinstance(first, StoragePoolEvent) and (first.name, first.event, first.kind) == ("p2", E.STARTED,
                                                                                              "StoragePool")
    assert list(domains) == []
    with pytest.raises(PyvirtError, match="kinds: unknown event kind 'Pools'"):
        conn.subscribe(kinds=["Pools"])
    # pool-refresh: libvirt's refresh event, a kind of its own on the same stream
    refresh = conn.subscribe("p2", timeout=60, kinds=["StoragePool.refresh"])
    lifecycle = conn.subscribe(timeout=2, kinds=["StoragePool"])
    conn.refresh_pool("p2")
    ev = next(iter(refresh))
    assert (type(ev).__name__, ev.kind, ev.name) == ("StoragePoolRefreshEvent", "StoragePool.refresh", "p2")
    assert list(lifecycle) == []


def test_stalled_uploads_leave_every_other_operation_answering(daemon: DaemonHarness, tmp_path: Path) -> None:
    """An upload is read at its client's pace.  Held in a worker of pyvirtd's shared executor
    (min(32, CPUs + 4) of them), that many stalled uploads left none, and every storage
    operation hung (measured: pool-list did not answer in 15 s under 6 slow uploads on a 2-CPU
    host); an upload now has a thread of its own (pyvirt/ownthread.py)."""
    import socket

    conn = daemon.connect()
    conn.define_pool(dir_pool_xml("slow", tmp_path / "slow"))
    conn.build_pool("slow")
    conn.start_pool("slow")
    stalled = []
    try:
        for i in range(min(32, (os.cpu_count() or 1) + 4) + 1):
            conn.create_volume("slow", f"v{i}", 1 << 20)
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.connect(str(daemon.root / "run" / "pyvirtd.sock"))
            sock.sendall(f"PUT /v1/pools/slow/volumes/v{i}/data HTTP/1.1\r\nHost: x\r\n"
                         "Content-Length: 1048576\r\n\r\n".encode() + b"x" * 4096)  # then nothing more
            stalled.append(sock)
        time.sleep(1)  # every upload has reached the storage driver and waits for its body
        started = time.monotonic()
        out = subprocess.run([sys.executable, "-m", "pyvirt.cli.main", "-c", URI, "pool-list"], capture_output=True,
                             text=True, env=daemon.env(), timeout=30)
        assert out.returncode == 0 and "slow" in out.stdout, out.stderr
        assert time.monotonic() - started < 15
    finally:
        for sock in stalled:
            sock.close()
