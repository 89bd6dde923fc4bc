"""qemu:///system run by root: QEMU runs as the unprivileged pyvirt-qemu by default (qemu.conf's
user/group change it), without capabilities; what it opens is chowned to that user at start and
given back at stop, and the QEMU process itself gets EACCES for what it was not given (issue 10,
defence in depth).  Real QEMU under TCG, the firmware-only ROM guest; the state root lives in a
directory the QEMU user may search, as an admin's would."""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import time
from pathlib import Path

import pytest

from pyvirt.api import PyvirtError
from pyvirt.daemon.qemuconf import DEFAULT_USER
from pyvirt.paths import state_paths
from pyvirt.testguest import rom_domain_xml, rom_image
from tests.daemon_harness import live_processes
from tests.security.fakedriver import destroy_all

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="changing QEMU's user needs root"),
    pytest.mark.skipif(shutil.which("qemu-system-x86_64") is None, reason="no QEMU installed"),
]
NOBODY = 65534


def _default_user() -> pwd.struct_passwd:
    """pyvirt-qemu, which `make deps` creates; its absence fails under make test (it must exist)."""
    try:
        return pwd.getpwnam(DEFAULT_USER)
    except KeyError:
        if os.environ.get("PYVIRT_REQUIRE_QEMU"):
            pytest.fail(f"the system user {DEFAULT_USER} is missing: `make deps` creates it")
        pytest.skip(f"no system user {DEFAULT_USER} (`make deps` creates it)")


def _swtpm_pids(root: Path) -> list[int]:
    return [pid for pid, cmd in live_processes()
            if cmd and cmd[0].endswith(b"swtpm") and str(root).encode() in b" ".join(cmd)]


