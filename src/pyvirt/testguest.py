"""Locate the test guest built by ``tests/guest/build.sh``.

Integration tests, the demo and the benchmarks all boot the same tiny guest (Debian's cloud
kernel plus a busybox initramfs, or the same root filesystem on an ext4 qcow2 disk). The
build script caches it under a key of package versions; this module only finds that cache,
so callers never hard-code paths and get one clear message when the guest is missing.

Stdlib only: the CLI and the demo import it and must start fast.

What the guest does (tests rely on these console lines):
- ``PYVIRT-GUEST-ROOT=initramfs`` or ``PYVIRT-GUEST-ROOT=disk``, then ``PYVIRT-GUEST-READY``
  once booted (from then on the ACPI power button is handled: acpid holds its input device);
  a root shell then runs on the console (ttyS0 with the default cmdline);
- ``PYVIRT-DHCP-OK <ip>`` when udhcpc gets a lease on the first NIC (virtio-net);
- ``PYVIRT-GUEST-AGENT-STARTED`` when the domain has the guest agent's virtio channel
  (org.qemu.guest_agent.0): Debian's qemu-ga then answers on it (docs/guest-agent.md);
- ``PYVIRT-GUEST-POWERDOWN`` then an immediate poweroff on the ACPI power button
  (QMP ``system_powerdown``); ``poweroff`` and ``reboot -f`` work from the shell.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "BUILD_HINT",
    "DEFAULT_CMDLINE",
    "DHCP_MARKER",
    "DISK_ROOT_ARGS",
    "POWERDOWN_MARKER",
    "READY_MARKER",
    "ROM_MARKER",
    "ROOT_MARKER",
    "TestGuest",
    "TestGuestMissing",
    "default_cache_dir",
    "find_test_guest",
    "rom_domain_xml",
    "rom_image",
]

#: Printed on the console once the guest has booted.
READY_MARKER = "PYVIRT-GUEST-READY"
#: Prefix of the line printed when DHCP gets a lease; the address follows after a space.
DHCP_MARKER = "PYVIRT-DHCP-OK"
#: Printed before the variant name (``initramfs`` or ``disk``).
ROOT_MARKER = "PYVIRT-GUEST-ROOT="
#: Printed when the ACPI power button was pressed.
POWERDOWN_MARKER = "PYVIRT-GUEST-POWERDOWN"
#: Kernel command line used when the build did not record one.
DEFAULT_CMDLINE = "console=ttyS0 panic=-1 quiet"
#: Appended to the command line to boot the disk variant on the first virtio-blk disk.
DISK_ROOT_ARGS = "root=/dev/vda rootfstype=ext4"
#: Written to COM1 by the firmware-only guest (:func:`rom_image`) as its very first act.
ROM_MARKER = "PYVIRT-ROM-READY"
BUILD_HINT = "run `bash tests/guest/build.sh` (or `make guest`) as root to build it"


class TestGuestMissing(FileNotFoundError):
    """The test guest has not been built (or the cache is incomplete)."""

    __test__ = False  # not a pytest test class despite the name


@dataclass(frozen=True)
class TestGuest:
    """Paths of one built test guest and the kernel command line to boot it with.

    ``disk`` is a read-only template: copy it (or put a qcow2 overlay on it) before booting,
    so that concurrent tests never write to the shared image.
    """

    __test__ = False  # not a pytest test class despite the name

    directory: Path
    kernel: Path
    initrd: Path
    disk: Path
    cmdline: str

    @property
    def disk_cmdline(self) -> str:
        """Command line for booting the disk variant (``disk`` attached as the first virtio-blk)."""
        return f"{self.cmdline} {DISK_ROOT_ARGS}"

    def domain_xml(self, name: str, *, memory_mib: int = 256, title: str | None = None,
                   disk: str | os.PathLike[str] | None = None, extra_devices: str = "",
                   on_poweroff: str = "destroy", on_reboot: str = "restart") -> str:
        """A libvirt domain that boots this guest under TCG: direct kernel boot, serial on a pty,
        a virtio NIC on user networking, no display.  With `disk`, the root is that qcow2 (virtio)."""
        cmdline = self.disk_cmdline if disk is not None else self.cmdline
        disk_xml = ""
        if disk is not None:
            disk_xml = (f"<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
                        f"<source file='{disk}'/><target dev='vda' bus='virtio'/></disk>")
        title_xml = f"\n  <title>{title}</title>" if title else ""
        return f"""<domain type='qemu'>
  <name>{name}</name>{title_xml}
  <memory unit='MiB'>{memory_mib}</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>{self.kernel}</kernel>
    <initrd>{self.initrd}</initrd>
    <cmdline>{cmdline}</cmdline>
  </os>
  <features><acpi/></features>
  <on_poweroff>{on_poweroff}</on_poweroff>
  <on_reboot>{on_reboot}</on_reboot>
  <devices>
    {disk_xml}
    <serial type='pty'/>
    <interface type='user'><model type='virtio'/></interface>
    <video><model type='none'/></video>
    {extra_devices}
  </devices>
