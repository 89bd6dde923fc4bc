"""Device aliases as libvirt 9.0 reads a definition (virDomainDeviceInfoParseXML with an inactive
parse): only a user alias (``ua-`` and USER_ALIAS_CHARS) is part of the configuration; any other
alias (copied from a live XML, or not even a valid name) is read past, and the device gets the
alias assigned at start.  Checked against a session libvirtd 9.0 (define + dumpxml --inactive,
domxml-to-native) and ``virsh -c test:///default`` first."""

from __future__ import annotations

import json

import pytest

from pyvirt.daemon.hotplug import with_device
from pyvirt.qemu.argv import build_argv
from pyvirt.xml import fill_defaults, parse_domain
from pyvirt.xml.domain import is_user_alias
from pyvirt.xml.safe import safe_parse

DOM = """<domain type='qemu'><name>g</name><memory>65536</memory>
<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>
<disk type='file' device='disk'><source file='/tmp/a.img'/><target dev='vda' bus='virtio'/>{alias}</disk>
<memballoon model='none'/></devices></domain>"""


def _disk_id(argv: list[str]) -> str:
    devices = [json.loads(v) for k, v in zip(argv, argv[1:], strict=False) if k == "-device" and v.startswith("{")]
    return next(d["id"] for d in devices if d["driver"] == "virtio-blk-pci")


@pytest.mark.parametrize(("name", "kept"), [
    ("ua-disk_1-x", True), ("ua-", True),
    ("net0", False), ("virtio-disk0", False), ("", False), ("a b", False), ("ua-x.y", False), ("ua-x:y", False),
])
def test_a_definition_keeps_user_aliases_only(name: str, kept: bool) -> None:
    assert is_user_alias(name) is kept
    dom = fill_defaults(parse_domain(DOM.format(alias=f"<alias name='{name}'/>")))
    assert (dom.devices.disks[0].alias == name) is kept
    assert (f"<alias name='{name}'/>" in dom.to_xml(inactive=True)) is kept
    # the command line uses the user's alias, or the one libvirt assigns (not the dropped one)
    assert _disk_id(build_argv(dom)) == (name if kept else "virtio-disk0")


def test_a_running_guests_document_keeps_its_aliases() -> None:
    dom = fill_defaults(parse_domain(DOM.format(alias="<alias name='virtio-disk0'/>")), live=True)
    assert dom.devices.disks[0].alias == "virtio-disk0"


def test_a_device_attached_live_gets_no_alias_but_a_user_one() -> None:
    live = fill_defaults(parse_domain(DOM.format(alias="<alias name='virtio-disk0'/>")), live=True)
    for given, want in (("mine", None), ("ua-mine", "ua-mine")):
        el = safe_parse(f"<disk type='file' device='disk'><source file='/tmp/b.img'/>"
                        f"<target dev='vdb' bus='virtio'/><alias name='{given}'/></disk>")
        added = next(d for d in with_device(live, el, inactive=False).devices.disks if d.target_dev == "vdb")
        assert added.alias == want
