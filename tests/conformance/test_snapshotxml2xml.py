"""libvirt's snapshotxml2xml cases: parse a snapshot-create request, format it, compare.

libvirt's test (qemudomainsnapshotxml2xmltest.c) runs each case with two values given in its C
code, not in the files: the clock (which becomes creationTime, and the name of a nameless
snapshot) and the owning domain's UUID (or none).  This harness reads those two harness values
from the expected document's ``<creationTime>`` and ``<domain><uuid>``; everything else in the
output must come from pyvirt's rules.  Each case ends `same` (byte for byte), `refused`
(XMLUnsupportedError) or `different`; every document written must validate against libvirt's
domainsnapshot.rng.
"""

from __future__ import annotations

import pytest
from lxml import etree

from pyvirt.xml.errors import XMLUnsupportedError
from pyvirt.xml.snapshot import parse_snapshot
from tests.conformance_data import LIBVIRT, SCHEMAS

CASES = LIBVIRT / "snapshotxml2xml"

pytestmark = pytest.mark.skipif(not CASES.is_dir(), reason="shared conformance data not present")


def _harness_values(expected: str) -> tuple[int | None, str | None]:
    root = etree.fromstring(expected.encode())
    when = root.findtext("creationTime")
    return (int(when) if when else None), root.findtext("domain/uuid")


def _verdict(name: str, rng: etree.RelaxNG) -> str:
    want = (CASES / "out" / name).read_text()
    when, uuid = _harness_values(want)
    try:
        got = parse_snapshot((CASES / "in" / name).read_bytes(), creation_time=when).to_xml(uuid)
    except XMLUnsupportedError:
        return "refused"
    assert rng.validate(etree.fromstring(got.encode())), (name, rng.error_log)
    return "same" if got == want else "different"


def test_snapshotxml2xml_cases() -> None:
    rng = etree.RelaxNG(file=str(SCHEMAS / "domainsnapshot.rng"))
    results: dict[str, list[str]] = {}
    for case in sorted(p.name for p in (CASES / "in").glob("*.xml")):
        results.setdefault(_verdict(case, rng), []).append(case)
    print({k: len(v) for k, v in sorted(results.items())}, results.get("different"))
    assert not results.get("different"), results["different"]
    assert len(results.get("same", [])) >= 4
