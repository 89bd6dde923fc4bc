"""Live migration figures: pyvirt between two pyvirtd next to raw QEMU migrated by hand and to
libvirt between two libvirtd, one run.

Measured for a running test guest (--memory MiB, default 256, disk on a qcow2 overlay), medians
of --runs migrations back and forth, raw and pyvirt interleaved so load hits both alike:

1. shared storage: total time and the guest's downtime as QEMU reports them (``query-migrate``'s
   ``total-time`` and ``downtime`` on the source once completed), and for pyvirt also the wall
   time of the whole ``pyvirt migrate --live`` command (connections, begin/prepare/finish/confirm);
2. with storage copy (``--copy-storage-all``; raw: NBD export on the destination +
   ``blockdev-mirror`` on the source, then ``migrate``, as pyvirt does).

Raw QEMU gets the same machine pyvirtd would build (bench/_common.raw_qemu_command), a QMP
socket, ``-incoming tcp:`` on the destination, unlimited bandwidth as pyvirt sets, and nothing
else.  libvirt (libvirt-daemon 9.0, a test-only oracle) gets two session libvirtd with host UUIDs
of their own in a network namespace made for the bench (bench/_libvirt_pair.py) and the same guest
(its own copy: the daemons run as an unprivileged user), migrated with ``virsh migrate --live
--persistent`` (``--unsafe`` for the shared disk: libvirt cannot tell a local file is shared;
``--copy-storage-all --xml`` to a pre-created disk for the copy), figures from ``virsh
domjobinfo --completed`` on the source.  Everything runs on this machine over loopback; all of
it is torn down on exit.

``--p2p`` adds pyvirt's peer-to-peer migration (the source pyvirtd drives it) and, for shared
storage, its tunnelled form (the stream inside the daemons' connection) to the same rounds.

Usage: python bench/migrate.py [--runs N] [--memory MiB] [--no-storage] [--no-libvirt] [--p2p]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))

from _common import PrivateDaemon, median, raw_qemu_command  # noqa: E402 - bench/ is not a package

from pyvirt.testguest import READY_MARKER, find_test_guest  # noqa: E402

UNLIMITED = (2**63 - 1) // (1 << 20) * (1 << 20)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class QMP:
    """Just enough synchronous QMP for a bench: commands in order, events skipped."""

    def __init__(self, path: Path, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX)
                self.sock.connect(str(path))
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self.file = self.sock.makefile("rwb")
        self._reply()  # greeting
        self.cmd("qmp_capabilities")

    def _reply(self) -> dict[str, Any]:
        while True:
            line = self.file.readline()
            if not line:
                raise EOFError("QMP closed")
            msg = json.loads(line)
            if "event" not in msg:
                return msg

    def cmd(self, command: str, /, **args: Any) -> Any:
        self.file.write(json.dumps({"execute": command, "arguments": args}).encode() + b"\n")
        self.file.flush()
        reply = self._reply()
        if "error" in reply:
            raise RuntimeError(f"{command}: {reply['error']}")
        return reply.get("return")

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.file.close()
            self.sock.close()


class RawGuest:
    """One bare QEMU with a QMP socket (source, or destination with -incoming)."""

    def __init__(self, argv: list[str], env: dict[str, str], workdir: Path, incoming: str | None = None) -> None:
        self.qmp_path = workdir / "qmp.sock"
        with contextlib.suppress(FileNotFoundError):
            self.qmp_path.unlink()
        extra = ["-qmp", f"unix:{self.qmp_path},server=on,wait=off"]
        if incoming:
            extra += ["-incoming", incoming]
        self.console = open(workdir / "console.log", "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen([*argv, *extra], env=env, stdin=subprocess.DEVNULL, stdout=self.console,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        self.qmp = QMP(self.qmp_path)
        self.log = workdir / "console.log"

    def wait_console(self, marker: str, timeout: float = 180.0) -> None:
        deadline = time.monotonic() + timeout
        while marker.encode() not in self.log.read_bytes():
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise TimeoutError(f"raw QEMU did not print {marker}")
            time.sleep(0.1)

    def stop(self) -> None:
        self.qmp.close()
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.console.close()


def wait_completed(qmp: QMP, timeout: float = 600.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        info = qmp.cmd("query-migrate")
        if info.get("status") == "completed":
            return info
        if info.get("status") in ("failed", "cancelled") or time.monotonic() > deadline:
            raise RuntimeError(f"raw migration {info.get('status')}: {info.get('error-desc')}")
        time.sleep(0.02)


def raw_round(xml: str, work: Path, template: Path, pyvirt_disk: Path, copy: bool) -> dict[str, float]:
    """Boot a bare QEMU on its own overlay, migrate it to a second bare QEMU by hand; QEMU's own
    figures."""
    src_dir, dst_dir = work / "raw-src", work / "raw-dst"
    for d in (src_dir, dst_dir):
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
    disk = work / "raw-src.qcow2"
    with contextlib.suppress(FileNotFoundError):
        disk.unlink()
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", str(template), str(disk)],
                   check=True)
    xml = xml.replace(str(pyvirt_disk), str(disk))
    argv, env = raw_qemu_command(xml, src_dir)
    src = RawGuest(argv, env, src_dir)
    dst = None
    try:
        src.wait_console(READY_MARKER)
        time.sleep(2)  # let the fresh guest settle (DHCP, udev) as the pyvirt guest has by its turn
        port = free_port()
        dst_xml = xml
        dst_disk = work / "raw-dst.qcow2"
        if copy:
            with contextlib.suppress(FileNotFoundError):
                dst_disk.unlink()
            size = json.loads(subprocess.run(["qemu-img", "info", "-U", "--output=json", str(disk)], check=True,
                                             capture_output=True, text=True).stdout)["virtual-size"]
            subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(dst_disk), str(size)], check=True)
            dst_xml = xml.replace(str(disk), str(dst_disk))
        dargv, denv = raw_qemu_command(dst_xml, dst_dir)
        dst = RawGuest(dargv, denv, dst_dir, incoming="defer")
        started = time.perf_counter()
        if copy:
            nbd_port = free_port()
            node = _node_of(dst.qmp, str(dst_disk))
            dst.qmp.cmd("nbd-server-start", addr={"type": "inet", "data": {"host": "127.0.0.1", "port": str(nbd_port)}})
            dst.qmp.cmd("block-export-add", type="nbd", id="mig", **{"node-name": node}, name="vda", writable=True)
        dst.qmp.cmd("migrate-incoming", uri=f"tcp:127.0.0.1:{port}")
        src.qmp.cmd("migrate-set-parameters", **{"max-bandwidth": UNLIMITED})
        if copy:
            src.qmp.cmd("blockdev-add", driver="nbd", **{"node-name": "mig"}, export="vda",
                        server={"type": "inet", "host": "127.0.0.1", "port": str(nbd_port)})
            src.qmp.cmd("blockdev-mirror", **{"job-id": "mig"}, device=_node_of(src.qmp, str(disk)), target="mig",
                        sync="full")
            while not all(j.get("ready") for j in src.qmp.cmd("query-block-jobs")):
                time.sleep(0.02)
        src.qmp.cmd("migrate", uri=f"tcp:127.0.0.1:{port}")
        info = wait_completed(src.qmp)
        if copy:
            src.qmp.cmd("block-job-cancel", device="mig")
            while src.qmp.cmd("query-block-jobs"):
                time.sleep(0.02)
            dst.qmp.cmd("nbd-server-stop")
        wait_completed(dst.qmp)
        dst.qmp.cmd("cont")
        wall = time.perf_counter() - started
        return {"total": float(info.get("total-time", 0)), "downtime": float(info.get("downtime", 0)),
                "wall": wall * 1000}
    finally:
        src.stop()
        if dst is not None:
            dst.stop()


def _node_of(qmp: QMP, path: str) -> str:
    for dev in qmp.cmd("query-block"):
        inserted = dev.get("inserted") or {}
        if inserted.get("file") == path:
            return str(inserted["node-name"])
    raise RuntimeError(f"no block node for {path}")


def pyvirt_round(a: PrivateDaemon, b: PrivateDaemon, name: str, copy_to: Path | None, work: Path,
                 extra: tuple[str, ...] = ()) -> dict[str, float]:
    """`pyvirt migrate --live [extra]` from a to b; QEMU's figures from the source's completed job."""
    def uri(d: PrivateDaemon) -> str:
        return f"qemu+unix:///session?socket={d.root / 'run' / 'pyvirtd.sock'}"

    args = ["migrate", "--live", "--persistent", *extra]  # the source keeps its definition (and its job's figures)
    src_conn = a.connect()
    if copy_to is not None:
        old = src_conn.get_xml(name, inactive=True)
        current = [d for d in old.split("'") if d.endswith(".qcow2")][0]
        xml = work / "dest.xml"
        xml.write_text(old.replace(current, str(copy_to)))
        args += ["--copy-storage-all", "--xml", str(xml)]
    env = {k: v for k, v in os.environ.items() if k != "PYVIRT_STATE_ROOT"}
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "pyvirt.cli.main", "-c", uri(a), *args, name, uri(b)],
                         capture_output=True, text=True, env=env, timeout=600)
    wall = time.perf_counter() - started
    if out.returncode != 0:
        raise RuntimeError(f"pyvirt migrate failed: {out.stderr}")
    stats = src_conn.get_job_info(name, completed=True)
    return {"total": float(stats.time_elapsed), "downtime": float(stats.downtime), "wall": wall * 1000}


def variants(p2p: bool, copy: bool) -> list[tuple[str, ...]]:
    """pyvirt's ways to migrate measured: client-driven, and with --p2p also peer-to-peer (and
    tunnelled, which copies no storage)."""
    if not p2p:
        return [()]
    return [(), ("--p2p",)] + ([] if copy else [("--p2p", "--tunnelled")])


class LibvirtSide:
    """The libvirt pair, the guest's files handed to its user, and where the guest is now."""

    def __init__(self, pair: Any, work: Path, guest: Any, xml: str, pyvirt_disk: Path) -> None:
        self.pair, self.here = pair, 0
        self.dir = pair.owned(work / "lv")
        files = {}
        for src in (guest.kernel, guest.initrd, guest.disk):
            files[str(src)] = self.dir / src.name
            shutil.copy(src, files[str(src)])
        self.disk = self.dir / "disk-0.qcow2"
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", str(files[str(guest.disk)]),
                        str(self.disk)], check=True)
        for path in (*files.values(), self.disk):
            pair.owned(path)
        self.console = self.dir / "console.log"
        xml = xml.replace(str(pyvirt_disk), str(self.disk)).replace(
            "<serial type='pty'/>", f"<serial type='file'><source path='{self.console}' append='on'/></serial>")
        for src, dst in files.items():
            xml = xml.replace(src, str(dst))
        self.xml = xml

    def boot(self, name: str) -> None:
        path = self.dir / "domain.xml"
        path.write_text(self.xml)
        self.pair.virsh(0, "define", str(path))
        self.pair.virsh(0, "start", name)
        self.here = 0
        deadline = time.monotonic() + 180
        while not (self.console.exists() and READY_MARKER.encode() in self.console.read_bytes()):
            if time.monotonic() > deadline:
                raise TimeoutError("the libvirt guest did not boot")
            time.sleep(0.2)

    def migrate(self, name: str, copy_to: Path | None) -> dict[str, float]:
        """`virsh migrate --live` to the other daemon; libvirt's own figures and the command's wall time."""
        there = 1 - self.here
        args = ["migrate", "--live", "--persistent", "--migrateuri", "tcp://127.0.0.1", "--listen-address", "127.0.0.1"]
        if copy_to is None:
            args.append("--unsafe")  # one file both daemons open: shared, though libvirt cannot tell
        else:
            old = self.pair.virsh(self.here, "dumpxml", "--migratable", name).stdout
            current = re.search(r"<source file='([^']+\.qcow2)'", old)
            assert current is not None, old
            size = json.loads(subprocess.run(["qemu-img", "info", "-U", "--output=json", current.group(1)],
                                             check=True, capture_output=True, text=True).stdout)["virtual-size"]
            subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(copy_to), str(size)], check=True)
            self.pair.owned(copy_to)
            xml = self.dir / "dest.xml"
            xml.write_text(old.replace(current.group(1), str(copy_to)))
            args += ["--copy-storage-all", "--xml", str(xml)]
        started = time.perf_counter()
        self.pair.virsh(self.here, *args, name, self.pair.uri(there))
        wall = time.perf_counter() - started
        figures = {**self.pair.completed_job(self.here, name), "wall": wall * 1000}
        self.here = there
        return figures

    def remove(self, name: str) -> None:
        self.pair.virsh(self.here, "destroy", name, check=False)
        for i in (0, 1):
            self.pair.virsh(i, "undefine", name, check=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--memory", type=int, default=256, help="guest memory in MiB")
    parser.add_argument("--no-storage", action="store_true", help="skip the storage-copy figures")
    parser.add_argument("--no-libvirt", action="store_true", help="skip libvirt's figures")
    parser.add_argument("--p2p", action="store_true", help="also pyvirt's --p2p and --p2p --tunnelled")
    args = parser.parse_args()
    guest = find_test_guest()
    work = Path(tempfile.mkdtemp(prefix="pvbm-"))
    daemons = [PrivateDaemon(work / "a"), PrivateDaemon(work / "b")]
    results: dict[str, list[dict[str, float]]] = {}
    with contextlib.ExitStack() as stack:
        stack.callback(shutil.rmtree, work, ignore_errors=True)  # last: after every process is gone
        lv_note = "--no-libvirt" if args.no_libvirt else None
        if lv_note is None:
            from _libvirt_pair import LibvirtPair
            from tests.netns import netns

            lv_note = LibvirtPair.available()
        pair = None
        if lv_note is None:
            work.chmod(0o711)  # the libvirt daemons' user reaches its own directories below it
            pair = LibvirtPair(work / "lvd", stack.enter_context(netns()))
            stack.callback(pair.stop)
        run_all(args, guest, work, daemons, results, pair)
    print_table(results, args)
    if lv_note:
        print(f"libvirt not measured: {lv_note}")


def run_all(args: argparse.Namespace, guest: Any, work: Path, daemons: list[PrivateDaemon],
            results: dict[str, list[dict[str, float]]], pair: Any) -> None:
    try:
        for d in daemons:
            d.start()
        if pair is not None:
            pair.start()
        disk = work / "disk-0.qcow2"
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", str(guest.disk), str(disk)],
                       check=True)
        xml = guest.domain_xml("bench-mig", memory_mib=args.memory, disk=disk)
        lv = LibvirtSide(pair, work, guest, xml, disk) if pair is not None else None
        cases = [("shared", False)] + ([] if args.no_storage else [("storage copy", True)])
        for label, copy in cases:
            log(f"{label}: booting the pyvirt guest")
            conn = daemons[0].connect()
            conn.define_xml(xml)
            conn.start("bench-mig")
            from pyvirt.client.expect import wait_for_output

            wait_for_output(conn, "bench-mig", READY_MARKER, 180)
            if lv is not None:
                log(f"{label}: booting the libvirt guest")
                lv.boot("bench-mig")
            here, there = 0, 1
            path = disk
            for i in range(args.runs):
                log(f"{label}: round {i + 1}/{args.runs} (raw, pyvirt{', libvirt' if lv else ''})")
                results.setdefault(f"raw {label}", []).append(raw_round(xml, work, guest.disk, disk, copy))
                for variant in variants(args.p2p, copy):
                    a, b = daemons[here], daemons[there]
                    new_path = work / f"disk-{label[0]}{i + 1}{len(variant)}.qcow2" if copy else None
                    results.setdefault(" ".join(("pyvirt", *variant, label)), []).append(
                        pyvirt_round(a, b, "bench-mig", new_path, work, variant))
                    if copy and new_path is not None:
                        if path != disk:
                            path.unlink()
                        path = new_path
                    here, there = there, here
                if lv is not None:
                    lv_path = lv.dir / f"disk-{label[0]}{i + 1}.qcow2" if copy else None
                    results.setdefault(f"libvirt {label}", []).append(lv.migrate("bench-mig", lv_path))
            for k, d in enumerate(daemons):
                conn = d.connect()
                if k == here:
                    conn.destroy("bench-mig")
                with contextlib.suppress(Exception):
                    conn.undefine("bench-mig")
            if lv is not None:
                lv.remove("bench-mig")
    finally:
        for d in daemons:
            d.stop()


def print_table(results: dict[str, list[dict[str, float]]], args: argparse.Namespace) -> None:
    print(f"\nLive migration of a {args.memory} MiB test guest (TCG, loopback), medians of {args.runs} runs, ms")
    print(f"{'':<40} {'total (QEMU)':>13} {'downtime':>9} {'wall':>8}")
    for key, rows in results.items():
        print(f"{key:<40} {median(r['total'] for r in rows):>13.0f} {median(r['downtime'] for r in rows):>9.0f} "
              f"{median(r['wall'] for r in rows):>8.0f}")
    print("total: QEMU's total-time (pyvirt, libvirt: the job's elapsed time, mirrors included); downtime:\n"
          "QEMU's; wall: raw = from the first QMP command to the destination running; pyvirt = the whole\n"
          "`pyvirt migrate` command; libvirt = the whole `virsh migrate` command")


if __name__ == "__main__":
    main()
