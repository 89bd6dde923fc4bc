"""A network that builds its own bridge is given the bridge's name when it is defined (libvirt's
networkBridgeNameValidate), not when it starts: an inactive network's record and XML already
name it.  Without this an inactive NAT network listed with no bridge, which is what the web UI's
networks page showed between a network's 'defined' and 'started' events.  Defining touches no
host state, so these run without a network namespace."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyvirt.api import PyvirtError
from pyvirt.network import hostnet
from pyvirt.network.driver import NetworkDriver


def nat(name: str, third: int, bridge: str = "") -> str:
    br = f"<bridge name='{bridge}'/>" if bridge else ""
    return (f"<network><name>{name}</name><forward mode='nat'/>{br}"
            f"<ip address='10.{third}.0.1' prefix='24'/></network>")


@pytest.fixture
def drv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> NetworkDriver:
    # the host's links count as taken: pretend virbr0 exists there, whatever this machine has
    monkeypatch.setattr(hostnet, "link_names", lambda: {"lo", "virbr0"})
    d = NetworkDriver(tmp_path / "config", tmp_path / "run")
    d.load()
    return d


def test_define_names_the_bridge_and_the_list_shows_it(drv: NetworkDriver, tmp_path: Path) -> None:
    info = drv.define_network(nat("a", 1))
    assert not info.active and info.bridge == "virbr1"  # virbr0 is the host's
    (listed,) = drv.list_networks()
    assert listed.bridge == "virbr1" and not listed.active
    assert "<bridge name='virbr1' stp='on' delay='0'/>" in drv.get_network_xml("a", inactive=True)
    assert "name='virbr1'" in (tmp_path / "config" / "a.xml").read_text()  # the definition keeps it
    again = NetworkDriver(tmp_path / "config", tmp_path / "run")
    again.load()
    assert again.lookup_network("a").bridge == "virbr1"  # read back after a restart


def test_names_are_unique_across_defined_networks(drv: NetworkDriver) -> None:
    assert drv.define_network(nat("a", 1)).bridge == "virbr1"
    assert drv.define_network(nat("b", 2)).bridge == "virbr2"  # a's name is taken though a is not running
    assert drv.define_network(nat("t", 3, "lab%dx")).bridge == "lab0x"  # a template, as libvirt's
    assert drv.define_network(nat("a", 1)).bridge == "virbr1"  # a redefinition keeps its name


def test_a_given_name_of_another_network_is_refused_and_nothing_changes(drv: NetworkDriver, tmp_path: Path) -> None:
    drv.define_network(nat("a", 1, "vbra"))
    with pytest.raises(PyvirtError, match="bridge name 'vbra' already in use"):
        drv.define_network(nat("b", 2, "vbra"))
    with pytest.raises(PyvirtError, match="bridge name 'vbra' already in use"):
        drv.create_network(nat("c", 3, "vbra"))
    assert [n.name for n in drv.list_networks()] == ["a"]
    assert not (tmp_path / "config" / "b.xml").exists()


def test_bridge_mode_and_isolated_networks(drv: NetworkDriver) -> None:
    iso = drv.define_network("<network><name>iso</name><ip address='10.9.0.1' prefix='24'/></network>")
    assert iso.bridge == "virbr1"  # an isolated network has a bridge of its own too
    host = drv.define_network("<network><name>hb</name><forward mode='bridge'/><bridge name='br0'/></network>")
    assert host.bridge == "br0"  # an existing host bridge: its name as given, never generated
