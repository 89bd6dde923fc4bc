"""Disks that reference secrets: <encryption> and <auth> as libvirt 9.0 reads, completes and
checks them (virStorageEncryptionParseNode, virStorageAuthDefParse, virSecretLookupParseSecret,
qemuDomainDeviceDiskDefPostParse) and the LUKS -blockdev chain it builds
(qemuBlockStorageSourceGetFormatProps), with the value read by QEMU from a file, never argv."""

from __future__ import annotations

import json

import pytest

from pyvirt.qemu.argv import build_argv
from pyvirt.qemu.argv_common import RuntimePaths
from pyvirt.xml import fill_defaults, parse_domain
from pyvirt.xml.errors import XMLError, XMLUnsupportedError

BASE = """<domain type='qemu'><name>g</name><memory unit='MiB'>256</memory><vcpu>1</vcpu>
<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>{devices}</devices></domain>"""
U = "0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f"


def _disk(fmt: str = "raw", enc: str = f"<encryption format='luks'><secret type='passphrase' uuid='{U}'/>"
          "</encryption>", where: str = "disk", dev: str = "vda") -> str:
    source = f"<source file='/img/{dev}'>{enc}</source>" if where == "source" else f"<source file='/img/{dev}'/>"
    return (f"<disk type='file' device='disk'><driver name='qemu' type='{fmt}'/>{source}"
            f"<target dev='{dev}' bus='virtio'/>{enc if where == 'disk' else ''}</disk>")


def _json(argv: list[str], option: str) -> list[dict]:
    return [json.loads(argv[i + 1]) for i, a in enumerate(argv[:-1]) if a == option]


def _argv(devices: str) -> list[str]:
    dom = fill_defaults(parse_domain(BASE.format(devices=devices)))
    return build_argv(dom, runtime=RuntimePaths(domain_dir="/run/g"))


def test_raw_luks_disk_uses_the_luks_driver_with_a_file_secret() -> None:
    argv = _argv(_disk())
    (secret,) = [o for o in _json(argv, "-object") if o["qom-type"] == "secret"]
    assert secret == {"qom-type": "secret", "id": "libvirt-1-format-encryption-secret0", "format": "raw",
                      "file": "/run/g/secret-vda-encryption"}
    fmt = [b for b in _json(argv, "-blockdev") if b["node-name"] == "libvirt-1-format"][0]
    assert (fmt["driver"], fmt["key-secret"], fmt["file"]) == ("luks", secret["id"], "libvirt-1-storage")
    # the secret object comes before the nodes that use it
    assert argv.index(json.dumps(secret, separators=(",", ":"))) < argv.index("-blockdev")


def test_qcow2_luks_disk_uses_qcow2_encryption_and_source_placement_is_kept() -> None:
    disk = _disk("qcow2", where="source")
    argv = _argv(disk)
    fmt = [b for b in _json(argv, "-blockdev") if b["node-name"] == "libvirt-1-format"][0]
    assert fmt["driver"] == "qcow2"
    assert fmt["encrypt"] == {"format": "luks", "key-secret": "libvirt-1-format-encryption-secret0"}
    xml = fill_defaults(parse_domain(BASE.format(devices=disk))).to_xml()
    assert (f"<source file='/img/vda'>\n        <encryption format='luks' engine='qemu'>\n"
            f"          <secret type='passphrase' uuid='{U}'/>") in xml


@pytest.mark.parametrize("disk,error,message", [
    (_disk("vmdk"), XMLUnsupportedError, "encryption is supported only with 'raw' and 'qcow2' image format"),
    (_disk(enc="<encryption format='luks'><secret type='passphrase' uuid='x'/></encryption>"), XMLError,
     "invalid uuid 'x'"),
    (_disk(enc="<encryption format='luks'><secret type='passphrase'/></encryption>"), XMLError,
     "missing uuid or usage attribute"),
    (_disk(enc=f"<encryption format='luks'><secret type='passphrase' uuid='{U}' usage='u'/></encryption>"),
     XMLError, "either uuid or usage attribute must be provided, not both"),
    (_disk(enc=f"<encryption format='luks'><secret uuid='{U}'/></encryption>"), XMLError,
     "missing volume encryption secret type"),
    (_disk(enc=f"<encryption format='qcow'><secret type='passphrase' uuid='{U}'/></encryption>"),
     XMLUnsupportedError, "'qcow'"),
    (_disk(where="source").replace("</disk>", f"<encryption format='luks'><secret type='passphrase' uuid='{U}'/>"
                                   "</encryption></disk>"),
     XMLUnsupportedError, "an <encryption> definition already found for disk source"),
])
def test_bad_encryption_refused_with_libvirts_words(disk: str, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        _argv(disk)


RBD = ("<disk type='network' device='disk'><driver name='qemu' type='raw'/><auth username='admin'>"
       "<secret type='{kind}' usage='client.admin'/></auth><source protocol='rbd' name='pool/image'>"
       "<host name='mon1'/></source><target dev='vda' bus='virtio'/></disk>")


def test_auth_is_read_checked_and_passed_as_a_secret_object() -> None:
    dom = parse_domain(BASE.format(devices=RBD.format(kind="ceph")))
    auth = dom.devices.disks[0].disk_auth
    assert auth is not None and (auth.username, auth.secret.type, auth.secret.usage) == ("admin", "ceph", "client.admin")
    assert "<auth username='admin'>\n        <secret type='ceph' usage='client.admin'/>" in dom.to_xml()
    with pytest.raises(XMLUnsupportedError, match="invalid secret type 'iscsi'"):
        parse_domain(BASE.format(devices=RBD.format(kind="iscsi")))
    argv = build_argv(fill_defaults(dom))  # the credentials: test_argv_device_features.py
    assert any('"key-secret":"libvirt-1-storage-auth-secret0"' in a for a in argv)
