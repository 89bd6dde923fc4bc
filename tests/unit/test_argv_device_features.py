"""Device features libvirt's qemuxml2argv suite exercises beyond the basics: external TPMs and
persistent TPM state, virtio options on a virtio GPU.  Each asserts libvirt 9.0's behaviour
(parse, validation naming the element, dumpxml round trip, argv)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pyvirt.daemon.firmware import tpm_state_dir
from pyvirt.qemu.argv import build_argv
from pyvirt.qemu.argv_common import RuntimePaths
from pyvirt.xml import XMLError, fill_defaults, parse_domain

BASE = """<domain type='qemu'><name>g</name><uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid>
<memory unit='MiB'>256</memory><vcpu>1</vcpu>
<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>{devices}</devices></domain>"""


def _dom(devices: str):
    return fill_defaults(parse_domain(BASE.format(devices=devices)))


def _argv(devices: str, runtime: RuntimePaths | None = None) -> list[str]:
    return build_argv(_dom(devices), runtime=runtime)


def _values(argv: list[str], opt: str) -> list[str]:
    return [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == opt]


EXTERNAL = "<tpm model='tpm-crb'><backend type='external'><source type='unix' path='/run/tpm.sock'/></backend></tpm>"


def test_external_tpm_connects_qemu_to_the_given_socket() -> None:
    argv = _argv(EXTERNAL)
    assert "socket,id=chrtpm,path=/run/tpm.sock" in _values(argv, "-chardev")
    assert _values(argv, "-tpmdev") == ["emulator,id=tpm-tpm0,chardev=chrtpm"]
    tpm = next(json.loads(d) for d in _values(argv, "-device") if "tpmdev" in d)
    assert tpm == {"driver": "tpm-crb", "tpmdev": "tpm-tpm0", "id": "tpm0"}


def test_external_tpm_round_trips_with_libvirts_connect_mode() -> None:
    xml = _dom(EXTERNAL).to_xml(inactive=True)
    assert "<source type='unix' mode='connect' path='/run/tpm.sock'/>" in xml


def test_external_socket_path_is_escaped_in_the_one_place() -> None:
    argv = _argv(EXTERNAL.replace("/run/tpm.sock", "/run/a,b.sock"))
    assert "socket,id=chrtpm,path=/run/a,,b.sock" in _values(argv, "-chardev")


@pytest.mark.parametrize("backend, message", [
    ("<backend type='external'><source path='/s'/></backend>", "source type"),
    ("<backend type='external'><source type='unix'/></backend>", "socket path"),
    ("<backend type='external'><source type='tcp' path='/s'/></backend>", "tcp"),
    ("<backend type='emulator'><source type='unix' path='/s'/></backend>", "<tpm><backend><source>"),
    ("<backend type='external' persistent_state='yes'><source type='unix' path='/s'/></backend>",
     "persistent_state"),
])
def test_bad_tpm_backends_are_refused_naming_the_element(backend: str, message: str) -> None:
    with pytest.raises(XMLError, match=message):
        _dom(f"<tpm model='tpm-tis'>{backend}</tpm>")


def test_persistent_state_is_kept_on_undefine_unless_forced(tmp_path: Path) -> None:
    dom = _dom("<tpm><backend type='emulator' version='2.0' persistent_state='yes'/></tpm>")
    assert "persistent_state='yes'" in dom.to_xml(inactive=True)
    assert tpm_state_dir(dom, tmp_path) is None
    assert tpm_state_dir(dom, tmp_path, force=True) == tmp_path / dom.uuid
    plain = _dom("<tpm><backend type='emulator' version='2.0'/></tpm>")
    assert tpm_state_dir(plain, tmp_path) == tmp_path / plain.uuid


def test_emulated_tpm_socket_is_libvirts_mock_only_in_test_mode() -> None:
    tpm = "<tpm><backend type='emulator' version='2.0'/></tpm>"
    assert "socket,id=chrtpm,path=/dev/test" in _values(_argv(tpm), "-chardev")
    rt = RuntimePaths(domain_dir="/run/pyvirt/g")
    assert "socket,id=chrtpm,path=/run/pyvirt/g/tpm0-swtpm.sock" in _values(_argv(tpm, rt), "-chardev")


def test_virtio_gpu_takes_virtio_options() -> None:
    argv = _argv("<video><driver iommu='on' ats='off' packed='on'/><model type='virtio' heads='1'/></video>")
    gpu = next(json.loads(d) for d in _values(argv, "-device") if "virtio-vga" in d)
    assert (gpu["iommu_platform"], gpu["ats"], gpu["packed"]) == (True, False, True)


def test_virtio_gpu_options_round_trip_before_the_model() -> None:
    xml = _dom("<video><driver iommu='on' ats='off'/><model type='virtio' heads='1'/></video>").to_xml()
    assert "<driver iommu='on' ats='off'/>\n      <model type='virtio'" in xml


def test_virtio_options_on_a_non_virtio_video_are_refused() -> None:
    with pytest.raises(XMLError, match="non-virtio video"):
        _argv("<video><driver iommu='on'/><model type='vga'/></video>")
