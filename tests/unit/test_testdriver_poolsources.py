"""The test driver's source-conflict rule (virStoragePoolObjSourceFindDuplicate), per pool type."""

from __future__ import annotations

from lxml import etree

from pyvirt.testdriver.poolsources import conflicting


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
