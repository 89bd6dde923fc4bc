"""A volume's format depends on the pool it belongs to (libvirt's per-pool-type volume options):
file pools default to raw, disk pools to 'none' and take partition types only, and the volumes
of logical/iSCSI/SCSI/mpath/zfs pools have no format at all, read or written."""

from __future__ import annotations

import pytest

from pyvirt.xml.errors import XMLConfigError
from pyvirt.xml.volume import VolumeDef, format_fits_pool

DOC = "<volume><name>v</name><capacity>1024</capacity>{target}</volume>"


def _fmt(pool_type: str | None, given: str | None = None) -> str | None:
    target = f"<target><format type='{given}'/></target>" if given else ""
    return VolumeDef.from_xml(DOC.format(target=target), pool_type=pool_type).format


@pytest.mark.parametrize(("pool_type", "default"), [("dir", "raw"), ("netfs", "raw"), ("gluster", "raw"),
                                                    ("rbd", "raw"), ("vstorage", "raw"), ("disk", "none")])
def test_default_format_is_the_pools(pool_type: str, default: str) -> None:
    assert _fmt(pool_type) == default


@pytest.mark.parametrize("pool_type", ["logical", "iscsi", "iscsi-direct", "scsi", "mpath", "zfs"])
def test_pools_without_volume_formats_read_and_write_none(pool_type: str) -> None:
    assert _fmt(pool_type) is None
    assert _fmt(pool_type, "qcow2") is None  # ignored, as libvirt ignores it
    text = VolumeDef.from_xml(DOC.format(target="<target><format type='raw'/></target>"), pool_type).to_xml()
    assert "<format" not in text and "<volume type='file'>" in text


@pytest.mark.parametrize(("pool_type", "bad"), [("disk", "qcow2"), ("dir", "linux-swap"), ("gluster", "extended")])
def test_a_format_of_the_other_vocabulary_is_refused_in_libvirts_words(pool_type: str, bad: str) -> None:
    with pytest.raises(XMLConfigError, match=f"unknown volume format type {bad}"):
        _fmt(pool_type, bad)
    assert not format_fits_pool(bad, pool_type)


def test_without_a_pool_a_file_volume_is_raw_and_either_vocabulary_reads() -> None:
    assert _fmt(None) == "raw"
    assert _fmt(None, "linux") == "linux" and _fmt(None, "qcow2") == "qcow2"
    block = VolumeDef.from_xml("<volume type='block'><name>b</name><capacity>1</capacity></volume>")
    assert block.format is None
    assert VolumeDef.from_xml("<volume type='block'><name>b</name><capacity>1</capacity></volume>",
                              pool_type="dir").format == "raw"  # the pool's default, whatever the type


def test_none_is_no_image_format_of_a_file_pool() -> None:
    with pytest.raises(XMLConfigError, match="unknown volume format type none"):
        _fmt("dir", "none")
    assert _fmt("disk", "none") == "none"


def test_backing_store_format_follows_the_same_pool_rules() -> None:
    def backing(pool_type: str, given: str = "") -> str | None:
        fmt = f"<format type='{given}'/>" if given else ""
        vol = VolumeDef.from_xml(DOC.format(target="").replace(
            "</volume>", f"<backingStore><path>/b</path>{fmt}</backingStore></volume>"), pool_type=pool_type)
        assert vol.backing is not None
        return vol.backing.format
    assert backing("dir") == "raw" and backing("disk") == "none" and backing("logical", "raw") is None
    assert backing("dir", "qcow2") == "qcow2"
    with pytest.raises(XMLConfigError, match="unknown volume format type raw"):
        backing("disk", "raw")


def test_target_is_always_written_as_libvirt_does() -> None:
    """virStorageVolTargetDefFormat writes <target> even with nothing in it (a volume of a
    format-less pool without a path), open and closed, before <backingStore>; a request
    document (vol-create-as --print-xml) still has none."""
    vol = VolumeDef.from_xml("<volume><name>v</name><capacity>1</capacity><backingStore><path>/b</path>"
                             "</backingStore></volume>", pool_type="logical")
    text = vol.to_xml()
    assert "  <target>\n  </target>\n  <backingStore>\n" in text
    assert "<target" not in VolumeDef(name="v", capacity=1).to_request_xml()
