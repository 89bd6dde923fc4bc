"""libvirt's report of malformed XML (catchXMLError's layout), from libxml2's first fatal error."""

from __future__ import annotations

import pytest

from pyvirt.api import ErrorCode, ErrorDomain, from_xml_error
from pyvirt.daemon.model import xml_error
from pyvirt.xml import safe_parse
from pyvirt.xml.errors import XMLMalformedError
from pyvirt.xml.libxml_report import context, report
from pyvirt.xml.safe import parse_root


def test_pointer_counts_bytes_and_keeps_tabs() -> None:
    data = "<a>\t\u00e9<b></c>".encode()
    cur = data.index(b"</c>") + 3
    line, pointer = context(data, cur)
    assert line == "<a>\t\u00e9<b></c>"
    assert pointer == "---\t" + "-" * (cur - 4) + "^"  # é is two bytes, two dashes


def test_context_backs_over_line_ends_to_an_empty_line() -> None:
    data = b"<a>\n<b>\n"
    assert context(data, len(data)) == ("(null)", "^")  # the last line is empty: C's "(null)"
    assert context(b"\n\n<a>", 5) == ("<a>", "---^")


def test_report_names_the_document_and_line() -> None:
    text = report("(x_definition)", "Boom", b"<a>\n  <b/>\n", 2, 3)
    assert text.splitlines() == ["(x_definition):2: Boom", "  <b/>", "--^"]
    assert report(None, "Boom", b"<a", 1, 3).startswith("at line 1: Boom\n")


def test_old_libxml2_words_for_an_encoding_error() -> None:
    text = report("f", "Invalid bytes in character encoding", b"<a>\xff\xfe\xfd\xfc</a>", 1, 4)
    assert text.splitlines()[:2] == ["f:1: Input is not proper UTF-8, indicate encoding !",
                                     "Bytes: 0xFF 0xFE 0xFD 0xFC"]


def test_first_fatal_error_of_a_kind_reaches_drivers_without_prefix() -> None:
    with pytest.raises(XMLMalformedError) as caught:
        parse_root("<network>\n<name>n</nam>\n</network>", "network")
    exc = caught.value
    assert exc.report.startswith("(network_definition):2: Opening and ending tag mismatch: name line 2 and nam\n")
    assert exc.report.endswith("\n<name>n</nam>\n" + "-" * len("<name>n</nam>") + "^")  # after the end tag
    err = from_xml_error(exc, ErrorDomain.NETWORK)
    assert (str(err), err.code) == (exc.report, ErrorCode.XML_DETAIL)
    assert str(xml_error(exc)) == exc.report  # pyvirtd's domain paths
    with pytest.raises(XMLMalformedError) as caught:
        safe_parse("junk")
    assert caught.value.report.startswith("at line 1: Start tag expected")


def test_file_bytes_reach_libxml2_as_virsh_hands_them_on(tmp_path) -> None:
    """virsh reads a file as a C string (it ends at the first NUL) and passes bytes that are not
    UTF-8 to libxml2 untouched: the parser reports them at their spot, not a later error."""
    from pyvirt.cli.cmd_lifecycle import read_file

    nul = tmp_path / "nul"
    nul.write_bytes(b"<cpu/>\0garbage<")
    assert read_file(str(nul)) == "<cpu/>"
    bad = tmp_path / "bad.xml"
    bad.write_bytes(b"<cpu>\n  <model>Hasw\xe9ll</model>\n</cpu>\n")
    with pytest.raises(XMLMalformedError) as err:
        safe_parse(read_file(str(bad)), str(bad))
    assert err.value.report.splitlines() == [
        f"{bad}:2: Input is not proper UTF-8, indicate encoding !", "Bytes: 0xE9 0x6C 0x6C 0x3C",
        "  <model>Hasw\ufffdll</model>", "-------------^"]
