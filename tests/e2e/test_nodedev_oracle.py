"""Node device changes on libvirt's test driver against the real virsh: vHBA creation (libvirt's
mock: scsi_host11 copied as scsi_host12 with the new WWNs) and its errors, destroy, and what the
test driver does not have (define, undefine, start, autostart, detach, reattach, reset).

The XML files are written here; nothing of virsh's output is."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.test_host_oracle import VIRSH, assert_same_in, files_folder

pytestmark = pytest.mark.skipif(VIRSH is None, reason="virsh (libvirt-clients) not installed")

_FC = "<wwnn>2001001b32a9da4e</wwnn><wwpn>2101001b32a9da4e</wwpn>"
FILES = {
    "vhba": f"<device><parent>scsi_host1</parent><capability type='scsi_host'><capability type='fc_host'>{_FC}"
            "</capability></capability></device>",
    "vhba-other": f"<device><parent>scsi_host2</parent><capability type='scsi_host'><capability type='fc_host'>{_FC}"
                  "</capability></capability></device>",
    "vhba-noparent": f"<device><capability type='scsi_host'><capability type='fc_host'>{_FC}"
                     "</capability></capability></device>",
    "vhba-badparent": f"<device><parent>nope</parent><capability type='scsi_host'><capability type='fc_host'>{_FC}"
                      "</capability></capability></device>",
    "vhba-novport": f"<device><parent>computer</parent><capability type='scsi_host'><capability type='fc_host'>{_FC}"
                    "</capability></capability></device>",
    "vhba-nownn": "<device><parent>scsi_host1</parent><capability type='scsi_host'><capability type='fc_host'>"
                  "<wwpn>2101001b32a9da4e</wwpn></capability></capability></device>",
    "mdev": "<device><parent>pci_0000_00_02_0</parent><capability type='mdev'><type id='i915-GVTg_V5_8'/>"
            "</capability></device>",
    "nocap": "<device><name>x</name></device>",
    "cpu": "<cpu/>",
}

#: command lines (one fresh test:///default each); errors that change nothing share a line
LINES = [
    "nodedev-create vhba-badparent.xml; nodedev-create vhba-novport.xml; nodedev-create vhba-nownn.xml; "
    "nodedev-create mdev.xml; nodedev-create nocap.xml; nodedev-create cpu.xml; nodedev-create nonexistent.xml; "
    "nodedev-destroy nope; nodedev-destroy 2000000012341234,1000000012341234; nodedev-define mdev.xml; "
    "nodedev-define nonexistent.xml; nodedev-undefine scsi_host1; nodedev-undefine nope; nodedev-start scsi_host1; "
    "nodedev-start nope; nodedev-autostart scsi_host1; nodedev-autostart scsi_host1 --disable; "
    "nodedev-detach scsi_host1; nodedev-detach scsi_host1 --driver vfio; nodedev-detach nope; "
    "nodedev-reattach scsi_host1; nodedev-reset scsi_host1",
    "nodedev-create vhba.xml; nodedev-dumpxml scsi_host12; nodedev-info scsi_host12; nodedev-create vhba.xml; "
    "nodedev-destroy scsi_host12; nodedev-dumpxml scsi_host12",
    "nodedev-create vhba-other.xml; nodedev-dumpxml scsi_host12", "nodedev-create vhba-noparent.xml",
    "nodedev-destroy scsi_host11; nodedev-create vhba.xml",
    "nodedev-destroy scsi_host2; nodedev-dumpxml scsi_host2; nodedev-destroy computer",
]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return files_folder(tmp_path_factory, "nodedevs", FILES)


@pytest.mark.parametrize("line", LINES)
def test_same_as_virsh(folder: Path, line: str) -> None:
    assert_same_in(folder, line)
