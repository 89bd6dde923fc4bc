"""Backing chains spelled out in the XML, layer by layer, as libvirt 9.0 takes them: the
``index`` numbers (read and written back as written, but never used for the command line's node
names, which libvirt numbers itself at start), each layer's own ``<source><seclabel>`` (which
labels that image only) and each layer's own ``<encryption>`` (its own secret object and
secret file, and qcow2's LUKS encryption on that layer's format node)."""

from __future__ import annotations

import json

import pytest

from pyvirt.daemon.disksecrets import DiskSecretsMixin
from pyvirt.daemon.qemuuser import guest_files
from pyvirt.qemu.argv import build_argv
from pyvirt.qemu.argv_common import RuntimePaths
from pyvirt.xml import fill_defaults, parse_domain
from pyvirt.xml.errors import XMLUnsupportedError

BASE = """<domain type='qemu'><name>g</name><memory unit='MiB'>256</memory><vcpu>1</vcpu>
<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>{devices}</devices></domain>"""
U1 = "0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f"
U2 = "0a81f5b2-8403-7b23-c8d6-21ccc2f80d70"


def _enc(uuid: str) -> str:
    return f"<encryption format='luks'><secret type='passphrase' uuid='{uuid}'/></encryption>"


CHAIN = f"""<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>
<source file='/img/top.qcow2' index='3'>{_enc(U1)}</source>
<backingStore type='file' index='2'><format type='qcow2'/>
  <source file='/img/mid.qcow2'>{_enc(U2)}
    <seclabel model='dac' relabel='no'/></source>
  <backingStore type='file' index='1'><format type='raw'/>
    <source file='/img/base.raw'><seclabel model='dac' relabel='yes'><label>+107:+107</label></seclabel></source>
    <backingStore/></backingStore></backingStore>
<target dev='vda' bus='virtio'/></disk>"""


def _dom(devices: str = CHAIN):
    return fill_defaults(parse_domain(BASE.format(devices=devices)))


def _json(argv: list[str], option: str) -> list[dict]:
    return [json.loads(argv[i + 1]) for i, a in enumerate(argv[:-1]) if a == option]


def test_each_encrypted_layer_gets_its_own_secret_object_and_file() -> None:
    argv = build_argv(_dom(), runtime=RuntimePaths(domain_dir="/run/g"))
    secrets = {o["id"]: o["file"] for o in _json(argv, "-object") if o["qom-type"] == "secret"}
    # node numbers are libvirt's own (the disk's top image is libvirt-1), not the XML's index
    assert secrets == {"libvirt-2-format-encryption-secret0": "/run/g/secret-vda-encryption-backing1",
                       "libvirt-1-format-encryption-secret0": "/run/g/secret-vda-encryption"}
    nodes = {b["node-name"]: b for b in _json(argv, "-blockdev")}
    assert nodes["libvirt-2-format"]["encrypt"] == {"format": "luks",
                                                     "key-secret": "libvirt-2-format-encryption-secret0"}
    assert nodes["libvirt-2-format"]["backing"] == "libvirt-3-format"
    assert "encrypt" not in nodes["libvirt-3-format"] and "key-secret" not in nodes["libvirt-3-format"]
    # a layer's secret object comes before that layer's storage node
    pos = {json.loads(argv[i + 1]).get("id") or json.loads(argv[i + 1]).get("node-name"): i
           for i, a in enumerate(argv[:-1]) if a in ("-object", "-blockdev")}
    assert pos["libvirt-2-format-encryption-secret0"] < pos["libvirt-2-storage"]


def test_layer_secrets_are_resolved_per_layer_at_start() -> None:
    class Secrets:
        def secret_value(self, usage, uuid, usage_id):
            return {U1: b"top", U2: b"mid"}[uuid]

    driver = DiskSecretsMixin()
    driver.secrets = Secrets()
    found = driver._resolve_disk_secrets(_dom())
    assert [(purpose, value) for _, purpose, value in found.items] == [
        ("encryption", b"top"), ("encryption-backing1", b"mid")]


def test_layer_seclabels_label_only_their_own_image() -> None:
    files = {f.path: f for f in guest_files(_dom())}
    assert "/img/mid.qcow2" not in files  # relabel='no' on that layer only
    assert files["/img/base.raw"].owner == (107, 107) and files["/img/base.raw"].readonly
    assert files["/img/top.qcow2"].owner is None and not files["/img/top.qcow2"].readonly


def test_index_and_layer_children_round_trip() -> None:
    xml = _dom().to_xml(inactive=True)
    assert "<source file='/img/top.qcow2' index='3'>" in xml
    assert "<backingStore type='file' index='2'>" in xml
    assert "<seclabel model='dac' relabel='no'/>" in xml
    assert xml.count("engine='qemu'") == 2  # the encryption engine default reaches every layer
    again = fill_defaults(parse_domain(xml)).to_xml(inactive=True)
    assert again == xml


def test_layer_encryption_on_a_format_qemu_cannot_decrypt_is_refused() -> None:
    bad = CHAIN.replace("<format type='qcow2'/>", "<format type='vmdk'/>")
    with pytest.raises(XMLUnsupportedError, match="encryption is supported only with 'raw' and 'qcow2'"):
        _dom(bad)
