"""--unattended, --initrd-inject and --location trees against the real virt-install 4.1.

A tiny Fedora-like tree (fake kernel, a gzip'd cpio initrd, .treeinfo) is written here and
served by a loopback HTTP server this module starts; both tools install from it (as a
local directory and as an http URL) and from PXE (the scripts then go on a generated
ISO).  Compared: the domain XML of both install steps (virt-manager's test driver and
KVM capabilities, test-suite paths), the rendered install script and kernel command line
(each tool logs them with --debug, passwords scrubbed), and refusals.  Nothing is
mocked in virt-install outside its test suite; both run with the same host user,
locale and timezone, which feed the install config.
"""

from __future__ import annotations

import functools
import gzip
import http.server
import os
import re
import shlex
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conformance_data import CONFORMANCE as CONF
from tests.conformance_data import REPO

VIRT_INSTALL = Path("/usr/bin/virt-install")
TREE = CONF / "virt-manager-4.1.0" / "tree"
DATA = TREE / "tests" / "data"
URI = (f"__virtinst_test__test://{DATA}/testdriver/testdriver.xml,predictable,"
       f"fakeuri=qemu:///system,caps={DATA}/capabilities/kvm-x86_64.xml,"
       f"domcaps={DATA}/capabilities/kvm-x86_64-domcaps-latest.xml")
TREEINFO = ("[general]\nfamily = Fedora\nversion = 36\narch = x86_64\n\n[images-x86_64]\n"
            "kernel = images/pxeboot/vmlinuz\ninitrd = images/pxeboot/initrd.img\n")
pytestmark = [
    pytest.mark.skipif(not VIRT_INSTALL.exists() or not TREE.exists(),
                       reason="virt-install (test oracle) or shared conformance data missing"),
    pytest.mark.timeout(900),
    pytest.mark.filterwarnings("ignore:The asyn(core|chat) module is deprecated:DeprecationWarning"),
]


@pytest.fixture(scope="module")
def trees(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path | str]]:
    root = tmp_path_factory.mktemp("trees")
    tree = root / "fedora"
    (tree / "images" / "pxeboot").mkdir(parents=True)
    (tree / ".treeinfo").write_text(TREEINFO)
    (tree / "images" / "pxeboot" / "vmlinuz").write_bytes(b"fake kernel")
    from pyvirt.install.inject import Injection, newc_archive
    (tree / "images" / "pxeboot" / "initrd.img").write_bytes(
        gzip.compress(newc_archive([Injection("init", b"#!/bin/sh\n", 0o755)])))
    # the same tree as an ISO (a --location ISO), and an ISO without one (install media)
    subprocess.run(["xorrisofs", "-quiet", "-o", str(root / "tree.iso"), "-J", "-rational-rock",
                    str(tree)], check=True, capture_output=True)
    # bootable discs labelled as osinfo-db knows them (libosinfo reads the volume
    # descriptors and wants an El Torito boot record)
    disc = root / "disc"
    disc.mkdir()
    (disc / "boot.img").write_bytes(b"\0" * 2048)
    for name, label, extra in (("debian", "Debian 11.5.0 amd64 n", []),
                               ("fedora-server", "Fedora-S-dvd-x86_64-36", ["-sysid", "LINUX"]),
                               ("fedora-live", "Fedora-WS-Live-36-1-5", [])):
        subprocess.run(["xorrisofs", "-quiet", "-o", str(root / f"{name}.iso"), "-V", label, *extra,
                        "-b", "boot.img", "-no-emul-boot", "-J", "-rational-rock", str(disc)],
                       check=True, capture_output=True)
    # the server DVD label on a disc with the kernel where osinfo-db says it is
    discloc = root / "discloc"
    (discloc / "isolinux").mkdir(parents=True)
    (discloc / "boot.img").write_bytes(b"\0" * 2048)
    for name in ("vmlinuz", "initrd.img"):
        (discloc / "isolinux" / name).write_bytes((tree / "images" / "pxeboot" / name).read_bytes())
    subprocess.run(["xorrisofs", "-quiet", "-o", str(root / "server-location.iso"), "-V",
                    "Fedora-S-dvd-x86_64-36", "-sysid", "LINUX", "-b", "boot.img", "-no-emul-boot",
                    "-J", "-rational-rock", str(discloc)], check=True, capture_output=True)
    for name, text in (("admin", "adminpw\n"), ("user", "userpw\n"), ("same", "s3cret\n"),
                       ("extra.cfg", "injected by test\n")):
        (root / name).write_text(text)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                            functools.partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    # the same over https, its certificate from a CA both tools are told to trust
    import ssl

    from tests.tlscerts import TestCA
    ca = TestCA(tmp_path_factory.mktemp("ca"))
    cert, key = ca.issue("server", "/C=GB/O=pyvirt test/CN=127.0.0.1", server=True)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    httpsd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(Quiet, directory=str(root)))
    httpsd.socket = ctx.wrap_socket(httpsd.socket, server_side=True)
    threading.Thread(target=httpsd.serve_forever, daemon=True).start()
    ftpd = _ftp_server(root)
    yield {"root": root, "dir": tree, "url": f"http://127.0.0.1:{httpd.server_address[1]}/fedora",
           "iso": root / "tree.iso",
           "https": f"https://127.0.0.1:{httpsd.server_address[1]}/fedora", "ca": ca.cert,
           "ftp": f"ftp://127.0.0.1:{ftpd.address[1]}/fedora" if ftpd else "ftp://"}
    for server in (httpd, httpsd):
        server.shutdown()
        server.server_close()
    if ftpd:
        ftpd.close_all()


