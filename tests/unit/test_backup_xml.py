"""<domainbackup> through the one XML engine: libvirt's defaults (backup_conf.c), the disk
alignment with generated target names, virDomainBackupDefFormat's output, and refusals that
name what and where."""

from __future__ import annotations

import pytest

from pyvirt.xml.backup import GuestDisk, align_disks, parse_backup
from pyvirt.xml.errors import XMLError, XMLUnsupportedError

DISKS = [GuestDisk("vda", "/i/a.qcow2", False, True), GuestDisk("hdc", None, True, True),
         GuestDisk("vdb", "/dev/sdx", False, False)]


def test_empty_request_backs_up_every_writable_disk_beside_its_image() -> None:
    backup = parse_backup("<domainbackup/>")
    with pytest.raises(XMLUnsupportedError, match="refusing to generate file name for disk 'vdb'"):
        align_disks(backup, DISKS, "1700000000")  # a block device gets no generated name
    backup = parse_backup("<domainbackup/>")
    align_disks(backup, DISKS[:2], "1700000000")
    assert backup.to_xml() == (
        "<domainbackup mode='push'>\n  <disks>\n"
        "    <disk name='vda' backup='yes' type='file' backupmode='full'>\n"
        "      <driver type='qcow2'/>\n      <target file='/i/a.qcow2.1700000000'/>\n    </disk>\n"
        "    <disk name='hdc' backup='no'/>\n  </disks>\n</domainbackup>\n")


def test_listed_disks_first_and_incremental_inherited() -> None:
    backup = parse_backup("<domainbackup><incremental>c1</incremental><disks>"
                          "<disk name='vdb' type='block'><driver type='raw'/><target dev='/dev/sdy'/></disk>"
                          "<disk name='vda' backup='no'/></disks></domainbackup>")
    align_disks(backup, DISKS, "5")
    assert [(d.name, d.backup, d.backupmode, d.incremental, d.path) for d in backup.disks] == [
        ("vdb", True, "incremental", "c1", "/dev/sdy"), ("vda", False, None, None, None),
        ("hdc", False, None, None, None)]
    text = backup.to_xml()
    assert "<incremental>c1</incremental>" in text
    assert "<disk name='vdb' backup='yes' type='block' backupmode='incremental' incremental='c1'>" in text
    assert "<target dev='/dev/sdy'/>" in text and "<driver type='raw'/>" in text


def test_pull_mode_round_trip() -> None:
    xml = ("<domainbackup mode='pull'><server transport='unix' socket='/run/x.sock'/><disks>"
           "<disk name='vda' exportname='a' exportbitmap='b' backupmode='incremental' incremental='c1'>"
           "<scratch file='/s/a.qcow2'/></disk></disks></domainbackup>")
    backup = parse_backup(xml)
    align_disks(backup, DISKS[:1], "5")
    again = parse_backup(backup.to_xml())
    assert again == backup and again.server is not None and again.server.socket == "/run/x.sock"
    assert "<disk name='vda' backup='yes' type='file' backupmode='incremental' incremental='c1' exportname='a' " \
           "exportbitmap='b'>" in backup.to_xml()


@pytest.mark.parametrize(("xml", "error", "words"), [
    ("<domainbackup><server name='h'/></domainbackup>", XMLUnsupportedError, "requires pull mode"),
    ("<domainbackup mode='pull'><server transport='unix' socket='rel'/></domainbackup>", XMLError,
     "backup socket path 'rel' must be absolute"),
    ("<domainbackup mode='sideways'/>", XMLError, "sideways"),
    ("<domainbackup><disks><disk/></disks></domainbackup>", XMLError, "missing name from disk backup element"),
    ("<domainbackup><disks>\n<disk name='vda'><scratch file='/s'/></disk></disks></domainbackup>", XMLError,
     "disk 'vda': <scratch> does not fit a push mode backup"),
    ("<domainbackup><disks><disk name='vda'><target file='rel.qcow2'/></disk></disks></domainbackup>", XMLError,
     "must be absolute"),
    ("<domainbackup><disks><disk name='vda' type='block'><target file='/x'/></disk></disks></domainbackup>",
     XMLError, "does not fit type 'block'"),
    ("<domainbackup><disks><disk name='vda'><target file='/x'><encryption format='luks'/></target></disk>"
     "</disks></domainbackup>", XMLError, "encryption"),
])
def test_bad_requests_name_what_and_where(xml: str, error: type[Exception], words: str) -> None:
    with pytest.raises(error) as err:
        parse_backup(xml)
    assert words in str(err.value)


@pytest.mark.parametrize(("xml", "words"), [
    ("<disk name='vdz'/>", "no disk named 'vdz'"),
    ("<disk name='vda'/><disk name='vda' backup='no'/>", "disk 'vda' specified twice"),
    ("<disk name='vda' backupmode='incremental'/>", "requires setting 'incremental'"),
    ("<disk name='hdc'/>", "disk 'hdc' has no media"),
])
def test_alignment_refusals(xml: str, words: str) -> None:
    backup = parse_backup(f"<domainbackup><disks>{xml}</disks></domainbackup>")
    with pytest.raises(XMLUnsupportedError, match=words):
        align_disks(backup, DISKS, "5")
