"""Network disks (<disk type='network'>): the -blockdev protocol node libvirt 9.0 builds."""

from __future__ import annotations

import json

import pytest

from pyvirt.qemu.argv import build_argv
from pyvirt.xml import fill_defaults, parse_domain
from pyvirt.xml.errors import XMLError, XMLUnsupportedError

BASE = """<domain type='qemu'><name>g</name><memory unit='MiB'>256</memory><vcpu>1</vcpu>
<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>{disks}</devices></domain>"""


def _disk(source: str, *, device: str = "disk", bus: str = "virtio", dev: str = "vda", extra: str = "") -> str:
    return (f"<disk type='network' device='{device}'><driver name='qemu' type='raw'/>{source}"
            f"<target dev='{dev}' bus='{bus}'/>{extra}</disk>")


def _storage(*disks: str) -> list[dict]:
    argv = build_argv(fill_defaults(parse_domain(BASE.format(disks="".join(disks)))))
    nodes = [json.loads(argv[i + 1]) for i, a in enumerate(argv[:-1]) if a == "-blockdev"]
    return [n for n in nodes if n["node-name"].endswith("-storage")]


def test_nbd_export_with_default_port_and_unix_socket() -> None:
    a, b = _storage(_disk("<source protocol='nbd' name='img'><host name='h.example'/></source>"),
                    _disk("<source protocol='nbd'><host transport='unix' socket='/run/n.sock'/></source>",
                          dev="vdb"))
    assert a["driver"] == "nbd" and a["export"] == "img"
    assert a["server"] == {"type": "inet", "host": "h.example", "port": "10809"}
    assert b["server"] == {"type": "unix", "path": "/run/n.sock"} and "export" not in b
    assert a["node-name"] == "libvirt-2-storage" and b["node-name"] == "libvirt-1-storage"


def test_url_protocols_build_a_url_with_port_and_query() -> None:
    (n,) = _storage(_disk("<source protocol='https' name='dir/f.iso' query='a=b'><host name='::1'/></source>",
                          device="cdrom", bus="ide", dev="hda",
                          extra="<readonly/><address type='drive' controller='0' bus='0' target='0' unit='0'/>"))
    assert n["driver"] == "https" and n["url"] == "https://[::1]:443/dir/f.iso?a=b"


def test_rbd_pool_namespace_image_snapshot_and_monitors() -> None:
    (n,) = _storage(_disk("<source protocol='rbd' name='p/ns/img'><host name='m1'/><host name='m2' port='1'/>"
                          "<snapshot name='s'/><config file='/c.conf'/></source>"))
    assert list(n)[:6] == ["driver", "pool", "namespace", "image", "snapshot", "conf"]
    assert (n["pool"], n["namespace"], n["image"]) == ("p", "ns", "img")
    assert n["server"] == [{"host": "m1", "port": "6789"}, {"host": "m2", "port": "1"}]


def test_iscsi_target_lun_and_initiator() -> None:
    (n,) = _storage(_disk("<source protocol='iscsi' name='iqn.2000-01.x:t/3'><host name='s'/>"
                          "<initiator><iqn name='iqn.2000-01.x:me'/></initiator></source>"))
    assert n["portal"] == "s:3260" and n["target"] == "iqn.2000-01.x:t" and n["lun"] == 3
    assert n["initiator-name"] == "iqn.2000-01.x:me" and n["transport"] == "tcp"


def test_gluster_and_nfs() -> None:
    g, f = _storage(_disk("<source protocol='gluster' name='vol/dir/img'><host name='g'/></source>"),
                    _disk("<source protocol='nfs' name='/x/y'><host name='n'/>"
                          "<identity user='+7' group='+8'/></source>", dev="vdb"))
    assert (g["volume"], g["path"], g["debug"]) == ("vol", "dir/img", 4)
    assert g["server"] == [{"type": "inet", "host": "g", "port": "24007"}]
    assert f["server"] == {"host": "n", "type": "inet"} and (f["user"], f["group"]) == (7, 8)


