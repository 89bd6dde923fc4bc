"""Secrets: the <secret> XML model (virSecretDefParse's rules and words), and pyvirtd's secret
driver (libvirt's secret_driver.c: define/redefine rules, values, private and ephemeral
secrets, state on disk, events)."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest

from pyvirt import api
from pyvirt.api import ErrorCode, PyvirtError
from pyvirt.secret import glib_b64decode
from pyvirt.secret.driver import SecretDriver, parse_secret
from pyvirt.xml.errors import XMLError, XMLUnsupportedError
from pyvirt.xml.secret import SecretDef, SecretXMLError
from pyvirt.xml.uuids import parse_uuid

U1 = "aaaaaaaa-0000-0000-0000-000000000001"
U2 = "aaaaaaaa-0000-0000-0000-000000000002"


def _xml(uuid: str = U1, usage: str = "<usage type='ceph'><name>client.admin</name></usage>", **flags: str) -> str:
    attrs = "".join(f" {k}='{v}'" for k, v in flags.items())
    return f"<secret{attrs}><uuid>{uuid}</uuid>{usage}</secret>"


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


# ------------------------------------------------------------------------------------ UUIDs, base64
def test_parse_uuid_is_virUUIDParse() -> None:
    assert parse_uuid(" AAAAAAAA0000-0000-0000-00000000 0003 ") == "aaaaaaaa-0000-0000-0000-000000000003"
    assert parse_uuid("aa aa aaaa 0000 0000 0000 000000000003") == "aaaaaaaa-0000-0000-0000-000000000003"
    for bad in ("{aaaaaaaa-0000-0000-0000-000000000003}", "aaaaaaaa-0000-0000-0000-00000000000", "nosuch",
                "aaaaaaaa-0000-0000-0000-000000000003-", "a-aaaaaaa-0000-0000-0000-000000000003", ""):
        assert parse_uuid(bad) is None, bad


def test_glib_base64_decoding_skips_what_is_not_base64() -> None:
    assert glib_b64decode("aGVs\nbG8=\n") == b"hello"
    assert glib_b64decode("!!!") == b""
    assert glib_b64decode(_b64(bytes(range(256)))) == bytes(range(256))


# ------------------------------------------------------------------------------------ XML
def test_secret_xml_round_trip_in_libvirts_layout() -> None:
    sec = SecretDef.from_xml("<secret private='yes'><description>a &amp; 'b'</description>"
                             "<uuid> AAAAAAAA-0000-0000-0000-000000000001 </uuid>"
                             "<usage type='volume'><volume>/var/lib/x.img</volume></usage></secret>")
    assert (sec.uuid, sec.usage_type, sec.usage_id, sec.private, sec.ephemeral) == \
        (U1, "volume", "/var/lib/x.img", True, False)
    assert sec.to_xml() == (
        "<secret ephemeral='no' private='yes'>\n"
        f"  <uuid>{U1}</uuid>\n"
        "  <description>a &amp; &apos;b&apos;</description>\n"
        "  <usage type='volume'>\n"
        "    <volume>/var/lib/x.img</volume>\n"
        "  </usage>\n"
        "</secret>\n")
    assert SecretDef.from_xml(sec.to_xml()) == sec


@pytest.mark.parametrize("kind,element", [("ceph", "name"), ("iscsi", "target"), ("tls", "name"), ("vtpm", "name")])
def test_every_usage_type_names_its_object(kind: str, element: str) -> None:
    sec = SecretDef.from_xml(f"<secret><usage type='{kind}'><{element}>x y</{element}></usage></secret>")
    assert (sec.usage_type, sec.usage_id) == (kind, "x y")
    assert f"<usage type='{kind}'>\n    <{element}>x y</{element}>" in sec.to_xml()


def test_a_secret_without_uuid_or_usage_gets_a_uuid_and_no_usage() -> None:
    assert SecretDef.from_xml("<secret/>").uuid is None  # the driver gives it one
    sec = parse_secret("<secret><usage type='none'/></secret>")
    assert parse_uuid(sec.uuid or "") == sec.uuid and sec.usage_type == "none" and sec.usage_id == ""
    assert "<usage" not in sec.to_xml()
    assert parse_secret("<secret/>").uuid != sec.uuid


@pytest.mark.parametrize("xml,error,message", [
    ("<secret ephemeral='maybe'/>", XMLError, "invalid value of 'ephemeral'"),
    ("<secret private='1'/>", XMLError, "invalid value of 'private'"),
    ("<notsecret/>", XMLError, "expecting root element of 'secret', not 'notsecret'"),
    ("<secret><uuid>{aaaaaaaa-0000-0000-0000-000000000001}</uuid></secret>", SecretXMLError, "malformed uuid element"),
    ("<secret><usage type='bogus'/></secret>", XMLUnsupportedError, "unknown secret usage type bogus"),
    ("<secret><usage><name>x</name></usage></secret>", XMLError, "unknown secret usage type"),
    ("<secret><usage type='volume'/></secret>", SecretXMLError, "volume usage specified, but volume path is missing"),
    ("<secret><usage type='iscsi'><name>x</name></usage></secret>", SecretXMLError,
     "iSCSI usage specified, but target is missing"),
    ("<secret><usage type='vtpm'/></secret>", SecretXMLError, "vTPM usage specified, but name is missing"),
    ("<secret><value>aGk=</value></secret>", XMLError, "<secret/value>"),
])
def test_bad_documents_refused_with_libvirts_words(xml: str, error: type, message: str) -> None:
    with pytest.raises(error) as exc:
        SecretDef.from_xml(xml)
    assert message in str(exc.value)


# ------------------------------------------------------------------------------------ the driver
@pytest.fixture()
def events() -> list[api.Event]:
    return []


@pytest.fixture()
def drv(tmp_path: Path, events: list[api.Event]) -> SecretDriver:
    return SecretDriver(tmp_path / "secrets", on_event=events.append)


def _error(call, *args: object) -> PyvirtError:
    with pytest.raises(PyvirtError) as exc:
        call(*args)
    return exc.value


def test_define_set_get_undefine(drv: SecretDriver, events: list[api.Event]) -> None:
    info = drv.define_secret(_xml())
    assert info == api.SecretInfo(U1, "ceph", "client.admin", False, False)
    err = _error(drv.get_secret_value, U1)
    assert (err.code, err.message) == (ErrorCode.NO_SECRET, f"Secret not found: secret '{U1}' does not have a value")
    drv.set_secret_value(U1.upper().replace("-", ""), _b64(b"s3cret\0"))
    assert base64.b64decode(drv.get_secret_value(U1)) == b"s3cret\0"
    assert drv.lookup_secret_by_usage("ceph", "client.admin") == info
    assert _error(drv.lookup_secret_by_usage, "tls", "client.admin").message == \
        "Secret not found: no secret with matching usage 'client.admin'"
    drv.undefine_secret(U1)
    assert drv.list_secrets() == []
    assert _error(drv.lookup_secret, U1).message == f"Secret not found: no secret with matching uuid '{U1}'"
    assert [(type(e).__name__, e.kind, e.uuid, e.event) for e in events] == [
        ("SecretEvent", "Secret", U1, api.SecretEventType.DEFINED),
        ("SecretValueEvent", "Secret.value-changed", U1, 0),
        ("SecretEvent", "Secret", U1, api.SecretEventType.UNDEFINED)]


def test_state_on_disk_is_private_atomic_and_survives_a_restart(drv: SecretDriver, tmp_path: Path) -> None:
    drv.define_secret(_xml(private="yes"))
    drv.set_secret_value(U1, _b64(b"hunter2"))
    drv.define_secret(_xml(U2, "<usage type='tls'><name>t</name></usage>", ephemeral="yes"))
    drv.set_secret_value(U2, _b64(b"gone at restart"))
    folder = tmp_path / "secrets"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert sorted(p.name for p in folder.iterdir()) == [f"{U1}.base64", f"{U1}.xml"]  # no temp files, no U2
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in folder.iterdir())
    again = SecretDriver(folder)
    again.load()
    assert [s.uuid for s in again.list_secrets()] == [U1]
    assert again.secret_value("ceph", U1) == b"hunter2"  # pyvirtd's own use: private is no obstacle
    assert again.get_secret_xml(U1) == drv.get_secret_xml(U1)


def test_private_values_are_never_given_out(drv: SecretDriver) -> None:
    drv.define_secret(_xml(private="yes"))
    drv.set_secret_value(U1, _b64(b"hunter2"))
    err = _error(drv.get_secret_value, U1)
    assert (err.code, err.domain, err.message) == (ErrorCode.INVALID_SECRET, api.ErrorDomain.SECRET,
                                                   "Invalid secret: secret is private")
    assert "hunter2" not in drv.get_secret_xml(U1) and _b64(b"hunter2") not in drv.get_secret_xml(U1)
    assert _error(drv.define_secret, _xml(private="no")).message == \
        "internal error: cannot change private flag on existing secret"


def test_redefinition_rules(drv: SecretDriver, tmp_path: Path) -> None:
    drv.define_secret(_xml())
    drv.set_secret_value(U1, _b64(b"v"))
    before = drv.get_secret_xml(U1)
    err = _error(drv.define_secret, _xml(usage="<usage type='ceph'><name>other</name></usage>"))
    assert err.message == f"internal error: a secret with UUID {U1} is already defined for use with client.admin"
    err = _error(drv.define_secret, _xml(U2))
    assert err.message == f"internal error: a secret with UUID {U1} already defined for use with client.admin"
    assert drv.get_secret_xml(U1) == before and [s.uuid for s in drv.list_secrets()] == [U1]
    # persistent -> ephemeral: its files go, the value stays in memory; and back
    drv.define_secret(_xml(ephemeral="yes", private="yes"))
    assert list((tmp_path / "secrets").iterdir()) == []
    assert drv.secret_value("ceph", usage_id="client.admin") == b"v"
    drv.define_secret(_xml(ephemeral="no", private="yes"))
    assert sorted(p.suffix for p in (tmp_path / "secrets").iterdir()) == [".base64", ".xml"]
    # unused secrets never collide by usage
    drv.define_secret("<secret><uuid>aaaaaaaa-0000-0000-0000-000000000003</uuid></secret>")
    drv.define_secret("<secret><uuid>aaaaaaaa-0000-0000-0000-000000000004</uuid></secret>")
    assert len(drv.list_secrets()) == 3


def test_bad_input_changes_nothing(drv: SecretDriver, tmp_path: Path) -> None:
    drv.define_secret(_xml())
    drv.set_secret_value(U1, _b64(b"kept"))
    files = {p.name: p.read_bytes() for p in (tmp_path / "secrets").iterdir()}
    for value, message in (("", "must not be NULL"), ("!!", "base64"), (_b64(b"x" * 65537), "at most 65536"),
                           ("aGVsbG8=?", "base64")):
        err = _error(drv.set_secret_value, U1, value)
        assert err.code == ErrorCode.INVALID_ARG and message in err.message
        assert not value or value not in err.message  # a value never shows in an error
    assert _error(drv.define_secret, "<secret><usage type='tls'/></secret>").code == ErrorCode.INTERNAL_ERROR
    assert _error(drv.define_secret, "<secret").code == ErrorCode.XML_DETAIL  # catchXMLError's code
    err = _error(drv.define_secret, "<secret><bogus/></secret>", True)
    assert err.code == ErrorCode.XML_INVALID_SCHEMA or "bogus" in err.message
    err = _error(drv.lookup_secret, "nosuch")
    assert err.message == "uuidstr in virSecretLookupByUUIDString must be a valid UUID"
    assert {p.name: p.read_bytes() for p in (tmp_path / "secrets").iterdir()} == files
    assert drv.secret_value("ceph", U1) == b"kept"


def test_internal_lookup_checks_the_usage_type(drv: SecretDriver) -> None:
    drv.define_secret(_xml())
    drv.set_secret_value(U1, _b64(b"k"))
    err = _error(drv.secret_value, "volume", U1)
    assert err.message == f"invalid argument: secret with uuid {U1} is of type 'ceph' not expected 'volume' type"
    assert _error(drv.secret_value, "iscsi", None, "x").message == "Secret not found: no secret with matching usage 'x'"


def test_unreadable_state_files_are_skipped(tmp_path: Path) -> None:
    folder = tmp_path / "secrets"
    folder.mkdir()
    (folder / f"{U1}.xml").write_text("<secret")
    (folder / f"{U2}.xml").write_text(_xml(U1))  # names another UUID than its file
    drv = SecretDriver(folder)
    drv.load()
    assert drv.list_secrets() == []


def test_restart_defers_the_parse_of_indexed_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The secret index (SecretDriver.load): a file whose very text loaded before is parsed when
    its attributes are first read, not at load; an edited one is parsed and judged at load."""
    import pyvirt.secret.driver as secret_driver

    folder, run = tmp_path / "secrets", tmp_path / "run"
    run.mkdir()  # pyvirtd's runtime dir
    drv = SecretDriver(folder, index_dir=run)
    drv.define_secret(_xml())
    drv.set_secret_value(U1, _b64(b"k"))
    drv.define_secret(_xml(U2, "<usage type='tls'><name>t</name></usage>"))
    SecretDriver(folder, index_dir=run).load()  # indexes what it parsed
    parsed: list[str] = []
    real = secret_driver.parse_secret
    monkeypatch.setattr(secret_driver, "parse_secret", lambda xml, validate=False: parsed.append(xml) or real(xml))
    again = SecretDriver(folder, index_dir=run)
    again.load()
    assert parsed == []
    assert again.secret_value("ceph", U1) == b"k" and len(parsed) == 1
    assert again.list_secrets() == drv.list_secrets() and len(parsed) == 2
    (folder / f"{U2}.xml").write_text(_xml(U1))  # edited since: names another UUID than its file
    parsed.clear()
    third = SecretDriver(folder, index_dir=run)
    third.load()
    assert len(parsed) == 1 and [s.uuid for s in third.list_secrets()] == [U1]


