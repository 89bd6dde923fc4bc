"""--unattended's pieces on their own: the install config and its defaults, profile and
injection choice, datamaps, the XSLT sandbox, the initrd archive, and the install flow's
choice between initrd and a generated ISO (in-process, virt-manager's test driver)."""

from __future__ import annotations

import gzip
import subprocess
from pathlib import Path

import pytest
from lxml import etree

from pyvirt.install import osinfo as osdb
from pyvirt.install import unattended as ua
from pyvirt.install.inject import Injection, append_to_initrd, newc_archive
from tests.conformance_data import CONFORMANCE

DATA = CONFORMANCE / "virt-manager-4.1.0" / "tree" / "tests" / "data"
needs_osinfo = pytest.mark.skipif(osdb.lookup("fedora36") is None, reason="osinfo-db missing")


def _osv(name: str) -> osdb.OsVariant:
    osv = osdb.lookup(name)
    assert osv is not None
    return osv


@pytest.fixture
def host(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fixed host: user alice (GECOS 'Alice A'), zone Europe/Paris, locale de_DE."""
    import pwd
    monkeypatch.setattr(ua.getpass, "getuser", lambda: "alice")
    monkeypatch.setattr(ua.pwd, "getpwnam",
                        lambda n: pwd.struct_passwd((n, "x", 1000, 1000, "Alice A", "/h", "/bin/sh")))
    monkeypatch.setattr(ua, "host_timezone", lambda: "Europe/Paris")
    monkeypatch.setattr(ua.locale, "getlocale", lambda: ("de_DE", "UTF-8"))


@needs_osinfo
def test_config_defaults_from_the_host(host: None, tmp_path: Path) -> None:
    (tmp_path / "pw").write_text("first line\nsecond\n")
    osv = _osv("fedora36")
    script = ua.lookup_scripts(osv, "jeos")[0]
    data = ua.UnattendedData(admin_password_file=str(tmp_path / "pw"))
    cfg = ua.make_config(script, osv, data, arch="x86_64", hostname="my.vm (1)", url=None)
    assert cfg["user-login"] == "alice" and cfg["user-realname"] == "Alice A"
    assert cfg["admin-password"] == "first line" and cfg["user-password"] == ""
    assert cfg["l10n-timezone"] == "Europe/Paris"
    assert cfg["l10n-language"] == cfg["l10n-keyboard"] == "de_DE"
    assert cfg["hostname"] == "my-vm--1-"
    assert cfg["target-disk"] == "/dev/vda" and cfg["hardware-arch"] == "x86_64"
    assert "installation-url" not in cfg and "reg-login" not in cfg
    # the keyboard goes through the script's X11 datamap: de_DE -> de
    assert "keyboard 'de'" in script.render(osv, cfg, "initrd", "network")


@needs_osinfo
def test_config_without_host_facts_keeps_libosinfo_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ua.getpass, "getuser", lambda: "root")
    monkeypatch.setattr(ua, "host_timezone", lambda: None)
    monkeypatch.setattr(ua.locale, "getlocale", lambda: (None, None))
    osv = _osv("win10")
    data = ua.UnattendedData(user_login="Fred", product_key="K-1", reg_login="reg")
    script = ua.lookup_scripts(osv, "desktop")[0]
    cfg = ua.make_config(script, osv, data, arch="i686", hostname="w", url="http://x/")
    assert cfg["user-login"] == "fred" and cfg["user-realname"] == "Fred"  # as typed
    assert (cfg["l10n-timezone"], cfg["l10n-language"], cfg["l10n-keyboard"]) == \
        ("America/New_York", "en_US", "en_US")
    assert cfg["target-disk"] == "C"
    assert cfg["installation-url"] == "http://x/"
    assert cfg["reg-product-key"] == "K-1" and cfg["reg-login"] == "reg"
    # root as host user gives no login at all
    cfg = ua.make_config(script, osv, ua.UnattendedData(), arch="i686", hostname="w", url=None)
    assert "user-login" not in cfg


@needs_osinfo
def test_profiles_and_refusals(caplog: pytest.LogCaptureFixture,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ua.log, "handlers", [caplog.handler])  # pyvirt-install's own don't propagate
    scripts = ua.lookup_scripts(_osv("win10"), None)
    assert "Using unattended profile 'desktop'" in caplog.text
    # Windows' desktop profile is several scripts, each injected under its own name
    assert [s.expected_filename for s in scripts] == ["autounattend.xml", "windows.cmd"]
    assert [s.profile for s in ua.lookup_scripts(_osv("debian6"), None)] == ["jeos"]
    with pytest.raises(ua.UnattendedError, match="does not support unattended installation for "
                       "the 'bogus' profile. Available profiles: desktop, jeos"):
        ua.lookup_scripts(_osv("fedora36"), "bogus")
    with pytest.raises(ua.UnattendedError, match="OS 'solaris10' does not support unattended"):
        ua.lookup_scripts(_osv("solaris10"), None)
    with pytest.raises(ua.UnattendedError, match="fedora36 requires the admin-password to be set"):
        ua.check(_osv("fedora36"), ua.UnattendedData(profile="jeos"), "initrd")
    # debian's desktop preseed declares user-password twice, optional then required: the
    # last declaration counts (libosinfo's list keeps the last one added)
    with pytest.raises(ua.UnattendedError, match="debian9 requires the user-password to be set"):
        ua.check(_osv("debian9"), ua.UnattendedData(profile="desktop"), "initrd")
    with pytest.raises(ua.UnattendedError, match="cannot use 'root' as user-login"):
        ua.check(_osv("fedora36"), ua.UnattendedData(user_login="Root"), "initrd")
    with pytest.raises(ua.UnattendedError, match="does not support required injection method 'initrd'"):
        ua.prepare(_osv("win10"), ua.UnattendedData(), arch="x86_64", hostname="w", url=None,
                   injection="initrd")


@needs_osinfo
def test_command_line_follows_injection_and_source() -> None:
    osv = _osv("fedora36")
    script = ua.lookup_scripts(osv, "jeos")[0]
    cfg = {"installation-url": "http://mirror/f36"}
    assert script.render(osv, cfg, "initrd", "network", command_line=True) == \
        "inst.ks=file:/fedora.ks inst.repo=http://mirror/f36"
    assert script.render(osv, cfg, "cdrom", "media", command_line=True) == "inst.ks=hd:sda:/fedora.ks"
    # a Windows script has no command-line template: no arguments (not its whole input)
    win = ua.lookup_scripts(_osv("win10"), "desktop")[1]
    assert win.render(_osv("win10"), {"admin-password": "pw"}, "cdrom", "network",
                      command_line=True) == ""


def test_datamap_lookup() -> None:
    keyboard = ua.datamap("http://x.org/x11-keyboard")
    if not keyboard:
        pytest.skip("osinfo-db datamaps missing")
    assert keyboard["en_US"] == "us"
    assert ua.datamap("http://example.com/no-such-map") == {}


def _script(template: str) -> ua.InstallScript:
    xml = (f'<install-script id="http://t/s"><profile>jeos</profile><template>{template}'
           "</template></install-script>")
    return ua.InstallScript(etree.fromstring(xml))


@pytest.mark.parametrize("body", [
    '<xsl:value-of select="document(\'file:///etc/hostname\')"/>',
    '<exsl:document href="/tmp/pyvirt-xslt-escape" method="text">x</exsl:document>',
])
def test_stylesheets_cannot_read_or_write_files(body: str) -> None:
    tmpl = ('<xsl:stylesheet xmlns:xsl="http://www.w3.org/1999/XSL/Transform" '
            'xmlns:exsl="http://exslt.org/common" extension-element-prefixes="exsl" version="1.0">'
            f'<xsl:output method="text"/><xsl:template match="/">{body}</xsl:template></xsl:stylesheet>')
    with pytest.raises(ua.UnattendedError, match="Failed to apply script template"):
        _script(tmpl).render(osdb.GENERIC, {}, "cdrom", "network")
    assert not Path("/tmp/pyvirt-xslt-escape").exists()


def test_script_document_is_libosinfos() -> None:
    """The stylesheet sees /install-script-config with script, os and config children."""
    tmpl = ('<xsl:stylesheet xmlns:xsl="http://www.w3.org/1999/XSL/Transform" version="1.0">'
            '<xsl:output method="text"/><xsl:template match="/install-script-config">'
            '<xsl:value-of select="script/preferred-injection-method"/>|'
            '<xsl:value-of select="script/installation-source"/>|'
            '<xsl:value-of select="os/id"/>|<xsl:value-of select="config/hostname"/>'
            '</xsl:template></xsl:stylesheet>')
    assert _script(tmpl).render(osdb.GENERIC, {"hostname": "h"}, "initrd", "network") == \
        "initrd|network||h"


def test_newc_archive_lists_with_cpio(tmp_path: Path) -> None:
    initrd = tmp_path / "initrd.img"
    original = gzip.compress(b"original initramfs")
    initrd.write_bytes(original)
    append_to_initrd(str(initrd), [Injection("a.ks", b"hello\n"), Injection("odd size", b"x" * 5, 0o755)])
    data = initrd.read_bytes()
    assert data.startswith(original)
    archive = gzip.decompress(data[len(original):])
    out = subprocess.run(["cpio", "-tv", "--quiet"], input=archive, capture_output=True, check=True)
    rows = [ln.split() for ln in out.stdout.decode().splitlines()]
    assert [r[-1] if r[-1] != "size" else "odd size" for r in rows] == [".", "a.ks", "odd size"]
    assert rows[1][0] == "-rw-------" and rows[2][0] == "-rwxr-xr-x"
    assert all(r[2] == "root" for r in rows)
    with pytest.raises(ValueError, match="not a plain file name"):
        newc_archive([Injection("../etc/passwd", b"")])


@pytest.fixture
def testdriver(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    if not DATA.exists():
        pytest.skip("shared conformance data not present")
    monkeypatch.setenv("VIRTCOMPAT_TEST_DRIVER_XML", str(DATA / "testdriver" / "testdriver.xml"))
    monkeypatch.setenv("VIRTCOMPAT_FAKEURI", "qemu:///session")
    monkeypatch.setenv("VIRTCOMPAT_CAPS", str(DATA / "capabilities" / "kvm-x86_64.xml"))
    monkeypatch.setenv("VIRTCOMPAT_DOMCAPS", str(DATA / "capabilities" / "kvm-x86_64-domcaps-latest.xml"))
    monkeypatch.setenv("VIRTCOMPAT_PREDICTABLE", "1")
    monkeypatch.setenv("VIRTINST_TEST_SUITE", "1")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def _install(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[etree._Element], str]:
    from pyvirt.cli.install import main
    rc = main(["--connect", "qemu:///session", "--noautoconsole", "--nographics", "--memory", "1024",
               "--disk", "none", "--print-step", "all", *args])
    cap = capsys.readouterr()
    docs = [etree.fromstring("<domain" + p.split("<domain", 1)[1] + "</domain>")
            for p in cap.out.split("</domain>") if "<domain" in p]
    return rc, docs, cap.err


@needs_osinfo
def test_media_installs_get_the_scripts_on_a_generated_cdrom(capsys: pytest.CaptureFixture[str],
                                                            testdriver: None) -> None:
    rc, docs, err = _install(capsys, "--pxe", "--os-variant", "fedora26", "--unattended")
    assert rc == 0, err
    install, final = docs
    cds = [d for d in install.iterfind("devices/disk") if d.get("device") == "cdrom"]
    assert [d.find("source").get("file") for d in cds] == ["/VIRTINST-TESTSUITE/unattended.iso"]
    # the final domain keeps the drive, empty
    fcds = [d for d in final.iterfind("devices/disk") if d.get("device") == "cdrom"]
    assert len(fcds) == 1 and fcds[0].find("source") is None
    assert install.find("os/cmdline") is None


@needs_osinfo
def test_unattended_none_and_kernel_installs(capsys: pytest.CaptureFixture[str], testdriver: None,
                                             tmp_path: Path) -> None:
    rc, docs, err = _install(capsys, "--pxe", "--os-variant", "fedora26", "--unattended", "none")
    assert rc == 0, err
    assert not [d for d in docs[0].iterfind("devices/disk") if d.get("device") == "cdrom"]
    # --install kernel=/initrd=: the scripts go into a copy of the initrd, never the user's
    kernel, initrd = tmp_path / "vmlinuz", tmp_path / "initrd"
    kernel.write_bytes(b"k")
    initrd.write_bytes(b"i")
    rc, docs, err = _install(capsys, "--os-variant", "fedora36", "--install",
                             f"kernel={kernel},initrd={initrd}", "--unattended", "--extra-args", "quiet")
    assert rc == 0, err
    assert initrd.read_bytes() == b"i"
    assert docs[0].findtext("os/initrd") == "/VIRTINST-TESTSUITE/initrd"
    assert docs[0].findtext("os/cmdline") == "quiet inst.ks=file:/fedora.ks inst.repo="


def _disc(tmp_path: Path, label: str, *extra: str, bootable: bool = True) -> str:
    import shutil
    if not shutil.which("xorrisofs"):
        pytest.skip("xorrisofs missing")
    tree = tmp_path / f"tree-{len(list(tmp_path.iterdir()))}"
    tree.mkdir()
    (tree / "boot.img").write_bytes(b"\0" * 2048)
    iso = str(tree) + ".iso"
    boot = ["-b", "boot.img", "-no-emul-boot"] if bootable else []
    subprocess.run(["xorrisofs", "-quiet", "-o", iso, "-V", label, *extra, *boot, str(tree)],
                   check=True, capture_output=True)
    return iso


@needs_osinfo
def test_install_discs_are_identified_by_their_labels(tmp_path: Path) -> None:
    iso = _disc(tmp_path, "Fedora-S-dvd-x86_64-36", "-sysid", "LINUX", "-publisher", "P")
    info = osdb.iso_info(iso)
    assert info is not None
    assert (info["volume-id"], info["system-id"], info["publisher-id"]) == \
        ("Fedora-S-dvd-x86_64-36", "LINUX", "P")
    assert int(info["volume-size"]) % 2048 == 0
    found = osdb.identify_media(iso)
    assert found is not None and found[0].name == "fedora36"
    # the server disc brings its own scripts: jeos only, so no profile to choose
    assert [s.profile for s in ua.lookup_scripts(found[0], None, media=found[1])] == ["jeos"]
    live = osdb.identify_media(_disc(tmp_path, "Fedora-WS-Live-36-1-5"))
    assert live is not None
    with pytest.raises(ua.UnattendedError, match="media does not support unattended installation"):
        ua.lookup_scripts(live[0], None, media=live[1])
    # libosinfo reads only bootable discs; unknown labels match nothing
    assert osdb.identify_media(_disc(tmp_path, "Debian 11.5.0 amd64 n", bootable=False)) is None
    assert osdb.identify_media(_disc(tmp_path, "MY DATA DISC")) is None


@needs_osinfo
def test_install_os_tree_follows_the_profile() -> None:
    """--install OS: the tree whose variant is named for the profile (jeos: Server,
    desktop: Workstation, none: Everything), else the OS's last tree for the arch."""
    f36 = _osv("fedora36")
    assert f36.tree_url("x86_64").endswith("/36/Everything/x86_64/os")
    assert f36.tree_url("x86_64", "jeos").endswith("/36/Server/x86_64/os")
    assert f36.tree_url("x86_64", "desktop").endswith("/36/Everything/x86_64/os")
    assert f36.tree_url("i686") is None


def test_password_and_key_files_give_their_first_line_read_bounded(tmp_path: Path) -> None:
    """--unattended's password files and --cloud-init's key files are read by one helper:
    the first line without its ending, never more than MAX_LINE characters of it."""
    from pyvirt.install.media import MAX_LINE, CloudInit
    pw = tmp_path / "pw"
    pw.write_text("s3cret\r\nsecond line\n")
    data = ua.UnattendedData(user_password_file=str(pw))
    assert data.user_password() == "s3cret"
    key = tmp_path / "key"
    key.write_text("ssh-ed25519 AAAA user@host\n")
    assert "- ssh-ed25519 AAAA user@host" in CloudInit(root_ssh_key=str(key)).user_data_text()
    huge = tmp_path / "huge"
    huge.write_text("x" * (MAX_LINE * 2))
    assert data._password(str(huge)) == "x" * MAX_LINE
    with pytest.raises(ua.UnattendedError, match="Could not read password file"):
        data._password(str(tmp_path / "missing"))
