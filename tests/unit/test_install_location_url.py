"""--location and --install kernel= over http (a loopback server this test starts),
--reinstall, and the default CPU virt-install picks from the domain capabilities.

Runs pyvirt install in-process against virt-manager's test driver state and host
capabilities (no daemon); the install tree is a tiny Fedora-like tree written here."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree

from tests.conformance_data import CONFORMANCE

DATA = CONFORMANCE / "virt-manager-4.1.0" / "tree" / "tests" / "data"
pytestmark = pytest.mark.skipif(not DATA.exists(), reason="shared conformance data not present")
TREEINFO = ("[general]\nfamily = Fedora\nversion = 17\narch = x86_64\n\n[images-x86_64]\n"
            "kernel = images/pxeboot/vmlinuz\ninitrd = images/pxeboot/initrd.img\n")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("trees")
    tree = root / "fedora"
    (tree / "images" / "pxeboot").mkdir(parents=True)
    (tree / ".treeinfo").write_text(TREEINFO)
    (tree / "images" / "pxeboot" / "vmlinuz").write_text("kernel")
    (tree / "images" / "pxeboot" / "initrd.img").write_text("initrd")
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(autouse=True)
def _kvm_host(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("VIRTCOMPAT_TEST_DRIVER_XML", str(DATA / "testdriver" / "testdriver.xml"))
    monkeypatch.setenv("VIRTCOMPAT_FAKEURI", "qemu:///session")
    monkeypatch.setenv("VIRTCOMPAT_CAPS", str(DATA / "capabilities" / "kvm-x86_64.xml"))
    monkeypatch.setenv("VIRTCOMPAT_DOMCAPS",
                       str(DATA / "capabilities" / "kvm-x86_64-domcaps-latest.xml"))
    monkeypatch.setenv("VIRTCOMPAT_PREDICTABLE", "1")
    monkeypatch.setenv("VIRTINST_TEST_SUITE", "1")
    from pyvirt import ids
    ids.reset_predictable()  # each command starts at the first predictable MAC, as a new process does
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    from pyvirt.cli.install import main
    rc = main(["--connect", "qemu:///session", "--noautoconsole", "--nographics",
               "--ram", "64", *args])
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


def _docs(out: str) -> list[etree._Element]:
    return [etree.fromstring("<domain" + part.split("<domain", 1)[1] + "</domain>")
            for part in out.split("</domain>") if "<domain" in part]


def test_http_tree_is_fetched_detected_and_pointed_at(capsys: pytest.CaptureFixture[str],
                                                       server: str, tmp_path: Path) -> None:
    rc, out, err = _run(capsys, "--disk", "none", "--location", f"{server}/fedora",
                        "--print-step", "all")
    assert rc == 0, err
    install, final = _docs(out)
    assert install.findtext("os/kernel") == "/VIRTINST-TESTSUITE/vmlinuz"
    assert install.findtext("os/initrd") == "/VIRTINST-TESTSUITE/initrd.img"
    # the installer is told where the tree is, with the argument osinfo names for Fedora 17
    assert install.findtext("os/cmdline") == f"method={server}/fedora"
    assert install.findtext("on_reboot") == "destroy"
    assert final.find("os/kernel") is None
    osid = final.find(".//{http://libosinfo.org/xmlns/libvirt/domain/1.0}os")
    assert osid is not None and osid.get("id") == "http://fedoraproject.org/fedora/17"
    assert final.findtext("name") == "fedora17"
    scratch = tmp_path / "cache" / "pyvirt" / "boot"
    assert not scratch.exists() or not list(scratch.iterdir())  # fetched files removed


def test_kernel_args_overwrite_and_network_install_ram(capsys: pytest.CaptureFixture[str],
                                                       server: str) -> None:
    rc, out, err = _run(capsys, "--disk", "none", "--location", f"{server}/fedora",
                        "--os-variant", "rhel7.0", "--install",
                        "kernel_args=test overwrite,kernel_args_overwrite=yes",
                        "--print-step", "all")
    assert rc == 0, err
    install, final = _docs(out)
    assert install.findtext("os/cmdline") == "test overwrite"
    # osinfo's network-install RAM for rhel7.0 (1.5 GiB) for the install boot only
    assert install.findtext("currentMemory") == "1572864"
    assert final.findtext("currentMemory") == "65536"


def test_unreachable_tree_is_refused(capsys: pytest.CaptureFixture[str], server: str) -> None:
    rc, _, err = _run(capsys, "--disk", "none", "--location", f"{server}/nothing-here",
                      "--osinfo", "generic", "--print-xml")
    assert rc == 1
    assert f"Could not find an installable distribution at URL '{server}/nothing-here'" in err
    rc, _, err = _run(capsys, "--disk", "none", "--location", "http://127.0.0.1:9/x",
                      "--osinfo", "generic", "--print-xml")
    assert rc == 1
    assert "The URL could not be accessed, maybe you mistyped?" in err


def test_install_kernel_urls_are_fetched(capsys: pytest.CaptureFixture[str], server: str) -> None:
    rc, out, err = _run(capsys, "--disk", "none", "--osinfo", "generic", "--install",
                        f"kernel={server}/fedora/images/pxeboot/vmlinuz,"
                        f"initrd={server}/fedora/images/pxeboot/initrd.img",
                        "--print-step", "1")
    assert rc == 0, err
    (install,) = _docs(out)
    assert install.findtext("os/kernel") == "/VIRTINST-TESTSUITE/vmlinuz"
    assert install.findtext("os/initrd") == "/VIRTINST-TESTSUITE/initrd.img"


def test_location_kernel_pair_is_looked_for_when_fetched(capsys: pytest.CaptureFixture[str],
                                                         server: str, tmp_path: Path) -> None:
    # a --location kernel=/initrd= pair the tree lacks: virtinst finds no kernel when it
    # fetches (install time), not while validating the location
    for loc in (f"{server}/fedora,kernel=nokernel,initrd=noinitrd",
                f"{tmp_path},kernel=nokernel,initrd=noinitrd"):
        rc, _, err = _run(capsys, "--disk", "none", "--osinfo", "fedora17", "--location", loc,
                          "--print-step", "1")
        assert rc == 1
        assert "Couldn't find kernel for install tree." in err
        assert "Error validating install location" not in err
    # a pair the tree has is used instead of the one the tree names
    (tmp_path / "k").write_text("kernel")
    (tmp_path / "i").write_text("initrd")
    rc, out, err = _run(capsys, "--disk", "none", "--osinfo", "fedora17", "--location",
                        f"{tmp_path},kernel=k,initrd=i", "--print-step", "1")
    assert rc == 0, err
    (install,) = _docs(out)
    assert install.findtext("os/kernel") == "/VIRTINST-TESTSUITE/k"


def test_treeinfo_tree_without_its_kernel_fails_when_fetched(capsys: pytest.CaptureFixture[str],
                                                             tmp_path: Path) -> None:
    # a .treeinfo makes the tree a distribution virt-install recognises even when the images
    # it names are missing, and the layouts it does not name are not searched: the kernel is
    # missing at fetch time, not "no installable distribution" while validating
    (tmp_path / ".treeinfo").write_text(TREEINFO)
    (tmp_path / "casper").mkdir()
    (tmp_path / "casper" / "vmlinuz").write_text("k")
    (tmp_path / "casper" / "initrd").write_text("i")
    rc, _, err = _run(capsys, "--disk", "none", "--osinfo", "detect=yes", "--location",
                      str(tmp_path), "--print-step", "1")
    assert rc == 1
    assert "Couldn't find kernel for install tree." in err
    assert "installable distribution" not in err


def test_xen_pv_guest_takes_the_treeinfo_xen_images(capsys: pytest.CaptureFixture[str],
                                                    tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIRTCOMPAT_FAKEURI", "xen:///")
    monkeypatch.setenv("VIRTCOMPAT_CAPS", str(DATA / "capabilities" / "xen-rhel5.4.xml"))
    monkeypatch.delenv("VIRTCOMPAT_DOMCAPS")
    (tmp_path / ".treeinfo").write_text(TREEINFO + "\n[images-xen]\nkernel = xen/vmlinuz\n"
                                        "initrd = xen/initrd.img\n")
    rc, _, err = _run(capsys, "--connect", "xen:///", "--paravirt", "--disk", "none",
                      "--osinfo", "fedora17", "--location", str(tmp_path), "--print-step", "1")
    assert rc == 1 and "Couldn't find kernel for install tree." in err
    (tmp_path / "xen").mkdir()
    (tmp_path / "xen" / "vmlinuz").write_text("k")
    (tmp_path / "xen" / "initrd.img").write_text("i")
    rc, out, err = _run(capsys, "--connect", "xen:///", "--paravirt", "--disk", "none",
                        "--osinfo", "fedora17", "--location", str(tmp_path), "--print-step", "1")
    assert rc == 0, err
    (install,) = _docs(out)
    assert install.findtext("os/type") == "xen"
    assert install.findtext("os/kernel") == "/VIRTINST-TESTSUITE/vmlinuz"


def test_http_error_status_is_worded_as_virt_install(capsys: pytest.CaptureFixture[str],
                                                      server: str) -> None:
    missing = f"{server}/fedora/images/pxeboot/noinitrd"
    rc, _, err = _run(capsys, "--disk", "none", "--osinfo", "generic", "--install",
                      f"kernel={server}/fedora/images/pxeboot/vmlinuz,initrd={missing}",
                      "--print-step", "1")
    assert rc == 1
    assert f"Couldn't acquire file {missing}: 404 Client Error: File not found for url: {missing}" in err


def test_reinstall_boots_the_media_and_keeps_the_definition(
        capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = _run(capsys, "--reinstall", "test-clone-simple", "--pxe", "--osinfo",
                        "generic", "--print-step", "all")
    assert rc == 0, err
    install, final = _docs(out)
    for doc in (install, final):
        assert doc.findtext("name") == "test-clone-simple"
        assert doc.findtext("vcpu") == "5"  # the domain's own settings, no new defaults
    assert [b.get("dev") for b in install.findall("os/boot")] == ["network", "hd"]
    assert install.findtext("on_reboot") == "destroy"
    assert [b.get("dev") for b in final.findall("os/boot")] == ["hd"]
    assert final.findtext("on_reboot") == "restart"


def test_reinstall_unknown_domain(capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = _run(capsys, "--reinstall", "no-such-vm", "--pxe", "--print-xml")
    assert rc == 1
    assert "Could not find domain 'no-such-vm'" in err


@pytest.mark.parametrize(("domcaps", "expect"), [
    ("kvm-x86_64-domcaps-latest.xml", "host-passthrough"),
    ("kvm-x86_64-domcaps-insecure.xml", "host-model"),
    (None, "custom"),
])
def test_default_cpu_follows_domain_capabilities(capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 domcaps: str | None, expect: str) -> None:
    monkeypatch.setenv("VIRTCOMPAT_FAKEURI", "qemu:///system")
    if domcaps:
        monkeypatch.setenv("VIRTCOMPAT_DOMCAPS", str(DATA / "capabilities" / domcaps))
    else:
        monkeypatch.delenv("VIRTCOMPAT_DOMCAPS")
    from pyvirt.cli.install import main
    rc = main(["--connect", "qemu:///system", "--noautoconsole", "--ram", "64", "--disk",
               "none", "--pxe", "--os-variant", "rhel7.0", "--print-xml", "1"])
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    cpu = _docs(cap.out)[0].find("cpu")
    assert cpu.get("mode") == expect
    if expect == "custom":  # the host's model from the capabilities
        assert cpu.findtext("model") == "Skylake-Client-noTSX-IBRS"
