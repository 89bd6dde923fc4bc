"""The test guest under plain qemu-system-x86_64 (no pyvirt code but the guest locator).

Why: every other integration test trusts the guest to boot, take a DHCP lease, answer on
its serial shell and power off on the ACPI button. This file checks exactly that against
raw QEMU, so a failure here points at the guest build, not at pyvirt's driver.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from qemu.qmp import QMPClient

from pyvirt.testguest import (
    DHCP_MARKER,
    POWERDOWN_MARKER,
    READY_MARKER,
    ROOT_MARKER,
    TestGuest,
)

BOOT_TIMEOUT = 60.0  # TCG on a loaded 2-core machine; a normal boot takes about 3 s


class RawGuest:
    """qemu-system-x86_64 with the serial console on stdin/stdout pipes and a QMP unix socket."""

    def __init__(self, argv: list[str], qmp_path: Path) -> None:
        self.argv = argv
        self.qmp_path = qmp_path
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        self._output = bytearray()
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        while chunk := self.proc.stdout.read1(65536):
            with self._cond:
                self._output += chunk
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    @property
    def output(self) -> str:
        """Console output so far (QEMU's own stderr is mixed in: it helps diagnose failures)."""
        with self._cond:
            return self._output.decode(errors="replace")

    def wait_for(self, pattern: str, timeout: float = BOOT_TIMEOUT, start: int = 0) -> re.Match[str]:
        """Wait until ``pattern`` (a regex, multiline) appears in the output after offset ``start``."""
        regex = re.compile(pattern, re.MULTILINE)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                text = self._output.decode(errors="replace")
                match = regex.search(text, start)
                if match:
                    return match
                remaining = deadline - time.monotonic()
                if remaining <= 0 or (self.proc.poll() is not None and not self._reader.is_alive()):
                    raise AssertionError(
                        f"{pattern!r} not seen after {timeout:.0f}s (qemu rc={self.proc.poll()});"
                        f" output tail:\n{text[-3000:]}"
                    )
                self._cond.wait(min(remaining, 0.5))

    def send(self, line: str) -> int:
        """Type a line on the serial console; returns the output offset before it was sent."""
        offset = len(self.output)
        assert self.proc.stdin is not None
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()
        return offset

    def qmp(self, command: str, **args: object) -> object:
        """Run one QMP command on a fresh connection (the qemu.qmp asyncio client)."""

        async def run() -> object:
            client = QMPClient("test-guest-raw")
            await client.connect(str(self.qmp_path))
            try:
                return await client.execute(command, args or None)
            finally:
                await client.disconnect()

        return asyncio.run(run())

    def close(self) -> None:
        """Kill QEMU if a test left it running."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
        if self.proc.stdin:
            self.proc.stdin.close()
        self._reader.join(timeout=5)
        if self.proc.stdout:
            self.proc.stdout.close()


def qemu_argv(
    qemu: str, guest: TestGuest, qmp_path: Path, disk: Path | None = None, machine: str = "pc"
) -> list[str]:
    """Raw QEMU command line: TCG, direct kernel boot, serial on stdio, virtio NIC on user networking."""
    argv = [
        qemu, "-machine", machine, "-accel", "tcg", "-m", "256", "-nodefaults", "-no-user-config", "-display", "none",
        "-kernel", str(guest.kernel), "-initrd", str(guest.initrd),
        "-append", guest.disk_cmdline if disk else guest.cmdline,
        "-chardev", "stdio,id=ser0,signal=off", "-serial", "chardev:ser0",
        "-qmp", f"unix:{qmp_path},server=on,wait=off",
        "-netdev", "user,id=net0", "-device", "virtio-net-pci,netdev=net0",
    ]  # fmt: skip
    if disk:
        argv += ["-drive", f"file={disk},format=qcow2,if=none,id=disk0",
                 "-device", "virtio-blk-pci,drive=disk0"]  # fmt: skip
    return argv


@pytest.fixture
def launch(qemu_binary: str, test_guest: TestGuest, tmp_path: Path) -> Iterator:
    """Factory that boots the guest (optionally from a disk) and kills leftovers afterwards."""
    guests: list[RawGuest] = []

    def start(disk: Path | None = None, machine: str = "pc") -> RawGuest:
        qmp_path = tmp_path / f"qmp{len(guests)}.sock"
        guest = RawGuest(qemu_argv(qemu_binary, test_guest, qmp_path, disk, machine), qmp_path)
        guests.append(guest)
        return guest

    yield start
    for guest in guests:
        guest.close()


# pc is what the guest was tuned on; q35 is virt-install's default machine, whose ACPI
# power button lives elsewhere (ICH9 LPC), so both must power off on system_powerdown.
@pytest.mark.parametrize("machine", ["pc", "q35"])
def test_initramfs_boot_dhcp_shell_and_acpi_powerdown(launch, machine: str) -> None:
    guest = launch(machine=machine)
    guest.wait_for(re.escape(READY_MARKER))
    boot_s = time.monotonic() - guest.started
    print(f"\ntest guest ({machine}): {READY_MARKER} after {boot_s:.2f}s (TCG, raw qemu)")
    guest.wait_for(rf"^{re.escape(ROOT_MARKER)}initramfs\r?$")

    lease = guest.wait_for(rf"{DHCP_MARKER} (\d+\.\d+\.\d+\.\d+)", timeout=30)
    assert lease.group(1).startswith("10.0.2."), lease.group(0)  # slirp's default subnet

    # The shell evaluates what we type: the echoed command line holds $((1+2)), only the
    # shell's output holds "hi-3".
    offset = guest.send("echo hi-$((1+2))")
    guest.wait_for(r"^hi-3\r?$", timeout=20, start=offset)

    assert guest.qmp("query-status") == {"running": True, "singlestep": False, "status": "running"}
    guest.qmp("system_powerdown")
    began = time.monotonic()
    rc = guest.proc.wait(timeout=15)
    took = time.monotonic() - began
    print(f"test guest: QEMU exited {took:.2f}s after system_powerdown")
    assert rc == 0
    assert took < 10
    assert POWERDOWN_MARKER in guest.output


def test_disk_variant_persists_across_reboot_and_powers_off(launch, guest_disk: Path) -> None:
    guest = launch(disk=guest_disk)
    guest.wait_for(rf"^{re.escape(ROOT_MARKER)}disk\r?$")
    first = guest.wait_for(re.escape(READY_MARKER))

    offset = guest.send("grep ' / ' /proc/mounts; echo token-$((6*7)) >/root/persist; sync")
    guest.wait_for(r"^/dev/vda / ext4 rw", timeout=20, start=offset)

    # reboot -f resets the machine (no -no-reboot): the guest must boot a second time.
    offset = guest.send("reboot -f")
    guest.wait_for(re.escape(READY_MARKER), start=max(offset, first.end()))
    offset = guest.send("cat /root/persist")
    guest.wait_for(r"^token-42\r?$", timeout=20, start=offset)

    guest.send("poweroff")  # through busybox init's graceful path
    assert guest.proc.wait(timeout=30) == 0
