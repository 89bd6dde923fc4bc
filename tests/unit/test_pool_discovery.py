"""find-storage-pool-sources on pyvirtd (storage/discovery.py): libvirt's refusals by pool type and
what the discovery tools' output becomes, with the tools replaced by canned answers."""

from __future__ import annotations

import subprocess

import pytest

from pyvirt.api import ErrorCode, PyvirtError
from pyvirt.storage import discovery


def _canned(monkeypatch: pytest.MonkeyPatch, stdout: str, rc: int = 0) -> list[list[str]]:
    calls: list[list[str]] = []

    def run(argv: list[str], what: str) -> subprocess.CompletedProcess[str]:
        calls.append(argv)
        return subprocess.CompletedProcess(argv, rc, stdout, "boom" if rc else "")

    monkeypatch.setattr(discovery, "_tool", run)
    monkeypatch.setattr(discovery, "_need", lambda tool, why: tool)
    return calls


@pytest.mark.parametrize(("kind", "code", "words"), [
    ("network", ErrorCode.INTERNAL_ERROR, "internal error: unknown storage pool type network"),
    ("dir", ErrorCode.NO_SUPPORT, "pool type 'dir' does not support source discovery"),
    ("netfs", ErrorCode.INVALID_ARG, "invalid argument: hostname must be specified for netfs sources"),
    ("iscsi", ErrorCode.INVALID_ARG, "invalid argument: hostname must be specified for iscsi sources"),
])
def test_refusals_as_libvirt(kind: str, code: int, words: str) -> None:
    with pytest.raises(PyvirtError) as exc:
        discovery.find_pool_sources(kind)
    assert exc.value.code == code and exc.value.message.endswith(words)


def test_netfs_exports_and_none(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _canned(monkeypatch, "/srv/a b     *\n/srv/b 10.0.0.0/8\nnoise\n")
    out = discovery.find_pool_sources("netfs", "<source><host name='nfs&amp;1'/></source>")
    assert calls == [["showmount", "--no-headers", "--exports", "nfs&1"]]
    assert out == ("<sources>\n  <source>\n    <host name='nfs&amp;1'/>\n    <dir path='/srv/a b'/>\n"
                   "    <format type='nfs'/>\n  </source>\n  <source>\n    <host name='nfs&amp;1'/>\n"
                   "    <dir path='/srv/b'/>\n    <format type='nfs'/>\n  </source>\n</sources>\n")
    _canned(monkeypatch, "", rc=1)
    with pytest.raises(PyvirtError, match="no storage pools were found on host 'h'"):
        discovery.find_pool_sources("netfs", "<source><host name='h'/></source>")


def test_iscsi_targets(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _canned(monkeypatch, "10.0.0.1:3260,1 iqn.2024-01.org.example:t1\n")
    out = discovery.find_pool_sources("iscsi", "<source><host name='10.0.0.1' port='3261'/></source>")
    assert calls[0][-4:] == ["--portal", "10.0.0.1:3261,1", "--op", "nonpersistent"]
    assert "<host name='10.0.0.1' port='3261'/>\n    <device path='iqn.2024-01.org.example:t1'/>" in out


def test_logical_groups_by_vg(monkeypatch: pytest.MonkeyPatch) -> None:
    _canned(monkeypatch, "  /dev/sdb   vg1\n  /dev/sdc   vg1\n  /dev/sdd   vg2\n  /dev/sde\n")
    out = discovery.find_pool_sources("logical")
    assert out.count("<source>") == 2 and "<device path='/dev/sdb'/>\n    <device path='/dev/sdc'/>\n" \
        "    <name>vg1</name>" in out and "/dev/sde" not in out


def test_bad_spec_is_an_xml_error() -> None:
    with pytest.raises(PyvirtError) as exc:
        discovery.find_pool_sources("netfs", "<source><host")
    assert exc.value.code == ErrorCode.XML_DETAIL  # malformed: libvirt's catchXMLError report
    assert str(exc.value).startswith("(storage_source_specification):1: ")
