"""pyvirt-install end to end against a private pyvirtd and the real test guest under TCG:
direct kernel boot (--import --boot kernel=…), a cloud-init seed, a --cdrom ISO, --location
trees and ISOs, and --disk size= volumes (kept on success, removed when the install fails).

The CLI runs as a subprocess, as a user would run it; the daemon is the test's own.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree

from pyvirt.api import PyvirtError
from pyvirt.testguest import READY_MARKER, TestGuest
from tests.daemon_harness import DaemonHarness, wait_console

pytestmark = pytest.mark.timeout(300)
INSTALL = [sys.executable, "-m", "pyvirt.cli.install"]



def _install(daemon: DaemonHarness, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = daemon.env()
    env["XDG_CACHE_HOME"] = str(daemon.root / "cache")
    env.pop("VIRTINST_TEST_SUITE", None)
    cmd = [*INSTALL, "--connect", "qemu:///session", "--memory", "256", "--noautoconsole",
           "--virt-type", "qemu", "--osinfo", "linux2022", "--graphics", "none",
           "--network", "user", *args]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180,
                          stdin=subprocess.DEVNULL)
    if check:
        assert proc.returncode == 0, proc.stdout + proc.stderr + daemon.log_text()
    return proc


def _boot(guest: TestGuest) -> list[str]:
    return ["--boot", f'kernel={guest.kernel},initrd={guest.initrd},kernel_args="{guest.cmdline}"']


def _xml(daemon: DaemonHarness, name: str, inactive: bool = False) -> etree._Element:
    return etree.fromstring(daemon.connect().get_xml(name, inactive=inactive).encode())


def _scratch(daemon: DaemonHarness) -> list[str]:
    boot = daemon.root / "cache" / "pyvirt" / "boot"
    return sorted(os.listdir(boot)) if boot.is_dir() else []


def _make_iso(tmp: Path, files: dict[str, Path], label: str = "TESTISO") -> Path:
    tree = tmp / f"tree-{label}"
    for rel, src in files.items():
        dest = tree / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
    tree.mkdir(exist_ok=True)
    iso = tmp / f"{label}.iso"
    tool = shutil.which("xorrisofs") or shutil.which("genisoimage")
    assert tool, "needs xorriso or genisoimage"
    subprocess.run([tool, "-o", str(iso), "-J", "-rational-rock", "-V", label, str(tree)],
                   check=True, capture_output=True)
    return iso


def test_import_kernel_boot(daemon: DaemonHarness, test_guest: TestGuest) -> None:
    proc = _install(daemon, "--name", "imp", "--import", "--disk", "none", *_boot(test_guest))
    assert "Domain creation completed." in proc.stdout
    conn = daemon.connect()
    print(f"create-to-marker {wait_console(conn, 'imp', READY_MARKER, 120):.2f}s")
    assert conn.lookup_domain("imp").persistent
    assert _xml(daemon, "imp", inactive=True).findtext("os/kernel") == str(test_guest.kernel)


def _qemu_fd_copy(daemon: DaemonHarness, suffix: str, dest: Path) -> Path:
    """Copy the (already unlinked) file QEMU holds open whose name ends with `suffix`."""
    for pid in daemon.qemu_pids():
        fd_dir = Path(f"/proc/{pid}/fd")
        for fd in fd_dir.iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.replace(" (deleted)", "").endswith(suffix):
                shutil.copyfile(fd, dest)
                return dest
    raise AssertionError(f"no QEMU holds a *{suffix} file open")


def test_cloud_init_seed(daemon: DaemonHarness, test_guest: TestGuest, tmp_path: Path) -> None:
    pw = tmp_path / "pw.txt"
    pw.write_text("s3cret-pw\n")
    key = tmp_path / "key.pub"
    key.write_text("ssh-ed25519 AAAAC3Nza testkey\n")
    proc = _install(daemon, "--name", "ci", "--import", "--disk", "none", *_boot(test_guest),
                    "--cloud-init", f"root-password-file={pw},root-ssh-key={key},disable=on")
    assert "Password for first root login" not in proc.stdout
    conn = daemon.connect()
    wait_console(conn, "ci", READY_MARKER, 120)

    live = _xml(daemon, "ci")
    assert live.findtext("sysinfo/system/entry[@name='serial']") == "ds=nocloud"
    assert live.find("os/smbios").get("mode") == "sysinfo"
    seeds = [d for d in live.findall("devices/disk") if d.get("device") == "cdrom"]
    assert seeds and seeds[0].find("source").get("file").endswith("-cloudinit.iso")
    assert live.findtext("on_reboot") == "destroy"

    final = _xml(daemon, "ci", inactive=True)
    assert final.find("sysinfo") is None and final.find("os/smbios") is None
    cd = [d for d in final.findall("devices/disk") if d.get("device") == "cdrom"]
    assert cd and cd[0].find("source") is None
    assert _scratch(daemon) == [], "seed ISO left in the scratch dir"

    iso = _qemu_fd_copy(daemon, "-cloudinit.iso", tmp_path / "seed.iso")
    info = subprocess.run(["isoinfo", "-d", "-i", str(iso)], capture_output=True, text=True).stdout
    assert "Volume id: cidata" in info
    names = subprocess.run(["isoinfo", "-J", "-f", "-i", str(iso)], capture_output=True, text=True).stdout
    assert {"/meta-data", "/user-data"} <= set(names.split())
    user = subprocess.run(["isoinfo", "-J", "-x", "/user-data", "-i", str(iso)],
                          capture_output=True, text=True).stdout
    assert user.startswith("#cloud-config\n")
    assert "root:s3cret-pw" in user and "expire: False" in user
    assert "ssh-ed25519 AAAAC3Nza testkey" in user
    assert "cloud-init.disabled" in user


def test_cdrom_iso(daemon: DaemonHarness, test_guest: TestGuest, tmp_path: Path) -> None:
    iso = _make_iso(tmp_path, {"README": test_guest.directory / "cmdline"}
                    if (test_guest.directory / "cmdline").exists() else {"k": test_guest.kernel})
    _install(daemon, "--name", "cd", "--cdrom", str(iso), "--disk", "none", *_boot(test_guest))
    conn = daemon.connect()
    wait_console(conn, "cd", READY_MARKER, 120)
    live = [d for d in _xml(daemon, "cd").findall("devices/disk") if d.get("device") == "cdrom"]
    assert live[0].find("source").get("file") == str(iso)
    final = [d for d in _xml(daemon, "cd", inactive=True).findall("devices/disk")
             if d.get("device") == "cdrom"]
    assert final and final[0].find("source") is None  # media ejected after the install boot


@pytest.mark.parametrize("kind", ["tree", "iso", "url"])
def test_location(daemon: DaemonHarness, test_guest: TestGuest, tmp_path: Path, kind: str) -> None:
    server = None
    if kind in ("tree", "url"):  # Fedora layout, on disk or served over loopback HTTP
        loc = tmp_path / "fedora-tree"
        (loc / "images" / "pxeboot").mkdir(parents=True)
        shutil.copyfile(test_guest.kernel, loc / "images/pxeboot/vmlinuz")
        shutil.copyfile(test_guest.initrd, loc / "images/pxeboot/initrd.img")
        if kind == "url":
            import functools
            import http.server
            import threading

            class Quiet(http.server.SimpleHTTPRequestHandler):
                def log_message(self, *args: object) -> None:
                    pass

            server = http.server.ThreadingHTTPServer(
                ("127.0.0.1", 0), functools.partial(Quiet, directory=str(tmp_path)))
            threading.Thread(target=server.serve_forever, daemon=True).start()
            loc = f"http://127.0.0.1:{server.server_address[1]}/fedora-tree"  # type: ignore[assignment]
    else:  # Ubuntu live (casper) layout, read with xorriso
        loc = _make_iso(tmp_path, {"casper/vmlinuz": test_guest.kernel,
                                   "casper/initrd": test_guest.initrd}, label="UBUNTU")
    name = f"loc-{kind}"
    try:
        _install(daemon, "--name", name, "--location", str(loc), "--disk", "none",
                 "--extra-args", test_guest.cmdline)
    finally:
        if server is not None:
            server.shutdown()
            server.server_close()
    conn = daemon.connect()
    wait_console(conn, name, READY_MARKER, 120)
    live = _xml(daemon, name)
    assert live.findtext("os/kernel").endswith("-vmlinuz")
    assert live.findtext("os/cmdline") == test_guest.cmdline
    assert _xml(daemon, name, inactive=True).find("os/kernel") is None
    assert _scratch(daemon) == [], "kernel/initrd left in the scratch dir"
    if kind == "iso":
        cds = [d for d in live.findall("devices/disk") if d.get("device") == "cdrom"]
        assert cds[0].find("source").get("file") == str(loc)


def test_location_without_kernel_is_refused(daemon: DaemonHarness, tmp_path: Path) -> None:
    proc = _install(daemon, "--name", "bad", "--location", str(tmp_path), "--disk", "none",
                    check=False)
    assert proc.returncode == 1
    assert "Could not find an installable distribution" in proc.stderr


def test_disk_size_volume(daemon: DaemonHarness, test_guest: TestGuest) -> None:
    _install(daemon, "--name", "sz", "--import", "--disk", "size=0.01", *_boot(test_guest))
    conn = daemon.connect()
    vols = {v.name: v for v in conn.list_volumes("default")}
    assert "sz.qcow2" in vols
    disk = _xml(daemon, "sz", inactive=True).find("devices/disk")
    assert disk.find("source").get("file") == vols["sz.qcow2"].path
    assert disk.find("driver").get("type") == "qcow2"
    wait_console(conn, "sz", READY_MARKER, 120)

    # A failing define (as libvirt 9.0, a nonexistent <emulator> is refused there, after the
    # new volume was made) must not leave the new volume behind.
    proc = _install(daemon, "--name", "sz2", "--import", "--disk", "size=0.01", *_boot(test_guest),
                    "--xml", "./devices/emulator=/nonexistent/qemu", check=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Cannot check QEMU binary /nonexistent/qemu" in proc.stderr
    assert "does not appear to have been successful" in proc.stderr
    assert {v.name for v in conn.list_volumes("default")} == set(vols)
    with pytest.raises(PyvirtError):
        conn.lookup_domain("sz2")


def test_disk_path_in_unmanaged_folder(daemon: DaemonHarness, test_guest: TestGuest, tmp_path: Path) -> None:
    folder = tmp_path / "images"
    folder.mkdir()
    target = folder / "new.qcow2"
    _install(daemon, "--name", "fold", "--import", "--disk", f"{target},size=0.01", *_boot(test_guest))
    conn = daemon.connect()
    pools = [p for p in conn.list_pools() if p.path and Path(p.path) == folder]
    assert pools, "no dir pool made for the folder"
    assert "new.qcow2" in {v.name for v in conn.list_volumes(pools[0].name)}
    assert target.is_file()
    disk = _xml(daemon, "fold", inactive=True).find("devices/disk")
    assert disk.find("source").get("file") == str(target)
    assert disk.find("driver").get("discard") == "unmap"


def test_unattended_script_reaches_the_installer(daemon: DaemonHarness, test_guest: TestGuest,
                                                 tmp_path: Path) -> None:
    """--unattended and --initrd-inject on a tree install: the guest's kernel unpacks the
    archive appended to its initrd.  The injected `init` replaces the test guest's own
    initramfs entry (a later archive's file wins), reports the kickstart osinfo's script
    rendered into /fedora.ks and the kernel argument that points the installer at it, then
    boots as usual."""
    loc = tmp_path / "fedora-tree"
    (loc / "images" / "pxeboot").mkdir(parents=True)
    shutil.copyfile(test_guest.kernel, loc / "images/pxeboot/vmlinuz")
    shutil.copyfile(test_guest.initrd, loc / "images/pxeboot/initrd.img")
    (tmp_path / "pw").write_text("s3cret\n")
    init = tmp_path / "init"
    init.write_text('#!/bin/sh\nmount -t proc proc /proc 2>/dev/null\n'
                    "echo \"PYVIRT-KS $(grep rootpw /fedora.ks) $(grep -o 'inst.ks=[^ ]*' /proc/cmdline)\"\n"
                    'exec /sbin/init\n')
    init.chmod(0o755)
    _install(daemon, "--name", "ua", "--location", str(loc), "--disk", "none",
             "--osinfo", "fedora36", "--unattended",
             f"profile=jeos,admin-password-file={tmp_path / 'pw'}",
             "--initrd-inject", str(init), "--extra-args", test_guest.cmdline)
    conn = daemon.connect()
    wait_console(conn, "ua", "PYVIRT-KS rootpw 's3cret' inst.ks=file:/fedora.ks", 120)
    wait_console(conn, "ua", READY_MARKER, 120)
    live = _xml(daemon, "ua")
    assert live.findtext("os/cmdline") == f"{test_guest.cmdline} inst.ks=file:/fedora.ks inst.repo="
    assert _scratch(daemon) == [], "kernel/initrd left in the scratch dir"
    assert Path(test_guest.initrd).read_bytes() == (loc / "images/pxeboot/initrd.img").read_bytes()