@pytest.mark.parametrize(("source", "error", "match"), [
    ("<source protocol='nbd'/>", XMLError, "nbd protocol accepts only one host"),
    ("<source protocol='rbd' name='noslash'><host name='m'/></source>", XMLError, "pool and image"),
    ("<source protocol='http' tls='yes' name='x'><host name='h'/></source>", XMLUnsupportedError, "tls"),
    ("<source protocol='nbd' tlsHostname='n'><host name='h'/></source>", XMLError, "only valid with tls='yes'"),
    ("<source protocol='sheepdog' name='x'><host name='h'/></source>", XMLUnsupportedError, "sheepdog"),
    ("<source protocol='nbd'><host name='h'/><snapshot name='s'/></source>", XMLError, "only supported"),
    ("<source protocol='nfs' name='/a'><host name='n' port='2049'/></source>", XMLError, "port"),
])
def test_invalid_or_unsupported_sources_are_refused(source: str, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        _storage(_disk(source))


def test_auth_is_passed_not_dropped() -> None:
    (node,) = _storage(_disk("<auth username='u'><secret type='iscsi' usage='x'/></auth>"
                             "<source protocol='iscsi' name='iqn.2000-01.x:t'><host name='s'/></source>"))
    assert node["user"] == "u" and node["password-secret"].endswith("-auth-secret0")


def _blockdevs(*disks: str) -> list[dict]:
    argv = build_argv(fill_defaults(parse_domain(BASE.format(disks="".join(disks)))))
    return [json.loads(argv[i + 1]) for i, a in enumerate(argv[:-1]) if a == "-blockdev"]


def test_backing_chain_nodes_numbered_from_the_last_disk_top_first() -> None:
    top = ("<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/i/top.qcow2'/>"
           "<backingStore type='network'><format type='qcow2'/><source protocol='nbd'><host name='h'/></source>"
           "<backingStore type='file'><format type='raw'/><source file='/i/base.raw'/><backingStore/>"
           "</backingStore></backingStore><target dev='vda' bus='virtio'/></disk>")
    other = ("<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/i/o.qcow2'/>"
             "<backingStore/><target dev='vdb' bus='virtio'/></disk>")
    nodes = {n["node-name"]: n for n in _blockdevs(top, other)}
    # the last disk is libvirt-1; the first disk's top is 2, its layers 3 and 4 below it
    assert nodes["libvirt-1-format"]["backing"] is None
    assert nodes["libvirt-2-storage"]["filename"] == "/i/top.qcow2"
    assert nodes["libvirt-2-format"]["backing"] == "libvirt-3-format"
    assert nodes["libvirt-3-storage"]["driver"] == "nbd"
    assert nodes["libvirt-3-format"] == {"node-name": "libvirt-3-format", "read-only": True, "driver": "qcow2",
                                         "file": "libvirt-3-storage", "backing": "libvirt-4-format"}
    assert "backing" not in nodes["libvirt-4-format"] and nodes["libvirt-4-format"]["read-only"] is True


def test_backing_layer_without_source_is_refused() -> None:
    with pytest.raises(XMLError, match="missing disk backing store source"):  # libvirt 9.0's words
        _blockdevs("<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/a'/>"
                   "<backingStore type='file'><format type='raw'/></backingStore>"
                   "<target dev='vda' bus='virtio'/></disk>")


def _objects(argv: list[str]) -> list[dict]:
    return [json.loads(argv[i + 1]) for i, a in enumerate(argv[:-1]) if a == "-object"]


def test_nbd_tls_client_credentials() -> None:
    """qemuDomainPrepareStorageSourceTLS: a tls-creds-x509 client object on qemu.conf's directory,
    its key password a secret object when qemu.conf names one; the hostname checked if given."""
    from pyvirt.qemu.argv_common import RuntimePaths

    disk = _disk("<source protocol='nbd' name='e' tls='yes' tlsHostname='srv.example'><host name='h'/></source>")
    dom = fill_defaults(parse_domain(BASE.format(disks=disk)))
    rt = RuntimePaths(domain_dir="/run/g", nbd_tls_x509_dir="/etc/pki/nbd", nbd_tls_verify=False, nbd_tls_secret=True)
    argv = build_argv(dom, runtime=rt)
    creds = next(o for o in _objects(argv) if o["qom-type"] == "tls-creds-x509")
    assert creds == {"qom-type": "tls-creds-x509", "id": "objlibvirt-1-storage_tls0", "dir": "/etc/pki/nbd",
                     "endpoint": "client", "verify-peer": False, "passwordid": "objlibvirt-1-storage_tls0-secret0"}
    assert any(o["id"] == creds["passwordid"] and o["qom-type"] == "secret" for o in _objects(argv))
    node = next(json.loads(argv[i + 1]) for i, a in enumerate(argv[:-1])
                if a == "-blockdev" and '"nbd"' in argv[i + 1])
    assert (node["tls-creds"], node["tls-hostname"]) == (creds["id"], "srv.example")
    # qemu.conf's nbd_tls turns it on for NBD disks that do not say; tls='no' keeps it off
    plain = fill_defaults(parse_domain(BASE.format(disks=_disk("<source protocol='nbd'><host name='h'/></source>"))))
    on = RuntimePaths(nbd_tls_default=True, nbd_tls_x509_dir="/etc/pki/nbd")
    assert any(o["qom-type"] == "tls-creds-x509" for o in _objects(build_argv(plain, runtime=on)))
    off = fill_defaults(parse_domain(BASE.format(disks=_disk("<source protocol='nbd' tls='no'><host name='h'/>"
                                                              "</source>"))))
    assert not any(o["qom-type"] == "tls-creds-x509" for o in _objects(build_argv(off, runtime=on)))


def test_qemu_conf_nbd_tls_settings(tmp_path) -> None:
    from pyvirt.daemon.qemuconf import nbd_tls

    pki, nbd = tmp_path / "pki", tmp_path / "nbd"
    pki.mkdir()
    nbd.mkdir()
    (tmp_path / "qemu.conf").write_text(f'nbd_tls = 1\ndefault_tls_x509_cert_dir = "{pki}"\n'
                                        'default_tls_x509_secret_uuid = "6dd3e4a5-1d76-44ce-961f-f119f5aad935"\n')
    conf = nbd_tls(tmp_path)
    assert (conf.default_on, conf.directory, conf.verify) == (True, str(pki), True)
    assert conf.secret_uuid == "6dd3e4a5-1d76-44ce-961f-f119f5aad935"
    (tmp_path / "qemu.conf").write_text(f'nbd_tls_x509_cert_dir = "{nbd}"\n')
    assert (nbd_tls(tmp_path).default_on, nbd_tls(tmp_path).directory) == (False, str(nbd))
