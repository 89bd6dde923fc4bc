"""Live device changes against pyvirtd with the real test guest under TCG: a virtio disk
hot-plugged with attach-disk shows up in the guest (/sys/block), its I/O counters move when the
guest reads it, detach-disk waits for QEMU's DEVICE_DELETED and the guest loses it; attach-device
--config changes only the definition; screenshot writes a real PNG."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from pyvirt.testguest import READY_MARKER, TestGuest
from tests.daemon_harness import DaemonHarness, guest_shell, guest_xml, wait_console

pytestmark = [pytest.mark.qemu, pytest.mark.timeout(300)]
PYVIRT = [sys.executable, "-m", "pyvirt.cli.main", "-c", "qemu:///session"]


def _cli(daemon: DaemonHarness, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PYVIRT, *args], capture_output=True, text=True, env=daemon.env(), timeout=90)


def _blkstat(daemon: DaemonHarness, dom: str, dev: str) -> dict[str, int]:
    out = _cli(daemon, "domblkstat", dom, dev)
    assert out.returncode == 0, out.stderr
    return {line.split()[1]: int(line.split()[2]) for line in out.stdout.splitlines() if line.strip()}


def _guest_disks(conn, dom: str, marker: str) -> set[str]:
    """Block devices the guest's kernel has (one name per line between two markers)."""
    text = guest_shell(conn, dom, "echo LIST''START; ls -1 /sys/block", marker)
    listing = text.split("LISTSTART")[-1].split(marker)[0]
    return {w for w in listing.split() if w.isalnum() and not w.startswith("echo")}


def _wait_new_disks(conn, before: set[str], marker: str) -> set[str]:
    """The guest's disks that are not in `before`, once there is one (or at a deadline, for the
    caller's assert): a TCG guest on a loaded machine takes its time to probe a plugged disk."""
    deadline = time.monotonic() + 90
    while True:
        new = _guest_disks(conn, "hp", marker) - before
        if new or time.monotonic() > deadline:
            return new
        marker += "x"
        time.sleep(0.5)


def test_disk_hotplug_seen_by_guest(daemon: DaemonHarness, test_guest: TestGuest, tmp_path: Path) -> None:
    conn = daemon.connect()
    conn.define_xml(guest_xml(test_guest, "hp"))
    conn.start("hp")
    wait_console(conn, "hp", READY_MARKER)
    image = tmp_path / "extra.img"
    with open(image, "wb") as handle:
        handle.truncate(8 << 20)

    before_disks = _guest_disks(conn, "hp", "HPLS0")
    added = _cli(daemon, "attach-disk", "hp", str(image), "vdb", "--targetbus", "virtio")
    assert added.stderr == ""
    assert (added.returncode, added.stdout, added.stderr) == (0, "Disk attached successfully\n\n", "")
    assert "<target dev='vdb' bus='virtio'/>" in _cli(daemon, "dumpxml", "hp").stdout
    new = _wait_new_disks(conn, before_disks, "HPLS1")
    assert len(new) == 1 and next(iter(new)).startswith("vd"), new  # the guest names it in probe order
    (guest_dev,) = new
    again = _cli(daemon, "attach-disk", "hp", str(image), "vdb")
    assert again.returncode == 1 and "target vdb already exists" in again.stderr

    before = _blkstat(daemon, "hp", "vdb")
    guest_shell(conn, "hp", f"dd if=/dev/{guest_dev} of=/dev/null bs=64k count=32", "HPDD1")
    after = _blkstat(daemon, "hp", "vdb")
    assert after["rd_bytes"] >= before["rd_bytes"] + (2 << 20) and after["rd_req"] > before["rd_req"]
    human = _cli(daemon, "domblkstat", "hp", "vdb", "--human")
    assert human.stdout.startswith("Device: vdb\n number of read operations:")

    removed = _cli(daemon, "detach-disk", "hp", "vdb")
    assert (removed.returncode, removed.stdout, removed.stderr) == (0, "Disk detached successfully\n\n", "")
    assert "vdb" not in _cli(daemon, "domblklist", "hp").stdout
    assert _guest_disks(conn, "hp", "HPLS2") == before_disks
    missing = _cli(daemon, "detach-disk", "hp", "vdb")
    assert (missing.returncode, missing.stderr) == (1, "error: No disk found whose source path or target is vdb\n")

    # the same disk plugged again takes fresh block nodes (the old ones were freed)
    assert _cli(daemon, "attach-disk", "hp", str(image), "vdc").returncode == 0
    assert _cli(daemon, "detach-disk", "hp", "vdc").returncode == 0


