"""A NIC's <bandwidth>: the model (libvirt's order), domiftune's rule for changing it, and the tc
command lines libvirt's virNetDevBandwidthSet runs for it."""

from __future__ import annotations

from pyvirt.network.bandwidth import tc_commands
from pyvirt.xml.domain import Bandwidth, BandwidthLimit, Interface
from pyvirt.xml.tunables import bandwidth_params, set_bandwidth


def test_set_bandwidth_replaces_named_directions_only() -> None:
    nic = Interface(type="network")
    set_bandwidth(nic, {"outbound.average": 5, "outbound.burst": 7})
    assert nic.bandwidth == Bandwidth(outbound=BandwidthLimit(average=5, burst=7))
    set_bandwidth(nic, {"inbound.average": 100, "inbound.peak": 200})
    assert nic.bandwidth.outbound is not None  # not named: kept
    set_bandwidth(nic, {"outbound.average": 0})
    assert nic.bandwidth == Bandwidth(inbound=BandwidthLimit(average=100, peak=200))
    assert bandwidth_params(nic.bandwidth) == {"inbound.average": 100, "inbound.peak": 200, "inbound.burst": 0,
                                               "inbound.floor": 0, "outbound.average": 0, "outbound.peak": 0,
                                               "outbound.burst": 0}
    fresh = Interface(type="user")
    set_bandwidth(fresh, {"inbound.average": 0})
    assert fresh.bandwidth == Bandwidth()  # libvirt leaves an empty <bandwidth> on a NIC that had none


def test_tc_commands_are_libvirts() -> None:
    bw = Bandwidth(inbound=BandwidthLimit(average=1000, peak=2000, burst=300), outbound=BandwidthLimit(average=500))
    cmds = [" ".join(c) for c in tc_commands("vnet3", bw)]
    assert cmds == [
        "qdisc add dev vnet3 root handle 1: htb default 1",
        "class add dev vnet3 parent 1: classid 1:1 htb rate 1000kbps ceil 2000kbps burst 300kb",
        "qdisc add dev vnet3 parent 1:1 handle 2: sfq perturb 10",
        "filter add dev vnet3 parent 1:0 protocol all handle 1 fw flowid 1",
        "qdisc add dev vnet3 ingress",
        "filter add dev vnet3 parent ffff: protocol all u32 match u32 0 0 police rate 500kbps burst 500kb mtu 64kb "
        "drop flowid :1",
    ]
    assert tc_commands("vnet3", Bandwidth()) == [] and tc_commands("vnet3", None) == []
