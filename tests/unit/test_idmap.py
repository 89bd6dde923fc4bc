"""``<idmap>`` as libvirt 9.0 treats it for QEMU guests: read, checked and sorted by its
generic parser (virDomainIdmapDefParseXML), kept in the XML after ``<os>``, and without effect on
the command line (only libvirt's LXC driver applies it).  The refusals carry libvirt's words
(checked with real virsh define on libvirt 9.0)."""

from __future__ import annotations

import pytest

from pyvirt.qemu.argv import build_argv
from pyvirt.xml import fill_defaults, parse_domain
from pyvirt.xml.errors import XMLConfigError, XMLError

BASE = """<domain type='qemu'><name>g</name><uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid><memory unit='MiB'>256</memory><vcpu>1</vcpu>
<os><type arch='x86_64' machine='pc'>hvm</type></os>{idmap}<devices/></domain>"""
MAP = ("<idmap><uid start='5' target='1000' count='10'/><uid start='0' target='2000' count='5'/>"
       "<gid start='0' target='1000' count='10'/></idmap>")


def test_idmap_is_kept_sorted_after_os_and_changes_no_argv() -> None:
    dom = fill_defaults(parse_domain(BASE.format(idmap=MAP)))
    xml = dom.to_xml(inactive=True)
    assert ("</os>\n  <idmap>\n    <uid start='0' target='2000' count='5'/>\n"
            "    <uid start='5' target='1000' count='10'/>\n    <gid start='0' target='1000' count='10'/>\n"
            "  </idmap>\n") in xml
    plain = fill_defaults(parse_domain(BASE.format(idmap="")))
    assert build_argv(dom) == build_argv(plain)
    assert fill_defaults(parse_domain(xml)).to_xml(inactive=True) == xml


def test_empty_idmap_is_dropped() -> None:
    assert "idmap" not in fill_defaults(parse_domain(BASE.format(idmap="<idmap/>"))).to_xml()


@pytest.mark.parametrize("idmap,error,words", [
    ("<idmap><uid start='0' target='1000' count='10'/></idmap>", XMLConfigError, "uid and gid should be mapped both"),
    ("<idmap><uid start='1' target='1' count='1'/><gid start='1' target='1' count='1'/></idmap>",
     XMLConfigError, "You must map the root user of container"),
    ("<idmap><uid start='0' count='10'/><gid start='0' target='1000' count='10'/></idmap>",
     XMLError, "invalid idmap start/target/count settings"),
])
def test_idmap_refusals_in_libvirts_words(idmap: str, error: type, words: str) -> None:
    with pytest.raises(error, match=words) as info:
        parse_domain(BASE.format(idmap=idmap))
    assert info.value.libvirt_prefix
