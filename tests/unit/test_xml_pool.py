"""Pool/volume XML: refusals name the element and line; hostile input is not expanded."""

import pytest

from pyvirt.xml.errors import XMLError, XMLUnsupportedError
from pyvirt.xml.pool import PoolDef
from pyvirt.xml.volume import VolumeDef

DIR = "<pool type='dir'>\n<name>p</name>\n<target><path>/x</path></target>\n{}</pool>"


def test_unknown_element_named_with_line():
    with pytest.raises(XMLError) as err:
        PoolDef.from_xml(DIR.format("<bogus/>\n"))
    assert "bogus" in str(err.value) and err.value.line == 4


def test_entities_refused():
    doc = "<!DOCTYPE p [<!ENTITY x SYSTEM 'file:///etc/passwd'>]><pool type='dir'><name>&x;</name></pool>"
    with pytest.raises(XMLError):
        PoolDef.from_xml(doc)


def test_unsupported_type():
    with pytest.raises(XMLUnsupportedError):
        PoolDef.from_xml("<pool type='rbd'><name>r</name></pool>")


def test_malformed_and_bad_values():
    for doc in ("<pool type='dir'><name>p</name>", "<pool><name>p</name></pool>",
                DIR.replace("<name>p</name>", "<name>a/b</name>").format(""),
                DIR.replace("/x", "relative").format("")):
        with pytest.raises(XMLError):
            PoolDef.from_xml(doc)


def test_volume_units_and_refusals():
    vol = VolumeDef.from_xml("<volume><name>v</name><capacity unit='GB'>2</capacity></volume>")
    assert vol.capacity == 2 * 10**9 and vol.format == "raw"
    for bad in ("<volume><name>v</name><capacity>-1</capacity></volume>",
                "<volume><name>v</name><capacity unit='XB'>1</capacity></volume>",
                "<volume><name>v</name><target><format type='nope'/></target></volume>",
                "<volume><name>v</name><junk/></volume>"):
        with pytest.raises(XMLError):
            VolumeDef.from_xml(bad)


def test_pool_roundtrip():
    pool = PoolDef.from_xml(DIR.format(""))
    assert PoolDef.from_xml(pool.to_xml()) == pool
