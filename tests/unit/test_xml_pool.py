"""Pool/volume XML: refusals name the element and line; hostile input is not expanded."""

import pytest

from pyvirt.api import PyvirtError
from pyvirt.xml.errors import XMLError
from pyvirt.xml.pool import PoolDef
from pyvirt.xml.volume import VolumeDef

DIR = "<pool type='dir'>\n<name>p</name>\n<target><path>/x</path></target>\n{}</pool>"


def test_unknown_element_named_with_line():
    with pytest.raises(XMLError) as err:
        PoolDef.from_xml(DIR.format("<bogus/>\n"))
    assert "bogus" in str(err.value) and err.value.line == 4


def test_entities_refused():
    doc = "<!DOCTYPE p [<!ENTITY x SYSTEM 'file:///etc/passwd'>]><pool type='dir'><name>&x;</name></pool>"
    with pytest.raises(XMLError):
        PoolDef.from_xml(doc)


def test_unknown_type_refused():
    with pytest.raises(XMLError, match="Invalid value for attribute 'type' in element 'pool': 'floppy'"):
        PoolDef.from_xml("<pool type='floppy'><name>r</name></pool>")


def test_malformed_and_bad_values():
    for doc in ("<pool type='dir'><name>p</name>", "<pool><name>p</name></pool>",
                DIR.replace("<name>p</name>", "<name>a/b</name>").format("")):
        with pytest.raises(XMLError):
            PoolDef.from_xml(doc)


def test_relative_target_read_as_libvirt_refused_where_built(tmp_path):
    """libvirt's parser takes a relative target path (the test driver keeps it); pyvirtd, which
    builds pools on this host, refuses it by name."""
    from pyvirt.storage.driver import StorageDriver

    doc = DIR.replace("/x", "relative").format("")
    assert PoolDef.from_xml(doc).target_path == "relative"
    with pytest.raises(PyvirtError, match="storage pool target path 'relative' must be absolute"):
        StorageDriver(tmp_path / "etc", tmp_path / "run", tmp_path / "images").define_pool(doc)


def test_volume_units_and_refusals():
    vol = VolumeDef.from_xml("<volume><name>v</name><capacity unit='GB'>2</capacity></volume>")
    assert vol.capacity == 2 * 10**9 and vol.format == "raw"
    for bad in ("<volume><name>v</name><capacity>-1</capacity></volume>",
                "<volume><name>v</name><capacity unit='XB'>1</capacity></volume>",
                "<volume><name>v</name><target><format type='nope'/></target></volume>",
                "<volume><name>v</name><junk/></volume>"):
        with pytest.raises(XMLError):
            VolumeDef.from_xml(bad)


def test_pool_roundtrip():
    pool = PoolDef.from_xml(DIR.format(""))
    assert PoolDef.from_xml(pool.to_xml()) == pool


def test_source_elements_of_another_pool_type_are_refused_by_name():
    doc = DIR.format("<source><host name='h'/></source>\n")
    with pytest.raises(XMLError, match="<host>"):
        PoolDef.from_xml(doc)


def test_read_only_volume_facts_are_accepted_and_not_written():
    vol = VolumeDef.from_xml("<volume><name>v</name><source><extent start='0'/></source><target>"
                             "<timestamps><atime>1.5</atime></timestamps><nocow/></target></volume>")
    out = vol.to_xml()
    assert "timestamps" not in out and "nocow" not in out and "extent" not in out
    assert VolumeDef.from_xml(out).to_xml() == out


def test_request_documents_escape_values_and_parse_back():
    """pool-define-as/vol-create-as --print-xml documents are built by the model: a hostile name
    stays one value, and the document reads back to the same pool."""
    from pyvirt.xml.pool import SourceHost, VirshPoolSource
    from pyvirt.xml.volume import BackingStore

    name = "a'<b>&\"c"
    pool = PoolDef(type="netfs", name=name, target_path="/mnt",
                   source=VirshPoolSource(hosts=[SourceHost(name="h")], dir="/x", format="nfs"))
    xml = pool.to_request_xml()
    assert "uuid" not in xml and "capacity" not in xml
    assert xml.index("<dir ") < xml.index("<format ")  # virsh's order
    back = PoolDef.from_xml(xml)
    assert back.name == name and back.source.hosts[0].name == "h" and back.source.dir == "/x"
    vol = VolumeDef(name=name, capacity=5, format="qcow2", backing=BackingStore(path="/b'c"))
    text = vol.to_request_xml()
    assert "<capacity>5</capacity>" in text and "type=" not in text.split("\n")[0]
    assert VolumeDef.from_xml(text).backing.path == "/b'c"


def test_output_order_must_name_every_written_field():
    from dataclasses import dataclass

    from pyvirt.xml.fields import attr
    from pyvirt.xml.mapping import format_document

    @dataclass
    class Bad:
        xml_order = ("a",)
        a: str | None = attr("@a")
        b: str | None = attr("@b")

    with pytest.raises(TypeError, match="xml_order"):
        format_document(Bad(a="1"), "x")


