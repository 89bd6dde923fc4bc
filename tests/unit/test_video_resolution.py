"""``<video><model><resolution x y/>`` (found on libvirt's unseen m..z inputs: video-qxl-resolution):
QEMU's ``xres``/``yres`` on VGA, QXL, virtio and bochs displays, as libvirt 9.0's domxml-to-native
writes them; kept after ``<acceleration>`` in the XML; libvirt's refusals."""

from __future__ import annotations

import json

import pytest

from pyvirt.qemu.argv import build_argv
from pyvirt.xml import fill_defaults, parse_domain
from pyvirt.xml.errors import XMLConfigError, XMLError

DOC = """<domain type='qemu'><name>g</name><memory unit='MiB'>128</memory><vcpu>1</vcpu>
<os><type arch='x86_64' machine='pc'>hvm</type></os><devices><graphics type='vnc'/>
<video><model type='{t}' heads='1' primary='yes'>{res}</model></video></devices></domain>"""


@pytest.mark.parametrize("model", ["vga", "qxl", "virtio", "bochs"])
def test_resolution_becomes_xres_yres(model: str) -> None:
    dom = fill_defaults(parse_domain(DOC.format(t=model, res="<resolution x='1280' y='720'/>")))
    argv = build_argv(dom)
    (video,) = [json.loads(argv[i + 1]) for i, a in enumerate(argv) if a == "-device" and '"video0"' in argv[i + 1]]
    assert (video["xres"], video["yres"]) == (1280, 720)
    assert list(video)[-4:] == ["xres", "yres", "bus", "addr"]  # after the model's own, before the address
    assert "<resolution x='1280' y='720'/>\n      </model>" in dom.to_xml(inactive=True)


def test_resolution_refusals() -> None:
    with pytest.raises(XMLConfigError, match="model resolution is not supported"):
        build_argv(fill_defaults(parse_domain(DOC.format(t="cirrus", res="<resolution x='1' y='1'/>"))))
    with pytest.raises(XMLError, match="missing values for resolution"):
        build_argv(fill_defaults(parse_domain(DOC.format(t="qxl", res="<resolution x='1280'/>"))))