def _ftp_server(root: Path):  # noqa: ANN202 (pyftpdlib's server)
    """An anonymous read-only FTP server for `root` on loopback, in a thread (None
    without pyftpdlib, a test dependency)."""
    try:
        from pyftpdlib.authorizers import DummyAuthorizer
    except ImportError:
        return None
    from pyftpdlib.handlers import FTPHandler
    from pyftpdlib.servers import FTPServer
    auth = DummyAuthorizer()
    auth.add_anonymous(str(root), perm="elr")
    handler = type("Handler", (FTPHandler,), {"authorizer": auth, "banner": "test",
                                              "passive_ports": None})
    import logging
    logging.getLogger("pyftpdlib").setLevel(logging.WARNING)
    server = FTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, kwargs={"handle_exit": False},
                     daemon=True).start()
    return server


def _env(home: Path) -> dict[str, str]:
    return dict(os.environ, VIRTINST_TEST_SUITE="1", HOME=str(home), XDG_CACHE_HOME=str(home / "cache"),
                LANG="C.UTF-8", LC_ALL="C.UTF-8")


def _run_both(line: str, home: Path, **more_env: str) -> tuple[subprocess.CompletedProcess,
                                                               subprocess.CompletedProcess]:
    sys.path.insert(0, str(CONF / "tools"))
    from run_virtinst_cases import magic_to_env
    argv = ["--connect", URI, "--noautoconsole", "--nographics", "--debug", *shlex.split(line)]
    env = {**_env(home), **more_env}
    ours_argv, extra = magic_to_env(argv)
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(2) as pool:  # the two tools side by side
        ref = pool.submit(subprocess.run, [str(VIRT_INSTALL), *argv], cwd=TREE, env=env,
                          capture_output=True, text=True, timeout=300)
        ours = pool.submit(subprocess.run, [str(REPO / ".venv" / "bin" / "pyvirt-install"),
                                            *ours_argv], cwd=TREE, env={**env, **extra},
                           capture_output=True, text=True, timeout=300)
        return ref.result(), ours.result()


def _logged(stderr: str) -> dict[str, list[str]]:
    """What the debug log says was generated: scripts (scrubbed) and kernel command lines."""
    out: dict[str, list[str]] = {"script": [], "cmdline": []}
    for part in re.split(r"\n(?=\[\w{3}, )", stderr):
        m = re.search(r"Generated script contents:\n", part)
        if m:
            out["script"].append(part[m.end():])
        m = re.search(r"Generated unattended cmdline: (.*)", part)
        if m:
            out["cmdline"].append(m.group(1))
    return out


def _error(stderr: str) -> str:
    lines = [ln for ln in stderr.splitlines() if "ERROR" in ln]
    return re.sub(r"^\[.*?\] ERROR \(\S+\) ", "", lines[-1]) if lines else ""