def _status(pid: int) -> dict[str, str]:
    return dict(line.split(":\t", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":\t" in line)


def test_system_guest_runs_unprivileged_by_default_and_its_files_are_given_back(open_root: Path) -> None:
    root = open_root
    from pyvirt.daemon.driver import QemuDriver

    qemu = _default_user()
    paths = state_paths("qemu:///system", root)
    paths.ensure()
    assert not (paths.config / "qemu.conf").exists()  # nothing configured: the default applies
    images = root / "images"
    images.mkdir(mode=0o711)
    rom = images / "rom.bin"
    rom.write_bytes(rom_image())
    rom.chmod(0o600)  # root's own, unreadable to QEMU's user: relabelled for the run
    disk = images / "disk.img"
    disk.write_bytes(b"\0" * (1 << 20))
    disk.chmod(0o600)
    plugged = images / "plugged.img"
    plugged.write_bytes(b"\0" * (1 << 20))
    plugged.chmod(0o600)
    secret = images / "not-given.img"  # reachable, in the same directory, but never handed to QEMU
    secret.write_bytes(b"\0" * 4096)
    secret.chmod(0o600)
    xml = rom_domain_xml("dac", rom).replace("</os>", "</os><features><acpi/></features>").replace(
        "<devices>", f"<devices><disk type='file' device='disk'><driver name='qemu' type='raw'/>"
                     f"<source file='{disk}'/><target dev='vda' bus='virtio'/></disk>"
                     "<tpm model='tpm-tis'><backend type='emulator' version='2.0'/></tpm>"
                     "<disk type='file' device='cdrom'><target dev='hdc' bus='ide'/><readonly/></disk>")
    iso = images / "medium.iso"
    iso.write_bytes(b"\0" * (1 << 20))
    iso.chmod(0o600)

    async def probe(drv: QemuDriver, run: object, path: Path | str, node: str) -> None:
        with pytest.raises(PyvirtError, match="Permission denied"):
            await drv._qmp(run, "blockdev-add", {"driver": "file", "node-name": node,
                                                 "filename": str(path), "read-only": True})

    async def scenario() -> None:
        drv = QemuDriver(paths)
        await drv.load()
        try:
            await drv.define_xml(xml)
            await drv.start("dac")
            rec = drv._by_name["dac"]
            status = _status(rec.run.ident.pid)
            assert status["Uid"].split() == [str(qemu.pw_uid)] * 4
            assert status["Gid"].split() == [str(qemu.pw_gid)] * 4
            assert int(status["CapEff"], 16) == 0 and int(status["CapPrm"], 16) == 0
            (swtpm,) = _swtpm_pids(root)  # the emulated TPM runs as QEMU's user too, its state is that user's
            assert _status(swtpm)["Uid"].split() == [str(qemu.pw_uid)] * 4
            assert int(_status(swtpm)["CapEff"], 16) == 0
            tpm_state = paths.data / "swtpm" / rec.uuid / "tpm2"
            assert {p.stat().st_uid for p in [tpm_state, *tpm_state.iterdir()]} == {qemu.pw_uid}
            assert [(p.stat().st_uid, p.stat().st_gid) for p in (disk, rom)] == [(qemu.pw_uid, qemu.pw_gid)] * 2
            ids = f"+{qemu.pw_uid}:+{qemu.pw_gid}"  # the live XML names the label, as libvirt's does
            assert (f"<seclabel type='dynamic' model='dac' relabel='yes'>\n    <label>{ids}</label>\n"
                    f"    <imagelabel>{ids}</imagelabel>") in await drv.get_xml("dac")
            assert "<seclabel" not in await drv.get_xml("dac", inactive=True)
            assert drv.get_security_label("dac") == {"model": "dac", "doi": "0", "label": ids, "enforcing": True}
            # the QEMU process itself cannot open what it was not given: a host secret, a root
            # image next to its own, the daemon's stored definitions
            await probe(drv, rec.run, "/etc/shadow", "p1")
            await probe(drv, rec.run, secret, "p2")
            await probe(drv, rec.run, paths.domains_config / "dac.xml", "p3")
            # a hot-plugged disk is given to QEMU's user too (QEMU opens it: device_add succeeds)
            await drv.attach_device("dac", f"<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
                                           f"<source file='{plugged}'/><target dev='sdb' bus='usb'/></disk>",
                                    live=True)
            assert plugged.stat().st_uid == qemu.pw_uid
            sdb = (f"<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='{plugged}'/>"
                   "<target dev='sdb' bus='usb'/></disk>")  # USB: unplugged without the guest's help
            await drv.detach_device("dac", sdb, live=True)  # given back at detach, not at stop
            assert (plugged.stat().st_uid, disk.stat().st_uid) == (0, qemu.pw_uid)
            # a new cdrom medium is QEMU's user's while inserted; a host secret is refused as at start
            cdrom = "<disk type='file' device='cdrom'>{}<target dev='hdc' bus='ide'/><readonly/></disk>"
            await drv.update_device("dac", cdrom.format(f"<source file='{iso}'/>"), live=True)
            assert iso.stat().st_uid == qemu.pw_uid
            with pytest.raises(PyvirtError, match="storage file '/etc/shadow' is in /etc"):
                await drv.update_device("dac", cdrom.format("<source file='/etc/shadow'/>"), live=True)
            assert os.stat("/etc/shadow").st_uid == 0
            await drv.destroy("dac")
            assert [(p.stat().st_uid, p.stat().st_gid, oct(p.stat().st_mode & 0o777))
                    for p in (disk, rom, plugged, secret, iso)] == [(0, 0, "0o600")] * 5
            assert drv.get_security_label("dac") == {"model": "dac", "doi": "0"}  # no label once shut off
            deadline = time.monotonic() + 60
            while _swtpm_pids(root) and time.monotonic() < deadline:  # it ends with its QEMU
                await asyncio.sleep(0.05)
            assert not _swtpm_pids(root)
        finally:
            await destroy_all(drv)

    asyncio.run(scenario())


def test_domain_seclabels_are_honoured(open_root: Path) -> None:
    root = open_root
    """<seclabel type='none'/> and a disk's <seclabel model='dac' relabel='no'/> leave files as
    they are (so QEMU cannot open a root-only image: the start fails, nothing stays chowned); a
    static DAC label is whom QEMU runs as; a driver pyvirt lacks is refused by name."""
    from pyvirt.daemon.driver import QemuDriver

    qemu = _default_user()
    paths = state_paths("qemu:///system", root)
    paths.ensure()
    images = root / "images"
    images.mkdir(mode=0o711)
    rom = images / "rom.bin"
    rom.write_bytes(rom_image())
    rom.chmod(0o644)  # readable by all: only the disks decide
    private = images / "private.img"  # root's, 0600: QEMU can open it only if it is given
    private.write_bytes(b"\0" * (1 << 20))
    private.chmod(0o600)
    other = images / "other.img"
    other.write_bytes(b"\0" * (1 << 20))
    other.chmod(0o600)
    log = images / "serial.log"  # a chardev's output file: created by the daemon, QEMU's while it runs

    def disk(path: Path, dev: str, seclabel: str = "") -> str:
        return (f"<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='{path}'>"
                f"{seclabel}</source><target dev='{dev}' bus='virtio'/></disk>")

    def domain(name: str, devices: str, seclabel: str = "", serial: Path | None = None) -> str:
        return rom_domain_xml(name, rom, serial).replace("<devices>", f"<devices>{devices}").replace(
            "</domain>", f"{seclabel}</domain>")

    def owners() -> list[tuple[int, int, str]]:
        return [(p.stat().st_uid, p.stat().st_gid, oct(p.stat().st_mode & 0o777)) for p in (private, other)]

    async def scenario() -> None:
        drv = QemuDriver(paths)
        drv.monitor_timeout = 10.0
        await drv.load()
        try:
            # type='none': QEMU still runs as pyvirt-qemu, but nothing is handed to it
            await drv.define_xml(domain("none", disk(private, "vda"), "<seclabel type='none'/>"))
            with pytest.raises(PyvirtError, match=f"{private}.*Permission denied"):
                await drv.start("none")
            assert owners() == [(0, 0, "0o600")] * 2
            # relabel='no' on one disk: that one is not given (the other is, and given back)
            await drv.define_xml(domain("nolabel", disk(other, "vda") + disk(
                private, "vdb", "<seclabel model='dac' relabel='no'/>")))
            with pytest.raises(PyvirtError, match=f"{private}.*Permission denied"):
                await drv.start("nolabel")
            assert owners() == [(0, 0, "0o600")] * 2
            # a static label: QEMU runs as nobody, its disks and serial file are nobody's meanwhile
            await drv.define_xml(domain("static", disk(private, "vda"), "<seclabel type='static' model='dac' "
                                        f"relabel='yes'><label>+{NOBODY}:+{NOBODY}</label></seclabel>", log))
            await drv.start("static")
            pid = drv._by_name["static"].run.ident.pid
            assert _status(pid)["Uid"].split() == [str(NOBODY)] * 4
            assert (private.stat().st_uid, log.stat().st_uid) == (NOBODY, NOBODY)
            await drv.destroy("static")
            assert owners() == [(0, 0, "0o600")] * 2 and (log.stat().st_uid, log.stat().st_gid) == (0, 0)
            # a security driver pyvirt does not have
            await drv.define_xml(domain("selinux", "", "<seclabel type='dynamic' model='selinux'/>"))
            with pytest.raises(PyvirtError, match="Unable to find security driver for model selinux"):
                await drv.start("selinux")
            assert qemu.pw_uid != NOBODY
        finally:
            await destroy_all(drv)

    asyncio.run(scenario())


def test_an_unknown_user_is_refused_by_name(open_root: Path) -> None:
    root = open_root
    from pyvirt.daemon.qemuuser import load

    (root / "qemu.conf").write_text('user = "no-such-user-pyvirt"\n')
    with pytest.raises(PyvirtError, match="user 'no-such-user-pyvirt' does not exist"):
        load(root)
    (root / "qemu.conf").write_text('user = "root"\ngroup = "root"\n')
    assert load(root) is None  # root: no change from before
    (root / "qemu.conf").write_text('user = "+65534"\ngroup = "+65534"\n')
    assert (load(root).uid, load(root).gid) == (NOBODY, NOBODY)


def test_qemu_conf_user_group_and_dynamic_ownership(open_root: Path, caplog: pytest.LogCaptureFixture,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    root = open_root
    from pyvirt.daemon import qemuconf, qemuuser

    qemu = _default_user()
    got = qemuuser.load(root)  # no qemu.conf: the default user, its own group, relabelling on
    assert (got.uid, got.gid, got.relabel) == (qemu.pw_uid, qemu.pw_gid, True)
    (root / "qemu.conf").write_text('user = "nobody"\n')  # no group named: the user's primary group
    assert (qemuuser.load(root).uid, qemuuser.load(root).gid) == (NOBODY, pwd.getpwnam("nobody").pw_gid)
    (root / "qemu.conf").write_text('dynamic_ownership = 0\n')
    assert qemuuser.load(root).relabel is False
    (root / "qemu.conf").write_text('dynamic_ownership = 2\n')
    with pytest.raises(PyvirtError, match="dynamic_ownership must be 0 or 1"):
        qemuuser.load(root)
    (root / "qemu.conf").write_text('usr = "nobody"\n')
    with pytest.raises(PyvirtError, match="unsupported setting 'usr'"):
        qemuuser.load(root)
    # the default user missing (a host that skipped `make deps`): root, and the log says why, once
    (root / "qemu.conf").unlink()
    missing = "pyvirt-no-such-user"
    monkeypatch.setitem(qemuconf.SETTINGS, "user", (str, missing))
    with caplog.at_level("WARNING", logger="pyvirt.daemon.qemuuser"):
        assert qemuuser.load(root) is None and qemuuser.load(root) is None
    warned = [r.getMessage() for r in caplog.records if missing in r.getMessage()]
    assert len(warned) == 1 and "QEMU runs as root" in warned[0] and "make deps" in warned[0]


def test_host_device_nodes_are_given_to_qemus_user(tmp_path: Path) -> None:
    """USB and VFIO device nodes QEMU opens are in what the DAC driver hands over, as libvirt's
    chowns them (the nodes themselves need real hardware: the paths are checked)."""
    from pyvirt.daemon.model import parse_definition
    from pyvirt.daemon.qemuuser import guest_files, hostdev_nodes

    group = tmp_path / "kernel" / "iommu_groups" / "7"
    group.mkdir(parents=True)
    fn = tmp_path / "pci" / "0000:06:12.5"
    fn.mkdir(parents=True)
    (fn / "iommu_group").symlink_to(group)
    dom = parse_definition(
        "<domain type='qemu'><name>h</name><memory>65536</memory><os><type>hvm</type></os><devices>"
        "<hostdev mode='subsystem' type='usb'><source><address bus='1' device='12'/></source></hostdev>"
        "<hostdev mode='subsystem' type='pci' managed='no'><source>"
        "<address domain='0x0000' bus='0x06' slot='0x12' function='0x5'/></source></hostdev>"
        "</devices></domain>", None, False)
    assert hostdev_nodes(dom, pci_root=tmp_path / "pci") == ["/dev/bus/usb/001/012", "/dev/vfio/7"]
    assert "/dev/bus/usb/001/012" in [f.path for f in guest_files(dom) if f.device]


def test_render_nodes_are_given_to_qemus_user() -> None:
    """The DRM render node an OpenGL display or a 3D vhost-user GPU opens is handed over too
    (the XML's, else the host's first): no GPU needed to check which."""
    from pyvirt.daemon.model import parse_definition
    from pyvirt.daemon.qemuuser import render_nodes

    def dom(devices: str) -> object:
        return parse_definition("<domain type='qemu'><name>r</name><memory>65536</memory><os><type>hvm</type>"
                                f"</os><devices>{devices}</devices></domain>", None, False)

    gl = "<graphics type='spice' autoport='yes'><gl enable='yes' rendernode='/dev/dri/renderD129'/></graphics>"
    assert render_nodes(dom(gl), default="/dev/dri/renderD128") == ["/dev/dri/renderD129"]
    egl = "<graphics type='vnc' autoport='yes'/><graphics type='egl-headless'/>"
    assert render_nodes(dom(egl), default="/dev/dri/renderD128") == ["/dev/dri/renderD128"]
    assert render_nodes(dom("<graphics type='vnc' autoport='yes'/>"), default="/dev/dri/renderD128") == []


def test_a_failed_disk_attach_gives_the_file_back(open_root: Path) -> None:
    """The disk (or a new cdrom medium) was chowned to QEMU's user before the plug; a plug QEMU
    refused left it QEMU's user's until the guest stopped (session 14's review): now it is given
    back at once."""
    from pyvirt.daemon.driver import QemuDriver
    from tests.fakeqemu import make_emulator
    from tests.security.fakedriver import CAPS, domain_xml

    qemu = _default_user()
    paths = state_paths("qemu:///system", open_root)
    paths.ensure()
    emulator = make_emulator(open_root, "error-on:device_add,error-on:blockdev-change-medium")
    (paths.config / "emulators").write_text(f"{emulator}\n")  # the fake may be run
    disk = open_root / "plugged.img"
    disk.write_bytes(b"\0" * 4096)
    disk.chmod(0o600)

    async def scenario() -> None:
        drv = QemuDriver(paths, emulator_caps=CAPS)
        await drv.load()
        try:
            await drv.create_xml(domain_xml("refused", emulator, "<disk type='file' device='cdrom'>"
                                            "<target dev='hdc' bus='ide'/><readonly/></disk>"))
            assert drv.lookup("refused").run is not None
            with pytest.raises(PyvirtError, match="fake refusal of device_add"):
                await drv.attach_device("refused", f"<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
                                                   f"<source file='{disk}'/><target dev='vdb' bus='virtio'/></disk>",
                                        live=True)
            assert (disk.stat().st_uid, disk.stat().st_gid) == (0, 0) != (qemu.pw_uid, qemu.pw_gid)
            with pytest.raises(PyvirtError, match="fake refusal of blockdev-change-medium"):  # a new medium
                await drv.update_device("refused", f"<disk type='file' device='cdrom'><source file='{disk}'/>"
                                                   "<target dev='hdc' bus='ide'/><readonly/></disk>", live=True)
            assert (disk.stat().st_uid, disk.stat().st_gid) == (0, 0)
        finally:
            await destroy_all(drv)

    asyncio.run(scenario())
