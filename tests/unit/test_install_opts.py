"""pyvirt install: the sub-option grammar, a few option parsers, and the install media
helpers (cloud-init seed, --location kernel discovery) without a daemon."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from lxml import etree

from pyvirt.install import media
from pyvirt.install.opts.xmlopt import _actions, _perform
from pyvirt.install.subopts import Spec, SubOptError, check_unknown, parse, split_tuples, yesno

DISKISH = Spec("--disk", keys=["path", "size", "bus", r"address\..*"], positional=("path",),
               aliases={"target.bus": "bus"})
VCPUS = Spec("--vcpus", keys=["vcpu", "cpuset"], positional=("vcpu",), comma=("cpuset",))


def test_split_honours_quotes() -> None:
    assert split_tuples('a=1,b="x,y",c') == [("a", "1"), ("b", "x,y"), ("c", None)]
    assert split_tuples("kernel_args='console=ttyS0 quiet',x=2") == [
        ("kernel_args", "console=ttyS0 quiet"), ("x", "2")]


def test_positional_alias_and_last_wins() -> None:
    d = parse(DISKISH, "/a.img,size=5,target.bus=virtio,size=7,address.type=pci")
    assert d == {"path": "/a.img", "bus": "virtio", "size": "7", "address.type": "pci"}


def test_comma_value_glues_bare_words() -> None:
    assert parse(VCPUS, "4,cpuset=1,3-5") == {"vcpu": "4", "cpuset": "1,3-5"}


def test_unknown_reported_like_virt_install() -> None:
    with pytest.raises(SubOptError, match=r"Unknown --disk options: \['foo'\]"):
        check_unknown(DISKISH, parse(DISKISH, "/a,foo=1"))


@pytest.mark.parametrize(("value", "expected"), [("on", True), ("YES", True), ("1", True),
                                                 ("off", False), ("no", False), ("false", False)])
def test_yesno(value: str, expected: bool) -> None:
    assert yesno(value) is expected


def test_yesno_refuses_other_words() -> None:
    with pytest.raises(SubOptError, match="^menu must be 'yes' or 'no'$"):
        yesno("maybe", "menu")


def test_clock_keys() -> None:
    from pyvirt.install.opts.domain import CLOCK
    assert CLOCK.known("rtc_tickpolicy") and CLOCK.known("hpet_present")
    assert CLOCK.known("timer2.catchup.slew")
    assert not CLOCK.known("foo_tickpolicy")


def test_cloudinit_default_and_options(tmp_path: Path) -> None:
    bare = media.CloudInit.parse(1)
    assert bare.root_password_generate and bare.disable
    pw = bare.generated_password()
    assert pw and len(pw) == 16 and pw.isalnum() and bare.generated_password() == pw
    text = bare.user_data_text()
    assert f"root:{pw}" in text and "expire: True" in text and "cloud-init.disabled" in text
    assert "root:[SCRUBBLED]" in bare.scrubbed_user_data()

    key = tmp_path / "k.pub"
    key.write_text("ssh-rsa AAA me\n")
    ci = media.CloudInit.parse(f"ssh-key={key},clouduser-ssh-key={key}")
    assert ci.user_data_text() == ("#cloud-config\nusers:\n  - name: root\n"
                                   "    ssh-authorized-keys:\n      - ssh-rsa AAA me\n"
                                   "  - ssh-authorized-keys: ssh-rsa AAA me\n")
    names = [n for n, _ in ci.files()]
    assert names == ["meta-data", "user-data"]
    with pytest.raises(SubOptError, match="Unknown --cloud-init options"):
        media.CloudInit.parse("bogus=1")


@pytest.mark.skipif(not shutil.which("isoinfo"), reason="isoinfo not installed")
def test_seed_iso_label_and_files(tmp_path: Path) -> None:
    iso = media.build_iso([("meta-data", ""), ("user-data", "#cloud-config\n")], str(tmp_path),
                          label="cidata", suffix="-cloudinit.iso")
    assert iso.endswith("-cloudinit.iso")
    info = subprocess.run(["isoinfo", "-d", "-i", iso], capture_output=True, text=True).stdout
    assert "Volume id: cidata" in info
    body = subprocess.run(["isoinfo", "-J", "-x", "/user-data", "-i", iso],
                          capture_output=True, text=True).stdout
    assert body == "#cloud-config\n"


def _tree(root: Path, files: list[str]) -> Path:
    for rel in files:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(rel)
    return root


@pytest.mark.parametrize(("files", "expected"), [
    (["images/pxeboot/vmlinuz", "images/pxeboot/initrd.img"],
     ("images/pxeboot/vmlinuz", "images/pxeboot/initrd.img")),
    (["install.amd/vmlinuz", "install.amd/initrd.gz"], ("install.amd/vmlinuz", "install.amd/initrd.gz")),
    (["current/images/netboot/debian-installer/amd64/linux",
      "current/images/netboot/debian-installer/amd64/initrd.gz"],
     ("current/images/netboot/debian-installer/amd64/linux",
      "current/images/netboot/debian-installer/amd64/initrd.gz")),
    (["install/netboot/ubuntu-installer/amd64/linux", "install/netboot/ubuntu-installer/amd64/initrd.gz"],
     ("install/netboot/ubuntu-installer/amd64/linux", "install/netboot/ubuntu-installer/amd64/initrd.gz")),
    (["casper/vmlinuz", "casper/initrd"], ("casper/vmlinuz", "casper/initrd")),
    (["README"], None),
])
def test_kernel_paths_layouts(tmp_path: Path, files: list[str], expected: tuple[str, str] | None) -> None:
    found = media.kernel_paths(media.TreeReader(str(_tree(tmp_path, files))), "x86_64")
    assert found == (None if expected is None else [expected])


TREEINFO = ("[general]\nfamily = Fedora\narch = {arch}\n\n[images-{arch}]\nkernel = boot/k\n"
            "initrd = boot/i\n\n[images-xen]\nkernel = xen/k\ninitrd = xen/i\n")


def test_kernel_paths_of_a_treeinfo_tree(tmp_path: Path) -> None:
    # a tree with a .treeinfo offers only what its images section names, for the tree's own
    # arch whatever the guest's, or images-xen for a Xen PV guest, present or not (virtinst's
    # get_treeinfo_media; the files are looked for when fetched)
    _tree(tmp_path, ["boot/k", "boot/i", "images/pxeboot/vmlinuz", "images/pxeboot/initrd.img"])
    (tmp_path / ".treeinfo").write_text(TREEINFO.format(arch="x86_64"))
    reader = media.TreeReader(str(tmp_path))
    assert media.kernel_paths(reader, "x86_64") == [("boot/k", "boot/i")]
    assert media.kernel_paths(reader, "i686") == [("boot/k", "boot/i")]
    assert media.kernel_paths(reader, "x86_64", xen=True) == [("xen/k", "xen/i")]
    (tmp_path / ".treeinfo").write_text(TREEINFO.format(arch="aarch64"))
    assert media.kernel_paths(reader, "aarch64") == [("boot/k", "boot/i")]
    (tmp_path / ".treeinfo").write_text("[general]\nfamily = Fedora\narch = x86_64\n")
    assert media.kernel_paths(reader, "x86_64") == []  # recognised, but no kernel named


@pytest.mark.skipif(not (shutil.which("xorriso") and (shutil.which("xorrisofs") or shutil.which("genisoimage"))),
                    reason="xorriso not installed")
def test_iso_reader_finds_and_extracts(tmp_path: Path) -> None:
    tree = _tree(tmp_path / "t", ["casper/vmlinuz", "casper/initrd"])
    iso = str(tmp_path / "u.iso")
    tool = shutil.which("xorrisofs") or shutil.which("genisoimage")
    subprocess.run([tool, "-o", iso, "-J", "-rational-rock", str(tree)], check=True, capture_output=True)
    reader = media.TreeReader(iso)
    assert reader.is_iso
    found = media.kernel_paths(reader, "x86_64")
    assert found == [("casper/vmlinuz", "casper/initrd")]
    out = reader.fetch("casper/vmlinuz", str(tmp_path))
    assert Path(out).read_text() == "casper/vmlinuz"


def test_xml_actions() -> None:
    root = etree.fromstring("<domain><devices><disk/><disk/></devices><clock/></domain>")
    for kind, xpath, value in (_actions("./@foo=bar") + _actions("xpath1.set=./devices/disk[2]/serial,"
                                                                 "xpath1.value=S2,xpath2.delete=./clock")
                               + _actions("xpath.create=./features/hap")):
        _perform(root, kind, xpath, value)
    assert root.get("foo") == "bar"
    assert root.findall("devices/disk")[1].findtext("serial") == "S2"
    assert root.find("clock") is None and root.find("features/hap") is not None
    with pytest.raises(SubOptError, match=r"/@foo xmlXPathEval\(\) failed"):
        _perform(root, *_actions("/@foo=bar")[0])


def test_install_package_never_imports_the_cli() -> None:
    """Issue 9: install/ builds guests; prompts, consoles' exit codes and argument parsing
    live in cli/install.py, which imports install/ and never the other way round."""
    import ast

    root = Path(__file__).resolve().parents[2] / "src" / "pyvirt" / "install"
    offenders = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            offenders += [f"{path.name}: {n}" for n in names if n == "pyvirt.cli" or n.startswith("pyvirt.cli.")]
    assert offenders == []
