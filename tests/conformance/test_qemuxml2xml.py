"""libvirt's qemuxml2xml cases: parse + fill_defaults + to_xml(inactive) against libvirt's output.

A case pyvirt refuses with XMLUnsupportedError counts as refused; every other case must match
(attribute order and quoting ignored) unless listed, with a reason, in
qemuxml2xml_known_differences.txt.  Every produced document must validate against domain.rng.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pyvirt.xml import XMLUnsupportedError, fill_defaults, parse_domain
from tests.conformance_data import LIBVIRT, SCHEMAS, load_tool

CASES = LIBVIRT / "qemuxml2xml"
SCHEMA = SCHEMAS / "domain.rng"
KNOWN_FILE = Path(__file__).with_name("qemuxml2xml_known_differences.txt")

pytestmark = pytest.mark.skipif(not CASES.is_dir(), reason="shared conformance data not present")


def _known() -> dict[str, str]:
    out = {}
    for line in KNOWN_FILE.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, reason = line.partition(" ")
            out[name] = reason.strip()
    return out


def _compare():
    return load_tool("libvirt_xml_compare").compare


#: "same" may only grow: raise it when a change gains cases (docs/conformance.md has the figures)
SAME_FLOOR = 71


def test_qemuxml2xml_cases():
    from lxml import etree

    compare = _compare()
    rng = etree.RelaxNG(file=str(SCHEMA))
    known = _known()
    same, refused, different = [], [], {}
    invalid = {}
    for case in sorted(CASES.glob("in/*.xml")):
        name = case.stem
        try:
            filled = fill_defaults(parse_domain(case.read_bytes()))
        except XMLUnsupportedError:  # at parse, or a default pyvirt cannot fill like libvirt
            refused.append(name)
            continue
        text = filled.to_xml(inactive=True, security_info=True)  # the harness formats with ..._SECURE
        if not rng.validate(etree.fromstring(text.encode())):
            invalid[name] = str(rng.error_log.last_error)
        expected = (CASES / "out" / f"{name}.x86_64-latest.xml").read_text()
        equal, diff = compare(expected, text, level="xml")
        if equal:
            same.append(name)
        else:
            different[name] = diff
    print(f"same {len(same)}, refused {len(refused)}, different {len(different)}")
    assert not invalid, invalid
    assert len(same) >= SAME_FLOOR, f"qemuxml2xml same fell to {len(same)} (floor {SAME_FLOOR})"
    unexpected = {k: v for k, v in different.items() if k not in known}
    assert not unexpected, "\n".join(f"== {k}\n{v}" for k, v in unexpected.items())
    fixed = [k for k in known if k in same]
    assert not fixed, f"now matching, remove from the known list: {fixed}"
