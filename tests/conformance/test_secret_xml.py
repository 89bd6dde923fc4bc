"""Secret XML against libvirt's own schema (secret.rng from the shared reference data).

libvirt 9.0 ships no secretxml2xml cases (the shared data has none to read), so the reference
here is the schema: every document pyvirt writes must validate against it, for every usage type
and flag, and must read back to itself.  virsh's behaviour on the same documents is compared
with a real libvirtd in tests/e2e/test_secret_oracle.py.
"""

from __future__ import annotations

import itertools

import pytest
from lxml import etree

from pyvirt.secret.driver import parse_secret
from tests.conformance_data import SCHEMAS

SCHEMA = SCHEMAS / "secret.rng"
pytestmark = pytest.mark.skipif(not SCHEMA.exists(), reason="conformance data not present")

USAGES = ["", "<usage type='none'/>", "<usage type='volume'><volume>/var/lib/images/a b&amp;c.img</volume></usage>",
          "<usage type='ceph'><name>client.admin secret</name></usage>",
          "<usage type='iscsi'><target>iqn.2013-07.com.example:iscsi-pool</target></usage>",
          "<usage type='tls'><name>TLS_example</name></usage>", "<usage type='vtpm'><name>VTPM_example</name></usage>"]
FLAGS = ["", " ephemeral='yes'", " ephemeral='no' private='yes'", " private='no'"]
DESCRIPTIONS = ["", "<description>a &lt;secret&gt; &amp; 'quotes' \"too\"</description>"]


def test_every_document_written_validates_against_secret_rng() -> None:
    schema = etree.RelaxNG(file=str(SCHEMA))
    written = 0
    for usage, flags, description in itertools.product(USAGES, FLAGS, DESCRIPTIONS):
        sec = parse_secret(f"<secret{flags}>{description}<uuid>0a1b2c3d-0000-4000-8000-00000000000a</uuid>"
                           f"{usage}</secret>")
        text = sec.to_xml()
        assert schema.validate(etree.fromstring(text.encode())), (text, schema.error_log)
        again = parse_secret(text)
        assert again.to_xml() == text
        assert (again.usage_type, again.usage_id, again.ephemeral, again.private) == \
            (sec.usage_type, sec.usage_id, sec.ephemeral, sec.private)
        written += 1
    assert written == len(USAGES) * len(FLAGS) * len(DESCRIPTIONS)


def test_validate_flag_uses_the_schema() -> None:
    """secret-define --validate: what the schema refuses is refused before anything is read."""
    from pyvirt.api import ErrorCode, PyvirtError

    with pytest.raises(PyvirtError) as exc:
        parse_secret("<secret><usage type='none'/></secret>", validate=True)
    assert exc.value.code == ErrorCode.XML_INVALID_SCHEMA
    assert exc.value.message.startswith("XML document failed to validate against schema")
    assert parse_secret("<secret><usage type='none'/></secret>").usage_type == "none"  # libvirt's parser allows it
