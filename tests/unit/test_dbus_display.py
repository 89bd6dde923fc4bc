"""``<graphics type='dbus'>`` as libvirt 9.0 builds it (checked with domxml-to-native): on the
guest's private bus (pyvirtd runs it: daemon/dbusdisplay.py), peer to peer, or on the bus the
XML names; OpenGL with its render node; ``<audio type='dbus'>``; libvirt's refusals in its words."""

from __future__ import annotations

import pytest

from pyvirt.daemon import dbusdisplay
from pyvirt.qemu.argv import build_argv
from pyvirt.qemu.argv_common import RuntimePaths
from pyvirt.xml import fill_defaults, parse_domain
from pyvirt.xml.errors import XMLConfigError, XMLError

BASE = """<domain type='qemu'><name>g</name><uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid>
<memory unit='MiB'>256</memory><vcpu>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type></os>
<devices>{}</devices></domain>"""


def _dom(devices: str):
    return fill_defaults(parse_domain(BASE.format(devices)))


def _display(devices: str) -> list[str]:
    argv = build_argv(_dom(devices), runtime=RuntimePaths(domain_dir="/run/g", render_node="/dev/dri/renderD128"))
    return [argv[i + 1] for i, a in enumerate(argv) if a in ("-display", "-audiodev") and "dbus" in argv[i + 1]]


@pytest.mark.parametrize(("graphics", "want"), [
    ("<graphics type='dbus'/>", ["dbus,addr=unix:path=/run/g/dbus.sock"]),
    ("<graphics type='dbus' p2p='yes'/>", ["dbus,p2p=on"]),
    ("<graphics type='dbus' address='unix:path=/tmp/foo'/>", ["dbus,addr=unix:path=/tmp/foo"]),
    ("<graphics type='dbus'><gl enable='yes' rendernode='/dev/dri/renderD129'/></graphics>",
     ["dbus,addr=unix:path=/run/g/dbus.sock,gl=on,rendernode=/dev/dri/renderD129"]),
    ("<graphics type='dbus'><gl enable='no'/></graphics><audio id='1' type='dbus'/>",
     ['{"id":"audio1","driver":"dbus"}', "dbus,addr=unix:path=/run/g/dbus.sock,gl=off"]),
])
def test_dbus_display_command_line(graphics: str, want: list[str]) -> None:
    assert _display(graphics) == want


def test_private_bus_only_when_neither_p2p_nor_an_address() -> None:
    assert dbusdisplay.needed(_dom("<graphics type='dbus'/>"))
    assert not dbusdisplay.needed(_dom("<graphics type='dbus' p2p='yes'/>"))
    assert not dbusdisplay.needed(_dom("<graphics type='dbus' address='unix:path=/x'/>"))
    assert "<listen>unix:path=/r/dbus.sock</listen>" in dbusdisplay.CONFIG.format(path="/r/dbus.sock")


def test_round_trip_and_no_default_audio_backend() -> None:
    dom = _dom("<graphics type='dbus' p2p='yes'/>")
    xml = dom.to_xml(inactive=True)
    assert "<graphics type='dbus' p2p='yes'/>" in xml and "<audio" not in xml  # libvirt adds none for D-Bus
    assert fill_defaults(parse_domain(xml)).to_xml(inactive=True) == xml


def test_refusals_in_libvirts_words() -> None:
    with pytest.raises(XMLError, match="D-Bus p2p with an address is not supported"):
        _dom("<graphics type='dbus' p2p='yes' address='unix:path=/x'/>")
    with pytest.raises(XMLConfigError, match=r"only 1 graphics device of each type \(sdl, vnc, spice, headless, dbus\)"):
        build_argv(_dom("<graphics type='dbus'/><graphics type='dbus' p2p='yes'/>"))