def test_pool_mount_options_keep_their_namespace():
    doc = ("<pool type='netfs' xmlns:x='http://libvirt.org/schemas/storagepool/fs/1.0'><name>n</name>"
           "<source><host name='h'/><dir path='/e'/></source><target><path>/mnt</path></target>"
           "<x:mount_opts><x:option name='sync'/></x:mount_opts></pool>")
    pool = PoolDef.from_xml(doc)
    assert pool.mount_opts == ["sync"]
    out = pool.to_xml()
    assert "xmlns:fs='http://libvirt.org/schemas/storagepool/fs/1.0'" in out.split("\n")[0]
    assert "<fs:option name='sync'/>" in out
    assert PoolDef.from_xml(out) == pool
    with pytest.raises(XMLError, match="mount_opts"):
        PoolDef.from_xml(DIR.replace("<pool type='dir'>", "<pool type='dir' xmlns:fs='http://libvirt.org/"
                                     "schemas/storagepool/fs/1.0'>").format(
            "<fs:mount_opts><fs:option name='sync'/></fs:mount_opts>\n"))


NFS = ("<pool type='netfs'><name>n</name><source><host name='h'/><dir path='/e'/>{}</source>"
       "<target><path>/mnt</path></target>{}</pool>")


def test_nfs_protocol_version_is_a_string_mounted_as_nfsvers(monkeypatch):
    """libvirt 9.0 keeps <protocol ver> as text ('4.1'), refuses a ',' (it becomes one mount
    option), ignores an empty one, and mounts with nfsvers= before the fs:mount_opts."""
    from pyvirt.storage import backends

    pool = PoolDef.from_xml(NFS.format("<format type='nfs'/><protocol ver='4.1'/>",
                                       "<fs:mount_opts xmlns:fs='http://libvirt.org/schemas/storagepool/fs/1.0'>"
                                       "<fs:option name='sync'/></fs:mount_opts>"))
    assert pool.source.protocol_ver == "4.1"
    assert "<protocol ver='4.1'/>" in pool.to_xml()
    assert PoolDef.from_xml(pool.to_xml()) == pool
    with pytest.raises(XMLError, match="protocol ver '4,1' must not contain ','"):
        PoolDef.from_xml(NFS.format("<protocol ver='4,1'/>", ""))
    assert PoolDef.from_xml(NFS.format("<protocol ver=''/>", "")).source.protocol_ver is None
    with pytest.raises(XMLError, match="protocol ver unsupported for pool type 'cifs'"):
        PoolDef.from_xml(NFS.format("<format type='cifs'/><protocol ver='3'/>", ""))

    ran: list[list[str]] = []
    monkeypatch.setattr(backends, "_run", lambda argv, what: ran.append(argv))
    monkeypatch.setattr(backends, "_need", lambda name, why: name)
    monkeypatch.setattr(backends.os.path, "isdir", lambda p: True)
    monkeypatch.setattr(backends.os.path, "ismount", lambda p: False)
    backends.NetfsBackend().start(pool)
    assert ran == [["mount", "-t", "nfs", "-o", "nfsvers=4.1,sync", "--", "h:/e", "/mnt"]]


def test_fs_pool_with_two_devices_defines_and_is_refused_at_start(monkeypatch):
    """libvirt defines an fs pool whatever its device count (checked with real virsh) and
    refuses to mount one without exactly one device; so does pyvirt, before running mount."""
    from pyvirt.api import PyvirtError
    from pyvirt.storage import backends

    pool = PoolDef.from_xml("<pool type='fs'><name>p</name><source><device path='/dev/vdb1'/>"
                            "<device path='/dev/vdc1'/></source><target><path>/mnt/p</path></target></pool>")
    assert pool.to_xml().count("<device path=") == 2
    ran: list[list[str]] = []
    monkeypatch.setattr(backends, "_run", lambda argv, what: ran.append(argv))
    monkeypatch.setattr(backends, "_need", lambda name, why: name)
    monkeypatch.setattr(backends.os.path, "isdir", lambda p: True)
    monkeypatch.setattr(backends.os.path, "ismount", lambda p: False)
    with pytest.raises(PyvirtError, match="expected exactly 1 device for the storage pool"):
        backends.FsBackend().start(pool)
    assert ran == []


def test_relative_target_in_a_stored_pool_file_is_skipped_at_load(tmp_path, caplog):
    """A pool file written by hand (or by another libvirt) with a relative target path is not
    loaded by pyvirtd either: it would build and list volumes relative to the daemon's working
    directory.  (The parser took it since the test driver keeps it; the load did not refuse it.)"""
    from pyvirt.storage.driver import StorageDriver

    folder = tmp_path / "etc" / "storage"
    folder.mkdir(parents=True)
    (folder / "p.xml").write_text(DIR.replace("/x", "relative").format(""))
    drv = StorageDriver(tmp_path / "etc", tmp_path / "run", tmp_path / "images")
    assert [p.name for p in drv.list_pools() if p.name == "p"] == []
    assert "storage pool target path 'relative' must be absolute" in caplog.text