def test_config_only_attach_and_bad_device(daemon: DaemonHarness, test_guest: TestGuest, tmp_path: Path) -> None:
    conn = daemon.connect()
    conn.define_xml(guest_xml(test_guest, "hc"))
    image = tmp_path / "c.img"
    image.write_bytes(b"\0" * 4096)
    disk = tmp_path / "disk.xml"
    disk.write_text(f"<disk type='file' device='disk'><source file='{image}'/><target dev='vdb' bus='virtio'/></disk>")
    inactive = _cli(daemon, "attach-device", "hc", str(disk))  # shut off: the running guest is the default
    assert inactive.returncode == 1 and "domain is not running" in inactive.stderr
    assert _cli(daemon, "attach-device", "hc", str(disk), "--config").returncode == 0
    assert "vdb" in _cli(daemon, "domblklist", "hc", "--inactive").stdout
    assert _cli(daemon, "detach-device", "hc", str(disk), "--config").returncode == 0
    assert "vdb" not in _cli(daemon, "domblklist", "hc", "--inactive").stdout
    sound = tmp_path / "sound.xml"
    sound.write_text("<sound model='ich6'/>")
    refused = _cli(daemon, "attach-device", "hc", str(sound), "--config")
    assert refused.returncode == 1 and "<sound>" in refused.stderr
    mixed = _cli(daemon, "attach-device", "hc", str(disk), "--current", "--live")
    assert mixed.stderr == "error: Options --current and --live are mutually exclusive\n"


def test_screenshot_is_a_png(daemon: DaemonHarness, test_guest: TestGuest, tmp_path: Path) -> None:
    conn = daemon.connect()
    vnc = "<graphics type='vnc' autoport='yes' listen='127.0.0.1'/><video><model type='vga'/></video>"
    conn.define_xml(guest_xml(test_guest, "shot", extra_devices=vnc).replace("<video><model type='none'/></video>", ""))
    conn.start("shot")
    wait_console(conn, "shot", READY_MARKER)
    target = tmp_path / "shot.png"
    out = _cli(daemon, "screenshot", "shot", "--file", str(target))
    assert out.returncode == 0, out.stderr
    assert out.stdout == f"Screenshot saved to {target}, with type of image/png\n"
    data = target.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width >= 320 and height >= 200


CDROM = ("<controller type='scsi' model='virtio-scsi'/>"
         "<disk type='file' device='cdrom'><target dev='sda' bus='scsi'/><readonly/></disk>")


def _cd_label_count(conn, marker: str) -> str:
    text = guest_shell(conn, "cd", "dd if=/dev/sr0 bs=2048 skip=16 count=1 2>/dev/null | grep -a -c PYVIRT''CD", marker)
    return text.rsplit(marker, 1)[0].split()[-1]  # grep's count, printed just before the marker


def test_change_media_seen_by_guest(daemon: DaemonHarness, test_guest: TestGuest, tmp_path: Path) -> None:
    content = tmp_path / "content"
    content.mkdir()
    (content / "hello.txt").write_text("hello\n")
    iso = tmp_path / "cd.iso"
    subprocess.run(["genisoimage", "-quiet", "-V", "PYVIRTCD", "-o", str(iso), str(content)], check=True)
    conn = daemon.connect()
    conn.define_xml(guest_xml(test_guest, "cd", extra_devices=CDROM))
    conn.start("cd")
    wait_console(conn, "cd", READY_MARKER)
    assert _cd_label_count(conn, "CDMARK0") == "0"

    empty = _cli(daemon, "change-media", "cd", "sda", "--eject")
    assert (empty.returncode, empty.stderr) == (1, "error: The disk device 'sda' doesn't have media\n")
    inserted = _cli(daemon, "change-media", "cd", "sda", str(iso), "--insert")
    assert (inserted.returncode, inserted.stdout, inserted.stderr) == (0, "Successfully inserted media.\n\n", "")
    assert str(iso) in _cli(daemon, "domblklist", "cd").stdout
    assert _cd_label_count(conn, "CDMARK1") == "1"

    ejected = _cli(daemon, "change-media", "cd", "sda", "--eject")
    assert (ejected.returncode, ejected.stdout) == (0, "Successfully ejected media.\n\n")
    assert str(iso) not in _cli(daemon, "domblklist", "cd").stdout
    assert _cd_label_count(conn, "CDMARK2") == "0"
    not_removable = _cli(daemon, "change-media", "cd", "vda", "--eject")
    assert not_removable.stderr == "error: No disk found whose source path or target is vda\n"
