"""Every libvirt pool type reads and writes as libvirt 9.0 does (virStoragePoolDefParseXML /
virStoragePoolDefFormatBuf rules), and the storage driver refuses to run the types it cannot."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from pyvirt.xml.errors import XMLConfigError, XMLError
from pyvirt.xml.pool import PoolDef


def pool(ptype: str, body: str, ns: str = "") -> PoolDef:
    return PoolDef.from_xml(f"<pool type='{ptype}'{ns}><name>p</name>{body}</pool>")


def source_children(p: PoolDef) -> list[str]:
    root = etree.fromstring(p.to_xml().encode())
    return [el.tag for el in root.find("source")]


def test_source_children_in_libvirts_order_whatever_the_input_order() -> None:
    p = pool("iscsi", "<source><auth type='chap' username='u'><secret usage='s'/></auth>"
                      "<initiator><iqn name='iqn.x'/></initiator><device path='t'/><host name='h'/>"
                      "<product name='pr'/><vendor name='ve'/></source><target><path>/dev</path></target>")
    assert source_children(p) == ["host", "device", "initiator", "auth", "vendor", "product"]
    p = pool("gluster", "<source><name>vol</name><dir path='/sub'/><host name='h'/></source>")
    assert source_children(p) == ["host", "dir", "name"]


@pytest.mark.parametrize("ptype", ["rbd", "sheepdog", "gluster", "iscsi-direct"])
def test_network_pools_have_no_target(ptype: str) -> None:
    extra = "<initiator><iqn name='i'/></initiator><device path='t'/>" if ptype == "iscsi-direct" else ""
    p = pool(ptype, f"<source><host name='h'/><name>n</name>{extra}</source>".replace(
        "<name>n</name>", "" if ptype == "iscsi-direct" else "<name>n</name>"))
    assert p.target_path is None and "<target>" not in p.to_xml()


def test_source_name_and_pool_name_default_to_each_other() -> None:
    p = PoolDef.from_xml("<pool type='rbd'><source><name>cephpool</name><host name='m'/></source></pool>")
    assert p.name == "cephpool"
    p = pool("vstorage", "<target><path>/mnt/v</path></target>")
    assert p.source.name == "p" and "<name>p</name>" in p.to_xml().split("<source>")[1]
    with pytest.raises(XMLError, match="missing pool source name"):
        PoolDef.from_xml("<pool type='iscsi'><source><host name='h'/></source></pool>")


def test_derived_target_paths_and_defaults() -> None:
    assert pool("zfs", "<source><name>tank</name></source>").target_path == "/dev/zvol/tank"
    assert pool("logical", "<source><name>vg</name></source>").target_path == "/dev/vg"
    assert pool("gluster", "<source><host name='h'/></source>").source.dir == "/"
    disk = pool("disk", "<source><device path='/dev/sdb'/></source><target><path>/dev</path></target>")
    assert disk.source.format == "unknown" and "<format type='unknown'/>" in disk.to_xml()


def test_required_parts_by_type() -> None:
    cases = {
        "rbd": ("<source><host name='h'/></source>", "mandatory for RBD"),
        "iscsi": ("<source><device path='t'/></source><target><path>/dev</path></target>", "host name"),
        "disk": ("<source/><target><path>/dev</path></target>", "device name"),
        "iscsi-direct": ("<source><host name='h'/><device path='t'/></source>", "initiator IQN"),
        "scsi": ("<source/><target><path>/dev</path></target>", "source adapter"),
        "mpath": ("", "target path"),
    }
    for ptype, (body, msg) in cases.items():
        with pytest.raises(XMLError, match=msg):
            pool(ptype, body)


def test_parts_a_type_does_not_take_are_refused_by_name() -> None:
    target = "<target><path>/dev</path></target>"
    with pytest.raises(XMLError, match="<adapter>"):
        pool("iscsi", f"<source><host name='h'/><adapter name='host0'/></source>{target}")
    with pytest.raises(XMLError, match="<format>"):
        pool("iscsi", f"<source><host name='h'/><format type='gpt'/></source>{target}")
    # after libvirt's own checks, which keep their words (it drops such parts instead)
    with pytest.raises(XMLError, match="missing storage pool target path"):
        pool("dir", "<source><host name='h'/></source>")
    with pytest.raises(XMLError, match="unknown pool format type") as unknown:
        pool("disk", "<source><device path='/dev/sdb'/><format type='ntfs'/></source>"
                     "<target><path>/dev</path></target>")
    assert isinstance(unknown.value, XMLConfigError)  # virsh: "unsupported configuration: unknown pool format …"


def test_adapters() -> None:
    legacy = pool("scsi", "<source><adapter name='host0'/></source><target><path>/dev</path></target>")
    assert "<adapter type='scsi_host' name='host0'/>" in legacy.to_xml()
    stable = pool("scsi", "<source><adapter type='scsi_host'><parentaddr unique_id='5'>"
                          "<address domain='0' bus='0' slot='0x1f' function='2'/></parentaddr></adapter>"
                          "</source><target><path>/dev</path></target>")
    assert ("<address domain='0x0000' bus='0x00' slot='0x1f' function='0x2'/>" in stable.to_xml())
    assert PoolDef.from_xml(stable.to_xml()) == stable
    fc = ("<source><adapter type='fc_host' wwpn='{}' parent='scsi_host5' managed='yes' wwnn='{}'/>"
          "</source><target><path>/dev</path></target>")
    out = pool("scsi", fc.format("0x10000000c9831b4b", "20000000c9831b4b")).to_xml()
    assert "parent='scsi_host5' managed='yes' wwnn='20000000c9831b4b' wwpn='0x10000000c9831b4b'/>" in out
    for bad, msg in ((fc.format("1234", "20000000c9831b4b"), "Malformed wwn"),
                     (fc.replace(" wwpn='{}'", "").format("20000000c9831b4b"), "must be specified"),
                     ("<source><adapter wwnn='20000000c9831b4b'/></source>", "requires use of the adapter"),
                     ("<source><adapter type='scsi_host' name='h' wwnn='1'/></source>", "not fc_host")):
        with pytest.raises(XMLError, match=msg):
            pool("scsi", bad)


def test_auth_needs_type_user_and_one_secret() -> None:
    base = "<source><host name='h'/><device path='t'/><auth {}>{}</auth></source><target><path>/d</path></target>"
    good = pool("iscsi", base.format("type='chap' username='u'", "<secret usage='libvirtiscsi'/>"))
    assert "<auth type='chap' username='u'>" in good.to_xml()
    for attrs, secret, msg in (("username='u'", "<secret usage='x'/>", "missing auth type"),
                               ("type='chap'", "<secret usage='x'/>", "username"),
                               ("type='chap' username='u'", "", "uuid or a usage"),
                               ("type='chap' username='u'", "<secret uuid='nope'/>", "malformed")):
        with pytest.raises(XMLError, match=msg):
            pool("iscsi", base.format(attrs, secret))


def test_rbd_config_options_namespace() -> None:
    ns = " xmlns:r='http://libvirt.org/schemas/storagepool/rbd/1.0'"
    body = ("<source><name>rbd</name><host name='m'/></source>"
            "<r:config_opts><r:option name='client_mount_timeout' value='45'/></r:config_opts>")
    p = pool("rbd", body, ns)
    out = p.to_xml()
    assert "xmlns:rbd='http://libvirt.org/schemas/storagepool/rbd/1.0'" in out.split("\n")[0]
    assert "<rbd:option name='client_mount_timeout' value='45'/>" in out
    assert PoolDef.from_xml(out) == p
    with pytest.raises(XMLError, match="config_opts"):
        pool("dir", "<target><path>/x</path></target><r:config_opts><r:option name='a' value='1'/>"
                    "</r:config_opts>", ns)


def test_refresh_cow_and_host_port() -> None:
    p = pool("rbd", "<source><name>n</name><host name='m' port='0'/></source>"
                    "<refresh><volume allocation='capacity'/></refresh>")
    out = p.to_xml()
    assert "<host name='m'/>" in out and "<volume allocation='capacity'/>" in out
    d = pool("dir", "<features><cow state='no'/></features><target><path>/x</path></target>")
    assert d.cow is False and "<cow state='no'/>" in d.to_xml()
    assert d.to_xml().index("<features>") < d.to_xml().index("<source>")
    with pytest.raises(XMLError, match="cow feature"):
        pool("logical", "<features><cow state='no'/></features><source><name>vg</name></source>")


def test_every_type_output_validates_and_reparses() -> None:
    from tests.conformance_data import SCHEMAS

    schema_file = SCHEMAS / "storagepool.rng"
    if not schema_file.exists():
        pytest.skip("libvirt schemas not present")
    rng = etree.RelaxNG(file=str(schema_file))
    docs = [pool("mpath", "<target><path>/dev/mapper</path></target>"),
            pool("zfs", "<source><name>t</name><device path='/dev/ada1'/></source>"),
            pool("sheepdog", "<source><host name='h' port='7000'/></source>"),
            pool("scsi", "<source><adapter name='host0'/></source><target><path>/dev</path></target>")]
    for p in docs:
        text = p.to_xml()
        assert rng.validate(etree.fromstring(text.encode())), (text, rng.error_log)
        assert PoolDef.from_xml(text).to_xml() == text


def test_driver_defines_undriven_types_and_refuses_to_run_them(tmp_path: Path) -> None:
    from pyvirt.api import PyvirtError
    from pyvirt.storage import StorageDriver

    drv = StorageDriver(tmp_path / "etc", tmp_path / "run", tmp_path / "images")
    xml = ("<pool type='rbd'><name>ceph</name><source><name>rbd</name><host name='m'/>"
           "<auth type='ceph' username='admin'><secret usage='c'/></auth></source></pool>")
    info = drv.define_pool(xml)
    assert info.type == "rbd" and not info.active
    assert "<auth type='ceph' username='admin'>" in drv.get_pool_xml("ceph")
    for op in (drv.start_pool, drv.build_pool):
        with pytest.raises(PyvirtError, match="storage pool type 'rbd' is not supported"):
            op("ceph")
    assert not drv.lookup_pool("ceph").active
    drv.define_pool(xml.replace("ceph</name>", "ceph2</name>"))  # no target path: no clash
    drv.undefine_pool("ceph")


def test_cow_off_btrfs_is_refused_at_build(tmp_path: Path) -> None:
    from pyvirt.api import PyvirtError
    from pyvirt.storage.backends import BTRFS_SUPER_MAGIC, set_cow

    set_cow(str(tmp_path), None)  # nothing asked, nothing done
    import ctypes

    class _StatFs(ctypes.Structure):
        _fields_ = [("f_type", ctypes.c_long), ("rest", ctypes.c_byte * 112)]

    buf = _StatFs()
    ctypes.CDLL(None).statfs(str(tmp_path).encode(), ctypes.byref(buf))
    if buf.f_type & 0xFFFFFFFF == BTRFS_SUPER_MAGIC:
        pytest.skip("tmp is on btrfs")
    with pytest.raises(PyvirtError, match="not btrfs"):
        set_cow(str(tmp_path), False)


def test_volume_luks_cipher_and_ivgen_round_trip() -> None:
    from pyvirt.xml.volume import VolumeDef

    doc = ("<volume><name>l</name><capacity>1024</capacity><target><format type='raw'/>"
           "<encryption format='luks'><secret type='passphrase' uuid='f52a81b2-424e-490c-823d-6bd4235bc572'/>"
           "<cipher hash='sha256' name='serpent' size='256' mode='cbc'/><ivgen name='plain64' hash='sha256'/>"
           "</encryption></target></volume>")
    out = VolumeDef.from_xml(doc).to_xml()
    assert "<cipher name='serpent' size='256' mode='cbc' hash='sha256'/>" in out
    assert "<ivgen name='plain64' hash='sha256'/>" in out
    assert VolumeDef.from_xml(out).to_xml() == out
    for bad, msg in (("<cipher name='aes'/>", "cipher size"), ("<cipher size='256'/>", "cipher name"),
                     ("<ivgen hash='sha256'/>", "ivgen name")):
        with pytest.raises(XMLError, match=msg):
            VolumeDef.from_xml(doc.replace("<cipher hash='sha256' name='serpent' size='256' mode='cbc'/>"
                                           "<ivgen name='plain64' hash='sha256'/>", bad))


def test_volume_encryption_secret_by_usage_or_uuid_with_libvirts_refusals() -> None:
    """virSecretLookupParseSecret: a secret named by usage or by UUID (canonicalised), exactly
    one of the two, and a type (no default)."""
    from pyvirt.xml.volume import VolumeDef

    doc = ("<volume><name>l</name><capacity>1024</capacity><target><format type='raw'/>"
           "<encryption format='luks'><secret {}/></encryption></target></volume>")
    out = VolumeDef.from_xml(doc.format("type='passphrase' usage='my volume key'")).to_xml()
    assert "<secret type='passphrase' usage='my volume key'/>" in out
    assert VolumeDef.from_xml(out).to_xml() == out
    out = VolumeDef.from_xml(doc.format("type='passphrase' uuid='F52A81B2424E490C823D6BD4235BC572'")).to_xml()
    assert "<secret type='passphrase' uuid='f52a81b2-424e-490c-823d-6bd4235bc572'/>" in out
    for attrs, msg in (("type='passphrase' uuid='f52a81b2-424e-490c-823d-6bd4235bc572' usage='k'",
                        "either secret uuid or usage expected"),
                       ("type='passphrase'", "missing secret uuid or usage attribute"),
                       ("usage='k'", "unknown volume encryption secret type"),
                       ("type='passphrase' uuid='nope'", "invalid secret uuid 'nope'")):
        with pytest.raises(XMLError, match=msg):
            VolumeDef.from_xml(doc.format(attrs))


def test_partition_formats_read_and_a_file_pool_refuses_them(tmp_path: Path) -> None:
    """A disk pool's volumes carry partition types (linux, fat32, ...): the document reads with
    them; a file-based pool refuses one at create with libvirt's words."""
    from pyvirt.api import PyvirtError
    from pyvirt.storage import StorageDriver
    from pyvirt.xml.volume import VolumeDef, format_fits_pool

    part = ("<volume type='block'><name>sda1</name><capacity>1048576</capacity>"
            "<target><path>/dev/sda1</path><format type='linux-swap'/></target></volume>")
    out = VolumeDef.from_xml(part).to_xml()
    assert "<format type='linux-swap'/>" in out and VolumeDef.from_xml(out).to_xml() == out
    assert format_fits_pool("linux-swap", "disk") and not format_fits_pool("qcow2", "disk")
    assert format_fits_pool("qcow2", "dir") and not format_fits_pool("fat32", "dir")
    with pytest.raises(XMLError, match="^unknown volume format type bogus"):
        VolumeDef.from_xml(part.replace("linux-swap", "bogus"))
    drv = StorageDriver(tmp_path / "etc", tmp_path / "run", tmp_path / "images")
    drv.create_pool(f"<pool type='dir'><name>d</name><target><path>{tmp_path / 'd'}</path></target></pool>",
                    build=True)
    with pytest.raises(PyvirtError, match="unknown volume format type fat32"):
        drv.create_volume_xml("d", "<volume><name>v</name><capacity>1024</capacity>"
                              "<target><format type='fat32'/></target></volume>")
    assert not (tmp_path / "d" / "v").exists()


