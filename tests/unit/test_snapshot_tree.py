"""The snapshot tree both drivers share: parents, current, deletion, redefinition, disk alignment."""

from __future__ import annotations

import pytest

from pyvirt.api import PyvirtError
from pyvirt.snapshot_tree import GuestDisk, SnapshotSet, align_disks
from pyvirt.xml.snapshot import SnapshotDef, parse_snapshot


def _tree() -> SnapshotSet:
    snaps = SnapshotSet()
    for name in ("a", "b", "c"):
        snaps.add(SnapshotDef(name=name, state="running", creation_time=1))
    snaps.current = "a"
    snaps.add(SnapshotDef(name="d", state="running", creation_time=1))
    return snaps  # a -> b -> c, a -> d (current)


def test_new_snapshots_hang_under_current_and_list_parents_first() -> None:
    snaps = _tree()
    assert [(r.name, r.parent) for r in snaps.records()] == [("a", ""), ("d", "a"), ("b", "a"), ("c", "b")]
    assert snaps.current == "d"
    with pytest.raises(PyvirtError, match="domain moment a already exists"):
        snaps.add(SnapshotDef(name="a"))


def test_delete_moves_children_up_and_hands_current_over() -> None:
    snaps = _tree()
    snaps.remove("b")
    assert snaps.get("c").parent == "a"
    snaps.current = "c"
    assert [s.name for s in snaps.remove("a", children_only=True)] == ["c", "d"]
    assert snaps.current == "a" and list(snaps.snaps) == ["a"]
    snaps.remove("a")
    assert snaps.current is None and not snaps


def test_redefine_checks_parent_and_cycles() -> None:
    snaps = _tree()
    with pytest.raises(PyvirtError, match="parent zz for moment a not found"):
        snaps.add(SnapshotDef(name="a", parent="zz"), redefine=True)
    with pytest.raises(PyvirtError, match="would create cycle"):
        snaps.add(SnapshotDef(name="a", parent="c"), redefine=True)


def test_align_disks_fills_every_guest_disk_and_names_external_images() -> None:
    disks = [GuestDisk("vda", "/img/root.qcow2", regular_file=True), GuestDisk("hdc", None),
             GuestDisk("vdb", "/img/data", "no")]
    snap = parse_snapshot("<domainsnapshot><name>s</name><disks><disk name='/img/root.qcow2' "
                          "snapshot='external'/></disks></domainsnapshot>", creation_time=1)
    align_disks(snap, disks, "internal", False)
    assert [(d.name, d.snapshot, d.path) for d in snap.disks] == [
        ("vda", "external", "/img/root.s"), ("hdc", "no", None), ("vdb", "no", None)]
    bad = parse_snapshot("<domainsnapshot><disks><disk name='vdz'/></disks></domainsnapshot>", creation_time=1)
    with pytest.raises(PyvirtError, match="no disk named 'vdz'"):
        align_disks(bad, disks, "internal", True)
    mixed = parse_snapshot("<domainsnapshot><disks><disk name='vda' snapshot='external'/></disks>"
                           "</domainsnapshot>", creation_time=1)
    with pytest.raises(PyvirtError, match="must use snapshot mode 'internal'"):
        align_disks(mixed, disks, "internal", True)


def test_default_overlay_replaces_the_suffix_only_in_the_file_name() -> None:
    from pyvirt.snapshot_tree import default_overlay

    assert default_overlay("/v/disk.qcow2", "s1") == "/v/disk.s1"
    assert default_overlay("/v.d/disk", "1764500000") == "/v.d/disk.1764500000"
    assert default_overlay("/v/disk.s1", "r") == "/v/disk.r"
