"""Oracle test for pool documents of every libvirt pool type: the same pool XML (written here)
defined and dumped through the real virsh and through pyvirt on test:///default, compared on
stdout and exit status; invalid documents must be refused by both.  Nothing of virsh's output
is written down: the real libvirt 9.0 parser/formatter is the expected side."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

VIRSH = shutil.which("virsh")
pytestmark = pytest.mark.skipif(VIRSH is None, reason="virsh (libvirt-clients) not installed")
PYVIRT = [sys.executable, "-m", "pyvirt.cli.main"]
RBD_NS = "xmlns:rbd='http://libvirt.org/schemas/storagepool/rbd/1.0'"
FS_NS = "xmlns:fs='http://libvirt.org/schemas/storagepool/fs/1.0'"

#: name -> (pool type, body); each document is this test's own, one per rule of the format
VALID = {
    "dir-cow": ("dir", "<features><cow state='no'/></features><target><path>/var/x//y/</path>"
                       "<permissions><label>lbl</label><mode>755</mode></permissions></target>"),
    "fs-fmt": ("fs", "<source><device path='/dev/sdc1'/><format type='xfs'/></source>"
                     "<target><path>/mnt/a</path></target>"),
    "netfs-opts": ("netfs", "<source><dir path='/exp/'/><host name='nfs.example' port='2049'/>"
                            "<protocol ver='4'/></source><target><path>/mnt/n</path></target>"
                            "<fs:mount_opts><fs:option name='ro'/></fs:mount_opts>"),
    "logical-dev": ("logical", "<source><device path='/dev/sdb'/><device path='/dev/sdc'/>"
                               "<name>vg0</name></source>"),
    "disk-gpt": ("disk", "<source><device path='/dev/sdd' part_separator='yes'/><format type='gpt'/>"
                         "</source><target><path>/dev/</path></target>"),
    "disk-default": ("disk", "<source><device path='/dev/sde'/></source><target><path>/dev</path></target>"),
    "iscsi-init": ("iscsi", "<source><initiator><iqn name='iqn.2020-01.x:y'/></initiator>"
                            "<device path='iqn.2020-01.t:z'/><host name='10.0.0.1' port='3260'/>"
                            "<auth type='chap' username='u'><secret usage='libvirtiscsi'/></auth>"
                            "<vendor name='V'/><product name='P'/></source>"
                            "<target><path>/dev/disk/by-path</path><permissions><owner>107</owner>"
                            "</permissions></target>"),
    "iscsi-direct": ("iscsi-direct", "<source><host name='t.example'/><device path='iqn.x:t'/>"
                                     "<initiator><iqn name='iqn.x:i'/></initiator></source>"
                                     "<target><path>/ignored</path></target>"),
    "scsi-legacy": ("scsi", "<source><adapter name='host3'/></source><target><path>/dev/disk/by-id</path></target>"),
    "scsi-parent": ("scsi", "<source><adapter type='scsi_host'><parentaddr unique_id='7'>"
                            "<address domain='0x0001' bus='0x02' slot='0x03' function='0x4'/></parentaddr>"
                            "</adapter></source><target><path>/dev/disk/by-path</path></target>"),
    "scsi-fc": ("scsi", "<source><adapter type='fc_host' wwpn='10000000c9831b4b' parent_wwnn='20000000c9831b4c' "
                        "parent_wwpn='10000000c9831b4c' managed='no' wwnn='20000000c9831b4b'/></source>"
                        "<target><path>/dev/disk/by-path</path></target>"),
    "mpath": ("mpath", "<target><path>/dev/mapper</path></target>"),
    "rbd-ns": ("rbd", "<source><name>pool1</name><host name='mon' port='6789'/><host name='::1'/>"
                      "<auth username='admin' type='ceph'><secret uuid='2ec115d7-3a88-3ceb-bc12-0ac909a6fd87'/>"
                      "</auth></source><refresh><volume allocation='default'/></refresh>"
                      "<rbd:config_opts><rbd:option name='rados_osd_op_timeout' value='5'/></rbd:config_opts>"),
    "sheepdog": ("sheepdog", "<source><host name='localhost' port='7000'/></source>"),
    "gluster-root": ("gluster", "<source><host name='g1'/><name>gv0</name></source>"),
    "zfs": ("zfs", "<source><name>tank</name><device path='/dev/ada1'/></source>"),
    "vstorage": ("vstorage", "<source><name>cluster1</name></source><target><path>/mnt/vz</path></target>"),
}
INVALID = {
    "rbd-noname": ("rbd", "<source><host name='m'/></source>"),
    "iscsi-nohost": ("iscsi", "<source><device path='t'/></source><target><path>/dev</path></target>"),
    "direct-noiqn": ("iscsi-direct", "<source><host name='h'/><device path='t'/></source>"),
    "scsi-noadapter": ("scsi", "<source/><target><path>/dev</path></target>"),
    "fc-badwwn": ("scsi", "<source><adapter type='fc_host' wwnn='12' wwpn='10000000c9831b4b'/></source>"
                          "<target><path>/dev</path></target>"),
    "disk-nodev": ("disk", "<target><path>/dev</path></target>"),
    "disk-badfmt": ("disk", "<source><device path='/dev/sdb'/><format type='zip'/></source>"
                            "<target><path>/dev</path></target>"),
    "auth-notype": ("iscsi", "<source><host name='h'/><auth username='u'><secret usage='s'/></auth></source>"
                             "<target><path>/dev</path></target>"),
    "cow-logical": ("logical", "<features><cow state='yes'/></features><source><name>v</name></source>"),
}


def _doc(name: str, ptype: str, body: str) -> str:
    ns = f" {RBD_NS}" if "rbd:" in body else f" {FS_NS}" if "fs:" in body else ""
    return f"<pool type='{ptype}'{ns}><name>{name}</name>{body}</pool>\n"


def _run(tool: list[str], line: str) -> tuple[str, int]:
    proc = subprocess.run([*tool, "-c", "test:///default", line], capture_output=True, text=True, timeout=60)
    return proc.stdout, proc.returncode


@pytest.fixture(scope="module")
def docs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("pools")
    for name, (ptype, body) in {**VALID, **INVALID}.items():
        (root / f"{name}.xml").write_text(_doc(name, ptype, body))
    return root


@pytest.mark.parametrize("name", sorted(VALID))
def test_pool_dumpxml_same_as_libvirt(docs: Path, name: str) -> None:
    line = f"pool-define {docs / name}.xml; pool-dumpxml {name}"
    want = _run([VIRSH], line)
    assert want[1] == 0, want  # the document is valid libvirt
    uuid_free = [ln for ln in want[0].splitlines() if "<uuid>" not in ln]
    got = _run(PYVIRT, line)
    assert [ln for ln in got[0].splitlines() if "<uuid>" not in ln] == uuid_free and got[1] == 0


@pytest.mark.parametrize("name", sorted(INVALID))
def test_invalid_pool_refused_like_libvirt(docs: Path, name: str) -> None:
    line = f"pool-define {docs / name}.xml"
    assert _run([VIRSH], line)[1] != 0
    assert _run(PYVIRT, line)[1] != 0