def test_build_overwrite_flags_are_refused_by_name_before_anything_is_made(tmp_path: Path) -> None:
    """--overwrite/--no-overwrite ask for the source device to be formatted, which pyvirt does not
    do: refused (libvirt's words for a pool with no device to format), the pool left unbuilt."""
    from pyvirt.api import ErrorCode, PyvirtError
    from pyvirt.storage import StorageDriver

    drv = StorageDriver(tmp_path / "etc", tmp_path / "run", tmp_path / "images")
    target = tmp_path / "d"
    drv.define_pool(f"<pool type='dir'><name>d</name><target><path>{target}</path></target></pool>")
    for kwargs in ({"overwrite": True}, {"no_overwrite": True}):
        with pytest.raises(PyvirtError, match="No source device specified when formatting pool 'd'"):
            drv.build_pool("d", **kwargs)
        with pytest.raises(PyvirtError, match="No source device specified"):
            drv.start_pool("d", build=True, **kwargs)
    assert not target.exists() and not drv.lookup_pool("d").active
    with pytest.raises(PyvirtError, match="mutually exclusive") as exc:
        drv.build_pool("d", overwrite=True, no_overwrite=True)
    assert exc.value.code == ErrorCode.INVALID_ARG
    fs = (f"<pool type='fs'><name>f</name><source><device path='{tmp_path / 'dev'}'/></source>"
          f"<target><path>{tmp_path / 'f'}</path></target></pool>")
    drv.define_pool(fs)
    with pytest.raises(PyvirtError, match="with --no-overwrite .*not supported by pyvirt"):
        drv.build_pool("f", no_overwrite=True)
    assert not (tmp_path / "f").exists()
    drv.build_pool("d")
    assert target.is_dir()
