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
    yield {"root": root, "dir": tree, "url": f"http://127.0.0.1:{httpd.server_address[1]}/fedora"}
    httpd.shutdown()
    httpd.server_close()


def _env(home: Path) -> dict[str, str]:
    return dict(os.environ, VIRTINST_TEST_SUITE="1", HOME=str(home), XDG_CACHE_HOME=str(home / "cache"),
                LANG="C.UTF-8", LC_ALL="C.UTF-8")


def _run_both(line: str, home: Path) -> tuple[subprocess.CompletedProcess, subprocess.CompletedProcess]:
    sys.path.insert(0, str(CONF / "tools"))
    from run_virtinst_cases import magic_to_env
    argv = ["--connect", URI, "--noautoconsole", "--nographics", "--debug", *shlex.split(line)]
    env = _env(home)
    ref = subprocess.run([str(VIRT_INSTALL), *argv], cwd=TREE, env=env, capture_output=True,
                         text=True, timeout=300)
    ours_argv, extra = magic_to_env(argv)
    ours = subprocess.run([str(REPO / ".venv" / "bin" / "pyvirt-install"), *ours_argv], cwd=TREE,
                          env={**env, **extra}, capture_output=True, text=True, timeout=300)
    return ref, ours


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
    "inject-overwrite": "--name inj --memory 1024 --disk none --location {url} "
                        "--initrd-inject {root}/extra.cfg --unattended admin-password-file={root}/same "
                        "--install kernel_args=ro,kernel_args_overwrite=yes",
}


@pytest.mark.parametrize("case", list(CASES))
def test_same_install_as_virt_install(case: str, trees: dict, tmp_path: Path) -> None:
    line = CASES[case].format(**{k: str(v) for k, v in trees.items()})
    ref, ours = _run_both(line + " --print-step all", tmp_path)
    assert ref.returncode == 0, ref.stderr[-2000:]
    assert ours.returncode == 0, ours.stderr[-2000:]
    _same_xml(ref.stdout, ours.stdout)
    want, got = _logged(ref.stderr), _logged(ours.stderr)
    assert want["script"], "virt-install logged no script"
    assert got["script"] == want["script"]
    # virt-install logs a cdrom script's command line too, though it is not used
    if "--pxe" not in line:
        assert got["cmdline"] == want["cmdline"]
    # the scratch files are gone once the XML is printed
    scratch = tmp_path / "cache" / "pyvirt" / "boot"
    assert not scratch.exists() or not list(scratch.iterdir())


REFUSED = {
    "bad-profile": "--location {url} --os-variant fedora36 --unattended profile=FRIBBER",
    "root-login": "--location {url} --unattended user-login=ROOT,admin-password-file={root}/same",
    "no-admin-password": "--location {url} --unattended profile=jeos",
    "no-scripts": "--location {url} --os-variant solaris10 --unattended",
    "unknown-key": "--location {url} --unattended admin-password-file={root}/same,bogus=1",
    "no-initrd-injection": "--cdrom {root}/same --os-variant win10 --unattended profile=jeos,"
                           "admin-password-file={root}/same --initrd-inject {root}/same",
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_same_refusals(case: str, trees: dict, tmp_path: Path) -> None:
    line = REFUSED[case].format(**{k: str(v) for k, v in trees.items()})
    ref, ours = _run_both("--name r --memory 1024 --disk none " + line + " --print-step all", tmp_path)
    assert ref.returncode == 1 and ours.returncode == 1, (ref.stderr[-800:], ours.stderr[-800:])
    assert _error(ours.stderr) == _error(ref.stderr)


def _appended_archive(initrd: bytes, original: bytes) -> bytes:
    assert initrd.startswith(original)
    return gzip.decompress(initrd[len(original):])


def test_injected_initrd_holds_the_script(trees: dict, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The initrd the install XML boots: the tree's own archive, then one gzip'd newc
    archive with --initrd-inject's file and the kickstart (real passwords) at its root,
    as `cpio -t` lists it; the kickstart is the script virt-install would render."""
    from pyvirt.install import installer
    kept: dict[str, bytes] = {}
    original = installer.Installer.cleanup_install_media

    def keep(self: installer.Installer, g: object) -> None:
        for path in self._tmpfiles:
            if os.path.exists(path):
                kept[os.path.basename(path).split("-", 2)[-1]] = Path(path).read_bytes()
        original(self, g)

    monkeypatch.setattr(installer.Installer, "cleanup_install_media", keep)
    for key, val in _env(tmp_path).items():
        monkeypatch.setenv(key, val)
    sys.path.insert(0, str(CONF / "tools"))
    from run_virtinst_cases import magic_to_env
    line = CASES["http-jeos-login"].format(**{k: str(v) for k, v in trees.items()}).replace(
        "user-login=Bob", f"user-login=Bob,user-password-file={trees['root']}/same")
    argv, extra = magic_to_env(["--connect", URI, "--noautoconsole", "--nographics",
                                *shlex.split(line), "--initrd-inject",
                                f"{trees['root']}/extra.cfg", "--print-step", "1"])
    for key, val in extra.items():
        monkeypatch.setenv(key, val)
    from pyvirt import ids
    ids.reset_predictable()
    from pyvirt.cli.install import main
    assert main(argv) == 0
    initrd = kept["initrd.img"]
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
