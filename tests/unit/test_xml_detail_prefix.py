"""virterror.c's table: VIR_ERR_XML_DETAIL prints its message bare, VIR_ERR_XML_ERROR with "XML error: "."""

import pytest

from pyvirt.api import ErrorCode, ErrorDomain, from_xml_error
from pyvirt.xml import parse_domain
from pyvirt.xml.define_rules import check_define_rules
from pyvirt.xml.errors import XMLError

_LOADER = ("<domain type='qemu'><name>d</name><memory>65536</memory><features><acpi/></features>"
           "<os firmware='efi'><type>hvm</type><loader readonly='yes'/></os></domain>")


def _refusal(xml: str) -> XMLError:
    with pytest.raises(XMLError) as exc:
        check_define_rules(parse_domain(xml))
    return exc.value


def test_detail_rule_is_reported_without_prefix() -> None:
    err = from_xml_error(_refusal(_LOADER), ErrorDomain.DOMAIN)
    assert err.code == ErrorCode.XML_DETAIL
    assert str(err) == "loader attribute 'readonly' cannot be specified when firmware autoselection is enabled"


def test_xml_error_rule_keeps_its_prefix() -> None:
    with pytest.raises(XMLError) as exc:
        parse_domain(_LOADER.replace("<name>d<", "<name>a/b<"))
    err = from_xml_error(exc.value, ErrorDomain.DOMAIN)
    assert (err.code, str(err)) == (ErrorCode.XML_ERROR, "XML error: name a/b cannot contain '/'")


def test_test_driver_applies_the_generic_loader_rule_bare() -> None:
    """virDomainDefOSValidate is the generic parser's: test:///default refuses it too."""
    from pyvirt.client import connect

    doc = _LOADER.replace("'qemu'", "'test'").replace("<features><acpi/></features>", "")
    with pytest.raises(Exception) as exc:
        connect("test:///default").define_xml(doc)
    assert str(exc.value) == "loader attribute 'readonly' cannot be specified when firmware autoselection is enabled"


@pytest.mark.parametrize(("numa", "words"), [
    ("<cpu><numa><cell id='0' cpus='0' memory='1048576'/></numa></cpu>",
     "can't add memory backend for guest node '3' as the guest has only '1' NUMA nodes configured"),
    ("", "can't add memory backend as guest has no NUMA nodes configured"),
])
def test_test_driver_checks_a_memory_device_node_bare(numa: str, words: str) -> None:
    """virDomainMemoryDefValidate is every driver's: test:///default refuses a node the guest lacks."""
    from pyvirt.client import connect

    doc = (f"<domain type='test'><name>m</name><memory>1048576</memory>{numa}<os><type>hvm</type></os><devices>"
           "<memory model='dimm'><target><size unit='KiB'>524288</size><node>3</node></target></memory>"
           "</devices></domain>")
    with pytest.raises(Exception) as exc:
        connect("test:///default").define_xml(doc)
    assert str(exc.value) == words
