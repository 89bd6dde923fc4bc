"""``<shmem>`` (libvirt 9.0's qemuDomainShmemDefPostParse and qemuBuildShmemCommandLine)."""

from __future__ import annotations

import json

import pytest

from pyvirt.qemu.argv import build_argv
from pyvirt.xml import fill_defaults, parse_domain
from pyvirt.xml.errors import XMLError

XML = ("<domain type='qemu'><name>g</name><memory>65536</memory><os><type arch='x86_64' machine='pc'>hvm"
       "</type></os><devices>{}</devices></domain>")


def _json(argv: list[str], opt: str) -> list[dict]:
    return [json.loads(argv[i + 1]) for i, a in enumerate(argv[:-1]) if a == opt and argv[i + 1].startswith("{")]


def test_plain_is_a_shared_file_backend_4mib_by_default() -> None:
    dom = fill_defaults(parse_domain(XML.format("<shmem name='ring'><model type='ivshmem-plain'/></shmem>")))
    assert (dom.devices.shmems[0].size, dom.devices.shmems[0].size_unit) == (4, "M")
    argv = build_argv(dom)
    backend = next(o for o in _json(argv, "-object") if o["id"] == "shmmem-shmem0")
    assert backend == {"qom-type": "memory-backend-file", "id": "shmmem-shmem0", "mem-path": "/dev/shm/ring",
                       "size": 4 << 20, "share": True}
    dev = next(d for d in _json(argv, "-device") if d["driver"] == "ivshmem-plain")
    assert dev["memdev"] == "shmmem-shmem0" and dev["bus"] == "pci.0"


def test_doorbell_uses_the_server_socket_with_msi() -> None:
    argv = build_argv(fill_defaults(parse_domain(XML.format(
        "<shmem name='bell'><model type='ivshmem-doorbell'/><server/><msi vectors='8'/></shmem>"))))
    dev = next(d for d in _json(argv, "-device") if d["driver"] == "ivshmem-doorbell")
    assert (dev["chardev"], dev["vectors"], dev["ioeventfd"]) == ("charshmem0", 8, True)
    assert "socket,id=charshmem0,path=/var/lib/libvirt/shmem-bell-sock" in argv


def test_a_bare_server_stays_bare_at_define_and_gets_libvirts_socket_at_start() -> None:
    dom = fill_defaults(parse_domain(XML.format(
        "<shmem name='bell'><model type='ivshmem-doorbell'/><server/></shmem>"
        "<shmem name='own'><model type='ivshmem-doorbell'/><server path='/tmp/own-sock'/></shmem>")))
    assert "<server/>" in dom.to_xml(inactive=True) and "/var/lib/libvirt" not in dom.to_xml(inactive=True)
    argv = build_argv(dom)
    assert "socket,id=charshmem0,path=/var/lib/libvirt/shmem-bell-sock" in argv
    assert "socket,id=charshmem1,path=/tmp/own-sock" in argv


@pytest.mark.parametrize("shmem, message", [
    ("<shmem name='a'><model type='ivshmem-plain'/><size unit='K'>512</size></shmem>", "at least 1 MiB"),
    ("<shmem name='a'><model type='ivshmem-plain'/><size unit='M'>3</size></shmem>", "power of two"),
    ("<shmem name='a'><model type='ivshmem-doorbell'/></shmem>", "only with server"),
    ("<shmem name='a'/>", "not supported with this QEMU"),
])
def test_rules(shmem: str, message: str) -> None:
    with pytest.raises(XMLError, match=message):
        build_argv(fill_defaults(parse_domain(XML.format(shmem))))
