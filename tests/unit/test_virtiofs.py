"""virtiofs as libvirt 9.0 reads, checks and runs it: ``<binary>`` and its children become
virtiofsd's options (qemuVirtioFSBuildCommandLine's order), ``<source socket>`` is a virtiofsd
the user runs (no helper, QEMU on that socket), QEMU's queue size only when given, libvirt's
refusals in its words; ``<binary>`` of another driver and a socket share's access mode are not
kept (checked with real libvirt 9.0: define + dumpxml, domxml-to-native)."""

from __future__ import annotations

import json

import pytest

from pyvirt.api import PyvirtError
from pyvirt.daemon import virtiofs
from pyvirt.qemu.argv import build_argv
from pyvirt.xml import fill_defaults, parse_domain
from pyvirt.xml.errors import XMLConfigError

BASE = """<domain type='qemu'><name>g</name><memory unit='MiB'>256</memory><vcpu>1</vcpu>
<memoryBacking><source type='memfd'/><access mode='shared'/></memoryBacking>
<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>{fs}</devices></domain>"""


def _dom(fs: str):
    return fill_defaults(parse_domain(BASE.format(fs=fs)))


def _fs(inner: str, attrs: str = "") -> str:
    return f"<filesystem type='mount' {attrs}>{inner}<target dir='tag'/></filesystem>"


FULL = _fs("<driver type='virtiofs'/><binary path='/usr/lib/qemu/virtiofsd' xattr='off'><cache mode='none'/>"
           "<sandbox mode='chroot'/><lock posix='on' flock='off'/><thread_pool size='4'/></binary>"
           "<source dir='/srv/a,b'/>")


def test_binary_children_become_virtiofsd_options_in_libvirts_order() -> None:
    (fs,) = _dom(FULL).devices.filesystems
    assert virtiofs.command_line(fs, "/usr/lib/qemu/virtiofsd", 7) == [
        "/usr/lib/qemu/virtiofsd", "--fd=7", "-o",
        "source=/srv/a,,b,cache=none,sandbox=chroot,no_xattr,no_flock,posix_lock", "--thread-pool-size=4"]
    plain = _dom(_fs("<driver type='virtiofs'/><source dir='/srv'/>")).devices.filesystems[0]
    assert virtiofs.command_line(plain, "v", 3) == ["v", "--fd=3", "-o", "source=/srv"]


def test_round_trip_keeps_the_binary_element() -> None:
    xml = _dom(FULL).to_xml(inactive=True)
    assert ("<binary path='/usr/lib/qemu/virtiofsd' xattr='off'>\n        <cache mode='none'/>\n"
            "        <sandbox mode='chroot'/>\n        <lock posix='on' flock='off'/>\n"
            "        <thread_pool size='4'/>\n      </binary>") in xml
    assert fill_defaults(parse_domain(xml)).to_xml(inactive=True) == xml


def _device(argv: list[str]) -> dict:
    return next(json.loads(argv[i + 1]) for i, a in enumerate(argv) if a == "-device" and "vhost-user-fs" in argv[i + 1])


def test_a_users_socket_is_used_as_is_and_queue_size_only_when_given() -> None:
    dom = _dom(_fs("<driver type='virtiofs'/><source socket='/run/my.sock'/>"))
    argv = build_argv(dom)
    assert "socket,id=chr-vu-fs0,path=/run/my.sock" in argv
    assert "queue-size" not in _device(argv)
    assert virtiofs.managed(dom) == []  # pyvirtd starts nothing for it
    assert "accessmode" not in dom.to_xml()  # libvirt writes no access mode for a socket share
    assert _device(build_argv(_dom(_fs("<driver type='virtiofs' queue='512'/><source dir='/s'/>"))))["queue-size"] == 512


def test_binary_of_a_9p_share_is_dropped_as_libvirt_drops_it() -> None:
    xml = _dom(_fs("<driver type='path'/><binary xattr='on'/><source dir='/s'/>")).to_xml()
    assert "binary" not in xml and "accessmode='passthrough'" in xml


@pytest.mark.parametrize(("fs", "words"), [
    (_fs("<driver type='virtiofs'/><source dir='/s'/>", "accessmode='mapped'"),
     "virtiofs only supports passthrough accessmode"),
    (_fs("<driver type='virtiofs' wrpolicy='immediate'/><source dir='/s'/>"), "virtiofs does not support wrpolicy"),
    (_fs("<driver type='virtiofs'/><source dir='/s'/><readonly/>"), "virtiofs does not yet support read-only mode"),
])
def test_virtiofs_refusals_in_libvirts_words(fs: str, words: str) -> None:
    with pytest.raises(XMLConfigError, match=words):
        _dom(fs)


def test_session_daemon_refuses_a_share_it_would_serve() -> None:
    with pytest.raises(PyvirtError, match="virtiofs is not yet supported in session mode"):
        virtiofs.check(_dom(FULL), privileged=False)
    virtiofs.check(_dom(FULL), privileged=True)
    virtiofs.check(_dom(_fs("<driver type='virtiofs'/><source socket='/s'/>")), privileged=False)
