"""Define-time rules corrected on review, each checked against the real libvirt 9.0's
``virsh define`` first (own small documents)."""

from __future__ import annotations

import pytest

from pyvirt.xml import fill_defaults, parse_domain
from pyvirt.xml.errors import XMLInternalError

BASE = ("<domain type='qemu'><name>g</name><memory unit='MiB'>64</memory>{cpu}"
        "<os><type arch='x86_64' machine='{machine}'>hvm</type></os><devices>{devices}</devices></domain>")


def _define(devices: str = "", machine: str = "pc", cpu: str = ""):  # type: ignore[no-untyped-def]
    return fill_defaults(parse_domain(BASE.format(devices=devices, machine=machine, cpu=cpu)))


@pytest.mark.parametrize("devices", ["<serial type='pty'><target port='4'/></serial>",
                                     "<serial type='pty'/>" * 5])
def test_serial_port_4_whose_type_is_left_to_the_defaults_is_defined(devices: str) -> None:
    dom = _define(devices)
    assert [s.target_port for s in dom.devices.serials][-1] == 4


def test_serial_port_4_typed_isa_serial_is_refused_as_an_internal_error() -> None:
    with pytest.raises(XMLInternalError, match="Maximum supported number of ISA serial ports is '4'"):
        _define("<serial type='pty'><target type='isa-serial' port='4'/></serial>")
