"""vol-create and vol-create-from on the test driver, as libvirt's testStorageVolCreateXML(From):
the document read for the pool's type with its capacity required, path and key set to the
pool's target path and the volume's name, a unique name, the copy's source looked up in the
same pool, the pool's allocation grown; virsh's vol-create-from looks its source up in
--inputpool only."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pyvirt.api import ErrorCode, PyvirtError
from pyvirt.testdriver import open_test_connection

NODE = """<node>
<pool type='dir'><name>fp</name><target><path>/img</path></target>
<volume><name>base</name><capacity>4096</capacity></volume></pool>
<pool type='disk'><name>dp</name><source><device path='/dev/sdz'/></source><target><path>/dev</path></target></pool>
<pool type='gluster'><name>gp</name><source><name>v</name><host name='h'/></source></pool>
</node>
"""
VOL = "<volume><name>{name}</name><capacity>{cap}</capacity>{extra}</volume>"


@pytest.fixture
def conn(tmp_path: Path):  # type: ignore[no-untyped-def]
    node = tmp_path / "node.xml"
    node.write_text(NODE)
    c = open_test_connection(f"test://{node}")
    yield c
    c.close()


def test_path_and_key_are_the_pools_and_the_format_the_pools_default(conn) -> None:  # type: ignore[no-untyped-def]
    info = conn.create_volume_xml("fp", VOL.format(name="a.img", cap=1024, extra="<target><path>/else/where</path>"
                                                   "</target>"))
    assert info.path == "/img/a.img"
    xml = conn.get_volume_xml("fp", "a.img")
    assert "<key>/img/a.img</key>" in xml and "<path>/img/a.img</path>" in xml and "<format type='raw'/>" in xml
    assert conn.lookup_pool("fp").allocation == 4096 + 1024
    conn.create_volume_xml("dp", VOL.format(name="sdz1", cap=1024, extra=""))
    assert "<format type='none'/>" in conn.get_volume_xml("dp", "sdz1")
    conn.create_volume_xml("gp", VOL.format(name="g", cap=1, extra=""))
    assert "<key>(null)/g</key>" in conn.get_volume_xml("gp", "g")  # a pool without a target path


def test_refusals(conn) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PyvirtError, match="missing capacity element") as err:
        conn.create_volume_xml("fp", "<volume><name>n</name></volume>")
    assert err.value.code == ErrorCode.XML_ERROR
    with pytest.raises(PyvirtError, match="unknown volume format type qcow2"):
        conn.create_volume_xml("dp", VOL.format(name="p", cap=1, extra="<target><format type='qcow2'/></target>"))
    with pytest.raises(PyvirtError, match="storage vol already exists"):
        conn.create_volume_xml("fp", VOL.format(name="base", cap=1, extra=""))
    with pytest.raises(PyvirtError, match="Not enough free space in pool for volume 'big'"):
        conn.create_volume_xml("fp", VOL.format(name="big", cap=1 << 50, extra=""))
    with pytest.raises(PyvirtError) as err:
        conn.create_volume_xml("dp", VOL.format(name="copy", cap=1, extra=""), from_pool="fp", from_vol="base")
    assert err.value.code == ErrorCode.NO_STORAGE_VOL  # the source is looked up in the pool copied into
    assert [v.name for v in conn.list_volumes("fp")] == ["base"]


def test_vol_create_from_looks_in_inputpool_only(tmp_path: Path) -> None:
    node = tmp_path / "node.xml"
    node.write_text(NODE)
    doc = tmp_path / "v.xml"
    doc.write_text(VOL.format(name="copy", cap=1024, extra=""))

    def virsh(line: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "pyvirt.cli.main", "-c", f"test://{node}", line],
                              capture_output=True, text=True)

    run = virsh(f"vol-create-from fp {doc} base")  # not looked up in the pool copied into
    assert run.returncode == 1
    assert "failed to get vol 'base', specifying --inputpool might help" in run.stderr
    run = virsh(f"vol-create-from fp {doc} --inputpool fp base; vol-key --pool fp copy")
    assert run.returncode == 0, run.stderr
    assert "/img/copy" in run.stdout


def test_prealloc_metadata_is_refused_as_an_unsupported_flag_not_dropped(conn) -> None:  # type: ignore[no-untyped-def]
    # libvirt 9.0's test driver: virCheckFlags(0) in testStorageVolCreateXML(From)
    for call, function in ((lambda: conn.create_volume_xml("fp", VOL.format(name="n", cap=1, extra=""),
                                                            prealloc_metadata=True), "testStorageVolCreateXML"),
                           (lambda: conn.create_volume("fp", "n", 1, prealloc_metadata=True), "testStorageVolCreateXML"),
                           (lambda: conn.create_volume_xml("fp", VOL.format(name="n", cap=1, extra=""),
                                                           prealloc_metadata=True, from_pool="fp", from_vol="base"),
                            "testStorageVolCreateXMLFrom")):
        with pytest.raises(PyvirtError, match=rf"^unsupported flags \(0x1\) in function {function}$"):
            call()
    assert [v.name for v in conn.list_volumes("fp")] == ["base"]
