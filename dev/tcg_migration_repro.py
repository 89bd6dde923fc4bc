#!/usr/bin/env python3
"""Live-migrate pyvirt's test guest between two plain QEMUs, no pyvirt involved, N times.

A development tool (docs/HACKING.md, "Flakes, session 14"): with QEMU 7.2 under TCG, about one
live migration in 60 of a guest booted seconds before arrives with stale kernel memory and the
guest oopses (or goes silent) on the destination.  This shows it without pyvirtd; run it again
after a QEMU upgrade to see whether the migration tests' rare failure is gone.

Each round: a fresh qcow2 overlay of the test guest's disk, a QEMU booting it (serial on
stdio), a counter started on its shell, a second QEMU with ``-incoming tcp:``, QMP ``migrate``,
then the destination's console must show the counter and no oops.

Usage: .venv/bin/python dev/tcg_migration_repro.py [ROUNDS] [--settle]
(``--settle`` waits for the guest's late module loading to end before migrating.)
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from pyvirt.testguest import DISK_ROOT_ARGS, READY_MARKER, find_test_guest  # noqa: E402


class Qemu:
    def __init__(self, argv: list[str], qmp: str) -> None:
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.out = bytearray()
        self.qmp = qmp
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        while chunk := self.proc.stdout.read1(65536):
            self.out += chunk

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()

    def wait(self, marker: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while marker.encode() not in self.out:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {marker}: {bytes(self.out[-500:])!r}")
            time.sleep(0.05)

    def command(self, execute: str, arguments: dict[str, object] | None = None) -> dict[str, object]:
        with socket.socket(socket.AF_UNIX) as sock:
            for _ in range(100):
                try:
                    sock.connect(self.qmp)
                    break
                except OSError:
                    time.sleep(0.1)
            stream = sock.makefile("rwb")
            stream.readline()
            for request in ({"execute": "qmp_capabilities"}, {"execute": execute, "arguments": arguments or {}}):
                stream.write(json.dumps(request).encode() + b"\n")
                stream.flush()
                while True:
                    reply = json.loads(stream.readline())
                    if "return" in reply or "error" in reply:
                        break
            return reply

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()


def main() -> int:
    rounds = int(next((a for a in sys.argv[1:] if a.isdigit()), "50"))
    settle = "--settle" in sys.argv
    guest = find_test_guest()
    folder = Path(tempfile.mkdtemp(prefix="tcgmig-"))

    def argv(disk: Path, qmp: Path, *extra: str) -> list[str]:
        return ["qemu-system-x86_64", "-machine", "pc,usb=off,dump-guest-core=off", "-accel", "tcg", "-cpu", "qemu64",
                "-m", "128", "-smp", "1", "-display", "none", "-no-user-config", "-nodefaults", "-no-shutdown",
                "-kernel", str(guest.kernel), "-initrd", str(guest.initrd),
                "-append", f"{guest.cmdline} {DISK_ROOT_ARGS}",
                "-drive", f"file={disk},if=none,id=d0,format=qcow2", "-device", "virtio-blk-pci,drive=d0",
                "-netdev", "user,id=n0", "-device", "virtio-net-pci,netdev=n0", "-device", "virtio-balloon-pci",
                "-serial", "stdio", "-qmp", f"unix:{qmp},server=on,wait=off", *extra]

    bad = 0
    for n in range(rounds):
        disk = folder / f"disk{n}.qcow2"
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", str(guest.disk), str(disk)],
                       check=True)
        src, dst = Qemu(argv(disk, folder / "src.qmp"), str(folder / "src.qmp")), None
        try:
            src.wait(READY_MARKER, 180)
            src.send("(i=0; while :; do echo TICK$i; i=$((i+1)); sleep 0.1; done) &")
            src.wait("TICK5", 120)
            if settle:
                src.send("while pidof modprobe >/dev/null; do sleep 0.2; done; echo SETT''LED")
                src.wait("SETTLED", 120)
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                port = probe.getsockname()[1]
            dst = Qemu(argv(disk, folder / "dst.qmp", "-incoming", f"tcp:127.0.0.1:{port}"), str(folder / "dst.qmp"))
            dst.command("query-status")  # its monitor answers: it listens for the stream too
            src.command("migrate", {"uri": f"tcp:127.0.0.1:{port}"})
            while (status := src.command("query-migrate")["return"].get("status")) not in ("completed",  # type: ignore[union-attr]
                                                                                         "failed"):
                time.sleep(0.05)
            if status == "failed":
                print(f"round {n}: the migration itself failed, not counted", flush=True)
                continue
            time.sleep(4)  # an oops comes within ~250 ms of the guest running there
            deadline = time.monotonic() + 36  # a loaded machine: the counter may take a while
            while b"TICK" not in dst.out and time.monotonic() < deadline:
                time.sleep(0.2)
            out = bytes(dst.out)
            broken = b"TICK" not in out or any(word in out for word in (b"BUG", b"Oops", b"panic", READY_MARKER.encode()))
            bad += broken
            print(f"round {n}: {'BROKEN ' + repr(out[:2000]) if broken else 'ok'}", flush=True)
        finally:
            src.kill()
            if dst is not None:
                dst.kill()
            disk.unlink()
    shutil.rmtree(folder, ignore_errors=True)
    print(f"{bad} of {rounds} migrations broke the guest")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
