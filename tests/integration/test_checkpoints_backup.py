"""Checkpoints (persistent dirty bitmaps) and backups (push and pull) through pyvirtd, real QEMU.

The guest is started paused and never boots: its disks are written through QEMU's own block
layer (HMP ``qemu-io``), which marks dirty bitmaps exactly as guest writes do, so the whole
story costs a QEMU start instead of a TCG boot.  What is checked: bitmaps in the qcow2 image,
--size, an incremental backup holding only the clusters written since its checkpoint (and
since an older one: both changes), a full one holding everything, a pull backup's NBD export
keeping its point in time while the disk changes, the job seen and aborted as the domain's
job (also after a pyvirtd restart, which takes the running job over), deletion removing bitmaps,
metadata surviving a pyvirtd restart, and libvirt's refusals.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pyvirt.api import ErrorCode, JobCompletedEvent, PyvirtError
from pyvirt.testguest import TestGuest
from tests.daemon_harness import DaemonHarness, cli, guest_xml
from tests.sshd import free_port
from tests.tlscerts import TestCA

KiB, MiB = 1024, 1024 * 1024


def _disk(kind: str, path: Path, target: str) -> str:
    return (f"<disk type='file' device='disk'><driver name='qemu' type='{kind}'/><source file='{path}'/>"
            f"<target dev='{target}' bus='virtio'/></disk>")


def _write(conn: object, pattern: int, offset: int, length: int) -> None:
    """Write through QEMU's block layer on vdb's image (its dirty bitmaps see a guest write)."""
    blocks = json.loads(conn.qemu_monitor_command("ck", '{"execute": "query-block"}'))["return"]  # type: ignore[attr-defined]
    qdev = next(b["qdev"] for b in blocks if b.get("inserted", {}).get("file", "").endswith("data.qcow2"))
    out = conn.qemu_monitor_command(  # type: ignore[attr-defined]
        "ck", f'qemu-io -d {qdev} "write -P {pattern:#x} {offset} {length}"', hmp=True)
    assert "error" not in out.lower() and "conflict" not in out.lower(), out  # qemu-io says nothing on success


def _bitmaps(conn: object) -> list[str]:
    """The bitmaps QEMU holds on vdb's image (it writes persistent ones into the file at close)."""
    nodes = json.loads(conn.qemu_monitor_command(  # type: ignore[attr-defined]
        "ck", '{"execute": "query-named-block-nodes", "arguments": {"flat": true}}'))["return"]
    node = next(n for n in nodes if n["drv"] == "qcow2" and n["file"].endswith("data.qcow2"))
    return sorted(b["name"] for b in node.get("dirty-bitmaps", []) if b.get("persistent"))


def _image_bitmaps(image: Path) -> list[str]:
    info = json.loads(subprocess.run(["qemu-img", "info", "-U", "--output=json", str(image)], capture_output=True,
                                     text=True, check=True).stdout)
    return sorted(b["name"] for b in info.get("format-specific", {}).get("data", {}).get("bitmaps", []))


def _data(image: Path) -> list[tuple[int, int]]:
    """(offset, length) of the extents a qcow2 backup image holds itself (not its backing file's)."""
    out = subprocess.run(["qemu-img", "map", "-U", "--output=json", "-f", "qcow2", str(image)], capture_output=True,
                         text=True, check=True).stdout
    return [(e["start"], e["length"]) for e in json.loads(out) if e["data"] and e["depth"] == 0]


def _reads(spec: str, pattern: int, offset: int, length: int, fmt: str = "raw") -> bool:
    proc = subprocess.run(["qemu-io", "-r", "-U", "-f", fmt, spec, "-c", f"read -P {pattern:#x} {offset} {length}"],
                          capture_output=True, text=True, timeout=30)
    return proc.returncode == 0 and "Pattern verification failed" not in proc.stdout + proc.stderr


