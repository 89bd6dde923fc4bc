"""virDomainBlockCopy's destination <disk>: malformed XML is reported as libvirt's
virDomainDiskDefParse names it, "(disk_definition):LINE: ..."."""

import pytest

from pyvirt.api import ErrorCode, PyvirtError
from pyvirt.dbus.members import _copy_destination


def test_malformed_destination_names_the_disk_document() -> None:
    with pytest.raises(PyvirtError) as exc:
        _copy_destination("<disk type='file'>\n<source file='/x'>\n</disk>")
    assert exc.value.code == ErrorCode.XML_DETAIL
    assert str(exc.value).startswith("(disk_definition):3: ")


def test_well_formed_destination_is_read() -> None:
    assert _copy_destination("<disk type='file'><driver type='qcow2'/><source file='/x'/></disk>") == ("/x", "qcow2")