def _same_xml(ref: str, ours: str) -> None:
    sys.path.insert(0, str(CONF / "tools"))
    import libvirt_xml_compare as lxc
    same, diff = lxc.compare(ref, ours, "masked")
    assert same, diff


CASES = {
    "dir-desktop": "--name f1 --memory 2048 --disk none --location {dir} "
                   "--unattended admin-password-file={root}/same,user-password-file={root}/same",
    "http-jeos-login": "--name host.with,odd:chars --memory 2048 --disk size=1 --location {url} "
                       "--unattended profile=jeos,admin-password-file={root}/same,user-login=Bob "
                       "--extra-args console=ttyS0",
    "ftp-tree": "--name ftp1 --memory 1024 --disk none --location {ftp} --unattended "
                "admin-password-file={root}/same,profile=jeos",
    "https-tree": "--name tls1 --memory 1024 --disk none --location {https} --unattended "
                  "admin-password-file={root}/same,profile=jeos",
    "http-debian": "--name deb --memory 1024 --disk none --location {url} --os-variant debian11 "
                   "--unattended admin-password-file={root}/same,user-password-file={root}/same",
    "http-ubuntu": "--name ub --memory 1024 --disk none --location {url} --os-variant ubuntu20.04 "
                   "--unattended user-login=fred,admin-password-file={root}/same,"
                   "user-password-file={root}/same",
    "http-opensuse": "--name suse --memory 1024 --disk none --location {url} --os-variant opensuse15.3 "
                     "--unattended admin-password-file={root}/same,reg-login=someone",
    "http-rhel": "--name rh --memory 2048 --disk none --location {url} --os-variant rhel8.4 "
                 "--unattended admin-password-file={root}/same,product-key=ABC",
    "pxe-cdrom": "--name pxe1 --memory 1024 --disk none --pxe --os-variant fedora26 --unattended "
                 "admin-password-file={root}/same",
    "iso-location": "--name isoloc --memory 1024 --disk none --location {iso} --unattended "
                    "admin-password-file={root}/same,profile=jeos",
    "reinstall-location": "--reinstall test-clone-simple --location {url} --unattended "
                          "admin-password-file={root}/same,profile=jeos",
    "reinstall-cdrom": "--reinstall test-clone-simple --cdrom {iso} --os-variant fedora36 "
                       "--unattended admin-password-file={root}/same",
    "detect-cdrom": "--name d --memory 1024 --disk none --cdrom {root}/debian.iso",
    "media-scripts": "--name srv --memory 1024 --disk none --cdrom {root}/fedora-server.iso "
                     "--unattended admin-password-file={root}/same",
    "media-location": "--name ml --memory 1024 --disk none --location {root}/server-location.iso "
                      "--unattended admin-password-file={root}/same",
    "inject-overwrite": "--name inj --memory 1024 --disk none --location {url} "
                        "--initrd-inject {root}/extra.cfg --unattended admin-password-file={root}/same "
                        "--install kernel_args=ro,kernel_args_overwrite=yes",
}


# the lines whose rule other lines or unit tests already cover run with the other long
# oracles only (PYVIRT_VIRTINST_ORACLE=1): make test stays within its time
SLOW = {"http-opensuse", "http-rhel", "iso-location", "reinstall-cdrom", "no-scripts",
        "unknown-key", "missing-cdrom", "no-initrd-injection"}


def _cases(table: dict[str, str]) -> list:
    gate = pytest.mark.skipif(os.environ.get("PYVIRT_VIRTINST_ORACLE") != "1",
                              reason="covered elsewhere; PYVIRT_VIRTINST_ORACLE=1 runs it")
    return [pytest.param(c, marks=gate) if c in SLOW else c for c in table]


