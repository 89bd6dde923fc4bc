"""Session 14's review of the network driver (each case failed before its fix)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyvirt.api import ErrorCode, PyvirtError
from pyvirt.network import dnsmasq, driver, firewall, hostnet

NET = """<network><name>{name}</name><uuid>{uuid}</uuid><forward mode='nat'/>
<bridge name='{bridge}'/><ip address='192.168.{n}.1' netmask='255.255.255.0'/></network>"""


def test_a_network_that_cannot_be_restored_does_not_stop_the_daemon(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A running network whose firewall rules could not be put back (nft gone, a table
    clash) raised out of load(): pyvirtd did not start, and no guest could be managed."""
    runtime = tmp_path / "run"
    runtime.mkdir()
    for n, name in ((1, "a"), (2, "b")):
        (runtime / f"{name}.xml").write_text(NET.format(name=name, uuid=f"00000000-0000-0000-0000-00000000000{n}",
                                                        bridge=f"pvtest{n}", n=n))
    applied: list[str] = []

    def apply(network: str, *args: object, **kwargs: object) -> None:
        if network == "a":
            raise PyvirtError("internal error: nft: Could not process rule", ErrorCode.INTERNAL_ERROR)
        applied.append(network)

    monkeypatch.setattr(hostnet, "link_exists", lambda name: True)
    monkeypatch.setattr(firewall, "present", lambda name: False)
    monkeypatch.setattr(firewall, "apply", apply)
    monkeypatch.setattr(dnsmasq, "needed", lambda net: False)
    drv = driver.NetworkDriver(tmp_path / "etc", runtime)
    drv.load()
    assert applied == ["b"]  # the next network was still restored
    assert [(n.name, n.active) for n in drv.list_networks()] == [("a", True), ("b", True)]


HOSTS = """<network><name>n</name><uuid>00000000-0000-0000-0000-000000000009</uuid><forward mode='nat'/>
<bridge name='pvtest9'/><ip address='192.168.9.1' netmask='255.255.255.0'><dhcp>
<range start='192.168.9.100' end='192.168.9.200'/>
<host mac='52:54:00:00:00:01' ip='192.168.9.10'/><host mac='52:54:00:00:00:02' ip='192.168.9.11'/>
</dhcp></ip></network>"""


def _running(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> driver.NetworkDriver:
    (tmp_path / "etc").mkdir()
    (tmp_path / "run").mkdir()
    (tmp_path / "etc" / "n.xml").write_text(HOSTS)
    (tmp_path / "run" / "n.xml").write_text(HOSTS)
    monkeypatch.setattr(hostnet, "link_exists", lambda name: True)
    monkeypatch.setattr(firewall, "present", lambda name: True)
    monkeypatch.setattr(dnsmasq, "pid_of", lambda files: 1)
    drv = driver.NetworkDriver(tmp_path / "etc", tmp_path / "run")
    drv.load()
    return drv


def test_update_refused_live_leaves_the_config_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """net-update --live --config saved the config first, then refused the live change (two
    hosts with one IP): the error said nothing changed, the next start ran the refused XML."""
    drv = _running(tmp_path, monkeypatch)
    before = (tmp_path / "etc" / "n.xml").read_text()
    with pytest.raises(PyvirtError, match="duplicate DHCP host ip '192.168.9.11'"):
        drv.update_network("n", "modify", "ip-dhcp-host", "<host mac='52:54:00:00:00:01' ip='192.168.9.11'/>",
                           live=True, config=True)
    assert (tmp_path / "etc" / "n.xml").read_text() == before
    assert "192.168.9.10" in drv.get_network_xml("n") and "192.168.9.10" in drv.get_network_xml("n", inactive=True)


def test_update_whose_dnsmasq_fails_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    drv = _running(tmp_path, monkeypatch)
    before = (tmp_path / "etc" / "n.xml").read_text()
    started: list[str] = []

    def start(net: object, bridge: str, files: object) -> None:
        text = net.to_xml()  # type: ignore[attr-defined]
        if "192.168.9.12" in text:
            raise PyvirtError("internal error: dnsmasq failed to start", ErrorCode.INTERNAL_ERROR)
        started.append(bridge)

    monkeypatch.setattr(dnsmasq, "stop", lambda files: None)
    monkeypatch.setattr(dnsmasq, "start", start)
    with pytest.raises(PyvirtError, match="dnsmasq failed"):
        drv.update_network("n", "add", "ip-dhcp-host", "<host mac='52:54:00:00:00:03' ip='192.168.9.12'/>",
                           live=True, config=True)
    assert (tmp_path / "etc" / "n.xml").read_text() == before
    assert "192.168.9.12" not in drv.get_network_xml("n")
    assert started == ["pvtest9"]  # the old dnsmasq runs again
