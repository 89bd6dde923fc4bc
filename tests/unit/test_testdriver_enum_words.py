"""The test driver refuses a bad enumerated attribute in libvirt's generic parser's words
(virXMLPropEnum: "XML error: Invalid value for attribute 'A' in element 'E': 'V'."), which
virt-manager's and virt-xml's test cases quote.  Where real virsh is installed the same documents
are defined through ``virsh -c test:///default`` too and must fail with the same line."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from pyvirt.api import PyvirtError
from pyvirt.client import connect

DOC = "<domain type='test'><name>t</name><memory>1024</memory><os><type>hvm</type></os><devices>{}</devices></domain>"
CASES = [
    ("<disk type='bogus' device='disk'><source file='/x'/><target dev='hda'/></disk>", "type", "disk", "bogus"),
    ("<disk type='file' device='disk'><source file='/x'/><target dev='hda' bus='nope'/></disk>",
     "bus", "target", "nope"),
    ("<interface type='warp'/>", "type", "interface", "warp"),
    ("<disk type='file' device='disk'><driver cache='fast'/><source file='/x'/><target dev='hda'/></disk>",
     "cache", "driver", "fast"),
]


@pytest.mark.parametrize(("devices", "attr", "element", "value"), CASES)
def test_bad_enum_attribute_in_libvirts_words(devices: str, attr: str, element: str, value: str) -> None:
    conn = connect("test:///default")
    with pytest.raises(PyvirtError) as info:
        conn.define_xml(DOC.format(devices))
    assert str(info.value) == f"XML error: Invalid value for attribute '{attr}' in element '{element}': '{value}'."


@pytest.mark.skipif(shutil.which("virsh") is None, reason="real virsh (libvirt-clients) not installed")
def test_same_line_as_real_virsh(tmp_path: Path) -> None:
    for n, (devices, *_rest) in enumerate(CASES):
        doc = tmp_path / f"d{n}.xml"
        doc.write_text(DOC.format(devices))
        real = subprocess.run(["virsh", "-c", "test:///default", "define", str(doc)], capture_output=True,
                              text=True, timeout=60)
        with pytest.raises(PyvirtError) as info:
            connect("test:///default").define_xml(doc.read_text())
        assert f"error: {info.value}" in real.stderr.splitlines(), (real.stderr, str(info.value))
