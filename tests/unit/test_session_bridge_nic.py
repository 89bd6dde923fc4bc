"""Session daemons: a bridge NIC is refused by name when QEMU's bridge helper is missing, and a
network NIC falls back to user-mode networking (the helper-present path is an integration test)."""

from __future__ import annotations

import pytest

from pyvirt.api import PyvirtError
from pyvirt.daemon import nics
from pyvirt.network import bridge_helper
from pyvirt.xml import parse_domain

XML = ("<domain type='qemu'><name>s</name><memory>65536</memory><os><type>hvm</type></os><devices>"
       "<interface type='{t}'><source {a}='br7'/></interface></devices></domain>")


def test_bridge_nic_refused_without_helper(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # noqa: ANN001
    monkeypatch.setattr(bridge_helper, "HELPER", str(tmp_path / "no-helper"))
    dom = parse_domain(XML.format(t="bridge", a="bridge"))
    with pytest.raises(PyvirtError, match=r"interface type='bridge' \(bridge 'br7'\).*no-helper"):
        nics.session_fallback(dom)
    with pytest.raises(PyvirtError, match="bridge 'br7'.*needs QEMU's bridge helper"):
        bridge_helper.open_tap("br7", vnet_hdr=False)


def test_network_nic_falls_back_to_user() -> None:
    dom = parse_domain(XML.format(t="network", a="network"))
    notes = nics.session_fallback(dom)
    assert dom.devices.interfaces[0].type == "user" and "br7" in notes[0]