@pytest.mark.parametrize("case", _cases(CASES))
def test_same_install_as_virt_install(case: str, trees: dict, tmp_path: Path) -> None:
    line = CASES[case].format(**{k: str(v) for k, v in trees.items()})
    if "ftp://" in line and trees["ftp"] == "ftp://":
        pytest.skip("pyftpdlib (test dependency) missing")
    # https: urllib (pyvirt) reads SSL_CERT_FILE, requests (virt-install) REQUESTS_CA_BUNDLE
    ref, ours = _run_both(line + " --print-step all", tmp_path, SSL_CERT_FILE=str(trees["ca"]),
                          REQUESTS_CA_BUNDLE=str(trees["ca"]))
    assert ref.returncode == 0, ref.stderr[-2000:]
    assert ours.returncode == 0, ours.stderr[-2000:]
    _same_xml(ref.stdout, ours.stdout)
    want, got = _logged(ref.stderr), _logged(ours.stderr)
    if "--unattended" not in line:
        return
    assert want["script"], "virt-install logged no script"
    assert got["script"] == want["script"]
    # virt-install logs a cdrom script's command line too, though it is not used
    if "--pxe" not in line and "--cdrom" not in line:
        assert got["cmdline"] == want["cmdline"]
    # the scratch files are gone once the XML is printed
    scratch = tmp_path / "cache" / "pyvirt" / "boot"
    assert not scratch.exists() or not list(scratch.iterdir())


@pytest.mark.parametrize("case", ["dir-desktop", "pxe-cdrom"])
def test_dry_run_renders_the_scripts_as_virt_install(case: str, trees: dict, tmp_path: Path) -> None:
    """--dry-run prepares the install media as virt-install's does (its start_install runs
    _prepare whatever `dry` is): the same script and kernel command line are rendered and
    logged, nothing is defined, and the scratch files made on the way are removed again."""
    line = CASES[case].format(**{k: str(v) for k, v in trees.items()})
    ref, ours = _run_both(line + " --dry-run", tmp_path)
    assert ref.returncode == 0, ref.stderr[-2000:]
    assert ours.returncode == 0, ours.stderr[-2000:]
    assert ours.stdout == ref.stdout == "Dry run completed successfully\n"
    want, got = _logged(ref.stderr), _logged(ours.stderr)
    assert want["script"] and got["script"] == want["script"]
    if "--pxe" not in line:
        assert got["cmdline"] == want["cmdline"]
    removed = re.findall(r"DEBUG \(\w+:\d+\) Removing (/\S+)", ours.stderr)
    assert removed, "pyvirt made no install media on --dry-run"
    assert not [p for p in removed if os.path.exists(p)]


REFUSED = {
    "bad-profile": "--location {url} --os-variant fedora36 --unattended profile=FRIBBER",
    "root-login": "--location {url} --unattended user-login=ROOT,admin-password-file={root}/same",
    "no-admin-password": "--location {url} --unattended profile=jeos",
    "no-scripts": "--location {url} --os-variant solaris10 --unattended",
    "unknown-key": "--location {url} --unattended admin-password-file={root}/same,bogus=1",
    "debian-user-password": "--location {url} --os-variant debian11 --unattended "
                            "admin-password-file={root}/same",
    "missing-cdrom": "--cdrom {root}/nothing.iso --os-variant fedora36 --unattended",
    "live-media": "--cdrom {root}/fedora-live.iso --unattended admin-password-file={root}/same",
    "no-cdrom-injection": "--cdrom {iso} --os-variant debian11 --unattended "
                          "admin-password-file={root}/same",
    "no-initrd-injection": "--cdrom {root}/same --os-variant win10 --unattended profile=jeos,"
                           "admin-password-file={root}/same --initrd-inject {root}/same",
}


@pytest.mark.parametrize("case", _cases(REFUSED))
def test_same_refusals(case: str, trees: dict, tmp_path: Path) -> None:
    line = REFUSED[case].format(**{k: str(v) for k, v in trees.items()})
    ref, ours = _run_both("--name r --memory 1024 --disk none " + line + " --print-step all", tmp_path)
    assert ref.returncode == 1 and ours.returncode == 1, (ref.stderr[-800:], ours.stderr[-800:])
    assert _error(ours.stderr) == _error(ref.stderr)


def _appended_archive(initrd: bytes, original: bytes) -> bytes:
    assert initrd.startswith(original)
    return gzip.decompress(initrd[len(original):])


