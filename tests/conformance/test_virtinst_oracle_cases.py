"""pyvirt install against the real virt-install 4.1 (a test-only oracle, Debian's virtinst)
on virt-manager's own kinds of command lines: each line of virtinst_oracle_cases.txt is
``kind|category|options``; the category adds the options virt-manager's test_cli.py gives
its category, and the suite's defaults (--connect, --ram 64, --print-step all, --debug)
are added as that suite adds them.

compare lines must give the same domain XML (masked), valid and invalid lines the same exit
status, and for failures the same error message.  Install trees come from a directory and a
loopback HTTP server this test makes (%(TREE-DIR)s, %(TREE-URL)s).  A floor keeps what is
reached; the differences left are printed with their reasons in docs/conformance.md.
"""

from __future__ import annotations

import functools
import http.server
import os
import shlex
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conformance_data import CONFORMANCE as CONF
from tests.virtinst_pair import TREE, ending_difference, run_pair

VIRT_INSTALL = Path("/usr/bin/virt-install")
DATA = TREE / "tests" / "data"
LINES = Path(__file__).with_name("virtinst_oracle_cases.txt")
SAME_FLOOR = 1090
TREEINFO = ("[general]\nfamily = Fedora\nversion = 17\narch = x86_64\n\n[images-x86_64]\n"
            "kernel = images/pxeboot/vmlinuz\ninitrd = images/pxeboot/initrd.img\n")


def _uri(drv: str, fake: str | None = None, caps: str | None = None,
         domcaps: str | None = None) -> str:
    s = f"__virtinst_test__test://{DATA}/testdriver/{drv},predictable"
    s += f",fakeuri={fake}" if fake else ""
    s += f",caps={DATA}/capabilities/{caps}" if caps else ""
    return s + (f",domcaps={DATA}/capabilities/{domcaps}" if domcaps else "")


X86 = ("kvm-x86_64.xml", "kvm-x86_64-domcaps-latest.xml")
PLACES = {
    "URI-TEST-FULL": _uri("testdriver.xml"), "URI-TEST-SUITE": _uri("testsuite.xml"),
    "URI-TEST-REMOTE": _uri("testdriver.xml", "test+tls://fakeuri.example.com/"),
    "URI-KVM-X86": _uri("testdriver.xml", "qemu:///system", *X86),
    "URI-KVM-X86-SESSION": _uri("testdriver.xml", "qemu:///session", *X86),
    "URI-KVM-X86-REMOTE": _uri("testdriver.xml", "qemu+tls://fakeuri.example.com/system", *X86),
    "URI-KVM-X86-NODOMCAPS": _uri("testdriver.xml", "qemu:///system", "kvm-x86_64.xml"),
    "URI-KVM-X86-INSECURE": _uri("testdriver.xml", "qemu:///system", "kvm-x86_64.xml",
                                 "kvm-x86_64-domcaps-insecure.xml"),
    "URI-KVM-X86-OLDFW": _uri("testdriver.xml", "qemu:///system", "kvm-x86_64.xml",
                              "kvm-x86_64-domcaps-oldfirmware.xml"),
    "URI-KVM-SEV": _uri("testdriver.xml", "qemu:///system", "kvm-x86_64.xml",
                        "kvm-x86_64-domcaps-amd-sev.xml"),
    **{f"URI-{k}": _uri("testdriver.xml", "qemu:///system", f"{c}.xml", f"{c}-domcaps.xml")
       for k, c in (("KVM-ARMV7L", "kvm-armv7l"), ("KVM-AARCH64", "kvm-aarch64"),
                    ("KVM-PPC64LE", "kvm-ppc64le"), ("KVM-S390X", "kvm-s390x"),
                    ("QEMU-RISCV64", "qemu-riscv64"))},
    "URI-LXC": _uri("testdriver.xml", "lxc:///", "lxc.xml"),
    "URI-XEN": _uri("testdriver.xml", "xen:///", "xen-rhel5.4.xml"),
    "URI-VZ": _uri("testdriver.xml", "vz:///", "vz.xml"),
    "URI-BHYVE": _uri("testdriver.xml", "bhyve:///", "bhyve.xml", "bhyve-domcaps.xml"),
    "XMLDIR": "tests/data/cli", "NEWIMG1": "/pool-dir/new1.img", "NEWIMG2": "/pool-dir/new2.img",
    "EXISTIMG1": "/pool-dir/testvol1.img", "EXISTIMG2": "/pool-dir/testvol2.img",
    "EXISTIMG3": "/tmp/__virtinst_cli_exist1.img", "COLLIDE": "/pool-dir/collidevol1.img",
    "TREEDIR": "tests/data/fakemedia/fakefedoratree",
    "ISO-NO-OS": "tests/data/fakemedia/fake-no-osinfo.iso",
    "ADMIN-PASSWORD-FILE": "tests/data/cli/unattended/admin-password.txt",
    "USER-PASSWORD-FILE": "tests/data/cli/unattended/user-password.txt",
}
CATEGORIES = {
    "xml-comparsion": "--connect %(URI-KVM-X86)s --noautoconsole --os-variant fedora-unknown",
    "storage": "--pxe --nographics --noautoconsole --hvm --osinfo detect=yes,require=no",
    "invalid-devices": "--noautoconsole --nodisks --pxe --osinfo require=no",
    "nodisk-install": "--nographics --noautoconsole --nodisks",
    "single-disk-install": "--nographics --noautoconsole --disk %(EXISTIMG1)s",
    "misc-install": "--nographics --noautoconsole",
    "unattended-install": "--connect %(URI-KVM-X86)s --nographics --noautoconsole --disk none",
    "remote": "--connect %(URI-TEST-REMOTE)s --nographics --noautoconsole --osinfo generic",
    "kvm-generic": "--connect %(URI-KVM-X86)s --autoconsole none",
    "lxc": "--name foolxc --noautoconsole --connect %(URI-LXC)s",
    "xen": "--noautoconsole --connect %(URI-XEN)s",
    "vz": "--noautoconsole --connect %(URI-VZ)s",
    "bhyve": "--name foobhyve --noautoconsole --connect %(URI-BHYVE)s",
    "device-back-compat": "--nodisks --pxe --noautoconsole --paravirt",
    "storage-back-compat": "--pxe --noautoconsole --osinfo generic",
    "console-tests": "--nodisks --os-variant generic",
    "hyperv": "--disk none --osinfo win11 --import",
    "kvm-x86_64-launch-security": "--disk none --noautoconsole --osinfo generic --connect %(URI-KVM-X86)s",
}