def _backup_done(conn: object, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while conn.get_job_info("ck").type != 0:  # type: ignore[attr-defined]
        assert time.monotonic() < deadline, "the backup job did not end"
        time.sleep(0.1)
    done = conn.get_job_info("ck", completed=True, keep_completed=True)  # type: ignore[attr-defined]
    assert (done.type, done.operation, done.error) == (3, 9, None)


def _push(target: Path, incremental: str | None = None) -> str:
    since = f"<incremental>{incremental}</incremental>" if incremental else ""
    return (f"<domainbackup>{since}<disks><disk name='vdb' type='file'><target file='{target}'/></disk>"
            "</disks></domainbackup>")


def _tls_pull(daemon: DaemonHarness, conn: object, tmp_path: Path) -> None:
    """<server tls='yes'>: the export is served over TLS with qemu.conf's backup certificates (a
    client with the CA's certificate reads it, a plain one cannot); missing files are named."""
    tls = {"server": "<server transport='tcp' name='127.0.0.1' port='{}' tls='yes'/>"}
    empty = tmp_path / "empty-pki"
    empty.mkdir()
    (daemon.root / "config" / "qemu.conf").write_text(f'backup_tls_x509_cert_dir = "{empty}"\n')
    with pytest.raises(PyvirtError, match="TLS backup server needs ca-cert.pem, server-cert.pem, server-key.pem"):
        conn.backup_begin("ck", f"<domainbackup mode='pull'>{tls['server'].format(10809)}</domainbackup>")  # type: ignore[attr-defined]
    pki = TestCA(tmp_path / "ca").qemu_pki(tmp_path / "backup-pki")
    (daemon.root / "config" / "qemu.conf").write_text(f'backup_tls_x509_cert_dir = "{pki}"\n')
    port = free_port()
    conn.backup_begin("ck", f"<domainbackup mode='pull'>{tls['server'].format(port)}<disks><disk name='vdb' "  # type: ignore[attr-defined]
                            f"type='file'><scratch file='{tmp_path / 'tls-scratch.qcow2'}'/></disk></disks>"
                            "</domainbackup>")
    try:
        opts = f"driver=nbd,host=127.0.0.1,port={port},export=vdb"
        read = ["qemu-io", "-r", "-c", "read 0 64k", "--image-opts"]
        secure = subprocess.run([*read[:-1], "--object", f"tls-creds-x509,id=t0,dir={pki},endpoint=client",
                                 "--image-opts", f"{opts},tls-creds=t0"], capture_output=True, text=True, timeout=30)
        assert secure.returncode == 0 and "read 65536/65536 bytes" in secure.stdout, secure.stdout + secure.stderr
        plain = subprocess.run([*read, opts], capture_output=True, text=True, timeout=30)
        assert plain.returncode != 0 and "TLS" in plain.stdout + plain.stderr, plain.stdout + plain.stderr
    finally:
        conn.abort_job("ck")  # type: ignore[attr-defined]
    (daemon.root / "config" / "qemu.conf").unlink()


def _ready(conn: object, disk: str = "vdb") -> None:
    deadline = time.monotonic() + 60
    while conn.block_job_info("ck", disk)["state"] != "ready":  # type: ignore[attr-defined]
        assert time.monotonic() < deadline, conn.block_job_info("ck", disk)  # type: ignore[attr-defined]
        time.sleep(0.1)
    conn.block_job_abort("ck", disk, pivot=True)  # type: ignore[attr-defined]


def _since_c2(conn: object, path: Path) -> set[tuple[int, int]]:
    conn.backup_begin("ck", _push(path, "c2"))  # type: ignore[attr-defined]
    _backup_done(conn)
    # a job reported completed has let go of its target: QEMU flushed and closed it (the
    # backup was read half-written when the job was reported done before its clean-up)
    nodes = json.loads(conn.qemu_monitor_command(  # type: ignore[attr-defined]
        "ck", '{"execute": "query-named-block-nodes", "arguments": {"flat": true}}'))["return"]
    assert str(path) not in {n.get("file") for n in nodes}
    return set(_data(path))


def _across_overlays(conn: object, scratch: Path, tmp_path: Path) -> None:
    """Checkpoints outlive new overlays, as libvirt's do: an external snapshot's overlay gets the
    bitmaps' own copies (the backup merges the chain), a commit back keeps them in the base, a
    block copy's pivot carries them into the copy (and a copy back into the reused image)."""
    before = {(8 * MiB, 64 * KiB)}  # written since c2, before any overlay
    overlay = tmp_path / "snap-data.qcow2"
    conn.snapshot_create("ck", "<domainsnapshot><name>ov</name><disks><disk name='vda' snapshot='no'/>"  # type: ignore[attr-defined]
                               f"<disk name='vdb' snapshot='external'><source file='{overlay}'/></disk>"
                               "<disk name='vdc' snapshot='no'/></disks></domainsnapshot>", disk_only=True)
    nodes = json.loads(conn.qemu_monitor_command(  # type: ignore[attr-defined]
        "ck", '{"execute": "query-named-block-nodes", "arguments": {"flat": true}}'))["return"]
    top = next(n for n in nodes if n["drv"] == "qcow2" and n["file"] == str(overlay))
    assert sorted(b["name"] for b in top["dirty-bitmaps"] if b["persistent"]) == ["c1", "c2"]  # the copies
    _write(conn, 0xEE, 12 * MiB, 64 * KiB)  # into the overlay
    got = _since_c2(conn, tmp_path / "inc-ov.qcow2")
    assert before | {(12 * MiB, 64 * KiB)} <= got and (4 * MiB, 64 * KiB) not in got, got  # both layers, not older
    conn.block_commit("ck", "vdb", active=True)  # type: ignore[attr-defined]
    _ready(conn)
    conn.snapshot_delete("ck", "ov", metadata_only=True)  # type: ignore[attr-defined]
    assert f"<source file='{scratch}'" in conn.get_xml("ck")  # type: ignore[attr-defined]
    assert before | {(12 * MiB, 64 * KiB)} <= _since_c2(conn, tmp_path / "inc-commit.qcow2")
    copy = tmp_path / "copy-data.qcow2"
    conn.block_copy("ck", "vdb", str(copy), format="qcow2")  # type: ignore[attr-defined]
    _ready(conn)
    _write(conn, 0xFF, 14 * MiB, 64 * KiB)
    got = _since_c2(conn, tmp_path / "inc-copy.qcow2")
    assert before | {(12 * MiB, 64 * KiB), (14 * MiB, 64 * KiB)} <= got and (4 * MiB, 64 * KiB) not in got, got
    conn.block_copy("ck", "vdb", str(scratch), format="qcow2", reuse_external=True)  # type: ignore[attr-defined]
    _ready(conn)
    assert f"<source file='{scratch}'" in conn.get_xml("ck")  # type: ignore[attr-defined]
    assert (14 * MiB, 64 * KiB) in _since_c2(conn, tmp_path / "inc-back.qcow2")


@pytest.mark.qemu
def test_checkpoints_and_backups(daemon: DaemonHarness, test_guest: TestGuest, guest_disk: Path,
                                 tmp_path: Path) -> None:
    scratch, raw = tmp_path / "data.qcow2", tmp_path / "raw.img"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(scratch), "16M"], check=True)
    subprocess.run(["qemu-img", "create", "-q", "-f", "raw", str(raw), "1M"], check=True)
    conn = daemon.connect()
    conn.define_xml(guest_xml(test_guest, "ck", disk=guest_disk,
                              extra_devices=_disk("qcow2", scratch, "vdb") + _disk("raw", raw, "vdc")))
    with pytest.raises(PyvirtError, match="cannot create checkpoint for inactive domain"):
        conn.checkpoint_create("ck", "<domaincheckpoint/>")
    with pytest.raises(PyvirtError, match="cannot perform disk backup for inactive domain"):
        conn.backup_begin("ck", "<domainbackup/>")
    conn.start("ck", paused=True)

    # a checkpoint of every writable disk needs them all qcow2: the raw one is refused, nothing changes
    with pytest.raises(PyvirtError, match="checkpoint for disk vdc unsupported for storage type raw"):
        conn.checkpoint_create("ck", "<domaincheckpoint><name>c0</name></domaincheckpoint>")
    with pytest.raises(PyvirtError, match=r"unsupported flags \(0x2\) in function qemuCheckpointCreateXML"):
        conn.checkpoint_create("ck", "<domaincheckpoint/>", quiesce=True)  # libvirt 9.0's QEMU driver has none
    assert conn.list_checkpoints("ck") == [] and _bitmaps(conn) == []
    _write(conn, 0xAA, 0, 1 * MiB)
    only_vdb = "<disks><disk name='vdb'/></disks>"
    assert conn.checkpoint_create("ck", f"<domaincheckpoint><name>c1</name>{only_vdb}</domaincheckpoint>") == "c1"
    assert _bitmaps(conn) == ["c1"]
    _write(conn, 0xBB, 4 * MiB, 64 * KiB)
    sized = conn.checkpoint_xml("ck", "c1", size=True, no_domain=True)
    assert "<disk name='vdb' checkpoint='bitmap' bitmap='c1' size='65536'/>" in sized, sized
    assert "<disk name='vda' checkpoint='no'/>" in sized and "<domain" not in sized.replace("<domaincheck", "")

    # a full push backup that starts checkpoint c2 at the same instant
    full = tmp_path / "full.qcow2"
    events = conn.events("ck", timeout=60, kinds=[JobCompletedEvent.KIND])
    conn.backup_begin("ck", _push(full), checkpoint_xml=f"<domaincheckpoint><name>c2</name>{only_vdb}"
                                                         "</domaincheckpoint>")
    _backup_done(conn)
    ended = next(iter(events))  # libvirt's job-completed event, its statistics in libvirt's order
    events.close()
    assert list(ended.params) == ["operation", "time_elapsed", "disk_total", "disk_processed", "disk_remaining",
                                  "success"]
    assert (ended.params["operation"], ended.params["success"], ended.params["disk_remaining"]) == (9, True, 0)
    assert ended.params["disk_processed"] == ended.params["disk_total"] > 0
    assert _reads(str(full), 0xAA, 0, 1 * MiB, "qcow2") and _reads(str(full), 0xBB, 4 * MiB, 64 * KiB, "qcow2")
    assert _data(full) == [(0, 1 * MiB), (4 * MiB, 64 * KiB)]  # a full copy: all the data there is
    assert [(r.name, r.parent) for r in conn.list_checkpoints("ck")] == [("c1", ""), ("c2", "c1")]
    assert _bitmaps(conn) == ["c1", "c2"]

    # incremental: since c2 only the new write, since c1 both
    _write(conn, 0xCC, 8 * MiB, 64 * KiB)
    since_c2, since_c1 = tmp_path / "inc2.qcow2", tmp_path / "inc1.qcow2"
    conn.backup_begin("ck", _push(since_c2, "c2"))
    _backup_done(conn)
    assert _data(since_c2) == [(8 * MiB, 64 * KiB)]
    info = json.loads(subprocess.run(["qemu-img", "info", "-U", "--output=json", str(since_c2)], capture_output=True,
                                     text=True, check=True).stdout)
    assert info["backing-filename"] == str(scratch)  # an overlay of the disk, as libvirt makes it
    done = conn.get_job_info("ck", completed=True)
    assert (done.disk_total, done.disk_processed) == (64 * KiB, 64 * KiB)  # only the dirty clusters were copied
    # read without keep_completed (virsh domjobinfo --completed): libvirt forgets the statistics
    assert conn.get_job_info("ck", completed=True).type == 0
    conn.backup_begin("ck", _push(since_c1, "c1"))
    _backup_done(conn)
    assert _data(since_c1) == [(4 * MiB, 64 * KiB), (8 * MiB, 64 * KiB)]
    assert _bitmaps(conn) == ["c1", "c2"]  # the checkpoints' own bitmaps are never consumed
    # virsh domjobinfo: --keep-completed leaves the statistics for the next read, a read without it
    # takes them; a finished job's statistics show only with --completed (or --anystats)
    runs = [cli(daemon, "domjobinfo", "ck", *flags).stdout for flags in (
        ("--completed", "--keep-completed"), ("--anystats",), ("--completed", "--rawstats"), ("--completed",))]
    assert runs[0].startswith("Job type:         Completed   \nOperation:        Backup") and "File total:" in runs[0]
    assert runs[1].strip() == "Job type:         None" and runs[3] == runs[1]
    assert runs[2].startswith("Job type: 3\n\noperation: 9\ntime_elapsed: ") and "success: yes\n" in runs[2]
    with pytest.raises(PyvirtError, match=f"store '{since_c1}' for backup of 'vdb' exists"):  # never overwritten
        conn.backup_begin("ck", _push(since_c1, "c1"))
    with pytest.raises(PyvirtError, match="Checkpoint 'nope' for incremental backup of disk 'vdb' not found") as err:
        conn.backup_begin("ck", _push(tmp_path / "x.qcow2", "nope"))
    assert err.value.code == ErrorCode.NO_DOMAIN_CHECKPOINT and not (tmp_path / "x.qcow2").exists()

    # pull mode: the export keeps the backup's point in time while the disk changes
    sock = daemon.root / "nbd.sock"
    conn.backup_begin("ck", f"<domainbackup mode='pull'><server transport='unix' socket='{sock}'/>"
                            f"<disks><disk name='vdb' type='file'><scratch file='{tmp_path / 'scratch.qcow2'}'/>"
                            "</disk></disks></domainbackup>")
    job = conn.get_job_info("ck")
    assert (job.type, job.operation) == (2, 9)
    shown = cli(daemon, "domjobinfo ck; backup-dumpxml ck --xpath //server; checkpoint-list ck --tree")
    assert shown.returncode == 0, shown.stderr
    assert "Job type:         Unbounded" in shown.stdout and "Operation:        Backup" in shown.stdout
    assert "Temporary disk space total: 16.000 MiB" in shown.stdout, shown.stdout
    assert f'<server transport="unix" socket="{sock}"/>' in shown.stdout
    assert "c1\n  |\n  +- c2\n" in shown.stdout
    assert "mode='pull'" in conn.backup_xml("ck") and "exportname='vdb'" in conn.backup_xml("ck")
    with pytest.raises(PyvirtError, match="another backup job is already running"):
        conn.backup_begin("ck", _push(tmp_path / "y.qcow2"))
    _write(conn, 0xDD, 0, 64 * KiB)
    export = f"nbd+unix:///vdb?socket={sock}"
    assert _reads(export, 0xAA, 0, 64 * KiB) and _reads(export, 0xCC, 8 * MiB, 64 * KiB)
    # the running backup outlives a pyvirtd restart: the new daemon takes it over (libvirt's
    # qemuProcessRecoverJob): still the domain's job, its XML, its export serving the same view
    state = next(daemon.root.rglob("backup.json"))
    daemon.stop()
    assert state.exists()  # handed over, not cleaned up
    daemon.start()
    conn = daemon.connect()
    job = conn.get_job_info("ck")
    assert (job.type, job.operation) == (2, 9)
    assert "mode='pull'" in conn.backup_xml("ck")
    assert _reads(export, 0xAA, 0, 64 * KiB)
    with daemon.new_subscriptions(1):  # the watcher listens before the abort
        watcher = subprocess.Popen([sys.executable, "-m", "pyvirt.cli.main", "-c", daemon.uri, "event", "ck",
                                    "--event", "job-completed", "--timeout", "60"], stdout=subprocess.PIPE, text=True,
                                   env=daemon.env())
    conn.abort_job("ck")
    assert not state.exists()
    out = watcher.communicate(timeout=60)[0]
    assert re.fullmatch(r"event 'job-completed' for domain 'ck':\n\toperation: 9\n\ttime_elapsed: \d+\n"
                        r"\tdisk_temp_used: \d+\n\tdisk_temp_total: 16777216\n\tsuccess: 1\n"
                        r"\terrmsg: Operation canceled\nevents received: 1\n\n", out), out
    assert conn.get_job_info("ck").type == 0
    ended = conn.get_job_info("ck", completed=True)  # how a pull backup ends, in libvirt's words
    assert (ended.type, ended.operation, ended.error) == (3, 9, "Operation canceled")
    assert not (tmp_path / "scratch.qcow2").exists()
    with pytest.raises(PyvirtError) as err:
        conn.backup_xml("ck")
    assert err.value.code == ErrorCode.NO_DOMAIN_BACKUP
    _tls_pull(daemon, conn, tmp_path)
    _across_overlays(conn, scratch, tmp_path)

    # metadata survives a pyvirtd restart (the guest runs on)
    daemon.stop()
    daemon.start()
    conn = daemon.connect()
    assert [(r.name, r.parent) for r in conn.list_checkpoints("ck")] == [("c1", ""), ("c2", "c1")]
    assert conn.checkpoint_create("ck", "<domaincheckpoint><name>c3</name><disks><disk name='vdb'/></disks>"
                                        "</domaincheckpoint>") == "c3"
    assert conn.list_checkpoints("ck")[-1].parent == "c2"  # the newest is current again

    # delete: the child moves up, the bitmap goes; --metadata keeps the bitmap
    conn.checkpoint_delete("ck", "c2")
    assert [(r.name, r.parent) for r in conn.list_checkpoints("ck")] == [("c1", ""), ("c3", "c1")]
    assert _bitmaps(conn) == ["c1", "c3"]
    conn.checkpoint_delete("ck", "c3", metadata_only=True)
    assert _bitmaps(conn) == ["c1", "c3"]
    conn.destroy("ck")
    assert _image_bitmaps(scratch) == ["c1", "c3"]  # QEMU stored them in the qcow2 file as it ended
    with pytest.raises(PyvirtError, match="cannot delete checkpoint for inactive domain"):
        conn.checkpoint_delete("ck", "c1")
    for doc in ("<domainsnapshot><name>s1</name></domainsnapshot>", "<nonsense/>"):  # refused before it is read
        with pytest.raises(PyvirtError, match="^Operation not supported: cannot perform block operations while "
                                              "checkpoint exists$") as err:
            conn.snapshot_create("ck", doc, disk_only=doc.startswith("<domainsnapshot"))
        assert err.value.code == ErrorCode.OPERATION_UNSUPPORTED
    assert conn.list_snapshots("ck") == []
    conn.rename("ck", "ck2")  # the metadata goes along (read again from disk after a restart)
    daemon.stop()
    daemon.start()
    conn = daemon.connect()
    assert [r.name for r in conn.list_checkpoints("ck2")] == ["c1"]
    folder = daemon.root / "config" / "qemu" / "checkpoint"
    assert [p.name for p in (folder / "ck2").iterdir()] == ["c1.xml"]
    with pytest.raises(PyvirtError, match="cannot delete inactive domain with 1 checkpoints"):
        conn.undefine("ck2")
    conn.undefine("ck2", checkpoints_metadata=True)
    assert not (folder / "ck2").exists() and not (folder / "ck").exists()