def test_a_secret_without_a_value_file_loads_quietly(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A defined secret has no value file until a value is set: normal, not 'unreadable'; a value
    file that is there but cannot be read is still reported."""
    folder = tmp_path / "secrets"
    drv = SecretDriver(folder)
    drv.define_secret(_xml())
    drv.define_secret(_xml(U2, "<usage type='tls'><name>t</name></usage>"))
    (folder / f"{U2}.base64").mkdir()  # there, but no file to read
    with caplog.at_level("ERROR", logger="pyvirt.secret.driver"):
        SecretDriver(folder).load()
    assert [r.getMessage().split(":")[0] for r in caplog.records] == [f"ignoring the unreadable value of secret {U2}"]


def test_stored_values_decode_as_glib_does(tmp_path: Path) -> None:
    """virSecretLoadValue reads a value file with g_base64_decode, which skips what is not base64:
    a file written by hand or by a tool (a trailing newline, wrapped lines) keeps its value."""
    folder = tmp_path / "secrets"
    drv = SecretDriver(folder)
    drv.define_secret(_xml())
    (folder / f"{U1}.base64").write_text(_b64(b"a key of some length, wrapped")[:20] + "\n"
                                         + _b64(b"a key of some length, wrapped")[20:] + "\n")
    again = SecretDriver(folder)
    again.load()
    assert again.secret_value("ceph", U1) == b"a key of some length, wrapped"
