"""The test driver's source-conflict rule (virStoragePoolObjSourceFindDuplicate), per pool type."""

from __future__ import annotations

from lxml import etree

from pyvirt.xml.poolsources import conflicting


def _pool(name: str, kind: str, inner: str) -> etree._Element:
    return etree.fromstring(f"<pool type='{kind}'><name>{name}</name>{inner}</pool>")


def _clash(old: etree._Element, new: etree._Element) -> str | None:
    return conflicting([(old.findtext("name"), old)], new)


def test_directory_pools_clash_by_target_path_of_the_same_type() -> None:
    old = _pool("a", "dir", "<target><path>/p</path></target>")
    assert _clash(old, _pool("b", "dir", "<target><path>/p</path></target>")) == "a"
    assert _clash(old, _pool("b", "dir", "<target><path>/q</path></target>")) is None
    assert _clash(old, _pool("b", "fs", "<target><path>/p</path></target>")) is None
    assert _clash(old, _pool("a", "dir", "<target><path>/p</path></target>")) is None  # itself


def test_netfs_pools_clash_by_host_and_directory() -> None:
    src = "<source><host name='h'/><dir path='/e'/></source>"
    old = _pool("a", "netfs", src)
    assert _clash(old, _pool("b", "netfs", src)) == "a"
    assert _clash(old, _pool("b", "netfs", "<source><host name='g'/><dir path='/e'/></source>")) is None


def test_device_pools_clash_across_types_but_iscsi_only_with_iscsi() -> None:
    dev = "<source><device path='/dev/sdb'/></source>"
    assert _clash(_pool("a", "logical", dev), _pool("b", "fs", dev)) == "a"
    assert _clash(_pool("a", "logical", dev), _pool("b", "iscsi", dev)) is None
    iqn = "<source><device path='/dev/sdb'/><initiator><iqn name='{}'/></initiator></source>"
    assert _clash(_pool("a", "iscsi", iqn.format("x")), _pool("b", "iscsi", iqn.format("x"))) == "a"
    assert _clash(_pool("a", "iscsi", iqn.format("x")), _pool("b", "iscsi", iqn.format("y"))) is None


def test_pyvirtd_storage_driver_applies_the_same_rule(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Checked on libvirt 9.0 (pool-define-as on test:///default, the shared virstorageobj.c):
    two logical pools over one device clash whatever their targets; two netfs pools of other
    exports, or a dir and an fs pool, may share a target directory; '/d/' is the directory '/d'."""
    import pytest

    from pyvirt.api import PyvirtError
    from pyvirt.storage.driver import StorageDriver

    drv = StorageDriver(tmp_path / "etc", tmp_path / "run", tmp_path / "img")

    def define(name: str, kind: str, source: str, target: str) -> None:
        drv.define_pool(f"<pool type='{kind}'><name>{name}</name><source>{source}</source>"
                        f"<target><path>{target}</path></target></pool>")

    define("l1", "logical", "<device path='/dev/sdz'/>", "/dev/l1")
    with pytest.raises(PyvirtError, match="^operation failed: Storage source conflict with pool: 'l1'$"):
        define("l2", "logical", "<device path='/dev/sdz'/>", "/dev/l2")
    define("n1", "netfs", "<host name='h'/><dir path='/a'/>", "/mnt/x")
    define("n2", "netfs", "<host name='h2'/><dir path='/b'/>", "/mnt/x")
    define("d1", "dir", "", str(tmp_path / "d"))
    with pytest.raises(PyvirtError, match="Storage source conflict with pool: 'd1'"):
        define("d2", "dir", "", f"{tmp_path}/d/")
    define("f1", "fs", "<device path='/dev/sdy'/>", str(tmp_path / "d"))
    assert sorted(p.name for p in drv.list_pools()) == ["d1", "f1", "l1", "n1", "n2"]

