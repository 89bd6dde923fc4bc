"""General rules found by the eighth round of virt-install/virt-xml probes (each checked
against Debian's virt-install/virt-xml 4.1 first): the install XML is virtinst's copy parsed
from the final XML, so what the installer adds to <os> goes last; validate_disk runs after
every option is parsed, disk by disk, and virt-xml never runs it; defaults of virtinst's
set_defaults (a vsock's cid auto, a smartcard's mode and type) are not an --edit's to write.

Runs the commands in-process against virt-manager's test driver state (no daemon)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from lxml import etree

from tests.unit.test_install_virtinst_rules7 import DATA, _domain, _run, kvm, needs_data

__all__ = ["kvm"]  # the fixture, used by name


def _domains(out: str) -> list[etree._Element]:
    docs, rest = [], out
    while "<domain" in rest:
        start = rest.index("<domain")
        end = rest.index("</domain>", start) + 9
        docs.append(etree.fromstring(rest[start:end].encode()))
        rest = rest[end:]
    return docs


@needs_data
def test_install_boot_additions_go_last_in_os(capsys: pytest.CaptureFixture[str], kvm: str,
                                              tmp_path: Path) -> None:
    """The install step's boot order and kernel are set on a parsed copy: appended after
    bootmenu/bios; the final XML keeps virtinst's property order."""
    rc, out = _run(capsys, kvm, "--ram", "64", "--disk", "none", "--pxe", "--print-step", "all",
                   "--boot", "hd,cdrom,menu=on,useserial=on")
    assert rc == 0, out
    first, final = _domains(out)
    assert [k.tag for k in first.find("os")][1:] == ["bootmenu", "bios", "boot"]
    assert [k.tag for k in final.find("os")][1:] == ["boot", "boot", "bootmenu", "bios"]
    for name in ("vmlinuz", "initrd.img"):
        (tmp_path / name).write_text(name)
    rc, out = _run(capsys, kvm, "--ram", "64", "--disk", "none", "--print-step", "1", "--boot", "menu=on",
                   "--install", f"kernel={tmp_path / 'vmlinuz'},initrd={tmp_path / 'initrd.img'},kernel_args=ro")
    assert rc == 0, out
    assert [k.tag for k in _domain(out).find("os")][1:] == ["bootmenu", "kernel", "initrd", "cmdline"]


@needs_data
def test_disk_checks_after_parsing_in_disk_order(capsys: pytest.CaptureFixture[str], kvm: str) -> None:
    """A later --disk's parse error comes before an earlier disk's path-in-use check."""
    rc, out = _run(capsys, kvm, "--ram", "64", "--pxe", "--disk", "/pool-dir/testvol2.img",
                   "--disk", "none,device=floppy")
    assert rc != 0
    assert "Error: --disk none,device=floppy: Size must be specified" in out
    assert "already in use" not in out


@needs_data
def test_virt_xml_edit_and_add_device(capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """virt-xml: no path-in-use check on --add-device; --edit of a vsock address keeps its
    cid auto='no'; an edited host smartcard gets no type; a bare word after clearxml= is refused."""
    monkeypatch.setenv("VIRTCOMPAT_TEST_DRIVER_XML", str(DATA / "testdriver" / "testsuite.xml"))
    monkeypatch.setenv("VIRTINST_TEST_SUITE", "1")
    monkeypatch.setenv("VIRTCOMPAT_PREDICTABLE", "1")
    from pyvirt.cli.xml import main

    def xml(*args: str) -> tuple[int, str]:
        monkeypatch.setattr("sys.stdin", io.StringIO(""))
        rc = main([*args, "--print-xml", "--connect", "test:///default"])
        cap = capsys.readouterr()
        return rc, cap.out + cap.err

    rc, out = xml("test-for-virtxml", "--add-device", "--disk", "/pool-dir/collidevol1.img")
    assert rc == 0, out
    rc, out = xml("test-for-virtxml", "--edit", "--vsock", "cid.address=7")
    assert rc == 0, out
    assert dict(_domain(out).find("devices/vsock/cid").attrib) == {"auto": "no", "address": "7"}
    rc, out = xml("test-for-virtxml", "--edit", "--smartcard", "mode=host")
    assert rc == 0, out
    assert dict(_domain(out).find("devices/smartcard").attrib) == {"mode": "host"}
    rc, out = xml("test-state-shutoff", "--add-device", "--smartcard", "host")
    assert rc == 0, out  # the test driver ignores a host card's type (tcp, the default)
    assert dict(_domain(out).find("devices/smartcard").attrib) == {"mode": "host", "type": "tcp"}
    rc, out = xml("test-for-virtxml", "--edit", "--cpu", "clearxml=yes,host-passthrough")
    assert rc != 0 and "Unknown --cpu options: ['host-passthrough']" in out


@needs_data
def test_bare_word_after_clearxml_is_a_name(capsys: pytest.CaptureFixture[str], kvm: str) -> None:
    """virtinst reads positional values only before the first NAME=VALUE: after clearxml= a
    bare word is a sub-option's name (a CPU feature, or unknown), never the model; and
    --boot's clearxml=yes clears the boot order the same option set."""
    rc, out = _run(capsys, kvm, "--ram", "64", "--disk", "none", "--pxe", "--cpu", "clearxml=yes,host-passthrough")
    assert rc != 0 and "Unknown --cpu options: ['host-passthrough']" in out
    rc, out = _run(capsys, kvm, "--ram", "64", "--disk", "none", "--pxe", "--print-step", "2",
                   "--cpu", "clearxml=no,+avx2", "--boot", "clearxml=yes,hd,menu=on")
    assert rc == 0, out
    dom = _domain(out)
    assert dom.find("cpu/model") is None and dom.find("cpu/feature").get("name") == "avx2"
    assert [b.get("dev") for b in dom.findall("os/boot")] == ["network"]


@needs_data
def test_print_xml_creates_storage_unless_dry_run(capsys: pytest.CaptureFixture[str], kvm: str) -> None:
    """virt-install's --print-xml builds the storage (start_install before it returns the
    XML); --dry-run does not: the same new volume twice fails only without it."""
    twice = ["--disk", "/pool-dir/newvol.img,size=1", "--disk", "/pool-dir/newvol.img,size=1"]
    rc, out = _run(capsys, kvm, "--ram", "64", "--pxe", "--print-xml", *twice)
    assert rc != 0 and "Couldn't create storage volume 'newvol.img'" in out
    rc, out = _run(capsys, kvm, "--ram", "64", "--pxe", "--print-xml", "--dry-run", *twice)
    assert rc == 0, out