def _install_keeping_media(line: str, home: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """Run pyvirt install in-process on `line`; the media it made (scratch files, by
    their names under the test suite: initrd.img, unattended.iso...), read just before
    they are removed."""
    from pyvirt.install import installer
    kept: dict[str, bytes] = {}
    original = installer.Installer.cleanup_install_media

    def keep(self: installer.Installer, g: object) -> None:
        for path in self._tmpfiles:
            if os.path.exists(path):
                name = os.path.basename(path).split("-", 2)[-1]
                kept[name] = Path(path).read_bytes()
                kept[name + ":mode"] = b"%o" % (os.stat(path).st_mode & 0o777)
        original(self, g)

    monkeypatch.setattr(installer.Installer, "cleanup_install_media", keep)
    for key, val in _env(home).items():
        monkeypatch.setenv(key, val)
    sys.path.insert(0, str(CONF / "tools"))
    from run_virtinst_cases import magic_to_env
    argv, extra = magic_to_env(["--connect", URI, "--noautoconsole", "--nographics",
                                *shlex.split(line), "--print-step", "1"])
    for key, val in extra.items():
        monkeypatch.setenv(key, val)
    from pyvirt import ids
    ids.reset_predictable()
    from pyvirt.cli.install import main
    assert main(argv) == 0
    return kept


def test_injected_initrd_holds_the_script(trees: dict, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The initrd the install XML boots: the tree's own archive, then one gzip'd newc
    archive with --initrd-inject's file and the kickstart (real passwords) at its root,
    as `cpio -t` lists it; the kickstart is the script virt-install would render."""
    line = CASES["http-jeos-login"].format(**{k: str(v) for k, v in trees.items()}).replace(
        "user-login=Bob", f"user-login=Bob,user-password-file={trees['root']}/same")
    kept = _install_keeping_media(f"{line} --initrd-inject {trees['root']}/extra.cfg", tmp_path,
                                  monkeypatch)
    initrd = kept["initrd.img"]
    assert kept["initrd.img:mode"] == b"600"  # it holds the passwords now
    appended = _appended_archive(initrd, (Path(trees["dir"]) / "images/pxeboot/initrd.img").read_bytes())
    listing = subprocess.run(["cpio", "-t", "--quiet"], input=appended, capture_output=True, check=True)
    assert listing.stdout.decode().split() == [".", "extra.cfg", "fedora.ks"]
    tmp = tmp_path / "x"
    tmp.mkdir()
    subprocess.run(["cpio", "-id", "--quiet", "--no-absolute-filenames"], input=appended, cwd=tmp,
                   check=True)
    assert (tmp / "extra.cfg").read_text() == "injected by test\n"
    ks = (tmp / "fedora.ks").read_text()
    assert "rootpw 's3cret'" in ks
    assert "--hostname=host-with-odd-chars" in ks
    assert "useradd -G wheel bob # Add user" in ks
    # the same script virt-install renders for this line (it logs it scrubbed)
    ref, _ = _run_both(line + " --print-step 1", tmp_path)
    want = _logged(ref.stderr)["script"]
    assert want and want[0].replace("[SCRUBBLED]", "s3cret") == ks


def test_generated_iso_holds_the_script(trees: dict, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A media install's scripts are the only files of the ISO it gets (xorriso lists it)."""
    line = CASES["pxe-cdrom"].format(**{k: str(v) for k, v in trees.items()}) + \
        f",user-password-file={trees['root']}/same"
    kept = _install_keeping_media(line, tmp_path, monkeypatch)
    iso = tmp_path / "unattended.iso"
    iso.write_bytes(kept["unattended.iso"])
    assert kept["unattended.iso:mode"] == b"600"
    out = subprocess.run(["xorriso", "-indev", str(iso), "-find", "/", "-type", "f"],
                         capture_output=True, text=True, check=True)
    assert [n.strip("'") for n in out.stdout.split()] == ["/fedora.ks"]
    got = tmp_path / "fedora.ks"
    subprocess.run(["xorriso", "-osirrox", "on", "-indev", str(iso), "-extract", "/fedora.ks",
                    str(got)], capture_output=True, check=True)
    ks = got.read_text()
    ref, _ = _run_both(line + " --print-step 1", tmp_path)
    want = _logged(ref.stderr)["script"]
    assert want and want[0].replace("[SCRUBBLED]", "s3cret") == ks
    assert "s3cret" in ks


W7_DRIVERS = "https://fedorapeople.org/groups/virt/unattended/drivers/preinst/virtio-win/0.1.171/w7"


@pytest.fixture(scope="module")
def win_osinfo(trees: dict, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """osinfo-db with win7's pre-installable drivers served by the loopback server (both
    tools read OSINFO_SYSTEM_DIR; the real URLs need the internet)."""
    import shutil
    db = tmp_path_factory.mktemp("osinfo") / "db"
    shutil.copytree("/usr/share/osinfo", db)
    drivers = db / "os" / "microsoft.com" / "win-7.d" / "pre-installable-drivers.xml"
    text = drivers.read_text()
    local = trees["url"].rsplit("/", 1)[0] + "/drivers"
    drivers.write_text(text.replace(W7_DRIVERS, local))
    from lxml import etree as et
    for drv in et.fromstring(text.encode()).iter("driver"):
        folder = Path(trees["root"]) / "drivers" / drv.get("location").rsplit("/", 1)[1]
        folder.mkdir(parents=True, exist_ok=True)
        for f in drv.iter("file"):
            (folder / f.text).write_text(f"driver file {f.text}\n")
    return db


def test_windows_drivers_go_on_the_iso_as_virt_install_puts_them(
        trees: dict, win_osinfo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    line = ("--name w7 --memory 1024 --disk size=1 --cdrom {iso} --os-variant win7 --unattended "
            "admin-password-file={root}/same,user-login=Ann,product-key=AAAAA-BBBBB").format(
        **{k: str(v) for k, v in trees.items()})
    ref, ours = _run_both(line + " --print-step all", tmp_path, OSINFO_SYSTEM_DIR=str(win_osinfo))
    assert ref.returncode == 0, ref.stderr[-2000:]
    assert ours.returncode == 0, ours.stderr[-2000:]
    _same_xml(ref.stdout, ours.stdout)  # virtio disk and net: the drivers make them usable
    assert "bus=\"virtio\"" in ours.stdout
    want, got = _logged(ref.stderr), _logged(ours.stderr)
    assert len(want["script"]) == 2 and got["script"] == want["script"]
    # the ISO: both scripts of the desktop profile and every driver file for the arch
    from pyvirt.install import osinfo as osdb
    monkeypatch.setattr(osdb, "OSINFO_DIRS", [str(win_osinfo), "/usr/share/osinfo"])
    osdb._index.cache_clear()
    try:
        kept = _install_keeping_media(line, tmp_path, monkeypatch)
    finally:
        monkeypatch.undo()
        osdb._index.cache_clear()
    iso = tmp_path / "unattended.iso"
    iso.write_bytes(kept["unattended.iso"])
    out = subprocess.run(["xorriso", "-indev", str(iso), "-find", "/", "-type", "f"],
                         capture_output=True, text=True, check=True)
    names = {n.strip("'").lstrip("/") for n in out.stdout.split()}
    assert {"autounattend.xml", "windows.cmd", "viostor.sys", "netkvm.inf"} <= names
    assert len(names) > 20


def test_handed_unattended_remote_cdrom_case(win_osinfo: Path, tmp_path: Path) -> None:
    """virt-manager's unattended-remote-cdrom case (win7 on a remote test+tls connection),
    its drivers served locally, gives its expected XML.  Run here rather than through
    tools/run_virtinst_cases.py, whose conversion of the line's two magic --connect options
    keeps the first one's capabilities."""
    import json
    sys.path.insert(0, str(CONF / "tools"))
    import libvirt_xml_compare as lxc
    from run_virtinst_cases import magic_to_env
    case = next(c for c in json.loads((CONF / "virt-manager-4.1.0" / "cases.json").read_text())["cases"]
                if c["id"].startswith("virt-install:unattended-remote-cdrom:"))
    argv = list(case["argv"])
    first = argv.index("--connect")
    del argv[first:first + 2]  # the later --connect is the one virt-install uses
    argv, extra = magic_to_env([a.replace("@TOPDIR@", str(TREE)) for a in argv])
    proc = subprocess.run([str(REPO / ".venv" / "bin" / "pyvirt-install"), *argv], cwd=TREE,
                          env={**_env(tmp_path), **extra, "OSINFO_SYSTEM_DIR": str(win_osinfo)},
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    same, diff = lxc.compare(case["expected_output"], proc.stdout.rstrip("\n"), "masked")
    assert same, diff