</domain>
"""

    def copied_to(self, folder: str | os.PathLike[str]) -> TestGuest:
        """This guest with its kernel and initrd copied into `folder` (refreshed when they
        differ): a system pyvirtd's QEMU runs unprivileged and cannot reach the build cache
        under /root, as libvirt's cannot (virt-install copies boot files to its boot dir too)."""
        import shutil

        folder = Path(folder)
        copies = []
        for src in (self.kernel, self.initrd):
            dst = folder / f"pyvirt-test-guest-{src.name}"
            if not dst.exists() or dst.stat().st_size != src.stat().st_size \
                    or dst.stat().st_mtime != src.stat().st_mtime:
                shutil.copy2(src, dst)
                dst.chmod(0o644)
            copies.append(dst)
        return TestGuest(self.directory, copies[0], copies[1], self.disk, self.cmdline)

    def info(self) -> dict[str, str]:
        """The build's ``info`` file (kernel release, package versions, cache key) as a dict."""
        result: dict[str, str] = {}
        path = self.directory / "info"
        if path.is_file():
            for line in path.read_text().splitlines():
                key, sep, value = line.partition("=")
                if sep:
                    result[key.strip()] = value.strip()
        return result


def default_cache_dir() -> Path:
    """The cache root: ``$PYVIRT_GUEST_CACHE`` or ``~/.cache/pyvirt/test-guest`` (as build.sh)."""
    env = os.environ.get("PYVIRT_GUEST_CACHE")
    if env:
        return Path(env)
    return Path.home() / ".cache" / "pyvirt" / "test-guest"


def find_test_guest(cache_dir: str | os.PathLike[str] | None = None) -> TestGuest:
    """Return the latest built test guest (the cache's ``current`` link).

    Raises TestGuestMissing, whose message says how to build it, when anything is missing.
    """
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    current = root / "current"
    if not current.exists():
        raise TestGuestMissing(f"no test guest under {root}: {BUILD_HINT}")
    directory = current.resolve()
    paths = {name: directory / name for name in ("vmlinuz", "initrd.img", "disk.qcow2")}
    missing = [name for name, path in paths.items() if not path.is_file()]
    if missing:
        raise TestGuestMissing(f"test guest {directory} lacks {', '.join(missing)}: {BUILD_HINT}")
    cmdline_file = directory / "cmdline"
    cmdline = cmdline_file.read_text().strip() if cmdline_file.is_file() else ""
    return TestGuest(
        directory=directory,
        kernel=paths["vmlinuz"],
        initrd=paths["initrd.img"],
        disk=paths["disk.qcow2"],
        cmdline=cmdline or DEFAULT_CMDLINE,
    )


# ---------------------------------------------------------------------------- firmware-only guest

ROM_SIZE = 64 * 1024


def rom_image(marker: str = ROM_MARKER) -> bytes:
    """A 64 KiB ROM (``<loader type='rom'>``, QEMU's ``-bios``) that writes *marker* to COM1 as its
    first instructions, then halts for good: a guest with no kernel and no disk, whose start is
    QEMU's start-up plus the management stack's path, with a few ms of noise instead of a kernel
    boot's hundreds. Assembled here from a handful of x86 real-mode bytes (no toolchain needed).

    The CPU resets at F000:FFF0 (physical 0xFFFFFFF0, the ROM's last 16 bytes) with CS based at
    0xFFFF0000, so a near jump from there to offset 0 lands at the start of the ROM. COM1 needs
    no set-up: QEMU's 16550 transmits whatever is written to its data register.
    """
    code = bytearray(b"\xba\xf8\x03")  # mov dx, 0x3f8
    for byte in (marker + "\r\n").encode():
        code += bytes((0xB0, byte, 0xEE))  # mov al, byte ; out dx, al
    code += b"\xfa\xf4\xeb\xfd"  # cli ; hlt ; jmp back to hlt
    rom = bytearray(b"\xf4" * ROM_SIZE)  # hlt everywhere else
    rom[: len(code)] = code
    rel = (0 - (0xFFF0 + 3)) & 0xFFFF  # jmp near rel16, relative to the next instruction
    rom[0xFFF0:0xFFF3] = bytes((0xE9, rel & 0xFF, rel >> 8))
    return bytes(rom)


def rom_domain_xml(name: str, rom: str | os.PathLike[str], serial_log: str | os.PathLike[str] | None = None) -> str:
    """The firmware-only guest as libvirt XML: TCG, 16 MiB, the ROM, COM1 into *serial_log*
    (a file), or on a pty when no file is given."""
    serial = (f"<serial type='file'><source path='{serial_log}'/></serial>" if serial_log is not None
              else "<serial type='pty'/>")
    return (f"<domain type='qemu'><name>{name}</name><memory unit='MiB'>16</memory><vcpu>1</vcpu>"
            f"<os><type arch='x86_64' machine='pc'>hvm</type><loader type='rom'>{rom}</loader></os>"
            f"<devices>{serial}</devices></domain>")
