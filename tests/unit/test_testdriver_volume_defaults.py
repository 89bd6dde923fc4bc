"""Volumes of a test driver node file get what libvirt's test driver gives them when the file
leaves it out: the type (file) and the format their pool type takes by default (raw in file and
network pools, 'none' in disk pools, no format at all in logical pools)."""

from __future__ import annotations

from pathlib import Path

from pyvirt.testdriver import open_test_connection

NODE = """<node>
<pool type='disk'><name>dp</name><source><device path='/dev/sdz'/></source><target><path>/dev</path></target>
<volume><name>sdz1</name><capacity>1000</capacity></volume></pool>
<pool type='gluster'><name>gp</name><source><name>v</name><host name='h'/></source>
<volume><name>g1</name><capacity>1000</capacity></volume></pool>
<pool type='logical'><name>lp</name><source><name>vg</name></source><target><path>/dev/vg</path></target>
<volume><name>lv1</name><capacity>1000</capacity></volume></pool>
<pool type='dir'><name>fp</name><target><path>/img</path></target>
<volume type='block'><name>b</name><capacity>1000</capacity><target><format type='qcow2'/></target></volume></pool>
</node>
"""


def test_node_file_volumes_get_their_pools_default_format(tmp_path: Path) -> None:
    node = tmp_path / "node.xml"
    node.write_text(NODE)
    conn = open_test_connection(f"test://{node}")
    try:
        xml = {name: conn.get_volume_xml(pool, name) for pool, name in
               (("dp", "sdz1"), ("gp", "g1"), ("lp", "lv1"), ("fp", "b"))}
    finally:
        conn.close()
    assert "<format type='none'/>" in xml["sdz1"]
    assert "<format type='raw'/>" in xml["g1"]
    assert "<format" not in xml["lv1"]
    assert "<format type='qcow2'/>" in xml["b"]  # a given format stays
    assert all(x.startswith("<volume type='file'>") for n, x in xml.items() if n != "b")
    assert xml["b"].startswith("<volume type='block'>")
