"""XML bombs and oversized documents (issue 10 defect 9; libvirt's CVE class XXE / entity expansion)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from pyvirt.api import PyvirtError
from pyvirt.xml import XMLError, safe_parse
from pyvirt.xml.safe import MAX_ELEMENTS
from tests.security.fakedriver import domain_xml, kib_rss, run


def test_many_empty_elements_are_refused_before_parsing() -> None:
    bomb = "<domain type='qemu'><name>b</name>" + "<a/>" * 1_500_000 + "</domain>"
    before, began = kib_rss(), time.monotonic()
    with pytest.raises(XMLError, match="too many elements"):
        safe_parse(bomb)
    assert time.monotonic() - began < 1.0
    assert kib_rss() - before < 50_000


def test_a_realistic_large_definition_still_parses() -> None:
    disks = "".join(f"<disk type='file' device='disk'><source file='/x/{i}.img'/>"
                    f"<target dev='vd{i}' bus='virtio'/></disk>" for i in range(2000))
    root = safe_parse(f"<domain type='qemu'><name>big</name><devices>{disks}</devices></domain>")
    assert len(root.findall("devices/disk")) == 2000 < MAX_ELEMENTS


def test_xxe_external_entity_is_not_resolved(tmp_path: Path) -> None:
    """libvirt CVE class: XML external entities (a file of the host read into a definition)."""
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    doc = (f"<?xml version='1.0'?><!DOCTYPE d [<!ENTITY x SYSTEM 'file://{secret}'>]>"
           "<domain type='qemu'><name>&x;</name><memory>65536</memory></domain>")
    try:
        root = safe_parse(doc)
    except XMLError:
        return  # refused outright: immune
    assert "TOP-SECRET" not in (root.findtext("name") or "")


def test_billion_laughs_is_refused() -> None:
    lol = "<!ENTITY l0 'lol'>" + "".join(f"<!ENTITY l{i} '{('&l' + str(i - 1) + ';') * 10}'>" for i in range(1, 10))
    doc = f"<?xml version='1.0'?><!DOCTYPE d [{lol}]><domain><name>&l9;</name></domain>"
    began = time.monotonic()
    with pytest.raises(XMLError):
        safe_parse(doc)
    assert time.monotonic() - began < 1.0


def test_define_of_a_bomb_is_refused_and_stores_nothing(tmp_path: Path) -> None:
    async def scenario(drv, emulator):  # type: ignore[no-untyped-def]
        xml = domain_xml("bomb", emulator(), devices="<a/>" * (MAX_ELEMENTS + 1))
        with pytest.raises(PyvirtError, match="too many elements"):
            await drv.define_xml(xml)
        assert drv.list_domains() == []
        assert list((tmp_path / "config" / "qemu").glob("*.xml")) == []

    run(tmp_path, scenario)