def _argv(kind: str, category: str, options: str, places: dict[str, str]) -> list[str]:
    """test_cli.py's App._default_args on the category's options."""
    if "--use-default-args-false" in options:  # test_cli.py: the line's own options only
        return shlex.split(options.replace("--use-default-args-false", "") % places)
    cli = (CATEGORIES[category] + " " + options) % places
    extra = "" if kind == "compare" else "--debug"
    if "--connect " not in cli:
        extra += " --connect " + places["URI-TEST-SUITE"]
    if "--ram " not in cli and "lxc" not in cli:
        extra += " --ram 64"
    if kind == "compare" and not any(x in cli for x in ("--print-xml", "--print-step", "--quiet")):
        extra += " --print-step all"
    return shlex.split(cli + " " + extra)


def _run_both(line: str, places: dict[str, str]) -> str | None:
    sys.path.insert(0, str(CONF / "tools"))
    import libvirt_xml_compare as lxc

    kind, category, options = line.split("|", 2)
    for name in ("/tmp/__virtinst_cli_exist1.img", "/tmp/__virtinst_cli_exist2.img"):
        Path(name).touch()
    ref, ours = run_pair(VIRT_INSTALL, "pyvirt-install", _argv(kind, category, options, places))
    if (differs := ending_difference(line, "virt-install", ref, ours)) or ref.returncode:
        return differs
    if kind == "compare":
        same, diff = lxc.compare(ref.stdout, ours.stdout, "masked")
        return None if same else f"{line}\n{diff}"
    return None


@pytest.fixture(scope="module")
def trees(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    root = tmp_path_factory.mktemp("trees")
    tree = root / "fedora"
    (tree / "images" / "pxeboot").mkdir(parents=True)
    (tree / ".treeinfo").write_text(TREEINFO)
    for name in ("vmlinuz", "initrd.img"):
        (tree / "images" / "pxeboot" / name).write_text(name)
    # a tree whose .treeinfo names a kernel it does not hold
    (root / "nokernel").mkdir()
    (root / "nokernel" / ".treeinfo").write_text(TREEINFO)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield {**PLACES, "TREE-DIR": str(root), "TREE-URL": f"http://127.0.0.1:{httpd.server_address[1]}"}
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.skipif(not VIRT_INSTALL.exists() or not TREE.exists(),
                    reason="virt-install (test oracle) or shared conformance data missing")
@pytest.mark.skipif(os.environ.get("PYVIRT_VIRTINST_ORACLE") != "1",
                    reason="takes minutes on a loaded 2-core machine: PYVIRT_VIRTINST_ORACLE=1 runs it")
@pytest.mark.timeout(3600)
def test_same_as_virt_install(trees: dict[str, str]) -> None:
    lines = [ln for ln in LINES.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    with ThreadPoolExecutor(2) as pool:
        problems = [p for p in pool.map(lambda ln: _run_both(ln, trees), lines) if p]
    print(f"same {len(lines) - len(problems)}/{len(lines)}")
    print("\n".join(problems))
    assert len(lines) - len(problems) >= SAME_FLOOR, "\n".join(problems)
