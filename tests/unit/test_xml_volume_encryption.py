"""A volume's ``<encryption>`` reads every format libvirt 9.0 knows (luks2 too) and is written
open and closed even without a secret, as virStorageEncryptionFormat writes it."""

from __future__ import annotations

import pytest

from pyvirt.xml.errors import XMLError
from pyvirt.xml.volume import VolumeDef

DOC = "<volume><name>v</name><capacity>1024</capacity><target>{enc}</target></volume>"


def test_empty_encryption_is_written_open_and_closed() -> None:
    text = VolumeDef.from_xml(DOC.format(enc="<encryption format='luks'/>")).to_xml()
    assert "    <encryption format='luks'>\n    </encryption>\n" in text


def test_luks2_reads_and_round_trips() -> None:
    enc = "<encryption format='luks2'><secret type='passphrase' uuid='f52a81b2-424e-490c-823d-6bd4235bc572'/></encryption>"
    vol = VolumeDef.from_xml(DOC.format(enc=enc))
    assert vol.encryption is not None and vol.encryption.format == "luks2"
    assert VolumeDef.from_xml(vol.to_xml()).to_xml() == vol.to_xml()


def test_an_unknown_encryption_format_is_refused() -> None:
    with pytest.raises(XMLError, match="luks-any"):
        VolumeDef.from_xml(DOC.format(enc="<encryption format='luks-any'/>"))
